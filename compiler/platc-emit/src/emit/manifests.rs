//! Every Kubernetes object of one service in one environment, built from its [`Values`]: the
//! only definition of the objects. They are printed as the rendered manifests and, through
//! [`super::chart`], as the Helm chart's templates; a leaf a Helm user sets is a hole
//! ([`value`], [`release`]). A test runs real `helm template` and compares the two.
//!
//! Objects are [`Node`] trees that borrow from the values (see [`super::object`]): the order
//! in which keys are set here is the order in which they are written.

use indexmap::IndexMap;

use super::object::{list, map, release, value, Expr, Map, Node, ValueType};
use crate::lower::{BackingResource, CronJob, InClusterResource, IngressItem, InitContainer, Part, Values, Worker};

/// Chart identity, used in the `helm.sh/chart` label, and the release the objects of one
/// environment belong to.
#[derive(Debug, Clone)]
pub struct ChartMeta {
    /// The chart's name: the service's.
    pub name: String,
    /// The chart's version: platc's, which made it.
    pub version: String,
    /// The chart's appVersion: the service's image tag.
    pub app_version: String,
    /// The `helm.sh/chart` label: `NAME-VERSION`.
    pub label: String,
    /// The Helm release the rendered manifests stand for ([`release_name`]): the
    /// `app.kubernetes.io/instance` label.
    pub release: String,
}

impl ChartMeta {
    /// The metadata of a chart; the release is set per environment ([`ChartMeta::for_release`]).
    pub fn new(name: String, version: String, app_version: String) -> Self {
        let label = format!("{name}-{version}");
        ChartMeta { name, version, app_version, label, release: String::new() }
    }

    /// The same chart, for the objects of release `release`.
    pub fn for_release(&self, release: String) -> Self {
        ChartMeta { release, ..self.clone() }
    }
}

/// The release name of a service in an environment: the name of its GitOps application
/// (`SERVICE-INSTANCE`), which Argo CD also writes into `app.kubernetes.io/instance` when it
/// tracks resources by label, so that the label never flips between the two; shortened with a
/// hash beyond 53 characters, the longest release name Helm accepts (a label value may have 63).
pub fn release_name(service: &str, pl: &crate::lower::Placement) -> String {
    crate::lower::dns_safe(&crate::resolve::naming::application(service, pl), 53)
}

/// Kinds of Kubernetes object built for a service: by [`objects`], and by the stdlib's in-cluster
/// templates (`StatefulSet`, `Secret`, the External Secrets `Password` generator, next to a
/// `Service`). What `patch KIND` may name and
/// `platc render --kind` may select; a test builds every example and compares the kinds it
/// finds with this list, both ways.
pub const OBJECT_KINDS: &[&str] = &[
    "ServiceAccount",
    "ConfigMap",
    "ExternalSecret",
    "Deployment",
    "Service",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "Ingress",
    "HTTPRoute",
    "ServiceMonitor",
    "CronJob",
    "PrometheusRule",
    "StatefulSet",
    "Secret",
    "Password",
];

/// The objects of one service in one environment, in a stable order, of the kinds `wanted`
/// accepts (`platc render --kind`: the others are not built).
pub fn objects<'a>(v: &'a Values, chart: &'a ChartMeta, wanted: &dyn Fn(&str) -> bool) -> Vec<Node<'a>> {
    let mut out = Vec::new();
    if wanted("ServiceAccount") {
        out.push(service_account(v, chart));
    }
    if !v.config.is_empty() && wanted("ConfigMap") {
        out.push(obj(v, chart, "v1", "ConfigMap", format!("{}-config", v.fullname), web(v), [("data", (&v.config).into())]));
    }
    if v.externalSecret.enabled && wanted("ExternalSecret") {
        out.push(external_secret(v, chart));
    }
    let deployments = wanted("Deployment");
    if deployments {
        out.push(web_deployment(v, chart));
    }
    if v.service.enabled && wanted("Service") {
        let spec = map([("type", "ClusterIP".into()), ("selector", selector(v, web(v))), ("ports", (&v.service.ports).into())]);
        out.push(obj(v, chart, "v1", "Service", &v.fullname, web(v), [("spec", spec)]));
    }
    if v.autoscaling.enabled && wanted("HorizontalPodAutoscaler") {
        out.push(autoscaler(v, chart));
    }
    if v.podDisruptionBudget.enabled && wanted("PodDisruptionBudget") {
        let spec = map([("maxUnavailable", v.podDisruptionBudget.maxUnavailable.into()), ("selector", map([("matchLabels", selector(v, web(v)))]))]);
        out.push(obj(v, chart, "policy/v1", "PodDisruptionBudget", &v.fullname, web(v), [("spec", spec)]));
    }
    if v.networkPolicy.enabled && wanted("NetworkPolicy") {
        let pods = map([("matchLabels", map([("app.kubernetes.io/name", (&v.fullname).into())]))]);
        let spec = policy_spec(pods, (&v.networkPolicy.ingress).into(), (&v.networkPolicy.egress).into());
        out.push(obj(v, chart, "networking.k8s.io/v1", "NetworkPolicy", &v.fullname, web(v), [("spec", spec)]));
    }
    out.extend(v.ingress.items.iter().filter(|_| wanted("Ingress")).map(|item| ingress(v, chart, item)));
    for item in v.httpRoute.items.iter().filter(|_| wanted("HTTPRoute")) {
        let spec = map([("parentRefs", (&item.parentRefs).into()), ("hostnames", (&item.hostnames).into()), ("rules", (&item.rules).into())]);
        out.push(obj(v, chart, "gateway.networking.k8s.io/v1", "HTTPRoute", &item.name, web(v), [("spec", spec)]));
    }
    if v.serviceMonitor.enabled && wanted("ServiceMonitor") {
        out.push(service_monitor(v, chart));
    }
    if v.prometheusRule.enabled && wanted("PrometheusRule") {
        out.push(obj(v, chart, "monitoring.coreos.com/v1", "PrometheusRule", &v.fullname, web(v), [("spec", Node::Rules(&v.prometheusRule.groups))]));
    }
    if v.dashboard.enabled && wanted("ConfigMap") {
        out.push(dashboard(v, chart));
    }
    out.extend(v.workers.iter().filter(|_| deployments).map(|w| worker_deployment(v, chart, w)));
    out.extend(v.cronJobs.iter().filter(|_| wanted("CronJob")).map(|c| cron_job(v, chart, c)));
    for r in &v.backingResources {
        // In-cluster resources come in several kinds each: built, then sorted out.
        out.extend(backing_resource(v, chart, r).into_iter().filter(|o| wanted(o.kind().unwrap_or_default())));
    }
    out
}

/// The web Deployment's HorizontalPodAutoscaler (which then owns its replica count).
fn autoscaler<'a>(v: &'a Values, chart: &'a ChartMeta) -> Node<'a> {
    let target = map([("apiVersion", "apps/v1".into()), ("kind", "Deployment".into()), ("name", (&v.fullname).into())]);
    let a = &v.autoscaling;
    let min = value(&["autoscaling", "minReplicas"], ValueType::Int, a.minReplicas);
    let max = value(&["autoscaling", "maxReplicas"], ValueType::Int, a.maxReplicas);
    let spec = map([("scaleTargetRef", target), ("minReplicas", min), ("maxReplicas", max), ("metrics", (&a.metrics).into())]);
    obj(v, chart, "autoscaling/v2", "HorizontalPodAutoscaler", &v.fullname, web(v), [("spec", spec)])
}

/// One Ingress (public or internal routes), with its own annotations after the common ones.
fn ingress<'a>(v: &'a Values, chart: &'a ChartMeta, item: &'a IngressItem) -> Node<'a> {
    let spec = map([("ingressClassName", (&item.className).into()), ("tls", (&item.tls).into()), ("rules", (&item.rules).into())]);
    let mut o = obj(v, chart, "networking.k8s.io/v1", "Ingress", &item.name, web(v), [("spec", spec)]);
    add_annotations(&mut o, &item.annotations);
    o
}

/// The ServiceMonitor that has Prometheus scrape the web pods' metrics port.
fn service_monitor<'a>(v: &'a Values, chart: &'a ChartMeta) -> Node<'a> {
    let m = &v.serviceMonitor;
    let endpoint = map([("port", (&m.port).into()), ("path", (&m.path).into()), ("interval", (&m.interval).into())]);
    let spec = map([("selector", map([("matchLabels", selector(v, web(v)))])), ("endpoints", list([endpoint]))]);
    obj(v, chart, "monitoring.coreos.com/v1", "ServiceMonitor", &v.fullname, web(v), [("spec", spec)])
}

/// The ConfigMap of the service's Grafana dashboard.
fn dashboard<'a>(v: &'a Values, chart: &'a ChartMeta) -> Node<'a> {
    let mut labels = labels(v, chart, web(v));
    // The Grafana sidecar loads every ConfigMap with this label.
    labels.set("grafana_dashboard", "1");
    let data = map([(v.dashboard.key.as_str(), (&v.dashboard.json).into())]);
    object(v, "v1", "ConfigMap", format!("{}-dashboard", v.fullname), labels, [("data", data)])
}

/// A cron process's CronJob: a failing run is retried at most twice (`backoffLimit`), and the
/// last three runs of each outcome are kept for inspection.
fn cron_job<'a>(v: &'a Values, chart: &'a ChartMeta, c: &'a CronJob) -> Node<'a> {
    let resources = resources(&["cronJobs", &c.name, "resources"], &c.resources);
    let container = container(v, &c.name, Some(&c.command), &c.env, resources, false);
    let pod = pod_spec(v, container, Some("OnFailure"));
    let template = map([("metadata", pod_metadata(v, chart, ("cron", &c.name))), ("spec", pod)]);
    let job = map([("backoffLimit", 2u32.into()), ("template", template)]);
    let spec = map([
        ("schedule", (&c.schedule).into()),
        ("concurrencyPolicy", (&c.concurrencyPolicy).into()),
        ("successfulJobsHistoryLimit", 3u32.into()),
        ("failedJobsHistoryLimit", 3u32.into()),
        ("jobTemplate", map([("spec", job)])),
    ]);
    obj(v, chart, "batch/v1", "CronJob", &c.name, ("cron", &c.name), [("spec", spec)])
}

/// Which process an object belongs to: its component (`web`, `worker`, `cron`) and the
/// process's object name.
type Process<'a> = (&'a str, &'a str);

/// The standard labels of every object; `app.kubernetes.io/instance` is the release's, not in
/// any selector (selectors of workloads are immutable, docs/architecture.md).
pub fn labels<'a>(v: &'a Values, chart: &'a ChartMeta, process: Process<'a>) -> Map<'a> {
    let mut m = Map::with_capacity(10);
    m.set("helm.sh/chart", &chart.label);
    insert_selector(&mut m, v, process);
    m.set("app.kubernetes.io/instance", release(Expr::ReleaseName, &chart.release));
    m.set("app.kubernetes.io/version", value(&["image", "tag"], ValueType::Str, &v.image.tag));
    m.set("app.kubernetes.io/part-of", &v.partOf);
    m.set("app.kubernetes.io/managed-by", "platc");
    m.set("platc.dev/environment", value(&["environment"], ValueType::Str, &v.environment));
    if !v.owner.is_empty() {
        m.set("platc.dev/owner", &v.owner);
    }
    m
}

/// Selector labels of one process. Every process carries the service name (so that the
/// service's NetworkPolicy covers it) and its own process name (so that selectors of two
/// workloads never overlap).
fn selector<'a>(v: &'a Values, process: Process<'a>) -> Node<'a> {
    let mut m = Map::with_capacity(3);
    insert_selector(&mut m, v, process);
    Node::Map(m)
}

fn insert_selector<'a>(m: &mut Map<'a>, v: &'a Values, (component, process): Process<'a>) {
    m.set("app.kubernetes.io/name", &v.fullname);
    m.set("app.kubernetes.io/component", component);
    m.set("platc.dev/process", process);
}

fn web(v: &Values) -> Process<'_> {
    ("web", &v.fullname)
}

fn obj<'a, const N: usize>(v: &'a Values, chart: &'a ChartMeta, api: &'a str, kind: &'a str, name: impl Into<Node<'a>>, process: Process<'a>, body: [(&'a str, Node<'a>); N]) -> Node<'a> {
    object(v, api, kind, name, labels(v, chart, process), body)
}

/// An object: apiVersion, kind, metadata (name, namespace, `labels`, the common annotations),
/// then the entries of `body`.
fn object<'a, const N: usize>(v: &'a Values, api: &'a str, kind: &'a str, name: impl Into<Node<'a>>, labels: Map<'a>, body: [(&'a str, Node<'a>); N]) -> Node<'a> {
    let mut metadata = Map::with_capacity(4);
    metadata.set("name", name);
    metadata.set("namespace", release(Expr::ReleaseNamespace, &v.namespace));
    metadata.set("labels", labels);
    if !v.commonAnnotations.is_empty() {
        metadata.set("annotations", &v.commonAnnotations);
    }
    let mut o = Map::with_capacity(3 + N);
    o.set("apiVersion", api);
    o.set("kind", kind);
    o.set("metadata", metadata);
    for (k, value) in body {
        o.set(k, value);
    }
    Node::Map(o)
}

/// Adds `extra` to an object's annotations (after the common ones; the same key takes the
/// value of `extra` in its place).
fn add_annotations<'a>(o: &mut Node<'a>, extra: &'a IndexMap<String, String>) {
    if extra.is_empty() {
        return;
    }
    let Some(meta) = o.as_map_mut().and_then(|o| o.get_mut("metadata")).and_then(Node::as_map_mut) else { return };
    let mut annotations = Map::default();
    if let Some(Node::StrMap(common)) = meta.get("annotations") {
        for (k, val) in common.iter() {
            annotations.set(k, val);
        }
    }
    for (k, val) in extra {
        annotations.set(k, val);
    }
    meta.set("annotations", annotations);
}

fn service_account<'a>(v: &'a Values, chart: &'a ChartMeta) -> Node<'a> {
    let sa = &v.serviceAccount;
    let mut o = obj(v, chart, "v1", "ServiceAccount", &sa.name, web(v), [("automountServiceAccountToken", sa.automount.into())]);
    add_annotations(&mut o, &sa.annotations);
    o
}

fn external_secret<'a>(v: &'a Values, chart: &'a ChartMeta) -> Node<'a> {
    let e = &v.externalSecret;
    let spec = map([
        ("refreshInterval", (&e.refreshInterval).into()),
        ("secretStoreRef", (&e.secretStoreRef).into()),
        ("target", map([("name", (&e.name).into()), ("creationPolicy", "Owner".into())])),
        ("data", (&e.data).into()),
    ]);
    obj(v, chart, "external-secrets.io/v1", "ExternalSecret", &e.name, web(v), [("spec", spec)])
}

/// `{labels, annotations}` of a pod of the service's own processes (with the checksum of its
/// ConfigMap).
fn pod_metadata<'a>(v: &'a Values, chart: &'a ChartMeta, process: Process<'a>) -> Node<'a> {
    let mut m = Map::with_capacity(2);
    m.set("labels", labels(v, chart, process));
    if !v.podAnnotations.is_empty() {
        m.set("annotations", &v.podAnnotations);
    }
    Node::Map(m)
}

/// `{labels, annotations}` of a pod: the common annotations, if any.
fn with_common_annotations<'a>(v: &'a Values, labels: Map<'a>) -> Node<'a> {
    let mut m = Map::with_capacity(2);
    m.set("labels", labels);
    if !v.commonAnnotations.is_empty() {
        m.set("annotations", &v.commonAnnotations);
    }
    Node::Map(m)
}

fn container<'a>(v: &'a Values, name: &'a str, command: Option<&'a Vec<String>>, env: &'a Vec<Part>, resources: Node<'a>, web: bool) -> Node<'a> {
    let mut c = Map::with_capacity(12);
    c.set("name", name);
    c.set("image", release(Expr::Image, format!("{}:{}", v.image.repository, v.image.tag)));
    c.set("imagePullPolicy", &v.image.pullPolicy);
    if let Some(cmd) = command.filter(|c| !c.is_empty()) {
        c.set("command", cmd);
    }
    if web && !v.containerPorts.is_empty() {
        c.set("ports", &v.containerPorts);
    }
    if !env.is_empty() {
        c.set("env", env);
    }
    c.set("resources", resources);
    c.set("securityContext", &v.securityContext);
    if web {
        for (key, probe) in [("readinessProbe", &v.readinessProbe), ("livenessProbe", &v.livenessProbe), ("startupProbe", &v.startupProbe)] {
            if let Some(p) = probe {
                c.set(key, p);
            }
        }
    }
    c.set("volumeMounts", list([map([("name", "tmp".into()), ("mountPath", "/tmp".into())])]));
    Node::Map(c)
}

/// A container's resources with a hole at each quantity (`PATH.requests.cpu`, ...), so that a
/// Helm user sets each one; a whole-map hole would be printed by `toYaml`, which sorts keys.
fn resources<'a>(path: &[&'a str], r: &'a Part) -> Node<'a> {
    let Node::Map(kinds) = r else { return r.into() };
    let mut out = Map::with_capacity(2);
    for (kind, amounts) in kinds.iter() {
        let Node::Map(amounts) = amounts else {
            out.set(kind, amounts);
            continue;
        };
        let mut m = Map::with_capacity(2);
        for (name, amount) in amounts.iter() {
            let at: Vec<&str> = path.iter().copied().chain([*kind, *name]).collect();
            m.set(name, value(&at, ValueType::Quantity, amount));
        }
        out.set(kind, m);
    }
    Node::Map(out)
}

fn pod_spec<'a>(v: &'a Values, container: Node<'a>, restart: Option<&'a str>) -> Node<'a> {
    pod_spec_with(v, Vec::new(), container, restart)
}

/// A pod spec whose `init` containers run before `container`.
fn pod_spec_with<'a>(v: &'a Values, inits: Vec<Node<'a>>, container: Node<'a>, restart: Option<&'a str>) -> Node<'a> {
    let mut spec = Map::with_capacity(7);
    spec.set("serviceAccountName", &v.serviceAccount.name);
    spec.set("automountServiceAccountToken", v.serviceAccount.automount);
    spec.set("securityContext", &v.podSecurityContext);
    if let Some(g) = v.terminationGracePeriodSeconds {
        spec.set("terminationGracePeriodSeconds", g);
    }
    if !inits.is_empty() {
        spec.set("initContainers", Node::List(inits));
    }
    spec.set("containers", list([container]));
    spec.set("volumes", list([map([("name", "tmp".into()), ("emptyDir", Node::Map(Map::default()))])]));
    if let Some(r) = restart {
        spec.set("restartPolicy", r);
    }
    Node::Map(spec)
}

/// An init container: a container like the others (security context, pull policy, /tmp),
/// with its own pinned image when it names one.
fn init_container<'a>(v: &'a Values, i: &'a InitContainer) -> Node<'a> {
    let resources = resources(&["initContainers", &i.name, "resources"], &i.resources);
    let mut c = container(v, &i.name, Some(&i.command), &i.env, resources, false);
    if let (Some(image), Node::Map(m)) = (&i.image, &mut c) {
        m.set("image", image);
    }
    c
}

fn web_deployment<'a>(v: &'a Values, chart: &'a ChartMeta) -> Node<'a> {
    let c = container(v, &v.fullname, None, &v.env, resources(&["resources"], &v.resources), true);
    let inits = v.initContainers.iter().map(|i| init_container(v, i)).collect();
    let mut spec = Map::with_capacity(4);
    spec.set("revisionHistoryLimit", 5u32);
    spec.set("selector", map([("matchLabels", selector(v, web(v)))]));
    spec.set("template", map([("metadata", pod_metadata(v, chart, web(v))), ("spec", pod_spec_with(v, inits, c, None))]));
    // With autoscaling, the HPA owns the replica count; a fixed one would fight it on sync.
    if !v.autoscaling.enabled {
        spec.set("replicas", value(&["replicaCount"], ValueType::Int, v.replicaCount));
    }
    let mut o = obj(v, chart, "apps/v1", "Deployment", &v.fullname, web(v), [("spec", Node::Map(spec))]);
    add_annotations(&mut o, &v.waivers);
    o
}

fn worker_deployment<'a>(v: &'a Values, chart: &'a ChartMeta, w: &'a Worker) -> Node<'a> {
    let process = ("worker", w.name.as_str());
    let resources = resources(&["workers", &w.name, "resources"], &w.resources);
    let c = container(v, &w.name, Some(&w.command), &w.env, resources, false);
    let spec = map([
        ("replicas", value(&["workers", &w.name, "replicas"], ValueType::Int, w.replicas)),
        ("revisionHistoryLimit", 5u32.into()),
        ("selector", map([("matchLabels", selector(v, process))])),
        ("template", map([("metadata", pod_metadata(v, chart, process)), ("spec", pod_spec(v, c, None))])),
    ]);
    let mut o = obj(v, chart, "apps/v1", "Deployment", &w.name, process, [("spec", spec)]);
    add_annotations(&mut o, &w.annotations);
    o
}

/// A NetworkPolicy's spec: the pods it selects, both directions, its rules.
fn policy_spec<'a>(pods: Node<'a>, ingress: Node<'a>, egress: Node<'a>) -> Node<'a> {
    map([("podSelector", pods), ("policyTypes", list(["Ingress".into(), "Egress".into()])), ("ingress", ingress), ("egress", egress)])
}

// ------------------------------------------------------------------------ backing resources

/// The objects of one backing resource: the ExternalSecret that copies its connection details
/// from the secret store (`aws`), or the objects that serve it in the cluster (`in-cluster`).
fn backing_resource<'a>(v: &'a Values, chart: &'a ChartMeta, r: &'a BackingResource) -> Vec<Node<'a>> {
    let mut out = Vec::new();
    if let Some(e) = &r.externalSecret {
        let spec = map([
            ("refreshInterval", (&e.refreshInterval).into()),
            ("secretStoreRef", (&e.secretStoreRef).into()),
            ("target", map([("name", (&r.connectionSecret).into()), ("creationPolicy", "Owner".into())])),
            ("dataFrom", (&e.dataFrom).into()),
        ]);
        out.push(obj(v, chart, "external-secrets.io/v1", "ExternalSecret", &r.connectionSecret, web(v), [("spec", spec)]));
    }
    if let Some(ic) = &r.inCluster {
        out.extend(in_cluster(v, chart, r, ic));
    }
    out
}

/// Selector labels of an in-cluster resource's pods: its own name (which the service's
/// NetworkPolicy egress names) and its type.
fn resource_selector<'a>(ic: &'a InClusterResource, ty: &'a str) -> Node<'a> {
    map([("app.kubernetes.io/name", (&ic.name).into()), ("app.kubernetes.io/component", ty.into())])
}

/// The standard labels of an in-cluster resource's objects and pods (`platc.resourceLabels`).
pub fn resource_labels<'a>(v: &'a Values, chart: &'a ChartMeta, ic: &'a InClusterResource, ty: &'a str) -> Map<'a> {
    let mut m = Map::with_capacity(9);
    m.set("helm.sh/chart", &chart.label);
    m.set("app.kubernetes.io/name", &ic.name);
    m.set("app.kubernetes.io/component", ty);
    m.set("app.kubernetes.io/instance", release(Expr::ReleaseName, &chart.release));
    m.set("app.kubernetes.io/version", &ic.version);
    m.set("app.kubernetes.io/part-of", &v.partOf);
    m.set("app.kubernetes.io/managed-by", "platc");
    m.set("platc.dev/environment", value(&["environment"], ValueType::Str, &v.environment));
    m.set("platc.dev/service", &v.fullname);
    if !v.owner.is_empty() {
        m.set("platc.dev/owner", &v.owner);
    }
    m
}

fn in_cluster<'a>(v: &'a Values, chart: &'a ChartMeta, r: &'a BackingResource, ic: &'a InClusterResource) -> Vec<Node<'a>> {
    let mut out = Vec::new();
    let labels = resource_labels(v, chart, ic, &r.r#type);
    let c = &ic.connection;
    match &c.generator {
        Some(generator) => {
            out.push(object(v, "generators.external-secrets.io/v1alpha1", "Password", &ic.name, labels.clone(), [("spec", generator.into())]));
            // Generated once: the database keeps the password it was initialized with.
            let template = map([("engineVersion", "v2".into()), ("type", "Opaque".into()), ("data", (&c.data).into())]);
            let spec = map([
                ("refreshInterval", "0s".into()),
                ("refreshPolicy", "CreatedOnce".into()),
                ("target", map([("name", (&r.connectionSecret).into()), ("creationPolicy", "Owner".into()), ("template", template)])),
                ("dataFrom", (&c.dataFrom).into()),
            ]);
            out.push(object(v, "external-secrets.io/v1", "ExternalSecret", &r.connectionSecret, labels.clone(), [("spec", spec)]));
        }
        None => out.push(object(v, "v1", "Secret", &r.connectionSecret, labels.clone(), [("type", "Opaque".into()), ("stringData", (&c.data).into())])),
    }
    let w = &ic.workload;
    let pod = map([
        ("automountServiceAccountToken", false.into()),
        ("enableServiceLinks", false.into()),
        ("securityContext", (&w.podSecurityContext).into()),
        ("containers", (&w.containers).into()),
        ("volumes", (&w.volumes).into()),
    ]);
    let mut spec = Map::with_capacity(7);
    spec.set("replicas", 1u32);
    spec.set("revisionHistoryLimit", 5u32);
    spec.set("selector", map([("matchLabels", resource_selector(ic, &r.r#type))]));
    spec.set("template", map([("metadata", with_common_annotations(v, labels.clone())), ("spec", pod)]));
    if w.kind == "StatefulSet" {
        spec.set("serviceName", &ic.name);
        spec.set("persistentVolumeClaimRetentionPolicy", map([("whenDeleted", "Delete".into()), ("whenScaled", "Delete".into())]));
        if !w.volumeClaimTemplates.is_empty() {
            spec.set("volumeClaimTemplates", &w.volumeClaimTemplates);
        }
    } else {
        // One replica of a stateful emulator: never two side by side during a rollout.
        spec.set("strategy", map([("type", "Recreate".into())]));
    }
    let mut o = object(v, "apps/v1", &w.kind, &ic.name, labels.clone(), [("spec", Node::Map(spec))]);
    add_annotations(&mut o, &w.annotations);
    out.push(o);
    let service = map([("type", "ClusterIP".into()), ("selector", resource_selector(ic, &r.r#type)), ("ports", (&ic.service.ports).into())]);
    out.push(object(v, "v1", "Service", &ic.name, labels.clone(), [("spec", service)]));
    let policy = policy_spec(map([("matchLabels", resource_selector(ic, &r.r#type))]), (&ic.networkPolicy.ingress).into(), (&ic.networkPolicy.egress).into());
    out.push(object(v, "networking.k8s.io/v1", "NetworkPolicy", &ic.name, labels, [("spec", policy)]));
    out
}

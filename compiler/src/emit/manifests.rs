//! Rendered Kubernetes manifests: the objects of one service in one environment, built from
//! the same [`Values`] the Helm chart gets. The chart's templates (stdlib/helm) produce the
//! same objects; a test runs real `helm template` and compares them.

use indexmap::IndexMap;
use serde_json::{json, Map, Value as Json};

use crate::lower::{BackingResource, InClusterResource, Values, Worker};

/// Chart identity, used in the `helm.sh/chart` label.
#[derive(Debug, Clone)]
pub struct ChartMeta {
    pub name: String,
    pub version: String,
    pub app_version: String,
}

/// The objects of one service in one environment, in a stable order, of the kinds `wanted`
/// accepts (`platc render --kind`: the others are not built). The PrometheusRule comes without
/// its `spec`: that is `v.prometheusRule.groups` (the bulk of a service's objects), which the
/// caller writes from the typed groups, or adds as JSON where a patch edits the object.
pub fn objects(v: &Values, chart: &ChartMeta, wanted: &dyn Fn(&str) -> bool) -> Vec<Json> {
    let mut out = Vec::new();
    if wanted("ServiceAccount") {
        out.push(service_account(v, chart));
    }
    if !v.config.is_empty() && wanted("ConfigMap") {
        out.push(obj(v, chart, "v1", "ConfigMap", &format!("{}-config", v.fullname), web(v), json!({"data": v.config})));
    }
    if v.externalSecret.enabled && wanted("ExternalSecret") {
        out.push(external_secret(v, chart));
    }
    let deployments = wanted("Deployment");
    if deployments {
        out.push(web_deployment(v, chart));
    }
    if v.service.enabled && wanted("Service") {
        let spec = json!({"spec": {"type": "ClusterIP", "selector": selector(v, web(v)), "ports": v.service.ports}});
        out.push(obj(v, chart, "v1", "Service", &v.fullname, web(v), spec));
    }
    if v.autoscaling.enabled && wanted("HorizontalPodAutoscaler") {
        let spec = json!({"spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": v.fullname},
            "minReplicas": v.autoscaling.minReplicas,
            "maxReplicas": v.autoscaling.maxReplicas,
            "metrics": v.autoscaling.metrics,
        }});
        out.push(obj(v, chart, "autoscaling/v2", "HorizontalPodAutoscaler", &v.fullname, web(v), spec));
    }
    if v.podDisruptionBudget.enabled && wanted("PodDisruptionBudget") {
        let spec = json!({"spec": {"maxUnavailable": v.podDisruptionBudget.maxUnavailable, "selector": {"matchLabels": selector(v, web(v))}}});
        out.push(obj(v, chart, "policy/v1", "PodDisruptionBudget", &v.fullname, web(v), spec));
    }
    if v.networkPolicy.enabled && wanted("NetworkPolicy") {
        let spec = json!({"spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": v.fullname}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": v.networkPolicy.ingress,
            "egress": v.networkPolicy.egress,
        }});
        out.push(obj(v, chart, "networking.k8s.io/v1", "NetworkPolicy", &v.fullname, web(v), spec));
    }
    for item in v.ingress.items.iter().filter(|_| wanted("Ingress")) {
        let mut o = obj(v, chart, "networking.k8s.io/v1", "Ingress", &item.name, web(v), json!({"spec": {"ingressClassName": item.className, "tls": item.tls, "rules": item.rules}}));
        add_annotations(&mut o, &item.annotations);
        out.push(o);
    }
    for item in v.httpRoute.items.iter().filter(|_| wanted("HTTPRoute")) {
        let spec = json!({"spec": {"parentRefs": item.parentRefs, "hostnames": item.hostnames, "rules": item.rules}});
        out.push(obj(v, chart, "gateway.networking.k8s.io/v1", "HTTPRoute", &item.name, web(v), spec));
    }
    if v.serviceMonitor.enabled && wanted("ServiceMonitor") {
        let spec = json!({"spec": {
            "selector": {"matchLabels": selector(v, web(v))},
            "endpoints": [{"port": v.serviceMonitor.port, "path": v.serviceMonitor.path, "interval": v.serviceMonitor.interval}],
        }});
        out.push(obj(v, chart, "monitoring.coreos.com/v1", "ServiceMonitor", &v.fullname, web(v), spec));
    }
    if v.prometheusRule.enabled && wanted("PrometheusRule") {
        out.push(obj(v, chart, "monitoring.coreos.com/v1", "PrometheusRule", &v.fullname, web(v), Json::Object(Map::new())));
    }
    if v.dashboard.enabled && wanted("ConfigMap") {
        let mut data = json!({"data": {}});
        data["data"][v.dashboard.key.as_str()] = Json::String(v.dashboard.json.clone());
        let mut o = obj(v, chart, "v1", "ConfigMap", &format!("{}-dashboard", v.fullname), web(v), data);
        // The Grafana sidecar loads every ConfigMap with this label.
        o["metadata"]["labels"]["grafana_dashboard"] = json!("1");
        out.push(o);
    }
    for w in v.workers.iter().filter(|_| deployments) {
        out.push(worker_deployment(v, chart, w));
    }
    for c in v.cronJobs.iter().filter(|_| wanted("CronJob")) {
        let container = container(v, &c.name, Some(&c.command), &c.env, &c.resources, false);
        let pod = pod_spec(v, vec![container], Some("OnFailure"));
        let mut spec = json!({"spec": {
            "schedule": c.schedule,
            "concurrencyPolicy": c.concurrencyPolicy,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"spec": {"backoffLimit": 2, "template": {"metadata": {}, "spec": {}}}},
        }});
        let template = &mut spec["spec"]["jobTemplate"]["spec"]["template"];
        template["metadata"] = pod_metadata(v, chart, ("cron", &c.name));
        template["spec"] = pod;
        out.push(obj(v, chart, "batch/v1", "CronJob", &c.name, ("cron", &c.name), spec));
    }
    for r in &v.backingResources {
        // In-cluster resources come in several kinds each: built, then sorted out.
        out.extend(backing_resource(v, chart, r).into_iter().filter(|o| wanted(o["kind"].as_str().unwrap_or_default())));
    }
    out
}

/// An object's tree followed by a `spec` given apart (a PrometheusRule's typed rule groups),
/// serialized as one map.
pub struct WithSpec<'a, S> {
    pub object: &'a Json,
    pub spec: S,
}

impl<S: serde::Serialize> serde::Serialize for WithSpec<'_, S> {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        use serde::ser::SerializeMap;
        let entries = self.object.as_object().into_iter().flatten();
        let mut m = serializer.serialize_map(None)?;
        for (k, v) in entries {
            m.serialize_entry(k, v)?;
        }
        m.serialize_entry("spec", &self.spec)?;
        m.end()
    }
}

/// Which process an object belongs to: its component (`web`, `worker`, `cron`) and the
/// process's object name.
type Process<'a> = (&'a str, &'a str);

/// The standard labels of every object (`_helpers.tpl` defines the same).
pub fn labels(v: &Values, chart: &ChartMeta, process: Process) -> Map<String, Json> {
    // Built in place at its final size: there is one per object (8,000 at 1,000 services), and
    // growing or merging maps rehashes every key.
    let mut m = Map::with_capacity(9);
    m.insert("helm.sh/chart".into(), Json::String(format!("{}-{}", chart.name, chart.version)));
    insert_selector(&mut m, v, process);
    m.insert("app.kubernetes.io/version".into(), Json::String(v.image.tag.clone()));
    m.insert("app.kubernetes.io/part-of".into(), Json::String(v.partOf.clone()));
    m.insert("app.kubernetes.io/managed-by".into(), Json::String("platc".into()));
    m.insert("platc.dev/environment".into(), Json::String(v.environment.clone()));
    if !v.owner.is_empty() {
        m.insert("platc.dev/owner".into(), Json::String(v.owner.clone()));
    }
    m
}

/// Selector labels of one process. Every process carries the service name (so that the
/// service's NetworkPolicy covers it) and its own process name (so that selectors of two
/// workloads never overlap).
fn selector(v: &Values, process: Process) -> Json {
    let mut m = Map::with_capacity(3);
    insert_selector(&mut m, v, process);
    Json::Object(m)
}

fn insert_selector(m: &mut Map<String, Json>, v: &Values, (component, process): Process) {
    m.insert("app.kubernetes.io/name".into(), Json::String(v.fullname.clone()));
    m.insert("app.kubernetes.io/component".into(), Json::String(component.into()));
    m.insert("platc.dev/process".into(), Json::String(process.into()));
}

fn web(v: &Values) -> Process<'_> {
    ("web", &v.fullname)
}

fn obj(v: &Values, chart: &ChartMeta, api: &str, kind: &str, name: &str, process: Process, body: Json) -> Json {
    let labels = labels(v, chart, process);
    object(v, api, kind, name, Json::Object(labels), body)
}

/// `{key: value}`, `value` moved in: `json!` would copy a tree through `to_value`, value by
/// value, which at scale costs more than building it.
fn with(key: &str, value: Json) -> Json {
    let mut m = Map::new();
    m.insert(key.into(), value);
    Json::Object(m)
}

/// An object: apiVersion, kind, metadata (name, namespace, `labels`, the common annotations),
/// then the keys of `body`.
fn object(v: &Values, api: &str, kind: &str, name: &str, labels: Json, body: Json) -> Json {
    let mut metadata = json!({"name": name, "namespace": v.namespace});
    metadata["labels"] = labels;
    if !v.commonAnnotations.is_empty() {
        metadata["annotations"] = json!(v.commonAnnotations);
    }
    let mut o = json!({"apiVersion": api, "kind": kind});
    o["metadata"] = metadata;
    if let (Json::Object(target), Json::Object(extra)) = (&mut o, body) {
        target.extend(extra);
    }
    o
}

fn add_annotations(o: &mut Json, extra: &IndexMap<String, String>) {
    if extra.is_empty() {
        return;
    }
    let meta = &mut o["metadata"];
    if meta.get("annotations").is_none() {
        meta["annotations"] = json!({});
    }
    for (k, val) in extra {
        meta["annotations"][k] = json!(val);
    }
}

fn service_account(v: &Values, chart: &ChartMeta) -> Json {
    let mut o = obj(v, chart, "v1", "ServiceAccount", &v.serviceAccount.name, web(v), json!({"automountServiceAccountToken": v.serviceAccount.automount}));
    add_annotations(&mut o, &v.serviceAccount.annotations);
    o
}

fn external_secret(v: &Values, chart: &ChartMeta) -> Json {
    let e = &v.externalSecret;
    let spec = json!({"spec": {
        "refreshInterval": e.refreshInterval,
        "secretStoreRef": e.secretStoreRef,
        "target": {"name": e.name, "creationPolicy": "Owner"},
        "data": e.data,
    }});
    obj(v, chart, "external-secrets.io/v1", "ExternalSecret", &e.name, web(v), spec)
}

fn pod_metadata(v: &Values, chart: &ChartMeta, process: Process) -> Json {
    let mut m = with("labels", Json::Object(labels(v, chart, process)));
    if !v.commonAnnotations.is_empty() {
        m["annotations"] = json!(v.commonAnnotations);
    }
    m
}

fn container(v: &Values, name: &str, command: Option<&Vec<String>>, env: &[Json], resources: &Json, web: bool) -> Json {
    let mut c = json!({
        "name": name,
        "image": format!("{}:{}", v.image.repository, v.image.tag),
        "imagePullPolicy": v.image.pullPolicy,
    });
    if let Some(cmd) = command.filter(|c| !c.is_empty()) {
        c["command"] = json!(cmd);
    }
    if web && !v.containerPorts.is_empty() {
        c["ports"] = json!(v.containerPorts);
    }
    if !env.is_empty() {
        c["env"] = Json::Array(env.to_vec());
    }
    c["resources"] = resources.clone();
    c["securityContext"] = v.securityContext.clone();
    if web {
        for (key, probe) in [("readinessProbe", &v.readinessProbe), ("livenessProbe", &v.livenessProbe), ("startupProbe", &v.startupProbe)] {
            if let Some(p) = probe {
                c[key] = p.clone();
            }
        }
    }
    c["volumeMounts"] = json!([{"name": "tmp", "mountPath": "/tmp"}]);
    c
}

fn pod_spec(v: &Values, containers: Vec<Json>, restart: Option<&str>) -> Json {
    let mut spec = json!({
        "serviceAccountName": v.serviceAccount.name,
        "automountServiceAccountToken": v.serviceAccount.automount,
        "securityContext": v.podSecurityContext,
        "containers": [],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    });
    spec["containers"] = Json::Array(containers);
    if let Some(r) = restart {
        spec["restartPolicy"] = json!(r);
    }
    spec
}

fn web_deployment(v: &Values, chart: &ChartMeta) -> Json {
    let c = container(v, &v.fullname, None, &v.env, &v.resources, true);
    let mut spec = json!({"revisionHistoryLimit": 5});
    spec["selector"] = with("matchLabels", selector(v, web(v)));
    spec["template"] = json!({"metadata": {}, "spec": {}});
    spec["template"]["metadata"] = pod_metadata(v, chart, web(v));
    spec["template"]["spec"] = pod_spec(v, vec![c], None);
    // With autoscaling, the HPA owns the replica count; a fixed one would fight it on sync.
    if !v.autoscaling.enabled {
        spec["replicas"] = json!(v.replicaCount);
    }
    obj(v, chart, "apps/v1", "Deployment", &v.fullname, web(v), with("spec", spec))
}

fn worker_deployment(v: &Values, chart: &ChartMeta, w: &Worker) -> Json {
    let c = container(v, &w.name, Some(&w.command), &w.env, &w.resources, false);
    let mut spec = json!({"spec": {
        "replicas": w.replicas,
        "revisionHistoryLimit": 5,
        "selector": {},
        "template": {"metadata": {}, "spec": {}},
    }});
    spec["spec"]["selector"] = with("matchLabels", selector(v, ("worker", &w.name)));
    spec["spec"]["template"]["metadata"] = pod_metadata(v, chart, ("worker", &w.name));
    spec["spec"]["template"]["spec"] = pod_spec(v, vec![c], None);
    let mut o = obj(v, chart, "apps/v1", "Deployment", &w.name, ("worker", &w.name), spec);
    add_annotations(&mut o, &w.annotations);
    o
}

// ------------------------------------------------------------------------ backing resources

/// The objects of one backing resource: the ExternalSecret that copies its connection details
/// from the secret store (`aws`), or the objects that serve it in the cluster (`in-cluster`).
fn backing_resource(v: &Values, chart: &ChartMeta, r: &BackingResource) -> Vec<Json> {
    let mut out = Vec::new();
    if let Some(e) = &r.externalSecret {
        let spec = json!({"spec": {
            "refreshInterval": e.refreshInterval,
            "secretStoreRef": e.secretStoreRef,
            "target": {"name": r.connectionSecret, "creationPolicy": "Owner"},
            "dataFrom": e.dataFrom,
        }});
        out.push(obj(v, chart, "external-secrets.io/v1", "ExternalSecret", &r.connectionSecret, web(v), spec));
    }
    if let Some(ic) = &r.inCluster {
        out.extend(in_cluster(v, chart, r, ic));
    }
    out
}

/// Selector labels of an in-cluster resource's pods: its own name (which the service's
/// NetworkPolicy egress names) and its type.
fn resource_selector(ic: &InClusterResource, ty: &str) -> Json {
    json!({"app.kubernetes.io/name": ic.name, "app.kubernetes.io/component": ty})
}

/// The standard labels of an in-cluster resource's objects and pods (`platc.resourceLabels`).
pub fn resource_labels(v: &Values, chart: &ChartMeta, ic: &InClusterResource, ty: &str) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("helm.sh/chart".into(), json!(format!("{}-{}", chart.name, chart.version)));
    if let Json::Object(sel) = resource_selector(ic, ty) {
        m.extend(sel);
    }
    m.insert("app.kubernetes.io/version".into(), json!(ic.version));
    m.insert("app.kubernetes.io/part-of".into(), json!(v.partOf));
    m.insert("app.kubernetes.io/managed-by".into(), json!("platc"));
    m.insert("platc.dev/environment".into(), json!(v.environment));
    m.insert("platc.dev/service".into(), json!(v.fullname));
    if !v.owner.is_empty() {
        m.insert("platc.dev/owner".into(), json!(v.owner));
    }
    m
}

/// An object of an in-cluster resource, with `labels` from [`resource_labels`].
fn resource_obj(v: &Values, labels: &Map<String, Json>, api: &str, kind: &str, name: &str, body: Json) -> Json {
    object(v, api, kind, name, Json::Object(labels.clone()), body)
}

fn in_cluster(v: &Values, chart: &ChartMeta, r: &BackingResource, ic: &InClusterResource) -> Vec<Json> {
    let mut out = Vec::new();
    let labels = resource_labels(v, chart, ic, &r.r#type);
    let c = &ic.connection;
    match &c.generator {
        Some(generator) => {
            out.push(resource_obj(v, &labels, "generators.external-secrets.io/v1alpha1", "Password", &ic.name, json!({"spec": generator})));
            // Generated once: the database keeps the password it was initialized with.
            let spec = json!({"spec": {
                "refreshInterval": "0s",
                "refreshPolicy": "CreatedOnce",
                "target": {
                    "name": r.connectionSecret,
                    "creationPolicy": "Owner",
                    "template": {"engineVersion": "v2", "type": "Opaque", "data": c.data},
                },
                "dataFrom": c.dataFrom,
            }});
            out.push(resource_obj(v, &labels, "external-secrets.io/v1", "ExternalSecret", &r.connectionSecret, spec));
        }
        None => out.push(resource_obj(v, &labels, "v1", "Secret", &r.connectionSecret, json!({"type": "Opaque", "stringData": c.data}))),
    }
    let w = &ic.workload;
    let mut pod_metadata = json!({"labels": labels});
    if !v.commonAnnotations.is_empty() {
        pod_metadata["annotations"] = json!(v.commonAnnotations);
    }
    let pod = json!({
        "automountServiceAccountToken": false,
        "enableServiceLinks": false,
        "securityContext": w.podSecurityContext,
        "containers": w.containers,
        "volumes": w.volumes,
    });
    let mut spec = json!({
        "replicas": 1,
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": resource_selector(ic, &r.r#type)},
        "template": {"metadata": pod_metadata, "spec": pod},
    });
    if w.kind == "StatefulSet" {
        spec["serviceName"] = json!(ic.name);
        spec["persistentVolumeClaimRetentionPolicy"] = json!({"whenDeleted": "Delete", "whenScaled": "Delete"});
        if !w.volumeClaimTemplates.is_empty() {
            spec["volumeClaimTemplates"] = json!(w.volumeClaimTemplates);
        }
    } else {
        // One replica of a stateful emulator: never two side by side during a rollout.
        spec["strategy"] = json!({"type": "Recreate"});
    }
    let mut o = resource_obj(v, &labels, "apps/v1", &w.kind, &ic.name, with("spec", spec));
    add_annotations(&mut o, &w.annotations);
    out.push(o);
    let service = json!({"spec": {"type": "ClusterIP", "selector": resource_selector(ic, &r.r#type), "ports": ic.service.ports}});
    out.push(resource_obj(v, &labels, "v1", "Service", &ic.name, service));
    let policy = json!({"spec": {
        "podSelector": {"matchLabels": resource_selector(ic, &r.r#type)},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": ic.networkPolicy.ingress,
        "egress": ic.networkPolicy.egress,
    }});
    out.push(resource_obj(v, &labels, "networking.k8s.io/v1", "NetworkPolicy", &ic.name, policy));
    out
}

//! Lower: the checked workspace and its IR graph -> per service and environment, the typed
//! Helm [`Values`] every Kubernetes backend renders from.

pub mod incluster;
mod naming;
mod network;
mod values;
mod wiring;

pub use incluster::Catalog;
pub use naming::{connection_secret_name, dns_safe, identifier, instance, placement, preview_slug, short_hash, BuildOptions, Placement, MIN_PREVIEW_SLUG};
pub use values::*;

use indexmap::IndexMap;

use crate::emit::object::{list, map, Map, Node};

use crate::graph::Graph;
use crate::model::{effective, Ingress, ProbeCheck, Protocol, Service, Workspace};

/// Everything the backends emit, per service and environment.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The environments built, in platform.kdl order.
    pub environments: Vec<Placement>,
    pub services: Vec<ServicePlan>,
}

/// One service across the environments built.
#[derive(Debug, Clone)]
pub struct ServicePlan {
    /// Index into `Workspace::services`.
    pub index: usize,
    pub name: String,
    /// Start-up wave (Argo CD sync wave / Flux ordering).
    pub wave: u32,
    /// Names of the services it must start after (Flux `dependsOn`).
    pub depends_on: Vec<String>,
    /// The image repository the manifests reference (what CI pushes to).
    pub image: String,
    /// Values per environment built. `platc build` fills them service by service while
    /// emitting and empties them after ([`skeleton`], [`fill`]); [`lower`] fills them all.
    pub envs: IndexMap<String, Values>,
}

/// Why a build cannot start (a usage problem: exit code 2).
#[derive(Debug)]
pub struct PlanError(pub String);

/// Which environments a build covers: every environment, or the one asked for. Ephemeral ones
/// (with a TTL) need a branch; without one they are skipped in a full build.
pub fn environments(ws: &Workspace, opts: &BuildOptions) -> Result<Vec<Placement>, PlanError> {
    let p = &ws.platform;
    if let Some(name) = &opts.env {
        let Some(env) = p.environments.get(name) else {
            let names: Vec<&str> = p.environments.keys().map(String::as_str).collect();
            let hint = crate::check::suggest::did_you_mean(name, names.iter().copied()).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
            return Err(PlanError(format!("unknown environment `{name}`{hint}; platform.kdl declares: {}", names.join(", "))));
        };
        if env.ttl.is_some() && opts.branch.is_none() {
            return Err(PlanError(format!("`{name}` is a preview environment: give the branch with --set branch=NAME")));
        }
        return Ok(vec![placement(p, env, opts.branch.as_deref())]);
    }
    Ok(p.environments.values().filter(|e| e.ttl.is_none() || opts.branch.is_some()).map(|e| placement(p, e, opts.branch.as_deref())).collect())
}

/// Lowers every service for the given environments, with the built-in stdlib's in-cluster data
/// (see [`lower_with`]).
pub fn lower(ws: &Workspace, graph: &Graph, envs: &[Placement], opts: &BuildOptions) -> Plan {
    lower_with(ws, graph, envs, opts, Catalog::builtin())
}

/// Lowers every service for the given environments; resources served `in-cluster` become the
/// objects `catalog` describes (`Catalog::load` of the merged stdlib, overlays included; check
/// it first with [`incluster::check`], which reports what would be left out).
pub fn lower_with(ws: &Workspace, graph: &Graph, envs: &[Placement], opts: &BuildOptions, catalog: &Catalog) -> Plan {
    let mut plan = skeleton(ws, graph, envs, opts);
    // Services lower independently: all cores, in order.
    crate::par::map_chunks_mut(&mut plan.services, |chunk| {
        for sp in chunk {
            fill(ws, graph, sp, envs, opts, catalog);
        }
    });
    plan
}

/// The plan without values: names, waves, dependencies and image of every service. What the
/// whole-tree backends (GitOps wiring, CI) need; values are [`fill`]ed per service.
pub fn skeleton(ws: &Workspace, graph: &Graph, envs: &[Placement], opts: &BuildOptions) -> Plan {
    let services = ws
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| ServicePlan {
            index: i,
            name: s.name.value.clone(),
            wave: graph.waves[i],
            depends_on: graph.dependencies(i).into_iter().map(|j| ws.services[j].name.value.clone()).collect(),
            image: image(s, &ws.platform.registry.value, opts).repository,
            envs: IndexMap::new(),
        })
        .collect();
    Plan { environments: envs.to_vec(), services }
}

/// Lowers one service for every environment of the plan.
pub fn fill(ws: &Workspace, graph: &Graph, sp: &mut ServicePlan, envs: &[Placement], opts: &BuildOptions, catalog: &Catalog) {
    sp.envs = envs.iter().map(|pl| (pl.env.clone(), service_values_with(ws, graph, sp.index, pl, opts, catalog))).collect();
}

/// The base environment of charts (its values are values.yaml): the first environment of
/// platform.kdl that is not ephemeral, whichever environments a build covers, so that
/// values.yaml does not depend on `--env`.
pub fn base_placement(ws: &Workspace) -> Option<Placement> {
    let p = &ws.platform;
    p.environments.values().find(|e| e.ttl.is_none()).or_else(|| p.environments.values().next()).map(|e| placement(p, e, None))
}

/// Values of service `i` in one environment, with the built-in stdlib's in-cluster data.
pub fn service_values(ws: &Workspace, graph: &Graph, i: usize, pl: &Placement, opts: &BuildOptions) -> Values {
    service_values_with(ws, graph, i, pl, opts, Catalog::builtin())
}

/// Values of service `i` in one environment.
pub fn service_values_with(ws: &Workspace, graph: &Graph, i: usize, pl: &Placement, opts: &BuildOptions, catalog: &Catalog) -> Values {
    let s = &ws.services[i];
    let p = &ws.platform;
    let env = &p.environments[&pl.env];
    let name = s.name.value.clone();
    let ephemeral = env.ttl.is_some();
    let autoscaling = autoscaling(&effective::scale(p, s, &pl.env), ephemeral);
    let wiring = wiring::env(ws, graph, i, pl);
    let backing = incluster::backing_resources(ws, i, pl, catalog);
    Values {
        fullname: name.clone(),
        namespace: pl.namespace.clone(),
        environment: pl.env.clone(),
        partOf: p.name.value.clone(),
        owner: s.owner.as_ref().map(|o| o.value.clone()).unwrap_or_default(),
        commonAnnotations: preview_annotations(env, pl, opts),
        image: image(s, &p.registry.value, opts),
        replicaCount: autoscaling.minReplicas,
        autoscaling,
        serviceAccount: ServiceAccount { name: name.clone(), automount: s.security.service_account_token.as_ref().is_some_and(|t| t.value), annotations: IndexMap::new() },
        podSecurityContext: pod_security_context(s),
        securityContext: container_security_context(s),
        resources: resources(&effective::web_resources(p, s, &pl.env)),
        containerPorts: s.ports.iter().map(|port| map([("name", port.name.value.clone().into()), ("containerPort", port.number.value.into()), ("protocol", "TCP".into())])).collect(),
        service: ServiceValues { enabled: !s.ports.is_empty(), ports: s.ports.iter().map(service_port).collect() },
        readinessProbe: probe(s, s.health.readiness.as_ref(), "readiness"),
        livenessProbe: probe(s, s.health.liveness.as_ref(), "liveness"),
        startupProbe: s.health.startup.as_ref().and_then(|pr| probe(s, Some(pr), "startup")),
        env: wiring.env,
        config: wiring.config,
        externalSecret: external_secret(ws, s),
        podDisruptionBudget: Pdb { enabled: true, maxUnavailable: 1 },
        networkPolicy: network::policy(ws, graph, i, pl, &backing),
        ingress: ingress(ws, s, pl),
        httpRoute: http_route(ws, s, pl),
        workers: workers(ws, graph, i, pl, ephemeral),
        cronJobs: cron_jobs(ws, graph, i, pl),
        serviceMonitor: service_monitor(s),
        // Filled by the build from emit::observability, which needs the whole plan.
        prometheusRule: PrometheusRuleValues::default(),
        dashboard: DashboardValues::default(),
        backingResources: backing,
    }
}

/// Replicas and autoscaling in one environment. Previews run minimal: one replica, no
/// autoscaling. Without a target in the spec the HPA scales on 80% CPU.
fn autoscaling(scale: &effective::Scale, ephemeral: bool) -> Autoscaling {
    let (min, max) = if ephemeral { (1, 1) } else { (scale.min.value, scale.max.value) };
    let mut metrics = Vec::new();
    if let Some(c) = &scale.cpu {
        metrics.push(utilization("cpu", c.value.whole().unwrap_or(80)));
    }
    if let Some(m) = &scale.memory {
        metrics.push(utilization("memory", m.value.whole().unwrap_or(80)));
    }
    if metrics.is_empty() {
        metrics.push(utilization("cpu", 80));
    }
    Autoscaling { enabled: max > min, minReplicas: min, maxReplicas: max, metrics }
}

/// The annotations of every object of a preview instance: its TTL and branch, which the
/// cleanup of expired previews reads. None elsewhere.
fn preview_annotations(env: &crate::model::Environment, pl: &Placement, opts: &BuildOptions) -> IndexMap<String, String> {
    let mut annotations = IndexMap::new();
    if let (Some(ttl), Some(slug)) = (env.ttl, &pl.slug) {
        annotations.insert("platc.dev/ttl".to_string(), ttl.to_string());
        annotations.insert("platc.dev/preview-branch".to_string(), opts.branch.clone().unwrap_or_else(|| slug.clone()));
    }
    annotations
}

/// A port of the service's Service, targeting the container port by name; `appProtocol` tells
/// meshes and gateways how to speak to it (plain TCP says nothing).
fn service_port(port: &crate::model::Port) -> Part {
    let mut v = Map::with_capacity(5);
    v.set("name", port.name.value.clone());
    v.set("port", port.number.value);
    v.set("targetPort", port.name.value.clone());
    v.set("protocol", "TCP");
    match port.protocol {
        Protocol::Grpc => v.set("appProtocol", "grpc"),
        Protocol::Http => v.set("appProtocol", "http"),
        Protocol::Tcp => {}
    }
    Node::Map(v)
}

/// The ExternalSecret of the service's `secret` entries (disabled without any): each remote key
/// (and property) from the platform's secret store lands under its own name in one Secret.
fn external_secret(ws: &Workspace, s: &Service) -> ExternalSecret {
    let store = &ws.platform.secret_store;
    let data = s
        .secrets
        .iter()
        .map(|x| {
            let mut remote = Map::with_capacity(2);
            remote.set("key", x.from.value.clone());
            if let Some(k) = &x.key {
                remote.set("property", k.value.clone());
            }
            map([("secretKey", x.name.value.clone().into()), ("remoteRef", remote.into())])
        })
        .collect();
    ExternalSecret {
        enabled: !s.secrets.is_empty(),
        name: format!("{}-secrets", s.name.value),
        refreshInterval: "1h".into(),
        secretStoreRef: map([("name", store.name.clone().into()), ("kind", store.kind.clone().into())]),
        data,
    }
}

/// The service's worker processes; a preview runs at most one replica of each.
fn workers(ws: &Workspace, graph: &Graph, i: usize, pl: &Placement, ephemeral: bool) -> Vec<Worker> {
    let s = &ws.services[i];
    s.processes
        .iter()
        .filter_map(|pr| match &pr.kind {
            crate::model::ProcessKind::Worker { replicas } => Some(Worker {
                name: format!("{}-{}", s.name.value, pr.name.value),
                annotations: worker_skips(),
                replicas: if ephemeral { (*replicas).min(1) } else { *replicas },
                command: pr.command.clone(),
                env: wiring::process_env(ws, graph, i, pl, pr),
                resources: resources(&effective::resources(&ws.platform, s.file, &pr.resources, None)),
            }),
            _ => None,
        })
        .collect()
}

/// The service's cron processes, as CronJobs.
fn cron_jobs(ws: &Workspace, graph: &Graph, i: usize, pl: &Placement) -> Vec<CronJob> {
    let s = &ws.services[i];
    s.processes
        .iter()
        .filter_map(|pr| match &pr.kind {
            crate::model::ProcessKind::Cron { schedule, concurrency } => Some(CronJob {
                name: format!("{}-{}", s.name.value, pr.name.value),
                schedule: schedule.clone(),
                concurrencyPolicy: format!("{concurrency:?}"),
                command: pr.command.clone(),
                env: wiring::process_env(ws, graph, i, pl, pr),
                resources: resources(&effective::resources(&ws.platform, s.file, &pr.resources, None)),
            }),
            _ => None,
        })
        .collect()
}

/// Workers serve no port, so they have no HTTP or TCP probe to offer; Kubernetes restarts a
/// worker whose process exits. The policy scanner is told so on the object itself (rather
/// than by a global skip, which would also hide a web container without probes).
fn worker_skips() -> IndexMap<String, String> {
    let reason = "workers serve no port; Kubernetes restarts the container when the process exits";
    IndexMap::from([("checkov.io/skip1".to_string(), format!("CKV_K8S_8={reason}")), ("checkov.io/skip2".to_string(), format!("CKV_K8S_9={reason}"))])
}

/// Repository and tag of the service's image: a tag written in the spec (a third-party image,
/// warned about by W0102) wins; otherwise the CI tag or [`DEFAULT_TAG`].
fn image(s: &Service, registry: &str, opts: &BuildOptions) -> Image {
    let written = s.image.as_ref().map(|i| i.value.clone()).unwrap_or_else(|| format!("{registry}/{}", s.name.value));
    let last_slash = written.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (repository, tag) = match written[last_slash..].find(':') {
        Some(i) => (written[..last_slash + i].to_string(), Some(written[last_slash + i + 1..].to_string())),
        None => (written, None),
    };
    Image { repository, tag: tag.or_else(|| opts.image_tag.clone()).unwrap_or_else(|| DEFAULT_TAG.to_string()), pullPolicy: "Always".into() }
}

/// The tag used when no `--set image-tag` is given: Helm charts default to the chart's
/// appVersion; platc never writes `latest`.
pub const DEFAULT_TAG: &str = "0.1.0";

fn utilization(resource: &'static str, percent: u64) -> Part {
    let target = map([("type", "Utilization".into()), ("averageUtilization", percent.into())]);
    map([("type", "Resource".into()), ("resource", map([("name", resource.into()), ("target", target)]))])
}

/// A container's requests and limits, in Kubernetes' shape.
pub(crate) fn resources(r: &effective::Resources) -> Part {
    map([
        ("requests", map([("cpu", r.cpu.value.to_string().into()), ("memory", r.memory.value.to_string().into())])),
        ("limits", map([("cpu", r.cpu_limit.value.to_string().into()), ("memory", r.memory_limit.value.to_string().into())])),
    ])
}

/// `seccompProfile: {type: RuntimeDefault}`.
fn runtime_default_seccomp() -> Part {
    map([("type", "RuntimeDefault".into())])
}

/// Non-root with a fixed high UID, seccomp RuntimeDefault; `run-as-root` loosens it.
fn pod_security_context(s: &Service) -> Part {
    let root = s.security.run_as_root.as_ref().is_some_and(|r| r.value);
    if root {
        map([("runAsNonRoot", false.into()), ("runAsUser", 0u32.into()), ("seccompProfile", runtime_default_seccomp())])
    } else {
        let uid = || 10001u32.into();
        map([("runAsNonRoot", true.into()), ("runAsUser", uid()), ("runAsGroup", uid()), ("fsGroup", uid()), ("seccompProfile", runtime_default_seccomp())])
    }
}

fn container_security_context(s: &Service) -> Part {
    let writable = s.security.writable_root_fs.as_ref().is_some_and(|w| w.value);
    let root = s.security.run_as_root.as_ref().is_some_and(|r| r.value);
    map([
        ("allowPrivilegeEscalation", false.into()),
        ("privileged", false.into()),
        ("readOnlyRootFilesystem", (!writable).into()),
        ("runAsNonRoot", (!root).into()),
        ("capabilities", map([("drop", list(["ALL".into()]))])),
        ("seccompProfile", runtime_default_seccomp()),
    ])
}

/// A probe in Kubernetes' shape. Without a declared readiness or liveness probe, a TCP check
/// on the first port keeps the secure default "every container has probes".
fn probe(s: &Service, pr: Option<&crate::model::Probe>, _kind: &str) -> Option<Part> {
    let Some(pr) = pr else {
        let port = s.primary_port()?;
        return Some(map([("tcpSocket", map([("port", port.name.value.clone().into())])), ("periodSeconds", 10u64.into())]));
    };
    let port = s.probe_target(pr)?;
    let mut v = Map::with_capacity(5);
    match &pr.check {
        ProbeCheck::Http { path } => v.set("httpGet", map([("path", path.clone().into()), ("port", port.name.value.clone().into())])),
        // gRPC probes take a port number, not a name.
        ProbeCheck::Grpc => v.set("grpc", map([("port", port.number.value.into())])),
        ProbeCheck::Tcp => v.set("tcpSocket", map([("port", port.name.value.clone().into())])),
    }
    if let Some(d) = pr.initial_delay {
        v.set("initialDelaySeconds", d.as_secs());
    }
    v.set("periodSeconds", pr.period.map(|d| d.as_secs()).unwrap_or(10));
    if let Some(t) = pr.timeout {
        v.set("timeoutSeconds", t.as_secs());
    }
    if let Some(f) = pr.failure_threshold {
        v.set("failureThreshold", f);
    }
    Some(Node::Map(v))
}

/// Hosts of a route in one placement: as written, or `NAME.ENV.DOMAIN`; previews always get
/// their own host under the branch's domain.
pub fn route_host(s: &Service, route: &crate::model::Route, pl: &Placement) -> String {
    match (&route.host, &pl.slug) {
        (Some(h), None) => h.value.clone(),
        _ => format!("{}.{}", s.name.value, pl.domain),
    }
}

fn ingress(ws: &Workspace, s: &Service, pl: &Placement) -> IngressValues {
    let Ingress::Ingress { class, .. } = &ws.platform.ingress else {
        return IngressValues { items: Vec::new() };
    };
    let mut items = Vec::new();
    for public in [true, false] {
        let routes: Vec<_> = s.routes.iter().filter(|r| r.public == public).collect();
        if routes.is_empty() {
            continue;
        }
        let mut hosts: IndexMap<String, Vec<Part>> = IndexMap::new();
        for r in routes {
            let Some(port) = s.route_target(r) else { continue };
            let service = map([("name", s.name.value.clone().into()), ("port", map([("name", port.name.value.clone().into())]))]);
            let path = map([("path", r.path.value.clone().into()), ("pathType", "Prefix".into()), ("backend", map([("service", service)]))]);
            hosts.entry(route_host(s, r, pl)).or_default().push(path);
        }
        let name = if public { s.name.value.clone() } else { format!("{}-internal", s.name.value) };
        let mut annotations = IndexMap::new();
        if s.ports.iter().any(|p| p.protocol == Protocol::Grpc && s.routes.iter().any(|r| r.public == public && s.route_target(r).is_some_and(|rp| rp.name.value == p.name.value))) {
            annotations.insert("nginx.ingress.kubernetes.io/backend-protocol".to_string(), "GRPC".to_string());
        }
        items.push(IngressItem {
            name: name.clone(),
            className: if public { class.clone() } else { format!("{class}-internal") },
            annotations,
            tls: vec![map([("hosts", hosts.keys().map(|h| h.clone().into()).collect::<Vec<Part>>().into()), ("secretName", format!("{name}-tls").into())])],
            rules: hosts.into_iter().map(|(host, paths)| map([("host", host.into()), ("http", map([("paths", paths.into())]))])).collect(),
        });
    }
    IngressValues { items }
}

fn http_route(ws: &Workspace, s: &Service, pl: &Placement) -> HttpRouteValues {
    let Ingress::GatewayApi { gateway, namespace } = &ws.platform.ingress else {
        return HttpRouteValues { items: Vec::new() };
    };
    let mut items = Vec::new();
    for public in [true, false] {
        let routes: Vec<_> = s.routes.iter().filter(|r| r.public == public).collect();
        if routes.is_empty() {
            continue;
        }
        let mut hostnames = Vec::new();
        let mut rules = Vec::new();
        for r in routes {
            let Some(port) = s.route_target(r) else { continue };
            let host = route_host(s, r, pl);
            if !hostnames.contains(&host) {
                hostnames.push(host);
            }
            let path = map([("type", "PathPrefix".into()), ("value", r.path.value.clone().into())]);
            let backend = map([("name", s.name.value.clone().into()), ("port", port.number.value.into())]);
            rules.push(map([("matches", list([map([("path", path)])])), ("backendRefs", list([backend]))]));
        }
        let gw = if public { gateway.clone() } else { format!("{gateway}-internal") };
        items.push(HttpRouteItem {
            name: if public { s.name.value.clone() } else { format!("{}-internal", s.name.value) },
            parentRefs: vec![map([("name", gw.into()), ("namespace", namespace.clone().into())])],
            hostnames,
            rules,
        });
    }
    HttpRouteValues { items }
}

/// Scrape the port named `metrics`, else the first HTTP port, at `/metrics`.
fn service_monitor(s: &Service) -> ServiceMonitor {
    let port = s.metrics_port();
    ServiceMonitor { enabled: port.is_some(), port: port.map(|p| p.name.value.clone()).unwrap_or_default(), path: "/metrics".into(), interval: "30s".into() }
}

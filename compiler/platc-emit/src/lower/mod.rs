//! Lower: the [`Resolved`] model -> per service and environment, the typed Helm [`Values`]
//! every Kubernetes backend renders from. Lowering decides nothing the resolve stage decides
//! (effective values, port roles, provisioners, names): it puts those facts in Kubernetes' shape.

pub mod incluster;
mod network;
mod values;
mod wiring;

pub use crate::resolve::naming::{connection_secret_name, dns_safe, identifier, instance, placement, preview_slug, short_hash, BuildOptions, Placement, MIN_PREVIEW_SLUG};
pub use crate::resolve::DEFAULT_TAG;
pub use incluster::Catalog;
pub use values::*;

use indexmap::IndexMap;

use crate::emit::object::{list, map, Map, Node};

use crate::model::{effective, Ingress, ProbeCheck, ProcessKind, Protocol};
use crate::resolve::{naming, Resolved, ResolvedService};

/// Everything the Kubernetes backends emit, per service and environment.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The environments built, in platform.kdl order.
    pub environments: Vec<Placement>,
    /// Every service, in `Resolved::services` order.
    pub services: Vec<ServicePlan>,
}

/// One service across the environments built.
#[derive(Debug, Clone)]
pub struct ServicePlan {
    /// Index into `Resolved::services`.
    pub index: usize,
    /// The service name.
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

/// Lowers every service for the placements resolved, with the built-in stdlib's in-cluster
/// data (see [`lower_with`]).
pub fn lower(r: &Resolved, opts: &BuildOptions) -> Plan {
    lower_with(r, opts, Catalog::builtin())
}

/// Lowers every service for the placements resolved; resources served `in-cluster` become the
/// objects `catalog` describes (`Catalog::load` of the merged stdlib, overlays included;
/// [`incluster::render`] reports what would be left out).
pub fn lower_with(r: &Resolved, opts: &BuildOptions, catalog: &Catalog) -> Plan {
    let (rendered, _) = incluster::render(r, &r.placements, catalog);
    let mut plan = skeleton(r);
    // Services lower independently: all cores, in order.
    crate::par::map_chunks_mut(&mut plan.services, |chunk| {
        for sp in chunk {
            fill(r, sp, opts, &rendered);
        }
    });
    plan
}

/// The plan without values: names, waves, dependencies and image of every service; values are
/// [`fill`]ed per service.
pub fn skeleton(r: &Resolved) -> Plan {
    Plan { environments: r.placements.clone(), services: r.services.iter().map(plan_of).collect() }
}

/// The plan of one service without its values ([`fill`] adds them).
pub fn plan_of(rs: &crate::resolve::ResolvedService) -> ServicePlan {
    ServicePlan { index: rs.index, name: rs.name.clone(), wave: rs.wave, depends_on: rs.depends_on.clone(), image: rs.image.repository.clone(), envs: IndexMap::new() }
}

/// The annotations of a service's pods: `common`, then the checksum of the ConfigMap data
/// `config` when there is any (each key and value, length-prefixed so that no two ConfigMaps
/// hash alike).
fn pod_annotations(common: &IndexMap<String, String>, config: &IndexMap<String, String>) -> IndexMap<String, String> {
    use sha2::{Digest, Sha256};
    let mut out = common.clone();
    if !config.is_empty() {
        let mut h = Sha256::new();
        for (k, v) in config {
            for part in [k, v] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part.as_bytes());
            }
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        out.insert(CONFIG_CHECKSUM.into(), hex);
    }
    out
}

/// The pod annotation holding the checksum of the service's ConfigMap (the name Helm's
/// documentation uses for the same pattern).
pub const CONFIG_CHECKSUM: &str = "checksum/config";

/// Lowers one service for every placement resolved, its in-cluster resources as `rendered`.
pub fn fill(r: &Resolved, sp: &mut ServicePlan, opts: &BuildOptions, rendered: &incluster::Rendered) {
    sp.envs = r.placements.iter().map(|pl| (pl.env.clone(), service_values_with(r, sp.index, pl, opts, rendered))).collect();
}

/// Values of service `i` in one placement, its in-cluster resources as `rendered`.
pub fn service_values_with(r: &Resolved, i: usize, pl: &Placement, opts: &BuildOptions, rendered: &incluster::Rendered) -> Values {
    let rs = &r.services[i];
    let s = &rs.spec;
    let p = &r.platform;
    let facts = &rs.envs[&pl.env];
    let name = rs.name.clone();
    let autoscaling = autoscaling(&facts.scale, facts.ephemeral);
    let wiring = wiring::env(r, rs, pl);
    let common = preview_annotations(r.environment(pl), pl, opts);
    let pod_annotations = pod_annotations(&common, &wiring.config);
    let backing = incluster::backing_resources(r, rs, pl, rendered);
    Values {
        fullname: name.clone(),
        namespace: pl.namespace.clone(),
        environment: pl.env.clone(),
        partOf: p.name.value.clone(),
        owner: s.owner.as_ref().map(|o| o.value.clone()).unwrap_or_default(),
        commonAnnotations: common,
        podAnnotations: pod_annotations,
        terminationGracePeriodSeconds: s.shutdown_grace.as_ref().map(|g| g.value.as_secs()),
        waivers: s
            .waivers
            .iter()
            .map(|w| (format!("platc.dev/waiver.{}", w.policy.value), w.until.as_ref().map_or_else(|| w.reason.clone(), |u| format!("{} (until {})", w.reason, u.value.1))))
            .collect(),
        image: Image { repository: rs.image.repository.clone(), tag: rs.image.tag.clone(), pullPolicy: "Always".into() },
        replicaCount: autoscaling.minReplicas,
        autoscaling,
        serviceAccount: ServiceAccount { name: name.clone(), automount: s.security.service_account_token.as_ref().is_some_and(|t| t.value), annotations: IndexMap::new() },
        podSecurityContext: pod_security_context(s),
        securityContext: container_security_context(s),
        resources: resources(&facts.resources),
        containerPorts: s.ports.iter().map(|port| map([("name", port.name.value.clone().into()), ("containerPort", port.container().into()), ("protocol", "TCP".into())])).collect(),
        service: ServiceValues { enabled: !s.ports.is_empty(), ports: s.ports.iter().map(service_port).collect() },
        readinessProbe: probe(rs, s.health.readiness.as_ref(), rs.roles.readiness),
        livenessProbe: probe(rs, s.health.liveness.as_ref(), rs.roles.liveness),
        startupProbe: s.health.startup.as_ref().and_then(|pr| probe(rs, Some(pr), rs.roles.startup)),
        env: wiring.env,
        config: wiring.config,
        externalSecret: external_secret(r, rs),
        podDisruptionBudget: Pdb { enabled: true, maxUnavailable: 1 },
        networkPolicy: network::policy(r, rs, pl, &backing),
        ingress: ingress(r, rs, pl),
        httpRoute: http_route(r, rs, pl),
        initContainers: init_containers(r, rs, pl),
        workers: workers(r, rs, pl, facts.ephemeral),
        cronJobs: cron_jobs(r, rs, pl),
        serviceMonitor: service_monitor(rs),
        // Filled by the build from emit::observability, which needs the whole plan.
        prometheusRule: PrometheusRuleValues::default(),
        dashboard: DashboardValues::default(),
        backingResources: backing.values,
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
fn external_secret(r: &Resolved, rs: &ResolvedService) -> ExternalSecret {
    let s = &rs.spec;
    let store = &r.platform.secret_store;
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
        name: naming::secrets_secret(&rs.name),
        refreshInterval: "1h".into(),
        secretStoreRef: map([("name", store.name.clone().into()), ("kind", store.kind.clone().into())]),
        data,
    }
}

/// What every process's container has, lowered once: its name, command, env and resources.
struct ProcessParts {
    name: String,
    command: Vec<String>,
    env: Vec<Part>,
    resources: Part,
}

/// The processes of `rs` that `pick` keeps, in spec order: `pick` sees each one's kind and
/// lowers its [`ProcessParts`] only for the kind it builds.
fn processes<T>(r: &Resolved, rs: &ResolvedService, pl: &Placement, pick: impl Fn(&ProcessKind, &dyn Fn() -> ProcessParts) -> Option<T>) -> Vec<T> {
    rs.spec
        .processes
        .iter()
        .zip(&rs.processes)
        .filter_map(|(pr, facts)| {
            let parts = || ProcessParts { name: facts.workload.clone(), command: pr.command.clone(), env: wiring::process_env(r, rs, pl, pr), resources: resources(&facts.resources) };
            pick(&pr.kind, &parts)
        })
        .collect()
}

/// The service's worker processes; a preview runs at most one replica of each.
fn workers(r: &Resolved, rs: &ResolvedService, pl: &Placement, ephemeral: bool) -> Vec<Worker> {
    processes(r, rs, pl, |kind, parts| match kind {
        ProcessKind::Worker { replicas } => {
            let (p, replicas) = (parts(), if ephemeral { (*replicas).min(1) } else { *replicas });
            Some(Worker { annotations: worker_skips(), replicas, name: p.name, command: p.command, env: p.env, resources: p.resources })
        }
        _ => None,
    })
}

/// The service's init containers, in spec order.
fn init_containers(r: &Resolved, rs: &ResolvedService, pl: &Placement) -> Vec<InitContainer> {
    processes(r, rs, pl, |kind, parts| match kind {
        ProcessKind::Init { image } => {
            let p = parts();
            Some(InitContainer { image: image.as_ref().map(|i| i.value.clone()), name: p.name, command: p.command, env: p.env, resources: p.resources })
        }
        _ => None,
    })
}

/// The service's cron processes, as CronJobs.
fn cron_jobs(r: &Resolved, rs: &ResolvedService, pl: &Placement) -> Vec<CronJob> {
    processes(r, rs, pl, |kind, parts| match kind {
        ProcessKind::Cron { schedule, concurrency } => {
            let p = parts();
            Some(CronJob { schedule: schedule.clone(), concurrencyPolicy: format!("{concurrency:?}"), name: p.name, command: p.command, env: p.env, resources: p.resources })
        }
        _ => None,
    })
}

/// Workers serve no port, so they have no HTTP or TCP probe to offer; Kubernetes restarts a
/// worker whose process exits. The policy scanner is told so on the object itself (rather
/// than by a global skip, which would also hide a web container without probes).
fn worker_skips() -> IndexMap<String, String> {
    let reason = "workers serve no port; Kubernetes restarts the container when the process exits";
    IndexMap::from([("checkov.io/skip1".to_string(), format!("CKV_K8S_8={reason}")), ("checkov.io/skip2".to_string(), format!("CKV_K8S_9={reason}"))])
}

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
fn pod_security_context(s: &crate::model::Service) -> Part {
    let root = s.security.run_as_root.as_ref().is_some_and(|r| r.value);
    if root {
        map([("runAsNonRoot", false.into()), ("runAsUser", 0u32.into()), ("seccompProfile", runtime_default_seccomp())])
    } else {
        let uid = || 10001u32.into();
        map([("runAsNonRoot", true.into()), ("runAsUser", uid()), ("runAsGroup", uid()), ("fsGroup", uid()), ("seccompProfile", runtime_default_seccomp())])
    }
}

fn container_security_context(s: &crate::model::Service) -> Part {
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

/// A probe in Kubernetes' shape, on its resolved `target` port. Without a declared readiness or
/// liveness probe, a TCP check on the primary port keeps the secure default "every container has
/// probes".
fn probe(rs: &ResolvedService, pr: Option<&crate::model::Probe>, target: Option<usize>) -> Option<Part> {
    let Some(pr) = pr else {
        let port = &rs.spec.ports[rs.roles.primary?];
        return Some(map([("tcpSocket", map([("port", port.name.value.clone().into())])), ("periodSeconds", 10u64.into())]));
    };
    let (key, check) = probe_check(&pr.check, &pr.headers, target.map(|k| &rs.spec.ports[k]))?;
    let mut v = Map::with_capacity(5);
    v.set(key, check);
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

/// The check of a probe, as its key and value: an exec probe runs its command; HTTP and TCP
/// check `port` by its name, gRPC by its number (a gRPC probe takes no name), always the
/// container's. `None` for a port check without a port: no check rather than a guess.
fn probe_check(check: &ProbeCheck, headers: &[(String, String)], port: Option<&crate::model::Port>) -> Option<(&'static str, Part)> {
    Some(match (check, port) {
        (ProbeCheck::Exec { command }, _) => ("exec", map([("command", command.iter().map(|w| Part::from(w.clone())).collect::<Vec<_>>().into())])),
        (ProbeCheck::Http { path }, Some(port)) => {
            let mut get = Map::with_capacity(3);
            get.set("path", path.clone());
            get.set("port", port.name.value.clone());
            if !headers.is_empty() {
                get.set("httpHeaders", headers.iter().map(|(n, val)| map([("name", n.clone().into()), ("value", val.clone().into())])).collect::<Vec<Part>>());
            }
            ("httpGet", Node::Map(get))
        }
        (ProbeCheck::Grpc, Some(port)) => ("grpc", map([("port", port.container().into())])),
        (ProbeCheck::Tcp, Some(port)) => ("tcpSocket", map([("port", port.name.value.clone().into())])),
        (ProbeCheck::Http { .. } | ProbeCheck::Grpc | ProbeCheck::Tcp, None) => return None,
    })
}

/// The routes of a service with the given visibility, with their target ports (routes to no
/// port are left out) and hosts in `pl`.
fn routes_of<'a>(rs: &'a ResolvedService, pl: &Placement, public: bool) -> Vec<(&'a crate::model::Route, &'a crate::model::Port, String)> {
    let s = &rs.spec;
    s.routes.iter().zip(&rs.routes).filter(|(r, _)| r.public == public).filter_map(|(r, f)| f.target.map(|t| (r, &s.ports[t], f.host(pl).to_string()))).collect()
}

fn ingress(r: &Resolved, rs: &ResolvedService, pl: &Placement) -> IngressValues {
    let Ingress::Ingress { class, cluster_issuer, .. } = &r.platform.ingress else {
        return IngressValues { items: Vec::new() };
    };
    let name_of = &rs.name;
    let mut items = Vec::new();
    for public in [true, false] {
        if !rs.spec.routes.iter().any(|r| r.public == public) {
            continue;
        }
        let routes = routes_of(rs, pl, public);
        let mut hosts: IndexMap<String, Vec<Part>> = IndexMap::new();
        for (r, port, host) in &routes {
            let service = map([("name", name_of.clone().into()), ("port", map([("name", port.name.value.clone().into())]))]);
            let path = map([("path", r.path.value.clone().into()), ("pathType", "Prefix".into()), ("backend", map([("service", service)]))]);
            hosts.entry(host.clone()).or_default().push(path);
        }
        let name = if public { name_of.clone() } else { format!("{name_of}-internal") };
        let mut annotations = IndexMap::new();
        // cert-manager's ingress-shim makes the certificate `tls` names from this annotation.
        if let Some(issuer) = cluster_issuer {
            annotations.insert("cert-manager.io/cluster-issuer".to_string(), issuer.clone());
        }
        if routes.iter().any(|(_, port, _)| port.protocol == Protocol::Grpc) {
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

fn http_route(r: &Resolved, rs: &ResolvedService, pl: &Placement) -> HttpRouteValues {
    let Ingress::GatewayApi { gateway, namespace } = &r.platform.ingress else {
        return HttpRouteValues { items: Vec::new() };
    };
    let mut items = Vec::new();
    for public in [true, false] {
        if !rs.spec.routes.iter().any(|r| r.public == public) {
            continue;
        }
        let mut hostnames = Vec::new();
        let mut rules = Vec::new();
        for (r, port, host) in routes_of(rs, pl, public) {
            if !hostnames.contains(&host) {
                hostnames.push(host);
            }
            let path = map([("type", "PathPrefix".into()), ("value", r.path.value.clone().into())]);
            let backend = map([("name", rs.name.clone().into()), ("port", port.number.value.into())]);
            rules.push(map([("matches", list([map([("path", path)])])), ("backendRefs", list([backend]))]));
        }
        let gw = if public { gateway.clone() } else { format!("{gateway}-internal") };
        items.push(HttpRouteItem {
            name: if public { rs.name.clone() } else { format!("{}-internal", rs.name) },
            parentRefs: vec![map([("name", gw.into()), ("namespace", namespace.clone().into())])],
            hostnames,
            rules,
        });
    }
    HttpRouteValues { items }
}

/// Scrape the port named `metrics`, else the first HTTP port, at `/metrics`.
fn service_monitor(rs: &ResolvedService) -> ServiceMonitor {
    let port = rs.roles.metrics.map(|k| &rs.spec.ports[k]);
    ServiceMonitor { enabled: port.is_some(), port: port.map(|p| p.name.value.clone()).unwrap_or_default(), path: "/metrics".into(), interval: "30s".into() }
}

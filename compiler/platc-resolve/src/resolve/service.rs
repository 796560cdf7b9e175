//! One service resolved: its declaration and every fact derived from it, decided here once.

use std::path::{Component, Path};

use indexmap::IndexMap;

use super::{provisioner, roles, BuildOptions};
use crate::graph::Graph;
use crate::model::{effective, Duration, EnvVar, LatencySlo, Percent, Port, Provisioner, Service, Workspace};
use crate::source::{FileId, SourceMap};
use crate::source::{Span, Spanned};

/// A service with its facts. `spec` is the declaration as checked; everything a backend would
/// otherwise derive from it (and from the platform) is a field beside it.
#[derive(Debug, Clone)]
pub struct ResolvedService {
    /// Index into `Resolved::services` (and the workspace's services).
    pub index: usize,
    /// The service's name.
    pub name: String,
    /// The declaration as checked (ports, routes, uses, processes, alerts, patches, ...).
    pub spec: Service,
    /// service.kdl relative to the output root, for headers.
    pub source: String,
    /// The service's directory relative to the directory of platform.kdl (`.` for the root).
    pub dir: String,
    /// The image of its containers.
    pub image: ImageRef,
    /// Start-up wave (Argo CD sync wave / Flux ordering).
    pub wave: u32,
    /// Names of the services it must start after.
    pub depends_on: Vec<String>,
    /// Which port does what.
    pub roles: PortRoles,
    /// In `spec.routes` order.
    pub routes: Vec<RouteFacts>,
    /// The services it calls, sorted by index.
    pub callees: Vec<Callee>,
    /// The services that call it, sorted by index.
    pub callers: Vec<Caller>,
    /// Per environment of platform.kdl (all of them, in its order).
    pub envs: IndexMap<String, EnvFacts>,
    /// In `spec.processes` order.
    pub processes: Vec<ProcessFacts>,
    /// The SLO with its effective window; `None` without an `slo`.
    pub slo: Option<SloFacts>,
}

/// The image a service runs: repository and tag (a tag written in the spec wins over the CI
/// tag, which wins over [`DEFAULT_TAG`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The image without its tag: the one the spec names, else `REGISTRY/SERVICE`.
    pub repository: String,
    /// The tag it runs.
    pub tag: String,
    /// CI builds, pushes and signs it; false for a third-party image (`build=#false`), whose tag
    /// the spec pins.
    pub built: bool,
}

/// The tag used when no `--set image-tag` is given: Helm charts default to the chart's
/// appVersion; platc never writes `latest`.
pub const DEFAULT_TAG: &str = "0.1.0";

/// Port roles as indexes into `spec.ports` (see [`roles`] for each rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortRoles {
    /// The first port declared: where a route, a call or a probe goes unless it names another.
    pub primary: Option<usize>,
    /// Scraped by Prometheus at `/metrics`.
    pub metrics: Option<usize>,
    /// Measured by the SLOs, request alerts and dashboard ([`roles::measured_port`]).
    pub measured: Option<usize>,
    /// Checked by each declared probe.
    pub readiness: Option<usize>,
    /// Checked by the liveness probe, when one is declared.
    pub liveness: Option<usize>,
    /// Checked by the startup probe, when one is declared.
    pub startup: Option<usize>,
}

/// A route: the port it sends its traffic to and its host in each placement.
#[derive(Debug, Clone)]
pub struct RouteFacts {
    /// [`roles::route_target`]; `None` when the service has no such port.
    pub target: Option<usize>,
    /// By [`super::instance`] of each placement resolved (those built and the base one).
    pub hosts: IndexMap<String, String>,
}

impl RouteFacts {
    /// The host in `pl`, one of the placements resolved.
    pub fn host(&self, pl: &super::Placement) -> &str {
        &self.hosts[&super::instance(pl)]
    }
}

/// A service this one calls.
#[derive(Debug, Clone)]
pub struct Callee {
    /// The callee's index into `Resolved::services`.
    pub index: usize,
    /// The callee's name.
    pub name: String,
    /// The callee's port the call reaches ([`roles::reached_port`]), if it has any: the only
    /// one the call opens.
    pub port: Option<Port>,
}

/// A service that calls this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's name.
    pub name: String,
    /// The port of this service it reaches ([`roles::reached_port`]), an index into
    /// `spec.ports`; `None` when this service has no port.
    pub port: Option<usize>,
}

/// The effective settings of a service in one environment.
#[derive(Debug, Clone)]
pub struct EnvFacts {
    /// Requests and limits of the web process in this environment.
    pub resources: effective::Resources,
    /// Replicas and autoscaling bounds in this environment.
    pub scale: effective::Scale,
    /// Env vars of the web process: the base ones with the environment's replacing them.
    pub env: Vec<EnvVar>,
    /// The provisioner of each resource, in `spec.uses` order.
    pub provisioners: Vec<Provisioner>,
    /// The port each resource's server listens on here, whichever provisioner serves it
    /// ([`crate::model::ResourceType::port_for`]), in `spec.uses` order: NetworkPolicy egress,
    /// the in-cluster Service and the cloud security group all use it.
    pub resource_ports: Vec<u16>,
    /// An ephemeral (preview) environment: one replica, no autoscaling.
    pub ephemeral: bool,
    /// Whether the web process autoscales here (not ephemeral, max above min).
    pub autoscaling: bool,
}

/// A worker or cron process.
#[derive(Debug, Clone)]
pub struct ProcessFacts {
    /// Its Deployment or CronJob (and container) name.
    pub workload: String,
    /// Its requests and limits, the same in every environment.
    pub resources: effective::Resources,
}

/// The SLO of a service with its effective window.
#[derive(Debug, Clone)]
pub struct SloFacts {
    /// The availability objective, e.g. `99.9%`.
    pub availability: Option<Spanned<Percent>>,
    /// The latency objective.
    pub latency: Option<LatencySlo>,
    /// The `slo window`, else the platform's `defaults { slo-window }`.
    pub window: Duration,
    /// The `slo` node, for diagnostics.
    pub span: Span,
}

/// Resolves service `i`.
pub(super) fn resolve(ws: &Workspace, graph: &Graph, i: usize, placements: &[&super::Placement], opts: &BuildOptions, sources: &SourceMap) -> ResolvedService {
    let s = &ws.services[i];
    let p = &ws.platform;
    let name = s.name.value.clone();
    let envs = p.environments.values().map(|e| (e.name.value.clone(), env_facts(ws, s, e))).collect();
    let processes = s.processes.iter().map(|pr| ProcessFacts { workload: super::process_workload(&name, &pr.name.value), resources: effective::resources(p, s.file, &pr.resources, None) }).collect();
    let slo = s.slo.as_ref().map(|slo| SloFacts { availability: slo.availability.clone(), latency: slo.latency.clone(), window: slo.window.unwrap_or(p.defaults.slo_window), span: slo.span });
    ResolvedService {
        index: i,
        source: super::source_name(sources, s.file, p.file),
        dir: service_dir(sources, s.file, p.file, &name),
        image: image(s, &p.registry.value, opts),
        wave: graph.waves[i],
        depends_on: graph.dependencies(i).into_iter().map(|j| ws.services[j].name.value.clone()).collect(),
        roles: port_roles(s, &roles::called_ports(s, graph.callers(i).into_iter().map(|j| &ws.services[j]))),
        routes: s.routes.iter().map(|r| route(s, r, placements)).collect(),
        callees: graph.callees(i).into_iter().map(|j| callee(ws, s, j)).collect(),
        callers: graph.callers(i).into_iter().map(|j| Caller { name: ws.services[j].name.value.clone(), port: roles::reached_port(&ws.services[j], s) }).collect(),
        envs,
        processes,
        slo,
        spec: s.clone(),
        name,
    }
}

/// Every port role of `s`, each from its one function in [`roles`]; `called` are the ports its
/// callers reach. An ambiguous SLO port (reported by the graph stage, so never built) measures
/// the first of them.
fn port_roles(s: &Service, called: &[usize]) -> PortRoles {
    let probe = |p: Option<&crate::model::Probe>| p.and_then(|p| roles::probe_target(s, p));
    PortRoles {
        primary: roles::primary_port(s),
        metrics: roles::metrics_port(s),
        measured: roles::measured_port(s, called).unwrap_or_else(|a| a.ports.first().copied()),
        readiness: probe(s.health.readiness.as_ref()),
        liveness: probe(s.health.liveness.as_ref()),
        startup: probe(s.health.startup.as_ref()),
    }
}

fn route(s: &Service, r: &crate::model::Route, placements: &[&super::Placement]) -> RouteFacts {
    let host = |pl: &super::Placement| super::route_host(&s.name.value, r.host.as_ref().map(|h| h.value.as_str()), pl);
    RouteFacts { target: roles::route_target(s, r), hosts: placements.iter().map(|pl| (super::instance(pl), host(pl))).collect() }
}

fn callee(ws: &Workspace, s: &Service, j: usize) -> Callee {
    let c = &ws.services[j];
    Callee { index: j, name: c.name.value.clone(), port: roles::reached_port(s, c).map(|k| c.ports[k].clone()) }
}

fn env_facts(ws: &Workspace, s: &Service, e: &crate::model::Environment) -> EnvFacts {
    let p = &ws.platform;
    let env = &e.name.value;
    let scale = effective::scale(p, s, env);
    let ephemeral = e.ttl.is_some();
    let provisioners: Vec<Provisioner> = s.uses.iter().map(|u| provisioner(e, &u.ty.value)).collect();
    // An unknown type was reported by check; its port is never printed (nothing is built).
    let resource_ports = s.uses.iter().zip(&provisioners).map(|(u, &p)| ws.types.get(&u.ty.value).map_or(0, |t| t.port_for(p))).collect();
    EnvFacts {
        resources: effective::web_resources(p, s, env),
        autoscaling: !ephemeral && scale.max.value > scale.min.value,
        scale,
        env: effective::env_vars(s, env).into_iter().cloned().collect(),
        provisioners,
        resource_ports,
        ephemeral,
    }
}

/// Repository and tag of the service's image: a tag written in the spec (a third-party image,
/// warned about by W0102) wins; otherwise the CI tag or [`DEFAULT_TAG`].
fn image(s: &Service, registry: &str, opts: &BuildOptions) -> ImageRef {
    let written = s.image.as_ref().map(|i| i.value.clone()).unwrap_or_else(|| format!("{registry}/{}", s.name.value));
    let last_slash = written.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (repository, tag) = match written[last_slash..].find(':') {
        Some(i) => (written[..last_slash + i].to_string(), Some(written[last_slash + i + 1..].to_string())),
        None => (written, None),
    };
    let built = s.prebuilt.is_none();
    ImageRef { repository, tag: tag.or_else(|| opts.image_tag.clone()).unwrap_or_else(|| DEFAULT_TAG.to_string()), built }
}

/// The directory of a service relative to the directory of platform.kdl.
fn service_dir(sources: &SourceMap, file: FileId, platform_file: FileId, name: &str) -> String {
    let service = sources.get(file);
    let platform = sources.get(platform_file);
    let rel = match (&service.path, &platform.path) {
        (Some(s), Some(p)) => s.parent().zip(p.parent()).and_then(|(s, p)| s.strip_prefix(p).ok()).map(slash_path),
        _ => None,
    };
    // Without paths (specs not read from disk), the display names are relative to one
    // directory; failing that, the service name is the conventional directory.
    let rel = rel.or_else(|| {
        let s = Path::new(&service.name).parent()?;
        let p = Path::new(&platform.name).parent()?;
        s.strip_prefix(p).ok().map(slash_path)
    });
    match rel {
        Some(r) if r.is_empty() => ".".into(),
        Some(r) => r,
        None => name.to_string(),
    }
}

fn slash_path(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

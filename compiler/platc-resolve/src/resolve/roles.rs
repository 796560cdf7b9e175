//! The role of each port of a service, decided once: which port a route sends traffic to, which
//! one a caller reaches, which one Prometheus scrapes, which one a probe checks and which one
//! the SLOs measure. Each role is one function here; the resolve stage stores its answers
//! ([`super::PortRoles`]) and every backend reads them from there.
//!
//! Roles are port indexes into `Service::ports`.

use crate::model::{Port, Probe, ProbeCheck, Protocol, Route, Service};

/// The name of the port that Prometheus scrapes when a service declares one so named.
pub const METRICS_PORT: &str = "metrics";

fn index_of(s: &Service, name: &str) -> Option<usize> {
    s.ports.iter().position(|p| p.name.value == name)
}

/// The primary port, the first one declared: where a route, a call or the default probe goes
/// when it names no port, and the port the Dockerfile exposes.
pub fn primary_port(s: &Service) -> Option<usize> {
    (!s.ports.is_empty()).then_some(0)
}

/// The port a route sends its traffic to: the one it names, else the primary port.
pub fn route_target(s: &Service, route: &Route) -> Option<usize> {
    if route.port.value.is_empty() {
        primary_port(s)
    } else {
        index_of(s, &route.port.value)
    }
}

/// The port a caller reaches (`calls NAME port=PORT`, `${service.NAME.port}`): the one the call
/// names, else the primary port.
pub fn call_target(s: &Service, port: Option<&str>) -> Option<usize> {
    port.and_then(|p| index_of(s, p)).or_else(|| primary_port(s))
}

/// The port Prometheus scrapes (at `/metrics`): the one named `metrics`, else the first HTTP
/// port; `None` when the service has neither.
pub fn metrics_port(s: &Service) -> Option<usize> {
    index_of(s, METRICS_PORT).or_else(|| s.ports.iter().position(|p| p.protocol == Protocol::Http))
}

/// The port a declared probe checks: the one it names, else the first port of the protocol its
/// check speaks (any port for a TCP check), else the first port; none for an exec probe.
pub fn probe_target(s: &Service, probe: &Probe) -> Option<usize> {
    let want = match probe.check {
        ProbeCheck::Exec { .. } => return None,
        ProbeCheck::Grpc => Some(Protocol::Grpc),
        ProbeCheck::Http { .. } => Some(Protocol::Http),
        ProbeCheck::Tcp => None,
    };
    if !probe.port.value.is_empty() {
        return index_of(s, &probe.port.value);
    }
    s.ports.iter().position(|p| want.is_none_or(|w| p.protocol == w)).or_else(|| primary_port(s))
}

/// The ports one tier of traffic reaches are of two protocols, and the service has an SLO:
/// one SLO cannot measure both (their requests are counted by different metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmbiguousSlo {
    /// Which traffic reaches them.
    pub tier: Tier,
    /// The first port of each protocol that this traffic reaches.
    pub ports: Vec<usize>,
}

/// The traffic of a service, in the order [`measured_port`] weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Public routes: what the service's users reach.
    Public,
    /// Calls from other services (`calls`, `${service.NAME...}`).
    Calls,
    /// Internal routes.
    Internal,
}

/// An HTTP or gRPC port other than the metrics port: one whose requests an SLO can count.
fn serves_requests(p: &Port) -> bool {
    p.name.value != METRICS_PORT && matches!(p.protocol, Protocol::Http | Protocol::Grpc)
}

/// The port of `callee` that `caller` reaches: the port its `calls` names (or its first port
/// when it names none, or when the callee is only referenced by `${service.NAME...}`).
pub fn reached_port(caller: &Service, callee: &Service) -> Option<usize> {
    let port = caller.calls.iter().find(|call| call.service.value == callee.name.value).and_then(|call| call.port.as_ref()).map(|p| p.value.as_str());
    call_target(callee, port)
}

/// The ports of `s` its callers reach ([`reached_port`] of each caller), in caller order.
pub fn called_ports<'a>(s: &Service, callers: impl IntoIterator<Item = &'a Service>) -> Vec<usize> {
    callers.into_iter().filter_map(|c| reached_port(c, s)).collect()
}

/// The port whose requests the SLOs, the request alerts and the dashboard measure.
///
/// The rule: **the port the service's traffic reaches**, weighed by tier: the ports public
/// routes target, else those the callers' calls reach (`called`, from [`called_ports`]), else
/// those internal routes target; only HTTP and gRPC ports count, never the metrics port. Within
/// the first tier that reaches any, the first port (in route or caller order) is measured: the
/// request metrics are per service, not per port, so ports of one protocol count the same
/// requests. When that tier reaches ports of both protocols, a service with an SLO is ambiguous
/// ([`AmbiguousSlo`], reported as E0413 by the graph stage); without an SLO the request alerts
/// and the dashboard follow the first. A service that no traffic reaches this way is measured on
/// its first HTTP or gRPC port.
pub fn measured_port(s: &Service, called: &[usize]) -> Result<Option<usize>, AmbiguousSlo> {
    let routed = |public: bool| -> Vec<usize> { s.routes.iter().filter(|r| r.public == public).filter_map(|r| route_target(s, r)).collect() };
    for (tier, ports) in [(Tier::Public, routed(true)), (Tier::Calls, called.to_vec()), (Tier::Internal, routed(false))] {
        let mut firsts: Vec<usize> = Vec::new();
        for i in ports.into_iter().filter(|&i| serves_requests(&s.ports[i])) {
            if !firsts.iter().any(|&j| s.ports[j].protocol == s.ports[i].protocol) {
                firsts.push(i);
            }
        }
        match firsts.as_slice() {
            [] => continue,
            [_, _, ..] if s.slo.is_some() => return Err(AmbiguousSlo { tier, ports: firsts }),
            [first, ..] => return Ok(Some(*first)),
        }
    }
    Ok(s.ports.iter().position(serves_requests))
}

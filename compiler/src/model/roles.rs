//! The role of each port of a service, decided once: which port a route sends traffic to, which
//! one Prometheus scrapes, which one a probe checks and which one the SLOs measure. Every
//! backend (Helm values, NetworkPolicy, Ingress and HTTPRoute, ServiceMonitor, alert rules and
//! dashboards) asks these functions; none applies a rule of its own.

use super::{Port, Probe, ProbeCheck, Protocol, Route, Service};

/// The name of the port that Prometheus scrapes when a service declares one so named.
pub const METRICS_PORT: &str = "metrics";

impl Service {
    /// The primary port, the first one declared: where a route, a call or the default probe
    /// goes when it names no port, and the port the Dockerfile exposes.
    pub fn primary_port(&self) -> Option<&Port> {
        self.ports.first()
    }

    /// The port a route sends its traffic to: the one it names, else the primary port.
    pub fn route_target(&self, route: &Route) -> Option<&Port> {
        if route.port.value.is_empty() {
            self.primary_port()
        } else {
            self.port(&route.port.value)
        }
    }

    /// The port a caller reaches (`calls NAME port=PORT`, `${service.NAME.port}`): the one the
    /// call names, else the primary port.
    pub fn call_target(&self, port: Option<&str>) -> Option<&Port> {
        port.and_then(|p| self.port(p)).or_else(|| self.primary_port())
    }

    /// The port Prometheus scrapes (at `/metrics`): the one named `metrics`, else the first
    /// HTTP port; `None` when the service has neither.
    pub fn metrics_port(&self) -> Option<&Port> {
        self.port(METRICS_PORT).or_else(|| self.ports.iter().find(|p| p.protocol == Protocol::Http))
    }

    /// The port whose requests the SLOs and the request alerts measure: the first HTTP or gRPC
    /// port that is not the metrics port. Port order decides, not routes: with `port admin 9090`
    /// before `port api 50051 grpc` and routes to `api`, the SLO measures `admin` (a known
    /// limit, docs/observability.md: a service with two serving ports will say which one its
    /// SLO is about, and platc will ask when it cannot tell).
    pub fn serving_port(&self) -> Option<&Port> {
        self.ports.iter().find(|p| p.name.value != METRICS_PORT && matches!(p.protocol, Protocol::Http | Protocol::Grpc))
    }

    /// The port a declared probe checks: the one it names, else the first port of the protocol
    /// its check speaks (any port for a TCP check), else the first port.
    pub fn probe_target(&self, probe: &Probe) -> Option<&Port> {
        if !probe.port.value.is_empty() {
            return self.port(&probe.port.value);
        }
        let want = match probe.check {
            ProbeCheck::Grpc => Some(Protocol::Grpc),
            ProbeCheck::Http { .. } => Some(Protocol::Http),
            ProbeCheck::Tcp => None,
        };
        self.ports.iter().find(|p| want.is_none_or(|w| p.protocol == w)).or_else(|| self.primary_port())
    }
}

//! What the observability backend needs to know about one service and the environments a rule
//! file covers, read from the resolved model.

use crate::model::{Environment, ParamValue, Protocol, Provisioner, Service};
use crate::resolve::naming::{instance, placement, Placement};
use crate::resolve::{Resolved, ResolvedService};

use super::data::{camel, ObsData, ObservabilityError, ProtocolMetrics};

/// A ratio kept in millionths, so that objectives and budgets print exactly (`0.0005`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Micros(pub u64);

impl Micros {
    pub(crate) const ONE: u64 = 1_000_000;

    pub(crate) fn as_f64(self) -> f64 {
        self.0 as f64 / Self::ONE as f64
    }
}

impl std::fmt::Display for Micros {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whole = self.0 / Self::ONE;
        let frac = self.0 % Self::ONE;
        if frac == 0 {
            write!(f, "{whole}")
        } else {
            write!(f, "{whole}.{}", format!("{frac:06}").trim_end_matches('0'))
        }
    }
}

/// Milliseconds as seconds in the shortest exact decimal form (`300` -> `0.3`, `2000` -> `2`).
pub(crate) fn seconds(ms: u64) -> String {
    Micros(ms * 1000).to_string()
}

/// A duration in Prometheus' notation (`5m`, `1d`, `1h30m`).
pub(crate) fn prom_duration(ms: u64) -> String {
    crate::model::Duration(ms).to_string()
}

/// Escapes the regex metacharacters of a literal name.
pub(crate) fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A PromQL string literal (double-quoted, escaped).
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// One objective of a service's `slo`.
#[derive(Debug, Clone)]
pub(crate) struct SloSpec {
    /// `availability` or `latency`: the `slo` label.
    pub key: &'static str,
    /// `Availability` or `Latency`: in alert names.
    pub camel: &'static str,
    /// Human text of the objective: `99.95%`, `99% of requests within 300ms`.
    pub objective: String,
    /// 1 - objective.
    pub budget: Micros,
    pub window_ms: u64,
    /// Latency threshold in milliseconds (latency objectives only).
    pub threshold_ms: Option<u64>,
}

/// A service as the observability backend sees it.
#[derive(Debug, Clone)]
pub(crate) struct Svc<'a> {
    pub service: &'a Service,
    pub name: String,
    pub camel: String,
    pub owner: String,
    /// Protocol of the measured port ([`crate::resolve::roles::measured_port`]), with its
    /// metrics.
    pub protocol: Option<(Protocol, &'a ProtocolMetrics)>,
    /// Container names of every process (web, workers, cron jobs).
    pub containers: Vec<String>,
    /// Deployments (web and workers).
    pub deployments: Vec<String>,
    pub slos: Vec<SloSpec>,
    /// Name of the spec file, for headers.
    pub source: String,
}

impl<'a> Svc<'a> {
    pub(crate) fn new(rs: &'a ResolvedService, data: &'a ObsData) -> Result<Svc<'a>, ObservabilityError> {
        let s = &rs.spec;
        let name = rs.name.clone();
        let protocol = match rs.roles.measured.map(|k| &s.ports[k]) {
            Some(p) => {
                let key = p.protocol.as_str();
                let m = data
                    .settings
                    .protocols
                    .get(key)
                    .ok_or_else(|| ObservabilityError { file: data.settings_file.clone(), message: format!("protocols: no metrics for `{key}` (port {} of {name})", p.name.value) })?;
                Some((p.protocol, m))
            }
            None => None,
        };
        let (containers, deployments) = workloads(rs);
        let slos = match (&rs.slo, &protocol) {
            (Some(slo), Some(_)) => slo_specs(slo),
            _ => Vec::new(),
        };
        Ok(Svc { service: s, camel: camel(&name), owner: s.owner.as_ref().map(|o| o.value.clone()).unwrap_or_default(), name, protocol, containers, deployments, slos, source: rs.source.clone() })
    }

    pub(crate) fn latency_slo(&self) -> Option<&SloSpec> {
        self.slos.iter().find(|s| s.threshold_ms.is_some())
    }
}

/// Container names of every process (web, workers, cron jobs) and the Deployments (web and
/// workers), by their resolved workload names. Init containers are left out: kube-state-metrics
/// reports them under other metric names (`kube_pod_init_container_*`).
fn workloads(rs: &ResolvedService) -> (Vec<String>, Vec<String>) {
    use crate::model::ProcessKind;
    let mut containers = vec![rs.name.clone()];
    let mut deployments = vec![rs.name.clone()];
    for (pr, facts) in rs.spec.processes.iter().zip(&rs.processes) {
        match pr.kind {
            ProcessKind::Init { .. } => continue,
            ProcessKind::Worker { .. } => deployments.push(facts.workload.clone()),
            ProcessKind::Cron { .. } => {}
        }
        containers.push(facts.workload.clone());
    }
    (containers, deployments)
}

/// The objectives of an SLO over its resolved window; an objective of 100% (no error budget) is
/// left out.
fn slo_specs(slo: &crate::resolve::SloFacts) -> Vec<SloSpec> {
    let window_ms = slo.window.0;
    let mut slos = Vec::new();
    if let Some(a) = &slo.availability {
        // Percent is kept in 1/10000 of a percent: the same unit as millionths.
        let objective = a.value.0.min(Micros::ONE);
        slos.push(SloSpec { key: "availability", camel: "Availability", objective: a.value.to_string(), budget: Micros(Micros::ONE - objective), window_ms, threshold_ms: None });
    }
    if let Some(l) = &slo.latency {
        let p = u64::from(l.percentile.min(100));
        slos.push(SloSpec {
            key: "latency",
            camel: "Latency",
            objective: format!("{p}% of requests within {}", l.threshold.value),
            budget: Micros((100 - p) * 10_000),
            window_ms,
            threshold_ms: Some(l.threshold.value.0),
        });
    }
    slos.retain(|s| s.budget.0 > 0);
    slos
}
/// One environment covered by a rule file.
#[derive(Debug, Clone)]
pub(crate) struct EnvScope<'a> {
    pub env: &'a Environment,
    /// The provisioner of each of the service's resources here, in `uses` order.
    pub provisioners: &'a [Provisioner],
    pub autoscaling: bool,
    /// The instance name cloud resources are named after (`prod`, `preview-my-branch`);
    /// `None` for an ephemeral environment in the files for all environments (any branch).
    pub instance: Option<String>,
}

/// The environments one rule file (or dashboard) covers: all of them (the plain files under
/// `deploy/SERVICE/`) or one (the PrometheusRule and dashboard of one environment).
#[derive(Debug, Clone)]
pub(crate) struct Scope<'a> {
    /// `None` for the files covering every environment.
    pub environment: Option<String>,
    /// Namespace matcher of every selector: `namespace="acme-prod"` or `namespace=~"..."`.
    pub ns_matcher: String,
    /// Regex of the namespaces (for the dashboard's namespace variable).
    pub ns_regex: String,
    /// The namespace the generated unit tests put their series in.
    pub test_namespace: String,
    pub envs: Vec<EnvScope<'a>>,
}

impl<'a> Scope<'a> {
    /// Every environment of platform.kdl. Ephemeral ones (previews) match any branch.
    pub(crate) fn all(model: &'a Resolved, rs: &'a ResolvedService) -> Scope<'a> {
        let p = &model.platform;
        let mut patterns = Vec::new();
        let mut envs = Vec::new();
        let mut test_namespace = None;
        for env in p.environments.values() {
            let base = placement(p, env, None).namespace;
            if env.ttl.is_some() {
                patterns.push(format!("{}-.+", regex_escape(&base)));
            } else {
                patterns.push(regex_escape(&base));
                test_namespace.get_or_insert(base);
            }
            let facts = &rs.envs[&env.name.value];
            let instance = env.ttl.is_none().then(|| env.name.value.clone());
            envs.push(EnvScope { env, provisioners: &facts.provisioners, autoscaling: facts.autoscaling, instance });
        }
        let ns_regex = patterns.join("|");
        let test_namespace = test_namespace.unwrap_or_else(|| format!("{}-test", p.name.value));
        Scope { environment: None, ns_matcher: format!("namespace=~{}", quote(&ns_regex)), ns_regex, test_namespace, envs }
    }

    /// One placement, as built.
    pub(crate) fn one(model: &'a Resolved, rs: &'a ResolvedService, pl: &Placement) -> Scope<'a> {
        let facts = &rs.envs[&pl.env];
        Scope {
            environment: Some(pl.env.clone()),
            ns_matcher: format!("namespace={}", quote(&pl.namespace)),
            ns_regex: regex_escape(&pl.namespace),
            test_namespace: pl.namespace.clone(),
            envs: vec![EnvScope { env: model.environment(pl), provisioners: &facts.provisioners, autoscaling: facts.autoscaling, instance: Some(instance(pl)) }],
        }
    }

    pub(crate) fn autoscaling(&self) -> bool {
        self.envs.iter().any(|e| e.autoscaling)
    }
}

/// A resource parameter as text.
pub(crate) fn param_text(v: &ParamValue) -> String {
    match v {
        ParamValue::String(s) => s.clone(),
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Memory(m) => m.to_string(),
        ParamValue::Duration(d) => d.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promql_strings_escape_backslashes_and_quotes() {
        assert_eq!(quote("svc-1"), "\"svc-1\"");
        assert_eq!(quote(r#"a\b"c"#), r#""a\\b\"c""#);
        assert_eq!(quote("é"), "\"é\"");
    }

    #[test]
    fn exact_numbers() {
        assert_eq!(Micros(500).to_string(), "0.0005");
        assert_eq!(Micros(10_000).to_string(), "0.01");
        assert_eq!(Micros(999_500).to_string(), "0.9995");
        assert_eq!(Micros(1_000_000).to_string(), "1");
        assert_eq!(seconds(300), "0.3");
        assert_eq!(seconds(1500), "1.5");
        assert_eq!(seconds(2000), "2");
        assert_eq!(seconds(50), "0.05");
        assert_eq!(prom_duration(259_200_000), "3d");
        assert_eq!(regex_escape("a.b-c"), "a\\.b-c");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}

//! Observability: Prometheus rules (SLO recording rules, multi-window multi-burn-rate alerts,
//! baseline and backing-resource alerts, the spec's own alerts), generated promtool unit tests
//! that prove each burn-rate alert fires at its rate and stays silent below it, and a Grafana
//! dashboard per service. See docs/observability.md.
//!
//! Per service, [`emit`] gives:
//!
//! - the files covering every environment, written under `deploy/`:
//!   `SERVICE/alerts/rules.yaml` (a plain Prometheus rule file), `SERVICE/alerts/rules.test.yaml`
//!   (its unit tests) and `SERVICE/dashboards/SERVICE.json`;
//! - the same artifacts per environment built, as data ([`Artifacts`]): rule groups whose
//!   selectors name the environment's namespace and whose alerts carry its `environment` label,
//!   for the PrometheusRule of that environment, and a dashboard preset to that namespace, for
//!   the ConfigMap the Grafana sidecar loads (label [`DASHBOARD_LABEL`]).
//!
//! Everything a platform engineer may want to change (metric names, thresholds, burn-rate
//! tiers, labels, the dashboard's panels) is data in the stdlib under `observability/`.

mod context;
mod dashboard;
mod data;
mod promtest;
pub mod rule_file;
mod rules;
mod template;

use indexmap::IndexMap;
use serde_json::Value as Json;

pub use data::{ObsData, ObservabilityError};

use crate::emit::Output;
use crate::resolve::{Placement, Resolved, ResolvedService};
use crate::stdlib::Stdlib;

use context::{Scope, Svc};
use rule_file::{RuleFile, RuleGroup};

/// The label the Grafana sidecar selects dashboard ConfigMaps by.
pub const DASHBOARD_LABEL: (&str, &str) = ("grafana_dashboard", "1");
/// File name of the rule file, beside its unit tests.
pub const RULES_FILE: &str = "rules.yaml";
/// File name of the unit tests (`promtool test rules rules.test.yaml`, run in its directory).
pub const RULES_TEST_FILE: &str = "rules.test.yaml";

/// `SERVICE/alerts/rules.yaml`, relative to `deploy/`.
pub fn rules_path(service: &str) -> String {
    format!("{service}/alerts/{RULES_FILE}")
}

/// `SERVICE/alerts/rules.test.yaml`, relative to `deploy/`.
pub fn rules_test_path(service: &str) -> String {
    format!("{service}/alerts/{RULES_TEST_FILE}")
}

/// `SERVICE/dashboards/SERVICE.json`, relative to `deploy/`.
pub fn dashboard_path(service: &str) -> String {
    format!("{service}/dashboards/{}", dashboard_file_name(service))
}

/// The dashboard's file name, also its key in the ConfigMap.
pub fn dashboard_file_name(service: &str) -> String {
    format!("{service}.json")
}

/// Rules, unit tests and dashboard of one service for one set of environments.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifacts {
    /// `None` for the files covering every environment.
    pub environment: Option<String>,
    /// The namespace of the environment (`None` for every environment).
    pub namespace: Option<String>,
    /// The `groups:` list: a rule file's content and a PrometheusRule's `spec.groups`.
    pub rule_groups: Vec<RuleGroup>,
    /// promtool unit tests of `rule_groups` (`rule_files: [rules.yaml]`); null where they are
    /// not needed (see [`service_for_build`]).
    pub unit_tests: Json,
    /// The Grafana dashboard model.
    pub dashboard: Json,
}

impl Artifacts {
    /// `spec` of a PrometheusRule holding these rules.
    pub fn prometheus_rule_spec(&self) -> RuleFile<'_> {
        RuleFile { groups: &self.rule_groups }
    }

    /// The dashboard as Grafana imports it (pretty JSON ending with a newline), for a file or a
    /// ConfigMap's data value.
    pub fn dashboard_json(&self) -> String {
        pretty_json(&self.dashboard)
    }

    /// Names of the alerts, in file order.
    pub fn alert_names(&self) -> Vec<String> {
        self.rule_groups.iter().flat_map(|g| &g.rules).filter_map(|r| r.alert_name()).map(str::to_string).collect()
    }
}

/// Observability of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceObservability {
    /// The service name.
    pub service: String,
    /// Covering every environment of platform.kdl: the files under `deploy/SERVICE/`.
    pub all: Artifacts,
    /// Per environment built, in plan order: for the PrometheusRule and dashboard ConfigMap of
    /// each environment's manifests.
    pub envs: IndexMap<String, Artifacts>,
    /// The spec file, for headers.
    pub source: String,
}

impl ServiceObservability {
    /// The files of the service, paths relative to `deploy/`.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let head = crate::emit::header(&self.source);
        let rules = crate::emit::yaml::document(&head, &self.all.prometheus_rule_spec());
        let test_head = format!("{head}\nUnit tests of {RULES_FILE}: run `promtool test rules {RULES_TEST_FILE}` in this directory.\nSee docs/observability.md for how the scenarios are chosen.");
        let tests = crate::emit::yaml::document(&test_head, &self.all.unit_tests);
        vec![(rules_path(&self.service), rules.into_bytes()), (rules_test_path(&self.service), tests.into_bytes()), (dashboard_path(&self.service), self.all.dashboard_json().into_bytes())]
    }
}

/// Observability of every service.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observability {
    /// One per service, in `Resolved::services` order.
    pub services: Vec<ServiceObservability>,
}

impl Observability {
    /// Every file, paths relative to `deploy/`.
    pub fn output(&self) -> Output {
        let mut out = Output::default();
        // Serialising rules, tests and dashboards: all cores, added in order.
        for (p, b) in crate::par::map_chunks(&self.services, |chunk| chunk.iter().flat_map(|s| s.files()).collect::<Vec<_>>()).into_iter().flatten() {
            out.add(p, b);
        }
        out
    }

    /// The observability of service `name`; `None` for a name not in `services`.
    pub fn service(&self, name: &str) -> Option<&ServiceObservability> {
        self.services.iter().find(|s| s.service == name)
    }
}

/// Rules, unit tests and dashboards of every service, or every problem in the stdlib
/// observability data (a usage problem of the overlay, like other overlay errors).
pub fn emit(model: &Resolved, stdlib: &Stdlib) -> Result<Observability, Vec<ObservabilityError>> {
    let data = ObsData::load(stdlib)?;
    // Services are independent: all cores, results in service order.
    let results = crate::par::map_chunks(&model.services, |chunk| chunk.iter().map(|rs| service(model, &data, rs)).collect::<Vec<_>>());
    let mut services = Vec::new();
    let mut errors = Vec::new();
    for result in results.into_iter().flatten() {
        match result {
            Ok(o) => services.push(o),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(Observability { services })
    } else {
        errors.dedup();
        Err(errors)
    }
}

/// Reads and checks the stdlib's observability data, once per build.
pub fn load(stdlib: &Stdlib) -> Result<ObsData, Vec<ObservabilityError>> {
    ObsData::load(stdlib)
}

/// Rules, unit tests and dashboards of one service: every placement's and the files covering
/// all of them. Each placement's rules come with their own unit tests (for platc's tests; the
/// build writes only the tests of the files covering every environment).
pub fn service(model: &Resolved, data: &ObsData, rs: &ResolvedService) -> Result<ServiceObservability, ObservabilityError> {
    service_with(model, data, rs, true)
}

/// [`service`] as `platc build` needs it, service by service (so that these large trees live
/// only while their service is emitted): no unit tests per environment, which are not written.
pub fn service_for_build(model: &Resolved, data: &ObsData, rs: &ResolvedService) -> Result<ServiceObservability, ObservabilityError> {
    service_with(model, data, rs, false)
}

fn service_with(model: &Resolved, data: &ObsData, rs: &ResolvedService, env_tests: bool) -> Result<ServiceObservability, ObservabilityError> {
    let svc = Svc::new(rs, data)?;
    let all = artifacts(model, data, &svc, &Scope::all(model, rs), None, Made { rules: true, tests: true, dashboard: true })?;
    let envs = per_environment(model, data, &svc, rs, Made { rules: true, tests: env_tests, dashboard: true })?;
    Ok(ServiceObservability { service: rs.name.clone(), all, envs, source: rs.source.clone() })
}

/// Each placement's rules and dashboard of one service, as far as `made` asks for them: what
/// its rendered manifests need (PrometheusRule, dashboard ConfigMap), for `platc render`.
pub fn environments(model: &Resolved, data: &ObsData, rs: &ResolvedService, made: Made) -> Result<IndexMap<String, Artifacts>, ObservabilityError> {
    let svc = Svc::new(rs, data)?;
    per_environment(model, data, &svc, rs, made)
}

/// Which artifacts [`artifacts`] makes (what it does not is empty or null): `platc render
/// --kind Deployment` needs neither rules nor dashboard, a fifth and a quarter of the work.
#[derive(Debug, Clone, Copy)]
pub struct Made {
    /// The rule groups (for the PrometheusRule); none without, unless `tests` needs them.
    pub rules: bool,
    /// promtool unit tests of the rules; null without.
    pub tests: bool,
    /// The dashboard; null without.
    pub dashboard: bool,
}

fn per_environment(model: &Resolved, data: &ObsData, svc: &Svc, rs: &ResolvedService, made: Made) -> Result<IndexMap<String, Artifacts>, ObservabilityError> {
    let mut envs = IndexMap::new();
    for pl in &model.placements {
        envs.insert(pl.env.clone(), artifacts(model, data, svc, &Scope::one(model, rs, pl), Some(pl.namespace.clone()), made)?);
    }
    Ok(envs)
}

/// The artifacts of a service for one placement that the build may not cover (the base
/// environment of values.yaml, which must not depend on `--env`); no unit tests.
pub fn environment(model: &Resolved, data: &ObsData, rs: &ResolvedService, pl: &Placement) -> Result<Artifacts, ObservabilityError> {
    let svc = Svc::new(rs, data)?;
    artifacts(model, data, &svc, &Scope::one(model, rs, pl), Some(pl.namespace.clone()), Made { rules: true, tests: false, dashboard: true })
}

/// What `made` asks for of the rules, their promtool unit tests and the dashboard, for one
/// scope.
fn artifacts(model: &Resolved, data: &ObsData, svc: &Svc, scope: &Scope, namespace: Option<String>, made: Made) -> Result<Artifacts, ObservabilityError> {
    let rules = if made.rules || made.tests { rules::rule_set(model, data, svc, scope, made.tests)? } else { rules::RuleSet { groups: Vec::new(), slo_alerts: Vec::new() } };
    let unit_tests = if made.tests { promtest::test_file(data, svc, scope, &rules, RULES_FILE)? } else { Json::Null };
    let dashboard = if made.dashboard { dashboard::dashboard(model, data, svc, scope)? } else { Json::Null };
    Ok(Artifacts { environment: scope.environment.clone(), namespace, rule_groups: rules.groups, unit_tests, dashboard })
}

/// The first line of the generated-file header, for places without comments (JSON).
fn header_line(source: &str) -> String {
    crate::emit::header(source).lines().next().unwrap_or_default().trim_end_matches(['.', ':']).to_string() + "."
}

/// JSON with two-space indentation and a final newline.
fn pretty_json(v: &Json) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

//! The observability data a platform engineer edits, read from the stdlib (and its overlays):
//! `observability/settings.yaml` (metrics contract, alert labels, runbook link),
//! `observability/slo.yaml` (burn-rate tiers and unit-test parameters),
//! `observability/alerts.yaml` (baseline and resource alerts) and
//! `observability/dashboard.yaml` (the dashboard's rows and panels).
//!
//! Files are YAML. Placeholders are written `<name>` and filled in string values after parsing,
//! so a value can never change the structure of a generated rule file or dashboard. An unknown
//! placeholder is an error (a typo would otherwise become a regex that matches nothing).

use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::stdlib::Stdlib;

pub(crate) const SETTINGS_FILE: &str = "observability/settings.yaml";
pub(crate) const SLO_FILE: &str = "observability/slo.yaml";
pub(crate) const ALERTS_FILE: &str = "observability/alerts.yaml";
pub(crate) const DASHBOARD_FILE: &str = "observability/dashboard.yaml";

/// Alert severities, most urgent first (the same words as `alert ... severity=` in service.kdl).
pub(crate) const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

/// A problem with observability data in the stdlib or an overlay (a broken overlay, not a
/// broken spec).
pub use crate::emit::backend::DataProblem as ObservabilityError;

/// `observability/settings.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Settings {
    pub service_label: String,
    pub alert_labels: IndexMap<String, String>,
    pub runbook_url: String,
    pub protocols: IndexMap<String, ProtocolMetrics>,
}

/// Request metrics of one port protocol.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ProtocolMetrics {
    pub requests: String,
    pub errors: String,
    pub code_label: String,
    pub error_example: IndexMap<String, String>,
    pub ok_example: IndexMap<String, String>,
    pub duration: String,
    /// The unit of the duration histogram's observations and bucket bounds (`le`).
    #[serde(default)]
    pub duration_unit: DurationUnit,
}

/// The unit a duration histogram records in: seconds (Prometheus' convention and OpenTelemetry's
/// `http.server.request.duration`) or milliseconds (OpenTelemetry's older `rpc.server.duration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DurationUnit {
    /// `le="0.3"` for 300 ms.
    #[default]
    Seconds,
    /// `le="300"` for 300 ms.
    Milliseconds,
}

/// `observability/slo.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SloData {
    pub record: String,
    pub tiers: Vec<Tier>,
    pub unit_tests: UnitTests,
}

/// One burn-rate alert per objective: paging or ticket.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Tier {
    pub alert: String,
    pub severity: String,
    #[serde(rename = "for")]
    pub for_: String,
    pub windows: Vec<WindowPair>,
    pub summary: String,
    pub description: String,
    pub test_interval: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WindowPair {
    pub long: String,
    pub short: String,
    pub factor: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct UnitTests {
    pub evaluation_interval: String,
    pub fire_at: f64,
    pub silent_at: f64,
    pub requests_per_minute: u64,
}

/// `observability/alerts.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AlertsData {
    pub baseline: Vec<AlertTemplate>,
    #[serde(default)]
    pub resources: IndexMap<String, ResourceAlerts>,
}

/// When an alert, a row, a panel or a query applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    Traffic,
    Autoscaling,
    Slo,
    LatencySlo,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AlertTemplate {
    pub alert: String,
    pub severity: String,
    #[serde(rename = "for", default)]
    pub for_: Option<String>,
    #[serde(default)]
    pub when: Vec<Condition>,
    #[serde(default)]
    pub labels: IndexMap<String, String>,
    pub expr: String,
    pub summary: String,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ResourceAlerts {
    pub provisioners: Vec<String>,
    #[serde(default)]
    pub cloud_name: Option<String>,
    #[serde(default)]
    pub dead_letter_name: Option<String>,
    /// Longer names are shortened with a hash, as the Terraform templates do.
    #[serde(default = "default_name_max")]
    pub name_max: usize,
    pub alerts: Vec<AlertTemplate>,
}

fn default_name_max() -> usize {
    63
}

/// `observability/dashboard.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DashboardData {
    pub title: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub refresh: String,
    pub time: TimeRange,
    pub schema_version: u32,
    pub namespace_query: String,
    pub rows: Vec<RowData>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RowData {
    pub title: String,
    #[serde(default)]
    pub per_slo: bool,
    #[serde(default)]
    pub when: Vec<Condition>,
    pub panels: Vec<PanelData>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PanelData {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(default)]
    pub unit: Option<String>,
    pub width: u32,
    pub height: u32,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub decimals: Option<u32>,
    #[serde(default)]
    pub thresholds: Option<Vec<Threshold>>,
    #[serde(default)]
    pub options: Option<Json>,
    #[serde(default)]
    pub custom: Option<Json>,
    #[serde(default)]
    pub when: Vec<Condition>,
    pub queries: Vec<QueryData>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub value: Option<f64>,
    pub color: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForEach {
    /// One query per long window of the burn-rate tiers.
    BurnWindow,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct QueryData {
    pub expr: String,
    #[serde(default)]
    pub legend: Option<String>,
    #[serde(default)]
    pub when: Vec<Condition>,
    #[serde(default)]
    pub for_each: Option<ForEach>,
}

/// A tier with its durations parsed (milliseconds).
#[derive(Debug, Clone)]
pub struct TierSpec {
    pub alert: String,
    pub severity: String,
    pub for_ms: u64,
    pub pairs: Vec<PairSpec>,
    pub summary: String,
    pub description: String,
    pub test_interval_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairSpec {
    pub long_ms: u64,
    pub short_ms: u64,
    pub factor: f64,
}

/// Everything one generation needs, checked.
#[derive(Debug, Clone)]
pub struct ObsData {
    /// `observability/settings.yaml`: metrics contract, alert labels, runbook link.
    pub settings: Settings,
    /// Where `settings` was read from, as problems name it (the overlay's path, if any).
    pub settings_file: String,
    /// `observability/slo.yaml`: burn-rate tiers and unit-test parameters.
    pub slo: SloData,
    /// Where `slo` was read from, as problems name it.
    pub slo_file: String,
    /// The burn-rate tiers of `slo`, their durations parsed and checked.
    pub tiers: Vec<TierSpec>,
    /// The unit tests' evaluation interval, in milliseconds (`slo`'s
    /// `unit-tests.evaluation-interval`).
    pub eval_interval_ms: u64,
    /// `observability/alerts.yaml`: baseline and resource alerts.
    pub alerts: AlertsData,
    /// Where `alerts` was read from, as problems name it.
    pub alerts_file: String,
    /// `observability/dashboard.yaml`: the dashboard's rows and panels.
    pub dashboard: DashboardData,
    /// Where `dashboard` was read from, as problems name it.
    pub dashboard_file: String,
    /// Unit-test scenarios already searched, shared by every service (see [`super::promtest::CaseCache`]).
    pub cases: super::promtest::CaseCache,
    /// Every long and short window of the tiers, shortest first: each service has a recording
    /// rule per window, and the alerts name them.
    pub windows: Vec<Window>,
}

/// A window of the burn-rate tiers, its texts made once for every service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub ms: u64,
    /// As Prometheus writes it (`5m`, `1h`).
    pub duration: String,
    /// Its recording rule (`slo:sli_error:ratio_rate5m`).
    pub record: String,
}

/// The windows of `tiers`, shortest first, each once.
fn tier_windows(tiers: &[TierSpec], record: &str) -> Vec<Window> {
    let mut all: Vec<u64> = tiers.iter().flat_map(|t| t.pairs.iter().flat_map(|p| [p.long_ms, p.short_ms])).collect();
    all.sort_unstable();
    all.dedup();
    all.into_iter()
        .map(|ms| {
            let duration = super::context::prom_duration(ms);
            Window { ms, record: record.replace("<window>", &duration), duration }
        })
        .collect()
}

impl ObsData {
    /// Reads and checks the four files. Every problem of every file is reported at once (a
    /// broken overlay is fixed in one go), but only after all four have parsed.
    pub fn load(stdlib: &Stdlib) -> Result<ObsData, Vec<ObservabilityError>> {
        let mut errors = Vec::new();
        let settings: Option<Settings> = read_typed(stdlib, SETTINGS_FILE, &mut errors);
        let slo: Option<SloData> = read_typed(stdlib, SLO_FILE, &mut errors);
        let alerts: Option<AlertsData> = read_typed(stdlib, ALERTS_FILE, &mut errors);
        let dashboard: Option<DashboardData> = read_typed(stdlib, DASHBOARD_FILE, &mut errors);
        let (Some(settings), Some(slo), Some(alerts), Some(dashboard)) = (settings, slo, alerts, dashboard) else {
            return Err(errors);
        };
        let (settings_file, slo_file, alerts_file, dashboard_file) = (display(stdlib, SETTINGS_FILE), display(stdlib, SLO_FILE), display(stdlib, ALERTS_FILE), display(stdlib, DASHBOARD_FILE));
        let mut report = |file: &str, messages: Vec<String>| errors.extend(messages.into_iter().map(|message| ObservabilityError { file: file.to_string(), message }));
        report(&settings_file, settings_problems(&settings));
        let mut slo_problems = Vec::new();
        let eval_interval_ms = unit_tests(&slo, &mut slo_problems);
        let tiers: Vec<TierSpec> = slo.tiers.iter().enumerate().map(|(i, t)| tier(i, t, eval_interval_ms, &mut slo_problems)).collect();
        report(&slo_file, slo_problems);
        report(&alerts_file, alerts_problems(&alerts));
        report(&dashboard_file, dashboard_problems(&dashboard));
        if !errors.is_empty() {
            return Err(errors);
        }
        let windows = tier_windows(&tiers, &slo.record);
        Ok(ObsData { settings, settings_file, slo, slo_file, tiers, eval_interval_ms, alerts, alerts_file, dashboard, dashboard_file, cases: Default::default(), windows })
    }
}

/// What is wrong with settings.yaml: names that generated selectors and rules would use but
/// Prometheus would not accept as label or metric names.
fn settings_problems(settings: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    if !is_label_name(&settings.service_label) {
        out.push(format!("service-label: `{}` is not a Prometheus label name", settings.service_label));
    }
    for (name, _) in &settings.alert_labels {
        if !is_label_name(name) {
            out.push(format!("alert-labels: `{name}` is not a Prometheus label name"));
        }
    }
    for (proto, m) in &settings.protocols {
        if !is_label_name(&m.code_label) {
            out.push(format!("protocols.{proto}.code-label: `{}` is not a Prometheus label name", m.code_label));
        }
        for (what, v) in [("requests", &m.requests), ("duration", &m.duration)] {
            if !is_metric_name(v) {
                out.push(format!("protocols.{proto}.{what}: `{v}` is not a Prometheus metric name"));
            }
        }
    }
    out
}

/// The unit tests' evaluation interval (a minute when it is not a duration, so that the tiers
/// are still checked), and what is wrong with the other unit-test parameters and the record
/// name: values with which the generated tests could not tell firing from silent.
fn unit_tests(slo: &SloData, problems: &mut Vec<String>) -> u64 {
    let eval_interval_ms = match parse_duration(&slo.unit_tests.evaluation_interval) {
        Some(d) if d > 0 => d,
        _ => {
            problems.push(format!("unit-tests.evaluation-interval: `{}` is not a duration", slo.unit_tests.evaluation_interval));
            60_000
        }
    };
    let ut = &slo.unit_tests;
    let fire_ok = ut.fire_at > 1.0 && ut.fire_at.is_finite();
    let silent_ok = ut.silent_at > 0.0 && ut.silent_at < 1.0;
    if !fire_ok || !silent_ok {
        problems.push(format!("unit-tests: fire-at must be above 1 and silent-at between 0 and 1 (got {} and {})", ut.fire_at, ut.silent_at));
    }
    if ut.requests_per_minute < 1000 {
        problems.push("unit-tests.requests-per-minute must be at least 1000".into());
    }
    if !slo.record.contains("<window>") || !is_metric_name(&slo.record.replace("<window>", "5m")) {
        problems.push(format!("record: `{}` must be a metric name containing <window>", slo.record));
    }
    eval_interval_ms
}

/// `what` of tier `at` in milliseconds; 0 (with a problem) when it is not a duration, so that
/// the rest of the tier is still checked.
fn duration_of(at: &str, what: &str, s: &str, problems: &mut Vec<String>) -> u64 {
    parse_duration(s).unwrap_or_else(|| {
        problems.push(format!("{at}: {what} `{s}` is not a duration"));
        0
    })
}

/// Tier `i` with its durations parsed, and what is wrong with it: what would make its alert
/// unable to fire, or its unit tests unable to run on the evaluation interval's grid.
fn tier(i: usize, t: &Tier, eval_interval_ms: u64, problems: &mut Vec<String>) -> TierSpec {
    let at = format!("tiers[{i}] ({})", t.alert);
    let for_ms = duration_of(&at, "for", &t.for_, problems);
    let test_interval_ms = duration_of(&at, "test-interval", &t.test_interval, problems);
    let pairs = window_pairs(&at, &t.windows, problems);
    if pairs.is_empty() {
        problems.push(format!("{at}: no windows"));
    }
    if !SEVERITIES.contains(&t.severity.as_str()) {
        problems.push(format!("{at}: severity `{}` is not one of {}", t.severity, SEVERITIES.join(", ")));
    }
    if test_interval_ms > 0 {
        let divides = |d: u64| d % test_interval_ms == 0;
        if !divides(eval_interval_ms) || !pairs.iter().all(|p| divides(p.long_ms) && divides(p.short_ms)) {
            problems.push(format!("{at}: test-interval {} must divide unit-tests.evaluation-interval and every window", t.test_interval));
        }
    }
    for (what, text) in [("summary", &t.summary), ("description", &t.description)] {
        if let Some(bad) = non_label_template(text) {
            problems.push(format!("{at}: {what} uses the template `{bad}`; SLO alert annotations may only use {{{{ $labels.NAME }}}} (the unit tests expand them)"));
        }
    }
    TierSpec { alert: t.alert.clone(), severity: t.severity.clone(), for_ms, pairs, summary: t.summary.clone(), description: t.description.clone(), test_interval_ms: test_interval_ms.max(1) }
}

/// The window pairs of tier `at`: a long window longer than the short one (else the pair
/// adds nothing to it) and a positive factor.
fn window_pairs(at: &str, windows: &[WindowPair], problems: &mut Vec<String>) -> Vec<PairSpec> {
    let mut pairs = Vec::new();
    for w in windows {
        let long_ms = duration_of(at, "long", &w.long, problems);
        let short_ms = duration_of(at, "short", &w.short, problems);
        if long_ms <= short_ms {
            problems.push(format!("{at}: the long window {} must be longer than the short one {}", w.long, w.short));
        }
        if w.factor <= 0.0 || !w.factor.is_finite() {
            problems.push(format!("{at}: factor {} must be a positive number", w.factor));
        }
        pairs.push(PairSpec { long_ms, short_ms, factor: w.factor });
    }
    pairs
}

/// What is wrong with alerts.yaml: severities and durations Alertmanager routes and Prometheus
/// read, and provisioners platc does not know (their alerts would never apply).
fn alerts_problems(alerts: &AlertsData) -> Vec<String> {
    let mut out = Vec::new();
    let all_templates = alerts.baseline.iter().map(|a| ("baseline".to_string(), a)).chain(alerts.resources.iter().flat_map(|(ty, r)| r.alerts.iter().map(move |a| (format!("resources.{ty}"), a))));
    for (section, a) in all_templates {
        if !SEVERITIES.contains(&a.severity.as_str()) {
            out.push(format!("{section}: {}: severity `{}` is not one of {}", a.alert, a.severity, SEVERITIES.join(", ")));
        }
        if let Some(f) = &a.for_ {
            if parse_duration(f).is_none() {
                out.push(format!("{section}: {}: for `{f}` is not a duration", a.alert));
            }
        }
    }
    for (ty, r) in &alerts.resources {
        for p in &r.provisioners {
            if !crate::model::Provisioner::ALL.iter().any(|(n, _)| n == p) {
                out.push(format!("resources.{ty}: unknown provisioner `{p}` (known: aws, in-cluster)"));
            }
        }
    }
    out
}

/// What is wrong with dashboard.yaml: panels that do not fit Grafana's 24-column grid, or show
/// nothing.
fn dashboard_problems(dashboard: &DashboardData) -> Vec<String> {
    let mut out = Vec::new();
    for row in &dashboard.rows {
        for p in &row.panels {
            if p.width == 0 || p.width > 24 || p.height == 0 {
                out.push(format!("row `{}`, panel `{}`: width must be 1-24 and height above 0", row.title, p.title));
            }
            if p.queries.is_empty() {
                out.push(format!("row `{}`, panel `{}`: no queries", row.title, p.title));
            }
        }
    }
    out
}

fn display(stdlib: &Stdlib, path: &str) -> String {
    stdlib.get(path).map(|f| f.display.clone()).unwrap_or_else(|| format!("<stdlib>/{path}"))
}

fn read_typed<T: DeserializeOwned>(stdlib: &Stdlib, path: &str, errors: &mut Vec<ObservabilityError>) -> Option<T> {
    let Some(file) = stdlib.get(path) else {
        errors.push(ObservabilityError { file: format!("<stdlib>/{path}"), message: "missing".into() });
        return None;
    };
    let json = match serde_saphyr::from_str::<Json>(&file.text) {
        Ok(v) => v,
        Err(e) => {
            errors.push(ObservabilityError { file: file.display.clone(), message: format!("not valid YAML: {e}") });
            return None;
        }
    };
    match serde_json::from_value(json) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(ObservabilityError { file: file.display.clone(), message: e.to_string() });
            None
        }
    }
}

/// A Prometheus duration (`90s`, `5m`, `1h30m`, `3d`, `1w`, `250ms`) in milliseconds.
pub(crate) fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = [("ms", 1u64), ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
            .iter()
            .find(|(u, _)| rest.starts_with(u))
            .map(|(u, ms)| (*ms, u.len()))?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        rest = &rest[len..];
    }
    Some(total)
}

/// A Prometheus label name.
pub(crate) fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A Prometheus metric name (recording rules may use colons).
pub(crate) fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The first Go template in `text` that is not `{{ $labels.NAME }}`.
pub(crate) fn non_label_template(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let end = after.find("}}")?;
        let inner = after[..end].trim();
        let ok = inner.strip_prefix("$labels.").is_some_and(is_label_name);
        if !ok {
            return Some(format!("{{{{{}}}}}", &after[..end]));
        }
        rest = &after[end + 2..];
    }
    None
}

/// Expands `{{ $labels.NAME }}` templates the way Prometheus does for these simple cases (a
/// missing label expands to the empty string).
pub(crate) fn expand_labels(text: &str, labels: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        match after[..end].trim().strip_prefix("$labels.") {
            Some(name) => out.push_str(labels.get(name).map(String::as_str).unwrap_or("")),
            None => out.push_str(&rest[i..i + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// `checkout-api` -> `CheckoutApi`.
pub(crate) fn camel(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// An alert name following Prometheus conventions: CamelCase, letters and digits.
pub(crate) fn is_camel_case(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_data_loads() {
        let d = ObsData::load(&Stdlib::builtin()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(d.tiers.len(), 2);
        assert_eq!(d.tiers[0].pairs[0], PairSpec { long_ms: 3_600_000, short_ms: 300_000, factor: 14.4 });
        assert!(d.settings.protocols.contains_key("http") && d.settings.protocols.contains_key("grpc"));
    }

    #[test]
    fn durations() {
        for (text, ms) in [("5m", Some(300_000)), ("1h30m", Some(5_400_000)), ("3d", Some(259_200_000)), ("250ms", Some(250)), ("5", None), ("m", None)] {
            assert_eq!(parse_duration(text), ms, "{text}");
        }
    }

    #[test]
    fn templates() {
        assert_eq!(non_label_template("a {{ $labels.namespace }} b"), None);
        assert_eq!(non_label_template("a {{ $value }}").as_deref(), Some("{{ $value }}"));
        let labels = [("namespace".to_string(), "prod".to_string())].into_iter().collect();
        assert_eq!(expand_labels("in {{ $labels.namespace }}{{$labels.pod}}.", &labels), "in prod.");
    }

    #[test]
    fn names() {
        assert_eq!(camel("checkout"), "Checkout");
        assert_eq!(camel("order-consumer"), "OrderConsumer");
        assert!(is_camel_case("CheckoutAvailabilityFastBurn"));
        assert!(!is_camel_case("checkout_down"));
    }
}

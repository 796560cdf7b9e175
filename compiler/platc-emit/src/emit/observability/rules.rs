//! Prometheus rule groups of one service in one scope: SLO recording rules and burn-rate alerts,
//! baseline alerts, backing-resource alerts and the spec's own `alert` entries.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::context::{param_text, prom_duration, quote, regex_escape, seconds, Scope, SloSpec, Svc};
use super::data::{is_camel_case, AlertTemplate, Condition, DurationUnit, ObsData, ObservabilityError, PairSpec, TierSpec};
use super::rule_file::{Labels, Rule, RuleGroup, Text};
use super::template::{fill, fill_from};
use crate::resolve::Resolved;

/// A generated burn-rate alert, as the unit-test generator needs it.
#[derive(Debug, Clone)]
pub(crate) struct SloAlert {
    pub name: String,
    /// Index into `Svc::slos`.
    pub slo: usize,
    /// Index into `ObsData::tiers`.
    pub tier: usize,
    /// The tier's window pairs this objective can reach (factor x budget below 1).
    pub pairs: Vec<PairSpec>,
    /// Labels of the rule (severity, owner, service, slo, ...).
    pub labels: BTreeMap<String, String>,
    /// Annotations with `{{ $labels.NAME }}` not yet expanded.
    pub annotations: BTreeMap<String, String>,
}

/// The rule groups of one service in one scope.
#[derive(Debug, Clone)]
pub(crate) struct RuleSet {
    /// The `groups:` list of a Prometheus rule file.
    pub groups: Vec<RuleGroup>,
    pub slo_alerts: Vec<SloAlert>,
}

/// Placeholders shared by alert templates and dashboards; `ns` is the namespace matcher.
pub(crate) fn common_vars(model: &Resolved, data: &ObsData, svc: &Svc, scope: &Scope, ns: &str) -> Vec<(&'static str, String)> {
    let label = &data.settings.service_label;
    let svc_m = format!("{label}={}", quote(&svc.name));
    let alternation = |names: &[String]| names.iter().map(|n| regex_escape(n)).collect::<Vec<_>>().join("|");
    let mut vars = vec![
        ("service", svc.name.clone()),
        ("Service", svc.camel.clone()),
        ("owner", svc.owner.clone()),
        ("environment", scope.environment.clone().unwrap_or_default()),
        ("platform", model.platform.name.value.clone()),
        ("ns", ns.to_string()),
        ("containers", alternation(&svc.containers)),
        ("deployments", alternation(&svc.deployments)),
        ("hpa", svc.name.clone()),
    ];
    if let Some((_, m)) = svc.protocol {
        vars.push(("requests", selector(&m.requests, &[&svc_m, ns])));
        vars.push(("errors", selector(&m.requests, &[&svc_m, ns, &m.errors])));
        vars.push(("duration_bucket", selector(&format!("{}_bucket", m.duration), &[&svc_m, ns])));
        vars.push(("code_label", m.code_label.clone()));
        // Dashboards show request durations in seconds, whatever unit the histogram records.
        vars.push(("to_seconds", if m.duration_unit == DurationUnit::Milliseconds { " / 1000" } else { "" }.to_string()));
        if let Some(l) = svc.latency_slo() {
            let le = le_matcher(l.threshold_ms.unwrap_or(0), m.duration_unit);
            vars.push(("latency_count", selector(&format!("{}_count", m.duration), &[&svc_m, ns])));
            vars.push(("latency_good", selector(&format!("{}_bucket", m.duration), &[&svc_m, ns, &le])));
        }
    }
    vars
}

/// `metric{a, b}` (empty matchers are skipped).
pub(crate) fn selector(metric: &str, matchers: &[&str]) -> String {
    let mut out = String::with_capacity(metric.len() + 2 + matchers.iter().map(|m| m.len() + 2).sum::<usize>());
    out.push_str(metric);
    out.push('{');
    for (i, m) in matchers.iter().filter(|m| !m.is_empty()).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(m);
    }
    out.push('}');
    out
}

/// The `le` matcher of the duration histogram's bucket at `ms`, in its unit. Client libraries
/// write a whole bound as `1` or `1.0` (and Prometheus 3 normalises to `1.0`), so a whole one
/// matches both.
pub(crate) fn le_matcher(ms: u64, unit: DurationUnit) -> String {
    let v = le_value(ms, unit);
    if v.contains('.') {
        format!("le={}", quote(&v))
    } else {
        format!("le=~\"{v}|{v}.0\"")
    }
}

/// The `le` label value of a bucket at `ms` in the histogram's unit, as the unit tests write it.
pub(crate) fn le_value(ms: u64, unit: DurationUnit) -> String {
    match unit {
        DurationUnit::Seconds => seconds(ms),
        DurationUnit::Milliseconds => ms.to_string(),
    }
}

/// The error ratio of an SLI over `window`, by namespace and service.
pub(crate) fn sli_error_ratio(data: &ObsData, svc: &Svc, slo: &SloSpec, ns: &str, window: &str) -> String {
    SliErrorRatio::new(data, svc, slo, ns).over(window)
}

/// The error ratio of one objective's SLI, its text cut where the window goes: made once per
/// objective, filled in for each of its (seven) windows.
pub(crate) struct SliErrorRatio {
    /// Text, then a window, then text, ...; empty without a protocol to measure.
    pieces: Vec<String>,
}

impl SliErrorRatio {
    pub(crate) fn new(data: &ObsData, svc: &Svc, slo: &SloSpec, ns: &str) -> Self {
        let label = &data.settings.service_label;
        let Some((_, m)) = svc.protocol else { return SliErrorRatio { pieces: Vec::new() } };
        let svc_m = format!("{label}={}", quote(&svc.name));
        let by = format!("sum by (namespace, {label})");
        let pieces = match slo.threshold_ms {
            None => {
                // No sample when the window saw no failed request: "no errors" needs no alert,
                // and dashboards show it as 0.
                let all = selector(&m.requests, &[&svc_m, ns]);
                let bad = selector(&m.requests, &[&svc_m, ns, &m.errors]);
                vec![format!("{by} (rate({bad}["), format!("]))\n/\n{by} (rate({all}["), "]))".to_string()]
            }
            Some(t) => {
                let count = selector(&format!("{}_count", m.duration), &[&svc_m, ns]);
                let good = selector(&format!("{}_bucket", m.duration), &[&svc_m, ns, &le_matcher(t, m.duration_unit)]);
                vec![format!("(\n  {by} (rate({count}["), format!("]))\n  -\n  {by} (rate({good}["), format!("]))\n)\n/\n{by} (rate({count}["), "]))".to_string()]
            }
        };
        SliErrorRatio { pieces }
    }

    /// The expression over `window` (a Prometheus duration).
    pub(crate) fn over(&self, window: &str) -> String {
        let mut out = String::with_capacity(self.pieces.iter().map(String::len).sum::<usize>() + 4 * window.len());
        for (i, piece) in self.pieces.iter().enumerate() {
            if i > 0 {
                out.push_str(window);
            }
            out.push_str(piece);
        }
        out
    }
}

/// The pairs of a tier an objective can reach: a pair whose threshold (factor x budget) is 1 or
/// more could never fire (more than every request would have to fail).
pub(crate) fn reachable(tier: &TierSpec, slo: &SloSpec) -> Vec<PairSpec> {
    tier.pairs.iter().copied().filter(|p| p.factor * slo.budget.as_f64() < 1.0).collect()
}

/// The recording rule of one window.
pub(crate) fn record_name(data: &ObsData, window_ms: u64) -> String {
    window(data, window_ms).record.into_owned()
}

/// A window's texts: made once (see [`ObsData::windows`]) for the windows of the tiers.
fn window(data: &ObsData, ms: u64) -> WindowText<'_> {
    match data.windows.iter().find(|w| w.ms == ms) {
        Some(w) => WindowText { duration: Cow::Borrowed(&w.duration), record: Cow::Borrowed(&w.record) },
        None => {
            let duration = prom_duration(ms);
            WindowText { record: Cow::Owned(data.slo.record.replace("<window>", &duration)), duration: Cow::Owned(duration) }
        }
    }
}

struct WindowText<'a> {
    duration: Cow<'a, str>,
    record: Cow<'a, str>,
}

/// The expression of a burn-rate alert: for each pair, both windows' error ratios above the
/// pair's threshold (`factor` x `budget`), the pairs joined by `or`. Written piece by piece:
/// four of these per service at 1,000 services were a sixth of the rule groups' time as
/// `format!`s.
fn burn_rate_expr(data: &ObsData, pairs: &[PairSpec], factors: &[String], selector: &str, budget: &str) -> String {
    let mut expr = String::with_capacity(pairs.len() * (2 * selector.len() + 128));
    for (i, (p, factor)) in pairs.iter().zip(factors).enumerate() {
        if i > 0 {
            expr.push_str("\nor\n");
        }
        for (j, ms) in [p.long_ms, p.short_ms].into_iter().enumerate() {
            expr.push_str(if j == 0 { "(\n  " } else { "\n  and\n  " });
            expr.push_str(&window(data, ms).record);
            for piece in ["{", selector, "} > (", factor, " * ", budget, ")"] {
                expr.push_str(piece);
            }
        }
        expr.push_str("\n)");
    }
    expr
}

/// The settings' alert labels filled in with `layers` (see [`fill_from`]), those that are not
/// empty: the same for every alert that sees the same names, so made once for them.
fn settings_labels(data: &ObsData, layers: &[&[(&str, String)]]) -> Result<Vec<(Text, Text)>, ObservabilityError> {
    let mut out = Vec::with_capacity(data.settings.alert_labels.len());
    for (k, v) in &data.settings.alert_labels {
        let v = fill_from(v, layers).map_err(|e| ObservabilityError { file: data.settings_file.clone(), message: format!("alert-labels.{k}: {e}") })?;
        if !v.is_empty() {
            out.push((k.clone().into(), v.into()));
        }
    }
    Ok(out)
}

/// The static labels of a generated alert: severity, the settings' alert labels (from
/// [`settings_labels`]), extras.
fn alert_labels(settings: &[(Text, Text)], severity: &str, extra: &[(Text, Text)]) -> Labels {
    let mut labels = Labels::with_capacity(1 + settings.len() + extra.len());
    labels.insert("severity", severity.to_string());
    for (k, v) in settings.iter().chain(extra).filter(|(_, v)| !v.is_empty()) {
        labels.insert(k.clone(), v.clone());
    }
    labels
}

fn annotations(model: &Resolved, data: &ObsData, alert: &str, summary: Option<String>, description: Option<String>) -> Result<Labels, ObservabilityError> {
    let mut a = Labels::with_capacity(3);
    if let Some(s) = summary.filter(|s| !s.is_empty()) {
        a.insert("summary", s);
    }
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        a.insert("description", d);
    }
    if let Some(base) = &model.platform.runbooks {
        let vars = [("runbooks", base.trim_end_matches('/').to_string()), ("alert", alert.to_string()), ("alert_lower", alert.to_ascii_lowercase())];
        let url = fill(&data.settings.runbook_url, &vars).map_err(|e| ObservabilityError { file: data.settings_file.clone(), message: format!("runbook-url: {e}") })?;
        a.insert("runbook_url", url);
    }
    Ok(a)
}

fn alert_rule(name: String, expr: &str, for_: Option<String>, labels: Labels, annotations: Labels) -> Rule {
    Rule::Alert { alert: name, expr: expr.trim_end().to_string(), for_, labels, annotations }
}

/// Whether the `when` conditions of an alert, a row, a panel or a query hold for `svc` in
/// `scope`: all of them, so no condition means always.
pub(super) fn holds(when: &[Condition], svc: &Svc, scope: &Scope) -> bool {
    when.iter().all(|c| match c {
        Condition::Traffic => svc.protocol.is_some(),
        Condition::Autoscaling => scope.autoscaling(),
        Condition::Slo => !svc.slos.is_empty(),
        Condition::LatencySlo => svc.latency_slo().is_some(),
    })
}

/// The rule groups of `svc` in `scope`, and with `tested` the burn-rate alerts as the unit
/// tests need them (`slo_alerts`, else empty: `render` writes no tests).
pub(crate) fn rule_set(model: &Resolved, data: &ObsData, svc: &Svc, scope: &Scope, tested: bool) -> Result<RuleSet, ObservabilityError> {
    let ns = scope.ns_matcher.as_str();
    let vars = common_vars(model, data, svc, scope, ns);
    let mut groups = Vec::new();
    add_group(&mut groups, svc, "slo-recording", recording_rules(data, svc, ns));
    let (slo_rules, slo_alerts) = burn_rate_alerts(model, data, svc, &vars, ns, tested)?;
    add_group(&mut groups, svc, "slo-alerts", slo_rules);

    // Baseline alerts, then alerts of the backing resources.
    let mut baseline = Vec::new();
    let service_labels = settings_labels(data, &[&vars])?;
    for t in &data.alerts.baseline {
        if holds(&t.when, svc, scope) {
            baseline.push(template_rule(model, data, t, &[&vars], &service_labels, "baseline")?);
        }
    }
    for (k, u) in svc.service.uses.iter().enumerate() {
        resource_rules(model, data, svc, scope, &vars, (k, u), &mut baseline)?;
    }
    add_group(&mut groups, svc, "baseline", baseline);

    // The spec's own alerts, as written, with the standard labels added.
    let mut raw = Vec::new();
    for a in &svc.service.alerts {
        let labels = alert_labels(&service_labels, &a.severity, &[]);
        let ann = annotations(model, data, &a.name.value, a.summary.clone(), a.description.clone())?;
        raw.push(alert_rule(a.name.value.clone(), &a.expr.value, a.for_.map(|d| d.to_string()), labels, ann));
    }
    add_group(&mut groups, svc, "spec-alerts", raw);
    Ok(RuleSet { groups, slo_alerts })
}

/// Adds group `SERVICE-KIND` with `rules`, unless there are none: an empty group is noise in
/// Prometheus' rule list.
fn add_group(groups: &mut Vec<RuleGroup>, svc: &Svc, kind: &str, rules: Vec<Rule>) {
    if !rules.is_empty() {
        groups.push(RuleGroup { name: format!("{}-{kind}", svc.name), rules });
    }
}

/// SLO recording rules: the error ratio of each SLI over each window of the tiers, which the
/// burn-rate alerts and the dashboard read instead of computing it again.
fn recording_rules(data: &ObsData, svc: &Svc, ns: &str) -> Vec<Rule> {
    let mut recording = Vec::new();
    for slo in &svc.slos {
        let ratio = SliErrorRatio::new(data, svc, slo, ns);
        for w in &data.windows {
            let expr = ratio.over(&w.duration);
            let labels = [("slo", slo.key)].into_iter().collect();
            recording.push(Rule::Record { record: w.record.clone(), expr, labels });
        }
    }
    recording
}

/// Burn-rate alerts: one per objective and tier, unless none of the tier's pairs can fire for
/// that objective ([`reachable`]); with `tested`, each also as the unit tests need it.
fn burn_rate_alerts(model: &Resolved, data: &ObsData, svc: &Svc, vars: &[(&str, String)], ns: &str, tested: bool) -> Result<(Vec<Rule>, Vec<SloAlert>), ObservabilityError> {
    let label = &data.settings.service_label;
    let mut slo_rules = Vec::new();
    let mut slo_alerts = Vec::new();
    for (si, slo) in svc.slos.iter().enumerate() {
        for (ti, tier) in data.tiers.iter().enumerate() {
            let pairs = reachable(tier, slo);
            if pairs.is_empty() {
                continue;
            }
            let factors: Vec<String> = pairs.iter().map(|p| fmt_factor(p.factor)).collect();
            // The service's names, then the objective's and tier's own.
            let own = tier_vars(data, slo, &pairs, &factors);
            let tvars: [&[(&str, String)]; 2] = [vars, &own];
            let err = |what: &str, e: String| ObservabilityError { file: data.slo_file.clone(), message: format!("tier {}: {what}: {e}", tier.alert) };
            let name = fill_from(&tier.alert, &tvars).map_err(|e| err("alert", e))?;
            if !is_camel_case(&name) {
                return Err(err("alert", format!("`{name}` is not a CamelCase alert name")));
            }
            let sel = format!("{label}={}, slo={}, {ns}", quote(&svc.name), quote(slo.key));
            let expr = burn_rate_expr(data, &pairs, &factors, &sel, &slo.budget.to_string());
            let labels = alert_labels(&settings_labels(data, &tvars)?, &tier.severity, &[("slo".into(), slo.key.into())]);
            let summary = fill_from(&tier.summary, &tvars).map_err(|e| err("summary", e))?;
            let description = fill_from(&tier.description, &tvars).map_err(|e| err("description", e))?;
            let ann = annotations(model, data, &name, Some(summary), Some(description))?;
            if tested {
                slo_alerts.push(SloAlert {
                    name: name.clone(),
                    slo: si,
                    tier: ti,
                    pairs,
                    labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                    annotations: ann.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                });
            }
            slo_rules.push(alert_rule(name, &expr, Some(prom_duration(tier.for_ms)), labels, ann));
        }
    }
    Ok((slo_rules, slo_alerts))
}

/// The names a tier's texts may use for one objective, besides the service's: the objective,
/// the window pairs as people read them, and how long the budget lasts at the fastest burn
/// (whole minutes, at least one).
fn tier_vars(data: &ObsData, slo: &SloSpec, pairs: &[PairSpec], factors: &[String]) -> Vec<(&'static str, String)> {
    let mut own = Vec::with_capacity(6);
    own.push(("Slo", slo.camel.to_string()));
    own.push(("slo_title", slo.key.to_string()));
    own.push(("objective", slo.objective.clone()));
    own.push(("window", prom_duration(slo.window_ms)));
    let described: Vec<String> = pairs.iter().zip(factors).map(|(p, f)| format!("{f}x ({}/{})", window(data, p.long_ms).duration, window(data, p.short_ms).duration)).collect();
    own.push(("windows", described.join(" or ")));
    let fastest = pairs.iter().map(|p| p.factor).fold(0.0_f64, f64::max);
    let lasts = ((slo.window_ms as f64 / fastest) / 60_000.0).floor() as u64 * 60_000;
    own.push(("exhaustion", prom_duration(lasts.max(60_000))));
    own
}

/// The alerts of backing resource `u`, added to `out`: its type's alert templates, when some
/// environment of `scope` serves it with a provisioner they are for. The cloud names they match
/// are those of every such environment.
fn resource_rules(model: &Resolved, data: &ObsData, svc: &Svc, scope: &Scope, vars: &[(&str, String)], (k, u): (usize, &crate::model::Uses), out: &mut Vec<Rule>) -> Result<(), ObservabilityError> {
    let Some(r) = data.alerts.resources.get(&u.ty.value) else { return Ok(()) };
    let envs: Vec<_> = scope.envs.iter().filter(|e| r.provisioners.iter().any(|p| p == e.provisioners[k].as_str())).collect();
    if envs.is_empty() {
        return Ok(());
    }
    let mut rvars = Vec::new();
    rvars.push(("resource", u.name.value.clone()));
    rvars.push(("Resource", super::data::camel(&u.name.value)));
    let params: Vec<(String, String)> = u.params.iter().map(|(k, v)| (format!("param.{k}"), param_text(v))).collect();
    for (key, tpl) in [("cloud_names", &r.cloud_name), ("dead_letter_names", &r.dead_letter_name)] {
        let Some(tpl) = tpl else { continue };
        let mut names = Vec::new();
        for e in &envs {
            names.push(cloud_name_regex(model, data, tpl, r.name_max, e.instance.as_deref(), &e.env.name.value, &svc.name, &u.name.value, &u.ty.value)?);
        }
        rvars.push((key, names.join("|")));
    }
    let param_vars: Vec<(&str, String)> = params.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    rvars.extend(param_vars);
    let layers: [&[(&str, String)]; 2] = [vars, &rvars];
    let resource_labels = settings_labels(data, &layers)?;
    for t in &r.alerts {
        if holds(&t.when, svc, scope) {
            out.push(template_rule(model, data, t, &layers, &resource_labels, &format!("resources.{}", u.ty.value))?);
        }
    }
    Ok(())
}

/// The alert of template `t`, filled in with `vars` (see [`fill_from`]); `settings` are the
/// settings' alert labels for those names (see [`settings_labels`]).
fn template_rule(model: &Resolved, data: &ObsData, t: &AlertTemplate, vars: &[&[(&str, String)]], settings: &[(Text, Text)], section: &str) -> Result<Rule, ObservabilityError> {
    let err = |what: &str, e: String| ObservabilityError { file: data.alerts_file.clone(), message: format!("{section}: {}: {what}: {e}", t.alert) };
    let name = fill_from(&t.alert, vars).map_err(|e| err("alert", e))?;
    if !is_camel_case(&name) {
        return Err(err("alert", format!("`{name}` is not a CamelCase alert name")));
    }
    let mut extra: Vec<(Text, Text)> = Vec::with_capacity(t.labels.len());
    for (k, v) in &t.labels {
        extra.push((k.clone().into(), fill_from(v, vars).map_err(|e| err(&format!("labels.{k}"), e))?.into()));
    }
    let labels = alert_labels(settings, &t.severity, &extra);
    let expr = fill_from(&t.expr, vars).map_err(|e| err("expr", e))?;
    let summary = fill_from(&t.summary, vars).map_err(|e| err("summary", e))?;
    let description = fill_from(&t.description, vars).map_err(|e| err("description", e))?;
    let ann = annotations(model, data, &name, Some(summary), Some(description))?;
    Ok(alert_rule(name, &expr, t.for_.clone(), labels, ann))
}

/// The regex of a cloud resource's name in one environment: the name template filled in and
/// shortened like the Terraform templates do (`dns_safe`), or, for an ephemeral environment in
/// the files for all environments, a pattern matching every branch.
#[allow(clippy::too_many_arguments)]
fn cloud_name_regex(model: &Resolved, data: &ObsData, tpl: &str, max: usize, instance: Option<&str>, env: &str, service: &str, resource: &str, ty: &str) -> Result<String, ObservabilityError> {
    const ANY: &str = "anybranchplaceholder";
    let inst = instance.map(str::to_string).unwrap_or_else(|| format!("{env}-{ANY}"));
    let v = [("platform", model.platform.name.value.clone()), ("environment", inst), ("service", service.to_string()), ("resource", resource.to_string())];
    let name = fill(tpl, &v).map_err(|e| ObservabilityError { file: data.alerts_file.clone(), message: format!("resources.{ty}: {e}") })?;
    Ok(regex_escape(&crate::lower::dns_safe(&name, max)).replace(ANY, "[a-z0-9-]+"))
}

/// A burn-rate factor as written in PromQL (`14.4`, `6`).
pub(crate) fn fmt_factor(f: f64) -> String {
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::observability::context::Micros;

    #[test]
    fn pairs_that_cannot_fire_are_left_out() {
        let tier = TierSpec {
            alert: "A".into(),
            severity: "critical".into(),
            for_ms: 0,
            pairs: vec![PairSpec { long_ms: 3_600_000, short_ms: 300_000, factor: 14.4 }, PairSpec { long_ms: 21_600_000, short_ms: 1_800_000, factor: 1.5 }],
            summary: String::new(),
            description: String::new(),
            test_interval_ms: 60_000,
        };
        let slo = |budget: u64| SloSpec { key: "latency", camel: "Latency", objective: String::new(), budget: Micros(budget), window_ms: 0, threshold_ms: Some(300) };
        // p99: 1% budget, both reachable; p50: 50% budget, 14.4 x 0.5 > 1 is not.
        assert_eq!(reachable(&tier, &slo(10_000)).len(), 2);
        assert_eq!(reachable(&tier, &slo(500_000)), vec![tier.pairs[1]]);
    }

    #[test]
    fn latency_buckets() {
        assert_eq!(le_matcher(300, DurationUnit::Seconds), "le=\"0.3\"");
        assert_eq!(le_matcher(2000, DurationUnit::Seconds), "le=~\"2|2.0\"");
        assert_eq!(le_value(1500, DurationUnit::Seconds), "1.5");
        assert_eq!(le_matcher(300, DurationUnit::Milliseconds), "le=~\"300|300.0\"");
        assert_eq!(le_value(1500, DurationUnit::Milliseconds), "1500");
    }
}

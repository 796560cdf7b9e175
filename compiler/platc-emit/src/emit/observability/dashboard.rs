//! The Grafana dashboard of one service: rows and panels from `observability/dashboard.yaml`,
//! laid out on Grafana's 24-column grid.

use serde_json::{json, Map, Value as Json};

use super::context::{prom_duration, quote, Scope, Svc};
use super::data::{ForEach, ObsData, ObservabilityError, PanelData, QueryData, RowData};
use super::rules::{common_vars, holds, record_name, sli_error_ratio};
use super::template::fill;
use crate::resolve::Resolved;

/// The datasource every panel queries: the dashboard's `datasource` variable.
fn datasource() -> Json {
    json!({"type": "prometheus", "uid": "${datasource}"})
}

/// Grafana dashboard uid of a service (in one environment): at most 40 characters.
pub(crate) fn uid(service: &str, environment: Option<&str>) -> String {
    let text = match environment {
        Some(e) => format!("platc-{service}-{e}"),
        None => format!("platc-{service}"),
    };
    crate::lower::dns_safe(&text, 40)
}

struct Layout {
    panels: Vec<Json>,
    next_id: u64,
    x: u32,
    y: u32,
    line_height: u32,
}

impl Layout {
    fn row(&mut self, title: &str) {
        self.newline();
        let id = self.id();
        self.panels.push(json!({"type": "row", "id": id, "title": title, "collapsed": false, "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []}));
        self.y += 1;
    }

    fn newline(&mut self) {
        if self.x > 0 {
            self.y += self.line_height;
            self.x = 0;
            self.line_height = 0;
        }
    }

    fn place(&mut self, w: u32, h: u32) -> Json {
        if self.x + w > 24 {
            self.newline();
        }
        let pos = json!({"h": h, "w": w, "x": self.x, "y": self.y});
        self.x += w;
        self.line_height = self.line_height.max(h);
        pos
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// A problem with `observability/dashboard.yaml` at `what` (a row, a panel, the title, ...).
fn error(data: &ObsData, what: &str, e: String) -> ObservabilityError {
    ObservabilityError { file: data.dashboard_file.clone(), message: format!("{what}: {e}") }
}

/// The dashboard of `svc` covering `scope`.
pub(crate) fn dashboard(model: &Resolved, data: &ObsData, svc: &Svc, scope: &Scope) -> Result<Json, ObservabilityError> {
    let ns = "namespace=\"$namespace\"";
    let vars = common_vars(model, data, svc, scope, ns);
    let mut layout = Layout { panels: Vec::new(), next_id: 0, x: 0, y: 0, line_height: 0 };
    let burn_windows = burn_windows(data);
    for row in &data.dashboard.rows {
        if !holds(&row.when, svc, scope) {
            continue;
        }
        for v in row_instances(row, &vars, data, svc, ns) {
            let panels: Vec<&PanelData> = row.panels.iter().filter(|p| holds(&p.when, svc, scope)).collect();
            if panels.is_empty() {
                continue;
            }
            let title = fill(&row.title, &v).map_err(|e| error(data, &format!("row `{}`", row.title), e))?;
            layout.row(&title);
            for p in panels {
                let at = format!("row `{}`, panel `{}`", row.title, p.title);
                let targets = targets(p, &v, data, svc, scope, &burn_windows).map_err(|e| error(data, &at, e))?;
                let panel = panel(p, &v, targets, &mut layout).map_err(|e| error(data, &at, e))?;
                layout.panels.push(panel);
            }
        }
    }
    document(data, svc, scope, &vars, layout.panels)
}

/// The long windows of the burn-rate tiers, shortest first, each once: a panel with
/// `for-each: burn-window` has one query per window.
fn burn_windows(data: &ObsData) -> Vec<u64> {
    let mut w: Vec<u64> = data.tiers.iter().flat_map(|t| t.pairs.iter().map(|p| p.long_ms)).collect();
    w.sort_unstable();
    w.dedup();
    w
}

/// The placeholders of each copy of a row: one copy per objective for a `per-slo` row (with the
/// objective's names added), else the one copy with the service's names.
fn row_instances<'a>(row: &RowData, vars: &[(&'a str, String)], data: &ObsData, svc: &Svc, ns: &str) -> Vec<Vec<(&'a str, String)>> {
    if !row.per_slo {
        return vec![vars.to_vec()];
    }
    svc.slos
        .iter()
        .map(|slo| {
            let mut v = vars.to_vec();
            v.push(("slo", slo.key.to_string()));
            v.push(("slo_title", if slo.key == "latency" { format!("latency ({})", slo.objective) } else { format!("availability ({})", slo.objective) }));
            v.push(("objective", slo.objective.clone()));
            v.push(("budget", slo.budget.to_string()));
            v.push(("window", prom_duration(slo.window_ms)));
            v.push(("slo_selector", format!("{}={}, slo={}, {ns}", data.settings.service_label, quote(&svc.name), quote(slo.key))));
            v.push(("sli_errors_window", sli_error_ratio(data, svc, slo, ns, &prom_duration(slo.window_ms))));
            v
        })
        .collect()
}

/// The queries of panel `p` that apply to `svc`, each as many times as its `for-each` says,
/// lettered `A`, `B`, ... in that order.
fn targets(p: &PanelData, v: &[(&str, String)], data: &ObsData, svc: &Svc, scope: &Scope, burn_windows: &[u64]) -> Result<Vec<Json>, String> {
    let mut targets = Vec::new();
    for q in p.queries.iter().filter(|q| holds(&q.when, svc, scope)) {
        for qv in query_instances(q, v, data, burn_windows) {
            let expr = fill(&q.expr, &qv)?;
            let legend = q.legend.as_deref().map(|l| fill(l, &qv)).transpose()?;
            let mut t = json!({"refId": ref_id(targets.len()), "datasource": datasource(), "expr": expr.trim_end(), "range": true});
            if let Some(l) = legend {
                t["legendFormat"] = json!(l);
            }
            targets.push(t);
        }
    }
    Ok(targets)
}

/// Panel `p` with its `targets`, placed next on the grid.
fn panel(p: &PanelData, v: &[(&str, String)], targets: Vec<Json>, layout: &mut Layout) -> Result<Json, String> {
    let defaults = field_defaults(p);
    let title = fill(&p.title, v)?;
    let gp = layout.place(p.width, p.height);
    let mut panel = json!({
        "type": p.type_,
        "id": layout.id(),
        "title": title,
    });
    if let Some(desc) = &p.description {
        panel["description"] = json!(fill(desc.trim_end(), v)?);
    }
    panel["gridPos"] = gp;
    panel["datasource"] = datasource();
    // Trees are moved in, never put through `json!` (its `to_value` copies them value by value).
    panel["fieldConfig"] = json!({"defaults": {}, "overrides": []});
    panel["fieldConfig"]["defaults"] = Json::Object(defaults);
    panel["options"] = p.options.clone().unwrap_or_else(|| json!({}));
    panel["targets"] = Json::Array(targets);
    Ok(panel)
}

/// `fieldConfig.defaults` of a panel: only what the data sets, so that Grafana's own defaults
/// apply to the rest.
fn field_defaults(p: &PanelData) -> Map<String, Json> {
    let mut defaults = Map::new();
    if let Some(u) = &p.unit {
        defaults.insert("unit".into(), json!(u));
    }
    if let Some(m) = p.min {
        defaults.insert("min".into(), json!(m));
    }
    if let Some(m) = p.max {
        defaults.insert("max".into(), json!(m));
    }
    if let Some(dec) = p.decimals {
        defaults.insert("decimals".into(), json!(dec));
    }
    if let Some(th) = &p.thresholds {
        let steps: Vec<Json> = th.iter().map(|s| json!({"color": s.color, "value": s.value})).collect();
        defaults.insert("thresholds".into(), json!({"mode": "absolute", "steps": steps}));
    }
    if let Some(c) = &p.custom {
        defaults.insert("custom".into(), c.clone());
    }
    defaults
}

/// The dashboard document around `panels`: title and tags, the datasource and namespace
/// variables, and the settings of `dashboard.yaml`.
fn document(data: &ObsData, svc: &Svc, scope: &Scope, vars: &[(&str, String)], panels: Vec<Json>) -> Result<Json, ObservabilityError> {
    let d = &data.dashboard;
    let (title, tags) = title_and_tags(data, svc, scope)?;
    let ns_query = fill(&d.namespace_query, vars).map_err(|e| error(data, "namespace-query", e))?;
    let description = format!("{} Service {}{}.", super::header_line(&svc.source), svc.name, if svc.owner.is_empty() { String::new() } else { format!(", owned by {}", svc.owner) });
    let mut dashboard = json!({
        "uid": uid(&svc.name, scope.environment.as_deref()),
        "title": title,
        "description": description,
        "tags": tags,
        "editable": false,
        "graphTooltip": 1,
        "timezone": "utc",
        "refresh": d.refresh,
        "schemaVersion": d.schema_version,
        "time": {"from": d.time.from, "to": d.time.to},
        "annotations": {"list": [{
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": true,
            "hide": true,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        }]},
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus", "refresh": 1, "hide": 0, "includeAll": false, "multi": false},
        ]},
        "links": [],
        "panels": [],
    });
    dashboard["templating"]["list"].as_array_mut().expect("an array").push(namespace_variable(scope, ns_query));
    dashboard["panels"] = Json::Array(panels);
    Ok(dashboard)
}

/// The dashboard's title (with the environment, when it covers one) and its tags, each once and
/// none empty.
fn title_and_tags(data: &ObsData, svc: &Svc, scope: &Scope) -> Result<(String, Vec<String>), ObservabilityError> {
    let d = &data.dashboard;
    let title_vars = [("service", svc.name.clone()), ("owner", svc.owner.clone()), ("environment", scope.environment.clone().unwrap_or_default())];
    let mut title = fill(&d.title, &title_vars).map_err(|e| error(data, "title", e))?;
    if let Some(env) = &scope.environment {
        title = format!("{title} ({env})");
    }
    let mut tags = Vec::new();
    for t in &d.tags {
        let t = fill(t, &title_vars).map_err(|e| error(data, "tags", e))?;
        if !t.is_empty() && !tags.contains(&t) {
            tags.push(t);
        }
    }
    Ok((title, tags))
}

/// The `namespace` variable: the namespaces `scope` covers; a dashboard of one environment
/// opens on its namespace.
fn namespace_variable(scope: &Scope, query: String) -> Json {
    let mut namespace_var = json!({
        "name": "namespace",
        "label": "Namespace",
        "type": "query",
        "datasource": datasource(),
        "query": query,
        "regex": format!("/^({})$/", scope.ns_regex),
        "refresh": 2,
        "sort": 1,
        "includeAll": false,
        "multi": false,
        "hide": 0,
    });
    if scope.environment.is_some() {
        let ns = scope.test_namespace.clone();
        namespace_var["current"] = json!({"selected": true, "text": ns, "value": ns});
    }
    namespace_var
}

fn query_instances<'a>(q: &QueryData, vars: &[(&'a str, String)], data: &ObsData, burn_windows: &[u64]) -> Vec<Vec<(&'a str, String)>> {
    match q.for_each {
        None => vec![vars.to_vec()],
        Some(ForEach::BurnWindow) => burn_windows
            .iter()
            .map(|&w| {
                let mut v = vars.to_vec();
                v.push(("burn_window", prom_duration(w)));
                v.push(("burn_record", record_name(data, w)));
                v
            })
            .collect(),
    }
}

/// `A`, `B`, ... `Z`, `AA`, ...
fn ref_id(i: usize) -> String {
    let mut n = i + 1;
    let mut s = Vec::new();
    while n > 0 {
        n -= 1;
        s.push((b'A' + (n % 26) as u8) as char);
        n /= 26;
    }
    s.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_uids() {
        assert_eq!(ref_id(0), "A");
        assert_eq!(ref_id(25), "Z");
        assert_eq!(ref_id(26), "AA");
        assert_eq!(uid("checkout", Some("prod")), "platc-checkout-prod");
        assert!(uid(&"x".repeat(60), Some("preview")).len() <= 40);
    }
}

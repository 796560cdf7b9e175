//! Observability outputs of examples/hello and examples/shop, checked with the real tools:
//!
//! - every rule file (for all environments, and the rule groups of each environment that the
//!   PrometheusRule objects carry) passes `promtool check rules`;
//! - every generated unit test passes `promtool test rules`;
//! - a mutated burn-rate alert (threshold, long window or short window changed) fails its
//!   generated unit test: the tests can catch a wrong alert;
//! - every dashboard passes the Grafana Dashboard JSON schema;
//! - alert names, labels and annotations follow the conventions of docs/observability.md;
//! - snapshots of one rule file and its unit tests (snapshots/observability/).
//!
//! A validator that is missing fails the test: run `.ci/oracles.sh install`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use platc_check::fs::RealFs;
use platc_emit::emit::observability::{self, Artifacts, Observability, RULES_FILE, RULES_TEST_FILE};
use platc_emit::lower::{self, BuildOptions};
use serde_json::Value as Json;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Loads, checks and lowers an example, then runs the observability backend.
fn emit_with(fs: &dyn platc_check::fs::FileSystem, paths: &[PathBuf], overlays: &[PathBuf], opts: &BuildOptions) -> Result<Observability, Vec<observability::ObservabilityError>> {
    let loaded = platc_check::load::load(fs, paths, overlays, &root()).unwrap_or_else(|e| panic!("load: {}", e.0));
    let analysis = platc::build::analyze(&loaded);
    assert!(!analysis.diags.has_errors(), "{:?}", analysis.diags.iter().map(|d| d.message.clone()).collect::<Vec<_>>());
    let ws = analysis.workspace.expect("workspace");
    let graph = analysis.graph.expect("graph");
    let envs = platc_resolve::resolve::environments(&ws, opts).expect("environments");
    let model = platc_resolve::resolve::resolve(&ws, &graph, &envs, opts, &loaded.sources);
    observability::emit(&model, &loaded.stdlib)
}

fn emit(example: &str, opts: &BuildOptions) -> Observability {
    emit_with(&RealFs, &[PathBuf::from(format!("examples/{example}"))], &[], opts).unwrap_or_else(|e| panic!("{example}: {e:?}"))
}

/// Every build option the tests use: a full build plus a preview branch.
fn with_preview() -> BuildOptions {
    BuildOptions { branch: Some("feature/new-checkout".into()), ..BuildOptions::default() }
}

/// The path of an installed validator; a missing one fails the test.
fn tool(name: &str) -> PathBuf {
    let out = Command::new("bash").arg(root().join(".ci/oracles.sh")).args(["path", name]).output().expect("run .ci/oracles.sh");
    assert!(out.status.success(), ".ci/oracles.sh path {name} failed: {}", String::from_utf8_lossy(&out.stderr));
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(p.exists(), "{name} is not installed at {} (run .ci/oracles.sh install)", p.display());
    p
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn yaml(v: &Json) -> String {
    platc_emit::emit::yaml::to_yaml(v)
}

/// The rule groups as a JSON tree, to look into and to mutate.
fn rule_groups(a: &Artifacts) -> Json {
    serde_json::to_value(&a.rule_groups).unwrap()
}

/// Writes a rule file and a unit-test file into `dir`.
fn write_rules(dir: &Path, a: &Artifacts) {
    write(&dir.join(RULES_FILE), yaml(&serde_json::to_value(a.prometheus_rule_spec()).unwrap()).as_bytes());
    write(&dir.join(RULES_TEST_FILE), yaml(&a.unit_tests).as_bytes());
}

/// Runs `promtool test rules` in the test file's directory; (success, output).
fn promtool_test(dir: &Path) -> (bool, String) {
    let out = Command::new(tool("promtool")).current_dir(dir).args(["test", "rules", RULES_TEST_FILE]).output().expect("run promtool");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Runs jobs on a few threads (promtool is single-threaded and the tests are independent).
fn parallel<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8);
    let queue = std::sync::Mutex::new(items.into_iter().enumerate().collect::<Vec<_>>());
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let Some((i, item)) = queue.lock().unwrap().pop() else { break };
                let r = f(item);
                results.lock().unwrap().push((i, r));
            });
        }
    });
    let mut r = results.into_inner().unwrap();
    r.sort_by_key(|(i, _)| *i);
    r.into_iter().map(|(_, r)| r).collect()
}

/// Every artifact set of an observability result: the files for all environments and each
/// environment's, labelled `SERVICE` or `SERVICE@ENV`.
fn all_artifacts(o: &Observability) -> Vec<(String, &Artifacts)> {
    let mut out = Vec::new();
    for s in &o.services {
        out.push((s.service.clone(), &s.all));
        for (env, a) in &s.envs {
            out.push((format!("{}@{env}", s.service), a));
        }
    }
    out
}

fn alerts(groups: &Json) -> Vec<&Json> {
    groups.as_array().unwrap().iter().flat_map(|g| g["rules"].as_array().unwrap()).filter(|r| r.get("alert").is_some()).collect()
}

fn alert(a: &Artifacts, name: &str) -> Json {
    alerts(&rule_groups(a)).into_iter().find(|r| r["alert"] == name).cloned().unwrap_or_else(|| panic!("no alert {name} in {:?}", a.alert_names()))
}

fn str_of<'a>(v: &'a Json, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn every_rule_file_passes_promtool_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for ex in ["hello", "shop"] {
        let o = emit(ex, &with_preview());
        // The files as written under deploy/, and the groups each environment's PrometheusRule
        // carries.
        for (p, b) in o.output().files {
            if p.ends_with(RULES_FILE) {
                let f = dir.path().join(ex).join(&p);
                write(&f, &b);
                files.push(f);
            }
        }
        for (label, a) in all_artifacts(&o) {
            let f = dir.path().join(ex).join("envs").join(format!("{label}.yaml"));
            write(&f, yaml(&serde_json::to_value(a.prometheus_rule_spec()).unwrap()).as_bytes());
            files.push(f);
        }
    }
    // hello: 1 service x (all + dev, staging, prod, preview); shop: 7 x 5.
    assert_eq!(files.len(), 5 + 1 + 5 * 7 + 7, "{files:?}");
    let out = Command::new(tool("promtool")).arg("check").arg("rules").args(&files).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "promtool check rules failed:\n{text}");
    assert_eq!(text.matches("SUCCESS").count(), files.len(), "{text}");
}

#[test]
fn every_generated_unit_test_passes_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for ex in ["hello", "shop"] {
        let o = emit(ex, &with_preview());
        for s in &o.services {
            for (p, b) in s.files() {
                write(&dir.path().join(ex).join(p), &b);
            }
            dirs.push(dir.path().join(ex).join(&s.service).join("alerts"));
        }
        // The per-environment rules carry their own tests (series in that namespace): a
        // preview (one replica, its branch's namespace) and a production rule set.
        let picks: &[(&str, &str)] = if ex == "hello" { &[("hello", "preview")] } else { &[("checkout", "prod")] };
        for (svc, env) in picks {
            let d = dir.path().join(ex).join("envs").join(format!("{svc}@{env}"));
            write_rules(&d, &o.service(svc).unwrap().envs[*env]);
            dirs.push(d);
        }
    }
    assert_eq!(dirs.len(), 1 + 7 + 2);
    let results = parallel(dirs, |d| (d.clone(), promtool_test(&d)));
    let failed: Vec<String> = results.iter().filter(|(_, (ok, _))| !ok).map(|(d, (_, out))| format!("{}:\n{out}", d.display())).collect();
    assert!(failed.is_empty(), "{} of {} unit-test files fail:\n{}", failed.len(), results.len(), failed.join("\n"));
}

/// The clauses (window pairs) of a burn-rate alert: (long record, short record, threshold).
fn pairs_of(expr: &str) -> Vec<(String, String, String)> {
    expr.split("\nor\n")
        .map(|clause| {
            let records: Vec<&str> = clause.lines().filter_map(|l| l.trim().split('{').next()).filter(|r| r.starts_with("slo:")).collect();
            let thr = clause.split(" > ").nth(1).and_then(|t| t.lines().next()).unwrap().trim().to_string();
            (records[0].to_string(), records[1].to_string(), thr)
        })
        .collect()
}

fn window_of(record: &str) -> &str {
    record.rsplit("ratio_rate").next().unwrap()
}

/// The recorded window after `w` (or before it, for the longest).
fn other_window(w: &str) -> &'static str {
    const ALL: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];
    let i = ALL.iter().position(|x| *x == w).unwrap_or_else(|| panic!("window {w}"));
    if i + 1 < ALL.len() {
        ALL[i + 1]
    } else {
        ALL[i - 1]
    }
}

#[test]
fn a_mutated_burn_rate_alert_fails_its_generated_unit_test() {
    let o = emit("shop", &BuildOptions::default());
    let a = &o.service("checkout").unwrap().all;
    let groups = &rule_groups(a);
    let slo_alerts: Vec<&Json> = alerts(groups).into_iter().filter(|r| r["labels"]["slo"].is_string()).collect();
    assert_eq!(slo_alerts.len(), 4, "two objectives x two tiers");
    let dir = tempfile::tempdir().unwrap();

    // (alert, pair, mutation, rule groups with that one change, the tests of that pair)
    let mut jobs: Vec<(String, PathBuf, Json, Json)> = Vec::new();
    let mut n = 0;
    for rule in slo_alerts {
        let name = str_of(rule, "alert");
        // The availability objective's alerts get every mutation; the latency ones a threshold
        // change each (the test files are built the same way).
        let latency = rule["labels"]["slo"] == "latency";
        let expr = str_of(rule, "expr");
        for (long, short, thr) in pairs_of(expr) {
            let (lw, sw) = (window_of(&long).to_string(), window_of(&short).to_string());
            let clause_of = |e: &str| e.split("\nor\n").find(|c| c.contains(&format!("{long}{{")) && c.contains(&format!("{short}{{"))).unwrap().to_string();
            let clause = clause_of(expr);
            let (factor, budget) = thr.trim_matches(|c| c == '(' || c == ')').split_once(" * ").unwrap();
            let f: f64 = factor.parse().unwrap();
            let mut mutations = vec![
                (format!("threshold x2 ({factor} -> {})", f * 2.0), clause.replace(&thr, &format!("({} * {budget})", f * 2.0))),
                (format!("threshold /2 ({factor} -> {})", f / 2.0), clause.replace(&thr, &format!("({} * {budget})", f / 2.0))),
            ];
            if !latency {
                let lw2 = other_window(&lw);
                mutations.push((format!("long window {lw} -> {lw2}"), clause.replacen(&format!("ratio_rate{lw}{{"), &format!("ratio_rate{lw2}{{"), 1)));
                let sw2 = other_window(&sw);
                mutations.push((format!("short window {sw} -> {sw2}"), clause.replacen(&format!("ratio_rate{sw}{{"), &format!("ratio_rate{sw2}{{"), 1)));
            } else {
                mutations.truncate(1);
            }
            let prefix = format!("{name}, {lw}/{sw} pair");
            let mut tests = a.unit_tests.clone();
            let kept: Vec<Json> = tests["tests"].as_array().unwrap().iter().filter(|t| str_of(t, "name").starts_with(&prefix)).cloned().collect();
            assert_eq!(kept.len(), 1, "one test for {prefix}");
            tests["tests"] = Json::Array(kept);
            // The unchanged alert passes this test: a failure below is the mutation's doing.
            n += 1;
            jobs.push((format!("{prefix}: unchanged"), dir.path().join(format!("m{n}")), groups.clone(), tests.clone()));
            for (what, mutated_clause) in mutations {
                assert_ne!(mutated_clause, clause, "{prefix}: {what} changed nothing");
                let mut g = groups.clone();
                for r in g.as_array_mut().unwrap().iter_mut().flat_map(|gr| gr["rules"].as_array_mut().unwrap().iter_mut()) {
                    if r["alert"] == name {
                        r["expr"] = Json::String(str_of(r, "expr").replace(&clause, &mutated_clause));
                    }
                }
                n += 1;
                jobs.push((format!("{prefix}: {what}"), dir.path().join(format!("m{n}")), g, tests.clone()));
            }
        }
    }
    assert_eq!(jobs.len(), 2 * (1 + 4) * 2 + 2 * (1 + 1) * 2, "jobs");
    let results = parallel(jobs, |(label, d, g, tests)| {
        write(&d.join(RULES_FILE), yaml(&serde_json::json!({"groups": g})).as_bytes());
        write(&d.join(RULES_TEST_FILE), yaml(&tests).as_bytes());
        let check = Command::new(tool("promtool")).current_dir(&d).args(["check", "rules", RULES_FILE]).output().unwrap();
        assert!(check.status.success(), "{label}: the mutated rules must still be valid");
        let (ok, out) = promtool_test(&d);
        (label, ok, out)
    });
    let mut problems = Vec::new();
    for (label, ok, out) in &results {
        let unchanged = label.ends_with(": unchanged");
        if unchanged && !ok {
            problems.push(format!("{label}: the generated test fails on the generated alert:\n{out}"));
        }
        if !unchanged && *ok {
            problems.push(format!("{label}: the generated test still passes: it does not catch this mutation"));
        }
        if !unchanged && !ok {
            assert!(out.contains("FAILED") && out.contains("exp:") && out.contains("got:"), "{label}: promtool failed for another reason:\n{out}");
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_dashboard_passes_the_grafana_schema() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for ex in ["hello", "shop"] {
        let o = emit(ex, &with_preview());
        for (label, a) in all_artifacts(&o) {
            let f = dir.path().join(ex).join(format!("{label}.json"));
            write(&f, a.dashboard_json().as_bytes());
            files.push(f);
        }
    }
    assert_eq!(files.len(), 5 + 7 * 5);
    let out = Command::new(tool("check-jsonschema")).arg("--schemafile").arg(tool("grafana-schema")).args(&files).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "Grafana dashboard schema:\n{text}");
}

#[test]
fn dashboards_show_golden_signals_slo_and_resources() {
    let o = emit("shop", &with_preview());
    let d = &o.service("checkout").unwrap().all.dashboard;
    let titles: Vec<&str> = d["panels"].as_array().unwrap().iter().map(|p| str_of(p, "title")).collect();
    for t in [
        "Golden signals",
        "Requests per second",
        "Error ratio",
        "Latency",
        "Saturation",
        "SLO: availability (99.95%)",
        "SLO: latency (99% of requests within 800ms)",
        "Burn rate",
        "Error budget remaining",
        "Resources",
        "CPU",
        "Memory",
        "Restarts",
        "Replicas",
    ] {
        assert!(titles.contains(&t), "{t} missing from {titles:?}");
    }
    let text = serde_json::to_string(d).unwrap();
    for q in [
        "histogram_quantile(0.99",
        "slo:sli_error:ratio_rate1h{service=\\\"checkout\\\", slo=\\\"latency\\\"",
        "[28d]",
        "kube_pod_container_resource_limits",
        "kube_pod_container_status_restarts_total",
    ] {
        assert!(text.contains(q), "{q} missing");
    }
    // A gRPC service reads gRPC metrics; a service without an SLO has no SLO rows.
    let catalog = serde_json::to_string(&o.service("catalog").unwrap().all.dashboard).unwrap();
    assert!(catalog.contains("grpc_server_handled_total") && !catalog.contains("http_requests_total"));
    // One dashboard per environment, with its own uid and namespace.
    let prod = &o.service("checkout").unwrap().envs["prod"];
    assert_eq!(prod.dashboard["uid"], "platc-checkout-prod");
    assert_eq!(prod.dashboard["title"], "checkout (prod)");
    assert_eq!(prod.dashboard["templating"]["list"][1]["current"]["value"], "shop-prod");
    assert_eq!(d["uid"], "platc-checkout");
    let uids: std::collections::BTreeSet<String> = all_artifacts(&o).iter().map(|(_, a)| a.dashboard["uid"].as_str().unwrap().to_string()).collect();
    assert_eq!(uids.len(), all_artifacts(&o).len(), "dashboard uids are unique");
}

#[test]
fn files_are_written_per_service_and_are_deterministic() {
    for ex in ["hello", "shop"] {
        let a = emit(ex, &BuildOptions::default()).output();
        let b = emit(ex, &BuildOptions::default()).output();
        assert_eq!(a, b, "{ex}: two runs differ");
        let o = emit(ex, &BuildOptions::default());
        let mut expected = Vec::new();
        for s in &o.services {
            let n = &s.service;
            expected.extend([format!("{n}/alerts/rules.test.yaml"), format!("{n}/alerts/rules.yaml"), format!("{n}/dashboards/{n}.json")]);
        }
        expected.sort();
        assert_eq!(a.files.keys().cloned().collect::<Vec<_>>(), expected);
        for (p, b) in &a.files {
            let text = String::from_utf8(b.clone()).unwrap();
            assert!(text.ends_with('\n') && !text.contains('\r'), "{p}");
            if p.ends_with(".yaml") {
                assert!(text.starts_with("# Generated by platc from ") && text.lines().next().is_some_and(|l| l.contains("/service.kdl")), "{p}: header");
                let _: Json = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{p}: {e}"));
            } else {
                let d: Json = serde_json::from_str(&text).unwrap();
                assert!(str_of(&d, "description").starts_with("Generated by platc from "), "{p}");
            }
        }
        // The rule file's test names it by relative path.
        for s in &o.services {
            assert_eq!(s.all.unit_tests["rule_files"], serde_json::json!([RULES_FILE]));
        }
    }
    // Without a branch the preview is not built; with --env only that environment is.
    let one = emit("shop", &BuildOptions { env: Some("prod".into()), ..BuildOptions::default() });
    assert_eq!(one.service("cart").unwrap().envs.keys().collect::<Vec<_>>(), ["prod"]);
    // The files for all environments do not depend on which environments are built.
    assert_eq!(one.output(), emit("shop", &BuildOptions::default()).output());
}

#[test]
fn alert_names_labels_and_annotations_follow_the_conventions() {
    let severities = ["critical", "warning", "info"];
    for ex in ["hello", "shop"] {
        let o = emit(ex, &with_preview());
        for (label, a) in all_artifacts(&o) {
            let (service, env) = label.split_once('@').map(|(s, e)| (s, Some(e))).unwrap_or((&label, None));
            let names = a.alert_names();
            let unique: std::collections::BTreeSet<&String> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{label}: duplicate alert names");
            for r in alerts(&rule_groups(a)) {
                let name = str_of(r, "alert");
                assert!(name.starts_with(|c: char| c.is_ascii_uppercase()) && name.chars().all(|c| c.is_ascii_alphanumeric()), "{label}: {name} is not CamelCase");
                assert!(severities.contains(&str_of(&r["labels"], "severity")), "{label}: {name} severity");
                assert_eq!(r["labels"]["service"], service, "{label}: {name}");
                assert!(r["labels"]["owner"].as_str().is_some_and(|o| o.starts_with("team-")), "{label}: {name} owner");
                assert_eq!(r["labels"]["environment"].as_str(), env, "{label}: {name} environment");
                let ann = &r["annotations"];
                assert!(!str_of(ann, "summary").is_empty(), "{label}: {name} summary");
                match ex {
                    "shop" => assert_eq!(str_of(ann, "runbook_url"), format!("https://runbooks.acme.example.com/shop/{}", name.to_ascii_lowercase())),
                    _ => assert!(ann.get("runbook_url").is_none(), "hello's platform has no runbooks"),
                }
                // Generated alerts (not the spec's own) describe themselves.
                if name.starts_with(&service_camel(service)) && !["CheckoutPaymentsFailing", "FulfillmentDeadLetters"].contains(&name) {
                    assert!(!str_of(ann, "description").is_empty(), "{label}: {name} description");
                }
            }
            // Recording rules follow level:metric:operation.
            for g in rule_groups(a).as_array().unwrap() {
                for r in g["rules"].as_array().unwrap() {
                    if let Some(rec) = r["record"].as_str() {
                        assert!(rec.starts_with("slo:sli_error:ratio_rate"), "{rec}");
                        assert!(r["labels"]["slo"].is_string());
                    }
                }
            }
        }
    }
}

fn service_camel(s: &str) -> String {
    s.split('-').map(|p| p[..1].to_ascii_uppercase() + &p[1..]).collect()
}

#[test]
fn burn_rate_alerts_follow_the_sre_workbook() {
    let o = emit("shop", &BuildOptions::default());
    let a = &o.service("checkout").unwrap().all;
    let fast = alert(a, "CheckoutAvailabilityFastBurn");
    assert_eq!(fast["labels"]["severity"], "critical");
    assert_eq!(fast["labels"]["slo"], "availability");
    let pairs = pairs_of(str_of(&fast, "expr"));
    let short = |(l, s, t): &(String, String, String)| (window_of(l).to_string(), window_of(s).to_string(), t.clone());
    assert_eq!(pairs.iter().map(short).collect::<Vec<_>>(), [("1h".into(), "5m".into(), "(14.4 * 0.0005)".into()), ("6h".into(), "30m".into(), "(6 * 0.0005)".into())]);
    let slow = alert(a, "CheckoutAvailabilitySlowBurn");
    assert_eq!(slow["labels"]["severity"], "warning");
    assert_eq!(pairs_of(str_of(&slow, "expr")).iter().map(short).collect::<Vec<_>>(), [("1d".into(), "2h".into(), "(3 * 0.0005)".into()), ("3d".into(), "6h".into(), "(1 * 0.0005)".into())]);
    // Latency: p99 under 800ms -> budget 1% of requests slower than the 0.8s bucket.
    let lat = alert(a, "CheckoutLatencyFastBurn");
    assert!(str_of(&lat, "expr").contains("(14.4 * 0.01)"));
    let text = yaml(&rule_groups(a));
    assert!(text.contains("le=\"0.8\""), "latency bucket");
    assert!(str_of(&lat["annotations"], "description").contains("28d"), "platform slo-window");
    // One recording rule per objective and window.
    let groups = rule_groups(a);
    let records: Vec<&str> = groups[0]["rules"].as_array().unwrap().iter().map(|r| str_of(r, "record")).collect();
    assert_eq!(records.len(), 2 * 7);
    // Whole seconds match both `1` and `1.0`; other thresholds their exact bucket.
    let payments = yaml(&rule_groups(&o.service("payments").unwrap().all));
    assert!(payments.contains("le=\"1.5\""));
    // gRPC services measure gRPC status codes.
    let catalog = yaml(&rule_groups(&o.service("catalog").unwrap().all));
    assert!(catalog.contains("grpc_server_handled_total{service=\"catalog\"") && catalog.contains("grpc_code=~\"Unknown|DeadlineExceeded|Internal|Unavailable|DataLoss\""));
    assert!(catalog.contains("grpc_server_handling_seconds_bucket"));
    // Availability-only objective: no latency alerts.
    let notif = &o.service("notifications").unwrap().all;
    assert!(notif.alert_names().iter().all(|n| !n.contains("Latency")), "{:?}", notif.alert_names());
    // The rules of one environment select its namespace only.
    let prod = yaml(&rule_groups(&o.service("checkout").unwrap().envs["prod"]));
    assert!(prod.contains("namespace=\"shop-prod\"") && !prod.contains("shop-dev"));
    assert!(text.contains("namespace=~\"shop-dev|shop-staging|shop-prod|shop-preview-.+\""));
}

#[test]
fn baseline_and_resource_alerts_follow_the_spec() {
    let o = emit("shop", &with_preview());
    let f = o.service("fulfillment").unwrap();
    let names = f.all.alert_names();
    for n in [
        "FulfillmentCrashLooping",
        "FulfillmentPodsNotReady",
        "FulfillmentHpaAtMaxReplicas",
        "FulfillmentHighErrorRatio",
        "FulfillmentCpuThrottlingHigh",
        "FulfillmentMemoryNearLimit",
        "FulfillmentOrdersQueueBacklog",
        "FulfillmentOrdersDeadLetters",
        "FulfillmentDeadLetters",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    // Workers and cron jobs are covered by the container and Deployment alerts.
    let crash = alert(&f.all, "FulfillmentCrashLooping");
    assert!(str_of(&crash, "expr").contains("container=~\"fulfillment|fulfillment-order-consumer|fulfillment-invoice-archive\""));
    assert!(str_of(&alert(&f.all, "FulfillmentPodsNotReady"), "expr").contains("deployment=~\"fulfillment|fulfillment-order-consumer\""));
    // Queue metrics come from CloudWatch: only where the queue is on AWS (staging, prod), named
    // like the Terraform names the queue.
    let backlog = str_of(&alert(&f.all, "FulfillmentOrdersQueueBacklog"), "expr").to_string();
    assert!(backlog.contains("shop-staging-fulfillment-orders|shop-prod-fulfillment-orders"), "{backlog}");
    assert!(!backlog.contains("shop-dev"), "{backlog}");
    assert!(f.envs["dev"].alert_names().iter().all(|n| !n.contains("Queue") && n != "FulfillmentOrdersDeadLetters"));
    let prod_backlog = str_of(&alert(&f.envs["prod"], "FulfillmentOrdersQueueBacklog"), "expr").to_string();
    assert!(prod_backlog.contains("queue_name=~\"(shop-prod-fulfillment-orders)(\\\\.fifo)?\""), "{prod_backlog}");
    let dlq = str_of(&alert(&f.envs["prod"], "FulfillmentOrdersDeadLetters"), "expr").to_string();
    assert!(dlq.contains("shop-prod-fulfillment-orders-dlq"), "{dlq}");
    assert_eq!(alert(&f.envs["prod"], "FulfillmentOrdersDeadLetters")["labels"]["resource"], "orders");
    // Postgres connections, in every environment (exporter metrics in-cluster and for RDS).
    let c = o.service("checkout").unwrap();
    let conns = str_of(&alert(&c.envs["dev"], "CheckoutOrdersDbConnectionsHigh"), "expr").to_string();
    assert!(conns.contains("datname=\"orders\"") && conns.contains("pg_settings_max_connections{namespace=\"shop-dev\"}"), "{conns}");
    // The HPA alert only where the service autoscales: never in a preview (one replica).
    assert!(c.envs["prod"].alert_names().contains(&"CheckoutHpaAtMaxReplicas".to_string()));
    assert!(!c.envs["preview"].alert_names().contains(&"CheckoutHpaAtMaxReplicas".to_string()));
    // The branch's slug carries a short hash of the raw branch (so `feature/x` and `feature-x`
    // never share a namespace).
    let slug = lower::preview_slug("feature/new-checkout", 40);
    assert!(slug.starts_with("feature-new-checkout-"), "{slug}");
    assert_eq!(c.envs["preview"].namespace.as_deref(), Some(format!("shop-preview-{slug}").as_str()));
    // SLO contract checks: metrics missing, latency bucket missing (only with a latency SLO).
    assert!(c.all.alert_names().contains(&"CheckoutSloLatencyBucketMissing".to_string()));
    assert!(!o.service("notifications").unwrap().all.alert_names().contains(&"NotificationsSloLatencyBucketMissing".to_string()));
    assert_eq!(alert(&c.all, "CheckoutSloMetricsMissing")["labels"]["severity"], "info");
}

#[test]
fn the_specs_own_alerts_are_included_as_written() {
    let o = emit("shop", &BuildOptions::default());
    let c = &o.service("checkout").unwrap().all;
    let raw = alert(c, "CheckoutPaymentsFailing");
    assert_eq!(str_of(&raw, "expr"), "sum(rate(checkout_payment_failures_total[5m])) / sum(rate(checkout_payment_attempts_total[5m])) > 0.05");
    assert_eq!(raw["for"], "10m");
    assert_eq!(raw["labels"], serde_json::json!({"severity": "critical", "owner": "team-checkout", "service": "checkout"}));
    assert_eq!(raw["annotations"]["summary"], "More than 5% of payments fail");
    let prod = alert(&o.service("checkout").unwrap().envs["prod"], "CheckoutPaymentsFailing");
    assert_eq!(prod["labels"]["environment"], "prod");
    assert_eq!(prod["expr"], raw["expr"]);
    let f = alert(&o.service("fulfillment").unwrap().all, "FulfillmentDeadLetters");
    assert_eq!(f["labels"]["severity"], "warning");
}

/// A stdlib overlay directory with `files` (relative path, text).
fn overlay(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (p, t) in files {
        write(&dir.path().join(p), t.as_bytes());
    }
    dir
}

fn builtin(path: &str) -> String {
    std::fs::read_to_string(root().join("stdlib").join(path)).unwrap()
}

#[test]
fn an_overlay_retunes_the_alerts_and_the_unit_tests_follow() {
    let slo = builtin("observability/slo.yaml").replace("{long: 1h, short: 5m, factor: 14.4}", "{long: 2h, short: 10m, factor: 10}").replace("    for: 2m\n", "    for: 5m\n");
    let alerts = builtin("observability/alerts.yaml").replace("> 0.25", "> 0.5");
    let ov = overlay(&[("observability/slo.yaml", slo), ("observability/alerts.yaml", alerts)]);
    let o = emit_with(&RealFs, &[PathBuf::from("examples/hello")], &[ov.path().to_path_buf()], &BuildOptions::default()).unwrap();
    let a = &o.service("hello").unwrap().all;
    let fast = str_of(&alert(a, "HelloAvailabilityFastBurn"), "expr").to_string();
    assert!(fast.contains("slo:sli_error:ratio_rate2h") && fast.contains("(10 * 0.005)") && !fast.contains("14.4"), "{fast}");
    assert!(str_of(&alert(a, "HelloCpuThrottlingHigh"), "expr").ends_with("> 0.5"));
    assert_eq!(alert(a, "HelloAvailabilityFastBurn")["for"], "5m");
    // The new windows are recorded, and the generated tests prove the retuned alerts.
    assert!(yaml(&rule_groups(a)).contains("record: slo:sli_error:ratio_rate10m"));
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path(), a);
    let (ok, out) = promtool_test(dir.path());
    assert!(ok, "{out}");
}

#[test]
fn a_broken_overlay_is_reported_with_its_file() {
    let alerts = builtin("observability/alerts.yaml").replace("container=~\"<containers>\", reason=", "container=~\"<contaners>\", reason=").replace("severity: info", "severity: page");
    let ov = overlay(&[("observability/alerts.yaml", alerts)]);
    let errors = emit_with(&RealFs, &[PathBuf::from("examples/hello")], &[ov.path().to_path_buf()], &BuildOptions::default()).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(text.iter().any(|e| e.contains("severity `page`") && e.contains("observability/alerts.yaml")), "{text:?}");
    let slo = builtin("observability/slo.yaml").replace("{{ $labels.namespace }}\"", "{{ $value }}\"");
    let ov = overlay(&[("observability/slo.yaml", slo)]);
    let errors = emit_with(&RealFs, &[PathBuf::from("examples/hello")], &[ov.path().to_path_buf()], &BuildOptions::default()).unwrap_err();
    assert!(errors.iter().any(|e| e.message.contains("{{ $value }}")), "{errors:?}");
    // A typo in a placeholder names itself and the ones there are.
    let alerts = builtin("observability/alerts.yaml").replace("container=~\"<containers>\", reason=", "container=~\"<contaners>\", reason=");
    let ov = overlay(&[("observability/alerts.yaml", alerts)]);
    let errors = emit_with(&RealFs, &[PathBuf::from("examples/hello")], &[ov.path().to_path_buf()], &BuildOptions::default()).unwrap_err();
    assert!(errors.iter().any(|e| e.message.contains("<contaners>") && e.message.contains("<containers>")), "{errors:?}");
}

#[test]
fn snapshot_of_a_rule_file_and_its_unit_tests() {
    let o = emit("shop", &BuildOptions::default());
    let files: BTreeMap<String, Vec<u8>> = o.service("checkout").unwrap().files().into_iter().collect();
    let text = |p: &str| String::from_utf8(files[p].clone()).unwrap();
    insta::with_settings!({snapshot_path => root().join("snapshots/observability"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("checkout_rules", text("checkout/alerts/rules.yaml"));
        insta::assert_snapshot!("checkout_rules_test", text("checkout/alerts/rules.test.yaml"));
    });
}

#[test]
fn docs_list_every_generated_alert() {
    let docs = std::fs::read_to_string(root().join("docs/observability.md")).unwrap();
    let mut names = Vec::new();
    for file in ["observability/alerts.yaml", "observability/slo.yaml"] {
        for line in builtin(file).lines() {
            if let Some(name) = line.trim().trim_start_matches("- ").strip_prefix("alert: ") {
                names.push(name.trim().to_string());
            }
        }
    }
    assert!(names.len() >= 14, "{names:?}");
    for n in names {
        assert!(docs.contains(&format!("`{n}`")), "docs/observability.md does not document `{n}`");
    }
}

/// Issue 19's port-role symptom: with `port admin 9090` (HTTP) declared before `port api 50051
/// grpc` and the public route to `api`, the SLO measured `admin` (the first serving port) while
/// the traffic went to gRPC. The SLO measures the port the routes reach
/// (`resolve::roles::measured_port`): its recording rules, alerts, unit tests and dashboard count
/// gRPC requests.
#[test]
fn the_slo_measures_the_port_the_routes_reach_not_the_first_port() {
    let mut fs = platc_check::fs::MemoryFs::new();
    fs.add("/repo/platform.kdl", include_str!("cases/fixtures/platform.kdl"));
    let spec = r#"service checkout {
    owner team-checkout
    image "ghcr.io/acme/checkout"
    port admin 9090
    port api 50051 protocol=grpc
    route "/checkout.v1.Checkout" port=api public=#true
    health readiness="/ready" liveness="/healthz"
    slo availability="99.9%" latency-p99="300ms"
}"#;
    fs.add("/repo/checkout/service.kdl", spec);
    let obs = emit_with(&fs, &[PathBuf::from("/repo")], &[], &BuildOptions::default()).unwrap_or_else(|e| panic!("{e:?}"));
    let all = &obs.service("checkout").expect("checkout").all;
    let rules = serde_json::to_string(&all.prometheus_rule_spec()).unwrap();
    let tests = all.unit_tests.to_string();
    let dashboard = all.dashboard.to_string();
    for (what, text) in [("rules", &rules), ("unit tests", &tests), ("dashboard", &dashboard)] {
        assert!(text.contains("grpc_server_handled_total"), "{what} must count the gRPC requests the route sends:\n{text}");
        assert!(!text.contains("http_requests_total"), "{what} must not measure the HTTP admin port:\n{text}");
    }
}

/// OpenTelemetry's metric names, chosen by the platform with an overlay of settings.yaml (the
/// one docs/observability.md shows): the rules, the unit tests and the dashboard follow,
/// milliseconds included, and promtool passes the generated tests.
#[test]
fn opentelemetry_metric_names_come_from_the_platforms_settings() {
    let doc = std::fs::read_to_string(root().join("docs/observability.md")).unwrap();
    let start = doc.find("  ```yaml\n  protocols:").expect("the documented overlay") + "  ```yaml\n".len();
    let protocols: String = doc[start..].lines().take_while(|l| !l.trim_start().starts_with("```")).map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l))).collect();
    let settings = builtin("observability/settings.yaml");
    let settings = format!("{}{protocols}", &settings[..settings.find("\nprotocols:").expect("protocols in settings.yaml") + 1]);
    let ov = overlay(&[("observability/settings.yaml", settings)]);
    let o = emit_with(&RealFs, &[PathBuf::from("examples/polyglot")], &[ov.path().to_path_buf()], &BuildOptions::default()).unwrap_or_else(|e| panic!("{e:?}"));
    // cart measures gRPC with a 100ms latency objective; frontend HTTP with 500ms.
    let cart = &o.service("cart").unwrap().all;
    let rules = yaml(&rule_groups(cart));
    assert!(rules.contains("rpc_server_duration_milliseconds_bucket{service=\"cart\"") && rules.contains("le=~\"100|100.0\""), "{rules}");
    assert!(rules.contains("rpc_grpc_status_code=~\"2|4|13|14|15\"") && !rules.contains("grpc_server_handled_total"), "{rules}");
    let frontend = &o.service("frontend").unwrap().all;
    let rules = yaml(&rule_groups(frontend));
    assert!(rules.contains("http_server_request_duration_seconds_bucket{service=\"frontend\"") && rules.contains("le=\"0.5\""), "{rules}");
    assert!(!rules.contains("http_requests_total"), "{rules}");
    let dashboard = serde_json::to_string(&cart.dashboard).unwrap();
    assert!(dashboard.contains("rpc_server_duration_milliseconds_bucket") && dashboard.contains(" / 1000"), "{dashboard}");
    let dashboard = serde_json::to_string(&frontend.dashboard).unwrap();
    assert!(!dashboard.contains(" / 1000"), "seconds need no conversion");
    for (name, a) in [("cart", cart), ("frontend", frontend)] {
        let dir = tempfile::tempdir().unwrap();
        write_rules(dir.path(), a);
        let (ok, out) = promtool_test(dir.path());
        assert!(ok, "{name}: {out}");
    }
}

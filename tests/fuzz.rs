//! Property tests: whatever the input, the loader, the checker and all four renderers never
//! panic, and every diagnostic's spans lie inside its file, on character boundaries.
//!
//! - arbitrary text (any Unicode, lossy bytes, KDL-like token soup, and well-formed KDL made of
//!   platc's node names, properties and values in random places) as `service.kdl` and as
//!   `platform.kdl`;
//! - mutations of real specs: every service.kdl and platform.kdl under examples/ plus realistic
//!   specs embedded here, with random byte deletions, insertions and replacements, token swaps,
//!   and duplicated or dropped lines.
//!
//! Cases per property: exactly `PROPTEST_CASES` if set. Otherwise up to 2,000, but a property
//! starts no new case after 10 s (`PLATC_FUZZ_SECONDS`, at least 100 cases), which keeps the
//! binary under ~30 s in a debug build: kdl parses slowly without optimisations (about 250 cases
//! per property fit on two idle cores; with dependencies built at opt-level 2, all 2,000 do). Each
//! property prints how many cases it ran (`cargo test --test fuzz -- --nocapture`). Failures are
//! shrunk and printed with the input text, never written to a regressions file.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::{check_tree, span_problems, Run, CHECKOUT, FORMATS, PAYMENTS, PLATFORM};
use platc_syntax::diagnostics::render;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Cases per property when PROPTEST_CASES is not set.
const DEFAULT_CASES: u32 = 2_000;
/// Without PROPTEST_CASES, a property stops starting new cases after this many seconds
/// (PLATC_FUZZ_SECONDS), so that the binary stays near 30 s in a debug build, where kdl parses
/// slowly; with optimised dependencies all 2,000 cases fit.
const DEFAULT_SECONDS: u64 = 10;
/// ... but runs at least this many.
const MIN_CASES: usize = 100;

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        // Keep the tree clean: a failure is printed with its shrunk input instead.
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    })
}

/// Runs the property over `strategy` and prints how many cases ran and how long it took.
fn run_property<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.trim().parse::<u64>().ok());
    let fixed = env("PROPTEST_CASES");
    let n = fixed.map(|c| c as u32).unwrap_or(DEFAULT_CASES);
    let seconds = env("PLATC_FUZZ_SECONDS").unwrap_or(DEFAULT_SECONDS);
    let start = Instant::now();
    let deadline = fixed.is_none().then(|| start + std::time::Duration::from_secs(seconds));
    let (ran, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
    let result = runner(n).run(&strategy, |value| {
        // Past the budget, new cases are skipped; never while shrinking a failure.
        let out_of_time = deadline.is_some_and(|d| Instant::now() > d) && ran.load(Ordering::Relaxed) >= MIN_CASES;
        if out_of_time && !failed.load(Ordering::Relaxed) {
            return Ok(());
        }
        ran.fetch_add(1, Ordering::Relaxed);
        let r = test(value);
        if r.is_err() {
            failed.store(true, Ordering::Relaxed);
        }
        r
    });
    let ran = ran.load(Ordering::Relaxed);
    let parsed = PARSED.with(|p| p.get());
    let why = match (fixed, ran < n as usize) {
        (Some(_), _) => "PROPTEST_CASES".to_string(),
        (None, true) => format!("stopped by the {seconds} s budget (PLATC_FUZZ_SECONDS; PROPTEST_CASES=N runs exactly N)"),
        (None, false) => "default".to_string(),
    };
    println!("fuzz {name}: {ran} cases run in {:.1} s (of {n}; {why}); {parsed} parsed as KDL and reached the checker", start.elapsed().as_secs_f64());
    if let Err(e) = result {
        panic!("fuzz {name} failed: {e}");
    }
}

/// The GitHub annotations of `diags`: one per diagnostic, but at most 50 per file and code,
/// and then one that counts the others.
fn annotations(diags: &[platc_syntax::diagnostics::Diagnostic]) -> usize {
    let mut groups: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for d in diags {
        *groups.entry((d.primary.file, d.code)).or_default() += 1;
    }
    groups.values().map(|&n| n.min(50) + usize::from(n > 50)).sum()
}

/// Every renderer on every run, the machine formats' shape, and the span invariants.
fn exercise(run: &Run) -> Result<(), TestCaseError> {
    for (format, name) in FORMATS {
        let out = render(&run.diags, &run.sources, format, false);
        prop_assert!(run.diags.is_empty() || !out.is_empty(), "{name} rendered nothing for {} diagnostics", run.diags.len());
        match name {
            "json" => {
                prop_assert_eq!(out.lines().count(), run.diags.len(), "one JSON line per diagnostic");
                for line in out.lines() {
                    let v: Result<serde_json::Value, _> = serde_json::from_str(line);
                    prop_assert!(v.is_ok_and(|v| v.is_object()), "not a JSON object: {}", line);
                }
            }
            "github" => prop_assert_eq!(out.lines().count(), annotations(&run.diags), "one annotation per diagnostic shown, on one line"),
            "sarif" => {
                let v: Result<serde_json::Value, _> = serde_json::from_str(&out);
                prop_assert!(v.is_ok_and(|v| v["runs"][0]["results"].as_array().map(Vec::len) == Some(run.diags.len())), "SARIF document with one result per diagnostic");
            }
            _ => {}
        }
    }
    // The human renderer with colour takes another path through miette.
    let _ = render(&run.diags, &run.sources, platc_syntax::diagnostics::Format::Human, true);
    let problems = span_problems(run);
    prop_assert!(problems.is_empty(), "bad spans:\n{}", problems.join("\n"));
    Ok(())
}

/// The fixed part of every fuzzed tree, kept small because kdl parses slowly in a debug build and
/// every file is parsed on every case: a compact platform (same environments and policies as the
/// shared fixture), the companion `payments`, and a stdlib overlay that replaces each built-in
/// resource type with a copy stripped of comments and docs (same params, allowed values and
/// outputs), so that no built-in type file is parsed either.
struct Context {
    platform: &'static str,
    types: Vec<(String, String)>,
}

const LIGHT_PLATFORM: &str = r#"platform acme {
    registry "ghcr.io/acme"
    domain "acme.example.com"
    gitops argocd repo="https://github.com/acme/gitops.git"
    ingress ingress cluster-issuer=letsencrypt
    defaults {
        scale min=2 max=4
    }
    environment dev { provision in-cluster; }
    environment staging { provision aws; }
    environment prod protected=#true { provision aws; }
    environment preview ttl="72h" { provision in-cluster; }
    policies {
        min-replicas 2 env=prod
        max-memory "4Gi"
        allowed-registries "ghcr.io/acme"
        forbid-loosening
    }
}
"#;

/// A resource type file without comments, `description` and `doc="..."`.
fn strip_docs(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//") || t.starts_with("description ") {
            continue;
        }
        let mut line = line.to_string();
        while let Some(i) = line.find(" doc=\"") {
            let rest = &line[i + 6..];
            let mut end = None;
            let mut escaped = false;
            for (j, c) in rest.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = Some(j);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            let Some(end) = end else { break };
            line = format!("{}{}", &line[..i], &rest[end + 1..]);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn context() -> &'static Context {
    static CX: std::sync::OnceLock<Context> = std::sync::OnceLock::new();
    CX.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib/types");
        let mut types: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (format!("lib/types/{}", p.file_name().unwrap().to_string_lossy()), strip_docs(&text))
            })
            .collect();
        types.sort();
        assert!(!types.is_empty(), "no resource types in {}", dir.display());
        Context { platform: LIGHT_PLATFORM, types }
    })
}

thread_local! {
    /// Cases of the current property (each test runs on its own thread) whose input parsed.
    static PARSED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Loads, checks and renders `files` plus the compact stdlib overlay; a panic or a broken
/// invariant becomes a failure that shows the input text (proptest alone would only show the
/// strategy's value).
fn guarded(files: &[(&str, &str)], input: &str) -> Result<(), TestCaseError> {
    let cx = context();
    let mut all: Vec<(&str, &str)> = files.to_vec();
    all.extend(cx.types.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let result = std::panic::catch_unwind(|| -> Result<(), TestCaseError> {
        let run = match check_tree(&all, &["lib"]) {
            Ok(run) => run,
            // `stdlib "DIR"` in platform.kdl names an overlay directory that this tree does not
            // have: an I/O failure (exit code 2) by design, not a crash.
            Err(e) if e.starts_with("cannot load stdlib overlay") => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("an in-memory tree must load: {e}"))),
        };
        if !run.diags.iter().any(|d| d.code == platc_syntax::diagnostics::codes::SYNTAX || d.code == platc_syntax::diagnostics::codes::EXPECTED_TOP_NODE) {
            PARSED.with(|p| p.set(p.get() + 1));
        }
        exercise(&run)
    });
    let failure = match result {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => e.to_string(),
        Err(panic) => {
            let msg = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            format!("PANIC: {}", msg.unwrap_or_default())
        }
    };
    Err(TestCaseError::fail(format!("{failure}\n--- input ({} bytes)\n{input}\n--- (as Rust) {input:?}", input.len())))
}

/// Checks `text` as `checkout/service.kdl` next to the platform and `payments`.
fn as_service(text: &str) -> Result<(), TestCaseError> {
    guarded(&[("platform.kdl", context().platform), ("payments/service.kdl", PAYMENTS), ("checkout/service.kdl", text)], text)
}

/// Checks `text` as `platform.kdl` above the companion `payments`.
fn as_platform(text: &str) -> Result<(), TestCaseError> {
    guarded(&[("platform.kdl", text), ("payments/service.kdl", PAYMENTS)], text)
}

/// The compact context means the same as the full one: the clean fixtures stay clean with it.
#[test]
fn compact_context_is_faithful() {
    let cx = context();
    for (path, text) in &cx.types {
        assert!(!text.contains("doc=") && text.contains("output"), "{path} not stripped as expected:\n{text}");
    }
    let mut files: Vec<(&str, &str)> = vec![("platform.kdl", cx.platform), ("payments/service.kdl", PAYMENTS), ("checkout/service.kdl", CHECKOUT)];
    files.extend(cx.types.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let run = check_tree(&files, &["lib"]).unwrap();
    assert!(run.diags.is_empty(), "{}", run.render(platc_syntax::diagnostics::Format::Human));
    let full = check_tree(&[("platform.kdl", PLATFORM), ("payments/service.kdl", PAYMENTS), ("checkout/service.kdl", RICH_SERVICE)], &[]).unwrap();
    let mut light_files: Vec<(&str, &str)> = vec![("platform.kdl", cx.platform), ("payments/service.kdl", PAYMENTS), ("checkout/service.kdl", RICH_SERVICE)];
    light_files.extend(cx.types.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let light = check_tree(&light_files, &["lib"]).unwrap();
    assert_eq!(full.codes(), light.codes(), "the rich spec gets the same codes with the compact context");
}

/// Pieces of KDL and of platc's language, to build inputs that get past the parser more often
/// than random characters do.
const TOKENS: &[&str] = &[
    "service",
    "platform",
    "resource-type",
    "checkout",
    "payments",
    "{",
    "}",
    "{\n",
    "}\n",
    "\n",
    " ",
    "  ",
    ";",
    "=",
    "\"",
    "#\"",
    "\"#",
    "\"\"\"\n",
    "#true",
    "#false",
    "#null",
    "true",
    "/-",
    "//",
    "/*",
    "*/",
    "\\",
    "(",
    ")",
    "(json)",
    "0",
    "8080",
    "-1",
    "1.5",
    "1e999",
    "0x1F",
    "99999999999999999999999999999999999999",
    "250m",
    "\"250m\"",
    "\"256Mi\"",
    "\"99.9%\"",
    "\"30s\"",
    "port",
    "http",
    "route",
    "\"/api\"",
    "public=#true",
    "health",
    "readiness=\"/ready\"",
    "env",
    "A=",
    "\"${resources.db.host}\"",
    "\"${",
    "${platform.domain}",
    "\"${service.payments.url}\"",
    "$${",
    "uses",
    "postgres",
    "db",
    "calls",
    "depends-on",
    "resources",
    "cpu=",
    "memory=",
    "scale",
    "min=",
    "max=",
    "slo",
    "availability=",
    "cron",
    "schedule=",
    "\"0 3 * * *\"",
    "command",
    "worker",
    "alert",
    "expr=",
    "environment",
    "prod",
    "dev",
    "patch",
    "merge=",
    "#\"{\"a\":1}\"#",
    "json=",
    "secret",
    "from=",
    "value=",
    "image",
    "\"ghcr.io/acme/x:latest\"",
    "policies",
    "min-replicas",
    "provision",
    "aws",
    "in-cluster",
    "registry",
    "domain",
    "gitops",
    "argocd",
    "repo=",
    "defaults",
    "param",
    "output",
    "allowed",
    "é",
    "☕",
    "\u{200b}",
    "\u{feff}",
    "\r\n",
    "\r",
    "\t",
    "\u{85}",
    "\u{2028}",
    "𝔘",
    "e\u{301}",
];

/// Node names of every level of the language, and a few it does not have.
const NAMES: &[&str] = &[
    "owner",
    "description",
    "language",
    "image",
    "port",
    "route",
    "health",
    "env",
    "secret",
    "resources",
    "scale",
    "uses",
    "calls",
    "depends-on",
    "worker",
    "cron",
    "slo",
    "alert",
    "environment",
    "patch",
    "security",
    "readiness",
    "liveness",
    "startup",
    "command",
    "replicas",
    "provision",
    "policies",
    "min-replicas",
    "max-cpu",
    "max-memory",
    "require-slo",
    "allowed-registries",
    "forbid-loosening",
    "cloud",
    "registry",
    "domain",
    "gitops",
    "ingress",
    "ci",
    "identity",
    "secret-store",
    "runbooks",
    "terraform-backend",
    "defaults",
    "slo-window",
    "stdlib",
    "param",
    "output",
    "allowed",
    "memroy",
    "servce",
    "x",
    "(json)patch",
];
/// Property names.
const KEYS: &[&str] = &[
    "cpu",
    "memory",
    "cpu-limit",
    "memory-limit",
    "min",
    "max",
    "public",
    "port",
    "host",
    "protocol",
    "readiness",
    "liveness",
    "availability",
    "latency-p99",
    "window",
    "schedule",
    "concurrency",
    "expr",
    "for",
    "severity",
    "from",
    "key",
    "value",
    "merge",
    "json",
    "env",
    "name",
    "version",
    "size",
    "storage",
    "ttl",
    "protected",
    "repo",
    "region",
    "type",
    "default",
    "doc",
    "secret",
    "period",
    "timeout",
    "failure-threshold",
    "run-as-root",
    "LOG_LEVEL",
    "log-level",
];
/// Valid KDL v2 values, right and wrong for platc.
const VALUES: &[&str] = &[
    "\"250m\"",
    "\"0.5\"",
    "2",
    "0",
    "-1",
    "2.5",
    "8080",
    "70000",
    "\"256Mi\"",
    "\"256MB\"",
    "512",
    "\"30s\"",
    "\"10\"",
    "\"1500ms\"",
    "\"70%\"",
    "\"101%\"",
    "\"99.9%\"",
    "#true",
    "#false",
    "#null",
    "\"true\"",
    "http",
    "grpc",
    "tcp",
    "postgres",
    "redis",
    "mongodb",
    "orders",
    "payments",
    "checkout",
    "prod",
    "dev",
    "production",
    "aws",
    "in-cluster",
    "\"/api\"",
    "\"api\"",
    "\"shop.example.com\"",
    "\"https://x.example.com\"",
    "\"ghcr.io/acme/x\"",
    "\"ghcr.io/acme/x:latest\"",
    "\"0 3 * * *\"",
    "\"0 25 * * *\"",
    "\"@daily\"",
    "\"${resources.orders.host}\"",
    "\"${resources.orders.password}@x\"",
    "\"${service.payments.url}\"",
    "\"${platform.domain}\"",
    "\"${x\"",
    "\"${}\"",
    "\"$${HOME}\"",
    "#\"{\"a\":1}\"#",
    "#\"[1]\"#",
    "#\"[{\"op\":\"add\",\"path\":\"/a\",\"value\":1}]\"#",
    "\"é☕\"",
    "\"\"",
    "\"\\u{1F600}\"",
    "\"\"\"\n  multi\n  line\n  \"\"\"",
    "0x10",
    "1e3",
    "#inf",
    "#nan",
];

/// One node: a name, arguments and properties, maybe a children block of such nodes.
fn node(depth: u32) -> BoxedStrategy<String> {
    let head = (
        proptest::sample::select(NAMES),
        proptest::collection::vec(proptest::sample::select(VALUES), 0..3),
        proptest::collection::vec((proptest::sample::select(KEYS), proptest::sample::select(VALUES)), 0..4),
    )
        .prop_map(|(name, args, props)| {
            let mut line = name.to_string();
            for a in args {
                line.push(' ');
                line.push_str(a);
            }
            for (k, v) in props {
                line.push_str(&format!(" {k}={v}"));
            }
            line
        });
    if depth == 0 {
        return head.boxed();
    }
    (head, proptest::option::weighted(0.3, proptest::collection::vec(node(depth - 1), 0..5)))
        .prop_map(|(head, children)| match children {
            Some(c) => format!("{head} {{\n{}\n}}", c.join("\n")),
            None => head,
        })
        .boxed()
}

/// Well-formed KDL made of platc's words in random places: gets past the parser, so that the
/// checker sees every node where it does not belong, every value where another was expected.
fn random_document() -> impl Strategy<Value = String> {
    (proptest::sample::select(&["service checkout", "platform acme", "resource-type mongodb port=27017", "service"][..]), proptest::collection::vec(node(2), 0..14))
        .prop_map(|(top, nodes)| format!("{top} {{\n{}\n}}\n", nodes.join("\n")))
}

/// Arbitrary text: any Unicode string, lossily decoded bytes, a soup of tokens, or well-formed
/// KDL in platc's words.
fn arbitrary_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        2 => proptest::collection::vec(any::<u8>(), 0..400).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        4 => proptest::collection::vec(proptest::sample::select(TOKENS), 0..80).prop_map(|t| t.concat()),
        1 => proptest::collection::vec(proptest::sample::select(TOKENS), 0..40)
            .prop_map(|t| format!("service checkout {{\n{}\n}}\n", t.join(" "))),
        4 => random_document(),
    ]
}

#[test]
fn arbitrary_text_as_service() {
    run_property("arbitrary text as service.kdl", arbitrary_text(), |text| as_service(&text));
}

#[test]
fn arbitrary_text_as_platform() {
    run_property("arbitrary text as platform.kdl", arbitrary_text(), |text| as_platform(&text));
}

/// A realistic spec with multi-byte characters, `${...}` references, raw strings, processes,
/// overrides and patches, so that mutations land in every part of the language.
const RICH_SERVICE: &str = r##"// Côté caisse ☕: every node kind, with multi-byte text before spans.
service checkout {
    owner team-checkout
    description "Caisse — paiement ☕ rapide"
    language go
    image "ghcr.io/acme/checkout"
    port http 8080
    port grpc 9090 protocol=grpc
    route "/api/checkout" public=#true host="shop.acme.example.com"
    health {
        readiness http "/ready" period="10s" timeout="1s"
        liveness http "/healthz"
        startup grpc port=grpc failure-threshold=30
    }
    uses postgres orders version="16" size=medium storage="100Gi"
    uses redis sessions
    env DATABASE_URL="${resources.orders.url}" GREETING="héllo ${platform.domain}"
    env CACHE_HOST="${resources.sessions.host}" PAYMENTS="${service.payments.url}" LITERAL="$${HOME}"
    secret STRIPE_KEY from="payments/stripe" key=api-key
    calls payments port=grpc
    depends-on payments
    resources cpu="250m" memory="256Mi" cpu-limit="1" memory-limit="512Mi"
    scale min=2 max=6 cpu="70%" memory="80%"
    slo availability="99.9%" latency-p99="300ms" window="30d"
    alert CheckoutSlow expr="histogram_quantile(0.99, sum(rate(http_duration_seconds_bucket[5m])) by (le)) > 0.5" for="10m" severity=warning summary="Slow"
    worker mailer {
        command "bin/mailer" "--queue=emails"
        replicas 2
        env QUEUE="emails"
        resources cpu="100m" memory="128Mi"
    }
    cron cleanup schedule="0 3 * * *" concurrency=forbid {
        command "bin/cleanup"
    }
    environment prod {
        scale min=3 max=10
        resources cpu="500m" memory="512Mi" cpu-limit="2" memory-limit="1Gi"
        env LOG_LEVEL=warn
    }
    environment preview {
        scale min=1 max=1
    }
    patch Deployment merge=#"{"spec":{"revisionHistoryLimit":3}}"# env=prod
    patch Service json=#"[{"op":"add","path":"/metadata/labels/tier","value":"gold"}]"#
    security writable-root-fs=#false
}
"##;

/// The corpus: (is a platform.kdl, name, text).
fn corpus() -> Vec<(bool, String, String)> {
    let mut out = vec![
        (false, "fixture checkout".to_string(), CHECKOUT.to_string()),
        (false, "fixture payments".to_string(), PAYMENTS.to_string()),
        (false, "rich service".to_string(), RICH_SERVICE.to_string()),
        (true, "fixture platform".to_string(), PLATFORM.to_string()),
    ];
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&examples)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n == "service.kdl" || n == "platform.kdl"))
        .collect();
    files.sort();
    for f in files {
        if let Ok(text) = std::fs::read_to_string(&f) {
            let name = f.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_or(&f).display().to_string();
            out.push((f.file_name().is_some_and(|n| n == "platform.kdl"), name, text));
        }
    }
    out
}

/// One edit of a spec's bytes. Positions are fractions of the length, so that they apply to any
/// text.
#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: f64, len: usize },
    Insert { at: f64, bytes: Vec<u8> },
    InsertToken { at: f64, token: &'static str },
    Replace { at: f64, byte: u8 },
    SwapTokens { a: f64, b: f64 },
    DuplicateLine { at: f64 },
    DropLine { at: f64 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        3 => (at.clone(), 1..12usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        2 => (at.clone(), proptest::collection::vec(any::<u8>(), 1..6)).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        3 => (at.clone(), proptest::sample::select(TOKENS)).prop_map(|(at, token)| Mutation::InsertToken { at, token }),
        2 => (at.clone(), any::<u8>()).prop_map(|(at, byte)| Mutation::Replace { at, byte }),
        3 => (at.clone(), at.clone()).prop_map(|(a, b)| Mutation::SwapTokens { a, b }),
        1 => at.clone().prop_map(|at| Mutation::DuplicateLine { at }),
        1 => at.prop_map(|at| Mutation::DropLine { at }),
    ]
}

fn pos(at: f64, len: usize) -> usize {
    ((at * len as f64) as usize).min(len)
}

/// Applies the mutations to the bytes of `text`; invalid UTF-8 is decoded lossily (the loader
/// only ever sees text).
fn mutate(text: &str, muts: &[Mutation]) -> String {
    let mut b = text.as_bytes().to_vec();
    for m in muts {
        match m {
            Mutation::Delete { at, len } => {
                let s = pos(*at, b.len());
                let e = (s + len).min(b.len());
                b.drain(s..e);
            }
            Mutation::Insert { at, bytes } => {
                let s = pos(*at, b.len());
                b.splice(s..s, bytes.iter().copied());
            }
            Mutation::InsertToken { at, token } => {
                let s = pos(*at, b.len());
                b.splice(s..s, token.bytes());
            }
            Mutation::Replace { at, byte } => {
                if !b.is_empty() {
                    let s = pos(*at, b.len() - 1);
                    b[s] = *byte;
                }
            }
            Mutation::SwapTokens { a, b: other } => {
                // Tokens are maximal runs of non-whitespace bytes.
                let mut tokens = Vec::new();
                let mut i = 0;
                while i < b.len() {
                    if b[i].is_ascii_whitespace() {
                        i += 1;
                        continue;
                    }
                    let s = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    tokens.push(s..i);
                }
                if tokens.len() >= 2 {
                    let (x, y) = (pos(*a, tokens.len() - 1), pos(*other, tokens.len() - 1));
                    let (x, y) = (x.min(y), x.max(y));
                    if x != y {
                        let (rx, ry) = (tokens[x].clone(), tokens[y].clone());
                        let mut out = b[..rx.start].to_vec();
                        out.extend_from_slice(&b[ry.clone()]);
                        out.extend_from_slice(&b[rx.end..ry.start]);
                        out.extend_from_slice(&b[rx]);
                        out.extend_from_slice(&b[ry.end..]);
                        b = out;
                    }
                }
            }
            Mutation::DuplicateLine { at } | Mutation::DropLine { at } => {
                let lines: Vec<Vec<u8>> = b.split_inclusive(|c| *c == b'\n').map(|l| l.to_vec()).collect();
                if !lines.is_empty() {
                    let i = pos(*at, lines.len() - 1);
                    let mut out = Vec::with_capacity(b.len() + lines[i].len());
                    for (j, l) in lines.iter().enumerate() {
                        if j == i && matches!(m, Mutation::DropLine { .. }) {
                            continue;
                        }
                        out.extend_from_slice(l);
                        if j == i && matches!(m, Mutation::DuplicateLine { .. }) {
                            out.extend_from_slice(l);
                        }
                    }
                    b = out;
                }
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn mutation_helpers_do_what_they_say() {
    assert_eq!(mutate("a b c", &[Mutation::SwapTokens { a: 0.0, b: 1.0 }]), "c b a");
    assert_eq!(mutate("abc", &[Mutation::Delete { at: 0.0, len: 2 }]), "c");
    assert_eq!(mutate("x\ny\n", &[Mutation::DuplicateLine { at: 1.0 }]), "x\ny\ny\n");
    assert_eq!(mutate("x\ny\n", &[Mutation::DropLine { at: 0.0 }]), "y\n");
    // A deletion inside a multi-byte character leaves replacement characters, not a panic.
    assert_eq!(mutate("é", &[Mutation::Delete { at: 0.0, len: 1 }]), "\u{fffd}");
    let corpus = corpus();
    assert!(corpus.len() >= 4);
    for (is_platform, name, text) in &corpus {
        // Unmutated, every spec of the corpus goes through without panicking either.
        let r = if *is_platform { as_platform(text) } else { as_service(text) };
        assert!(r.is_ok(), "{name}: {r:?}");
    }
}

#[test]
fn mutated_real_specs() {
    let corpus = corpus();
    println!("fuzz corpus: {} specs ({})", corpus.len(), corpus.iter().map(|(_, n, _)| n.as_str()).collect::<Vec<_>>().join(", "));
    let strategy = (0..corpus.len(), proptest::collection::vec(mutation(), 1..8));
    run_property("mutated real specs", strategy, |(i, muts)| {
        let (is_platform, _, text) = &corpus[i];
        let mutated = mutate(text, &muts);
        if *is_platform {
            as_platform(&mutated)
        } else {
            as_service(&mutated)
        }
    });
}

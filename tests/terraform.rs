//! Terraform for the `aws` provisioner (compiler/platc-emit/src/emit/terraform, stdlib/terraform).
//!
//! Builds examples/shop, examples/hello and an in-memory fixture that uses every resource type
//! (IRSA, no state backend, FIFO queue and topic, a bucket without versioning, redis and mongodb
//! without replicas), then runs the real validators on every Terraform directory: `terraform fmt
//! -check`, `terraform init -backend=false` + `terraform validate` against the offline provider
//! mirror, and checkov (terraform framework) with 0 failed checks. A missing validator FAILS
//! these tests (`.ci/oracles.sh install` installs them); it never skips them.
//!
//! Checkov skips: [`CHECKOV_SKIPS`], each with its reason in docs/security.md (a test
//! checks that). Set PLATC_TF_KEEP=1 to keep the generated trees for a look.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use platc_check::fs::{FileSystem, MemoryFs, RealFs};
use platc_emit::emit::terraform::{self, hcl, inspect};
use platc_emit::emit::Output;
use platc_emit::lower::{self, BuildOptions};

/// Checks skipped for every Terraform directory, with `--skip-check`; the reasons are in
/// docs/security.md. Empty: the few findings that remain are skipped inline, on the
/// generated resource they concern, with the reason in the comment (also documented there).
const CHECKOV_SKIPS: &[&str] = &[];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------------------------------------ inputs

/// A platform that uses IRSA, has no state backend, and serves everything with `aws` in prod
/// and staging.
const ALL_PLATFORM: &str = r#"platform acme {
    cloud aws region=us-east-2
    registry "ghcr.io/acme"
    domain acme.example.com
    gitops argocd repo="https://github.com/acme/gitops.git" branch=main path=deploy
    ci github-actions
    identity irsa
    environment dev {
        provision in-cluster
    }
    environment staging {
        provision aws
    }
    environment prod protected=#true {
        provision aws
    }
}
"#;

/// A service that uses every resource type, with the less common parameter values.
const ALL_SERVICE: &str = r#"service ledger-export {
    owner team-finance
    image "ghcr.io/acme/ledger-export"
    port http 8080
    health readiness="/ready" liveness="/healthz"
    env DB_URL="${resources.books.url}" CACHE_URL="${resources.hot.url}"
    uses mysql books version="8.4" size=large storage="200Gi" database=books
    uses postgres archive version=14 size=medium
    uses redis hot version="6.2" size=medium replicas=0
    uses bucket exports versioning=#false
    uses queue jobs fifo=#true visibility-timeout="2m" retention="14d" max-receives=3
    uses topic done fifo=#true
    uses mongodb docs version="5.0" size=large replicas=0 storage="50Gi"
    uses amqp events size=large
}
"#;

/// The generated Terraform of an input tree, by path relative to `deploy/`.
struct Generated {
    out: Output,
    /// Services and the types and names of their uses, by service name.
    uses: BTreeMap<String, Vec<(String, String)>>,
}

fn generate(fs: &dyn FileSystem, path: &Path) -> Generated {
    let loaded = platc_check::load::load(fs, &[path.to_path_buf()], &[], &root()).unwrap_or_else(|e| panic!("{} does not load: {}", path.display(), e.0));
    let analysis = platc::build::analyze(&loaded);
    let (ws, graph) = analysis.ok().unwrap_or_else(|| {
        let d: Vec<_> = analysis.diags.iter().cloned().collect();
        panic!("{} does not check:\n{}", path.display(), platc_syntax::diagnostics::render(&d, &loaded.sources, platc_syntax::diagnostics::Format::Human, false))
    });
    let opts = BuildOptions::default();
    let envs = platc_resolve::resolve::environments(ws, &opts).expect("environments");
    let model = platc_resolve::resolve::resolve(ws, graph, &envs, &opts, &loaded.sources);
    let out = terraform::emit(&model, &loaded.stdlib).unwrap_or_else(|p| panic!("templates fail: {p:#?}"));
    let uses = ws.services.iter().map(|s| (s.name.value.clone(), s.uses.iter().map(|u| (u.ty.value.clone(), u.name.value.clone())).collect())).collect();
    Generated { out, uses }
}

fn example(name: &str) -> Generated {
    generate(&RealFs, &root().join("examples").join(name))
}

fn all_types() -> Generated {
    let mut fs = MemoryFs::new();
    fs.add("/ws/platform.kdl", ALL_PLATFORM).add("/ws/ledger-export/service.kdl", ALL_SERVICE);
    generate(&fs, Path::new("/ws"))
}

/// `SERVICE/terraform/ENV` directories of an output.
fn tf_dirs(out: &Output) -> BTreeSet<String> {
    out.files.keys().filter_map(|p| p.rsplit_once('/').map(|(d, _)| d.to_string())).filter(|d| d.contains("/terraform/")).collect()
}

fn text<'a>(out: &'a Output, path: &str) -> &'a str {
    std::str::from_utf8(out.files.get(path).unwrap_or_else(|| panic!("{path} not generated"))).unwrap()
}

// ------------------------------------------------------------------------------------- tools

fn tool(name: &str) -> PathBuf {
    let script = root().join(".ci/oracles.sh");
    let out = Command::new("bash").arg(&script).args(["path", name]).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(out.status.success() && path.is_file(), "{name} is not installed (looked for `{}`): run `.ci/oracles.sh install` first.\n{}", path.display(), String::from_utf8_lossy(&out.stderr));
    path
}

fn terraform_bin() -> PathBuf {
    let out = Command::new("bash").args(["-c", "command -v terraform"]).output().expect("bash runs");
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(out.status.success() && path.is_file(), "terraform is not installed (it comes with the machine image; see docs/validation.md)");
    path
}

/// A scratch directory, removed on drop unless the test failed or PLATC_TF_KEEP is set.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("platc-tf-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, out: &Output) {
        for (p, b) in &out.files {
            let path = self.0.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b).unwrap();
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("PLATC_TF_KEEP").is_some() {
            eprintln!("kept {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs a command; `Err` with its output when it fails.
fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{cmd:?} failed:\n{text}"))
    }
}

/// fmt, init and validate in every Terraform directory of `out`, in parallel; returns the number
/// of directories and a list of failures.
fn terraform_checks(tag: &str, out: &Output) -> (usize, Vec<String>) {
    let tf = terraform_bin();
    let rc = tool("terraformrc");
    let scratch = Scratch::new(tag);
    scratch.write(out);
    let cache = scratch.0.join(".plugin-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let dirs: Vec<String> = tf_dirs(out).into_iter().collect();
    // Terraform's plugin cache is not safe for concurrent writers: two `init`s installing the same
    // provider race on its directories ("mkdir ...: file exists"). So `init` runs one at a time
    // (cheap once the first has filled the cache: later ones link from it); fmt and validate,
    // which only read, stay parallel.
    let init_lock = std::sync::Mutex::new(());
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|d| {
                let wd = scratch.0.join(d);
                let (tf, rc, cache, init_lock) = (&tf, &rc, &cache, &init_lock);
                s.spawn(move || {
                    let terraform = |args: &[&str]| {
                        let mut c = Command::new(tf);
                        c.arg(format!("-chdir={}", wd.display()))
                            .args(args)
                            .env("TF_CLI_CONFIG_FILE", rc)
                            .env("TF_IN_AUTOMATION", "1")
                            .env("CHECKPOINT_DISABLE", "1")
                            .env("TF_PLUGIN_CACHE_DIR", cache)
                            .env("TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE", "1");
                        c
                    };
                    let mut failed = Vec::new();
                    if let Err(e) = run(&mut terraform(&["fmt", "-check", "-diff", "-no-color"])) {
                        failed.push(format!("{d}: terraform fmt -check: {e}"));
                    }
                    let init = {
                        let _one_at_a_time = init_lock.lock().unwrap_or_else(|p| p.into_inner());
                        run(&mut terraform(&["init", "-backend=false", "-input=false", "-no-color"]))
                    };
                    match init {
                        Err(e) => failed.push(format!("{d}: terraform init: {e}")),
                        Ok(_) => {
                            if let Err(e) = run(&mut terraform(&["validate", "-no-color"])) {
                                failed.push(format!("{d}: terraform validate: {e}"));
                            }
                        }
                    }
                    failed
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    (dirs.len(), failures)
}

/// checkov (terraform framework) over every Terraform directory of `out`; panics on any failed
/// check or parse error, and when nothing was scanned. Returns (passed, skipped) counts.
fn checkov(tag: &str, out: &Output) -> (usize, usize) {
    let bin = tool("checkov");
    let scratch = Scratch::new(tag);
    scratch.write(out);
    let report = scratch.0.join("checkov.json");
    let res = Command::new(&bin)
        .arg("-d")
        .arg(&scratch.0)
        .args(["--framework", "terraform", "--skip-download", "--quiet", "--compact", "-o", "json", "--soft-fail"])
        .args(if CHECKOV_SKIPS.is_empty() { vec![] } else { vec!["--skip-check".to_string(), CHECKOV_SKIPS.join(",")] })
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    std::fs::write(&report, &res.stdout).unwrap();
    assert!(res.status.success(), "checkov failed to run:\n{}", String::from_utf8_lossy(&res.stderr));
    let json: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap_or_else(|e| panic!("checkov output is not JSON ({e}): {}", String::from_utf8_lossy(&res.stdout)));
    let reports = if json.is_array() { json.as_array().unwrap().clone() } else { vec![json.clone()] };
    let (mut passed, mut failed, mut skipped, mut lines) = (0, 0, 0, Vec::new());
    for r in &reports {
        let summary = &r["summary"];
        assert_eq!(summary["parsing_errors"].as_u64().unwrap_or(0), 0, "checkov could not parse some files: {:#}", r["results"]["parsing_errors"]);
        passed += summary["passed"].as_u64().unwrap_or(0) as usize;
        failed += summary["failed"].as_u64().unwrap_or(0) as usize;
        skipped += summary["skipped"].as_u64().unwrap_or(0) as usize;
        for f in r["results"]["failed_checks"].as_array().into_iter().flatten() {
            lines.push(format!(
                "{} {} {} ({})",
                f["check_id"].as_str().unwrap_or(""),
                f["resource"].as_str().unwrap_or(""),
                f["file_path"].as_str().unwrap_or(""),
                f["check_name"].as_str().unwrap_or("")
            ));
        }
    }
    assert!(passed > 0, "checkov scanned nothing:\n{json:#}");
    assert!(failed == 0, "checkov: {failed} failed checks (fix the template, or skip with a reason in docs/security.md):\n{}", lines.join("\n"));
    (passed, skipped)
}

// ------------------------------------------------------------------------------------- tests

#[test]
fn layout_follows_the_provisioners_of_platform_kdl() {
    let shop = example("shop");
    let dirs: Vec<String> = tf_dirs(&shop.out).into_iter().collect();
    // staging serves redis in-cluster, so cart has no Terraform there; storefront uses nothing;
    // dev and preview are in-cluster.
    let want = [
        "cart/terraform/prod",
        "catalog/terraform/prod",
        "catalog/terraform/staging",
        "checkout/terraform/prod",
        "checkout/terraform/staging",
        "fulfillment/terraform/prod",
        "fulfillment/terraform/staging",
        "notifications/terraform/prod",
        "notifications/terraform/staging",
        "payments/terraform/prod",
        "payments/terraform/staging",
    ];
    assert_eq!(dirs, want);
    for d in &dirs {
        for f in ["versions.tf", "main.tf", "variables.tf", "outputs.tf"] {
            assert!(shop.out.files.contains_key(&format!("{d}/{f}")), "{d}/{f} missing");
        }
    }
    assert_eq!(shop.out.files.len(), dirs.len() * 4, "only the four files per directory");
    assert!(example("hello").out.files.is_empty(), "hello uses no resources: no Terraform");
    // The backend of platform.kdl, one state per service and environment.
    let v = text(&shop.out, "checkout/terraform/prod/versions.tf");
    for line in [
        r#"bucket  = "acme-shop-tf-state""#,
        r#"key     = "shop/checkout/prod.tfstate""#,
        r#"region  = "eu-west-1""#,
        r#"dynamodb_table = "terraform-locks""#,
        r#"required_version = ">= 1.5""#,
        r#"version = "~> 5.0""#,
    ] {
        assert!(v.contains(line), "versions.tf lacks {line}:\n{v}");
    }
    // Without a backend: local state, said so.
    let all = all_types();
    let v = text(&all.out, "ledger-export/terraform/prod/versions.tf");
    assert!(!v.contains("backend") || v.contains("# platform.kdl has no `terraform-backend`"), "{v}");
    assert!(!v.contains("backend \""), "{v}");
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(example("shop").out, example("shop").out);
    assert_eq!(all_types().out, all_types().out);
}

#[test]
fn terraform_fmt_init_and_validate_pass() {
    let mut report = Vec::new();
    let mut total = 0;
    for (tag, g) in [("shop", example("shop")), ("all-types", all_types())] {
        let (n, failures) = terraform_checks(tag, &g.out);
        assert!(n > 0, "{tag}: no Terraform directories");
        total += n;
        report.extend(failures);
    }
    assert!(report.is_empty(), "{}", report.join("\n\n"));
    eprintln!("terraform fmt -check, init and validate passed in {total} directories");
}

#[test]
fn checkov_finds_nothing() {
    let shop = example("shop");
    let (p1, s1) = checkov("checkov-shop", &shop.out);
    let all = all_types();
    let (p2, s2) = checkov("checkov-all", &all.out);
    eprintln!("checkov: {} passed, 0 failed, {} skipped inline (skipped by id: [{}])", p1 + p2, s1 + s2, CHECKOV_SKIPS.join(", "));
}

#[test]
fn checkov_skips_are_justified() {
    let doc = std::fs::read_to_string(root().join("docs/security.md")).expect("docs/security.md");
    for id in CHECKOV_SKIPS {
        assert!(doc.contains(&format!("| {id} ")), "{id} is skipped but docs/security.md gives no reason");
    }
    // Inline skips in templates are documented too.
    for entry in walkdir::WalkDir::new(root().join("stdlib/terraform")) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let t = std::fs::read_to_string(entry.path()).unwrap();
        for rest in t.match_indices("checkov:skip=").map(|(i, m)| &t[i + m.len()..]) {
            let id: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            assert!(doc.contains(&format!("| {id} ")), "{} skips {id} inline but docs/security.md gives no reason", entry.path().display());
        }
    }
}

/// Every Allow statement of the IAM policies of the shop and of the every-type fixture names only
/// resources of the service's own `uses`, its connection secrets or its key: Terraform addresses
/// declared in the same file, for resources whose name starts with one of the service's resource
/// ids. No `*`, no literal ARN. Each type gets exactly its grants.
#[test]
fn iam_policies_name_only_the_services_resources() {
    let mut checked = 0;
    for shop in [example("shop"), all_types()] {
        for d in tf_dirs(&shop.out) {
            let service = d.split('/').next().unwrap();
            let main = text(&shop.out, &format!("{d}/main.tf"));
            let ids: Vec<String> = shop.uses[service].iter().map(|(_, n)| terraform::tf_id(n)).collect();
            let others: Vec<String> = shop.uses.iter().filter(|(s, _)| *s != service).flat_map(|(_, u)| u.iter().map(|(_, n)| terraform::tf_id(n))).filter(|o| !ids.contains(o)).collect();
            let statements = inspect::policy_statements(main).unwrap();
            let allows: Vec<_> = statements.iter().filter(|s| s.effect == "Allow" && !s.document.ends_with("_trust") && s.document != "trust").collect();
            assert!(!allows.is_empty(), "{d}: no Allow statements");
            for st in allows {
                assert!(!st.resources.is_empty(), "{d}: {st:?} has no resources");
                for r in &st.resources {
                    assert!(!r.contains('*') || r.ends_with("}/*"), "{d}: wildcard resource {r} in {st:?}");
                    assert!(!r.starts_with("arn:") || r.contains("${aws_"), "{d}: literal ARN {r}");
                    // Every reference is to a resource of this service.
                    let refs: Vec<&str> = r.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).filter(|t| t.starts_with("aws_")).collect();
                    assert!(!refs.is_empty(), "{d}: {r} references no resource");
                    for t in refs {
                        let parts: Vec<&str> = t.split('.').collect();
                        let name = parts.get(1).copied().unwrap_or_default();
                        let own = name == "this" || ids.iter().any(|id| name == id || name.strip_prefix(id.as_str()).is_some_and(|rest| rest.starts_with('_')));
                        assert!(own, "{d}: {t} is not a resource of {service} (uses {ids:?})");
                        assert!(main.contains(&format!("resource \"{}\" \"{name}\"", parts[0])), "{d}: {t} is not declared in main.tf");
                        for o in &others {
                            assert!(name != o, "{d}: {t} names a resource of another service");
                        }
                    }
                }
                for a in &st.actions {
                    assert!(!a.contains('*'), "{d}: wildcard action {a}");
                }
                checked += 1;
            }
            // The exact grants per type.
            for (ty, name) in &shop.uses[service] {
                let id = terraform::tf_id(name);
                let own: Vec<_> = statements.iter().filter(|s| s.document == id).collect();
                let actions: BTreeSet<&str> = own.iter().flat_map(|s| s.actions.iter().map(String::as_str)).collect();
                let want: BTreeSet<&str> = match ty.as_str() {
                    "bucket" => ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"].into(),
                    "queue" => ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"].into(),
                    "topic" => ["sns:Publish"].into(),
                    "postgres" | "mysql" => ["rds-db:connect"].into(),
                    // Passwords from the connection secret; no data-plane IAM action.
                    "redis" | "mongodb" | "amqp" => BTreeSet::new(),
                    other => panic!("{d}: no expected grants for type {other}"),
                };
                assert_eq!(actions, want, "{d}: grants for {ty} {name}");
            }
            let secrets = statements.iter().find(|s| s.sid.as_deref() == Some("ReadConnectionSecrets")).expect("connection secret statement");
            let want: Vec<String> = shop.uses[service].iter().map(|(_, n)| format!("aws_secretsmanager_secret.{}_connection.arn", terraform::tf_id(n))).collect();
            assert_eq!(secrets.actions, ["secretsmanager:GetSecretValue"]);
            // Only resources served by aws in this environment (cart has none in staging).
            assert!(secrets.resources.iter().all(|r| want.contains(r)), "{d}: {:?}", secrets.resources);
        }
    }
    assert!(checked > 20, "only {checked} statements checked");
}

/// Secret-looking attribute names whose value must never be written as a literal.
const SECRET_KEYS: &[&str] = &["password", "master_password", "auth_token", "secret_string", "token", "secret", "api_key", "private_key"];

/// Literal passwords and secret material the generated files must never contain.
const SECRET_FIXTURES: &[&str] = &["hunter2", "changeme", "Passw0rd", "s3cr3t", "supersecret", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"];

fn check_no_literal_secrets(path: &str, body: &hcl::Body, problems: &mut Vec<String>) {
    fn walk_expr(path: &str, key: &str, e: &hcl::Expression, problems: &mut Vec<String>) {
        use hcl::Expression as E;
        match e {
            E::Object(o) => {
                for (k, v) in o {
                    let k = match k {
                        hcl::ObjectKey::Identifier(i) => i.to_string(),
                        hcl::ObjectKey::Expression(E::String(s)) => s.clone(),
                        hcl::ObjectKey::Expression(x) => x.to_string(),
                        _ => String::new(),
                    };
                    walk_expr(path, &k, v, problems);
                }
            }
            E::FuncCall(f) => {
                for a in f.args.iter() {
                    walk_expr(path, key, a, problems);
                }
            }
            E::String(_) | E::Number(_) if SECRET_KEYS.contains(&key) => problems.push(format!("{path}: `{key}` is a literal: {e}")),
            E::TemplateExpr(t) if SECRET_KEYS.contains(&key) => {
                let text = t.to_string();
                if !text.contains("${") {
                    problems.push(format!("{path}: `{key}` is a literal template: {text}"));
                }
            }
            _ => {}
        }
    }
    for a in body.attributes() {
        walk_expr(path, a.key(), a.expr(), problems);
    }
    for b in body.blocks() {
        check_no_literal_secrets(path, b.body(), problems);
    }
}

#[test]
fn no_secret_value_in_any_generated_file() {
    let mut problems = Vec::new();
    let mut files = 0;
    for g in [example("shop"), example("hello"), all_types()] {
        for (path, bytes) in &g.out.files {
            files += 1;
            let text = String::from_utf8_lossy(bytes);
            for f in SECRET_FIXTURES {
                if text.contains(f) {
                    problems.push(format!("{path}: contains the fixture secret {f}"));
                }
            }
            let body = inspect::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
            check_no_literal_secrets(path, &body, &mut problems);
            // A credential inside a URL is an interpolation, never text.
            for line in text.lines().filter(|l| l.contains("://")) {
                if let Some(userinfo) = line.split("://").nth(1).and_then(|r| r.split_once('@')).map(|(u, _)| u) {
                    assert!(userinfo.split(':').skip(1).all(|p| p.is_empty() || p.starts_with("${")), "{path}: literal credential in {line}");
                }
            }
        }
    }
    assert!(files > 40, "only {files} files scanned");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The checker itself works: a literal is found.
    let mut found = Vec::new();
    check_no_literal_secrets("x", &inspect::parse("locals {\n  c = {\n    password = \"hunter2\"\n  }\n}\n").unwrap(), &mut found);
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn connection_secrets_carry_every_output_of_the_type() {
    let all = all_types();
    let main = text(&all.out, "ledger-export/terraform/prod/main.tf");
    for (id, keys) in [
        ("books", vec!["database", "host", "password", "port", "url", "username"]),
        ("archive", vec!["database", "host", "password", "port", "url", "username"]),
        ("hot", vec!["host", "password", "port", "tls", "url", "username"]),
        ("docs", vec!["host", "password", "port", "url", "username"]),
        ("events", vec!["host", "password", "port", "tls", "url", "username"]),
        ("exports", vec!["arn", "endpoint", "name", "region"]),
        ("jobs", vec!["arn", "dlq-url", "name", "url"]),
        ("done", vec!["arn", "name"]),
    ] {
        assert_eq!(inspect::connection_keys(main, id).unwrap().into_iter().collect::<Vec<_>>(), keys, "{id}");
        let name = id;
        assert!(main.contains(&format!("name                    = \"platc/prod/ledger-export/{name}\"")), "secret of {id}");
    }
    assert_eq!(lower::connection_secret_name(&lower::Placement { env: "prod".into(), namespace: "n".into(), slug: None, domain: "d".into() }, "svc", "orders-db"), "platc/prod/svc/orders-db");
    let outputs = text(&all.out, "ledger-export/terraform/prod/outputs.tf");
    for o in [
        "role_arn",
        "kms_key_arn",
        "books_connection_secret",
        "books_arn",
        "jobs_dlq_arn",
        "done_arn",
        "exports_arn",
        "hot_arn",
        "archive_master_user_secret_arn",
        "docs_arn",
        "docs_master_password_secret_arn",
        "events_arn",
        "events_user_password_secret_arn",
    ] {
        assert!(outputs.contains(&format!("output \"{o}\"")), "outputs.tf lacks {o}:\n{outputs}");
    }
}

#[test]
fn protected_environments_get_production_settings() {
    let shop = example("shop");
    let prod = text(&shop.out, "checkout/terraform/prod/main.tf");
    let staging = text(&shop.out, "checkout/terraform/staging/main.tf");
    for (line, in_prod) in [
        ("multi_az                  = true", true),
        ("deletion_protection       = true", true),
        ("backup_retention_period   = 14", true),
        ("multi_az                  = false", false),
        ("deletion_protection       = false", false),
    ] {
        assert_eq!(prod.contains(line), in_prod, "prod: {line}");
        assert_eq!(staging.contains(line), !in_prod, "staging: {line}");
    }
    for line in ["manage_master_user_password         = true", "storage_encrypted     = true", "publicly_accessible    = false", "iam_database_authentication_enabled = true"] {
        assert!(prod.contains(line) && staging.contains(line), "{line}");
    }
    // Tags everywhere, through the provider.
    for line in ["service      = \"checkout\"", "owner        = \"team-checkout\"", "environment  = \"prod\"", "\"managed-by\" = \"platc\""] {
        assert!(prod.contains(line), "tag {line}");
    }
    // Pod Identity bound to the namespace and ServiceAccount of the service.
    assert!(prod.contains("resource \"aws_eks_pod_identity_association\" \"workload\""));
    assert!(prod.contains("namespace       = \"shop-prod\"") && prod.contains("service_account = \"checkout\""));
    // IRSA in the all-types platform.
    let irsa = text(&all_types().out, "ledger-export/terraform/prod/main.tf").to_string();
    assert!(irsa.contains("sts:AssumeRoleWithWebIdentity") && irsa.contains("system:serviceaccount:acme-prod:ledger-export"));
    assert!(!irsa.contains("aws_eks_pod_identity_association"));
    let vars = text(&all_types().out, "ledger-export/terraform/prod/variables.tf").to_string();
    assert!(vars.contains("variable \"eks_oidc_provider_arn\"") && !vars.contains("variable \"eks_cluster_name\""), "{vars}");
}

#[test]
fn variables_are_declared_without_defaults() {
    let shop = example("shop");
    for d in tf_dirs(&shop.out) {
        let vars = text(&shop.out, &format!("{d}/variables.tf"));
        let body = inspect::parse(vars).unwrap();
        let declared: BTreeSet<String> = inspect::blocks(&body, "variable").map(|b| b.labels()[0].as_str().to_string()).collect();
        let used: BTreeSet<String> = ["main.tf", "outputs.tf"].iter().flat_map(|f| inspect::referenced_variables(text(&shop.out, &format!("{d}/{f}")))).collect();
        assert_eq!(declared, used, "{d}: declared and used variables differ");
        for b in inspect::blocks(&body, "variable") {
            assert!(b.body().attributes().any(|a| a.key() == "description"), "{d}: {} has no description", b.labels()[0].as_str());
            assert!(!b.body().attributes().any(|a| a.key() == "default"), "{d}: {} has a default", b.labels()[0].as_str());
        }
    }
    let f = text(&shop.out, "fulfillment/terraform/prod/variables.tf");
    assert!(f.contains("variable \"access_log_bucket\"") && f.contains("variable \"eks_cluster_name\""));
    assert!(!f.contains("variable \"vpc_id\""), "a bucket and a queue need no VPC:\n{f}");
    let c = text(&shop.out, "checkout/terraform/prod/variables.tf");
    for v in ["vpc_id", "private_subnet_ids", "client_security_group_ids", "eks_cluster_name"] {
        assert!(c.contains(&format!("variable \"{v}\"")), "checkout lacks {v}");
    }
}

#[test]
fn an_overlay_template_replaces_the_builtin_and_is_checked() {
    let base = std::fs::read_to_string(root().join("stdlib/terraform/types/topic.tf.hbs")).unwrap();
    let mut fs = MemoryFs::new();
    fs.add("/ws/platform.kdl", ALL_PLATFORM.replace("identity irsa", "identity irsa\n    stdlib \"overlay\"")).add("/ws/ledger-export/service.kdl", ALL_SERVICE);
    // A working replacement: the topic gets a delivery policy comment.
    fs.add("/ws/overlay/terraform/types/topic.tf.hbs", format!("\n# overlay was here\n{base}"));
    let g = generate(&fs, Path::new("/ws"));
    assert!(text(&g.out, "ledger-export/terraform/prod/main.tf").contains("# overlay was here"));

    // A replacement that forgets an output of the type is reported, with the template.
    let loaded = |topic: &str| {
        let mut fs = MemoryFs::new();
        fs.add("/ws/platform.kdl", ALL_PLATFORM.replace("identity irsa", "identity irsa\n    stdlib \"overlay\"")).add("/ws/ledger-export/service.kdl", ALL_SERVICE);
        fs.add("/ws/overlay/terraform/types/topic.tf.hbs", topic.to_string());
        let loaded = platc_check::load::load(&fs, &[PathBuf::from("/ws")], &[], &root()).unwrap();
        let analysis = platc::build::analyze(&loaded);
        let (ws, graph) = analysis.ok().expect("checks");
        let envs = platc_resolve::resolve::environments(ws, &BuildOptions::default()).unwrap();
        let model = platc_resolve::resolve::resolve(ws, graph, &envs, &BuildOptions::default(), &loaded.sources);
        terraform::emit(&model, &loaded.stdlib).expect_err("must fail")
    };
    let p = loaded(&base.replace("    name = aws_sns_topic.{{{resource.id}}}.name\n", ""));
    assert!(p.iter().any(|p| p.template == "terraform/types/topic.tf.hbs" && p.message.contains("missing [name]")), "{p:#?}");
    // Invalid HCL and unknown template variables are reported too.
    let p = loaded(&base.replace("resource \"aws_sns_topic\"", "resource aws_sns_topic {"));
    assert!(p.iter().any(|p| p.message.contains("not valid HCL")), "{p:#?}");
    let p = loaded(&base.replace("{{resource.name}}", "{{resource.nmae}}"));
    assert!(p.iter().any(|p| p.template == "terraform/types/topic.tf.hbs"), "{p:#?}");
}

#[test]
fn prod_main_tf_snapshot() {
    let shop = example("shop");
    insta::with_settings!({snapshot_path => root().join("snapshots/terraform"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("fulfillment_prod_main_tf", text(&shop.out, "fulfillment/terraform/prod/main.tf"));
    });
}

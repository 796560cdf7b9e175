//! The command line, end to end: the RELEASE binary at target/release/platc (built by .ci/run
//! before the tests; without it every test here fails and says to run `cargo build --release`),
//! run on real directories under the system temp dir.
//!
//! Exit codes: 0 clean (warnings allowed), 1 errors, 2 usage or I/O failure; 0 for --version and
//! --help. `explain`, `--format json`, and resource types added with `--stdlib DIR`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{release_binary, TempDir, CHECKOUT, PAYMENTS, PLATFORM};
use serde_json::Value;

/// Runs the release binary in `cwd` with colour off (unless asked) and no inherited NO_COLOR.
fn platc(cwd: &Path, args: &[&str]) -> Output {
    Command::new(release_binary()).args(args).current_dir(cwd).env_remove("NO_COLOR").output().expect("run platc")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `what` with the exit code, stdout and stderr, for assertion messages.
fn show(out: &Output) -> String {
    format!("exit status {}\n--- stdout\n{}--- stderr\n{}", out.status, text(&out.stdout), text(&out.stderr))
}

fn code_of(out: &Output) -> i32 {
    code(out)
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or_else(|| panic!("platc was killed by a signal:\n{}", show(out)))
}

/// A clean tree: the shared platform, `payments` and `checkout`.
fn clean_tree(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    dir.write("platform.kdl", PLATFORM);
    dir.write("payments/service.kdl", PAYMENTS);
    dir.write("checkout/service.kdl", CHECKOUT);
    dir
}

/// The JSON lines of `--format json`: every line must be one JSON object.
fn json_lines(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}\n{}", show(out)));
            assert!(v.is_object(), "not a JSON object: {l}");
            v
        })
        .collect()
}

#[test]
fn clean_tree_exits_0() {
    let dir = clean_tree("clean");
    let out = platc(dir.path(), &["check"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert!(text(&out.stderr).contains("checked 2 services: no problems"), "{}", show(&out));
    assert!(out.stdout.is_empty(), "human output goes to stderr:\n{}", show(&out));
    // The same, given the path explicitly, from outside the tree.
    let out = platc(dir.path().parent().unwrap(), &["check", dir.path().to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", show(&out));
}

#[test]
fn errors_exit_1_and_warnings_do_not() {
    let dir = clean_tree("errors");
    dir.write("checkout/service.kdl", CHECKOUT.replace("cpu=\"250m\"", "cpu=\"250mb\""));
    let out = platc(dir.path(), &["check", "--color", "never"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let err = text(&out.stderr);
    assert!(err.contains("E0201") && err.contains("[checkout/service.kdl:15:19]") && err.ends_with("error: 1 error\n"), "{}", show(&out));
    assert!(!err.contains('\x1b'), "--color never: no escape codes\n{err}");

    // A warning alone does not fail the run, unless --deny-warnings.
    dir.write("checkout/service.kdl", CHECKOUT.replace("\"ghcr.io/acme/checkout\"", "\"ghcr.io/acme/checkout:1.2\""));
    let out = platc(dir.path(), &["check"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert!(text(&out.stderr).contains("W0102"), "{}", show(&out));
    let out = platc(dir.path(), &["check", "--deny-warnings"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
}

#[test]
fn colour_only_when_asked() {
    let dir = clean_tree("colour");
    dir.write("checkout/service.kdl", CHECKOUT.replace("cpu=\"250m\"", "cpu=\"lots\""));
    let out = platc(dir.path(), &["check", "--color", "always"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    assert!(text(&out.stderr).contains('\x1b'), "--color always: escape codes\n{}", show(&out));
    // Not a terminal: auto means no colour.
    let out = platc(dir.path(), &["check"]);
    assert!(!text(&out.stderr).contains('\x1b'), "auto on a pipe: no escape codes\n{}", show(&out));
}

#[test]
fn missing_path_exits_2() {
    let dir = clean_tree("missing");
    let out = platc(dir.path(), &["check", "no/such/dir"]);
    assert_eq!(code(&out), 2, "{}", show(&out));
    assert!(text(&out.stderr).contains("no/such/dir: no such file or directory"), "{}", show(&out));
    assert!(out.stdout.is_empty(), "{}", show(&out));
}

#[test]
fn unknown_flags_and_commands_exit_2() {
    let dir = TempDir::new("flags");
    for args in [&["check", "--frobnicate"][..], &["--frobnicate"], &["frobnicate"], &["check", "--format", "xml"], &[]] {
        let out = platc(dir.path(), args);
        assert_eq!(code(&out), 2, "platc {args:?}:\n{}", show(&out));
        assert!(!out.stderr.is_empty(), "platc {args:?} says why:\n{}", show(&out));
    }
}

#[test]
fn version_and_help_exit_0() {
    let dir = TempDir::new("help");
    let out = platc(dir.path(), &["--version"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert_eq!(text(&out.stdout).trim(), format!("platc {}", env!("CARGO_PKG_VERSION")), "{}", show(&out));
    for args in [&["--help"][..], &["-h"], &["help"], &["check", "--help"], &["explain", "--help"]] {
        let out = platc(dir.path(), args);
        assert_eq!(code(&out), 0, "platc {args:?}:\n{}", show(&out));
        assert!(text(&out.stdout).contains("Usage: platc"), "platc {args:?}:\n{}", show(&out));
    }
}

#[test]
fn explain_prints_the_page() {
    let dir = TempDir::new("explain");
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/errors/E0102.md")).expect("docs/errors/E0102.md");
    for code_arg in ["E0102", "e0102"] {
        let out = platc(dir.path(), &["explain", code_arg]);
        assert_eq!(code(&out), 0, "{}", show(&out));
        let stdout = text(&out.stdout);
        assert!(stdout.starts_with("# E0102: unknown property"), "{}", show(&out));
        assert_eq!(stdout.lines().next(), page.lines().next(), "the page is docs/errors/E0102.md");
        assert!(stdout.contains("## How to fix") || stdout.contains("## Example"), "the whole page:\n{stdout}");
    }
}

#[test]
fn explain_unknown_code_exits_2() {
    let dir = TempDir::new("explain-unknown");
    let out = platc(dir.path(), &["explain", "E9999"]);
    assert_eq!(code(&out), 2, "{}", show(&out));
    assert!(text(&out.stderr).contains("unknown diagnostic code `E9999`"), "{}", show(&out));
    assert!(out.stdout.is_empty(), "{}", show(&out));
}

#[test]
fn format_json_prints_one_object_per_line_on_stdout() {
    let dir = clean_tree("json");
    let bad = CHECKOUT.replace("cpu=\"250m\"", "cpu=\"250mb\"").replace("memory=\"256Mi\" cpu-limit", "memroy=\"256Mi\" cpu-limit").replace("${platform.domain}", "${platform.domian}");
    dir.write("checkout/service.kdl", &bad);
    let out = platc(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    assert!(out.stderr.is_empty(), "machine formats print nothing else:\n{}", show(&out));
    let lines = json_lines(&out);
    let codes: Vec<&str> = lines.iter().map(|l| l["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["E0409", "E0201", "E0102"], "sorted by position:\n{}", show(&out));
    let keys: Vec<&str> = lines[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["file", "line", "column", "end_line", "end_column", "code", "severity", "message", "help", "labels"]);
    for l in &lines {
        assert_eq!(l["file"], "checkout/service.kdl", "names relative to the working directory");
        assert_eq!(l["severity"], "error");
    }
    assert_eq!((&lines[1]["line"], &lines[1]["column"]), (&Value::from(15), &Value::from(19)));
    // A clean tree prints nothing at all in JSON, and a SARIF document with no results.
    let dir = clean_tree("json-clean");
    let out = platc(dir.path(), &["check", "--format", "json"]);
    assert_eq!((code(&out), out.stdout.is_empty(), out.stderr.is_empty()), (0, true, true), "{}", show(&out));
    let out = platc(dir.path(), &["check", "--format", "sarif"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("SARIF on stdout");
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
}

/// A `couchdb` resource type in the format of stdlib/types/postgres.kdl.
const COUCHDB: &str = r#"// CouchDB: a document database, added by the platform team without rebuilding platc.
resource-type couchdb port=5984 {
    description "CouchDB document database"
    param version type=string default="7" doc="Major CouchDB version" {
        allowed "6" "7" "8"
    }
    param size type=string default=small doc="Instance size" {
        allowed small medium large
    }
    param storage type=memory default="10Gi" doc="Allocated storage"
    output host doc="Host name of the primary"
    output port doc="TCP port (5984)"
    output database doc="Database name"
    output username doc="User name of the service's login"
    output password secret=#true doc="Password of the service's login"
    output uri secret=#true doc="couchdb:// connection URI including credentials"
}
"#;

const SESSIONS: &str = r#"service sessions {
    owner team-checkout
    image "ghcr.io/acme/sessions"
    port http 8080
    health readiness="/ready" liveness="/healthz"
    uses couchdb store version="7" size=medium storage="20Gi"
    env MONGO_HOST="${resources.store.host}" MONGO_URI="${resources.store.uri}"
}
"#;

/// A tree under `DIR/tree` with `sessions`, and the overlay under `DIR/overlay` (outside the tree,
/// so that it is found only through --stdlib).
fn overlay_tree(tag: &str, sessions: &str) -> TempDir {
    let dir = TempDir::new(tag);
    dir.write("overlay/types/couchdb.kdl", COUCHDB);
    // The platform serves the type in-cluster in some environments and with `aws` in others:
    // `check` needs both templates to exist (what they make is tests/resources.rs' business).
    dir.write("overlay/incluster/couchdb.yaml.hbs", "kind: StatefulSet\n");
    dir.write("overlay/terraform/types/couchdb.tf.hbs", "# couchdb\n");
    dir.write("tree/platform.kdl", PLATFORM);
    dir.write("tree/payments/service.kdl", PAYMENTS);
    dir.write("tree/sessions/service.kdl", sessions);
    dir
}

fn check_json(dir: &TempDir, args: &[&str]) -> (i32, Vec<Value>, Output) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let out = platc(&dir.path().join("tree"), &all);
    let lines = json_lines(&out);
    (code(&out), lines, out)
}

#[test]
fn stdlib_overlay_type_valid_use_passes() {
    let dir = overlay_tree("overlay-ok", SESSIONS);
    let (code, lines, out) = check_json(&dir, &["--stdlib", "../overlay"]);
    assert_eq!((code, lines.len()), (0, 0), "a valid `uses couchdb` passes:\n{}", show(&out));
}

/// An overlay type without the templates of the provisioners the platform serves it with fails
/// `check` (not only `build`), once per missing template, at the type's file.
#[test]
fn stdlib_overlay_type_without_templates_is_e0601_at_the_type() {
    let dir = overlay_tree("overlay-templates", SESSIONS);
    std::fs::remove_file(dir.path().join("overlay/incluster/couchdb.yaml.hbs")).unwrap();
    std::fs::remove_file(dir.path().join("overlay/terraform/types/couchdb.tf.hbs")).unwrap();
    let (code, lines, out) = check_json(&dir, &["--stdlib", "../overlay"]);
    assert_eq!(code, 1, "{}", show(&out));
    let missing: Vec<(&str, &str)> = lines.iter().map(|l| (l["code"].as_str().unwrap(), l["labels"][0]["message"].as_str().unwrap_or(""))).collect();
    assert_eq!(missing, [("E0601", "serves `couchdb` `aws`"), ("E0601", "serves `couchdb` `in-cluster`")], "{}", show(&out));
    assert!(lines.iter().all(|l| l["file"].as_str().is_some_and(|f| f.ends_with("overlay/types/couchdb.kdl")) && l["line"] == 2), "{}", show(&out));
}

#[test]
fn stdlib_overlay_type_unknown_param_is_e0402() {
    let dir = overlay_tree("overlay-param", &SESSIONS.replace("version=\"7\"", "versoin=\"7\""));
    let (code, lines, out) = check_json(&dir, &["--stdlib", "../overlay"]);
    assert_eq!(code, 1, "{}", show(&out));
    assert_eq!(lines.len(), 1, "{}", show(&out));
    assert_eq!(lines[0]["code"], "E0402");
    assert_eq!(lines[0]["message"], "resource type `couchdb` has no parameter `versoin`");
    assert_eq!(lines[0]["help"], "did you mean `version`?");
    assert_eq!((&lines[0]["file"], &lines[0]["line"], &lines[0]["column"]), (&Value::from("sessions/service.kdl"), &Value::from(6), &Value::from(24)));
}

#[test]
fn stdlib_overlay_type_unknown_output_is_e0404() {
    let dir = overlay_tree("overlay-output", &SESSIONS.replace("${resources.store.host}", "${resources.store.hots}"));
    let (code, lines, out) = check_json(&dir, &["--stdlib", "../overlay"]);
    assert_eq!(code, 1, "{}", show(&out));
    assert_eq!(lines.len(), 1, "{}", show(&out));
    assert_eq!(lines[0]["code"], "E0404");
    assert_eq!(lines[0]["message"], "resource type `couchdb` has no output `hots`");
    assert_eq!(lines[0]["help"], "did you mean `${resources.store.host}`?");
    // The label on the `uses` says which type it is.
    assert_eq!(lines[0]["labels"][0]["message"], "`store` is a couchdb");
}

#[test]
fn without_the_overlay_couchdb_is_e0401() {
    let dir = overlay_tree("overlay-missing", SESSIONS);
    let (code, lines, out) = check_json(&dir, &[]);
    assert_eq!(code, 1, "{}", show(&out));
    let first = &lines[0];
    assert_eq!((&first["code"], &first["line"], &first["column"]), (&Value::from("E0401"), &Value::from(6), &Value::from(10)), "{}", show(&out));
    assert_eq!(first["message"], "unknown resource type `couchdb`");
    assert!(first["help"].as_str().unwrap().contains("stdlib overlay"), "the help says how to add a type:\n{}", show(&out));
    // (The cascade of E0403 on references to the resource is pinned by
    // tests/cases/cascade_unknown_resource_type.kdl.)
}

#[test]
fn a_broken_overlay_is_reported_in_its_own_file() {
    let dir = overlay_tree("overlay-broken", SESSIONS);
    dir.write("overlay/types/couchdb.kdl", COUCHDB.replace("output host doc", "outptu host doc"));
    let (code, lines, out) = check_json(&dir, &["--stdlib", "../overlay"]);
    assert_eq!(code, 1, "{}", show(&out));
    assert!(lines.iter().any(|l| l["code"] == "E0101" && l["file"].as_str().is_some_and(|f| f.ends_with("overlay/types/couchdb.kdl")) && l["help"] == "did you mean `output`?"), "{}", show(&out));
    // A missing overlay directory is an I/O failure.
    let out = platc(&dir.path().join("tree"), &["check", "--stdlib", "../nowhere"]);
    assert_eq!(code_of(&out), 2, "{}", show(&out));
}

/// A broken stdlib file that a backend reads (not a KDL type, which `check` reads) stops the
/// build with E0603 in that file, at the line its parser names, with the platform as the
/// second label; every other backend still runs, so the build reports all such files at once.
#[test]
fn a_broken_backend_stdlib_file_is_e0603_at_its_line() {
    let dir = clean_tree("stdlib-e0603");
    dir.write("overlay/observability/settings.yaml", "protocols:\n  http: [unclosed\nother: 1\n");
    dir.write("overlay/ci/actions.yaml", "checkout: {\n");
    let out = platc(dir.path(), &["build", "--format", "json", "--stdlib", "overlay"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let lines = json_lines(&out);
    let e0603: Vec<&Value> = lines.iter().filter(|l| l["code"] == "E0603").collect();
    let at = |file: &str| e0603.iter().find(|l| l["file"].as_str().is_some_and(|f| f.ends_with(file))).copied();
    let settings = at("overlay/observability/settings.yaml").unwrap_or_else(|| panic!("no E0603 in settings.yaml:\n{}", show(&out)));
    assert!((2..=4).contains(&settings["line"].as_i64().unwrap()), "the line the YAML parser names: {settings}");
    assert!(settings["message"].as_str().unwrap().starts_with("stdlib file "), "{settings}");
    assert_eq!(settings["labels"][0]["file"], "platform.kdl", "{settings}");
    assert!(settings["help"].as_str().unwrap().contains("stdlib overlay"), "{settings}");
    // Reported once, not once per service that reads it.
    assert_eq!(e0603.iter().filter(|l| l["file"] == settings["file"]).count(), 1, "{}", show(&out));
    assert!(at("overlay/ci/actions.yaml").is_some(), "the CI data is reported in the same run:\n{}", show(&out));
    assert!(!dir.path().join("deploy").exists(), "nothing is written");
}

/// Languages are the stdlib's `ci/languages/*.yaml`: a name no file defines is E0205 with the
/// list; an overlay's file makes the name valid for `check`, and a build reports what that
/// language lacks (a field, its Dockerfile template) as E0603 in the overlay's YAML.
#[test]
fn languages_come_from_the_stdlib_and_a_broken_one_is_e0603_in_its_file() {
    let dir = clean_tree("lang-overlay");
    dir.write("checkout/service.kdl", CHECKOUT.replacen("language go", "language elixir", 1));
    let out = platc(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let lines = json_lines(&out);
    let e0205 = lines.iter().find(|l| l["code"] == "E0205").unwrap_or_else(|| panic!("no E0205:\n{}", show(&out)));
    assert_eq!((&e0205["file"], &e0205["line"]), (&Value::from("checkout/service.kdl"), &Value::from(5)), "{}", show(&out));
    let help = e0205["help"].as_str().unwrap();
    for l in ["go", "java", "node", "python", "rust"] {
        assert!(help.contains(&format!("`{l}`")), "the help lists `{l}`: {help}");
    }
    assert!(help.contains("ci/languages/NAME.yaml"), "the help says how to add one: {help}");

    // The overlay defines the language, but without `test` and without a Dockerfile template.
    dir.write("overlay/ci/languages/elixir.yaml", "name: Elixir\ngithub:\n  setup: []\ngitlab:\n  image: elixir:1.18.4\n");
    let out = platc(dir.path(), &["check", "--stdlib", "overlay"]);
    assert_eq!(code(&out), 0, "an overlay's language is valid:\n{}", show(&out));
    let out = platc(dir.path(), &["build", "--format", "json", "--stdlib", "overlay"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let lines = json_lines(&out);
    let in_yaml: Vec<&Value> = lines.iter().filter(|l| l["code"] == "E0603" && l["file"].as_str().is_some_and(|f| f.ends_with("overlay/ci/languages/elixir.yaml"))).collect();
    assert!(in_yaml.iter().any(|l| l["message"].as_str().unwrap().contains("test")), "the missing field, in the YAML:\n{}", show(&out));
    assert!(in_yaml.iter().any(|l| l["message"].as_str().unwrap().contains("docker/elixir.Dockerfile.hbs")), "the missing template, in the YAML:\n{}", show(&out));
    assert!(!dir.path().join("deploy").exists(), "nothing is written");
}

/// A file that is not UTF-8 is E0002, pointing at the first bad byte; the run goes on.
#[test]
fn non_utf8_file_is_e0002() {
    let dir = clean_tree("latin1");
    let mut bytes = b"service checkout {\n    description \"Caf".to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b" orders\"\n}\n");
    dir.write("checkout/service.kdl", bytes);
    let out = platc(dir.path(), &["check", "--format", "json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let lines = json_lines(&out);
    let first = lines.iter().find(|l| l["code"] == "E0002").unwrap_or_else(|| panic!("no E0002:\n{}", show(&out)));
    assert_eq!((&first["file"], &first["line"], &first["column"]), (&Value::from("checkout/service.kdl"), &Value::from(2), &Value::from(21)), "{}", show(&out));
}

/// Every policy waiver is part of the verdict: `platc check` lists each one with its reason
/// and date under "no problems", and the service's Deployment carries it.
#[test]
fn waivers_are_listed_by_check_and_carried_by_the_deployment() {
    let dir = TempDir::new("waivers");
    dir.write("platform.kdl", PLATFORM.replace("forbid-loosening", "forbid-loosening\n        require-probes"));
    dir.write(
        "loadgen/service.kdl",
        "service loadgen {\n    owner team-a\n    image \"ghcr.io/acme/vendor/locust:2.31.0\" build=#false\n    scale min=2 max=4\n    waive require-probes reason=\"a load generator with no health endpoint\" until=\"2999-12-31\"\n}\n",
    );
    let out = platc(dir.path(), &["check"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("checked 1 service: no problems\n  loadgen waives require-probes until 2999-12-31: a load generator with no health endpoint\n"), "{stderr}");
    let out = platc(dir.path(), &["build", "--env", "dev", "--out", "out"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let deployment = std::fs::read_to_string(dir.path().join("out/deploy/loadgen/manifests/dev/deployment-loadgen.yaml")).unwrap();
    assert!(deployment.contains("platc.dev/waiver.require-probes: a load generator with no health endpoint (until 2999-12-31)\n"), "{deployment}");
}

//! The paved road for a new service, end to end: `platc init`, `platc new` for every language,
//! `platc build`, and the validators on what it wrote (`.ci/oracles.sh check`: helm 3 and 4,
//! kubernetes-validate, terraform, actionlint, promtool, hadolint, Grafana schema, checkov).
//! For rust, node, python and java the scaffolded app is built, started on a free port, and must
//! answer 200 on its probes and Prometheus text on /metrics (checked with `promtool check
//! metrics`). Also: the generated Dockerfile fits the scaffold's layout, nothing is ever
//! overwritten, stdlib overlays change the scaffolds, and a guardrail violation carries a label
//! in the spec and one in platform.kdl.
//!
//! Everything platc does here runs in-process through the library (`platc::cli::run`), so the
//! tests exercise the sources, not a stale binary. Missing tools (cargo, node, npm, python3,
//! javac, java, the validators of `.ci/oracles.sh install`) fail the tests; nothing is skipped.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::TempDir;

const LANGS: [&str; 6] = ["go", "rust", "node", "python", "java", "dotnet"];
/// Artifact kinds every scaffolded service must get from `platc build`, with a file that proves
/// each (relative to the output root; `S` is the service).
const KINDS: [(&str, &str); 7] = [
    ("helm", "deploy/S/chart/Chart.yaml"),
    ("manifests", "deploy/S/manifests/prod/deployment-S.yaml"),
    ("gitops", "deploy/gitops/prod/apps/S.yaml"),
    ("ci", ".github/workflows/platc.yml"),
    ("dockerfile", "deploy/S/Dockerfile"),
    ("alerts", "deploy/S/alerts/rules.yaml"),
    ("dashboards", "deploy/S/dashboards/S.json"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a platc command line in-process and returns its exit code.
fn platc(args: &[&str]) -> i32 {
    platc::cli::new::run_args(args.iter().copied())
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// `platc init` in `dir`, then `platc new NAME --lang LANG --dir dir/services/NAME`.
fn new_service(dir: &Path, name: &str, lang: &str) -> PathBuf {
    if !dir.join("platform.kdl").exists() {
        assert_eq!(platc(&["init", "--dir", s(dir)]), 0, "platc init");
    }
    let svc = dir.join("services").join(name);
    assert_eq!(platc(&["new", name, "--lang", lang, "--dir", s(&svc)]), 0, "platc new {name} --lang {lang}");
    svc
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn out_text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Runs a tool; a tool that cannot be started fails the test (never a skip).
fn run_tool(cmd: &mut Command, what: &str) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {what}: {e} (the tool must be installed on this machine)"))
}

fn must_succeed(cmd: &mut Command, what: &str) -> Output {
    let out = run_tool(cmd, what);
    assert!(out.status.success(), "{what} failed ({}):\n{}", out.status, out_text(&out));
    out
}

/// An installed validator, from `.ci/oracles.sh path TOOL`.
fn oracle(tool: &str) -> PathBuf {
    let out = run_tool(Command::new("bash").arg(root().join(".ci/oracles.sh")).args(["path", tool]), ".ci/oracles.sh path");
    assert!(out.status.success(), "validator `{tool}` is not installed: run `.ci/oracles.sh install` ({})", out_text(&out));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// The checkov skips `.ci/run` uses for the examples, so that scaffolds are held to the same bar.
fn checkov_skips() -> String {
    let run = read(&root().join(".ci/run"));
    let line = run.lines().find_map(|l| l.trim().strip_prefix("export PLATC_CHECKOV_SKIP=")).expect(".ci/run exports PLATC_CHECKOV_SKIP");
    line.trim().trim_matches('"').to_string()
}

// ------------------------------------------------------------------------------------ build

/// Every language, scaffolded into one repository (plus one service with the commented `uses
/// postgres` of the scaffold turned on, for Terraform): check, fmt --check and build are clean,
/// every artifact kind is there for every service, the build is up to date, and every artifact
/// passes the validators, checkov enforced as for the examples.
#[test]
fn every_language_builds_and_passes_the_validators() {
    let dir = TempDir::new("new-all");
    let repo = dir.path();
    let mut names = Vec::new();
    for lang in LANGS {
        let name = format!("hello-{lang}");
        new_service(repo, &name, lang);
        names.push(name);
    }
    // The example in the scaffold's comments, uncommented, is valid and gets Terraform.
    let db = new_service(repo, "with-db", "go");
    let spec = read(&db.join("service.kdl"));
    let on = spec.replace("    // uses postgres db\n", "    uses postgres db\n").replace("    // env DATABASE_URL=", "    env DATABASE_URL=");
    assert_ne!(on, spec, "the scaffold's service.kdl shows a commented `uses postgres db`:\n{spec}");
    std::fs::write(db.join("service.kdl"), on).unwrap();

    assert_eq!(platc(&["check", s(repo)]), 0, "platc check");
    assert_eq!(platc(&["fmt", "--check", s(repo)]), 0, "scaffolded KDL is in canonical form (platc fmt --check)");
    assert_eq!(platc(&["build", s(repo)]), 0, "platc build");
    assert_eq!(platc(&["build", s(repo), "--check"]), 0, "platc build --check right after a build");

    let mut missing = Vec::new();
    for name in names.iter().chain(std::iter::once(&"with-db".to_string())) {
        for (kind, file) in KINDS {
            let p = repo.join(file.replace('S', name));
            if !p.is_file() {
                missing.push(format!("{name}: {kind} ({})", p.strip_prefix(repo).unwrap().display()));
            }
        }
    }
    for env in ["staging", "prod"] {
        let tf = repo.join(format!("deploy/with-db/terraform/{env}/main.tf"));
        if !tf.is_file() {
            missing.push(format!("with-db: terraform ({})", tf.strip_prefix(repo).unwrap().display()));
        }
    }
    assert!(missing.is_empty(), "artifact kinds missing after `platc build`:\n  {}", missing.join("\n  "));
    let workflow = read(&repo.join(".github/workflows/platc.yml"));
    for name in &names {
        assert!(workflow.contains(&format!("test-{name}:")), "the workflow tests {name}");
        assert!(workflow.contains(&format!("file: deploy/{name}/Dockerfile")), "the workflow builds the image of {name}");
    }

    let out =
        run_tool(Command::new("bash").arg(root().join(".ci/oracles.sh")).arg("check").arg(repo).env("PLATC_CHECKOV", "enforce").env("PLATC_CHECKOV_SKIP", checkov_skips()), ".ci/oracles.sh check");
    let text = out_text(&out);
    assert!(out.status.success(), "the validators fail on the output of scaffolded services:\n{text}");
    for needle in ["PASS helm3 lint --strict", "PASS helm4 template", "PASS kubernetes-validate", "PASS terraform validate", "PASS actionlint", "PASS hadolint", "PASS promtool check rules"] {
        assert!(text.lines().any(|l| l.starts_with(needle)), "no `{needle}` line in the validators' output:\n{text}");
    }
}

// ------------------------------------------------------------------------------ layout

/// Source paths of the COPY instructions that copy from the build context (not `--from`).
fn copy_sources(dockerfile: &str) -> Vec<String> {
    let joined = dockerfile.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("COPY")) {
            continue;
        }
        let args: Vec<&str> = words.collect();
        if args.iter().any(|a| a.starts_with("--from")) {
            continue;
        }
        let args: Vec<&str> = args.into_iter().filter(|a| !a.starts_with("--")).collect();
        out.extend(args[..args.len().saturating_sub(1)].iter().map(|a| a.to_string()));
    }
    out
}

/// Whether `pattern` (a name with at most `*` wildcards, relative to `dir`) matches a file.
fn matches_any(dir: &Path, pattern: &str) -> bool {
    if pattern == "." || pattern == "./" {
        return dir.is_dir();
    }
    if !pattern.contains('*') {
        return dir.join(pattern).exists();
    }
    let (parent, glob) = pattern.rsplit_once('/').map(|(p, g)| (dir.join(p), g)).unwrap_or((dir.to_path_buf(), pattern));
    let parts: Vec<&str> = glob.split('*').collect();
    std::fs::read_dir(&parent).into_iter().flatten().flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with(parts[0]) && name.ends_with(parts[parts.len() - 1]) && name.len() >= parts[0].len() + parts[parts.len() - 1].len()
    })
}

/// The generated Dockerfile (`deploy/NAME/Dockerfile`, built with the service directory as the
/// context) fits what `platc new` wrote: every COPY source exists, and what the build and
/// entrypoint assume about names (binary, module, main file, jar) holds.
#[test]
fn the_generated_dockerfile_fits_the_scaffold() {
    let dir = TempDir::new("new-layout");
    let repo = dir.path();
    for lang in LANGS {
        new_service(repo, &format!("shop-{lang}"), lang);
    }
    assert_eq!(platc(&["build", s(repo)]), 0, "platc build");
    let workflow = read(&repo.join(".github/workflows/platc.yml"));
    for lang in LANGS {
        let name = format!("shop-{lang}");
        let svc = repo.join("services").join(&name);
        let dockerfile = read(&repo.join(format!("deploy/{name}/Dockerfile")));
        assert!(workflow.contains(&format!("context: services/{name}\n")), "{name}: the image is built with the service directory as context");
        let sources = copy_sources(&dockerfile);
        assert!(!sources.is_empty(), "{name}: no COPY from the build context in\n{dockerfile}");
        for src in &sources {
            assert!(matches_any(&svc, src), "{name}: the Dockerfile copies `{src}`, which the scaffold does not have\n{dockerfile}");
        }
        assert!(dockerfile.contains("EXPOSE 8080\n"), "{name}: the image exposes the declared port\n{dockerfile}");
        match lang {
            "go" => {
                assert!(read(&svc.join("main.go")).starts_with("// Command") && read(&svc.join("main.go")).contains("\npackage main\n"), "go: main package at the root");
                assert!(read(&svc.join("go.mod")).starts_with(&format!("module {name}\n")));
                assert!(read(&svc.join("main.go")).contains("const defaultPort = \"8080\""));
            }
            "rust" => {
                assert!(dockerfile.contains(&format!("cp target/release/{name} ")), "{dockerfile}");
                assert!(read(&svc.join("Cargo.toml")).contains(&format!("name = \"{name}\"")), "rust: the binary is named like the service");
                assert!(read(&svc.join("Cargo.lock")).contains(&format!("name = \"{name}\"")), "rust: Cargo.lock is committed for --locked");
                assert!(read(&svc.join("src/main.rs")).contains("const DEFAULT_PORT: u16 = 8080;"));
            }
            "node" => {
                assert!(dockerfile.contains("CMD [\"node\", \".\"]"), "{dockerfile}");
                let pkg: serde_json::Value = serde_json::from_str(&read(&svc.join("package.json"))).unwrap();
                let main = pkg["main"].as_str().expect("package.json has main");
                assert!(svc.join(main).is_file(), "node: `main` of package.json ({main}) exists");
                assert!(read(&svc.join(main)).contains("const DEFAULT_PORT = 8080;"));
                let lock: serde_json::Value = serde_json::from_str(&read(&svc.join("package-lock.json"))).unwrap();
                assert_eq!(lock["name"], pkg["name"], "node: the lock file belongs to package.json");
            }
            "python" => {
                let module = name.replace('-', "_");
                assert!(dockerfile.contains(&format!("CMD [\"python\", \"-m\", \"{module}\"]")), "{dockerfile}");
                assert!(svc.join(&module).join("__main__.py").is_file(), "python: `python -m {module}` has a __main__");
                assert!(read(&svc.join(&module).join("app.py")).contains("DEFAULT_PORT = 8080\n"));
            }
            "java" => {
                assert!(dockerfile.contains("cp target/*.jar /out/app.jar"), "{dockerfile}");
                let pom = read(&svc.join("pom.xml"));
                assert!(pom.contains("<packaging>jar</packaging>") && pom.contains("<mainClass>app.Main</mainClass>"), "java: an executable jar\n{pom}");
                assert!(read(&svc.join("src/main/java/app/Main.java")).contains("static final int DEFAULT_PORT = 8080;"));
            }
            "dotnet" => {
                assert!(dockerfile.contains(&format!("ENTRYPOINT [\"dotnet\", \"/app/{name}.dll\"]")), "{dockerfile}");
                assert!(dockerfile.contains("FROM mcr.microsoft.com/dotnet/aspnet:"), "dotnet: the runtime image has no SDK\n{dockerfile}");
                let project = read(&svc.join(format!("{name}.csproj")));
                assert!(
                    project.contains("<Project Sdk=\"Microsoft.NET.Sdk.Web\">") && project.contains(&format!("<AssemblyName>{name}</AssemblyName>")),
                    "dotnet: the assembly is named like the service\n{project}"
                );
                let program = read(&svc.join("Program.cs"));
                assert!(program.contains("const int DefaultPort = 8080;"), "{program}");
                for path in ["/healthz", "/ready", "/metrics"] {
                    assert!(program.contains(&format!("app.MapGet(\"{path}\"")), "dotnet: the app answers {path}");
                }
                assert!(program.contains("http_request_duration_seconds") && program.contains("0.25"), "dotnet: the metrics the alerts read");
            }
            _ => unreachable!(),
        }
        // The build context leaves out local build output.
        assert!(svc.join(".dockerignore").is_file() && svc.join(".gitignore").is_file(), "{name}: .dockerignore and .gitignore");
        let spec = read(&svc.join("service.kdl"));
        assert!(spec.contains("port http 8080") && spec.contains("health readiness=\"/ready\" liveness=\"/healthz\""), "{spec}");
    }
}

// ---------------------------------------------------------------------------------- apps

/// A started app, killed when dropped (also when the test panics).
struct App {
    child: Child,
    log: PathBuf,
    what: String,
}

impl App {
    fn start(what: &str, cmd: &mut Command, log: PathBuf) -> App {
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd.stdin(Stdio::null()).stdout(file.try_clone().unwrap()).stderr(file).spawn().unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        App { child, log, what: what.to_string() }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until /healthz answers, or fails with the app's output.
    fn wait_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}) before serving:\n{}", self.what, self.log());
            }
            if let Ok((200, _)) = get(port, "/healthz") {
                return;
            }
            assert!(Instant::now() < deadline, "{} does not answer on port {port} after 60 s:\n{}", self.what, self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A GET over plain TCP: (status, body).
fn get(port: u16, path: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("no end of headers in {text:?}"))?;
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| format!("no status in {head:?}"))?;
    // Node answers with chunked encoding when it streams; ours set Content-Length, so the body is
    // the rest as it is.
    Ok((code, body.to_string()))
}

/// The checks every running scaffold must pass: probes 200, a counted request, and /metrics in
/// the Prometheus text format with the metric names the alerts and dashboard read.
fn probe(app: &mut App, port: u16) {
    app.wait_ready(port);
    for path in ["/healthz", "/ready", "/"] {
        let (code, body) = get(port, path).unwrap_or_else(|e| panic!("{}: GET {path}: {e}\n{}", app.what, app.log()));
        assert_eq!(code, 200, "{}: GET {path}: {body}", app.what);
    }
    let (code, _) = get(port, "/no-such-page").unwrap();
    assert_eq!(code, 404, "{}: unknown paths are 404", app.what);
    let (code, metrics) = get(port, "/metrics").unwrap();
    assert_eq!(code, 200, "{}: /metrics", app.what);
    for line in [
        "# TYPE http_requests_total counter",
        "http_requests_total{method=\"GET\",code=\"200\"} 1",
        "http_requests_total{method=\"GET\",code=\"404\"} 1",
        "# TYPE http_request_duration_seconds histogram",
        "http_request_duration_seconds_bucket{le=\"+Inf\"} 2",
        "http_request_duration_seconds_count 2",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{}: /metrics lacks `{line}` (probes and scrapes are not counted):\n{metrics}", app.what);
    }
    // The latency objective of the scaffold's service.kdl (250ms) is a bucket.
    assert!(metrics.contains("http_request_duration_seconds_bucket{le=\"0.25\"}"), "{metrics}");
    let mut lint = Command::new(oracle("promtool")).args(["check", "metrics"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("promtool runs");
    lint.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
    let out = lint.wait_with_output().unwrap();
    assert!(out.status.success(), "{}: promtool check metrics:\n{}\n{metrics}", app.what, out_text(&out));
}

/// A scaffold on its own (no platform needed), for building and running the app.
fn scaffold_alone(tag: &str, name: &str, lang: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new(tag);
    let svc = dir.path().join(name);
    assert_eq!(platc(&["new", name, "--lang", lang, "--dir", s(&svc)]), 0, "platc new {name} --lang {lang}");
    (dir, svc)
}

#[test]
fn rust_app_builds_offline_and_serves() {
    let (_dir, svc) = scaffold_alone("new-rust", "hello-rs", "rust");
    let lock = read(&svc.join("Cargo.lock"));
    let cargo = |sub: &str, rest: &[&str]| {
        let mut c = Command::new("cargo");
        c.arg(sub).args(["--offline", "--locked", "--target-dir"]).arg(svc.join("target")).args(rest).current_dir(&svc);
        c.env_remove("CARGO_TARGET_DIR").env_remove("RUSTFLAGS").env_remove("CARGO_BUILD_TARGET");
        c
    };
    must_succeed(&mut cargo("build", &[]), "cargo build --offline --locked");
    // What the CI job of a rust service runs.
    must_succeed(&mut cargo("clippy", &["--all-targets", "--", "-D", "warnings"]), "cargo clippy -D warnings");
    must_succeed(&mut cargo("test", &[]), "cargo test");
    assert_eq!(read(&svc.join("Cargo.lock")), lock, "Cargo.lock is complete as scaffolded");
    let port = free_port();
    let mut app = App::start("the rust app", Command::new(svc.join("target/debug/hello-rs")).env("PORT", port.to_string()), svc.join("app.log"));
    probe(&mut app, port);
}

#[test]
fn node_app_installs_tests_and_serves() {
    let (_dir, svc) = scaffold_alone("new-node", "hello-js", "node");
    let lock = read(&svc.join("package-lock.json"));
    let npm = |args: &[&str]| {
        let mut c = Command::new("npm");
        c.args(args).current_dir(&svc).env("npm_config_update_notifier", "false").env("npm_config_fund", "false").env("npm_config_audit", "false");
        c
    };
    // What the CI job of a node service runs.
    must_succeed(&mut npm(&["ci", "--offline"]), "npm ci --offline");
    must_succeed(&mut npm(&["test"]), "npm test");
    assert_eq!(read(&svc.join("package-lock.json")), lock, "package-lock.json is complete as scaffolded");
    let port = free_port();
    let mut app = App::start("the node app", Command::new("node").arg(".").current_dir(&svc).env("PORT", port.to_string()), svc.join("app.log"));
    probe(&mut app, port);
}

#[test]
fn python_app_tests_and_serves() {
    let (_dir, svc) = scaffold_alone("new-python", "hello-py", "python");
    // The scaffold's own tests, without pytest (not installed here; CI installs it from
    // requirements-dev.txt): they are plain functions with asserts.
    must_succeed(
        Command::new("python3")
            .args(["-c", "from tests import test_app as t\nt.test_probes_and_metrics()\nt.test_histogram_is_cumulative()\nprint('2 passed, 0 failed')"])
            .current_dir(&svc)
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        "the scaffold's tests",
    );
    assert!(read(&svc.join("requirements-dev.txt")).contains("pytest=="), "pytest is pinned for CI");
    let port = free_port();
    let mut app =
        App::start("the python app", Command::new("python3").args(["-m", "hello_py"]).current_dir(&svc).env("PORT", port.to_string()).env("PYTHONDONTWRITEBYTECODE", "1"), svc.join("app.log"));
    probe(&mut app, port);
}

/// Maven cannot reach its registry here, so the Java app is compiled with javac directly (the
/// JDK on this machine; the image builds with Maven and runs on Java 25).
#[test]
fn java_app_compiles_and_serves() {
    let (dir, svc) = scaffold_alone("new-java", "hello-jv", "java");
    let classes = dir.path().join("classes");
    must_succeed(Command::new("javac").args(["--release", "17", "-Xlint:all", "-Werror", "-d"]).arg(&classes).arg(svc.join("src/main/java/app/Main.java")), "javac");
    let port = free_port();
    let mut app = App::start("the java app", Command::new("java").arg("-cp").arg(&classes).arg("app.Main").env("PORT", port.to_string()), svc.join("app.log"));
    probe(&mut app, port);
}

// ------------------------------------------------------------------------- refusals

#[test]
fn new_and_init_never_overwrite() {
    let dir = TempDir::new("new-refuse");
    let repo = dir.path();
    let svc = new_service(repo, "once", "rust");
    let spec = read(&svc.join("service.kdl"));
    std::fs::write(svc.join("README.md"), "mine\n").unwrap();
    assert_eq!(platc(&["new", "once", "--lang", "go", "--dir", s(&svc)]), 2, "a second `platc new` into the same directory");
    assert_eq!(read(&svc.join("service.kdl")), spec);
    assert_eq!(read(&svc.join("README.md")), "mine\n");
    assert!(!svc.join("go.mod").exists(), "nothing is written when anything would be overwritten");
    let platform = read(&repo.join("platform.kdl"));
    assert_eq!(platc(&["init", "--dir", s(repo)]), 2, "a second `platc init`");
    assert_eq!(read(&repo.join("platform.kdl")), platform);
    // A directory that exists without the files is fine.
    let empty = repo.join("services/empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_eq!(platc(&["new", "empty", "--lang", "node", "--dir", s(&empty)]), 0);
    // Bad names, reserved ones and languages the stdlib does not define are usage errors;
    // nothing is written.
    for (name, lang) in [("Bad_Name", "go"), ("9lives", "rust"), ("email", "python"), ("deps", "rust"), ("svc", "cobol")] {
        let d = repo.join("services").join(name);
        assert_eq!(platc(&["new", name, "--lang", lang, "--dir", s(&d)]), 2, "platc new {name} --lang {lang}");
        assert!(!d.exists(), "nothing written for {name}");
    }
    assert_eq!(platc(&["init", "--dir", s(&repo.join("other")), "--name", "Not-Valid"]), 2);
}

/// A platform made by `platc init` whose platform.kdl names the overlay `platform-stdlib`
/// (`stdlib "DIR"`), which is still empty.
fn platform_with_overlay(name: &str) -> TempDir {
    let dir = TempDir::new(name);
    let repo = dir.path();
    assert_eq!(platc(&["init", "--dir", s(repo), "--name", "acme"]), 0);
    let platform = read(&repo.join("platform.kdl"));
    assert!(platform.starts_with("// platform.kdl") && platform.contains("platform acme {"), "{platform}");
    std::fs::write(repo.join("platform.kdl"), platform.replacen("platform acme {\n", "platform acme {\n    stdlib \"platform-stdlib\"\n", 1)).unwrap();
    dir
}

/// A platform team changes the scaffolds without rebuilding platc: an overlay named in
/// platform.kdl (`stdlib "DIR"`) replaces a file and adds one, for `platc new` below it.
#[test]
fn platform_overlays_change_the_scaffolds() {
    let dir = platform_with_overlay("new-overlay");
    let repo = dir.path();
    dir.write("platform-stdlib/scaffolds/service/README.md.hbs", "# {{name}}\n\nOwned by {{owner}}. Ask #platform for help.\n");
    dir.write("platform-stdlib/scaffolds/go/dot-golangci.yml", "linters:\n  enable: [errcheck]\n");
    let svc = repo.join("services/orders");
    assert_eq!(platc(&["new", "orders", "--lang", "go", "--dir", s(&svc), "--owner", "team-orders"]), 0);
    assert_eq!(read(&svc.join("README.md")), "# orders\n\nOwned by team-orders. Ask #platform for help.\n");
    assert!(svc.join(".golangci.yml").is_file());
    assert!(read(&svc.join("service.kdl")).contains("owner \"team-orders\""));
    assert_eq!(platc(&["check", s(repo)]), 0, "the overlay's platform still checks clean");
}

/// A platform team adds a language without rebuilding platc: its overlay (named in platform.kdl)
/// has `ci/languages/elixir.yaml`, `docker/elixir.Dockerfile.hbs` and `scaffolds/elixir/`, and
/// `platc new --lang elixir`, `check` and `build` take it like a built-in one.
#[test]
fn a_platform_overlay_adds_a_language() {
    let dir = platform_with_overlay("new-elixir");
    let repo = dir.path();
    let svc = repo.join("services/chat");
    assert_eq!(platc(&["new", "chat", "--lang", "elixir", "--dir", s(&svc)]), 2, "no overlay language yet");
    dir.write(
        "platform-stdlib/ci/languages/elixir.yaml",
        "name: Elixir\ntest:\n  - mix deps.get\n  - mix test\ngithub:\n  setup:\n    - name: Show Elixir\n      run: elixir --version\ngitlab:\n  image: elixir:1.18.4-otp-27\n",
    );
    dir.write(
        "platform-stdlib/docker/elixir.Dockerfile.hbs",
        "{{#each header}}\n# {{this}}\n{{/each}}\nFROM elixir:1.18.4-otp-27 AS build\nWORKDIR /src\nCOPY . .\nRUN mix release --path /out\n\nFROM debian:trixie-slim\nCOPY --from=build /out /app\nUSER {{uid}}:{{uid}}\n{{#if port}}\nEXPOSE {{port}}\n{{/if}}\nENTRYPOINT [\"/app/bin/{{module}}\", \"start\"]\n",
    );
    dir.write("platform-stdlib/scaffolds/elixir/mix.exs.hbs", "defmodule {{module}}.MixProject do\n  use Mix.Project\nend\n");
    dir.write("platform-stdlib/scaffolds/elixir/dot-gitignore", "_build/\ndeps/\n");
    assert_eq!(platc(&["new", "chat", "--lang", "elixir", "--dir", s(&svc)]), 0, "platc new --lang elixir");
    assert!(read(&svc.join("service.kdl")).contains("language elixir\n"));
    assert_eq!(read(&svc.join("mix.exs")), "defmodule chat.MixProject do\n  use Mix.Project\nend\n");
    assert!(svc.join(".gitignore").is_file());
    assert_eq!(platc(&["check", s(repo)]), 0, "platc check");
    assert_eq!(platc(&["build", s(repo)]), 0, "platc build");
    let workflow = read(&repo.join(".github/workflows/platc.yml"));
    assert!(workflow.contains("test-chat:") && workflow.contains("mix test") && workflow.contains("elixir --version"), "the overlay's test job:\n{workflow}");
    assert!(workflow.contains("file: deploy/chat/Dockerfile"), "the image is built from the generated Dockerfile:\n{workflow}");
    let dockerfile = read(&repo.join("deploy/chat/Dockerfile"));
    assert!(dockerfile.contains("FROM elixir:1.18.4-otp-27 AS build\n") && dockerfile.contains("USER 10001:10001\n") && dockerfile.contains("EXPOSE 8080\n"), "{dockerfile}");
    assert!(dockerfile.contains("ENTRYPOINT [\"/app/bin/chat\", \"start\"]"), "{dockerfile}");
}

// --------------------------------------------------------------------------- policies

/// Guardrails of platform.kdl: each violation is one E0503 whose primary label is in the spec
/// (at the offending line) and whose second label is in platform.kdl (at the policy), in the
/// JSON output of `platc check --format json`.
#[test]
fn policy_violations_point_at_the_spec_and_at_platform_kdl() {
    let dir = TempDir::new("new-policy");
    let repo = dir.path();
    let svc = new_service(repo, "pay", "go");
    let platform = read(&repo.join("platform.kdl"));
    let strict = platform.replace("min-replicas 2 env=prod", "min-replicas 3 env=prod");
    assert_ne!(strict, platform);
    std::fs::write(repo.join("platform.kdl"), &strict).unwrap();
    // Three violations: no owner (require-owner), a CPU limit above `max-cpu "4"`, and two
    // replicas in prod where the platform now asks for three.
    let spec = read(&svc.join("service.kdl"));
    let bad = spec.replace("    owner \"my-team\"\n", "").replace("resources cpu=\"100m\" memory=\"128Mi\"", "resources cpu=\"100m\" memory=\"128Mi\" cpu-limit=\"8\"");
    assert_ne!(bad, spec);
    std::fs::write(svc.join("service.kdl"), bad).unwrap();
    let spec = read(&svc.join("service.kdl"));

    let loaded = platc_check::load::load(&platc_check::fs::RealFs, &[repo.to_path_buf()], &[], repo).expect("loads");
    let diags = platc::build::analyze(&loaded).diags.into_vec();
    let json = platc_syntax::diagnostics::render(&diags, &loaded.sources, platc_syntax::diagnostics::Format::Json, false);
    let lines: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    let line_of = |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).map(|i| i as u64 + 1).unwrap_or_else(|| panic!("no `{needle}` in\n{text}"));
    // (policy line in platform.kdl, offending line in service.kdl)
    let expected = [
        (line_of(&strict, "max-cpu \"4\""), line_of(&spec, "cpu-limit=\"8\"")),
        (line_of(&strict, "min-replicas 3 env=prod"), line_of(&spec, "scale min=2")),
        (line_of(&strict, "require-owner"), line_of(&spec, "service pay {")),
    ];
    let violations: Vec<&serde_json::Value> = lines.iter().filter(|l| l["code"] == "E0503").collect();
    assert_eq!(violations.len(), expected.len(), "one E0503 per violated policy:\n{json}");
    for (policy_line, spec_line) in expected {
        let found = violations.iter().any(|v| {
            v["file"] == "services/pay/service.kdl" && v["line"] == spec_line && v["labels"].as_array().is_some_and(|ls| ls.iter().any(|l| l["file"] == "platform.kdl" && l["line"] == policy_line))
        });
        assert!(found, "no E0503 at services/pay/service.kdl:{spec_line} labelled at platform.kdl:{policy_line}:\n{json}");
    }
    assert!(lines.iter().all(|l| l["code"] == "E0503"), "only policy violations:\n{json}");
    assert_eq!(platc(&["check", s(repo)]), 1, "platc check exits 1 on a violation");
}

#[test]
fn every_language_has_a_scaffold() {
    let lib = platc_check::stdlib::Stdlib::builtin();
    for name in lib.languages() {
        assert!(LANGS.contains(&name.as_str()), "{name} is tested here");
        let lang = platc::cli::new::language(&lib, &name).unwrap();
        let files = platc::cli::new::scaffold(&lib, "svc", &lang, "team-x").unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        for required in ["service.kdl", "README.md", ".gitignore", ".dockerignore"] {
            assert!(paths.contains(&required), "{name}: no {required} in {paths:?}");
        }
        for f in &files {
            assert!(!f.text.contains("{{") || f.path.ends_with(".md"), "{name}: {} has an unrendered placeholder", f.path);
        }
    }
}

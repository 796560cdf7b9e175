//! The Helm chart and platc's rendered manifests are the same objects.
//!
//! For every service of every example and every environment, real `helm template` (Helm 3 and
//! Helm 4) of the generated chart with `values-ENV.yaml` must produce exactly the objects of
//! `SERVICE/manifests/ENV/` (compared as parsed YAML, order-independent), whatever the release
//! name; and `helm lint --strict` must pass with the default values and with each environment's.
//! The chart templates live in stdlib/helm/; the renderer in compiler/platc-emit/src/emit/manifests.rs.
//!
//! Helm comes from `.ci/oracles.sh install`. A missing helm FAILS these tests: a check that
//! quietly skips turns CI green without checking anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use platc::build::build_paths;
use platc_check::fs::RealFs;
use platc_emit::lower::BuildOptions;
use platc_syntax::diagnostics::{render, Format};
use serde_json::Value as Json;

const HELMS: [&str; 2] = ["helm3", "helm4"];
const KUBE_VERSION: &str = "1.32.0";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------------------------------------- tools

/// The absolute path of an oracle tool, or a failure that says how to install it.
fn tool(name: &str) -> PathBuf {
    static PATHS: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    if let Some(p) = PATHS.lock().unwrap().get(name) {
        return p.clone();
    }
    let p = find_tool(name);
    PATHS.lock().unwrap().insert(name.to_string(), p.clone());
    p
}

fn find_tool(name: &str) -> PathBuf {
    let script = root().join(".ci/oracles.sh");
    let out = Command::new("bash").arg(&script).args(["path", name]).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(out.status.success() && path.is_file(), "{name} is not installed (looked for `{}`): run `.ci/oracles.sh install` first.\n{}", path.display(), String::from_utf8_lossy(&out.stderr));
    path
}

/// A scratch directory, removed on drop (kept when the test fails, to look at).
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("platc-helm-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs one helm command with its state directories inside `home` (no user config, no
/// network); returns stdout, or the failure with everything helm said.
fn helm(helm: &str, home: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(tool(helm))
        .args(args)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .output()
        .map_err(|e| format!("cannot run {helm}: {e}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{helm} {} failed ({}):\n{text}", args.join(" "), out.status))
    }
}

// ------------------------------------------------------------------------------------ builds

/// Builds the tree at `input` (every environment; previews named after a test branch) into
/// `out`, exactly as `platc build` writes it.
fn build(input: &Path, out: &Path, image_tag: Option<&str>) {
    let opts = BuildOptions { branch: Some("feat/helm-test".into()), image_tag: image_tag.map(String::from), ..Default::default() };
    let r = build_paths(&RealFs, &[input.to_path_buf()], &[], &root(), &opts).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
    let diags: Vec<_> = r.diags.iter().cloned().collect();
    let Some(output) = r.output else {
        panic!("{}: build failed:\n{}", input.display(), render(&diags, &r.loaded.sources, Format::Human, false));
    };
    for (rel, bytes) in &output.files {
        let path = out.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
}

/// The services of a built tree, wherever it puts them: the directories holding a
/// `chart/Chart.yaml` (their `manifests/ENV/` are beside the chart).
fn services(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(out)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() == "Chart.yaml" && e.path().parent().is_some_and(|p| p.ends_with("chart")))
        .filter_map(|e| Some(e.path().parent()?.parent()?.to_path_buf()))
        .collect();
    v.sort();
    v
}

/// The service directory of `name` in a built tree.
fn service_dir(out: &Path, name: &str) -> PathBuf {
    services(out).into_iter().find(|s| s.ends_with(name)).unwrap_or_else(|| panic!("{}: no chart of `{name}`", out.display()))
}

/// The environments of a chart, from its `values-ENV.yaml` files.
fn environments(chart: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(chart).unwrap().filter_map(|e| e.ok()).filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_prefix("values-")?.strip_suffix(".yaml").map(String::from))).collect();
    v.sort();
    v
}

// ------------------------------------------------------------------------------------- YAML

/// Parses every document of a YAML stream. serde-saphyr reads plain scalars with YAML 1.1's
/// booleans (`on`, `yes`, `y`) and numbers, as Kubernetes does, so a string that lost its
/// quotes shows up as a different value.
fn parse_docs(text: &str, what: &str) -> Vec<Json> {
    let docs: Vec<Json> = serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{what}: not YAML: {e}\n{text}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// Objects by `Kind namespace/name`.
type Objects = BTreeMap<String, Json>;

fn key(o: &Json) -> String {
    format!("{} {} {}/{}", o["apiVersion"].as_str().unwrap_or("?"), o["kind"].as_str().unwrap_or("?"), o["metadata"]["namespace"].as_str().unwrap_or(""), o["metadata"]["name"].as_str().unwrap_or("?"))
}

fn index(docs: Vec<Json>, what: &str) -> Objects {
    let mut m = Objects::new();
    for d in docs {
        let k = key(&d);
        assert!(m.insert(k.clone(), d).is_none(), "{what}: two objects {k}");
    }
    m
}

/// platc's rendered manifests of one environment (a preview's are under `ENV-BRANCH/`).
fn manifests(service: &Path, env: &str) -> Objects {
    let base = service.join("manifests");
    let dir = std::fs::read_dir(&base)
        .unwrap_or_else(|e| panic!("{}: {e}", base.display()))
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy() == env || n.to_string_lossy().starts_with(&format!("{env}-"))))
        .unwrap_or_else(|| base.join(env));
    let mut docs = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        docs.extend(parse_docs(&text, &p.display().to_string()));
    }
    index(docs, &dir.display().to_string())
}

/// Every difference between two JSON values, one line each, with its path.
fn diff(path: &str, want: &Json, got: &Json, out: &mut Vec<String>) {
    match (want, got) {
        (Json::Object(w), Json::Object(g)) => {
            // Key order too: the chart prints each environment's objects as the manifests do.
            let (wk, gk): (Vec<&String>, Vec<&String>) = (w.keys().collect(), g.keys().collect());
            if wk != gk && w.len() == g.len() && w.keys().all(|k| g.contains_key(k)) {
                out.push(format!("{path}: keys in another order: platc {wk:?}, helm {gk:?}"));
            }
            for (k, wv) in w {
                let p = format!("{path}.{k}");
                match g.get(k) {
                    Some(gv) => diff(&p, wv, gv, out),
                    None => out.push(format!("{p}: missing from helm's output (platc: {wv})")),
                }
            }
            for (k, gv) in g.iter().filter(|(k, _)| !w.contains_key(*k)) {
                out.push(format!("{path}.{k}: only in helm's output: {gv}"));
            }
        }
        (Json::Array(w), Json::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                diff(&format!("{path}[{i}]"), wv, gv, out);
            }
        }
        // Numbers: 3 and 3.0 are the same number to Kubernetes.
        (Json::Number(w), Json::Number(g)) if w.as_f64() == g.as_f64() => {}
        (w, g) if w == g => {}
        (w, g) => out.push(format!("{path}: platc {w}, helm {g}")),
    }
}

/// Differences between platc's objects and helm's, readable.
fn compare(want: &Objects, got: &Objects) -> Vec<String> {
    let mut out = Vec::new();
    for (k, w) in want {
        match got.get(k) {
            None => out.push(format!("{k}: rendered by platc, missing from helm's output")),
            Some(g) => {
                let mut d = Vec::new();
                diff("", w, g, &mut d);
                out.extend(d.into_iter().map(|line| format!("{k}: {line}")));
            }
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        out.push(format!("{k}: in helm's output, not rendered by platc"));
    }
    out
}

// ------------------------------------------------------------------------------------- tests

/// What one tree's check counted.
#[derive(Default)]
struct Tally {
    services: usize,
    renderings: usize,
    objects: usize,
    lints: usize,
    /// Documents helm printed byte for byte as the manifest file.
    identical: usize,
    /// Built-in objects kubernetes-validate accepted.
    validated: usize,
    failures: Vec<String>,
}

/// The release and namespace the rendered manifests of one environment stand for: their
/// `app.kubernetes.io/instance` label and namespace, the same on every object.
fn release_of(want: &Objects, what: &str) -> (String, String) {
    let mut seen: Option<(String, String)> = None;
    for o in want.values() {
        let here = (
            o["metadata"]["labels"]["app.kubernetes.io/instance"].as_str().unwrap_or_else(|| panic!("{what}: an object without an instance label")).to_string(),
            o["metadata"]["namespace"].as_str().unwrap_or("").to_string(),
        );
        if let Some(s) = &seen {
            assert_eq!(s, &here, "{what}: objects of two releases");
        }
        seen = Some(here);
    }
    seen.unwrap_or_else(|| panic!("{what}: no objects"))
}

/// The objects of `want` as another release in another namespace would have them: only the
/// namespace and the instance labels (of the objects and of their pod templates) change.
fn moved(want: &Objects, release: &str, namespace: &str) -> Objects {
    let mut out = Objects::new();
    for o in want.values() {
        let mut o = o.clone();
        o["metadata"]["namespace"] = Json::from(namespace);
        for at in ["/metadata/labels", "/spec/template/metadata/labels", "/spec/jobTemplate/spec/template/metadata/labels"] {
            if let Some(label) = o.pointer_mut(&format!("{at}/app.kubernetes.io~1instance")) {
                *label = Json::from(release);
            }
        }
        out.insert(key(&o), o);
    }
    out
}

/// Renders every chart of a built tree with both helms, per environment and with the default
/// values, as the release and in the namespace of the rendered manifests, compares with those
/// (key order included), then as another release in another namespace, and lints.
fn check_tree(out: &Path, home: &Path) -> Tally {
    let mut t = Tally::default();
    let mut rendered: Vec<(String, String)> = Vec::new();
    let services = services(out);
    assert!(!services.is_empty(), "{}: no chart was generated", out.display());
    for service in services {
        t.services += 1;
        let chart = service.join("chart");
        let chart_s = chart.to_str().unwrap();
        let name = service.file_name().unwrap().to_string_lossy().into_owned();
        let envs = environments(&chart);
        assert!(!envs.is_empty(), "{name}: no values-ENV.yaml");
        // values.yaml alone is the base environment.
        let base_values: Json = serde_saphyr::from_str(&std::fs::read_to_string(chart.join("values.yaml")).unwrap()).unwrap();
        let base_env = base_values["environment"].as_str().unwrap_or_else(|| panic!("{name}: values.yaml has no environment")).to_string();
        let mut runs: Vec<(String, Option<String>)> = envs.iter().map(|e| (e.clone(), Some(chart.join(format!("values-{e}.yaml")).to_str().unwrap().to_string()))).collect();
        runs.push((base_env, None));
        for (env, values) in &runs {
            let want = manifests(&service, env);
            let label = match values {
                Some(_) => format!("{name} -f values-{env}.yaml"),
                None => format!("{name} (default values = {env})"),
            };
            let (release, namespace) = release_of(&want, &label);
            let elsewhere = moved(&want, "myrel", "other");
            for h in HELMS {
                let mut lint = vec!["lint", "--strict", chart_s, "--kube-version", KUBE_VERSION];
                if let Some(v) = values {
                    lint.extend(["-f", v.as_str()]);
                }
                match helm(h, home, &lint) {
                    Ok(_) => t.lints += 1,
                    Err(e) => t.failures.push(format!("{h} lint {label}: {e}")),
                }
                for (rel, ns, want) in [(release.as_str(), namespace.as_str(), &want), ("myrel", "other", &elsewhere)] {
                    let mut args = vec!["template", rel, chart_s, "--namespace", ns, "--kube-version", KUBE_VERSION];
                    if let Some(v) = values {
                        args.extend(["-f", v.as_str()]);
                    }
                    let text = match helm(h, home, &args) {
                        Ok(text) => text,
                        Err(e) => {
                            t.failures.push(format!("{h} template {label}: {e}"));
                            continue;
                        }
                    };
                    if h == "helm4" && values.is_some() && rel == release {
                        rendered.push((format!("{name}-{env}.yaml"), text.clone()));
                    }
                    let got = index(parse_docs(&text, &format!("{h} template {label}")), &label);
                    t.renderings += 1;
                    t.objects += got.len();
                    let d = compare(want, &got);
                    if !d.is_empty() {
                        t.failures.push(format!("{h} template {rel} -n {ns} {label} differs from manifests/{env}/:\n  {}", d.join("\n  ")));
                    }
                    if rel == release {
                        t.identical += identical_documents(&text, &service, env);
                    }
                }
            }
        }
    }
    validate(&rendered, home, &mut t);
    t
}

/// How many of helm's documents are byte for byte a file of the rendered manifests (after
/// helm's `# Source:` line). Holes are printed quoted (`"acme-dev"`) where the manifests may
/// print a plain scalar, so this counts; the objects are compared as parsed YAML above.
fn identical_documents(text: &str, service: &Path, env: &str) -> usize {
    let dir = std::fs::read_dir(service.join("manifests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy() == env || n.to_string_lossy().starts_with(&format!("{env}-"))))
        .unwrap();
    let files: std::collections::BTreeSet<String> = std::fs::read_dir(&dir).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
    text.split("---\n").filter_map(|d| d.split_once('\n')).filter(|(first, body)| first.starts_with("# Source:") && files.contains(*body)).count()
}

/// Kubernetes' own schema (kubernetes-validate --strict, which rejects unknown fields) accepts
/// every built-in object helm rendered; custom resources (ExternalSecret, ServiceMonitor,
/// HTTPRoute) have no schema there and only warn.
fn validate(rendered: &[(String, String)], home: &Path, t: &mut Tally) {
    let dir = home.join("rendered");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, text) in rendered {
        std::fs::write(dir.join(name), text).unwrap();
        files.push(dir.join(name));
    }
    let out = Command::new(tool("kubernetes-validate")).args(["--strict", "-k", KUBE_VERSION]).args(&files).output().expect("run kubernetes-validate");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let passed = text.lines().filter(|l| l.starts_with("INFO") && l.contains(" passed ")).count();
    if !out.status.success() || passed == 0 {
        let errors: Vec<&str> = text.lines().filter(|l| !l.starts_with("INFO") && !l.starts_with("WARN")).collect();
        t.failures.push(format!("kubernetes-validate --strict -k {KUBE_VERSION} rejected helm's output ({}):\n  {}", out.status, errors.join("\n  ")));
    }
    t.validated += passed;
}

fn report(what: &str, t: &Tally) {
    eprintln!(
        "{what}: {} services, {} helm renderings ({} objects) compared, {} documents byte-identical, {} lints, {} objects schema-validated",
        t.services, t.renderings, t.objects, t.identical, t.lints, t.validated
    );
    assert!(t.failures.is_empty(), "{what}: {} failures:\n\n{}", t.failures.len(), t.failures.join("\n\n"));
}

#[test]
fn helm_template_renders_the_same_objects_as_platc() {
    let examples: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("examples")).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.join("platform.kdl").is_file()).collect();
        v.sort();
        v
    };
    assert!(examples.len() >= 2, "examples/ has no example trees");
    // Examples build in parallel: each runs a few hundred short helm processes.
    let tallies: Vec<(String, Tally)> = std::thread::scope(|s| {
        let handles: Vec<_> = examples
            .iter()
            .map(|ex| {
                s.spawn(move || {
                    let name = ex.file_name().unwrap().to_string_lossy().into_owned();
                    let scratch = Scratch::new(&name);
                    let out = scratch.0.join("out");
                    build(ex, &out, None);
                    (format!("examples/{name}"), check_tree(&out, &scratch.0))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let mut all = Tally::default();
    for (what, t) in tallies {
        eprintln!("{what}: {} services, {} renderings, {} objects, {} lints, {} validated", t.services, t.renderings, t.objects, t.lints, t.validated);
        all.services += t.services;
        all.validated += t.validated;
        all.renderings += t.renderings;
        all.objects += t.objects;
        all.lints += t.lints;
        all.identical += t.identical;
        all.failures.extend(t.failures.into_iter().map(|f| format!("{what}: {f}")));
    }
    report("all examples", &all);
}

/// An image tag of digits only (a short commit SHA can be) must stay a string in labels and
/// image references.
#[test]
fn a_numeric_image_tag_stays_a_string() {
    let scratch = Scratch::new("tag");
    let out = scratch.0.join("out");
    build(&root().join("examples/hello"), &out, Some("1234567"));
    let t = check_tree(&out, &scratch.0);
    report("examples/hello with image-tag=1234567", &t);
    let hello = service_dir(&out, "hello");
    let text = helm("helm4", &scratch.0, &["template", "rel", hello.join("chart").to_str().unwrap(), "-f", hello.join("chart/values-prod.yaml").to_str().unwrap()]).unwrap();
    let objects = index(parse_docs(&text, "hello"), "hello");
    let deployment = objects.values().find(|o| o["kind"] == "Deployment").expect("a Deployment");
    assert_eq!(deployment["metadata"]["labels"]["app.kubernetes.io/version"], Json::from("1234567"));
    assert_eq!(deployment["spec"]["template"]["spec"]["containers"][0]["image"], Json::from("ghcr.io/acme/hello:1234567"));
}

/// Env values that YAML 1.1 readers (Kubernetes, Helm) would take for booleans, numbers or null
/// reach the ConfigMap as the exact strings written in the spec, through helm as through platc.
/// (The service also has a public gRPC route and an internal HTTP one: two Ingresses, one with
/// its own annotation, merged with the preview's common annotations.)
#[test]
fn ambiguous_env_values_stay_strings() {
    let values: [(&str, &str); 7] = [("V_ON", "on"), ("V_YES", "yes"), ("V_FLOAT", "1.0"), ("V_OCTAL", "0755"), ("V_Y", "y"), ("V_NULL", "null"), ("V_TILDE", "~")];
    let scratch = Scratch::new("strings");
    let tree = scratch.0.join("tree");
    std::fs::create_dir_all(tree.join("svc")).unwrap();
    std::fs::copy(root().join("examples/hello/platform.kdl"), tree.join("platform.kdl")).unwrap();
    let env: String = values.iter().map(|(k, v)| format!("    env {k}=\"{v}\"\n")).collect();
    let spec = format!(
        "service strings {{\n    owner team-test\n    image \"ghcr.io/acme/strings\"\n    port http 8080\n    port grpc 9090\n    route \"/\" public=#true port=grpc\n    route \"/admin\" port=http\n    health readiness=\"/ready\" liveness=\"/healthz\"\n    scale min=2 max=4\n    slo availability=\"99.5%\"\n{env}}}\n"
    );
    std::fs::write(tree.join("svc/service.kdl"), spec).unwrap();
    let out = scratch.0.join("out");
    build(&tree, &out, None);
    let t = check_tree(&out, &scratch.0);
    report("ambiguous env values", &t);
    let service = service_dir(&out, "strings");
    let chart = service.join("chart");
    let mut checked = 0;
    for env in environments(&chart) {
        for h in HELMS {
            let vf = chart.join(format!("values-{env}.yaml"));
            let text = helm(h, &scratch.0, &["template", "rel", chart.to_str().unwrap(), "-f", vf.to_str().unwrap()]).unwrap();
            let objects = index(parse_docs(&text, "strings"), "strings");
            let cm = objects.values().find(|o| o["kind"] == "ConfigMap").unwrap_or_else(|| panic!("{h} {env}: no ConfigMap in:\n{text}"));
            for (k, v) in values {
                assert_eq!(cm["data"][k], Json::from(v), "{h} {env}: ConfigMap data {k} should be the string {v:?}:\n{text}");
            }
            // The same holds for platc's own manifest.
            let platc = manifests(&service, &env);
            let pcm = platc.values().find(|o| o["kind"] == "ConfigMap").expect("platc ConfigMap");
            for (k, v) in values {
                assert_eq!(pcm["data"][k], Json::from(v), "platc {env}: ConfigMap data {k}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} renderings checked");
}

/// values.schema.json catches the mistakes a user makes in a `-f` values file or `--set`:
/// a misspelt key, a wrong type, `latest`, a negative count, an environment the chart does not
/// have, a value the chart does not read. Helm validates the merged values.
#[test]
fn the_values_schema_rejects_mistakes() {
    let scratch = Scratch::new("schema");
    let out = scratch.0.join("out");
    build(&root().join("examples/hello"), &out, None);
    let chart = service_dir(&out, "hello").join("chart");
    let chart = chart.to_str().unwrap();
    let prod = format!("{chart}/values-prod.yaml");
    let bad: [(&[&str], &str); 8] = [
        (&["--set", "replicaCont=3"], "replicaCont"),
        (&["--set", "image.tagg=abc"], "tagg"),
        (&["--set", "image.tag=latest"], "tag"),
        (&["--set", "image.tag="], "tag"),
        (&["--set", "autoscaling.minReplicas=-1"], "minReplicas"),
        (&["--set-string", "autoscaling.maxReplicas=3"], "maxReplicas"),
        (&["--set", "environment=qa"], "environment"),
        (&["--set", "env[0].name=X,env[0].value=1"], "env"),
    ];
    for h in HELMS {
        for (args, key) in &bad {
            let mut all = vec!["template", "rel", chart, "-f", prod.as_str()];
            all.extend_from_slice(args);
            match helm(h, &scratch.0, &all) {
                Ok(text) => panic!("{h} {}: accepted, rendered:\n{text}", args.join(" ")),
                Err(e) => assert!(e.contains("schema") && e.contains(key), "{h} {}: failed, but not on the schema:\n{e}", args.join(" ")),
            }
        }
        for args in [&["--set", "replicaCount=5"][..], &["--set", "image.tag=0123abc"][..]] {
            let mut all = vec!["template", "rel", chart];
            all.extend_from_slice(args);
            helm(h, &scratch.0, &all).unwrap_or_else(|e| panic!("{h} {}: {e}", args.join(" ")));
        }
    }
}

/// The values a Helm user sets reach the objects: the image tag (container and version
/// label), replicas, autoscaling bounds and resources; a field a spec `patch` sets stays the
/// patch's, as in the rendered manifests.
#[test]
fn set_values_reach_the_objects_and_patches_win() {
    let scratch = Scratch::new("set");
    let tree = scratch.0.join("tree");
    std::fs::create_dir_all(tree.join("hello")).unwrap();
    std::fs::copy(root().join("examples/hello/platform.kdl"), tree.join("platform.kdl")).unwrap();
    let spec = std::fs::read_to_string(root().join("examples/hello/hello/service.kdl")).unwrap();
    let patch = "    patch Deployment env=prod merge=#\"{\"spec\":{\"revisionHistoryLimit\":null,\"template\":{\"spec\":{\"priorityClassName\":\"high\"}}}}\"#\n    patch HorizontalPodAutoscaler env=prod merge=#\"{\"spec\":{\"maxReplicas\":9}}\"#\n}";
    let at = spec.rfind('}').unwrap();
    std::fs::write(tree.join("hello/service.kdl"), format!("{}{patch}{}", &spec[..at], &spec[at + 1..])).unwrap();
    let out = scratch.0.join("out");
    build(&tree, &out, None);
    report("hello with patches", &check_tree(&out, &scratch.0));
    let chart = service_dir(&out, "hello").join("chart");
    let (c, prod) = (chart.to_str().unwrap(), chart.join("values-prod.yaml"));
    let sets = "image.tag=abc123,autoscaling.minReplicas=4,autoscaling.maxReplicas=8,resources.limits.cpu=2";
    for h in HELMS {
        let text = helm(h, &scratch.0, &["template", "rel", c, "-f", prod.to_str().unwrap(), "--set", sets]).unwrap();
        let objects = index(parse_docs(&text, "set"), "set");
        let d = objects.values().find(|o| o["kind"] == "Deployment").expect("a Deployment");
        assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["image"], Json::from("ghcr.io/acme/hello:abc123"), "{h}");
        assert_eq!(d["metadata"]["labels"]["app.kubernetes.io/version"], Json::from("abc123"), "{h}");
        // Without --namespace (Helm's `default`), the objects go to the environment's namespace:
        // platc never deploys to `default` (checkov CKV_K8S_21).
        assert!(objects.values().all(|o| o["metadata"]["namespace"] == "acme-prod"), "{h}: {text}");
        assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"], Json::from("2"), "{h}");
        assert!(d["spec"].get("revisionHistoryLimit").is_none(), "{h}: the patch's null deletes it:\n{text}");
        assert_eq!(d["spec"]["template"]["spec"]["priorityClassName"], Json::from("high"), "{h}");
        let hpa = objects.values().find(|o| o["kind"] == "HorizontalPodAutoscaler").expect("an HPA");
        assert_eq!(hpa["spec"]["minReplicas"], Json::from(4), "{h}");
        assert_eq!(hpa["spec"]["maxReplicas"], Json::from(9), "{h}: patched, so the patch's value");
        // Without the patches' environment, the patched fields are the generated ones.
        let dev = helm(h, &scratch.0, &["template", "rel", c, "--set", "autoscaling.maxReplicas=8"]).unwrap();
        let dev = index(parse_docs(&dev, "dev"), "dev");
        assert_eq!(dev.values().find(|o| o["kind"] == "HorizontalPodAutoscaler").unwrap()["spec"]["maxReplicas"], Json::from(8), "{h}");
        assert_eq!(dev.values().find(|o| o["kind"] == "Deployment").unwrap()["spec"]["revisionHistoryLimit"], Json::from(5), "{h}");
    }
}

/// A stdlib overlay can no longer fork the chart from the rendered manifests: a file under
/// `helm/` (a chart template, a values schema), given with `--stdlib` or named by platform.kdl,
/// is refused with E0602 at the file, and nothing is built.
#[test]
fn an_overlay_of_a_chart_template_is_refused() {
    let scratch = Scratch::new("overlay");
    let tree = scratch.0.join("tree");
    std::fs::create_dir_all(tree.join("hello")).unwrap();
    std::fs::copy(root().join("examples/hello/hello/service.kdl"), tree.join("hello/service.kdl")).unwrap();
    let platform = std::fs::read_to_string(root().join("examples/hello/platform.kdl")).unwrap();
    let overlay = tree.join("platform-stdlib/helm/templates");
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(overlay.join("deployment.yaml"), "apiVersion: apps/v1\nkind: Deployment\n").unwrap();
    let named = platform.replacen('{', "{\n    stdlib \"./platform-stdlib\"", 1);
    for (text, cli) in [(&platform, vec![tree.join("platform-stdlib")]), (&named, vec![])] {
        std::fs::write(tree.join("platform.kdl"), text).unwrap();
        let opts = BuildOptions::default();
        let r = build_paths(&RealFs, std::slice::from_ref(&tree), &cli, &root(), &opts).unwrap();
        assert!(r.output.is_none(), "built with a chart template in the overlay");
        let diags: Vec<_> = r.diags.iter().cloned().collect();
        let text = render(&diags, &r.loaded.sources, Format::Human, false);
        assert!(text.contains("E0602") && text.contains("helm/templates/deployment.yaml") && text.contains("patch KIND"), "{text}");
        assert_eq!(diags.len(), 1, "{text}");
    }
}

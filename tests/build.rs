//! `platc build`: determinism, atomic writes, previews, the cycle diagnostic, and a snapshot
//! of the whole generated tree of examples/hello.

use std::path::{Path, PathBuf};

use platc::build::{build_paths, BuildResult};
use platc_check::fs::{MemoryFs, RealFs};
use platc_emit::emit::Output;
use platc_emit::lower::BuildOptions;
use platc_syntax::diagnostics::{render, Format};
use platc_write::{read_tree, write_tree};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The example trees: each directory of examples/ with a platform.kdl (at least the three).
fn examples() -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(root().join("examples")).unwrap().filter_map(|e| e.ok()).filter(|e| e.path().join("platform.kdl").is_file()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    assert!(v.len() >= 3, "examples: {v:?}");
    v
}

fn build_example(name: &str, opts: &BuildOptions) -> BuildResult {
    build_paths(&RealFs, &[PathBuf::from(format!("examples/{name}"))], &[], &root(), opts).expect("example loads")
}

/// The deploy tree of a build (paths relative to `deploy/`).
fn output(r: BuildResult) -> Output {
    let text = render(&r.diags.iter().cloned().collect::<Vec<_>>(), &r.loaded.sources, Format::Human, false);
    let out = r.output.unwrap_or_else(|| panic!("build failed:\n{text}"));
    let mut deploy = Output::default();
    for (p, b) in out.files {
        if let Some(rel) = p.strip_prefix("deploy/") {
            deploy.add(rel, b);
        }
    }
    deploy
}

#[test]
fn two_builds_are_byte_identical() {
    for ex in examples() {
        let ex = ex.as_str();
        let a = output(build_example(ex, &BuildOptions::default()));
        let b = output(build_example(ex, &BuildOptions::default()));
        assert!(a.files.len() > 20, "{ex}: only {} files", a.files.len());
        assert_eq!(a, b, "{ex}: two builds differ");
    }
}

#[test]
fn rewriting_the_same_tree_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("deploy");
    let mut out = output(build_example("hello", &BuildOptions::default()));
    out.add("platc.lock", "platc test\n");
    let first = write_tree(&out_dir, &out).unwrap();
    assert_eq!(first.written, out.files.len());
    let mtimes = |d: &Path| -> Vec<(String, std::time::SystemTime)> {
        walkdir::WalkDir::new(d)
            .sort_by_file_name()
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .map(|e| (e.path().display().to_string(), e.metadata().unwrap().modified().unwrap()))
            .collect()
    };
    let before = mtimes(&out_dir);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = write_tree(&out_dir, &out).unwrap();
    assert_eq!((second.written, second.removed, second.unchanged), (0, 0, out.files.len()));
    assert_eq!(before, mtimes(&out_dir), "a no-change rebuild must keep every mtime");
    assert_eq!(read_tree(&out_dir).unwrap(), out.files);
}

#[test]
fn a_write_that_fails_half_way_leaves_the_previous_tree() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("deploy");
    let mut good = output(build_example("hello", &BuildOptions::default()));
    good.add("platc.lock", "platc test\n");
    write_tree(&out_dir, &good).unwrap();
    // A file and a directory of the same name: staging fails after some files were written.
    let mut bad = good.clone();
    bad.add("zzz", "a file");
    bad.add("zzz/below", "cannot exist");
    assert!(write_tree(&out_dir, &bad).is_err());
    assert_eq!(read_tree(&out_dir).unwrap(), good.files, "previous output must be untouched");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("deploy")], "no staging directory left behind");
}

#[test]
fn a_spec_with_errors_writes_nothing() {
    let mut fs = MemoryFs::new();
    fs.add("/r/platform.kdl", std::fs::read_to_string(root().join("examples/hello/platform.kdl")).unwrap());
    fs.add("/r/a/service.kdl", "service a {\n    port http 8080\n    resources cpu=\"lots\"\n}\n");
    let r = build_paths(&fs, &[PathBuf::from(".")], &[], Path::new("/r"), &BuildOptions::default()).unwrap();
    assert!(r.output.is_none());
    assert!(r.diags.has_errors());
}

#[test]
fn refuses_to_replace_a_directory_that_is_not_a_platc_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "mine").unwrap();
    let out = output(build_example("hello", &BuildOptions::default()));
    let err = write_tree(dir.path(), &out).unwrap_err();
    assert!(err.contains("not a platc output"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.path().join("precious.txt")).unwrap(), "mine");
}

#[test]
fn preview_names_come_from_the_branch() {
    let branch = "feature/JIRA-1234-Checkout-Redesign/with-a-very-long-description-of-the-change";
    let opts = BuildOptions { env: Some("preview".into()), branch: Some(branch.into()), ..Default::default() };
    let out = output(build_example("hello", &opts));
    let slug = platc_emit::lower::preview_slug(branch, 40);
    let dir = format!("hello/manifests/preview-{slug}/");
    let deployment = String::from_utf8(out.files[&format!("{dir}deployment-hello.yaml")].clone()).unwrap();
    let ns_line = deployment.lines().find(|l| l.trim_start().starts_with("namespace:")).unwrap();
    let ns = ns_line.split(':').nth(1).unwrap().trim();
    assert!(ns.len() <= 63, "{ns}");
    assert!(ns.starts_with("acme-preview-feature-jira-1234-checkout"), "{ns}");
    assert!(ns.ends_with(&platc_emit::lower::short_hash(branch)), "long branches end in a short hash: {ns}");
    assert!(ns.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{ns}");
    assert!(deployment.contains("platc.dev/ttl:"), "TTL annotation missing");
    assert!(deployment.contains("replicas: 1\n"), "previews run one replica");
    assert!(!out.files.keys().any(|k| k.starts_with(&dir) && k.contains("horizontalpodautoscaler")), "no autoscaling in previews");
    // The release the manifests stand for fits Helm's 53 characters (and a label's 63).
    let release = deployment.lines().find_map(|l| l.trim_start().strip_prefix("app.kubernetes.io/instance: ")).unwrap();
    assert!(release.len() <= 53 && release.starts_with("hello-preview-feature-jira-1234"), "{release}");
    let route = out.files.iter().find(|(k, _)| k.starts_with(&dir) && (k.contains("ingress-") || k.contains("httproute-"))).map(|(_, v)| String::from_utf8(v.clone()).unwrap()).unwrap();
    assert!(route.contains(&format!("hello.{slug}.preview.")), "host derived from the branch: {route}");
    // Without a branch, a preview build is a usage error.
    let err = build_paths(&RealFs, &[PathBuf::from("examples/hello")], &[], &root(), &BuildOptions { env: Some("preview".into()), ..Default::default() });
    assert!(err.is_err());
}

/// Flux creates no Kustomization's `targetNamespace`: each instance's wiring carries its
/// Namespace (a preview's too, with its TTL), which the Kustomizations deploy into, and which
/// goes with the instance's directory when a preview is torn down.
#[test]
fn flux_wiring_creates_the_namespace_of_each_instance() {
    let platform = std::fs::read_to_string(root().join("examples/hello/platform.kdl")).unwrap().replace("gitops argocd", "gitops flux");
    let mut fs = MemoryFs::new();
    fs.add("/r/platform.kdl", platform);
    fs.add("/r/hello/service.kdl", std::fs::read_to_string(root().join("examples/hello/hello/service.kdl")).unwrap());
    let build = |opts: &BuildOptions| output(build_paths(&fs, &[PathBuf::from(".")], &[], Path::new("/r"), opts).unwrap());
    let text = |out: &Output, p: &str| String::from_utf8(out.files.get(p).unwrap_or_else(|| panic!("no {p} in {:?}", out.files.keys().collect::<Vec<_>>())).clone()).unwrap();
    let out = build(&BuildOptions::default());
    for env in ["dev", "prod"] {
        let ns: serde_json::Value = serde_saphyr::from_str(&text(&out, &format!("gitops/{env}/namespace.yaml"))).unwrap();
        assert_eq!((&ns["kind"], &ns["metadata"]["name"]), (&"Namespace".into(), &format!("acme-{env}").into()), "{ns}");
        let k: serde_json::Value = serde_saphyr::from_str(&text(&out, &format!("gitops/{env}/hello.yaml"))).unwrap();
        assert_eq!(k["spec"]["targetNamespace"], ns["metadata"]["name"], "the Kustomization deploys into it");
    }
    let preview = build(&BuildOptions { env: Some("preview".into()), branch: Some("feat/x".into()), ..Default::default() });
    let dir = preview.files.keys().find_map(|p| p.strip_prefix("gitops/").and_then(|p| p.strip_suffix("/namespace.yaml"))).expect("a preview namespace").to_string();
    let ns: serde_json::Value = serde_saphyr::from_str(&text(&preview, &format!("gitops/{dir}/namespace.yaml"))).unwrap();
    assert!(ns["metadata"]["name"].as_str().unwrap().starts_with("acme-preview-feat-x"), "{ns}");
    assert!(ns["metadata"]["annotations"]["platc.dev/ttl"].is_string(), "the preview's TTL is on its namespace: {ns}");
}

#[test]
fn startup_cycles_name_every_member_and_edge() {
    let mut fs = MemoryFs::new();
    fs.add("/r/platform.kdl", std::fs::read_to_string(root().join("examples/hello/platform.kdl")).unwrap());
    for (name, dep) in [("api", "auth"), ("auth", "users"), ("users", "api"), ("web", "api")] {
        fs.add(
            format!("/r/{name}/service.kdl"),
            format!("service {name} {{\n    owner team-a\n    port http 8080\n    health readiness=\"/ready\"\n    scale min=2\n    depends-on {dep}\n    slo availability=\"99.9%\"\n}}\n"),
        );
    }
    let r = build_paths(&fs, &[PathBuf::from(".")], &[], Path::new("/r"), &BuildOptions::default()).unwrap();
    let cycles: Vec<_> = r.diags.iter().filter(|d| d.code == platc_syntax::diagnostics::codes::DEPENDENCY_CYCLE).cloned().collect();
    assert_eq!(cycles.len(), 1, "one cycle");
    let d = &cycles[0];
    for name in ["`api`", "`auth`", "`users`"] {
        assert!(d.message.contains(name), "{}", d.message);
    }
    assert!(!d.message.contains("`web`"), "web is not in the cycle");
    assert_eq!(1 + d.secondary.len(), 3, "every edge of the cycle is labelled");
    assert!(r.output.is_none());
    let text = render(&cycles, &r.loaded.sources, Format::Human, false);
    insta::with_settings!({snapshot_path => root().join("snapshots/build"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("cycle_diagnostic", text);
    });
}

#[test]
fn hello_tree_snapshot() {
    // The whole output: the deploy tree and the CI files at the root.
    let out = build_example("hello", &BuildOptions::default()).output.expect("hello builds");
    let mut listing = String::new();
    for (path, bytes) in &out.files {
        listing.push_str(&format!("==> {path} <==\n{}\n", String::from_utf8_lossy(bytes)));
    }
    insta::with_settings!({snapshot_path => root().join("snapshots/build"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("hello_tree", listing);
    });
}

/// `OBJECT_KINDS` (what `patch` and `render --kind` accept) is the list of kinds the examples'
/// builds make, both ways: a new kind cannot be left unpatchable, and a kind no longer built
/// cannot stay accepted. The examples between them use every platform choice that changes
/// which kinds exist (ingress and Gateway API, in-cluster and managed resources, cron jobs).
#[test]
fn the_patchable_kinds_are_the_kinds_built() {
    let mut built = std::collections::BTreeSet::new();
    for ex in examples() {
        for (path, bytes) in output(build_example(&ex, &BuildOptions::default())).files {
            if path.contains("/manifests/") {
                let text = String::from_utf8(bytes).expect("YAML is UTF-8");
                built.extend(text.lines().filter_map(|l| l.strip_prefix("kind: ")).map(str::to_string));
            }
        }
    }
    let listed: std::collections::BTreeSet<String> = platc_emit::emit::manifests::OBJECT_KINDS.iter().map(|k| k.to_string()).collect();
    assert_eq!(built, listed, "kinds built by the examples vs emit::manifests::OBJECT_KINDS");
}

/// A third-party image (`build=#false`) runs the tag its spec pins, whatever tag CI sets for
/// the images it builds; the policy on registries still applies to it.
#[test]
fn an_image_platc_does_not_build_runs_its_pinned_tag() {
    let hello = std::fs::read_to_string(root().join("examples/hello/hello/service.kdl")).unwrap();
    let platform = std::fs::read_to_string(root().join("examples/hello/platform.kdl")).unwrap();
    let proxy = |image: &str| format!("service proxy {{\n    owner team-a\n    image \"{image}\" build=#false\n    port http 8080\n    health readiness=\"/ready\"\n    scale min=2\n}}\n");
    let build = |platform: &str, proxy: &str| {
        let mut fs = MemoryFs::new();
        fs.add("/r/platform.kdl", platform);
        fs.add("/r/hello/service.kdl", hello.as_str());
        fs.add("/r/proxy/service.kdl", proxy);
        build_paths(&fs, &[PathBuf::from("/r")], &[], Path::new("/r"), &BuildOptions { image_tag: Some("abc123".into()), env: Some("dev".into()), ..Default::default() }).expect("loads")
    };
    let r = build(&platform, &proxy("ghcr.io/acme/vendor/envoy:1.31.2"));
    let out = output(r);
    let deployment = |service: &str| String::from_utf8(out.files[&format!("{service}/manifests/dev/deployment-{service}.yaml")].clone()).unwrap();
    assert!(deployment("proxy").contains("image: ghcr.io/acme/vendor/envoy:1.31.2\n"), "{}", deployment("proxy"));
    assert!(deployment("hello").contains("image: ghcr.io/acme/hello:abc123\n"), "{}", deployment("hello"));
    let strict = platform.replace("min-replicas 2 env=prod", "min-replicas 2 env=prod\n        allowed-registries \"ghcr.io/acme\"");
    let r = build(&strict, &proxy("docker.io/envoyproxy/envoy:v1.31.2"));
    let codes: Vec<&str> = r.diags.iter().filter(|d| d.is_error()).map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0503"], "allowed-registries applies to an image platc does not build");
}

/// A process that listens on no port (a load generator, a queue consumer) is a service of its
/// own: exec probes satisfy `require-probes`, its Deployment has them, and it gets no Service.
#[test]
fn a_service_without_ports_is_probed_by_commands() {
    let platform = std::fs::read_to_string(root().join("examples/hello/platform.kdl")).unwrap().replace("min-replicas 2 env=prod", "min-replicas 2 env=prod\n        require-probes");
    let spec = |health: &str| format!("service loadgen {{\n    owner team-a\n    image \"ghcr.io/acme/vendor/locust:2.31.0\" build=#false\n    scale min=2\n{health}}}\n");
    let build = |spec: &str| {
        let mut fs = MemoryFs::new();
        fs.add("/r/platform.kdl", platform.as_str());
        fs.add("/r/loadgen/service.kdl", spec);
        build_paths(&fs, &[PathBuf::from("/r")], &[], Path::new("/r"), &BuildOptions { env: Some("dev".into()), ..Default::default() }).expect("loads")
    };
    let r = build(&spec(""));
    let violation = r.diags.iter().find(|d| d.code.as_str() == "E0503").expect("require-probes fails without probes");
    assert!(violation.help.as_deref().is_some_and(|h| h.contains("exec")), "the help names the probe a portless service can have: {:?}", violation.help);
    let out = output(build(&spec("    health {\n        readiness exec \"/app/ready\"\n        liveness exec \"/bin/sh\" \"-c\" \"pgrep locust\"\n    }\n")));
    let d = String::from_utf8(out.files["loadgen/manifests/dev/deployment-loadgen.yaml"].clone()).unwrap();
    assert!(d.contains("readinessProbe:\n          exec:\n            command:\n            - /app/ready\n"), "{d}");
    assert!(d.contains("livenessProbe:\n          exec:\n            command:\n            - /bin/sh\n            - -c\n            - pgrep locust\n"), "{d}");
    assert!(!out.files.keys().any(|f| f.starts_with("loadgen/manifests/dev/service-")), "no Service for a service with no port");
}

/// A changed plain value rolls the pods that read it: the pod templates of the web and worker
/// Deployments carry the checksum of the ConfigMap, which changes with any value and only then.
#[test]
fn a_changed_config_value_changes_the_pods() {
    let platform = std::fs::read_to_string(root().join("examples/hello/platform.kdl")).unwrap();
    let spec = |level: &str| {
        format!("service api {{\n    owner team-a\n    port http 8080\n    health readiness=\"/ready\"\n    scale min=2\n    env LOG_LEVEL={level}\n    worker mailer {{\n        command \"/app/mailer\"\n    }}\n}}\n")
    };
    let checksums = |spec: &str| -> Vec<String> {
        let mut fs = MemoryFs::new();
        fs.add("/r/platform.kdl", platform.as_str());
        fs.add("/r/api/service.kdl", spec);
        let out = output(build_paths(&fs, &[PathBuf::from("/r")], &[], Path::new("/r"), &BuildOptions { env: Some("dev".into()), ..Default::default() }).expect("loads"));
        ["api/manifests/dev/deployment-api.yaml", "api/manifests/dev/deployment-api-mailer.yaml"]
            .iter()
            .map(|f| {
                let text = String::from_utf8(out.files[*f].clone()).unwrap();
                let line = text.lines().find(|l| l.trim_start().starts_with("checksum/config: ")).unwrap_or_else(|| panic!("{f}: no checksum:\n{text}"));
                line.trim_start().trim_start_matches("checksum/config: ").to_string()
            })
            .collect()
    };
    let info = checksums(&spec("info"));
    assert_eq!(info[0], info[1], "web and worker read the same ConfigMap");
    assert_eq!(info, checksums(&spec("info")), "the same values, the same pods");
    assert_ne!(info, checksums(&spec("debug")), "a changed value, new pods");
}

/// What an expert's Deployment of a third-party frontend carries (the Online Boutique's own
/// manifests): a grace period on every pod of the service, and probe requests with a header.
#[test]
fn grace_period_and_probe_headers_reach_every_pod() {
    let platform = std::fs::read_to_string(root().join("examples/hello/platform.kdl")).unwrap();
    let spec = "service frontend {\n    owner team-web\n    port http 80 target=8080\n    shutdown grace=\"45s\"\n    health {\n        readiness http \"/_healthz\" {\n            header Cookie=\"shop_session-id=x-readiness-probe\"\n        }\n    }\n    scale min=2\n    worker indexer {\n        command \"/app/indexer\"\n    }\n    cron nightly schedule=\"0 3 * * *\" {\n        command \"/app/nightly\"\n    }\n}\n";
    let mut fs = MemoryFs::new();
    fs.add("/r/platform.kdl", platform.as_str());
    fs.add("/r/frontend/service.kdl", spec);
    let out = output(build_paths(&fs, &[PathBuf::from("/r")], &[], Path::new("/r"), &BuildOptions { env: Some("dev".into()), ..Default::default() }).expect("loads"));
    for f in ["deployment-frontend", "deployment-frontend-indexer", "cronjob-frontend-nightly"] {
        let text = String::from_utf8(out.files[&format!("frontend/manifests/dev/{f}.yaml")].clone()).unwrap();
        assert!(text.contains("terminationGracePeriodSeconds: 45\n"), "{f}:\n{text}");
    }
    let web = String::from_utf8(out.files["frontend/manifests/dev/deployment-frontend.yaml"].clone()).unwrap();
    assert!(
        web.contains("httpGet:\n            path: /_healthz\n            port: http\n            httpHeaders:\n            - name: Cookie\n              value: shop_session-id=x-readiness-probe\n"),
        "{web}"
    );
}

/// `init` containers run in the web pods, in spec order, before the web container: the
/// service's image and tag unless they pin their own, the service's env under their own, the
/// container's security context; the chart's template has them too. Workers do not get them,
/// and an init's `${service...}` reference opens the egress like any other.
#[test]
fn init_containers_run_before_the_web_container() {
    let platform = std::fs::read_to_string(root().join("examples/hello/platform.kdl")).unwrap();
    let hello = std::fs::read_to_string(root().join("examples/hello/hello/service.kdl")).unwrap();
    let api = r#"service api {
    owner team-a
    language go
    port http 8080
    health readiness="/ready" liveness="/healthz"
    env LOG_LEVEL=info
    scale min=2
    init wait-for-hello {
        image "docker.io/library/busybox:1.37.0"
        env HELLO="${service.hello.host}:${service.hello.port}"
        command "/bin/sh" "-c" "until wget -q -O /dev/null http://$HELLO/; do sleep 2; done"
    }
    init migrate {
        command "bin/migrate" "--up"
    }
    worker mailer {
        command "bin/mailer"
    }
}
"#;
    let mut fs = MemoryFs::new();
    fs.add("/r/platform.kdl", platform.as_str());
    fs.add("/r/hello/service.kdl", hello.as_str());
    fs.add("/r/api/service.kdl", api);
    let opts = BuildOptions { image_tag: Some("abc123".into()), env: Some("dev".into()), ..Default::default() };
    let out = output(build_paths(&fs, &[PathBuf::from("/r")], &[], Path::new("/r"), &opts).expect("loads"));
    let yaml = |path: &str| -> serde_json::Value { serde_saphyr::from_str(std::str::from_utf8(&out.files[path]).unwrap()).unwrap() };
    let pod = yaml("api/manifests/dev/deployment-api.yaml")["spec"]["template"]["spec"].clone();
    let inits = pod["initContainers"].as_array().expect("init containers");
    let names: Vec<&str> = inits.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["api-wait-for-hello", "api-migrate"]);
    assert_eq!(inits[0]["image"], "docker.io/library/busybox:1.37.0");
    assert_eq!(inits[1]["image"], "ghcr.io/acme/api:abc123", "the service's own image and tag");
    assert_eq!(inits[1]["command"], serde_json::json!(["bin/migrate", "--up"]));
    assert_eq!(inits[0]["securityContext"], pod["containers"][0]["securityContext"]);
    let env: Vec<&str> = inits[0]["env"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(env, ["LOG_LEVEL", "HELLO"], "the service's env, then the init's own");
    let hello_addr = inits[0]["env"][1]["value"].as_str().unwrap();
    assert!(hello_addr.starts_with("hello.") && hello_addr.ends_with(":8080"), "{hello_addr}");
    assert!(yaml("api/manifests/dev/deployment-api-mailer.yaml")["spec"]["template"]["spec"]["initContainers"].is_null(), "workers run no init containers");
    // The reference from the init opens the path to hello, as a `calls` would.
    let policy = yaml("api/manifests/dev/networkpolicy-api.yaml");
    assert!(policy["spec"]["egress"].as_array().unwrap().iter().any(|r| r["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "hello"), "{policy}");
    let template = std::str::from_utf8(&out.files["api/chart/templates/dev/deployment-api.yaml"]).unwrap();
    assert!(template.contains("initContainers:") && template.contains("name: api-migrate"), "{template}");
}

//! `platc render`: the rendered manifests of one environment alone, end to end with the release
//! binary (built by .ci/run before the tests). What it prints or writes must be exactly what
//! `platc build` writes under `deploy/SERVICE/manifests/ENV/`, and it must never replace a
//! directory that is not its own.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{release_binary, TempDir, CHECKOUT, PAYMENTS, PLATFORM};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn platc(cwd: &Path, args: &[&str]) -> Output {
    Command::new(release_binary()).args(args).current_dir(cwd).env("NO_COLOR", "1").output().expect("run platc")
}

fn show(out: &Output) -> String {
    format!("exit status {}\n--- stdout\n{}--- stderr\n{}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Every file under `dir` by relative path (forward slashes).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    platc_write::read_tree(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
}

/// The checkout spec with `lines` (patches) added at the end of its service block.
fn checkout_with(lines: &str) -> String {
    CHECKOUT.trim_end().strip_suffix('}').expect("a service block").to_string() + lines + "}"
}

#[test]
fn render_writes_exactly_the_manifests_build_writes() {
    let tmp = TempDir::new("render-equal");
    let mut compared = 0;
    for example in ["hello", "shop"] {
        let src = root().join("examples").join(example);
        let built = tmp.path().join(format!("{example}-build"));
        let out = platc(tmp.path(), &["build", src.to_str().unwrap(), "--out", built.to_str().unwrap()]);
        assert!(out.status.success(), "{}", show(&out));
        let deploy = files(&built.join("deploy"));
        for env in ["dev", "staging", "prod"] {
            let dir = tmp.path().join(format!("{example}-{env}"));
            let out = platc(tmp.path(), &["render", src.to_str().unwrap(), "--env", env, "--out", dir.to_str().unwrap()]);
            assert!(out.status.success(), "{}", show(&out));
            let mut rendered = files(&dir);
            assert!(rendered.remove(".platc-render").is_some(), "the directory is marked as a render output");
            let want: BTreeMap<String, Vec<u8>> = deploy
                .iter()
                .filter_map(|(p, b)| {
                    let parts: Vec<&str> = p.splitn(4, '/').collect();
                    (parts.len() == 4 && parts[1] == "manifests" && parts[2] == env).then(|| (format!("{}/{}", parts[0], parts[3]), b.clone()))
                })
                .collect();
            assert!(!want.is_empty(), "{example}: build wrote no manifests for {env}");
            assert_eq!(rendered.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "{example}/{env}: the same objects");
            for (p, b) in &want {
                assert!(rendered[p] == *b, "{example}/{env}: {p} differs from the built file");
            }
            compared += want.len();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(&format!("rendered {} objects of `{env}`", want.len())), "{stderr}");
        }
    }
    assert!(compared > 100, "only {compared} objects compared");
}

#[test]
fn stdout_is_one_yaml_stream_of_the_same_objects() {
    let tmp = TempDir::new("render-stdout");
    let src = root().join("examples/shop");
    let out = platc(tmp.path(), &["render", src.to_str().unwrap(), "--env", "prod"]);
    assert!(out.status.success(), "{}", show(&out));
    let text = String::from_utf8(out.stdout.clone()).expect("UTF-8");
    let dir = tmp.path().join("r");
    assert!(platc(tmp.path(), &["render", src.to_str().unwrap(), "--env", "prod", "--out", dir.to_str().unwrap()]).status.success());
    let mut written = files(&dir);
    written.remove(".platc-render");
    // The stream is the files, in path order, each after a `---` line.
    let expected: String = written.values().map(|b| format!("---\n{}", String::from_utf8_lossy(b))).collect();
    assert_eq!(text, expected);
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).expect("a valid YAML stream");
    assert_eq!(docs.len(), written.len());
    for d in &docs {
        assert!(d["kind"].is_string() && d["metadata"]["name"].is_string() && d["metadata"]["namespace"] == "shop-prod", "{d}");
    }
    assert!(docs.iter().any(|d| d["kind"] == "Deployment") && docs.iter().any(|d| d["kind"] == "PrometheusRule"));
}

#[test]
fn render_replaces_only_its_own_directory() {
    let tmp = TempDir::new("render-dirs");
    let src = root().join("examples/hello");
    let src = src.to_str().unwrap();
    // Someone's directory: refused, untouched.
    tmp.write("mine/notes.txt", "keep me");
    let out = platc(tmp.path(), &["render", src, "--env", "dev", "--out", "mine"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a platc output"), "{}", show(&out));
    assert_eq!(files(&tmp.path().join("mine")).keys().collect::<Vec<_>>(), ["notes.txt"]);
    // A build's tree is a platc output, but not a render's: refused, untouched.
    assert!(platc(tmp.path(), &["build", src, "--out", "b"]).status.success());
    let built = files(&tmp.path().join("b/deploy"));
    let out = platc(tmp.path(), &["render", src, "--env", "dev", "--out", "b/deploy"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no .platc-render"), "{}", show(&out));
    assert!(files(&tmp.path().join("b/deploy")) == built, "the build's tree changed");
    // Its own: replaced as a whole (a stale file goes), with another environment's objects.
    assert!(platc(tmp.path(), &["render", src, "--env", "dev", "--out", "r"]).status.success());
    tmp.write("r/hello/stale.yaml", "kind: Stale\n");
    let out = platc(tmp.path(), &["render", src, "--env", "prod", "--out", "r"]);
    assert!(out.status.success(), "{}", show(&out));
    let after = files(&tmp.path().join("r"));
    assert!(!after.contains_key("hello/stale.yaml"));
    assert!(after.iter().filter(|(p, _)| p.ends_with(".yaml")).all(|(_, b)| String::from_utf8_lossy(b).contains("platc.dev/environment: prod")), "{:?}", after.keys());
}

#[test]
fn errors_render_nothing() {
    let tmp = TempDir::new("render-errors");
    tmp.write("platform.kdl", PLATFORM);
    tmp.write("payments/service.kdl", PAYMENTS);
    tmp.write("checkout/service.kdl", CHECKOUT.replace("port", "prot"));
    let out = platc(tmp.path(), &["render", ".", "--env", "prod", "--out", "r"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(out.stdout.is_empty() && !tmp.path().join("r").exists(), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing rendered"), "{}", show(&out));
    // An error found while rendering (files are already being staged then): the previous
    // render stays as it was, and nothing staged is left behind.
    tmp.write("checkout/service.kdl", CHECKOUT);
    assert!(platc(tmp.path(), &["render", ".", "--env", "prod", "--out", "r"]).status.success());
    let before = files(&tmp.path().join("r"));
    tmp.write("checkout/service.kdl", checkout_with("    patch Deployment name=nobody merge=\"{}\"\n"));
    let out = platc(tmp.path(), &["render", ".", "--env", "prod", "--out", "r"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("matches no generated object"), "{}", show(&out));
    assert!(files(&tmp.path().join("r")) == before, "the previous render changed");
    let left: Vec<String> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.contains("platc-")).collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");
    // A misspelt environment is a usage error with a suggestion.
    tmp.write("checkout/service.kdl", CHECKOUT);
    let out = platc(tmp.path(), &["render", ".", "--env", "prd"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown environment `prd` (did you mean `prod`?)"), "{}", show(&out));
}

#[test]
fn kind_selects_objects_without_changing_them() {
    let tmp = TempDir::new("render-kind");
    let src = root().join("examples/shop");
    let src = src.to_str().unwrap();
    let all_dir = tmp.path().join("all");
    assert!(platc(tmp.path(), &["render", src, "--env", "prod", "--out", all_dir.to_str().unwrap()]).status.success());
    let all = files(&all_dir);
    // Case does not matter; repeated and comma-separated flags add up.
    let out = platc(tmp.path(), &["render", src, "--env", "prod", "--kind", "deployment,Service", "--kind", "PROMETHEUSRULE", "--out", "some"]);
    assert!(out.status.success(), "{}", show(&out));
    let mut some = files(&tmp.path().join("some"));
    some.remove(".platc-render");
    let kind_of = |p: &str| p.rsplit('/').next().and_then(|f| f.split_once('-')).map(|(k, _)| k.to_string()).unwrap_or_default();
    let want: BTreeMap<&String, &Vec<u8>> = all.iter().filter(|(p, _)| ["deployment", "service", "prometheusrule"].contains(&kind_of(p).as_str())).collect();
    assert!(want.len() >= 3 * 7, "{:?}", want.keys());
    assert_eq!(some.keys().collect::<Vec<_>>(), want.keys().copied().collect::<Vec<_>>());
    for (p, b) in &some {
        assert!(want[p] == b, "{p} differs from the unfiltered render");
    }
    // The storefront's Deployment patch is applied in the selection ...
    assert!(String::from_utf8_lossy(&some["storefront/deployment-storefront.yaml"]).contains("safe-to-evict"));
    // ... and does not count as matching nothing when Deployments are left out.
    let out = platc(tmp.path(), &["render", src, "--env", "prod", "--kind", "ServiceAccount"]);
    assert!(out.status.success(), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("\nkind: ").count(), 7, "{text}");
    assert_eq!(text.matches("\nkind: ServiceAccount\n").count(), 7, "{text}");
}

#[test]
fn kind_leaves_patched_objects_built() {
    // Patches on the dashboard ConfigMap and the PrometheusRule still find them (both are left
    // unbuilt when not asked for) when only Deployments are written.
    let tmp = TempDir::new("render-kind-patch");
    tmp.write("platform.kdl", PLATFORM);
    tmp.write("payments/service.kdl", PAYMENTS);
    let patch = "    patch ConfigMap name=checkout-dashboard merge=\"{\\\"metadata\\\":{\\\"annotations\\\":{\\\"x\\\":\\\"patched\\\"}}}\"\n    patch PrometheusRule name=checkout merge=\"{\\\"metadata\\\":{\\\"annotations\\\":{\\\"seen\\\":\\\"patched\\\"}}}\"\n";
    tmp.write("checkout/service.kdl", checkout_with(patch));
    let all = platc(tmp.path(), &["render", ".", "--env", "prod", "--kind", "ConfigMap,PrometheusRule"]);
    assert!(all.status.success(), "{}", show(&all));
    assert!(String::from_utf8_lossy(&all.stdout).contains("x: patched"), "the patch applies: {}", show(&all));
    assert!(String::from_utf8_lossy(&all.stdout).contains("seen: patched"), "the patch applies: {}", show(&all));
    let out = platc(tmp.path(), &["render", ".", "--env", "prod", "--kind", "Deployment"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("kind: ConfigMap"));
}

#[test]
fn patch_of_the_rule_groups_applies() {
    // The rule groups are written from typed rules unless a patch edits the PrometheusRule:
    // then they are in its JSON tree, where a JSON patch of `spec` finds them.
    let tmp = TempDir::new("render-rules-patch");
    tmp.write("platform.kdl", PLATFORM);
    tmp.write("payments/service.kdl", PAYMENTS);
    tmp.write("checkout/service.kdl", checkout_with("    patch PrometheusRule name=checkout json=#\"[{\"op\":\"add\",\"path\":\"/spec/groups/0/interval\",\"value\":\"2m\"}]\"#\n"));
    let out = platc(tmp.path(), &["render", ".", "--env", "prod", "--kind", "PrometheusRule"]);
    assert!(out.status.success(), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("\n    interval: 2m\n").count(), 1, "the patch applies: {text}");
    assert_eq!(text.matches("\nspec:\n").count(), 2, "one spec per PrometheusRule (checkout and payments): {text}");
    // Without the patch, the same objects but the interval.
    tmp.write("checkout/service.kdl", CHECKOUT);
    let plain = platc(tmp.path(), &["render", ".", "--env", "prod", "--kind", "PrometheusRule"]);
    assert_eq!(String::from_utf8_lossy(&plain.stdout), text.replace("\n    interval: 2m\n", "\n"));
}

#[test]
fn unknown_kind_is_a_usage_error() {
    let tmp = TempDir::new("render-kind-unknown");
    let src = root().join("examples/hello");
    let out = platc(tmp.path(), &["render", src.to_str().unwrap(), "--env", "prod", "--kind", "Deploymnet", "--out", "r"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no object of kind `Deploymnet` is rendered in `prod`: did you mean `Deployment`?"), "{}", show(&out));
    assert!(out.stdout.is_empty() && !tmp.path().join("r").exists(), "{}", show(&out));
    // A kind platc generates but this environment has none of: nothing, and no error.
    let out = platc(tmp.path(), &["render", src.to_str().unwrap(), "--env", "prod", "--kind", "CronJob"]);
    assert!(out.status.success() && out.stdout.is_empty(), "{}", show(&out));
}

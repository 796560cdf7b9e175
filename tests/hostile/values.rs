//! Values the target systems reject, refused at the edge: image references and registries,
//! `--set` values, Kubernetes name and key limits, Gateway API paths, PromQL and alert
//! templates; and preview names that cannot collide. Every refused case builds first (the
//! previous output), then asserts exit 1 or 2 with the expected code, the previous output
//! intact and nothing outside the output root changed.

use crate::sandbox::Sandbox;

const SPEC: &str = "hello/service.kdl";

/// A sandbox of `hello` built once (the previous output), with `edit` applied to the spec.
fn edited(edit: impl Fn(String) -> String) -> Sandbox {
    let sb = Sandbox::new("hello");
    sb.build_ok();
    let spec = sb.read(SPEC);
    let new = edit(spec.clone());
    assert_ne!(new, spec, "the edit changed nothing");
    sb.write(SPEC, new);
    sb
}

/// Runs `args` and asserts the refusal with `needle`, the previous output intact and nothing
/// outside the output root changed.
fn assert_refused(sb: &Sandbox, args: &[&str], needle: &str) {
    let (before, outputs) = (sb.surroundings(), sb.outputs());
    sb.platc(args).assert_refused(needle);
    assert_eq!(before, sb.surroundings(), "something outside the output root changed");
    assert_eq!(outputs, sb.outputs(), "the previous output changed");
}

fn add_line(spec: String, line: &str) -> String {
    let end = spec.rfind('}').unwrap();
    format!("{}    {line}\n{}", &spec[..end], &spec[end..])
}

#[test]
fn image_paths_with_dot_dot_are_refused_even_under_an_allowed_registry() {
    let sb = edited(|s| s.replace("\"ghcr.io/acme/hello\"", "\"ghcr.io/acme/../evil/hello\""));
    sb.write("platform.kdl", sb.read("platform.kdl").replace("min-replicas 2 env=prod", "min-replicas 2 env=prod\n        allowed-registries \"ghcr.io/acme\""));
    assert_refused(&sb, &["build"], "E0211");
}

#[test]
fn allowed_registries_match_path_components_not_string_prefixes() {
    let sb = edited(|s| s.replace("\"ghcr.io/acme/hello\"", "\"ghcr.io/acme-evil/hello\""));
    sb.write("platform.kdl", sb.read("platform.kdl").replace("min-replicas 2 env=prod", "min-replicas 2 env=prod\n        allowed-registries \"ghcr.io/acme\""));
    assert_refused(&sb, &["build"], "E0503");
}

#[test]
fn set_values_outside_their_grammar_exit_2() {
    let sb = Sandbox::new("hello");
    sb.build_ok();
    for (set, needle) in [
        ("image-tag=v1 ; rm -rf /", "not an image tag"),
        ("image-tag=", "needs a value"),
        ("image-tag=-x", "not an image tag"),
        ("branch=..", "not a git branch name"),
        ("branch=a b", "not a git branch name"),
        ("branch=-", "not a git branch name"),
        ("branch=feature\nx", "not a git branch name"),
    ] {
        let (before, outputs) = (sb.surroundings(), sb.outputs());
        let run = sb.platc(&["build", "--env", "preview", "--set", set]);
        assert_eq!(run.code, 2, "{set:?}:\n{}", run.all());
        run.assert_refused(needle);
        assert_eq!(before, sb.surroundings(), "{set:?}");
        assert_eq!(outputs, sb.outputs(), "{set:?}");
    }
}

#[test]
fn env_names_longer_than_kubernetes_keys_are_refused() {
    let long = "A".repeat(254);
    let sb = edited(|s| add_line(s, &format!("env {long}=x")));
    assert_refused(&sb, &["build"], "E0212");
}

#[test]
fn a_namespace_longer_than_a_dns_label_points_at_the_environment() {
    let sb = Sandbox::new("hello");
    sb.build_ok();
    let env = "e".repeat(60);
    sb.write("platform.kdl", sb.read("platform.kdl").replace("environment dev {", &format!("environment {env} {{\n        provision in-cluster\n    }}\n    environment dev {{")));
    assert_refused(&sb, &["build"], "E0219");
    let run = sb.platc(&["check"]);
    assert!(run.all().contains(&format!("acme-{env}")), "the message says what the name would be:\n{}", run.all());
}

#[test]
fn route_paths_that_gateway_api_refuses_are_refused() {
    for path in ["/api/../admin", "/api//x", "/api/%2F", "/api/./x", "/a b"] {
        let sb = edited(|s| s.replace("route \"/\"", &format!("route \"{path}\"")));
        assert_refused(&sb, &["build"], "E0214");
    }
}

#[test]
fn alert_expressions_that_are_not_promql_are_refused() {
    let sb = edited(|s| add_line(s, "alert Broken expr=\"rate(http_requests_total[5m]) >\""));
    assert_refused(&sb, &["build"], "E0217");
}

#[test]
fn alert_annotation_templates_that_do_not_parse_are_refused() {
    let sb = edited(|s| add_line(s, "alert Broken expr=\"up == 0\" summary=\"{{ $labels.job is down\""));
    assert_refused(&sb, &["build"], "E0218");
}

#[test]
fn previews_of_branches_with_the_same_label_get_different_names() {
    let sb = Sandbox::new("hello");
    let mut dirs = Vec::new();
    for branch in ["feature/ok", "feature-ok", "é", "feature.ok"] {
        let before = sb.surroundings();
        sb.platc(&["build", "--env", "preview", "--set", &format!("branch={branch}")]).assert_ok();
        assert_eq!(before, sb.surroundings());
        let manifests = sb.repo().join("deploy/hello/manifests");
        let found: Vec<String> = std::fs::read_dir(&manifests).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("preview-")).collect();
        // The preview of this branch is the directory no earlier branch wrote: none when it
        // shares the name of an earlier preview.
        let new: Vec<String> = found.into_iter().filter(|n| !dirs.iter().any(|(_, d, _)| d == n)).collect();
        assert_eq!(new.len(), 1, "the preview of {branch:?} is not a new directory: {new:?} after {dirs:?}");
        let deployment = std::fs::read_to_string(manifests.join(&new[0]).join("deployment-hello.yaml")).unwrap();
        let ns = deployment.lines().find_map(|l| l.trim().strip_prefix("namespace: ")).unwrap().to_string();
        dirs.push((branch, new[0].clone(), ns));
    }
    for (i, a) in dirs.iter().enumerate() {
        for b in &dirs[i + 1..] {
            assert_ne!(a.1, b.1, "{a:?} and {b:?} share a preview");
            assert_ne!(a.2, b.2, "{a:?} and {b:?} share a namespace");
        }
    }
    assert_eq!(dirs[1].2, "acme-preview-feature-ok", "a branch that is a DNS label keeps its name");
}

//! The CI/CD backend: generated pipelines and Dockerfiles pass the validators their users run
//! (actionlint, the GitHub workflow and GitLab CI JSON schemas, hadolint, checkov), the preview
//! job names a preview exactly like `platc build --env preview --set branch=...`, and snapshots
//! of a workflow and a Dockerfile.
//!
//! Validators come from `.ci/oracles.sh install`; a missing one fails the test, never skips it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use platc::build::build_paths;
use platc_check::fs::{FileSystem, MemoryFs, RealFs};
use platc_emit::emit::Output;
use platc_emit::lower::BuildOptions;
use serde_json::Value as Json;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------------------------------------ inputs

/// The CI files of a tree of specs, generated in memory.
fn ci_output(fs: &dyn FileSystem, path: &Path, cwd: &Path) -> Output {
    let loaded = platc_check::load::load(fs, &[path.to_path_buf()], &[], cwd).expect("the specs load");
    let analysis = platc::build::analyze(&loaded);
    let Some((ws, graph)) = analysis.ok() else {
        let diags: Vec<_> = analysis.diags.iter().cloned().collect();
        panic!("the specs have errors:\n{}", platc_syntax::diagnostics::render(&diags, &loaded.sources, platc_syntax::diagnostics::Format::Human, false));
    };
    let opts = BuildOptions::default();
    let envs = platc_resolve::resolve::environments(ws, &opts).expect("environments");
    let model = platc_resolve::resolve::resolve(ws, graph, &envs, &opts, &loaded.sources);
    platc_emit::emit::ci::emit(&model, &loaded.stdlib).unwrap_or_else(|e| panic!("stdlib CI data: {e:?}"))
}

/// An example as it is in the repository.
fn example(name: &str) -> Output {
    ci_output(&RealFs, &PathBuf::from(format!("examples/{name}")), &root())
}

/// The .kdl files of an example in memory under `/repo`, with text replaced in platform.kdl.
fn example_in_memory(name: &str, replace: &[(&str, &str)]) -> MemoryFs {
    let mut fs = MemoryFs::new();
    let dir = root().join("examples").join(name);
    for entry in walkdir::WalkDir::new(&dir).sort_by_file_name().into_iter().filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "kdl") {
            continue;
        }
        let mut text = std::fs::read_to_string(path).unwrap();
        if path.file_name().is_some_and(|n| n == "platform.kdl") {
            for (from, to) in replace {
                assert!(text.contains(from), "{name}/platform.kdl has no `{from}`");
                text = text.replace(from, to);
            }
        }
        fs.add(Path::new("/repo").join(path.strip_prefix(&dir).unwrap()), text);
    }
    fs
}

/// An example whose platform.kdl says `ci gitlab`.
fn gitlab_example(name: &str) -> Output {
    let fs = example_in_memory(name, &[("ci github-actions", "ci gitlab")]);
    ci_output(&fs, Path::new("/repo"), Path::new("/repo"))
}

fn text(out: &Output, path: &str) -> String {
    String::from_utf8(out.files.get(path).unwrap_or_else(|| panic!("{path} not generated; files: {:?}", out.files.keys())).clone()).unwrap()
}

/// Writes outputs (each under its own subdirectory) to a temporary directory.
fn write(outputs: &[(&str, &Output)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (sub, out) in outputs {
        for (path, bytes) in &out.files {
            let p = dir.path().join(sub).join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
    }
    dir
}

fn files_under(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()).map(|e| e.into_path()).filter(|p| keep(p)).collect()
}

// -------------------------------------------------------------------------------- validators

/// The path of an installed validator; a missing one fails the test.
fn oracle(tool: &str) -> PathBuf {
    let out = Command::new("bash").arg(root().join(".ci/oracles.sh")).args(["path", tool]).output().expect("bash runs");
    assert!(out.status.success(), "validator `{tool}` is not installed: run `.ci/oracles.sh install` ({})", String::from_utf8_lossy(&out.stderr).trim());
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Runs a validator; `Err` holds its output.
fn run(cmd: &mut Command) -> Result<String, String> {
    let what = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {what}: {e} (run `.ci/oracles.sh install`)"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{what}\n{text}"))
    }
}

/// A YAML file as JSON, read by PyYAML from the validators' venv (an independent parser).
fn yaml_as_json(path: &Path) -> Json {
    let script = "import json, sys, yaml\njson.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)";
    let out = run(Command::new(oracle("python")).args(["-c", script]).arg(path)).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&out).unwrap()
}

fn assert_all_pass(what: &str, results: Vec<Result<String, String>>) -> usize {
    let n = results.len();
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{what}: {} of {n} failed:\n{}", failures.len(), failures.join("\n\n"));
    assert!(n > 0, "{what}: nothing was validated");
    eprintln!("{what}: {n} passed");
    n
}

// ----------------------------------------------------------------------------- the validators

#[test]
fn github_workflows_pass_actionlint_and_the_workflow_schema() {
    let (hello, shop) = (example("hello"), example("shop"));
    let dir = write(&[("hello", &hello), ("shop", &shop)]);
    let workflows = files_under(dir.path(), |p| p.to_string_lossy().contains("/.github/workflows/"));
    assert_eq!(workflows.len(), 2, "one workflow per example: {workflows:?}");
    let (actionlint, schema) = (oracle("actionlint-js"), oracle("check-jsonschema"));
    let mut results = Vec::new();
    for wf in &workflows {
        results.push(run(Command::new("node").arg(&actionlint).arg(wf)));
        results.push(run(Command::new(&schema).args(["--builtin-schema", "vendor.github-workflows"]).arg(wf)));
    }
    assert_all_pass("actionlint + github-workflows schema", results);
}

#[test]
fn gitlab_pipelines_pass_the_gitlab_ci_schema() {
    let (hello, shop) = (gitlab_example("hello"), gitlab_example("shop"));
    assert!(!hello.files.keys().any(|k| k.starts_with(".github/")), "`ci gitlab` writes no GitHub workflow");
    let dir = write(&[("hello", &hello), ("shop", &shop)]);
    let pipelines = files_under(dir.path(), |p| p.ends_with(".gitlab-ci.yml"));
    assert_eq!(pipelines.len(), 2, "{pipelines:?}");
    let schema = oracle("check-jsonschema");
    let results = pipelines.iter().map(|p| run(Command::new(&schema).args(["--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci"]).arg(p))).collect();
    assert_all_pass("gitlab-ci schema", results);
}

#[test]
fn dockerfiles_pass_hadolint() {
    let (hello, shop) = (example("hello"), example("shop"));
    let dir = write(&[("hello", &hello), ("shop", &shop)]);
    let dockerfiles = files_under(dir.path(), |p| p.ends_with("Dockerfile"));
    // hello (go) and the seven shop services: go, rust, node, python, java all covered.
    assert_eq!(dockerfiles.len(), 8, "{dockerfiles:?}");
    let hadolint = oracle("hadolint");
    let results = dockerfiles.iter().map(|f| run(Command::new(&hadolint).args(["--no-color", "--failure-threshold", "warning"]).arg(f))).collect();
    assert_all_pass("hadolint --failure-threshold warning", results);
}

/// `language dotnet` (the hello example's service, rewritten): its GitHub workflow passes
/// actionlint and the workflow schema, its GitLab pipeline the GitLab CI schema, its Dockerfile
/// hadolint; the test job runs the .NET commands after the pinned setup-dotnet.
#[test]
fn a_dotnet_service_passes_the_ci_validators() {
    let dotnet = |replace: &[(&str, &str)]| {
        let mut fs = example_in_memory("hello", replace);
        let spec = std::fs::read_to_string(root().join("examples/hello/hello/service.kdl")).unwrap();
        assert!(spec.contains("    language go\n"), "{spec}");
        fs.add("/repo/hello/service.kdl", spec.replace("    language go\n", "    language dotnet\n"));
        ci_output(&fs, Path::new("/repo"), Path::new("/repo"))
    };
    let (github, gitlab) = (dotnet(&[]), dotnet(&[("ci github-actions", "ci gitlab")]));
    let workflow = text(&github, ".github/workflows/platc.yml");
    assert!(workflow.contains("uses: actions/setup-dotnet@26b0ec14cb23fa6904739307f278c14f94c95bf1 # v5.4.0"), "{workflow}");
    assert!(workflow.contains("dotnet restore") && workflow.contains("dotnet test --no-restore"), "{workflow}");
    let pipeline = text(&gitlab, ".gitlab-ci.yml");
    assert!(pipeline.contains("mcr.microsoft.com/dotnet/sdk:10.0.401-noble") && pipeline.contains("dotnet test --no-restore"), "{pipeline}");
    let dockerfile = text(&github, "deploy/hello/Dockerfile");
    assert!(dockerfile.contains("\nFROM mcr.microsoft.com/dotnet/aspnet:10.0.12-noble\n") && dockerfile.contains("\nUSER 10001:10001\n"), "{dockerfile}");

    let dir = write(&[("github", &github), ("gitlab", &gitlab)]);
    let (actionlint, schema, hadolint) = (oracle("actionlint-js"), oracle("check-jsonschema"), oracle("hadolint"));
    let wf = dir.path().join("github/.github/workflows/platc.yml");
    let gl = dir.path().join("gitlab/.gitlab-ci.yml");
    let df = dir.path().join("github/deploy/hello/Dockerfile");
    let results = vec![
        run(Command::new("node").arg(&actionlint).arg(&wf)),
        run(Command::new(&schema).args(["--builtin-schema", "vendor.github-workflows"]).arg(&wf)),
        run(Command::new(&schema).args(["--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci"]).arg(&gl)),
        run(Command::new(&hadolint).args(["--no-color", "--failure-threshold", "warning"]).arg(&df)),
    ];
    assert_eq!(assert_all_pass("dotnet: actionlint, workflow and gitlab-ci schemas, hadolint", results), 4);
}

/// The checkov checks docs/ci.md skips, each with its reason (section "checkov: skipped checks").
fn justified_skips() -> Vec<String> {
    let doc = std::fs::read_to_string(root().join("docs/ci.md")).expect("docs/ci.md exists");
    let section = doc.split("## checkov: skipped checks").nth(1).expect("docs/ci.md has a section `## checkov: skipped checks`");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `CKV"))
        .map(|rest| {
            let id = format!("CKV{}", rest.split('`').next().unwrap());
            let reason = rest.split('|').nth(1).unwrap_or("").trim();
            assert!(reason.len() > 40, "skip of {id} needs a real justification in docs/ci.md, got `{reason}`");
            id
        })
        .collect()
}

#[test]
fn checkov_reports_no_failed_check() {
    let (shop, shop_gitlab) = (example("shop"), gitlab_example("shop"));
    let dir = write(&[("github", &shop), ("gitlab", &shop_gitlab)]);
    let skips = justified_skips();
    let mut cmd = Command::new(oracle("checkov"));
    cmd.arg("-d").arg(dir.path()).args(["--framework", "github_actions", "gitlab_ci", "dockerfile", "--quiet", "--compact", "-o", "json", "--skip-download"]);
    if !skips.is_empty() {
        cmd.args(["--skip-check", &skips.join(",")]);
    }
    let out = cmd.output().expect("checkov runs");
    let report: Json =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("checkov output is not JSON ({e}):\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    let reports = match report {
        Json::Array(a) => a,
        one => vec![one],
    };
    let mut summary = BTreeMap::new();
    let mut failed = Vec::new();
    for r in &reports {
        let kind = r["check_type"].as_str().unwrap_or("?").to_string();
        let s = &r["summary"];
        summary.insert(kind.clone(), (s["passed"].as_u64().unwrap_or(0), s["failed"].as_u64().unwrap_or(0), s["skipped"].as_u64().unwrap_or(0), s["parsing_errors"].as_u64().unwrap_or(0)));
        for f in r["results"]["failed_checks"].as_array().into_iter().flatten() {
            failed.push(format!("{kind} {} {} ({})", f["check_id"].as_str().unwrap_or("?"), f["check_name"].as_str().unwrap_or("?"), f["file_path"].as_str().unwrap_or("?")));
        }
    }
    eprintln!("checkov (passed, failed, skipped, parsing errors) by framework: {summary:?}; skipped by docs/ci.md: {skips:?}");
    for kind in ["github_actions", "gitlab_ci", "dockerfile"] {
        let (passed, _, _, parsing_errors) = summary.get(kind).copied().unwrap_or_else(|| panic!("checkov scanned no {kind} file: {summary:?}"));
        assert!(passed > 0, "checkov passed nothing for {kind}");
        assert_eq!(parsing_errors, 0, "checkov could not parse some {kind} file");
    }
    assert!(failed.is_empty(), "checkov failed checks (fix them, or justify a skip in docs/ci.md):\n{}", failed.join("\n"));
}

// ---------------------------------------------------------------------------- preview naming

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// Branch names the preview job must pass to platc unchanged: long with slashes (shortened to
/// a DNS label with a hash), and one full of shell metacharacters git allows in a branch name.
// The last three share a DNS label (`feature-ok`, `x`) and must still get different previews.
const BRANCHES: [&str; 5] = ["feature/JIRA-1234-Checkout-Redesign/with-a-very-long-description-of-the-change", "fix/it's-\"quoted\"-$HOME-;&|`id`", "feature/ok", "feature-ok", "é"];

/// Runs `script` with bash and a stub `platc` on PATH (and a stub `git`); returns the arguments
/// of each platc call.
fn run_with_stub_platc(script: &str, env: &BTreeMap<String, String>) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls");
    let stub = "#!/usr/bin/env bash\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> \"$PLATC_STUB_LOG\"; done\nprintf '\\n\\0' >> \"$PLATC_STUB_LOG\"\n";
    for name in ["platc", "git"] {
        let p = dir.path().join(name);
        std::fs::write(&p, if name == "platc" { stub } else { "#!/usr/bin/env bash\nexit 0\n" }).unwrap();
        Command::new("chmod").arg("+x").arg(&p).status().unwrap();
    }
    let path = format!("{}:{}", dir.path().display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash").args(["-c", script]).envs(env).env("PATH", path).env("PLATC_STUB_LOG", &log).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "the job's script failed:\n{script}\n{}", String::from_utf8_lossy(&out.stderr));
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    calls.split("\n\0").filter(|c| !c.is_empty()).map(|c| c.split('\0').filter(|a| !a.is_empty()).map(str::to_string).collect()).collect()
}

/// `platc build` arguments as the CLI reads them.
fn build_options(args: &[String]) -> BuildOptions {
    assert_eq!(args.first().map(String::as_str), Some("build"), "{args:?}");
    let mut opts = BuildOptions::default();
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--env" => opts.env = it.next().cloned(),
            "--set" => {
                let (k, v) = it.next().and_then(|kv| kv.split_once('=')).expect("--set KEY=VALUE");
                match k {
                    "branch" => opts.branch = Some(v.to_string()),
                    "image-tag" => opts.image_tag = Some(v.to_string()),
                    other => panic!("unknown setting {other}"),
                }
            }
            other => panic!("unexpected argument {other} in {args:?}"),
        }
    }
    opts
}

/// The namespace and hosts of the preview of hello built with `opts`, and the whole output.
fn preview_names(opts: &BuildOptions) -> (String, Vec<String>, Output) {
    let r = build_paths(&RealFs, &[PathBuf::from("examples/hello")], &[], &root(), opts).expect("builds");
    let out = r.output.expect("no errors");
    let files: Vec<String> = out.files.iter().filter(|(k, _)| k.contains("hello/manifests/preview-")).map(|(_, v)| String::from_utf8(v.clone()).unwrap()).collect();
    let mut namespaces: Vec<String> = files.iter().flat_map(|f| f.lines().filter_map(|l| l.trim().strip_prefix("namespace: ").map(str::to_string)).collect::<Vec<_>>()).collect();
    namespaces.sort();
    namespaces.dedup();
    assert_eq!(namespaces.len(), 1, "{namespaces:?}");
    let mut hosts: Vec<String> =
        files.iter().flat_map(|f| f.lines().filter(|l| l.contains(".preview.")).map(|l| l.trim().trim_start_matches("- ").trim_start_matches("host: ").to_string()).collect::<Vec<_>>()).collect();
    hosts.sort();
    hosts.dedup();
    assert!(!hosts.is_empty(), "the preview of hello has a public route");
    (namespaces.remove(0), hosts, out)
}

/// The build the job ran equals a local `platc build --env preview --set branch=B` (same tag).
fn assert_same_preview(branch: &str, args: &[String]) {
    let from_job = build_options(args);
    assert_eq!(from_job.env.as_deref(), Some("preview"));
    assert_eq!(from_job.branch.as_deref(), Some(branch), "the job must pass the branch unchanged");
    let local = BuildOptions { env: Some("preview".into()), branch: Some(branch.into()), image_tag: from_job.image_tag.clone() };
    let (ns, hosts, out) = preview_names(&from_job);
    let (local_ns, local_hosts, local_out) = preview_names(&local);
    assert_eq!((&ns, &hosts), (&local_ns, &local_hosts));
    assert_eq!(out, local_out, "every generated file is the same");
    assert!(ns.len() <= 63 && ns.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{ns}");
    let slug = platc_emit::lower::preview_slug(branch, 40);
    assert!(ns.ends_with(&slug), "{ns} ends with the branch slug {slug}");
    if branch.len() > 40 {
        assert!(ns.ends_with(&platc_emit::lower::short_hash(branch)), "a long branch ends in a hash: {ns}");
    }
    assert!(hosts.iter().all(|h| h.contains(&format!(".{slug}.preview."))), "{hosts:?}");
}

/// Evaluates the `${{ }}` expressions a GitHub job environment may hold.
fn github_expr(value: &str, branch: &str) -> String {
    let publish = "${{ github.event_name == 'push' || github.event.pull_request.head.repo.full_name == github.repository }}";
    let v = value.replace("${{ github.head_ref }}", branch).replace("${{ github.sha }}", SHA).replace(publish, "true");
    assert!(!v.contains("${{"), "unexpected expression in a preview job variable: {value}");
    v
}

#[test]
fn the_github_preview_job_names_the_preview_like_platc_build() {
    let dir = write(&[("hello", &example("hello"))]);
    let wf = yaml_as_json(&dir.path().join("hello/.github/workflows/platc.yml"));
    for (job_name, with_tag) in [("preview", true), ("preview-teardown", false)] {
        let job = &wf["jobs"][job_name];
        assert!(job.is_object(), "no {job_name} job");
        for branch in BRANCHES {
            let mut env = BTreeMap::new();
            for scope in [&wf["env"], &job["env"]] {
                for (k, v) in scope.as_object().into_iter().flatten() {
                    env.insert(k.clone(), github_expr(v.as_str().unwrap(), branch));
                }
            }
            let step = job["steps"].as_array().unwrap().iter().find(|s| s["run"].as_str().is_some_and(|r| r.contains("platc build"))).expect("a platc build step");
            let calls = run_with_stub_platc(step["run"].as_str().unwrap(), &env);
            assert_eq!(calls.len(), 1, "{calls:?}");
            assert_eq!(calls[0].iter().any(|a| a.starts_with("image-tag=")), with_tag, "{job_name}: {:?}", calls[0]);
            assert_same_preview(branch, &calls[0]);
        }
    }
}

#[test]
fn the_gitlab_preview_job_names_the_preview_like_platc_build() {
    let dir = write(&[("hello", &gitlab_example("hello"))]);
    let pipeline = yaml_as_json(&dir.path().join("hello/.gitlab-ci.yml"));
    for job_name in ["preview", "preview-teardown"] {
        let job = &pipeline[job_name];
        let script: Vec<&str> = job["script"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        // The branch comes from GitLab's predefined variable, read by the shell (GitLab does not
        // expand it again); the clone and push lines are not needed to name the preview.
        let relevant: Vec<&str> = script.iter().copied().filter(|s| s.starts_with("export ") || s.contains("platc build")).collect();
        for branch in BRANCHES {
            let mut env = BTreeMap::new();
            env.insert("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME".to_string(), branch.to_string());
            env.insert("IMAGE_TAG".to_string(), SHA.to_string());
            let calls = run_with_stub_platc(&relevant.join("\n"), &env);
            assert_eq!(calls.len(), 1, "{calls:?}");
            assert_same_preview(branch, &calls[0]);
        }
    }
}

// ------------------------------------------------------------------------- security properties

#[test]
fn workflows_are_least_privilege_pinned_and_injection_free() {
    let dir = write(&[("hello", &example("hello")), ("shop", &example("shop"))]);
    for name in ["hello", "shop"] {
        let wf = yaml_as_json(&dir.path().join(name).join(".github/workflows/platc.yml"));
        assert_eq!(wf["permissions"], serde_json::json!({}), "no permissions at the top level");
        let jobs = wf["jobs"].as_object().unwrap();
        for (id, job) in jobs {
            assert!(job["permissions"].is_object(), "{name}: job {id} states its permissions");
            for step in job["steps"].as_array().unwrap() {
                if let Some(uses) = step["uses"].as_str() {
                    let (_, sha) = uses.split_once('@').unwrap_or_else(|| panic!("{uses} is not pinned"));
                    assert!(sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()), "{name}/{id}: {uses} is not pinned to a commit");
                }
                if let Some(run) = step["run"].as_str() {
                    assert!(!run.contains("${{"), "{name}/{id}: expressions reach scripts only through env:\n{run}");
                    assert!(!run.contains("secrets."), "{name}/{id}: {run}");
                }
            }
            if let Some(perms) = job["permissions"].as_object() {
                assert!(perms.values().all(|v| v == "read" || v == "write"), "{name}/{id}: {perms:?}");
                assert!(!perms.contains_key("contents") || perms["contents"] == "read", "{name}/{id}: no job writes to this repository");
            }
        }
        // Promotion is dev -> staging -> prod, each waiting for the previous one.
        assert_eq!(jobs["deploy-staging"]["needs"][0], "deploy-dev");
        assert_eq!(jobs["deploy-prod"]["needs"][0], "deploy-staging");
        assert_eq!(jobs["deploy-prod"]["environment"], "prod");
    }
    // Terraform jobs exist where resources are provisioned by aws (shop: staging and prod).
    let shop = yaml_as_json(&dir.path().join("shop/.github/workflows/platc.yml"));
    let ids: Vec<&String> = shop["jobs"].as_object().unwrap().keys().collect();
    assert!(ids.iter().any(|k| *k == "terraform-plan-staging") && ids.iter().any(|k| *k == "terraform-plan-prod"), "{ids:?}");
    assert!(!ids.iter().any(|k| *k == "terraform-plan-dev"), "dev is in-cluster: {ids:?}");
    let hello = yaml_as_json(&dir.path().join("hello/.github/workflows/platc.yml"));
    assert!(!hello["jobs"].as_object().unwrap().keys().any(|k| k.starts_with("terraform")), "hello uses no resources");
}

#[test]
fn dockerfiles_run_as_the_pod_user_and_expose_the_first_port() {
    let shop = example("shop");
    for (service, port) in [("cart", 8080), ("catalog", 9090), ("checkout", 8080), ("fulfillment", 8000), ("notifications", 3000), ("payments", 8080), ("storefront", 3000)] {
        let d = text(&shop, &format!("deploy/{service}/Dockerfile"));
        assert!(d.contains("\nUSER 10001:10001\n"), "{service}");
        assert!(d.contains(&format!("\nEXPOSE {port}\n")), "{service}");
        assert!(d.matches("\nFROM ").count() >= 2, "{service}: multi-stage");
        assert!(!d.contains(":latest"), "{service}");
    }
}

#[test]
fn outputs_are_deterministic_and_relative_to_the_repository_root() {
    let (a, b) = (example("shop"), example("shop"));
    assert_eq!(a, b);
    let mut paths: Vec<&str> = a.files.keys().map(String::as_str).collect();
    paths.sort();
    assert_eq!(paths[0], ".github/workflows/platc.yml");
    assert!(paths[1..].iter().all(|p| p.starts_with("deploy/") && p.ends_with("/Dockerfile")), "{paths:?}");
}

#[test]
fn a_service_without_a_language_builds_its_own_dockerfile() {
    let mut fs = example_in_memory("hello", &[]);
    fs.add("/repo/legacy/api/service.kdl", "service legacy-api {\n    owner team-a\n    port http 8080\n    health readiness=\"/ready\"\n    scale min=2\n}\n");
    let out = ci_output(&fs, Path::new("/repo"), Path::new("/repo"));
    assert!(!out.files.contains_key("deploy/legacy-api/Dockerfile"));
    let wf = text(&out, ".github/workflows/platc.yml");
    assert!(wf.contains("file: legacy/api/Dockerfile"), "{wf}");
    assert!(wf.contains("context: legacy/api\n"), "{wf}");
    assert!(!wf.contains("test-legacy-api:"), "no language, no test job");
}

/// A third-party image (`build=#false`) gets no image job in either CI system and is not
/// among what a deploy waits for; the services CI does build keep theirs.
#[test]
fn an_image_platc_does_not_build_gets_no_image_job() {
    let proxy = "service proxy {\n    owner team-a\n    image \"ghcr.io/acme/vendor/envoy:1.31.2\" build=#false\n    port http 8080\n    health readiness=\"/ready\"\n    scale min=2\n}\n";
    for (system, file) in [("github-actions", ".github/workflows/platc.yml"), ("gitlab", ".gitlab-ci.yml")] {
        let mut fs = example_in_memory("hello", &[("ci github-actions", &format!("ci {system}"))]);
        fs.add("/repo/proxy/service.kdl", proxy);
        let out = ci_output(&fs, Path::new("/repo"), Path::new("/repo"));
        let pipeline = text(&out, file);
        assert!(pipeline.contains("image-hello"), "{system}: the built service keeps its image job");
        assert!(!pipeline.contains("image-proxy"), "{system}: an image job for a third-party image:\n{pipeline}");
        assert!(!pipeline.contains("vendor/envoy"), "{system}: CI pushes or signs the vendor's image");
        assert!(!out.files.keys().any(|f| f.starts_with("deploy/proxy/")), "{system}: a Dockerfile for a third-party image");
    }
}

#[test]
fn a_stdlib_overlay_changes_language_steps_and_cannot_unpin_actions() {
    let mut fs = example_in_memory("hello", &[]);
    fs.add("/ov/ci/languages/go.yaml", std::fs::read_to_string(root().join("stdlib/ci/languages/go.yaml")).unwrap().replace("  - go vet ./...\n", "  - go vet ./...\n  - staticcheck ./...\n"));
    let loaded = platc_check::load::load(&fs, &[PathBuf::from("/repo")], &[PathBuf::from("/ov")], Path::new("/repo")).unwrap();
    let analysis = platc::build::analyze(&loaded);
    let (ws, graph) = analysis.ok().unwrap();
    let envs = platc_resolve::resolve::environments(ws, &BuildOptions::default()).unwrap();
    let model = platc_resolve::resolve::resolve(ws, graph, &envs, &BuildOptions::default(), &loaded.sources);
    let out = platc_emit::emit::ci::emit(&model, &loaded.stdlib).unwrap();
    assert!(text(&out, ".github/workflows/platc.yml").contains("run: staticcheck ./..."));

    fs.add("/ov2/ci/languages/go.yaml", std::fs::read_to_string(root().join("stdlib/ci/languages/go.yaml")).unwrap().replace("uses: setup-go", "uses: actions/setup-go@v7"));
    let loaded = platc_check::load::load(&fs, &[PathBuf::from("/repo")], &[PathBuf::from("/ov2")], Path::new("/repo")).unwrap();
    let errors = platc_emit::emit::ci::emit(&model, &loaded.stdlib).unwrap_err();
    assert!(errors.iter().any(|e| e.message.contains("actions/setup-go@v7") && e.message.contains("pin")), "{errors:?}");
}

// --------------------------------------------------------------------------------- snapshots

#[test]
fn snapshots_of_a_workflow_and_a_dockerfile() {
    let hello = example("hello");
    insta::with_settings!({snapshot_path => root().join("snapshots/ci"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("hello_workflow", text(&hello, ".github/workflows/platc.yml"));
        insta::assert_snapshot!("hello_dockerfile", text(&hello, "deploy/hello/Dockerfile"));
    });
}

// ------------------------------------------------------------------------- limits (W0104)

/// The hello example's platform with `n` copies of its service (`hello-0`, ...), in memory
/// under `/repo`, with text replaced in platform.kdl.
fn many_services(n: usize, replace: &[(&str, &str)]) -> MemoryFs {
    let dir = root().join("examples/hello");
    let mut platform = std::fs::read_to_string(dir.join("platform.kdl")).unwrap();
    for (from, to) in replace {
        assert!(platform.contains(from), "hello/platform.kdl has no `{from}`");
        platform = platform.replace(from, to);
    }
    let mut fs = MemoryFs::new();
    fs.add(Path::new("/repo/platform.kdl"), platform);
    let service = std::fs::read_to_string(dir.join("hello/service.kdl")).unwrap();
    for i in 0..n {
        let text = service
            .replace("service hello {", &format!("service hello-{i} {{"))
            .replace("image \"ghcr.io/acme/hello\"", &format!("image \"ghcr.io/acme/hello-{i}\""))
            .replace("route \"/\" public", &format!("route \"/hello-{i}\" public"));
        assert_ne!(text, service);
        fs.add(Path::new("/repo").join(format!("hello-{i}/service.kdl")), text);
    }
    fs
}

#[test]
fn pipelines_past_the_ci_systems_limits_are_reported() {
    let limits = |fs: &MemoryFs| {
        let out = ci_output(fs, Path::new("/repo"), Path::new("/repo"));
        let loaded = platc_check::load::load(fs, &[PathBuf::from("/repo")], &[], Path::new("/repo")).unwrap();
        let analysis = platc::build::analyze(&loaded);
        let (ws, graph) = analysis.ok().unwrap();
        let model = platc_resolve::resolve::resolve(ws, graph, &[], &BuildOptions::default(), &loaded.sources);
        (out.files.values().map(Vec::len).max().unwrap_or(0), platc_emit::emit::ci::exceeded_limits(&model, &out))
    };
    // GitHub: a workflow file over 500 KB does not start. ~2.7 KB of jobs per service here.
    let (size, found) = limits(&many_services(150, &[]));
    assert!(size < 500_000 && found.is_empty(), "{size} bytes: {found:?}");
    let (size, found) = limits(&many_services(200, &[]));
    assert!(size > 500_000, "{size}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0.contains(".github/workflows/platc.yml is") && found[0].0.contains("over 500 KB"), "{found:?}");
    assert!(found[0].1.contains("200 services") && found[0].1.contains("docs/ci.md"), "{found:?}");
    // GitLab: `needs:` lists of at most 50 jobs; the preview needs the check, every test and
    // every image job: 1 + 2n with a language.
    let gitlab = [("ci github-actions", "ci gitlab")];
    assert!(limits(&many_services(24, &gitlab)).1.is_empty());
    let (_, found) = limits(&many_services(25, &gitlab));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0.contains("need 51 jobs") && found[0].0.contains("allows 50"), "{found:?}");
    // A build reports it as W0104, a warning: the files are still written.
    let fs = many_services(25, &gitlab);
    let r = build_paths(&fs, &[PathBuf::from("/repo")], &[], Path::new("/repo"), &BuildOptions::default()).unwrap();
    let codes: Vec<&str> = r.diags.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["W0104"], "{codes:?}");
    assert!(r.output.is_some_and(|o| o.files.contains_key(".gitlab-ci.yml")));
}

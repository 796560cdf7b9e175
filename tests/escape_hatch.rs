//! Outputs in repositories (issue 7), with real git repositories in temporary directories:
//! lock file and `build --check` (stale, hand-edited), `eject`, `diff`, mtimes of a no-change
//! rebuild, and `publish` into a GitOps repository.
//!
//! `build`, `check`, `eject` and `diff` run the platc binary (their reports go to stderr);
//! `publish` runs in process through `platc::cli::publish`, so that it is always the code
//! under test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

const HAND_EDITED: &str = "deploy/hello/manifests/prod/service-hello.yaml";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The platc binary: `target/release/platc` or `target/debug/platc`, the newer when both exist.
fn binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace().join("target"));
    let target = if target.is_absolute() { target } else { workspace().join(target) };
    let name = format!("platc{}", std::env::consts::EXE_SUFFIX);
    let candidates: Vec<PathBuf> = ["release", "debug"].iter().map(|p| target.join(p).join(&name)).filter(|p| p.is_file()).collect();
    let newest = candidates.iter().max_by_key(|p| p.metadata().and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH)).cloned();
    newest.unwrap_or_else(|| panic!("no platc binary in {0}/release or {0}/debug: run `cargo build --release` (or `cargo build`) before these tests", target.display()))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the platc binary in `cwd`.
fn platc(cwd: &Path, args: &[&str]) -> Run {
    platc_env(cwd, args, &[])
}

fn platc_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let bin = binary();
    let out = Command::new(&bin).args(args).current_dir(cwd).envs(env.iter().copied()).env("NO_COLOR", "1").output().unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let run = Run { code: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() };
    assert!(!run.stderr.contains("unrecognized subcommand"), "{} is older than the sources (it does not know `{}`): rebuild it with `cargo build --release`", bin.display(), args[0]);
    run
}

/// Options of an in-process `platc publish`.
#[derive(Default)]
struct Publish<'a> {
    branch: Option<&'a str>,
    message: Option<&'a str>,
    env: Option<&'a str>,
    set: &'a [&'a str],
    remove: bool,
}

/// `platc publish SRC --repo REPO ...` in this process; returns the exit code.
fn publish(src: &Path, repo: &Path, o: Publish) -> i32 {
    let args = platc::cli::publish::Args {
        input: platc::cli::InputArgs { paths: vec![src.to_path_buf()], stdlib: Vec::new() },
        repo: repo.to_path_buf(),
        branch: o.branch.map(str::to_string),
        message: o.message.map(str::to_string),
        out: None,
        build: platc::cli::BuildArgs { env: o.env.map(str::to_string), set: o.set.iter().map(|x| x.to_string()).collect() },
        remove: o.remove,
        report: platc::cli::ReportArgs { format: platc_syntax::diagnostics::Format::Human, color: platc::cli::Color::Never },
    };
    platc::cli::publish::run(&args)
}

/// Runs git in `dir` (a test identity, no hooks from the environment) and returns stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?} in {} failed: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A copy of examples/hello at `dir` (platform.kdl and hello/service.kdl).
fn copy_hello(dir: &Path) {
    let from = workspace().join("examples/hello");
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(&from).unwrap();
        let to = dir.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A temporary directory with a copy of examples/hello in `src/`.
fn hello() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    copy_hello(&src);
    (tmp, src)
}

/// examples/hello in a git repository `src/` with one commit, and a GitOps repository
/// `gitops/` with a README commit.
fn repos() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, src) = hello();
    git(&src, &["init", "-q"]);
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-q", "-m", "hello service"]);
    let gitops = tmp.path().join("gitops");
    std::fs::create_dir_all(&gitops).unwrap();
    git(&gitops, &["init", "-q"]);
    std::fs::write(gitops.join("README.md"), "GitOps repository\n").unwrap();
    git(&gitops, &["add", "-A"]);
    git(&gitops, &["commit", "-q", "-m", "init"]);
    (tmp, src, gitops)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} does not contain {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Every file under `dir` with its bytes and mtime, `.git` excluded.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git")
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            (rel, (std::fs::read(e.path()).unwrap(), e.metadata().unwrap().modified().unwrap()))
        })
        .collect()
}

fn build(src: &Path) -> Run {
    let r = platc(src, &["build", "."]);
    assert_eq!(r.code, 0, "platc build failed:\n{}", r.stderr);
    r
}

fn commits(repo: &Path) -> usize {
    git(repo, &["rev-list", "--count", "HEAD"]).trim().parse().unwrap()
}

/// The trailers of HEAD's message.
fn trailers(repo: &Path) -> Vec<String> {
    git(repo, &["log", "-1", "--format=%(trailers:only,unfold)"]).lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

#[test]
fn a_clean_build_passes_the_check() {
    let (_tmp, src) = hello();
    let r = build(&src);
    assert!(r.stderr.contains("built 1 service"), "{}", r.stderr);
    assert!(src.join("deploy/platc.lock").is_file(), "the lock file is at the output root's deploy/");
    let r = platc(&src, &["build", ".", "--check"]);
    assert_eq!(r.code, 0, "check after a clean build:\n{}", r.stderr);
    assert!(r.stderr.contains("up to date"), "{}", r.stderr);
}

#[test]
fn a_spec_change_lists_stale_files_and_writes_nothing() {
    let (_tmp, src) = hello();
    build(&src);
    edit(&src.join("hello/service.kdl"), "Hello from", "Hi from");
    let before = snapshot(&src);
    let r = platc(&src, &["build", ".", "--check"]);
    assert_eq!(r.code, 1, "a stale output must fail the check:\n{}", r.stderr);
    for env in ["dev", "staging", "prod"] {
        let line = format!("stale: deploy/hello/manifests/{env}/configmap-hello-config.yaml");
        assert!(r.stderr.contains(&line), "missing `{line}` in:\n{}", r.stderr);
    }
    assert!(r.stderr.contains("stale: deploy/platc.lock"), "{}", r.stderr);
    assert!(!r.stderr.contains("hand-edited"), "nothing was edited by hand:\n{}", r.stderr);
    assert!(r.stderr.contains("run `platc build`"), "says what to do:\n{}", r.stderr);
    assert_eq!(before, snapshot(&src), "--check writes nothing");
    build(&src);
    assert_eq!(platc(&src, &["build", ".", "--check"]).code, 0);
}

#[test]
fn a_hand_edit_is_reported_with_a_diff() {
    let (_tmp, src) = hello();
    build(&src);
    edit(&src.join(HAND_EDITED), "appProtocol: http\n", "appProtocol: h2c\n");
    let r = platc(&src, &["build", ".", "--check"]);
    assert_eq!(r.code, 1, "a hand edit must fail the check:\n{}", r.stderr);
    assert!(r.stderr.contains(&format!("hand-edited: {HAND_EDITED}")), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("--- a/{HAND_EDITED}\n+++ b/{HAND_EDITED}\n")), "a unified diff:\n{}", r.stderr);
    assert!(r.stderr.contains("\n-    appProtocol: http\n+    appProtocol: h2c\n"), "the diff shows the edit:\n{}", r.stderr);
    assert!(!r.stderr.contains("stale:"), "{}", r.stderr);
    assert!(r.stderr.contains("platc eject") && r.stderr.contains("patch"), "says what to do:\n{}", r.stderr);
}

/// In the machine formats the check's findings are diagnostics on the generated files (E0806),
/// in the one report of the run: JSON lines, GitHub annotations on the file, one SARIF document.
#[test]
fn check_findings_are_diagnostics_in_every_machine_format() {
    let (_tmp, src) = hello();
    build(&src);
    edit(&src.join("hello/service.kdl"), "Hello from", "Hi from");
    edit(&src.join(HAND_EDITED), "appProtocol: http\n", "appProtocol: h2c\n");
    let stale = "deploy/hello/manifests/prod/configmap-hello-config.yaml";
    let before = snapshot(&src);

    let json = platc(&src, &["build", ".", "--check", "--format", "json"]);
    assert_eq!(json.code, 1, "{}", json.stderr);
    let reports: Vec<serde_json::Value> = json.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let find = |file: &str| reports.iter().find(|r| r["file"] == file).unwrap_or_else(|| panic!("no report on {file}:\n{}", json.stdout));
    assert_eq!((find(stale)["code"].as_str(), find(stale)["line"].as_u64()), (Some("E0806"), Some(1)));
    assert!(find(stale)["message"].as_str().unwrap().starts_with(&format!("{stale} is stale")), "{}", find(stale));
    let edited = find(HAND_EDITED);
    assert!(edited["message"].as_str().unwrap().contains("\n-    appProtocol: http\n+    appProtocol: h2c\n"), "the diff is in the message: {edited}");
    assert!(edited["help"].as_str().unwrap().contains("platc eject"), "{edited}");

    let github = platc(&src, &["build", ".", "--check", "--format", "github"]);
    assert_eq!(github.code, 1, "{}", github.stderr);
    assert!(github.stdout.lines().any(|l| l.starts_with(&format!("::error file={stale},line=1,col=1,")) && l.contains("title=E0806::")), "{}", github.stdout);

    let sarif = platc(&src, &["build", ".", "--check", "--format", "sarif"]);
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);
    let doc: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("one SARIF document");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert!(results.iter().filter(|r| r["ruleId"] == "E0806").count() >= 4, "3 stale configmaps, the lock and the edited file:\n{}", sarif.stdout);
    assert_eq!(before, snapshot(&src), "--check writes nothing");
}

/// A build that would lose a hand edit says so as E0804 on the file in the machine formats.
#[test]
fn a_refused_build_reports_e0804_on_the_file_in_json() {
    let (_tmp, src) = hello();
    build(&src);
    edit(&src.join(HAND_EDITED), "appProtocol: http\n", "appProtocol: h2c\n");
    edit(&src.join("hello/service.kdl"), "Hello from", "Hi from");
    let before = snapshot(&src);
    let r = platc(&src, &["build", ".", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let reports: Vec<serde_json::Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(reports.iter().any(|d| d["code"] == "E0804" && d["file"] == HAND_EDITED), "{}", r.stdout);
    assert_eq!(before, snapshot(&src), "a refused build writes nothing");
}

#[test]
fn an_ejected_file_is_left_alone_by_later_builds() {
    let (_tmp, src) = hello();
    build(&src);
    edit(&src.join(HAND_EDITED), "appProtocol: http\n", "appProtocol: h2c\n");
    let r = platc(&src, &["eject", "hello", "--file", HAND_EDITED]);
    assert_eq!(r.code, 0, "eject:\n{}", r.stderr);
    let mine = std::fs::read_to_string(src.join(HAND_EDITED)).unwrap();
    assert!(!mine.contains("Generated by platc"), "the header is removed:\n{mine}");
    assert!(mine.contains("appProtocol: h2c"), "the edit is kept:\n{mine}");
    let lock = std::fs::read_to_string(src.join("deploy/platc.lock")).unwrap();
    assert!(lock.contains(&format!("\nejected {HAND_EDITED}\n")), "{lock}");
    assert!(!lock.lines().any(|l| l.starts_with("output ") && l.ends_with(HAND_EDITED)), "no longer an output:\n{lock}");

    // The next build, after a spec change touching that file's environment, leaves it alone.
    let mtime = std::fs::metadata(src.join(HAND_EDITED)).unwrap().modified().unwrap();
    edit(&src.join("hello/service.kdl"), "min=2 max=6", "min=3 max=6");
    let r = build(&src);
    assert!(r.stderr.contains(&format!("{HAND_EDITED} is ejected")), "the build says so:\n{}", r.stderr);
    assert_eq!(std::fs::read_to_string(src.join(HAND_EDITED)).unwrap(), mine, "the build left the ejected file alone");
    assert_eq!(std::fs::metadata(src.join(HAND_EDITED)).unwrap().modified().unwrap(), mtime, "not even rewritten");
    let r = platc(&src, &["build", ".", "--check"]);
    assert_eq!(r.code, 0, "--check no longer judges the ejected file:\n{}", r.stderr);
}

#[test]
fn a_no_change_rebuild_keeps_every_mtime() {
    let (_tmp, src) = hello();
    build(&src);
    let before = snapshot(&src);
    std::thread::sleep(std::time::Duration::from_millis(50));
    let r = build(&src);
    assert!(r.stderr.contains("up to date"), "the lock says nothing changed, so nothing is emitted:\n{}", r.stderr);
    assert_eq!(before, snapshot(&src), "a no-change rebuild must keep every file and mtime");
    // --force always builds; with nothing changed it still writes nothing.
    let r = platc(&src, &["build", ".", "--force"]);
    assert!(r.stderr.contains(" 0 files written"), "{}", r.stderr);
    assert_eq!(before, snapshot(&src));
}

/// The up-to-date shortcut trusts the lock only as far as it goes: a deleted output, another
/// `--set`, a spec change or a stdlib overlay all make the build run again.
#[test]
fn the_up_to_date_shortcut_rebuilds_when_anything_it_depends_on_changes() {
    let (_tmp, src) = hello();
    build(&src);
    let victim = src.join(HAND_EDITED);
    std::fs::remove_file(&victim).unwrap();
    let r = build(&src);
    assert!(r.stderr.contains("1 file written"), "a deleted output is restored:\n{}", r.stderr);
    assert!(victim.is_file());

    let r = platc(&src, &["build", ".", "--set", "image-tag=0123abcd"]);
    assert!(!r.stderr.contains("up to date") && r.code == 0, "other options build again:\n{}", r.stderr);
    let r = build(&src);
    assert!(!r.stderr.contains("up to date"), "and back again:\n{}", r.stderr);

    edit(&src.join("hello/service.kdl"), "Hello from", "Hi from");
    let r = build(&src);
    assert!(!r.stderr.contains("up to date") && r.code == 0, "a spec change builds:\n{}", r.stderr);
    assert!(build(&src).stderr.contains("up to date"));

    let overlay = src.join("stdlib-overlay/scaffolds");
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(overlay.join("NOTES.txt"), "an added file\n").unwrap();
    let r = platc(&src, &["build", ".", "--stdlib", "stdlib-overlay"]);
    assert!(!r.stderr.contains("up to date") && r.code == 0, "a stdlib overlay builds:\n{}", r.stderr);
}

#[test]
fn diff_shows_what_a_build_would_change() {
    let (_tmp, src) = hello();
    build(&src);
    edit(&src.join("hello/service.kdl"), "Hello from", "Hi from");
    let before = snapshot(&src);
    let r = platc(&src, &["diff", "."]);
    assert_eq!(r.code, 1, "changes exit 1, as `git diff --exit-code`:\n{}", r.stderr);
    let file = "deploy/hello/manifests/prod/configmap-hello-config.yaml";
    assert!(r.stdout.contains(&format!("--- a/{file}\n+++ b/{file}\n")), "{}", r.stdout);
    assert!(r.stdout.contains("\n-  GREETING: Hello from prod\n+  GREETING: Hi from prod\n"), "{}", r.stdout);
    assert_eq!(before, snapshot(&src), "diff writes nothing");
    build(&src);
    let r = platc(&src, &["diff", "."]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "nothing would change:\n{}", r.stderr);
}

/// Issue 7: "platc must never silently lose a person's edit". A plain `platc build` after a
/// hand edit replaces the edited file and says nothing about it.
#[test]
fn a_build_does_not_silently_drop_a_hand_edit() {
    let (_tmp, src) = hello();
    build(&src);
    edit(&src.join(HAND_EDITED), "appProtocol: http\n", "appProtocol: h2c\n");
    let r = platc(&src, &["build", "."]);
    let kept = std::fs::read_to_string(src.join(HAND_EDITED)).unwrap().contains("appProtocol: h2c");
    assert!(r.code != 0 || kept || r.stderr.contains(HAND_EDITED), "`platc build` replaced the hand-edited {HAND_EDITED} without a word (exit {}):\n{}", r.code, r.stderr);
}

#[test]
fn publish_twice_without_change_makes_one_commit() {
    let (_tmp, src, gitops) = repos();
    assert_eq!(publish(&src, &gitops, Publish::default()), 0);
    assert_eq!(commits(&gitops), 2, "one publish commit after the initial one");
    assert!(gitops.join("deploy/hello/manifests/prod/deployment-hello.yaml").is_file(), "written under gitops.path=deploy");
    assert!(gitops.join("deploy/platc.lock").is_file());
    assert!(git(&gitops, &["status", "--porcelain"]).is_empty(), "everything committed");
    let sha = git(&src, &["rev-parse", "HEAD"]).trim().to_string();
    let time = git(&src, &["show", "-s", "--format=%cI", "HEAD"]).trim().to_string();
    assert_eq!(
        trailers(&gitops),
        [
            format!("Platc-Source-Commit: {sha}"),
            format!("Platc-Source-Time: {time}"),
            format!("Platc-Version: {}", env!("CARGO_PKG_VERSION")),
            "Platc-Deploy: hello/dev".into(),
            "Platc-Deploy: hello/prod".into(),
            "Platc-Deploy: hello/staging".into(),
            // prod is protected: when the spec was added, for time to first deploy.
            format!("Platc-First-Commit: hello {time}"),
        ]
    );
    let subject = git(&gitops, &["log", "-1", "--format=%s"]);
    assert!(subject.contains(&sha[..7]), "the default message names the source commit: {subject}");

    let before = snapshot(&gitops);
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(publish(&src, &gitops, Publish::default()), 0);
    assert_eq!(commits(&gitops), 2, "no commit when nothing changed");
    assert_eq!(before, snapshot(&gitops), "and no file rewritten");
}

#[test]
fn publish_names_only_what_changed_and_the_new_source() {
    let (_tmp, src, gitops) = repos();
    assert_eq!(publish(&src, &gitops, Publish::default()), 0);
    edit(&src.join("hello/service.kdl"), "min=2 max=6", "min=3 max=6");
    git(&src, &["commit", "-q", "-am", "more replicas in prod"]);
    let sha = git(&src, &["rev-parse", "HEAD"]).trim().to_string();
    assert_eq!(publish(&src, &gitops, Publish { message: Some("Scale hello in prod"), ..Default::default() }), 0);
    assert_eq!(commits(&gitops), 3);
    let message = git(&gitops, &["log", "-1", "--format=%B"]);
    assert!(message.starts_with("Scale hello in prod\n\n"), "{message}");
    let t = trailers(&gitops);
    assert!(t.contains(&format!("Platc-Source-Commit: {sha}")), "{t:?}");
    assert_eq!(t.iter().filter(|l| l.starts_with("Platc-Deploy:")).collect::<Vec<_>>(), ["Platc-Deploy: hello/prod"], "only prod changed");
}

#[test]
fn publish_refuses_a_dirty_target_and_writes_nothing() {
    let (_tmp, src, gitops) = repos();
    let head = git(&gitops, &["rev-parse", "HEAD"]);
    // An untracked file, then a modified tracked file.
    std::fs::write(gitops.join("notes.txt"), "work in progress\n").unwrap();
    let before = snapshot(&gitops);
    assert_eq!(publish(&src, &gitops, Publish::default()), 2);
    assert_eq!(before, snapshot(&gitops), "nothing written");
    assert!(!gitops.join("deploy").exists());
    std::fs::remove_file(gitops.join("notes.txt")).unwrap();
    std::fs::write(gitops.join("README.md"), "changed\n").unwrap();
    let before = snapshot(&gitops);
    assert_eq!(publish(&src, &gitops, Publish { branch: Some("elsewhere"), ..Default::default() }), 2);
    assert_eq!(before, snapshot(&gitops), "nothing written");
    assert_eq!(git(&gitops, &["rev-parse", "HEAD"]), head, "no commit");
    assert_eq!(git(&gitops, &["branch", "--show-current"]).trim(), "main", "no branch switch");
    assert!(git(&gitops, &["branch", "--list", "elsewhere"]).is_empty(), "no branch created");
}

#[test]
fn publish_refuses_a_target_that_is_not_a_git_repository() {
    let (tmp, src) = hello();
    let plain = tmp.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    assert_eq!(publish(&src, &plain, Publish::default()), 2);
    assert_eq!(std::fs::read_dir(&plain).unwrap().count(), 0, "nothing written");
    assert_eq!(publish(&src, &tmp.path().join("missing"), Publish::default()), 2);
}

#[test]
fn publish_refuses_to_replace_a_directory_that_platc_did_not_write() {
    let (_tmp, src, gitops) = repos();
    std::fs::create_dir_all(gitops.join("deploy")).unwrap();
    std::fs::write(gitops.join("deploy/handwritten.yaml"), "kind: ConfigMap\n").unwrap();
    git(&gitops, &["add", "-A"]);
    git(&gitops, &["commit", "-q", "-m", "hand-written manifests"]);
    let before = snapshot(&gitops);
    assert_eq!(publish(&src, &gitops, Publish::default()), 2);
    assert_eq!(before, snapshot(&gitops), "nothing written");
    assert_eq!(commits(&gitops), 2);
}

#[test]
fn publish_to_a_new_branch_for_one_environment_keeps_the_others() {
    let (_tmp, src, gitops) = repos();
    assert_eq!(publish(&src, &gitops, Publish::default()), 0);
    let prod = std::fs::read(gitops.join("deploy/hello/manifests/prod/configmap-hello-config.yaml")).unwrap();
    edit(&src.join("hello/service.kdl"), "Hello from", "Hi from");
    git(&src, &["commit", "-q", "-am", "new greeting"]);
    assert_eq!(publish(&src, &gitops, Publish { branch: Some("staging-rollout"), env: Some("staging"), ..Default::default() }), 0);
    assert_eq!(git(&gitops, &["branch", "--show-current"]).trim(), "staging-rollout");
    assert_eq!(git(&gitops, &["rev-list", "--count", "main"]).trim(), "2", "main is untouched");
    assert_eq!(commits(&gitops), 3);
    let t = trailers(&gitops);
    assert_eq!(t.iter().filter(|l| l.starts_with("Platc-Deploy:")).collect::<Vec<_>>(), ["Platc-Deploy: hello/staging"]);
    let staging = std::fs::read_to_string(gitops.join("deploy/hello/manifests/staging/configmap-hello-config.yaml")).unwrap();
    assert!(staging.contains("Hi from staging"), "{staging}");
    assert_eq!(std::fs::read(gitops.join("deploy/hello/manifests/prod/configmap-hello-config.yaml")).unwrap(), prod, "prod kept as published");
    assert!(gitops.join("deploy/gitops/dev/root.yaml").is_file(), "dev's wiring kept");
}

#[test]
fn publish_sends_ejected_files_as_the_user_has_them() {
    let (_tmp, src, gitops) = repos();
    build(&src);
    edit(&src.join(HAND_EDITED), "appProtocol: http\n", "appProtocol: h2c\n");
    assert_eq!(platc(&src, &["eject", "hello", "--file", HAND_EDITED]).code, 0);
    let mine = std::fs::read(src.join(HAND_EDITED)).unwrap();
    assert_eq!(publish(&src, &gitops, Publish::default()), 0);
    // gitops.path is `deploy`: the repository path is the output path.
    assert_eq!(std::fs::read(gitops.join(HAND_EDITED)).unwrap(), mine);
    let lock = std::fs::read_to_string(gitops.join("deploy/platc.lock")).unwrap();
    assert!(lock.contains(&format!("ejected {HAND_EDITED}")), "{lock}");
}

#[test]
fn publish_from_outside_git_and_without_an_identity() {
    let (tmp, _src) = hello();
    let gitops = tmp.path().join("gitops");
    std::fs::create_dir_all(&gitops).unwrap();
    git(&gitops, &["init", "-q"]);
    // A repository without commits, and no user.name / user.email anywhere: platc's fallback.
    let isolated = [("GIT_CONFIG_GLOBAL", "/dev/null"), ("GIT_CONFIG_NOSYSTEM", "1")];
    let r = platc_env(tmp.path(), &["publish", "src", "--repo", "gitops"], &isolated);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("warning: the source src is not in a git repository"), "{}", r.stderr);
    assert_eq!(git(&gitops, &["log", "-1", "--format=%an <%ae>"]).trim(), "platc <platc@localhost>");
    let t = trailers(&gitops);
    assert_eq!(&t[..2], ["Platc-Source-Commit: unknown", "Platc-Source-Time: unknown"]);
}

/// Issue 7: "an expert must always be able to take a file over". The GitOps wiring of a
/// service (its Argo CD Application) cannot be ejected: `eject` says it does not belong to the
/// service, and no `--backend` covers `deploy/gitops/`.
#[test]
fn the_gitops_wiring_of_a_service_can_be_ejected() {
    let (_tmp, src) = hello();
    build(&src);
    let r = platc(&src, &["eject", "hello", "--file", "deploy/gitops/prod/apps/hello.yaml"]);
    assert_eq!(r.code, 0, "cannot take over hello's Application in prod:\n{}", r.stderr);
}

/// `eject --file` with a path through `..` (from a subdirectory) is not normalised before it
/// is looked up in the lock file.
#[test]
fn eject_accepts_a_relative_path_from_a_subdirectory() {
    let (_tmp, src) = hello();
    build(&src);
    let r = platc(&src.join("hello"), &["eject", "hello", "--file", "../deploy/hello/chart/values-prod.yaml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// Two previews published side by side must not deploy each other's objects. Today every
/// preview instance's Application points at the same `SERVICE/manifests/preview/` directory,
/// whose objects name one branch's namespace: the last preview published wins for all.
#[test]
fn two_previews_published_side_by_side_keep_their_own_manifests() {
    let (_tmp, src, gitops) = repos();
    for branch in ["feat-a", "feat-b"] {
        let set = [format!("branch={branch}")];
        let set: Vec<&str> = set.iter().map(String::as_str).collect();
        assert_eq!(publish(&src, &gitops, Publish { env: Some("preview"), set: &set, ..Default::default() }), 0);
    }
    let app = std::fs::read_to_string(gitops.join("deploy/gitops/preview-feat-a/apps/hello.yaml")).expect("preview-feat-a is kept");
    let path = app.lines().find_map(|l| l.trim().strip_prefix("path: ")).expect("the Application has a source path").to_string();
    let deployment = std::fs::read_to_string(gitops.join(&path).join("deployment-hello.yaml")).unwrap();
    assert!(
        deployment.contains("namespace: acme-preview-feat-a"),
        "preview-feat-a's Application deploys {path}, which now holds another preview's objects:\n{}",
        deployment.lines().filter(|l| l.contains("namespace:") || l.contains("preview-branch")).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn publish_warns_before_replacing_an_edit_made_in_the_gitops_repository() {
    let (tmp, src, gitops) = repos();
    assert_eq!(publish(&src, &gitops, Publish::default()), 0);
    // Someone fixes prod directly in the GitOps repository...
    edit(&gitops.join(HAND_EDITED), "appProtocol: http\n", "appProtocol: h2c\n");
    git(&gitops, &["commit", "-q", "-am", "hotfix: h2c"]);
    // ... and the next publish of a spec change rebuilds that file.
    edit(&src.join("hello/service.kdl"), "Hello from", "Hi from");
    git(&src, &["commit", "-q", "-am", "new greeting"]);
    let r = platc(tmp.path(), &["publish", "src", "--repo", "gitops"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("warning: gitops/{HAND_EDITED} was edited in the GitOps repository")), "{}", r.stderr);
    assert!(!std::fs::read_to_string(gitops.join(HAND_EDITED)).unwrap().contains("h2c"), "the build replaced the edit");
    assert!(git(&gitops, &["log", "--format=%s"]).contains("hotfix: h2c"), "which stays in the history");
}

/// A publish that deploys a service to a protected environment records when its spec was first
/// committed, and `platc dora` measures time to first deploy from it.
#[test]
fn the_first_production_publish_records_the_specs_first_commit() {
    let (_tmp, src, gitops) = repos();
    assert_eq!(publish(&src, &gitops, Publish::default()), 0);
    let added = git(&src, &["log", "-1", "--format=%cI"]);
    let t = trailers(&gitops);
    assert!(t.contains(&format!("Platc-First-Commit: hello {}", added.trim())), "{t:?}");
    let commits = platc_history::dora::read(&platc_history::git::Git::new(&gitops)).unwrap();
    let report = platc_history::dora::compute(&commits, None);
    let first: Vec<_> = report.first_deploys.iter().map(|f| (f.service.as_str(), f.seconds().is_some())).collect();
    assert_eq!(first, [("hello", true)], "{report:?}");
    // A dev-only publish deploys nothing protected: no trailer.
    edit(&src.join("hello/service.kdl"), "Hello from", "Hi from");
    git(&src, &["commit", "-qam", "greeting"]);
    assert_eq!(publish(&src, &gitops, Publish { env: Some("dev"), ..Default::default() }), 0);
    assert!(!trailers(&gitops).iter().any(|l| l.starts_with("Platc-First-Commit")), "{:?}", trailers(&gitops));
}

/// The preview teardown of the generated pipelines: `publish --remove` deletes exactly the
/// files of that branch's preview and keeps the other preview.
#[test]
fn removing_a_preview_deletes_only_its_files() {
    let (_tmp, src, gitops) = repos();
    for branch in ["feat-a", "feat-b"] {
        let set = [format!("branch={branch}")];
        let set: Vec<&str> = set.iter().map(String::as_str).collect();
        assert_eq!(publish(&src, &gitops, Publish { env: Some("preview"), set: &set, ..Default::default() }), 0);
    }
    let before = commits(&gitops);
    assert_eq!(publish(&src, &gitops, Publish { env: Some("preview"), set: &["branch=feat-a"], remove: true, ..Default::default() }), 0);
    assert_eq!(commits(&gitops), before + 1, "the removal is one commit");
    assert!(!gitops.join("deploy/gitops/preview-feat-a").exists(), "feat-a's wiring is gone");
    assert!(!gitops.join("deploy/hello/manifests/preview-feat-a").exists(), "feat-a's manifests are gone");
    assert!(gitops.join("deploy/gitops/preview-feat-b/apps/hello.yaml").is_file(), "feat-b stays");
    assert!(gitops.join("deploy/hello/manifests/preview-feat-b").is_dir(), "feat-b's manifests stay");
    assert!(gitops.join("deploy/hello/chart/Chart.yaml").is_file(), "shared chart files stay");
    // A teardown is titled and trailed as one, never as a deployment (platc dora counts
    // Platc-Deploy only); the previews were published as previews, each by its instance.
    let subject = git(&gitops, &["log", "-1", "--format=%s"]);
    assert_eq!(subject.trim(), "platc: tear down hello/preview-feat-a", "{subject}");
    let last = git(&gitops, &["log", "-1", "--format=%(trailers:only,unfold)"]);
    assert!(last.contains("Platc-Remove: hello/preview-feat-a") && !last.contains("Platc-Deploy"), "{last}");
    let previous = git(&gitops, &["log", "-1", "--skip=1", "--format=%(trailers:only,unfold)"]);
    assert!(previous.contains("Platc-Preview: hello/preview-feat-b") && !previous.contains("Platc-Deploy"), "{previous}");
    let commits = platc_history::dora::read(&platc_history::git::Git::new(&gitops)).unwrap();
    let report = platc_history::dora::compute(&commits, None);
    assert!(report.rows.is_empty(), "no environment was deployed: {report:?}");
    let previews: Vec<_> = report.previews.iter().map(|p| (p.unit.environment.as_str(), p.closed.is_some())).collect();
    assert_eq!(previews, [("preview-feat-a", true), ("preview-feat-b", false)]);
}

/// The same sequence with Flux: dev, two previews, the teardown of one. Each instance's
/// Namespace is published with its wiring and goes with a preview's teardown alone.
#[test]
fn with_flux_a_preview_teardown_removes_its_namespace_only() {
    let (_tmp, src, gitops) = repos();
    edit(&src.join("platform.kdl"), "gitops argocd", "gitops flux");
    git(&src, &["commit", "-qam", "flux"]);
    assert_eq!(publish(&src, &gitops, Publish { env: Some("dev"), ..Default::default() }), 0);
    for branch in ["feat-a", "feat-b"] {
        let set = [format!("branch={branch}")];
        let set: Vec<&str> = set.iter().map(String::as_str).collect();
        assert_eq!(publish(&src, &gitops, Publish { env: Some("preview"), set: &set, ..Default::default() }), 0);
    }
    let namespace = |instance: &str| gitops.join(format!("deploy/gitops/{instance}/namespace.yaml"));
    for instance in ["dev", "preview-feat-a", "preview-feat-b"] {
        let text = std::fs::read_to_string(namespace(instance)).unwrap_or_else(|e| panic!("{instance}: {e}"));
        assert!(text.contains(&format!("name: acme-{instance}\n")), "{instance}: {text}");
    }
    assert_eq!(publish(&src, &gitops, Publish { env: Some("preview"), set: &["branch=feat-a"], remove: true, ..Default::default() }), 0);
    assert!(!gitops.join("deploy/gitops/preview-feat-a").exists(), "feat-a's wiring, its namespace included, is gone");
    assert!(namespace("preview-feat-b").is_file() && namespace("dev").is_file(), "the others' namespaces stay");
    let last = git(&gitops, &["log", "-1", "--format=%(trailers:only,unfold)"]);
    assert!(last.contains("Platc-Remove: hello/preview-feat-a") && !last.contains("Platc-Deploy"), "{last}");
}

/// values.yaml is the base environment's whatever `--env` builds, and a build refused for a
/// hand edit leaves neither a changed tree nor a staging directory behind.
#[test]
fn a_partial_build_keeps_values_yaml_and_a_refused_build_leaves_nothing_behind() {
    let (_tmp, src) = hello();
    build(&src);
    let values = src.join("deploy/hello/chart/values.yaml");
    let before = std::fs::read(&values).unwrap();
    let r = platc(&src, &["build", ".", "--env", "prod"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(&values).unwrap(), before, "values.yaml must not depend on --env");

    edit(&src.join(HAND_EDITED), "appProtocol: http\n", "appProtocol: h2c\n");
    edit(&src.join("hello/service.kdl"), "Hello from", "Hi from");
    let tree = snapshot(&src);
    let r = platc(&src, &["build", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(tree, snapshot(&src), "a refused build writes nothing");
    let leftovers: Vec<_> = std::fs::read_dir(&src).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.contains("platc-new") || n.contains("platc-old")).collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}

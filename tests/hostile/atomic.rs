//! Killed and concurrent builds: every output of a build (the `deploy/` tree, the CI workflow,
//! the lock) commits as one unit. A build killed after any phase of its commit
//! (`PLATC_FAULT_KILL=PHASE` aborts the process there, as kill -9 would) is finished or undone
//! by the next run, which then reports the truth; two builds into one root never mix.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::sandbox::{binary, Sandbox};

/// The phases of a commit, in order (compiler/platc-write/src/fault.rs).
const PHASES: &[&str] = &["after-stage", "after-journal", "after-deploy-aside", "after-deploy-swap", "after-outside", "after-lock", "before-journal-remove"];

/// A second service: changes `deploy/` and the CI workflow alike.
fn add_second_service(sb: &Sandbox) {
    let hello = sb.read("hello/service.kdl");
    sb.write("greeter/service.kdl", hello.replace("service hello", "service greeter").replace("acme/hello", "acme/greeter"));
}

/// The outputs of a clean build of the two-service tree, in a sandbox of its own.
fn clean_outputs() -> BTreeMap<String, String> {
    let sb = Sandbox::new("hello");
    add_second_service(&sb);
    sb.build_ok();
    sb.outputs()
}

/// A sandbox built once with one service, then given the second: the next build changes the
/// deploy tree, the workflow and the lock. Returns it with its surroundings.
fn built_then_changed() -> (Sandbox, BTreeMap<String, String>) {
    let sb = Sandbox::new("hello");
    sb.build_ok();
    add_second_service(&sb);
    let surroundings = sb.surroundings();
    (sb, surroundings)
}

/// Runs a build killed at `phase`, asserting that it died (not exited) there.
fn killed_build(sb: &Sandbox, phase: &str) -> BTreeMap<String, String> {
    let before = sb.outputs();
    let run = sb.platc_env(&["build"], &[("PLATC_FAULT_KILL", phase)]);
    assert_eq!(run.code, -1, "PLATC_FAULT_KILL={phase}: the build was not killed:\n{}", run.all());
    if phase == "after-stage" {
        assert_eq!(sb.outputs(), before, "killed before the journal: the previous output changed");
    }
    before
}

/// Kill after each phase, then a plain rebuild: it finishes (or, before the journal, discards)
/// the killed commit, says so, and the tree equals a clean build's byte for byte; `--check`
/// agrees; nothing outside the output root changed, no staging folder is left.
#[test]
fn a_build_killed_after_any_phase_is_finished_by_the_next_build() {
    let clean = clean_outputs();
    for phase in PHASES {
        let (sb, surroundings) = built_then_changed();
        let previous = killed_build(&sb, phase);
        assert_ne!(previous, clean, "the change alters the outputs");
        let rebuild = sb.platc(&["build"]);
        rebuild.assert_ok();
        let said = if *phase == "after-stage" { "note: removed .deploy.platc-new-" } else { "note: finishing the commit of a platc run that was killed" };
        assert!(rebuild.stderr.contains(said), "{phase}: the rebuild did not say what it recovered:\n{}", rebuild.stderr);
        assert_eq!(sb.outputs(), clean, "{phase}: the recovered tree differs from a clean build's");
        sb.platc(&["build", "--check"]).assert_ok();
        assert_eq!(sb.surroundings(), surroundings, "{phase}: something outside the outputs changed (a staging folder or journal left?)");
    }
}

/// Kill after each phase, then `build --check` first: it finishes the commit (or reports the
/// stale staging) and exits 1, because what was on disk was not a build's output; the build
/// after it leaves a clean tree and `--check` then exits 0.
#[test]
fn check_after_a_killed_build_reports_it_and_the_rebuild_repairs_it() {
    let clean = clean_outputs();
    for phase in PHASES {
        let (sb, surroundings) = built_then_changed();
        let previous = killed_build(&sb, phase);
        let check = sb.platc(&["build", "--check"]);
        let expected = if *phase == "after-stage" { "stale: .deploy.platc-new-" } else { "left half-committed by a killed platc run" };
        check.assert_refused(expected);
        assert_eq!(check.code, 1, "{phase}: --check after a kill:\n{}", check.all());
        // Killed before the journal: the old outputs, whole. After it: --check finished the
        // commit, so the new ones, whole, and the build has nothing left to do.
        let committed = *phase != "after-stage";
        assert_eq!(sb.outputs(), if committed { clean.clone() } else { previous }, "{phase}: --check left a mixed tree");
        let build = sb.platc(&["build"]);
        build.assert_ok();
        assert_eq!(build.stderr.contains("up to date:"), committed, "{phase}: {}", build.stderr);
        assert_eq!(sb.outputs(), clean, "{phase}: the tree after --check and a build differs from a clean build's");
        sb.platc(&["build", "--check"]).assert_ok();
        assert_eq!(sb.surroundings(), surroundings, "{phase}: something outside the outputs changed");
    }
}

/// `diff` after a killed build finishes the commit first: it shows nothing to change, then.
#[test]
fn diff_after_a_killed_build_diffs_a_whole_tree() {
    let (sb, surroundings) = built_then_changed();
    killed_build(&sb, "after-deploy-swap");
    let diff = sb.platc(&["diff"]);
    diff.assert_ok();
    assert!(diff.stderr.contains("finishing the commit"), "{}", diff.stderr);
    assert!(diff.stderr.contains("0 files would change"), "{}", diff.stderr);
    assert_eq!(sb.outputs(), clean_outputs());
    assert_eq!(sb.surroundings(), surroundings);
}

/// Staging folders left by builds of older platc versions (no journal) are removed by the next
/// build, which says how big they were, and reported by `--check` (exit 1).
#[test]
fn stale_staging_folders_are_reported_by_check_and_removed_by_build() {
    let sb = Sandbox::new("hello");
    sb.build_ok();
    let before = sb.surroundings();
    let outputs = sb.outputs();
    sb.write(".deploy.platc-new-999999/hello/chart/values.yaml", vec![b'x'; 5000]);
    sb.write(".deploy.platc-old-999998/platc.lock", "old");
    sb.write(".github/workflows/.platc.yml.platc-tmp-999997", "half a workflow");
    let check = sb.platc(&["build", "--check"]);
    check.assert_refused("stale: .deploy.platc-new-999999 (5.0 KB)");
    assert!(check.stderr.contains("stale: .deploy.platc-old-999998"), "{}", check.stderr);
    assert!(check.stderr.contains(".platc.yml.platc-tmp-999997"), "{}", check.stderr);
    assert!(sb.repo().join(".deploy.platc-new-999999").exists(), "--check removed something");
    let build = sb.platc(&["build"]);
    build.assert_ok();
    assert!(build.stderr.contains("note: removed .deploy.platc-new-999999 (5.0 KB), left by a killed platc run"), "{}", build.stderr);
    assert!(!sb.repo().join(".github/workflows/.platc.yml.platc-tmp-999997").exists());
    assert_eq!(sb.surroundings(), before, "a staging folder was left");
    assert_eq!(sb.outputs(), outputs);
    sb.platc(&["build", "--check"]).assert_ok();
}

/// A journal in the repository is untrusted input: one naming a file outside the output root
/// (or any path platc never commits) is refused with exit 2, and nothing is touched.
#[test]
fn a_hostile_journal_is_refused_and_nothing_is_touched() {
    let victim = "../outside/victim.txt";
    for (target, op) in [(victim, "remove"), (".git/hooks/pre-commit", "replace"), ("platform.kdl", "remove")] {
        let sb = Sandbox::new("hello");
        sb.build_ok();
        let hash = platc_write::hash(b"a file outside the output root\n");
        let step = if op == "remove" {
            format!(r#"{{"op":"remove","target":"{target}","hash":"{hash}"}}"#)
        } else {
            sb.write(".deploy.platc-files-1/1", "#!/bin/sh\necho pwned\n");
            format!(r#"{{"op":"replace","staged":".deploy.platc-files-1/1","target":"{target}","previous":null,"new":"sha256:x"}}"#)
        };
        sb.write(".deploy.platc-journal", format!(r#"{{"format":1,"pid":1,"trees":[],"files":[{step}],"last":[],"cleanup":[]}}"#));
        let outputs = sb.outputs();
        let before = sb.surroundings();
        for args in [&["build"][..], &["build", "--check"], &["diff"]] {
            let run = sb.platc(args);
            run.assert_refused("is not a journal of an interrupted platc commit");
            assert_eq!(run.code, 2, "{args:?}: {}", run.all());
        }
        assert_eq!(sb.surroundings(), before, "{target}: a hostile journal changed something");
        assert_eq!(sb.outputs(), outputs);
        assert!(sb.outside().join("victim.txt").is_file());
    }
}

/// A journal whose staged item is a symlink is refused: a rename never moves a link into place.
#[cfg(unix)]
#[test]
fn a_journal_through_a_symlink_is_refused() {
    let sb = Sandbox::new("hello");
    sb.build_ok();
    std::os::unix::fs::symlink(sb.outside().join("target-dir"), sb.repo().join(".deploy.platc-new-1")).unwrap();
    sb.write(".deploy.platc-journal", r#"{"format":1,"pid":1,"trees":[{"staged":".deploy.platc-new-1","target":"deploy","backup":".deploy.platc-old-1"}],"files":[],"last":[],"cleanup":[]}"#);
    let outputs = sb.outputs();
    let before = sb.surroundings();
    sb.platc(&["build"]).assert_refused("goes through a symlink");
    assert_eq!(sb.surroundings(), before);
    assert_eq!(sb.outputs(), outputs);
}

/// Holds the lock on the sandbox's output root from this process, as a running build would.
#[cfg(unix)]
fn hold_lock(sb: &Sandbox) -> std::fs::File {
    let f = std::fs::File::open(sb.repo()).unwrap();
    fs4::FileExt::lock(&f).unwrap();
    f
}

/// A second build while the output root is locked waits a bounded time, then exits 2 naming the
/// holder, having changed nothing; with time to wait, it waits, says so, and succeeds.
#[cfg(unix)]
#[test]
fn a_second_build_waits_for_the_lock_or_exits_2_naming_the_holder() {
    let (sb, surroundings) = built_then_changed();
    let outputs = sb.outputs();
    let held = hold_lock(&sb);
    for args in [&["build"][..], &["build", "--check"], &["diff"], &["eject", "hello", "--backend", "ci"]] {
        let run = sb.platc_env(args, &[("PLATC_LOCK_TIMEOUT", "0")]);
        run.assert_refused("is in use by process");
        assert_eq!(run.code, 2, "{args:?}: {}", run.all());
        #[cfg(target_os = "linux")]
        assert!(run.stderr.contains(&format!("process {}", std::process::id())), "the holder is not named:\n{}", run.stderr);
    }
    assert_eq!(sb.outputs(), outputs, "a refused build changed the outputs");
    let child = Command::new(binary()).arg("build").current_dir(sb.repo()).env("PLATC_LOCK_TIMEOUT", "30").stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(sb.outputs(), outputs, "the build did not wait for the lock");
    drop(held);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("waiting for process"), "{stderr}");
    assert_eq!(sb.outputs(), clean_outputs());
    assert_eq!(sb.surroundings(), surroundings);
}

/// Two builds with different options started together, many times: each waits for the other
/// (or exits 2), and the tree is always exactly one of the two clean builds, never a mix.
#[test]
fn concurrent_builds_never_leave_a_mixed_tree() {
    let tags = ["aaaaaaa", "bbbbbbb"];
    let clean: Vec<BTreeMap<String, String>> = tags
        .iter()
        .map(|t| {
            let sb = Sandbox::new("hello");
            sb.platc(&["build", "--set", &format!("image-tag={t}")]).assert_ok();
            sb.outputs()
        })
        .collect();
    assert_ne!(clean[0], clean[1]);
    let sb = Sandbox::new("hello");
    let surroundings = sb.surroundings();
    let start = Instant::now();
    for round in 0..8 {
        let children: Vec<_> = tags.iter().map(|t| Command::new(binary()).args(["build", "--set", &format!("image-tag={t}")]).current_dir(sb.repo()).stderr(Stdio::piped()).spawn().unwrap()).collect();
        let codes: Vec<(i32, String)> = children.into_iter().map(|c| c.wait_with_output().unwrap()).map(|o| (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())).collect();
        for (code, stderr) in &codes {
            assert!(*code == 0 || (*code == 2 && stderr.contains("is in use by")), "round {round}: {code}\n{stderr}");
        }
        let now = sb.outputs();
        let winner = clean.iter().position(|c| *c == now);
        assert!(winner.is_some(), "round {round}: the tree is a mix of two builds");
        let tag = tags[winner.unwrap()];
        sb.platc(&["build", "--check", "--set", &format!("image-tag={tag}")]).assert_ok();
    }
    assert_eq!(sb.surroundings(), surroundings);
    assert!(start.elapsed() < Duration::from_secs(120));
}

/// The mixed tree that a kill left before the journal existed (new `deploy/` and lock, old
/// workflow), made by hand: the up-to-date shortcut does not trust the lock over the files
/// outside `deploy/`, so the build does not say "up to date" over it.
#[test]
fn up_to_date_never_trusts_a_workflow_that_differs_from_the_lock() {
    let sb = Sandbox::new("hello");
    sb.build_ok();
    let old_workflow = sb.read(".github/workflows/platc.yml");
    add_second_service(&sb);
    sb.build_ok();
    let clean = sb.outputs();
    let before = sb.surroundings();
    sb.write(".github/workflows/platc.yml", &old_workflow);
    let build = sb.platc(&["build"]);
    assert!(!build.stderr.contains("up to date:"), "the shortcut trusted the lock over the workflow:\n{}", build.stderr);
    if build.code == 0 {
        assert_eq!(sb.outputs(), clean, "the build did not repair the workflow");
        sb.platc(&["build", "--check"]).assert_ok();
    } else {
        // Where a workflow that differs from the lock counts as a hand edit, the build refuses.
        build.assert_refused(".github/workflows/platc.yml");
    }
    assert_eq!(sb.surroundings(), before);
}

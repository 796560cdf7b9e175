//! `platc build [PATH...] [--out DIR] [--env ENV] [--set KEY=VALUE]`: check, lower and emit
//! every artifact, then write the output tree atomically. Nothing is written when the input
//! has errors.

use std::path::PathBuf;

use super::{cwd, fail, BuildArgs, InputArgs, ReportArgs, EXIT_ERRORS, EXIT_OK};
use crate::emit::Sink;
use crate::lower::BuildOptions;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output root (default: the directory of platform.kdl). Deploy artifacts go to
    /// `DIR/deploy/`, CI pipelines to their usual place under DIR (`.github/workflows/`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write nothing: compare a fresh build with the files on disk and exit 1 when they
    /// differ (stale, hand-edited, missing or unexpected files).
    #[arg(long)]
    pub check: bool,
    /// Overwrite generated files that were edited by hand (the edits are lost). Without it, a
    /// build refuses and lists them.
    #[arg(long, conflicts_with = "check")]
    pub force: bool,
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Parses `--set` pairs into build options.
pub(crate) fn options(env: Option<String>, set: &[String]) -> Result<BuildOptions, String> {
    let mut opts = BuildOptions { env, ..Default::default() };
    for pair in set {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(format!("--set expects KEY=VALUE, got `{pair}`"));
        };
        // The value is taken as given: a space or a newline around it is an error, not trimmed
        // away, so that what CI passed is what platc names things after.
        match k.trim() {
            "branch" if v.is_empty() => return Err("--set branch= needs a value: the branch of the preview, e.g. --set branch=feature/login".into()),
            "image-tag" if v.is_empty() => return Err("--set image-tag= needs a value: the tag CI pushed, usually the commit SHA".into()),
            "image-tag" if v == "latest" => return Err("--set image-tag=latest: platc never deploys the `latest` tag; pass the commit SHA".into()),
            "branch" => {
                branch_name(v).map_err(|why| format!("--set branch={}: not a git branch name: {why}", v.escape_debug()))?;
                opts.branch = Some(v.to_string());
            }
            "image-tag" => {
                image_tag(v).map_err(|why| format!("--set image-tag={}: not an image tag: {why}", v.escape_debug()))?;
                opts.image_tag = Some(v.to_string());
            }
            other => return Err(format!("unknown setting `{other}` in --set; known: branch, image-tag")),
        }
    }
    Ok(opts)
}

/// An OCI tag, as the distribution spec defines it: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn image_tag(tag: &str) -> Result<(), String> {
    let first_ok = tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
    if let Some(c) = tag.chars().find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c))) {
        return Err(format!("{} is not allowed; tags are letters, digits, `_`, `.` and `-`", c.escape_debug()));
    }
    if !first_ok {
        return Err("a tag starts with a letter, a digit or `_`".into());
    }
    if tag.len() > 128 {
        return Err(format!("a tag has at most 128 characters (this one has {})", tag.len()));
    }
    Ok(())
}

/// A branch name that git accepts (`git check-ref-format --branch`): no control characters,
/// spaces or any of `~^:?*[\`, no `..`, `@{` or `//`, no component starting with `.` or ending
/// in `.lock`, not starting with `-` or `/`, not ending with `/` or `.`, and not `@`.
fn branch_name(b: &str) -> Result<(), String> {
    if let Some(c) = b.chars().find(|c| c.is_control() || " ~^:?*[\\".contains(*c)) {
        return Err(format!("git forbids `{}` in branch names", c.escape_debug()));
    }
    for bad in ["..", "@{", "//"] {
        if b.contains(bad) {
            return Err(format!("git forbids `{bad}` in branch names"));
        }
    }
    if b == "@" || b.starts_with(['-', '/']) || b.ends_with(['/', '.']) {
        return Err("a branch cannot be `@`, start with `-` or `/`, or end with `/` or `.`".into());
    }
    if b.split('/').any(|c| c.starts_with('.') || c.ends_with(".lock")) {
        return Err("no part of a branch (between `/`) starts with `.` or ends with `.lock`".into());
    }
    Ok(())
}

/// The exit code of a step that stopped `run`, its problem already reported; `Ok` carries on.
type Exit<T> = Result<T, i32>;

/// The output root of a build and what the last build there left.
struct Root {
    dir: PathBuf,
    /// `dir` as messages show it.
    shown: String,
    /// The lock of the last build, if any.
    previous: Option<crate::write::Lock>,
}

pub(crate) fn run(args: &Args) -> i32 {
    build(args).unwrap_or_else(|code| code)
}

/// Checks, then (unless nothing changed since the last build) emits and writes, or with
/// `--check` compares. The root's guard is held to the end: no other platc writes it meanwhile.
fn build(args: &Args) -> Exit<i32> {
    let opts = args.build.options().map_err(fail)?;
    let cwd = cwd();
    let mut result = args.input.analyze(&cwd, &opts).map_err(fail)?;
    if result.diags.has_errors() {
        args.report.emit(&result.diags, &result.loaded.sources);
        eprintln!("nothing written: fix the errors above first");
        return Err(EXIT_ERRORS);
    }
    let dir = match &args.out {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => cwd.join(d),
        None => result.loaded.root.clone().unwrap_or_else(|| cwd.clone()),
    };
    // A commit that a killed build left is finished first, stale staging folders removed (or,
    // with --check, reported).
    let mode = if args.check { crate::write::recover::Mode::Read } else { crate::write::recover::Mode::Write };
    let guard = crate::write::recover::open(&dir, crate::write::DEPLOY_DIR, mode).map_err(fail)?;
    let previous = previous_lock(&dir, args.force).map_err(fail)?;
    let root = Root { shown: crate::load::display(&cwd, &dir), dir, previous };
    // Nothing changed since the last build (same specs, stdlib, options and platc version, by
    // the lock): skip lowering and emitting, the costly half. `--check` and `--force` always
    // build, so that they see the files themselves.
    let fresh = !args.check && !args.force && crate::timings::time("up-to-date check", || crate::build::up_to_date(&root.dir, root.previous.as_ref(), &result.inputs));
    if fresh {
        args.report.emit(&result.diags, &result.loaded.sources);
        let files = root.previous.as_ref().map(|l| l.outputs.len()).unwrap_or(0);
        eprintln!("up to date: the specs, stdlib and options are those of the last build; {} unchanged under {}", super::plural(files, "file"), root.shown);
        return Ok(EXIT_OK);
    }
    let lock_inputs = std::mem::take(&mut result.inputs);
    let inputs: Vec<(String, &[u8])> = lock_inputs.iter().map(|(p, b)| (p.clone(), b.as_slice())).collect();
    if args.check {
        let code = check(args, &mut result, &opts, &root, &inputs)?;
        return Ok(interrupted(&guard, &root.shown).unwrap_or(code));
    }
    write(args, &mut result, &opts, &root, &inputs)
}

/// The lock of the last build. A lock with lines that cannot be trusted stops every command
/// (E0801), except a forced build: the recovery that error recommends, which skips those lines
/// and writes a new lock.
fn previous_lock(root: &std::path::Path, force: bool) -> Result<Option<crate::write::Lock>, String> {
    let (lock, skipped) = crate::build::previous_lock_with(root, force)?;
    for p in &skipped {
        eprintln!("warning: {}: skipped a line that cannot be trusted: {p}", crate::write::lock::CORRUPT_CODE);
    }
    Ok(lock)
}

/// `--check`: a build in memory, finished as a real one would be (instances not built and
/// ejected files as they are on disk), compared with the files under the root.
fn check(args: &Args, result: &mut crate::build::BuildResult, opts: &BuildOptions, root: &Root, inputs: &[(String, &[u8])]) -> Exit<i32> {
    crate::build::emit_analyzed(result, opts);
    let Some(out) = result.output.as_mut() else {
        args.report.emit(&result.diags, &result.loaded.sources);
        eprintln!("nothing written: fix the errors above first");
        return Err(EXIT_ERRORS);
    };
    let disk = |p: &str| crate::write::guard::GuardedPath::new(p).ok().and_then(|g| g.read(&root.dir).ok().flatten());
    if let Some(ws) = &result.workspace {
        crate::build::carry_over(out, root.previous.as_ref(), &result.environments, opts.env.is_some(), ws, &disk);
    }
    crate::build::finalize(out, inputs, root.previous.as_ref(), &disk);
    let findings = crate::write::drift::compare(&root.dir, out, root.previous.as_ref()).map_err(fail)?;
    if args.report.format == crate::diagnostics::Format::Human {
        args.report.emit(&result.diags, &result.loaded.sources);
        return Ok(check_drift(&root.shown, &findings));
    }
    // One report for the whole run: a SARIF document or a JSON stream holds the spec
    // diagnostics and the generated files that are out of date together.
    super::outputs::drift(&findings, &root.shown, &mut result.loaded.sources, &mut result.diags);
    args.report.emit(&result.diags, &result.loaded.sources);
    Ok(if findings.iter().any(|f| !matches!(f, crate::write::drift::Finding::NotOurs(_))) { EXIT_ERRORS } else { EXIT_OK })
}

/// Emits each service's files into a staged tree as soon as they are built, and swaps the tree
/// in at the end, only if the build succeeded: dropping the stager (any early return) discards
/// it, so nothing is written.
fn write(args: &Args, result: &mut crate::build::BuildResult, opts: &BuildOptions, root: &Root, inputs: &[(String, &[u8])]) -> Exit<i32> {
    let (Some(ws), Some(graph)) = (result.workspace.as_ref(), result.graph.as_ref()) else {
        return Err(fail("internal error: a checked build without a workspace"));
    };
    let stager = crate::write::stage::Stager::new(&root.dir, root.previous.as_ref(), args.force).map_err(fail)?;
    crate::build::build_into(&result.loaded, ws, graph, &result.environments, opts, &mut result.diags, &stager).map_err(fail)?;
    // The machine formats print one report for the run: after the commit, with what it refused.
    let human = args.report.format == crate::diagnostics::Format::Human;
    if human || result.diags.has_errors() {
        args.report.emit(&result.diags, &result.loaded.sources);
    }
    if result.diags.has_errors() {
        eprintln!("nothing written: fix the errors above first");
        return Err(EXIT_ERRORS);
    }
    // Instances this build did not produce (other environments with --env, other branches'
    // previews) stay as they are.
    for p in crate::build::carried_paths(root.previous.as_ref(), &result.environments, opts.env.is_some(), ws, &|p| stager.generated(p)) {
        let bytes = match p.read(&root.dir) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => return Err(fail(e)),
        };
        stager.add(vec![(p.as_str().to_string(), bytes)]).map_err(fail)?;
    }
    for p in stager.left_alone() {
        eprintln!("note: {p} is not in {} (platc did not write it): left as it is", crate::write::LOCK_PATH);
    }
    if let Some(prev) = &root.previous {
        for p in &prev.ejected {
            eprintln!("note: {p} is ejected: left as it is (see `platc eject`)");
        }
    }
    let finished = crate::timings::time("write (finish)", || stager.finish(inputs));
    if !human {
        if let Err(crate::write::stage::Refused::Lost(lost)) = &finished {
            super::outputs::lost(lost, &root.shown, &mut result.loaded.sources, &mut result.diags);
        }
        args.report.emit(&result.diags, &result.loaded.sources);
    }
    Ok(finish(finished, result, root))
}

/// The verdict of the staged tree's commit. Never lose a person's edit silently: a file whose
/// content the build would lose (a hand edit, a file platc did not write) stops it unless
/// --force says to overwrite.
fn finish(finished: Result<crate::write::WriteReport, crate::write::stage::Refused>, result: &crate::build::BuildResult, root: &Root) -> i32 {
    match finished {
        Ok(r) => {
            eprintln!(
                "built {} for {}: {} written, {} unchanged, {} removed under {}",
                super::plural(result.loaded.inputs.services.len(), "service"),
                result.environments.iter().map(crate::lower::instance).collect::<Vec<_>>().join(", "),
                super::plural(r.written, "file"),
                r.unchanged,
                r.removed,
                root.shown
            );
            EXIT_OK
        }
        Err(crate::write::stage::Refused::Lost(lost)) => {
            for c in &lost {
                eprintln!("error: {}:\n{}", c.describe(), c.diff);
            }
            eprintln!("nothing written: the build would lose the content of {}", super::plural(lost.len(), "file"));
            eprintln!(
                "help: move an edit into the spec (a `patch` block), keep a generated file as yours with `platc eject SERVICE --file PATH`, move your own file away, or overwrite and delete them all with `platc build --force` (see `platc explain {}`)",
                crate::write::LOSS_CODE
            );
            EXIT_ERRORS
        }
        Err(crate::write::stage::Refused::Io(e)) => fail(e),
    }
}

/// `build --check`'s verdict on what killed runs left under the root (exit 1), if anything: the
/// tree as committed was not a build's output, whatever it is after the recovery.
fn interrupted(guard: &crate::write::recover::Guard, shown: &str) -> Option<i32> {
    if !guard.recovered && guard.stale.is_empty() {
        return None;
    }
    if guard.recovered {
        eprintln!("error: the outputs under {shown} were left half-committed by a killed platc run (finished now)");
    }
    if !guard.stale.is_empty() {
        eprintln!("error: {} left by killed platc runs under {shown}", super::plural(guard.stale.len(), "staging folder or file was"));
    }
    eprintln!("help: run `platc build` and commit the result");
    Some(EXIT_ERRORS)
}

/// `build --check`'s findings in the human format, and its exit code.
fn check_drift(shown: &str, findings: &[crate::write::drift::Finding]) -> i32 {
    use crate::write::drift::Finding;
    let (mut stale, mut edited) = (false, false);
    let mut drift = 0;
    for f in findings {
        if !matches!(f, Finding::NotOurs(_)) {
            drift += 1;
        }
        match f {
            Finding::NotOurs(p) => eprintln!("note: {p} is not in {} (platc did not write it): builds leave it alone", crate::write::LOCK_PATH),
            Finding::Missing(p) => eprintln!("missing: {p}"),
            Finding::Unexpected(p) => eprintln!("unexpected: {p} (no longer generated)"),
            Finding::Stale { path, .. } => {
                stale = true;
                eprintln!("stale: {path} (the specs changed since it was built)");
            }
            Finding::HandEdited { path, diff } => {
                edited = true;
                eprintln!("hand-edited: {path} (differs from what platc wrote):\n{diff}");
            }
        }
    }
    if drift == 0 {
        eprintln!("outputs under {shown} are up to date");
        return EXIT_OK;
    }
    eprintln!("{} out of date under {shown}", super::plural(drift, "file"));
    if stale || findings.iter().any(|f| matches!(f, Finding::Missing(_) | Finding::Unexpected(_))) {
        eprintln!("help: run `platc build` and commit the result");
    }
    if edited {
        eprintln!(
            "help: generated files are rebuilt from the specs: move the edit into the spec (a `patch` block for a generated object), or keep the file as yours with `platc eject SERVICE --file PATH`"
        );
    }
    EXIT_ERRORS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pair: &str) -> Result<BuildOptions, String> {
        options(None, &[pair.to_string()])
    }

    #[test]
    fn image_tags_follow_the_oci_grammar() {
        for ok in ["3f2a9c1", "v1.2.3", "_x", "A-b_c.d", &"a".repeat(128)] {
            assert_eq!(set(&format!("image-tag={ok}")).unwrap().image_tag.as_deref(), Some(ok));
        }
        for bad in ["a b", "x;rm -rf /", "-x", ".x", "a/b", "a:b", " a", "a\n", "é", &"a".repeat(129), "", "latest"] {
            let e = set(&format!("image-tag={bad}")).unwrap_err();
            assert!(e.starts_with("--set image-tag="), "{bad:?}: {e}");
        }
    }

    #[test]
    fn branches_follow_git_check_ref_format() {
        for ok in ["main", "feature/ok", "feature-ok", "é", "fix/it's-\"quoted\"-$HOME-;&|`id`", "a.b/c_d"] {
            assert_eq!(set(&format!("branch={ok}")).unwrap().branch.as_deref(), Some(ok));
        }
        for bad in ["..", "a..b", "-", "-x", "a b", "a\tb", "a~1", "a^", "a:b", "a?", "a*", "a[b", "a\\b", "a@{1}", "@", "a//b", "/a", "a/", "a.", ".a", "a/.b", "a.lock", "a/b.lock/c", "", "x\u{7f}"]
        {
            let e = set(&format!("branch={bad}")).unwrap_err();
            assert!(e.starts_with("--set branch="), "{bad:?}: {e}");
        }
    }
}

//! `platc publish --repo PATH [--branch B] [--message M] [PATH...] [--env ENV] [--set KEY=VALUE]`:
//! build in memory, write the `deploy/` tree into a GitOps repository checkout at its
//! `gitops ... path=` directory, and commit with trailers naming the source commit, its time
//! and every service and environment whose files changed (docs/escape-hatch.md).
//!
//! Refuses (exit 2, nothing written) when the checkout has uncommitted changes, is not a git
//! working tree, or the target directory is not a platc output. No commit when nothing
//! changed. Uses the git command line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{cwd, fail, InputArgs, ReportArgs, EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};
use crate::emit::Output;
use crate::fs::RealFs;
use crate::history::git::{absolute, Git};
use crate::history::layout::{classify, environment_of_instance, EnvName};
use crate::history::trailers::{self, Source, Unit};
use crate::load::LOCK_FILE;
use crate::write::{hash, Lock, DEPLOY_DIR};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// The GitOps repository checkout to publish into. Outputs go to the directory named by
    /// platform.kdl's `gitops ... path=` inside it.
    #[arg(long, value_name = "PATH")]
    pub repo: PathBuf,
    /// Commit on this branch: switched to, or created from the current commit when it does not
    /// exist (default: the branch checked out).
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// The commit message; platc's trailers are appended to it. Default: a message naming the
    /// source commit and what is deployed.
    #[arg(long, short = 'm', value_name = "MESSAGE")]
    pub message: Option<String>,
    /// Output root of local builds, whose platc.lock lists ejected files (default: the
    /// directory of platform.kdl). Ejected files are published as they are there.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Build and publish only this environment; the files of the other environments in the
    /// repository are kept.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Build settings, as for `platc build` (`branch=NAME`, `image-tag=TAG`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Remove instead of publish: delete the files of the environment instance this build
    /// names (a preview: `--env preview --set branch=NAME`) and commit, e.g. when its pull
    /// request closes. Needs `--env`.
    #[arg(long, requires = "env")]
    pub remove: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// The directory of the GitOps repository outputs go to, from `gitops ... path=`: a relative
/// path below the repository root (publishing replaces that directory as a whole, so it can
/// be neither the root nor escape it).
pub fn repo_subdir(path: &str) -> Result<String, String> {
    let segs: Vec<&str> = path.trim().split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    if segs.is_empty() {
        return Err(format!("platform.kdl's `gitops ... path=\"{path}\"` is the repository root: publish replaces its directory as a whole, so give a subdirectory (e.g. path=deploy)"));
    }
    if let Some(bad) = segs.iter().find(|s| **s == ".." || s.eq_ignore_ascii_case(".git") || s.contains('\\')) {
        return Err(format!("platform.kdl's `gitops ... path=\"{path}\"` cannot contain `{bad}`: it must be a directory inside the repository"));
    }
    Ok(segs.join("/"))
}

use crate::lower::instance;

/// The source commit of the platform tree at `dir`, with warnings when it is unknown or the
/// tree has uncommitted changes.
fn source_commit(dir: &Path, shown: &str) -> Source {
    let git = Git::new(dir);
    let unknown = |why: &str| {
        eprintln!("warning: {why}: the publish records its source commit as `{}`, and `platc dora` cannot measure its lead time", trailers::UNKNOWN);
        Source::default()
    };
    match git.toplevel() {
        Ok(Some(_)) => {}
        Ok(None) => return unknown(&format!("the source {shown} is not in a git repository")),
        Err(e) => return unknown(&e),
    }
    let sha = match git.head() {
        Ok(Some(sha)) => sha,
        Ok(None) => return unknown(&format!("the source repository of {shown} has no commit yet")),
        Err(e) => return unknown(&e),
    };
    let time = git.ok(&["show", "-s", "--format=%cI", &sha]).ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    if time.is_none() {
        eprintln!("warning: cannot read the time of source commit {sha}; recorded as `{}`", trailers::UNKNOWN);
    }
    if let Ok(changes) = git.changes(Some(".")) {
        if !changes.is_empty() {
            eprintln!(
                "warning: the source {shown} has uncommitted changes ({} path{}): the publish names commit {} but includes them; commit first for a publish that can be traced",
                changes.len(),
                if changes.len() == 1 { "" } else { "s" },
                &sha[..sha.len().min(12)]
            );
        }
    }
    Source { commit: Some(sha), time }
}

/// Switches to `branch`: a local branch, a remote one (git's guess), or a new one.
/// Returns whether it was created.
fn switch(git: &Git, branch: &str) -> Result<bool, String> {
    if !git.run(&["check-ref-format", "--branch", branch])?.ok {
        return Err(format!("`{branch}` is not a valid branch name"));
    }
    if git.run(&["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")])?.ok {
        git.ok(&["switch", "--quiet", branch])?;
        return Ok(false);
    }
    if git.run(&["switch", "--quiet", "--guess", branch])?.ok {
        return Ok(false);
    }
    git.ok(&["switch", "--quiet", "--create", branch])?;
    Ok(true)
}

/// Puts the checkout back on the branch it was on, deleting the branch publish created.
struct Switched<'a> {
    git: &'a Git,
    from: Option<String>,
    created: Option<String>,
}

impl Switched<'_> {
    fn undo(&self) {
        if let Some(from) = &self.from {
            if self.git.run(&["switch", "--quiet", from]).is_ok_and(|r| r.ok) {
                if let Some(b) = &self.created {
                    let _ = self.git.run(&["branch", "--quiet", "-D", b]);
                }
            }
        }
    }
}

pub fn run(args: &Args) -> i32 {
    let opts = match super::build::options(args.env.clone(), &args.set) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let cwd = cwd();
    let result = match crate::build::build_paths(&RealFs, &args.input.paths(), &args.input.stdlib, &cwd, &opts) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    args.report.emit(&result.diags, &result.loaded.sources);
    let Some(mut out) = result.output else {
        eprintln!("nothing published: fix the errors above first");
        return EXIT_ERRORS;
    };
    let analysis = crate::driver::analyze(&result.loaded);
    let Some(ws) = analysis.workspace.as_ref() else {
        return fail("the workspace could not be read a second time");
    };
    let subdir = match repo_subdir(&ws.platform.gitops.path) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };

    // The target: a clean working tree, on the right branch.
    let repo_arg = absolute(&cwd, &args.repo);
    let repo_shown = crate::load::display(&cwd, &repo_arg);
    if !repo_arg.is_dir() {
        return fail(format!("--repo {repo_shown}: no such directory; give a checkout of the GitOps repository"));
    }
    let top = match Git::new(&repo_arg).toplevel() {
        Ok(Some(t)) => t,
        Ok(None) => return fail(format!("--repo {repo_shown} is not a git working tree: give a checkout of the GitOps repository ({})", ws.platform.gitops.repo)),
        Err(e) => return fail(e),
    };
    if std::fs::canonicalize(&repo_arg).ok() != std::fs::canonicalize(&top).ok() {
        return fail(format!("--repo {repo_shown} is inside the git working tree {}, not its top: give the top of the GitOps repository checkout", crate::load::display(&cwd, &top)));
    }
    let git = Git::new(&top);
    let top_shown = crate::load::display(&cwd, &top);
    let dirty = match git.changes(None) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    if !dirty.is_empty() {
        eprintln!("error: refusing to publish: {top_shown} has uncommitted changes:");
        for l in dirty.iter().take(10) {
            eprintln!("  {l}");
        }
        if dirty.len() > 10 {
            eprintln!("  ... and {} more", dirty.len() - 10);
        }
        eprintln!("help: commit, stash or remove them first; nothing was written");
        return EXIT_FAILURE;
    }
    let current = match git.branch() {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let mut switched = Switched { git: &git, from: None, created: None };
    match &args.branch {
        Some(b) if current.as_deref() != Some(b.as_str()) => match switch(&git, b) {
            Ok(created) => {
                eprintln!("{} branch {b} in {top_shown}", if created { "created" } else { "switched to" });
                switched.from = current.clone();
                switched.created = created.then(|| b.clone());
            }
            Err(e) => return fail(format!("cannot switch {top_shown} to branch {b}: {e}")),
        },
        Some(_) => {}
        None if current.is_none() => return fail(format!("HEAD of {top_shown} is detached: say which branch to commit on with --branch")),
        None => {}
    }
    let branch = args.branch.clone().or(current).unwrap_or_default();
    let target = top.join(&subdir);
    let target_shown = crate::load::display(&cwd, &target);
    let failed = |message: String| {
        switched.undo();
        fail(message)
    };

    // The build, with ejected files as the user has them.
    let src_root = result.loaded.root.clone().unwrap_or_else(|| cwd.clone());
    let out_root = args.out.as_ref().map(|d| absolute(&cwd, d)).unwrap_or_else(|| src_root.clone());
    let source_lock = match crate::build::previous_lock(&out_root) {
        Ok(l) => l,
        Err(e) => return failed(e),
    };
    let target_lock = match std::fs::read_to_string(target.join(LOCK_FILE)) {
        Ok(t) => match Lock::parse(&t) {
            Ok(l) => Some(l),
            Err(e) => return failed(format!("{target_shown}/{LOCK_FILE}: {e}")),
        },
        Err(_) => None,
    };
    let from_source: BTreeSet<String> = source_lock.map(|l| l.ejected).unwrap_or_default();
    let mut ejected = Lock::default();
    ejected.ejected = from_source.iter().cloned().chain(target_lock.iter().flat_map(|l| l.ejected.iter().cloned())).collect();
    let prefix = format!("{DEPLOY_DIR}/");
    let disk = |p: &str| -> Option<Vec<u8>> {
        if from_source.contains(p) {
            std::fs::read(out_root.join(p)).ok()
        } else {
            p.strip_prefix(&prefix).and_then(|r| std::fs::read(target.join(r)).ok())
        }
    };
    let inputs: Vec<(String, &[u8])> = result.inputs.iter().map(|(p, b)| (p.clone(), b.as_slice())).collect();
    crate::build::finalize(&mut out, &inputs, Some(&ejected), &disk);
    for p in &ejected.ejected {
        eprintln!("note: {p} is ejected: published as it is");
    }
    let mut deploy = Output::default();
    let mut outside = 0;
    for (p, b) in &out.files {
        match p.strip_prefix(&prefix) {
            Some(rel) => deploy.add(rel, b.clone()),
            None => outside += 1,
        }
    }
    if outside > 0 {
        eprintln!("note: {outside} generated file{} outside {DEPLOY_DIR}/ (CI pipelines) belong to the source repository and are not published", if outside == 1 { "" } else { "s" });
    }

    // Keep what this build did not build: the other environments (and preview instances).
    // A full publish drops the files of services that no longer exist; a publish of one
    // environment (`--env`) changes nothing outside it.
    let envs: Vec<EnvName> = crate::history::layout::env_names(ws);
    let services: BTreeSet<&str> = ws.services.iter().map(|s| s.name.value.as_str()).collect();
    let built_envs: BTreeSet<&str> = result.environments.iter().map(|p| p.env.as_str()).collect();
    let built_instances: BTreeSet<String> = result.environments.iter().map(instance).collect();
    let old = if target.join(LOCK_FILE).is_file() {
        match crate::write::read_tree(&target) {
            Ok(t) => t,
            Err(e) => return failed(format!("cannot read {target_shown}: {e}")),
        }
    } else {
        Default::default()
    };
    let mut kept = BTreeSet::new();
    for (p, b) in &old {
        if deploy.files.contains_key(p) {
            continue;
        }
        let Some(placed) = classify(p, &envs) else { continue };
        let (known, built) = if placed.by_instance {
            (environment_of_instance(&envs, &placed.instance).is_some(), built_instances.contains(&placed.instance))
        } else {
            (true, built_envs.contains(placed.environment.as_str()))
        };
        if known && !built && (args.env.is_some() || placed.service.as_deref().is_none_or(|s| services.contains(s))) {
            deploy.add(p.clone(), b.clone());
            kept.insert(placed.instance);
        }
    }
    if !kept.is_empty() {
        eprintln!("note: kept the published files of {} (not built this time)", kept.into_iter().collect::<Vec<_>>().join(", "));
    }
    if args.remove {
        // Only the files of the instances built here go; what every instance shares (chart
        // templates, values.yaml) stays.
        let before = deploy.files.len();
        deploy.files.retain(|p, _| classify(p, &envs).is_none_or(|pl| !built_instances.contains(&pl.instance)));
        eprintln!("removing {} ({} files)", built_instances.iter().cloned().collect::<Vec<_>>().join(", "), before - deploy.files.len());
    }
    // Generated files edited in the GitOps repository since platc published them.
    if let Some(lock) = &target_lock {
        for (p, new) in &deploy.files {
            if let (Some(old), Some(h)) = (old.get(p), lock.outputs.get(&format!("{prefix}{p}"))) {
                if old != new && *h != hash(old) {
                    eprintln!("warning: {target_shown}/{p} was edited in the GitOps repository since platc published it; this publish replaces the edit (it stays in the git history; to keep such edits, use a `patch` block or `platc eject`)");
                }
            }
        }
    }

    // Write, then commit what changed.
    if let Err(e) = crate::write::write_tree(&target, &deploy) {
        return failed(e);
    }
    let pathspec = format!(":(literal){subdir}");
    let undo_write = || {
        let _ = git.run(&["reset", "--quiet", "--", &pathspec]);
        let _ = git.run(&["checkout", "--quiet", "--", &pathspec]);
        let _ = git.run(&["clean", "-fdq", "--", &pathspec]);
    };
    if let Err(e) = git.ok(&["add", "--all", "--", &pathspec]) {
        undo_write();
        return failed(e);
    }
    let changed = match git.ok(&["diff", "--cached", "--name-only", "--no-renames", "-z"]) {
        Ok(t) => t,
        Err(e) => {
            undo_write();
            return failed(e);
        }
    };
    let sub_prefix = format!("{subdir}/");
    let changed: Vec<&str> = changed.split('\0').filter_map(|p| p.strip_prefix(&sub_prefix)).collect();
    if changed.is_empty() {
        eprintln!("nothing to publish: {target_shown} already holds this build (no commit)");
        return EXIT_OK;
    }
    let units: BTreeSet<Unit> = changed.iter().filter_map(|p| classify(p, &envs)).filter_map(|c| c.unit()).collect();
    let source = source_commit(&src_root, &crate::load::display(&cwd, &src_root));
    let message = trailers::message(args.message.as_deref(), &source, &units);
    let mut committer = git.clone();
    for (key, fallback) in [("user.name", "platc"), ("user.email", "platc@localhost")] {
        if matches!(git.config_value(key), Ok(None)) {
            committer.config.push(format!("{key}={fallback}"));
        }
    }
    match committer.run_with_input(&["commit", "--quiet", "--cleanup=whitespace", "--file=-"], Some(&message)) {
        Ok(r) if r.ok => {}
        Ok(r) => {
            undo_write();
            let why = [r.stderr.trim(), r.stdout.trim()].into_iter().find(|t| !t.is_empty()).unwrap_or("no message (did a commit hook refuse it?)").to_string();
            return failed(format!("`git commit` failed in {top_shown}: {why}; nothing was published"));
        }
        Err(e) => {
            undo_write();
            return failed(e);
        }
    }
    let sha = git.head().ok().flatten().unwrap_or_default();
    eprintln!(
        "published {} changed file{} to {target_shown} on {branch} as {}{}",
        changed.len(),
        if changed.len() == 1 { "" } else { "s" },
        &sha[..sha.len().min(12)],
        if units.is_empty() { String::new() } else { format!(": {}", units.iter().map(Unit::to_string).collect::<Vec<_>>().join(", ")) }
    );
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_directory_is_below_the_root() {
        assert_eq!(repo_subdir("deploy"), Ok("deploy".into()));
        assert_eq!(repo_subdir("/clusters/acme/"), Ok("clusters/acme".into()));
        assert_eq!(repo_subdir("./a//b"), Ok("a/b".into()));
        assert!(repo_subdir("").is_err());
        assert!(repo_subdir("/").is_err());
        assert!(repo_subdir("a/../..").is_err());
        assert!(repo_subdir(".git/x").is_err());
    }
}

//! `platc publish --repo PATH [--branch B] [--message M] [PATH...] [--env ENV] [--set KEY=VALUE]`:
//! build in memory, write the `deploy/` tree into a GitOps repository checkout at its
//! `gitops ... path=` directory, and commit with trailers naming the source commit, its time
//! and every service and environment whose files changed (docs/escape-hatch.md).
//!
//! Refuses (exit 2, nothing written) when the checkout has uncommitted changes, is not a git
//! working tree, or the target directory is not a platc output. No commit when nothing
//! changed. Uses the git command line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{cwd, fail, BuildArgs, InputArgs, ReportArgs, EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};
use crate::emit::Output;
use crate::history::git::{absolute, Git};
use crate::history::layout::{classify, environment_of_instance, EnvName};
use crate::history::trailers::{self, Changes, Source, Unit};
use crate::load::LOCK_FILE;
use crate::lower::{instance, Placement};
use crate::write::{hash, Lock, DEPLOY_DIR};

/// The arguments of `platc publish`.
#[derive(Debug, clap::Args)]
#[command(mut_arg("env", |a| a.help("Build and publish only this environment; the files of the other environments in the repository are kept")))]
#[command(mut_arg("set", |a| a.help("Build settings, as for `platc build` (`branch=NAME`, `image-tag=TAG`)")))]
pub struct Args {
    /// The specs to build and the stdlib overlays.
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
    /// What to build: `--env` (only that environment is published; the files of the others
    /// in the repository are kept) and `--set`.
    #[command(flatten)]
    pub build: BuildArgs,
    /// Remove instead of publish: delete the files of the environment instance this build
    /// names (a preview: `--env preview --set branch=NAME`) and commit, e.g. when its pull
    /// request closes. Needs `--env`.
    #[arg(long, requires = "env")]
    pub remove: bool,
    /// How to print diagnostics.
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

/// The exit code of a step that stopped `run`, its problem already reported; `Ok` carries on.
type Exit<T> = Result<T, i32>;

/// Runs `platc publish` and returns the exit code: builds, writes the outputs into the
/// checkout and commits them.
pub fn run(args: &Args) -> i32 {
    publish(args).unwrap_or_else(|code| code)
}

/// The steps of a publish, in the order that keeps a refusal harmless: everything that can
/// refuse without touching the checkout comes before the branch switch, and every failure after
/// it puts the checkout back on its branch.
fn publish(args: &Args) -> Exit<i32> {
    let cwd = cwd();
    let (result, mut out) = build(args, &cwd)?;
    let analysis = crate::build::analyze(&result.loaded);
    let Some(ws) = analysis.workspace.as_ref() else {
        return Err(fail("the workspace could not be read a second time"));
    };
    let subdir = repo_subdir(&ws.platform.gitops.path).map_err(fail)?;

    // The target: a clean working tree, on the right branch.
    let top = checkout_top(&cwd, &args.repo, ws)?;
    let git = Git::new(&top);
    let top_shown = crate::load::display(&cwd, &top);
    require_clean(&git, &top_shown)?;
    let (switched, branch) = on_branch(&git, args.branch.as_ref(), &top_shown)?;
    let target = top.join(&subdir);
    let target_shown = crate::load::display(&cwd, &target);
    let failed = |message: String| {
        switched.undo();
        fail(message)
    };

    // The build, with ejected files as the user has them.
    let src_root = result.loaded.root.clone().unwrap_or_else(|| cwd.clone());
    let out_root = args.out.as_ref().map(|d| absolute(&cwd, d)).unwrap_or_else(|| src_root.clone());
    let source_lock = crate::build::previous_lock(&out_root).map_err(&failed)?;
    let target_lock = read_target_lock(&target, &target_shown).map_err(&failed)?;
    let ejected = finalize_ejected(&mut out, &result.inputs, &out_root, &target, source_lock, target_lock.as_ref());
    for p in &ejected.ejected {
        eprintln!("note: {p} is ejected: published as it is");
    }
    let mut deploy = deploy_part(&out);

    // Keep what this build did not build, drop what it removes, warn about edits it replaces.
    let envs: Vec<EnvName> = crate::history::layout::env_names(ws);
    let old = read_published(&target, &target_shown).map_err(&failed)?;
    keep_unbuilt(&mut deploy, &old, &envs, ws, &result.environments, args.build.env.is_some());
    if args.remove {
        remove_built(&mut deploy, &envs, &result.environments);
    }
    if let Some(lock) = &target_lock {
        warn_edited(&deploy, &old, lock, &target_shown);
    }

    // Write, then commit what changed.
    let changed = write_and_stage(&git, &target, &subdir, &deploy).map_err(&failed)?;
    if changed.is_empty() {
        eprintln!("nothing to publish: {target_shown} already holds this build (no commit)");
        return Ok(EXIT_OK);
    }
    let mut changes = changes(&changed, &envs, args.remove);
    let source = source_commit(&src_root, &crate::load::display(&cwd, &src_root));
    if source.commit.is_some() {
        changes.first_commits = first_commits(&src_root, ws, &result.loaded.sources, &changes.deployed);
    }
    let message = trailers::message(args.message.as_deref(), &source, &changes);
    commit(&git, &subdir, &message, &top_shown).map_err(&failed)?;
    let sha = git.head().ok().flatten().unwrap_or_default();
    eprintln!("published {} to {target_shown} on {branch} as {}{}", changed_files(changed.len()), &sha[..sha.len().min(12)], deployed(&changes));
    Ok(EXIT_OK)
}

/// `1 changed file`, `2 changed files`.
fn changed_files(n: usize) -> String {
    format!("{n} changed file{}", if n == 1 { "" } else { "s" })
}

/// What the changed files (paths in the deploy tree) deploy: a preview instance is named by its
/// instance (`checkout/preview-pr-7`), so that two previews are two units; with `--remove`,
/// every instance whose files changed was torn down.
fn changes(changed: &[String], envs: &[crate::history::layout::EnvName], remove: bool) -> Changes {
    let mut c = Changes::default();
    for placed in changed.iter().filter_map(|p| classify(p, envs)) {
        let Some(unit) = placed.unit() else { continue };
        let preview = placed.by_instance && placed.instance != placed.environment;
        let unit = if preview { Unit::new(unit.service, placed.instance.clone()) } else { unit };
        match (remove, preview) {
            (true, _) => c.removed.insert(unit),
            (false, true) => c.previews.insert(unit),
            (false, false) => c.deployed.insert(unit),
        };
    }
    c
}

/// Per service of `deployed` in a protected environment, the committer time of the commit that
/// added its spec in the source repository (`git log --diff-filter=A --follow`, the oldest):
/// where its time to first deploy starts. A spec git does not know (never committed) has none.
fn first_commits(src_root: &Path, ws: &crate::model::Workspace, sources: &crate::source::SourceMap, deployed: &BTreeSet<Unit>) -> std::collections::BTreeMap<String, String> {
    let protected: BTreeSet<&str> = ws.platform.environments.values().filter(|e| e.protected).map(|e| e.name.value.as_str()).collect();
    let services: BTreeSet<&str> = deployed.iter().filter(|u| protected.contains(u.environment.as_str())).map(|u| u.service.as_str()).collect();
    let git = Git::new(src_root);
    let mut out = std::collections::BTreeMap::new();
    for s in ws.services.iter().filter(|s| services.contains(s.name.value.as_str())) {
        let Some(path) = &sources.get(s.file).path else { continue };
        let Ok(log) = git.ok(&["log", "--diff-filter=A", "--follow", "--format=%cI", "--", &path.to_string_lossy()]) else { continue };
        if let Some(time) = log.lines().map(str::trim).rfind(|l| !l.is_empty()) {
            out.insert(s.name.value.clone(), time.to_string());
        }
    }
    out
}

/// `: SERVICE/ENV, ...; removed SERVICE/INSTANCE`: what the publish changed (nothing when no
/// service's files did).
fn deployed(c: &Changes) -> String {
    let list = |units: &BTreeSet<Unit>| units.iter().map(Unit::to_string).collect::<Vec<_>>().join(", ");
    let published: BTreeSet<Unit> = c.deployed.union(&c.previews).cloned().collect();
    match (published.is_empty(), c.removed.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(": {}", list(&published)),
        (true, false) => format!(": removed {}", list(&c.removed)),
        (false, false) => format!(": {}; removed {}", list(&published), list(&c.removed)),
    }
}

/// Builds in memory, with the report printed: a build with errors publishes nothing, so it
/// stops here, before the checkout is looked at.
fn build(args: &Args, cwd: &Path) -> Exit<(crate::build::BuildResult, Output)> {
    let opts = args.build.options().map_err(fail)?;
    let mut result = args.input.build(cwd, &opts).map_err(fail)?;
    args.report.emit(&result.diags, &result.loaded.sources);
    let Some(out) = result.output.take() else {
        eprintln!("nothing published: fix the errors above first");
        return Err(EXIT_ERRORS);
    };
    Ok((result, out))
}

/// The top of the GitOps checkout `--repo` names. `--repo` must be that top itself: `path=` is
/// relative to the repository root, so a subdirectory would publish somewhere unexpected.
fn checkout_top(cwd: &Path, repo: &Path, ws: &crate::model::Workspace) -> Exit<PathBuf> {
    let repo_arg = absolute(cwd, repo);
    let repo_shown = crate::load::display(cwd, &repo_arg);
    if !repo_arg.is_dir() {
        return Err(fail(format!("--repo {repo_shown}: no such directory; give a checkout of the GitOps repository")));
    }
    let top = match Git::new(&repo_arg).toplevel() {
        Ok(Some(t)) => t,
        Ok(None) => return Err(fail(format!("--repo {repo_shown} is not a git working tree: give a checkout of the GitOps repository ({})", ws.platform.gitops.repo))),
        Err(e) => return Err(fail(e)),
    };
    if std::fs::canonicalize(&repo_arg).ok() != std::fs::canonicalize(&top).ok() {
        return Err(fail(format!("--repo {repo_shown} is inside the git working tree {}, not its top: give the top of the GitOps repository checkout", crate::load::display(cwd, &top))));
    }
    Ok(top)
}

/// Refuses a checkout with uncommitted changes (exit 2): a publish stages everything under its
/// directory and, when it fails, resets and cleans it, which would take someone's work with it.
fn require_clean(git: &Git, top_shown: &str) -> Exit<()> {
    let dirty = git.changes(None).map_err(fail)?;
    if dirty.is_empty() {
        return Ok(());
    }
    eprintln!("error: refusing to publish: {top_shown} has uncommitted changes:");
    for l in dirty.iter().take(10) {
        eprintln!("  {l}");
    }
    if dirty.len() > 10 {
        eprintln!("  ... and {} more", dirty.len() - 10);
    }
    eprintln!("help: commit, stash or remove them first; nothing was written");
    Err(EXIT_FAILURE)
}

/// Puts the checkout on `--branch` (when it is not there already) and returns the branch the
/// commit goes on, with the way back for a publish that fails. A detached HEAD needs
/// `--branch`: a commit there would belong to no branch.
fn on_branch<'g>(git: &'g Git, wanted: Option<&String>, top_shown: &str) -> Exit<(Switched<'g>, String)> {
    let current = git.branch().map_err(fail)?;
    let mut switched = Switched { git, from: None, created: None };
    match wanted {
        Some(b) if current.as_deref() != Some(b.as_str()) => match switch(git, b) {
            Ok(created) => {
                eprintln!("{} branch {b} in {top_shown}", if created { "created" } else { "switched to" });
                switched.from = current.clone();
                switched.created = created.then(|| b.clone());
            }
            Err(e) => return Err(fail(format!("cannot switch {top_shown} to branch {b}: {e}"))),
        },
        Some(_) => {}
        None if current.is_none() => return Err(fail(format!("HEAD of {top_shown} is detached: say which branch to commit on with --branch"))),
        None => {}
    }
    Ok((switched, wanted.cloned().or(current).unwrap_or_default()))
}

/// The lock platc wrote into the target directory at the last publish, if any: it names the
/// files ejected there and the hashes that tell a published file from an edited one.
fn read_target_lock(target: &Path, target_shown: &str) -> Result<Option<Lock>, String> {
    match std::fs::read_to_string(target.join(LOCK_FILE)) {
        Ok(t) => Lock::parse(&t).map(Some).map_err(|e| format!("{target_shown}/{LOCK_FILE}: {e}")),
        Err(_) => Ok(None),
    }
}

/// Finalizes the build (its lock included) with the ejected files of both the local output
/// root's lock and the target's: an ejected file is published as it is, read from the local
/// root when ejected there, else from the target, never regenerated.
fn finalize_ejected(out: &mut Output, inputs: &[(String, Vec<u8>)], out_root: &Path, target: &Path, source_lock: Option<Lock>, target_lock: Option<&Lock>) -> Lock {
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
    let inputs: Vec<(String, &[u8])> = inputs.iter().map(|(p, b)| (p.clone(), b.as_slice())).collect();
    crate::build::finalize(out, &inputs, Some(&ejected), &disk);
    ejected
}

/// The files of the build under `deploy/`, relative to it: what the GitOps repository gets. The
/// rest (CI pipelines) lives in the source repository.
fn deploy_part(out: &Output) -> Output {
    let prefix = format!("{DEPLOY_DIR}/");
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
    deploy
}

/// The files published in the target directory now; none when it holds no platc lock (nothing
/// published yet, and nothing there is platc's to keep).
fn read_published(target: &Path, target_shown: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
    if !target.join(LOCK_FILE).is_file() {
        return Ok(Default::default());
    }
    crate::write::read_tree(target).map_err(|e| format!("cannot read {target_shown}: {e}"))
}

/// Adds the published files this build did not build: the other environments (and preview
/// instances). A full publish drops the files of services that no longer exist; a publish of
/// one environment (`partial`, `--env`) changes nothing outside it.
fn keep_unbuilt(deploy: &mut Output, old: &BTreeMap<String, Vec<u8>>, envs: &[EnvName], ws: &crate::model::Workspace, built: &[Placement], partial: bool) {
    let services: BTreeSet<&str> = ws.services.iter().map(|s| s.name.value.as_str()).collect();
    let built_envs: BTreeSet<&str> = built.iter().map(|p| p.env.as_str()).collect();
    let built_instances: BTreeSet<String> = built.iter().map(instance).collect();
    let mut kept = BTreeSet::new();
    for (p, b) in old {
        if deploy.files.contains_key(p) {
            continue;
        }
        let Some(placed) = classify(p, envs) else { continue };
        let (known, built) = if placed.by_instance {
            (environment_of_instance(envs, &placed.instance).is_some(), built_instances.contains(&placed.instance))
        } else {
            (true, built_envs.contains(placed.environment.as_str()))
        };
        if known && !built && (partial || placed.service.as_deref().is_none_or(|s| services.contains(s))) {
            deploy.add(p.clone(), b.clone());
            kept.insert(placed.instance);
        }
    }
    if !kept.is_empty() {
        eprintln!("note: kept the published files of {} (not built this time)", kept.into_iter().collect::<Vec<_>>().join(", "));
    }
}

/// `--remove`: drops the files of the instances built here. What every instance shares (chart
/// templates, values.yaml) stays: the other instances still use it.
fn remove_built(deploy: &mut Output, envs: &[EnvName], built: &[Placement]) {
    let built_instances: BTreeSet<String> = built.iter().map(instance).collect();
    let before = deploy.files.len();
    deploy.files.retain(|p, _| classify(p, envs).is_none_or(|pl| !built_instances.contains(&pl.instance)));
    eprintln!("removing {} ({} files)", built_instances.iter().cloned().collect::<Vec<_>>().join(", "), before - deploy.files.len());
}

/// Warns about generated files edited in the GitOps repository since platc published them (their
/// hash is not the lock's): the publish replaces such an edit, which only git's history keeps.
fn warn_edited(deploy: &Output, old: &BTreeMap<String, Vec<u8>>, lock: &Lock, target_shown: &str) {
    for (p, new) in &deploy.files {
        if let (Some(old), Some(h)) = (old.get(p), lock.outputs.get(&format!("{DEPLOY_DIR}/{p}"))) {
            if old != new && *h != hash(old) {
                eprintln!("warning: {target_shown}/{p} was edited in the GitOps repository since platc published it; this publish replaces the edit (it stays in the git history; to keep such edits, use a `patch` block or `platc eject`)");
            }
        }
    }
}

/// Writes `deploy` into the target directory and stages it; returns the staged paths, relative
/// to the target (none: the repository already holds this build). When staging fails the
/// directory is put back as committed.
fn write_and_stage(git: &Git, target: &Path, subdir: &str, deploy: &Output) -> Result<Vec<String>, String> {
    crate::write::write_tree(target, deploy)?;
    let pathspec = format!(":(literal){subdir}");
    if let Err(e) = git.ok(&["add", "--all", "--", &pathspec]) {
        undo_write(git, subdir);
        return Err(e);
    }
    let changed = match git.ok(&["diff", "--cached", "--name-only", "--no-renames", "-z"]) {
        Ok(t) => t,
        Err(e) => {
            undo_write(git, subdir);
            return Err(e);
        }
    };
    let sub_prefix = format!("{subdir}/");
    Ok(changed.split('\0').filter_map(|p| p.strip_prefix(&sub_prefix)).map(str::to_string).collect())
}

/// Commits what is staged with `message`. Without a configured identity git refuses to commit,
/// so platc's own stands in for it; a refused commit (a hook) puts the directory back.
fn commit(git: &Git, subdir: &str, message: &str, top_shown: &str) -> Result<(), String> {
    let mut committer = git.clone();
    for (key, fallback) in [("user.name", "platc"), ("user.email", "platc@localhost")] {
        if matches!(git.config_value(key), Ok(None)) {
            committer.config.push(format!("{key}={fallback}"));
        }
    }
    match committer.run_with_input(&["commit", "--quiet", "--cleanup=whitespace", "--file=-"], Some(message)) {
        Ok(r) if r.ok => Ok(()),
        Ok(r) => {
            undo_write(git, subdir);
            let why = [r.stderr.trim(), r.stdout.trim()].into_iter().find(|t| !t.is_empty()).unwrap_or("no message (did a commit hook refuse it?)").to_string();
            Err(format!("`git commit` failed in {top_shown}: {why}; nothing was published"))
        }
        Err(e) => {
            undo_write(git, subdir);
            Err(e)
        }
    }
}

/// Puts the target directory back as committed: unstaged, restored, new files removed.
fn undo_write(git: &Git, subdir: &str) {
    let pathspec = format!(":(literal){subdir}");
    let _ = git.run(&["reset", "--quiet", "--", &pathspec]);
    let _ = git.run(&["checkout", "--quiet", "--", &pathspec]);
    let _ = git.run(&["clean", "-fdq", "--", &pathspec]);
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

//! Writing outputs: deterministic bytes, written atomically.
//!
//! A build's output tree is assembled next to the output directory; the tree, the files outside
//! it and the lock are then committed as one unit under a journal ([`journal`]), so that
//! readers (and a failed or killed build) never see a half-written or mixed output: the next
//! run finishes a commit that a kill interrupted ([`recover`]), and an advisory lock on the
//! output root ([`exclusive`]) keeps two builds from mixing theirs. Files whose bytes did not
//! change are hard-linked from the previous tree, which keeps their mtimes: tools that watch
//! the tree see only what really changed.

#![warn(unreachable_pub, missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::emit::Output;
use crate::load::LOCK_FILE;
use platc_check::load;
use platc_emit::emit;
use platc_syntax::{diagnostics, par};

pub mod drift;
pub mod exclusive;
pub mod fault;
pub mod guard;
pub mod journal;
pub mod lock;
pub mod recover;
pub mod stage;
pub mod tree;

pub use lock::{Lock, LOCK_PATH};

/// Where deploy artifacts live under the output root; swapped in as one directory.
pub use crate::emit::DEPLOY_DIR;
/// The file that marks a directory written by `platc render --out`, which a later render may
/// replace.
pub const RENDER_MARKER: &str = ".platc-render";

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed, then
/// renamed over the target, so that readers never see a half-written file.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.platc-tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `sha256:<hex>` of some bytes.
pub fn hash(bytes: &[u8]) -> String {
    hash_text(&digest(bytes))
}

/// The SHA-256 digest of some bytes (32 bytes: what the streaming writer keeps per file).
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `sha256:<hex>` of a digest.
pub fn hash_text(d: &[u8; 32]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in d {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// What [`write_tree`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files written: new ones and ones whose bytes changed.
    pub written: usize,
    /// Files whose bytes did not change (hard-linked from the previous tree, or left as they were).
    pub unchanged: usize,
    /// Files removed: in the previous output, no longer generated.
    pub removed: usize,
}

/// Replaces the directory `dir` with exactly the files of `out`.
///
/// Refuses to replace a non-empty directory that is not a platc output (no lock file), so a
/// wrong `--out` never deletes someone's work.
pub fn write_tree(dir: &Path, out: &Output) -> Result<WriteReport, String> {
    write_marked_tree(dir, out, LOCK_FILE)
}

/// [`write_tree`] for a tree that `marker` (a file of `out`) identifies as its kind of platc
/// output: only a directory holding that marker (or an empty one) is replaced, so that a
/// `platc render --out` never replaces a build's tree, nor a build a render's.
pub fn write_marked_tree(dir: &Path, out: &Output, marker: &str) -> Result<WriteReport, String> {
    let files: Vec<(&str, &[u8])> = out.files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    write_files(dir, &files, marker)
}

/// [`write_tree`] of `(relative path, bytes)` pairs, sorted by path and unique, staged on all
/// cores (at 10,000 services the tree has ~770,000 files); the previous tree is compared file
/// by file, never held in memory whole.
fn write_files(dir: &Path, files: &[(&str, &[u8])], marker: &str) -> Result<WriteReport, String> {
    let tree = tree::StagedTree::new(dir, marker)?;
    crate::par::map_chunks(files, |chunk| chunk.iter().try_for_each(|(p, bytes)| tree.add(p, bytes))).into_iter().collect::<Result<(), String>>()?;
    tree.finish()
}

/// The staging and backup directories beside `dir` (hidden, named after this process; see
/// [`journal::staging_prefix`]).
fn staging_dirs(dir: &Path) -> (PathBuf, PathBuf) {
    let (parent, name) = tree_place(dir);
    let prefix = journal::staging_prefix(&name);
    (parent.join(format!("{prefix}new-{}", std::process::id())), parent.join(format!("{prefix}old-{}", std::process::id())))
}

/// The directory holding `dir`, and `dir`'s name (`out` when it has none).
fn tree_place(dir: &Path) -> (PathBuf, String) {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    (parent.to_path_buf(), name)
}

/// Refuses to replace a non-empty directory that is not a platc output of the same kind (no
/// `marker` file: the lock file of a build, [`RENDER_MARKER`] of a render), so a wrong `--out`
/// never deletes someone's work.
fn ensure_replaceable(dir: &Path, marker: &str) -> Result<(), String> {
    if dir.exists() && !dir.join(marker).is_file() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(format!("{} exists and is not a platc output (no {marker}); refusing to replace it: choose an empty or new --out directory", dir.display()));
    }
    Ok(())
}

/// Writes a build's output under `root`: the `deploy/` tree is swapped in atomically; files
/// outside it (CI workflows at the repository root) are committed after it, and files that an
/// earlier build generated there but this one does not are removed. Two commits, not one:
/// `platc build` streams through [`stage::Stager`], which commits all as one unit; this is for
/// benchmarks and callers that hold a whole [`Output`]. Overwrites and removes what it must (a
/// forced build): [`stage::Stager`] is what refuses to lose edits.
pub fn write_all(root: &Path, out: &Output, previous: Option<&Lock>) -> Result<WriteReport, String> {
    let prefix = format!("{DEPLOY_DIR}/");
    // Borrowed, not copied: the output can be hundreds of megabytes.
    let mut deploy: Vec<(&str, &[u8])> = Vec::new();
    let mut others = Vec::new();
    for (p, b) in &out.files {
        match p.strip_prefix(&prefix) {
            Some(rel) => deploy.push((rel, b.as_slice())),
            None => others.push((p, b)),
        }
    }
    let plan = plan_outside(root, &others, previous, &|p| out.files.contains_key(p), true)?;
    let mut report = write_files(&root.join(DEPLOY_DIR), &deploy, LOCK_FILE)?;
    let _guard = recover::open(root, DEPLOY_DIR, recover::Mode::Write)?;
    let mut commit = journal::Commit::new(root, DEPLOY_DIR);
    apply_outside(&plan, &mut report, &mut commit)?;
    commit.apply()?;
    Ok(report)
}

/// A file whose content a build would lose: it stops the build (unless forced) with a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Root-relative path.
    pub path: String,
    /// How its content would be lost.
    pub loss: Loss,
    /// A unified diff from what platc would leave (the new file, or nothing) to the disk.
    pub diff: String,
}

/// How a [`Conflict`]'s content would be lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// A generated file edited since platc wrote it (its hash differs from the lock's), which
    /// the build would overwrite.
    Edited,
    /// Such a file that platc no longer generates (a removed service or environment), which
    /// the build would delete.
    EditedRemoved,
    /// A file platc did not write (not in the lock) where it would write one: a user's own
    /// `.github/workflows/platc.yml` on the first build, a file put into `deploy/`.
    NotOurs,
}

/// The code of a build refused because it would lose a file's content.
pub const LOSS_CODE: crate::diagnostics::Code = crate::diagnostics::codes::WOULD_LOSE_CONTENT;

impl Conflict {
    /// One line saying what would be lost, before the diff.
    pub fn describe(&self) -> String {
        match self.loss {
            Loss::Edited => format!("{LOSS_CODE}: {} was edited by hand since platc wrote it; the build would overwrite it", self.path),
            Loss::EditedRemoved => format!("{LOSS_CODE}: {} was edited by hand since platc wrote it, and platc no longer generates it; the build would delete it", self.path),
            Loss::NotOurs => format!("{LOSS_CODE}: {} exists and platc did not write it (it is not in {LOCK_PATH}); the build would overwrite it", self.path),
        }
    }
}

/// What writing the files outside `deploy/` will do, decided before anything is written.
pub(crate) struct OutsidePlan<'a> {
    /// Each file to write, with the bytes it replaces.
    writes: Vec<OutsideWrite<'a>>,
    /// Each file to remove, with its bytes now.
    removals: Vec<(guard::GuardedPath, Vec<u8>)>,
    unchanged: usize,
    /// What would be lost (empty when forced).
    pub conflicts: Vec<Conflict>,
}

/// A file to write outside `deploy/`: its path, its new bytes and those it replaces.
type OutsideWrite<'a> = (guard::GuardedPath, &'a [u8], Option<Vec<u8>>);

/// Plans the files outside `deploy/` (CI workflows at the repository root): each generated
/// file is written unless its bytes are on disk already; a file on disk that platc did not
/// write as it is (a hand edit, a user's own file) is a [`Conflict`] unless `force`. Files an
/// earlier build generated there (the lock says) that this one does not are removed only when
/// they are still as platc wrote them. Every path is a [`guard::GuardedPath`]: a symbolic link
/// on the way is an error (E0802).
pub(crate) fn plan_outside<'a>(root: &Path, files: &[(&String, &'a Vec<u8>)], previous: Option<&Lock>, generated: &dyn Fn(&str) -> bool, force: bool) -> Result<OutsidePlan<'a>, String> {
    let mut plan = OutsidePlan { writes: Vec::new(), removals: Vec::new(), unchanged: 0, conflicts: Vec::new() };
    let listed = |p: &str| previous.and_then(|l| l.outputs.get(p));
    for (p, bytes) in files {
        let path = guard::GuardedPath::new(p).map_err(|why| format!("internal error: platc generated {p}, and the path {why}"))?;
        match path.read(root)? {
            Some(old) if old == **bytes => plan.unchanged += 1,
            Some(old) => {
                let loss = match listed(p) {
                    Some(h) if *h == hash(&old) => None,
                    Some(_) => Some(Loss::Edited),
                    None => Some(Loss::NotOurs),
                };
                if let Some(loss) = loss.filter(|_| !force) {
                    plan.conflicts.push(Conflict { path: (*p).clone(), loss, diff: drift::unified(p, bytes, &old) });
                }
                plan.writes.push((path, bytes.as_slice(), Some(old)));
            }
            None => plan.writes.push((path, bytes.as_slice(), None)),
        }
    }
    let prefix = format!("{DEPLOY_DIR}/");
    for (p, h) in previous.iter().flat_map(|l| l.outputs.iter()).filter(|(p, _)| !p.starts_with(&prefix) && !generated(p)) {
        // The lock's paths were guarded when it was parsed; checked again on the disk.
        let path = guard::GuardedPath::new(p).map_err(|why| format!("{LOCK_PATH}: the path {p} {why}"))?;
        let Some(old) = path.read(root)? else { continue };
        if *h != hash(&old) && !force {
            plan.conflicts.push(Conflict { path: p.clone(), loss: Loss::EditedRemoved, diff: drift::unified(p, b"", &old) });
        }
        plan.removals.push((path, old));
    }
    Ok(plan)
}

/// Stages an [`OutsidePlan`] that has no conflicts (or a forced one) into `commit`, which
/// carries it out with the rest of the build (and re-checks each path for links, see
/// [`journal::check_links`]).
pub(crate) fn apply_outside(plan: &OutsidePlan, report: &mut WriteReport, commit: &mut journal::Commit) -> Result<(), String> {
    report.unchanged += plan.unchanged;
    for (path, bytes, previous) in &plan.writes {
        commit.write(path.as_str(), bytes, previous.as_deref()).map_err(|e| format!("cannot stage {path}: {e}"))?;
        report.written += 1;
    }
    for (path, old) in &plan.removals {
        commit.remove(path.as_str(), old);
        report.removed += 1;
    }
    Ok(())
}

/// The relative paths (forward slashes) of every file under `dir`. A symbolic link in the
/// tree is an error (E0802): platc follows none and deletes none in its output, so a link
/// there is neither replaced nor silently dropped.
fn list_tree(dir: &Path) -> std::io::Result<std::collections::BTreeSet<String>> {
    let mut files = std::collections::BTreeSet::new();
    for entry in walkdir::WalkDir::new(dir).follow_root_links(false) {
        let entry = entry.map_err(std::io::Error::other)?;
        let rel: PathBuf = entry.path().strip_prefix(dir).unwrap_or(entry.path()).to_path_buf();
        let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        if entry.file_type().is_symlink() {
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let shown = if rel.is_empty() { name } else { format!("{name}/{rel}") };
            return Err(std::io::Error::other(format!(
                "{}: {shown} is a symbolic link; platc does not follow, replace or delete links in its output tree: remove it (or put the file it points at in its place)",
                guard::SYMLINK_CODE
            )));
        }
        if entry.file_type().is_file() {
            files.insert(rel);
        }
    }
    Ok(files)
}

/// Every file under `dir` by relative path (forward slashes).
pub fn read_tree(dir: &Path) -> std::io::Result<std::collections::BTreeMap<String, Vec<u8>>> {
    let mut files = std::collections::BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.file_type().is_file() {
            let rel: PathBuf = entry.path().strip_prefix(dir).unwrap_or(entry.path()).to_path_buf();
            let key = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            files.insert(key, std::fs::read(entry.path())?);
        }
    }
    Ok(files)
}

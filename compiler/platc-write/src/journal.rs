//! One commit of every output of a run, with a journal that makes it all-or-nothing across a
//! kill.
//!
//! A build stages everything first: the new tree `T` as `.T.platc-new-PID` beside it, each
//! file outside the tree (CI workflows) and the lock as files in `.T.platc-files-PID/`. Then a
//! small journal `.T.platc-journal` naming every staged item and its target is written and
//! synced: that is the commit point. The renames follow (the tree, the files outside it, the
//! lock last), then the previous tree and the staging folders are removed, then the journal.
//! Every step can be redone: a run that finds a journal (see [`super::recover`]) runs the same
//! steps again and finishes the commit, so that a kill anywhere leaves either the old outputs
//! whole (killed before the journal: the staged items are stale and removed) or, after the
//! next run, the new ones whole.
//!
//! The journal lives in the repository, so it is untrusted input like the lock: every path in
//! it must be relative, plain (no `..`), free of symlinks, and of the shape this module writes
//! (staged items named `.T.platc-…`, targets the tree itself, the lock, files under `deploy/`
//! or the CI files platc generates); a file is replaced only while it still holds the bytes
//! the commit expected to replace, and removed only while its hash is the one recorded.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::fault;
use crate::emit::ci::{GITHUB_WORKFLOW, GITLAB_PIPELINE};

/// The journal's format version; a journal of another version is refused, not guessed at.
const FORMAT: u32 = 1;

/// A commit's journal, as written to `.T.platc-journal`. Paths are relative to the directory
/// holding the tree, with forward slashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Journal {
    /// The format version it was written in (a journal of another version is refused).
    pub format: u32,
    /// The process that wrote it (for the message of the run that finishes it).
    pub pid: u32,
    /// Staged trees swapped in, in order.
    pub trees: Vec<TreeStep>,
    /// Files outside the tree, and files replaced inside it (`platc eject`).
    pub files: Vec<FileStep>,
    /// Renamed last: the lock, which says what the rest of the commit is.
    pub last: Vec<FileStep>,
    /// Staging folders removed at the end.
    pub cleanup: Vec<String>,
}

/// A staged tree swapped in: `target` moved to `backup`, `staged` moved to `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeStep {
    /// The staged tree.
    pub staged: String,
    /// The tree it replaces.
    pub target: String,
    /// Where the replaced tree is moved first, and removed from at the end.
    pub backup: String,
}

/// One file of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FileStep {
    /// `staged` renamed over `target`, which held `previous` (its hash; `None`: no file).
    Replace {
        /// The staged file.
        staged: String,
        /// The file it replaces.
        target: String,
        /// The hash `target` had before the commit; `None` when there was no file.
        previous: Option<String>,
        /// The hash of `staged`, which `target` has after the commit.
        new: String,
    },
    /// `target` removed; it held `hash`.
    Remove {
        /// The file removed.
        target: String,
        /// The hash it had.
        hash: String,
    },
}

/// The journal's name for the tree `tree`.
pub fn journal_name(tree: &str) -> String {
    format!(".{tree}.platc-journal")
}

/// The prefix of every staging item of `tree` (staged tree, backup, staged files, journal).
pub fn staging_prefix(tree: &str) -> String {
    format!(".{tree}.platc-")
}

/// A commit being assembled in `parent` for the tree named `tree`; see the module docs.
/// Dropping it before [`Commit::apply`] removes what it staged.
pub struct Commit {
    parent: PathBuf,
    tree: String,
    journal: Journal,
    files_dir: String,
    staged_files: usize,
    applied: bool,
}

impl Commit {
    /// Starts a commit of the tree `parent/tree` and of files beside it.
    pub fn new(parent: &Path, tree: &str) -> Commit {
        let pid = std::process::id();
        let files_dir = format!("{}files-{pid}", staging_prefix(tree));
        let journal = Journal { format: FORMAT, pid, trees: Vec::new(), files: Vec::new(), last: Vec::new(), cleanup: vec![files_dir.clone()] };
        Commit { parent: parent.to_path_buf(), tree: tree.to_string(), journal, files_dir, staged_files: 0, applied: false }
    }

    /// Whether nothing is to be committed.
    pub fn is_empty(&self) -> bool {
        self.journal.trees.is_empty() && self.journal.files.is_empty() && self.journal.last.is_empty()
    }

    /// Swaps the staged tree `staged` in for the tree (both directly in `parent`), keeping the
    /// old one at `backup` until the end.
    pub fn swap_tree(&mut self, staged: &Path, backup: &Path) {
        let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.journal.trees.push(TreeStep { staged: name(staged), target: self.tree.clone(), backup: name(backup) });
    }

    /// A new path to stage a file at (for callers that stream into it).
    pub fn staged_path(&mut self) -> std::io::Result<(String, PathBuf)> {
        let dir = self.parent.join(&self.files_dir);
        if self.staged_files == 0 {
            std::fs::create_dir_all(&dir)?;
        }
        self.staged_files += 1;
        let rel = format!("{}/{}", self.files_dir, self.staged_files);
        Ok((rel, dir.join(self.staged_files.to_string())))
    }

    /// Stages `bytes` (synced: CI files are few and small) to replace `target` (relative to
    /// `parent`), which holds `previous` now (`None`: no such file).
    pub fn write(&mut self, target: &str, bytes: &[u8], previous: Option<&[u8]>) -> std::io::Result<()> {
        let step = self.stage(target, bytes, previous)?;
        self.journal.files.push(step);
        Ok(())
    }

    /// [`Commit::write`], renamed after everything else (the lock).
    pub fn write_last(&mut self, target: &str, staged: String, previous: Option<String>, new: String) {
        self.journal.last.push(FileStep::Replace { staged, target: target.to_string(), previous, new });
    }

    /// Removes `target`, which holds `bytes` now.
    pub fn remove(&mut self, target: &str, bytes: &[u8]) {
        self.journal.files.push(FileStep::Remove { target: target.to_string(), hash: super::hash(bytes) });
    }

    fn stage(&mut self, target: &str, bytes: &[u8], previous: Option<&[u8]>) -> std::io::Result<FileStep> {
        let (staged, path) = self.staged_path()?;
        let mut f = std::fs::File::create(&path)?;
        std::io::Write::write_all(&mut f, bytes)?;
        f.sync_all()?;
        Ok(FileStep::Replace { staged, target: target.to_string(), previous: previous.map(super::hash), new: super::hash(bytes) })
    }

    /// Commits: writes and syncs the journal, runs its steps, removes it. Nothing is written
    /// when the commit is empty. Notes about files left alone go to stderr.
    pub fn apply(mut self) -> Result<(), String> {
        if self.is_empty() {
            return Ok(());
        }
        validate(&self.journal, &self.tree).map_err(|e| format!("internal error: {e}"))?;
        // Planned through guarded paths; checked again here, just before the renames, so that
        // a link planted meanwhile is not followed either.
        check_links(&self.parent, &self.journal)?;
        fault::point(fault::AFTER_STAGE);
        let path = self.parent.join(journal_name(&self.tree));
        let text = serde_json::to_vec_pretty(&self.journal).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        write_synced(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.applied = true;
        fault::point(fault::AFTER_JOURNAL);
        for note in run(&self.parent, &self.journal)? {
            eprintln!("note: {note}");
        }
        std::fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))
    }
}

impl Drop for Commit {
    fn drop(&mut self) {
        if !self.applied {
            let _ = std::fs::remove_dir_all(self.parent.join(&self.files_dir));
            for t in &self.journal.trees {
                let _ = std::fs::remove_dir_all(self.parent.join(&t.staged));
            }
        }
    }
}

/// Writes `path` through a synced temporary file and a rename, then syncs the directory, so
/// that the journal is either absent or whole, even across a power cut.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!("{name}-tmp-{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    std::io::Write::write_all(&mut f, bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    // Directories cannot be opened for syncing everywhere; where they can, the rename is made
    // durable too.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads the journal of `tree` in `parent`, if there is one; a journal that is not one this
/// module wrote is an error.
pub fn read(parent: &Path, tree: &str) -> Result<Option<Journal>, String> {
    let path = parent.join(journal_name(tree));
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let refuse = |why: String| {
        format!(
            "{} is not a journal of an interrupted platc commit ({why}); nothing was changed. If no platc build was killed here, delete it (and the `{}*` folders beside it) and run `platc build`",
            path.display(),
            staging_prefix(tree)
        )
    };
    let journal: Journal = serde_json::from_slice(&text).map_err(|e| refuse(e.to_string()))?;
    if journal.format != FORMAT {
        return Err(refuse(format!("format {}, this platc writes {FORMAT}", journal.format)));
    }
    validate(&journal, tree).map_err(refuse)?;
    Ok(Some(journal))
}

/// Finishes the commit of a journal (already [`read`]): its steps, then removes it. Returns
/// notes about files left alone.
pub fn finish(parent: &Path, tree: &str, journal: &Journal) -> Result<Vec<String>, String> {
    let notes = run(parent, journal)?;
    let path = parent.join(journal_name(tree));
    std::fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
    Ok(notes)
}

/// Runs every step of `journal`, each one only if it has not been done yet (so that a run that
/// finishes an interrupted commit runs the same code); the fault points between them are the
/// phases of [`fault`].
fn run(parent: &Path, journal: &Journal) -> Result<Vec<String>, String> {
    let mut notes = Vec::new();
    for t in &journal.trees {
        swap_tree(&parent.join(&t.staged), &parent.join(&t.target), &parent.join(&t.backup))?;
    }
    fault::point(fault::AFTER_DEPLOY_SWAP);
    for step in &journal.files {
        file_step(parent, step, &mut notes)?;
    }
    fault::point(fault::AFTER_OUTSIDE);
    for step in &journal.last {
        file_step(parent, step, &mut notes)?;
    }
    fault::point(fault::AFTER_LOCK);
    for t in &journal.trees {
        remove_dir(&parent.join(&t.backup))?;
    }
    for dir in &journal.cleanup {
        remove_dir(&parent.join(dir))?;
    }
    fault::point(fault::BEFORE_JOURNAL_REMOVE);
    Ok(notes)
}

/// The two renames of a tree swap, each done only if still to do: while `staged` exists it
/// has not been moved in, and whatever is at `target` then is the old tree.
fn swap_tree(staged: &Path, target: &Path, backup: &Path) -> Result<(), String> {
    if !staged.is_dir() {
        return Ok(());
    }
    if target.symlink_metadata().is_ok() {
        // A backup left by an earlier kill is stale: the old tree is the one at `target`.
        remove_dir(backup)?;
        std::fs::rename(target, backup).map_err(|e| format!("cannot move {} aside: {e}", target.display()))?;
        fault::point(fault::AFTER_DEPLOY_ASIDE);
    }
    std::fs::rename(staged, target).map_err(|e| format!("cannot move the new tree into {}: {e}", target.display()))
}

fn remove_dir(dir: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("cannot remove {}: {e}", dir.display())),
        _ => Ok(()),
    }
}

/// One file step, if still to do. A target whose bytes are neither those the commit expected
/// to replace nor the new ones changed since the commit began: it is left alone (with a note),
/// and the lock's hash for it tells the next build to judge it.
fn file_step(parent: &Path, step: &FileStep, notes: &mut Vec<String>) -> Result<(), String> {
    let current = |target: &str| match std::fs::read(parent.join(target)) {
        Ok(bytes) => Ok(Some(super::hash(&bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", parent.join(target).display())),
    };
    match step {
        FileStep::Replace { staged, target, previous, new } => {
            let staged = parent.join(staged);
            if !staged.is_file() {
                return Ok(());
            }
            let now = current(target)?;
            if now.as_ref() != Some(new) && now != *previous {
                notes.push(format!("{target} changed while platc was committing it: left as it is"));
                return std::fs::remove_file(&staged).map_err(|e| format!("cannot remove {}: {e}", staged.display()));
            }
            let path = parent.join(target);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            std::fs::rename(&staged, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        FileStep::Remove { target, hash } => match current(target)? {
            Some(h) if h == *hash => std::fs::remove_file(parent.join(target)).map_err(|e| format!("cannot remove {}: {e}", parent.join(target).display())),
            Some(_) => {
                notes.push(format!("{target} changed while platc was removing it: left as it is"));
                Ok(())
            }
            None => Ok(()),
        },
    }
}

/// Checks that every path of `journal` has the shape this module writes (see the module docs).
fn validate(journal: &Journal, tree: &str) -> Result<(), String> {
    let prefix = staging_prefix(tree);
    let staged = |p: &str| plain(p) && p.starts_with(&prefix);
    for t in &journal.trees {
        if t.target != tree || !staged(&t.staged) || !staged(&t.backup) || t.staged.contains('/') || t.backup.contains('/') {
            return Err(format!("a tree step that is not platc's: {} -> {} (aside: {})", t.staged, t.target, t.backup));
        }
    }
    // Files are committed only with a build's tree (`deploy/`): its lock, the CI files outside
    // it, files inside it.
    let deploy = tree == super::DEPLOY_DIR;
    let target_ok = |p: &str| deploy && plain(p) && (p == GITHUB_WORKFLOW || p == GITLAB_PIPELINE || p.starts_with(&format!("{tree}/")));
    for step in journal.files.iter().chain(&journal.last) {
        let ok = match step {
            FileStep::Replace { staged: s, target, .. } => staged(s) && target_ok(target),
            FileStep::Remove { target, .. } => target_ok(target),
        };
        if !ok {
            return Err(format!("a file step that is not platc's: {step:?}"));
        }
    }
    if let Some(dir) = journal.cleanup.iter().find(|d| !staged(d) || d.contains('/')) {
        return Err(format!("a folder to remove that is not platc's: {dir}"));
    }
    Ok(())
}

/// A relative path of plain components only (no `..`, `.`, root or prefix, no backslash).
fn plain(p: &str) -> bool {
    !p.is_empty() && !p.contains('\\') && Path::new(p).components().all(|c| matches!(c, Component::Normal(_)))
}

/// Whether a component of `rel` below `parent` (the last included) is a symlink: a journal
/// step never goes through one, so that a planted link cannot lead a rename out of the root.
pub fn through_symlink(parent: &Path, rel: &str) -> bool {
    let mut at = parent.to_path_buf();
    rel.split('/').any(|c| {
        at.push(c);
        at.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink())
    })
}

/// [`validate`], and no path of the journal through a symlink (checked on disk, at recovery).
pub fn check_links(parent: &Path, journal: &Journal) -> Result<(), String> {
    let mut paths: Vec<&str> = Vec::new();
    for t in &journal.trees {
        paths.extend([t.staged.as_str(), t.target.as_str(), t.backup.as_str()]);
    }
    for step in journal.files.iter().chain(&journal.last) {
        match step {
            FileStep::Replace { staged, target, .. } => paths.extend([staged.as_str(), target.as_str()]),
            FileStep::Remove { target, .. } => paths.push(target),
        }
    }
    paths.extend(journal.cleanup.iter().map(String::as_str));
    match paths.into_iter().find(|p| through_symlink(parent, p)) {
        Some(p) => Err(format!("{p} is or goes through a symlink; nothing was changed")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(files: Vec<FileStep>) -> Journal {
        Journal {
            format: FORMAT,
            pid: 1,
            trees: vec![TreeStep { staged: ".deploy.platc-new-1".into(), target: "deploy".into(), backup: ".deploy.platc-old-1".into() }],
            files,
            last: Vec::new(),
            cleanup: vec![".deploy.platc-files-1".into()],
        }
    }

    #[test]
    fn accepts_what_a_build_writes_and_refuses_paths_out_of_the_root() {
        let ok = journal(vec![FileStep::Replace { staged: ".deploy.platc-files-1/1".into(), target: GITHUB_WORKFLOW.into(), previous: None, new: "sha256:x".into() }]);
        assert_eq!(validate(&ok, "deploy"), Ok(()));
        for target in ["../outside/victim.txt", "/etc/passwd", ".git/hooks/pre-commit", "deploy/../x", "platform.kdl"] {
            let bad = journal(vec![FileStep::Remove { target: target.into(), hash: "sha256:x".into() }]);
            assert!(validate(&bad, "deploy").is_err(), "{target} accepted");
        }
        let mut bad = ok.clone();
        bad.trees[0].staged = "../elsewhere".into();
        assert!(validate(&bad, "deploy").is_err());
        // A render's tree commits no files.
        assert!(validate(&ok, "out").is_err());
    }
}

//! A directory tree assembled beside the one it replaces, file by file as they are made, then
//! swapped in by a [`Commit`] (two renames under a journal, see [`super::journal`]): what
//! `platc build` ([`super::stage`]) and `platc render --out` and [`super::write_tree`]
//! ([`StagedTree`]) write through, so that neither has to hold its output in memory and
//! readers never see a half-written tree, even after a kill.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::journal::Commit;
use super::recover::{self, Guard};
use super::WriteReport;

/// A tree being staged beside `dir`. Dropping it before it is committed removes the staging
/// directory: `dir` stays as it was.
pub struct Staging {
    /// The directory the tree replaces.
    pub dir: PathBuf,
    staging: PathBuf,
    backup: PathBuf,
    /// Files of the tree being replaced, relative to `dir`.
    pub old: BTreeSet<String>,
    /// Directories already created in the staging tree: one `mkdir` per directory, not per
    /// file.
    dirs: Mutex<HashSet<PathBuf>>,
    done: bool,
}

/// What [`Staging::file`] did with one file.
pub enum Staged {
    /// The same bytes as the replaced tree's: hard-linked from it (its mtime kept).
    Unchanged,
    /// Written; with the replaced tree's different bytes, if it had the file.
    Written {
        /// The replaced tree's bytes of the file, when it had the file.
        previous: Option<Vec<u8>>,
    },
}

impl Staging {
    /// Starts staging a tree for `dir`, which must be new, empty, or hold `marker` (a platc
    /// output of that kind: a build's lock file, a render's marker).
    pub fn new(dir: &Path, marker: &str) -> Result<Self, String> {
        super::ensure_replaceable(dir, marker)?;
        let old = if dir.exists() { super::list_tree(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))? } else { BTreeSet::new() };
        let (staging, backup) = super::staging_dirs(dir);
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| format!("cannot create {}: {e}", staging.display()))?;
        Ok(Staging { dir: dir.to_path_buf(), staging, backup, old, dirs: Mutex::default(), done: false })
    }

    /// Where `rel` is staged.
    pub fn staged_path(&self, rel: &str) -> PathBuf {
        self.staging.join(rel)
    }

    /// Stages one file (`rel`: relative to the tree, forward slashes). Safe from many threads.
    pub fn file(&self, rel: &str, bytes: &[u8]) -> std::io::Result<Staged> {
        let target = self.staging.join(rel);
        if let Some(parent) = target.parent() {
            if !self.dirs.lock().unwrap_or_else(|e| e.into_inner()).contains(parent) {
                // Safe from two threads at once: create_dir_all accepts a directory that appeared.
                std::fs::create_dir_all(parent)?;
                self.dirs.lock().unwrap_or_else(|e| e.into_inner()).insert(parent.to_path_buf());
            }
        }
        let current = self.dir.join(rel);
        let on_disk = if self.old.contains(rel) { std::fs::read(&current).ok() } else { None };
        if on_disk.as_deref() == Some(bytes) && std::fs::hard_link(&current, &target).is_ok() {
            return Ok(Staged::Unchanged);
        }
        // No fsync per file: the tree becomes visible only through the final rename, and
        // syncing tens of thousands of files costs minutes for no reader-visible benefit (like
        // cargo, platc leaves durability across power loss to the file system).
        std::fs::write(&target, bytes)?;
        Ok(Staged::Written { previous: on_disk.filter(|old| old.as_slice() != bytes) })
    }

    /// The directory holding `dir` and `dir`'s name: where its commit's journal and staging
    /// items live.
    pub fn place(&self) -> (PathBuf, String) {
        super::tree_place(&self.dir)
    }

    /// Adds the swap of the staged tree in place of `dir` to `commit` when `changed` (the
    /// commit then owns the staging directory); otherwise the staging directory is removed
    /// and `dir` stays as it is.
    pub fn commit_into(mut self, commit: &mut Commit, changed: bool) {
        if changed {
            self.done = true;
            commit.swap_tree(&self.staging, &self.backup);
        }
    }

    /// Puts the staged tree in place of `dir` when `changed` (a commit of its own); otherwise
    /// leaves `dir` as it is. The staging directory is gone afterwards either way.
    pub fn finish(self, changed: bool) -> Result<(), String> {
        let (parent, name) = self.place();
        let mut commit = Commit::new(&parent, &name);
        self.commit_into(&mut commit, changed);
        commit.apply()
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// A tree written file by file into [`Staging`] and swapped in by [`StagedTree::finish`],
/// unless nothing changed: `platc render --out` (as it renders, its marker added last) and
/// [`super::write_tree`]. Only counts stay in memory.
pub struct StagedTree {
    /// The lock on the directory holding the tree, held until the tree is committed (boxed:
    /// callers keep a `StagedTree` in enums beside small variants).
    _guard: Box<Guard>,
    tree: Staging,
    written: AtomicUsize,
    unchanged: AtomicUsize,
    /// Files staged that the replaced tree also had (for the count of removed files).
    kept: AtomicUsize,
}

impl StagedTree {
    /// Starts a tree for `dir`, which must be new, empty, or hold `marker`: locks the
    /// directory holding it, finishes a commit a killed run left and removes stale staging
    /// folders first (see [`recover::open`]).
    pub fn new(dir: &Path, marker: &str) -> Result<Self, String> {
        let (parent, name) = super::tree_place(dir);
        let guard = recover::open(&parent, &name, recover::Mode::Write)?;
        Ok(StagedTree { _guard: Box::new(guard), tree: Staging::new(dir, marker)?, written: AtomicUsize::new(0), unchanged: AtomicUsize::new(0), kept: AtomicUsize::new(0) })
    }

    /// Stages one file; each path once. Safe from many threads.
    pub fn add(&self, rel: &str, bytes: &[u8]) -> Result<(), String> {
        let staged = self.tree.file(rel, bytes).map_err(|e| format!("cannot write {}: {e}", self.tree.staged_path(rel).display()))?;
        let counter = match staged {
            Staged::Unchanged => &self.unchanged,
            Staged::Written { .. } => &self.written,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if self.tree.old.contains(rel) {
            self.kept.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Swaps the tree in, unless nothing changed.
    pub fn finish(self) -> Result<WriteReport, String> {
        let report = WriteReport { written: self.written.into_inner(), unchanged: self.unchanged.into_inner(), removed: self.tree.old.len() - self.kept.into_inner() };
        self.tree.finish(report.written > 0 || report.removed > 0)?;
        Ok(report)
    }
}

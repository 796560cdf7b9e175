//! Streaming a build into its output tree: `platc build` hands each service's files to a
//! [`Stager`] as soon as they are emitted, so that a monorepo's output (gigabytes at 10,000
//! services) never has to be held in memory.
//!
//! The new `deploy/` tree is assembled beside the old one and committed with the files outside
//! it and the lock as one unit ([`super::journal`]: a kill at any point is finished by the next
//! run) only when the build succeeded; files whose bytes did not change are hard-linked from
//! the previous tree (mtimes kept); nothing is swapped in when nothing changed. Nothing is lost
//! without a word: a generated file edited by hand since platc wrote it, a file platc did not
//! write where it would write one, and an edited file of a removed service or environment stop
//! the build (unless forced) and nothing is written ([`super::Conflict`]). Files in `deploy/`
//! that the lock does not list are the user's: they are kept as they are, even when forced.
//! Only hashes, paths and counts stay in memory. The caller holds the output root's lock
//! ([`super::recover::open`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::drift::unified;
use super::journal::Commit;
use super::tree::{Staged, Staging};
use super::{digest, hash, Conflict, Lock, Loss, WriteReport, DEPLOY_DIR, LOCK_PATH};
use crate::emit::{Output, Sink};

/// Why a staged build was not swapped in.
#[derive(Debug)]
pub enum Refused {
    /// Files whose content the build would lose (hand edits, files platc did not write),
    /// sorted by path. Nothing was written.
    Lost(Vec<Conflict>),
    /// An I/O problem (exit code 2). Nothing was swapped in.
    Io(String),
}

/// A `deploy/` tree being assembled beside the current one; see the module docs. Dropping a
/// stager that was not [`finish`](Stager::finish)ed removes the staging directory.
pub struct Stager<'a> {
    root: PathBuf,
    /// The `deploy/` tree being staged (paths relative to `deploy/`).
    tree: Staging,
    previous: Option<&'a Lock>,
    force: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Digest of every staged generated file, by root-relative path (the lock's outputs);
    /// 32 bytes each, not text: there are ~800,000 at 10,000 services.
    hashes: BTreeMap<String, [u8; 32]>,
    written: usize,
    unchanged: usize,
    hand_edited: Vec<Conflict>,
    /// Files outside `deploy/` (CI workflows), written one by one at the end.
    outside: Output,
}

impl<'a> Stager<'a> {
    /// Starts staging the `deploy/` tree under `root`. Refuses a `deploy/` that is not a
    /// platc output.
    pub fn new(root: &Path, previous: Option<&'a Lock>, force: bool) -> Result<Self, String> {
        // `deploy` or its lock as a symbolic link would make the staging read (and the swap
        // move) something outside the output root: refused (E0802).
        super::guard::GuardedPath::new(LOCK_PATH)?.resolve(root)?;
        let tree = Staging::new(&root.join(DEPLOY_DIR), crate::load::LOCK_FILE)?;
        Ok(Stager { root: root.to_path_buf(), tree, previous, force, state: Mutex::new(State::default()) })
    }

    /// Whether a file (root-relative) was staged as generated.
    pub fn generated(&self, path: &str) -> bool {
        let state = self.lock();
        state.hashes.contains_key(path) || state.outside.files.contains_key(path)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_ejected(&self, path: &str) -> bool {
        self.previous.is_some_and(|l| l.ejected.contains(path))
    }

    /// Stages one generated file under `deploy/`; returns (digest, unchanged, what the write
    /// would lose).
    fn stage_one(&self, path: &str, rel: &str, bytes: &[u8]) -> std::io::Result<([u8; 32], bool, Option<Conflict>)> {
        let lost = match self.tree.file(rel, bytes)? {
            Staged::Unchanged => return Ok((digest(bytes), true, None)),
            Staged::Written { previous: None } => None,
            // Different bytes on disk: a hand edit unless platc wrote them (the lock says).
            Staged::Written { previous: Some(old) } => {
                let loss = match self.previous.and_then(|l| l.outputs.get(path)) {
                    Some(h) if *h == hash(&old) => None,
                    Some(_) => Some(Loss::Edited),
                    None => Some(Loss::NotOurs),
                };
                loss.filter(|_| !self.force).map(|loss| Conflict { path: path.to_string(), loss, diff: unified(path, bytes, &old) })
            }
        };
        Ok((digest(bytes), false, lost))
    }

    /// Files of the current `deploy/` that this build does not stage (`staged`, relative to
    /// `deploy/`): those the lock lists are removed, unless edited since platc wrote them (a
    /// [`Conflict`] then, unless forced); the others are not platc's and are kept (returned).
    fn removals(&self, staged: &BTreeSet<&str>) -> Result<(Vec<String>, Vec<Conflict>), String> {
        let (mut left_alone, mut lost) = (Vec::new(), Vec::new());
        for rel in self.tree.old.iter().filter(|p| !staged.contains(p.as_str())) {
            let path = format!("{DEPLOY_DIR}/{rel}");
            match self.previous.and_then(|l| l.outputs.get(&path)) {
                None => left_alone.push(rel.clone()),
                Some(_) if self.force => {}
                Some(h) => {
                    let old = std::fs::read(self.tree.dir.join(rel)).map_err(|e| format!("cannot read {path}: {e}"))?;
                    if *h != hash(&old) {
                        lost.push(Conflict { diff: unified(&path, b"", &old), path, loss: Loss::EditedRemoved });
                    }
                }
            }
        }
        Ok((left_alone, lost))
    }

    /// Files in `deploy/` that the lock does not list and this build does not generate: the
    /// user's, which the build keeps as they are (root-relative paths), so they can be named.
    pub fn left_alone(&self) -> Vec<String> {
        let prefix = format!("{DEPLOY_DIR}/");
        let state = self.lock();
        let ejected: BTreeSet<String> = self.previous.map(|l| l.ejected.clone()).unwrap_or_default();
        let listed = |p: &String| self.previous.is_some_and(|l| l.outputs.contains_key(p)) || ejected.contains(p) || state.hashes.contains_key(p) || p == LOCK_PATH;
        self.tree.old.iter().map(|rel| format!("{prefix}{rel}")).filter(|p| !listed(p)).collect()
    }

    /// Commits the staged tree (when anything in it changed), the files outside `deploy/` and
    /// the lock (last) as one unit. `inputs` are the lock's inputs.
    pub fn finish(self, inputs: &[(String, &[u8])]) -> Result<WriteReport, Refused> {
        let mut state = std::mem::take(&mut *self.lock());
        let prefix = format!("{DEPLOY_DIR}/");
        let lock_rel = LOCK_PATH.strip_prefix(&prefix).unwrap_or(LOCK_PATH);
        // Ejected files stay as the user has them (and out of the lock's outputs).
        let ejected: BTreeSet<String> = self.previous.map(|l| l.ejected.clone()).unwrap_or_default();
        let hand_edited = std::mem::take(&mut state.hand_edited);
        let (outside_plan, left_alone) = self.judge(&state.outside.files, &state.hashes, hand_edited, &ejected)?;
        let ejected_rels = ejected.iter().filter_map(|p| p.strip_prefix(&prefix)).map(str::to_string);
        let kept = self.keep(ejected_rels.chain(left_alone))?;
        for (p, b) in &state.outside.files {
            state.hashes.insert(p.clone(), digest(b));
        }
        let mut report = WriteReport { written: state.written, unchanged: state.unchanged, removed: 0 };
        {
            let staged: BTreeSet<&str> = state.hashes.keys().filter_map(|p| p.strip_prefix(&prefix)).chain(kept.iter().map(String::as_str)).chain([lock_rel]).collect();
            report.removed = self.tree.old.iter().filter(|p| !staged.contains(p.as_str())).count();
        }
        // The tree changed: whatever the lock says, it is written last, after the files it
        // describes; until then the swapped-in tree keeps the old lock.
        let tree_changed = state.written > 0 || report.removed > 0;
        let mut commit = Commit::new(&self.root, DEPLOY_DIR);
        let lock = self.stage_lock(&mut commit, inputs, &state.hashes, &ejected)?;
        if lock.previous == Some(lock.digest) {
            report.unchanged += 1;
        } else {
            report.written += 1;
        }
        drop(std::mem::take(&mut state.hashes));
        if tree_changed && lock.previous.is_some() {
            let old = self.tree.dir.join(lock_rel);
            let staged = self.tree.staged_path(lock_rel);
            std::fs::hard_link(&old, &staged).or_else(|_| std::fs::copy(&old, &staged).map(|_| ())).map_err(|e| Refused::Io(format!("cannot stage {LOCK_PATH}: {e}")))?;
        }
        self.tree.commit_into(&mut commit, tree_changed);
        super::apply_outside(&outside_plan, &mut report, &mut commit).map_err(Refused::Io)?;
        if lock.previous != Some(lock.digest) {
            commit.write_last(LOCK_PATH, lock.staged, lock.previous.as_ref().map(super::hash_text), super::hash_text(&lock.digest));
        }
        commit.apply().map_err(Refused::Io)?;
        Ok(report)
    }

    /// Nothing is lost without --force: every overwrite and removal, in deploy/ and outside it
    /// (`outside`: the CI files), is judged before anything is swapped in or written. The plan
    /// for the files outside `deploy/`, and the user's files in it, which are kept.
    fn judge<'s>(
        &self,
        outside: &'s BTreeMap<String, Vec<u8>>,
        hashes: &BTreeMap<String, [u8; 32]>,
        hand_edited: Vec<Conflict>,
        ejected: &BTreeSet<String>,
    ) -> Result<(super::OutsidePlan<'s>, Vec<String>), Refused> {
        let io = |e: String| Refused::Io(e);
        let prefix = format!("{DEPLOY_DIR}/");
        let lock_rel = LOCK_PATH.strip_prefix(&prefix).unwrap_or(LOCK_PATH);
        let files: Vec<(&String, &Vec<u8>)> = outside.iter().filter(|(p, _)| !ejected.contains(*p)).collect();
        let generated = |p: &str| outside.contains_key(p) || ejected.contains(p);
        let plan = super::plan_outside(&self.root, &files, self.previous, &generated, self.force).map_err(io)?;
        let staged: BTreeSet<&str> = hashes.keys().filter_map(|p| p.strip_prefix(&prefix)).chain(ejected.iter().filter_map(|p| p.strip_prefix(&prefix))).chain([lock_rel]).collect();
        let (left_alone, removal_losses) = self.removals(&staged).map_err(io)?;
        let mut lost: Vec<Conflict> = hand_edited.into_iter().chain(removal_losses).chain(plan.conflicts.iter().cloned()).collect();
        if !lost.is_empty() {
            // Staged on all cores: sort for a stable report.
            lost.sort_by(|a, b| a.path.cmp(&b.path));
            return Err(Refused::Lost(lost));
        }
        Ok((plan, left_alone))
    }

    /// Links the files of the old tree that stay as they are (`rels`, relative to `deploy/`:
    /// ejected files and the user's) into the staged tree; the ones that exist.
    fn keep(&self, rels: impl Iterator<Item = String>) -> Result<BTreeSet<String>, Refused> {
        let mut kept = BTreeSet::new();
        for rel in rels.filter(|rel| self.tree.old.contains(rel)) {
            let target = self.tree.staged_path(&rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Refused::Io(format!("cannot create {}: {e}", parent.display())))?;
            }
            std::fs::hard_link(self.tree.dir.join(&rel), &target)
                .or_else(|_| std::fs::copy(self.tree.dir.join(&rel), &target).map(|_| ()))
                .map_err(|e| Refused::Io(format!("cannot keep {DEPLOY_DIR}/{rel}: {e}")))?;
            kept.insert(rel);
        }
        Ok(kept)
    }

    /// Writes the new lock to its staging place in `commit`, straight from the digests: at
    /// 10,000 services the lock lists ~800,000 outputs (~80 MB of text), which neither a `Lock`
    /// value nor the text needs to hold in memory.
    fn stage_lock(&self, commit: &mut Commit, inputs: &[(String, &[u8])], hashes: &BTreeMap<String, [u8; 32]>, ejected: &BTreeSet<String>) -> Result<StagedLock, Refused> {
        let lock_rel = LOCK_PATH.strip_prefix(&format!("{DEPLOY_DIR}/")).unwrap_or(LOCK_PATH).to_string();
        let input_hashes: BTreeMap<String, String> = inputs.iter().map(|(p, b)| (p.clone(), hash(b))).collect();
        let (staged, target) = commit.staged_path().map_err(|e| Refused::Io(format!("cannot stage {LOCK_PATH}: {e}")))?;
        let written = std::fs::File::create(&target).and_then(|file| {
            let mut w = HashingWriter { inner: std::io::BufWriter::with_capacity(1 << 20, file), hasher: Sha256::new() };
            super::lock::write(
                &mut w,
                env!("CARGO_PKG_VERSION"),
                input_hashes.iter().map(|(p, h)| (p.as_str(), h.as_str())),
                hashes.iter().filter(|(p, _)| !ejected.contains(*p)).map(|(p, d)| (p.as_str(), super::hash_text(d))),
                ejected.iter().map(String::as_str),
            )?;
            Ok(<[u8; 32]>::from(w.hasher.finalize()))
        });
        let digest = written.map_err(|e| Refused::Io(format!("cannot write {}: {e}", target.display())))?;
        let previous = if self.tree.old.contains(&lock_rel) { file_digest(&self.tree.dir.join(&lock_rel)).ok() } else { None };
        Ok(StagedLock { staged, digest, previous })
    }
}

/// The new lock, staged: its name in the journal, its digest, and the digest of the lock it
/// replaces (none for a first build).
struct StagedLock {
    staged: String,
    digest: [u8; 32],
    previous: Option<[u8; 32]>,
}

impl Sink for Stager<'_> {
    fn add(&self, files: Vec<(String, Vec<u8>)>) -> Result<(), String> {
        let prefix = format!("{DEPLOY_DIR}/");
        let mut staged = Vec::with_capacity(files.len());
        let mut outside = Vec::new();
        for (path, bytes) in files {
            if self.is_ejected(&path) {
                continue;
            }
            let Some(rel) = path.strip_prefix(&prefix) else {
                outside.push((path, bytes));
                continue;
            };
            let result = self.stage_one(&path, rel, &bytes).map_err(|e| format!("cannot write {}: {e}", self.tree.staged_path(rel).display()))?;
            staged.push((path, result));
        }
        let mut state = self.lock();
        for (path, (h, same, lost)) in staged {
            if same {
                state.unchanged += 1;
            } else {
                state.written += 1;
            }
            if let Some(conflict) = lost {
                state.hand_edited.push(conflict);
            }
            state.hashes.insert(path, h);
        }
        for (p, b) in outside {
            state.outside.add(p, b);
        }
        Ok(())
    }
}

/// A writer that hashes what goes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The SHA-256 of a file, read in pieces.
fn file_digest(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut w = HashingWriter { inner: std::io::sink(), hasher: Sha256::new() };
    std::io::copy(&mut std::fs::File::open(path)?, &mut w)?;
    Ok(w.hasher.finalize().into())
}

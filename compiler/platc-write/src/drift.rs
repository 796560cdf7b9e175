//! `build --check` and `diff`: compare a build in memory with what is on disk, without
//! writing anything.

use std::collections::BTreeSet;
use std::path::Path;

use super::guard::GuardedPath;
use super::{hash, Lock, DEPLOY_DIR};
use crate::emit::Output;

/// One difference between a fresh build and the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Generated but not on disk.
    Missing(String),
    /// On disk in the output tree as platc wrote it (the lock lists it), but no longer
    /// generated: a build removes it.
    Unexpected(String),
    /// On disk under `deploy/`, but platc did not write it (the lock does not list it) and
    /// does not generate it: the user's, which builds leave alone. Not drift.
    NotOurs(String),
    /// On disk as platc last wrote it, but the build now generates something else: a spec
    /// changed and nobody rebuilt.
    Stale {
        /// The root-relative path.
        path: String,
        /// A unified diff from the disk to the fresh build (empty when the caller asked for none).
        diff: String,
    },
    /// On disk, but not as platc last wrote it: someone edited a generated file.
    HandEdited {
        /// The root-relative path.
        path: String,
        /// A unified diff from what the build would leave (the generated file, or nothing when it
        /// is no longer generated) to the disk: the edit a build would lose.
        diff: String,
    },
}

impl Finding {
    /// The root-relative path of the file the finding is about.
    pub fn path(&self) -> &str {
        match self {
            Finding::Missing(p) | Finding::Unexpected(p) | Finding::NotOurs(p) => p,
            Finding::Stale { path, .. } | Finding::HandEdited { path, .. } => path,
        }
    }
}

/// A unified diff from `old` to `new` with file headers.
pub fn unified(path: &str, old: &[u8], new: &[u8]) -> String {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    similar::TextDiff::from_lines(old.as_ref(), new.as_ref()).unified_diff().context_radius(3).header(&format!("a/{path}"), &format!("b/{path}")).to_string()
}

/// Compares `out` (a complete build, lock file included) with the tree under `root`.
/// Ejected files are not judged.
pub fn compare(root: &Path, out: &Output, previous: Option<&Lock>) -> Result<Vec<Finding>, String> {
    judge(root, out, previous, true)
}

/// Only the generated files edited by hand since platc wrote them (what `platc build` refuses
/// to overwrite): [`compare`] without the work of diffing stale files.
pub fn hand_edits(root: &Path, out: &Output, previous: Option<&Lock>) -> Result<Vec<Finding>, String> {
    Ok(judge(root, out, previous, false)?.into_iter().filter(|f| matches!(f, Finding::HandEdited { .. })).collect())
}

/// Files are read one at a time, on all cores, and never held together: at scale the tree is
/// hundreds of megabytes. Every path is read as a [`GuardedPath`]: a symbolic link on the way
/// (a planted `.github`, `deploy` or a link inside `deploy/`) is an error (E0802).
fn judge(root: &Path, out: &Output, previous: Option<&Lock>, stale_diffs: bool) -> Result<Vec<Finding>, String> {
    GuardedPath::new(super::LOCK_PATH)?.resolve(root)?;
    let deploy = root.join(DEPLOY_DIR);
    let mut on_disk: BTreeSet<String> = if deploy.is_dir() {
        super::list_tree(&deploy).map_err(|e| format!("cannot read {}: {e}", deploy.display()))?.into_iter().map(|p| format!("{DEPLOY_DIR}/{p}")).collect()
    } else {
        BTreeSet::new()
    };
    // Files outside deploy/: those generated now and those an earlier build generated.
    let prefix = format!("{DEPLOY_DIR}/");
    let outside: BTreeSet<&String> = out.files.keys().chain(previous.map(|l| l.outputs.keys()).into_iter().flatten()).filter(|p| !p.starts_with(&prefix)).collect();
    for p in outside {
        let path = GuardedPath::new(p).map_err(|why| format!("the path {p} {why}"))?;
        path.resolve(root)?;
        if std::fs::symlink_metadata(root.join(p)).is_ok_and(|m| m.is_file()) {
            on_disk.insert(p.clone());
        }
    }
    let ejected = previous.map(|l| l.ejected.clone()).unwrap_or_default();
    let files: Vec<(&String, &Vec<u8>)> = out.files.iter().filter(|(p, _)| !ejected.contains(*p)).collect();
    let mut findings: Vec<Finding> = crate::par::map_chunks(&files, |chunk| {
        let mut found = Vec::new();
        for (p, new) in chunk {
            if !on_disk.contains(*p) {
                found.push(Finding::Missing((*p).clone()));
                continue;
            }
            // Guarded on the way in (deploy/ has no links, outside paths were resolved).
            let Ok(old) = std::fs::read(root.join(p)) else {
                found.push(Finding::Missing((*p).clone()));
                continue;
            };
            if old == **new {
                continue;
            }
            let written_by_platc = previous.and_then(|l| l.outputs.get(*p)).is_some_and(|h| *h == hash(&old));
            // The lock file is platc's own record; it can only be stale.
            if written_by_platc || p.ends_with(super::LOCK_PATH) {
                let diff = if stale_diffs { unified(p, &old, new) } else { String::new() };
                found.push(Finding::Stale { path: (*p).clone(), diff });
            } else {
                found.push(Finding::HandEdited { path: (*p).clone(), diff: unified(p, new, &old) });
            }
        }
        found
    })
    .into_iter()
    .flatten()
    .collect();
    for p in on_disk.iter().filter(|p| !out.files.contains_key(*p) && !ejected.contains(*p)) {
        let Some(h) = previous.and_then(|l| l.outputs.get(p)) else {
            findings.push(Finding::NotOurs(p.clone()));
            continue;
        };
        // No longer generated: removed by a build if it is as platc wrote it; an edit of it
        // stops the build, so it is reported as one (the diff shows what would be lost).
        let old = std::fs::read(root.join(p)).map_err(|e| format!("cannot read {p}: {e}"))?;
        if *h == hash(&old) {
            findings.push(Finding::Unexpected(p.clone()));
        } else {
            findings.push(Finding::HandEdited { path: p.clone(), diff: unified(p, b"", &old) });
        }
    }
    findings.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(findings)
}

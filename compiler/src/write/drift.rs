//! `build --check` and `diff`: compare a build in memory with what is on disk, without
//! writing anything.

use std::collections::BTreeSet;
use std::path::Path;

use super::{hash, read_tree, Lock, DEPLOY_DIR};
use crate::emit::Output;

/// One difference between a fresh build and the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Generated but not on disk.
    Missing(String),
    /// On disk in the output tree, but no longer generated.
    Unexpected(String),
    /// On disk as platc last wrote it, but the build now generates something else: a spec
    /// changed and nobody rebuilt.
    Stale { path: String, diff: String },
    /// On disk, but not as platc last wrote it: someone edited a generated file.
    HandEdited { path: String, diff: String },
}

impl Finding {
    pub fn path(&self) -> &str {
        match self {
            Finding::Missing(p) | Finding::Unexpected(p) => p,
            Finding::Stale { path, .. } | Finding::HandEdited { path, .. } => path,
        }
    }
}

/// A unified diff from `old` to `new` with file headers.
pub fn unified(path: &str, old: &[u8], new: &[u8]) -> String {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    similar::TextDiff::from_lines(old.as_ref(), new.as_ref())
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// Compares `out` (a complete build, lock file included) with the tree under `root`.
/// Ejected files are not judged.
pub fn compare(root: &Path, out: &Output, previous: Option<&Lock>) -> Result<Vec<Finding>, String> {
    let deploy = root.join(DEPLOY_DIR);
    let mut disk = if deploy.is_dir() {
        read_tree(&deploy).map_err(|e| format!("cannot read {}: {e}", deploy.display()))?.into_iter().map(|(p, b)| (format!("{DEPLOY_DIR}/{p}"), b)).collect()
    } else {
        std::collections::BTreeMap::new()
    };
    // Files outside deploy/: those generated now and those an earlier build generated.
    let prefix = format!("{DEPLOY_DIR}/");
    let outside: BTreeSet<&String> = out.files.keys().chain(previous.map(|l| l.outputs.keys()).into_iter().flatten()).filter(|p| !p.starts_with(&prefix)).collect();
    for p in outside {
        if let Ok(b) = std::fs::read(root.join(p)) {
            disk.insert(p.clone(), b);
        }
    }
    let ejected = previous.map(|l| l.ejected.clone()).unwrap_or_default();
    let mut findings = Vec::new();
    for (p, new) in &out.files {
        if ejected.contains(p) {
            continue;
        }
        match disk.get(p) {
            None => findings.push(Finding::Missing(p.clone())),
            Some(old) if old == new => {}
            Some(old) => {
                let written_by_platc = previous.and_then(|l| l.outputs.get(p)).is_some_and(|h| *h == hash(old));
                // The lock file is platc's own record; it can only be stale.
                if written_by_platc || p.ends_with(super::LOCK_PATH) {
                    findings.push(Finding::Stale { path: p.clone(), diff: unified(p, old, new) });
                } else {
                    findings.push(Finding::HandEdited { path: p.clone(), diff: unified(p, new, old) });
                }
            }
        }
    }
    for p in disk.keys() {
        if !out.files.contains_key(p) && !ejected.contains(p) {
            findings.push(Finding::Unexpected(p.clone()));
        }
    }
    findings.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(findings)
}

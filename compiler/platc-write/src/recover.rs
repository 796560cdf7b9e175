//! What every command that reads or writes an output root does first: lock it (see
//! [`super::exclusive`]), finish a commit that a killed run left (see [`super::journal`]), and
//! deal with staging folders that a killed run left (removed by writers, reported by readers).

use std::path::{Path, PathBuf};

use super::exclusive::{self, Held};
use super::journal::{self, journal_name, staging_prefix};
use super::{DEPLOY_DIR, LOCK_PATH};
use crate::emit::ci::{GITHUB_WORKFLOW, GITLAB_PIPELINE};

/// What the command will do with the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write it (`build`, `eject`, `render --out`): stale staging folders are removed.
    Write,
    /// Only read it (`build --check`, `diff`): stale staging folders are reported.
    Read,
}

/// A staging folder or temporary file left by a killed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The folder or file left behind.
    pub path: PathBuf,
    /// The bytes of the files under it (symlinks not followed).
    pub bytes: u64,
}

/// The output root, locked for the life of this value, with a finished commit and no stale
/// staging left (in [`Mode::Write`]).
#[derive(Debug)]
pub struct Guard {
    _held: Option<Held>,
    /// Whether an interrupted commit was finished.
    pub recovered: bool,
    /// Stale items found ([`Mode::Read`]) or removed ([`Mode::Write`]).
    pub stale: Vec<Stale>,
}

/// Opens the tree `parent/tree` for a command: locks `parent`, finishes an interrupted commit,
/// then removes (or, to read, reports) stale staging items; all said on stderr. `parent` is
/// created when writing; a missing `parent` has nothing to lock or recover when reading.
pub fn open(parent: &Path, tree: &str, mode: Mode) -> Result<Guard, String> {
    if mode == Mode::Write {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    } else if !parent.is_dir() {
        return Ok(Guard { _held: None, recovered: false, stale: Vec::new() });
    }
    let held = exclusive::lock(parent)?;
    let recovered = match journal::read(parent, tree)? {
        Some(j) => {
            journal::check_links(parent, &j).map_err(|e| format!("{}: {e}", parent.join(journal_name(tree)).display()))?;
            eprintln!("note: finishing the commit of a platc run that was killed (process {}): {}", j.pid, describe(&j));
            for note in journal::finish(parent, tree, &j)? {
                eprintln!("note: {note}");
            }
            true
        }
        None => false,
    };
    let stale = stale(parent, tree);
    for s in &stale {
        let shown = s.path.strip_prefix(parent).unwrap_or(&s.path).display().to_string();
        match mode {
            Mode::Write => {
                let removed = if s.path.is_dir() { std::fs::remove_dir_all(&s.path) } else { std::fs::remove_file(&s.path) };
                removed.map_err(|e| format!("cannot remove {}, left by a killed platc run: {e}", s.path.display()))?;
                eprintln!("note: removed {shown} ({}), left by a killed platc run", size(s.bytes));
            }
            Mode::Read => eprintln!("stale: {shown} ({}) was left by a killed platc run; `platc build` removes it", size(s.bytes)),
        }
    }
    Ok(Guard { _held: Some(held), recovered, stale })
}

/// What a journal commits, in a few words.
fn describe(j: &journal::Journal) -> String {
    let trees: Vec<&str> = j.trees.iter().map(|t| t.target.as_str()).collect();
    let files = j.files.len() + j.last.len();
    match (trees.is_empty(), files) {
        (false, 0) => format!("{}/", trees.join(", ")),
        (false, n) => format!("{}/ and {n} file(s)", trees.join(", ")),
        (true, n) => format!("{n} file(s)"),
    }
}

/// Staging items of `tree` in `parent` (`.T.platc-new-*`, `-old-*`, `-files-*`, a journal's
/// temporary file) and, for a build's tree, the temporary files of [`super::atomic_write`]
/// beside the lock and the CI files, each with its size. Only processes holding the lock
/// write these, and it is held here: whatever exists was left by one that died.
fn stale(parent: &Path, tree: &str) -> Vec<Stale> {
    let prefix = staging_prefix(tree);
    let journal = journal_name(tree);
    let mut found: Vec<PathBuf> = entries(parent).into_iter().filter(|n| n.starts_with(&prefix) && *n != journal).map(|n| parent.join(n)).collect();
    if tree == DEPLOY_DIR {
        for target in [LOCK_PATH, GITHUB_WORKFLOW, GITLAB_PIPELINE] {
            let path = parent.join(target);
            let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { continue };
            let tmp = format!(".{}.platc-tmp-", name.to_string_lossy());
            found.extend(entries(dir).into_iter().filter(|n| n.starts_with(&tmp)).map(|n| dir.join(n)));
        }
    }
    found.sort();
    found.into_iter().map(|path| Stale { bytes: bytes_under(&path), path }).collect()
}

/// The names in `dir` (none when it cannot be read).
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default()
}

/// The bytes of the files under `path` (symlinks not followed).
fn bytes_under(path: &Path) -> u64 {
    walkdir::WalkDir::new(path).into_iter().filter_map(|e| e.ok()).filter(|e| e.file_type().is_file()).filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum()
}

/// `512 B`, `3.4 MB`, `1.2 GB`.
fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1_000 => format!("{b} B"),
        b if b < 1_000_000 => format!("{:.1} KB", b as f64 / 1e3),
        b if b < 1_000_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b => format!("{:.1} GB", b as f64 / 1e9),
    }
}

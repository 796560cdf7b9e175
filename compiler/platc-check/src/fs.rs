//! File access behind a trait, so that the compiler runs on an in-memory tree in tests and on
//! the real disk in the CLI (the approach of Gleam's compiler-core).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Directory names never searched for specs: VCS data, build output, dependencies.
pub const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules", ".terraform", "vendor", "dist"];

/// The read side of a file system.
pub trait FileSystem: Sync {
    /// Reads a whole file as UTF-8 text.
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
    /// Reads a whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// The file's first `max` bytes at most, and its size: a file larger than the input limit
    /// is never read whole (`syntax/limits.rs`).
    fn read_at_most(&self, path: &Path, max: usize) -> io::Result<(Vec<u8>, usize)> {
        let mut bytes = self.read(path)?;
        let size = bytes.len();
        bytes.truncate(max);
        Ok((bytes, size))
    }
    /// True when `path` is a directory.
    fn is_dir(&self, path: &Path) -> bool;
    /// True when `path` is a file.
    fn is_file(&self, path: &Path) -> bool;
    /// Whether `path` itself is a symbolic link (not followed). An in-memory tree has none.
    fn is_symlink(&self, path: &Path) -> bool {
        let _ = path;
        false
    }
    /// Every file under `root`, recursively, in a stable (sorted) order. Directories for which
    /// `skip_dir` returns true are not entered.
    fn walk(&self, root: &Path, skip_dir: &(dyn Fn(&Path) -> bool + Sync)) -> io::Result<Vec<PathBuf>>;
}

/// Directories listed one level at a time before the rest is shared out among the cores:
/// enough that each core gets several subtrees.
const WALK_FRONTIER: usize = 64;

/// The real disk.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

impl FileSystem for RealFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn read_at_most(&self, path: &Path, max: usize) -> io::Result<(Vec<u8>, usize)> {
        use std::io::Read;
        let file = std::fs::File::open(path)?;
        let size = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
        if size <= max {
            // The common case: one read of the whole file, as `std::fs::read` does.
            let mut bytes = Vec::with_capacity(size);
            file.take(max as u64 + 1).read_to_end(&mut bytes)?;
            let size = size.max(bytes.len());
            bytes.truncate(max);
            return Ok((bytes, size));
        }
        let mut bytes = Vec::new();
        file.take(max as u64).read_to_end(&mut bytes)?;
        Ok((bytes, size))
    }

    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        let bytes = std::fs::read(path)?;
        String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()))
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn is_symlink(&self, path: &Path) -> bool {
        std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
    }

    fn walk(&self, root: &Path, skip_dir: &(dyn Fn(&Path) -> bool + Sync)) -> io::Result<Vec<PathBuf>> {
        // A monorepo is wide (`services/` holds thousands of directories) and listing a
        // directory is a few system calls: the top levels are listed here until there are
        // enough directories to share out, then their subtrees are walked on every core. The
        // result is sorted, which is the order of a sorted depth-first walk.
        let mut files = Vec::new();
        let mut frontier = vec![root.to_path_buf()];
        while !frontier.is_empty() && frontier.len() < WALK_FRONTIER {
            let mut next = Vec::new();
            for dir in frontier.iter().filter(|d| *d == root || !skip_dir(d)) {
                // One level: `read_dir` alone (walkdir would open each subdirectory here too).
                for entry in std::fs::read_dir(dir)? {
                    let entry = entry?;
                    let kind = entry.file_type()?;
                    if kind.is_file() {
                        files.push(entry.path());
                    } else if kind.is_dir() {
                        next.push(entry.path());
                    } else if kind.is_symlink() {
                        check_link(&entry.path(), skip_dir)?;
                    }
                }
            }
            frontier = next;
        }
        let subtrees = crate::par::map_chunks(&frontier, |dirs| -> io::Result<Vec<PathBuf>> {
            let mut found = Vec::new();
            for dir in dirs.iter().filter(|d| !skip_dir(d)) {
                walk_into(dir, skip_dir, &mut found)?;
            }
            Ok(found)
        });
        for found in subtrees {
            files.extend(found?);
        }
        files.sort();
        Ok(files)
    }
}

/// Every file under `dir`, which was already found not to be skipped, into `files`.
fn walk_into(dir: &Path, skip_dir: &(dyn Fn(&Path) -> bool + Sync), files: &mut Vec<PathBuf>) -> io::Result<()> {
    let entries = walkdir::WalkDir::new(dir).into_iter().filter_entry(|e| e.depth() == 0 || !e.file_type().is_dir() || !skip_dir(e.path()));
    for entry in entries {
        let entry = entry.map_err(|e| {
            let msg = e.to_string();
            e.into_io_error().unwrap_or_else(|| io::Error::other(msg))
        })?;
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        } else if entry.file_type().is_symlink() {
            check_link(entry.path(), skip_dir)?;
        }
    }
    Ok(())
}

/// A symbolic link met while walking for inputs, which the walk does not follow (error E0803):
/// a link named like a spec, or one that leads to a directory (which may hold specs), would be
/// an input read on the word of a link, and perhaps from outside the platform directory; so
/// rather than leave it out of the build without a word, the walk stops and names it. Other
/// links (a README pointing elsewhere) are no input and stay ignored, as do links where the
/// walk does not go (`skip_dir`: dot directories, `node_modules`, output trees).
#[derive(Debug)]
pub struct LinkRefused {
    /// The link, as found by the walk.
    pub link: PathBuf,
    /// Where it points (as written in the link).
    pub target: PathBuf,
}

/// The code of a refused input link.
pub const LINK_CODE: crate::diagnostics::Code = crate::diagnostics::codes::INPUT_SYMLINK;

impl std::fmt::Display for LinkRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{LINK_CODE}: {} is a symbolic link (to {}); platc does not read specs through links, so that nothing outside the platform directory is read on the word of one: replace the link with the file or directory itself",
            self.link.display(),
            self.target.display()
        )
    }
}

impl std::error::Error for LinkRefused {}

/// Refuses (see [`LinkRefused`]) the link at `path` if it would be an input.
fn check_link(path: &Path, skip_dir: &(dyn Fn(&Path) -> bool + Sync)) -> io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let spec = name == crate::load::SERVICE_FILE || name == crate::load::PLATFORM_FILE;
    // Only the kind of the target is looked at (one stat), never its content.
    let dir = !spec && std::fs::metadata(path).is_ok_and(|m| m.is_dir()) && !skip_dir(path);
    if spec || dir {
        return Err(io::Error::other(LinkRefused { link: path.to_path_buf(), target: std::fs::read_link(path).unwrap_or_default() }));
    }
    Ok(())
}

/// An in-memory tree for tests: paths map to contents.
#[derive(Debug, Default, Clone)]
pub struct MemoryFs {
    /// Each file's contents, by path.
    pub files: BTreeMap<PathBuf, String>,
}

impl MemoryFs {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> &mut Self {
        self.files.insert(path.into(), text.into());
        self
    }
}

impl FileSystem for MemoryFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.read_to_string(path).map(String::into_bytes)
    }

    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.files.get(path).cloned().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{} not found", path.display())))
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.files.keys().any(|p| p != path && p.starts_with(path))
    }

    fn is_file(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }

    fn walk(&self, root: &Path, skip_dir: &(dyn Fn(&Path) -> bool + Sync)) -> io::Result<Vec<PathBuf>> {
        if !self.is_dir(root) {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{} not found", root.display())));
        }
        Ok(self
            .files
            .keys()
            .filter(|p| p.starts_with(root))
            .filter(|p| {
                let rel = p.strip_prefix(root).unwrap_or(p);
                let mut dir = root.to_path_buf();
                let comps: Vec<_> = rel.components().collect();
                comps[..comps.len().saturating_sub(1)].iter().all(|c| {
                    dir.push(c);
                    !skip_dir(&dir)
                })
            })
            .cloned()
            .collect())
    }
}

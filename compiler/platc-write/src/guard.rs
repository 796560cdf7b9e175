//! Guarded paths: the only way platc turns a path from its own records (the lock) or from its
//! outputs into a file it reads, writes or deletes.
//!
//! In CI platc runs on what a pull request controls, `deploy/platc.lock` and the generated tree
//! included, so a path from them is untrusted. A [`GuardedPath`] is relative, normalized
//! (forward slashes; no empty, `.` or `..` component; no absolute, drive or UNC prefix; no
//! backslash, colon or control character) and names a place platc generates: under `deploy/`
//! or one of the CI files at the root. Every read, write and delete through it first checks,
//! component by component with `symlink_metadata`, that nothing on the way from the output
//! root is a symbolic link, so that a planted `.github -> /elsewhere` makes the build refuse
//! instead of writing through it (error E0802).
//!
//! The check and the I/O are two system calls, not one: a process that swaps a directory for
//! a link between them wins the race. That needs code running beside platc, which a pull
//! request does not have; what it controls is the tree as checked out, which is what is checked.

use std::path::{Path, PathBuf};

use super::DEPLOY_DIR;
use crate::emit::ci::{GITHUB_WORKFLOW, GITLAB_PIPELINE};

/// The code of a symbolic link found where platc reads, writes or deletes.
pub const SYMLINK_CODE: crate::diagnostics::Code = crate::diagnostics::codes::OUTPUT_SYMLINK;

/// A path relative to the output root that platc may read, write or delete (see the module
/// docs). Construct it with [`GuardedPath::new`]; the I/O methods re-check the disk each time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuardedPath(String);

impl GuardedPath {
    /// Validates `path`: `Err` says why it is refused, in words that finish "the path ...".
    pub fn new(path: &str) -> Result<GuardedPath, String> {
        shape(path)?;
        let deploy = format!("{DEPLOY_DIR}/");
        if !(path.starts_with(&deploy) || path == GITHUB_WORKFLOW || path == GITLAB_PIPELINE) {
            return Err(format!("is not a place platc writes (under {deploy}, or {GITHUB_WORKFLOW}, or {GITLAB_PIPELINE})"));
        }
        Ok(GuardedPath(path.to_string()))
    }

    /// The path, forward slashes.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where the path is under `root`, after checking that no existing component on the way
    /// is a symbolic link (or a file where a directory must be). A missing component is fine:
    /// a write creates it.
    pub fn resolve(&self, root: &Path) -> Result<PathBuf, String> {
        let mut at = root.to_path_buf();
        let parts: Vec<&str> = self.0.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => {
                    let target = std::fs::read_link(&at).map(|t| t.display().to_string()).unwrap_or_default();
                    let shown = parts[..=i].join("/");
                    return Err(format!(
                        "{SYMLINK_CODE}: {shown} is a symbolic link (to {target}); platc does not read, write or delete through links in its output tree: remove the link and run the command again"
                    ));
                }
                Ok(m) if i + 1 < parts.len() && !m.is_dir() => {
                    return Err(format!("{SYMLINK_CODE}: {} is not a directory, but platc writes {} inside it: move it away", parts[..=i].join("/"), self.0));
                }
                Ok(_) => {}
                // The rest does not exist yet: nothing below can be a link.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(root.join(&self.0)),
                Err(e) => return Err(format!("cannot inspect {}: {e}", at.display())),
            }
        }
        Ok(at)
    }

    /// The file's bytes, `None` when it does not exist (or is not a file).
    pub fn read(&self, root: &Path) -> Result<Option<Vec<u8>>, String> {
        let path = self.resolve(root)?;
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => std::fs::read(&path).map(Some).map_err(|e| format!("cannot read {}: {e}", path.display())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Writes the file atomically, creating its directories.
    pub fn write(&self, root: &Path, bytes: &[u8]) -> Result<(), String> {
        let path = self.resolve(root)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        // Checked again: the directories created above are plain ones, and the target's
        // own kind is known before the rename replaces it.
        let path = self.resolve(root)?;
        super::atomic_write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Deletes the file; `Ok(false)` when it was not there.
    pub fn remove(&self, root: &Path) -> Result<bool, String> {
        let path = self.resolve(root)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
        }
    }
}

impl std::fmt::Display for GuardedPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The shape rules of a guarded path, without the rule of where platc writes.
fn shape(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("is empty".into());
    }
    if path.starts_with('/') {
        return Err("is absolute".into());
    }
    if let Some(c) = path.chars().find(|c| c.is_control()) {
        return Err(format!("holds the control character {:?}", c));
    }
    if path.contains('\\') {
        return Err("holds a backslash (platc writes forward slashes only)".into());
    }
    if path.contains(':') {
        // `C:x`, `C:/x`, `//?/C:`: a drive prefix on Windows, never in a generated path.
        return Err("holds a colon (a drive prefix on Windows)".into());
    }
    for part in path.split('/') {
        match part {
            "" => return Err("has an empty component (`//` or a trailing `/`)".into()),
            "." => return Err("has a `.` component (it is not normalized)".into()),
            ".." => return Err("has a `..` component (it could leave the output root)".into()),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_generated_places_only() {
        for ok in ["deploy/platc.lock", "deploy/hello/chart/values.yaml", ".github/workflows/platc.yml", ".gitlab-ci.yml", "deploy/a..b/x.yaml", "deploy/.hidden"] {
            assert_eq!(GuardedPath::new(ok).map(|p| p.as_str().to_string()), Ok(ok.to_string()), "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("/etc/passwd", "absolute"),
            ("/proc/self/environ", "absolute"),
            ("deploy/../../x", "`..`"),
            ("../x", "`..`"),
            ("deploy/./x", "`.`"),
            ("deploy//x", "empty component"),
            ("deploy/x/", "empty component"),
            ("deploy\\..\\x", "backslash"),
            ("C:/Windows/x", "colon"),
            ("deploy/c:x", "colon"),
            ("//server/share/x", "absolute"),
            ("deploy/x\ny", "control"),
            ("platform.kdl", "not a place platc writes"),
            ("hello/service.kdl", "not a place platc writes"),
            (".github/workflows/other.yml", "not a place platc writes"),
            ("deployx/y", "not a place platc writes"),
        ] {
            let err = GuardedPath::new(bad).expect_err(bad);
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn refuses_a_symlink_on_the_way_and_allows_missing_parts() {
        // A fresh directory of this test (no tempfile crate in the compiler's dependencies).
        let dir = std::env::temp_dir().join(format!("platc-guard-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("root");
        let outside = dir.join("outside");
        std::fs::create_dir_all(root.join("deploy")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let p = GuardedPath::new(".github/workflows/platc.yml").unwrap();
        assert_eq!(p.resolve(&root), Ok(root.join(".github/workflows/platc.yml")), "missing parts are fine");
        p.write(&root, b"x").unwrap();
        assert_eq!(p.read(&root), Ok(Some(b"x".to_vec())));
        assert_eq!(p.remove(&root), Ok(true));
        assert_eq!(p.remove(&root), Ok(false));

        #[cfg(unix)]
        {
            std::fs::remove_dir_all(root.join(".github")).unwrap();
            std::os::unix::fs::symlink(&outside, root.join(".github")).unwrap();
            for err in [p.write(&root, b"y").unwrap_err(), p.read(&root).unwrap_err(), p.remove(&root).unwrap_err()] {
                assert!(err.contains("E0802") && err.contains(".github is a symbolic link"), "{err}");
            }
            assert!(std::fs::read_dir(&outside).unwrap().next().is_none(), "nothing was written through the link");

            std::fs::write(outside.join("secret"), b"s").unwrap();
            std::os::unix::fs::symlink(outside.join("secret"), root.join("deploy/platc.lock")).unwrap();
            let lock = GuardedPath::new("deploy/platc.lock").unwrap();
            assert!(lock.read(&root).unwrap_err().contains("deploy/platc.lock is a symbolic link"));
            assert!(lock.remove(&root).is_err());
            assert!(outside.join("secret").is_file(), "the link's target is untouched");
        }

        std::fs::write(root.join("deploy/file"), b"f").unwrap();
        let under_file = GuardedPath::new("deploy/file/x").unwrap();
        assert!(under_file.write(&root, b"z").unwrap_err().contains("not a directory"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

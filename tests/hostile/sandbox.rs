//! The sandbox every hostile case runs in: a temporary directory holding
//! - `outside/`: files that must never be read into an output nor changed (a fake
//!   `environ` with a token, a file a hostile lock names, a directory a symlink points at);
//! - `repo/`: a copy of an example (its platform.kdl and services); the output root is `repo/`.
//!
//! [`Sandbox::surroundings`] hashes every file and symlink under the sandbox except the
//! generated parts of the output root (`repo/deploy/`, `repo/.github/`, `repo/.gitlab-ci.yml`),
//! so a case asserts `before == after` to prove that nothing else changed.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::TempDir;

/// A secret that lives outside the repository: no output and no report may ever contain it.
pub const OUTSIDE_SECRET: &str = "ghp_OUTSIDEsecretTOKEN0123456789abcdefABCD";

/// What a platc run did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams, for messages and assertions.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Asserts an exit code of 1 or 2, and that the output mentions `needle` (a diagnostic code
    /// or a phrase of the message).
    pub fn assert_refused(&self, needle: &str) {
        assert!(self.code == 1 || self.code == 2, "expected exit 1 or 2, got {}:\n{}", self.code, self.all());
        assert!(self.all().contains(needle), "expected `{needle}` in the output:\n{}", self.all());
        self.assert_no_leak();
    }

    /// Asserts that nothing from outside the repository reached the output.
    pub fn assert_no_leak(&self) {
        assert!(!self.all().contains(OUTSIDE_SECRET), "a secret from outside the repository was printed:\n{}", self.all());
    }

    /// Asserts exit 0.
    pub fn assert_ok(&self) {
        assert_eq!(self.code, 0, "expected success:\n{}", self.all());
        self.assert_no_leak();
    }
}

/// A temporary sandbox with `outside/` and `repo/` (see the module docs).
pub struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    /// A sandbox whose `repo/` is a copy of `examples/EXAMPLE`.
    pub fn new(example: &str) -> Sandbox {
        let dir = TempDir::new("hostile");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(example);
        copy_dir(&src, &dir.path().join("repo"));
        let sb = Sandbox { dir };
        sb.write_outside("environ", format!("PATH=/usr/bin\nGITHUB_TOKEN={OUTSIDE_SECRET}\n"));
        sb.write_outside("victim.txt", "a file outside the output root\n");
        sb.write_outside("target-dir/keep.txt", "a directory a symlink may point at\n");
        sb
    }

    /// The sandbox directory.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The repository (and output root).
    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// The directory outside the repository.
    pub fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    /// Writes a file under `outside/`; returns its absolute path.
    pub fn write_outside(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        write(&self.outside().join(rel), bytes.as_ref())
    }

    /// Writes a file under `repo/`; returns its absolute path.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        write(&self.repo().join(rel), bytes.as_ref())
    }

    /// Reads a file under `repo/`.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.repo().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
    }

    /// Runs the platc binary (the newer of `target/release` and `target/debug`) in `repo/`.
    pub fn platc(&self, args: &[&str]) -> Run {
        self.platc_env(args, &[])
    }

    /// [`Sandbox::platc`] with extra environment variables.
    pub fn platc_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let bin = binary();
        let out = Command::new(&bin).args(args).current_dir(self.repo()).envs(env.iter().copied()).env("NO_COLOR", "1").output().unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        Run { code: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
    }

    /// `platc build` in the repository, asserted to succeed: the "previous output" of a case.
    pub fn build_ok(&self) {
        self.platc(&["build"]).assert_ok();
    }

    /// A hash of every file and symlink under the sandbox except the generated parts of the
    /// output root: what no hostile input may change.
    pub fn surroundings(&self) -> BTreeMap<String, String> {
        let generated = |rel: &str| rel.starts_with("repo/deploy") || rel.starts_with("repo/.github") || rel == "repo/.gitlab-ci.yml";
        fingerprint(self.root(), &|rel| !generated(rel))
    }

    /// A hash of every file and symlink under `repo/REL` (the previous output, to compare).
    pub fn tree(&self, rel: &str) -> BTreeMap<String, String> {
        fingerprint(&self.repo().join(rel), &|_| true)
    }

    /// Every generated file of the output root with its hash: `repo/deploy/`, `repo/.github/`.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        let generated = |rel: &str| rel.starts_with("deploy") || rel.starts_with(".github") || rel == ".gitlab-ci.yml";
        fingerprint(&self.repo(), &|rel| generated(rel))
    }
}

/// `path -> sha256` of every file (and `-> link TARGET` of every symlink, never followed)
/// under `dir` for which `keep(relative path)` holds. Relative paths use forward slashes.
pub fn fingerprint(dir: &Path, keep: &dyn Fn(&str) -> bool) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if !dir.exists() {
        return map;
    }
    for entry in walkdir::WalkDir::new(dir).follow_links(false).sort_by_file_name() {
        let entry = entry.expect("walk the sandbox");
        let rel = entry.path().strip_prefix(dir).unwrap().components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        if rel.is_empty() || !keep(&rel) {
            continue;
        }
        let kind = entry.file_type();
        if kind.is_symlink() {
            let target = std::fs::read_link(entry.path()).expect("read link");
            map.insert(rel, format!("link {}", target.display()));
        } else if kind.is_file() {
            let bytes = std::fs::read(entry.path()).expect("read file");
            map.insert(rel, platc_write::hash(&bytes));
        } else if kind.is_dir() {
            map.insert(rel, "dir".to_string());
        }
    }
    map
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).expect("create parent dir");
    std::fs::write(path, bytes).expect("write file");
    path.to_path_buf()
}

fn copy_dir(src: &Path, dst: &Path) {
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.expect("walk example");
        let rel = entry.path().strip_prefix(src).unwrap();
        let target = dst.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("create dir");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// `target/release/platc` or `target/debug/platc`, the newer when both exist (CI builds the
/// release binary first; a debug build is enough while working on one case).
pub fn binary() -> PathBuf {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| ws.join("target"));
    let target = if target.is_absolute() { target } else { ws.join(target) };
    let name = format!("platc{}", std::env::consts::EXE_SUFFIX);
    let mtime = |p: &PathBuf| p.metadata().and_then(|m| m.modified()).ok();
    ["release", "debug"]
        .iter()
        .map(|p| target.join(p).join(&name))
        .filter(|p| p.is_file())
        .max_by_key(mtime)
        .unwrap_or_else(|| panic!("no platc binary under {}: run `cargo build --release` first", target.display()))
}

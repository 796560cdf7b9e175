//! The git command line, run as a child process (no git library): `git -C DIR ARGS...`.
//!
//! Variables that would point git at another repository (`GIT_DIR`, `GIT_WORK_TREE`, ...,
//! set when platc runs inside a git hook) are removed, so that `DIR` is always the repository
//! operated on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const REPOSITORY_VARS: [&str; 6] = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX"];

/// A git working tree (or any directory inside one).
#[derive(Debug, Clone)]
pub struct Git {
    /// The directory every command runs in (`git -C DIR`).
    pub dir: PathBuf,
    /// `-c KEY=VALUE` settings given to every command.
    pub config: Vec<String>,
}

/// What a git command printed.
#[derive(Debug, Clone)]
pub struct Run {
    /// True when git exited with status 0.
    pub ok: bool,
    /// Standard output, as printed (invalid UTF-8 replaced).
    pub stdout: String,
    /// Standard error, trimmed (invalid UTF-8 replaced).
    pub stderr: String,
}

impl Git {
    /// Git run in `dir`, with no `-c` settings.
    pub fn new(dir: impl Into<PathBuf>) -> Git {
        Git { dir: dir.into(), config: Vec::new() }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.dir);
        for c in &self.config {
            cmd.arg("-c").arg(c);
        }
        cmd.args(args);
        for v in REPOSITORY_VARS {
            cmd.env_remove(v);
        }
        cmd
    }

    /// Runs a command, optionally feeding `stdin`; `Err` only when git cannot be started.
    pub fn run_with_input(&self, args: &[&str], stdin: Option<&str>) -> Result<Run, String> {
        let mut cmd = self.command(args);
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("cannot run git: {e} (platc needs the git command line on PATH)"))?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).map_err(|e| format!("cannot write to git: {e}"))?;
        }
        let out = child.wait_with_output().map_err(|e| format!("cannot run git: {e}"))?;
        Ok(Run { ok: out.status.success(), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: String::from_utf8_lossy(&out.stderr).trim().to_string() })
    }

    /// Runs a command; `Err` only when git cannot be started.
    pub fn run(&self, args: &[&str]) -> Result<Run, String> {
        self.run_with_input(args, None)
    }

    /// Runs a command that must succeed and returns its standard output.
    pub fn ok(&self, args: &[&str]) -> Result<String, String> {
        let r = self.run(args)?;
        if r.ok {
            Ok(r.stdout)
        } else {
            Err(format!("`git {}` failed in {}: {}", args.join(" "), self.dir.display(), r.stderr))
        }
    }

    /// The top directory of the working tree, or `None` when `dir` is not in one.
    pub fn toplevel(&self) -> Result<Option<PathBuf>, String> {
        let r = self.run(&["rev-parse", "--show-toplevel"])?;
        Ok(r.ok.then(|| PathBuf::from(r.stdout.trim_end_matches(['\n', '\r']))))
    }

    /// Whether `dir` is in a git repository (a working tree or a bare repository).
    pub fn is_repository(&self) -> Result<bool, String> {
        Ok(self.run(&["rev-parse", "--git-dir"])?.ok)
    }

    /// The commit HEAD points at, `None` on an unborn branch (a repository without commits).
    pub fn head(&self) -> Result<Option<String>, String> {
        let r = self.run(&["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])?;
        Ok(r.ok.then(|| r.stdout.trim().to_string()).filter(|s| !s.is_empty()))
    }

    /// The current branch, `None` when HEAD is detached.
    pub fn branch(&self) -> Result<Option<String>, String> {
        let r = self.run(&["symbolic-ref", "--quiet", "--short", "HEAD"])?;
        Ok(r.ok.then(|| r.stdout.trim().to_string()))
    }

    /// `git status --porcelain` lines: uncommitted changes, untracked files included.
    pub fn changes(&self, pathspec: Option<&str>) -> Result<Vec<String>, String> {
        let mut args = vec!["status", "--porcelain"];
        if let Some(p) = pathspec {
            args.extend(["--", p]);
        }
        Ok(self.ok(&args)?.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect())
    }

    /// A configuration value, `None` when unset or empty.
    pub fn config_value(&self, key: &str) -> Result<Option<String>, String> {
        let r = self.run(&["config", "--get", key])?;
        Ok(r.ok.then(|| r.stdout.trim().to_string()).filter(|s| !s.is_empty()))
    }
}

/// `dir` made absolute against `cwd`.
pub fn absolute(cwd: &Path, dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        cwd.join(dir)
    }
}

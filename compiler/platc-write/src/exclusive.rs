//! Mutual exclusion on an output root: an advisory lock (flock(2), LockFileEx, through `fs4`)
//! on the directory itself, held from the first read of the previous output to the end of the
//! commit, so that two builds into one root run one after the other and never mix their trees.
//!
//! The directory is locked rather than a lock file beside `deploy/`: a lock file would be an
//! untracked file in every repository (to commit by mistake or to `.gitignore`), and removing
//! it after use races with a process that opened it meanwhile. Readers (`build --check`,
//! `diff`) take the same exclusive lock: they may have to roll an interrupted commit forward,
//! and they never see a commit in progress.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a second build waits for the first by default, in seconds (`PLATC_LOCK_TIMEOUT`
/// overrides it; 0 fails at once).
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// The held lock; released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct Held {
    _file: File,
    /// The directory locked.
    pub dir: PathBuf,
}

/// Locks `dir` (which must exist), waiting up to `PLATC_LOCK_TIMEOUT` seconds (default
/// [`DEFAULT_TIMEOUT_SECS`]) for another platc process to finish with it; says on stderr that
/// it waits and for whom. The error names the holder.
pub fn lock(dir: &Path) -> Result<Held, String> {
    let file = File::open(dir).map_err(|e| format!("cannot open {} to lock it: {e}", dir.display()))?;
    let timeout = std::env::var("PLATC_LOCK_TIMEOUT").ok().and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(DEFAULT_TIMEOUT_SECS);
    let start = Instant::now();
    let mut said = false;
    loop {
        // Called through the trait: std's `File::try_lock` is newer than the MSRV.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => return Ok(Held { _file: file, dir: dir.to_path_buf() }),
            Err(fs4::TryLockError::WouldBlock) => {}
            Err(fs4::TryLockError::Error(e)) => return Err(format!("cannot lock {}: {e}", dir.display())),
        }
        let holder = holder(dir);
        if start.elapsed() >= Duration::from_secs(timeout) {
            return Err(format!(
                "{} is in use by {holder}: waited {timeout} s; run again when it has finished (a killed build releases it at once), or wait longer with PLATC_LOCK_TIMEOUT=SECONDS",
                dir.display()
            ));
        }
        if !said {
            eprintln!("waiting for {holder} to finish with {} (at most {timeout} s)", dir.display());
            said = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Who holds the lock on `dir`, as far as the system says: `platc process 123 (platc build)`
/// from /proc/locks on Linux, `another platc process` elsewhere.
fn holder(dir: &Path) -> String {
    holder_pid(dir)
        .map(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|b| b.split(|c| *c == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            if cmd.is_empty() {
                format!("process {pid}")
            } else {
                format!("process {pid} ({cmd})")
            }
        })
        .unwrap_or_else(|| "another platc process".to_string())
}

#[cfg(target_os = "linux")]
fn holder_pid(dir: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(dir).ok()?.ino().to_string();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    // `1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF`: the pid, then major:minor:inode.
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let at = fields.iter().position(|f| *f == "FLOCK")?;
        let (pid, id) = (fields.get(at + 3)?, fields.get(at + 4)?);
        (id.rsplit(':').next() == Some(inode.as_str())).then(|| pid.parse().ok()).flatten().filter(|p| *p != std::process::id())
    })
}

#[cfg(not(target_os = "linux"))]
fn holder_pid(_dir: &Path) -> Option<u32> {
    None
}

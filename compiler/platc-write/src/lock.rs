//! `platc.lock`: what the last build read and wrote, and which files were ejected.
//!
//! One entry per line, sorted, paths relative to the output root (the directory holding
//! `deploy/`), so that the file is deterministic and reviews as a small diff:
//!
//! ```text
//! platc 0.1.0
//! input sha256:… platform.kdl
//! output sha256:… deploy/checkout/chart/Chart.yaml
//! ejected deploy/checkout/chart/values-prod.yaml
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::guard::GuardedPath;
use super::hash;
use crate::emit::Output;

/// The code of a lock file that cannot be trusted.
pub const CORRUPT_CODE: crate::diagnostics::Code = crate::diagnostics::codes::UNTRUSTED_LOCK;

/// `sha256:` and 64 lowercase hex digits, as platc writes them.
fn checked_hash(h: &str) -> Result<String, String> {
    let ok = h.strip_prefix("sha256:").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    if ok {
        Ok(h.to_string())
    } else {
        Err("the hash is not `sha256:` and 64 hex digits".into())
    }
}

/// The error of a lock with lines that cannot be trusted: each line and why, and how to
/// recover (both ways are tested in tests/hostile/paths.rs).
pub fn corrupt_message(problems: &[String]) -> String {
    let mut m = format!("{CORRUPT_CODE}: {LOCK_PATH} cannot be trusted ({} wrong):\n", crate::diagnostics::plural(problems.len(), "line"));
    for p in problems {
        m.push_str(&format!("  {p}\n"));
    }
    m.push_str("nothing was read, written or deleted on its word.\n");
    m.push_str(&format!(
        "help: if you did not change the lock, restore it (`git checkout -- {LOCK_PATH}`); otherwise run `platc build --force`: it skips these lines, rebuilds every file and writes a new lock (generated files edited by hand are overwritten; files the lock does not list are left alone). See `platc explain {CORRUPT_CODE}`"
    ));
    m
}

/// Path of the lock file, relative to the output root.
pub const LOCK_PATH: &str = "deploy/platc.lock";

/// The parsed lock file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    /// The platc version that wrote it (the `platc VERSION` line).
    pub version: String,
    /// Each input read, by root-relative path: its `sha256:` hash.
    pub inputs: BTreeMap<String, String>,
    /// Each output written, by root-relative path: its `sha256:` hash.
    pub outputs: BTreeMap<String, String>,
    /// Root-relative paths of the ejected files, which builds leave to the user.
    pub ejected: BTreeSet<String>,
}

impl Lock {
    /// The lock of a build: hashes of `inputs` and of every file of `out` except ejected ones.
    pub fn new(inputs: &[(String, &[u8])], out: &Output, ejected: BTreeSet<String>) -> Lock {
        Lock {
            version: env!("CARGO_PKG_VERSION").to_string(),
            inputs: inputs.iter().map(|(p, b)| (p.clone(), hash(b))).collect(),
            outputs: {
                let files: Vec<(&String, &Vec<u8>)> = out.files.iter().filter(|(p, _)| !ejected.contains(*p) && p.as_str() != LOCK_PATH).collect();
                // Hashing hundreds of megabytes at scale: all cores.
                crate::par::map_chunks(&files, |chunk| chunk.iter().map(|(p, b)| ((*p).clone(), hash(b))).collect::<Vec<_>>()).into_iter().flatten().collect()
            },
            ejected,
        }
    }

    /// Parses a lock file. The lock is untrusted input (a pull request can change it): every
    /// line must be one platc writes, every hash `sha256:` and 64 hex digits, and every output
    /// and ejected path a [`GuardedPath`]. `Err` lists every line that is not (error E0801,
    /// with the way to recover); nothing has been read or written on the lock's word then.
    pub fn parse(text: &str) -> Result<Lock, String> {
        let (lock, problems) = Lock::parse_lenient(text);
        if problems.is_empty() {
            Ok(lock)
        } else {
            Err(corrupt_message(&problems))
        }
    }

    /// [`Lock::parse`] that skips the lines it cannot trust: the lock of the other lines, and
    /// one `LINE: problem` per skipped line. What `platc build --force` recovers from.
    pub fn parse_lenient(text: &str) -> (Lock, Vec<String>) {
        let mut lock = Lock::default();
        let mut problems = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Err(why) = lock.read_line(line) {
                // The line is quoted, cut short: it can be long, and it is the attacker's text.
                let shown: String = line.chars().take(120).map(|c| if c.is_control() { '?' } else { c }).collect();
                problems.push(format!("{LOCK_PATH}:{}: `{shown}`: {why}", n + 1));
            }
        }
        (lock, problems)
    }

    /// Adds one line's entry; `Err` says why the line cannot be trusted.
    fn read_line(&mut self, line: &str) -> Result<(), String> {
        let mut parts = line.splitn(3, ' ');
        let guarded = |p: &str| GuardedPath::new(p).map(|g| g.as_str().to_string()).map_err(|why| format!("the path {why}"));
        match (parts.next(), parts.next(), parts.next()) {
            (Some("platc"), Some(v), None) => self.version = v.to_string(),
            // Inputs are only compared, never opened: their names need no guard.
            (Some("input"), Some(h), Some(p)) => {
                self.inputs.insert(p.to_string(), checked_hash(h)?);
            }
            (Some("output"), Some(h), Some(p)) => {
                let h = checked_hash(h)?;
                self.outputs.insert(guarded(p)?, h);
            }
            (Some("ejected"), Some(p), None) => {
                self.ejected.insert(guarded(p)?);
            }
            _ => return Err("not a line platc writes (`platc VERSION`, `input HASH PATH`, `output HASH PATH` or `ejected PATH`)".into()),
        }
        Ok(())
    }

    /// The lock file's text.
    pub fn render(&self) -> String {
        render(&self.version, self.inputs.iter().map(|(p, h)| (p.as_str(), h.as_str())), self.outputs.iter().map(|(p, h)| (p.as_str(), h.clone())), self.ejected.iter().map(String::as_str))
    }
}

/// A lock file's text from its parts, each sorted by path (see [`write`]).
pub fn render<'a>(version: &str, inputs: impl Iterator<Item = (&'a str, &'a str)>, outputs: impl Iterator<Item = (&'a str, String)>, ejected: impl Iterator<Item = &'a str>) -> String {
    let mut bytes = Vec::new();
    // Writing into memory cannot fail.
    let _ = write(&mut bytes, version, inputs, outputs, ejected);
    String::from_utf8(bytes).unwrap_or_default()
}

/// Writes a lock file from its parts, each sorted by path: what [`Lock::render`] returns, for
/// callers that keep hashes in their own form and write the file as they go (the streaming
/// writer: ~800,000 outputs, ~80 MB of text at 10,000 services).
pub fn write<'a>(
    w: &mut impl std::io::Write,
    version: &str,
    inputs: impl Iterator<Item = (&'a str, &'a str)>,
    outputs: impl Iterator<Item = (&'a str, String)>,
    ejected: impl Iterator<Item = &'a str>,
) -> std::io::Result<()> {
    w.write_all(b"# platc.lock: what the last `platc build` read and wrote. Generated; do not edit.\n")?;
    writeln!(w, "platc {version}")?;
    for (p, h) in inputs {
        writeln!(w, "input {h} {p}")?;
    }
    for (p, h) in outputs {
        writeln!(w, "output {h} {p}")?;
    }
    for p in ejected {
        writeln!(w, "ejected {p}")?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut out = Output::default();
        out.add("deploy/a.yaml", "a");
        out.add("deploy/b.yaml", "b");
        let lock = Lock::new(&[("platform.kdl".into(), b"p".as_slice())], &out, BTreeSet::from(["deploy/b.yaml".to_string()]));
        assert_eq!(Lock::parse(&lock.render()), Ok(lock.clone()));
        assert!(!lock.outputs.contains_key("deploy/b.yaml"), "ejected files are not judged");
        assert!(Lock::parse("nonsense here").is_err());
    }

    #[test]
    fn refuses_paths_that_leave_the_output_root_and_names_every_line() {
        let h = format!("sha256:{}", "a".repeat(64));
        let text = format!(
            "platc 0.1.0\noutput {h} deploy/ok.yaml\noutput {h} /proc/self/environ\noutput {h} ../x\nejected deploy/../../etc/passwd\noutput sha256:zz deploy/b.yaml\noutput {h} platform.kdl\n"
        );
        let err = Lock::parse(&text).unwrap_err();
        for want in ["E0801", ":3: ", "absolute", ":4: ", ":5: ", "`..`", ":6: ", "hash", ":7: ", "not a place platc writes", "platc build --force", "git checkout"] {
            assert!(err.contains(want), "`{want}` missing from:\n{err}");
        }
        assert!(!err.contains(":2: "), "the good line is not reported:\n{err}");
        let (lock, problems) = Lock::parse_lenient(&text);
        assert_eq!(problems.len(), 5);
        assert_eq!(lock.outputs.keys().collect::<Vec<_>>(), ["deploy/ok.yaml"], "only the line that can be trusted is kept");
        assert!(lock.ejected.is_empty());
    }
}

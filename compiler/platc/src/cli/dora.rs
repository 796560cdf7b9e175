//! `platc dora --repo PATH [--since DATE] [--format table|json]`: delivery metrics per service
//! and environment from the trailers `platc publish` writes into a GitOps repository (rules in
//! [`crate::history::dora`] and docs/escape-hatch.md).

use std::io::Write;
use std::path::PathBuf;

use super::{cwd, fail, EXIT_OK};
use crate::history::dora::{compute, read};
use crate::history::git::{absolute, Git};
use crate::history::time;

/// How `platc dora` prints its metrics (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DoraFormat {
    /// An aligned plain-text table.
    Table,
    /// One JSON object with the window and an array of rows.
    Json,
}

/// The arguments of `platc dora`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The GitOps repository (a checkout or a bare repository); its HEAD's history is read.
    #[arg(long, value_name = "PATH")]
    pub repo: PathBuf,
    /// Start of the window: `YYYY-MM-DD` (midnight UTC) or an ISO 8601 time such as
    /// `2024-03-01T12:00:00+01:00`. Default: the first publish.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DoraFormat::Table)]
    pub format: DoraFormat,
}

/// Runs `platc dora` and returns the exit code: reads the repository's history and prints
/// the metrics.
pub fn run(args: &Args) -> i32 {
    let since = match &args.since {
        Some(s) => match time::parse(s) {
            Some(t) => Some(t),
            None => return fail(format!("--since {s}: expected a date such as 2024-03-01 or a time such as 2024-03-01T12:00:00Z")),
        },
        None => None,
    };
    let cwd = cwd();
    let repo = absolute(&cwd, &args.repo);
    let shown = crate::load::display(&cwd, &repo);
    let git = Git::new(&repo);
    match git.is_repository() {
        Ok(true) => {}
        Ok(false) => return fail(format!("--repo {shown} is not a git repository")),
        Err(e) => return fail(e),
    }
    let commits = match read(&git) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let report = compute(&commits, since);
    let text = match args.format {
        DoraFormat::Table => report.to_table(),
        DoraFormat::Json => report.to_json(),
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    EXIT_OK
}

//! `platc fmt [--check] [PATH...]`: canonical formatting of .kdl files, keeping comments.

use std::path::PathBuf;

use super::{cwd, fail, ReportArgs, EXIT_ERRORS, EXIT_OK};
use crate::diagnostics::Diagnostics;
use crate::fs::{FileSystem, RealFs, SKIP_DIRS};
use crate::source::SourceMap;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Write nothing; exit 1 and list the files that are not formatted.
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub(crate) fn run(args: &Args) -> i32 {
    let cwd = cwd();
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let mut files = Vec::new();
    for p in &paths {
        if RealFs.is_file(p) {
            files.push(p.clone());
        } else if RealFs.is_dir(p) {
            let skip = |d: &std::path::Path| {
                let n = d.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
                SKIP_DIRS.contains(&n.as_ref()) || n.starts_with('.') || d.join(crate::load::LOCK_FILE).is_file()
            };
            match RealFs.walk(p, &skip) {
                Ok(found) => files.extend(found.into_iter().filter(|f| f.extension().is_some_and(|e| e == "kdl"))),
                Err(e) => return fail(format!("cannot read {}: {e}", p.display())),
            }
        } else {
            return fail(format!("{}: no such file or directory", p.display()));
        }
    }
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let mut unformatted = Vec::new();
    for path in &files {
        let read = match crate::load::read_source(&RealFs, &cwd, path) {
            Ok(r) => r,
            Err(e) => return fail(e.0),
        };
        let not_utf8 = read.1.is_some();
        let id = crate::load::add_source(&mut sources, read, &mut diags);
        if not_utf8 {
            continue;
        }
        let name = sources.get(id).name.clone();
        let Some(formatted) = crate::format::format(id, sources.get(id), &mut diags) else { continue };
        if formatted.as_str() == &*sources.get(id).text {
            continue;
        }
        if args.check {
            unformatted.push(name);
        } else if let Err(e) = crate::write::atomic_write(path, formatted.as_bytes()) {
            return fail(format!("cannot write {}: {e}", path.display()));
        } else {
            eprintln!("formatted {name}");
        }
    }
    args.report.emit(&diags, &sources);
    for name in &unformatted {
        eprintln!("not formatted: {name}");
    }
    if !unformatted.is_empty() {
        eprintln!("run `platc fmt` to format {} file{}", unformatted.len(), if unformatted.len() == 1 { "" } else { "s" });
    }
    if diags.has_errors() || !unformatted.is_empty() {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

//! `platc diff [PATH...]`: what a build would change on disk, as a unified diff, for review.

use std::path::PathBuf;

use super::{cwd, fail, InputArgs, ReportArgs, EXIT_ERRORS, EXIT_OK};
use crate::fs::RealFs;
use crate::write::drift::{compare, unified, Finding};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output root (default: the directory of platform.kdl).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Build only this environment.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Build settings, as for `platc build`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn run(args: &Args) -> i32 {
    let opts = match super::build::options(args.env.clone(), &args.set) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let cwd = cwd();
    let result = match crate::build::build_paths(&RealFs, &args.input.paths(), &args.input.stdlib, &cwd, &opts) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    args.report.emit(&result.diags, &result.loaded.sources);
    let Some(mut out) = result.output else { return EXIT_ERRORS };
    let root = match &args.out {
        Some(d) => cwd.join(d),
        None => result.loaded.root.clone().unwrap_or_else(|| cwd.clone()),
    };
    // Finishes a commit that a killed build left (the diff is then against a whole tree) and
    // keeps builds out while it reads.
    let _guard = match crate::write::recover::open(&root, crate::write::DEPLOY_DIR, crate::write::recover::Mode::Read) {
        Ok(g) => g,
        Err(e) => return fail(e),
    };
    let previous = match crate::build::previous_lock(&root) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let inputs: Vec<(String, &[u8])> = result.inputs.iter().map(|(p, b)| (p.clone(), b.as_slice())).collect();
    let disk = |p: &str| std::fs::read(root.join(p)).ok();
    if let Some(ws) = &result.workspace {
        crate::build::carry_over(&mut out, previous.as_ref(), &result.environments, opts.env.is_some(), ws, &disk);
    }
    crate::build::finalize(&mut out, &inputs, previous.as_ref(), &disk);
    let findings = match compare(&root, &out, previous.as_ref()) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let mut text = String::new();
    for f in &findings {
        match f {
            Finding::Missing(p) => text.push_str(&unified(p, b"", &out.files[p])),
            Finding::Unexpected(p) => text.push_str(&unified(p, &std::fs::read(root.join(p)).unwrap_or_default(), b"")),
            // Review shows disk -> new build in both cases.
            Finding::Stale { diff, .. } => text.push_str(diff),
            Finding::HandEdited { path, .. } => text.push_str(&unified(path, &std::fs::read(root.join(path)).unwrap_or_default(), &out.files[path])),
        }
    }
    print!("{text}");
    eprintln!("{} file{} would change", findings.len(), if findings.len() == 1 { "" } else { "s" });
    EXIT_OK
}

//! `platc diff [PATH...]`: what a build would change on disk, as a unified diff, for review.

use std::path::PathBuf;

use super::{cwd, fail, BuildArgs, InputArgs, ReportArgs, EXIT_ERRORS, EXIT_OK};
use crate::write::drift::{compare, unified, Finding};
use crate::write::guard::GuardedPath;
use crate::write::LOCK_PATH;

#[derive(Debug, clap::Args)]
#[command(mut_arg("set", |a| a.help("Build settings, as for `platc build`")))]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output root (default: the directory of platform.kdl).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub(crate) fn run(args: &Args) -> i32 {
    let opts = match args.build.options() {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let cwd = cwd();
    let result = match args.input.build(&cwd, &opts) {
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
    // Every path read is a guarded one: the lock that names them is untrusted input.
    let disk = |p: &str| GuardedPath::new(p).ok().and_then(|g| g.read(&root).ok().flatten());
    if let Some(ws) = &result.workspace {
        crate::build::carry_over(&mut out, previous.as_ref(), &result.environments, opts.env.is_some(), ws, &disk);
    }
    crate::build::finalize(&mut out, &inputs, previous.as_ref(), &disk);
    let findings = match compare(&root, &out, previous.as_ref()) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let mut text = String::new();
    let mut changes = 0;
    for f in &findings {
        let on_disk = || GuardedPath::new(f.path()).and_then(|g| g.read(&root)).map(Option::unwrap_or_default);
        let new = out.files.get(f.path()).map(Vec::as_slice).unwrap_or_default();
        match f {
            Finding::Missing(p) => text.push_str(&unified(p, b"", new)),
            // Review shows disk -> new build in every case.
            Finding::Unexpected(p) | Finding::HandEdited { path: p, .. } => match on_disk() {
                Ok(old) => text.push_str(&unified(p, &old, new)),
                Err(e) => return fail(e),
            },
            Finding::Stale { diff, .. } => text.push_str(diff),
            // Not platc's: a build leaves it alone, so it is no change.
            Finding::NotOurs(p) => {
                eprintln!("note: {p} is not in {LOCK_PATH} (platc did not write it): a build leaves it alone");
                continue;
            }
        }
        changes += 1;
    }
    print!("{text}");
    eprintln!("{} would change", super::plural(changes, "file"));
    // `git diff --exit-code`'s convention, so that a script can ask "would a build change
    // anything?" without parsing the diff.
    if changes > 0 {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

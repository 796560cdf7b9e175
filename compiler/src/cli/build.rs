//! `platc build [PATH...] [--out DIR] [--env ENV] [--set KEY=VALUE]`: check, lower and emit
//! every artifact, then write the output tree atomically. Nothing is written when the input
//! has errors.

use std::path::PathBuf;

use super::{cwd, fail, InputArgs, ReportArgs, EXIT_ERRORS, EXIT_OK};
use crate::fs::RealFs;
use crate::lower::BuildOptions;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output root (default: the directory of platform.kdl). Deploy artifacts go to
    /// `DIR/deploy/`, CI pipelines to their usual place under DIR (`.github/workflows/`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write nothing: compare a fresh build with the files on disk and exit 1 when they
    /// differ (stale, hand-edited, missing or unexpected files).
    #[arg(long)]
    pub check: bool,
    /// Build only this environment.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Build settings: `branch=NAME` (preview environments), `image-tag=TAG` (the image tag CI
    /// built, usually the commit SHA).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Parses `--set` pairs into build options.
pub fn options(env: Option<String>, set: &[String]) -> Result<BuildOptions, String> {
    let mut opts = BuildOptions { env, ..Default::default() };
    for pair in set {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(format!("--set expects KEY=VALUE, got `{pair}`"));
        };
        let v = v.trim();
        match k.trim() {
            "branch" if !v.is_empty() => opts.branch = Some(v.to_string()),
            "image-tag" if !v.is_empty() && v != "latest" => opts.image_tag = Some(v.to_string()),
            "image-tag" if v == "latest" => return Err("--set image-tag=latest: platc never deploys the `latest` tag; pass the commit SHA".into()),
            "branch" | "image-tag" => return Err(format!("--set {k}= needs a value")),
            other => return Err(format!("unknown setting `{other}` in --set; known: branch, image-tag")),
        }
    }
    Ok(opts)
}

pub fn run(args: &Args) -> i32 {
    let opts = match options(args.env.clone(), &args.set) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let cwd = cwd();
    let result = match crate::build::build_paths(&RealFs, &args.input.paths(), &args.input.stdlib, &cwd, &opts) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    args.report.emit(&result.diags, &result.loaded.sources);
    let Some(mut out) = result.output else {
        eprintln!("nothing written: fix the errors above first");
        return EXIT_ERRORS;
    };
    let root = match &args.out {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => cwd.join(d),
        None => result.loaded.root.clone().unwrap_or_else(|| cwd.clone()),
    };
    let previous = match crate::build::previous_lock(&root) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let inputs: Vec<(String, &[u8])> = result.inputs.iter().map(|(p, b)| (p.clone(), b.as_slice())).collect();
    let disk = |p: &str| std::fs::read(root.join(p)).ok();
    crate::build::finalize(&mut out, &inputs, previous.as_ref(), &disk);
    let shown = crate::load::display(&cwd, &root);
    if args.check {
        return check_drift(&root, &shown, &out, previous.as_ref());
    }
    let services = result.loaded.inputs.services.len();
    let envs = &result.environments;
    if let Some(prev) = &previous {
        for p in &prev.ejected {
            eprintln!("note: {p} is ejected: left as it is (see `platc eject`)");
        }
    }
    match crate::write::write_all(&root, &out, previous.as_ref()) {
        Ok(r) => {
            eprintln!(
                "built {} service{} for {}: {} files written, {} unchanged, {} removed under {}",
                services,
                if services == 1 { "" } else { "s" },
                envs.iter().map(|e| e.env.as_str()).collect::<Vec<_>>().join(", "),
                r.written,
                r.unchanged,
                r.removed,
                shown
            );
            EXIT_OK
        }
        Err(e) => fail(e),
    }
}

/// `build --check`: list every difference and say what to do; exit 1 when there is any.
fn check_drift(root: &std::path::Path, shown: &str, out: &crate::emit::Output, previous: Option<&crate::write::Lock>) -> i32 {
    use crate::write::drift::{compare, Finding};
    let findings = match compare(root, out, previous) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    if findings.is_empty() {
        eprintln!("outputs under {shown} are up to date");
        return EXIT_OK;
    }
    let (mut stale, mut edited) = (false, false);
    for f in &findings {
        match f {
            Finding::Missing(p) => eprintln!("missing: {p}"),
            Finding::Unexpected(p) => eprintln!("unexpected: {p} (no longer generated)"),
            Finding::Stale { path, .. } => {
                stale = true;
                eprintln!("stale: {path} (the specs changed since it was built)");
            }
            Finding::HandEdited { path, diff } => {
                edited = true;
                eprintln!("hand-edited: {path} (differs from what platc wrote):\n{diff}");
            }
        }
    }
    eprintln!("\n{} file{} out of date under {shown}.", findings.len(), if findings.len() == 1 { "" } else { "s" });
    if stale || findings.iter().any(|f| matches!(f, Finding::Missing(_) | Finding::Unexpected(_))) {
        eprintln!("help: run `platc build` and commit the result");
    }
    if edited {
        eprintln!("help: generated files are rebuilt from the specs: move the edit into the spec (a `patch` block for a generated object), or keep the file as yours with `platc eject SERVICE --file PATH`");
    }
    EXIT_ERRORS
}

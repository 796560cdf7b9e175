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
    /// Output directory (default: `deploy` next to platform.kdl).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
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
    let Some(out) = result.output else {
        eprintln!("nothing written: fix the errors above first");
        return EXIT_ERRORS;
    };
    let (loaded, envs) = (result.loaded, result.environments);
    let services = loaded.inputs.services.len();
    let root = loaded.root.clone().unwrap_or_else(|| cwd.clone());
    let dir = match &args.out {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => cwd.join(d),
        None => root.join("deploy"),
    };
    match crate::write::write_tree(&dir, &out) {
        Ok(r) => {
            eprintln!(
                "built {} service{} for {}: {} files written, {} unchanged, {} removed in {}",
                services,
                if services == 1 { "" } else { "s" },
                envs.iter().map(|e| e.env.as_str()).collect::<Vec<_>>().join(", "),
                r.written,
                r.unchanged,
                r.removed,
                crate::load::display(&cwd, &dir)
            );
            EXIT_OK
        }
        Err(e) => fail(e),
    }
}

//! `platc render [PATH...] --env ENV [--out DIR] [--set KEY=VALUE]`: the rendered Kubernetes
//! manifests of one environment alone, like `helm template` or `kustomize build`. Printed as
//! one YAML stream (for `kubectl apply -f -`, `kubectl diff -f -`, a schema validator), or
//! written one file per object into a directory. Touches no `deploy/` tree and no lock file.

use std::io::Write;
use std::path::PathBuf;

use super::{cwd, fail, InputArgs, ReportArgs, EXIT_ERRORS, EXIT_OK};
use crate::emit::{patch, KindFilter, Output};
use crate::fs::RealFs;
use crate::write::{DEPLOY_DIR, RENDER_MARKER};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// The environment to render (one: its objects are what one cluster receives).
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Write `DIR/SERVICE/KIND-NAME.yaml`, one file per object, instead of printing. DIR must
    /// be new, empty, or an earlier `platc render` output (it is replaced as a whole).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only objects of these kinds (`Deployment`, `service`; repeat or separate with commas).
    /// Every kind when not given.
    #[arg(long = "kind", value_name = "KIND", value_delimiter = ',')]
    pub kinds: Vec<String>,
    /// Build settings, as for `platc build`: `branch=NAME` (preview environments),
    /// `image-tag=TAG`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn run(args: &Args) -> i32 {
    let opts = match super::build::options(Some(args.env.clone()), &args.set) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let kinds = KindFilter::new(args.kinds.iter().map(String::as_str));
    let cwd = cwd();
    let mut result = match crate::build::analyze_paths(&RealFs, &args.input.paths(), &args.input.stdlib, &cwd, &opts) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let rendered = match (result.workspace.as_ref(), result.graph.as_ref()) {
        (Some(ws), Some(graph)) if !result.diags.has_errors() => crate::build::render(&result.loaded, ws, graph, &result.environments, &opts, &kinds, &mut result.diags),
        _ => Output::default(),
    };
    args.report.emit(&result.diags, &result.loaded.sources);
    if result.diags.has_errors() {
        eprintln!("nothing rendered: fix the errors above first");
        return EXIT_ERRORS;
    }
    let objects = by_service(rendered);
    if let Err(e) = known_kinds(&args.kinds, &objects, &args.env) {
        return fail(e);
    }
    match &args.out {
        None => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            for bytes in objects.files.values() {
                // A closed pipe (`platc render | head`) ends the output, not with a panic.
                if stdout.write_all(b"---\n").and_then(|_| stdout.write_all(bytes)).is_err() {
                    return EXIT_OK;
                }
            }
            let _ = stdout.flush();
            EXIT_OK
        }
        Some(dir) => {
            let dir = if dir.is_absolute() { dir.clone() } else { cwd.join(dir) };
            let count = objects.files.len();
            let mut tree = objects;
            tree.add(RENDER_MARKER, format!("Written by `platc render --env {}`; the next render into this directory replaces it.\n", args.env));
            match crate::timings::time("write", || crate::write::write_marked_tree(&dir, &tree, RENDER_MARKER)) {
                Ok(_) => {
                    eprintln!("rendered {} of `{}` into {}", super::plural(count, "object"), args.env, crate::load::display(&cwd, &dir));
                    EXIT_OK
                }
                Err(e) => fail(e),
            }
        }
    }
}

/// Refuses a `--kind` that is neither a kind platc generates nor one rendered here (from a
/// stdlib's in-cluster templates): a typo would otherwise render nothing, silently.
fn known_kinds(kinds: &[String], objects: &Output, env: &str) -> Result<(), String> {
    for k in kinds {
        let lower = k.to_ascii_lowercase();
        // Files are `SERVICE/KIND-NAME.yaml`, the kind lowercase and without dashes.
        let rendered = || objects.files.keys().any(|p| p.rsplit('/').next().and_then(|f| f.split_once('-')).is_some_and(|(kind, _)| kind == lower));
        if !patch::KINDS.iter().any(|known| known.eq_ignore_ascii_case(k)) && !rendered() {
            let help = crate::check::suggest::help_for_unknown(k, patch::KINDS, "kind");
            return Err(format!("no object of kind `{k}` is rendered in `{env}`: {help}"));
        }
    }
    Ok(())
}

/// `deploy/SERVICE/manifests/INSTANCE/FILE` -> `SERVICE/FILE` (one environment is rendered).
fn by_service(rendered: Output) -> Output {
    let mut out = Output::default();
    for (path, bytes) in rendered.files {
        let rel = path.strip_prefix(DEPLOY_DIR).and_then(|p| p.strip_prefix('/')).unwrap_or(&path);
        let moved = match rel.splitn(4, '/').collect::<Vec<_>>()[..] {
            [service, "manifests", _instance, file] => format!("{service}/{file}"),
            _ => rel.to_string(),
        };
        out.add(moved, bytes);
    }
    out
}

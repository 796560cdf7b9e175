//! `platc render [PATH...] --env ENV [--out DIR] [--set KEY=VALUE]`: the rendered Kubernetes
//! manifests of one environment alone, like `helm template` or `kustomize build`. Printed as
//! one YAML stream (for `kubectl apply -f -`, `kubectl diff -f -`, a schema validator), or
//! written one file per object into a directory. Touches no `deploy/` tree and no lock file.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use super::{cwd, fail, InputArgs, ReportArgs, EXIT_ERRORS, EXIT_OK};
use crate::emit::{KindFilter, Output, Sink};
use crate::write::tree::StagedTree;
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

pub(crate) fn run(args: &Args) -> i32 {
    let opts = match super::build::options(Some(args.env.clone()), &args.set) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let kinds = KindFilter::new(args.kinds.iter().map(String::as_str));
    let cwd = cwd();
    // Never dropped: the process ends with this command, and freeing every parsed spec one
    // allocation at a time would only delay that (milliseconds at a thousand services).
    let result = match args.input.analyze(&cwd, &opts) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let result = Box::leak(Box::new(result));
    let dir = args.out.as_ref().map(|d| if d.is_absolute() { d.clone() } else { cwd.join(d) });
    let mut rendered = None;
    if let (Some(ws), Some(graph), false) = (result.workspace.as_ref(), result.graph.as_ref(), result.diags.has_errors()) {
        // Files go into the staged directory as they are rendered (discarded unless all goes
        // well), or into memory for stdout.
        let target = match &dir {
            Some(dir) => match StagedTree::new(dir, RENDER_MARKER) {
                Ok(tree) => Target::Dir(tree),
                Err(e) => return fail(e),
            },
            None => Target::Stdout(Mutex::new(Output::default())),
        };
        let sink = RenderSink { target, paths: Mutex::default() };
        if let Err(e) = crate::build::render_into(&result.loaded, ws, graph, &result.environments, &opts, &kinds, &mut result.diags, &sink) {
            return fail(e);
        }
        rendered = Some(sink);
    }
    args.report.emit(&result.diags, &result.loaded.sources);
    let Some(sink) = rendered.filter(|_| !result.diags.has_errors()) else {
        eprintln!("nothing rendered: fix the errors above first");
        return EXIT_ERRORS;
    };
    let paths = sink.paths.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Err(e) = known_kinds(&args.kinds, &paths, &args.env) {
        return fail(e);
    }
    match sink.target {
        Target::Stdout(out) => {
            let objects = out.into_inner().unwrap_or_else(|e| e.into_inner());
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
        Target::Dir(tree) => {
            let marker = format!("Written by `platc render --env {}`; the next render into this directory replaces it.\n", args.env);
            match crate::timings::time("swap in", || tree.add(RENDER_MARKER, marker.as_bytes()).and_then(|_| tree.finish())) {
                Ok(_) => {
                    let dir = dir.unwrap_or_default();
                    eprintln!("rendered {} of `{}` into {}", super::plural(paths.len(), "object"), args.env, crate::load::display(&cwd, &dir));
                    EXIT_OK
                }
                Err(e) => fail(e),
            }
        }
    }
}

/// Where rendered objects go: a staged directory (`--out`), or memory, to be printed in path
/// order.
enum Target {
    Dir(StagedTree),
    Stdout(Mutex<Output>),
}

/// The render's [`Sink`]: files at `SERVICE/FILE` (see [`by_service`]) into the target; their
/// paths kept for [`known_kinds`] and the count.
struct RenderSink {
    target: Target,
    paths: Mutex<Vec<String>>,
}

impl Sink for RenderSink {
    fn add(&self, files: Vec<(String, Vec<u8>)>) -> Result<(), String> {
        let mut paths = Vec::with_capacity(files.len());
        for (path, bytes) in files {
            let path = by_service(&path);
            match &self.target {
                Target::Dir(tree) => tree.add(&path, &bytes)?,
                Target::Stdout(out) => out.lock().unwrap_or_else(|e| e.into_inner()).add(path.clone(), bytes),
            }
            paths.push(path);
        }
        self.paths.lock().unwrap_or_else(|e| e.into_inner()).extend(paths);
        Ok(())
    }
}

/// Refuses a `--kind` that is neither a kind platc generates nor one rendered here (from a
/// stdlib's in-cluster templates): a typo would otherwise render nothing, silently.
fn known_kinds(kinds: &[String], paths: &[String], env: &str) -> Result<(), String> {
    for k in kinds {
        let lower = k.to_ascii_lowercase();
        // Files are `SERVICE/KIND-NAME.yaml`, the kind lowercase and without dashes.
        let rendered = || paths.iter().any(|p| p.rsplit('/').next().and_then(|f| f.split_once('-')).is_some_and(|(kind, _)| kind == lower));
        if !platc_emit::emit::manifests::OBJECT_KINDS.iter().any(|known| known.eq_ignore_ascii_case(k)) && !rendered() {
            let help = crate::check::suggest::help_for_unknown(k, platc_emit::emit::manifests::OBJECT_KINDS, "kind");
            return Err(format!("no object of kind `{k}` is rendered in `{env}`: {help}"));
        }
    }
    Ok(())
}

/// `deploy/SERVICE/manifests/INSTANCE/FILE` -> `SERVICE/FILE` (one environment is rendered).
fn by_service(path: &str) -> String {
    let rel = path.strip_prefix(DEPLOY_DIR).and_then(|p| p.strip_prefix('/')).unwrap_or(path);
    match rel.splitn(4, '/').collect::<Vec<_>>()[..] {
        [service, "manifests", _instance, file] => format!("{service}/{file}"),
        _ => rel.to_string(),
    }
}

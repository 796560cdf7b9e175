//! The back half of the pipeline: lower the checked workspace, run every backend, honour
//! ejected files and add the lock file, all in memory.

use std::collections::BTreeSet;
use std::path::Path;

use crate::diagnostics::Diagnostics;
use crate::emit::backend::{self, Backend, Broken, EmitCx};
use crate::emit::Output;
use crate::graph::Graph;
use crate::load::Loaded;
use crate::lower::{BuildOptions, Placement};
use crate::model::Workspace;
use crate::resolve::Resolved;
use crate::write::guard::GuardedPath;
use crate::write::{Lock, DEPLOY_DIR, LOCK_PATH};

/// The output tree of a build, paths relative to the output root (`deploy/...`), without the
/// lock file. Problems found while emitting (patches that match nothing) are errors: the
/// caller writes nothing when `diags` has any.
pub fn build(loaded: &Loaded, ws: &Workspace, graph: &Graph, envs: &[Placement], opts: &BuildOptions, diags: &mut Diagnostics) -> Output {
    let sink = std::sync::Mutex::new(Output::default());
    // The memory sink never fails.
    let _ = build_into(loaded, ws, graph, envs, opts, diags, &sink);
    sink.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// [`build`], handing files to `sink` as soon as they are emitted: each service's, then the
/// files that cover every service (GitOps wiring, CI pipelines). Services are lowered and
/// emitted one at a time per core and dropped after, so memory does not grow with the
/// monorepo. A sink error (I/O) is `Err`; problems in the input are in `diags` (the caller
/// discards what the sink got when there are any).
pub fn build_into(loaded: &Loaded, ws: &Workspace, graph: &Graph, envs: &[Placement], opts: &BuildOptions, diags: &mut Diagnostics, sink: &dyn crate::emit::Sink) -> Result<(), String> {
    let model = crate::timings::time("resolve", || crate::resolve::resolve(ws, graph, envs, opts, &loaded.sources));
    let (backends, broken) = backend::build_backends(&model, &loaded.stdlib);
    run(&backends, broken, &model, loaded, opts, diags, sink, "lower and emit services")
}

/// [`render_into`] memory: every rendered file, paths relative to the output root.
pub fn render(loaded: &Loaded, ws: &Workspace, graph: &Graph, envs: &[Placement], opts: &BuildOptions, kinds: &crate::emit::KindFilter, diags: &mut Diagnostics) -> Output {
    let sink = std::sync::Mutex::new(Output::default());
    // The memory sink never fails.
    let _ = render_into(loaded, ws, graph, envs, opts, kinds, diags, &sink);
    sink.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// The rendered Kubernetes manifests of `envs` alone (`platc render`), handed to `sink` as
/// each service's are made, at the paths of a build (`deploy/SERVICE/manifests/ENV/KIND-NAME.yaml`)
/// and with the same bytes `platc build` writes there, of the kinds `kinds` allows; no chart,
/// Terraform, CI, GitOps wiring, alert files or rule tests. A sink error (I/O) is `Err`;
/// problems in the input are in `diags` (the caller discards what the sink got when there are
/// any).
#[allow(clippy::too_many_arguments)]
pub fn render_into(
    loaded: &Loaded,
    ws: &Workspace,
    graph: &Graph,
    envs: &[Placement],
    opts: &BuildOptions,
    kinds: &crate::emit::KindFilter,
    diags: &mut Diagnostics,
    sink: &dyn crate::emit::Sink,
) -> Result<(), String> {
    let model = crate::timings::time("resolve", || crate::resolve::resolve(ws, graph, envs, opts, &loaded.sources));
    let (backends, broken) = backend::render_backends(&model, &loaded.stdlib, kinds);
    run(&backends, broken, &model, loaded, opts, diags, sink, "lower and render services")
}

/// The one loop of `build` and `render`: every backend for each service, on every core, each
/// service's files handed to `sink` (under `deploy/`) before the next is made, results merged
/// in service order; then every backend for the platform, one set at a time (at 10,000
/// services the GitOps wiring and the CI workflow are tens of MB each). Stdlib problems,
/// `broken` at load and any found while emitting, are reported at their files (E0603).
#[allow(clippy::too_many_arguments)]
fn run(
    backends: &[Box<dyn Backend + '_>],
    mut broken: Vec<Broken>,
    model: &Resolved,
    loaded: &Loaded,
    opts: &BuildOptions,
    diags: &mut Diagnostics,
    sink: &dyn crate::emit::Sink,
    label: &str,
) -> Result<(), String> {
    let results = crate::timings::time(label, || {
        crate::par::map_chunks(&model.services, |chunk| {
            let mut done = ChunkResult::default();
            for rs in chunk {
                let mut cx = EmitCx::new(model, opts);
                for b in backends {
                    b.service(&mut cx, rs);
                }
                done.diags.append(cx.diags);
                done.broken.append(&mut cx.broken);
                let files = cx.out.files.into_iter().map(|(p, b)| (format!("{DEPLOY_DIR}/{p}"), b)).collect();
                if let Err(e) = sink.add(files) {
                    done.sink_error = Some(e);
                    break;
                }
            }
            done
        })
    });
    for r in results {
        if let Some(e) = r.sink_error {
            return Err(e);
        }
        diags.append(r.diags);
        broken.extend(r.broken);
    }
    for b in backends {
        let mut cx = EmitCx::new(model, opts);
        crate::timings::time(&format!("emit {}", b.name()), || b.platform(&mut cx));
        diags.append(cx.diags);
        broken.append(&mut cx.broken);
        sink.add(cx.out.files.into_iter().collect())?;
    }
    let src = backend::StdlibSources { sources: &loaded.sources, files: &loaded.inputs.backend_files };
    backend::report(broken, model, &src, diags);
    diags.sort(&loaded.sources);
    Ok(())
}

/// What one core's share of the services produced besides files.
#[derive(Default)]
struct ChunkResult {
    diags: Diagnostics,
    broken: Vec<Broken>,
    sink_error: Option<String>,
}

/// Inputs of the lock file: every spec and platform.kdl, by path relative to the output root
/// when they are inside it (so that the lock does not depend on the working directory).
pub fn lock_inputs<'a>(loaded: &'a Loaded, ws: &Workspace) -> Vec<(String, &'a [u8])> {
    ws.services
        .iter()
        .map(|s| s.file)
        .chain(std::iter::once(ws.platform.file))
        .map(|f| {
            let file = loaded.sources.get(f);
            let name = match (&file.path, &loaded.root) {
                (Some(p), Some(root)) => p.strip_prefix(root).map(|r| r.to_string_lossy().replace('\\', "/")).unwrap_or_else(|_| file.name.clone()),
                _ => file.name.clone(),
            };
            (name, file.text.as_bytes())
        })
        .collect()
}

/// Keeps ejected files as they are on disk (or absent, if the user deleted them) and adds the
/// lock file. `disk` reads a file of the previous output by root-relative path.
pub fn finalize(out: &mut Output, inputs: &[(String, &[u8])], previous: Option<&Lock>, disk: &dyn Fn(&str) -> Option<Vec<u8>>) -> Lock {
    let ejected: BTreeSet<String> = previous.map(|l| l.ejected.clone()).unwrap_or_default();
    for p in &ejected {
        match disk(p) {
            Some(bytes) => out.add(p.clone(), bytes),
            None => {
                out.files.remove(p);
            }
        }
    }
    let lock = Lock::new(inputs, out, ejected);
    out.add(LOCK_PATH, lock.render());
    lock
}

/// Keeps the files of environment instances this build did not produce: all other instances
/// when only some environments were built (`--env`), and previews of other branches always
/// (a preview goes away when its pull request closes, not when someone builds main).
pub fn carry_over(out: &mut Output, previous: Option<&Lock>, built: &[Placement], partial: bool, ws: &Workspace, disk: &dyn Fn(&str) -> Option<Vec<u8>>) {
    for path in carried_paths(previous, built, partial, ws, &|p| out.files.contains_key(p)) {
        if let Some(bytes) = disk(path.as_str()) {
            out.add(path.as_str(), bytes);
        }
    }
}

/// The previous outputs [`carry_over`] keeps: those of instances this build did not produce
/// and did not generate again (`generated`). Guarded paths: the caller reads them from the
/// disk, and the lock they come from is untrusted.
pub fn carried_paths(previous: Option<&Lock>, built: &[Placement], partial: bool, ws: &Workspace, generated: &dyn Fn(&str) -> bool) -> Vec<GuardedPath> {
    let Some(previous) = previous else { return Vec::new() };
    let built: Vec<String> = built.iter().map(crate::lower::instance).collect();
    let envs = crate::history::layout::env_names(ws);
    let prefix = format!("{DEPLOY_DIR}/");
    let mut out = Vec::new();
    for path in previous.outputs.keys() {
        let Some(placed) = path.strip_prefix(&prefix).and_then(|p| crate::history::layout::classify(p, &envs)) else { continue };
        let is_preview = !ws.platform.environments.contains_key(&placed.instance);
        if built.contains(&placed.instance) || generated(path) || !(partial || is_preview) {
            continue;
        }
        // Lock paths were guarded when it was parsed; one that is not is left out, not read.
        out.extend(GuardedPath::new(path).ok());
    }
    out
}

/// Reads the lock of a previous build under `root`, if any. A lock with a line that cannot
/// be trusted is an error (E0801) that names every such line; a symbolic link at
/// `deploy/platc.lock` (or `deploy`) is refused (E0802), never followed.
pub fn previous_lock(root: &Path) -> Result<Option<Lock>, String> {
    previous_lock_with(root, false).map(|(lock, _)| lock)
}

/// [`previous_lock`]; when `lenient` (`platc build --force`, the recovery E0801 recommends),
/// the lines that cannot be trusted are skipped instead and returned, one `LINE: problem` each.
pub fn previous_lock_with(root: &Path, lenient: bool) -> Result<(Option<Lock>, Vec<String>), String> {
    let bytes = GuardedPath::new(LOCK_PATH)?.read(root)?;
    let Some(bytes) = bytes else { return Ok((None, Vec::new())) };
    let text = String::from_utf8_lossy(&bytes);
    if lenient {
        let (lock, skipped) = Lock::parse_lenient(&text);
        Ok((Some(lock), skipped))
    } else {
        Lock::parse(&text).map(|l| (Some(l), Vec::new()))
    }
}

/// A whole build from inputs on a file system to the output tree, in memory.
pub struct BuildResult {
    /// Every input read: sources, the stdlib, the platform's root.
    pub loaded: Loaded,
    /// The output (root-relative paths, without the lock file), when there were no errors.
    pub output: Option<Output>,
    /// Diagnostics of every stage, sorted.
    pub diags: Diagnostics,
    /// The environments built.
    pub environments: Vec<Placement>,
    /// Lock inputs (paths and contents of the specs read).
    pub inputs: Vec<(String, Vec<u8>)>,
    /// The checked workspace, when there was one.
    pub workspace: Option<Workspace>,
    /// The service graph, when the workspace checked without errors.
    pub graph: Option<Graph>,
}

/// Loads, checks, lowers and emits. `Err` is a usage or I/O problem (exit code 2).
pub fn build_paths(fs: &dyn crate::fs::FileSystem, paths: &[std::path::PathBuf], stdlib_dirs: &[std::path::PathBuf], cwd: &Path, opts: &BuildOptions) -> Result<BuildResult, String> {
    let mut result = analyze_paths(fs, paths, stdlib_dirs, cwd, opts)?;
    emit_analyzed(&mut result, opts);
    Ok(result)
}

/// Checks and graphs what was loaded, against the vocabulary of this build's backends, and
/// checks that the backends can serve every resource type as the platform provisions it: the
/// front half of every command ([`crate::driver::analyze`]).
pub fn analyze(loaded: &crate::load::Loaded) -> crate::driver::Analysis {
    let mut analysis = crate::driver::analyze(loaded, &platc_emit::VOCABULARY);
    if let Some(ws) = &analysis.workspace {
        missing_templates(ws, &loaded.stdlib, &mut analysis.diags);
        analysis.diags.sort(&loaded.sources);
    }
    analysis
}

/// E0601 at each resource type that an environment serves with a provisioner it has no
/// template for (an overlay's new type, typically), with the environment and the first use:
/// `platc check` says it once, where `platc build` would fail per environment.
fn missing_templates(ws: &Workspace, stdlib: &crate::stdlib::Stdlib, diags: &mut Diagnostics) {
    use crate::diagnostics::{codes, Diagnostic, Label};
    use crate::model::Provisioner;
    for need in crate::resolve::provisioning(ws) {
        let path = backend::provisioner_template(need.provisioner, &need.ty);
        let (Some(ty), Some(env)) = (ws.types.get(&need.ty), ws.platform.environments.get(&need.env)) else { continue };
        if stdlib.get(&path).is_some() {
            continue;
        }
        let how = need.provisioner.as_str();
        let (other, page) = match need.provisioner {
            Provisioner::Aws => (Provisioner::InCluster, "docs/terraform.md"),
            Provisioner::InCluster => (Provisioner::Aws, "docs/resources.md"),
        };
        let s = &ws.services[need.service];
        diags.push(
            Diagnostic::new(
                codes::INVALID_RESOURCE_TYPE,
                Label::new(ty.file, ty.name.span, format!("no {path}")),
                format!("resource type `{}` has no `{how}` template, and `{}` serves it `{how}`", need.ty, need.env),
            )
            .with_label(Label::new(ws.platform.file, env.span, format!("serves `{}` `{how}`", need.ty)))
            .with_label(Label::new(s.file, s.uses[need.uses].span, "needs it here"))
            .with_help(format!("add {path} to the stdlib overlay ({page}), or serve the type with another provisioner there: provision {how} {}={}", need.ty, other.as_str())),
        );
    }
}

/// The front half of [`build_paths`]: loads and checks, and lists the environments and the
/// lock inputs, without lowering or emitting (`output` is `None`). [`emit_analyzed`] finishes
/// the build; `platc build` skips it when the lock says the output is up to date.
pub fn analyze_paths(fs: &dyn crate::fs::FileSystem, paths: &[std::path::PathBuf], stdlib_dirs: &[std::path::PathBuf], cwd: &Path, opts: &BuildOptions) -> Result<BuildResult, String> {
    let loaded = crate::timings::time("load", || crate::load::load(fs, paths, stdlib_dirs, cwd)).map_err(|e| e.0)?;
    let crate::driver::Analysis { workspace, graph, diags } = crate::timings::time("parse, check, graph", || analyze(&loaded));
    let failed = |loaded, diags, workspace| Ok(BuildResult { loaded, output: None, diags, environments: Vec::new(), inputs: Vec::new(), workspace, graph: None });
    let Some(ws) = workspace.as_ref() else {
        if diags.has_errors() {
            return failed(loaded, diags, workspace);
        }
        return Err("no platform.kdl found".into());
    };
    if diags.has_errors() || graph.is_none() {
        return failed(loaded, diags, workspace);
    }
    let envs = crate::resolve::environments(ws, opts).map_err(|e| e.0)?;
    let mut inputs: Vec<(String, Vec<u8>)> = lock_inputs(&loaded, ws).into_iter().map(|(p, b)| (p, b.to_vec())).collect();
    inputs.extend(build_inputs(&loaded, opts));
    Ok(BuildResult { loaded, output: None, diags, environments: envs, inputs, workspace, graph })
}

/// Lowers and emits an analysed build (a no-op when it has errors); emit-stage problems join
/// its diagnostics.
pub fn emit_analyzed(result: &mut BuildResult, opts: &BuildOptions) {
    let (Some(ws), Some(graph)) = (result.workspace.as_ref(), result.graph.as_ref()) else { return };
    if result.diags.has_errors() {
        return;
    }
    let out = build(&result.loaded, ws, graph, &result.environments, opts, &mut result.diags);
    result.output = (!result.diags.has_errors()).then_some(out);
}

/// Lock inputs besides the specs: everything else the output depends on, so that equal inputs
/// in the lock mean an equal output (with the same platc version). `<stdlib>` is the merged
/// stdlib, overlays included; `<options>` the build options (`--env`, `--set`).
fn build_inputs(loaded: &Loaded, opts: &BuildOptions) -> Vec<(String, Vec<u8>)> {
    let mut stdlib = Vec::new();
    for (path, file) in loaded.stdlib.under("") {
        // Length-prefixed, so that no two different stdlibs give the same bytes.
        for part in [path.as_bytes(), file.text.as_bytes()] {
            stdlib.extend_from_slice(&(part.len() as u64).to_le_bytes());
            stdlib.extend_from_slice(part);
        }
    }
    let BuildOptions { env, branch, image_tag } = opts;
    let options = format!("env={env:?}\nbranch={branch:?}\nimage-tag={image_tag:?}\n").into_bytes();
    vec![("<stdlib>".to_string(), stdlib), ("<options>".to_string(), options)]
}

/// Whether the output under `root` is what a build with these inputs gives, by the lock
/// alone: the lock was written by this platc version from the same inputs (specs, stdlib,
/// options), every file it lists exists, the files outside `deploy/` (CI workflows, a few) hold
/// the bytes it says, and no commit is unfinished. A hand edit inside `deploy/` since then is
/// kept (`build --check` reports it); a deleted file makes the build run again and restore it.
///
/// The lock is committed after everything it describes, so an interrupted commit leaves the
/// old lock, whose inputs do not match; the checks of the journal and of the files outside
/// `deploy/` hold even when a journal was deleted or a tree was mixed by other means.
pub fn up_to_date(root: &Path, previous: Option<&Lock>, inputs: &[(String, Vec<u8>)]) -> bool {
    let Some(prev) = previous else { return false };
    if prev.version != env!("CARGO_PKG_VERSION") || prev.inputs.len() != inputs.len() {
        return false;
    }
    if root.join(crate::write::journal::journal_name(DEPLOY_DIR)).exists() {
        return false;
    }
    let same_inputs = inputs.iter().all(|(p, b)| prev.inputs.get(p).is_some_and(|h| *h == crate::write::hash(b)));
    let prefix = format!("{DEPLOY_DIR}/");
    // Through the guard, and without following links: a planted link is never "up to date",
    // so that the build runs and reports it (E0802).
    let as_written = |p: &String, h: &String| GuardedPath::new(p).ok().and_then(|g| g.read(root).ok().flatten()).is_some_and(|b| crate::write::hash(&b) == *h);
    let outside_match = prev.outputs.iter().filter(|(p, _)| !p.starts_with(&prefix)).all(|(p, h)| as_written(p, h));
    let plain_file = |p: &String| std::fs::symlink_metadata(root.join(p)).is_ok_and(|m| m.is_file());
    let deploy_is_dir = std::fs::symlink_metadata(root.join(DEPLOY_DIR)).is_ok_and(|m| m.is_dir());
    let paths: Vec<&String> = prev.outputs.keys().collect();
    same_inputs && outside_match && deploy_is_dir && crate::par::map_chunks(&paths, |chunk| chunk.iter().all(|p| plain_file(p))).into_iter().all(|ok| ok)
}

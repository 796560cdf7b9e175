//! The back half of the pipeline: lower the checked workspace, run every backend and add the
//! lock file, all in memory.

use crate::diagnostics::Diagnostics;
use crate::emit::Output;
use crate::graph::Graph;
use crate::load::{Loaded, LOCK_FILE};
use crate::lower::{self, BuildOptions, Placement};
use crate::model::Workspace;

/// The complete output tree of a build.
/// Problems found while emitting (patches that match nothing) are errors: the caller writes
/// nothing when `diags` has any.
pub fn build(loaded: &Loaded, ws: &Workspace, graph: &Graph, envs: &[Placement], opts: &BuildOptions, diags: &mut Diagnostics) -> Output {
    let mut plan = lower::lower(ws, graph, envs, opts);
    let base_pl = lower::base_placement(ws);
    let mut base: Vec<lower::Values> = plan
        .services
        .iter()
        .map(|sp| match &base_pl {
            Some(pl) => lower::service_values(ws, graph, sp.index, pl, opts),
            None => sp.envs.values().next().cloned().expect("a plan has at least one environment"),
        })
        .collect();
    let mut out = crate::emit::emit(ws, &mut plan, &mut base, &loaded.stdlib, &loaded.sources, diags);
    diags.sort(&loaded.sources);
    let inputs: Vec<(String, &[u8])> = ws
        .services
        .iter()
        .map(|s| s.file)
        .chain(std::iter::once(ws.platform.file))
        .map(|f| {
            let file = loaded.sources.get(f);
            (file.name.clone(), file.text.as_bytes())
        })
        .collect();
    let lock = crate::write::lock_file(&inputs, &out);
    out.add(LOCK_FILE, lock);
    out
}

/// A whole build from inputs on a file system to the output tree, in memory.
pub struct BuildResult {
    pub loaded: Loaded,
    /// The output, when there were no errors.
    pub output: Option<Output>,
    /// Diagnostics of every stage, sorted.
    pub diags: Diagnostics,
    /// The environments built.
    pub environments: Vec<Placement>,
}

/// Loads, checks, lowers and emits. `Err` is a usage or I/O problem (exit code 2).
pub fn build_paths(fs: &dyn crate::fs::FileSystem, paths: &[std::path::PathBuf], stdlib_dirs: &[std::path::PathBuf], cwd: &std::path::Path, opts: &BuildOptions) -> Result<BuildResult, String> {
    let loaded = crate::load::load(fs, paths, stdlib_dirs, cwd).map_err(|e| e.0)?;
    let analysis = crate::driver::analyze(&loaded);
    let mut diags = analysis.diags;
    let (Some(ws), Some(graph)) = (analysis.workspace.as_ref(), analysis.graph.as_ref()) else {
        if diags.has_errors() {
            return Ok(BuildResult { loaded, output: None, diags, environments: Vec::new() });
        }
        return Err("no platform.kdl found".into());
    };
    if diags.has_errors() {
        return Ok(BuildResult { loaded, output: None, diags, environments: Vec::new() });
    }
    let envs = lower::environments(ws, opts).map_err(|e| e.0)?;
    let out = build(&loaded, ws, graph, &envs, opts, &mut diags);
    let output = (!diags.has_errors()).then_some(out);
    Ok(BuildResult { loaded, output, diags, environments: envs })
}

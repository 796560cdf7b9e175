//! The back half of the pipeline: lower the checked workspace, run every backend, honour
//! ejected files and add the lock file, all in memory.

use std::collections::BTreeSet;
use std::path::Path;

use crate::diagnostics::Diagnostics;
use crate::emit::Output;
use crate::graph::Graph;
use crate::load::Loaded;
use crate::lower::{self, BuildOptions, Placement};
use crate::model::Workspace;
use crate::write::{Lock, DEPLOY_DIR, LOCK_PATH};

/// The output tree of a build, paths relative to the output root (`deploy/...`), without the
/// lock file. Problems found while emitting (patches that match nothing) are errors: the
/// caller writes nothing when `diags` has any.
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
    let deploy = crate::emit::emit(ws, &mut plan, &mut base, &loaded.stdlib, &loaded.sources, diags);
    diags.sort(&loaded.sources);
    let mut out = Output::default();
    for (p, b) in deploy.files {
        out.add(format!("{DEPLOY_DIR}/{p}"), b);
    }
    out
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

/// Reads the lock of a previous build under `root`, if any.
pub fn previous_lock(root: &Path) -> Result<Option<Lock>, String> {
    match std::fs::read_to_string(root.join(LOCK_PATH)) {
        Ok(text) => Lock::parse(&text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", root.join(LOCK_PATH).display())),
    }
}

/// A whole build from inputs on a file system to the output tree, in memory.
pub struct BuildResult {
    pub loaded: Loaded,
    /// The output (root-relative paths, without the lock file), when there were no errors.
    pub output: Option<Output>,
    /// Diagnostics of every stage, sorted.
    pub diags: Diagnostics,
    /// The environments built.
    pub environments: Vec<Placement>,
    /// Lock inputs (paths and contents of the specs read).
    pub inputs: Vec<(String, Vec<u8>)>,
}

/// Loads, checks, lowers and emits. `Err` is a usage or I/O problem (exit code 2).
pub fn build_paths(fs: &dyn crate::fs::FileSystem, paths: &[std::path::PathBuf], stdlib_dirs: &[std::path::PathBuf], cwd: &Path, opts: &BuildOptions) -> Result<BuildResult, String> {
    let loaded = crate::load::load(fs, paths, stdlib_dirs, cwd).map_err(|e| e.0)?;
    let analysis = crate::driver::analyze(&loaded);
    let mut diags = analysis.diags;
    let (Some(ws), Some(graph)) = (analysis.workspace.as_ref(), analysis.graph.as_ref()) else {
        if diags.has_errors() {
            return Ok(BuildResult { loaded, output: None, diags, environments: Vec::new(), inputs: Vec::new() });
        }
        return Err("no platform.kdl found".into());
    };
    if diags.has_errors() {
        return Ok(BuildResult { loaded, output: None, diags, environments: Vec::new(), inputs: Vec::new() });
    }
    let envs = lower::environments(ws, opts).map_err(|e| e.0)?;
    let out = build(&loaded, ws, graph, &envs, opts, &mut diags);
    let output = (!diags.has_errors()).then_some(out);
    let inputs = lock_inputs(&loaded, ws).into_iter().map(|(p, b)| (p, b.to_vec())).collect();
    Ok(BuildResult { loaded, output, diags, environments: envs, inputs })
}

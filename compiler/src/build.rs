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

//! The front half of the pipeline shared by every command: check the loaded inputs and build
//! the IR graph, collecting every diagnostic of both stages.

use crate::diagnostics::Diagnostics;
use crate::graph::Graph;
use crate::load::Loaded;
use crate::model::Workspace;

/// A checked workspace and its graph, or why there is none.
pub struct Analysis {
    /// The checked workspace; `None` when checking could not build one.
    pub workspace: Option<Workspace>,
    /// The graph of the workspace, when there is one (it may still have cycles, reported in
    /// `diags`).
    pub graph: Option<Graph>,
    /// Every diagnostic of loading, checking and lowering, sorted.
    pub diags: Diagnostics,
}

impl Analysis {
    /// The workspace and graph when the input has no errors.
    pub fn ok(&self) -> Option<(&Workspace, &Graph)> {
        if self.diags.has_errors() {
            return None;
        }
        Some((self.workspace.as_ref()?, self.graph.as_ref()?))
    }
}

/// Checks the inputs against the backends' `vocabulary` (`platc_emit::VOCABULARY`) and lowers
/// them into the graph (cycles are reported here).
pub fn analyze(loaded: &Loaded, vocabulary: &crate::check::Vocabulary) -> Analysis {
    let (workspace, mut diags) = crate::check::check(&loaded.sources, &loaded.inputs, vocabulary);
    diags.extend(loaded.diags.iter().cloned());
    let graph = workspace.as_ref().map(|ws| Graph::build(ws, &mut diags));
    diags.sort(&loaded.sources);
    Analysis { workspace, graph, diags }
}

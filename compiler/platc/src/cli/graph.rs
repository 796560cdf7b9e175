//! `platc graph [PATH...] [--format dot|mermaid|json]`: the IR graph.

use super::{cwd, fail, InputArgs, ReportArgs, EXIT_ERRORS, EXIT_OK};
use crate::fs::RealFs;
use crate::graph::GraphFormat;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Graph format (diagnostics, if any, are printed to stderr in the human format).
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

pub(crate) fn run(args: &Args) -> i32 {
    let loaded = match crate::load::load(&RealFs, &args.input.paths(), &args.input.stdlib, &cwd()) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let analysis = crate::build::analyze(&loaded);
    let report = ReportArgs { format: crate::diagnostics::Format::Human, color: super::Color::Auto };
    report.emit(&analysis.diags, &loaded.sources);
    match analysis.ok() {
        Some((ws, g)) => {
            print!("{}", crate::graph::render(ws, g, args.format));
            EXIT_OK
        }
        None if analysis.diags.has_errors() => EXIT_ERRORS,
        None => fail("no platform.kdl found"),
    }
}

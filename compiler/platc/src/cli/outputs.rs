//! Reports about generated files (what `build --check` finds out of date, what a build would
//! lose) in the machine formats: one diagnostic per file, on the file itself, so that a CI
//! annotation lands on the generated file in the pull request and a SARIF or JSON consumer gets
//! them with the rest. The human format keeps its plain lines (cli/build.rs).

use crate::diagnostics::{codes, Diagnostic, Diagnostics, Label};
use crate::source::{SourceFile, SourceMap, Span};
use crate::write::drift::Finding;
use crate::write::Conflict;

/// The help of a file that is out of date because nobody rebuilt.
const REBUILD: &str = "run `platc build` and commit the result";

/// Adds `path` (relative to the output root, shown as `shown`) to `sources` and returns a
/// diagnostic at its first character.
fn on_file(sources: &mut SourceMap, shown: &str, path: &str, code: crate::diagnostics::Code, label: &str, message: String) -> Diagnostic {
    let name = if shown == "." || shown.is_empty() { path.to_string() } else { format!("{}/{path}", shown.trim_end_matches('/')) };
    let file = sources.add(SourceFile::new(name, None, String::new()));
    Diagnostic::new(code, Label::new(file, Span::new(0, 0), label), message)
}

/// One E0806 per finding of `build --check` (none for a file platc did not write: no drift).
pub(crate) fn drift(findings: &[Finding], shown: &str, sources: &mut SourceMap, diags: &mut Diagnostics) {
    for f in findings {
        let (label, message, help) = match f {
            Finding::NotOurs(_) => continue,
            Finding::Missing(p) => ("missing", format!("{p} is missing: a fresh build generates it"), REBUILD.to_string()),
            Finding::Unexpected(p) => ("no longer generated", format!("{p} is no longer generated: a build removes it"), REBUILD.to_string()),
            Finding::Stale { path, diff } => ("stale", format!("{path} is stale: the specs changed since it was built\n{diff}"), REBUILD.to_string()),
            Finding::HandEdited { path, diff } => (
                "edited by hand",
                format!("{path} was edited by hand (it differs from what platc wrote)\n{diff}"),
                "move the edit into the spec (a `patch` block for a generated object), or keep the file as yours with `platc eject SERVICE --file PATH`".to_string(),
            ),
        };
        diags.push(on_file(sources, shown, f.path(), codes::OUTPUT_OUT_OF_DATE, label, message).with_help(help));
    }
}

/// One E0804 per file whose content the build would lose.
pub(crate) fn lost(conflicts: &[Conflict], shown: &str, sources: &mut SourceMap, diags: &mut Diagnostics) {
    for c in conflicts {
        let message = format!("{}\n{}", c.describe().trim_start_matches(&format!("{}: ", codes::WOULD_LOSE_CONTENT)), c.diff);
        let help =
            "move an edit into the spec (a `patch` block), keep a generated file as yours with `platc eject SERVICE --file PATH`, move your own file away, or overwrite with `platc build --force`";
        diags.push(on_file(sources, shown, &c.path, codes::WOULD_LOSE_CONTENT, "would be lost", message).with_help(help));
    }
}

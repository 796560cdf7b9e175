//! Renderers: one diagnostic type, many output formats.
//!
//! Every format is computed from the same [`Diagnostic`] values, and every line/column comes from
//! the same line index ([`crate::source::SourceFile::line_col`]), so the position a CI annotation
//! or a SARIF viewer shows is the one the human report points at.

mod github;
mod human;
mod json;
mod sarif;

#[cfg(test)]
mod fixture;

use super::{Diagnostic, Label};
use crate::source::SourceMap;

/// An output format for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// miette's graphical report (colour only on a terminal).
    Human,
    /// One JSON object per line.
    Json,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// SARIF 2.1.0, one document for the whole run.
    Sarif,
}

/// Renders all diagnostics of a run in one format.
///
/// `color` only affects [`Format::Human`]; the machine formats never contain escape codes.
/// Json and Github render an empty list as an empty string; Sarif always renders a document.
///
/// No format prints a text a diagnostic asks to redact (a literal secret, E0216): the
/// diagnostics and the source lines the human report quotes are masked first.
pub fn render(diags: &[Diagnostic], sources: &SourceMap, format: Format, color: bool) -> String {
    let redacted = super::redact::redact(diags, sources);
    let (diags, sources) = match &redacted {
        Some((d, s)) => (d.as_slice(), s),
        None => (diags, sources),
    };
    match format {
        Format::Human => human::render(diags, sources, color),
        Format::Json => json::render(diags, sources),
        Format::Github => github::render(diags, sources),
        Format::Sarif => sarif::render(diags, sources),
    }
}

/// Where a label points, as 1-based lines and columns (columns in Unicode scalar values).
/// The end is exclusive: the position just after the last character of the span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Region {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

impl Region {
    fn of(sources: &SourceMap, label: &Label) -> Region {
        let file = sources.get(label.file);
        let start = file.line_col(label.span.start);
        let end = file.line_col(label.span.end);
        Region { line: start.line, column: start.column, end_line: end.line, end_column: end.column }
    }
}

/// `message`, then the help on its own line. Formats that have no separate help field use this.
fn message_with_help(d: &Diagnostic) -> String {
    match &d.help {
        Some(help) => format!("{}\nhelp: {}", d.message, help),
        None => d.message.clone(),
    }
}

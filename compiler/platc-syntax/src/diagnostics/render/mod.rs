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

use std::collections::HashMap;

use super::{Code, Diagnostic, Dropped, Label, Severity, MAX_KEPT_PER_FILE_AND_CODE};
use crate::source::{FileId, SourceMap, Span};

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
    render_counted(diags, &[], sources, format, color)
}

/// [`render`], for the diagnostics a [`super::Diagnostics`] kept and the ones it only counted
/// (`dropped`): the human report and the GitHub annotations count them with the rest; JSON and
/// SARIF end with one diagnostic per file and code that says how many were not listed.
pub fn render_counted(diags: &[Diagnostic], dropped: &[Dropped], sources: &SourceMap, format: Format, color: bool) -> String {
    let redacted = super::redact::redact(diags, sources);
    let (diags, sources) = match &redacted {
        Some((d, s)) => (d.as_slice(), s),
        None => (diags, sources),
    };
    match format {
        Format::Human => human::render(diags, dropped, sources, color),
        Format::Github => github::render(diags, dropped, sources),
        Format::Json => json::render(diags, sources) + &json::render(&not_listed(dropped, sources), sources),
        Format::Sarif if dropped.is_empty() => sarif::render(diags, sources),
        Format::Sarif => sarif::render(&[diags, &not_listed(dropped, sources)].concat(), sources),
    }
}

/// One diagnostic per file and code with diagnostics that were counted, not kept, at the start
/// of the file, saying how many.
fn not_listed(dropped: &[Dropped], sources: &SourceMap) -> Vec<Diagnostic> {
    dropped
        .iter()
        .map(|d| {
            let name = &sources.get(d.file).name;
            let message = format!("… and {} more {} in {name}, not listed: platc keeps at most {} per file and code", thousands(d.count), d.code, thousands(MAX_KEPT_PER_FILE_AND_CODE));
            let mut n = Diagnostic::new(d.code, Label::new(d.file, Span::new(0, 0), "in this file"), message);
            n.severity = d.severity;
            n
        })
        .collect()
}

/// Reports shown per file and code in the formats a person reads (the human report and GitHub
/// annotations); the rest are counted in one line each (`… and 199,950 more E0102 in
/// service.kdl`), so that a generated file with 200,000 unknown properties prints kilobytes, not
/// a gigabyte, and a pull request gets a handful of annotations (GitHub shows at most 10 errors
/// per step anyway). The summary still counts them all; JSON and SARIF, read by programs, list
/// them all.
const MAX_PER_FILE_AND_CODE: usize = 50;

/// The diagnostics of a run as a person is shown them: at most [`MAX_PER_FILE_AND_CODE`] per
/// file and code, in order, and a count of the others.
struct Capped<'a> {
    shown: Vec<&'a Diagnostic>,
    /// Per file and code with reports left out, how many, in order of first omission.
    omitted: Vec<Omitted>,
    /// Errors and warnings in all, shown or not.
    errors: usize,
    warnings: usize,
}

/// Reports of one code in one file that were counted, not shown.
struct Omitted {
    file: FileId,
    code: Code,
    severity: Severity,
    count: usize,
}

impl<'a> Capped<'a> {
    /// `dropped`: the diagnostics the run only counted, added to the counts of their file and
    /// code.
    fn of(diags: &'a [Diagnostic], dropped: &[Dropped]) -> Self {
        let mut shown = Vec::new();
        let mut seen: HashMap<(FileId, Code), usize> = HashMap::new();
        // Where each (file, code) is in `omitted`: a search of the list per omitted report would
        // be quadratic in the files of a run.
        let mut omitted: Vec<Omitted> = Vec::new();
        let mut omitted_at: HashMap<(FileId, Code), usize> = HashMap::new();
        for d in diags {
            let key = (d.primary.file, d.code);
            let count = seen.entry(key).or_default();
            *count += 1;
            if *count <= MAX_PER_FILE_AND_CODE {
                shown.push(d);
                continue;
            }
            let at = *omitted_at.entry(key).or_insert_with(|| {
                omitted.push(Omitted { file: key.0, code: key.1, severity: d.severity, count: 0 });
                omitted.len() - 1
            });
            omitted[at].count += 1;
        }
        for d in dropped {
            let at = *omitted_at.entry((d.file, d.code)).or_insert_with(|| {
                omitted.push(Omitted { file: d.file, code: d.code, severity: d.severity, count: 0 });
                omitted.len() - 1
            });
            omitted[at].count += d.count;
        }
        let errors = diags.iter().filter(|d| d.is_error()).count() + dropped.iter().filter(|d| d.severity == Severity::Error).map(|d| d.count).sum::<usize>();
        let warnings = diags.len() + dropped.iter().map(|d| d.count).sum::<usize>() - errors;
        Capped { shown, omitted, errors, warnings }
    }
}

/// `199950` as `199,950`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
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

//! The human format: miette's graphical report, one per diagnostic, then a summary line.
//!
//! miette draws the snippets, but it knows nothing of platc's [`Diagnostic`]; [`Report`] adapts
//! one to `miette::Diagnostic`. A miette report has a single source, so labels in other files
//! (such as the policy in `platform.kdl` that a service violates) become related reports, one
//! per file, each with that file as its source; miette prints them after the main snippet.
//!
//! miette's `[file:line:column]` header counts columns in bytes; [`CharColumns`] makes it count
//! characters, like every other format (the underlines are placed by display width either way).

use std::fmt;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, NamedSource, SourceCode, SourceSpan, SpanContents};

use crate::diagnostics::{Diagnostic, Label, Severity};
use crate::source::{FileId, SourceFile, SourceMap};

/// Fixed width, so that wrapping does not depend on the terminal and snapshots stay stable.
const WIDTH: usize = 100;

/// Reports separated by a blank line, then a summary; empty for no diagnostics.
pub(super) fn render(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    if diags.is_empty() {
        return String::new();
    }
    // The caller decides about colour (terminal, NO_COLOR, --color); miette's default theme would
    // probe the terminal itself. Links stay off either way: they are escape codes too.
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_links(false).with_context_lines(CONTEXT_LINES).with_width(WIDTH);

    let mut out = String::new();
    for d in diags {
        let mut text = String::new();
        // Writing to a String cannot fail, but miette also reports a snippet it could not read
        // as a formatting error; the error renderer must not panic, so fall back to plain text.
        if handler.render_report(&mut text, &Report::new(d, sources)).is_err() {
            text.push_str(&format!("\n{}: {}: {}\n", d.severity.as_str(), d.code, d.message));
        }
        // miette leaves trailing spaces on some lines (`Advice: `); they only make snapshot
        // diffs noisy.
        for line in text.trim_end().lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&summary(diags, color));
    out.push('\n');
    out
}

/// `error: 2 errors, 1 warning`, or `warning: 1 warning` when there are only warnings.
fn summary(diags: &[Diagnostic], color: bool) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut counts = Vec::new();
    if errors > 0 {
        counts.push(plural(errors, "error"));
    }
    if warnings > 0 {
        counts.push(plural(warnings, "warning"));
    }
    let (head, ansi) = if errors > 0 { ("error", "1;31") } else { ("warning", "1;33") };
    let head = if color { format!("\x1b[{ansi}m{head}\x1b[0m") } else { head.to_string() };
    format!("{head}: {}", counts.join(", "))
}

/// A platc diagnostic seen through `miette::Diagnostic`.
#[derive(Debug)]
struct Report {
    code: Option<String>,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    source: CharColumns,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

/// Lines of source shown around each label.
const CONTEXT_LINES: usize = 1;

impl Report {
    fn new(d: &Diagnostic, sources: &SourceMap) -> Report {
        let file = sources.get(d.primary.file);
        let mut labels = vec![LabeledSpan::new_primary_with_span(text(&d.primary), span(file, &d.primary))];
        // Other files in order of first appearance, so the output follows the diagnostic.
        let mut others: Vec<(FileId, Vec<LabeledSpan>)> = Vec::new();
        let primary_line = file.line_col(d.primary.span.start).line;
        for l in &d.secondary {
            let f = sources.get(l.file);
            let labeled = LabeledSpan::new_with_span(text(l), span(f, l));
            // miette opens a report at its first snippet; a same-file label far above the
            // primary would get its own snippet first and the report would open at the wrong
            // line. Such labels become a related note, like labels in other files.
            let far_above = l.file == d.primary.file && l.span.start < d.primary.span.start && primary_line.saturating_sub(f.line_col(l.span.start).line) > 2 * CONTEXT_LINES;
            if l.file == d.primary.file && !far_above {
                labels.push(labeled);
            } else if let Some((_, ls)) = others.iter_mut().find(|(id, _)| *id == l.file) {
                ls.push(labeled);
            } else {
                others.push((l.file, vec![labeled]));
            }
        }
        let related = others
            .into_iter()
            .map(|(id, labels)| {
                let f = sources.get(id);
                Report {
                    code: None,
                    // Advice renders as a note: it adds context, it is not a second problem.
                    severity: miette::Severity::Advice,
                    message: format!("related location in {}", f.name),
                    help: None,
                    source: named(f),
                    labels,
                    related: Vec::new(),
                }
            })
            .collect();
        Report {
            code: Some(d.code.as_str().to_string()),
            severity: match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            message: d.message.clone(),
            help: d.help.clone(),
            source: named(file),
            labels,
            related,
        }
    }
}

fn named(f: &SourceFile) -> CharColumns {
    CharColumns(NamedSource::new(&f.name, f.text.clone()))
}

/// A named source whose span contents report their column in characters instead of bytes, so
/// that the header of a report shows the same `line:column` as `--format json`.
#[derive(Debug)]
struct CharColumns(NamedSource<Arc<str>>);

impl SourceCode for CharColumns {
    fn read_span<'a>(&'a self, span: &SourceSpan, before: usize, after: usize) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.0.read_span(span, before, after)?;
        let text: &str = self.0.inner();
        let start = inner.span().offset();
        // miette breaks lines at `\r` as well as `\n`; follow it so both agree on the line.
        // A span inside a character (never produced by kdl) keeps miette's byte column.
        let column = text.get(..start).map_or(inner.column(), |head| {
            let line_start = head.rfind(['\n', '\r']).map_or(0, |i| i + 1);
            head[line_start..].chars().count()
        });
        let contents = MietteSpanContents::new_named(self.0.name().to_string(), inner.data(), *inner.span(), inner.line(), column, inner.line_count());
        Ok(Box::new(contents))
    }
}

/// The label text, or none for an empty message (miette then only underlines).
fn text(l: &Label) -> Option<String> {
    (!l.message.is_empty()).then(|| l.message.clone())
}

/// The label's span, adjusted for two miette limits: a span past the end prints an error instead
/// of a snippet, and a span that starts at the very end of the file (say, "missing `}`") is drawn
/// without its label. Such a span becomes a point at the last character, which for the usual
/// trailing newline is just after the text of the last line.
fn span(f: &SourceFile, l: &Label) -> SourceSpan {
    let len = f.text.len();
    if l.span.start >= len {
        let last = f.text.chars().next_back().map_or(0, char::len_utf8);
        return (len - last, 0).into();
    }
    (l.span.start, l.span.end.min(len) - l.span.start).into()
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code.as_ref().map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{sample, PLATFORM, SERVICE};
    use super::*;
    use crate::diagnostics::codes;
    use crate::source::Span;

    #[test]
    fn reports_show_codes_files_labels_and_help() {
        let (sources, diags) = sample();
        let out = render(&diags, &sources, false);
        for needle in [
            "E0503",
            "W0102",
            "E0201",
            "× service `checkout` violates policy \"min-replicas\"",
            "⚠ image reference pins tag 1.2",
            &format!("[{SERVICE}:2:14]"),
            "replicas is 1 here",
            "in this service",
            "help: set `replicas 2` or more",
            "tag pinned here",
            "help: write millicores (\"250m\")\n        or cores (\"0.5\")",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in\n{out}");
        }
        assert!(!out.contains('\x1b'), "no escape codes without colour:\n{out}");
        assert!(out.lines().all(|l| l == l.trim_end()), "no trailing spaces:\n{out}");
    }

    #[test]
    fn header_column_counts_characters() {
        let (sources, diags) = sample();
        let out = render(&diags[2..], &sources, false);
        // miette alone would say 4:30 (bytes); JSON, GitHub and SARIF say 4:25.
        assert!(out.contains(&format!("[{SERVICE}:4:25]")), "{out}");
    }

    #[test]
    fn label_in_another_file_is_a_note_with_that_source() {
        let (sources, diags) = sample();
        let out = render(&diags[..1], &sources, false);
        let note = out.find("Advice:").expect("related note");
        let tail = &out[note..];
        assert!(tail.contains(&format!("related location in {PLATFORM}")), "{out}");
        assert!(tail.contains(&format!("[{PLATFORM}:2:27]")), "{out}");
        assert!(tail.contains("policy \"min-replicas\" min=2"), "{out}");
        assert!(tail.contains("policy requires min=2"), "{out}");
        // The same-file label stays in the main snippet, before the note.
        assert!(out.find("in this service").unwrap() < note);
    }

    #[test]
    fn reports_are_separated_by_a_blank_line_and_summarised() {
        let (sources, diags) = sample();
        let out = render(&diags, &sources, false);
        assert!(out.ends_with("\n\nerror: 2 errors, 1 warning\n"), "{out}");
        assert!(out.contains("\n\nW0102\n"), "{out}");
        assert!(out.contains("\n\nE0201\n"), "{out}");
        assert!(render(&diags[1..2], &sources, false).ends_with("\n\nwarning: 1 warning\n"));
        assert!(render(&diags[2..], &sources, false).ends_with("\n\nerror: 1 error\n"));
        assert_eq!(render(&[], &sources, false), "");
    }

    #[test]
    fn colour_only_when_asked() {
        let (sources, diags) = sample();
        let out = render(&diags, &sources, true);
        assert!(out.contains('\x1b'));
        assert!(out.ends_with("\x1b[1;31merror\x1b[0m: 2 errors, 1 warning\n"), "{out:?}");
    }

    #[test]
    fn spans_at_or_past_the_end_keep_their_label() {
        let (sources, diags) = sample();
        let file = diags[0].primary.file;
        let len = sources.get(file).text.len();
        for span in [Span::new(len, len), Span::new(len + 5, len + 9)] {
            let d = Diagnostic::new(codes::MISSING_VALUE, Label::new(file, span, "expected `}`"), "m");
            let out = render(&[d], &sources, false);
            // Drawn as a point just after the last line's text (`}` is line 5).
            assert!(out.contains(" 5 │ }\n   ·  ▲\n   ·  ╰── expected `}`"), "{out}");
        }
    }
}

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

use super::{thousands, Capped};
use crate::diagnostics::{Diagnostic, Dropped, Label, Severity};
use crate::source::{FileId, LineIndex, SourceFile, SourceMap};

/// Fixed width, so that wrapping does not depend on the terminal and snapshots stay stable.
const WIDTH: usize = 100;

/// Reports separated by a blank line, then a summary; empty for no diagnostics.
pub(super) fn render(diags: &[Diagnostic], dropped: &[Dropped], sources: &SourceMap, color: bool) -> String {
    if diags.is_empty() {
        return String::new();
    }
    // The caller decides about colour (terminal, NO_COLOR, --color); miette's default theme would
    // probe the terminal itself. Links stay off either way: they are escape codes too.
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_links(false).with_context_lines(CONTEXT_LINES).with_width(WIDTH);

    let mut out = String::new();
    let capped = Capped::of(diags, dropped);
    for d in capped.shown {
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
    for o in &capped.omitted {
        out.push_str(&format!("… and {} more {} in {}\n", thousands(o.count), o.code, sources.get(o.file).name));
    }
    if !capped.omitted.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(capped.errors, capped.warnings, color));
    out.push('\n');
    out
}

/// `error: 2 errors, 1 warning`, or `warning: 1 warning` when there are only warnings.
fn summary(errors: usize, warnings: usize, color: bool) -> String {
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
    CharColumns { source: NamedSource::new(&f.name, f.text.clone()), lines: f.line_index().clone() }
}

/// A named source whose span contents report their column in characters instead of bytes, so
/// that the header of a report shows the same `line:column` as `--format json`.
///
/// It also keeps rendering linear: miette's own `read_span` scans the text from its first byte
/// for every label, and shows whole lines. Here miette reads only from the first context line
/// on (found in the line index), and a line longer than [`LONG_LINE`] is shown as a window
/// around the label, so that a thousand diagnostics on a megabyte line print kilobytes.
#[derive(Debug)]
struct CharColumns {
    source: NamedSource<Arc<str>>,
    lines: LineIndex,
}

/// Lines longer than this (bytes) are shown as a window of [`WINDOW`] bytes each side of a label.
const LONG_LINE: usize = 400;
const WINDOW: usize = 80;

impl SourceCode for CharColumns {
    fn read_span<'a>(&'a self, span: &SourceSpan, before: usize, after: usize) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text: &str = self.source.inner();
        // miette also breaks lines at a lone `\r`; the line index does not: read it miette's way.
        if self.lines.has_lone_cr() {
            let inner = self.source.read_span(span, before, after)?;
            let column = char_column(text, inner.span().offset()).unwrap_or(inner.column());
            return Ok(Box::new(MietteSpanContents::new_named(self.source.name().to_string(), inner.data(), *inner.span(), inner.line(), column, inner.line_count())));
        }
        let line = self.lines.line_of(span.offset());
        if let Some(window) = self.window(span, line, before) {
            return Ok(window);
        }
        let first = line.saturating_sub(before);
        let base = self.lines.line_start(first);
        let shifted: SourceSpan = (span.offset().saturating_sub(base), span.len()).into();
        let inner = text.as_bytes()[base..].read_span(&shifted, before, after)?;
        let start = base + inner.span().offset();
        let (mut start, mut len, mut first_line, mut line_count) = (start, inner.data().len(), first + inner.line(), first + inner.line_count());
        // A long context line: show the label's own lines only.
        if before > 0 && len > SNIPPET && span.len() < SNIPPET {
            let end = span.offset() + span.len();
            let last_end = text[end..].find('\n').map_or(text.len(), |n| end + n);
            start = self.lines.line_start(line);
            len = last_end - start;
            first_line = line;
            line_count = self.lines.line_of(last_end) + 1;
        }
        let column = self.column(text, start).unwrap_or(inner.column());
        let data: &'a [u8] = &text.as_bytes()[start..start + len];
        Ok(Box::new(MietteSpanContents::new_named(self.source.name().to_string(), data, (start, len).into(), first_line, column, line_count)))
    }
}

/// Largest snippet with context lines (bytes); beyond it the context lines are left out.
const SNIPPET: usize = 4 * LONG_LINE;

impl CharColumns {
    /// [`char_column`] from the line index: O(log n) on ASCII lines, whatever their length.
    fn column(&self, text: &str, at: usize) -> Option<usize> {
        text.is_char_boundary(at).then(|| self.lines.line_col(text, at).column - 1)
    }

    /// The part of a long line around `span` (within that one line), or `None` for a short line.
    /// Without context lines (`before == 0`, how miette asks for the header's position) it starts
    /// at the span itself, as miette's own reader does.
    fn window<'a>(&'a self, span: &SourceSpan, line: usize, before: usize) -> Option<Box<dyn SpanContents<'a> + 'a>> {
        let text: &str = self.source.inner();
        let line_start = self.lines.line_start(line);
        // The line's end from the index, not by searching the line: that would cost the whole
        // line for every label on it. There is no lone `\r` here (read_span reads those files
        // miette's way), so the line ends at the `\r` of `\r\n`, at `\n` or at the end.
        let next = self.lines.line_start(line + 1);
        let mut line_end = if next > line_start { next - 1 } else { text.len() };
        if line_end > line_start && text.as_bytes()[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let end = span.offset() + span.len();
        if line_end - line_start <= LONG_LINE || end > line_end {
            return None;
        }
        let floor = |mut i: usize| {
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let from = if before == 0 { span.offset() } else { floor(span.offset().saturating_sub(WINDOW).max(line_start)) };
        let to = floor((end + WINDOW).min(line_end));
        let data = &text.as_bytes()[from..to];
        let column = self.column(text, from)?;
        Some(Box::new(MietteSpanContents::new_named(self.source.name().to_string(), data, (from, to - from).into(), line, column, 1)))
    }
}

/// The 0-based column in characters of byte `at` on its line (`\r` or `\n` end a line, as in
/// miette); `None` inside a character (never produced by kdl).
fn char_column(text: &str, at: usize) -> Option<usize> {
    let head = text.get(..at)?;
    let line_start = head.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    Some(head[line_start..].chars().count())
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
    use super::super::MAX_PER_FILE_AND_CODE;
    use super::*;
    use crate::diagnostics::{codes, Code};
    use crate::source::Span;

    #[test]
    fn reports_show_codes_files_labels_and_help() {
        let (sources, diags) = sample();
        let out = render(&diags, &[], &sources, false);
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
        let out = render(&diags[2..], &[], &sources, false);
        // miette alone would say 4:30 (bytes); JSON, GitHub and SARIF say 4:25.
        assert!(out.contains(&format!("[{SERVICE}:4:25]")), "{out}");
    }

    #[test]
    fn label_in_another_file_is_a_note_with_that_source() {
        let (sources, diags) = sample();
        let out = render(&diags[..1], &[], &sources, false);
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
        let out = render(&diags, &[], &sources, false);
        assert!(out.ends_with("\n\nerror: 2 errors, 1 warning\n"), "{out}");
        assert!(out.contains("\n\nW0102\n"), "{out}");
        assert!(out.contains("\n\nE0201\n"), "{out}");
        assert!(render(&diags[1..2], &[], &sources, false).ends_with("\n\nwarning: 1 warning\n"));
        assert!(render(&diags[2..], &[], &sources, false).ends_with("\n\nerror: 1 error\n"));
        assert_eq!(render(&[], &[], &sources, false), "");
    }

    #[test]
    fn many_reports_of_one_code_in_one_file_are_counted_not_shown() {
        let (sources, diags) = sample();
        let file = diags[0].primary.file;
        let many: Vec<Diagnostic> =
            (0..1234).map(|i| Diagnostic::new(codes::UNKNOWN_PROPERTY, Label::new(file, Span::new(i % 5, i % 5 + 1), "unknown property"), format!("no property p{i}"))).collect();
        let out = render(&many, &[], &sources, false);
        assert_eq!(out.matches("× no property p").count(), MAX_PER_FILE_AND_CODE, "{out}");
        assert!(out.contains(&format!("… and 1,184 more E0102 in {SERVICE}\n")), "{out}");
        assert!(out.ends_with("error: 1234 errors\n"), "{out}");
        assert_eq!(thousands(199_000), "199,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    /// `text` as the file `name`, rendered with one diagnostic whose label covers `span`.
    fn render_one(name: &str, text: &str, code: Code, span: Span, label: &str, message: &str) -> String {
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new(name, None, text));
        render(&[Diagnostic::new(code, Label::new(file, span, label), message)], &[], &sources, false)
    }

    /// `text` with a `zz` property reported unknown, as the file `long.kdl`, rendered.
    fn render_unknown_zz(text: &str) -> (String, usize) {
        let at = text.find("zz").unwrap();
        (render_one("long.kdl", text, codes::UNKNOWN_PROPERTY, Span::new(at, at + 2), "unknown property", "`x` has no property `zz`"), at)
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_label() {
        let long = format!("service a {{\n    x {} zz=1\n}}\n", "p=1 ".repeat(10_000));
        let (out, at) = render_unknown_zz(&long);
        assert!(out.len() < 2_000, "{} bytes:\n{out}", out.len());
        assert!(out.contains(&format!("[long.kdl:2:{}]", at - 12 + 1)), "{out}");
        assert!(out.contains("p=1  zz=1"), "{out}");
        assert!(out.contains("unknown property"), "{out}");
    }

    #[test]
    fn a_long_line_window_ends_where_the_line_does() {
        // The line's end comes from the line index: `\n`, the `\r` of `\r\n`, or the end of the
        // text; the window never shows the line break or the next line.
        for (name, text) in [("lf", "service a {\n    x LONG zz=1\n}\n"), ("crlf", "service a {\r\n    x LONG zz=1\r\n}\r\n"), ("last", "service a {\n    x LONG zz=1")] {
            let text = text.replace("LONG", &"p=1 ".repeat(10_000));
            let (out, at) = render_unknown_zz(&text);
            // (A `\r` left in the window would be a line break to miette: it numbers the line 1.)
            assert!(out.contains(" 2 │ =1 p=1") && out.contains("p=1  zz=1\n") && !out.contains('\r') && !out.contains('}'), "{name}:\n{out}");
            assert!(out.contains(&format!("[long.kdl:2:{}]", at - text.find("    x").unwrap() + 1)), "{name}:\n{out}");
        }
    }

    #[test]
    fn omitted_reports_are_counted_per_file_in_order_of_first_omission() {
        let mut sources = SourceMap::new();
        let files: Vec<FileId> = (0..3).map(|i| sources.add(SourceFile::new(format!("f{i}.kdl"), None, "service a {\n}\n"))).collect();
        // Interleaved: 60 in f2, 70 in f0, 55 in f1, then 52 more in f2.
        let order = [(2, 60), (0, 70), (1, 55), (2, 52)];
        let diags: Vec<Diagnostic> = order
            .iter()
            .flat_map(|&(f, n)| (0..n).map(move |i| (f, i)))
            .map(|(f, i)| Diagnostic::new(codes::UNKNOWN_PROPERTY, Label::new(files[f], Span::new(0, 1), "here"), format!("no property p{i}")))
            .collect();
        let out = render(&diags, &[], &sources, false);
        assert!(out.contains("… and 62 more E0102 in f2.kdl\n… and 20 more E0102 in f0.kdl\n… and 5 more E0102 in f1.kdl\n"), "{out}");
        assert_eq!(out.matches("× no property p").count(), 3 * MAX_PER_FILE_AND_CODE);
    }

    #[test]
    fn a_long_context_line_is_left_out() {
        let text = format!("service a {{\n    // {}\n    x 1\n}}\n", "y".repeat(100_000));
        let at = text.find("x 1").unwrap();
        let out = render_one("ctx.kdl", &text, codes::UNEXPECTED_ARGUMENT, Span::new(at + 2, at + 3), "unexpected argument", "unexpected argument to `x`");
        assert!(out.len() < 2_000, "{} bytes:\n{out}", out.len());
        assert!(out.contains("[ctx.kdl:3:7]") && out.contains(" 3 │     x 1\n"), "{out}");
    }

    #[test]
    fn colour_only_when_asked() {
        let (sources, diags) = sample();
        let out = render(&diags, &[], &sources, true);
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
            let out = render(&[d], &[], &sources, false);
            // Drawn as a point just after the last line's text (`}` is line 5).
            assert!(out.contains(" 5 │ }\n   ·  ▲\n   ·  ╰── expected `}`"), "{out}");
        }
    }
}

//! GitHub Actions workflow commands: each diagnostic becomes an annotation on the pull request.
//!
//! Format: `::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=CODE::message`.
//! An annotation has one location only, so the help and the secondary labels (for instance the
//! policy in `platform.kdl` that a service violates) are appended to the message as extra lines.
//! Like the human report, at most 50 annotations per file and code; the others are counted in
//! one annotation on the file (GitHub shows only the first few of a step anyway, and a log of
//! 200,000 commands helps no one).

use super::{message_with_help, thousands, Capped, Omitted, Region};
use crate::diagnostics::{Diagnostic, Dropped, Severity};
use crate::source::SourceMap;

/// One workflow command per diagnostic shown, then one per file and code whose other reports
/// were counted, each ending in a newline; nothing for no diagnostics.
pub(super) fn render(diags: &[Diagnostic], dropped: &[Dropped], sources: &SourceMap) -> String {
    let capped = Capped::of(diags, dropped);
    let mut out = String::new();
    for d in capped.shown {
        out.push_str(&command(d, sources));
        out.push('\n');
    }
    for o in &capped.omitted {
        out.push_str(&omitted(o, sources));
        out.push('\n');
    }
    out
}

fn kind(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// `::error file=F,title=CODE::… and N more CODE in F`, on the file rather than a line: the
/// count of the reports [`render`] left out.
fn omitted(o: &Omitted, sources: &SourceMap) -> String {
    let file = &sources.get(o.file).name;
    let message = format!("… and {} more {} in {file} (`platc check --format json` lists them all)", thousands(o.count), o.code);
    format!("::{} file={},title={}::{}", kind(o.severity), escape_property(file), escape_property(o.code.as_str()), escape_data(&message))
}

fn command(d: &Diagnostic, sources: &SourceMap) -> String {
    let kind = kind(d.severity);
    let r = Region::of(sources, &d.primary);
    let file = &sources.get(d.primary.file).name;
    let mut message = message_with_help(d);
    for l in &d.secondary {
        let lr = Region::of(sources, l);
        let name = &sources.get(l.file).name;
        message.push_str(&format!("\nnote: {name}:{}:{}: {}", lr.line, lr.column, l.message));
    }
    format!(
        "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        escape_property(file),
        r.line,
        r.column,
        r.end_line,
        r.end_column,
        escape_property(d.code.as_str()),
        escape_data(&message),
    )
}

/// Escapes the message part of a workflow command. `%` goes first so that the escapes added
/// for line breaks are not escaped again.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value: like the message, plus `:` and `,`, which would otherwise end the
/// value (a file name may contain either).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::super::fixture::sample;
    use super::super::MAX_PER_FILE_AND_CODE;
    use super::*;

    #[test]
    fn one_command_per_diagnostic_with_positions() {
        let (sources, diags) = sample();
        let out = render(&diags, &[], &sources);
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "::error file=services/checkout/service.kdl,line=2,col=14,endLine=2,endColumn=15,\
             title=E0503::service `checkout` violates policy \"min-replicas\"\
             %0Ahelp: set `replicas 2` or more\
             %0Anote: services/checkout/service.kdl:1:1: in this service\
             %0Anote: platform.kdl:2:27: policy requires min=2"
        );
        assert_eq!(
            lines[1],
            "::warning file=services/checkout/service.kdl,line=3,col=33,endLine=3,endColumn=37,\
             title=W0102::image reference pins tag 1.2"
        );
        // Character columns despite multi-byte text before the span; `%` and newlines escaped
        // in the message, while `:` and `,` stay as they are there.
        assert_eq!(
            lines[2],
            "::error file=services/checkout/service.kdl,line=4,col=25,endLine=4,endColumn=31,\
             title=E0201::invalid CPU quantity \"lots\": expected e.g. 250m, 0.5 or 50%25\
             %0Ahelp: write millicores (\"250m\")%0Aor cores (\"0.5\")"
        );
    }

    #[test]
    fn escaping_follows_github_rules() {
        assert_eq!(escape_data("50%\r\na:b,c"), "50%25%0D%0Aa:b,c");
        assert_eq!(escape_property("C:\\a,b%\n"), "C%3A\\a%2Cb%25%0A");
        // Already-escaped looking text is escaped again, not passed through.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn many_reports_of_one_code_in_one_file_are_counted_in_one_annotation() {
        use crate::diagnostics::{codes, Label};
        use crate::source::Span;
        let (sources, diags) = sample();
        let file = diags[0].primary.file;
        let many: Vec<Diagnostic> = (0..1234).map(|i| Diagnostic::new(codes::UNKNOWN_PROPERTY, Label::new(file, Span::new(0, 1), "unknown property"), format!("no property p{i}"))).collect();
        let out = render(&many, &[], &sources);
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(lines.len(), MAX_PER_FILE_AND_CODE + 1, "{out}");
        assert!(lines[..MAX_PER_FILE_AND_CODE].iter().all(|l| l.starts_with("::error file=services/checkout/service.kdl,line=")), "{out}");
        assert_eq!(
            lines[MAX_PER_FILE_AND_CODE],
            "::error file=services/checkout/service.kdl,title=E0102::… and 1,184 more E0102 in services/checkout/service.kdl (`platc check --format json` lists them all)"
        );
    }

    #[test]
    fn no_diagnostics_no_output() {
        let (sources, _) = sample();
        assert_eq!(render(&[], &[], &sources), "");
    }
}

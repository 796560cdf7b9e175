//! `${...}` references inside strings: parsed here, resolved in [`super::refs`].

use crate::diagnostics::codes;
use crate::model::{Reference, Template, TemplatePart};
use crate::source::{Span, Spanned};

use super::reader::Cx;
use super::suggest;

/// The namespaces a reference can start with.
const NAMESPACES: [&str; 3] = ["resources", "service", "platform"];

/// Parses `text` (the content of the string whose source span is `span`) into literal text and
/// references. `$${` escapes a literal `${`.
///
/// Spans of references are exact when the string has no escapes before them (the common case);
/// otherwise they fall back to the whole string, which still points at the right value.
pub(crate) fn parse(cx: &mut Cx, value: &Spanned<String>) -> Template {
    let (text, span) = (value.value.as_str(), value.span);
    // Where the string content starts in the source: after the opening quote (or `#"`). Absent
    // when escapes make the source differ from the value.
    let content_offset = cx.source(span).find(text).filter(|_| !text.is_empty());
    let span_of = |start: usize, end: usize| match content_offset {
        Some(off) => Span::new(span.start + off + start, span.start + off + end),
        None => span,
    };
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with("$${") {
            literal.push_str("${");
            i += 3;
            continue;
        }
        if text[i..].starts_with("${") {
            let Some(close) = text[i..].find('}') else {
                cx.error(codes::BAD_INTERPOLATION, span_of(i, text.len()), "no closing `}`", "unterminated `${` reference").help =
                    Some("close the reference with `}`, e.g. \"${resources.db.host}\"; write `$${` for a literal `${`".into());
                literal.push_str(&text[i..]);
                break;
            };
            let inner = &text[i + 2..i + close];
            let ref_span = span_of(i, i + close + 1);
            if let Some(r) = parse_reference(cx, inner, ref_span) {
                if !literal.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut literal)));
                }
                parts.push(TemplatePart::Ref(Spanned::new(r, ref_span)));
            }
            i += close + 1;
            continue;
        }
        let ch_len = text[i..].chars().next().map(char::len_utf8).unwrap_or(1);
        literal.push_str(&text[i..i + ch_len]);
        i += ch_len;
    }
    if !literal.is_empty() {
        parts.push(TemplatePart::Text(literal));
    }
    Template { parts }
}

fn parse_reference(cx: &mut Cx, inner: &str, span: Span) -> Option<Reference> {
    let segs: Vec<&str> = inner.trim().split('.').collect();
    let bad = |cx: &mut Cx, msg: String, help: String| {
        cx.error(codes::BAD_INTERPOLATION, span, "malformed reference", msg).help = Some(help);
        None
    };
    match segs.as_slice() {
        ["resources", name, output] if !name.is_empty() && !output.is_empty() => Some(Reference::Resource { name: name.to_string(), output: output.to_string() }),
        ["service", name, attr] if !name.is_empty() && !attr.is_empty() => Some(Reference::Service { name: name.to_string(), attr: attr.to_string() }),
        ["platform", key] if !key.is_empty() => Some(Reference::Platform { key: key.to_string() }),
        ["resources", ..] => bad(cx, format!("`${{{inner}}}` is not a resource reference"), "write ${resources.NAME.OUTPUT}, e.g. ${resources.orders.host}".into()),
        ["service", ..] => bad(cx, format!("`${{{inner}}}` is not a service reference"), "write ${service.NAME.url} (or .host, .port), e.g. ${service.payments.url}".into()),
        ["platform", ..] => bad(cx, format!("`${{{inner}}}` is not a platform reference"), "write ${platform.KEY}, e.g. ${platform.domain}".into()),
        [ns, ..] => {
            let help = match suggest::did_you_mean(ns, NAMESPACES) {
                Some(s) => format!("did you mean `{s}`? references start with {}", suggest::list(&NAMESPACES)),
                None => format!("references start with {}, e.g. ${{resources.db.host}}", suggest::list(&NAMESPACES)),
            };
            bad(cx, format!("unknown reference namespace `{ns}`"), help)
        }
        [] => bad(cx, "empty reference `${}`".into(), "write e.g. ${resources.db.host}".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Diagnostics;
    use crate::source::FileId;

    fn run(text: &str) -> (Template, Diagnostics) {
        let mut diags = Diagnostics::new();
        let source = format!("env X=    \"{text}\"");
        let mut cx = Cx { file: FileId(0), text: &source, diags: &mut diags };
        let value = Spanned::new(text.to_string(), Span::new(10, source.len()));
        let t = parse(&mut cx, &value);
        (t, diags)
    }

    #[test]
    fn splits_text_and_refs_with_exact_spans() {
        let (t, d) = run("postgres://${resources.db.host}:5432");
        assert!(d.is_empty());
        assert_eq!(t.parts.len(), 3);
        let r = t.refs().next().unwrap();
        assert_eq!(r.value, Reference::Resource { name: "db".into(), output: "host".into() });
        // 10 (string start) + 1 (quote) + 11 ("postgres://")
        assert_eq!(r.span, Span::new(22, 22 + "${resources.db.host}".len()));
    }

    #[test]
    fn escapes_and_errors() {
        let (t, d) = run("$${HOME}");
        assert!(d.is_empty());
        assert_eq!(t.as_literal().as_deref(), Some("${HOME}"));
        let (_, d) = run("${resource.db.host}");
        assert_eq!(d.iter().next().unwrap().help.as_deref().map(|h| h.contains("`resources`")), Some(true));
        let (_, d) = run("${resources.db");
        assert!(d.has_errors());
    }
}

//! Syntax: KDL text -> untyped AST with byte spans.
//!
//! The AST is deliberately untyped (names, values, spans); the checker gives it meaning. KDL
//! errors become platc diagnostics here, so that every later stage sees one error type.
//!
//! Two paths produce the same AST: `fast.rs`, a hand-written reader of plain KDL v2 tried first,
//! and the `kdl` crate, the reference, which reads everything the fast path declines and reports
//! every syntax error (`tests/kdl_fast_path.rs` checks they agree).

mod ast;
mod fast;
pub mod limits;

pub use ast::{Children, Document, Node, Prop, Value};

use crate::diagnostics::{codes, Diagnostic, Diagnostics, Label};
use crate::source::{FileId, SourceFile, Span, Spanned};

/// Parses one KDL v2 file. On syntax errors, reports every error kdl recovered and returns
/// `None`: a file with broken syntax is not checked further (its meaning would be guesswork).
///
/// Tries the fast path first ([`parse_fast`]); whatever it does not accept goes to the `kdl`
/// crate ([`parse_kdl`]), the reference parser and the source of every syntax diagnostic.
///
/// First of all, the file must be within the size and nesting limits ([`limits::check`], E0005
/// and E0004): both parsers recurse per nesting level, so a deeper file is refused unparsed.
pub fn parse(file_id: FileId, file: &SourceFile, diags: &mut Diagnostics) -> Option<Document> {
    if !limits::check(file_id, file, diags) {
        return None;
    }
    parse_fast(file_id, &file.text).or_else(|| kdl_unchecked(file_id, file, diags))
}

/// The fast path alone: a hand-written parser for plain KDL v2 (see `syntax/fast.rs`). Returns
/// `Some` only when the input is certainly valid and the result is exactly what [`parse_kdl`]
/// gives; `None` for syntax errors and for every construct it leaves to kdl. Public for the
/// differential tests and benchmarks; the compiler calls [`parse`].
pub fn parse_fast(file_id: FileId, text: &str) -> Option<Document> {
    fast::parse(file_id, text)
}

/// The reference path alone: parses with the `kdl` crate and lowers its document, reporting
/// kdl's errors as E0001 diagnostics. [`parse`] uses it for whatever [`parse_fast`] declines.
/// Like [`parse`], it refuses files beyond the [`limits`] (kdl recurses per nesting level).
pub fn parse_kdl(file_id: FileId, file: &SourceFile, diags: &mut Diagnostics) -> Option<Document> {
    if !limits::check(file_id, file, diags) {
        return None;
    }
    kdl_unchecked(file_id, file, diags)
}

/// [`parse_kdl`] once the limits are checked.
fn kdl_unchecked(file_id: FileId, file: &SourceFile, diags: &mut Diagnostics) -> Option<Document> {
    match file.text.parse::<kdl::KdlDocument>() {
        Ok(doc) => Some(Document { file: file_id, nodes: doc.nodes().iter().map(|n| lower_node(n, &file.text)).collect() }),
        Err(err) => {
            for d in err.diagnostics {
                let span = clamp(Span::from(d.span), file.text.len());
                let message = d.message.unwrap_or_else(|| "invalid KDL".to_string());
                let label = d.label.unwrap_or_else(|| "here".to_string());
                // When platc recognises the mistake, point at the offending value itself.
                let hint = hint_for(&file.text, span);
                let span = hint.as_ref().map(|(_, at)| *at).unwrap_or(span);
                let help = hint.map(|(h, _)| h).or(d.help).unwrap_or_else(|| {
                    "see docs/language.md for the syntax; strings with spaces, units or `%` \
                     need quotes, e.g. cpu=\"250m\""
                        .to_string()
                });
                diags.push(Diagnostic::new(codes::SYNTAX, Label::new(file_id, span, label), message).with_help(help));
            }
            None
        }
    }
}

/// platc's own hint for the KDL mistakes people make most, searched in the lines the error
/// covers: units and percentages need quotes in KDL v2 (`250m` is not a value), and booleans
/// are `#true`. Returns the hint and the span of the offending value.
fn hint_for(text: &str, span: Span) -> Option<(String, Span)> {
    let start = text[..span.start.min(text.len())].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[span.end.min(text.len())..].find('\n').map(|i| span.end + i).unwrap_or(text.len());
    let region = &text[start..end];
    let mut offset = start;
    for token in region.split_inclusive(char::is_whitespace) {
        let at = offset;
        offset += token.len();
        let token = token.trim_end();
        let (value, value_at) = match token.split_once('=') {
            Some((k, v)) => (v, at + k.len() + 1),
            None => (token, at),
        };
        let value_span = Span::new(value_at, value_at + value.len());
        if matches!(value, "true" | "false" | "null") {
            return Some((format!("KDL v2 writes booleans and null with a `#`: write `#{value}`"), value_span));
        }
        let rest = value.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
        if value.starts_with(|c: char| c.is_ascii_digit()) && !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphabetic() || c == '%') {
            return Some((format!("values with units or `%` are strings in KDL: write \"{value}\""), value_span));
        }
    }
    None
}

fn clamp(span: Span, len: usize) -> Span {
    Span::new(span.start.min(len), span.end.min(len))
}

fn lower_node(node: &kdl::KdlNode, text: &str) -> Node {
    let name = Spanned::new(node.name().value().to_string(), node.name().span().into());
    let ty = node.ty().map(|t| Spanned::new(t.value().to_string(), t.span().into()));
    let mut args = Vec::new();
    let mut props = Vec::new();
    for entry in node.entries() {
        let span: Span = entry.span().into();
        let value = lower_value(entry.value());
        match entry.name() {
            None => args.push(Spanned::new(value, span)),
            Some(key) => {
                // kdl gives the whole `name=value` span; the value is the tail of it.
                let repr_len = entry.format().map(|f| f.value_repr.len()).unwrap_or(0);
                let value_span = Span::new(span.end.saturating_sub(repr_len), span.end);
                props.push(Prop { name: Spanned::new(key.value().to_string(), key.span().into()), value: Spanned::new(value, value_span), span });
            }
        }
    }
    let children = node.children().map(|c| Children { nodes: c.nodes().iter().map(|n| lower_node(n, text)).collect(), span: c.span().into() });
    // The head of a node: from its name (or type annotation) to the end of its last entry, so
    // that labels do not underline trailing whitespace or the whole children block.
    let start = ty.as_ref().map(|t| t.span.start.saturating_sub(1)).unwrap_or(name.span.start);
    let head_end = node.entries().last().map(|e| Span::from(e.span()).end).unwrap_or(name.span.end);
    let full: Span = node.span().into();
    let full_end = trim_end(text, full);
    Node { name, ty, args, props, children, head: Span::new(start, head_end), span: Span::new(start, full_end) }
}

fn trim_end(text: &str, span: Span) -> usize {
    let s = text.get(span.start..span.end).unwrap_or("");
    span.start + s.trim_end().len()
}

fn lower_value(v: &kdl::KdlValue) -> Value {
    match v {
        kdl::KdlValue::String(s) => Value::String(s.clone()),
        kdl::KdlValue::Integer(i) => Value::Int(*i),
        kdl::KdlValue::Float(f) => Value::Float(*f),
        kdl::KdlValue::Bool(b) => Value::Bool(*b),
        kdl::KdlValue::Null => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> (Option<Document>, Diagnostics) {
        let file = SourceFile::new("t.kdl", None, text);
        let mut diags = Diagnostics::new();
        (parse(FileId(0), &file, &mut diags), diags)
    }

    #[test]
    fn spans_point_at_names_and_values() {
        let text = "service a {\n  port http 8080 protocol=\"grpc\"\n}\n";
        let (doc, diags) = parse_str(text);
        assert!(diags.is_empty());
        let doc = doc.unwrap();
        let port = &doc.nodes[0].children.as_ref().unwrap().nodes[0];
        assert_eq!(&text[port.name.span.start..port.name.span.end], "port");
        assert_eq!(&text[port.args[1].span.start..port.args[1].span.end], "8080");
        let p = &port.props[0];
        assert_eq!(&text[p.value.span.start..p.value.span.end], "\"grpc\"");
        assert_eq!(&text[p.name.span.start..p.name.span.end], "protocol");
        assert_eq!(&text[port.head.start..port.head.end], "port http 8080 protocol=\"grpc\"");
    }

    #[test]
    fn common_mistakes_get_platc_hints() {
        let (_, diags) = parse_str("service a {\n  resources cpu=250m\n}\n");
        assert!(diags.iter().any(|d| d.help.as_deref() == Some("values with units or `%` are strings in KDL: write \"250m\"")), "{diags:?}");
        let (_, diags) = parse_str("service a {\n  route \"/\" public=true\n}\n");
        assert!(diags.iter().any(|d| d.help.as_deref().is_some_and(|h| h.contains("#true"))), "{diags:?}");
    }

    #[test]
    fn syntax_errors_become_diagnostics() {
        let (doc, diags) = parse_str("service a {\n  cpu 250m\n");
        assert!(doc.is_none());
        assert!(diags.has_errors());
        assert!(diags.iter().all(|d| d.code == codes::SYNTAX));
    }
}

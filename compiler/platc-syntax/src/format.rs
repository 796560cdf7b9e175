//! Canonical formatting of KDL files (`platc fmt`), keeping every comment.
//!
//! The formatter decides only *layout*. kdl parses the file; the printer walks kdl's document and
//! copies every name, value and comment from its source representation, choosing only the
//! whitespace between them. kdl's own `autoformat` is not used: it drops trailing `//` comments
//! (and kdl records no text at all after a children block's `}`, which is read back from the
//! source here).
//!
//! # Canonical form
//!
//! * **One node per line**, indented with 4 spaces per level; a children block opens with ` {`
//!   at the end of its node's line, holds its nodes one level deeper, and closes with `}` on a
//!   line of its own at the node's level. An empty block with no comments is `{}`.
//! * Inside a node's line, parts are separated by a single space: `name arg key=value {`.
//!   Properties are written `key=value` (no spaces around `=`) and type annotations `(type)value`
//!   and `(type)name`, with no spaces inside the parentheses (a comment there stays, spaced from
//!   names and values). `;` terminators become newlines; line continuations (`\`) are dropped
//!   (the node's line is joined), except one followed by a `//` comment, which is kept as
//!   ` \ // comment` and the line continues one level deeper (when nothing of the node follows,
//!   the comment becomes the node's trailing comment).
//! * **Tokens are kept as written**: a string keeps its quoting (bare, `"quoted"`, `#"raw"#`,
//!   multi-line `"""`), a number its representation (`0x10`, `1_000`, `1.50`, `1e3`), keywords
//!   (`#true`, `#null`) and node, property and type names likewise. Multi-line strings are copied
//!   byte for byte, so their content never changes (their continuation lines are not re-indented).
//! * **Comments are kept, in order, where they were**:
//!   - `//` comments on a line of their own stay on their own line, re-indented to the level of
//!     the nodes around them; a `//` comment after a node stays at the end of that node's line
//!     (`port http 8080 // public`); one after `{` stays after the `{`.
//!   - `/* */` comments stay inline, separated by one space from their neighbours, on the line
//!     they were on: before a node on its line (`/* x */ node`), inside it
//!     (`node /* x */ arg`), after it, or on a line of their own. Their text, including any lines
//!     inside them, is copied byte for byte.
//!   - Slashdashed (`/-`) nodes, entries and children blocks stay where they were and are
//!     formatted like live ones, with `/-` directly in front (`/-port admin 9090`,
//!     `port http 8080 /-protocol=grpc`). Comments between `/-` and what it comments out move
//!     just in front of the `/-`.
//!   - Trailing whitespace in `//` comments is removed.
//! * **Blank lines**: any run of blank lines between two nodes or comments of a block becomes
//!   exactly one blank line, so the grouping the author chose survives; blank lines at the start
//!   and end of a file or children block are removed. The file ends with one newline (an empty
//!   file stays empty). Newlines are `\n`; a byte order mark is dropped.
//!
//! The result is idempotent (formatting formatted text changes nothing) and means the same as
//! the input: same nodes, names, type annotations, arguments, properties (in order) and children.
//! Every result is checked before it is returned: it must parse to the same document and hold
//! the same non-whitespace characters (apart from `;` and `\`, which the canonical form drops or
//! adds). Should that check ever fail (a formatter bug), [`format`] returns the file unchanged
//! rather than risk changing its meaning; [`format_text`] reports it as
//! [`FormatError::Internal`].

mod lex;
mod print;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::diagnostics::Diagnostics;
use crate::source::{FileId, SourceFile};

/// Formats one file; `None` (with diagnostics) when it does not parse.
pub fn format(id: FileId, file: &SourceFile, diags: &mut Diagnostics) -> Option<String> {
    crate::syntax::parse(id, file, diags)?;
    Some(format_text(&file.text).unwrap_or_else(|_| file.text.to_string()))
}

/// Why [`format_text`] produced no text.
#[derive(Debug)]
pub enum FormatError {
    /// The text is not valid KDL v2 ([`format`] reports these as diagnostics).
    Syntax(kdl::KdlError),
    /// The formatter could not format this text without changing it (a bug in the formatter).
    Internal(String),
    /// The text nests deeper than platc reads ([`crate::syntax::limits::MAX_DEPTH`]); [`format`]
    /// reports it as E0004.
    TooDeep(crate::syntax::limits::TooDeep),
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::Syntax(e) => write!(f, "invalid KDL: {e}"),
            FormatError::Internal(e) => write!(f, "internal formatter error: {e}"),
            FormatError::TooDeep(d) => write!(f, "nesting deeper than {} levels at byte {}", crate::syntax::limits::MAX_DEPTH, d.span.start),
        }
    }
}

impl std::error::Error for FormatError {}

/// Formats KDL text into the canonical form described in the [module docs](self).
pub fn format_text(text: &str) -> Result<String, FormatError> {
    // kdl and the printer recurse per level: refuse what would overflow the stack first.
    if let Some(deep) = crate::syntax::limits::too_deep(text) {
        return Err(FormatError::TooDeep(deep));
    }
    let doc: kdl::KdlDocument = text.parse().map_err(FormatError::Syntax)?;
    let out = print::document(&doc, text).map_err(FormatError::Internal)?;
    verify(text, &doc, &out).map_err(FormatError::Internal)?;
    Ok(out)
}

/// The safety net: the output parses to the same document and loses no character.
fn verify(input: &str, doc: &kdl::KdlDocument, output: &str) -> Result<(), String> {
    let formatted: kdl::KdlDocument = output.parse().map_err(|e| format!("the formatted text does not parse: {e}\n{output}"))?;
    if shape(doc) != shape(&formatted) {
        return Err(format!("formatting changed the document's meaning:\n{output}"));
    }
    if significant_chars(input) != significant_chars(output) {
        return Err(format!("formatting lost or added text (a comment?):\n{output}"));
    }
    Ok(())
}

/// A formatting-independent dump of a document: names, types, values and children.
fn shape(doc: &kdl::KdlDocument) -> String {
    let mut out = String::new();
    shape_into(doc, &mut out);
    out
}

fn shape_into(doc: &kdl::KdlDocument, out: &mut String) {
    for node in doc.nodes() {
        let _ = write!(out, "{:?}{:?}[", node.ty().map(|t| t.value()), node.name().value());
        for e in node.entries() {
            let _ = write!(out, "{:?}{:?}{:?},", e.name().map(|n| n.value()), e.ty().map(|t| t.value()), e.value());
        }
        out.push(']');
        if let Some(children) = node.children() {
            out.push('{');
            shape_into(children, out);
            out.push('}');
        }
        out.push(';');
    }
}

/// How often each character occurs, ignoring what formatting may add or drop.
fn significant_chars(text: &str) -> BTreeMap<char, usize> {
    let mut counts = BTreeMap::new();
    for c in text.chars().filter(|&c| !c.is_whitespace() && !matches!(c, ';' | '\\' | '\u{FEFF}')) {
        *counts.entry(c).or_insert(0) += 1;
    }
    counts
}

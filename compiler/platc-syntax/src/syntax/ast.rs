//! The untyped AST: what was written, with spans, before any meaning is given to it.

use crate::source::{FileId, Span, Spanned};

/// One parsed `.kdl` file.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file it was parsed from.
    pub file: FileId,
    /// Its top-level nodes, in order.
    pub nodes: Vec<Node>,
}

/// A KDL node: `(type)name arg... key=value... { children }`.
#[derive(Debug, Clone)]
pub struct Node {
    /// The node name, e.g. `service` or `port`.
    pub name: Spanned<String>,
    /// The optional type annotation, e.g. `(json)` in `(json)patch ...`.
    pub ty: Option<Spanned<String>>,
    /// Positional arguments, in order.
    pub args: Vec<Spanned<Value>>,
    /// `key=value` properties in the order written, duplicates kept (the checker reports them).
    pub props: Vec<Prop>,
    /// The `{ ... }` block, when the node has one.
    pub children: Option<Children>,
    /// From the name to the end of the last argument or property.
    pub head: Span,
    /// The whole node, children included.
    pub span: Span,
}

impl Node {
    /// The children nodes, or an empty slice.
    pub fn child_nodes(&self) -> &[Node] {
        self.children.as_ref().map(|c| c.nodes.as_slice()).unwrap_or(&[])
    }
}

/// A `{ ... }` block of child nodes.
#[derive(Debug, Clone)]
pub struct Children {
    /// The child nodes, in order.
    pub nodes: Vec<Node>,
    /// The text between the braces, braces excluded (kdl's document span for the block).
    pub span: Span,
}

/// A `key=value` property.
#[derive(Debug, Clone)]
pub struct Prop {
    /// The key.
    pub name: Spanned<String>,
    /// The value after `=`.
    pub value: Spanned<Value>,
    /// The whole `key=value`.
    pub span: Span,
}

/// A KDL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string, quoted, raw or a bare identifier, with its escapes resolved.
    String(String),
    /// An integer (written in decimal, `0x`, `0o` or `0b`).
    Int(i128),
    /// A number with a fraction or an exponent, or `#inf`, `#-inf`, `#nan`.
    Float(f64),
    /// `#true` or `#false`.
    Bool(bool),
    /// `#null`.
    Null,
}

impl Value {
    /// The KDL type name, for "expected a string, found a number" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null => "#null",
        }
    }

    /// The string, when the value is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as text the way a user would write it in a string (numbers and booleans
    /// included), for places that accept either, such as env var values.
    pub fn to_text(&self) -> String {
        match self {
            Value::String(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => String::new(),
        }
    }
}

//! Reading untyped nodes with a schema in mind.
//!
//! A [`NodeReader`] hands out a node's arguments and properties by position and name, remembers
//! which ones were asked for, and at [`NodeReader::finish`] reports everything that was written
//! but never asked for (unknown properties with did-you-mean, extra arguments, a children block
//! where none belongs). The schema of each node is thus simply the code that reads it.

use super::suggest;
use crate::diagnostics::{codes, Code, Diagnostic, Diagnostics, Label};
use crate::source::{FileId, Span, Spanned};
use crate::syntax::{Node, Prop, Value};

/// The file being checked and the sink for its diagnostics.
pub struct Cx<'a> {
    pub file: FileId,
    /// The file's text, for spans inside string values.
    pub text: &'a str,
    pub diags: &'a mut Diagnostics,
}

impl Cx<'_> {
    /// The source text a span covers.
    pub fn source(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// Reports a diagnostic whose primary label is in the current file. The returned handle
    /// adds labels and help where the error arises: `cx.error(..).label(span, "..").help = ..`.
    pub fn error(&mut self, code: Code, span: Span, label: impl Into<String>, message: impl Into<String>) -> Reported<'_> {
        let d = Diagnostic::new(code, Label::new(self.file, span, label), message);
        self.diags.push(d);
        Reported { file: self.file, diagnostic: self.diags.last_mut() }
    }

    /// Reports a child node this parent does not know, suggesting the closest known one.
    pub fn unknown_node(&mut self, node: &Node, parent: &str, known: &[&str]) {
        let name = &node.name.value;
        let help = suggest::help_for_unknown(name, known, "child node");
        self.error(codes::UNKNOWN_NODE, node.name.span, "unknown node", format!("`{parent}` has no child node `{name}`")).help = Some(help);
    }
}

/// A just-reported diagnostic, to add secondary labels (in the same file) and help.
pub struct Reported<'a> {
    file: FileId,
    diagnostic: &'a mut Diagnostic,
}

impl Reported<'_> {
    /// Adds a secondary label in the current file.
    pub fn label(self, span: Span, message: impl Into<String>) -> Self {
        self.diagnostic.secondary.push(Label::new(self.file, span, message));
        self
    }
}

impl std::ops::Deref for Reported<'_> {
    type Target = Diagnostic;
    fn deref(&self) -> &Diagnostic {
        self.diagnostic
    }
}

impl std::ops::DerefMut for Reported<'_> {
    fn deref_mut(&mut self) -> &mut Diagnostic {
        self.diagnostic
    }
}

/// Reports a node that may appear only once inside its parent. A map, not a list: the names
/// are the user's (unknown nodes too), so a list would make 100,000 children quadratic.
#[derive(Default)]
pub(crate) struct Once {
    seen: std::collections::HashMap<String, Span>,
}

impl Once {
    /// True the first time `node`'s name is seen; afterwards reports E0106 and returns false.
    pub(crate) fn first(&mut self, cx: &mut Cx, node: &Node) -> bool {
        let name = &node.name.value;
        if let Some(&first) = self.seen.get(name) {
            cx.error(codes::REPEATED_NODE, node.name.span, "given again here", format!("`{name}` is given more than once")).label(first, "first given here").help =
                Some(format!("keep one `{name}` node and merge the values into it"));
            return false;
        }
        self.seen.insert(name.clone(), node.name.span);
        true
    }
}

/// Reads one node against the schema its caller knows.
pub(crate) struct NodeReader<'n> {
    pub node: &'n Node,
    known_props: Vec<&'static str>,
    args_taken: usize,
    /// How many arguments the node may have (None: any number, e.g. `command a b c`).
    max_args: Option<usize>,
    children_allowed: bool,
    /// Property names are user data (env var names), not schema: never "unknown".
    props_are_data: bool,
}

impl<'n> NodeReader<'n> {
    pub(crate) fn new(node: &'n Node) -> Self {
        NodeReader { node, known_props: Vec::new(), args_taken: 0, max_args: Some(0), children_allowed: false, props_are_data: false }
    }

    /// The node's name as written.
    pub(crate) fn name(&self) -> &str {
        &self.node.name.value
    }

    /// Declares that property names are data (e.g. `env NAME=value`), read by the caller.
    pub(crate) fn props_are_data(&mut self) {
        self.props_are_data = true;
    }

    /// Declares a children block legal here.
    pub(crate) fn allow_children(&mut self) -> &'n [Node] {
        self.children_allowed = true;
        self.node.child_nodes()
    }

    /// Argument `i`, if written.
    pub(crate) fn arg(&mut self, i: usize) -> Option<&'n Spanned<Value>> {
        if let Some(max) = self.max_args.as_mut() {
            *max = (*max).max(i + 1);
        }
        self.args_taken = self.args_taken.max(i + 1);
        self.node.args.get(i)
    }

    /// All arguments from `i` on.
    pub(crate) fn rest_args(&mut self, i: usize) -> &'n [Spanned<Value>] {
        self.max_args = None;
        self.node.args.get(i..).unwrap_or(&[])
    }

    /// Argument `i` as a string; reports E0103 when missing and E0105 when not a string.
    pub(crate) fn req_arg_str(&mut self, cx: &mut Cx, i: usize, what: &str, example: &str) -> Option<Spanned<String>> {
        match self.arg(i) {
            None => {
                let span = self.node.head;
                let name = self.name().to_string();
                cx.error(codes::MISSING_VALUE, span, format!("{what} missing"), format!("`{name}` needs {what}")).help = Some(format!("write it like this: {example}"));
                None
            }
            Some(v) => expect_str(cx, v, what, example),
        }
    }

    /// Property `name`, marking it known. Reports a repeated property (KDL keeps the last one,
    /// which silently hides the first: rarely what was meant).
    pub(crate) fn prop(&mut self, cx: &mut Cx, name: &'static str) -> Option<&'n Prop> {
        if !self.known_props.contains(&name) {
            self.known_props.push(name);
        }
        let mut found: Option<&'n Prop> = None;
        for p in self.node.props.iter().filter(|p| p.name.value == name) {
            if let Some(first) = found {
                cx.error(codes::REPEATED_NODE, p.name.span, "given again here", format!("property `{name}` is given more than once")).label(first.name.span, "first given here").help =
                    Some(format!("keep one `{name}=...`"));
            }
            found = Some(p);
        }
        found
    }

    /// Property `name` as a string.
    pub(crate) fn prop_str(&mut self, cx: &mut Cx, name: &'static str, example: &str) -> Option<Spanned<String>> {
        let p = self.prop(cx, name)?;
        expect_str(cx, &p.value, format_args!("`{name}`"), example)
    }

    /// String properties, each `(name, example)` read as [`prop_str`](Self::prop_str) reads it,
    /// in order: the plain text properties of a node as one table.
    pub(crate) fn props_str<const N: usize>(&mut self, cx: &mut Cx, props: [(&'static str, &str); N]) -> [Option<Spanned<String>>; N] {
        props.map(|(name, example)| self.prop_str(cx, name, example))
    }

    /// Property `name` as a boolean (`#true` / `#false`).
    pub(crate) fn prop_bool(&mut self, cx: &mut Cx, name: &'static str) -> Option<Spanned<bool>> {
        let p = self.prop(cx, name)?;
        expect_bool(cx, &p.value, name)
    }

    /// Property `name` as an integer in `[min, max]`.
    pub(crate) fn prop_int(&mut self, cx: &mut Cx, name: &'static str, min: i64, max: i64) -> Option<Spanned<i64>> {
        let p = self.prop(cx, name)?;
        expect_int(cx, &p.value, format_args!("`{name}`"), min, max)
    }

    /// Property `name` parsed by `parse` (units); `parse` returns the help text on failure.
    pub(crate) fn prop_unit<T>(&mut self, cx: &mut Cx, name: &'static str, code: Code, what: &str, parse: impl Fn(&Value) -> Result<T, String>) -> Option<Spanned<T>> {
        let p = self.prop(cx, name)?;
        parse_unit(cx, &p.value, code, what, parse)
    }

    /// Reports every property, argument or children block that was written but not read.
    pub(crate) fn finish(self, cx: &mut Cx) {
        let node_name = self.name().to_string();
        for p in &self.node.props {
            if self.props_are_data || self.known_props.contains(&p.name.value.as_str()) {
                continue;
            }
            let help = suggest::help_for_unknown(&p.name.value, &self.known_props, "property");
            cx.error(codes::UNKNOWN_PROPERTY, p.name.span, "unknown property", format!("`{node_name}` has no property `{}`", p.name.value)).help = Some(help);
        }
        if let Some(max) = self.max_args {
            for a in self.node.args.iter().skip(max) {
                let help = if max == 0 {
                    format!("`{node_name}` takes no arguments; remove it or use a `key=value` property")
                } else {
                    format!("`{node_name}` takes {max} argument{}; remove this one", if max == 1 { "" } else { "s" })
                };
                cx.error(codes::UNEXPECTED_ARGUMENT, a.span, "unexpected argument", format!("unexpected argument to `{node_name}`")).help = Some(help);
            }
        }
        if let (false, Some(children)) = (self.children_allowed, &self.node.children) {
            cx.error(codes::UNEXPECTED_CHILDREN, children.span, "children block not allowed", format!("`{node_name}` does not take a children block")).help =
                Some(format!("write the values of `{node_name}` as properties on the same line, or remove the braces"));
        }
    }
}

/// `v` as a string, or E0105.
/// (`what` is made into text only for an error: checking a monorepo reads every property.)
pub(crate) fn expect_str(cx: &mut Cx, v: &Spanned<Value>, what: impl std::fmt::Display, example: &str) -> Option<Spanned<String>> {
    match &v.value {
        Value::String(s) => Some(Spanned::new(s.clone(), v.span)),
        other => {
            cx.error(codes::WRONG_TYPE, v.span, format!("{} here", other.kind()), format!("{what} must be a string")).help = Some(format!("write a string, e.g. {example}"));
            None
        }
    }
}

/// `v` as a boolean, or E0105.
pub(crate) fn expect_bool(cx: &mut Cx, v: &Spanned<Value>, name: &str) -> Option<Spanned<bool>> {
    match &v.value {
        Value::Bool(b) => Some(Spanned::new(*b, v.span)),
        Value::String(s) if s == "true" || s == "false" || s == "yes" || s == "no" => {
            cx.error(codes::WRONG_TYPE, v.span, "a string here", format!("`{name}` must be a boolean")).help =
                Some(format!("KDL booleans are `#true` and `#false`: write {name}=#{}", if s == "true" || s == "yes" { "true" } else { "false" }));
            None
        }
        other => {
            cx.error(codes::WRONG_TYPE, v.span, format!("{} here", other.kind()), format!("`{name}` must be a boolean")).help = Some(format!("write {name}=#true or {name}=#false"));
            None
        }
    }
}

/// `v` as an integer in `[min, max]`, or E0105 / E0206.
pub(crate) fn expect_int(cx: &mut Cx, v: &Spanned<Value>, what: impl std::fmt::Display, min: i64, max: i64) -> Option<Spanned<i64>> {
    match &v.value {
        Value::Int(i) if (*i >= min as i128) && (*i <= max as i128) => Some(Spanned::new(*i as i64, v.span)),
        Value::Int(i) => {
            cx.error(codes::OUT_OF_RANGE, v.span, format!("{i} is out of range"), format!("{what} must be between {min} and {max}")).help = Some(format!("use a whole number from {min} to {max}"));
            None
        }
        Value::String(s) if s.trim().parse::<i64>().is_ok() => {
            cx.error(codes::WRONG_TYPE, v.span, "a string here", format!("{what} must be a number, not a string")).help = Some(format!("remove the quotes: {}", s.trim()));
            None
        }
        other => {
            cx.error(codes::WRONG_TYPE, v.span, format!("{} here", other.kind()), format!("{what} must be a whole number")).help = Some(format!("use a whole number from {min} to {max}"));
            None
        }
    }
}

/// Parses a unit-carrying value, reporting `code` with the parser's help on failure.
pub(crate) fn parse_unit<T>(cx: &mut Cx, v: &Spanned<Value>, code: Code, what: &str, parse: impl Fn(&Value) -> Result<T, String>) -> Option<Spanned<T>> {
    match parse(&v.value) {
        Ok(t) => Some(Spanned::new(t, v.span)),
        Err(help) => {
            let shown = match &v.value {
                Value::String(s) => format!("\"{s}\""),
                other => other.to_text(),
            };
            cx.error(code, v.span, format!("not a valid {what}"), format!("invalid {what} {shown}")).help = Some(help);
            None
        }
    }
}

/// Checks a string against a closed set of words, reporting E0205 with did-you-mean.
pub(crate) fn expect_one_of<T: Copy>(cx: &mut Cx, v: &Spanned<String>, what: &str, allowed: &[(&'static str, T)]) -> Option<T> {
    if let Some((_, t)) = allowed.iter().find(|(s, _)| *s == v.value) {
        return Some(*t);
    }
    let words: Vec<&str> = allowed.iter().map(|(s, _)| *s).collect();
    let help = match suggest::did_you_mean(&v.value, words.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? {what} is one of {}", suggest::list(&words)),
        None => format!("{what} is one of {}", suggest::list(&words)),
    };
    cx.error(codes::NOT_ALLOWED, v.span, "not allowed", format!("`{}` is not a valid {what}", v.value)).help = Some(help);
    None
}

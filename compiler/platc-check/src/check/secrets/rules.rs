//! `secrets/*.kdl` -> [`Rules`]: the detection rules are stdlib data, read with the same
//! reader and diagnostics as resource types, so a broken overlay rule points into its file.

use regex::Regex;

use super::detect::{Kind, Rule, Rules};
use crate::check::reader::{expect_str, Cx, NodeReader};
use crate::diagnostics::codes;
use crate::source::Spanned;
use crate::syntax::Node;

const RULE_NODES: &[&str] = &["name", "value", "entropy"];

/// Adds the rules of one `secret-rules { ... }` node; a rule with the name of an earlier one
/// replaces it (an overlay redefines a built-in rule by its name). `builtin`: the file is the
/// built-in stdlib's, not an overlay's.
pub(crate) fn read(cx: &mut Cx, node: &Node, builtin: bool, rules: &mut Rules) {
    let mut r = NodeReader::new(node);
    let children = r.allow_children();
    r.finish(cx);
    for child in children {
        if !RULE_NODES.contains(&child.name.value.as_str()) {
            cx.unknown_node(child, "secret-rules", RULE_NODES);
            continue;
        }
        if let Some(rule) = read_rule(cx, child, builtin) {
            match rules.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(old) => *old = rule,
                None => rules.rules.push(rule),
            }
        }
    }
}

fn read_rule(cx: &mut Cx, node: &Node, builtin: bool) -> Option<Rule> {
    let kind_name = node.name.value.as_str();
    let example = match kind_name {
        "entropy" => "entropy high-entropy min-length=20 min-bits=4.0 what=\"a high-entropy string\"",
        "name" => "name secret-name pattern=#\"(^|_)PASSWORD$\"# what=\"a password\"",
        _ => "value acme-token pattern=#\"\\bacme_[A-Za-z0-9]{32}\\b\"# what=\"an Acme API token\"",
    };
    let mut r = NodeReader::new(node);
    let id = r.req_arg_str(cx, 0, "a rule name", example);
    let what = r.prop_str(cx, "what", "what=\"a GitHub token\"");
    let kind = if kind_name == "entropy" {
        let min_len = r.prop_int(cx, "min-length", 8, 4096).map(|n| n.value as usize).unwrap_or(20);
        let min_bits = match r.prop(cx, "min-bits").map(|p| &p.value) {
            Some(Spanned { value: crate::syntax::Value::Float(f), .. }) if (1.0..=8.0).contains(f) => *f,
            Some(Spanned { value: crate::syntax::Value::Int(i), .. }) if (1..=8).contains(i) => *i as f64,
            Some(v) => {
                cx.error(codes::OUT_OF_RANGE, v.span, "not between 1.0 and 8.0", "`min-bits` (bits of entropy per character) must be between 1.0 and 8.0").help =
                    Some("write a number between 1.0 and 8.0, e.g. min-bits=4.0 (random base64 has about 5)".into());
                return None;
            }
            None => 4.0,
        };
        Some(Kind::Entropy { min_len, min_bits })
    } else {
        match r.prop(cx, "pattern") {
            Some(p) => regex(cx, &p.value).map(|re| if kind_name == "name" { Kind::Name(re) } else { Kind::Value(re) }),
            None => {
                cx.error(codes::MISSING_VALUE, node.head, "`pattern` missing", format!("`{kind_name}` rule has no pattern")).help = Some(format!("write it like this: {example}"));
                None
            }
        }
    };
    let children = r.allow_children();
    r.finish(cx);
    let mut ignore = Vec::new();
    for child in children {
        if child.name.value != "ignore" {
            cx.unknown_node(child, kind_name, &["ignore"]);
            continue;
        }
        let mut cr = NodeReader::new(child);
        let args = cr.rest_args(0);
        cr.finish(cx);
        ignore.extend(args.iter().filter_map(|a| regex(cx, a)));
    }
    let id = id?;
    Some(Rule { what: what.map(|w| w.value).unwrap_or_else(|| format!("rule `{}`", id.value)), id: id.value, kind: kind?, ignore, file: cx.file, span: node.head, builtin })
}

/// A `regex` crate pattern; E0105 at the pattern when it does not compile.
fn regex(cx: &mut Cx, v: &Spanned<crate::syntax::Value>) -> Option<Regex> {
    let s = expect_str(cx, v, "a regular expression", "#\"\\bacme_[A-Za-z0-9]{32}\\b\"#")?;
    match Regex::new(&s.value) {
        Ok(re) => Some(re),
        Err(e) => {
            // The regex crate's message spans several lines with a caret; its last line says why.
            let why = e.to_string().lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("invalid").trim().trim_start_matches("error: ").to_string();
            cx.error(codes::WRONG_TYPE, s.span, "not a regular expression", format!("invalid pattern in a secret rule: {why}")).help =
                Some("patterns use the syntax of the Rust `regex` crate (no look-around or back-references); write the pattern as a raw string: #\"...\"#".into());
            None
        }
    }
}

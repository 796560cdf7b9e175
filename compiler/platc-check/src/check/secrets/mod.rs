//! Literal secrets (E0216): every literal value of a spec or platform.kdl is matched against the
//! rules of `stdlib/secrets/*.kdl` before anything is generated from it.
//!
//! The scan walks the untyped AST, not the model: every string, number and `KEY=VALUE` argument
//! of every node is a literal platc may copy into an output (ConfigMaps, values.yaml, patches,
//! alert labels and annotations, the GitOps repository URL), so none is left out by a reader
//! that forgot to ask. `secret` nodes are references: their names and paths are still matched
//! against the token formats, never against the name rules; so are the names of properties and
//! JSON keys (an env variable's name is copied too). A reviewed false positive is waived in the
//! same file, for one name and one rule, with `not-secret NAME rule=ID reason="..."`; a waiver
//! that waives nothing is W0105.

mod detect;
mod rules;

use std::borrow::Cow;

pub(crate) use detect::Rules;

use super::reader::{Cx, NodeReader};
use super::suggest;
use crate::diagnostics::redact::mask;
use crate::diagnostics::{codes, Diagnostics, Label};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::{Document, Node, Value};

/// The node that waives a false positive, in `service` and `platform`.
pub(crate) const WAIVER: &str = "not-secret";

/// Reads every rules file (`secret-rules { ... }`), built-in first, then overlays.
pub(crate) fn read_rules(sources: &SourceMap, files: &[FileId], docs: impl Fn(FileId, &mut Diagnostics) -> Option<Document>, diags: &mut Diagnostics) -> Rules {
    let mut out = Rules::default();
    for &id in files {
        let Some(doc) = docs(id, diags) else { continue };
        let Some(node) = super::top_node(sources, &doc, "secret-rules", "secret-rules { value acme-token pattern=#\"acme_[a-z0-9]{32}\"# }", diags) else { continue };
        let file = sources.get(id);
        let builtin = file.name.starts_with("<stdlib>/");
        let mut cx = Cx { file: id, text: &file.text, diags };
        rules::read(&mut cx, node, builtin, &mut out);
    }
    out.sort();
    out
}

/// One literal and where it would go.
struct Literal<'a> {
    /// The node it is written on (`env`, `patch`, `gitops`, ...).
    node: &'a str,
    /// The variable or key it is given to: what name rules look at.
    name: Option<Cow<'a, str>>,
    /// What a waiver names: the variable or key, else the node.
    subject: Cow<'a, str>,
    /// The text with `${...}` references blanked out. Borrowed from the AST unless a number
    /// or a reference made it new: a spec has hundreds of literals and few of either.
    text: Cow<'a, str>,
    span: Span,
}

struct Waiver {
    name: String,
    rule: String,
    span: Span,
    used: bool,
}

/// Which file a scan is of: the help differs (platform.kdl has no `secret` node).
#[derive(Clone, Copy, PartialEq)]
enum Owner<'a> {
    Service(&'a str),
    Platform,
}

/// Scans the `service` or `platform` node of one file and reports each literal secret in it.
pub(crate) fn scan(cx: &mut Cx, top: &Node, rules: &Rules) {
    let owner = match top.name.value.as_str() {
        "platform" => Owner::Platform,
        _ => Owner::Service(top.args.first().and_then(|a| a.value.as_str()).unwrap_or("app")),
    };
    let mut waivers = read_waivers(cx, top, rules);
    let mut literals = Vec::new();
    collect(top, false, &mut literals);
    for lit in &literals {
        // The first rule no waiver of this name lets through; each waiver used is marked.
        let mut found = None;
        for f in rules.find_all(lit.name.as_deref(), &lit.text) {
            match waivers.iter_mut().find(|w| w.name == lit.subject && w.rule == f.rule.id) {
                Some(w) => w.used = true,
                None => {
                    found.get_or_insert(f);
                }
            }
        }
        let Some(found) = found else { continue };
        let (rule, secret) = (found.rule, &lit.text[found.range.clone()]);
        let label = format!("`{}` looks like {}", mask(secret), rule.what);
        let message = format!("literal secret value in `{}` (rule `{}`)", lit.subject, rule.id);
        let mut d = cx.error(codes::LITERAL_SECRET, lit.span, label, message);
        d.help = Some(help(lit, owner, &rule.id));
        d.redact = vec![secret.to_string(), lit.text.trim().to_string()];
        if !rule.builtin {
            d.secondary.push(Label::new(rule.file, rule.span, format!("rule `{}` is defined here", rule.id)));
        }
    }
    for w in waivers.iter().filter(|w| !w.used) {
        cx.error(codes::UNUSED_SECRET_WAIVER, w.span, "waives nothing", format!("`{WAIVER} {}` for rule `{}` matches no literal in this file", w.name, w.rule)).help =
            Some(format!("remove it: a waiver that waives nothing would let through a secret given to `{}` later", w.name));
    }
}

/// The `not-secret NAME rule=ID reason="..."` children of the top node: each waives one rule for
/// one name in this file, and says why for the reviewer.
fn read_waivers(cx: &mut Cx, top: &Node, rules: &Rules) -> Vec<Waiver> {
    let example = "not-secret PUBLIC_KEY_ID rule=high-entropy reason=\"a public identifier, not a credential\"";
    let mut out = Vec::new();
    for node in top.child_nodes().iter().filter(|n| n.name.value == WAIVER) {
        let mut r = NodeReader::new(node);
        let name = r.req_arg_str(cx, 0, "the name of the variable or key", example);
        let rule = r.prop_str(cx, "rule", "rule=high-entropy");
        let reason = r.prop_str(cx, "reason", "reason=\"a public identifier\"");
        r.finish(cx);
        let Some(name) = name else { continue };
        match &reason {
            Some(why) if !why.value.trim().is_empty() => {}
            Some(why) => cx.error(codes::MISSING_VALUE, why.span, "empty reason", "a secret waiver needs a reason").help = Some(format!("say why the value is not a secret: {example}")),
            None => {
                cx.error(codes::MISSING_VALUE, node.head, "`reason` missing", "a secret waiver needs a reason").help = Some(format!("say why the value is not a secret, for the reviewer: {example}"))
            }
        };
        let Some(rule) = rule else {
            cx.error(codes::MISSING_VALUE, node.head, "`rule` missing", "a secret waiver names the rule it waives").help =
                Some(format!("name the rule of the E0216 it waives, so that another kind of secret under the same name is still caught: {example}"));
            continue;
        };
        if rules.get(&rule.value).is_none() {
            let ids: Vec<&str> = rules.rules.iter().map(|r| r.id.as_str()).collect();
            cx.error(codes::NOT_ALLOWED, rule.span, "no such rule", format!("there is no secret rule `{}`", rule.value)).help = Some(suggest::help_for_unknown(&rule.value, &ids, "rule"));
            continue;
        }
        out.push(Waiver { name: name.value, rule: rule.value, span: node.head, used: false });
    }
    out
}

/// Every literal under `node`. `in_secret`: inside a `secret` reference, where names are not
/// secret-looking keys (`key=api-key` names a key of the store).
fn collect<'a>(node: &'a Node, in_secret: bool, out: &mut Vec<Literal<'a>>) {
    if node.name.value == WAIVER {
        return;
    }
    let in_secret = in_secret || node.name.value == "secret";
    let here = node.name.value.as_str();
    for p in &node.props {
        // The name is copied too (an env variable's name into the ConfigMap): formats only.
        out.push(Literal { node: here, name: None, subject: here.into(), text: p.name.value.as_str().into(), span: p.name.span });
        let Some(text) = scalar(&p.value.value) else { continue };
        if let Some(json) = as_json(&text) {
            json_literals(here, &json, None, p.value.span, out);
            continue;
        }
        let name = (!in_secret).then_some(p.name.value.as_str().into());
        out.push(Literal { node: here, name, subject: p.name.value.as_str().into(), text: blanked(text), span: p.value.span });
    }
    for a in &node.args {
        let Some(text) = a.value.as_str() else { continue };
        // `--db-password=x` and `DB_PASSWORD=x` in a command line give a value a name.
        let (name, value) = match split_assignment(text) {
            Some((k, v)) if !in_secret => (Some(Cow::Borrowed(k)), v),
            _ => (None, text),
        };
        let subject = name.clone().unwrap_or(Cow::Borrowed(here));
        out.push(Literal { node: here, name, subject, text: blank_refs(value), span: a.span });
    }
    for child in node.child_nodes() {
        collect(child, in_secret, out);
    }
}

/// Strings and numbers (`DB_PASSWORD=123456` is a KDL integer); booleans and #null hold none.
fn scalar(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Int(_) | Value::Float(_) => Some(Cow::Owned(v.to_text())),
        Value::Bool(_) | Value::Null => None,
    }
}

/// A patch body (`merge=`, `json=`): JSON whose keys name its values.
fn as_json(text: &str) -> Option<serde_json::Value> {
    let t = text.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// The string leaves of a JSON value, each named by its key, or by the `name` of an
/// `{"name": ..., "value": ...}` object (an env entry in a patch).
fn json_literals<'a>(node: &'a str, v: &serde_json::Value, key: Option<&str>, span: Span, out: &mut Vec<Literal<'a>>) {
    use serde_json::Value as J;
    match v {
        J::String(s) => {
            let subject = Cow::Owned(key.unwrap_or(node).to_string());
            out.push(Literal { node, name: key.map(|k| Cow::Owned(k.to_string())), subject, text: Cow::Owned(blank_refs(s).into_owned()), span });
        }
        J::Number(n) => {
            if let Some(k) = key {
                out.push(Literal { node, name: Some(Cow::Owned(k.to_string())), subject: Cow::Owned(k.to_string()), text: Cow::Owned(n.to_string()), span });
            }
        }
        J::Array(items) => items.iter().for_each(|i| json_literals(node, i, key, span, out)),
        J::Object(map) => {
            let env_name = map.get("name").and_then(J::as_str);
            for (k, item) in map {
                out.push(Literal { node, name: None, subject: Cow::Borrowed(node), text: Cow::Owned(k.clone()), span });
                let k = if k == "value" { env_name.unwrap_or(k) } else { k };
                json_literals(node, item, Some(k), span, out);
            }
        }
        J::Bool(_) | J::Null => {}
    }
}

/// `KEY=VALUE` or `--key=value`, when the key is a plain identifier.
fn split_assignment(s: &str) -> Option<(&str, &str)> {
    let (k, v) = s.split_once('=')?;
    let k = k.trim_start_matches('-');
    let ident = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) && !k.starts_with(|c: char| c.is_ascii_digit());
    ident.then_some((k, v))
}

/// [`blank_refs`] of a literal that may be borrowed or new.
fn blanked(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(s) => blank_refs(s),
        Cow::Owned(s) => Cow::Owned(blank_refs(&s).into_owned()),
    }
}

/// `${...}` references replaced by a space: a reference is not a literal, and the space keeps
/// `postgres://u:${...}@h` from looking like a password in a URL. Borrowed when there is none.
fn blank_refs(s: &str) -> Cow<'_, str> {
    if !s.contains("${") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("${") {
        let Some(end) = rest[at..].find('}') else { break };
        out.push_str(&rest[..at]);
        out.push(' ');
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// What to write instead: the `secret` line for an env variable, a waiver for a false positive.
fn help(lit: &Literal, owner: Owner, rule: &str) -> String {
    let waive = format!("if it is not a secret, say so in this file: {WAIVER} {} rule={rule} reason=\"why it is public\"", lit.subject);
    let store = "put the value in the platform's secret store (and rotate it if it was ever committed)";
    match (owner, lit.node, &lit.name) {
        (Owner::Service(service), "env", Some(name)) => {
            let key = name.to_ascii_lowercase().replace('_', "-");
            format!("a spec holds references to secrets, never their values: {store}, then replace `{name}=…` with\n    secret {name} from=\"{service}\" key={key}\n{waive}")
        }
        (Owner::Service(service), ..) => format!(
            "platc copies this literal into generated files: {store}, and give it to the process as a variable read from there: secret NAME from=\"{service}\" key=KEY (docs/language.md#secret)\n{waive}"
        ),
        (Owner::Platform, ..) => format!(
            "platc copies this literal into generated files, and platform.kdl holds no credentials: give it to the tool that needs it (the GitOps engine's repository credentials, the CI system's secrets); a service reads a secret with secret NAME from=\"PATH\" key=KEY through the platform's `secret-store` (docs/language.md#secret)\n{waive}"
        ),
    }
}

#[cfg(test)]
mod tests;

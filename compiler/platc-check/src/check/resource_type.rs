//! `stdlib/types/*.kdl` -> [`ResourceType`]: resource types are data, checked with the same
//! reader and diagnostics as specs, so a platform team's overlay gets the same error quality.

use indexmap::IndexMap;

use super::reader::{expect_one_of, expect_str, Cx, NodeReader};
use super::{names, service::single_str, uses};
use crate::diagnostics::codes;
use crate::model::*;
use crate::source::Spanned;
use crate::syntax::Node;

const TYPE_NODES: &[&str] = &["description", "param", "output", "provisioner"];

/// Reads `resource-type NAME { description ...; param ...; output ... }`.
pub(crate) fn read(cx: &mut Cx, node: &Node) -> Option<ResourceType> {
    let mut r = NodeReader::new(node);
    let name = r.req_arg_str(cx, 0, "a type name", "resource-type mongodb port=27017 { ... }");
    let port = r.prop_int(cx, "port", 1, 65535).map(|p| p.value as u16);
    let children = r.allow_children();
    r.finish(cx);
    let name = name?;
    names::check_dns(cx, &name, "resource type name");
    let Some(port) = port else {
        cx.error(codes::MISSING_VALUE, node.head, "`port` missing", format!("resource type `{}` does not say which port clients connect to", name.value)).help =
            Some(format!("add the port: resource-type {} port=5432 {{ ... }}", name.value));
        return None;
    };
    let mut t = ResourceType { file: cx.file, name, description: String::new(), port, provisioner_ports: Vec::new(), params: IndexMap::new(), outputs: IndexMap::new() };
    for child in children {
        match child.name.value.as_str() {
            "description" => t.description = single_str(cx, child, "a description", "description \"MongoDB database\"").map(|d| d.value).unwrap_or_default(),
            "param" => {
                if let Some((span, p)) = read_param(cx, child, &t.name.value) {
                    if t.params.contains_key(&p.name) {
                        cx.error(codes::DUPLICATE, span, "defined again here", format!("parameter `{}` is defined more than once", p.name)).help = Some("keep one `param` per name".into());
                    } else {
                        t.params.insert(p.name.clone(), p);
                    }
                }
            }
            "output" => {
                let mut cr = NodeReader::new(child);
                let name = cr.req_arg_str(cx, 0, "an output name", "output host doc=\"Host name\"");
                let secret = cr.prop_bool(cx, "secret").map(|b| b.value).unwrap_or(false);
                let doc = cr.prop_str(cx, "doc", "doc=\"Host name\"").map(|d| d.value).unwrap_or_default();
                cr.finish(cx);
                if let Some(n) = name {
                    if t.outputs.contains_key(&n.value) {
                        cx.error(codes::DUPLICATE, n.span, "defined again here", format!("output `{}` is defined more than once", n.value)).help = Some("keep one `output` per name".into());
                    } else {
                        t.outputs.insert(n.value.clone(), OutputSpec { name: n.value, secret, doc });
                    }
                }
            }
            "provisioner" => {
                if let Some((p, span, port)) = read_provisioner(cx, child) {
                    if t.provisioner_ports.iter().any(|(q, _)| *q == p) {
                        cx.error(codes::DUPLICATE, span, "defined again here", format!("provisioner `{}` is defined more than once", p.as_str())).help =
                            Some("keep one `provisioner` per provisioner".into());
                    } else {
                        t.provisioner_ports.push((p, port));
                    }
                }
            }
            _ => cx.unknown_node(child, "resource-type", TYPE_NODES),
        }
    }
    if t.outputs.is_empty() {
        cx.error(codes::INVALID_RESOURCE_TYPE, t.name.span, "no outputs", format!("resource type `{}` declares no output", t.name.value)).help =
            Some("declare what a service can reference, e.g. output host doc=\"Host name\"".into());
    }
    Some(t)
}

/// `provisioner NAME port=N`: where that provisioner's server listens, when not on the type's
/// `port=`.
fn read_provisioner(cx: &mut Cx, node: &Node) -> Option<(Provisioner, crate::source::Span, Spanned<u16>)> {
    let mut r = NodeReader::new(node);
    let name = r.req_arg_str(cx, 0, "a provisioner", "provisioner aws port=5671");
    let port = r.prop_int(cx, "port", 1, 65535).map(|p| Spanned::new(p.value as u16, p.span));
    r.finish(cx);
    let name = name?;
    let provisioner = expect_one_of(cx, &name, "provisioner", &Provisioner::ALL)?;
    let Some(port) = port else {
        cx.error(codes::MISSING_VALUE, node.head, "`port` missing", format!("`provisioner {}` says nothing", name.value)).help =
            Some(format!("give the port its server listens on: provisioner {} port=5671", name.value));
        return None;
    };
    Some((provisioner, name.span, port))
}

/// `param NAME type=T default=V min=N max=N doc="..." { allowed A B C }`
fn read_param(cx: &mut Cx, node: &Node, type_name: &str) -> Option<(crate::source::Span, ParamSpec)> {
    let mut r = NodeReader::new(node);
    let name = r.req_arg_str(cx, 0, "a parameter name", "param version type=string default=\"16\"");
    let ty = r.prop_str(cx, "type", "type=string").and_then(|t| expect_one_of(cx, &t, "parameter type", &ParamType::ALL)).unwrap_or(ParamType::String);
    let default = r.prop(cx, "default").map(|p| p.value.clone());
    let min = r.prop_int(cx, "min", i64::MIN, i64::MAX).map(|m| m.value);
    let max = r.prop_int(cx, "max", i64::MIN, i64::MAX).map(|m| m.value);
    let doc = r.prop_str(cx, "doc", "doc=\"What it sets\"").map(|d| d.value).unwrap_or_default();
    let children = r.allow_children();
    r.finish(cx);
    let name = name?;
    let mut allowed = Vec::new();
    for child in children {
        if child.name.value != "allowed" {
            cx.unknown_node(child, "param", &["allowed"]);
            continue;
        }
        let mut ar = NodeReader::new(child);
        for a in ar.rest_args(0) {
            allowed.extend(match &a.value {
                crate::syntax::Value::String(_) => expect_str(cx, a, "an allowed value", "allowed small medium large").map(|s| s.value),
                v => Some(v.to_text()),
            });
        }
        ar.finish(cx);
    }
    let mut spec = ParamSpec { name: name.value.clone(), ty, default: None, allowed, min, max, doc };
    // The default must itself pass the parameter's checks.
    if let Some(d) = default {
        spec.default = uses::check_value(cx, &spec, &Spanned::new(d.value, d.span), type_name);
    }
    Some((name.span, spec))
}

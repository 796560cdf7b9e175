//! `uses TYPE NAME key=value...`: a backing resource, checked against its type's schema from
//! the stdlib (built-in or overlay) exactly the same way.

use indexmap::IndexMap;

use super::reader::{Cx, NodeReader};
use super::{names, suggest, units};
use crate::diagnostics::codes;
use crate::model::{ParamSpec, ParamType, ParamValue, ResourceTypes, Uses};
use crate::source::Spanned;
use crate::syntax::{Node, Value};

pub(crate) fn read(cx: &mut Cx, node: &Node, types: &ResourceTypes) -> Option<Uses> {
    let mut r = NodeReader::new(node);
    let ty = r.req_arg_str(cx, 0, "a resource type", "uses postgres orders");
    let name = r.req_arg_str(cx, 1, "a resource name", "uses postgres orders");
    r.props_are_data();
    r.finish(cx);
    let (ty, name) = (ty?, name?);
    names::check_dns(cx, &name, "resource name");
    let Some(spec) = types.get(&ty.value) else {
        let known: Vec<&str> = types.names().collect();
        let help = match suggest::did_you_mean(&ty.value, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? known resource types: {}", suggest::list(&known)),
            None => format!("known resource types: {}; a platform team adds new ones in a stdlib overlay (see docs/stdlib.md)", suggest::list(&known)),
        };
        cx.error(codes::UNKNOWN_RESOURCE_TYPE, ty.span, "unknown type", format!("unknown resource type `{}`", ty.value)).help = Some(help);
        // Kept without parameters, so that references to it do not cascade into E0403.
        return Some(Uses { ty, name, params: IndexMap::new(), span: node.head });
    };
    let mut params = IndexMap::new();
    for p in &node.props {
        let Some(ps) = spec.params.get(&p.name.value) else {
            let known: Vec<&str> = spec.params.keys().map(String::as_str).collect();
            let help = suggest::help_for_unknown(&p.name.value, &known, "parameter");
            cx.error(codes::UNKNOWN_RESOURCE_PARAM, p.name.span, "unknown parameter", format!("resource type `{}` has no parameter `{}`", ty.value, p.name.value)).help = Some(help);
            continue;
        };
        if params.contains_key(&p.name.value) {
            cx.error(codes::REPEATED_NODE, p.name.span, "given again here", format!("parameter `{}` is given more than once", p.name.value)).help = Some(format!("keep one `{}=...`", p.name.value));
            continue;
        }
        if let Some(v) = check_value(cx, ps, &p.value, &ty.value) {
            params.insert(p.name.value.clone(), v);
        }
    }
    // Fill defaults in declaration order; report required ones that are missing.
    let mut ordered = IndexMap::new();
    for (pname, ps) in &spec.params {
        match (params.shift_remove(pname), &ps.default) {
            (Some(v), _) => {
                ordered.insert(pname.clone(), v);
            }
            (None, Some(d)) => {
                ordered.insert(pname.clone(), d.clone());
            }
            (None, None) => {
                cx.error(codes::MISSING_VALUE, node.head, format!("`{pname}` missing"), format!("resource type `{}` needs parameter `{pname}`", ty.value)).help =
                    Some(format!("add {pname}=... ({})", ps.doc));
            }
        }
    }
    Some(Uses { ty, name, params: ordered, span: node.head })
}

/// Checks one parameter value against its spec.
pub(crate) fn check_value(cx: &mut Cx, ps: &ParamSpec, v: &Spanned<Value>, ty_name: &str) -> Option<ParamValue> {
    let what = format!("`{}`", ps.name);
    let value = match ps.ty {
        ParamType::String => match &v.value {
            // Numbers are accepted as text (`version=16`), as users write them.
            Value::String(_) | Value::Int(_) | Value::Float(_) => ParamValue::String(v.value.to_text()),
            other => {
                cx.error(codes::WRONG_TYPE, v.span, format!("{} here", other.kind()), format!("{what} must be a string")).help = Some(format!("write {}=\"...\"", ps.name));
                return None;
            }
        },
        ParamType::Int => {
            let n = super::reader::expect_int(cx, v, &what, ps.min.unwrap_or(i64::MIN), ps.max.unwrap_or(i64::MAX))?;
            ParamValue::Int(n.value)
        }
        ParamType::Bool => ParamValue::Bool(super::reader::expect_bool(cx, v, &ps.name)?.value),
        ParamType::Memory => ParamValue::Memory(super::reader::parse_unit(cx, v, codes::INVALID_MEMORY, "memory quantity", units::memory)?.value),
        ParamType::Duration => ParamValue::Duration(super::reader::parse_unit(cx, v, codes::INVALID_DURATION, "duration", units::duration)?.value),
    };
    if !ps.allowed.is_empty() {
        let text = v.value.to_text();
        if !ps.allowed.contains(&text) {
            let allowed: Vec<&str> = ps.allowed.iter().map(String::as_str).collect();
            let help = match suggest::did_you_mean(&text, allowed.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? {ty_name} {what} is one of {}", suggest::list(&allowed)),
                None => format!("{ty_name} {what} is one of {}", suggest::list(&allowed)),
            };
            cx.error(codes::NOT_ALLOWED, v.span, "not allowed", format!("`{text}` is not an allowed value of {what}")).help = Some(help);
            return None;
        }
    }
    Some(value)
}

//! `patch` bodies: parsed and shape-checked here; applied to generated objects by the backend.

use super::reader::Cx;
use crate::diagnostics::codes;
use crate::source::Spanned;

/// A JSON merge patch (RFC 7386): any JSON object.
pub(crate) fn parse_merge(cx: &mut Cx, body: &Spanned<String>) -> Option<serde_json::Value> {
    let v = parse_json(cx, body)?;
    if !v.is_object() {
        cx.error(codes::INVALID_PATCH, body.span, "not a JSON object", "a merge patch must be a JSON object").help =
            Some("write the fields to change as an object, e.g. merge=#\"{\"spec\":{\"template\":{\"spec\":{\"priorityClassName\":\"high\"}}}}\"#".into());
        return None;
    }
    Some(v)
}

/// A JSON patch (RFC 6902): an array of operations with `op` and `path` (and `value` or `from`).
pub(crate) fn parse_json_patch(cx: &mut Cx, body: &Spanned<String>) -> Option<serde_json::Value> {
    let v = parse_json(cx, body)?;
    let Some(ops) = v.as_array() else {
        cx.error(codes::INVALID_PATCH, body.span, "not a JSON array", "a JSON patch must be an array of operations").help =
            Some("write e.g. json=#\"[{\"op\":\"add\",\"path\":\"/metadata/labels/tier\",\"value\":\"gold\"}]\"#".into());
        return None;
    };
    for (i, op) in ops.iter().enumerate() {
        let name = op.get("op").and_then(|o| o.as_str()).unwrap_or("");
        let path_ok = op.get("path").and_then(|p| p.as_str()).map(|p| p.is_empty() || p.starts_with('/')).unwrap_or(false);
        let needs = match name {
            "add" | "replace" | "test" => Some("value"),
            "move" | "copy" => Some("from"),
            "remove" => None,
            _ => {
                cx.error(codes::INVALID_PATCH, body.span, format!("operation {i} has op `{name}`"), "unknown JSON patch operation").help =
                    Some("`op` is one of `add`, `remove`, `replace`, `move`, `copy`, `test`".into());
                return None;
            }
        };
        if !path_ok || needs.map(|k| op.get(k).is_none()).unwrap_or(false) {
            cx.error(codes::INVALID_PATCH, body.span, format!("operation {i} is incomplete"), format!("JSON patch operation `{name}` is malformed")).help =
                Some(format!("each operation needs a `path` starting with `/`{}", needs.map(|k| format!(" and a `{k}`")).unwrap_or_default()));
            return None;
        }
    }
    Some(v)
}

fn parse_json(cx: &mut Cx, body: &Spanned<String>) -> Option<serde_json::Value> {
    match serde_json::from_str(&body.value) {
        Ok(v) => Some(v),
        Err(e) => {
            cx.error(codes::INVALID_PATCH, body.span, format!("JSON error at line {} column {}", e.line(), e.column()), "the patch body is not valid JSON").help =
                Some("write the body as a raw string so quotes need no escaping: merge=#\"{\"key\":\"value\"}\"#".into());
            None
        }
    }
}

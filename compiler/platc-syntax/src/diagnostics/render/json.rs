//! JSON lines: one object per diagnostic, for scripts and editors.
//!
//! Keys come in a fixed order (the workspace enables serde_json's `preserve_order`, so `json!`
//! keeps insertion order), which keeps the output diffable.

use serde_json::{json, Value};

use super::Region;
use crate::diagnostics::{Diagnostic, Label};
use crate::source::SourceMap;

/// One line per diagnostic, each ending in a newline; nothing at all for no diagnostics.
pub(super) fn render(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&object(d, sources).to_string());
        out.push('\n');
    }
    out
}

fn object(d: &Diagnostic, sources: &SourceMap) -> Value {
    let r = Region::of(sources, &d.primary);
    json!({
        "file": sources.get(d.primary.file).name,
        "line": r.line,
        "column": r.column,
        "end_line": r.end_line,
        "end_column": r.end_column,
        "code": d.code.as_str(),
        "severity": d.severity.as_str(),
        "message": d.message,
        "help": d.help,
        "labels": d.secondary.iter().map(|l| label(l, sources)).collect::<Vec<_>>(),
    })
}

fn label(l: &Label, sources: &SourceMap) -> Value {
    let r = Region::of(sources, l);
    json!({
        "file": sources.get(l.file).name,
        "line": r.line,
        "column": r.column,
        "end_line": r.end_line,
        "end_column": r.end_column,
        "message": l.message,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{sample, PLATFORM, SERVICE};
    use super::*;

    fn lines() -> Vec<Value> {
        let (sources, diags) = sample();
        let out = render(&diags, &sources);
        assert!(out.ends_with('\n'));
        out.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect()
    }

    #[test]
    fn keys_are_in_the_documented_order() {
        let v = &lines()[0];
        let keys: Vec<_> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let want = ["file", "line", "column", "end_line", "end_column", "code", "severity", "message", "help", "labels"];
        assert_eq!(keys, want);
        let label_keys: Vec<_> = v["labels"][0].as_object().unwrap().keys().cloned().collect();
        assert_eq!(label_keys, ["file", "line", "column", "end_line", "end_column", "message"]);
    }

    #[test]
    fn positions_labels_and_help() {
        let v = lines();
        assert_eq!(v.len(), 3);
        assert_eq!(
            v[0],
            json!({
                "file": SERVICE, "line": 2, "column": 14, "end_line": 2, "end_column": 15,
                "code": "E0503", "severity": "error",
                "message": "service `checkout` violates policy \"min-replicas\"",
                "help": "set `replicas 2` or more",
                "labels": [
                    {"file": SERVICE, "line": 1, "column": 1, "end_line": 1, "end_column": 19,
                     "message": "in this service"},
                    {"file": PLATFORM, "line": 2, "column": 27, "end_line": 2, "end_column": 32,
                     "message": "policy requires min=2"},
                ],
            })
        );
        // A warning without help: help is null, not missing.
        assert_eq!(v[1]["severity"], "warning");
        assert_eq!(v[1]["code"], "W0102");
        assert_eq!(v[1]["help"], Value::Null);
        assert_eq!((&v[1]["line"], &v[1]["column"], &v[1]["end_column"]), (&json!(3), &json!(33), &json!(37)));
        // Columns count characters, not bytes (the bytes would give 29..35).
        assert_eq!((&v[2]["line"], &v[2]["column"], &v[2]["end_column"]), (&json!(4), &json!(25), &json!(31)));
        assert_eq!(v[2]["help"], "write millicores (\"250m\")\nor cores (\"0.5\")");
    }

    #[test]
    fn no_diagnostics_no_output() {
        let (sources, _) = sample();
        assert_eq!(render(&[], &sources), "");
    }
}

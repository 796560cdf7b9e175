//! SARIF 2.1.0: one document for the whole run, for GitHub code scanning and other viewers.
//!
//! Output is deterministic: rules are sorted by code, results keep the diagnostics' order, and
//! object keys keep insertion order (serde_json `preserve_order`).

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::{message_with_help, Region};
use crate::diagnostics::{Code, Diagnostic, Label, Severity};
use crate::source::SourceMap;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The repository URL from Cargo metadata (`repository` in Cargo.toml), or `None` when unset.
/// SARIF requires `informationUri` and `helpUri` to be absolute, so without it they are left
/// out rather than made up.
fn repository() -> Option<&'static str> {
    let repo = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
    (!repo.is_empty()).then_some(repo)
}

/// A pretty-printed SARIF log with one run, ending in a newline.
pub(super) fn render(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let codes: Vec<Code> = diags.iter().map(|d| d.code).collect::<BTreeSet<_>>().into_iter().collect();
    let results: Vec<Value> = diags.iter().map(|d| result(d, &codes, sources)).collect();

    let mut driver = Map::new();
    driver.insert("name".into(), "platc".into());
    driver.insert("version".into(), env!("CARGO_PKG_VERSION").into());
    if let Some(repo) = repository() {
        driver.insert("informationUri".into(), repo.into());
    }
    driver.insert("rules".into(), codes.iter().map(|c| rule(*c)).collect());

    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            // Our columns count Unicode scalar values; SARIF's default would be UTF-16 units.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).expect("a JSON value always serializes");
    out.push('\n');
    out
}

fn rule(code: Code) -> Value {
    let mut r = Map::new();
    r.insert("id".into(), code.as_str().into());
    r.insert("shortDescription".into(), json!({ "text": code.title() }));
    if let Some(repo) = repository() {
        r.insert("helpUri".into(), format!("{repo}/blob/main/docs/errors/{code}.md").into());
    }
    Value::Object(r)
}

fn result(d: &Diagnostic, codes: &[Code], sources: &SourceMap) -> Value {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let rule_index = codes.binary_search(&d.code).expect("every code has a rule");
    let mut r = Map::new();
    r.insert("ruleId".into(), d.code.as_str().into());
    r.insert("ruleIndex".into(), rule_index.into());
    r.insert("level".into(), level.into());
    r.insert("message".into(), json!({ "text": message_with_help(d) }));
    r.insert("locations".into(), json!([location(&d.primary, sources)]));
    if !d.secondary.is_empty() {
        let related: Vec<Value> = d
            .secondary
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut loc = location(l, sources);
                loc.insert("id".into(), i.into());
                Value::Object(loc)
            })
            .collect();
        r.insert("relatedLocations".into(), related.into());
    }
    Value::Object(r)
}

/// A SARIF location; the label text goes into its message (left out when empty).
fn location(l: &Label, sources: &SourceMap) -> Map<String, Value> {
    let reg = Region::of(sources, l);
    let mut loc = Map::new();
    loc.insert(
        "physicalLocation".into(),
        json!({
            "artifactLocation": { "uri": uri(&sources.get(l.file).name) },
            "region": {
                "startLine": reg.line,
                "startColumn": reg.column,
                "endLine": reg.end_line,
                "endColumn": reg.end_column,
            },
        }),
    );
    if !l.message.is_empty() {
        loc.insert("message".into(), json!({ "text": l.message }));
    }
    loc
}

/// A relative URI reference for a file name: forward slashes, and percent-encoding for bytes
/// that may not appear in a URI path (spaces, non-ASCII, `%`, `:` which could read as a scheme).
fn uri(name: &str) -> String {
    let mut out = String::new();
    for b in name.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{sample, PLATFORM, SERVICE};
    use super::*;

    fn doc(diags: &[Diagnostic], sources: &SourceMap) -> Value {
        serde_json::from_str(&render(diags, sources)).expect("SARIF is valid JSON")
    }

    #[test]
    fn document_header_and_rules() {
        let (sources, diags) = sample();
        let v = doc(&diags, &sources);
        assert_eq!(v["$schema"], SCHEMA);
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "platc");
        assert_eq!(run["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<_> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["E0201", "E0503", "W0102"]);
        assert_eq!(rules[1]["shortDescription"]["text"], "platform policy violated");
        // Each result points at its rule by index.
        for res in run["results"].as_array().unwrap() {
            assert_eq!(rules[res["ruleIndex"].as_u64().unwrap() as usize]["id"], res["ruleId"]);
        }
    }

    #[test]
    fn results_locations_and_related_locations() {
        let (sources, diags) = sample();
        let v = doc(&diags, &sources);
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        let policy = &results[0];
        assert_eq!(policy["ruleId"], "E0503");
        assert_eq!(policy["level"], "error");
        assert_eq!(policy["message"]["text"], "service `checkout` violates policy \"min-replicas\"\nhelp: set `replicas 2` or more");
        let phys = &policy["locations"][0]["physicalLocation"];
        assert_eq!(phys["artifactLocation"]["uri"], SERVICE);
        assert_eq!(phys["region"], json!({"startLine": 2, "startColumn": 14, "endLine": 2, "endColumn": 15}));
        assert_eq!(policy["locations"][0]["message"]["text"], "replicas is 1 here");
        let related = policy["relatedLocations"].as_array().unwrap();
        assert_eq!(related.len(), 2);
        let other = &related[1];
        assert_eq!(other["physicalLocation"]["artifactLocation"]["uri"], PLATFORM);
        assert_eq!(other["physicalLocation"]["region"], json!({"startLine": 2, "startColumn": 27, "endLine": 2, "endColumn": 32}));
        assert_eq!(other["message"]["text"], "policy requires min=2");

        assert_eq!(results[1]["level"], "warning");
        assert!(results[1].get("relatedLocations").is_none());
        let cpu = &results[2]["locations"][0]["physicalLocation"]["region"];
        assert_eq!(*cpu, json!({"startLine": 4, "startColumn": 25, "endLine": 4, "endColumn": 31}));
    }

    #[test]
    fn empty_run_is_a_valid_document() {
        let (sources, _) = sample();
        let v = doc(&[], &sources);
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["runs"][0]["results"], json!([]));
        assert_eq!(v["runs"][0]["tool"]["driver"]["rules"], json!([]));
    }

    #[test]
    fn output_is_deterministic_and_uris_are_encoded() {
        let (sources, diags) = sample();
        assert_eq!(render(&diags, &sources), render(&diags, &sources));
        assert_eq!(uri("services\\a b/ç:x.kdl"), "services/a%20b/%C3%A7%3Ax.kdl");
    }
}

//! One spec, five independent mistakes on known lines, one run: exactly five diagnostics, each at
//! the same line:column in all four formats (JSON fields, GitHub `line=`/`col=`, SARIF region, the
//! human `[file:line:col]` header). The four renderings are snapshotted into snapshots/formats/,
//! and the SARIF output is validated against the SARIF 2.1.0 JSON schema by `.ci/oracles.sh sarif`
//! (a missing validator fails the test, it never skips it).

mod common;

use std::path::Path;
use std::process::Command;

use common::{check_service, check_tree, Run, TempDir, FORMATS, PAYMENTS, PLATFORM};
use platc_syntax::diagnostics::Format;
use serde_json::Value;

const FILE: &str = "checkout/service.kdl";

/// Five mistakes, one per line 4, 7, 8, 9 and 10; everything else is clean against the shared
/// platform. Line 9 has multi-byte characters before its mistake, so that a byte column (26)
/// differs from the character column (25) every format must report.
const SPEC: &str = r#"service checkout {
    owner team-checkout
    description "Caisse ☕ rapide"
    image "ghcr.io/acme/checkout:1.2"
    port http 8080
    health readiness="/ready" liveness="/healthz"
    resources cpu="250mb" memory="256Mi"
    scale min=2 max=6 cpu="70"
    env GREETING="héllo ${platform.domian}"
    uses postgres orders verison="16"
}
"#;

/// What each mistake must be reported as: code, severity, and the 1-based start and (exclusive)
/// end of its primary span, in characters.
struct Want {
    code: &'static str,
    severity: &'static str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

const WANT: [Want; 5] = [
    // `"ghcr.io/acme/checkout:1.2"`: a tag pinned in the spec (a warning).
    Want { code: "W0102", severity: "warning", line: 4, column: 11, end_line: 4, end_column: 38 },
    // `"250mb"`: not a CPU quantity.
    Want { code: "E0201", severity: "error", line: 7, column: 19, end_line: 7, end_column: 26 },
    // `"70"`: a percentage without `%`.
    Want { code: "E0204", severity: "error", line: 8, column: 27, end_line: 8, end_column: 31 },
    // `${platform.domian}` after `é`: character column 25 (byte column 26).
    Want { code: "E0409", severity: "error", line: 9, column: 25, end_line: 9, end_column: 43 },
    // `verison`: not a parameter of postgres.
    Want { code: "E0402", severity: "error", line: 10, column: 26, end_line: 10, end_column: 33 },
];

fn run() -> Run {
    let run = check_service(SPEC);
    let got: Vec<&str> = run.diags.iter().map(|d| d.code.as_str()).collect();
    let want: Vec<&str> = WANT.iter().map(|w| w.code).collect();
    assert_eq!(got, want, "one run must report exactly the five mistakes, in order:\n{}", run.render(Format::Human));
    run
}

#[test]
fn spec_lines_are_where_the_table_says() {
    // Guards the table itself: each wanted span covers the text the comment names.
    let lines: Vec<&str> = SPEC.lines().collect();
    let slice = |w: &Want| -> String { lines[w.line - 1].chars().skip(w.column - 1).take(w.end_column - w.column).collect() };
    let texts: Vec<String> = WANT.iter().map(slice).collect();
    assert_eq!(texts, ["\"ghcr.io/acme/checkout:1.2\"", "\"250mb\"", "\"70\"", "${platform.domian}", "verison"]);
    // Line 9: the byte column of the reference differs from its character column.
    assert_eq!(lines[8].find("${").unwrap() + 1, 26);
}

#[test]
fn json_positions() {
    let run = run();
    let out = run.render(Format::Json);
    let objs: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).expect("each line is one JSON object")).collect();
    assert_eq!(objs.len(), 5, "{out}");
    for (o, w) in objs.iter().zip(&WANT) {
        let at = (&o["file"], &o["line"], &o["column"], &o["end_line"], &o["end_column"], &o["code"], &o["severity"]);
        let want = (&Value::from(FILE), &Value::from(w.line), &Value::from(w.column), &Value::from(w.end_line), &Value::from(w.end_column), &Value::from(w.code), &Value::from(w.severity));
        assert_eq!(at, want, "JSON of {}: {o}", w.code);
    }
}

#[test]
fn github_positions() {
    let run = run();
    let out = run.render(Format::Github);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "one workflow command per diagnostic, messages escaped onto one line:\n{out}");
    for (line, w) in lines.iter().zip(&WANT) {
        let prefix = format!("::{} file={FILE},line={},col={},endLine={},endColumn={},title={}::", w.severity, w.line, w.column, w.end_line, w.end_column, w.code);
        assert!(line.starts_with(&prefix), "GitHub annotation of {}:\n  got  {line}\n  want {prefix}...", w.code);
    }
}

#[test]
fn sarif_positions() {
    let run = run();
    let doc: Value = serde_json::from_str(&run.render(Format::Sarif)).expect("SARIF is JSON");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 5);
    let rules = doc["runs"][0]["tool"]["driver"]["rules"].as_array().expect("rules");
    for (r, w) in results.iter().zip(&WANT) {
        assert_eq!(r["ruleId"], w.code);
        assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"], w.code, "ruleIndex of {}", w.code);
        assert_eq!(r["level"], w.severity);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], FILE);
        assert_eq!(loc["region"], serde_json::json!({"startLine": w.line, "startColumn": w.column, "endLine": w.end_line, "endColumn": w.end_column}), "SARIF region of {}", w.code);
    }
    assert_eq!(doc["runs"][0]["columnKind"], "unicodeCodePoints");
}

#[test]
fn human_positions() {
    let run = run();
    let out = run.render(Format::Human);
    assert!(!out.contains('\x1b'), "no colour codes when colour is off");
    // One report per diagnostic, in order, each starting with its code on a line of its own;
    // the report's snippet header shows the same position as the other formats.
    let mut offset = 0;
    let mut starts = Vec::new();
    for line in out.split_inclusive('\n') {
        if WANT.iter().any(|w| line.trim_end() == w.code) {
            starts.push((line.trim_end(), offset));
        }
        offset += line.len();
    }
    let order: Vec<&str> = starts.iter().map(|(c, _)| *c).collect();
    assert_eq!(order, WANT.iter().map(|w| w.code).collect::<Vec<_>>(), "reports in order:\n{out}");
    for (i, w) in WANT.iter().enumerate() {
        let end = starts.get(i + 1).map(|(_, o)| *o).unwrap_or(out.len());
        let block = &out[starts[i].1..end];
        let header = format!("[{FILE}:{}:{}]", w.line, w.column);
        let first_header = block.split("╭─[").nth(1).map(|h| format!("[{}", &h[..=h.find(']').unwrap_or(0)]));
        assert_eq!(first_header.as_deref(), Some(header.as_str()), "the report of {} must open with {header}:\n{block}", w.code);
    }
    assert!(out.ends_with("error: 4 errors, 1 warning\n"), "{out}");
}

#[test]
fn snapshots_of_all_four_formats() {
    let run = run();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/formats"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (format, name) in FORMATS {
            insta::assert_snapshot!(format!("five_mistakes_{name}"), run.render(format));
        }
    });
}

/// Runs `.ci/oracles.sh sarif FILE` on `sarif` and fails with the validator's output if it is
/// missing or rejects the document.
fn validate_sarif(what: &str, sarif: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join(".ci/oracles.sh");
    assert!(
        script.is_file(),
        "{} does not exist: it validates SARIF against the 2.1.0 schema (see docs/validation.md); \
         the SARIF check cannot be skipped",
        script.display()
    );
    let dir = TempDir::new("sarif");
    let file = dir.write(&format!("{what}.sarif"), sarif);
    let out = Command::new("bash").arg(&script).arg("sarif").arg(&file).current_dir(root).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "SARIF of {what} does not validate against the SARIF 2.1.0 schema ({} exited with {}; if the \
         validator is missing, run `.ci/oracles.sh install`):\n--- stdout\n{}\n--- stderr\n{}\n--- document\n{sarif}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sarif_validates_against_the_schema() {
    // The five mistakes; a run with a related location in another file (a policy in
    // platform.kdl) and one in the same file; and an empty run.
    validate_sarif("five-mistakes", &run().render(Format::Sarif));

    let related = check_service(
        "service checkout {\n    owner team-checkout\n    image \"docker.io/acme/checkout\"\n    port http 8080\n    port http 8081\n    health readiness=\"/ready\" liveness=\"/healthz\"\n}\n",
    );
    let codes = related.codes();
    assert_eq!(codes, ["E0301", "E0503"], "{}", related.render(Format::Human));
    assert!(related.diags.iter().all(|d| !d.secondary.is_empty()), "both have related locations");
    validate_sarif("related-locations", &related.render(Format::Sarif));

    let clean = check_tree(&[("platform.kdl", PLATFORM), ("payments/service.kdl", PAYMENTS)], &[]).unwrap();
    assert!(clean.diags.is_empty(), "{}", clean.render(Format::Human));
    validate_sarif("empty-run", &clean.render(Format::Sarif));
}

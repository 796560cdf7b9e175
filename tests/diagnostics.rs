//! The diagnostics corpus: every file in tests/cases/*.kdl is an invalid input whose header names
//! the codes it must produce, exactly.
//!
//! ```kdl
//! // expect: E0102 W0101      codes expected (each at least once, no other code)
//! // kind: service            service (default) | platform | type
//! // platform: shared         shared (default) | none      (service and type cases)
//! // stage: check             check (default) | build: also lower and emit, as `platc build`
//! //                          (for what only generating finds, E0412); nothing is written
//! // at: 8:19 9:48            optional: positions (line:column, 1-based, in characters) in
//! //                          the case file where some diagnostic must start
//! service checkout { ... }
//! // --- other/platform.kdl   optional extra files, each after a `// --- PATH` line
//! platform other { ... }
//! ```
//!
//! Where the case file goes:
//! - `service`: `checkout/service.kdl`, next to the shared `platform.kdl` and the companion
//!   `payments/service.kdl` (tests/cases/fixtures/);
//! - `platform`: `platform.kdl`, alone (plus any extra files);
//! - `type`: `stdlib/types/NAME.kdl`, a resource type in a stdlib overlay (`--stdlib stdlib`),
//!   next to the shared platform and `payments`.
//!
//! Each case is run in memory (MemoryFs + load + check, through `driver::analyze` as the CLI does); the set of codes must equal the header's,
//! every span must be valid, each `at:` position must be the start of a diagnostic in the case
//! file, no problem may be reported twice (same code, span and message), and the source, the human
//! rendering (no colour) and the JSON lines are snapshotted into snapshots/diagnostics/CASE.snap.
//! All cases run; failures are listed at the end.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{check_tree, span_problems, Run, PAYMENTS, PLATFORM};
use platc_syntax::diagnostics::{codes, Format};

/// Codes no case can produce, and why.
const NOT_TRIGGERABLE: &[(&str, &str)] = &[
    ("E0002", "MemoryFs holds only UTF-8 text; a non-UTF-8 file is tested through the binary in tests/cli.rs"),
    ("E0005", "needs a file over 16 MiB; tests/hostile/limits.rs runs one through the binary, syntax/limits.rs tests the total"),
    ("W0104", "needs 25 to 200 services and a build, not one case file; tests/ci.rs reproduces it"),
    ("E0801", "about the committed lock on disk, not a spec; tests/hostile/paths.rs runs each bad lock through the binary"),
    ("E0802", "about a symbolic link in the output tree; tests/hostile/paths.rs plants them"),
    ("E0803", "about a symlinked spec file or folder on disk; tests/hostile/paths.rs plants them"),
    ("E0804", "about a hand edit in a previous build's output; tests/hostile/paths.rs edits and rebuilds"),
    ("E0602", "about a chart template (not KDL) in a stdlib overlay; tests/helm_equivalence.rs plants one, through --stdlib and platform.kdl"),
    ("E0603", "about a YAML or template file (not KDL) of a stdlib overlay, found when building; tests/cli.rs plants broken ones and checks file, line and labels"),
    ("E0806", "about generated files on disk, which `build --check` compares; tests/escape_hatch.rs holds it in every machine format"),
    ("E0410", "retired: a secret output inside a longer string is composed by the kubelet (tests/wiring.rs); docs/errors/E0410.md says so"),
];

#[derive(Debug)]
struct Case {
    name: String,
    path: PathBuf,
    expect: BTreeSet<String>,
    /// `(line, column)` positions where some diagnostic must start in the case file.
    at: Vec<(usize, usize)>,
    kind: Kind,
    shared_platform: bool,
    /// Run the build (lower + emit) too.
    build: bool,
    /// The case file first, then extra files: (path relative to the tree root, text).
    files: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Service,
    Platform,
    Type,
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

fn read_cases() -> Vec<Case> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(cases_dir()).expect("tests/cases exists").map(|e| e.expect("readable dir entry").path()).filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "kdl")).collect();
    paths.sort();
    paths.iter().map(|p| parse_case(p)).collect()
}

fn parse_case(path: &Path) -> Case {
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (mut expect, mut kind, mut shared_platform, mut at, mut build) = (None, Kind::Service, true, Vec::new(), false);
    for line in text.lines().take_while(|l| l.starts_with("//")) {
        let Some((key, value)) = line.trim_start_matches('/').trim().split_once(':') else { continue };
        let value = value.trim();
        match key.trim() {
            "expect" => expect = Some(value.split_whitespace().map(str::to_string).collect::<BTreeSet<_>>()),
            "at" => {
                for pos in value.split_whitespace() {
                    let parsed = pos.split_once(':').and_then(|(l, c)| Some((l.parse().ok()?, c.parse().ok()?)));
                    at.push(parsed.unwrap_or_else(|| panic!("{name}: `at: {pos}` is not LINE:COLUMN")));
                }
            }
            "stage" => {
                build = match value {
                    "check" => false,
                    "build" => true,
                    other => panic!("{name}: `stage:` is check or build, not `{other}`"),
                }
            }
            "kind" => {
                kind = match value {
                    "service" => Kind::Service,
                    "platform" => Kind::Platform,
                    "type" => Kind::Type,
                    other => panic!("{name}: unknown kind `{other}`"),
                }
            }
            "platform" => {
                shared_platform = match value {
                    "shared" => true,
                    "none" => false,
                    other => panic!("{name}: `platform:` is shared or none, not `{other}`"),
                }
            }
            _ => {}
        }
    }
    let expect = expect.unwrap_or_else(|| panic!("{name}: no `// expect: CODE...` header"));
    assert!(!expect.is_empty(), "{name}: `// expect:` names no code (every case is invalid)");
    for c in &expect {
        assert!(codes::Code::parse(c).is_some_and(|k| k.as_str() == c), "{name}: `{c}` is not a registered code");
    }
    // Split off extra files at `// --- PATH` lines.
    let mut sections: Vec<(Option<String>, String)> = vec![(None, String::new())];
    for line in text.split_inclusive('\n') {
        if let Some(p) = line.trim_end().strip_prefix("// --- ") {
            sections.push((Some(p.trim().to_string()), String::new()));
        } else {
            sections.last_mut().unwrap().1.push_str(line);
        }
    }
    let main_path = match kind {
        Kind::Service => "checkout/service.kdl".to_string(),
        Kind::Platform => "platform.kdl".to_string(),
        Kind::Type => format!("stdlib/types/{name}.kdl"),
    };
    let files = sections.into_iter().map(|(p, t)| (p.unwrap_or_else(|| main_path.clone()), t)).collect();
    Case { name, path: path.to_path_buf(), expect, at, kind, shared_platform, build, files }
}

fn run_case(case: &Case) -> Run {
    // Fixtures first: a case's extra file with the same path replaces a fixture.
    let mut files: Vec<(&str, &str)> = Vec::new();
    if case.kind != Kind::Platform {
        if case.shared_platform {
            files.push(("platform.kdl", PLATFORM));
        }
        files.push(("payments/service.kdl", PAYMENTS));
    }
    files.extend(case.files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let stdlib: &[&str] = if case.kind == Kind::Type { &["stdlib"] } else { &[] };
    let run = if case.build { common::build_tree(&files, stdlib) } else { check_tree(&files, stdlib) };
    run.unwrap_or_else(|e| panic!("{}: the tree does not load: {e}", case.name))
}

/// The human report of each diagnostic must open with `[file:line:column]` of its primary label,
/// the position every other format reports.
fn human_header_problems(run: &Run) -> Vec<String> {
    let out = run.render(Format::Human);
    // Reports start with a line holding only the code.
    let mut reports: Vec<String> = Vec::new();
    for line in out.lines() {
        let is_code = line.len() == 5 && (line.starts_with('E') || line.starts_with('W')) && line[1..].chars().all(|c| c.is_ascii_digit());
        if is_code {
            reports.push(String::new());
        }
        if let Some(r) = reports.last_mut() {
            r.push_str(line);
            r.push('\n');
        }
    }
    if reports.len() != run.diags.len() {
        return vec![format!("{} human reports for {} diagnostics:\n{out}", reports.len(), run.diags.len())];
    }
    let mut problems = Vec::new();
    for (d, report) in run.diags.iter().zip(&reports) {
        let f = run.sources.get(d.primary.file);
        let lc = f.line_col(d.primary.span.start);
        let want = format!("[{}:{}:{}]", f.name, lc.line, lc.column);
        let got = report.split("╭─").nth(1).and_then(|h| h.split(']').next()).map(|h| format!("{h}]"));
        if got.as_deref() != Some(want.as_str()) {
            problems.push(format!(
                "the human report of {} \"{}\" opens with {} but its primary label (and every other format) is at {want}",
                d.code,
                d.message,
                got.unwrap_or_else(|| "no header".into())
            ));
        }
    }
    problems
}

/// The snapshot: the case's files, then the human report and the JSON lines.
fn snapshot_text(case: &Case, run: &Run) -> String {
    let mut s = String::new();
    for (path, text) in &case.files {
        s.push_str(&format!("=== {path}\n{text}"));
        if !text.ends_with('\n') {
            s.push('\n');
        }
    }
    s.push_str("=== human\n");
    s.push_str(&run.render(Format::Human));
    s.push_str("=== json\n");
    s.push_str(&run.render(Format::Json));
    s
}

#[test]
fn cases() {
    let cases = read_cases();
    assert!(cases.len() >= 45, "expected at least 45 cases in tests/cases, found {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let run = run_case(case);
        let got: BTreeSet<String> = run.codes().into_iter().collect();
        if got != case.expect {
            failures.push(format!("{}: expected codes {:?}, got {:?}\n{}", case.path.display(), case.expect, got, run.render(Format::Human)));
        }
        for p in span_problems(&run) {
            failures.push(format!("{}: {p}", case.name));
        }
        let main_file = case.files[0].0.as_str();
        let starts: Vec<(usize, usize)> = run
            .diags
            .iter()
            .filter(|d| run.sources.get(d.primary.file).name == main_file)
            .map(|d| {
                let lc = run.sources.get(d.primary.file).line_col(d.primary.span.start);
                (lc.line, lc.column)
            })
            .collect();
        for (line, col) in &case.at {
            if !starts.contains(&(*line, *col)) {
                failures.push(format!(
                    "{}: expected a diagnostic starting at {main_file}:{line}:{col}; diagnostics start at {}",
                    case.name,
                    starts.iter().map(|(l, c)| format!("{l}:{c}")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        for (i, a) in run.diags.iter().enumerate() {
            if run.diags[..i].iter().any(|b| b.code == a.code && b.primary.file == a.primary.file && b.primary.span == a.primary.span && b.message == a.message) {
                let lc = run.sources.get(a.primary.file).line_col(a.primary.span.start);
                failures.push(format!("{}: {} \"{}\" is reported twice at {}:{}:{}", case.name, a.code, a.message, run.sources.get(a.primary.file).name, lc.line, lc.column));
            }
        }
        for p in human_header_problems(&run) {
            failures.push(format!("{}: {p}", case.name));
        }
        let json = run.render(Format::Json);
        if json.lines().count() != run.diags.len() || json.lines().any(|l| serde_json::from_str::<serde_json::Value>(l).map(|v| !v.is_object()).unwrap_or(true)) {
            failures.push(format!("{}: --format json is not one JSON object per diagnostic:\n{json}", case.name));
        }
        let text = snapshot_text(case, &run);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/diagnostics"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_input_file(&case.path);
        let snap = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| settings.bind(|| insta::assert_snapshot!(case.name.as_str(), text))));
        if snap.is_err() {
            failures.push(format!("{}: snapshot snapshots/diagnostics/{}.snap does not match (see the diff above)", case.name, case.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

/// Every code a user can meet is exercised by at least one case.
#[test]
fn every_triggerable_code_has_a_case() {
    let covered: BTreeSet<String> = read_cases().into_iter().flat_map(|c| c.expect).collect();
    let missing: Vec<&str> = codes::ALL.iter().map(|(c, _)| c.as_str()).filter(|c| !covered.contains(*c) && !NOT_TRIGGERABLE.iter().any(|(n, _)| n == c)).collect();
    assert!(missing.is_empty(), "codes without a case in tests/cases: {missing:?}");
    for (c, why) in NOT_TRIGGERABLE {
        assert!(codes::Code::parse(c).is_some(), "{c} is listed as not triggerable but is not a code ({why})");
    }
}

/// The fixtures themselves are clean, so that a case's codes come from the case alone.
#[test]
fn fixtures_are_clean() {
    let run = check_tree(&[("platform.kdl", PLATFORM), ("payments/service.kdl", PAYMENTS), ("checkout/service.kdl", common::CHECKOUT)], &[]).unwrap();
    assert!(run.diags.is_empty(), "fixtures have diagnostics:\n{}", run.render(Format::Human));
}

/// No stale snapshot: every snapshot in snapshots/diagnostics belongs to a case.
#[test]
fn no_orphan_snapshots() {
    let names: BTreeSet<String> = read_cases().into_iter().map(|c| c.name).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/diagnostics");
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    let orphans: Vec<String> = entries.filter_map(|e| e.ok()).filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".snap")).map(str::to_string)).filter(|n| !names.contains(n)).collect();
    assert!(orphans.is_empty(), "snapshots without a case (delete them): {orphans:?}");
}

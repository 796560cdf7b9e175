//! Differential tests of the syntax fast path (`compiler/platc-syntax/src/syntax/fast.rs`) against the kdl
//! crate, the reference parser.
//!
//! The contract: whenever `syntax::parse_fast` returns `Some(doc)`, `syntax::parse_kdl` succeeds
//! and gives the identical `Document` (compared by its `Debug` rendering, which tells `-0.0` from
//! `0.0` and shows every span); when kdl fails, the fast path returns `None`. And the fast path
//! must actually be used: it accepts every spec under examples/ and stdlib/ and every spec
//! `platc-synth` writes.
//!
//! Inputs: every `*.kdl` under examples/, stdlib/ and tests/cases/; `platc-synth 50` output;
//! hand-picked edge cases; and three proptest properties: KDL token soup (identifiers, strings
//! with escapes, numbers of every form, keywords, `=`, braces, `;`, comments, line ends, type
//! annotations, Unicode spaces and controls), well-formed documents with random layout, and
//! byte-level mutations of real specs. Cases per property: `PROPTEST_CASES` (default 2,000);
//! each property prints how many cases ran and how many the fast path accepted
//! (`cargo test --test kdl_fast_path -- --nocapture`).
//!
//! The speed of both paths is measured by `cargo bench --bench stages -- parse` (`parse` is the
//! fast path with fallback, `parse_kdl` the kdl crate alone).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use platc_syntax::diagnostics::Diagnostics;
use platc_syntax::source::{FileId, SourceFile};
use platc_syntax::syntax::{parse_fast, parse_kdl, Document};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

fn kdl(text: &str) -> Option<Document> {
    let file = SourceFile::new("t.kdl", None, text);
    parse_kdl(FileId(7), &file, &mut Diagnostics::new())
}

fn fast(text: &str) -> Option<Document> {
    parse_fast(FileId(7), text)
}

/// Checks the contract on one input; `Ok(true)` when the fast path accepted it.
fn differential(text: &str) -> Result<bool, String> {
    let Some(doc) = fast(text) else { return Ok(false) };
    let Some(reference) = kdl(text) else {
        return Err(format!("fast path accepted what kdl rejects: {text:?}\nfast: {doc:#?}"));
    };
    let (a, b) = (format!("{doc:#?}"), format!("{reference:#?}"));
    if a != b {
        let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
        let show = |s: &str| s.lines().skip(line.saturating_sub(8)).take(16).collect::<Vec<_>>().join("\n");
        return Err(format!("fast path and kdl differ on {text:?}\n--- fast (near line {line}):\n{}\n--- kdl:\n{}", show(&a), show(&b)));
    }
    Ok(true)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.kdl` under `dir`, sorted.
fn kdl_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "kdl"))
        .map(|e| (e.path().to_path_buf(), std::fs::read_to_string(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

/// The `platc-synth` binary: `PLATC_SYNTH` if set, else built by cargo (release: the generator's
/// arithmetic relies on wrapping, as in the benchmarks).
fn synth_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PLATC_SYNTH") {
        return PathBuf::from(p);
    }
    // This executable is <target>/<profile>/deps/kdl_fast_path-HASH.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).expect("<target>/<profile>").to_path_buf();
    let target_dir = profile_dir.parent().expect("<target>").to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--release", "-p", "platc", "--bin", "platc-synth", "--manifest-path"])
        .arg(root().join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .status()
        .expect("run cargo to build platc-synth");
    assert!(status.success(), "cannot build platc-synth (set PLATC_SYNTH=/path/to/platc-synth)");
    target_dir.join("release").join(format!("platc-synth{}", std::env::consts::EXE_SUFFIX))
}

/// The specs `platc-synth N` writes (platform.kdl first), generated once per N.
fn synth_specs(n: usize) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(synth_binary()).arg(n.to_string()).arg(dir.path()).status().expect("run platc-synth");
    assert!(status.success(), "platc-synth failed");
    kdl_files(dir.path()).into_iter().map(|(_, t)| t).collect()
}

fn synth50() -> &'static [String] {
    static SPECS: OnceLock<Vec<String>> = OnceLock::new();
    SPECS.get_or_init(|| synth_specs(50))
}

#[test]
fn accepts_and_matches_every_example_and_stdlib_spec() {
    let mut n = 0;
    for dir in ["examples", "stdlib"] {
        let files = kdl_files(&root().join(dir));
        assert!(!files.is_empty(), "no .kdl under {dir}");
        for (path, text) in files {
            assert!(kdl(&text).is_some(), "{} does not parse with kdl", path.display());
            match differential(&text) {
                Ok(true) => n += 1,
                Ok(false) => panic!("the fast path declined {}", path.display()),
                Err(e) => panic!("{}: {e}", path.display()),
            }
        }
    }
    println!("examples + stdlib: {n} specs accepted by the fast path, identical to kdl");
}

#[test]
fn matches_kdl_on_the_test_cases() {
    // Error cases included: the fast path may decline them, but never disagree.
    let files = kdl_files(&root().join("tests/cases"));
    let mut accepted = 0;
    for (path, text) in &files {
        accepted += usize::from(differential(text).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    }
    println!("tests/cases: {accepted} of {} accepted by the fast path, identical to kdl", files.len());
}

#[test]
fn accepts_and_matches_platc_synth_specs() {
    let specs = synth50();
    assert_eq!(specs.len(), 51, "platform.kdl + 50 services");
    for text in specs {
        assert_eq!(differential(text), Ok(true), "the fast path must accept and match:\n{text}");
    }
}

/// Hand-picked corners: spans, number forms, escapes, separators, and what must fall back.
#[test]
fn edge_cases() {
    let accepted = [
        "",
        "// only a comment",
        "a",
        "a;",
        "a\n",
        "a {}",
        "a { }",
        "a{b}",
        "a 1{}",
        "a #true{}",
        "a {\n  b 1  \n  c;  \n}\n",
        "x {\n a 1 }",
        "a {}\n\n",
        "a {\n}\n// trailing",
        "a; b;c",
        "a {};b",
        "a { b; }",
        "a // c\nb",
        "a// c\nb",
        "a 1\r\nb 2\rc",
        "(t)a 1",
        "(t) a k = v",
        "(\"q t\")a",
        "\"n\" \"k\"=1 \"\"",
        "\"\" 1",
        "a k=1 k=2 k=3",
        "a b =c d= e f = g",
        "a - + -- +. . .x -.x --x +-5 _1 a.b a-1 x=y",
        "a 0 -0 +1 1_000 1_ 1__2 007",
        "a 0x1F 0XaB_ -0x10 +0xFF_ 0o17 0O7 -0b101 0B1_0",
        "a 1.5 -0.0 1_.5 1_e5 1e1_0 1E+5 1.5e-3 0e0 1e400 0.1e-400",
        "a 170141183460469231731687303715884105727 -170141183460469231731687303715884105727",
        "a #true #false #null #inf #-inf #nan",
        "a \"x\\n\\t\\\\\\\"\\r\\b\\f\\s\\u{41}\\u{1F600}\\u{10FFFF}y\"",
        "a \"ws \\   \t  escape\"",
        "a \"nl \\\n   escape\"",
        "a \"crlf \\\r\n  escape\" b",
        "a \"\ttab\" \"é ü 日本 \u{a0} nbsp\"",
        "café 日本=1 ñ",
        "a\tb\t\tc=\t1",
        "a \"}\" \"{\" \";\" \"//\" \"=\"",
        "a k=\"v\"{ b }",
        "a {\n  b {\n    c {\n      d\n    }\n  }\n}",
        "a // \u{feff} \u{7f} \u{200e} anything\nb",
        "truex falsey nully infinity nan1 -infx",
    ];
    for text in accepted {
        assert_eq!(differential(text), Ok(true), "should be accepted and match: {text:?}");
    }
    // Valid KDL the fast path leaves to kdl, and invalid KDL: both must be None.
    let declined = [
        "a /- b",
        "/- a\nb",
        "a /* c */ b",
        "a \\\n b",
        "a #\"raw\"##",
        "a #\"\"#",
        "a #\"\"\"#",
        "a #\"x\ny\"#",
        "a #\"\u{1}\"#",
        "a #\"x\"#y",
        "a #\"x",
        "a ##\"x\"#",
        "a \"\"\"\nx\n\"\"\"",
        "\u{feff}a",
        "a\u{a0}b",
        "a\u{2028}b",
        "a\u{85}b",
        "a\u{b}b",
        "a\u{c}b",
        "a \"\u{85}\"",
        "a k=(t)1",
        "a (t)1",
        "( t)a",
        "a -inf",
        "a +inf",
        "a inf",
        "a nan",
        "a true",
        "a null",
        "true",
        "a\u{7f}",
        "a \"\u{7f}\"",
        "a \"\u{1}\"",
        "a \"x\\u{D800}\"",
        "a \"\\u{}\"",
        "a \"\\u{1234567}\"",
        "a \"\\x\"",
        "a \"\\\u{a0}x\"",
        "a \"\\ \u{2028}x\"",
        "a 1.",
        "a .5",
        "a -.5",
        "a 1.e5",
        "a 1e",
        "a 1e_5",
        "a 0x",
        "a 0x_1",
        "a 0o8",
        "a 0b12",
        "a 1x",
        "a 1.5.3",
        "a 1_.",
        "a #truex",
        "a #",
        "a ##",
        "a 170141183460469231731687303715884105728",
        "a 0x80000000000000000000000000000000",
        "a 1 = 2",
        "a=1",
        "a 1=2",
        "a b==c",
        "a k=",
        "a k=\n1",
        "a;;b",
        "a\n;",
        "}",
        "{",
        "a }",
        "a {",
        "a { } b",
        "a {} {}",
        "a \"x\"\"y\"",
        "a\"x\"",
        "a(t)",
        "a [",
        "a 1)",
        "a \"unterminated",
        "a \"line\nbreak\"",
        "a ;b c\n;",
        "1 a",
        "#true a",
        "a/b",
        "a \"\\s\" /",
        "a\u{200f}",
        "a /\u{b}/",
    ];
    for text in declined {
        assert_eq!(differential(text), Ok(false), "should be declined: {text:?}");
    }
}

// ---- property tests ----

/// Tokens of KDL token soup: valid and invalid identifiers, strings, numbers, keywords,
/// punctuation, comments, line ends and odd code points.
const SOUP: &[&str] = &[
    // identifiers and identifier-like words
    "a",
    "node",
    "port",
    "cpu-limit",
    "svc-00001",
    "_x",
    "x.y",
    "a1",
    "-",
    "+",
    "--",
    "-x",
    "+x",
    ".",
    ".x",
    "-.x",
    "..",
    "+.",
    "café",
    "日本",
    "true",
    "false",
    "null",
    "inf",
    "-inf",
    "nan",
    "truex",
    "a'b",
    "a,b",
    "<>",
    "@x",
    "$x",
    "a~",
    // quoted strings
    "\"\"",
    "\"s\"",
    "\"a b\"",
    "\"\\n\\t\\\\\"",
    "\"\\\"\"",
    "\"\\r\\b\\f\\s\"",
    "\"\\u{41}\"",
    "\"\\u{1F600}\"",
    "\"\\u{D800}\"",
    "\"\\u{}\"",
    "\"\\u{1234567}\"",
    "\"\\x\"",
    "\"\\ \n  x\"",
    "\"\\\t\"",
    "\"é\u{a0}\"",
    "\"\t\"",
    "\"\u{85}\"",
    "\"\u{2028}\"",
    "\"${platform.region}\"",
    "\"99.9%\"",
    "\"",
    "\"\\",
    "\"\"\"",
    "#\"raw\"#",
    "#\"\"\"\nraw\n\"\"\"#",
    "\"\"\"\nml\n\"\"\"",
    // numbers
    "0",
    "1",
    "-1",
    "+1",
    "8080",
    "1_000",
    "1_",
    "1__2",
    "007",
    "-0",
    "1.5",
    "-0.0",
    "1.",
    ".5",
    "-.5",
    "1e5",
    "1E-5",
    "1.5e+3",
    "1e",
    "1e_5",
    "1_e5",
    "1_.5",
    "0x1F",
    "0XaB_",
    "-0x10",
    "0x",
    "0x_1",
    "0o17",
    "0o8",
    "0b101",
    "0b12",
    "-0b1",
    "1x",
    "1.5.3",
    "1e400",
    "170141183460469231731687303715884105727",
    "170141183460469231731687303715884105728",
    "-170141183460469231731687303715884105728",
    "0x7fffffffffffffffffffffffffffffff",
    "0x80000000000000000000000000000000",
    "1.0000000000000000000000000000000000000000001",
    "0.00000000000000000000000000000000000000000000001",
    // keywords
    "#true",
    "#false",
    "#null",
    "#inf",
    "#-inf",
    "#nan",
    "#truex",
    "#",
    "##",
    // punctuation and layout
    "=",
    " = ",
    "{",
    "}",
    " { ",
    " }",
    ";",
    "(",
    ")",
    "(t)",
    "(\"t\")",
    "( t )",
    "[",
    "]",
    "\\",
    "\\\n",
    "/",
    "/-",
    "/*",
    "*/",
    "/* c */",
    "//",
    "// c\n",
    "// c",
    " ",
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\n",
    "\n  ",
    "\r\n",
    "\r",
    // odd code points
    "\u{a0}",
    "\u{2028}",
    "\u{2029}",
    "\u{85}",
    "\u{feff}",
    "\u{b}",
    "\u{c}",
    "\u{7f}",
    "\u{0}",
    "\u{1}",
    "\u{200e}",
    "\u{3000}",
    "é",
];

/// Soup tokens that are valid KDL on their own (values and layout), for soup that is more often
/// valid: its mistakes are then in the structure (`=`, braces, `;`, missing spaces).
const PLAUSIBLE: &[&str] = &[
    "a",
    "node",
    "cpu-limit",
    "-",
    "+x",
    ".x",
    "_1",
    "café",
    "truex",
    "\"\"",
    "\"a b\"",
    "\"\\n\\u{41}\\s\"",
    "\"\\ \n x\"",
    "#\"r\"#",
    "##\"r\"#\"##",
    "0",
    "-1",
    "1_000",
    "1.5",
    "-0.0",
    "1e5",
    "1_.5e-3",
    "0x1F",
    "0o17",
    "-0b1",
    "#true",
    "#null",
    "#-inf",
    "=",
    " = ",
    "=",
    "{",
    "}",
    " {",
    "{ ",
    " }",
    ";",
    "(t)",
    "// c\n",
    " ",
    " ",
    "\t",
    "\n",
    "\r\n",
];

fn soup(tokens: &'static [&'static str], max_len: usize) -> impl Strategy<Value = String> {
    let token = prop_oneof![
        8 => proptest::sample::select(tokens).prop_map(str::to_string),
        1 => any::<char>().prop_map(|c| c.to_string()),
        1 => "[a-z][a-z0-9_.-]{0,6}",
    ];
    // Mostly separated by a space or a line end, so that a good share of the soup is valid KDL.
    let sep = proptest::sample::select(&["", " ", " ", " ", "\n", "\n  ", ";", "\t", "\r\n"][..]);
    proptest::collection::vec((token, sep), 0..max_len).prop_map(|t| t.into_iter().flat_map(|(t, s)| [t, s.to_string()]).collect())
}

/// Well-formed KDL (mostly within the fast path's subset) with random layout: names, values of
/// every kind, properties, children, `;` and comments, LF or CRLF, spaces or tabs.
fn documents() -> impl Strategy<Value = String> {
    let ident = prop_oneof![proptest::sample::select(&["a", "node", "cpu-limit", "x.y", "-", "+x", ".x", "_1", "café", "env"][..]).prop_map(str::to_string), "[a-zA-Z][a-zA-Z0-9_-]{0,8}",]
        .prop_filter("keywords", |s| !matches!(s.as_str(), "true" | "false" | "null" | "inf" | "nan"));
    let quoted = proptest::collection::vec(proptest::sample::select(&["x", " ", "\\n", "\\t", "\\\"", "\\\\", "\\s", "\\u{e9}", "\\u{1F600}", "é", "\\  \n  ", "%", "${a.b}", "\t"][..]), 0..5)
        .prop_map(|parts| format!("\"{}\"", parts.concat()));
    let number = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:?}")),
        any::<f32>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{:e}", f)),
        any::<u32>().prop_map(|u| format!("0x{u:x}")),
        any::<u16>().prop_map(|u| format!("-0o{u:o}")),
        any::<u8>().prop_map(|u| format!("+0b{u:b}_")),
        (1u32..99999, 0u32..999).prop_map(|(a, b)| format!("{a}_{b}.{b}_5e-{}", b % 40)),
    ];
    let keyword = proptest::sample::select(&["#true", "#false", "#null", "#inf", "#-inf", "#nan"][..]).prop_map(str::to_string);
    let value = prop_oneof![ident.clone(), quoted.clone(), number, keyword];
    let key = prop_oneof![3 => ident.clone(), 1 => quoted.clone()];
    let entry = prop_oneof![value.clone(), (key, proptest::sample::select(&["=", " = ", "= ", "\t="][..]), value).prop_map(|(k, e, v)| format!("{k}{e}{v}"))];
    let ws = proptest::sample::select(&[" ", " ", "  ", "\t", " \t "][..]);
    let nl = proptest::sample::select(&["\n", "\n", "\r\n", "\n\n", " // note\n", ";", "; ", "\n    ", "\r"][..]);
    let head = (proptest::option::weighted(0.15, ident.clone()), prop_oneof![4 => ident, 1 => quoted], proptest::collection::vec((ws.clone(), entry), 0..5)).prop_map(|(ty, name, entries)| {
        let entries: String = entries.into_iter().map(|(w, e)| format!("{w}{e}")).collect();
        format!("{}{name}{entries}", ty.map(|t| format!("({t})")).unwrap_or_default())
    });
    let leaf = (head.clone(), ws.clone(), nl.clone()).prop_map(|(h, w, n)| format!("{h}{w}{n}"));
    leaf.prop_recursive(3, 40, 6, move |inner| {
        (head.clone(), ws.clone(), proptest::collection::vec(inner, 0..6), nl.clone(), ws.clone()).prop_map(|(h, w, kids, n, w2)| format!("{h}{w}{{\n{}{w2}}}{n}", kids.concat()))
    })
}

/// Real specs (examples/ and a few platc-synth services) with 1 to 4 random edits: deletions,
/// insertions of soup tokens, byte replacements (kept valid UTF-8), duplicated or swapped spans.
fn mutations() -> impl Strategy<Value = String> {
    static BASES: OnceLock<Vec<String>> = OnceLock::new();
    let bases = BASES.get_or_init(|| {
        let mut v: Vec<String> = kdl_files(&root().join("examples")).into_iter().map(|(_, t)| t).collect();
        v.extend(synth50().iter().take(6).cloned());
        v
    });
    let edit = (0usize..4, any::<prop::sample::Index>(), any::<prop::sample::Index>(), proptest::sample::select(SOUP), any::<u8>());
    (proptest::sample::select(bases.clone()), proptest::collection::vec(edit, 1..5)).prop_map(|(base, edits)| {
        let mut s = base;
        for (kind, at, len, token, byte) in edits {
            let floor = |s: &str, i: usize| (0..=i.min(s.len())).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
            let i = floor(&s, at.index(s.len() + 1));
            let j = floor(&s, (i + len.index(12)).min(s.len()));
            match kind {
                0 => s.replace_range(i..j, ""),
                1 => s.insert_str(i, token),
                2 => {
                    // One character becomes one ASCII byte (controls included).
                    let end = s[i..].chars().next().map_or(i, |c| i + c.len_utf8());
                    s.replace_range(i..end, &char::from(byte & 0x7F).to_string());
                }
                _ => {
                    let piece = s[i..j].to_string();
                    s.insert_str(j, &piece);
                }
            }
        }
        s
    })
}

fn run_property<S: Strategy<Value = String>>(name: &str, strategy: S) {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(2_000);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, max_shrink_iters: 4_000, ..Config::default() });
    let (ran, accepted) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let start = Instant::now();
    let result = runner.run(&strategy, |text| {
        ran.fetch_add(1, Ordering::Relaxed);
        match differential(&text) {
            Ok(a) => {
                accepted.fetch_add(usize::from(a), Ordering::Relaxed);
                Ok(())
            }
            Err(e) => Err(TestCaseError::fail(e)),
        }
    });
    println!(
        "kdl_fast_path {name}: {} inputs checked (of {cases} cases) in {:.1} s; the fast path accepted {}",
        ran.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64(),
        accepted.load(Ordering::Relaxed)
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

#[test]
fn prop_token_soup() {
    run_property("token soup", soup(SOUP, 40));
}

#[test]
fn prop_plausible_token_soup() {
    run_property("plausible token soup", soup(PLAUSIBLE, 12));
}

#[test]
fn prop_well_formed_documents() {
    run_property("well-formed documents", documents());
}

#[test]
fn prop_mutated_specs() {
    run_property("mutated specs", mutations());
}

//! The documentation matches the compiler:
//!
//! - every diagnostic code has a page `docs/errors/CODE.md` (on disk and embedded in the binary
//!   for `platc explain`), every page is a code, and each page has the code's title and the
//!   sections of the template;
//! - each page's example reproduces its code (with `platc check`, or `platc build` for codes
//!   found while generating), and the fixed version has no error;
//! - `docs/diagnostics.md` lists every code;
//! - `docs/language.md` documents every node of service.kdl and platform.kdl, every policy and
//!   every closed set of words;
//! - `platc explain` prints the page verbatim.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use platc_check::fs::MemoryFs;
use platc_syntax::diagnostics::{codes, Code, Severity};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn all_codes() -> Vec<(Code, &'static str)> {
    codes::ALL.iter().map(|(c, t)| (*c, *t)).collect()
}

/// The pages in docs/errors, by file name, read from disk.
fn pages_on_disk() -> BTreeMap<String, String> {
    let dir = root().join("docs/errors");
    let mut pages = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(entry.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
        pages.insert(name, text);
    }
    pages
}

#[test]
fn every_code_has_a_page_and_every_page_is_a_code() {
    let expected: BTreeSet<String> = all_codes().iter().map(|(c, _)| format!("{c}.md")).collect();
    let on_disk: BTreeSet<String> = pages_on_disk().into_keys().collect();
    let embedded: BTreeSet<String> = platc::cli::explain::page_names().into_iter().collect();

    let missing: Vec<_> = expected.difference(&on_disk).collect();
    assert!(missing.is_empty(), "codes without a page in docs/errors: {missing:?}");
    let extra: Vec<_> = on_disk.difference(&expected).collect();
    assert!(extra.is_empty(), "files in docs/errors that are not a code: {extra:?}");
    assert_eq!(embedded, on_disk, "the pages embedded for `platc explain` differ from docs/errors");
}

#[test]
fn every_page_has_the_title_and_the_sections_of_its_code() {
    let pages = pages_on_disk();
    for (code, title) in all_codes() {
        let Some(text) = pages.get(&format!("{code}.md")) else { continue };
        let first = text.lines().next().unwrap_or("");
        assert!(first.starts_with(&format!("# {code}:")), "{code}.md must start with `# {code}:`, found {first:?}");
        assert_eq!(first, format!("# {code}: {title}"), "{code}.md: the title must be the one in codes.rs");
        let why = match code.severity() {
            Severity::Error => "## Why it is an error",
            Severity::Warning => "## Why it is a warning",
        };
        for section in ["## What it means", why, "## Example", "## How to fix"] {
            assert!(text.lines().any(|l| l == section), "{code}.md has no `{section}` section");
        }
        assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{code}.md must end with exactly one newline");
        assert!(!text.contains('\r') && !text.contains('\t'), "{code}.md: no tabs or carriage returns");
    }
}

#[test]
fn explain_prints_the_page() {
    let code = Code::parse("E0102").expect("E0102 is a code");
    let page = platc::cli::explain::page(code).expect("E0102 has a page");
    assert!(page.starts_with("# E0102: unknown property\n"), "{page}");
    assert_eq!(page, read("docs/errors/E0102.md"));
    for (code, _) in all_codes() {
        assert!(platc::cli::explain::page(code).is_some(), "`platc explain {code}` finds no page");
    }
}

#[test]
fn diagnostics_index_lists_every_code() {
    let index = read("docs/diagnostics.md");
    for (code, title) in all_codes() {
        let severity = code.severity().as_str();
        let row = format!("| [{code}](errors/{code}.md) | {severity} | {title} |");
        assert!(index.contains(&row), "docs/diagnostics.md has no row `{row}`");
    }
    for format in ["--format human", "--format json", "--format github", "--format sarif"] {
        assert!(index.contains(format), "docs/diagnostics.md does not show `{format}`");
    }
}

#[test]
fn language_reference_documents_every_node() {
    let lang = read("docs/language.md");
    let heading = |node: &str| format!("### `{node}`");
    let has_heading = |node: &str| lang.lines().any(|l| l == heading(node) || l.starts_with(&format!("{} (", heading(node))));
    for node in platc_check::check::SERVICE_NODES {
        assert!(has_heading(node), "docs/language.md has no `{}` heading for the service node", heading(node));
    }
    for node in platc_check::check::PLATFORM_NODES {
        assert!(has_heading(node), "docs/language.md has no `{}` heading for the platform node", heading(node));
    }
    for node in ["service", "platform", "resource-type", "param", "output", "provisioner"] {
        assert!(has_heading(node), "docs/language.md has no `{}` heading", heading(node));
    }
    for policy in platc_check::model::POLICY_NAMES {
        assert!(lang.contains(&format!("| `{policy}")), "docs/language.md does not document the policy `{policy}` in its table");
    }
    let languages = platc_check::stdlib::Stdlib::builtin().languages();
    let words = platc_check::model::SERVICE_ATTRS
        .iter()
        .chain(platc_check::model::PLATFORM_VALUES.iter())
        .copied()
        .chain(languages.iter().map(String::as_str))
        .chain(platc_check::model::Protocol::ALL.iter().map(|(w, _)| *w))
        .chain(platc_check::model::Provisioner::ALL.iter().map(|(w, _)| *w))
        .chain(platc_check::model::ParamType::ALL.iter().map(|(w, _)| *w));
    for word in words {
        assert!(lang.contains(&format!("`{word}`")), "docs/language.md never mentions `{word}`");
    }
}

/// The kinds `patch` may name are the backends' list, so the reference cannot fall behind a new
/// object kind.
#[test]
fn language_reference_lists_every_patchable_kind() {
    let lang = read("docs/language.md");
    let patch = &lang[lang.find("### `patch`").expect("a patch section")..];
    let argument = patch.lines().skip_while(|l| !l.starts_with("- Argument:")).take_while(|l| !l.starts_with("- `name=`")).collect::<Vec<_>>().join(" ");
    let listed: BTreeSet<&str> = argument.split('`').skip(1).step_by(2).collect();
    let kinds: BTreeSet<&str> = platc_emit::emit::manifests::OBJECT_KINDS.iter().copied().collect();
    assert_eq!(listed, kinds, "the `patch` argument's list in docs/language.md");
}

// ---------------------------------------------------------------------------------------------
// Examples: each page's `## Example` reproduces its code; its `## How to fix` has no error.
//
// The KDL blocks of a section are the files of a small tree. A block whose first line is a
// comment `// PATH.kdl` is that file; otherwise a `platform` block is `platform.kdl`, a
// `resource-type NAME` block is `platform-stdlib/types/NAME.kdl` (checked as a stdlib
// overlay), and anything else is `checkout/service.kdl`. A tree without a platform gets
// `DEFAULT_PLATFORM` (except for E0501, whose point is that there is none) and a tree without a
// service gets `DEFAULT_SERVICE`. The fix replaces the example's files by path.
// ---------------------------------------------------------------------------------------------

const DEFAULT_PLATFORM: &str = r#"platform acme {
    registry "ghcr.io/acme"
    domain "acme.example.com"
    gitops argocd repo="https://github.com/acme/gitops.git"
    environment dev { provision in-cluster }
    environment prod protected=#true { provision aws }
}
"#;

const DEFAULT_SERVICE: &str = r#"service checkout {
    port http 8080
    health readiness="/ready"
}
"#;

/// Pages whose example cannot be run: a file that is not UTF-8 cannot be written as a KDL block
/// (and the loader reports it as an I/O failure today); E0005 needs a 16 MiB file
/// (tests/hostile/limits.rs reproduces it); W0104 needs hundreds of services (tests/ci.rs
/// reproduces it); E08xx are about the output tree and the lock on disk, not a spec
/// (tests/hostile/paths.rs reproduces each); E0602 is about a chart template in an overlay, a
/// file that is not KDL (tests/helm_equivalence.rs reproduces it), and so is E0603, a broken
/// YAML or template file of the stdlib (tests/cli.rs reproduces it).
/// Codes platc no longer reports; each page says so (a code is never reused).
const RETIRED: &[&str] = &["E0410"];

const NOT_REPRODUCIBLE: &[&str] = &["E0002", "E0005", "W0104", "E0801", "E0802", "E0803", "E0804", "E0806", "E0602", "E0603"];

/// Codes reported by `platc build` (when generating), not by `platc check`.
const BUILD_CODES: &[&str] = &["E0412"];

const OVERLAY: &str = "platform-stdlib";

/// The text of section `## title` (up to the next `## `).
fn section<'a>(page: &'a str, title: &str) -> &'a str {
    let head = format!("\n## {title}");
    let Some(start) = page.find(&head) else { return "" };
    let rest = &page[start + head.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// The ```kdl blocks of a section.
fn kdl_blocks(section: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in section.lines() {
        match (&mut current, line) {
            (None, "```kdl") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

fn path_of(block: &str) -> String {
    let first = block.lines().next().unwrap_or("").trim();
    if let Some(p) = first.strip_prefix("// ").filter(|p| p.ends_with(".kdl") && !p.contains(' ')) {
        return p.to_string();
    }
    let head = block.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("//")).unwrap_or("");
    let mut words = head.split_whitespace();
    match (words.next(), words.next()) {
        (Some("platform"), _) => "platform.kdl".into(),
        (Some("resource-type"), Some(name)) => format!("{OVERLAY}/types/{name}.kdl"),
        _ => "checkout/service.kdl".into(),
    }
}

fn tree(code: &str, blocks: &[String], mut files: BTreeMap<String, String>) -> BTreeMap<String, String> {
    for b in blocks {
        files.insert(path_of(b), b.clone());
    }
    if code != "E0501" && !files.keys().any(|p| p == "platform.kdl" || p.ends_with("/platform.kdl")) {
        files.insert("platform.kdl".into(), DEFAULT_PLATFORM.into());
    }
    if !files.keys().any(|p| p.ends_with("service.kdl")) {
        files.insert("checkout/service.kdl".into(), DEFAULT_SERVICE.into());
    }
    files
}

/// Checks a tree the way `platc check [--stdlib platform-stdlib]` does from its root (or
/// `platc build`, when `build`), and returns the codes reported, with a rendering for failure
/// messages.
fn check(files: &BTreeMap<String, String>, build: bool) -> (Vec<Code>, String) {
    let root = Path::new("/w");
    let mut fs = MemoryFs::new();
    for (p, t) in files {
        fs.add(root.join(p), t.clone());
    }
    let overlays: Vec<PathBuf> = if files.keys().any(|p| p.starts_with(&format!("{OVERLAY}/"))) { vec![root.join(OVERLAY)] } else { Vec::new() };
    let paths = [root.to_path_buf()];
    let (diags, sources) = if build {
        let r = platc::build::build_paths(&fs, &paths, &overlays, root, &Default::default()).expect("the example tree builds");
        (r.diags, r.loaded.sources)
    } else {
        let loaded = platc_check::load::load(&fs, &paths, &overlays, root).expect("the example tree loads");
        (platc::build::analyze(&loaded).diags, loaded.sources)
    };
    let items: Vec<_> = diags.iter().cloned().collect();
    let shown = platc_syntax::diagnostics::render(&items, &sources, platc_syntax::diagnostics::Format::Human, false);
    (diags.iter().map(|d| d.code).collect(), shown)
}

#[test]
fn every_example_reproduces_its_code_and_every_fix_is_clean() {
    let pages = pages_on_disk();
    for (code, _) in all_codes() {
        let Some(page) = pages.get(&format!("{code}.md")) else { continue };
        let example = kdl_blocks(section(page, "Example"));
        if RETIRED.contains(&code.as_str()) {
            let meaning = section(page, "What it means");
            assert!(meaning.trim_start().starts_with("Retired:"), "{code}.md: a retired code's page starts `What it means` with `Retired:`");
            continue;
        }
        if NOT_REPRODUCIBLE.contains(&code.as_str()) {
            continue;
        }
        let build = BUILD_CODES.contains(&code.as_str());
        assert!(!example.is_empty(), "{code}.md: `## Example` has no ```kdl block");
        let files = tree(code.as_str(), &example, BTreeMap::new());
        let (found, shown) = check(&files, build);
        assert!(found.contains(&code), "{code}.md: the example does not produce {code}; it produces:\n{shown}");
        let command = if build { "$ platc build\n" } else { "" };
        assert!(page.contains(&format!("```text\n{command}{code}\n")), "{code}.md: the example's output (a ```text block starting with the code) is missing");

        let fix = kdl_blocks(section(page, "How to fix"));
        if fix.is_empty() {
            continue; // The fix is not a change to a file (E0502: check one tree at a time).
        }
        let example_files: BTreeMap<String, String> = example.iter().map(|b| (path_of(b), b.clone())).collect();
        let fixed = tree(code.as_str(), &fix, example_files);
        let (found, shown) = check(&fixed, build);
        let errors: Vec<_> = found.iter().filter(|c| c.severity() == Severity::Error).collect();
        assert!(errors.is_empty() && !found.contains(&code), "{code}.md: the fixed example still reports:\n{shown}");
    }
}

/// docs/security.md names, for each guarantee, the tests that hold it: each named test exists
/// (a `fn NAME(` under tests/) and each named case is a file of tests/cases.
#[test]
fn security_guarantees_name_tests_that_exist() {
    let doc = read("docs/security.md");
    let section = doc.split("### Guarantees, each with the test that holds it").nth(1).expect("docs/security.md has the guarantees section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut sources = String::new();
    for entry in walkdir::WalkDir::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")).into_iter().filter_map(Result::ok) {
        if entry.path().extension().is_some_and(|e| e == "rs") {
            sources.push_str(&std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    let mut named = 0;
    for row in section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| guarantee") && !l.starts_with("|---")) {
        let tests = row.trim_end_matches('|').rsplit('|').next().unwrap();
        assert!(tests.contains('`'), "a guarantee without a test: {row}");
        for word in tests.split('`').skip(1).step_by(2) {
            let is_ident = word.len() > 8 && word.contains('_') && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !is_ident {
                continue;
            }
            let case = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/cases/{word}.kdl"));
            assert!(sources.contains(&format!("fn {word}(")) || case.is_file(), "docs/security.md names `{word}`, which is neither a test nor a case");
            named += 1;
        }
    }
    assert!(named >= 30, "only {named} tests named in docs/security.md");
}

/// docs/cli.md's command table lists exactly the commands of `platc --help`, in its order, each
/// with the same summary and a section of its own: it cannot drift from the binary.
#[test]
fn the_cli_command_table_is_the_binarys() {
    use clap::CommandFactory;
    let doc = read("docs/cli.md");
    let rows: Vec<(String, String)> = doc
        .lines()
        .skip_while(|l| !l.starts_with("| command"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let name = cells[0].split('`').nth(1)?.to_string();
            Some((name, cells[1].to_string()))
        })
        .filter(|(name, _)| name != "help")
        .collect();
    let cli = platc::cli::Cli::command();
    let commands: Vec<(String, String)> = cli.get_subcommands().map(|c| (c.get_name().to_string(), c.get_about().map(|a| a.to_string()).unwrap_or_default())).collect();
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&rows), names(&commands), "docs/cli.md's table and `platc --help` list different commands");
    for ((name, doc_about), (_, about)) in rows.iter().zip(&commands) {
        let lower = |s: &str| s.trim_end_matches('.').to_lowercase();
        assert_eq!(lower(doc_about), lower(about), "`{name}`: docs/cli.md and `platc {name} --help` disagree");
        assert!(doc.contains(&format!("## `platc {name}`")), "docs/cli.md has no section for `platc {name}`");
    }
}

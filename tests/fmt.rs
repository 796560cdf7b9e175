//! `platc fmt`: canonical, idempotent formatting of .kdl files that keeps every comment and never
//! changes what a file means.
//!
//! - every comment of the input is in the output (line, trailing, block, slashdashed nodes,
//!   entries and children blocks), where it was;
//! - format(format(x)) == format(x) on realistic inputs (full service and platform specs with
//!   nested children, stdlib-like resource types, messy hand-written variants);
//! - the meaning is unchanged: both texts parse (with kdl, through `platc_syntax::syntax`) to the same
//!   tree of names, type annotations, arguments, properties and children;
//! - badly laid out input (tabs, 2 spaces, spaces around `=`, `;`, one-line blocks) comes out in
//!   the canonical form;
//! - a syntax error yields `None` and E0001;
//! - every .kdl file under examples/ and stdlib/ (whatever exists when the test runs) is stable
//!   under formatting and keeps its meaning and its text.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use platc_syntax::diagnostics::Diagnostics;
use platc_syntax::format::{format, format_text};
use platc_syntax::source::{FileId, SourceFile};
use platc_syntax::syntax::{Node, Value};

/// Formats through the CLI entry point, asserting that it succeeds without diagnostics and
/// that the formatter's own safety net (which returns the input unchanged) did not kick in.
fn fmt(text: &str) -> String {
    let file = SourceFile::new("service.kdl", None, text);
    let mut diags = Diagnostics::new();
    let out = format(FileId(0), &file, &mut diags).unwrap_or_else(|| panic!("format failed on:\n{text}"));
    assert!(diags.is_empty(), "diagnostics formatting:\n{text}");
    let direct = format_text(text).unwrap_or_else(|e| panic!("{e}\ninput:\n{text}"));
    assert_eq!(out, direct);
    out
}

/// A formatting-independent view of a parsed file: names, types, values and children, no spans.
#[derive(Debug, PartialEq)]
struct Tree {
    ty: Option<String>,
    name: String,
    args: Vec<String>,
    props: Vec<(String, String)>,
    children: Option<Vec<Tree>>,
}

fn value(v: &Value) -> String {
    // Debug keeps the kind apart (`String("1")` vs `Int(1)`) and compares floats by value.
    format!("{v:?}")
}

fn tree(nodes: &[Node]) -> Vec<Tree> {
    nodes
        .iter()
        .map(|n| Tree {
            ty: n.ty.as_ref().map(|t| t.value.clone()),
            name: n.name.value.clone(),
            args: n.args.iter().map(|a| value(&a.value)).collect(),
            props: n.props.iter().map(|p| (p.name.value.clone(), value(&p.value.value))).collect(),
            children: n.children.as_ref().map(|c| tree(&c.nodes)),
        })
        .collect()
}

fn meaning(text: &str) -> Vec<Tree> {
    let file = SourceFile::new("t.kdl", None, text);
    let mut diags = Diagnostics::new();
    let doc = platc_syntax::syntax::parse(FileId(0), &file, &mut diags).unwrap_or_else(|| panic!("does not parse:\n{text}"));
    tree(&doc.nodes)
}

/// How often each character occurs outside whitespace; formatting may only add or drop
/// whitespace, `;` terminators and `\` line continuations, so every comment's text survives.
fn text_chars(text: &str) -> BTreeMap<char, usize> {
    let mut m = BTreeMap::new();
    for c in text.chars().filter(|c| !c.is_whitespace() && !matches!(c, ';' | '\\' | '\u{FEFF}')) {
        *m.entry(c).or_insert(0) += 1;
    }
    m
}

/// Formats, and checks idempotence, meaning and text preservation; returns the output.
fn check_all(name: &str, text: &str) -> String {
    let once = fmt(text);
    let twice = fmt(&once);
    assert_eq!(twice, once, "{name}: not idempotent\n--- first\n{once}\n--- second\n{twice}");
    assert_eq!(meaning(&once), meaning(text), "{name}: meaning changed\n--- input\n{text}\n--- output\n{once}");
    assert_eq!(text_chars(&once), text_chars(text), "{name}: text lost or added\n--- input\n{text}\n--- output\n{once}");
    once
}

/// The output's layout: no tab or trailing whitespace, at most one blank line in a row, one
/// final newline; with `indent`, every line indented by a multiple of four spaces (only for
/// inputs without multi-line strings or comments, whose inner lines are copied as written).
fn assert_layout(out: &str, indent: bool) {
    assert!(out.is_empty() || (out.ends_with('\n') && !out.ends_with("\n\n")), "bad file end:\n{out}");
    assert!(!out.contains("\n\n\n"), "more than one blank line:\n{out}");
    for line in out.lines() {
        let body = line.trim_start();
        assert!(!line[..line.len() - body.len()].contains('\t'), "tab in the indentation of {line:?}");
        assert_eq!(line.trim_end(), line, "trailing whitespace in {line:?}");
        if indent {
            assert_eq!((line.len() - body.len()) % 4, 0, "indentation of {line:?}");
        }
    }
}

/// A full service spec with nested children, comments everywhere and a bit of everything KDL
/// allows: type annotations, raw and multi-line strings, numbers in several notations.
const SERVICE: &str = r##"// Turns a cart into an order: reserves stock, takes the payment, hands the order on.
// Owned by the checkout team.

service checkout {
    owner team-checkout
    description "Places orders"
    language go
    image "ghcr.io/acme-shop/checkout"
    port http 8080 // public
    port grpc 9090 /-protocol=grpc
    route "/api/checkout" public=#true
    health readiness="/ready" liveness="/healthz"

    uses postgres orders-db version=16 size=medium storage="100Gi" {
        // Backups are kept for two weeks.
        backup retention="14d" /* point in time */ pitr=#true
        /-replicas 2
    }
    env DATABASE_URL="${resources.orders-db.url}"
    env RETRIES=0x10 TIMEOUT_MS=1_000 RATIO=1.50 BIG=1e3

    // Each `calls` opens a NetworkPolicy egress to that service.
    calls payments
    calls catalog port=grpc
    /-calls fulfillment
    resources cpu="250m" memory="256Mi" cpu-limit="1" memory-limit="512Mi"
    scale min=2 max=10 cpu="70%"
    slo availability="99.95%" latency-p99="800ms"
    (json)patch #"{"spec": {"template": {"metadata": {"labels": {"team": "checkout"}}}}}"#
    alert CheckoutPaymentsFailing expr="sum(rate(failures[5m])) > 0.05" for="10m" severity=critical {
        description """
            More than 5% of payments fail.
              Check the payment provider's status page.
            """
    }
    cron cleanup schedule="0 3 * * *" {
        command "bin/cleanup" "--older-than" "30d"
    }
    environment prod {
        scale min=3 max=30
        resources cpu="500m" memory="512Mi" cpu-limit="2" memory-limit="1Gi"
        /* prod only */ feature-flags {
            flag new-checkout enabled=#true
            flag legacy-cart enabled=#false // until Q3
        }
    } // prod
    environment preview {
        scale min=1 max=1
        env LOG_LEVEL=debug
    }
}
"##;

const PLATFORM_SPEC: &str = r#"// The platform of a small online shop.
platform shop {
    cloud aws region=eu-west-1
    registry "ghcr.io/acme-shop"
    domain shop.acme.example.com
    // Public routes become Gateway API HTTPRoutes attached to this Gateway.
    ingress gateway-api gateway=public namespace=gateway
    defaults {
        resources cpu="100m" memory="128Mi" cpu-limit="500m" memory-limit="256Mi"
        scale min=1 max=4 cpu="75%"
    }

    environment dev {
        provision in-cluster
    }
    environment prod protected=#true {
        provision aws
    }

    policies {
        min-replicas 2 env=prod
        require-slo env=prod
        /-forbid-loosening
        max-cpu "2"
        allowed-registries "ghcr.io/acme-shop" "docker.io/library"
    }
}
"#;

const RESOURCE_TYPE: &str = r#"// Redis: an in-memory cache.
resource-type redis port=6379 {
    description "Redis cache"
    param version type=string default="7.1" doc="Redis engine version" {
        allowed "6.2" "7.0" "7.1"
    }
    param replicas type=int default=1 min=0 max=5 doc="Read replicas"
    output url secret=#true doc="rediss:// connection URL" // not a comment: inside a string
}
"#;

/// The same service as SERVICE, laid out badly: tabs, 2 spaces, spaces around `=`, `;`,
/// one-line children blocks, blank-line runs, trailing whitespace, CRLF line ends.
const MESSY: &str = concat!(
    "\r\n\r\n",
    "// Turns a cart into an order.   \r\n",
    "service   checkout{\r\n",
    "\towner team-checkout\r\n",
    "  description  \"Places orders\"\r\n",
    "      port http 8080   // public\r\n",
    "  env A = \"1\"   B= 2 ; env C =3\r\n",
    "\r\n\r\n\r\n",
    "\tenvironment prod { scale  min = 3   max=30; resources cpu=\"500m\" }\r\n",
    "  environment preview {\r\n",
    "\t\tscale min=1 max=1\r\n",
    "\t\t}\r\n",
    "\r\n",
    "}\r\n",
    "\r\n",
);

fn realistic() -> Vec<(&'static str, &'static str)> {
    vec![
        ("service", SERVICE),
        ("platform", PLATFORM_SPEC),
        ("resource type", RESOURCE_TYPE),
        ("messy", MESSY),
        ("fixture checkout", common::CHECKOUT),
        ("fixture payments", common::PAYMENTS),
        ("fixture platform", common::PLATFORM),
    ]
}

#[test]
fn canonical_input_is_left_alone() {
    for (name, text) in [("service", SERVICE), ("platform", PLATFORM_SPEC), ("resource type", RESOURCE_TYPE)] {
        assert_eq!(fmt(text), text, "{name}");
    }
}

#[test]
fn idempotent_and_meaning_preserving_on_realistic_inputs() {
    for (name, text) in realistic() {
        let out = check_all(name, text);
        assert_layout(&out, !text.contains("\"\"\""));
    }
}

#[test]
fn keeps_every_comment_where_it_was() {
    let input = r#"// Checkout service.
// Owned by the checkout team.

/* generated: no */ service checkout { // the service
    owner team-checkout   // trailing after a node
	description "Places orders" /* inline block */
  /-language go
    port http 8080 /-protocol=grpc // public port
    port /-admin metrics 9100 /* after the last entry */
    /*
     * A multi-line block comment
     * before a node.
     */
    env LOG_LEVEL=info
    /-environment staging {
        // inside a commented-out block
        scale min=1
    }
    environment prod /-{ scale min=9 } {
        scale min=3 max=30 // prod scale
        // last line of prod
    } /* after the block */ // end of prod
    // last line of the service
}
// after everything
/-tail 1
"#;
    let expected = r#"// Checkout service.
// Owned by the checkout team.

/* generated: no */ service checkout { // the service
    owner team-checkout // trailing after a node
    description "Places orders" /* inline block */
    /-language go
    port http 8080 /-protocol=grpc // public port
    port /-admin metrics 9100 /* after the last entry */
    /*
     * A multi-line block comment
     * before a node.
     */
    env LOG_LEVEL=info
    /-environment staging {
        // inside a commented-out block
        scale min=1
    }
    environment prod /-{
        scale min=9
    } {
        scale min=3 max=30 // prod scale
        // last line of prod
    } /* after the block */ // end of prod
    // last line of the service
}
// after everything
/-tail 1
"#;
    let out = check_all("comments", input);
    assert_eq!(out, expected);
    for comment in [
        "// Checkout service.",
        "// Owned by the checkout team.",
        "/* generated: no */",
        "// the service",
        "// trailing after a node",
        "/* inline block */",
        "/-language go",
        "/-protocol=grpc",
        "// public port",
        "/-admin",
        "/* after the last entry */",
        "/*\n     * A multi-line block comment\n     * before a node.\n     */",
        "/-environment staging {",
        "// inside a commented-out block",
        "/-{",
        "// prod scale",
        "// last line of prod",
        "/* after the block */",
        "// end of prod",
        "// last line of the service",
        "// after everything",
        "/-tail 1",
    ] {
        assert!(input.contains(comment), "{comment:?}");
        assert_eq!(out.matches(comment).count(), input.matches(comment).count(), "{comment:?} in\n{out}");
    }
}

#[test]
fn trailing_comments_survive_where_kdl_autoformat_drops_them() {
    // kdl's autoformat() loses the first one; kdl records nothing after a `}`, the other two.
    let input = "port http 8080 // trailing\nenvironment prod {\n    scale min=3\n} // after a block\na {} /* b */\n";
    assert_eq!(check_all("trailing", input), input);
}

#[test]
fn comments_inside_nodes_and_continuations() {
    let input = "node (type /* in type */ )arg key = /* before value */ 1 /* between */ 2 \\ // continued\n   3 \\\n  4\n";
    let expected = "node (type /* in type */)arg key=/* before value */ 1 /* between */ 2 \\ // continued\n    3 4\n";
    assert_eq!(check_all("inline", input), expected);
    // A comment on the last continuation of a node becomes its trailing comment.
    assert_eq!(check_all("escline end", "a 1 \\ // why\n\nb\n"), "a 1 // why\nb\n");
    // Between `/-` and what it comments out.
    assert_eq!(check_all("slashdash comments", "a /- /* why */ 1 2\n/- // gone\nb\n"), "a /* why */ /-1 2\n// gone\n/-b\n");
}

#[test]
fn bad_indentation_and_spacing_become_canonical() {
    let input = concat!(
        "service   checkout {\n",
        "\towner team-checkout\n",
        "  image \"ghcr.io/acme/checkout\"\n",
        "      port http 8080 protocol = \"http\"\n",
        "  env   A = \"1\"   B= 2 ; env C =3\n",
        "\tenvironment prod {\n",
        "\t  scale  min = 3   max=30\n",
        "\t\tresources cpu=\"500m\" memory = \"512Mi\"\n",
        "\t}\n",
        "  environment preview { scale min=1 max=1; env LOG_LEVEL=debug }\n",
        "    empty {   }\n",
        "}",
    );
    let expected = r#"service checkout {
    owner team-checkout
    image "ghcr.io/acme/checkout"
    port http 8080 protocol="http"
    env A="1" B=2
    env C=3
    environment prod {
        scale min=3 max=30
        resources cpu="500m" memory="512Mi"
    }
    environment preview {
        scale min=1 max=1
        env LOG_LEVEL=debug
    }
    empty {}
}
"#;
    let out = check_all("badly indented", input);
    assert_eq!(out, expected);
    assert_layout(&out, true);

    let messy = check_all("messy", MESSY);
    let expected = r#"// Turns a cart into an order.
service checkout {
    owner team-checkout
    description "Places orders"
    port http 8080 // public
    env A="1" B=2
    env C=3

    environment prod {
        scale min=3 max=30
        resources cpu="500m"
    }
    environment preview {
        scale min=1 max=1
    }
}
"#;
    assert_eq!(messy, expected);
}

#[test]
fn blank_lines_keep_the_grouping_but_collapse() {
    let input = "\n\n// head\n\n\n\na\nb\n\n\n\nc {\n\n\n    d\n\n    // e\n\n\n}\n\n\n";
    assert_eq!(check_all("blank lines", input), "// head\n\na\nb\n\nc {\n    d\n\n    // e\n}\n");
}

#[test]
fn strings_numbers_and_annotations_are_kept_as_written() {
    let input = concat!(
        "config {\n",
        "  values 0x10 0o17 0b101 1_000 1.50 1e3 -0.0 #true #null #inf\n",
        "  quoted \"plain\" bare \"with space\" #\"raw \"quoted\" \\n\"# key=\"value\" (u8)7 (json)#\"{}\"#\n",
        "  (typed)node \"a\"\n",
        "      script \"\"\"\n",
        "        echo one\n",
        "          echo two\n",
        "        \"\"\"\n",
        "  raw #\"\"\"\n",
        "    C:\\path \"quoted\"\n",
        "    \"\"\"#\n",
        "}\n",
    );
    let out = check_all("tokens", input);
    for token in [
        "values 0x10 0o17 0b101 1_000 1.50 1e3 -0.0 #true #null #inf",
        "quoted \"plain\" bare \"with space\" #\"raw \"quoted\" \\n\"# key=\"value\" (u8)7 (json)#\"{}\"#",
        "(typed)node \"a\"",
        // Multi-line strings are copied byte for byte, so their value cannot change.
        "script \"\"\"\n        echo one\n          echo two\n        \"\"\"",
        "raw #\"\"\"\n    C:\\path \"quoted\"\n    \"\"\"#",
    ] {
        assert!(out.contains(token), "{token:?} not kept in\n{out}");
    }
}

#[test]
fn crlf_missing_final_newline_and_empty_files() {
    assert_eq!(check_all("crlf", "a 1\r\nb {\r\n  c\r\n}"), "a 1\nb {\n    c\n}\n");
    assert_eq!(check_all("empty", ""), "");
    assert_eq!(check_all("blank", "\n\n  \n"), "");
    assert_eq!(check_all("only comments", "  // one\n\n\n/* two */"), "// one\n\n/* two */\n");
}

#[test]
fn syntax_error_yields_none_and_e0001() {
    for text in ["service a {\n    cpu 250m\n", "service a {\n    resources cpu=250m\n}\n", "a \"unterminated\n"] {
        let file = SourceFile::new("service.kdl", None, text);
        let mut diags = Diagnostics::new();
        assert_eq!(format(FileId(0), &file, &mut diags), None, "{text:?}");
        assert!(diags.has_errors(), "{text:?}");
        assert!(diags.iter().all(|d| d.code.as_str() == "E0001"), "{text:?}");
    }
}

/// Every .kdl file under examples/ and stdlib/, whatever exists right now (files may be being
/// written: unreadable or unparsable ones are skipped).
#[test]
fn examples_and_stdlib_are_stable_and_keep_their_meaning() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut checked, mut skipped) = (0, Vec::new());
    for dir in ["examples", "stdlib"] {
        for entry in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name().into_iter().filter_map(|e| e.ok()) {
            let path = entry.path();
            if !entry.file_type().is_file() || path.extension().is_none_or(|e| e != "kdl") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(path) else { continue };
            let file = SourceFile::new(path.display().to_string(), None, text.as_str());
            if platc_syntax::syntax::parse(FileId(0), &file, &mut Diagnostics::new()).is_none() {
                skipped.push(path.display().to_string());
                continue;
            }
            check_all(&path.display().to_string(), &text);
            checked += 1;
        }
    }
    eprintln!("fmt: checked {checked} files under examples/ and stdlib/; skipped (syntax errors): {skipped:?}");
    assert!(checked > 0, "no .kdl file found under examples/ or stdlib/");
}

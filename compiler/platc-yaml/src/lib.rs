//! YAML output through serde-saphyr: strings that YAML 1.1 readers (Kubernetes, Helm) would
//! take for booleans or numbers (`on`, `yes`, `1.0`, `0755`) are quoted; long strings are
//! never folded (folding makes diffs noisy and changes nothing for readers).
//!
//! Generated files (every Kubernetes object, values file, rule file: JSON trees and typed
//! rule groups alike) take a faster road with the same bytes: serde-saphyr weighs every scalar
//! against YAML 1.1's and 1.2's rules (a third of `platc render`'s CPU), while most of ours
//! need no weighing: names like `app.kubernetes.io/name` and alert descriptions (plain),
//! summaries like `svc-1: latency budget burning` (quoted for their `: `), PromQL expressions
//! (literal blocks). [`document`] writes block maps and lists and those scalars itself
//! ([`block`], [`scalar`]), following serde-saphyr's rules for the cases it can tell apart
//! cheaply, and hands every other entry (numbers with a fraction, strings that need weighing or
//! escapes, odd keys) to serde-saphyr alone, indented into place. A property test holds both
//! roads to identical bytes.

#![warn(unreachable_pub, missing_docs)]

mod block;
mod mark;
mod scalar;

pub use mark::{mark_secret_references, SECRET_REFERENCES};

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

fn options() -> serde_saphyr::SerializerOptions {
    let mut o = serde_saphyr::SerializerOptions::default();
    o.folded_wrap_chars = usize::MAX / 2;
    o
}

/// One YAML document (ends with a newline).
pub fn to_yaml<T: Serialize>(value: &T) -> String {
    let mut out = String::new();
    append_yaml(&mut out, value);
    out
}

/// A YAML document preceded by a comment header (`# ` on each line).
pub fn with_header<T: Serialize>(header: &str, value: &T) -> String {
    let mut out = String::new();
    push_header(&mut out, header);
    // Serialized after the header in the same buffer: a CI workflow can be tens of MB.
    append_yaml(&mut out, value);
    out
}

/// [`with_header`] through the fast road (see the module docs): the same bytes, written
/// straight from `value` (a JSON tree or typed data) without building anything first.
pub fn document<T: Serialize + ?Sized>(header: &str, value: &T) -> String {
    thread_local! {
        /// Written into, then copied out at its final size: growing each file's string from
        /// empty cost a fifth of the YAML writer's time in reallocations.
        static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    SCRATCH.with_borrow_mut(|out| {
        out.clear();
        push_header(out, header);
        if block::write(out, value).is_err() {
            append_yaml(out, value);
        }
        let text = out.as_str().to_owned();
        // A rare huge file (a values file of many rules) should not keep its memory for the
        // thread's life.
        if out.capacity() > 1 << 20 {
            *out = String::new();
        }
        text
    })
}

fn push_header(out: &mut String, header: &str) {
    for line in header.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
}

/// Appends one YAML document (ending with a newline) to `out`.
fn append_yaml<T: Serialize + ?Sized>(out: &mut String, value: &T) {
    let start = out.len();
    // Serializing our own plain data (maps, lists, strings, numbers) cannot fail; an error
    // here is a bug, reported in the output rather than by a panic.
    if let Err(e) = serde_saphyr::to_fmt_writer_with_options(out, &value, options()) {
        out.truncate(start);
        out.push_str(&format!("# platc: YAML serialization failed: {e}\n"));
    }
    if out.len() == start || !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Writes `value` (one map entry or one list item) as serde-saphyr does at the top level,
/// moved right by `indent`: block layout is relative, so the bytes are those it would write in
/// place. Without `at_line_start` the first line continues the current one.
fn by_saphyr<T: Serialize + ?Sized>(out: &mut String, value: &T, indent: usize, at_line_start: bool) {
    let mut text = String::new();
    append_yaml(&mut text, value);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        // Empty lines (inside block scalars) carry no indentation, in place or not.
        if line != "\n" && (i > 0 || at_line_start) {
            pad(out, indent);
        }
        out.push_str(line);
    }
}

fn pad(out: &mut String, mut indent: usize) {
    const SPACES: &str = "                                ";
    while indent > 0 {
        let n = indent.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        indent -= n;
    }
}

/// A map of one entry, serialized without building one.
struct Entry<'a, K: ?Sized, V: ?Sized>(&'a K, &'a V);

impl<K: Serialize + ?Sized, V: Serialize + ?Sized> Serialize for Entry<'_, K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(1))?;
        m.serialize_entry(self.0, self.1)?;
        m.end()
    }
}

/// A list of one item.
struct Item<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Item<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_seq(Some(1))?;
        s.serialize_element(self.0)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value as Json;

    #[test]
    fn ambiguous_strings_are_quoted() {
        let v = serde_json::json!({"a": "on", "b": "yes", "c": "1.0", "d": "0755", "e": "y", "f": "null", "g": "plain"});
        for y in [to_yaml(&v), document("", &v)] {
            for bad in ["a: on", "b: yes", "c: 1.0", "d: 0755", "e: y", "f: null"] {
                assert!(!y.contains(&format!("{bad}\n")), "{bad} unquoted in:\n{y}");
            }
            assert!(y.contains("g: plain\n"));
        }
    }

    /// Strings that exercise every quoting rule: YAML 1.1 and 1.2 literals, numbers in their
    /// many spellings, indicators, comments, `: `, whitespace at the edges, line breaks,
    /// control characters, non-ASCII, long text.
    const TRICKY: &[&str] = &[
        "",
        " ",
        "a",
        "plain",
        "app.kubernetes.io/name",
        "svc-00001",
        "ghcr.io/acme/checkout:1.2.3",
        "0.1.0",
        "1",
        "0",
        "-1",
        "1.5",
        "1e3",
        "0x1F",
        "0o17",
        "0755",
        "1_000",
        "12:30",
        "2001-12-14",
        ".inf",
        "-.inf",
        ".NaN",
        "nan",
        "inf",
        "~",
        "null",
        "Null",
        "NULL",
        "true",
        "True",
        "false",
        "y",
        "Y",
        "n",
        "N",
        "yes",
        "No",
        "on",
        "OFF",
        "<<",
        "=",
        "-",
        "- a",
        "-a",
        "?",
        "? x",
        "?x",
        ":",
        "a:",
        "a: b",
        "a:b",
        "#",
        "a #b",
        "a#b",
        "[x]",
        "{x}",
        "a,b",
        "*ref",
        "&anchor",
        "!tag",
        "|",
        ">",
        "'q'",
        "\"q\"",
        "%x",
        "@x",
        "`x`",
        "---",
        "--- x",
        "...",
        " lead",
        "trail ",
        "tab\tin",
        "line\nbreak",
        "two\nlines\n",
        "\n",
        "\nlead",
        "a\n\nb",
        "  indented\nbody",
        "trailing \nspace",
        "end\n\n",
        "cr\rhere",
        "nul\0",
        "bell\u{7}",
        "bom\u{feff}",
        "nel\u{85}",
        "ls\u{2028}",
        "é",
        "日本語",
        "emoji 🚀",
        "sum by (namespace) (rate(http_requests_total{code=~\"5..\"}[5m]))\n/\nsum(rate(x[5m]))",
        "{{ $labels.pod }} is crash-looping",
        "${datasource}",
        "a very long sentence that goes on and on past eighty characters without any line break in it at all, really",
        "svc-1: latency budget burning",
        "x:",
        "a:b:",
        "slo:sli_error:ratio_rate5m",
        "ghcr.io/acme/api:1.2",
        "1.2.3",
        "10",
        "1.",
        "1..2",
        "a: ",
        "\"quoted\" text",
        "back\\slash",
        "ends with #",
        "mid # hash",
        "\n  indented second",
        "é\nline",
        "tab\tin\nblock",
        "\n\n",
        "a\n\n\n",
        " \nspace line",
        "x\n \ny",
        "yes no",
        "a b: c",
        "word #x",
        "a#b c",
        "Trailing space ",
        "{{ $x }} a",
        "a {b} [c], d",
        "a `b` 'c' \"d\"",
        "a - b",
        "a ? b",
        "On off",
        "x y:",
        "a\tb c",
        "n 1",
        "Null value",
        "a &b *c !d %e @f |g >h",
        "5m",
        "250m",
        "512Mi",
        "30s",
        "1h30m",
        "0x",
        "0xa",
        "0XA",
        "0xg",
        "1e",
        "1E",
        "1e5",
        "0b",
        "0o",
        "1_",
        "7on",
        "3d ",
        "/",
        "/tmp",
        "/healthz",
        "//x",
        "/a: b",
        "/a #b",
        "/x:",
        "/ trail ",
        "/a b",
        "/~",
        "/-",
        "/1",
        "/*",
        "/on",
        "/{x}",
        "/\n",
        "9",
        "5",
        "-",
        "~",
        "?",
        ":",
        "#",
        "x",
        "0.0.0.0/0",
        "10.0.0.0/8",
        "169.254.170.23/32",
        "1/2",
        "1/",
        "2001-12-14/x",
        "12:30/1",
        "1e3/",
        "0x1F/2",
        "1/2: x",
        "1/2 #x",
        "1/2:",
        "1/ ",
        "1 /2",
        "$",
        "$(A)",
        "$(A_HOST):$(A_PORT)",
        "$(A): b",
        "$a #b",
        "$x:",
        "$ ",
        "$$(A)",
        "${x}",
        "$\n",
        "$é",
    ];

    fn scalar() -> impl Strategy<Value = Json> {
        prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(Json::from),
            any::<u64>().prop_map(Json::from),
            (-1e6f64..1e6).prop_map(Json::from),
            prop::sample::select(TRICKY).prop_map(Json::from),
            "[a-zA-Z][a-zA-Z0-9./_-]{0,12}".prop_map(Json::from),
            "(?i)(y|n|yes|no|on|off|true|false|null|nan|inf)".prop_map(Json::from),
            ".{0,12}".prop_map(Json::from),
            "[a-z0-9 :#.\"\\\\-]{0,10}".prop_map(Json::from),
            "[a-z \n\t]{0,12}".prop_map(Json::from),
            "[0-9]{1,3}[a-zA-Z_]{1,3}[0-9]?".prop_map(Json::from),
            "/[a-zA-Z0-9 :#./_~{}-]{0,10}".prop_map(Json::from),
            "[0-9]".prop_map(Json::from),
            "[0-9][0-9a-zA-Z .:/_+-]{0,10}".prop_map(Json::from),
            "[$][a-zA-Z0-9 (){}:#$_-]{0,10}".prop_map(Json::from),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-zA-Z][a-zA-Z0-9./_-]{0,10}",
            1 => "(?i)(y|n|yes|no|on|off|true|false|null|nan|inf)",
            1 => prop::sample::select(TRICKY).prop_map(String::from),
            1 => ".{0,6}",
        ]
    }

    fn tree() -> impl Strategy<Value = Json> {
        scalar().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array), prop::collection::vec((key(), inner), 0..6).prop_map(|kv| Json::Object(kv.into_iter().collect())),]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The fast road writes exactly what serde-saphyr writes, whatever the tree.
        #[test]
        fn fast_road_writes_saphyrs_bytes(body in prop::collection::vec((key(), tree()), 0..6)) {
            let doc = Json::Object(body.into_iter().collect());
            prop_assert_eq!(document("h\nx", &doc), with_header("h\nx", &doc));
        }
    }

    #[test]
    fn fast_road_writes_saphyrs_bytes_for_every_tricky_string() {
        for s in TRICKY {
            let doc = serde_json::json!({
                "k": s, "list": [s, {"k": s, "n": {"k": s}}, [s]], "m": {"deep": {"list": [s]}}, *s: {"in": [1, s]},
            });
            assert_eq!(document("", &doc), to_yaml(&doc), "{s:?}");
        }
    }
}

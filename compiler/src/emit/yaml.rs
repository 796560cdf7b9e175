//! YAML output through serde-saphyr: strings that YAML 1.1 readers (Kubernetes, Helm) would
//! take for booleans or numbers (`on`, `yes`, `1.0`, `0755`) are quoted; long strings are
//! never folded (folding makes diffs noisy and changes nothing for readers).
//!
//! JSON trees (every Kubernetes object, values file and rule file) take a faster road with the
//! same bytes: serde-saphyr weighs every scalar against YAML 1.1's and 1.2's rules (a third of
//! `platc render`'s CPU), while most of ours need no weighing: names like
//! `app.kubernetes.io/name` and alert descriptions (plain), summaries like `svc-1: latency
//! budget burning` (quoted for their `: `), PromQL expressions (literal blocks).
//! [`json_with_header`] writes block maps and lists and those scalars itself, following
//! serde-saphyr's rules for the cases it can tell apart cheaply, and hands every other entry
//! (numbers with a fraction, strings that need weighing or escapes, odd keys) to serde-saphyr
//! alone, indented into place. A property test holds both roads to identical bytes.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value as Json};

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

/// [`with_header`] for a JSON tree, through the fast road (see the module docs): the same
/// bytes.
pub fn json_with_header(header: &str, value: &Json) -> String {
    thread_local! {
        /// Written into, then copied out at its final size: growing each file's string from
        /// empty cost a fifth of the YAML writer's time in reallocations.
        static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    SCRATCH.with_borrow_mut(|out| {
        out.clear();
        push_header(out, header);
        match value {
            Json::Object(m) if !m.is_empty() => block_map(out, m, 0, false),
            _ => append_yaml(out, value),
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
fn append_yaml<T: Serialize>(out: &mut String, value: &T) {
    let start = out.len();
    // Serializing our own plain data (maps, lists, strings, numbers) cannot fail; an error
    // here is a bug, reported in the output rather than by a panic.
    if let Err(e) = serde_saphyr::to_fmt_writer_with_options(out, value, options()) {
        out.truncate(start);
        out.push_str(&format!("# platc: YAML serialization failed: {e}\n"));
    }
    if out.len() == start || !out.ends_with('\n') {
        out.push('\n');
    }
}

/// The entries of a non-empty map, each on its own line at `indent`; with `inline`, the first
/// continues the current line (after a list's `- `).
fn block_map(out: &mut String, m: &Map<String, Json>, indent: usize, inline: bool) {
    for (i, (key, value)) in m.iter().enumerate() {
        let at_line_start = !(inline && i == 0);
        // What follows `key:`: a nested block, a word on the same line, or (None) serde-saphyr's
        // judgement of the whole entry.
        let rest = match value {
            Json::Object(c) if !c.is_empty() => Some(Rest::Map(c)),
            Json::Array(a) if !a.is_empty() => Some(Rest::List(a)),
            _ => scalar(value).map(Rest::Scalar),
        };
        let Some(rest) = rest.filter(|_| is_word(key)) else {
            by_saphyr(out, &Entry(key, value), indent, at_line_start);
            continue;
        };
        if at_line_start {
            pad(out, indent);
        }
        out.push_str(key);
        match rest {
            Rest::Map(c) => {
                out.push_str(":\n");
                block_map(out, c, indent + 2, false);
            }
            Rest::List(a) => {
                // Lists sit at their key's indentation, as serde-saphyr writes them.
                out.push_str(":\n");
                block_list(out, a, indent);
            }
            Rest::Scalar(s) => {
                out.push_str(": ");
                push_scalar(out, &s, indent + 2);
            }
        }
    }
}

/// The value of a map entry that platc writes itself.
enum Rest<'a> {
    Map(&'a Map<String, Json>),
    List(&'a [Json]),
    Scalar(Scalar<'a>),
}

/// The items of a non-empty list at `indent`.
fn block_list(out: &mut String, items: &[Json], indent: usize) {
    for item in items {
        match item {
            Json::Object(m) if !m.is_empty() => {
                pad(out, indent);
                out.push_str("- ");
                block_map(out, m, indent + 2, true);
            }
            Json::Array(a) if !a.is_empty() => by_saphyr(out, &Item(item), indent, true),
            _ => match scalar(item) {
                Some(s) => {
                    pad(out, indent);
                    out.push_str("- ");
                    push_scalar(out, &s, indent + 2);
                }
                None => by_saphyr(out, &Item(item), indent, true),
            },
        }
    }
}

/// A scalar (or empty collection) in the style serde-saphyr gives it, when telling that takes
/// no weighing.
enum Scalar<'a> {
    /// Written as it is: `null`, booleans, `{}`, `[]`, words.
    Plain(&'a str),
    /// An integer, in decimal.
    Integer(&'a serde_json::Number),
    /// A printable-ASCII line that serde-saphyr double-quotes (see [`must_quote`]).
    Quoted(&'a str),
    /// Text with line breaks, as a literal block (`|`).
    Literal(&'a str),
}

/// The style of a scalar value (after `key: ` or `- `) when it is one of [`Scalar`]'s cases;
/// `None` otherwise.
fn scalar(value: &Json) -> Option<Scalar<'_>> {
    let plain = |s: &'static str| Some(Scalar::Plain(s));
    match value {
        Json::Null => plain("null"),
        Json::Bool(b) => plain(if *b { "true" } else { "false" }),
        Json::Number(n) if n.is_i64() || n.is_u64() => Some(Scalar::Integer(n)),
        Json::String(s) if is_plain_value(s) => Some(Scalar::Plain(s)),
        Json::String(s) if s.contains('\n') => (is_block_safe(s)).then_some(Scalar::Literal(s)),
        Json::String(s) if must_quote(s) => Some(Scalar::Quoted(s)),
        Json::Object(m) if m.is_empty() => plain("{}"),
        Json::Array(a) if a.is_empty() => plain("[]"),
        _ => None,
    }
}

/// Writes a scalar after `key: ` or `- `, through its end of line; a literal block's lines at
/// `body_indent`.
fn push_scalar(out: &mut String, s: &Scalar, body_indent: usize) {
    match s {
        Scalar::Plain(w) => out.push_str(w),
        Scalar::Integer(n) => {
            use std::fmt::Write;
            let _ = write!(out, "{n}");
        }
        Scalar::Quoted(text) => {
            out.push('"');
            let mut rest = *text;
            while let Some(i) = rest.find(['"', '\\']) {
                out.push_str(&rest[..i]);
                out.push('\\');
                out.push_str(&rest[i..=i]);
                rest = &rest[i + 1..];
            }
            out.push_str(rest);
            out.push('"');
        }
        Scalar::Literal(text) => return push_literal(out, text, body_indent),
    }
    out.push('\n');
}

/// A literal block as serde-saphyr writes it: `|`, an indentation indicator when the first
/// non-empty line starts with spaces (it would be taken for indentation), the chomping
/// indicator that keeps the trailing line breaks exactly (`-` none, nothing one, `+` more),
/// then the lines, empty ones without indentation.
fn push_literal(out: &mut String, text: &str, body_indent: usize) {
    let content = text.trim_end_matches('\n');
    let trailing = text.len() - content.len();
    out.push('|');
    let first = content.split('\n').find(|l| !l.is_empty()).unwrap_or("");
    if first.starts_with(' ') {
        // Relative to the parent's indentation, which is two columns less than the body's.
        out.push('2');
    }
    match trailing {
        0 => out.push('-'),
        1 if !content.is_empty() => {}
        _ => out.push('+'),
    }
    out.push('\n');
    if content.is_empty() {
        out.extend(std::iter::repeat_n('\n', trailing));
        return;
    }
    for line in content.split('\n') {
        if !line.is_empty() {
            pad(out, body_indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    out.extend(std::iter::repeat_n('\n', trailing.saturating_sub(1)));
}

/// Whether serde-saphyr may write `s` as a literal block: no character that needs an escape
/// (`\r`, BOM, NEL, the Unicode line separators, other control characters than tab).
fn is_block_safe(s: &str) -> bool {
    // Most text is ASCII: bytes first, characters only when there is more.
    s.bytes().all(|b| matches!(b, b'\n' | b'\t' | 0x20..=0x7E))
        || s.chars().all(|c| match c {
            '\n' | '\t' => true,
            c => matches!(c as u32, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10_FFFF) && c != '\u{FEFF}',
        })
}

/// Whether serde-saphyr double-quotes the value `s` for a reason that needs no weighing: a
/// printable-ASCII line of two or more characters (so only `"` and `\` need escapes) that
/// cannot be plain because of its first character (an indicator), a space at either end,
/// `: ` or a final `:` (would read as a key), ` #` (a comment), or because YAML 1.1 reads it
/// as a number (`1`, `0.1.0`: digits and dots).
fn must_quote(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 2 || !b.iter().all(|c| (0x20..=0x7E).contains(c)) {
        return false;
    }
    let indicator = matches!(b[0], b',' | b':' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`');
    let numeric = b[0].is_ascii_digit() && b.iter().all(|c| c.is_ascii_digit() || *c == b'.');
    indicator || numeric || b[0] == b' ' || b[b.len() - 1] == b' ' || s.contains(": ") || s.ends_with(':') || s.contains(" #")
}

/// A string every YAML reader takes as that string, plain, as key or value: a letter, then
/// letters, digits and `-_./`, and not a word YAML 1.1 reads as a boolean, null or number
/// (`on`, `no`, `y`, `null`, `nan`, ...). Anything else is serde-saphyr's to judge.
fn is_word(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic) && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/')) && !is_reserved(s)
}

/// The words YAML 1.1 reads as a boolean, null or number, in any case.
fn is_reserved(s: &str) -> bool {
    const RESERVED: [&str; 11] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"];
    s.len() <= 5 && RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}

/// A string serde-saphyr writes plain in value position, told without weighing it: a letter,
/// then printable ASCII, not ending in a space or `:`, without `: ` (it would read as a key)
/// or ` #` (a comment), and not a word YAML 1.1 reads as a boolean or null (`on`, `No`).
/// Words with `:` (`ghcr.io/acme/api:1.2`) and sentences (alert descriptions) are plain here;
/// as keys they would need weighing.
fn is_plain_value(s: &str) -> bool {
    let b = s.as_bytes();
    let Some((&first, &last)) = b.first().zip(b.last()) else { return false };
    if !first.is_ascii_alphabetic() || last == b' ' || last == b':' || !b.iter().all(|c| (0x20..=0x7E).contains(c)) {
        return false;
    }
    // A letter first: no YAML 1.1 number or date; with a space inside, no boolean or null.
    !s.contains(": ") && !s.contains(" #") && (s.contains(' ') || !is_reserved(s))
}

/// Writes `value` (one map entry or one list item) as serde-saphyr does at the top level,
/// moved right by `indent`: block layout is relative, so the bytes are those it would write in
/// place. Without `at_line_start` the first line continues the current one.
fn by_saphyr<T: Serialize>(out: &mut String, value: &T, indent: usize, at_line_start: bool) {
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
struct Entry<'a>(&'a str, &'a Json);

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(1))?;
        m.serialize_entry(self.0, self.1)?;
        m.end()
    }
}

/// A list of one item.
struct Item<'a>(&'a Json);

impl Serialize for Item<'_> {
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

    #[test]
    fn ambiguous_strings_are_quoted() {
        let v = serde_json::json!({"a": "on", "b": "yes", "c": "1.0", "d": "0755", "e": "y", "f": "null", "g": "plain"});
        for y in [to_yaml(&v), json_with_header("", &v)] {
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
        "", " ", "a", "plain", "app.kubernetes.io/name", "svc-00001", "ghcr.io/acme/checkout:1.2.3", "0.1.0", "1", "0", "-1",
        "1.5", "1e3", "0x1F", "0o17", "0755", "1_000", "12:30", "2001-12-14", ".inf", "-.inf", ".NaN", "nan", "inf", "~",
        "null", "Null", "NULL", "true", "True", "false", "y", "Y", "n", "N", "yes", "No", "on", "OFF", "<<", "=", "-",
        "- a", "-a", "?", "? x", "?x", ":", "a:", "a: b", "a:b", "#", "a #b", "a#b", "[x]", "{x}", "a,b", "*ref",
        "&anchor", "!tag", "|", ">", "'q'", "\"q\"", "%x", "@x", "`x`", "---", "--- x", "...", " lead", "trail ", "tab\tin",
        "line\nbreak", "two\nlines\n", "\n", "\nlead", "a\n\nb", "  indented\nbody", "trailing \nspace", "end\n\n",
        "cr\rhere", "nul\0", "bell\u{7}", "bom\u{feff}", "nel\u{85}", "ls\u{2028}", "é", "日本語", "emoji 🚀",
        "sum by (namespace) (rate(http_requests_total{code=~\"5..\"}[5m]))\n/\nsum(rate(x[5m]))",
        "{{ $labels.pod }} is crash-looping", "${datasource}", "a very long sentence that goes on and on past eighty characters without any line break in it at all, really",
        "svc-1: latency budget burning", "x:", "a:b:", "slo:sli_error:ratio_rate5m", "ghcr.io/acme/api:1.2", "1.2.3", "10", "1.", "1..2",
        "a: ", "\"quoted\" text", "back\\slash", "ends with #", "mid # hash", "\n  indented second", "é\nline", "tab\tin\nblock",
        "\n\n", "a\n\n\n", " \nspace line", "x\n \ny", "yes no", "a b: c", "word #x", "a#b c", "Trailing space ", "{{ $x }} a",
        "a {b} [c], d", "a `b` 'c' \"d\"", "a - b", "a ? b", "On off", "x y:", "a\tb c", "n 1", "Null value", "a &b *c !d %e @f |g >h",
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
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
                prop::collection::vec((key(), inner), 0..6).prop_map(|kv| Json::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The fast road writes exactly what serde-saphyr writes, whatever the tree.
        #[test]
        fn fast_road_writes_saphyrs_bytes(body in prop::collection::vec((key(), tree()), 0..6)) {
            let doc = Json::Object(body.into_iter().collect());
            prop_assert_eq!(json_with_header("h\nx", &doc), with_header("h\nx", &doc));
        }
    }

    #[test]
    fn fast_road_writes_saphyrs_bytes_for_every_tricky_string() {
        for s in TRICKY {
            let doc = serde_json::json!({
                "k": s, "list": [s, {"k": s, "n": {"k": s}}, [s]], "m": {"deep": {"list": [s]}}, *s: {"in": [1, s]},
            });
            assert_eq!(json_with_header("", &doc), to_yaml(&doc), "{s:?}");
        }
    }
}

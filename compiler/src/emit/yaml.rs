//! YAML output through serde-saphyr: strings that YAML 1.1 readers (Kubernetes, Helm) would
//! take for booleans or numbers (`on`, `yes`, `1.0`, `0755`) are quoted; long strings are
//! never folded (folding makes diffs noisy and changes nothing for readers).

use serde::Serialize;

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
    for line in header.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    // Serialized after the header in the same buffer: a CI workflow can be tens of MB.
    append_yaml(&mut out, value);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ambiguous_strings_are_quoted() {
        let v = serde_json::json!({"a": "on", "b": "yes", "c": "1.0", "d": "0755", "e": "y", "f": "null", "g": "plain"});
        let y = to_yaml(&v);
        for bad in ["a: on", "b: yes", "c: 1.0", "d: 0755", "e: y", "f: null"] {
            assert!(!y.contains(&format!("{bad}\n")), "{bad} unquoted in:\n{y}");
        }
        assert!(y.contains("g: plain\n"));
    }
}

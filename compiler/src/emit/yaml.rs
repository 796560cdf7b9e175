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
    // Serializing our own plain data (maps, lists, strings, numbers) cannot fail; an error
    // here is a bug, reported in the output rather than by a panic.
    let mut s = serde_saphyr::to_string_with_options(value, options()).unwrap_or_else(|e| format!("# platc: YAML serialization failed: {e}\n"));
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// A YAML document preceded by a comment header (`# ` on each line).
pub fn with_header<T: Serialize>(header: &str, value: &T) -> String {
    let mut out = String::new();
    for line in header.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&to_yaml(value));
    out
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

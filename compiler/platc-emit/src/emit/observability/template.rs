//! `<name>` placeholders in the stdlib's alert, label and dashboard texts, filled in with a
//! service's names.
//!
//! The same few dozen texts are filled in for every alert of every service (tens of thousands
//! of times in a monorepo): each is cut into its pieces (text, placeholder) once per thread
//! and kept, keyed by where it lives and checked against its content, so that a text is
//! never scanned for `<` again.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;

/// A piece of a text: a stretch to copy, or a placeholder's name (without `<>`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(Range<usize>),
    Name(Range<usize>),
}

/// Fills `<name>` placeholders. Every `<identifier>` must be a known name: an unknown one is an
/// error naming it. Other uses of `<` (PromQL comparisons) are left alone.
pub(crate) fn fill(text: &str, vars: &[(&str, String)]) -> Result<String, String> {
    fill_from(text, &[vars])
}

/// [`fill`] with the names of several lists (a service's, then an alert's own), looked up in
/// order: the first that has a name gives its value.
pub(crate) fn fill_from(text: &str, layers: &[&[(&str, String)]]) -> Result<String, String> {
    with_pieces(text, |pieces| {
        let mut out = String::with_capacity(text.len() + 64);
        for piece in pieces {
            match piece {
                Piece::Text(r) => out.push_str(&text[r.clone()]),
                Piece::Name(r) => {
                    let name = &text[r.clone()];
                    match lookup(layers, name) {
                        Some(v) => out.push_str(v),
                        None => return Err(unknown(layers, name)),
                    }
                }
            }
        }
        Ok(out)
    })
}

/// The value of `name`: plain loops, as this runs for every placeholder of every alert.
fn lookup<'a>(layers: &[&'a [(&str, String)]], name: &str) -> Option<&'a str> {
    for vars in layers {
        for (k, v) in vars.iter() {
            if k.len() == name.len() && *k == name {
                return Some(v);
            }
        }
    }
    None
}

fn unknown(layers: &[&[(&str, String)]], name: &str) -> String {
    let mut known: Vec<&str> = layers.iter().flat_map(|vars| vars.iter()).map(|(k, _)| *k).collect();
    known.sort_unstable();
    known.dedup();
    format!("unknown placeholder <{name}> (known here: {})", known.iter().map(|k| format!("<{k}>")).collect::<Vec<_>>().join(" "))
}

/// Texts cut into pieces on this thread, by address and length; the text itself is kept to
/// check that the address still holds it (memory is reused once a text is dropped). Hashed
/// with foldhash: SipHash's defence against chosen keys is not needed for addresses, and it
/// cost more than the filling itself.
type Cache = HashMap<(usize, usize), (String, Vec<Piece>), foldhash::fast::FixedState>;

/// More entries than the stdlib has texts: a sign of texts that come and go, so start over.
const CACHE_LIMIT: usize = 4096;

/// Calls `f` with the pieces of `text`, cut once per thread.
fn with_pieces<R>(text: &str, f: impl FnOnce(&[Piece]) -> R) -> R {
    thread_local! {
        static CACHE: RefCell<Cache> = RefCell::new(HashMap::with_hasher(foldhash::fast::FixedState::default()));
    }
    CACHE.with_borrow_mut(|cache| {
        let key = (text.as_ptr() as usize, text.len());
        match cache.get(&key) {
            Some((kept, pieces)) if kept == text => f(pieces),
            _ => {
                if cache.len() >= CACHE_LIMIT {
                    cache.clear();
                }
                let pieces = pieces(text);
                let result = f(&pieces);
                cache.insert(key, (text.to_string(), pieces));
                result
            }
        }
    })
}

/// Cuts `text` at its placeholders: `<` then an identifier (a letter, then letters, digits,
/// `_` and `.`) then `>`.
fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while let Some(i) = text[at..].find('<') {
        let open = at + i;
        let after = &text[open + 1..];
        let len = after.bytes().position(|c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'.')).unwrap_or(after.len());
        let ident = &after[..len];
        if !ident.is_empty() && after[len..].starts_with('>') && ident.starts_with(|c: char| c.is_ascii_alphabetic()) {
            if open > start {
                out.push(Piece::Text(start..open));
            }
            out.push(Piece::Name(open + 1..open + 1 + len));
            start = open + len + 2;
            at = start;
        } else {
            at = open + 1;
        }
    }
    if start < text.len() {
        out.push(Piece::Text(start..text.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cut_at_placeholders_only() {
        let t = "a<x> < 1 <y.z><_no> <9no><";
        assert_eq!(pieces(t), vec![Piece::Text(0..1), Piece::Name(2..3), Piece::Text(4..9), Piece::Name(10..13), Piece::Text(14..26)]);
        assert_eq!(pieces(""), vec![]);
        assert_eq!(pieces("<a>"), vec![Piece::Name(1..2)]);
    }

    #[test]
    fn layers_are_looked_up_in_order_and_unknown_names_listed() {
        let service = [("name", "checkout".to_string()), ("owner", "team-a".to_string())];
        let alert = [("name", "ignored".to_string()), ("slo", "latency".to_string())];
        assert_eq!(fill_from("<name>/<slo> by <owner>", &[&service, &alert]).unwrap(), "checkout/latency by team-a");
        let e = fill_from("<nope>", &[&service, &alert]).unwrap_err();
        assert_eq!(e, "unknown placeholder <nope> (known here: <name> <owner> <slo>)");
    }

    #[test]
    fn a_text_at_a_reused_address_is_cut_again() {
        let vars = [("a", "1".to_string()), ("b", "2".to_string())];
        // Same address and length, other content: the kept pieces must not be used.
        let mut buf = String::from("<a>-x");
        assert_eq!(fill(&buf, &vars).unwrap(), "1-x");
        buf.replace_range(.., "x-<b>");
        assert_eq!(fill(&buf, &vars).unwrap(), "x-2");
        assert_eq!(fill(&buf, &vars).unwrap(), "x-2");
    }

    #[test]
    fn placeholders() {
        let vars = [("ns", "namespace=\"a\"".to_string()), ("Service", "Checkout".to_string())];
        assert_eq!(fill("up{<ns>} < 1 and x<2", &vars).unwrap(), "up{namespace=\"a\"} < 1 and x<2");
        assert_eq!(fill("<Service>Down {{ $labels.pod }}", &vars).unwrap(), "CheckoutDown {{ $labels.pod }}");
        let e = fill("<nss>", &vars).unwrap_err();
        assert!(e.contains("<nss>") && e.contains("<ns>"), "{e}");
    }
}

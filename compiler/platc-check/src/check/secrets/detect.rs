//! The detection itself: which rule, if any, a literal value matches. Pure functions over
//! strings, so that the false-positive cases are unit tests.

use regex::{Regex, RegexSet};

use crate::source::{FileId, Span};

/// The rules of a run: the built-in `secrets/*.kdl` files, then the overlays'.
#[derive(Debug, Default, Clone)]
pub(crate) struct Rules {
    pub rules: Vec<Rule>,
    /// Every format rule's pattern in one set, index for index with the format rules at the
    /// front of `rules` (after [`Rules::sort`]): one pass tells which formats a literal can
    /// match at all, where asking each rule's regex costs a search per rule and most literals
    /// (ports, paths, names) match none. `None` before `sort`, or when the set is too large
    /// for the regex crate's limits (then each rule is asked).
    formats: Option<RegexSet>,
}

/// One rule, from a `name`, `value` or `entropy` node of a rules file.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub id: String,
    /// What a match is, for the label: "a GitHub token".
    pub what: String,
    pub kind: Kind,
    /// Values (or, for entropy, tokens) this rule never reports.
    pub ignore: Vec<Regex>,
    /// Where the rule is defined, for the "rule defined here" note of an overlay's rule.
    pub file: FileId,
    pub span: Span,
    /// Defined in the built-in stdlib, not in an overlay.
    pub builtin: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// The name of the variable or key, normalized by [`normalize_name`], matches.
    Name(Regex),
    /// The value contains a match.
    Value(Regex),
    /// A token of at least `min_len` characters with at least `min_bits` bits per character.
    Entropy { min_len: usize, min_bits: f64 },
}

/// A match: the rule and the byte range of the value it is about.
#[derive(Debug)]
pub(crate) struct Finding<'r> {
    pub rule: &'r Rule,
    pub range: std::ops::Range<usize>,
}

impl Rules {
    /// Every rule `value` matches, in [`Rules::sort`] order (the first is the one reported).
    /// `name` is the variable or key the value is given to, when there is one; `value` is the
    /// literal text with `${...}` references blanked out. A waiver names one rule, so a literal
    /// two rules match is let through only when both are waived.
    pub(crate) fn find_all(&self, name: Option<&str>, value: &str) -> Vec<Finding<'_>> {
        let formats = self.formats.as_ref().map(|set| set.matches(value));
        let may_match = |i: usize| formats.as_ref().is_none_or(|m| i >= m.len() || m.matched(i));
        self.rules.iter().enumerate().filter(|(i, _)| may_match(*i)).filter_map(|(_, rule)| rule.find(name, value).map(|range| Finding { rule, range })).collect()
    }

    /// Puts formats first (the most specific label), then names, then entropy; stable, so
    /// rules of one kind keep the order of their files. Builds the set of formats.
    pub(crate) fn sort(&mut self) {
        self.rules.sort_by_key(|r| match r.kind {
            Kind::Value(_) => 0,
            Kind::Name(_) => 1,
            Kind::Entropy { .. } => 2,
        });
        let patterns = self.rules.iter().map_while(|r| match &r.kind {
            Kind::Value(re) => Some(re.as_str()),
            _ => None,
        });
        self.formats = RegexSet::new(patterns).ok();
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

impl Rule {
    fn ignored(&self, s: &str) -> bool {
        self.ignore.iter().any(|re| re.is_match(s))
    }

    fn find(&self, name: Option<&str>, value: &str) -> Option<std::ops::Range<usize>> {
        match &self.kind {
            Kind::Name(re) => {
                let literal = value.trim();
                let name = normalize_name(name?);
                (!literal.is_empty() && re.is_match(&name) && !self.ignored(literal)).then_some(0..value.len())
            }
            Kind::Value(re) => re.find_iter(value).find(|m| !self.ignored(m.as_str())).map(|m| m.range()),
            // A token of `min_len` characters needs as many bytes: most literals are shorter.
            Kind::Entropy { min_len, .. } if value.len() < *min_len => None,
            Kind::Entropy { min_len, min_bits } => {
                tokens(value).find(|(_, t)| t.chars().count() >= *min_len && looks_random(t, *min_len, *min_bits) && !self.ignored(t)).map(|(at, t)| at..at + t.len())
            }
        }
    }
}

/// `dbPassword`, `db-password`, `db.password` -> `DB_PASSWORD`: the form name patterns see.
pub(crate) fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(if matches!(c, '-' | '.' | ' ') { '_' } else { c.to_ascii_uppercase() });
    }
    out
}

/// The maximal runs of key-material characters (base64, base64url, hex) with their offsets.
fn tokens(value: &str) -> impl Iterator<Item = (usize, &str)> {
    let is_material = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-');
    let mut rest = 0;
    std::iter::from_fn(move || {
        let tail = &value[rest..];
        let start = rest + tail.find(is_material)?;
        let len = value[start..].find(|c: char| !is_material(c)).unwrap_or(value.len() - start);
        rest = start + len;
        Some((start, &value[start..start + len]))
    })
}

/// A run of this many characters without `-`, `_` or `/` (or of the rule's `min-length`, when
/// shorter) is what key material has and names and paths have not.
const MIN_RUN: usize = 16;

/// Random-looking: letters and digits mixed, high Shannon entropy, one run of [`MIN_RUN`]
/// characters (at most `min_len`) without a separator, and not the base64 of ordinary text. Names and paths of
/// short segments (`platc-test-new-layout-15605-8-131673823`, `/api/v1/orders/2024`) have a
/// high entropy over the whole string but are words and numbers joined by separators.
fn looks_random(token: &str, min_len: usize, min_bits: f64) -> bool {
    let has_digit = token.bytes().any(|b| b.is_ascii_digit());
    let has_letter = token.bytes().any(|b| b.is_ascii_alphabetic());
    if !has_digit || !has_letter || shannon(token) < min_bits {
        return false;
    }
    if token.split(['-', '_', '/']).all(|seg| seg.len() < MIN_RUN.min(min_len)) {
        return false;
    }
    !is_base64_of_text(token)
}

/// Shannon entropy in bits per character.
pub(crate) fn shannon(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / n).map(|p| -p * p.log2()).sum()
}

/// True when `token` is standard or URL-safe base64 of printable ASCII text (words, spaces,
/// punctuation): `aGVsbG8gd29ybGQ=` is "hello world", not a key.
fn is_base64_of_text(token: &str) -> bool {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    use base64::Engine;
    let unpadded = token.trim_end_matches('=');
    let decoded = [STANDARD, URL_SAFE].iter().find_map(|e| e.decode(token).ok()).or_else(|| {
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        [STANDARD_NO_PAD, URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(unpadded).ok())
    });
    match decoded {
        Some(bytes) if bytes.len() >= 8 => {
            let text = bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
            let letters = bytes.iter().filter(|b| b.is_ascii_alphabetic() || **b == b' ').count();
            text && letters * 10 >= bytes.len() * 8
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized() {
        assert_eq!(normalize_name("dbPassword"), "DB_PASSWORD");
        assert_eq!(normalize_name("db-password"), "DB_PASSWORD");
        assert_eq!(normalize_name("API_KEY"), "API_KEY");
        assert_eq!(normalize_name("apiKey2"), "API_KEY2");
    }

    #[test]
    fn entropy_of_random_and_plain_text() {
        assert!(shannon("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") > 4.5);
        assert!(shannon("aaaaaaaaaaaaaaaaaaaa") < 0.1);
        assert!((shannon("ab") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn random_tokens_and_their_look_alikes() {
        assert!(looks_random("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 20, 4.0));
        assert!(looks_random("3k9Xq2LmZp7Rt4Vw8Yb1Nc6Hd0Jf5Gs", 20, 4.0));
        // base64 of ordinary words
        assert!(is_base64_of_text("dGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcw=="));
        assert!(!looks_random("dGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcw==", 20, 4.0));
        // identifiers, paths and words
        assert!(!looks_random("checkout-service-production", 20, 4.0));
        assert!(!looks_random("/api/v1/orders/2024/items/summary", 20, 4.0));
        assert!(!looks_random("http_requests_total", 20, 4.0));
        // DNS labels of words and numbers (a platform named after its temporary directory)
        assert!(!looks_random("platc-test-new-layout-15605-8-131673823", 20, 4.0));
        assert!(!looks_random("checkout-7f9c2b-x4k2p9-m3n8q1-v5w7z0", 20, 4.0));
    }

    #[test]
    fn tokens_split_on_non_material_characters() {
        let t: Vec<_> = tokens("a.b:cc dd").collect();
        assert_eq!(t, vec![(0, "a"), (2, "b"), (4, "cc"), (7, "dd")]);
        assert_eq!(tokens("").count(), 0);
    }
}

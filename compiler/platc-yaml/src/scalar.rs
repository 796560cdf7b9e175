//! The scalars platc's YAML writer writes itself, by serde-saphyr's rules (see the module docs
//! of [`super`]), and the tests that tell them apart without weighing.

use super::pad;

/// A scalar (or empty collection) in the style serde-saphyr gives it, when telling that takes
/// no weighing.
pub(super) enum Scalar<'a> {
    /// Written as it is: `null`, booleans, `{}`, `[]`, words.
    Plain(&'a str),
    /// An integer, in decimal.
    Integer(i128),
    /// A printable-ASCII line that serde-saphyr double-quotes (see [`Facts::must_quote`]).
    Quoted(&'a str),
    /// Text with line breaks, as a literal block (`|`).
    Literal(&'a str),
}

/// The style of a string value (after `key: ` or `- `) when it is one of [`Scalar`]'s cases;
/// `None` when serde-saphyr must weigh it.
pub(super) fn string(s: &str) -> Option<Scalar<'_>> {
    let f = Facts::of(s);
    if f.is_plain_value(s) || (f.printable && is_quantity(s.as_bytes())) {
        Some(Scalar::Plain(s))
    } else if f.newline {
        f.is_block_safe(s).then_some(Scalar::Literal(s))
    } else if f.must_quote(s) {
        Some(Scalar::Quoted(s))
    } else {
        None
    }
}

/// Whether `b` holds `byte`: a fold the compiler vectorizes (generated strings are short, and
/// a call to `memchr` costs more than scanning them).
fn any_byte(b: &[u8], byte: u8) -> bool {
    b.iter().fold(false, |acc, &c| acc | (c == byte))
}

/// `5m`, `250m`, `512Mi`: digits, then letters (durations, resource quantities), which
/// serde-saphyr writes plain; but `0x` and hex digits (`0xa`) is a YAML 1.1 number.
fn is_quantity(b: &[u8]) -> bool {
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let letters = &b[digits..];
    digits > 0 && !letters.is_empty() && letters.iter().all(u8::is_ascii_alphabetic) && !matches!(letters[0], b'x' | b'X')
}

/// What the rules of [`string`] ask of a string, found in one pass over its bytes: every
/// string of every generated file goes through here (`contains(": ")` and the like, one pass
/// each, were a sixth of `platc render`'s instructions).
#[cfg_attr(test, derive(Debug, PartialEq))]
struct Facts {
    /// Every byte printable ASCII (0x20..=0x7E).
    printable: bool,
    /// Every byte printable ASCII, `\n` or `\t`.
    ascii_text: bool,
    newline: bool,
    /// `: ` somewhere.
    colon_space: bool,
    /// ` #` somewhere.
    space_hash: bool,
    /// A digit first, then only digits and dots (`1`, `0.1.0`: a YAML 1.1 number).
    numeric: bool,
}

/// Byte classes for [`Facts::of_short`] and [`is_word`], one bit each.
mod class {
    /// 0x20..=0x7E.
    pub(crate) const PRINTABLE: u8 = 1;
    /// Printable, `\n` or `\t`.
    pub(crate) const TEXT: u8 = 2;
    pub(crate) const NEWLINE: u8 = 4;
    pub(crate) const COLON: u8 = 8;
    pub(crate) const HASH: u8 = 16;
    /// A digit or `.`.
    pub(crate) const NUMERIC: u8 = 32;
    /// A byte of [`is_word`](super::is_word): a letter, a digit or one of `-_./`.
    pub(crate) const WORD: u8 = 64;
}

/// The [`class`] bits of every byte.
static CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let printable = c >= 0x20 && c <= 0x7E;
        let mut bits = 0;
        if printable {
            bits |= class::PRINTABLE;
        }
        if printable || c == b'\n' || c == b'\t' {
            bits |= class::TEXT;
        }
        if c == b'\n' {
            bits |= class::NEWLINE;
        }
        if c == b':' {
            bits |= class::COLON;
        }
        if c == b'#' {
            bits |= class::HASH;
        }
        if c.is_ascii_digit() || c == b'.' {
            bits |= class::NUMERIC;
        }
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/') {
            bits |= class::WORD;
        }
        t[i] = bits;
        i += 1;
    }
    t
};

/// Strings up to this length are classified in one pass over a table ([`Facts::of_short`]);
/// longer ones by folds the compiler vectorizes, which only pay off past a vector's width.
const SHORT: usize = 32;

impl Facts {
    fn of(s: &str) -> Facts {
        let b = s.as_bytes();
        if b.len() <= SHORT {
            Facts::of_short(b)
        } else {
            Facts::by_folds(b)
        }
    }

    fn by_folds(b: &[u8]) -> Facts {
        // Branch-free accumulations over the bytes (and over each byte with the one before it),
        // which the compiler vectorizes: a generated file's strings are tens of megabytes.
        let all = |f: fn(u8) -> bool| b.iter().fold(true, |acc, &c| acc & f(c));
        // Looked for pairwise only when one byte of the pair is there at all: most strings have
        // no `:` nor `#`, and the pairwise scan does not vectorize.
        let pair = |x: u8, y: u8, rare: u8| any_byte(b, rare) && b.iter().zip(&b[1.min(b.len())..]).any(|(&p, &c)| p == x && c == y);
        if !all(|c| c.wrapping_sub(0x20) < 0x5F) {
            // Not a printable line: never plain nor quoted here, only maybe a literal block
            // (most bytes of a render are PromQL expressions of several lines).
            return Facts {
                printable: false,
                ascii_text: all(|c| c.wrapping_sub(0x20) < 0x5F || c == b'\n' || c == b'\t'),
                newline: any_byte(b, b'\n'),
                colon_space: false,
                space_hash: false,
                numeric: false,
            };
        }
        Facts {
            printable: true,
            ascii_text: true,
            newline: false,
            colon_space: pair(b':', b' ', b':'),
            space_hash: pair(b' ', b'#', b'#'),
            numeric: b.first().is_some_and(u8::is_ascii_digit) && all(|c| c.is_ascii_digit() | (c == b'.')),
        }
    }

    /// [`Facts::of`] for a short string (most keys' values: names, labels, ports): the classes
    /// every byte has and those some byte has, in one pass, where the folds of [`Facts::of`]
    /// would each run byte by byte below a vector's width.
    fn of_short(b: &[u8]) -> Facts {
        let (mut every, mut some) = (u8::MAX, 0u8);
        for &c in b {
            let bits = CLASSES[c as usize];
            every &= bits;
            some |= bits;
        }
        let pair = |x: u8, y: u8| b.windows(2).any(|w| w[0] == x && w[1] == y);
        let printable = every & class::PRINTABLE != 0;
        Facts {
            printable,
            ascii_text: every & class::TEXT != 0,
            newline: some & class::NEWLINE != 0,
            colon_space: printable && some & class::COLON != 0 && pair(b':', b' '),
            space_hash: printable && some & class::HASH != 0 && pair(b' ', b'#'),
            numeric: printable && b.first().is_some_and(u8::is_ascii_digit) && every & class::NUMERIC != 0,
        }
    }

    /// A string serde-saphyr writes plain in value position, told without weighing it:
    /// printable ASCII, not ending in a space or `:`, without `: ` (it would read as a key) or
    /// ` #` (a comment), that YAML 1.1 cannot read as anything but a string. That is told by
    /// its first character: a letter (unless the word is a boolean or null: `on`, `No`), `/`
    /// (paths: `/healthz`) or `$` (`$(ORDERS_HOST):$(ORDERS_PORT)`), which start no number,
    /// date, boolean or null; or a digit when a `/` shows it is no number nor date (CIDR
    /// blocks: `10.0.0.0/8`). Words with `:` (`ghcr.io/acme/api:1.2`) and sentences (alert
    /// descriptions) are plain here; as keys they would need weighing.
    fn is_plain_value(&self, s: &str) -> bool {
        let b = s.as_bytes();
        let Some((&first, &last)) = b.first().zip(b.last()) else { return false };
        if last == b' ' || last == b':' || !self.printable || self.colon_space || self.space_hash {
            return false;
        }
        match first {
            // (A reserved word has no space.)
            b'a'..=b'z' | b'A'..=b'Z' => !is_reserved(s),
            b'/' | b'$' => true,
            // YAML 1.1 numbers and dates are made of digits, signs, `._:`, letters and spaces.
            b'0'..=b'9' => any_byte(b, b'/'),
            _ => false,
        }
    }

    /// Whether serde-saphyr may write `s` as a literal block: no character that needs an
    /// escape (`\r`, BOM, NEL, the Unicode line separators, other control characters than
    /// tab).
    fn is_block_safe(&self, s: &str) -> bool {
        // Most text is ASCII: characters are looked at only when there is more.
        self.ascii_text
            || s.chars().all(|c| match c {
                '\n' | '\t' => true,
                c => matches!(c as u32, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10_FFFF) && c != '\u{FEFF}',
            })
    }

    /// Whether serde-saphyr double-quotes the value `s` for a reason that needs no weighing:
    /// a printable-ASCII line (so only `"` and `\` need escapes) that YAML 1.1 reads as a
    /// number (`1`, `0.1.0`: digits and dots), or of two or more characters that cannot be
    /// plain because of its first character (an indicator), a space at either end, `: ` or a
    /// final `:` (would read as a key) or ` #` (a comment).
    fn must_quote(&self, s: &str) -> bool {
        let b = s.as_bytes();
        if !self.printable {
            return false;
        }
        if b.len() < 2 {
            // One character: only a digit is told apart here (`-`, `~`, `?` are not).
            return b.first().is_some_and(u8::is_ascii_digit);
        }
        let indicator = matches!(b[0], b',' | b':' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`');
        indicator || self.numeric || b[0] == b' ' || b[b.len() - 1] == b' ' || self.colon_space || b[b.len() - 1] == b':' || self.space_hash
    }
}

/// Writes a scalar after `key: ` or `- `, through its end of line; a literal block's lines at
/// `body_indent`.
pub(super) fn push_scalar(out: &mut String, s: &Scalar, body_indent: usize) {
    match s {
        Scalar::Plain(w) => out.push_str(w),
        Scalar::Integer(n) => {
            use std::fmt::Write;
            let _ = write!(out, "{n}");
        }
        Scalar::Quoted(text) => {
            out.push('"');
            let mut done = 0;
            for i in memchr::memchr2_iter(b'"', b'\\', text.as_bytes()) {
                out.push_str(&text[done..i]);
                out.push('\\');
                done = i;
            }
            out.push_str(&text[done..]);
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
    // The first non-empty line starts where the leading line breaks end.
    if content.trim_start_matches('\n').starts_with(' ') {
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
    let mut line_start = 0;
    // Line ends found by SIMD search: most bytes of a render are these lines.
    for end in memchr::memchr_iter(b'\n', content.as_bytes()).chain([content.len()]) {
        if end > line_start {
            pad(out, body_indent);
            out.push_str(&content[line_start..end]);
        }
        out.push('\n');
        line_start = end + 1;
    }
    out.extend(std::iter::repeat_n('\n', trailing.saturating_sub(1)));
}

/// A string every YAML reader takes as that string, plain, as key or value: a letter, then
/// letters, digits and `-_./`, and not a word YAML 1.1 reads as a boolean, null or number
/// (`on`, `no`, `y`, `null`, `nan`, ...). Anything else is serde-saphyr's to judge.
pub(super) fn is_word(s: &str) -> bool {
    let b = s.as_bytes();
    // A table and no branch per byte: every key of every generated file comes here (half
    // the instructions of testing each byte against the ranges).
    b.first().is_some_and(u8::is_ascii_alphabetic) && b.iter().fold(class::WORD, |acc, &c| acc & CLASSES[c as usize]) != 0 && !is_reserved(s)
}

/// The words YAML 1.1 reads as a boolean, null or number, in any case.
fn is_reserved(s: &str) -> bool {
    // Each of those words starts with one of `ynotfi`, in either case: most short keys do not
    // (`key`, `path`, `port`, `slo`).
    let Some(&first) = s.as_bytes().first() else { return false };
    if s.len() > 5 || !matches!(first | 0x20, b'y' | b'n' | b'o' | b't' | b'f' | b'i') {
        return false;
    }
    let mut lower = [0u8; 5];
    for (l, c) in lower.iter_mut().zip(s.bytes()) {
        *l = c.to_ascii_lowercase();
    }
    matches!(&lower[..s.len()], b"y" | b"n" | b"yes" | b"no" | b"on" | b"off" | b"true" | b"false" | b"null" | b"nan" | b"inf")
}

#[cfg(test)]
mod tests {
    use super::Facts;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Both ways of finding a string's facts find the same ones, at any length.
        #[test]
        fn short_strings_get_the_facts_of_the_folds(s in prop_oneof!["[a-z0-9 :#.\n\t-]{0,40}", ".{0,40}", "[0-9.]{0,6}", "[:# ]{0,4}"]) {
            prop_assert_eq!(Facts::of_short(s.as_bytes()), Facts::by_folds(s.as_bytes()));
        }
    }
}

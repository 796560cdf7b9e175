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
    /// A printable-ASCII line that serde-saphyr double-quotes (see [`must_quote`]).
    Quoted(&'a str),
    /// Text with line breaks, as a literal block (`|`).
    Literal(&'a str),
}

/// The style of a string value (after `key: ` or `- `) when it is one of [`Scalar`]'s cases;
/// `None` when serde-saphyr must weigh it.
pub(super) fn string(s: &str) -> Option<Scalar<'_>> {
    if is_plain_value(s) {
        Some(Scalar::Plain(s))
    } else if s.contains('\n') {
        is_block_safe(s).then_some(Scalar::Literal(s))
    } else if must_quote(s) {
        Some(Scalar::Quoted(s))
    } else {
        None
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
pub(super) fn is_word(s: &str) -> bool {
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

//! Splits kdl's *decor* strings into items.
//!
//! kdl keeps, next to every parsed part of a node, the exact source text around it ("decor":
//! whitespace, comments, line continuations and slashdashed text). kdl has already parsed and
//! validated that text; this module only cuts it into comments, newlines and slashdashes. The
//! extent of slashdashed text is never guessed here: everything after `/-` is handed back to
//! kdl, which parses it again (see `print`).

/// One meaningful piece of a decor string. Whitespace, line continuations (`\`) and a byte
/// order mark carry no meaning for the formatter and produce no item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Item<'a> {
    /// A newline (any of KDL's eight newline sequences).
    Newline,
    /// `// ...`, without its newline and without trailing whitespace.
    LineComment(&'a str),
    /// `/* ... */` (nested comments included), verbatim.
    BlockComment(&'a str),
    /// `/-`, after which the rest of the decor string starts with the slashdashed node, entry or
    /// children block. The whitespace and comments between `/-` and that text come as items
    /// before this one; nothing follows it in the item list.
    Slashdash(&'a str),
}

/// KDL v2 `unicode-space` characters.
pub(super) fn is_space(c: char) -> bool {
    matches!(c, '\u{0009}' | '\u{0020}' | '\u{00A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}')
}

/// KDL v2 newline characters (`\r\n` is one newline made of two of them).
pub(super) fn is_newline_char(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{0085}' | '\u{000B}' | '\u{000C}' | '\u{2028}' | '\u{2029}')
}

/// Length in bytes of the newline at the start of `s`, if any.
pub(super) fn newline_len(s: &str) -> Option<usize> {
    if s.starts_with("\r\n") {
        return Some(2);
    }
    let c = s.chars().next()?;
    is_newline_char(c).then(|| c.len_utf8())
}

/// Byte length of the `/* ... */` comment at the start of `s` (nested comments included).
fn block_comment_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth = depth.checked_sub(1)?;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Byte length of the `// ...` comment at the start of `s`, excluding its newline.
fn line_comment_len(s: &str) -> usize {
    s.char_indices().find(|&(_, c)| is_newline_char(c)).map(|(i, _)| i).unwrap_or(s.len())
}

/// Splits a decor string into items. Fails on text that cannot be decor (which would mean kdl
/// stored something this module does not understand; the caller then leaves the file alone).
pub(super) fn lex(decor: &str) -> Result<Vec<Item<'_>>, String> {
    let mut items = Vec::new();
    let mut rest = decor;
    let mut after_slashdash = false;
    while let Some(c) = rest.chars().next() {
        if let Some(n) = newline_len(rest) {
            items.push(Item::Newline);
            rest = &rest[n..];
        } else if is_space(c) || c == '\\' || c == '\u{FEFF}' {
            rest = &rest[c.len_utf8()..];
        } else if rest.starts_with("//") {
            let n = line_comment_len(rest);
            items.push(Item::LineComment(rest[..n].trim_end()));
            rest = &rest[n..];
        } else if rest.starts_with("/*") {
            let n = block_comment_len(rest).ok_or_else(|| format!("unclosed block comment in {decor:?}"))?;
            items.push(Item::BlockComment(&rest[..n]));
            rest = &rest[n..];
        } else if rest.starts_with("/-") && !after_slashdash {
            after_slashdash = true;
            rest = &rest[2..];
        } else if after_slashdash {
            items.push(Item::Slashdash(rest));
            return Ok(items);
        } else {
            return Err(format!("unexpected {c:?} in {decor:?}"));
        }
    }
    if after_slashdash {
        return Err(format!("slashdash without a target in {decor:?}"));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Item::*;

    #[test]
    fn comments_newlines_and_slashdash() {
        let items = lex(" // a  \n\t/* b /* nested */ */ \\ // c\r\n/- /* d */\n  node 1 {\n}\n").unwrap();
        assert_eq!(items, vec![LineComment("// a"), Newline, BlockComment("/* b /* nested */ */"), LineComment("// c"), Newline, BlockComment("/* d */"), Newline, Slashdash("node 1 {\n}\n"),]);
    }

    #[test]
    fn rejects_non_decor() {
        assert!(lex("node").is_err());
        assert!(lex("/* open").is_err());
        assert!(lex(" /- ").is_err());
    }
}

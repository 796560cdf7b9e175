//! The syntax fast path: a strict, hand-written parser for the subset of KDL v2 that specs are
//! written in, producing platc's [`Document`] directly.
//!
//! The `kdl` crate stays the reference: it is the source of every syntax diagnostic and of
//! `platc fmt`, and its output (lowered by `lower_node` in `mod.rs`) is what this parser must
//! reproduce exactly: names, values, every span, node order. This module is only an accelerator
//! (kdl reads about 1.5 MB/s; this reads specs one to two orders of magnitude faster), so its
//! contract is one-sided: [`parse`] returns `Some` only for input that is certainly valid KDL v2
//! and lowers to exactly the same `Document`, and `None` for anything else, be it a syntax error
//! or a construct it chooses not to read. `None` sends the file down the kdl path unchanged.
//!
//! Read here: bare identifiers (KDL v2 rules for signs and dots, keywords rejected), quoted
//! strings with every single-character escape, `\u{...}` and whitespace escapes, single-line
//! raw strings `#"..."#` (how patches embed JSON), `#true`
//! `#false` `#null` `#inf` `#-inf` `#nan`, integers (decimal, `0x`, `0o`, `0b`, `_`, sign; i128
//! like kdl), decimals and exponents (parsed to f64 with the same `str::parse` kdl uses), node
//! type annotations `(type)name`, properties (quoted keys, spaces around `=`, duplicates kept in
//! order), children blocks, `;`, `//` comments, LF, CRLF and CR line ends.
//!
//! Falls back (returns `None`) on: multi-line strings `"""` and `#"""`, the empty raw string
//! `#""#`, `/-`
//! slashdash, `/* */` comments, `\` line continuations, type annotations on values or with
//! spaces inside the parentheses, whitespace and line ends other than space, tab, LF and CR
//! (Unicode spaces, U+0085, U+2028, U+2029, VT, FF) outside strings and comments, a BOM, U+007F
//! outside comments, the bare words `inf`, `-inf`, `+inf`, `nan` (and the keywords), integers
//! that overflow i128, children nested deeper than [`MAX_DEPTH`], and every syntax error.
//!
//! The differential tests in `tests/kdl_fast_path.rs` hold it to this contract on the examples,
//! the stdlib, generated specs and random token soup.

use super::ast::{Children, Document, Node, Prop, Value};
use crate::source::{FileId, Span, Spanned};

/// Deepest nesting of children blocks read here; deeper documents go to kdl.
const MAX_DEPTH: usize = 64;

/// Parses `text` if it is plain enough KDL v2 to be sure of the result; see the module docs.
/// `Some(doc)` is exactly what the kdl path would produce; `None` means "ask kdl".
pub(crate) fn parse(file: FileId, text: &str) -> Option<Document> {
    let mut p = Parser { text, b: text.as_bytes(), pos: 0, depth: 0 };
    let (nodes, _) = p.nodes()?;
    // `nodes` stops at the end or at a `}`; a `}` at the top level is an error.
    (p.pos == p.b.len()).then_some(Document { file, nodes })
}

/// A cursor over the bytes of a UTF-8 text. Outside comments `pos` moves by ASCII bytes or by
/// whole decoded characters, so slicing `text` at token boundaries never splits a character.
struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
}

/// ASCII bytes that may appear in a bare identifier: printable ASCII except space and
/// `\ / ( ) { } [ ] ; " # =`. (kdl also allows U+007F; the fast path leaves that to kdl.)
const fn ident_ascii_table() -> [bool; 128] {
    let mut t = [false; 128];
    let mut c = 0x21;
    while c < 0x7F {
        t[c] = !matches!(c as u8, b'\\' | b'/' | b'(' | b')' | b'{' | b'}' | b'[' | b']' | b';' | b'"' | b'#' | b'=');
        c += 1;
    }
    t
}
static IDENT_ASCII: [bool; 128] = ident_ascii_table();

/// KDL's disallowed literal code points beyond ASCII controls (direction controls, BOM).
fn is_disallowed(c: char) -> bool {
    matches!(c, '\u{200E}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.b.get(self.pos + n).copied()
    }

    /// The character at `pos` (non-ASCII case; `pos` is on a boundary).
    fn char_here(&self) -> Option<char> {
        self.text.get(self.pos..)?.chars().next()
    }

    /// Skips spaces and tabs (KDL's `node-space`, minus what we leave to kdl); true if any.
    fn spaces(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Skips KDL `line-space`: spaces, tabs, line ends and `//` comments.
    fn line_space(&mut self) -> Option<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') if self.peek_at(1) == Some(b'/') => self.comment()?,
                _ => return Some(()),
            }
        }
    }

    /// A `//` comment up to (not including) its line end. kdl ends a comment at any KDL newline;
    /// the ones the fast path does not treat as line ends (VT, FF, U+0085, U+2028, U+2029) fall
    /// back. Anything else, even characters disallowed elsewhere, is comment text.
    fn comment(&mut self) -> Option<()> {
        self.pos += 2;
        while let Some(c) = self.peek() {
            match c {
                b'\n' | b'\r' => break,
                0x0B | 0x0C => return None,
                0xC2 if self.peek_at(1) == Some(0x85) => return None,
                0xE2 if self.peek_at(1) == Some(0x80) && matches!(self.peek_at(2), Some(0xA8 | 0xA9)) => return None,
                _ => self.pos += 1,
            }
        }
        Some(())
    }

    /// After a value or identifier, kdl requires a value terminator. The ones accepted here:
    /// end of input, space, tab, a line end, `;`, `=`, `{`, `}`, `)` and `//`. (What follows is
    /// checked again by the caller: `=` or `)` in the wrong place falls back.)
    fn term(&self) -> Option<()> {
        match self.peek() {
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b';' | b'=' | b'{' | b'}' | b')') => Some(()),
            Some(b'/') if self.peek_at(1) == Some(b'/') => Some(()),
            _ => None,
        }
    }

    /// `nodes`: line space, then nodes separated by terminators (`;`, a line end, a comment),
    /// then line space; stops at the end of input or before a `}`. Also returns kdl's span of the
    /// block: from the first node's start to the end of the last node including its trailing
    /// spaces (empty, at the stopping point, when there are no nodes).
    fn nodes(&mut self) -> Option<(Vec<Node>, Span)> {
        self.line_space()?;
        let start = self.pos;
        let mut end = start;
        let mut nodes = Vec::new();
        while !matches!(self.peek(), None | Some(b'}')) {
            nodes.push(self.node()?);
            end = self.pos;
            match self.peek() {
                None | Some(b'}') => break,
                Some(b';') => self.pos += 1,
                // Line ends and comments are consumed by `line_space` below.
                Some(b'\n' | b'\r') => {}
                Some(b'/') if self.peek_at(1) == Some(b'/') => {}
                _ => return None,
            }
            self.line_space()?;
        }
        Some((nodes, Span::new(start, end)))
    }

    /// One node: `(type)? name (spaces entry)* spaces ({ children })? spaces`. Leaves `pos`
    /// after the trailing spaces, at the terminator.
    fn node(&mut self) -> Option<Node> {
        let ty = if self.peek() == Some(b'(') {
            self.pos += 1;
            let ty = self.string()?;
            // Only `(type)`: spaces inside the parentheses fall back.
            if self.peek() != Some(b')') {
                return None;
            }
            self.pos += 1;
            self.spaces();
            Some(ty)
        } else {
            None
        };
        let name = self.string()?;
        // As `lower_node` does: a typed node starts one byte before its type name.
        let start = ty.as_ref().map_or(name.span.start, |t| t.span.start - 1);
        let (mut args, mut props) = (Vec::new(), Vec::new());
        let mut head_end = name.span.end;
        let mut children = None;
        let mut end = head_end;
        loop {
            let spaced = self.spaces();
            match self.peek() {
                None | Some(b';' | b'\n' | b'\r' | b'}') => break,
                Some(b'/') if self.peek_at(1) == Some(b'/') => break,
                Some(b'{') => {
                    children = Some(self.children()?);
                    end = self.pos;
                    self.spaces();
                    break;
                }
                // Entries need a space before them; anything else here is not ours.
                Some(_) if spaced => {
                    head_end = self.entry(&mut args, &mut props)?;
                    end = head_end;
                }
                Some(_) => return None,
            }
        }
        Some(Node { name, ty, args, props, children, head: Span::new(start, head_end), span: Span::new(start, end) })
    }

    /// A `{ nodes }` block; its span is kdl's document span (see [`Self::nodes`]), braces
    /// excluded.
    fn children(&mut self) -> Option<Children> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let (nodes, span) = self.nodes()?;
        if self.peek() != Some(b'}') {
            return None;
        }
        self.pos += 1;
        self.depth -= 1;
        Some(Children { nodes, span })
    }

    /// An argument or a `key=value` property; returns where it ends. A string (bare or quoted)
    /// followed by optional spaces and `=` is a key, as in kdl; spaces are allowed around `=`.
    fn entry(&mut self, args: &mut Vec<Spanned<Value>>, props: &mut Vec<Prop>) -> Option<usize> {
        let value = self.value()?;
        let Value::String(key) = &value.value else {
            args.push(value);
            return Some(self.pos);
        };
        let after = self.pos;
        self.spaces();
        if self.peek() != Some(b'=') {
            self.pos = after;
            args.push(value);
            return Some(after);
        }
        self.pos += 1;
        self.spaces();
        let v = self.value()?;
        let end = v.span.end;
        let name = Spanned::new(key.clone(), value.span);
        props.push(Prop { name, value: v, span: Span::new(value.span.start, end) });
        Some(end)
    }

    /// A value: quoted string, keyword, number or bare identifier, followed by a terminator.
    /// Type annotations on values fall back.
    fn value(&mut self) -> Option<Spanned<Value>> {
        let start = self.pos;
        let value = match self.peek()? {
            // Type annotations on values: not read here.
            b'(' => return None,
            b'"' => {
                let s = self.quoted()?;
                return Some(Spanned::new(Value::String(s.value), s.span));
            }
            b'#' if matches!(self.peek_at(1), Some(b'#' | b'"')) => {
                let s = self.raw()?;
                return Some(Spanned::new(Value::String(s.value), s.span));
            }
            b'#' => self.keyword()?,
            b'0'..=b'9' => self.number()?,
            b'+' | b'-' if matches!(self.peek_at(1), Some(b'0'..=b'9')) => self.number()?,
            _ => {
                let s = self.ident()?;
                return Some(Spanned::new(Value::String(s.value), s.span));
            }
        };
        self.term()?;
        Some(Spanned::new(value, Span::new(start, self.pos)))
    }

    /// A string where kdl expects one (node name, type name, property key): a quoted string or a
    /// bare identifier. `#` (raw strings) and everything else fall back.
    fn string(&mut self) -> Option<Spanned<String>> {
        match self.peek()? {
            b'"' => self.quoted(),
            b'#' => self.raw(),
            _ => self.ident(),
        }
    }

    /// `#true`, `#false`, `#null`, `#inf`, `#-inf`, `#nan`. (kdl matches the word as a prefix;
    /// the caller's terminator check rejects `#truex`, which kdl rejects later.)
    fn keyword(&mut self) -> Option<Value> {
        const WORDS: [(&[u8], Value); 6] = [
            (b"#true", Value::Bool(true)),
            (b"#false", Value::Bool(false)),
            (b"#null", Value::Null),
            (b"#inf", Value::Float(f64::INFINITY)),
            (b"#-inf", Value::Float(f64::NEG_INFINITY)),
            (b"#nan", Value::Float(f64::NAN)),
        ];
        let rest = &self.b[self.pos..];
        let (word, value) = WORDS.iter().find(|(w, _)| rest.starts_with(w))?;
        self.pos += word.len();
        Some(value.clone())
    }

    /// A number starting at a digit or a sign followed by a digit. Integers are i128 (overflow
    /// falls back, kdl rejects it); a `.` or an exponent makes an f64, parsed from the text
    /// without `_` exactly as kdl does. kdl reads each digit group as an i128 too, so a group that
    /// overflows falls back.
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let negative = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                true
            }
            Some(b'+') => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        let radix = match (self.peek(), self.peek_at(1)) {
            (Some(b'0'), Some(b'x' | b'X')) => 16,
            (Some(b'0'), Some(b'o' | b'O')) => 8,
            (Some(b'0'), Some(b'b' | b'B')) => 2,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
        }
        let magnitude = self.digits(radix)?;
        let mut float = false;
        if radix == 10 && self.peek() == Some(b'.') {
            self.pos += 1;
            self.digits(10)?;
            float = true;
        }
        if radix == 10 && matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits(10)?;
            float = true;
        }
        if !float {
            return Some(Value::Int(if negative { -magnitude } else { magnitude }));
        }
        let repr = &self.text[start..self.pos];
        let f = if repr.contains('_') { repr.replace('_', "").parse() } else { repr.parse() };
        f.ok().map(Value::Float)
    }

    /// `digit (digit | '_')*` in `radix`, as an i128 (None without a leading digit or on
    /// overflow).
    fn digits(&mut self, radix: u32) -> Option<i128> {
        let mut v = i128::from(char::from(self.peek()?).to_digit(radix)?);
        self.pos += 1;
        while let Some(c) = self.peek() {
            if c != b'_' {
                let Some(d) = char::from(c).to_digit(radix) else { break };
                v = v.checked_mul(i128::from(radix))?.checked_add(i128::from(d))?;
            }
            self.pos += 1;
        }
        Some(v)
    }

    /// A bare identifier: the longest run of identifier characters, which must not look like a
    /// number (`1`, `+1`, `.1`, `-.1` are numbers or errors in kdl) nor be a keyword word.
    fn ident(&mut self) -> Option<Spanned<String>> {
        let start = self.pos;
        let mut i = start + usize::from(matches!(self.peek(), Some(b'+' | b'-')));
        if self.b.get(i) == Some(&b'.') {
            i += 1;
        }
        if matches!(self.b.get(i), Some(b'0'..=b'9')) {
            return None;
        }
        while let Some(c) = self.peek() {
            if c < 0x80 {
                if !IDENT_ASCII[usize::from(c)] {
                    break;
                }
                self.pos += 1;
            } else {
                // Unicode spaces and line ends end an identifier in kdl; leave those to it.
                let ch = self.char_here()?;
                if ch.is_whitespace() || is_disallowed(ch) {
                    return None;
                }
                self.pos += ch.len_utf8();
            }
        }
        let s = &self.text[start..self.pos];
        if s.is_empty() || matches!(s, "true" | "false" | "null" | "inf" | "-inf" | "+inf" | "nan") {
            return None;
        }
        self.term()?;
        Some(Spanned::new(s.to_string(), Span::new(start, self.pos)))
    }

    /// A single-line quoted string with escapes. `"""` (multi-line), raw line ends, control
    /// characters (tab excepted), U+007F and KDL's disallowed code points fall back.
    fn quoted(&mut self) -> Option<Spanned<String>> {
        let start = self.pos;
        if self.peek_at(1) == Some(b'"') && self.peek_at(2) == Some(b'"') {
            return None;
        }
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.peek()? {
                b'"' => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    out.push_str(&self.text[run..self.pos]);
                    self.escape(&mut out)?;
                    run = self.pos;
                }
                _ => self.string_char()?,
            }
        }
        self.term()?;
        Some(Spanned::new(out, Span::new(start, self.pos)))
    }

    /// Steps over one literal character of a single-line string: tab, printable ASCII, or a
    /// non-ASCII character other than a line end or a disallowed code point; `None` otherwise.
    fn string_char(&mut self) -> Option<()> {
        match self.peek()? {
            b'\t' | 0x20..=0x7E => self.pos += 1,
            0x80.. => {
                let ch = self.char_here()?;
                if matches!(ch, '\u{85}' | '\u{2028}' | '\u{2029}') || is_disallowed(ch) {
                    return None;
                }
                self.pos += ch.len_utf8();
            }
            _ => return None,
        }
        Some(())
    }

    /// A single-line raw string `#"..."#` (any number of `#`): the text up to the first `"`
    /// followed by as many `#`. Multi-line raw strings (`#"""`) and the empty `#""#` fall back,
    /// as do line ends, control characters (tab excepted), U+007F and disallowed code points.
    fn raw(&mut self) -> Option<Spanned<String>> {
        let start = self.pos;
        while self.peek() == Some(b'#') {
            self.pos += 1;
        }
        let hashes = self.pos - start;
        if self.peek() != Some(b'"') || self.peek_at(1) == Some(b'"') {
            return None;
        }
        self.pos += 1;
        let body = self.pos;
        loop {
            match self.peek()? {
                b'"' if self.b.get(self.pos + 1..self.pos + 1 + hashes).is_some_and(|h| h.iter().all(|&c| c == b'#')) => break,
                _ => self.string_char()?,
            }
        }
        let value = self.text[body..self.pos].to_string();
        self.pos += 1 + hashes;
        self.term()?;
        Some(Spanned::new(value, Span::new(start, self.pos)))
    }

    /// One escape at `\`: `\\ \" \b \f \n \r \t \s`, `\u{1 to 6 hex digits}` (a Unicode scalar
    /// value), or a whitespace escape (`\` then spaces, tabs and line ends, all skipped).
    fn escape(&mut self, out: &mut String) -> Option<()> {
        self.pos += 1;
        let ch = match self.peek()? {
            b'\\' => '\\',
            b'"' => '"',
            b'b' => '\u{8}',
            b'f' => '\u{C}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b's' => ' ',
            b'u' => {
                if self.peek_at(1) != Some(b'{') {
                    return None;
                }
                self.pos += 2;
                let hex_start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) && self.pos - hex_start < 6 {
                    self.pos += 1;
                }
                if self.pos == hex_start || self.peek() != Some(b'}') {
                    return None;
                }
                let code = u32::from_str_radix(&self.text[hex_start..self.pos], 16).ok()?;
                char::from_u32(code)?
            }
            b' ' | b'\t' | b'\n' | b'\r' => {
                while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                    self.pos += 1;
                }
                // kdl would go on skipping other Unicode spaces and line ends: leave it to kdl.
                return match self.peek() {
                    Some(0x0B | 0x0C) => None,
                    Some(0x80..) if self.char_here()?.is_whitespace() => None,
                    _ => Some(()),
                };
            }
            _ => return None,
        };
        out.push(ch);
        self.pos += 1;
        Some(())
    }
}

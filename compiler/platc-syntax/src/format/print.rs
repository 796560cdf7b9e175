//! The printer: a document parsed by kdl, plus the text it was parsed from, to canonical text.
//!
//! Values, names and comments are copied from kdl's representation of the source (`repr`,
//! `value_repr`, decor strings); only the whitespace between them is decided here. Slashdashed
//! text is parsed again by kdl (on its own, or behind a placeholder node name) and printed by the
//! same code as live text, so that it is formatted like the rest of the file.
//!
//! One kdl quirk is worked around: after a node's children block, kdl does not record the
//! whitespace and comments before the node's terminator, nor the terminator itself (so
//! `a { } /* x */ // y` would lose both comments). That text is read back from the source,
//! between the closing `}` and the end of the node's span.

use kdl::{KdlDocument, KdlEntry, KdlIdentifier, KdlNode};

use super::lex::{self, Item};

/// One level of indentation.
pub(super) const INDENT: &str = "    ";

type R<T> = Result<T, String>;

/// Prints a whole file.
pub(super) fn document(doc: &KdlDocument, src: &str) -> R<String> {
    let mut block = Block::new(0, Line::Closed, false);
    block.document(doc, src)?;
    block.close();
    Ok(block.out)
}

/// What the current output line holds, which decides what may follow on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// No open line: the next item starts a new one.
    Closed,
    /// The line ends with a children block's `{`: comments may follow, nodes may not.
    Brace,
    /// The line holds a node: comments may follow, nodes may not.
    Node,
    /// The line holds only block comments: a node may follow on it.
    Comment,
}

/// The vertical layout of one document or children block: nodes and comments on lines, at
/// most one blank line between them, none at the start or end of the block.
struct Block {
    out: String,
    level: usize,
    line: Line,
    /// Whether the source line of the last item is still open (no newline seen since). A
    /// newline seen while it is closed is a blank line.
    src_open: bool,
    /// Whether anything was printed in this block (blank lines before that are dropped).
    started: bool,
    /// A blank line was seen and is printed before the next item, if one comes.
    pending_blank: bool,
}

impl Block {
    fn new(level: usize, line: Line, src_open: bool) -> Self {
        Block { out: String::new(), level, line, src_open, started: false, pending_blank: false }
    }

    fn document(&mut self, doc: &KdlDocument, src: &str) -> R<()> {
        let format = doc.format().ok_or("document without format")?;
        self.decor(&format.leading)?;
        for node in doc.nodes() {
            let leading = &node.format().ok_or("node without format")?.leading;
            self.decor(leading)?;
            self.node(node, src, false)?;
        }
        self.decor(&format.trailing)
    }

    /// Whitespace, comments and slashdashed nodes between nodes.
    fn decor(&mut self, decor: &str) -> R<()> {
        for item in lex::lex(decor)? {
            match item {
                Item::Newline => self.newline(),
                Item::LineComment(c) => {
                    self.comment(c);
                    self.close();
                }
                Item::BlockComment(c) => self.comment(c),
                Item::Slashdash(rest) => self.slashdashed_node(rest)?,
            }
        }
        Ok(())
    }

    /// `/-node ...`: `rest` starts with the node and holds whatever decor follows it.
    fn slashdashed_node(&mut self, rest: &str) -> R<()> {
        let doc: KdlDocument = rest.parse().map_err(|e| format!("slashdashed node {rest:?}: {e}"))?;
        let format = doc.format().ok_or("document without format")?;
        let [node] = doc.nodes() else {
            return Err(format!("slashdashed text {rest:?} is not one node"));
        };
        if !format.leading.is_empty() || !node.format().is_some_and(|f| f.leading.is_empty()) {
            return Err(format!("slashdashed node {rest:?} has leading text"));
        }
        self.node(node, rest, true)?;
        self.decor(&format.trailing)
    }

    fn newline(&mut self) {
        if self.src_open {
            self.src_open = false;
            self.close();
        } else {
            self.pending_blank = true;
        }
    }

    fn close(&mut self) {
        if self.line != Line::Closed {
            self.out.push('\n');
            self.line = Line::Closed;
        }
    }

    fn begin_line(&mut self) {
        self.close();
        if self.pending_blank && self.started {
            self.out.push('\n');
        }
        self.pending_blank = false;
        self.out.push_str(&INDENT.repeat(self.level));
    }

    fn comment(&mut self, text: &str) {
        if self.line == Line::Closed {
            self.begin_line();
            self.line = Line::Comment;
        } else {
            self.out.push(' ');
        }
        self.out.push_str(text);
        self.started = true;
        self.src_open = true;
    }

    fn node(&mut self, node: &KdlNode, src: &str, slashdash: bool) -> R<()> {
        let (mut toks, term) = node_tokens(node, src, self.level)?;
        if slashdash {
            toks.splice(0..0, [Tok::Word("/-".into()), Tok::Glue]);
        }
        let mut term_comment = None;
        let mut ends_line = false;
        match term {
            Term::Comment(c) => {
                term_comment = Some(c);
                ends_line = true;
            }
            Term::Newline => ends_line = true,
            Term::Semicolon | Term::End => {}
        }
        // A comment after a final line continuation (`a 1 \ // c`) becomes a trailing comment.
        if term_comment.is_none() && matches!(toks.last(), Some(Tok::Line(_))) {
            if let Some(Tok::Line(c)) = toks.pop() {
                term_comment = Some(c);
                ends_line = true;
            }
        }
        if let Some(c) = term_comment {
            toks.push(Tok::Comment(c));
        }
        if self.line == Line::Comment {
            self.out.push(' ');
        } else {
            self.begin_line();
        }
        self.out.push_str(&join(&toks, self.level));
        self.started = true;
        self.line = Line::Node;
        self.src_open = !ends_line;
        if ends_line {
            self.close();
        }
        Ok(())
    }
}

/// A piece of a node's line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// Syntax: a name, a value, `=`, `(`, `)`, `/-`, a whole children block.
    Word(String),
    /// A `/* */` comment, or the `//` comment that ends the node.
    Comment(String),
    /// A `//` comment inside a node, printed after a line continuation `\`.
    Line(String),
    /// No space between the neighbouring tokens (see `join` for comments next to it).
    Glue,
}

/// How a node ends in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    /// At `}` or at the end of the file.
    End,
    Semicolon,
    Newline,
    /// A `//` comment (which ends the line).
    Comment(String),
}

/// The terminator at `pos` and its length.
fn terminator_at(src: &str, pos: usize) -> R<(Term, usize)> {
    let rest = src.get(pos..).ok_or_else(|| format!("offset {pos} out of bounds"))?;
    if rest.starts_with(';') {
        Ok((Term::Semicolon, 1))
    } else if let Some(n) = lex::newline_len(rest) {
        Ok((Term::Newline, n))
    } else if rest.starts_with("//") {
        let end = rest.char_indices().find(|&(_, c)| lex::is_newline_char(c)).map(|(i, _)| i);
        let text = &rest[..end.unwrap_or(rest.len())];
        let len = end.map(|e| e + lex::newline_len(&rest[e..]).unwrap_or(0)).unwrap_or(rest.len());
        Ok((Term::Comment(text.trim_end().to_string()), len))
    } else {
        Ok((Term::End, 0))
    }
}

fn span_end(span: miette::SourceSpan) -> usize {
    span.offset() + span.len()
}

/// The tokens of a node's line (without leading decor) and how the node ends.
fn node_tokens(node: &KdlNode, src: &str, level: usize) -> R<(Vec<Tok>, Term)> {
    let format = node.format().ok_or("node without format")?;
    let mut toks = Vec::new();
    if let Some(ty) = node.ty() {
        annotation(&mut toks, ty, &format.before_ty_name, &format.after_ty_name, level)?;
        inline(&mut toks, &format.after_ty, level)?;
        toks.push(Tok::Glue);
    }
    toks.push(Tok::Word(ident(node.name())));
    for entry in node.entries() {
        entry_tokens(&mut toks, entry, level)?;
    }
    inline(&mut toks, &format.before_children, level)?;
    let end = span_end(node.span());
    let (term, _) = terminator_at(src, end)?;
    match node.children() {
        Some(children) => {
            toks.push(Tok::Word(children_block(children, src, level)?));
            let close = closing_brace(children, src)?;
            let after = src.get(close + 1..end).ok_or("children block past the node's end")?;
            if !after.starts_with(format.before_terminator.as_str()) {
                return Err(format!("text after children {after:?} does not match kdl's record"));
            }
            inline(&mut toks, after, level)?;
        }
        None => {
            if !src.get(..end).is_some_and(|s| s.ends_with(format.before_terminator.as_str())) {
                return Err(format!("node end does not match kdl's record in {src:?}"));
            }
            let recorded = match &term {
                Term::End => format.terminator.is_empty(),
                Term::Semicolon => format.terminator == ";",
                Term::Newline => lex::newline_len(&format.terminator) == Some(format.terminator.len()),
                Term::Comment(c) => format.terminator.starts_with(c.as_str()),
            };
            if !recorded {
                return Err(format!("terminator {term:?} does not match kdl's {:?}", format.terminator));
            }
            inline(&mut toks, &format.before_terminator, level)?;
        }
    }
    Ok((toks, term))
}

/// The byte offset of the `}` closing a children block.
fn closing_brace(children: &KdlDocument, src: &str) -> R<usize> {
    // kdl's span of a children document ends after its last node; the last node's terminator
    // (if any) and the document's trailing decor follow, then `}`.
    let mut pos = span_end(children.span());
    pos += terminator_at(src, pos)?.1;
    let trailing = &children.format().ok_or("document without format")?.trailing;
    if !src.get(pos..).is_some_and(|s| s.starts_with(trailing.as_str())) {
        return Err(format!("children block end not found at {pos}"));
    }
    pos += trailing.len();
    if !src.get(pos..).is_some_and(|s| s.starts_with('}')) {
        return Err(format!("no `}}` at {pos}"));
    }
    Ok(pos)
}

/// `{`, the children on their own lines one level deeper, `}`; `{}` when empty.
fn children_block(doc: &KdlDocument, src: &str, level: usize) -> R<String> {
    let mut block = Block::new(level + 1, Line::Brace, true);
    block.document(doc, src)?;
    if !block.started {
        return Ok("{}".to_string());
    }
    block.close();
    Ok(format!("{{{}{}}}", block.out, INDENT.repeat(level)))
}

fn ident(id: &KdlIdentifier) -> String {
    // `Display` prints the source representation (quoting kept) when there is one.
    id.to_string()
}

/// `(type)`, with any comments inside the parentheses.
fn annotation(toks: &mut Vec<Tok>, ty: &KdlIdentifier, before: &str, after: &str, level: usize) -> R<()> {
    toks.extend([Tok::Word("(".into()), Tok::Glue]);
    inline(toks, before, level)?;
    toks.extend([Tok::Glue, Tok::Word(ident(ty)), Tok::Glue]);
    inline(toks, after, level)?;
    toks.extend([Tok::Glue, Tok::Word(")".into()), Tok::Glue]);
    Ok(())
}

fn entry_tokens(toks: &mut Vec<Tok>, entry: &KdlEntry, level: usize) -> R<()> {
    let format = entry.format().ok_or("entry without format")?;
    inline(toks, &format.leading, level)?;
    if let Some(name) = entry.name() {
        toks.extend([Tok::Word(ident(name)), Tok::Glue, Tok::Word("=".into()), Tok::Glue]);
        inline(toks, &format.after_key, level)?;
        inline(toks, &format.after_eq, level)?;
        toks.push(Tok::Glue);
    }
    if let Some(ty) = entry.ty() {
        annotation(toks, ty, &format.before_ty_name, &format.after_ty_name, level)?;
        inline(toks, &format.after_ty, level)?;
        toks.push(Tok::Glue);
    }
    if format.value_repr.is_empty() {
        return Err("entry without a value representation".into());
    }
    toks.push(Tok::Word(format.value_repr.clone()));
    inline(toks, &format.trailing, level)
}

/// Decor inside a node's line: block comments, line continuations with comments, slashdashed
/// entries and children blocks. Plain whitespace and bare line continuations are dropped.
fn inline(toks: &mut Vec<Tok>, decor: &str, level: usize) -> R<()> {
    for item in lex::lex(decor)? {
        match item {
            // Only possible right after `/-` (the slashdash may be followed by newlines).
            Item::Newline => {}
            Item::LineComment(c) => toks.push(Tok::Line(c.to_string())),
            Item::BlockComment(c) => toks.push(Tok::Comment(c.to_string())),
            Item::Slashdash(rest) => slashdashed_inline(toks, rest, level)?,
        }
    }
    Ok(())
}

/// `/-entry` or `/-{ children }`: parsed behind a placeholder node name and printed like the
/// tail of a live node.
fn slashdashed_inline(toks: &mut Vec<Tok>, rest: &str, level: usize) -> R<()> {
    let wrapped = format!("x {rest}");
    let doc: KdlDocument = wrapped.parse().map_err(|e| format!("slashdashed text {rest:?}: {e}"))?;
    let [node] = doc.nodes() else {
        return Err(format!("slashdashed text {rest:?} is not part of one node"));
    };
    let trailing = &doc.format().ok_or("document without format")?.trailing;
    if !lex::lex(trailing)?.is_empty() || node.ty().is_some() || node.name().value() != "x" {
        return Err(format!("slashdashed text {rest:?} did not parse as entries"));
    }
    let (tail, term) = node_tokens(node, &wrapped, level)?;
    if term != Term::End {
        return Err(format!("slashdashed text {rest:?} ends a node"));
    }
    toks.extend([Tok::Word("/-".into()), Tok::Glue]);
    toks.extend(tail.into_iter().skip(1)); // the placeholder name
    Ok(())
}

/// Joins a node's tokens with single spaces; `Glue` joins words; a `Line` comment is printed
/// after ` \ ` and the line continues on the next one, one level deeper.
fn join(toks: &[Tok], level: usize) -> String {
    let continuation = INDENT.repeat(level + 1);
    let mut out = String::new();
    let mut prev: Option<&Tok> = None;
    let mut glue = false;
    for tok in toks {
        let text = match tok {
            Tok::Glue => {
                glue = true;
                continue;
            }
            Tok::Word(s) | Tok::Comment(s) | Tok::Line(s) => s,
        };
        match prev {
            None => {}
            Some(Tok::Line(_)) => {
                out.push('\n');
                out.push_str(&continuation);
            }
            // Glued: `key=value`, `(type)value`, `/-entry`. A comment at a glued place sticks
            // to the `(`, `=` or `)` before it and to a `)` after it, and is spaced from
            // names and values.
            Some(Tok::Word(_)) if glue && matches!(tok, Tok::Word(_)) => {}
            Some(Tok::Word(w)) if glue && matches!(tok, Tok::Comment(_)) && matches!(w.as_str(), "(" | "=" | ")") => {}
            Some(Tok::Comment(_)) if glue && matches!(tok, Tok::Word(w) if w == ")") => {}
            Some(_) => out.push(' '),
        }
        if let Tok::Line(_) = tok {
            out.push_str("\\ ");
        }
        out.push_str(text);
        prev = Some(tok);
        glue = false;
    }
    out
}

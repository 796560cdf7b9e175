//! Resource limits checked before any parser runs (issue 18: the specs are untrusted input).
//!
//! Both parsers, the formatter's printer and the checker recurse once per nesting level, and the
//! `kdl` crate also recurses once per nested `/*` comment and once per `/-` in a row. Thousands
//! of levels overflow the stack (an abort, exit 134, not a diagnostic). So before parsing, a
//! single linear pass over the bytes ([`too_deep`]) measures the nesting and refuses a file that
//! goes deeper than [`MAX_DEPTH`] levels with E0004 at the first opening that is too deep. The
//! pass knows enough of KDL's lexical grammar not to count braces that are not braces: quoted
//! strings (with escapes), multi-line strings, raw strings `#"..."#` with any number of `#`,
//! `//` line comments and nested `/* */` comments.
//!
//! The size of each file and of all files of a run is bounded too ([`MAX_FILE_BYTES`],
//! [`MAX_TOTAL_BYTES`], E0005): real specs are a few kilobytes, and a bound keeps every later
//! stage's time and memory bounded as well.

use crate::diagnostics::{codes, Diagnostic, Diagnostics, Label};
use crate::source::{FileId, SourceFile, Span};

/// Deepest nesting platc reads: children blocks, nested `/* */` comments and runs of `/-`
/// together. Real specs nest four or five levels; the fast path reads up to the same depth.
pub const MAX_DEPTH: usize = 64;

/// Largest spec, platform or resource type file platc reads: 16 MiB. Real specs are a few KiB;
/// the bound is far above them so that generated files (10,000 services or 300,000 `env` lines
/// in one file, about 6 MiB) are still read, in linear time, and only absurd input is refused.
pub const MAX_FILE_BYTES: usize = 16 << 20;

/// Largest total of all files of one run: 64 MiB, about 90,000 generated services (10,000 are
/// about 7 MiB). The run's memory follows its input: checking costs up to ~40 bytes per input
/// byte (a spec of 300,000 `env` lines: 427 MB for 10 MB), so 64 MiB keeps the worst run within
/// about 2.7 GB, which a CI runner has (256 MiB would not be: ~11 GB).
pub const MAX_TOTAL_BYTES: usize = 64 << 20;

/// What opens a nesting level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// `{`, a children block.
    Block,
    /// `/*`, a (nested) block comment.
    Comment,
    /// `/-`, one more slashdash in a row.
    Slashdash,
}

/// The first opening that goes deeper than [`MAX_DEPTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// The bytes of the opening itself (`{`, `/*` or `/-`).
    pub span: Span,
    /// Which of the three it is.
    pub opening: Opening,
}

/// Checks the size and nesting limits of one file; reports E0005 or E0004 and returns false
/// when the file must not be parsed.
pub fn check(file_id: FileId, file: &SourceFile, diags: &mut Diagnostics) -> bool {
    let len = file.size();
    if len > MAX_FILE_BYTES || file.run_end() > MAX_TOTAL_BYTES {
        let (message, help) = if len > MAX_FILE_BYTES {
            (format!("this file is {} bytes, more than platc reads ({} per file)", len, mib(MAX_FILE_BYTES)), "a spec is a few kilobytes: split the file, or remove what was generated into it")
        } else {
            (format!("the files of this run exceed {} in total at this file", mib(MAX_TOTAL_BYTES)), "check fewer services at a time: pass the directory of a part of the tree")
        };
        // The first character: enough to name the file (the snippet shows its first line).
        let first = file.text.chars().next().map_or(0, char::len_utf8);
        diags.push(Diagnostic::new(codes::INPUT_TOO_LARGE, Label::new(file_id, Span::new(0, first), "in this file"), message).with_help(help));
        return false;
    }
    match too_deep(&file.text) {
        None => true,
        Some(deep) => {
            let what = match deep.opening {
                Opening::Block => "children block",
                Opening::Comment => "`/*` comment",
                Opening::Slashdash => "`/-`",
            };
            diags.push(
                Diagnostic::new(codes::NESTING_TOO_DEEP, Label::new(file_id, deep.span, format!("this {what} is level {}", MAX_DEPTH + 1)), format!("nesting deeper than {MAX_DEPTH} levels"))
                    .with_help(format!(
                        "platc reads at most {MAX_DEPTH} levels of children blocks, nested `/* */` comments and `/-` in a row; no spec needs more: \
                         flatten the structure or remove the extra comment markers"
                    )),
            );
            false
        }
    }
}

fn mib(bytes: usize) -> String {
    format!("{} MiB", bytes >> 20)
}

/// The first opening deeper than [`MAX_DEPTH`], in one pass over `text` (see the module docs).
/// Unterminated strings and comments end the scan: the parser reports them.
pub fn too_deep(text: &str) -> Option<TooDeep> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut blocks = 0usize;
    // `/-` in a row: each is a level of recursion in kdl until the thing it comments out starts.
    let mut slashdashes = 0usize;
    let deeper = |i: usize, len: usize, opening: Opening| Some(TooDeep { span: Span::new(i, i + len), opening });
    while i < b.len() {
        match b[i] {
            b'{' => {
                blocks += 1;
                slashdashes = 0;
                if blocks > MAX_DEPTH {
                    return deeper(i, 1, Opening::Block);
                }
                i += 1;
            }
            b'}' => {
                blocks = blocks.saturating_sub(1);
                slashdashes = 0;
                i += 1;
            }
            b'"' => {
                slashdashes = 0;
                i = quoted_end(b, i);
            }
            b'#' => {
                slashdashes = 0;
                i = raw_end(b, i);
            }
            b'/' if b.get(i + 1) == Some(&b'/') => i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n),
            b'/' if b.get(i + 1) == Some(&b'*') => match comment_end(b, i, blocks + slashdashes) {
                Ok(end) => i = end,
                Err(at) => return deeper(at, 2, Opening::Comment),
            },
            b'/' if b.get(i + 1) == Some(&b'-') => {
                slashdashes += 1;
                if blocks + slashdashes > MAX_DEPTH {
                    return deeper(i, 2, Opening::Slashdash);
                }
                i += 2;
            }
            // Whitespace, newlines and `\` continuations may stand between `/-` and its target.
            b' ' | b'\t' | b'\n' | b'\r' | b'\\' => i += 1,
            _ => {
                slashdashes = 0;
                i += 1;
            }
        }
    }
    None
}

/// The end of the block comment opening at `start`, or the offset of the `/*` that nests deeper
/// than [`MAX_DEPTH`] counting the `outer` levels it sits in. KDL comments nest and know no
/// strings.
fn comment_end(b: &[u8], start: usize, outer: usize) -> Result<usize, usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                if outer + depth > MAX_DEPTH {
                    return Err(i);
                }
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => i += 1,
        }
    }
    Ok(b.len())
}

/// The end of the quoted string (`"..."` or `"""..."""`) opening at `start`.
fn quoted_end(b: &[u8], start: usize) -> usize {
    let multi = b[start..].starts_with(b"\"\"\"");
    let mut i = start + if multi { 3 } else { 1 };
    while i < b.len() {
        match b[i] {
            // An escape takes the next byte with it (`\"`, `\\`); longer escapes hold no quote.
            b'\\' => i += 2,
            b'"' if !multi => return i + 1,
            b'"' if b[i..].starts_with(b"\"\"\"") => return i + 3,
            _ => i += 1,
        }
    }
    b.len()
}

/// The end of the raw string opening at `start` (`#"..."#`, `##"""..."""##`, ...), or just past
/// the `#`s when they start a keyword such as `#true`.
fn raw_end(b: &[u8], start: usize) -> usize {
    let hashes = b[start..].iter().take_while(|&&c| c == b'#').count();
    let open = start + hashes;
    if b.get(open) != Some(&b'"') {
        return open;
    }
    let quotes = if b[open..].starts_with(b"\"\"\"") { 3 } else { 1 };
    let body = open + quotes;
    // The terminator is the same quotes followed by the same number of `#`.
    let mut i = body;
    while let Some(n) = memchr::memchr(b'"', &b[i.min(b.len())..]) {
        let q = i + n;
        let closes = b[q..].len() >= quotes + hashes && b[q..q + quotes].iter().all(|&c| c == b'"') && b[q + quotes..q + quotes + hashes].iter().all(|&c| c == b'#');
        if closes {
            return q + quotes + hashes;
        }
        i = q + 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_blocks(n: usize) -> String {
        format!("service a {{\n{}{}}}\n", "x {\n".repeat(n - 1), "}\n".repeat(n - 1))
    }

    #[test]
    fn the_limit_is_exactly_max_depth_blocks() {
        assert_eq!(too_deep(&nested_blocks(MAX_DEPTH)), None);
        let text = nested_blocks(MAX_DEPTH + 1);
        let deep = too_deep(&text).expect("one level too deep");
        assert_eq!(deep.opening, Opening::Block);
        // The span is the `{` of level 65: the last one opened.
        assert_eq!(&text[deep.span.start..deep.span.end], "{");
        assert_eq!(text[..deep.span.start].matches('{').count(), MAX_DEPTH);
    }

    #[test]
    fn siblings_do_not_add_up() {
        let text = "a {}\n".repeat(10_000) + &"b { c {} }\n".repeat(10_000);
        assert_eq!(too_deep(&text), None);
    }

    #[test]
    fn braces_in_strings_and_comments_do_not_count() {
        let deep = "{".repeat(1000);
        for text in [
            format!("a \"{deep}\"\n"),
            format!("a \"\\\"{deep}\"\n"),
            format!("a \"\"\"\n{deep} \" \"\"\n\"\"\"\n"),
            format!("a #\"{deep}\"#\n"),
            format!("a ##\"\"#{deep}\"##\n"),
            format!("a #\"\"\"\n\"\"\"{deep}\n\"\"\"#\n"),
            format!("// {deep}\na\n"),
            format!("/* {deep} /* */ */ a\n"),
        ] {
            assert_eq!(too_deep(&text), None, "{text}");
        }
        // After the string, counting resumes.
        let text = format!("a \"{{\" {}", "b {".repeat(MAX_DEPTH + 1));
        assert!(too_deep(&text).is_some());
        // `#true` is a keyword, not a raw string that would hide what follows.
        let text = format!("a #true {}", "b {".repeat(MAX_DEPTH + 1));
        assert!(too_deep(&text).is_some());
    }

    #[test]
    fn nested_comments_are_levels() {
        let ok = format!("{}{} a\n", "/*".repeat(MAX_DEPTH), "*/".repeat(MAX_DEPTH));
        assert_eq!(too_deep(&ok), None);
        let text = format!("{}{} a\n", "/*".repeat(10_000), "*/".repeat(10_000));
        let deep = too_deep(&text).unwrap();
        assert_eq!(deep.opening, Opening::Comment);
        assert_eq!(deep.span, Span::new(2 * MAX_DEPTH, 2 * MAX_DEPTH + 2));
        // A comment inside blocks counts the blocks it is in.
        let text = format!("{}/* /* */ */", "a {".repeat(MAX_DEPTH - 1));
        assert_eq!(too_deep(&text).map(|d| d.opening), Some(Opening::Comment));
    }

    #[test]
    fn slashdashes_in_a_row_are_levels() {
        let text = format!("a {}x\n", "/- ".repeat(10_000));
        let deep = too_deep(&text).unwrap();
        assert_eq!(deep.opening, Opening::Slashdash);
        assert_eq!(&text[deep.span.start..deep.span.end], "/-");
        // Slashdashed nodes one after the other are not nested.
        assert_eq!(too_deep(&"/-a 1\n".repeat(10_000)), None);
        assert_eq!(too_deep(&format!("a {}x\n", "/- ".repeat(MAX_DEPTH))), None);
    }

    #[test]
    fn unterminated_strings_and_comments_end_the_scan() {
        for text in ["a \"{{{", "a #\"{{{", "a /* {{{", "a \"\"\"\n{{{", "a \"\\"] {
            assert_eq!(too_deep(text), None, "{text}");
        }
    }

    #[test]
    fn the_scan_is_linear() {
        // Quadratic behaviour would take minutes here; each shape is about 1 MiB.
        let shapes = ["#\"".repeat(300_000), "\"".repeat(1_000_000), "/*".repeat(400_000), "{}".repeat(500_000), "/-".repeat(400_000)];
        let start = std::time::Instant::now();
        for s in &shapes {
            let _ = too_deep(s);
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{:?}", start.elapsed());
    }

    /// The deepest files the limit lets through, each sent down the kdl path (a comment or a
    /// slashdash makes the fast path decline): kdl, the lowering, the formatter and dropping the
    /// AST recurse per level. Run on a thread with half the default test stack (2 MiB), in debug
    /// builds too, so that the main thread (8 MiB) and the checker's worker threads (2 MiB) have
    /// a wide margin.
    #[test]
    fn the_deepest_accepted_files_fit_a_small_stack() {
        let blocks = format!("/* kdl */ service a {{\n{}{}}}\n", "x {\n".repeat(MAX_DEPTH - 1), "}\n".repeat(MAX_DEPTH - 1));
        let comments = format!("service a {{\n  x {}{}\n}}\n", "/*".repeat(MAX_DEPTH - 1), "*/".repeat(MAX_DEPTH - 1));
        let slashdashes = format!("service a {{\n  x {}y\n}}\n", "/- ".repeat(MAX_DEPTH - 1));
        let mixed = format!("service a {{\n{} /- {}{} z\n{}}}\n", "x {\n".repeat(MAX_DEPTH / 2), "/*".repeat(MAX_DEPTH / 2 - 2), "*/".repeat(MAX_DEPTH / 2 - 2), "}\n".repeat(MAX_DEPTH / 2));
        // (text, valid KDL): `/- /-` is not valid, but kdl must reject it without overflowing.
        let inputs = [(blocks, true), (comments, true), (slashdashes, false), (mixed, true)];
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                for (text, valid) in &inputs {
                    assert_eq!(too_deep(text), None, "{text}");
                    let file = SourceFile::new("t.kdl", None, text.as_str());
                    let mut diags = Diagnostics::new();
                    assert_eq!(crate::syntax::parse_kdl(FileId(0), &file, &mut diags).is_some(), *valid, "{diags:?}\n{text}");
                    assert_eq!(crate::syntax::parse(FileId(0), &file, &mut diags).is_some(), *valid);
                    assert_eq!(crate::format::format_text(text).is_ok(), *valid, "{text}");
                }
            })
            .unwrap()
            .join()
            .expect("no stack overflow at the limit");
    }

    #[test]
    fn parse_and_format_refuse_one_level_more_with_a_span() {
        let text = nested_blocks(MAX_DEPTH + 1);
        let file = SourceFile::new("t.kdl", None, text.as_str());
        let mut diags = Diagnostics::new();
        assert!(crate::syntax::parse(FileId(0), &file, &mut diags).is_none());
        let d = diags.iter().next().expect("a diagnostic");
        assert_eq!((d.code, diags.len()), (codes::NESTING_TOO_DEEP, 1));
        assert_eq!(file.slice(d.primary.span), "{");
        assert!(matches!(crate::format::format_text(&text), Err(crate::format::FormatError::TooDeep(_))));
    }

    #[test]
    fn oversized_files_are_refused_before_parsing() {
        let text = format!("service a {{\n{}}}\n", "  x 1\n".repeat(MAX_FILE_BYTES / 6 + 1));
        let file = SourceFile::new("t.kdl", None, text.as_str());
        let mut diags = Diagnostics::new();
        assert!(crate::syntax::parse(FileId(0), &file, &mut diags).is_none());
        assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), [codes::INPUT_TOO_LARGE]);
        // Just under the limit, the same shape parses.
        let text = format!("service a {{\n{}}}\n", "  x 1\n".repeat(MAX_FILE_BYTES / 6 - 10));
        assert!(crate::syntax::parse(FileId(0), &SourceFile::new("t.kdl", None, text.as_str()), &mut Diagnostics::new()).is_some());
    }

    #[test]
    fn the_total_of_a_run_is_bounded() {
        let mut map = crate::source::SourceMap::new();
        let big = "// x\n".repeat(MAX_FILE_BYTES / 5 - 1);
        let ids: Vec<_> = (0..MAX_TOTAL_BYTES / big.len() + 1).map(|i| map.add(SourceFile::new(format!("f{i}.kdl"), None, big.as_str()))).collect();
        let mut diags = Diagnostics::new();
        let refused = ids.iter().filter(|&&id| !check(id, map.get(id), &mut diags)).count();
        assert_eq!(refused, 1, "only the file that crosses the total");
        assert!(diags.iter().all(|d| d.code == codes::INPUT_TOO_LARGE && d.message.contains("in total")));
    }
}

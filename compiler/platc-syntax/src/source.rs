//! Source files, byte spans and line indexes.
//!
//! Every diagnostic points into a [`SourceFile`] by a [`Span`] (byte offsets). Line and column
//! numbers are computed on demand from a [`LineIndex`] so that machine-readable formats (JSON,
//! GitHub annotations, SARIF) report the same positions the human renderer shows.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// A half-open byte range `[start, end)` into one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset just past the last byte (never before `start`).
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end: end.max(start) }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// A sub-span relative to this span's start, clamped to this span.
    pub fn sub(&self, range: Range<usize>) -> Span {
        let start = (self.start + range.start).min(self.end);
        let end = (self.start + range.end).min(self.end);
        Span::new(start, end)
    }
}

impl From<miette::SourceSpan> for Span {
    fn from(s: miette::SourceSpan) -> Self {
        Span::new(s.offset(), s.offset() + s.len())
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start, s.len()).into()
    }
}

/// A value together with the span it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value itself; `span` says where it was written.
    pub value: T,
    /// Where in its file the value was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs `value` with the span it came from.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// Identifies a file inside a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// One input file: its display name (as the user should see it), its text and a line index.
#[derive(Debug)]
pub struct SourceFile {
    /// The name shown in diagnostics, e.g. `services/checkout/service.kdl`.
    pub name: String,
    /// Where the file lives on disk, when it came from disk.
    pub path: Option<PathBuf>,
    /// The file's text: only its beginning when the file was too large to read whole (see
    /// [`SourceFile::size`]).
    pub text: Arc<str>,
    lines: LineIndex,
    /// The file's size in bytes: that of `text`, unless the file was too large to read whole
    /// (then `text` is its beginning only, see `load.rs`).
    size: usize,
    /// Bytes of this file and of every file added before it to the same [`SourceMap`]: the
    /// run's total so far, for the input size limit (`syntax/limits.rs`).
    run_end: usize,
}

impl SourceFile {
    /// A file named `name` in diagnostics, read from `path` when it came from disk; its size is
    /// that of `text` until [`SourceFile::with_size`] says otherwise.
    pub fn new(name: impl Into<String>, path: Option<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        let text = text.into();
        let lines = LineIndex::new(&text);
        let run_end = text.len();
        SourceFile { name: name.into(), path, size: text.len(), text, lines, run_end }
    }

    /// The file, of which `text` is only the beginning, is `size` bytes long.
    pub fn with_size(mut self, size: usize) -> Self {
        self.size = size.max(self.text.len());
        self
    }

    /// The file's size in bytes (more than `text` holds when it was too large to read whole).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The bytes of this file plus those of the files added before it to its [`SourceMap`]
    /// (just its own length outside a map).
    pub fn run_end(&self) -> usize {
        self.run_end
    }

    /// The file's line index.
    pub fn line_index(&self) -> &LineIndex {
        &self.lines
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> LineCol {
        self.lines.line_col(&self.text, offset)
    }

    /// The text a span covers (empty when the span is out of bounds).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }
}

/// A 1-based line and column; columns count Unicode scalar values, as editors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Byte offsets of line starts, for offset -> line/column conversion in O(log n). Cheap to clone
/// (shared), so that renderers can hold one per report.
#[derive(Debug, Clone)]
pub struct LineIndex {
    inner: Arc<Lines>,
}

#[derive(Debug)]
struct Lines {
    starts: Vec<usize>,
    /// Per line: all ASCII, so a column in characters is a difference of byte offsets. Without
    /// it every column would count the characters from the line start: quadratic for many
    /// diagnostics on one long line.
    ascii: Vec<bool>,
    /// For a text that is not all ASCII: the characters before every [`BLOCK`]-th byte, so that a
    /// column on a long non-ASCII line counts the characters of at most two blocks, not of the
    /// line from its start (quadratic again for many diagnostics on one such line). Empty for
    /// ASCII text.
    chars_at_block: Vec<usize>,
    /// A `\r` not followed by `\n` somewhere: miette breaks lines there too, this index does not.
    lone_cr: bool,
}

/// Bytes per entry of [`Lines::chars_at_block`].
const BLOCK: usize = 256;

/// The characters of UTF-8 `bytes` that start in it: its bytes that are not continuation bytes
/// (`10xxxxxx`). Equal to `chars().count()` for a whole string.
fn chars_starting_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&c| (c as i8) >= -0x40).count()
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let b = text.as_bytes();
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', b).map(|i| i + 1));
        let ascii = starts.iter().enumerate().map(|(i, &s)| b[s..starts.get(i + 1).copied().unwrap_or(b.len())].is_ascii()).collect();
        let lone_cr = memchr::memchr_iter(b'\r', b).any(|i| b.get(i + 1) != Some(&b'\n'));
        let mut chars_at_block = Vec::new();
        if !b.is_ascii() {
            chars_at_block.push(0);
            chars_at_block.extend(b.chunks(BLOCK).scan(0, |n, block| {
                *n += chars_starting_in(block);
                Some(*n)
            }));
        }
        LineIndex { inner: Arc::new(Lines { starts, ascii, chars_at_block, lone_cr }) }
    }

    /// The characters of `text` before byte `offset` (a char boundary of a non-ASCII text).
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let block = offset / BLOCK;
        self.inner.chars_at_block[block] + chars_starting_in(&text.as_bytes()[block * BLOCK..offset])
    }

    /// 1-based line and column (in characters) of byte `offset` of `text`, the text the index was
    /// built from; offsets past the end are clamped to it.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let start = self.inner.starts[line];
        // Offsets from kdl are always on char boundaries; be defensive anyway.
        let column = if self.inner.ascii[line] || !text.is_char_boundary(offset) { offset - start } else { self.chars_before(text, offset) - self.chars_before(text, start) };
        LineCol { line: line + 1, column: column + 1 }
    }

    /// The 0-based line holding byte `offset` (the last line for offsets past the end).
    pub fn line_of(&self, offset: usize) -> usize {
        self.inner.starts.partition_point(|&s| s <= offset) - 1
    }

    /// The byte offset where 0-based `line` starts (clamped to the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.inner.starts[line.min(self.inner.starts.len() - 1)]
    }

    /// True when the text holds a `\r` that is not part of `\r\n` (a line break to some tools).
    pub fn has_lone_cr(&self) -> bool {
        self.inner.lone_cr
    }
}

/// All source files of one compilation, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// Bytes of all files added so far.
    total: usize,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, mut file: SourceFile) -> FileId {
        // What the run holds in memory: a file too large to read whole counts only its beginning
        // (it is refused by itself, and must not make every later file "too much in total").
        self.total = self.total.saturating_add(file.text.len());
        file.run_end = self.total;
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    /// The file `id` names.
    ///
    /// # Panics
    /// When `id` comes from another map.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Every file with its id, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }

    /// The number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` as a file, after checking the line and column of each `(offset, line, column)`.
    fn with_line_cols(text: &str, expected: &[(usize, usize, usize)]) -> SourceFile {
        let f = SourceFile::new("a", None, text);
        for &(offset, line, column) in expected {
            assert_eq!(f.line_col(offset), LineCol { line, column }, "offset {offset} of {text:?}");
        }
        f
    }

    #[test]
    fn line_col_counts_from_one_and_in_chars() {
        // 'ç' is two bytes: offset 5 is the 'd', column 2.
        with_line_cols("ab\nçd\n", &[(0, 1, 1), (3, 2, 1), (5, 2, 2), (100, 3, 1)]);
    }

    #[test]
    fn ascii_and_non_ascii_lines_mix() {
        let f = with_line_cols("abc\nçç x\nxyz", &[(2, 1, 3), (9, 2, 4), (12, 3, 2)]);
        assert!(!f.line_index().has_lone_cr());
        assert!(SourceFile::new("a", None, "a\rb").line_index().has_lone_cr());
        assert!(!SourceFile::new("a", None, "a\r\nb\r\n").line_index().has_lone_cr());
    }

    #[test]
    fn columns_on_long_non_ascii_lines_count_characters() {
        // Across block boundaries, on lines starting anywhere in a block, with characters of
        // 1 to 4 bytes.
        let text = format!("é\n{}\n{}x", "aé€𝄞".repeat(300), "ü".repeat(700));
        let f = SourceFile::new("a", None, text.as_str());
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let want = LineCol { line: text[..offset].matches('\n').count() + 1, column: text[line_start..offset].chars().count() + 1 };
            assert_eq!(f.line_col(offset), want, "offset {offset}");
        }
    }

    #[test]
    fn sources_count_the_bytes_of_a_run() {
        let mut map = SourceMap::new();
        let a = map.add(SourceFile::new("a", None, "1234"));
        let b = map.add(SourceFile::new("b", None, "56"));
        assert_eq!((map.get(a).run_end(), map.get(b).run_end()), (4, 6));
        assert_eq!(SourceFile::new("c", None, "789").run_end(), 3);
    }
}

//! [`Diagnostics`]: the diagnostics of one run, as the stages report them.
//!
//! A hostile spec can hold a million unknown properties; a diagnostic each would cost about a
//! kilobyte apiece, and nobody reads the millionth. So at most [`MAX_KEPT_PER_FILE_AND_CODE`]
//! are kept per file and code, and the others are counted ([`Dropped`]): every renderer says
//! how many it was not given, and the counts and the exit status still cover them all.

use std::collections::HashMap;

use super::{Code, Diagnostic, Severity};
use crate::source::{FileId, SourceMap};

/// Diagnostics kept per file and code (the human report shows 50 of them; JSON and SARIF list
/// them all); the rest are only counted.
pub const MAX_KEPT_PER_FILE_AND_CODE: usize = 1_000;

/// Diagnostics of one code in one file that were counted, not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// The file they point into (that of their primary label).
    pub file: FileId,
    /// The code they share.
    pub code: Code,
    /// The severity of the first one counted.
    pub severity: Severity,
    /// How many were counted beyond the cap.
    pub count: usize,
}

/// Collects the diagnostics of one run. Stages push into it and keep going, so that one run
/// reports every problem at once.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    /// Diagnostics kept so far per file and code.
    kept: HashMap<(FileId, Code), usize>,
    /// Per file and code, how many were counted beyond the cap, in order of the first one.
    dropped: Vec<Dropped>,
    dropped_at: HashMap<(FileId, Code), usize>,
    /// The diagnostic pushed last when it was not kept: what [`Diagnostics::last_mut`] edits.
    scratch: Option<Box<Diagnostic>>,
}

impl Diagnostics {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `d`, or counts it when its file and code already have
    /// [`MAX_KEPT_PER_FILE_AND_CODE`] diagnostics.
    pub fn push(&mut self, d: Diagnostic) {
        let key = (d.primary.file, d.code);
        let kept = self.kept.entry(key).or_default();
        if *kept < MAX_KEPT_PER_FILE_AND_CODE {
            *kept += 1;
            self.items.push(d);
            self.scratch = None;
            return;
        }
        self.count_dropped(Dropped { file: key.0, code: key.1, severity: d.severity, count: 1 });
        self.scratch = Some(Box::new(d));
    }

    fn count_dropped(&mut self, d: Dropped) {
        let dropped = &mut self.dropped;
        let at = *self.dropped_at.entry((d.file, d.code)).or_insert_with(|| {
            dropped.push(Dropped { count: 0, ..d });
            dropped.len() - 1
        });
        self.dropped[at].count += d.count;
    }

    /// The diagnostic pushed last (for adding labels and help right after reporting), kept or
    /// not.
    ///
    /// # Panics
    /// Never after a `push`; callers use it only right after reporting.
    pub fn last_mut(&mut self) -> &mut Diagnostic {
        match &mut self.scratch {
            Some(d) => d,
            None => self.items.last_mut().expect("last_mut right after push"),
        }
    }

    /// Adds each diagnostic as [`Diagnostics::push`] does.
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        for d in ds {
            self.push(d);
        }
    }

    /// Adds the diagnostics of `other`, kept and counted.
    pub fn append(&mut self, other: Diagnostics) {
        self.extend(other.items);
        for d in other.dropped {
            self.count_dropped(d);
        }
    }

    /// Keeps only the diagnostics, kept and counted, whose primary file passes `keep`.
    pub fn retain_files(&mut self, keep: impl Fn(FileId) -> bool) {
        self.items.retain(|d| keep(d.primary.file));
        self.dropped.retain(|d| keep(d.file));
        self.dropped_at = self.dropped.iter().enumerate().map(|(i, d)| ((d.file, d.code), i)).collect();
        self.kept.retain(|(file, _), _| keep(*file));
    }

    /// True when an error was reported, kept or counted (a counted one has kept ones before it).
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Errors reported, kept or counted.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count() + self.dropped.iter().filter(|d| d.severity == Severity::Error).map(|d| d.count).sum::<usize>()
    }

    /// Warnings reported, kept or counted.
    pub fn warning_count(&self) -> usize {
        self.len() - self.error_count()
    }

    /// True when nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Diagnostics reported, kept or counted.
    pub fn len(&self) -> usize {
        self.items.len() + self.dropped.iter().map(|d| d.count).sum::<usize>()
    }

    /// The kept diagnostics.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// The kept diagnostics, in order.
    pub fn as_slice(&self) -> &[Diagnostic] {
        &self.items
    }

    /// Per file and code, the diagnostics counted beyond the cap.
    pub fn dropped(&self) -> &[Dropped] {
        &self.dropped
    }

    /// Sorts by file name, then position, then code, and drops exact duplicates, so that the
    /// output is stable whatever order the stages ran in.
    pub fn sort(&mut self, sources: &SourceMap) {
        self.items.sort_by(|a, b| {
            let fa = &sources.get(a.primary.file).name;
            let fb = &sources.get(b.primary.file).name;
            fa.cmp(fb).then(a.primary.span.start.cmp(&b.primary.span.start)).then(a.primary.span.end.cmp(&b.primary.span.end)).then(a.code.cmp(&b.code)).then(a.message.cmp(&b.message))
        });
        self.items.dedup();
        self.dropped.sort_by(|a, b| sources.get(a.file).name.cmp(&sources.get(b.file).name).then(a.code.cmp(&b.code)));
        self.dropped_at = self.dropped.iter().enumerate().map(|(i, d)| ((d.file, d.code), i)).collect();
    }

    /// The kept diagnostics (the counts are lost: render with [`super::render_counted`] first).
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::{codes, Label};
    use crate::source::Span;

    fn unknown(file: u32, i: usize) -> Diagnostic {
        Diagnostic::new(codes::UNKNOWN_PROPERTY, Label::new(FileId(file), Span::new(i, i + 1), "unknown"), format!("no property p{i}"))
    }

    #[test]
    fn beyond_the_cap_diagnostics_are_counted_not_kept() {
        let mut diags = Diagnostics::new();
        for i in 0..MAX_KEPT_PER_FILE_AND_CODE + 10 {
            diags.push(unknown(0, i));
            diags.last_mut().help = Some("edited".into());
        }
        diags.push(unknown(1, 0));
        assert_eq!(diags.iter().count(), MAX_KEPT_PER_FILE_AND_CODE + 1);
        assert_eq!(diags.len(), MAX_KEPT_PER_FILE_AND_CODE + 11);
        assert_eq!(diags.error_count(), MAX_KEPT_PER_FILE_AND_CODE + 11);
        assert_eq!(diags.dropped(), &[Dropped { file: FileId(0), code: codes::UNKNOWN_PROPERTY, severity: Severity::Error, count: 10 }]);
        assert!(diags.iter().filter(|d| d.primary.file == FileId(0)).all(|d| d.help.as_deref() == Some("edited")), "last_mut edits the kept one right after its push");
    }

    #[test]
    fn append_and_retain_keep_the_counts() {
        let mut a = Diagnostics::new();
        let mut b = Diagnostics::new();
        for i in 0..MAX_KEPT_PER_FILE_AND_CODE + 5 {
            b.push(unknown(0, i));
            b.push(unknown(1, i));
        }
        a.push(unknown(0, 0));
        a.append(b);
        assert_eq!(a.len(), 2 * (MAX_KEPT_PER_FILE_AND_CODE + 5) + 1);
        assert_eq!(a.dropped().iter().map(|d| d.count).sum::<usize>(), 6 + 5);
        a.retain_files(|f| f == FileId(1));
        assert_eq!(a.len(), MAX_KEPT_PER_FILE_AND_CODE + 5);
        assert_eq!(a.dropped().len(), 1);
    }
}

//! One diagnostic type for the whole compiler, and its renderers.
//!
//! Every stage reports problems as [`Diagnostic`] values (errors are data); nothing is printed
//! where an error arises. The CLI renders all diagnostics of a run at the edge, in one of the
//! [`Format`]s, from the same values.

pub mod codes;
pub mod redact;
mod render;

pub use codes::Code;
pub use render::{render, Format};

use crate::source::{FileId, SourceMap, Span};

/// How bad a diagnostic is. Only errors fail a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A span in a file with a short message shown next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(file: FileId, span: Span, message: impl Into<String>) -> Self {
        Label { file, span, message: message.into() }
    }
}

/// A problem found in the input: a stable code, a message, the primary location, secondary
/// locations (possibly in other files), and help that says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    /// Text no report of the run may print: the value of a literal secret (E0216). Every
    /// renderer masks it, in the source lines it quotes and in the text of every diagnostic
    /// ([`redact`]).
    pub redact: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with the severity its code is registered with.
    pub fn new(code: Code, primary: Label, message: impl Into<String>) -> Self {
        Diagnostic { severity: code.severity(), code, message: message.into(), primary, secondary: Vec::new(), help: None, redact: Vec::new() }
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, label: Label) -> Self {
        self.secondary.push(label);
        self
    }

    /// Sets the help text: what the user should write instead.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the help text when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Collects the diagnostics of one run. Stages push into it and keep going, so that one run
/// reports every problem at once.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// The diagnostic pushed last (for adding labels and help right after reporting).
    ///
    /// # Panics
    /// Never after a `push`; callers use it only right after reporting.
    pub fn last_mut(&mut self) -> &mut Diagnostic {
        self.items.last_mut().expect("last_mut right after push")
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
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
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

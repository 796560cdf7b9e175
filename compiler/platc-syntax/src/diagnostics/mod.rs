//! One diagnostic type for the whole compiler, and its renderers.
//!
//! Every stage reports problems as [`Diagnostic`] values (errors are data); nothing is printed
//! where an error arises. The CLI renders all diagnostics of a run at the edge, in one of the
//! [`Format`]s, from the same values.

pub mod codes;
mod collect;
pub mod redact;
mod render;

pub use codes::Code;
pub use collect::{Diagnostics, Dropped, MAX_KEPT_PER_FILE_AND_CODE};
pub use render::{render, render_counted, Format};

use crate::source::{FileId, Span};

/// How bad a diagnostic is. Only errors fail a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Fails the run.
    Error,
    /// Reported; the run still succeeds.
    Warning,
}

impl Severity {
    /// The lowercase name reports print: `error` or `warning`.
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
    /// The file the span points into.
    pub file: FileId,
    /// The bytes the label marks.
    pub span: Span,
    /// The text shown next to the span.
    pub message: String,
}

impl Label {
    /// A label on `span` in `file` that says `message`.
    pub fn new(file: FileId, span: Span, message: impl Into<String>) -> Self {
        Label { file, span, message: message.into() }
    }
}

/// A problem found in the input: a stable code, a message, the primary location, secondary
/// locations (possibly in other files), and help that says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code; `docs/errors/CODE.md` explains it.
    pub code: Code,
    /// Error or warning: the one its code is registered with, unless a stage says otherwise.
    pub severity: Severity,
    /// The headline: what is wrong, in one sentence.
    pub message: String,
    /// Where the problem is; its file is the one the diagnostic is counted and filtered under.
    pub primary: Label,
    /// Further places that explain the problem (the first definition of a duplicate, say), possibly
    /// in other files.
    pub secondary: Vec<Label>,
    /// What to write instead, when platc can say.
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

    /// True for an error: errors fail the run.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `1 file`, `2 files`: counts in messages.
pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

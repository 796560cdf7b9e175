//! Canonical formatting of KDL files (being written).

use crate::diagnostics::Diagnostics;
use crate::source::{FileId, SourceFile};

/// Formats one file; `None` (with diagnostics) when it does not parse.
pub fn format(id: FileId, file: &SourceFile, diags: &mut Diagnostics) -> Option<String> {
    crate::syntax::parse(id, file, diags)?;
    let mut doc: kdl::KdlDocument = file.text.parse().ok()?;
    doc.autoformat();
    Some(doc.to_string())
}

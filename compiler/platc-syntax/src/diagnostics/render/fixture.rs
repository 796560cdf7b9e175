//! Shared test input for the renderers: two files and three diagnostics that exercise a
//! secondary label in another file, a warning, multi-byte characters before a span, and text
//! that needs escaping (`%`, `:`, `,`, newlines).

use crate::diagnostics::{codes, Diagnostic, Label};
use crate::source::{FileId, SourceFile, SourceMap, Span};

pub(crate) const SERVICE: &str = "services/checkout/service.kdl";
pub(crate) const PLATFORM: &str = "platform.kdl";

const SERVICE_TEXT: &str = "service \"checkout\" {\n    replicas 1\n    image \"ghcr.io/acme/checkout:1.2\"\n    résumé \"☕ café\" cpu=\"lots\"\n}\n";
const PLATFORM_TEXT: &str = "platform {\n    policy \"min-replicas\" min=2\n}\n";

/// The span of the first occurrence of `needle` (after `after`, to pick the right one).
fn find(text: &str, after: &str, needle: &str) -> Span {
    let from = text.find(after).expect("anchor in fixture");
    let start = from + text[from..].find(needle).expect("needle in fixture");
    Span::new(start, start + needle.len())
}

/// The source map and the diagnostics, in the order a sorted run would report them.
pub(crate) fn sample() -> (SourceMap, Vec<Diagnostic>) {
    let mut sources = SourceMap::new();
    let svc: FileId = sources.add(SourceFile::new(SERVICE, None, SERVICE_TEXT));
    let plat: FileId = sources.add(SourceFile::new(PLATFORM, None, PLATFORM_TEXT));

    // Positions asserted by the tests (1-based, end exclusive):
    // policy: service.kdl 2:14-2:15, same-file label 1:1-1:19, platform.kdl 2:27-2:32.
    let policy = Diagnostic::new(codes::POLICY_VIOLATION, Label::new(svc, find(SERVICE_TEXT, "replicas", "1"), "replicas is 1 here"), "service `checkout` violates policy \"min-replicas\"")
        .with_label(Label::new(svc, find(SERVICE_TEXT, "", "service \"checkout\""), "in this service"))
        .with_label(Label::new(plat, find(PLATFORM_TEXT, "policy", "min=2"), "policy requires min=2"))
        .with_help("set `replicas 2` or more");

    // image tag: service.kdl 3:33-3:37, a warning without help.
    let tag = Diagnostic::new(codes::IMAGE_HAS_TAG, Label::new(svc, find(SERVICE_TEXT, "image", ":1.2"), "tag pinned here"), "image reference pins tag 1.2");

    // cpu: service.kdl 4:25-4:31 in characters (the line has multi-byte characters before it,
    // so byte columns would be 29-35).
    let cpu = Diagnostic::new(codes::INVALID_CPU, Label::new(svc, find(SERVICE_TEXT, "cpu=", "\"lots\""), "not a CPU quantity"), "invalid CPU quantity \"lots\": expected e.g. 250m, 0.5 or 50%")
        .with_help("write millicores (\"250m\")\nor cores (\"0.5\")");

    (sources, vec![policy, tag, cpu])
}

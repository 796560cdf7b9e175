//! Check: untyped AST + stdlib resource types -> typed [`Workspace`].
//!
//! Every file is read and checked on its own first (units, names, ranges, local duplicates),
//! then [`refs`] checks what spans files (references, calls, environments, policies). All
//! problems of all files are collected; nothing stops at the first error.

mod alert;
mod effective;
pub mod names;
mod patch;
mod platform;
mod policy;
mod reader;
mod refs;
mod resource_type;
mod secrets;
mod service;

pub use platform::PLATFORM_NODES;
pub use service::SERVICE_NODES;
pub mod suggest;
mod template;
pub mod units;
mod uses;

use crate::diagnostics::{codes, Diagnostic, Diagnostics, Label};
use crate::model::{ResourceTypes, Workspace};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::{self, Document};
use reader::Cx;

/// Which loaded file plays which role.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// Platform files; a run checks exactly one (none is E0501, more are E0502).
    pub platforms: Vec<FileId>,
    /// Service files.
    pub services: Vec<FileId>,
    /// Resource type files, built-in first, then overlays (a later type replaces an earlier
    /// one of the same name).
    pub types: Vec<FileId>,
    /// Literal-secret rule files (`secrets/*.kdl`), built-in first, then overlays.
    pub secret_rules: Vec<FileId>,
    /// The backends' stdlib data (templates, CI and observability data), by the name the
    /// backends report a broken one with ([`crate::stdlib::StdlibFile::display`]), so that the
    /// diagnostic points into the file.
    pub backend_files: std::collections::BTreeMap<String, FileId>,
    /// The languages the stdlib defines ([`crate::stdlib::Stdlib::languages`]): what a
    /// service's `language` may name (E0205 otherwise).
    pub languages: Vec<String>,
    /// The day the run checks on (days since 1970-01-01, UTC; `load` reads the clock): policy
    /// waivers apply up to their `until` date. Default: day 0, before any waiver expires.
    pub today: i64,
}

/// Names that the backends define and that spec text refers to. The backends come after check
/// in the pipeline, so check cannot ask them: whoever runs the pipeline hands their vocabulary
/// in (`platc_emit::VOCABULARY`), and a backend adds a name without changing this crate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vocabulary {
    /// Kinds of Kubernetes object generated for a service: what `patch KIND` may name.
    pub object_kinds: &'static [&'static str],
}

/// Checks every input against the backends' `vocabulary`. Returns the workspace when there is a
/// platform to check against (even if some service has errors: callers decide by
/// `Diagnostics::has_errors`).
pub fn check(sources: &SourceMap, inputs: &Inputs, vocabulary: &Vocabulary) -> (Option<Workspace>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let types = read_types(sources, &inputs.types, &mut diags);
    let secret_rules = secrets::read_rules(sources, &inputs.secret_rules, |id, d| parse(sources, id, d), &mut diags);

    let mut platforms = Vec::new();
    for &id in &inputs.platforms {
        if let Some(doc) = parse(sources, id, &mut diags) {
            if let Some(node) = top_node(sources, &doc, "platform", "platform acme { ... }", &mut diags) {
                let mut cx = Cx { file: id, text: &sources.get(id).text, diags: &mut diags };
                platforms.extend(platform::read(&mut cx, node));
                secrets::scan(&mut cx, node, &secret_rules);
            }
        }
    }

    // Each spec is parsed and checked on its own: spread them over every core. Order is kept
    // (chunks are contiguous and joined in order), so output does not depend on scheduling.
    let read_one = |id: FileId, rules: &secrets::Rules, diags: &mut Diagnostics| -> Option<crate::model::Service> {
        let doc = parse(sources, id, diags)?;
        let node = top_node(sources, &doc, "service", "service checkout { ... }", diags)?;
        let mut cx = Cx { file: id, text: &sources.get(id).text, diags };
        secrets::scan(&mut cx, node, rules);
        service::read(&mut cx, node, &types, &inputs.languages, vocabulary)
    };
    let mut services = Vec::with_capacity(inputs.services.len());
    // Each thread scans with its own copy of the rules: a regex shared across threads takes
    // its cache from a locked pool on every match (a quarter of `check` at 1,000 services).
    for (chunk_services, chunk_diags) in crate::par::map_chunks_init(
        &inputs.services,
        || secret_rules.clone(),
        |rules, ids| {
            let mut d = Diagnostics::new();
            let s: Vec<_> = ids.iter().filter_map(|&id| read_one(id, rules, &mut d)).collect();
            (s, d)
        },
    ) {
        services.extend(chunk_services);
        diags.append(chunk_diags);
    }

    let platform = match platforms.len() {
        0 => {
            // A parse error in platform.kdl was already reported; do not also say "missing".
            if inputs.platforms.is_empty() {
                if let Some(s) = services.first() {
                    diags.push(
                        Diagnostic::new(codes::NO_PLATFORM, Label::new(s.file, s.name.span, "built for which platform?"), "no platform.kdl found")
                            .with_help("put a platform.kdl in this directory or a parent (`platc init` writes one), or pass its directory to platc"),
                    );
                }
            }
            None
        }
        1 => platforms.pop(),
        _ => {
            let first = &platforms[0];
            for other in &platforms[1..] {
                diags.push(
                    Diagnostic::new(codes::MULTIPLE_PLATFORMS, Label::new(other.file, other.name.span, "another platform"), "more than one platform.kdl in one run")
                        .with_label(Label::new(first.file, first.name.span, "first platform"))
                        .with_help("check one platform's tree at a time: pass the directory of one platform.kdl"),
                );
            }
            None
        }
    };
    let ws = platform.map(|platform| Workspace { platform, services, types });
    if let Some(ws) = &ws {
        refs::check(ws, inputs.today, &mut diags);
    }
    diags.sort(sources);
    (ws, diags)
}

fn parse(sources: &SourceMap, id: FileId, diags: &mut Diagnostics) -> Option<Document> {
    syntax::parse(id, sources.get(id), diags)
}

/// The single top-level node a spec file must hold.
fn top_node<'d>(sources: &SourceMap, doc: &'d Document, kind: &str, example: &str, diags: &mut Diagnostics) -> Option<&'d syntax::Node> {
    let file = doc.file;
    let mut found = None;
    for node in &doc.nodes {
        if node.name.value != kind {
            let help = match suggest::did_you_mean(&node.name.value, [kind]) {
                Some(k) => format!("did you mean `{k}`?"),
                None => format!("a {} holds one `{kind}` node: {example}", sources.get(file).name.rsplit('/').next().unwrap_or("file")),
            };
            diags.push(
                Diagnostic::new(codes::EXPECTED_TOP_NODE, Label::new(file, node.name.span, format!("expected `{kind}`")), format!("unexpected top-level node `{}`", node.name.value)).with_help(help),
            );
        } else if let Some(first) = found.replace(node) {
            diags.push(
                Diagnostic::new(codes::EXPECTED_TOP_NODE, Label::new(file, node.name.span, "second one"), format!("more than one `{kind}` in one file"))
                    .with_label(Label::new(file, first.name.span, "first one"))
                    .with_help(format!("put each {kind} in its own directory, one `{kind}` per file")),
            );
            found = Some(first);
        }
    }
    if found.is_none() && doc.nodes.is_empty() {
        diags.push(Diagnostic::new(codes::EXPECTED_TOP_NODE, Label::new(file, Span::new(0, 0), "empty file"), format!("no `{kind}` node in this file")).with_help(format!("write {example}")));
    }
    found
}

fn read_types(sources: &SourceMap, files: &[FileId], diags: &mut Diagnostics) -> ResourceTypes {
    let mut types = ResourceTypes::default();
    for &id in files {
        let Some(doc) = parse(sources, id, diags) else { continue };
        let Some(node) = top_node(sources, &doc, "resource-type", "resource-type mongodb { ... }", diags) else { continue };
        let mut cx = Cx { file: id, text: &sources.get(id).text, diags };
        if let Some(t) = resource_type::read(&mut cx, node) {
            // Overlays come later in `files` and replace built-in types of the same name.
            types.types.insert(t.name.value.clone(), t);
        }
    }
    types
}

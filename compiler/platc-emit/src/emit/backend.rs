//! The backend interface: what every artifact generator implements, the context it emits
//! into, and how a problem in the stdlib data it reads becomes a diagnostic in that file.
//!
//! A backend is made once per build from the resolved model and its stdlib data (a broken
//! overlay file is a [`Broken`], reported at the file), then called once per service
//! ([`Backend::service`], on every core) and once for the platform ([`Backend::platform`],
//! after every service). `platc build` and `platc render` run the same loop
//! (`platc::build::run`) over different registries ([`build_backends`], [`render_backends`]).

use std::collections::BTreeMap;

use crate::diagnostics::{codes, Diagnostic, Diagnostics, Label};
use crate::emit::Output;
use crate::lower::BuildOptions;
use crate::resolve::{Resolved, ResolvedService};
use crate::source::{FileId, SourceMap, Span};
use crate::stdlib::Stdlib;

/// Where a backend's files and findings go during one call: `out` holds paths relative to
/// `deploy/` in [`Backend::service`] and to the output root in [`Backend::platform`].
pub struct EmitCx<'a> {
    /// The resolved model: every fact a backend prints.
    pub model: &'a Resolved,
    /// The build's options (`--set`, the branch of a preview).
    pub opts: &'a BuildOptions,
    /// The files of this call.
    pub out: Output,
    /// Problems in the specs found while emitting (a patch that matches nothing).
    pub diags: Diagnostics,
    /// Problems in the stdlib data (an overlay's), reported at their file once per build.
    pub broken: Vec<Broken>,
}

impl<'a> EmitCx<'a> {
    /// An empty context for one call.
    pub fn new(model: &'a Resolved, opts: &'a BuildOptions) -> Self {
        EmitCx { model, opts, out: Output::default(), diags: Diagnostics::new(), broken: Vec::new() }
    }
}

/// One artifact generator. Implementations print facts of the resolved model; a fact a
/// backend needs that is not there belongs in the resolve stage, not here.
pub trait Backend: Sync {
    /// A short name (`kubernetes`, `terraform`, `gitops`, `ci`).
    fn name(&self) -> &'static str;

    /// The files of one service, every environment of the build.
    fn service(&self, _cx: &mut EmitCx, _rs: &ResolvedService) {}

    /// The files that cover every service, after every service was emitted.
    fn platform(&self, _cx: &mut EmitCx) {}
}

/// The backends of `platc build`, and the problems of the stdlib data they could not load
/// (a backend whose data is broken is left out; the build fails on the problems).
pub fn build_backends<'a>(model: &Resolved, stdlib: &'a Stdlib) -> (Vec<Box<dyn Backend + 'a>>, Vec<Broken>) {
    let mut broken = Vec::new();
    let mut backends: Vec<Box<dyn Backend + 'a>> = vec![Box::new(crate::emit::kubernetes::Kubernetes::load(model, stdlib, None, &mut broken))];
    match crate::emit::terraform::Terraform::load(stdlib) {
        Ok(t) => backends.push(Box::new(t)),
        Err(problems) => broken.extend(problems),
    }
    backends.push(Box::new(crate::emit::gitops::GitOps));
    backends.push(Box::new(crate::emit::ci::Ci { stdlib }));
    (backends, broken)
}

/// The backends of `platc render`: the rendered manifests of the kinds `kinds` allows.
pub fn render_backends<'a>(model: &Resolved, stdlib: &'a Stdlib, kinds: &crate::emit::KindFilter) -> (Vec<Box<dyn Backend + 'a>>, Vec<Broken>) {
    let mut broken = Vec::new();
    let k8s = crate::emit::kubernetes::Kubernetes::load(model, stdlib, Some(kinds.clone()), &mut broken);
    (vec![Box::new(k8s)], broken)
}

/// The stdlib file a provisioner serves resource type `ty` with (`terraform/types/TYPE.tf.hbs`,
/// `incluster/TYPE.yaml.hbs`): what must exist wherever a platform serves `ty` so. `platc
/// check` reports a missing one (E0601) before anything is built.
pub fn provisioner_template(provisioner: crate::model::Provisioner, ty: &str) -> String {
    match provisioner {
        crate::model::Provisioner::Aws => format!("{}{}", crate::emit::terraform::render::DIR, crate::emit::terraform::render::type_template(ty)),
        crate::model::Provisioner::InCluster => crate::lower::incluster::template_path(ty),
    }
}

/// A stdlib file a backend could not use: a template that does not compile or render, data
/// that does not parse or breaks a rule. Usually an overlay's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The file, by its display name (`<stdlib>/observability/slo.yaml` or the overlay path).
    pub file: String,
    /// What is wrong, as the parser or the rule says it.
    pub message: String,
    /// The service being generated when the file failed (index into `Resolved::services`).
    pub service: Option<usize>,
    /// The `uses` of that service the file was rendered for.
    pub uses: Option<usize>,
    /// The environment being generated; empty when the file fails on its own.
    pub env: String,
}

impl Broken {
    /// A problem of the file itself, whatever it is used for.
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Broken { file: file.into(), message: message.into(), service: None, uses: None, env: String::new() }
    }

    /// A problem of the stdlib file at `rel` (`terraform/types/postgres.tf.hbs`), by its
    /// display name.
    pub fn at(stdlib: &Stdlib, rel: &str, message: impl Into<String>) -> Self {
        Broken::file(stdlib.get(rel).map_or_else(|| format!("<stdlib>/{rel}"), |f| f.display.clone()), message)
    }
}

/// A stdlib data file (YAML under `ci/` or `observability/`) that does not parse or breaks a
/// rule of its format, found when its backend loads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataProblem {
    /// The file, by its display name (`<stdlib>/ci/actions.yaml` or the overlay path).
    pub file: String,
    /// What is wrong with it.
    pub message: String,
}

impl From<DataProblem> for Broken {
    fn from(e: DataProblem) -> Self {
        Broken::file(e.file, e.message)
    }
}

impl std::fmt::Display for DataProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// The sources a [`Broken`] is reported with: the run's files and the ids of the backends'
/// stdlib files (`Inputs::backend_files`).
pub struct StdlibSources<'a> {
    /// Every file of the run.
    pub sources: &'a SourceMap,
    /// Backend stdlib files by display name.
    pub files: &'a BTreeMap<String, FileId>,
}

/// E0603 for a broken stdlib file: the primary label in the file (at the line and column the
/// parser gave, else its first line), a second one at the resource or service it was used
/// for, or at the platform. Duplicates (the same file failing every service the same way) are
/// reported once.
pub fn report(broken: Vec<Broken>, model: &Resolved, src: &StdlibSources, diags: &mut Diagnostics) {
    let mut seen: Vec<Broken> = Vec::new();
    for b in broken {
        if seen.iter().any(|s| s.file == b.file && s.message == b.message) {
            continue;
        }
        diags.push(diagnostic(&b, model, src));
        seen.push(b);
    }
}

fn diagnostic(b: &Broken, model: &Resolved, src: &StdlibSources) -> Diagnostic {
    let platform = Label::new(model.platform.file, model.platform.name.span, "the platform whose stdlib this is");
    let used = b.service.map(|i| {
        let s = &model.services[i].spec;
        match b.uses.and_then(|u| s.uses.get(u)) {
            Some(u) => Label::new(s.file, u.span, format!("rendering it for this resource in `{}`", b.env)),
            None => Label::new(s.file, s.name.span, format!("rendering it for this service in `{}`", b.env)),
        }
    });
    let id = src.files.get(&b.file).copied();
    // The file as the run names it (relative to the working directory for an overlay's).
    let name = id.map_or(b.file.as_str(), |id| src.sources.get(id).name.as_str());
    let first = first_line(&b.message).replace(b.file.as_str(), name);
    let message = format!("stdlib file {name} is broken: {}", first.strip_prefix(&format!("{name}: ")).unwrap_or(&first));
    let builtin = b.file.starts_with("<stdlib>/");
    let help = if builtin {
        "this file is part of platc's built-in stdlib: please report it as a bug; meanwhile an overlay can replace it (see docs/stdlib.md)".to_string()
    } else {
        "fix the file in the stdlib overlay, or delete it there to use the built-in one (see docs/stdlib.md)".to_string()
    };
    // The parser's own lines after the first, without the source excerpt it may quote (the
    // diagnostic quotes the file itself).
    let detail: Vec<&str> = b
        .message
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && !l.starts_with("-->") && !l.contains(" | "))
        .filter(|l| !first.contains(l.trim_start_matches("= reason:").trim()))
        .collect();
    let help = if detail.is_empty() { help } else { format!("{}\n{help}", detail.join("\n")) };
    let diag = match id {
        Some(id) => {
            let text = &src.sources.get(id).text;
            Diagnostic::new(codes::BROKEN_STDLIB_FILE, Label::new(id, span_of(text, position(&b.message.replace(b.file.as_str(), ""))), "here"), message).with_label(used.unwrap_or(platform))
        }
        // A file that is missing altogether: there is nothing to point into.
        None => Diagnostic::new(codes::BROKEN_STDLIB_FILE, used.unwrap_or(platform), message),
    };
    diag.with_help(help)
}

fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or(message)
}

/// The line and column (1-based) a parser's message names: `line 3 column 5` (serde_json,
/// serde-saphyr), `line 3, col 5` (handlebars), `line 3` alone; the last one when several.
/// The caller removes the file's own name first: an overlay's path (`ci/pipeline 2/`) is not a
/// position.
pub fn position(message: &str) -> Option<(usize, usize)> {
    let lower = message.to_ascii_lowercase();
    let mut found = None;
    for (at, _) in lower.match_indices("line ") {
        let rest = &lower[at + 5..];
        let Some(line) = leading_number(rest) else { continue };
        let after = rest.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start_matches([',', ':', ' ']);
        let column = ["column ", "col "].iter().find_map(|w| after.strip_prefix(w)).and_then(leading_number).unwrap_or(1);
        found = Some((line, column));
    }
    // handlebars: `Template error in "NAME":LINE:COLUMN`.
    for (at, _) in lower.match_indices("\":") {
        let rest = &lower[at + 2..];
        let Some(line) = leading_number(rest) else { continue };
        let column = rest.trim_start_matches(|c: char| c.is_ascii_digit()).strip_prefix(':').and_then(leading_number).unwrap_or(1);
        found = Some((line, column));
    }
    found.filter(|(line, _)| *line > 0)
}

fn leading_number(s: &str) -> Option<usize> {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The span of a position in `text`: from the column to the end of its line (the whole first
/// line without one), so that the quoted source shows the line at fault.
fn span_of(text: &str, at: Option<(usize, usize)>) -> Span {
    let (line, column) = at.unwrap_or((1, 1));
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(n) => start += n + 1,
            None => break,
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    let col = text[start..end].char_indices().nth(column.saturating_sub(1)).map_or(start, |(i, _)| start + i);
    Span::new(col, end.max(col))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages of the parsers the backends use, as they really print them.
    #[test]
    fn positions_of_real_parser_errors() {
        let json = serde_json::from_str::<serde_json::Value>("{\n  \"a\": 1,\n  oops\n}").unwrap_err().to_string();
        assert_eq!(position(&json), Some((3, 3)), "{json}");
        let yaml = serde_saphyr::from_str::<serde_json::Value>("a: 1\nb: [1, 2\nc: 3\n").unwrap_err().to_string();
        assert!(position(&yaml).is_some_and(|(l, _)| (2..=4).contains(&l)), "{yaml}");
        let mut hb = handlebars::Handlebars::new();
        let tpl = hb.register_template_string("t", "line one\n{{#if x}}\nnever closed\n").unwrap_err().to_string();
        assert_eq!(position(&tpl), Some((4, 1)), "{tpl}");
        assert_eq!(position("no position here"), None);
        // Why the caller removes the file's name first: a path can read like a position.
        let file = "/home/ci/pipeline 7/observability/slo.yaml";
        let message = format!("{file}: unknown key `windos`");
        assert_eq!(position(&message), Some((7, 1)));
        assert_eq!(position(&message.replace(file, "")), None);
    }

    #[test]
    fn a_span_covers_the_rest_of_its_line() {
        let text = "first\nsecond line\nthird";
        assert_eq!(span_of(text, Some((2, 3))), Span::new(8, 17));
        assert_eq!(span_of(text, None), Span::new(0, 5));
        // Past the end: the last line, never out of bounds.
        assert_eq!(span_of(text, Some((9, 99))), Span::new(18, 23));
    }
}

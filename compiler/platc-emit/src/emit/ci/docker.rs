//! Dockerfiles from the handlebars templates `stdlib/docker/LANG.Dockerfile.hbs`.
//!
//! Template variables: `header` (lines of the generated-file header), `service`, `module` (the
//! service name as a Python module), `port` (first port, or null) and `uid` (the non-root user
//! of the pod securityContext).

use handlebars::Handlebars;
use serde_json::json;

use super::data::CiError;
use super::{Ctx, ServiceCi, RUN_AS};
use crate::model::Language;

/// The Dockerfile templates of `languages`, compiled once for every service of a build (a
/// compile costs more than a render), and each template that does not compile.
pub(crate) fn templates(ctx: &Ctx, languages: &[Language]) -> (Handlebars<'static>, Vec<CiError>) {
    let mut hb = Handlebars::new();
    // Dockerfiles are not HTML: `&&` and `<` must pass through unchanged.
    hb.register_escape_fn(handlebars::no_escape);
    hb.set_strict_mode(true);
    let mut errors = Vec::new();
    for lang in languages {
        match ctx.data.templates.get(lang.as_str()) {
            Some((file, text)) => {
                if let Err(e) = hb.register_template_string(lang.as_str(), text) {
                    errors.push(CiError { file: file.clone(), message: e.to_string() });
                }
            }
            None => errors.push(CiError { file: super::data::dockerfile_template(lang), message: "not loaded".into() }),
        }
    }
    (hb, errors)
}

/// The Dockerfile of service `s` from its language's template in `hb` ([`templates`]); `None`
/// when that template did not compile (reported once, by [`templates`]).
pub(crate) fn dockerfile(hb: &Handlebars, ctx: &Ctx, s: &ServiceCi, lang: &Language) -> Option<Result<String, CiError>> {
    if !hb.has_template(lang.as_str()) {
        return None;
    }
    let file = ctx.data.templates.get(lang.as_str()).map(|(f, _)| f.clone()).unwrap_or_else(|| super::data::dockerfile_template(lang));
    let header = crate::emit::header(&s.source) + &format!("\nBuild: docker build -f {} {}", s.dockerfile, s.dir);
    let data = json!({
        "header": header.lines().collect::<Vec<_>>(),
        "service": s.name,
        "module": s.name.replace('-', "_"),
        "port": s.port,
        "uid": RUN_AS,
    });
    Some(hb.render(lang.as_str(), &data).map_err(|e| CiError { file, message: e.to_string() }).map(|mut out| {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }))
}

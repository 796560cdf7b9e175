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

pub(crate) fn dockerfile(ctx: &Ctx, s: &ServiceCi, lang: &Language) -> Result<String, CiError> {
    let (file, text) = ctx.data.templates.get(lang.as_str()).ok_or_else(|| CiError { file: super::data::dockerfile_template(lang), message: "not loaded".into() })?;
    let mut hb = Handlebars::new();
    // Dockerfiles are not HTML: `&&` and `<` must pass through unchanged.
    hb.register_escape_fn(handlebars::no_escape);
    hb.set_strict_mode(true);
    hb.register_template_string("dockerfile", text).map_err(|e| CiError { file: file.clone(), message: e.to_string() })?;
    let header = crate::emit::header(&s.source) + &format!("\nBuild: docker build -f {} {}", s.dockerfile, s.dir);
    let data = json!({
        "header": header.lines().collect::<Vec<_>>(),
        "service": s.name,
        "module": s.name.replace('-', "_"),
        "port": s.port,
        "uid": RUN_AS,
    });
    let mut out = hb.render("dockerfile", &data).map_err(|e| CiError { file: file.clone(), message: e.to_string() })?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

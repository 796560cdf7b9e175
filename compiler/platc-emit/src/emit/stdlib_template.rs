//! What the Handlebars templates of the stdlib share, whichever backend renders them
//! (Terraform under `terraform/`, in-cluster resources under `incluster/`): the name helpers
//! (`{{dns A B max=N}}`, `{{ident A B max=N}}`), the text of a render error, and the problem a
//! template reports.

use handlebars::{Context, Handlebars, Helper, HelperResult, JsonRender, Output, RenderContext, RenderError, RenderErrorReason};

use crate::emit::backend::Broken;
use crate::resolve::naming;
use crate::stdlib::Stdlib;

/// Registers `dns` and `ident`, which name things exactly as the resolve stage does
/// ([`naming::dns_safe`], [`naming::identifier`]), so a template and platc never disagree.
pub fn register_name_helpers(hb: &mut Handlebars) {
    hb.register_helper("dns", Box::new(dns));
    hb.register_helper("ident", Box::new(ident));
}

/// `{{dns A B max=N}}`: a DNS label of at most N (default 63) characters.
fn dns(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    out.write(&naming::dns_safe(&joined(h), max_of(h, 63)?))?;
    Ok(())
}

/// `{{ident A B max=N}}`: a database identifier of at most N (default 63) characters.
fn ident(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    out.write(&naming::identifier(&joined(h), max_of(h, 63)?))?;
    Ok(())
}

fn joined(h: &Helper) -> String {
    h.params().iter().map(|p| p.value().render()).collect()
}

fn max_of(h: &Helper, default: usize) -> Result<usize, RenderError> {
    match h.hash_get("max") {
        None => Ok(default),
        Some(v) => v.value().as_u64().map(|n| n as usize).ok_or_else(|| RenderErrorReason::Other(format!("{}: max= must be a number", h.name())).into()),
    }
}

/// A render error with its position, without the handlebars boilerplate.
pub fn render_error(e: &RenderError) -> String {
    let at = match (e.line_no, e.column_no) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        _ => String::new(),
    };
    format!("{}{at}", e.reason())
}

/// Why a stdlib template (usually an overlay's) could not be used: it is missing, does not
/// compile or render, or renders something that breaks its contract (invalid HCL, connection
/// keys other than the type's outputs, an unpinned image, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    /// Index into `Resolved::services` (with `uses`, the resource at fault); `None` when the
    /// file itself is broken, whatever it is rendered for.
    pub service: Option<usize>,
    /// Index into the service's `uses`, when one resource is at fault.
    pub uses: Option<usize>,
    /// The environment being generated ("" for a file that does not load).
    pub env: String,
    /// Stdlib path of the file at fault (`terraform/types/postgres.tf.hbs`).
    pub template: String,
    /// What is wrong with it.
    pub message: String,
}

impl TemplateProblem {
    /// The problem as the backends report it: at the stdlib file, for the resource it was
    /// rendered for.
    pub fn into_broken(self, stdlib: &Stdlib) -> Broken {
        let TemplateProblem { service, uses, env, template, message } = self;
        Broken { service, uses, env, ..Broken::at(stdlib, &template, message) }
    }
}

impl std::fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.env.is_empty() {
            write!(f, "{}: {}", self.template, self.message)
        } else {
            write!(f, "{} (environment `{}`): {}", self.template, self.env, self.message)
        }
    }
}

//! Terraform for the `aws` provisioner: per service and environment, the AWS resources behind
//! the service's `uses` that platform.kdl serves with `aws` there, the IAM role its pods assume
//! and one Secrets Manager secret of connection details per resource.
//!
//! Layout (relative to `deploy/`): `SERVICE/terraform/ENV/{versions,main,variables,outputs}.tf`.
//!
//! What each resource type becomes is data: handlebars templates under `stdlib/terraform/`
//! (see [`render`] for the variables and helpers), replaceable from a stdlib overlay. The
//! templates are written in `terraform fmt` layout; every rendered file is parsed with `hcl-rs`
//! and checked against the resource types' outputs ([`inspect`]), so a broken overlay template
//! is reported, not written. See docs/terraform.md.

pub mod inspect;
pub mod render;

use std::collections::BTreeSet;

use serde_json::{json, Value as Json};

use super::Output;
use crate::lower::incluster::template_params;
use crate::model::{Identity, Provisioner, Uses};
use crate::resolve::naming::{aws_name, connection_secret_name, instance, Placement};
use crate::resolve::{Resolved, ResolvedService};
use crate::stdlib::Stdlib;

pub use crate::resolve::naming::tf_id;

pub use hcl;

/// Why the Terraform of one service could not be generated: a stdlib template (usually from an
/// overlay) is missing, does not render, renders invalid HCL or does not provide every output of
/// its resource type.
pub use crate::emit::stdlib_template::TemplateProblem as Problem;

/// The Terraform backend: per service, a root module per environment where it has `aws`
/// resources, from the stdlib's templates.
pub struct Terraform<'a> {
    stdlib: &'a Stdlib,
    templates: render::Templates,
}

impl<'a> Terraform<'a> {
    /// Compiles the stdlib's templates; a broken one is reported at its file.
    pub fn load(stdlib: &'a Stdlib) -> Result<Self, Vec<crate::emit::backend::Broken>> {
        match load(stdlib) {
            Ok(templates) => Ok(Terraform { stdlib, templates }),
            Err(problems) => Err(problems.into_iter().map(|p| p.into_broken(stdlib)).collect()),
        }
    }
}

impl crate::emit::backend::Backend for Terraform<'_> {
    fn name(&self) -> &'static str {
        "terraform"
    }

    fn service(&self, cx: &mut crate::emit::backend::EmitCx, rs: &ResolvedService) {
        match service_files(cx.model, &self.templates, rs) {
            Ok(files) => files.into_iter().for_each(|(p, text)| cx.out.add(p, text)),
            Err(problems) => cx.broken.extend(problems.into_iter().map(|p| p.into_broken(self.stdlib))),
        }
    }
}

/// The Terraform files of every service and environment with `aws` resources, relative to
/// `deploy/`, or every [`Problem`] with the stdlib templates (only possible with an overlay).
/// Every service is tried; the error lists the problems of all of them.
pub fn emit(r: &Resolved, stdlib: &Stdlib) -> Result<Output, Vec<Problem>> {
    let templates = load(stdlib)?;
    let mut out = Output::default();
    let mut problems = Vec::new();
    // Services render independently: all cores; results are added in service order.
    let results = crate::par::map_chunks(&r.services, |chunk| chunk.iter().map(|rs| service_files(r, &templates, rs)).collect::<Vec<_>>());
    for result in results.into_iter().flatten() {
        match result {
            Ok(files) => {
                for (path, text) in files {
                    out.add(path, text);
                }
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    collected(out, problems)
}

/// The stdlib's Terraform templates, compiled once per build.
pub fn load(stdlib: &Stdlib) -> Result<render::Templates, Vec<Problem>> {
    render::Templates::load(stdlib).map_err(|(template, message)| vec![Problem { service: None, uses: None, env: String::new(), template, message }])
}

/// The Terraform files of a service in every placement built where it has `aws` resources,
/// paths relative to `deploy/`.
pub fn service_files(r: &Resolved, templates: &render::Templates, rs: &ResolvedService) -> Result<Vec<(String, String)>, Vec<Problem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for pl in &r.placements {
        let Some(unit) = Unit::new(rs, pl) else { continue };
        match unit.files(r, templates, &rs.source) {
            Ok(files) => out.extend(files.into_iter().map(|(name, text)| (format!("{}/{name}", dir(&rs.name, &pl.env)), text))),
            Err(mut p) => problems.append(&mut p),
        }
    }
    collected(out, problems)
}

/// Directory of a service's Terraform for one environment, relative to `deploy/`.
pub fn dir(service: &str, env: &str) -> String {
    format!("{service}/terraform/{env}")
}

/// The resources of a service that the `aws` provisioner serves in `pl`'s environment (as
/// resolved), with their indexes in `uses`.
pub fn aws_uses<'a>(rs: &'a ResolvedService, pl: &Placement) -> Vec<(usize, &'a Uses)> {
    let Some(facts) = rs.envs.get(&pl.env) else { return Vec::new() };
    rs.spec.uses.iter().enumerate().filter(|(k, _)| facts.provisioners[*k] == Provisioner::Aws).collect()
}

/// One Terraform root module: a service in an environment.
struct Unit<'a> {
    service: &'a ResolvedService,
    pl: &'a Placement,
    uses: Vec<(usize, &'a Uses)>,
}

impl<'a> Unit<'a> {
    fn new(service: &'a ResolvedService, pl: &'a Placement) -> Option<Self> {
        let uses = aws_uses(service, pl);
        (!uses.is_empty()).then_some(Unit { service, pl, uses })
    }

    fn problem(&self, uses: Option<usize>, template: &str, message: impl Into<String>) -> Problem {
        Problem { service: Some(self.service.index), uses, env: self.pl.env.clone(), template: template.to_string(), message: message.into() }
    }

    /// The template variables shared by every file (see [`render`]).
    fn context(&self, r: &Resolved, source: &str) -> Json {
        let p = &r.platform;
        let env = r.environment(self.pl);
        let name = &self.service.name;
        let backend = p.terraform_backend.as_ref().map(|b| {
            let prefix = b.key_prefix.trim_matches('/');
            let key = if prefix.is_empty() { format!("{name}/{}.tfstate", instance(self.pl)) } else { format!("{prefix}/{name}/{}.tfstate", instance(self.pl)) };
            json!({"bucket": b.bucket, "region": b.region, "lock_table": b.lock_table, "key": key})
        });
        let ports = &self.service.envs[&self.pl.env].resource_ports;
        let resources: Vec<Json> = self.uses.iter().map(|&(k, u)| resource_context(r, self.pl, name, u, ports[k])).collect();
        json!({
            "header": super::header(source).lines().collect::<Vec<_>>(),
            "platform": {"name": p.name.value, "region": p.region},
            "identity": match p.identity { Identity::PodIdentity => "pod-identity", Identity::Irsa => "irsa" },
            "pod_identity": p.identity == Identity::PodIdentity,
            "env": {
                "name": self.pl.env,
                "instance": instance(self.pl),
                "namespace": self.pl.namespace,
                "protected": env.protected,
            },
            "service": {
                "name": name,
                "owner": self.service.spec.owner.as_ref().map(|o| o.value.as_str()).unwrap_or("unowned"),
                "service_account": name,
            },
            "backend": backend,
            "resources": resources,
            "resource_blocks": "",
            "resource_outputs": "",
        })
    }

    /// Renders, checks and names the four files. A step whose problems would only cause more
    /// (rendering on top of a template that failed) ends it with the problems so far.
    fn files(&self, r: &Resolved, t: &render::Templates, source: &str) -> Result<Vec<(&'static str, String)>, Vec<Problem>> {
        let mut ctx = self.context(r, source);
        let (blocks, outputs) = self.resource_parts(t, &ctx)?;
        ctx["resource_blocks"] = json!(blocks);
        ctx["resource_outputs"] = json!(outputs);
        let ctx = handlebars::Context::from(ctx);
        let mut files = Vec::new();
        let mut problems = Vec::new();
        for (file, template) in [("versions.tf", "versions.tf.hbs"), ("main.tf", "main.tf.hbs"), ("outputs.tf", "outputs.tf.hbs")] {
            match self.render(t, template, &ctx, None) {
                Ok(text) => files.push((file, tidy(&text))),
                Err(p) => problems.push(p),
            }
        }
        let mut files = collected(files, problems)?;
        let mut problems = Vec::new();
        let vars = self.variables(t, &ctx, &files, &mut problems);
        let head: String = ctx.data()["header"].as_array().into_iter().flatten().filter_map(Json::as_str).map(|l| format!("# {l}\n")).collect();
        files.push(("variables.tf", tidy(&format!("{head}{vars}"))));
        // Every file must parse, and every resource must provide each output of its type.
        let mut main = None;
        for (file, text) in &files {
            match inspect::parse(text) {
                Ok(body) if *file == "main.tf" => main = Some(body),
                Ok(_) => {}
                Err(e) => problems.push(self.problem(None, "terraform/", format!("{file} is not valid HCL: {e}"))),
            }
        }
        if let (true, Some(main)) = (problems.is_empty(), &main) {
            self.check_connections(r, &ctx, main, &mut problems);
        }
        collected(files, problems)
    }

    /// Renders stdlib template `name`; a failure is a problem of the template (and of resource
    /// `uses`, when it renders one).
    fn render(&self, t: &render::Templates, name: &str, ctx: &handlebars::Context, uses: Option<usize>) -> Result<String, Problem> {
        t.render(name, ctx).map_err(|e| self.problem(uses, &format!("terraform/{name}"), e))
    }

    /// The resource blocks (the type's template, then its connection secret) and the outputs of
    /// every resource, each rendered with its own entry of `resources` as `resource`. A type
    /// without a template is a problem: platform.kdl serves it with `aws` but nothing says how.
    fn resource_parts(&self, t: &render::Templates, ctx: &Json) -> Result<(String, String), Vec<Problem>> {
        let mut problems = Vec::new();
        let mut blocks = String::new();
        let mut outputs = String::new();
        for (k, (ui, u)) in self.uses.iter().enumerate() {
            let mut rctx = ctx.clone();
            rctx["resource"] = ctx["resources"][k].clone();
            let rctx = handlebars::Context::from(rctx);
            let main = render::type_template(&u.ty.value);
            if !t.has(&main) {
                problems.push(self.problem(
                    Some(*ui),
                    &format!("terraform/{main}"),
                    format!("resource type `{}` has no Terraform template: add terraform/{main} to the stdlib overlay, or serve `{}` with another provisioner in platform.kdl", u.ty.value, u.ty.value),
                ));
                continue;
            }
            for name in [main.clone(), "connection.tf.hbs".to_string()] {
                match self.render(t, &name, &rctx, Some(*ui)) {
                    Ok(text) => blocks.push_str(&text),
                    Err(p) => problems.push(p),
                }
            }
            let out_t = render::outputs_template(&u.ty.value);
            if t.has(&out_t) {
                match self.render(t, &out_t, &rctx, Some(*ui)) {
                    Ok(text) => outputs.push_str(&text),
                    Err(p) => problems.push(p),
                }
            }
        }
        collected((blocks, outputs), problems)
    }

    /// The declarations of exactly the variables `files` reference, each from its own template
    /// (`variables/NAME.tf.hbs`), so that a resource type's template can use a new variable by
    /// adding its declaration to the stdlib.
    fn variables(&self, t: &render::Templates, ctx: &handlebars::Context, files: &[(&str, String)], problems: &mut Vec<Problem>) -> String {
        let mut vars = String::new();
        let used: BTreeSet<String> = files.iter().flat_map(|(_, text)| inspect::referenced_variables(text)).collect();
        for v in &used {
            let template = format!("variables/{v}.tf.hbs");
            if !t.has(&template) {
                problems.push(self.problem(None, &format!("terraform/{template}"), format!("the configuration uses `var.{v}` but the stdlib declares no terraform/{template}")));
                continue;
            }
            match self.render(t, &template, ctx, None) {
                Ok(text) => {
                    vars.push('\n');
                    vars.push_str(&text);
                }
                Err(p) => problems.push(p),
            }
        }
        vars
    }

    /// Checks that each resource's template defines `local.ID_connection` with exactly one key
    /// per output of its type: the connection secret is made from it, and the workloads read
    /// those keys.
    fn check_connections(&self, r: &Resolved, ctx: &handlebars::Context, main: &hcl::Body, problems: &mut Vec<Problem>) {
        for (k, (ui, u)) in self.uses.iter().enumerate() {
            let id = ctx.data()["resources"][k]["id"].as_str().unwrap_or_default().to_string();
            let want: BTreeSet<String> = r.types.get(&u.ty.value).map(|ty| ty.outputs.keys().cloned().collect()).unwrap_or_default();
            match inspect::connection_keys_in(main, &id) {
                None => problems.push(self.problem(
                    Some(*ui),
                    &format!("terraform/{}", render::type_template(&u.ty.value)),
                    format!("defines no `locals {{ {id}_connection = {{ ... }} }}` with the connection details of {} `{}`", u.ty.value, u.name.value),
                )),
                Some(have) if have != want => {
                    let missing: Vec<&str> = want.difference(&have).map(String::as_str).collect();
                    let extra: Vec<&str> = have.difference(&want).map(String::as_str).collect();
                    problems.push(self.problem(
                        Some(*ui),
                        &format!("terraform/{}", render::type_template(&u.ty.value)),
                        format!("`local.{id}_connection` must have one key per output of type `{}`: missing [{}], not outputs [{}]", u.ty.value, missing.join(", "), extra.join(", ")),
                    ));
                }
                Some(_) => {}
            }
        }
    }
}

/// `value` when there were no `problems`, else all of them.
fn collected<T>(value: T, problems: Vec<Problem>) -> Result<T, Vec<Problem>> {
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(problems)
    }
}

/// Template variables of one resource, whose server listens on `port` (resolved for `aws`).
fn resource_context(r: &Resolved, pl: &Placement, service: &str, u: &Uses, port: u16) -> Json {
    let ty = r.types.get(&u.ty.value);
    let params = template_params(u);
    json!({
        "type": u.ty.value,
        "name": u.name.value,
        "id": tf_id(&u.name.value),
        "aws_name": aws_name(&r.platform.name.value, pl, service, &u.name.value),
        "secret_name": connection_secret_name(pl, service, &u.name.value),
        "port": port,
        "params": params,
        "outputs": ty.map(|t| t.outputs.values().map(|o| json!({"name": o.name, "secret": o.secret})).collect::<Vec<_>>()).unwrap_or_default(),
    })
}

/// Whitespace only: no trailing spaces, at most one blank line in a row, no blank lines at the
/// end or right after an opening or before a closing brace line, one final newline.
fn tidy(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut out: Vec<&str> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            let prev = out.last().copied();
            let next = lines[i + 1..].iter().find(|l| !l.is_empty()).copied();
            let after_open = prev.is_none_or(|p| p.ends_with('{') || p.is_empty());
            let before_close = next.is_none_or(|n| n.trim_start().starts_with('}'));
            if after_open || before_close {
                continue;
            }
        }
        out.push(line);
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::incluster::param_json;
    use crate::model::ParamValue;

    #[test]
    fn identifiers_and_tidying() {
        assert_eq!(tf_id("orders-db"), "orders_db");
        assert_eq!(tf_id("1st"), "r_1st");
        assert_eq!(tidy("a {\n\n  b = 1\n\n\n  c = 2  \n\n}\n\n"), "a {\n  b = 1\n\n  c = 2\n}\n");
    }

    #[test]
    fn durations_round_up() {
        let d = param_json(&ParamValue::Duration(crate::model::Duration(90_000)));
        assert_eq!((d["seconds"].as_u64(), d["minutes"].as_u64(), d["days"].as_u64()), (Some(90), Some(2), Some(1)));
        assert_eq!(param_json(&ParamValue::Duration(crate::model::Duration(0)))["days"], json!(0));
    }
}

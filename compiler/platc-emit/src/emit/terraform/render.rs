//! The handlebars templates of `stdlib/terraform/` and the helpers they may use.
//!
//! Templates (paths relative to `stdlib/terraform/`):
//! - `versions.tf.hbs`, `main.tf.hbs`, `outputs.tf.hbs`: one file each; `main.tf.hbs` places the
//!   rendered resources with `{{{resource_blocks}}}`, `outputs.tf.hbs` their outputs with
//!   `{{{resource_outputs}}}`.
//! - `types/TYPE.tf.hbs` (required for every type served by `aws`): the resources of one `uses`,
//!   ending with `locals { ID_connection = { OUTPUT = EXPR ... } }`, one key per output of the
//!   type; `types/TYPE.outputs.tf.hbs` (optional): its Terraform outputs.
//! - `connection.tf.hbs`: the connection secret of one resource, from `local.ID_connection`.
//! - `variables/NAME.tf.hbs`: the declaration of `var.NAME`, emitted when the configuration
//!   uses it.
//!
//! Variables: `header` (lines), `platform.{name,region}`, `identity` (`pod-identity`/`irsa`),
//! `pod_identity`, `env.{name,instance,namespace,protected}`,
//! `service.{name,owner,service_account}`, `backend` (`null` or `{bucket,region,key,lock_table}`),
//! `resources` (list), and in type templates `resource`: `{type,name,id,aws_name,secret_name,port,
//! params,outputs}`. Parameters are keyed with `_` for `-`; memory is `{bytes,mib,gib,text}`,
//! durations `{seconds,minutes,hours,days,text}` (rounded up).
//!
//! `{{x}}` escapes for the inside of an HCL string (`"`, `\`, `${`, `%{`, newlines);
//! `{{{x}}}` inserts verbatim. Strict mode: a misspelt variable is an error.
//!
//! Helpers besides the built-in `eq`, `ne`, `gt`, `lt`, `and`, `or`, `not`:
//! - `{{dns A B ... max=N}}`: the arguments joined, as a DNS label of at most N characters
//!   (63 by default), shortened with a hash of the full text when longer.
//! - `{{ident A B ... max=N}}`: the arguments joined, as a lowercase identifier (`[a-z0-9_]`,
//!   starting with a letter) of at most N characters (a database or user name).
//! - `{{pick KEY a="..." b="..."}}`: the value named by KEY (e.g. a size); an error when absent.
//! - `{{add A B}}`, `{{mul A B}}`: integer arithmetic.

use handlebars::{Context, Handlebars, Helper, HelperResult, JsonRender, Output, RenderContext, RenderError, RenderErrorReason};

use crate::stdlib::Stdlib;

/// The stdlib folder of the Terraform templates.
pub const DIR: &str = "terraform/";

/// Template of a resource type, relative to [`DIR`].
pub fn type_template(ty: &str) -> String {
    format!("types/{ty}.tf.hbs")
}

/// Outputs template of a resource type, relative to [`DIR`].
pub fn outputs_template(ty: &str) -> String {
    format!("types/{ty}.outputs.tf.hbs")
}

/// Every template of the merged stdlib (built-in and overlays), compiled.
pub struct Templates {
    hb: Handlebars<'static>,
}

impl Templates {
    /// Compiles `stdlib/terraform/**/*.hbs`; `Err((template, message))` for the first that
    /// does not compile.
    pub fn load(stdlib: &Stdlib) -> Result<Self, (String, String)> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(hcl_escape);
        crate::emit::stdlib_template::register_name_helpers(&mut hb);
        hb.register_helper("pick", Box::new(pick));
        hb.register_helper("add", Box::new(add));
        hb.register_helper("mul", Box::new(mul));
        for (path, file) in stdlib.under(DIR) {
            let Some(name) = path.strip_prefix(DIR) else { continue };
            if !name.ends_with(".hbs") {
                continue;
            }
            hb.register_template_string(name, &file.text).map_err(|e| (file.display.clone(), e.to_string()))?;
        }
        Ok(Templates { hb })
    }

    /// Whether the stdlib has template `name` (relative to `terraform/`).
    pub fn has(&self, name: &str) -> bool {
        self.hb.has_template(name)
    }

    /// Renders template `name` with `data`, a context made once with `Context::from` (moved,
    /// not serialized again for every template, as `Handlebars::render` would).
    pub fn render(&self, name: &str, data: &Context) -> Result<String, String> {
        self.hb.render_with_context(name, data).map_err(|e| render_error(&e))
    }
}

use crate::emit::stdlib_template::render_error;

/// Escapes text for the inside of a quoted HCL string: C-style escapes, and the template
/// markers `${` and `%{` doubled so that a value is never interpolated.
pub fn hcl_escape(text: &str) -> String {
    crate::lower::incluster::escape_quoted(text, &['$', '%'])
}

fn pick(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let key = h.param(0).map(|p| p.value().render()).ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("pick", 0))?;
    match h.hash_get(&key) {
        Some(v) => out.write(&hcl_escape(&v.value().render()))?,
        None => {
            let mut have: Vec<&str> = h.hash().keys().copied().collect();
            have.sort_unstable();
            return Err(RenderErrorReason::Other(format!("pick: no value for `{key}` (the template knows: {})", have.join(", "))).into());
        }
    }
    Ok(())
}

fn ints(h: &Helper) -> Result<(i64, i64), RenderError> {
    let get = |i: usize| h.param(i).and_then(|p| p.value().as_i64()).ok_or_else(|| RenderError::from(RenderErrorReason::Other(format!("{}: two whole numbers expected", h.name()))));
    Ok((get(0)?, get(1)?))
}

fn add(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let (a, b) = ints(h)?;
    out.write(&(a + b).to_string())?;
    Ok(())
}

fn mul(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let (a, b) = ints(h)?;
    out.write(&(a * b).to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_hcl_strings() {
        assert_eq!(hcl_escape(r#"a "b" \ ${x} %{y} $z"#), r#"a \"b\" \\ $${x} %%{y} $z"#);
    }

    #[test]
    fn identifiers() {
        use crate::lower::identifier;
        assert_eq!(identifier("orders-db", 63), "orders_db");
        assert_eq!(identifier("9lives", 4), "x9li");
    }

    #[test]
    fn helpers_render() {
        let t = Templates::load(&Stdlib::builtin()).unwrap();
        let mut hb = t.hb;
        hb.register_template_string("t", r#"{{dns "Shop" "-" "prod" max=63}} {{ident "check-out" max=5}} {{pick s small="a" large="b"}} {{add 1 2}} {{mul 3 4}} {{x}}"#).unwrap();
        let out = hb.render("t", &serde_json::json!({"s": "large", "x": "a\"b"})).unwrap();
        assert_eq!(out, r#"shop-prod check b 3 12 a\"b"#);
        let err = hb.render("t", &serde_json::json!({"s": "huge", "x": ""})).unwrap_err();
        assert!(err.to_string().contains("no value for `huge`"), "{err}");
    }
}

//! The GitLab CI pipeline `.gitlab-ci.yml` (platform.kdl: `ci gitlab`): the same jobs as the
//! GitHub workflow in GitLab's terms (merge request pipelines, environments with `on_stop` and
//! `auto_stop_in`, resource groups, manual jobs for protected environments, OIDC `id_tokens`).

use serde_json::{json, Map, Value as Json};

use super::data::CiError;
use super::lazy::LazyMap;
use super::{registry_host, scripts, Ctx, EnvCi, ServiceCi};

const MR: &str = "$CI_PIPELINE_SOURCE == \"merge_request_event\"";
/// GitLab environment names allow fewer characters than branch names: the environment is named
/// after GitLab's slug of the branch, while platc gets the branch itself (below).
const PREVIEW_ENV: &str = "$CI_COMMIT_REF_SLUG";
/// The branch reaches platc through the shell, which reads the variable's value once (a `$` in
/// a branch name stays a `$`), never through GitLab's expansion of `variables:`.
const EXPORT_BRANCH: &str = "export PREVIEW_BRANCH=\"$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME\"";

pub(crate) fn pipeline(ctx: &Ctx) -> Result<String, CiError> {
    let b = &Builder { ctx };
    let on_main = format!("$CI_COMMIT_BRANCH == \"{}\"", ctx.data.settings.default_branch);
    // Jobs are built while the file is written (see `lazy`): per-service jobs are the bulk.
    let mut root = LazyMap::default();
    root.ready("workflow", json!({"rules": [{"if": MR}, {"if": on_main}]}));
    root.ready("stages", json!(["check", "test", "build", "preview", "plan", "deploy"]));
    root.ready("variables", json!({"IMAGE_TAG": "$CI_COMMIT_SHA"}));
    // A newer pipeline of the same branch cancels checks, tests and builds; deploys opt out.
    root.ready("default", json!({"interruptible": true}));
    root.ready("platc-check", b.check());
    let mut required = vec!["platc-check".to_string()];
    for s in &ctx.services {
        if s.language.is_some() {
            root.later(format!("test-{}", s.name), move || b.test(s));
            required.push(format!("test-{}", s.name));
        }
    }
    for s in ctx.services.iter().filter(|s| s.built) {
        root.later(format!("image-{}", s.name), move || Ok(b.image(s)));
        required.push(format!("image-{}", s.name));
    }
    if let Some(env) = ctx.preview() {
        root.ready("preview", b.preview(&env, &required));
        root.ready("preview-teardown", b.teardown(&env));
    }
    let mut previous: Vec<String> = required;
    for env in ctx.promotion() {
        let mut needs = previous.clone();
        if env.terraform {
            let plan = format!("terraform-plan-{}", env.name);
            root.ready(plan.clone(), b.terraform(&env, false, &["platc-check".to_string()], &on_main));
            let apply = format!("terraform-apply-{}", env.name);
            let mut apply_needs = previous.clone();
            apply_needs.push(plan);
            root.ready(apply.clone(), b.terraform(&env, true, &apply_needs, &on_main));
            needs = vec![apply];
        }
        let deploy = format!("deploy-{}", env.name);
        root.ready(deploy.clone(), b.deploy(&env, &needs, &on_main));
        previous = vec![deploy];
    }
    let head = format!(
        "{}\nThe pipeline of every service of this repository: checks, tests, images, previews of merge requests,\npromotion of `{}` through {}. See docs/ci.md of platc.",
        crate::emit::header(&ctx.platform_source),
        ctx.data.settings.default_branch,
        ctx.promotion().iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(" -> ")
    );
    root.to_yaml(&head, &ctx.data)
}

struct Builder<'a> {
    ctx: &'a Ctx<'a>,
}

/// A shell word: single-quoted unless it is plainly safe.
fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// GitLab's deployment tier of an environment name.
fn tier(name: &str) -> &'static str {
    match name {
        "prod" | "production" | "live" => "production",
        "staging" | "stage" | "uat" => "staging",
        "dev" | "development" => "development",
        "test" | "testing" | "qa" => "testing",
        _ => "other",
    }
}

/// A GitLab duration (`auto_stop_in`) for a number of seconds.
fn duration(secs: u64) -> String {
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{} hours", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{} minutes", s / 60),
        s => format!("{} seconds", s.max(1)),
    }
}

impl Builder<'_> {
    fn settings(&self) -> &super::data::Settings {
        &self.ctx.data.settings
    }

    /// Image, cache and install commands of jobs that run platc.
    fn platc_job(&self, stage: &str) -> Map<String, Json> {
        let g = &self.settings().install.gitlab;
        let mut job = Map::new();
        job.insert("stage".into(), json!(stage));
        job.insert("image".into(), json!(g.image));
        job.insert("cache".into(), g.cache.clone());
        job.insert("before_script".into(), json!(g.before_script));
        job
    }

    /// Variables of jobs that commit to the GitOps repository (the token itself is a masked
    /// CI/CD variable; it is only mapped when the platform names it differently).
    fn gitops_variables(&self) -> Json {
        let g = &self.ctx.r.platform.gitops;
        let id = &self.settings().git_identity;
        let mut vars = json!({
            "GITOPS_REPO": g.repo,
            "GITOPS_BRANCH": g.branch,
            "GIT_AUTHOR_NAME": id.name,
            "GIT_AUTHOR_EMAIL": id.email,
            "GIT_COMMITTER_NAME": id.name,
            "GIT_COMMITTER_EMAIL": id.email,
        });
        let token = &self.settings().secrets.gitops_token;
        if token != "GITOPS_TOKEN" {
            vars["GITOPS_TOKEN"] = json!(format!("${token}"));
        }
        vars
    }

    fn check(&self) -> Json {
        let mut job = self.platc_job("check");
        job.insert("needs".into(), json!([]));
        // The drift gate: committed outputs must be what the specs produce, untouched by hand.
        job.insert("script".into(), json!(["platc check", "platc build --check"]));
        Json::Object(job)
    }

    fn test(&self, s: &ServiceCi) -> Result<Json, CiError> {
        let lang = s.language.as_ref().expect("test jobs exist for services with a language");
        let ci = self.ctx.data.language(lang, &s.name, &s.dir)?;
        let mut job = Map::new();
        job.insert("stage".into(), json!("test"));
        job.insert("needs".into(), json!([]));
        job.insert("image".into(), json!(ci.gitlab.image));
        if !ci.gitlab.variables.is_empty() {
            job.insert("variables".into(), json!(ci.gitlab.variables));
        }
        if let Some(cache) = &ci.gitlab.cache {
            job.insert("cache".into(), cache.clone());
        }
        let mut script = vec![format!("cd {}", quote(&s.dir))];
        script.extend(ci.test.iter().cloned());
        job.insert("script".into(), json!(script));
        Ok(Json::Object(job))
    }

    fn image(&self, s: &ServiceCi) -> Json {
        let d = &self.settings().docker;
        let sec = &self.settings().secrets;
        let host = registry_host(&s.image);
        let tagged = format!("{}:$IMAGE_TAG", s.image);
        let needs = if s.language.is_some() { vec![format!("test-{}", s.name)] } else { vec![] };
        json!({
            "stage": "build",
            "needs": needs,
            "image": d.gitlab_image,
            "services": [d.gitlab_service],
            "variables": {
                "DOCKER_HOST": "tcp://docker:2376",
                "DOCKER_TLS_CERTDIR": "/certs",
                "DOCKER_TLS_VERIFY": "1",
                "DOCKER_CERT_PATH": "/certs/client",
            },
            "script": [
                format!("printf '%s' \"${}\" | docker login --username \"${}\" --password-stdin {}", sec.registry_password, sec.registry_username, quote(&host)),
                format!("docker build --pull --file {} --tag \"{tagged}\" {}", quote(&s.dockerfile), quote(&s.dir)),
                format!("docker push \"{tagged}\""),
            ],
        })
    }

    fn preview(&self, env: &EnvCi, needs: &[String]) -> Json {
        let mut job = self.platc_job("preview");
        job.insert("needs".into(), json!(needs));
        job.insert("rules".into(), json!([{"if": MR}]));
        job.insert("variables".into(), self.gitops_variables());
        let mut environment = json!({"name": format!("{}/{PREVIEW_ENV}", env.name), "on_stop": "preview-teardown"});
        if let Some(ttl) = env.ttl_secs {
            environment["auto_stop_in"] = json!(duration(ttl));
        }
        job.insert("environment".into(), environment);
        job.insert(
            "script".into(),
            gitops_script(Some(EXPORT_BRANCH), scripts::build_preview(&env.name, true), scripts::publish(&format!("Publish the {} of $PREVIEW_BRANCH at $IMAGE_TAG", env.name))),
        );
        Json::Object(job)
    }

    fn teardown(&self, env: &EnvCi) -> Json {
        let mut job = self.platc_job("preview");
        job.insert("needs".into(), json!([]));
        // Run by GitLab when the merge request closes or the environment expires, or by hand.
        job.insert("rules".into(), json!([{"if": MR, "when": "manual", "allow_failure": true}]));
        job.insert("interruptible".into(), json!(false));
        job.insert("variables".into(), self.gitops_variables());
        job.insert("environment".into(), json!({"name": format!("{}/{PREVIEW_ENV}", env.name), "action": "stop"}));
        job.insert("script".into(), gitops_script(Some(EXPORT_BRANCH), scripts::build_preview(&env.name, false), scripts::unpublish(&format!("Tear down the {} of $PREVIEW_BRANCH", env.name))));
        Json::Object(job)
    }

    /// `terraform plan` (every pipeline) or `terraform apply` (default branch, in promotion
    /// order; manual for protected environments).
    fn terraform(&self, env: &EnvCi, apply: bool, needs: &[String], on_main: &str) -> Json {
        let vars = &self.settings().variables;
        let role = if apply { &vars.aws_role } else { &vars.aws_plan_role };
        let mut job = Map::new();
        job.insert("stage".into(), json!(if apply { "deploy" } else { "plan" }));
        job.insert("needs".into(), json!(needs));
        job.insert("image".into(), json!({"name": self.settings().terraform.gitlab_image, "entrypoint": [""]}));
        if apply {
            let mut rule = json!({"if": on_main});
            if env.protected {
                rule["when"] = json!("manual");
                rule["allow_failure"] = json!(false);
            }
            job.insert("rules".into(), json!([rule]));
            job.insert("interruptible".into(), json!(false));
            job.insert("resource_group".into(), json!(env.name));
            job.insert("environment".into(), json!({"name": env.name, "action": "prepare"}));
        }
        // OIDC: the AWS provider assumes the role with GitLab's ID token; no stored keys.
        job.insert("id_tokens".into(), json!({"AWS_ID_TOKEN": {"aud": "sts.amazonaws.com"}}));
        job.insert("variables".into(), json!({"AWS_REGION": self.ctx.r.platform.region}));
        job.insert(
            "script".into(),
            json!([
                "printf '%s' \"$AWS_ID_TOKEN\" > \"${TMPDIR:-/tmp}/aws-web-identity-token\"",
                "export AWS_WEB_IDENTITY_TOKEN_FILE=\"${TMPDIR:-/tmp}/aws-web-identity-token\"",
                format!("export AWS_ROLE_ARN=\"${role}\""),
                scripts::terraform(&env.name, apply),
            ]),
        );
        Json::Object(job)
    }

    fn deploy(&self, env: &EnvCi, needs: &[String], on_main: &str) -> Json {
        let mut job = self.platc_job("deploy");
        job.insert("needs".into(), json!(needs));
        let mut rule = json!({"if": on_main});
        // A protected environment without Terraform waits here; with Terraform, at its apply.
        if env.protected && !env.terraform {
            rule["when"] = json!("manual");
            rule["allow_failure"] = json!(false);
        }
        job.insert("rules".into(), json!([rule]));
        job.insert("interruptible".into(), json!(false));
        job.insert("resource_group".into(), json!(env.name));
        job.insert("environment".into(), json!({"name": env.name, "deployment_tier": tier(&env.name)}));
        job.insert("variables".into(), self.gitops_variables());
        job.insert("script".into(), gitops_script(None, scripts::build_env(&env.name), scripts::publish(&format!("Deploy {} at $IMAGE_TAG", env.name))));
        Json::Object(job)
    }
}

/// The script of every job that writes the GitOps repository (deploy, preview, teardown):
/// `first` (a preview's branch export), clone the repository, `build`, `publish` (a publish or
/// a removal), push.
fn gitops_script(first: Option<&str>, build: String, publish: String) -> Json {
    let script: Vec<String> = first.map(str::to_string).into_iter().chain([scripts::clone_gitops(), build, publish, scripts::push_gitops()]).collect();
    json!(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_durations() {
        assert_eq!(quote("services/cart"), "services/cart");
        assert_eq!(quote("it's here"), "'it'\\''s here'");
        assert_eq!(duration(72 * 3600), "72 hours");
        assert_eq!(duration(90 * 60), "90 minutes");
        assert_eq!(tier("prod"), "production");
    }
}

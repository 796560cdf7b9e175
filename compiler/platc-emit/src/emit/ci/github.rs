//! The GitHub Actions workflow `.github/workflows/platc.yml`: one workflow for the repository
//! (see docs/ci.md for why not one per service).
//!
//! Jobs: `check` (drift gate), `test-SERVICE` (per language), `image-SERVICE` (build, push,
//! attest), `required` (the one status check to require), `preview` and `preview-teardown`
//! (pull requests), `terraform-plan-ENV` and `deploy-ENV` (promotion on the default branch).

use serde_json::{json, Map, Value as Json};

use super::data::CiError;
use super::lazy::LazyMap;
use super::{registry_host, registry_kind, scripts, Ctx, EnvCi, Registry, ServiceCi, GITOPS_CHECKOUT};

const NOT_CLOSED: &str = "github.event.action != 'closed'";
/// Signs the pushed image by digest and attests the SBOM BuildKit generated for it.
const SIGN: &str = "cosign sign --yes \"$IMAGE@$DIGEST\"\n\
docker buildx imagetools inspect \"$IMAGE@$DIGEST\" --format '{{ json .SBOM.SPDX }}' > \"$RUNNER_TEMP/sbom.spdx.json\"\n\
cosign attest --yes --type spdxjson --predicate \"$RUNNER_TEMP/sbom.spdx.json\" \"$IMAGE@$DIGEST\"\n";
const SAME_REPO: &str = "github.event.pull_request.head.repo.full_name == github.repository";

pub(crate) fn workflow(ctx: &Ctx) -> Result<String, CiError> {
    let b = &Builder { ctx };
    // Jobs are built while the file is written (see `lazy`): per-service jobs are the bulk.
    let mut jobs = LazyMap::default();
    jobs.later("check", || b.check().map(tidy));
    let mut required = vec!["check".to_string()];
    for s in &ctx.services {
        if s.language.is_some() {
            jobs.later(format!("test-{}", s.name), move || b.test(s).map(tidy));
            required.push(format!("test-{}", s.name));
        }
    }
    for s in ctx.services.iter().filter(|s| s.built) {
        jobs.later(format!("image-{}", s.name), move || b.image(s).map(tidy));
        required.push(format!("image-{}", s.name));
    }
    jobs.ready("required", tidy(b.required(&required)));
    drop(required);
    if let Some(env) = ctx.preview() {
        jobs.ready("preview", tidy(b.preview(&env)?));
        jobs.ready("preview-teardown", tidy(b.teardown(&env)?));
    }
    let mut previous = "required".to_string();
    for env in ctx.promotion() {
        let mut needs = vec![previous.clone()];
        if env.terraform {
            let plan = format!("terraform-plan-{}", env.name);
            jobs.ready(plan.clone(), tidy(b.terraform_plan(&env)?));
            needs.push(plan);
        }
        let deploy = format!("deploy-{}", env.name);
        jobs.ready(deploy.clone(), tidy(b.deploy(&env, &needs)?));
        previous = deploy;
    }
    let branch = &ctx.data.settings.default_branch;
    let mut wf = LazyMap::default();
    wf.ready("name", json!("platc"));
    wf.ready(
        "on",
        json!({
            "push": {"branches": [branch]},
            "pull_request": {"types": ["opened", "synchronize", "reopened", "closed"]},
        }),
    );
    // Nothing by default: each job asks for exactly what it needs.
    wf.ready("permissions", json!({}));
    // Pull requests: one run per branch, a new push cancels the previous run. The default
    // branch: runs never cancel each other; deploy jobs queue per environment instead.
    wf.ready(
        "concurrency",
        json!({
            "group": "platc-${{ github.event_name == 'pull_request' && github.head_ref || github.run_id }}",
            // Only pull request runs share a group, so this cancels nothing on the default branch.
            "cancel-in-progress": true,
        }),
    );
    wf.ready(
        "env",
        json!({
            // Images are tagged with the commit they are built from: on a pull request the merge
            // commit GitHub tests, on the default branch the pushed commit.
            "IMAGE_TAG": "${{ github.sha }}",
            // Pushes and pull requests from branches of this repository publish images; pull
            // requests from forks build without credentials.
            "PUBLISH": format!("${{{{ github.event_name == 'push' || {SAME_REPO} }}}}"),
        }),
    );
    wf.ready("defaults", json!({"run": {"shell": "bash"}}));
    wf.map("jobs", jobs);
    let head = format!(
        "{}\nThe pipeline of every service of this repository: checks, tests, images, previews of pull requests,\npromotion of `{branch}` through {}. See docs/ci.md of platc.",
        crate::emit::header(&ctx.platform_source),
        ctx.promotion().iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(" -> ")
    );
    wf.to_yaml(&head, &ctx.data)
}

/// A job with each step's keys in reading order (see [`tidy_step`]).
fn tidy(mut job: Json) -> Json {
    if let Some(Json::Array(steps)) = job.get_mut("steps") {
        for step in steps.iter_mut() {
            *step = tidy_step(std::mem::take(step));
        }
    }
    job
}

/// A step's keys in the order people read them: what it is, whether it runs, what it does.
fn tidy_step(step: Json) -> Json {
    let Json::Object(mut map) = step else { return step };
    let mut out = Map::new();
    for key in ["name", "id", "if", "uses", "with", "env", "working-directory", "run"] {
        if let Some(v) = map.shift_remove(key) {
            out.insert(key.into(), v);
        }
    }
    out.extend(map);
    Json::Object(out)
}

struct Builder<'a> {
    ctx: &'a Ctx<'a>,
}

impl Builder<'_> {
    fn settings(&self) -> &super::data::Settings {
        &self.ctx.data.settings
    }

    /// A step running a pinned action.
    fn uses(&self, key: &str, name: &str, with: Json) -> Result<Json, CiError> {
        let pin = self.ctx.data.action(key)?;
        let mut step = json!({"name": name, "uses": pin.reference()});
        if with.as_object().is_some_and(|w| !w.is_empty()) {
            step["with"] = with;
        }
        Ok(step)
    }

    /// A step from stdlib data: `uses` names a key of ci/actions.yaml.
    fn resolve(&self, step: &Json) -> Result<Json, CiError> {
        let mut step = step.clone();
        if let Some(uses) = step.get("uses").and_then(Json::as_str).map(str::to_string) {
            if !uses.starts_with("./") {
                let pin = self.ctx.data.actions.get(&uses).ok_or_else(|| CiError {
                    file: format!("<stdlib>/{}", super::data::ACTIONS_FILE),
                    message: format!("a step uses `{uses}`, which is not a key of this file: pin the action there and name it by its key"),
                })?;
                step["uses"] = json!(pin.reference());
            }
        }
        Ok(step)
    }

    fn checkout(&self) -> Result<Json, CiError> {
        // The token is not left in .git/config for later steps.
        self.uses("checkout", "Check out", json!({"persist-credentials": false}))
    }

    /// Checks out the head commit of the pull request: after it closes its merge ref may be gone.
    fn checkout_head(&self) -> Result<Json, CiError> {
        self.uses("checkout", "Check out", json!({"ref": "${{ github.event.pull_request.head.sha }}", "persist-credentials": false}))
    }

    fn install_platc(&self) -> Result<Vec<Json>, CiError> {
        self.settings().install.github.iter().map(|s| self.resolve(s)).collect()
    }

    fn job(&self, name: &str, condition: Option<&str>, needs: &[String], permissions: Json, timeout: u32) -> Map<String, Json> {
        let mut job = Map::new();
        job.insert("name".into(), json!(name));
        if !needs.is_empty() {
            job.insert("needs".into(), json!(needs));
        }
        if let Some(c) = condition {
            job.insert("if".into(), json!(c));
        }
        job.insert("runs-on".into(), json!(self.settings().runner));
        job.insert("timeout-minutes".into(), json!(timeout));
        job.insert("permissions".into(), permissions);
        job
    }

    fn check(&self) -> Result<Json, CiError> {
        let mut job = self.job("platc check", Some(NOT_CLOSED), &[], json!({"contents": "read"}), self.settings().timeout_minutes);
        let mut steps = vec![self.checkout()?];
        steps.extend(self.install_platc()?);
        steps.push(json!({"name": "Check the specs", "run": "platc check --format github"}));
        // The drift gate: committed outputs must be what the specs produce, untouched by hand.
        steps.push(json!({"name": "Generated files are up to date", "run": "platc build --check --format github"}));
        job.insert("steps".into(), json!(steps));
        Ok(Json::Object(job))
    }

    fn test(&self, s: &ServiceCi) -> Result<Json, CiError> {
        let lang = s.language.as_ref().expect("test jobs exist for services with a language");
        let ci = self.ctx.data.language(lang, &s.name, &s.dir)?;
        let mut job = self.job(&format!("test {} ({})", s.name, ci.name), Some(NOT_CLOSED), &[], json!({"contents": "read"}), self.settings().timeout_minutes);
        job.insert("defaults".into(), json!({"run": {"working-directory": s.dir}}));
        let mut steps = vec![self.checkout()?];
        for step in &ci.github.setup {
            steps.push(self.resolve(step)?);
        }
        for cmd in &ci.test {
            steps.push(json!({"name": cmd, "run": cmd}));
        }
        job.insert("steps".into(), json!(steps));
        Ok(Json::Object(job))
    }

    fn image(&self, s: &ServiceCi) -> Result<Json, CiError> {
        let host = registry_host(&s.image);
        let kind = registry_kind(&host);
        let mut permissions = json!({"contents": "read"});
        if kind == Registry::Ghcr {
            permissions["packages"] = json!("write");
        }
        // OIDC for keyless signing (and ECR logins).
        permissions["id-token"] = json!("write");
        let needs = if s.language.is_some() { vec![format!("test-{}", s.name)] } else { vec![] };
        let mut job = self.job(&format!("image {}", s.name), Some(NOT_CLOSED), &needs, permissions, self.settings().timeout_minutes);
        let publish = "env.PUBLISH == 'true'";
        let mut steps = vec![self.checkout()?];
        match &kind {
            Registry::Ghcr => {
                let mut login = self.uses("login", &format!("Log in to {host}"), json!({"registry": host, "username": "${{ github.actor }}", "password": "${{ secrets.GITHUB_TOKEN }}"}))?;
                login["if"] = json!(publish);
                steps.push(login);
            }
            Registry::Ecr { region } => {
                let mut creds = self.uses(
                    "configure-aws-credentials",
                    "AWS credentials (OIDC)",
                    json!({"role-to-assume": format!("${{{{ vars.{} }}}}", self.settings().variables.aws_role), "aws-region": region}),
                )?;
                creds["if"] = json!(publish);
                steps.push(creds);
                let mut login = self.uses("login", &format!("Log in to {host}"), json!({"registry": host}))?;
                login["if"] = json!(publish);
                steps.push(login);
            }
            Registry::Other => {
                let sec = &self.settings().secrets;
                let mut login = self.uses(
                    "login",
                    &format!("Log in to {host}"),
                    json!({"registry": host, "username": format!("${{{{ secrets.{} }}}}", sec.registry_username), "password": format!("${{{{ secrets.{} }}}}", sec.registry_password)}),
                )?;
                login["if"] = json!(publish);
                steps.push(login);
            }
        }
        steps.push(self.uses("setup-buildx", "Set up Docker Buildx", json!({}))?);
        let mut build = self.uses(
            "build-push",
            &format!("Build {}", s.image),
            json!({
                "context": s.dir,
                "file": s.dockerfile,
                "push": format!("${{{{ {publish} }}}}"),
                "tags": format!("{}:${{{{ env.IMAGE_TAG }}}}", s.image),
                "cache-from": format!("type=gha,scope={}", s.name),
                "cache-to": format!("type=gha,mode=max,scope={}", s.name),
                "provenance": "mode=max",
                "sbom": true,
            }),
        )?;
        build["id"] = json!("build");
        steps.push(build);
        // Keyless signatures (Sigstore, this job's OIDC identity) of the image and of its SBOM,
        // verifiable with `cosign verify` or an admission policy before anything runs it.
        let mut install = self.uses("cosign-installer", "Install cosign", json!({"cosign-release": self.settings().cosign.version}))?;
        install["if"] = json!(publish);
        steps.push(install);
        steps.push(json!({
            "name": "Sign the image and attest its SBOM",
            "if": publish,
            "env": {"IMAGE": s.image, "DIGEST": "${{ steps.build.outputs.digest }}"},
            "run": SIGN,
        }));
        job.insert("steps".into(), json!(steps));
        Ok(Json::Object(job))
    }

    fn required(&self, needs: &[String]) -> Json {
        let mut job = self.job("platc required", Some(&format!("always() && {NOT_CLOSED}")), needs, json!({}), 5);
        job.insert(
            "steps".into(),
            json!([{
                "name": "Every required job passed",
                "env": {"RESULTS": "${{ join(needs.*.result, ' ') }}"},
                "run": "for result in $RESULTS; do\n  if [ \"$result\" != success ]; then\n    echo \"::error::a required job ended with: $result\"\n    exit 1\n  fi\ndone\n",
            }]),
        );
        Json::Object(job)
    }

    /// Steps that check out the GitOps repository into `.gitops`, writable with the GitOps token.
    fn gitops_checkout(&self) -> Result<Vec<Json>, CiError> {
        let g = &self.ctx.r.platform.gitops;
        let token = format!("${{{{ secrets.{} }}}}", self.settings().secrets.gitops_token);
        Ok(match self.ctx.gitops_github_repo() {
            Some(repo) => vec![self.uses(
                "checkout",
                "Check out the GitOps repository",
                // persist-credentials: the push step pushes with this token.
                json!({"repository": repo, "ref": g.branch, "path": GITOPS_CHECKOUT, "token": token, "persist-credentials": true}),
            )?],
            None => vec![json!({
                "name": "Clone the GitOps repository",
                "env": {"GITOPS_REPO": g.repo, "GITOPS_TOKEN": token},
                "run": scripts::clone_gitops(),
            })],
        })
    }

    /// Environment of jobs that commit to the GitOps repository.
    fn gitops_env(&self, extra: &[(&str, &str)]) -> Json {
        let id = &self.settings().git_identity;
        let mut env = json!({
            "GITOPS_BRANCH": self.ctx.r.platform.gitops.branch,
            "GIT_AUTHOR_NAME": id.name,
            "GIT_AUTHOR_EMAIL": id.email,
            "GIT_COMMITTER_NAME": id.name,
            "GIT_COMMITTER_EMAIL": id.email,
        });
        for (k, v) in extra {
            env[*k] = json!(v);
        }
        env
    }

    /// `job` with its steps, for every job that writes the GitOps repository (deploy, preview,
    /// teardown): `first` (the source checkout and what must run before platc), then install
    /// platc, check the repository out, `build`, `publish` (a publish or a removal), push.
    fn gitops_job(&self, mut job: Map<String, Json>, mut first: Vec<Json>, build: Json, publish: Json) -> Result<Json, CiError> {
        first.extend(self.install_platc()?);
        first.extend(self.gitops_checkout()?);
        first.extend([build, publish, json!({"name": "Push the GitOps repository", "run": scripts::push_gitops()})]);
        job.insert("steps".into(), json!(first));
        Ok(Json::Object(job))
    }

    fn preview(&self, env: &EnvCi) -> Result<Json, CiError> {
        let cond = format!("github.event_name == 'pull_request' && {NOT_CLOSED} && {SAME_REPO}");
        let mut job = self.job(&format!("{} of the pull request", env.name), Some(&cond), &["required".to_string()], json!({"contents": "read"}), self.settings().deploy_timeout_minutes);
        job.insert("environment".into(), json!(env.name));
        // The branch reaches platc through the environment, never through the script text.
        job.insert("env".into(), self.gitops_env(&[("PREVIEW_BRANCH", "${{ github.head_ref }}")]));
        let build = json!({"name": format!("Build the {} of this branch", env.name), "run": scripts::build_preview(&env.name, true)});
        let publish = json!({"name": "Publish to the GitOps repository", "run": scripts::publish(&format!("Publish the {} of $PREVIEW_BRANCH at $IMAGE_TAG", env.name))});
        self.gitops_job(job, vec![self.checkout()?], build, publish)
    }

    fn teardown(&self, env: &EnvCi) -> Result<Json, CiError> {
        let cond = format!("github.event_name == 'pull_request' && github.event.action == 'closed' && {SAME_REPO}");
        let mut job = self.job(&format!("tear down the {}", env.name), Some(&cond), &[], json!({"contents": "read"}), self.settings().timeout_minutes);
        job.insert("env".into(), self.gitops_env(&[("PREVIEW_BRANCH", "${{ github.head_ref }}")]));
        // Built only to know the preview's names and files; they depend on the branch alone.
        let build = json!({"name": format!("Build the {} of this branch", env.name), "run": scripts::build_preview(&env.name, false)});
        let remove = json!({"name": "Remove it from the GitOps repository", "run": scripts::unpublish(&format!("Tear down the {} of $PREVIEW_BRANCH", env.name))});
        self.gitops_job(job, vec![self.checkout_head()?], build, remove)
    }

    fn terraform_setup(&self, role_var: &str) -> Result<Vec<Json>, CiError> {
        Ok(vec![
            self.uses("setup-terraform", "Set up Terraform", json!({"terraform_version": self.settings().terraform.version, "terraform_wrapper": false}))?,
            self.uses("configure-aws-credentials", "AWS credentials (OIDC)", json!({"role-to-assume": format!("${{{{ vars.{role_var} }}}}"), "aws-region": self.ctx.r.platform.region}))?,
        ])
    }

    fn terraform_plan(&self, env: &EnvCi) -> Result<Json, CiError> {
        let cond = format!("{NOT_CLOSED} && (github.event_name == 'push' || {SAME_REPO})");
        let mut job = self.job(&format!("terraform plan {}", env.name), Some(&cond), &["check".to_string()], json!({"contents": "read", "id-token": "write"}), self.settings().timeout_minutes);
        let mut steps = vec![self.checkout()?];
        steps.extend(self.terraform_setup(&self.settings().variables.aws_plan_role)?);
        steps.push(json!({"name": format!("terraform plan ({})", env.name), "run": scripts::terraform(&env.name, false)}));
        job.insert("steps".into(), json!(steps));
        Ok(Json::Object(job))
    }

    fn deploy(&self, env: &EnvCi, needs: &[String]) -> Result<Json, CiError> {
        let cond = format!("github.event_name == 'push' && github.ref == 'refs/heads/{}'", self.settings().default_branch);
        let mut permissions = json!({"contents": "read"});
        if env.terraform {
            permissions["id-token"] = json!("write");
        }
        let mut job = self.job(&format!("deploy {}", env.name), Some(&cond), needs, permissions, self.settings().deploy_timeout_minutes);
        // Protected environments get their required reviewers from the GitHub environment of
        // the same name (see docs/ci.md); the job waits for an approval before it starts.
        job.insert("environment".into(), json!(env.name));
        // Newer runs replace a deploy still waiting; a running one is never cancelled.
        job.insert("concurrency".into(), json!({"group": format!("platc-deploy-{}", env.name), "cancel-in-progress": false}));
        job.insert("env".into(), self.gitops_env(&[]));
        let mut steps = vec![self.checkout()?];
        if env.terraform {
            steps.extend(self.terraform_setup(&self.settings().variables.aws_role)?);
            steps.push(json!({"name": format!("terraform apply ({})", env.name), "run": scripts::terraform(&env.name, true)}));
        }
        let build = json!({"name": format!("Build {} with the images of this commit", env.name), "run": scripts::build_env(&env.name)});
        let publish = json!({"name": "Publish to the GitOps repository", "run": scripts::publish(&format!("Deploy {} at $IMAGE_TAG", env.name))});
        self.gitops_job(job, steps, build, publish)
    }
}

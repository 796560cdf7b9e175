//! CI/CD: the pipeline of the repository (GitHub Actions by default, GitLab CI when platform.kdl
//! says `ci gitlab`) and a Dockerfile per service with a `language`.
//!
//! Paths in the [`Output`] are relative to the repository root (the directory of platform.kdl):
//! `.github/workflows/platc.yml` or `.gitlab-ci.yml`, and `deploy/SERVICE/Dockerfile`.
//!
//! Everything a platform engineer may want to change is data in the stdlib (`ci/`, `docker/`),
//! read through [`Stdlib`] so an overlay replaces it: pinned actions, runner and tool images,
//! secret names, how CI gets platc, each language's setup, cache and test commands, and the
//! Dockerfile templates. Pipelines are built as typed JSON values and serialized by
//! [`crate::emit::yaml`]; see docs/ci.md for the design.

mod data;
mod docker;
mod github;
mod gitlab;
mod lazy;
mod scripts;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value as Json;

use data::CiData;
pub use data::CiError;

use crate::emit::Output;
use crate::model::{CiSystem, Language, Provisioner};
use crate::resolve::Resolved;
use crate::stdlib::Stdlib;

pub use crate::emit::DEPLOY_DIR;
/// The one GitHub Actions workflow of the repository.
pub const GITHUB_WORKFLOW: &str = ".github/workflows/platc.yml";
/// The GitLab CI pipeline of the repository.
pub const GITLAB_PIPELINE: &str = ".gitlab-ci.yml";
/// Where pipeline jobs check out the GitOps repository (a dot directory: never read as specs).
pub const GITOPS_CHECKOUT: &str = ".gitops";
/// GitHub does not start a workflow whose file is larger than 500 KB (counted here as 500,000
/// bytes, so that the warning comes early rather than late).
pub const GITHUB_WORKFLOW_MAX_BYTES: usize = 500_000;
/// GitLab.com's limit on the jobs one job may list in `needs:` (self-managed default: 50).
pub const GITLAB_MAX_NEEDS: usize = 50;
/// The user and group images run as; equal to the pod securityContext of the charts.
pub const RUN_AS: u32 = 10001;

/// The CI files of the repository, or every problem in the stdlib CI data (a usage problem of
/// the overlay, exit code 2, like other overlay errors).
pub fn emit(r: &Resolved, stdlib: &Stdlib) -> Result<Output, Vec<CiError>> {
    let services = services(r);
    let mut languages: Vec<Language> = services.iter().filter_map(|s| s.language.clone()).collect();
    languages.sort();
    languages.dedup();
    let data = CiData::load(stdlib, &languages, env!("CARGO_PKG_VERSION"))?;
    let ctx = Ctx { r, data, services, platform_source: r.platform_source.clone() };
    let mut out = Output::default();
    let mut errors = Vec::new();
    match r.platform.ci {
        CiSystem::GithubActions => match github::workflow(&ctx) {
            Ok(text) => out.add(GITHUB_WORKFLOW, text),
            Err(e) => errors.push(e),
        },
        CiSystem::Gitlab => match gitlab::pipeline(&ctx) {
            Ok(text) => out.add(GITLAB_PIPELINE, text),
            Err(e) => errors.push(e),
        },
    }
    let (dockerfiles, broken) = docker::templates(&ctx, &languages);
    errors.extend(broken);
    for s in &ctx.services {
        let Some(lang) = &s.language else { continue };
        match docker::dockerfile(&dockerfiles, &ctx, s, lang) {
            Some(Ok(text)) => out.add(s.dockerfile.clone(), text),
            Some(Err(e)) => errors.push(e),
            None => {}
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The CI backend: the repository's pipeline and each service's Dockerfile, from the stdlib's
/// CI data; a pipeline past a limit of the CI system is a warning (W0104) at the platform.
pub struct Ci<'a> {
    /// The stdlib whose CI data (per language) is read when emitting.
    pub stdlib: &'a Stdlib,
}

impl crate::emit::backend::Backend for Ci<'_> {
    fn name(&self) -> &'static str {
        "ci"
    }

    fn platform(&self, cx: &mut crate::emit::backend::EmitCx) {
        match emit(cx.model, self.stdlib) {
            Ok(ci) => {
                use crate::diagnostics::{codes, Diagnostic, Label};
                let p = &cx.model.platform;
                for (message, help) in exceeded_limits(cx.model, &ci) {
                    cx.diags.push(Diagnostic::new(codes::CI_LIMIT_EXCEEDED, Label::new(p.file, p.name.span, "the pipeline of this platform"), message).with_help(help));
                }
                cx.out.files.extend(ci.files);
            }
            Err(errors) => cx.broken.extend(errors.into_iter().map(Into::into)),
        }
    }
}

/// Limits of the CI system that the generated pipeline `out` exceeds, as (message, help): the
/// pipeline has jobs per service in one file, which stops working past a few hundred services
/// (docs/ci.md, "Limit: large monorepos").
pub fn exceeded_limits(r: &Resolved, out: &Output) -> Vec<(String, String)> {
    let services = r.services.len();
    let split = "split the services into several platforms (one platform.kdl each), or keep the pipeline yourself; see `Limit: large monorepos` in docs/ci.md";
    let mut problems = Vec::new();
    if let Some(workflow) = out.files.get(GITHUB_WORKFLOW).filter(|w| w.len() > GITHUB_WORKFLOW_MAX_BYTES) {
        problems.push((
            format!("the generated {GITHUB_WORKFLOW} is {} KB, and GitHub does not start workflow files over 500 KB", workflow.len().div_ceil(1000)),
            format!("the workflow has jobs for each of the {services} services; {split}"),
        ));
    }
    if out.files.contains_key(GITLAB_PIPELINE) {
        // The preview job and the first deploy need the check, every test and every image job.
        let needs = 1 + r.services.iter().filter(|s| s.spec.language.is_some()).count() + r.services.iter().filter(|s| s.image.built).count();
        if needs > GITLAB_MAX_NEEDS {
            problems.push((
                format!("jobs of the generated {GITLAB_PIPELINE} need {needs} jobs, and GitLab allows {GITLAB_MAX_NEEDS} by default"),
                format!("the preview and deploy jobs need every test and image job of the {services} services; raise `ci_max_needs` on a self-managed GitLab, or {split}"),
            ));
        }
    }
    problems
}

/// What the pipeline needs to know about one service.
#[derive(Debug, Clone)]
pub struct ServiceCi {
    /// The service name: its jobs' suffix (`test-NAME`, `image-NAME`).
    pub name: String,
    /// Its directory relative to the repository root (`.` for the root itself); the image's
    /// build context and the working directory of its test job.
    pub dir: String,
    /// The spec's `language`, which picks the test job and the generated Dockerfile; `None`: the
    /// team's own Dockerfile and no test job.
    pub language: Option<Language>,
    /// Image repository without a tag; CI tags it with the commit SHA.
    pub image: String,
    /// CI builds, pushes and signs the image (`image-NAME`); false for a third-party image.
    pub built: bool,
    /// The Dockerfile the image is built from, relative to the repository root: the generated
    /// one for services with a language, else the team's own `DIR/Dockerfile`.
    pub dockerfile: String,
    /// The first port (EXPOSE).
    pub port: Option<u16>,
    /// service.kdl relative to the repository root, for headers.
    pub source: String,
}

/// One environment of the platform as the pipeline sees it.
#[derive(Debug, Clone)]
pub struct EnvCi {
    /// The environment name.
    pub name: String,
    /// Deploys to it need an approval (`protected=#true` in platform.kdl); on GitLab its deploy
    /// is a manual job.
    pub protected: bool,
    /// Some service's resources are provisioned by `aws` here: there is Terraform to plan and
    /// apply under `deploy/*/terraform/ENV`.
    pub terraform: bool,
    /// Time to live of an ephemeral (preview) environment, in seconds.
    pub ttl_secs: Option<u64>,
}

pub(crate) struct Ctx<'a> {
    pub r: &'a Resolved,
    pub data: CiData,
    pub services: Vec<ServiceCi>,
    /// platform.kdl relative to the repository root.
    pub platform_source: String,
}

impl Ctx<'_> {
    /// Non-ephemeral environments in promotion order (platform.kdl order).
    pub(crate) fn promotion(&self) -> Vec<EnvCi> {
        environments(self.r).into_iter().filter(|e| e.ttl_secs.is_none()).collect()
    }

    /// The ephemeral environment pull requests get, if the platform has one.
    pub(crate) fn preview(&self) -> Option<EnvCi> {
        environments(self.r).into_iter().find(|e| e.ttl_secs.is_some())
    }

    /// The GitOps repository as `OWNER/REPO` when it is on github.com (checked out with
    /// actions/checkout), `None` for any other host (cloned with git).
    pub(crate) fn gitops_github_repo(&self) -> Option<String> {
        github_repo(&self.r.platform.gitops.repo)
    }
}

/// Every environment of the platform, in platform.kdl order.
pub fn environments(r: &Resolved) -> Vec<EnvCi> {
    r.platform
        .environments
        .values()
        .map(|e| EnvCi {
            name: e.name.value.clone(),
            protected: e.protected,
            terraform: r.services.iter().any(|s| s.envs[&e.name.value].provisioners.contains(&Provisioner::Aws)),
            ttl_secs: e.ttl.map(|t| t.as_secs()),
        })
        .collect()
}

/// The services, in workspace order.
pub fn services(r: &Resolved) -> Vec<ServiceCi> {
    r.services
        .iter()
        .map(|rs| {
            let name = rs.name.clone();
            let language = rs.spec.language.as_ref().map(|l| l.value.clone());
            let dockerfile = match language {
                Some(_) => format!("{DEPLOY_DIR}/{name}/Dockerfile"),
                None => join(&rs.dir, "Dockerfile"),
            };
            let port = rs.roles.primary.map(|k| rs.spec.ports[k].container());
            ServiceCi { source: rs.source.clone(), name, dir: rs.dir.clone(), language, image: rs.image.repository.clone(), built: rs.image.built, dockerfile, port }
        })
        .collect()
}

/// `dir/file`, or `file` when `dir` is the root.
pub fn join(dir: &str, file: &str) -> String {
    if dir == "." {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}

/// `OWNER/REPO` of a github.com URL (`https://github.com/o/r(.git)`, `git@github.com:o/r.git`).
pub fn github_repo(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://github.com/").or_else(|| url.strip_prefix("git@github.com:")).or_else(|| url.strip_prefix("ssh://git@github.com/"))?;
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    let mut parts = rest.split('/');
    let (owner, repo) = (parts.next()?, parts.next()?);
    if parts.next().is_some() || owner.is_empty() || repo.is_empty() {
        return None;
    }
    Some(format!("{owner}/{repo}"))
}

/// The registry host of an image repository (`ghcr.io/acme/x` -> `ghcr.io`; Docker Hub names
/// without a host -> `docker.io`).
pub fn registry_host(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => first.to_string(),
        _ => "docker.io".to_string(),
    }
}

/// How CI logs in to a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registry {
    /// GitHub Container Registry: the workflow's own token with `packages: write`.
    Ghcr,
    /// Amazon ECR in this region: OIDC to an IAM role, no stored keys.
    Ecr {
        /// The registry's AWS region, from its host name.
        region: String,
    },
    /// Anything else: username and password secrets.
    Other,
}

/// How CI logs in to the registry at `host`, told by its name (`ghcr.io`,
/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com`, anything else).
pub fn registry_kind(host: &str) -> Registry {
    if host == "ghcr.io" {
        return Registry::Ghcr;
    }
    let labels: Vec<&str> = host.split('.').collect();
    // ACCOUNT.dkr.ecr.REGION.amazonaws.com
    if labels.len() == 6 && labels[1] == "dkr" && labels[2] == "ecr" && labels[4] == "amazonaws" && labels[5] == "com" {
        return Registry::Ecr { region: labels[3].to_string() };
    }
    Registry::Other
}

/// A JSON value serialized as YAML with `# VERSION` after each `uses: OWNER/REPO@SHA` of a
/// pinned action (the form Dependabot and Renovate read), everything else unchanged.
pub(crate) struct Annotated<'a> {
    pub value: &'a Json,
    pub data: &'a CiData,
}

impl Serialize for Annotated<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Json::Object(map) => {
                let mut m = serializer.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    let version = match (k.as_str(), v) {
                        ("uses", Json::String(r)) => self.data.actions.values().find(|p| p.reference() == *r).map(|p| p.version.clone()),
                        _ => None,
                    };
                    match version {
                        Some(version) => m.serialize_entry(k, &serde_saphyr::Commented(v.as_str().unwrap_or_default().to_string(), version))?,
                        None => m.serialize_entry(k, &Annotated { value: v, data: self.data })?,
                    }
                }
                m.end()
            }
            Json::Array(items) => {
                let mut s = serializer.serialize_seq(Some(items.len()))?;
                for v in items {
                    s.serialize_element(&Annotated { value: v, data: self.data })?;
                }
                s.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_urls() {
        assert_eq!(github_repo("https://github.com/acme/gitops.git").as_deref(), Some("acme/gitops"));
        assert_eq!(github_repo("git@github.com:acme/gitops.git").as_deref(), Some("acme/gitops"));
        assert_eq!(github_repo("https://github.com/acme/gitops").as_deref(), Some("acme/gitops"));
        assert_eq!(github_repo("https://gitlab.com/acme/gitops.git"), None);
        assert_eq!(github_repo("https://github.com/acme"), None);
    }

    #[test]
    fn registries() {
        assert_eq!(registry_host("ghcr.io/acme/x"), "ghcr.io");
        assert_eq!(registry_host("acme/x"), "docker.io");
        assert_eq!(registry_host("localhost:5000/x"), "localhost:5000");
        assert_eq!(registry_kind("ghcr.io"), Registry::Ghcr);
        assert_eq!(registry_kind("123456789012.dkr.ecr.eu-west-1.amazonaws.com"), Registry::Ecr { region: "eu-west-1".into() });
        assert_eq!(registry_kind("registry.gitlab.com"), Registry::Other);
    }
}

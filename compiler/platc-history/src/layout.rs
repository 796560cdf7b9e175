//! Which service and environment a file of the `deploy/` tree belongs to, by its path.
//!
//! - `gitops/INSTANCE/apps/SERVICE.yaml` (Argo CD) and `gitops/INSTANCE/SERVICE.yaml` (Flux):
//!   the service's Application or Kustomization in one environment instance (`prod`, or
//!   `preview-BRANCH` for a preview); `root.yaml` and `source.yaml` there belong to the
//!   environment, not to a service.
//! - `SERVICE/.../ENV/...` (rendered manifests `SERVICE/manifests/ENV/`, and any other
//!   per-environment directory of a backend): the service in that environment.
//! - `SERVICE/chart/values-ENV.yaml` and `SERVICE/chart/templates/ENV/...`: the chart's values
//!   and templates for that environment (not what the GitOps engine deploys: it reads the
//!   rendered manifests).
//!
//! Everything else (chart templates, `values.yaml`, `platc.lock`) belongs to no environment.

use super::Unit;
use crate::model::GitOpsEngine;

/// An environment of platform.kdl: its name and whether it is ephemeral (a preview, built
/// once per branch as instance `NAME-BRANCH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvName {
    /// The environment's name, as platform.kdl declares it.
    pub name: String,
    /// True for a preview environment (one with a `ttl`).
    pub ephemeral: bool,
}

/// The environments of a workspace's platform.
pub fn env_names(ws: &crate::model::Workspace) -> Vec<EnvName> {
    ws.platform.environments.values().map(|e| EnvName { name: e.name.value.clone(), ephemeral: e.ttl.is_some() }).collect()
}

/// Where a file of the deploy tree belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The service, when the file is one service's.
    pub service: Option<String>,
    /// The environment (for a preview instance, the preview environment's name).
    pub environment: String,
    /// The instance (`gitops/INSTANCE/`), or the environment for per-environment directories.
    pub instance: String,
    /// Whether the GitOps engine deploys this file (rendered manifests, Applications,
    /// Kustomizations): a change to it is a deployment of the service in the environment.
    pub deployed: bool,
    /// Whether the path names an instance (`gitops/INSTANCE/`) rather than an environment.
    pub by_instance: bool,
}

impl Placed {
    /// The (service, environment) a change to this file deploys.
    pub fn unit(&self) -> Option<Unit> {
        match (&self.service, self.deployed) {
            (Some(s), true) => Some(Unit::new(s.clone(), self.environment.clone())),
            _ => None,
        }
    }
}

/// The environment of an instance name: the environment of that name, or the ephemeral
/// environment `E` of an instance `E-BRANCH`; `None` when no environment matches.
pub fn environment_of_instance(envs: &[EnvName], instance: &str) -> Option<String> {
    if envs.iter().any(|e| e.name == instance) {
        return Some(instance.to_string());
    }
    envs.iter()
        .filter(|e| e.ephemeral && instance.len() > e.name.len() + 1 && instance.starts_with(&e.name) && instance.as_bytes()[e.name.len()] == b'-')
        .max_by_key(|e| e.name.len())
        .map(|e| e.name.clone())
}

/// Classifies a path relative to the deploy tree (`hello/manifests/prod/service-hello.yaml`).
pub fn classify(path: &str, envs: &[EnvName]) -> Option<Placed> {
    let segs: Vec<&str> = path.split('/').collect();
    if segs.len() < 2 {
        return None;
    }
    if segs[0] == "gitops" {
        let instance = segs[1];
        if segs.len() < 3 {
            return None;
        }
        let environment = environment_of_instance(envs, instance).unwrap_or_else(|| instance.to_string());
        let file = segs[segs.len() - 1];
        let stem = file.strip_suffix(".yaml").or_else(|| file.strip_suffix(".yml"));
        let service = match (&segs[2..], stem) {
            ([_apps, _], Some(s)) if segs[2] == "apps" => Some(s.to_string()),
            // Argo CD's root, Flux's wiring, and the kustomization.yaml a person may add.
            ([_], Some(s)) if s != "root" && s != "kustomization" && !GitOpsEngine::Flux.wiring_files().contains(&s) => Some(s.to_string()),
            _ => None,
        };
        let deployed = service.is_some();
        return Some(Placed { service, environment, instance: instance.to_string(), deployed, by_instance: true });
    }
    let service = segs[0].to_string();
    let dirs = &segs[1..segs.len() - 1];
    // The chart is what a person installs by hand; the GitOps engine deploys the rendered
    // manifests. Its per-environment templates (`chart/templates/ENV/`) and values
    // (`chart/values-ENV.yaml`) belong to that environment and deploy nothing.
    if segs[1] == "chart" {
        let env = match dirs {
            [_chart, templates, env, ..] if *templates == "templates" => environment_of_instance(envs, env),
            _ => None,
        };
        let env = env.or_else(|| segs[segs.len() - 1].strip_prefix("values-").and_then(|f| f.strip_suffix(".yaml")).filter(|e| envs.iter().any(|x| x.name == *e)).map(str::to_string));
        return env.map(|e| Placed { service: Some(service), instance: e.clone(), environment: e, deployed: false, by_instance: false });
    }
    // Per-instance directories: `SERVICE/manifests/prod/`, `SERVICE/manifests/preview-BRANCH/`.
    if let Some((d, e)) = dirs.iter().find_map(|d| environment_of_instance(envs, d).map(|e| (d, e))) {
        let by_instance = *d != e;
        return Some(Placed { service: Some(service), environment: e, instance: d.to_string(), deployed: true, by_instance });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs() -> Vec<EnvName> {
        ["dev", "prod"].iter().map(|n| EnvName { name: n.to_string(), ephemeral: false }).chain([EnvName { name: "preview".into(), ephemeral: true }]).collect()
    }

    #[test]
    fn classifies_the_deploy_tree() {
        let e = envs();
        let unit = |p: &str| classify(p, &e).and_then(|c| c.unit()).map(|u| u.to_string());
        assert_eq!(unit("hello/manifests/prod/deployment-hello.yaml").as_deref(), Some("hello/prod"));
        assert_eq!(unit("hello/manifests/preview-feat-x/deployment-hello.yaml").as_deref(), Some("hello/preview"));
        assert_eq!(classify("hello/manifests/preview-feat-x/deployment-hello.yaml", &e).unwrap().instance, "preview-feat-x");
        assert_eq!(unit("gitops/dev/apps/hello.yaml").as_deref(), Some("hello/dev"));
        assert_eq!(unit("gitops/preview-feat-x/apps/hello.yaml").as_deref(), Some("hello/preview"));
        assert_eq!(unit("gitops/prod/hello.yaml").as_deref(), Some("hello/prod"));
        assert_eq!(unit("gitops/prod/root.yaml"), None);
        assert_eq!(unit("gitops/prod/source.yaml"), None);
        assert_eq!(unit("gitops/prod/namespace.yaml"), None);
        assert_eq!(unit("hello/chart/values-prod.yaml"), None);
        assert_eq!(classify("hello/chart/values-prod.yaml", &e).unwrap().environment, "prod");
        assert_eq!(classify("hello/chart/templates/deployment.yaml", &e), None);
        // The chart's templates of one environment deploy nothing (a teardown of a preview
        // that touches them is no teardown of `preview`).
        assert_eq!(unit("hello/chart/templates/prod/deployment-hello.yaml"), None);
        assert_eq!(classify("hello/chart/templates/prod/deployment-hello.yaml", &e).unwrap().environment, "prod");
        assert_eq!(classify("platc.lock", &e), None);
        assert_eq!(environment_of_instance(&e, "preview-a"), Some("preview".into()));
        assert_eq!(environment_of_instance(&e, "dev-a"), None);
    }
}

//! GitOps wiring per environment: Argo CD Applications (an app-of-apps root plus one child per
//! service, ordered by sync waves) or Flux Kustomizations (ordered by `dependsOn`), each
//! pointing at the service's rendered manifests in the GitOps repository.

use serde_json::json;

use super::{header, yaml, Output};
use crate::lower::{instance, Placement, Plan};
use crate::model::{GitOpsEngine, Workspace};

/// Path of a service's rendered manifests for one placement, inside the output tree: one
/// directory per environment, and per branch for previews, so that previews of two branches
/// published side by side keep their own manifests.
pub fn manifests_dir(service: &str, pl: &Placement) -> String {
    format!("{service}/manifests/{}", instance(pl))
}

/// Path inside the GitOps repository (outputs are published under `gitops.path`).
fn repo_path(ws: &Workspace, rel: &str) -> String {
    let base = ws.platform.gitops.path.trim_matches('/');
    if base.is_empty() {
        rel.to_string()
    } else {
        format!("{base}/{rel}")
    }
}

/// Writes the wiring of every environment built.
pub fn emit(out: &mut Output, ws: &Workspace, plan: &Plan, source: &str) {
    for pl in &plan.environments {
        match ws.platform.gitops.engine {
            GitOpsEngine::ArgoCd => argocd(out, ws, plan, pl, source),
            GitOpsEngine::Flux => flux(out, ws, plan, pl, source),
        }
    }
}

fn preview_annotations(ws: &Workspace, pl: &Placement) -> serde_json::Map<String, serde_json::Value> {
    let mut a = serde_json::Map::new();
    if let (Some(ttl), Some(slug)) = (ws.platform.environments[&pl.env].ttl, &pl.slug) {
        a.insert("platc.dev/ttl".into(), json!(ttl.to_string()));
        a.insert("platc.dev/preview-branch".into(), json!(slug));
    }
    a
}

fn argocd(out: &mut Output, ws: &Workspace, plan: &Plan, pl: &Placement, source: &str) {
    let g = &ws.platform.gitops;
    let dir = format!("gitops/{}", instance(pl));
    let head = header(source);
    for sp in &plan.services {
        let mut annotations = preview_annotations(ws, pl);
        annotations.insert("argocd.argoproj.io/sync-wave".into(), json!(sp.wave.to_string()));
        let app = json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {
                "name": format!("{}-{}", sp.name, instance(pl)),
                "namespace": "argocd",
                "labels": {"app.kubernetes.io/part-of": ws.platform.name.value, "platc.dev/environment": pl.env},
                "annotations": annotations,
                "finalizers": ["resources-finalizer.argocd.argoproj.io"],
            },
            "spec": {
                "project": "default",
                "source": {"repoURL": g.repo, "targetRevision": g.branch, "path": repo_path(ws, &manifests_dir(&sp.name, pl))},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": pl.namespace},
                "syncPolicy": {
                    "automated": {"prune": true, "selfHeal": true},
                    "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
                },
            },
        });
        out.add(format!("{dir}/apps/{}.yaml", sp.name), yaml::document(&head, &app));
    }
    let root = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": format!("{}-{}", ws.platform.name.value, instance(pl)),
            "namespace": "argocd",
            "annotations": preview_annotations(ws, pl),
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": "default",
            "source": {"repoURL": g.repo, "targetRevision": g.branch, "path": repo_path(ws, &format!("{dir}/apps"))},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "argocd"},
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
        },
    });
    out.add(format!("{dir}/root.yaml"), yaml::document(&format!("{head}\nApp of apps: apply this once per cluster; it syncs every service of `{}`.", pl.env), &root));
}

fn flux(out: &mut Output, ws: &Workspace, plan: &Plan, pl: &Placement, source: &str) {
    let g = &ws.platform.gitops;
    let dir = format!("gitops/{}", instance(pl));
    let head = header(source);
    let repo_name = format!("{}-gitops", ws.platform.name.value);
    let git = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": repo_name, "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": g.repo, "ref": {"branch": g.branch}},
    });
    out.add(format!("{dir}/source.yaml"), yaml::document(&head, &git));
    for sp in &plan.services {
        let mut spec = json!({
            "interval": "5m",
            "path": format!("./{}", repo_path(ws, &manifests_dir(&sp.name, pl))),
            "prune": true,
            "wait": true,
            "timeout": "5m",
            "sourceRef": {"kind": "GitRepository", "name": repo_name},
            "targetNamespace": pl.namespace,
        });
        if !sp.depends_on.is_empty() {
            spec["dependsOn"] = json!(sp.depends_on.iter().map(|d| json!({"name": format!("{d}-{}", instance(pl))})).collect::<Vec<_>>());
        }
        let k = json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": format!("{}-{}", sp.name, instance(pl)), "namespace": "flux-system", "annotations": preview_annotations(ws, pl)},
            "spec": spec,
        });
        out.add(format!("{dir}/{}.yaml", sp.name), yaml::document(&head, &k));
    }
}

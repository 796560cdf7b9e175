//! GitOps wiring per environment: Argo CD Applications (an app-of-apps root plus one child per
//! service, ordered by sync waves) or Flux Kustomizations (ordered by `dependsOn`), each
//! pointing at the service's rendered manifests in the GitOps repository.

use serde_json::json;

use super::{header, yaml, Output};
use crate::model::GitOpsEngine;
use crate::resolve::naming::{application, instance, Placement};
use crate::resolve::Resolved;

/// Path of a service's rendered manifests for one placement, inside the output tree: one
/// directory per environment, and per branch for previews, so that previews of two branches
/// published side by side keep their own manifests.
pub fn manifests_dir(service: &str, pl: &Placement) -> String {
    format!("{service}/manifests/{}", instance(pl))
}

/// Path inside the GitOps repository (outputs are published under `gitops.path`).
fn repo_path(r: &Resolved, rel: &str) -> String {
    let base = r.platform.gitops.path.trim_matches('/');
    if base.is_empty() {
        rel.to_string()
    } else {
        format!("{base}/{rel}")
    }
}

/// The GitOps backend: the Argo CD applications or Flux kustomizations of every placement
/// built, one set for the platform.
pub struct GitOps;

impl crate::emit::backend::Backend for GitOps {
    fn name(&self) -> &'static str {
        "gitops"
    }

    fn platform(&self, cx: &mut crate::emit::backend::EmitCx) {
        let mut out = Output::default();
        emit(&mut out, cx.model);
        cx.out.files.extend(out.files.into_iter().map(|(p, b)| (format!("{}/{p}", crate::emit::DEPLOY_DIR), b)));
    }
}

/// Writes the wiring of every placement built.
pub fn emit(out: &mut Output, r: &Resolved) {
    for pl in &r.placements {
        match r.platform.gitops.engine {
            GitOpsEngine::ArgoCd => argocd(out, r, pl, &r.platform_source),
            GitOpsEngine::Flux => flux(out, r, pl, &r.platform_source),
        }
    }
}

fn preview_annotations(r: &Resolved, pl: &Placement) -> serde_json::Map<String, serde_json::Value> {
    let mut a = serde_json::Map::new();
    if let (Some(ttl), Some(slug)) = (r.environment(pl).ttl, &pl.slug) {
        a.insert("platc.dev/ttl".into(), json!(ttl.to_string()));
        a.insert("platc.dev/preview-branch".into(), json!(slug));
    }
    a
}

fn argocd(out: &mut Output, r: &Resolved, pl: &Placement, source: &str) {
    let g = &r.platform.gitops;
    let dir = format!("gitops/{}", instance(pl));
    let head = header(source);
    for sp in &r.services {
        let mut annotations = preview_annotations(r, pl);
        annotations.insert("argocd.argoproj.io/sync-wave".into(), json!(sp.wave.to_string()));
        let app = json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {
                "name": application(&sp.name, pl),
                "namespace": "argocd",
                "labels": {"app.kubernetes.io/part-of": r.platform.name.value, "platc.dev/environment": pl.env},
                "annotations": annotations,
                "finalizers": ["resources-finalizer.argocd.argoproj.io"],
            },
            "spec": {
                "project": "default",
                "source": {"repoURL": g.repo, "targetRevision": g.branch, "path": repo_path(r, &manifests_dir(&sp.name, pl))},
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
            "name": format!("{}-{}", r.platform.name.value, instance(pl)),
            "namespace": "argocd",
            "annotations": preview_annotations(r, pl),
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": "default",
            "source": {"repoURL": g.repo, "targetRevision": g.branch, "path": repo_path(r, &format!("{dir}/apps"))},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "argocd"},
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
        },
    });
    out.add(format!("{dir}/root.yaml"), yaml::document(&format!("{head}\nApp of apps: apply this once per cluster; it syncs every service of `{}`.", pl.env), &root));
}

fn flux(out: &mut Output, r: &Resolved, pl: &Placement, source: &str) {
    let g = &r.platform.gitops;
    let dir = format!("gitops/{}", instance(pl));
    let head = header(source);
    let repo_name = format!("{}-gitops", r.platform.name.value);
    let git = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": repo_name, "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": g.repo, "ref": {"branch": g.branch}},
    });
    let [source, namespace_file] = crate::model::FLUX_WIRING;
    out.add(format!("{dir}/{source}.yaml"), yaml::document(&head, &git));
    // Flux does not create a Kustomization's `targetNamespace` (Argo CD's CreateNamespace
    // does): the instance's Namespace is part of its wiring, so a preview's namespace comes
    // with its first publish and goes with its teardown (under a pruning root Kustomization).
    let mut namespace = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": pl.namespace,
            "labels": {"app.kubernetes.io/managed-by": "platc", "app.kubernetes.io/part-of": r.platform.name.value, "platc.dev/environment": pl.env},
        },
    });
    let annotations = preview_annotations(r, pl);
    if !annotations.is_empty() {
        namespace["metadata"]["annotations"] = annotations.into();
    }
    out.add(format!("{dir}/{namespace_file}.yaml"), yaml::document(&head, &namespace));
    for sp in &r.services {
        let mut spec = json!({
            "interval": "5m",
            "path": format!("./{}", repo_path(r, &manifests_dir(&sp.name, pl))),
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
            "metadata": {"name": application(&sp.name, pl), "namespace": "flux-system", "annotations": preview_annotations(r, pl)},
            "spec": spec,
        });
        out.add(format!("{dir}/{}.yaml", sp.name), yaml::document(&head, &k));
    }
}

//! Resolve: the checked [`Workspace`] and its [`Graph`] -> [`Resolved`], plain owned data in
//! which every derived fact is decided once, with the span it came from: per service and
//! environment the effective resources, scale, env and the provisioner of each resource; the
//! role of each port; route targets; callers and callees with the port each call reaches; the
//! SLO with its window; processes with their workload names and resources; the image.
//!
//! Backends (Helm values in [`crate::lower`], Terraform, CI, GitOps, observability) read this
//! model and their own stdlib data, never the workspace. A fact two backends need is decided
//! here, in one function ([`roles`] for ports, [`naming`] for names,
//! [`crate::model::effective`] for merged values, [`provisioner`] for provisioners).

pub mod naming;
pub mod roles;
mod service;
#[cfg(test)]
mod tests;

pub use naming::*;
pub use service::{Callee, Caller, EnvFacts, ImageRef, PortRoles, ProcessFacts, ResolvedService, RouteFacts, SloFacts, DEFAULT_TAG};

use crate::graph::Graph;
use crate::model::{Environment, Platform, Provisioner, ResourceTypes, Workspace};
use crate::source::SourceMap;

/// What the backends print: the platform, the resource types, the placements built and every
/// service with its decided facts.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The platform as checked (plain data: environments, ingress, GitOps, CI, secret store).
    pub platform: Platform,
    /// The resource types services were checked against (ports and outputs).
    pub types: ResourceTypes,
    /// The placements built, in platform.kdl order.
    pub placements: Vec<Placement>,
    /// The base placement of charts (values.yaml), built or not ([`base_placement`]).
    pub base: Option<Placement>,
    /// platform.kdl relative to the output root, for headers.
    pub platform_source: String,
    /// Every service, in workspace order (`services[i].index == i`).
    pub services: Vec<ResolvedService>,
}

/// Why a build cannot start (a usage problem: exit code 2).
#[derive(Debug)]
pub struct PlanError(pub String);

/// Resolves every service of `ws` for the placements built (see [`environments`]). Services
/// resolve independently: all cores, in order.
pub fn resolve(ws: &Workspace, graph: &Graph, placements: &[Placement], opts: &BuildOptions, sources: &SourceMap) -> Resolved {
    let platform_source = source_name(sources, ws.platform.file, ws.platform.file);
    let base = base_placement(&ws.platform);
    // Route hosts are resolved for every placement built and for values.yaml's.
    let mut hosted: Vec<&Placement> = placements.iter().collect();
    hosted.extend(base.iter().filter(|b| !placements.contains(b)));
    let indexes: Vec<usize> = (0..ws.services.len()).collect();
    let resolve_one = |i: usize| service::resolve(ws, graph, i, &hosted, opts, sources);
    let services = crate::par::map_chunks(&indexes, |chunk| chunk.iter().map(|&i| resolve_one(i)).collect::<Vec<_>>()).into_iter().flatten().collect();
    Resolved { platform: ws.platform.clone(), types: ws.types.clone(), placements: placements.to_vec(), base, platform_source, services }
}

/// The provisioner serving resource type `ty` in environment `env`: the type's own entry of
/// the environment, else its default. The only place this is decided.
pub fn provisioner(env: &Environment, ty: &str) -> Provisioner {
    env.provisioner_for(ty)
}

/// One way a resource type is served somewhere in the workspace: by `provisioner`, first needed
/// in environment `env` (its name) by `uses` of service `service` (indexes into
/// `Workspace::services` and its `uses`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioning {
    /// The resource type.
    pub ty: String,
    /// Who serves it there.
    pub provisioner: Provisioner,
    /// The first environment, in platform.kdl order, that serves it so.
    pub env: String,
    /// The first service, in workspace order, that uses it there.
    pub service: usize,
    /// That service's `uses`.
    pub uses: usize,
}

/// Every (type, provisioner) pair the workspace needs, once each, with the first use that
/// needs it: what the backends must have templates for. Cheap enough for `platc check`, which
/// does not resolve the whole model.
pub fn provisioning(ws: &Workspace) -> Vec<Provisioning> {
    let mut out: Vec<Provisioning> = Vec::new();
    for e in ws.platform.environments.values() {
        for (service, s) in ws.services.iter().enumerate() {
            for (uses, u) in s.uses.iter().enumerate() {
                let p = provisioner(e, &u.ty.value);
                if !out.iter().any(|n| n.ty == u.ty.value && n.provisioner == p) {
                    out.push(Provisioning { ty: u.ty.value.clone(), provisioner: p, env: e.name.value.clone(), service, uses });
                }
            }
        }
    }
    out
}

/// Which environments a build covers: every environment, or the one asked for. Ephemeral ones
/// (with a TTL) need a branch; without one they are skipped in a full build.
pub fn environments(ws: &Workspace, opts: &BuildOptions) -> Result<Vec<Placement>, PlanError> {
    let p = &ws.platform;
    if let Some(name) = &opts.env {
        let Some(env) = p.environments.get(name) else {
            let names: Vec<&str> = p.environments.keys().map(String::as_str).collect();
            let hint = crate::check::suggest::did_you_mean(name, names.iter().copied()).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
            return Err(PlanError(format!("unknown environment `{name}`{hint}; platform.kdl declares: {}", names.join(", "))));
        };
        if env.ttl.is_some() && opts.branch.is_none() {
            return Err(PlanError(format!("`{name}` is a preview environment: give the branch with --set branch=NAME")));
        }
        return Ok(vec![placement(p, env, opts.branch.as_deref())]);
    }
    Ok(p.environments.values().filter(|e| e.ttl.is_none() || opts.branch.is_some()).map(|e| placement(p, e, opts.branch.as_deref())).collect())
}

/// The base environment of charts (its values are values.yaml): the first environment of
/// platform.kdl that is not ephemeral, whichever environments a build covers, so that
/// values.yaml does not depend on `--env`.
pub fn base_placement(p: &Platform) -> Option<Placement> {
    p.environments.values().find(|e| e.ttl.is_none()).or_else(|| p.environments.values().next()).map(|e| placement(p, e, None))
}

/// A spec's path relative to the output root (the directory of platform.kdl), for headers:
/// outputs must not depend on the directory platc was run from.
pub fn source_name(sources: &SourceMap, file: crate::source::FileId, platform_file: crate::source::FileId) -> String {
    let f = sources.get(file);
    let rel = match (&f.path, &sources.get(platform_file).path) {
        (Some(fp), Some(pp)) => pp.parent().and_then(|root| fp.strip_prefix(root).ok()).map(|r| r.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")),
        _ => None,
    };
    rel.filter(|r| !r.is_empty()).unwrap_or_else(|| f.name.clone())
}

impl Resolved {
    /// The environment of a placement (every placement is one of platform.kdl's).
    pub fn environment(&self, pl: &Placement) -> &Environment {
        &self.platform.environments[&pl.env]
    }
}

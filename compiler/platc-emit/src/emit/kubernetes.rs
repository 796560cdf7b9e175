//! The Kubernetes backend: per service, the values of every environment ([`crate::lower`]),
//! its objects built once and printed as the rendered manifests and as the Helm chart, and its
//! alert rules, rule tests and dashboards (which also go into those objects).

use super::backend::{Backend, Broken, EmitCx};
use super::{observability, KindFilter, Problems};
use crate::lower::{self, incluster::Rendered, Catalog};
use crate::resolve::{Resolved, ResolvedService};
use crate::stdlib::Stdlib;

/// The Kubernetes backend with its stdlib data: the in-cluster resources rendered from the
/// catalog, and the observability data. `render` limits it to the rendered manifests of some
/// kinds (`platc render`).
pub struct Kubernetes {
    /// Every in-cluster resource of the build, rendered once from the overlay's catalog (the
    /// built-in one when there is none, or when the overlay's is broken).
    rendered: Rendered,
    observability: Option<observability::ObsData>,
    render: Option<KindFilter>,
}

impl Kubernetes {
    /// Reads the in-cluster and observability data of `stdlib` and renders every in-cluster
    /// resource of the build from it (values.yaml's base placement too, unless rendering).
    /// Problems go to `broken`; the backend then does without the data at fault (the built-in
    /// catalog, no observability) so that the rest of the build still reports its problems.
    pub fn load(model: &Resolved, stdlib: &Stdlib, render: Option<KindFilter>, broken: &mut Vec<Broken>) -> Self {
        let catalog = Catalog::load(stdlib).map_err(|p| broken.push(p.into_broken(stdlib))).ok();
        let mut checked = model.placements.clone();
        if let (Some(b), None) = (&model.base, &render) {
            if !checked.contains(b) {
                checked.push(b.clone());
            }
        }
        let (rendered, problems) = lower::incluster::render(model, &checked, catalog.as_ref().unwrap_or_else(|| Catalog::builtin()));
        broken.extend(problems.into_iter().map(|p| p.into_broken(stdlib)));
        let observability = observability::load(stdlib).map_err(|errors| broken.extend(errors.into_iter().map(Broken::from))).ok();
        Kubernetes { rendered, observability, render }
    }
}

impl Backend for Kubernetes {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn service(&self, cx: &mut EmitCx, rs: &ResolvedService) {
        let model = cx.model;
        let mut sp = lower::plan_of(rs);
        lower::fill(model, &mut sp, cx.opts, &self.rendered);
        let mut problems = Problems::default();
        match &self.render {
            Some(kinds) => super::emit_manifests(model, &mut sp, self.observability.as_ref(), kinds, &mut cx.out, &mut problems),
            None => {
                let mut base = match &model.base {
                    Some(pl) => lower::service_values_with(model, sp.index, pl, cx.opts, &self.rendered),
                    None => sp.envs.values().next().cloned().expect("a plan has at least one environment"),
                };
                super::emit_one(model, &mut sp, &mut base, self.observability.as_ref(), &mut cx.out, &mut problems);
            }
        }
        cx.diags.append(problems.diags);
        cx.broken.extend(problems.obs_errors.into_iter().map(Broken::from));
    }
}

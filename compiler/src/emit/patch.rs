//! `patch` blocks, the escape hatch one level down: applied to the generated objects they
//! name, in the rendered manifests and in the chart alike.
//!
//! Whatever the user wrote (JSON merge patch or RFC 6902 JSON patch), platc applies it to the
//! object here and records the effect as a JSON merge patch in the chart's values
//! (`patches: {"Deployment/checkout": {...}}`), which the chart's templates apply the same way.
//! The rendered manifests and `helm template` thus stay equal.

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::emit::helm::diff;
use crate::emit::object::Node;
use crate::model::{PatchOp, Service};

/// The outcome of applying a service's patches in one environment.
#[derive(Debug, Default)]
pub struct Applied {
    /// Merge patch per `Kind/name`, for the chart's values.
    pub values: IndexMap<String, Json>,
    /// Per patch of the service: did it match an object here?
    pub matched: Vec<bool>,
    /// Patches that matched but could not be applied (RFC 6902 test or path failures).
    pub failures: Vec<(usize, String)>,
}

/// Applies the patches of `s` that apply in `env` to `objects`, in spec order. An object a
/// patch names is turned into JSON (see [`Node::tree_mut`]); the others are left as they are.
pub fn apply(s: &Service, env: &str, objects: &mut [Node]) -> Applied {
    let mut out = Applied { matched: vec![false; s.patches.len()], ..Default::default() };
    // Each patched object before its first patch, by index, to derive one merge patch per
    // object however many patches touched it.
    let mut originals: IndexMap<usize, (String, Json)> = IndexMap::new();
    for (i, p) in s.patches.iter().enumerate() {
        if p.environment.as_ref().is_some_and(|e| e.value != env) {
            continue;
        }
        let want_name = p.name.as_ref().map(|n| n.value.as_str()).unwrap_or(s.name.value.as_str());
        for (k, o) in objects.iter_mut().enumerate() {
            if o.kind() != Some(p.kind.value.as_str()) || o.name() != Some(want_name) {
                continue;
            }
            out.matched[i] = true;
            let o = o.tree_mut();
            let before = o.clone();
            match &p.op {
                PatchOp::Merge(m) => json_patch::merge(o, m),
                PatchOp::Json(ops) => {
                    let parsed: Result<json_patch::Patch, _> = serde_json::from_value(ops.clone());
                    let result = parsed.map_err(|e| e.to_string()).and_then(|ops| json_patch::patch(o, &ops).map_err(|e| e.to_string()));
                    if let Err(e) = result {
                        *o = before;
                        out.failures.push((i, e));
                        continue;
                    }
                }
            }
            originals.entry(k).or_insert_with(|| (format!("{}/{}", p.kind.value, want_name), before));
        }
    }
    for (k, (key, original)) in originals {
        if let Some(d) = diff(&original, &objects[k].to_json()) {
            out.values.insert(key, d);
        }
    }
    out
}

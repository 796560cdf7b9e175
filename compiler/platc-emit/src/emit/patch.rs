//! `patch` blocks, the escape hatch one level down: applied here, once, to the generated
//! objects they name (JSON merge patch or RFC 6902 JSON patch), before the objects are printed
//! as rendered manifests and as the chart's templates ([`super::chart`]). The two thus stay
//! equal: a patched field is literal in the chart (a hole a patch changes is the patch's).

use crate::emit::object::Node;
use crate::model::{PatchOp, Service};

/// The outcome of applying a service's patches in one environment.
#[derive(Debug, Default)]
pub struct Applied {
    /// Per patch of the service: did it match an object here?
    pub matched: Vec<bool>,
    /// Patches that matched but could not be applied (RFC 6902 test or path failures).
    pub failures: Vec<(usize, String)>,
}

/// Applies the patches of `s` that apply in `env` to `objects`, in spec order. An object a
/// patch names is turned into JSON (see [`Node::tree_mut`]); the others are left as they are.
pub fn apply(s: &Service, env: &str, objects: &mut [Node]) -> Applied {
    let mut out = Applied { matched: vec![false; s.patches.len()], ..Default::default() };
    for (i, p) in s.patches.iter().enumerate() {
        if p.environment.as_ref().is_some_and(|e| e.value != env) {
            continue;
        }
        let want_name = p.name.as_ref().map(|n| n.value.as_str()).unwrap_or(s.name.value.as_str());
        for o in objects.iter_mut() {
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
        }
    }
    out
}

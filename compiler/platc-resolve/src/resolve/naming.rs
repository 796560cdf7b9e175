//! Every derived name, in one module: placements (namespaces, domains, preview slugs), the
//! `instance` an environment's resources are named for, route hosts, workload and object names,
//! connection secrets, env var names of resource outputs, AWS names and Terraform identifiers.
//! Backends call these functions; none derives a name of its own.

use sha2::{Digest, Sha256};

use crate::check::units::to_dns_label;
use crate::model::{Environment, Platform};

/// Options of one build that change names and values.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Build only this environment (all when `None`).
    pub env: Option<String>,
    /// Branch of a preview build (`--set branch=NAME`).
    pub branch: Option<String>,
    /// Image tag (`--set image-tag=TAG`), usually the commit SHA from CI.
    pub image_tag: Option<String>,
}

pub use crate::check::names::MIN_PREVIEW_SLUG;

/// Where one service lands in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The environment's name.
    pub env: String,
    /// `PLATFORM-ENV`, and `-SLUG` after it for a preview; a DNS label.
    pub namespace: String,
    /// DNS label of the preview branch, for ephemeral environments.
    pub slug: Option<String>,
    /// Base domain of default hosts, e.g. `dev.acme.example.com`.
    pub domain: String,
}

/// A DNS-safe label for `text`, at most `max` characters; when it must be shortened, the end
/// is replaced by a 6-character hash of the full text, so that two long branches sharing a
/// prefix still get different names.
pub fn dns_safe(text: &str, max: usize) -> String {
    let label = to_dns_label(text);
    let label = if label.is_empty() { "x".to_string() } else { label };
    if label.len() <= max {
        return label;
    }
    let hash = short_hash(text);
    let keep = max.saturating_sub(hash.len() + 1);
    let head = label.chars().take(keep).collect::<String>();
    let head = head.trim_end_matches('-');
    if head.is_empty() {
        hash
    } else {
        format!("{head}-{hash}")
    }
}

/// The DNS label a preview branch is named by, at most `max` characters. A branch that is
/// already a DNS label short enough is used as it is; any other branch (one that `to_dns_label`
/// had to change or shorten) gets `-` and a short hash of the raw branch appended, so that
/// `feature/ok` and `feature-ok`, or `é` and `..`, never share a namespace, hosts or Terraform
/// state, and one branch's teardown never removes another's preview.
///
/// A raw branch that itself ends like a hash (`feature-ok-1a2b3c`) is hashed too, so an
/// unhashed slug can never equal another branch's hashed one. The hash is 6 hex digits (as in
/// `dns_safe`): enough against accidental collisions, not against a branch ground on purpose.
pub fn preview_slug(branch: &str, max: usize) -> String {
    let hash = short_hash(branch);
    if branch.len() <= max && crate::check::units::dns_label(branch).is_ok() && !looks_hashed(branch) {
        return branch.to_string();
    }
    let keep = max.saturating_sub(hash.len() + 1);
    let label = to_dns_label(branch);
    let head = label.chars().take(keep).collect::<String>();
    // Never the hash alone: `x-` keeps every hashed slug of the shape `HEAD-HASH`, which an
    // unhashed slug never has (see `looks_hashed`).
    let head = match head.trim_end_matches('-') {
        "" => "x",
        h => h,
    };
    format!("{head}-{hash}")
}

/// `true` when `label` ends in `-` and 6 hex digits, the shape of a hashed preview slug.
fn looks_hashed(label: &str) -> bool {
    let n = label.len();
    n > 7 && label.as_bytes()[n - 7] == b'-' && label[n - 6..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// First 6 hex digits of the SHA-256 of `text`.
pub fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(3).map(|b| format!("{b:02x}")).collect()
}

/// The placement of services in `env`. Ephemeral environments (with a TTL) need the branch.
pub fn placement(platform: &Platform, env: &Environment, branch: Option<&str>) -> Placement {
    let base = format!("{}-{}", platform.name.value, env.name.value);
    match (env.ttl, branch) {
        (Some(_), Some(branch)) => {
            // Namespace `acme-preview-<branch>`; 63 characters at most (a DNS label).
            let room = 63usize.saturating_sub(base.len() + 1).max(MIN_PREVIEW_SLUG);
            let slug = preview_slug(branch, room.min(40));
            Placement { env: env.name.value.clone(), namespace: format!("{base}-{slug}"), domain: format!("{slug}.{}.{}", env.name.value, platform.domain.value), slug: Some(slug) }
        }
        _ => Placement { env: env.name.value.clone(), namespace: base, slug: None, domain: format!("{}.{}", env.name.value, platform.domain.value) },
    }
}

/// The name an environment's resources are built for: the environment, or `ENV-BRANCH` for a
/// preview, so that two branches never share AWS names, secrets, state, GitOps folders or
/// applications.
pub fn instance(pl: &Placement) -> String {
    match &pl.slug {
        Some(slug) => format!("{}-{slug}", pl.env),
        None => pl.env.clone(),
    }
}

/// The GitOps application of a service in a placement (`catalog-prod`): the Argo CD
/// Application's or Flux Kustomization's name, and the Helm release the rendered manifests
/// stand for (shortened to Helm's 53 characters there, `emit::manifests::release_name`).
pub fn application(service: &str, pl: &Placement) -> String {
    format!("{service}-{}", instance(pl))
}

/// The Secrets Manager secret with the connection details of one resource: a JSON object with
/// one key per output of its type (`host`, `port`, `password`, ...).
pub fn connection_secret_name(pl: &Placement, service: &str, resource: &str) -> String {
    format!("platc/{}/{service}/{resource}", instance(pl))
}

/// `text` as a Terraform (and HCL) identifier of at most `max` characters: lowercase ASCII
/// letters, digits and `_`, starting with a letter.
pub fn identifier(text: &str, max: usize) -> String {
    let mut id: String = text.chars().map(|c| c.to_ascii_lowercase()).map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        id.insert(0, 'x');
    }
    id.chars().take(max.max(1)).collect()
}

/// The host of a route in one placement: as written, or `NAME.ENV.DOMAIN`; previews always get
/// their own host under the branch's domain.
pub fn route_host(service: &str, written: Option<&str>, pl: &Placement) -> String {
    match (written, &pl.slug) {
        (Some(h), None) => h.to_string(),
        _ => format!("{service}.{}", pl.domain),
    }
}

/// The Deployment or CronJob (and container) of a process: `SERVICE-PROCESS`.
pub fn process_workload(service: &str, process: &str) -> String {
    format!("{service}-{process}")
}

/// Name of the objects of one in-cluster resource (and of its pods' `app.kubernetes.io/name`):
/// `SERVICE-RESOURCE`, shortened with a hash past 52 characters (a StatefulSet's pods and
/// revisions add suffixes to it).
pub fn object_name(service: &str, resource: &str) -> String {
    dns_safe(&format!("{service}-{resource}"), 52)
}

/// Name of the Kubernetes Secret holding a resource's connection details.
pub fn connection_secret(service: &str, resource: &str) -> String {
    format!("{service}-{resource}-connection")
}

/// Name of the ConfigMap with the service's plain env values.
pub fn config_map(service: &str) -> String {
    format!("{service}-config")
}

/// Name of the Secret the service's `secret` entries land in.
pub fn secrets_secret(service: &str) -> String {
    format!("{service}-secrets")
}

/// Env var name of a resource output: `orders` + `host` -> `ORDERS_HOST`.
pub fn output_var(resource: &str, output: &str) -> String {
    format!("{resource}_{output}").to_ascii_uppercase().replace('-', "_")
}

/// The in-cluster DNS name of a Service in a placement's namespace.
pub fn cluster_host(name: &str, pl: &Placement) -> String {
    format!("{name}.{}.svc.cluster.local", pl.namespace)
}

/// The AWS name of a resource: `PLATFORM-INSTANCE-SERVICE-RESOURCE`.
pub fn aws_name(platform: &str, pl: &Placement, service: &str, resource: &str) -> String {
    format!("{platform}-{}-{service}-{resource}", instance(pl))
}

/// A Terraform identifier for a spec name (`orders-db` -> `orders_db`).
pub fn tf_id(name: &str) -> String {
    let mut id: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        id.insert_str(0, "r_");
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_become_dns_labels() {
        assert_eq!(dns_safe("feature/Add-Login", 40), "feature-add-login");
        assert_eq!(dns_safe("main", 40), "main");
        let long = "feature/JIRA-1234-a-very-long-branch-name-that-goes-on-and-on";
        let a = dns_safe(long, 30);
        assert!(a.len() <= 30, "{a}");
        assert!(a.ends_with(&short_hash(long)));
        assert_ne!(a, dns_safe(&format!("{long}-2"), 30), "same prefix, different hash");
        assert!(crate::check::units::dns_label(&a).is_ok());
    }

    #[test]
    fn preview_slugs_of_different_branches_never_collide() {
        let branches = ["feature/ok", "feature-ok", "Feature-OK", "é", "-", "..", "x", "a", "feature_ok", "feature.ok", "feature--ok", "feature/ok/", "main"];
        let mut slugs: Vec<String> = branches.iter().map(|b| preview_slug(b, 40)).collect();
        for (b, s) in branches.iter().zip(&slugs) {
            assert!(crate::check::units::dns_label(s).is_ok() && s.len() <= 40, "{b:?} -> {s:?}");
        }
        // A branch that is already a label keeps its name; every other one carries its hash.
        assert_eq!(preview_slug("feature-ok", 40), "feature-ok");
        assert_eq!(preview_slug("feature/ok", 40), format!("feature-ok-{}", short_hash("feature/ok")));
        assert_eq!(preview_slug("é", 40), format!("x-{}", short_hash("é")));
        // A branch named like the hashed slug of another is hashed again.
        let hashed = preview_slug("feature/ok", 40);
        assert_ne!(preview_slug(&hashed, 40), hashed);
        slugs.push(preview_slug(&hashed, 40));
        let mut unique = slugs.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), slugs.len(), "{slugs:?}");
    }

    #[test]
    fn long_preview_slugs_fit_their_room() {
        let long = "feature/JIRA-1234-a-very-long-branch-name-that-goes-on-and-on";
        for max in [8, 20, 40] {
            let s = preview_slug(long, max);
            assert!(s.len() <= max && crate::check::units::dns_label(&s).is_ok(), "{max}: {s}");
            assert!(s.ends_with(&short_hash(long)));
        }
        // Long branches are shortened exactly as before (the slug of committed previews).
        assert_eq!(preview_slug(long, 40), dns_safe(long, 40));
        let label = "a".repeat(41);
        assert_eq!(preview_slug(&label, 40), dns_safe(&label, 40));
    }
}

//! Names derived from the platform, the environment and (for previews) the branch.

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

/// Where one service lands in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub env: String,
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
            let room = 63usize.saturating_sub(base.len() + 1).max(8);
            let slug = dns_safe(branch, room.min(40));
            Placement { env: env.name.value.clone(), namespace: format!("{base}-{slug}"), domain: format!("{slug}.{}.{}", env.name.value, platform.domain.value), slug: Some(slug) }
        }
        _ => Placement { env: env.name.value.clone(), namespace: base, slug: None, domain: format!("{}.{}", env.name.value, platform.domain.value) },
    }
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
}

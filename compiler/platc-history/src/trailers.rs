//! The commit trailers of a publish, and the message they end.
//!
//! ```text
//! platc: publish 3f2a9c1 to checkout/prod, checkout/staging
//!
//! Built by platc 0.1.0 from source commit 3f2a9c1e….
//!
//! Platc-Source-Commit: 3f2a9c1e…            (or `unknown` outside a git repository)
//! Platc-Source-Time: 2024-03-01T12:00:00+01:00   (committer time, ISO 8601, or `unknown`)
//! Platc-Version: 0.1.0
//! Platc-Deploy: checkout/prod                (one per service/environment whose files changed)
//! Platc-Deploy: checkout/staging
//! Platc-Preview: checkout/preview-pr-7        (a preview instance whose files changed)
//! Platc-Remove: checkout/preview-pr-6         (an instance `publish --remove` tore down)
//! Platc-First-Commit: checkout 2024-02-20T10:00:00+01:00
//!                                    (a service deployed to a protected environment: the
//!                                     committer time of the commit that added its spec)
//! ```
//!
//! Only `Platc-Deploy` is a deployment for `platc dora`: a preview is counted apart, and a
//! teardown delivers no change.

use std::collections::BTreeSet;
use std::fmt;

/// Trailer key: the commit the build's source was at, or [`UNKNOWN`].
pub const SOURCE_COMMIT: &str = "Platc-Source-Commit";
/// Trailer key: the source commit's committer time (ISO 8601), or [`UNKNOWN`].
pub const SOURCE_TIME: &str = "Platc-Source-Time";
/// Trailer key: the version of platc that built the outputs.
pub const VERSION: &str = "Platc-Version";
/// Trailer key: a `SERVICE/ENV` whose files changed, one trailer each; the only one `platc dora`
/// counts as a deployment.
pub const DEPLOY: &str = "Platc-Deploy";
/// Trailer key: a preview instance `SERVICE/INSTANCE` whose files changed.
pub const PREVIEW: &str = "Platc-Preview";
/// Trailer key: an instance `SERVICE/INSTANCE` that `publish --remove` tore down.
pub const REMOVE: &str = "Platc-Remove";
/// Trailer key: `SERVICE TIME`, the committer time of the commit that added the spec of a service
/// deployed to a protected environment.
pub const FIRST_COMMIT: &str = "Platc-First-Commit";
/// The value of the source trailers when the source is not a git repository.
pub const UNKNOWN: &str = "unknown";

/// A service in an environment: what one `Platc-Deploy` trailer names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Unit {
    /// The service's name.
    pub service: String,
    /// The environment, or for a preview the instance (`preview-pr-7`).
    pub environment: String,
}

impl Unit {
    /// The unit of `service` in `environment`.
    pub fn new(service: impl Into<String>, environment: impl Into<String>) -> Unit {
        Unit { service: service.into(), environment: environment.into() }
    }

    /// Reads `service/environment`.
    pub fn parse(text: &str) -> Option<Unit> {
        let (s, e) = text.trim().split_once('/')?;
        (!s.is_empty() && !e.is_empty() && !e.contains('/')).then(|| Unit::new(s, e))
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.service, self.environment)
    }
}

/// The source commit a publish was built from, when the source is in a git repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// The full commit id, `None` outside a git repository.
    pub commit: Option<String>,
    /// Committer time, ISO 8601 as `git show -s --format=%cI` prints it.
    pub time: Option<String>,
}

/// What a publish changed, by service and instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Services deployed to a long-lived environment (`Platc-Deploy`).
    pub deployed: BTreeSet<Unit>,
    /// Preview instances deployed or updated (`Platc-Preview`; the unit's environment is the
    /// instance, `preview-pr-7`).
    pub previews: BTreeSet<Unit>,
    /// Instances torn down (`Platc-Remove`).
    pub removed: BTreeSet<Unit>,
    /// Per service deployed to a protected environment, when its spec was first committed
    /// (`Platc-First-Commit`): what time to first deploy is measured from.
    pub first_commits: std::collections::BTreeMap<String, String>,
}

impl Changes {
    /// True when the publish deploys, updates and tears down nothing (first commits are no change).
    pub fn is_empty(&self) -> bool {
        self.deployed.is_empty() && self.previews.is_empty() && self.removed.is_empty()
    }
}

/// The commit message of a publish: `message` (or a default naming the source commit and what
/// changed), then the trailers as the last paragraph.
pub fn message(message: Option<&str>, source: &Source, changes: &Changes) -> String {
    let short = source.commit.as_deref().map(|c| &c[..c.len().min(7)]);
    let mut text = match message.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => m.to_string(),
        None => {
            let from = match &source.commit {
                Some(c) => format!("from source commit {c}."),
                None => "from a source tree that is not a git repository.".to_string(),
            };
            format!("{}\n\nBuilt by platc {} {from}", subject(short, changes), env!("CARGO_PKG_VERSION"))
        }
    };
    text.push_str("\n\n");
    text.push_str(&format!("{SOURCE_COMMIT}: {}\n", source.commit.as_deref().unwrap_or(UNKNOWN)));
    text.push_str(&format!("{SOURCE_TIME}: {}\n", source.time.as_deref().unwrap_or(UNKNOWN)));
    text.push_str(&format!("{VERSION}: {}\n", env!("CARGO_PKG_VERSION")));
    for (key, units) in [(DEPLOY, &changes.deployed), (PREVIEW, &changes.previews), (REMOVE, &changes.removed)] {
        for u in units {
            text.push_str(&format!("{key}: {u}\n"));
        }
    }
    for (service, time) in &changes.first_commits {
        text.push_str(&format!("{FIRST_COMMIT}: {service} {time}\n"));
    }
    text
}

/// `platc: publish 3f2a9c1 to a/prod, b/prod`, or for a teardown only `platc: tear down
/// a/preview-pr-7`: a reader of `git log --oneline` tells a deployment from a removal.
fn subject(short: Option<&str>, changes: &Changes) -> String {
    let list = |units: &BTreeSet<Unit>| {
        let listed: Vec<String> = units.iter().take(3).map(Unit::to_string).collect();
        match units.len() {
            n if n <= 3 => listed.join(", "),
            n => format!("{} and {} more", listed.join(", "), n - 3),
        }
    };
    let published: BTreeSet<Unit> = changes.deployed.union(&changes.previews).cloned().collect();
    let what = match short {
        Some(s) => format!("platc: publish {s}"),
        None => "platc: publish (source commit unknown)".to_string(),
    };
    match (published.is_empty(), changes.removed.is_empty()) {
        (true, true) => format!("{what} (no service deployment changed)"),
        (false, true) => format!("{what} to {}", list(&published)),
        (true, false) => format!("platc: tear down {}", list(&changes.removed)),
        (false, false) => format!("{what} to {}; tear down {}", list(&published), list(&changes.removed)),
    }
}

/// `Key: value` lines, as `git log --format=%(trailers:only,unfold)` prints them.
pub fn parse(text: &str) -> Vec<(String, String)> {
    text.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).filter(|(k, _)| !k.is_empty() && !k.contains(char::is_whitespace)).collect()
}

/// The values of one trailer key (keys compare without regard to case, as in git).
pub fn values<'a>(trailers: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    trailers.iter().filter(move |(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_message_ends_with_trailers() {
        let units: BTreeSet<Unit> = [Unit::new("hello", "prod"), Unit::new("hello", "dev")].into();
        let src = Source { commit: Some("0123456789abcdef0123456789abcdef01234567".into()), time: Some("2024-03-01T12:00:00+01:00".into()) };
        let m = message(None, &src, &Changes { deployed: units, ..Changes::default() });
        assert!(m.starts_with("platc: publish 0123456 to hello/dev, hello/prod\n\nBuilt by platc "), "{m}");
        let v = env!("CARGO_PKG_VERSION");
        assert!(m.ends_with(&format!("\n\nPlatc-Source-Commit: 0123456789abcdef0123456789abcdef01234567\nPlatc-Source-Time: 2024-03-01T12:00:00+01:00\nPlatc-Version: {v}\nPlatc-Deploy: hello/dev\nPlatc-Deploy: hello/prod\n")), "{m}");
        let t = parse(m.rsplit("\n\n").next().unwrap());
        assert_eq!(values(&t, "platc-deploy").collect::<Vec<_>>(), ["hello/dev", "hello/prod"]);
        let m = message(Some("Roll out the new greeting"), &Source::default(), &Changes::default());
        assert_eq!(m, format!("Roll out the new greeting\n\nPlatc-Source-Commit: unknown\nPlatc-Source-Time: unknown\nPlatc-Version: {v}\n"));
        assert_eq!(Unit::parse(" a/b "), Some(Unit::new("a", "b")));
        assert_eq!(Unit::parse("a/b/c"), None);
    }

    #[test]
    fn previews_and_teardowns_have_their_own_trailers_and_subject() {
        let src = Source { commit: Some("0123456789abcdef0123456789abcdef01234567".into()), time: None };
        let removed: BTreeSet<Unit> = [Unit::new("hello", "preview-pr-7")].into();
        let m = message(None, &src, &Changes { removed: removed.clone(), ..Changes::default() });
        assert!(m.starts_with("platc: tear down hello/preview-pr-7\n"), "{m}");
        assert!(m.ends_with("Platc-Remove: hello/preview-pr-7\n") && !m.contains("Platc-Deploy"), "{m}");
        let previews: BTreeSet<Unit> = [Unit::new("hello", "preview-pr-8")].into();
        let m = message(None, &src, &Changes { previews, removed, ..Changes::default() });
        assert!(m.starts_with("platc: publish 0123456 to hello/preview-pr-8; tear down hello/preview-pr-7\n"), "{m}");
        assert!(m.contains("\nPlatc-Preview: hello/preview-pr-8\nPlatc-Remove: hello/preview-pr-7\n"), "{m}");
    }
}

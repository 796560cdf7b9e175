//! Checks of names and strings with a fixed shape: DNS labels, image references, HTTP paths and
//! hosts, alert names; and duplicate detection.

use super::reader::Cx;
use super::units;
use crate::diagnostics::codes;
use crate::source::{Span, Spanned};

/// The fewest characters a preview's branch slug gets in its namespace, however long the
/// platform and environment names are (`check::names` refuses names that leave less room).
pub const MIN_PREVIEW_SLUG: usize = 8;

/// Reports E0207 unless `name` is a DNS-1123 label (Kubernetes object names, <= 63 chars).
pub fn check_dns(cx: &mut Cx, name: &Spanned<String>, what: &str) -> bool {
    match units::dns_label(&name.value) {
        Ok(()) => true,
        Err(help) => {
            cx.error(codes::INVALID_NAME, name.span, "not a DNS-1123 label", format!("invalid {what} `{}`", name.value)).help = Some(help);
            false
        }
    }
}

/// Reports E0219 when the namespace of `env`, `PLATFORM-ENV` (and `-BRANCH` for a preview
/// environment, at least [`MIN_PREVIEW_SLUG`] characters of it), is longer than the 63
/// characters of a DNS label. Points at the environment name and says what the name would be.
pub fn check_namespace(cx: &mut Cx, platform: &Spanned<String>, env: &crate::model::Environment) {
    let base = format!("{}-{}", platform.value, env.name.value);
    let (name, max) = match env.ttl {
        Some(_) => (format!("{base}-{}", "b".repeat(MIN_PREVIEW_SLUG)), 63),
        None => (base.clone(), 63),
    };
    if name.len() <= max {
        return;
    }
    let what = if env.ttl.is_some() { format!("`{base}-BRANCH` (with the branch shortened to {MIN_PREVIEW_SLUG} characters)") } else { format!("`{base}`") };
    let room = max.saturating_sub(name.len() - env.name.value.len());
    cx.error(
        codes::NAME_TOO_LONG,
        env.name.span,
        format!("namespace {what} would have {} characters", name.len()),
        format!("the namespace of environment `{}` is longer than 63 characters", env.name.value),
    )
    .label(platform.span, "the platform name starts every namespace")
    .help = Some(format!(
        "namespaces are named PLATFORM-ENVIRONMENT{}, a DNS label of at most 63 characters: shorten the environment name to {room} characters or fewer, or the platform name",
        if env.ttl.is_some() { "-BRANCH" } else { "" }
    ));
}

/// A Kubernetes label value (the owner becomes `platc.dev/owner`): at most 63 characters of
/// letters, digits, `-`, `_` and `.`, starting and ending alphanumeric.
pub fn check_label_value(cx: &mut Cx, v: &Spanned<String>, what: &str) -> bool {
    let s = &v.value;
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !ok {
        let fix = units::to_dns_label(s);
        cx.error(codes::INVALID_NAME, v.span, "not a label value", format!("invalid {what} `{s}`")).help =
            Some(format!("it becomes a Kubernetes label value: letters, digits, `-`, `_` and `.`, at most 63 characters, e.g. `{}`", if fix.is_empty() { "team-payments".into() } else { fix }));
    }
    ok
}

/// Port names become Kubernetes port names: DNS labels of at most 15 characters.
pub fn check_port_name(cx: &mut Cx, name: &Spanned<String>) {
    if !check_dns(cx, name, "port name") {
        return;
    }
    if !name.value.chars().any(|c| c.is_ascii_lowercase()) || name.value.contains("--") {
        cx.error(codes::INVALID_NAME, name.span, "not a port name", format!("invalid port name `{}`", name.value)).help =
            Some("Kubernetes port names need at least one letter and no `--`, e.g. `http` or `grpc`".into());
        return;
    }
    if name.value.len() > 15 {
        cx.error(codes::INVALID_NAME, name.span, "longer than 15 characters", format!("port name `{}` is too long", name.value)).help =
            Some("Kubernetes port names have at most 15 characters; use a short name such as `http` or `grpc`".into());
    }
}

/// An image reference split by the OCI distribution grammar and normalized as a container
/// runtime resolves it: `nginx` is `docker.io/library/nginx`, `index.docker.io` is `docker.io`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry host (and port), lowercase: `ghcr.io`, `docker.io`, `localhost:5000`.
    pub registry: String,
    /// The repository path inside the registry: `acme/checkout`, `library/nginx`.
    pub repository: String,
    /// The tag written in the reference, if any (none is not `latest` here).
    pub tag: Option<String>,
    /// The digest written in the reference, if any.
    pub digest: Option<String>,
}

/// Parses `text` by the OCI distribution reference grammar (`oci-spec`), which refuses
/// uppercase repositories, empty or `.`/`..` components, spaces and control characters.
pub fn image_ref(text: &str) -> Result<ImageRef, oci_spec::distribution::ParseError> {
    let r: oci_spec::distribution::Reference = text.parse()?;
    // The parser fills in `latest` when no tag is written; only a written one counts here.
    let name = text.split('@').next().unwrap_or(text);
    let written = name.rsplit('/').next().is_some_and(|last| last.contains(':'));
    let tag = r.tag().filter(|_| written).map(str::to_string);
    Ok(ImageRef { registry: r.registry().to_ascii_lowercase(), repository: r.repository().to_string(), tag, digest: r.digest().map(str::to_string) })
}

/// An image CI does not build: where the spec says so, and what follows the image in an
/// example of how to write it (` build=#false` on `image`, nothing in an `init`).
#[derive(Debug, Clone, Copy)]
pub struct Prebuilt {
    /// `build=#false`, or the node of an image that is never built.
    pub span: Span,
    /// Written after the image in the help's examples.
    pub written: &'static str,
}

/// An image repository such as `ghcr.io/acme/checkout`, parsed by the OCI reference grammar.
/// The tag comes from CI, so a tag here is a warning, and `latest` an error (it makes deploys
/// unreproducible). An image CI does not build (`prebuilt`, the span of `build=#false`) is the
/// other way round: it must name its tag, which is then no warning.
pub fn check_image(cx: &mut Cx, image: Spanned<String>, prebuilt: Option<Prebuilt>) -> Option<Spanned<String>> {
    let v = image.value.as_str();
    let r = match image_ref(v) {
        Ok(r) => r,
        Err(e) => {
            let suggestion = suggest_image(v);
            cx.error(codes::INVALID_IMAGE, image.span, e.to_string(), format!("invalid image reference \"{}\"", v.escape_debug())).help =
                Some(format!("an image is REGISTRY/PATH in lowercase letters, digits and single `.`, `_` or `-` between them (no spaces, no `..`), without a tag, e.g. image \"{suggestion}\""));
            return None;
        }
    };
    let repo = v.split('@').next().unwrap_or(v);
    let repo = match &r.tag {
        Some(t) => &repo[..repo.len() - t.len() - 1],
        None => repo,
    };
    if r.digest.is_some() {
        // The tag and the version label would be cut from the digest: refused rather than
        // deployed wrong.
        cx.error(codes::INVALID_IMAGE, image.span, "a digest", "platc does not deploy images by digest yet").help =
            Some(format!("pin a tag instead: image \"{repo}:{}\"{}", r.tag.as_deref().unwrap_or("1.2.3"), prebuilt.map_or("", |p| p.written)));
        return None;
    }
    match (r.tag.as_deref(), prebuilt) {
        (Some("latest"), _) => {
            let help = match prebuilt {
                Some(p) => format!("pin the version you deploy: image \"{repo}:1.2.3\"{}", p.written),
                None => format!("write the repository only; CI tags each build with its commit: image \"{repo}\""),
            };
            cx.error(codes::INVALID_IMAGE, image.span, "`latest` tag", "the `latest` tag is never deployed").help = Some(help);
            None
        }
        (Some(_), Some(_)) => Some(image),
        (Some(t), None) => {
            cx.error(codes::IMAGE_HAS_TAG, image.span, format!("tag `{t}`"), "image tag is fixed in the spec").help = Some(format!(
                "CI builds and tags the image with the commit SHA; write image \"{repo}\", or, for a third-party image you deploy as it is, say so: image \"{}\" build=#false",
                image.value
            ));
            Some(image)
        }
        (None, Some(p)) => {
            cx.error(codes::UNPINNED_PREBUILT_IMAGE, image.span, "no tag", "an image platc does not build must name the version it deploys").label(p.span, "CI does not build it").help =
                Some(format!("pin its tag: image \"{repo}:1.2.3\"{} (without a tag, nothing would say which version runs)", p.written));
            None
        }
        (None, None) => Some(image),
    }
}

/// A valid image repository close to `text`, for the help of E0211.
fn suggest_image(text: &str) -> String {
    let repo = text.split(['@', ' ']).next().unwrap_or("");
    let parts: Vec<String> =
        repo.to_ascii_lowercase().split('/').map(|p| p.split(':').next().unwrap_or("").trim_matches(|c: char| !c.is_ascii_alphanumeric()).replace("..", ".")).filter(|p| !p.is_empty()).collect();
    let guess = parts.join("/");
    if image_ref(&guess).is_ok_and(|r| r.tag.is_none() && r.digest.is_none()) {
        guess
    } else {
        "ghcr.io/acme/app".into()
    }
}

/// An HTTP path, by the Gateway API's validation of `HTTPPathMatch` values (what the API server
/// refuses in an HTTPRoute `PathPrefix` or `Exact` match, and what probes and Ingresses need).
pub fn check_path(cx: &mut Cx, path: &Spanned<String>) {
    if let Err(why) = http_path(&path.value) {
        let p = &path.value;
        cx.error(codes::INVALID_PATH, path.span, why, format!("invalid path \"{}\"", p.escape_debug())).help = Some(format!(
            "paths start with `/`, have segments of letters, digits and `-._~!$&'()*+,;=:@` or `%XX` escapes (no `..`, `.` or empty segments, no query or fragment), e.g. \"{}\"",
            suggest_path(p)
        ));
    }
}

/// The reason `p` is not a Gateway API path match value, if it is not one. The rules are the
/// CEL validations of `HTTPPathMatch` in gateway-api's `apis/v1/httproute_types.go`.
pub fn http_path(p: &str) -> Result<(), String> {
    if !p.starts_with('/') {
        return Err("does not start with `/`".into());
    }
    if p.len() > 1024 {
        return Err(format!("longer than 1024 characters ({})", p.len()));
    }
    if let Some(c) = p.chars().find(|c| !(c.is_ascii_alphanumeric() || "-/._~!$&'()*+,;=:@%".contains(*c))) {
        return Err(format!("`{}` is not allowed in a path", c.escape_debug()));
    }
    let bytes = p.as_bytes();
    for (i, _) in p.match_indices('%') {
        if !(i + 2 < bytes.len() && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit()) {
            return Err("`%` starts no `%XX` escape".into());
        }
    }
    if p.contains("%2f") || p.contains("%2F") {
        return Err("an escaped `/` (`%2F`)".into());
    }
    if p.contains("//") {
        return Err("an empty segment (`//`)".into());
    }
    if p.split('/').any(|seg| seg == "." || seg == "..") {
        return Err("a `.` or `..` segment".into());
    }
    Ok(())
}

/// A valid path close to `p`, for the help of E0214.
fn suggest_path(p: &str) -> String {
    let head = p.trim().split(['?', '#']).next().unwrap_or("");
    let segs: Vec<String> =
        head.split('/').filter(|s| !s.is_empty() && *s != "." && *s != "..").map(|s| s.chars().map(|c| if c.is_ascii_alphanumeric() || "-._~".contains(c) { c } else { '-' }).collect()).collect();
    let fixed = format!("/{}", segs.join("/"));
    if http_path(&fixed).is_ok() {
        fixed
    } else {
        "/api".into()
    }
}

/// A host name: DNS labels separated by dots, optionally starting with `*.`.
pub fn check_host(cx: &mut Cx, host: &Spanned<String>) {
    let h = host.value.strip_prefix("*.").unwrap_or(&host.value);
    let ok = h.len() <= 253 && !h.is_empty() && h.split('.').all(|l| units::dns_label(l).is_ok());
    if !ok {
        cx.error(codes::INVALID_PATH, host.span, "not a host name", format!("invalid host \"{}\"", host.value)).help =
            Some("write a lowercase host name without scheme, port or path, e.g. host=\"shop.example.com\"".into());
    }
}

/// Alert names are CamelCase identifiers (Prometheus convention).
pub fn check_alert_name(cx: &mut Cx, name: &Spanned<String>) {
    let n = &name.value;
    let ok = n.starts_with(|c: char| c.is_ascii_uppercase()) && n.chars().all(|c| c.is_ascii_alphanumeric());
    if !ok {
        let camel: String = n
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut cs = w.chars();
                cs.next().map(|f| f.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
            })
            .collect();
        cx.error(codes::INVALID_NAME, name.span, "not CamelCase", format!("invalid alert name `{n}`")).help =
            Some(format!("alert names are CamelCase letters and digits, e.g. `{}`", if camel.is_empty() { "QueueBacklog".into() } else { camel }));
    }
}

/// Reports E0301 for every name given twice, pointing at the first one too.
pub fn duplicates<'a>(cx: &mut Cx, items: impl Iterator<Item = (&'a String, Span)>, what: &str) {
    // A map: 300,000 env vars must not take 300,000² comparisons.
    let mut seen: std::collections::HashMap<&String, Span> = std::collections::HashMap::new();
    for (name, span) in items {
        if let Some(&first) = seen.get(name) {
            cx.error(codes::DUPLICATE, span, "defined again here", format!("{what} `{name}` is defined more than once")).label(first, "first defined here").help =
                Some(format!("give each {what} a unique name, or remove one of them"));
        } else {
            seen.insert(name, span);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_follow_the_oci_grammar_and_normalize() {
        let r = image_ref("nginx").unwrap();
        assert_eq!((r.registry.as_str(), r.repository.as_str(), r.tag), ("docker.io", "library/nginx", None));
        let r = image_ref("index.docker.io/acme/app:1.2").unwrap();
        assert_eq!((r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()), ("docker.io", "acme/app", Some("1.2")));
        let r = image_ref("localhost:5000/app").unwrap();
        assert_eq!((r.registry.as_str(), r.repository.as_str(), r.tag), ("localhost:5000", "app", None));
        for bad in ["ghcr.io/acme/../evil/x", "ghcr.io/acme/./x", "ghcr.io/acme//x", "ghcr.io/Acme/x", "ghcr.io/acme/x ", "ghcr.io/acme/x;id", "", "ghcr.io/acme/x@sha256:00", "ghcr.io/acme/x:-bad"] {
            assert!(image_ref(bad).is_err(), "{bad:?}");
        }
        assert_eq!(suggest_image("GHCR.io/Acme/../App:1"), "ghcr.io/acme/app");
    }

    #[test]
    fn paths_follow_the_gateway_api_rules() {
        for ok in ["/", "/api", "/api/v1/", "/a-b_c.d~e", "/%20x", "/x;y=1", "/@me", "/..x", "/.well-known"] {
            assert_eq!(http_path(ok), Ok(()), "{ok}");
        }
        for bad in ["api", "/a/../b", "/a/./b", "/a/..", "/a/.", "/..", "//a", "/a//b", "/a%2fb", "/a%2Fb", "/a b", "/a?x=1", "/a#f", "/a%zz", "/a%", "/é", "/a\\b", "/a\"b"] {
            assert!(http_path(bad).is_err(), "{bad}");
        }
        assert!(http_path(&format!("/{}", "a".repeat(1024))).is_err());
        assert_eq!(suggest_path("api/../v1 x?q"), "/api/v1-x");
    }
}

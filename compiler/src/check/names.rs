//! Checks of names and strings with a fixed shape: DNS labels, image references, HTTP paths and
//! hosts, alert names; and duplicate detection.

use super::reader::Cx;
use super::units;
use crate::diagnostics::codes;
use crate::source::{Span, Spanned};

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

/// An image repository such as `ghcr.io/acme/checkout`. The tag comes from CI, so a tag here
/// is a warning, and `latest` an error (it makes deploys unreproducible).
pub fn check_image(cx: &mut Cx, image: Spanned<String>) -> Option<Spanned<String>> {
    let v = image.value.trim();
    let (repo, digest) = match v.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (v, None),
    };
    let last_slash = repo.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (repo, tag) = match repo[last_slash..].find(':') {
        Some(i) => (&repo[..last_slash + i], Some(&repo[last_slash + i + 1..])),
        None => (repo, None),
    };
    let valid_repo = !repo.is_empty() && repo.split('/').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-:".contains(c)));
    if !valid_repo {
        cx.error(codes::INVALID_IMAGE, image.span, "not an image repository", format!("invalid image reference \"{v}\"")).help =
            Some(format!("write the repository in lowercase without a tag, e.g. image \"{}\"", if repo.is_empty() { "ghcr.io/acme/app".to_string() } else { repo.to_ascii_lowercase() }));
        return None;
    }
    if let Some(d) = digest {
        if !d.starts_with("sha256:") || d.len() != 71 {
            cx.error(codes::INVALID_IMAGE, image.span, "malformed digest", format!("invalid image digest in \"{v}\"")).help = Some(format!("remove the digest (CI pins the image): image \"{repo}\""));
            return None;
        }
    }
    match tag {
        Some("latest") => {
            cx.error(codes::INVALID_IMAGE, image.span, "`latest` tag", "the `latest` tag is never deployed").help =
                Some(format!("write the repository only; CI tags each build with its commit: image \"{repo}\""));
            None
        }
        Some(t) => {
            cx.error(codes::IMAGE_HAS_TAG, image.span, format!("tag `{t}`"), "image tag is fixed in the spec").help =
                Some(format!("CI builds and tags the image with the commit SHA; write image \"{repo}\" unless you really deploy a third-party image"));
            Some(image)
        }
        None => Some(image),
    }
}

/// An HTTP path: starts with `/`, no spaces, no query or fragment.
pub fn check_path(cx: &mut Cx, path: &Spanned<String>) {
    let p = &path.value;
    let ok = p.starts_with('/') && !p.chars().any(|c| c.is_whitespace() || c == '?' || c == '#');
    if !ok {
        let fixed = format!("/{}", p.trim().trim_start_matches('/').split(['?', '#']).next().unwrap_or("").replace(' ', "-"));
        cx.error(codes::INVALID_PATH, path.span, "not an HTTP path", format!("invalid path \"{p}\"")).help =
            Some(format!("paths start with `/` and have no spaces, query or fragment, e.g. \"{fixed}\""));
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

/// A light syntax check of a PromQL expression: balanced brackets and quotes. promtool does the
/// full check on the generated rules.
pub fn check_promql(cx: &mut Cx, expr: &Spanned<String>) {
    let mut stack = Vec::new();
    let mut quote: Option<char> = None;
    for c in expr.value.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => stack.push(c),
            (None, ')' | ']' | '}') => {
                let open = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if stack.pop() != Some(open) {
                    stack.push('!');
                    break;
                }
            }
            _ => {}
        }
    }
    if !stack.is_empty() || quote.is_some() || expr.value.trim().is_empty() {
        cx.error(codes::WRONG_TYPE, expr.span, "unbalanced or empty", "this PromQL expression is malformed").help =
            Some("check that brackets and quotes are balanced, e.g. expr=\"sum(rate(jobs_failed_total[5m])) > 0\"".into());
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

//! Guardrail policies: read from `platform.kdl { policies { ... } }` and enforced on every
//! service. A violation points at the offending spec line and, as a second label, at the
//! policy in platform.kdl.

use super::reader::{expect_int, expect_str, parse_unit, Cx, NodeReader};
use super::{names, suggest, units};
use crate::diagnostics::{codes, Diagnostic, Diagnostics, Label};
use crate::model::*;
use crate::source::{Span, Spanned};
use crate::syntax::Node;

/// Reads the children of `policies { ... }`.
pub(crate) fn read(cx: &mut Cx, node: &Node) -> Vec<Policy> {
    let mut r = NodeReader::new(node);
    let children = r.allow_children();
    r.finish(cx);
    children.iter().filter_map(|c| read_one(cx, c)).collect()
}

fn read_one(cx: &mut Cx, node: &Node) -> Option<Policy> {
    let mut r = NodeReader::new(node);
    let environment = r.prop_str(cx, "env", "env=prod");
    let rule = match node.name.value.as_str() {
        "min-replicas" => r.arg(0).and_then(|v| expect_int(cx, v, "`min-replicas`", 1, 1000)).map(|n| PolicyRule::MinReplicas(n.value as u32)),
        "require-slo" => Some(PolicyRule::RequireSlo),
        "require-owner" => Some(PolicyRule::RequireOwner),
        "require-probes" => Some(PolicyRule::RequireProbes),
        "forbid-loosening" => Some(PolicyRule::ForbidLoosening),
        "max-cpu" => r.arg(0).and_then(|v| parse_unit(cx, v, codes::INVALID_CPU, "CPU quantity", units::cpu)).map(|c| PolicyRule::MaxCpu(c.value)),
        "max-memory" => r.arg(0).and_then(|v| parse_unit(cx, v, codes::INVALID_MEMORY, "memory quantity", units::memory)).map(|m| PolicyRule::MaxMemory(m.value)),
        "allowed-registries" => {
            let regs: Vec<String> = r.rest_args(0).iter().filter_map(|a| expect_str(cx, a, "a registry", "\"ghcr.io/acme\"").filter(|s| check_registry(cx, s))).map(|s| s.value).collect();
            Some(PolicyRule::AllowedRegistries(regs))
        }
        other => {
            let help = suggest::help_for_unknown(other, &POLICY_NAMES, "policy");
            cx.error(codes::UNKNOWN_POLICY, node.name.span, "unknown policy", format!("unknown policy `{other}`")).help = Some(help);
            return None;
        }
    };
    let takes_arg = matches!(node.name.value.as_str(), "min-replicas" | "max-cpu" | "max-memory" | "allowed-registries");
    if takes_arg && node.args.is_empty() {
        let example = match node.name.value.as_str() {
            "min-replicas" => "min-replicas 2 env=prod",
            "max-cpu" => "max-cpu \"4\"",
            "max-memory" => "max-memory \"8Gi\"",
            _ => "allowed-registries \"ghcr.io/acme\"",
        };
        cx.error(codes::MISSING_VALUE, node.head, "value missing", format!("policy `{}` needs a value", node.name.value)).help = Some(format!("write {example}"));
    }
    r.finish(cx);
    Some(Policy { rule: rule?, environment, span: node.head })
}

/// `waive POLICY reason="..." until="YYYY-MM-DD"` in a service.
pub(crate) fn read_waiver(cx: &mut Cx, node: &Node) -> Option<PolicyWaiver> {
    let example = "waive require-probes reason=\"a load generator with no health endpoint\" until=\"2027-03-31\"";
    let mut r = NodeReader::new(node);
    let policy = r.req_arg_str(cx, 0, "the policy it waives", example);
    let reason = r.prop_str(cx, "reason", "reason=\"why the service may break it\"");
    let until = r.prop_str(cx, "until", "until=\"2027-03-31\"");
    r.finish(cx);
    let policy = policy?;
    if !POLICY_NAMES.contains(&policy.value.as_str()) {
        cx.error(codes::UNKNOWN_POLICY, policy.span, "unknown policy", format!("unknown policy `{}`", policy.value)).help = Some(suggest::help_for_unknown(&policy.value, &POLICY_NAMES, "policy"));
        return None;
    }
    let reason = match reason {
        Some(why) if !why.value.trim().is_empty() => why.value,
        other => {
            let span = other.map_or(node.head, |w| w.span);
            cx.error(codes::MISSING_VALUE, span, "reason missing", "a policy waiver needs a reason").help = Some(format!("say why, for the reviewer and whoever reads the cluster: {example}"));
            return None;
        }
    };
    let until = match until {
        Some(u) => match platc_syntax::date::parse_date(&u.value) {
            Some(day) => Some(Spanned::new((day, u.value), u.span)),
            None => {
                cx.error(codes::WRONG_TYPE, u.span, "not a date", format!("`{}` is not a date", u.value)).help =
                    Some("write the last day the waiver applies as YYYY-MM-DD: until=\"2027-03-31\"".into());
                return None;
            }
        },
        None => None,
    };
    Some(PolicyWaiver { policy, reason, until, span: node.head })
}

/// Enforces every policy on one service, reporting violations with both labels. A violation of
/// a policy the service waives is let through while the waiver applies (`today`, a day
/// number); an expired waiver says so on the violation; a waiver of a policy the service
/// keeps is W0106.
pub(crate) fn enforce(platform: &Platform, s: &Service, today: i64, diags: &mut Diagnostics) {
    let mut used = vec![false; s.waivers.len()];
    for policy in &platform.policies {
        let waiver = s.waivers.iter().position(|w| w.policy.value == policy.rule.name());
        for v in violations(platform, policy, s) {
            let mut d = Diagnostic::new(codes::POLICY_VIOLATION, Label::new(s.file, v.span, v.label), v.message)
                .with_label(Label::new(platform.file, policy.span, format!("policy `{}` is set here", policy.rule.name())))
                .with_help(v.help);
            if let Some(k) = waiver {
                used[k] = true;
                let w = &s.waivers[k];
                match &w.until {
                    _ if w.applies(today) => continue,
                    Some(until) => d = d.with_label(Label::new(s.file, until.span, format!("waived until {}: expired", until.value.1))),
                    None => {}
                }
            }
            diags.push(d);
        }
    }
    for (w, _) in s.waivers.iter().zip(&used).filter(|(_, used)| !**used) {
        diags.push(
            Diagnostic::new(codes::UNUSED_POLICY_WAIVER, Label::new(s.file, w.span, "waives nothing"), format!("service `{}` waives `{}`, which it does not break", s.name.value, w.policy.value))
                .with_help("remove the waiver: the service keeps the policy now (or the platform does not set it)"),
        );
    }
}

/// One way a service breaks a policy: the spec line at fault, the label there, the message and
/// the help of its diagnostic.
struct Violation {
    span: Span,
    label: String,
    message: String,
    help: String,
}

impl Violation {
    fn new(span: Span, label: impl Into<String>, message: String, help: impl Into<String>) -> Self {
        Violation { span, label: label.into(), message, help: help.into() }
    }
}

/// The probes to add to `s`, in the kind it can answer: commands for a process that listens on
/// no port, the gRPC health protocol for a gRPC service, HTTP paths otherwise. Both the
/// `require-probes` violation and warning W0101 suggest it.
pub(crate) fn probes_example(s: &Service) -> &'static str {
    match s.ports.first().map(|p| p.protocol) {
        None => "health { readiness exec \"/app/ready\"; liveness exec \"/app/healthy\"; }",
        Some(Protocol::Grpc) => "health { readiness grpc; liveness grpc; }",
        Some(_) => "health readiness=\"/ready\" liveness=\"/healthz\"",
    }
}

fn probes_help(s: &Service) -> String {
    match s.ports.first().map(|p| p.protocol) {
        None => format!("add both; with no port to probe, a command checks the process: {}", probes_example(s)),
        Some(Protocol::Grpc) => format!("add both over the gRPC health protocol: {}", probes_example(s)),
        Some(_) => format!("add both: {}", probes_example(s)),
    }
}

/// How to meet `require-slo`: an objective, or, for a service that serves no HTTP or gRPC
/// requests (nothing to measure), a waiver saying so.
fn slo_help(s: &Service) -> &'static str {
    if s.ports.iter().any(|p| matches!(p.protocol, Protocol::Http | Protocol::Grpc)) {
        "add an objective: slo availability=\"99.9%\" latency-p99=\"300ms\""
    } else {
        "it serves no HTTP or gRPC requests, so an SLO has nothing to measure; exempt it: waive require-slo reason=\"serves no requests\""
    }
}

/// Every way `s` breaks `policy`, in spec order: each value over a limit is its own
/// violation, so that each spec line gets fixed.
fn violations(platform: &Platform, policy: &Policy, s: &Service) -> Vec<Violation> {
    let name = &s.name;
    match &policy.rule {
        PolicyRule::MinReplicas(min) => too_few_replicas(platform, policy, s, *min),
        PolicyRule::RequireSlo if s.slo.is_none() => {
            vec![Violation::new(name.span, "no `slo`", format!("service `{}` declares no SLO", name.value), slo_help(s))]
        }
        PolicyRule::RequireOwner if s.owner.is_none() => vec![Violation::new(name.span, "no `owner`", format!("service `{}` has no owner", name.value), "name the owning team: owner team-name")],
        PolicyRule::RequireProbes if s.health.readiness.is_none() || s.health.liveness.is_none() => {
            vec![Violation::new(name.span, "missing probes", format!("service `{}` lacks a readiness or liveness probe", name.value), probes_help(s))]
        }
        PolicyRule::MaxCpu(max) => cpu_values(s)
            .into_iter()
            .filter(|(cpu, _)| cpu > max)
            .map(|(cpu, span)| {
                Violation::new(
                    span,
                    format!("{cpu} CPU"),
                    format!("CPU {cpu} is above the platform maximum of {max}"),
                    format!("use at most \"{max}\"; ask the platform team if this service really needs more"),
                )
            })
            .collect(),
        PolicyRule::MaxMemory(max) => memory_values(s)
            .into_iter()
            .filter(|(mem, _)| mem > max)
            .map(|(mem, span)| Violation::new(span, format!("{mem} memory"), format!("memory {mem} is above the platform maximum of {max}"), format!("use at most \"{max}\"")))
            .collect(),
        PolicyRule::AllowedRegistries(regs) => {
            // The service's image and every init container's own.
            let inits = s.processes.iter().filter_map(|p| match &p.kind {
                ProcessKind::Init { image } => image.as_ref(),
                _ => None,
            });
            s.image
                .iter()
                .chain(inits)
                .filter(|image| !regs.iter().any(|r| registry_allows(r, &image.value)))
                .map(|image| {
                    Violation::new(image.span, "registry not allowed", format!("image `{}` is not in an allowed registry", image.value), format!("push the image to one of: {}", regs.join(", ")))
                })
                .collect()
        }
        PolicyRule::ForbidLoosening => loosened(s),
        _ => Vec::new(),
    }
}

/// `min-replicas`: the environments (the policy's, else all) where the service's minimum,
/// after its overrides there, is below the policy's.
fn too_few_replicas(platform: &Platform, policy: &Policy, s: &Service, min: u32) -> Vec<Violation> {
    let envs: Vec<&str> = match &policy.environment {
        Some(e) => vec![e.value.as_str()],
        None => platform.environments.keys().map(String::as_str).collect(),
    };
    let mut out = Vec::new();
    for env in envs {
        let (replicas, span) = effective_min(platform, s, env);
        if replicas < min {
            out.push(Violation::new(
                span,
                format!("{replicas} replica{} in {env}", if replicas == 1 { "" } else { "s" }),
                format!("service `{}` runs fewer than {min} replicas in `{env}`", s.name.value),
                format!("raise the minimum: environment {env} {{ scale min={min} }}"),
            ));
        }
    }
    out
}

/// `forbid-loosening`: each security flag the service turns on against a secure default.
fn loosened(s: &Service) -> Vec<Violation> {
    let sec = &s.security;
    let flags = [(&sec.run_as_root, "run-as-root"), (&sec.writable_root_fs, "writable-root-fs"), (&sec.service_account_token, "service-account-token")];
    flags
        .into_iter()
        .filter_map(|(flag, name)| {
            let f = flag.as_ref().filter(|f| f.value)?;
            Some(Violation::new(
                f.span,
                format!("`{name}` loosens a secure default"),
                format!("service `{}` loosens a secure default (`{name}`)", s.name.value),
                format!("remove `{name}=#true`; the platform forbids loosening secure defaults"),
            ))
        })
        .collect()
}

/// An `allowed-registries` entry split into the registry and the path components under it,
/// normalized like an image reference (`acme` is Docker Hub's `docker.io/acme`,
/// `index.docker.io` is `docker.io`); `None` when it is not a registry with an optional path.
pub(crate) fn registry_prefix(entry: &str) -> Option<(String, Vec<String>)> {
    let e = entry.strip_suffix('/').unwrap_or(entry);
    if e.is_empty() {
        return None;
    }
    let (first, rest) = e.split_once('/').unwrap_or((e, ""));
    let is_host = first.contains('.') || first.contains(':') || first == "localhost";
    let (registry, path) = if is_host { (first.to_ascii_lowercase(), rest) } else { ("docker.io".to_string(), e) };
    let registry = if registry == "index.docker.io" { "docker.io".to_string() } else { registry };
    // The entry obeys the grammar of the images it allows: an image right under it must parse
    // there, with no tag, no digest and nothing normalized away.
    let probe = if path.is_empty() { format!("{registry}/x/x") } else { format!("{registry}/{path}/x") };
    let parsed = names::image_ref(&probe).ok()?;
    let expected = if path.is_empty() { "x/x".to_string() } else { format!("{path}/x") };
    if parsed.registry != registry || parsed.repository != expected || parsed.tag.is_some() || parsed.digest.is_some() {
        return None;
    }
    Some((registry, path.split('/').filter(|p| !p.is_empty()).map(str::to_string).collect()))
}

/// `true` when `image` lies under the registry entry `entry`: the same normalized registry and
/// the entry's path as a prefix of the image's path, component by component (`ghcr.io/acme`
/// allows `ghcr.io/acme/x`, never `ghcr.io/acme-evil/x`).
pub(crate) fn registry_allows(entry: &str, image: &str) -> bool {
    let (Some((registry, prefix)), Ok(image)) = (registry_prefix(entry), names::image_ref(image)) else {
        return false;
    };
    let path: Vec<&str> = image.repository.split('/').collect();
    registry == image.registry && path.len() > prefix.len() && prefix.iter().zip(&path).all(|(a, b)| a == b)
}

/// Reports E0211 for an `allowed-registries` entry that is not a registry with an optional
/// path (`ghcr.io`, `ghcr.io/acme`): it would otherwise silently allow nothing.
fn check_registry(cx: &mut Cx, entry: &crate::source::Spanned<String>) -> bool {
    let ok = registry_prefix(&entry.value).is_some();
    if !ok {
        cx.error(codes::INVALID_IMAGE, entry.span, "not a registry", format!("invalid registry \"{}\"", entry.value.escape_debug())).help =
            Some("write a registry host, optionally with a path under it, in lowercase and without a tag, e.g. allowed-registries \"ghcr.io/acme\" \"docker.io/library\"".into());
    }
    ok
}

/// The minimum replicas a service runs with in `env`, and where that number comes from.
fn effective_min(platform: &Platform, s: &Service, env: &str) -> (u32, Span) {
    let over = s.overrides.iter().find(|o| o.environment.value == env).and_then(|o| o.scale.min.as_ref());
    match over.or(s.scale.min.as_ref()) {
        Some(m) => (m.value, m.span),
        None => (platform.defaults.scale.min.as_ref().map(|m| m.value).unwrap_or(1), s.name.span),
    }
}

/// Every resource block of a service: its own, its overrides', its processes'.
fn resource_specs(s: &Service) -> impl Iterator<Item = &ResourceSpec> {
    std::iter::once(&s.resources).chain(s.overrides.iter().map(|o| &o.resources)).chain(s.processes.iter().map(|p| &p.resources))
}

/// Every CPU request and limit the service writes, where it writes it.
fn cpu_values(s: &Service) -> Vec<(Cpu, Span)> {
    resource_specs(s).flat_map(|r| [&r.cpu, &r.cpu_limit]).flatten().map(|c| (c.value, c.span)).collect()
}

/// Every memory request and limit the service writes, where it writes it.
fn memory_values(s: &Service) -> Vec<(Memory, Span)> {
    resource_specs(s).flat_map(|r| [&r.memory, &r.memory_limit]).flatten().map(|m| (m.value, m.span)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_match_whole_path_components_after_normalization() {
        let allowed = [
            ("ghcr.io/acme", "ghcr.io/acme/checkout"),
            ("ghcr.io/acme/", "ghcr.io/acme/team/checkout"),
            ("ghcr.io", "ghcr.io/anyone/x"),
            ("GHCR.io/acme", "ghcr.io/acme/x"),
            ("docker.io/library", "nginx"),
            ("docker.io", "acme/app"),
            ("index.docker.io/acme", "docker.io/acme/app"),
            ("acme", "acme/app"),
            ("localhost:5000", "localhost:5000/app"),
        ];
        for (entry, image) in allowed {
            assert!(registry_allows(entry, image), "{entry} should allow {image}");
        }
        let refused = [
            ("ghcr.io/acme", "ghcr.io/acme-evil/x"),
            ("ghcr.io/acme", "ghcr.io/acme"),
            ("ghcr.io/acme", "ghcr.io/acme/../evil/x"),
            ("ghcr.io/acme", "ghcr.io/acme/./x"),
            ("ghcr.io/acme", "ghcr.io/acme//x"),
            ("ghcr.io/acme", "ghcr.io.evil.com/acme/x"),
            ("ghcr.io/acme", "evil.com/ghcr.io/acme/x"),
            ("ghcr.io/acme", "ghcr.io:443/acme/x"),
            ("ghcr.io/acme", "acme/x"),
            ("docker.io/library", "evil/nginx"),
            ("acme", "ghcr.io/acme/x"),
            ("ghcr.io/acme/../x", "ghcr.io/x/y"),
        ];
        for (entry, image) in refused {
            assert!(!registry_allows(entry, image), "{entry} must not allow {image}");
        }
    }

    #[test]
    fn entries_that_are_not_registries_are_refused() {
        for bad in ["ghcr.io/acme:v1", "ghcr.io/acme@sha256:00", "ghcr.io/Acme", "ghcr.io/acme/..", "ghcr.io /acme", "", "ghcr.io//acme", "ghcr.io:tag"] {
            assert!(registry_prefix(bad).is_none(), "{bad:?}");
        }
        assert_eq!(registry_prefix("ghcr.io/acme/"), Some(("ghcr.io".into(), vec!["acme".into()])));
        assert_eq!(registry_prefix("docker.io"), Some(("docker.io".into(), vec![])));
    }
}

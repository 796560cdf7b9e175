//! Guardrail policies: read from `platform.kdl { policies { ... } }` and enforced on every
//! service. A violation points at the offending spec line and, as a second label, at the
//! policy in platform.kdl.

use super::reader::{expect_int, expect_str, parse_unit, Cx, NodeReader};
use super::{suggest, units};
use crate::diagnostics::{codes, Diagnostic, Diagnostics, Label};
use crate::model::*;
use crate::source::Span;
use crate::syntax::Node;

/// Reads the children of `policies { ... }`.
pub fn read(cx: &mut Cx, node: &Node) -> Vec<Policy> {
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
            let regs: Vec<String> = r.rest_args(0).iter().filter_map(|a| expect_str(cx, a, "a registry", "\"ghcr.io/acme\"")).map(|s| s.value).collect();
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

/// Enforces every policy on one service, reporting violations with both labels.
pub fn enforce(platform: &Platform, s: &Service, diags: &mut Diagnostics) {
    for policy in &platform.policies {
        let envs: Vec<&str> = match &policy.environment {
            Some(e) => vec![e.value.as_str()],
            None => platform.environments.keys().map(String::as_str).collect(),
        };
        let violate = |diags: &mut Diagnostics, span: Span, label: String, message: String, help: String| {
            diags.push(
                Diagnostic::new(codes::POLICY_VIOLATION, Label::new(s.file, span, label), message)
                    .with_label(Label::new(platform.file, policy.span, format!("policy `{}` is set here", policy.rule.name())))
                    .with_help(help),
            );
        };
        match &policy.rule {
            PolicyRule::MinReplicas(min) => {
                for env in &envs {
                    let (replicas, span) = effective_min(platform, s, env);
                    if replicas < *min {
                        violate(
                            diags,
                            span,
                            format!("{replicas} replica{} in {env}", if replicas == 1 { "" } else { "s" }),
                            format!("service `{}` runs fewer than {min} replicas in `{env}`", s.name.value),
                            format!("raise the minimum: environment {env} {{ scale min={min} }}"),
                        );
                    }
                }
            }
            PolicyRule::RequireSlo if s.slo.is_none() => {
                violate(diags, s.name.span, "no `slo`".into(), format!("service `{}` declares no SLO", s.name.value), "add an objective: slo availability=\"99.9%\" latency-p99=\"300ms\"".into())
            }
            PolicyRule::RequireOwner if s.owner.is_none() => {
                violate(diags, s.name.span, "no `owner`".into(), format!("service `{}` has no owner", s.name.value), "name the owning team: owner team-name".into())
            }
            PolicyRule::RequireProbes if s.health.readiness.is_none() || s.health.liveness.is_none() => violate(
                diags,
                s.name.span,
                "missing probes".into(),
                format!("service `{}` lacks a readiness or liveness probe", s.name.value),
                "add both: health readiness=\"/ready\" liveness=\"/healthz\"".into(),
            ),
            PolicyRule::MaxCpu(max) => {
                for (cpu, span) in cpu_values(s) {
                    if cpu > *max {
                        violate(
                            diags,
                            span,
                            format!("{cpu} CPU"),
                            format!("CPU {cpu} is above the platform maximum of {max}"),
                            format!("use at most \"{max}\"; ask the platform team if this service really needs more"),
                        );
                    }
                }
            }
            PolicyRule::MaxMemory(max) => {
                for (mem, span) in memory_values(s) {
                    if mem > *max {
                        violate(diags, span, format!("{mem} memory"), format!("memory {mem} is above the platform maximum of {max}"), format!("use at most \"{max}\""));
                    }
                }
            }
            PolicyRule::AllowedRegistries(regs) => {
                if let Some(image) = &s.image {
                    if !regs.iter().any(|r| image.value.starts_with(&format!("{}/", r.trim_end_matches('/')))) {
                        violate(
                            diags,
                            image.span,
                            "registry not allowed".into(),
                            format!("image `{}` is not in an allowed registry", image.value),
                            format!("push the image to one of: {}", regs.join(", ")),
                        );
                    }
                }
            }
            PolicyRule::ForbidLoosening => {
                let sec = &s.security;
                for (flag, name) in [(&sec.run_as_root, "run-as-root"), (&sec.writable_root_fs, "writable-root-fs"), (&sec.service_account_token, "service-account-token")] {
                    if let Some(f) = flag.as_ref().filter(|f| f.value) {
                        violate(
                            diags,
                            f.span,
                            format!("`{name}` loosens a secure default"),
                            format!("service `{}` loosens a secure default (`{name}`)", s.name.value),
                            format!("remove `{name}=#true`; the platform forbids loosening secure defaults"),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

/// The minimum replicas a service runs with in `env`, and where that number comes from.
fn effective_min(platform: &Platform, s: &Service, env: &str) -> (u32, Span) {
    let over = s.overrides.iter().find(|o| o.environment.value == env).and_then(|o| o.scale.min.as_ref());
    match over.or(s.scale.min.as_ref()) {
        Some(m) => (m.value, m.span),
        None => (platform.defaults.scale.min.as_ref().map(|m| m.value).unwrap_or(1), s.name.span),
    }
}

fn cpu_values(s: &Service) -> Vec<(Cpu, Span)> {
    let specs = std::iter::once(&s.resources).chain(s.overrides.iter().map(|o| &o.resources)).chain(s.processes.iter().map(|p| &p.resources));
    specs.flat_map(|r| [&r.cpu, &r.cpu_limit]).flatten().map(|c| (c.value, c.span)).collect()
}

fn memory_values(s: &Service) -> Vec<(Memory, Span)> {
    let specs = std::iter::once(&s.resources).chain(s.overrides.iter().map(|o| &o.resources)).chain(s.processes.iter().map(|p| &p.resources));
    specs.flat_map(|r| [&r.memory, &r.memory_limit]).flatten().map(|m| (m.value, m.span)).collect()
}

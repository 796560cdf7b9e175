//! Checks across files, once every spec has been read: `${...}` references, calls and
//! start-up dependencies between services, environment names, duplicate services, and the
//! platform's per-type provisioners.

use std::collections::HashMap;

use super::suggest;
use crate::diagnostics::{codes, Diagnostic, Diagnostics, Label};
use crate::model::*;
use crate::source::{FileId, Span};

/// Runs every cross-file check.
pub(crate) fn check(ws: &Workspace, today: i64, diags: &mut Diagnostics) {
    let by_name = duplicate_services(&ws.services, diags);
    check_platform(ws, diags);
    wiring_names(ws, diags);
    // Each service's references on its own: on every core, diagnostics joined in order.
    let per_chunk = crate::par::map_chunks(&ws.services, |services| {
        let mut diags = Diagnostics::new();
        for s in services {
            service_refs(ws, s, &by_name, today, &mut diags);
        }
        diags
    });
    for d in per_chunk {
        diags.append(d);
    }
}

/// The references of service `s`: env templates, calls and their ports, `depends-on`,
/// environments named by overrides and patches; then its effective settings, warnings and the
/// platform's policies.
fn service_refs(ws: &Workspace, s: &Service, by_name: &HashMap<&str, &Service>, today: i64, diags: &mut Diagnostics) {
    let mut cx = Refs { file: s.file, diags };
    for e in all_env(s) {
        cx.template(s, &e.value, ws, by_name);
    }
    for c in &s.calls {
        cx.service_ref(s, &c.service.value, c.span_of_name(), by_name, "calls");
        if let (Some(port), Some(callee)) = (&c.port, by_name.get(c.service.value.as_str())) {
            if callee.port(&port.value).is_none() {
                let names: Vec<&str> = callee.ports.iter().map(|p| p.name.value.as_str()).collect();
                let help = suggest::help_for_unknown(&port.value, &names, "port");
                cx.diags.push(
                    Diagnostic::new(codes::UNKNOWN_PORT, Label::new(s.file, port.span, "no such port"), format!("service `{}` has no port `{}`", callee.name.value, port.value))
                        .with_label(Label::new(callee.file, callee.name.span, "service declared here"))
                        .with_help(help),
                );
            }
        }
    }
    for d in &s.depends_on {
        cx.service_ref(s, &d.value, d.span, by_name, "depends-on");
    }
    for o in &s.overrides {
        cx.environment(&o.environment.value, o.environment.span, &ws.platform);
    }
    for p in &s.patches {
        if let Some(e) = &p.environment {
            cx.environment(&e.value, e.span, &ws.platform);
        }
    }
    super::effective::check(&ws.platform, s, diags);
    warnings(s, diags);
    super::policy::enforce(&ws.platform, s, today, diags);
}

/// Every env var of a service: base, per-environment and per-process.
fn all_env(s: &Service) -> impl Iterator<Item = &EnvVar> {
    s.env.iter().chain(s.overrides.iter().flat_map(|o| o.env.iter())).chain(s.processes.iter().flat_map(|p| p.env.iter()))
}

impl Call {
    fn span_of_name(&self) -> Span {
        self.service.span
    }
}

struct Refs<'a> {
    file: FileId,
    diags: &'a mut Diagnostics,
}

impl Refs<'_> {
    fn error(&mut self, code: crate::diagnostics::Code, span: Span, label: &str, message: String, help: String) {
        self.diags.push(Diagnostic::new(code, Label::new(self.file, span, label), message).with_help(help));
    }

    fn template(&mut self, s: &Service, t: &Template, ws: &Workspace, services: &HashMap<&str, &Service>) {
        for r in t.refs() {
            match &r.value {
                Reference::Resource { name, output } => {
                    let Some(u) = s.uses.iter().find(|u| &u.name.value == name) else {
                        let declared: Vec<&str> = s.uses.iter().map(|u| u.name.value.as_str()).collect();
                        let help = match suggest::did_you_mean(name, declared.iter().copied()) {
                            Some(d) => format!("did you mean `${{resources.{d}.{output}}}`?"),
                            None if declared.is_empty() => format!("declare the resource first, e.g. uses postgres {name}"),
                            None => format!("declared resources: {}; or declare it: uses TYPE {name}", suggest::list(&declared)),
                        };
                        self.error(codes::UNKNOWN_RESOURCE, r.span, "undeclared resource", format!("service `{}` uses no resource `{name}`", s.name.value), help);
                        continue;
                    };
                    let Some(ty) = ws.types.get(&u.ty.value) else { continue };
                    match ty.outputs.get(output) {
                        // A secret output inside a longer string is fine: the kubelet composes
                        // it from the secret's own variable (`$(ORDERS_PASSWORD)`, lower/wiring).
                        Some(_) => {}
                        None => {
                            let outs: Vec<&str> = ty.outputs.keys().map(String::as_str).collect();
                            let help = match suggest::did_you_mean(output, outs.iter().copied()) {
                                Some(o) => format!("did you mean `${{resources.{name}.{o}}}`?"),
                                None => format!("`{}` outputs: {}", u.ty.value, suggest::list(&outs)),
                            };
                            self.diags.push(
                                Diagnostic::new(codes::UNKNOWN_OUTPUT, Label::new(self.file, r.span, "no such output"), format!("resource type `{}` has no output `{output}`", u.ty.value))
                                    .with_label(Label::new(self.file, u.span, format!("`{name}` is a {}", u.ty.value)))
                                    .with_help(help),
                            );
                        }
                    }
                }
                Reference::Service { name, attr } => {
                    self.service_ref(s, name, r.span, services, "reference");
                    if !SERVICE_ATTRS.contains(&attr.as_str()) {
                        let help = match suggest::did_you_mean(attr, SERVICE_ATTRS) {
                            Some(a) => format!("did you mean `${{service.{name}.{a}}}`?"),
                            None => format!("a service reference ends in {}", suggest::list(&SERVICE_ATTRS)),
                        };
                        self.error(codes::UNKNOWN_OUTPUT, r.span, "no such attribute", format!("services have no attribute `{attr}`"), help);
                    }
                }
                Reference::Platform { key } => {
                    if !PLATFORM_VALUES.contains(&key.as_str()) {
                        let help = match suggest::did_you_mean(key, PLATFORM_VALUES) {
                            Some(k) => format!("did you mean `${{platform.{k}}}`?"),
                            None => format!("platform values: {}", suggest::list(&PLATFORM_VALUES)),
                        };
                        self.error(codes::UNKNOWN_PLATFORM_VALUE, r.span, "unknown platform value", format!("the platform has no value `{key}`"), help);
                    }
                }
            }
        }
    }

    fn service_ref(&mut self, s: &Service, name: &str, span: Span, services: &HashMap<&str, &Service>, what: &str) {
        if name == s.name.value {
            self.error(
                codes::SELF_CALL,
                span,
                "this service itself",
                format!("service `{name}` {} itself", if what == "depends-on" { "depends on" } else { "calls" }),
                "remove it: a service reaches itself without a declaration".into(),
            );
            return;
        }
        if services.contains_key(name) {
            return;
        }
        let mut known: Vec<&str> = services.keys().copied().filter(|n| *n != s.name.value).collect();
        known.sort_unstable();
        let help = match suggest::did_you_mean(name, known.iter().copied()) {
            Some(n) => format!("did you mean `{n}`?"),
            None if known.is_empty() => "no other service is in this tree; check the path given to platc".into(),
            None => format!("services in this tree: {}", suggest::list(&known)),
        };
        self.error(codes::UNKNOWN_SERVICE, span, "no such service", format!("no service `{name}` in this tree"), help);
    }

    fn environment(&mut self, name: &str, span: Span, platform: &Platform) {
        if platform.environments.contains_key(name) {
            return;
        }
        let envs: Vec<&str> = platform.environments.keys().map(String::as_str).collect();
        let help = suggest::help_for_unknown(name, &envs, "environment");
        self.diags.push(
            Diagnostic::new(codes::UNKNOWN_ENVIRONMENT, Label::new(self.file, span, "not a platform environment"), format!("environment `{name}` is not declared in platform.kdl"))
                .with_label(Label::new(platform.file, platform.name.span, "environments are declared in this platform"))
                .with_help(help),
        );
    }
}

/// Reports services defined twice (by name) and returns the first of each name.
fn duplicate_services<'a>(services: &'a [Service], diags: &mut Diagnostics) -> HashMap<&'a str, &'a Service> {
    let mut by_name: HashMap<&str, &Service> = HashMap::with_capacity(services.len());
    for s in services {
        if let Some(first) = by_name.get(s.name.value.as_str()) {
            diags.push(
                Diagnostic::new(codes::DUPLICATE, Label::new(s.file, s.name.span, "defined again here"), format!("service `{}` is defined more than once", s.name.value))
                    .with_label(Label::new(first.file, first.name.span, "first defined here"))
                    .with_help("service names are unique across the tree: rename one of them"),
            );
        } else {
            by_name.insert(&s.name.value, s);
        }
    }
    by_name
}

/// W0108 when services have routes on Ingress objects and nothing makes the TLS certificates
/// they name: the controller would serve its own, untrusted one.
fn untrusted_ingress_tls(ws: &Workspace, diags: &mut Diagnostics) {
    let p = &ws.platform;
    let Ingress::Ingress { cluster_issuer: None, .. } = &p.ingress else { return };
    let Some(routed) = ws.services.iter().find(|s| !s.routes.is_empty()) else { return };
    diags.push(
        Diagnostic::new(codes::UNISSUED_TLS_CERTIFICATE, Label::new(p.file, p.name.span, "routes through Ingress objects"), "nothing makes the TLS certificates of the Ingresses")
            .with_label(Label::new(routed.file, routed.routes[0].span, "an Ingress with TLS for this route"))
            .with_help("name the cert-manager ClusterIssuer that makes them: ingress ingress cluster-issuer=letsencrypt-prod (or route through a Gateway whose listeners hold the certificates: ingress gateway-api)"),
    );
}

fn check_platform(ws: &Workspace, diags: &mut Diagnostics) {
    let p = &ws.platform;
    untrusted_ingress_tls(ws, diags);
    let known: Vec<&str> = ws.types.names().collect();
    for env in p.environments.values() {
        for ty in env.per_type.keys() {
            if ws.types.get(ty).is_none() {
                let help = suggest::help_for_unknown(ty, &known, "resource type");
                // The property's span is not kept in the model; point at the environment.
                diags.push(
                    Diagnostic::new(codes::UNKNOWN_RESOURCE_TYPE, Label::new(p.file, env.span, format!("provisions unknown type `{ty}`")), format!("unknown resource type `{ty}`")).with_help(help),
                );
            }
        }
    }
    for policy in &p.policies {
        // Defaults every service inherits must obey the platform's own limits.
        let d = &p.defaults.resources;
        let over: Vec<(String, crate::source::Span)> = match &policy.rule {
            PolicyRule::MaxCpu(max) => {
                [&d.cpu, &d.cpu_limit].into_iter().flatten().filter(|c| c.value > *max && !c.span.is_empty()).map(|c| (format!("default CPU {} is above the maximum {max}", c.value), c.span)).collect()
            }
            PolicyRule::MaxMemory(max) => [&d.memory, &d.memory_limit]
                .into_iter()
                .flatten()
                .filter(|m| m.value > *max && !m.span.is_empty())
                .map(|m| (format!("default memory {} is above the maximum {max}", m.value), m.span))
                .collect(),
            _ => Vec::new(),
        };
        for (message, span) in over {
            diags.push(
                Diagnostic::new(codes::POLICY_VIOLATION, Label::new(p.file, span, "default above the policy"), message)
                    .with_label(Label::new(p.file, policy.span, format!("policy `{}` is set here", policy.rule.name())))
                    .with_help("lower the default so that a service that says nothing complies"),
            );
        }
        if let Some(e) = &policy.environment {
            if !p.environments.contains_key(&e.value) {
                let envs: Vec<&str> = p.environments.keys().map(String::as_str).collect();
                diags.push(
                    Diagnostic::new(codes::UNKNOWN_ENVIRONMENT, Label::new(p.file, e.span, "not declared"), format!("policy names environment `{}`, which is not declared", e.value))
                        .with_help(suggest::help_for_unknown(&e.value, &envs, "environment")),
                );
            }
        }
    }
}

/// Warnings: legal but probably not what was meant.
fn warnings(s: &Service, diags: &mut Diagnostics) {
    let serves_http = s.ports.iter().any(|p| p.protocol != Protocol::Tcp);
    if serves_http && s.health.readiness.is_none() {
        diags.push(
            Diagnostic::new(codes::NO_READINESS_PROBE, Label::new(s.file, s.name.span, "no readiness probe"), format!("service `{}` has no readiness probe", s.name.value))
                .with_help(format!("without one, traffic reaches pods before they are ready: {}", super::policy::probes_example(s))),
        );
    }
    if s.slo.is_none() {
        if let Some(r) = s.routes.iter().find(|r| r.public) {
            diags.push(
                Diagnostic::new(codes::PUBLIC_ROUTE_WITHOUT_SLO, Label::new(s.file, r.span, "public route"), format!("service `{}` is public but has no SLO", s.name.value))
                    .with_help("add an objective so that burn-rate alerts page someone: slo availability=\"99.9%\""),
            );
        }
    }
}

/// E0220 for a service whose name is that of a file of the GitOps wiring (`source.yaml` and
/// `namespace.yaml` of Flux's `gitops/INSTANCE/`): its Kustomization would replace that file.
fn wiring_names(ws: &Workspace, diags: &mut Diagnostics) {
    let engine = ws.platform.gitops.engine;
    for s in ws.services.iter().filter(|s| engine.wiring_files().contains(&s.name.value.as_str())) {
        let name = &s.name.value;
        diags.push(
            Diagnostic::new(
                codes::NAME_OF_GENERATED_FILE,
                Label::new(s.file, s.name.span, "the name of a file of the Flux wiring"),
                format!("a service named `{name}` would replace `gitops/INSTANCE/{name}.yaml`"),
            )
            .with_label(Label::new(ws.platform.file, ws.platform.name.span, "deploys with Flux"))
            .with_help(format!(
                "rename the service; with Flux, every environment's `gitops/INSTANCE/` holds {} besides one file per service",
                ws.platform.gitops.engine.wiring_files().iter().map(|f| format!("`{f}.yaml`")).collect::<Vec<_>>().join(" and ")
            )),
        );
    }
}

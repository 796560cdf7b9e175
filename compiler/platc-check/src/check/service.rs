//! `service.kdl` -> [`Service`]: reads every node of a service and checks it locally (units,
//! names, ranges, duplicates inside the service). References to other files are checked later
//! in [`super::refs`], once every file has been read.

use super::reader::{expect_int, expect_one_of, expect_str, Cx, NodeReader, Once};
use super::{alert, names, template, units, uses};
use crate::diagnostics::codes;
use crate::model::*;
use crate::source::{Span, Spanned};
use crate::syntax::{Node, Value};

/// Child nodes of `service`, for did-you-mean.
pub const SERVICE_NODES: &[&str] = &[
    "owner",
    "description",
    "language",
    "image",
    "port",
    "route",
    "health",
    "env",
    "secret",
    "resources",
    "scale",
    "uses",
    "calls",
    "depends-on",
    "worker",
    "cron",
    "init",
    "slo",
    "alert",
    "environment",
    "patch",
    "security",
    "not-secret",
    "waive",
    "shutdown",
];

/// Reads a `service NAME { ... }` node; `languages` are the stdlib's, the names it uses from the
/// backends are `vocabulary`'s.
pub(crate) fn read(cx: &mut Cx, node: &Node, types: &ResourceTypes, languages: &[String], vocabulary: &super::Vocabulary) -> Option<Service> {
    let mut r = NodeReader::new(node);
    let name = r.req_arg_str(cx, 0, "a name", "service checkout { ... }");
    let children = r.allow_children();
    r.finish(cx);
    let name = name?;
    names::check_dns(cx, &name, "service name");

    let mut s = Service {
        file: cx.file,
        name,
        owner: None,
        description: None,
        language: None,
        image: None,
        prebuilt: None,
        ports: Vec::new(),
        routes: Vec::new(),
        health: Health::default(),
        env: Vec::new(),
        secrets: Vec::new(),
        resources: ResourceSpec::default(),
        scale: ScaleSpec::default(),
        uses: Vec::new(),
        calls: Vec::new(),
        depends_on: Vec::new(),
        processes: Vec::new(),
        slo: None,
        alerts: Vec::new(),
        overrides: Vec::new(),
        patches: Vec::new(),
        security: Security::default(),
        waivers: Vec::new(),
        shutdown_grace: None,
    };
    let mut once = Once::default();
    for child in children {
        let single = matches!(child.name.value.as_str(), "owner" | "description" | "language" | "image" | "health" | "resources" | "scale" | "slo" | "security" | "shutdown");
        if single && !once.first(cx, child) {
            continue;
        }
        match child.name.value.as_str() {
            "owner" => s.owner = single_str(cx, child, "a team name", "owner team-payments").filter(|o| names::check_label_value(cx, o, "owner")),
            "description" => s.description = single_str(cx, child, "a description", "description \"Takes payments\"").map(|d| d.value),
            "language" => s.language = single_str(cx, child, "a language", "language go").and_then(|l| read_language(cx, l, languages)),
            "image" => (s.image, s.prebuilt) = read_image(cx, child),
            "port" => s.ports.extend(read_port(cx, child)),
            "route" => s.routes.extend(read_route(cx, child)),
            "health" => s.health = read_health(cx, child),
            "env" => s.env.extend(read_env(cx, child)),
            "secret" => s.secrets.extend(read_secret(cx, child)),
            "resources" => s.resources = read_resources(cx, child),
            "scale" => s.scale = read_scale(cx, child),
            "uses" => s.uses.extend(uses::read(cx, child, types)),
            "calls" => s.calls.extend(read_call(cx, child)),
            "depends-on" => s.depends_on.extend(read_depends_on(cx, child)),
            "worker" | "cron" | "init" => s.processes.extend(read_process(cx, child)),
            "slo" => s.slo = read_slo(cx, child),
            "alert" => s.alerts.extend(read_alert(cx, child)),
            "environment" => s.overrides.extend(read_override(cx, child)),
            "patch" => s.patches.extend(read_patch(cx, child, vocabulary.object_kinds)),
            "security" => s.security = read_security(cx, child),
            "waive" => s.waivers.extend(super::policy::read_waiver(cx, child)),
            "shutdown" => s.shutdown_grace = read_shutdown(cx, child),
            super::secrets::WAIVER => {} // read by check::secrets
            _ => cx.unknown_node(child, "service", SERVICE_NODES),
        }
    }
    if let (Some(build), Some(language)) = (s.prebuilt, &s.language) {
        // The language picks the test job, the Dockerfile and the scaffold: all about building.
        cx.error(codes::LANGUAGE_OF_PREBUILT_IMAGE, language.span, "picks how CI builds and tests the image", "`language` for an image platc does not build")
            .label(build, "CI does not build it")
            .help = Some("remove `language`: CI neither tests nor builds a third-party image (or remove build=#false to build it from this directory)".into());
    }
    let had_port_nodes = children.iter().any(|c| c.name.value == "port");
    check_local(cx, &s, had_port_nodes);
    Some(s)
}

/// `language NAME`: one of the languages the stdlib defines (`ci/languages/NAME.yaml`, with an
/// overlay's), E0205 with did-you-mean from that list otherwise.
fn read_language(cx: &mut Cx, l: Spanned<String>, languages: &[String]) -> Option<Spanned<Language>> {
    if languages.contains(&l.value) {
        return Some(Spanned::new(Language::new(l.value), l.span));
    }
    let help = crate::stdlib::unknown_language_help(&l.value, languages);
    cx.error(codes::NOT_ALLOWED, l.span, "not a language of the stdlib", format!("`{}` is not a valid language", l.value)).help = Some(help);
    None
}

/// `image REPOSITORY` (CI builds it), or `image REPOSITORY:TAG build=#false` (a third-party
/// image, deployed as it is): the image and, for the latter, the span of `build=#false`.
fn read_image(cx: &mut Cx, node: &Node) -> (Option<Spanned<String>>, Option<Span>) {
    let mut r = NodeReader::new(node);
    let image = r.req_arg_str(cx, 0, "an image repository", "image \"ghcr.io/acme/checkout\"");
    let build = r.prop_bool(cx, "build");
    r.finish(cx);
    let prebuilt = build.filter(|b| !b.value).map(|b| b.span);
    let image = image.and_then(|i| names::check_image(cx, i, prebuilt.map(|span| names::Prebuilt { span, written: " build=#false" })));
    (image, prebuilt)
}

/// `image "REF:TAG"` in an `init`: an image CI does not build, so its tag is pinned.
fn read_init_image(cx: &mut Cx, node: &Node) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let image = r.req_arg_str(cx, 0, "an image with its tag", "image \"docker.io/library/busybox:1.37.0\"");
    r.finish(cx);
    image.and_then(|i| names::check_image(cx, i, Some(names::Prebuilt { span: node.name.span, written: "" })))
}

/// `shutdown grace="45s"`: whole seconds, at most an hour (a rollout waits that long per pod).
fn read_shutdown(cx: &mut Cx, node: &Node) -> Option<Spanned<Duration>> {
    let mut r = NodeReader::new(node);
    let grace = r.prop_unit(cx, "grace", codes::INVALID_DURATION, "duration", units::duration);
    r.finish(cx);
    let Some(grace) = grace else {
        if node.props.iter().any(|p| p.name.value == "grace") {
            return None; // Written, and reported as not a duration.
        }
        cx.error(codes::MISSING_VALUE, node.head, "`grace` missing", "`shutdown` needs a grace period").help =
            Some("say how long the processes get to finish after SIGTERM: shutdown grace=\"45s\"".into());
        return None;
    };
    if grace.value.0 % 1000 != 0 || grace.value.0 > 3_600_000 {
        cx.error(codes::OUT_OF_RANGE, grace.span, "whole seconds, at most 1h", "the grace period is whole seconds, at most an hour").help =
            Some("Kubernetes counts it in seconds, and every rollout may wait that long for each pod: write e.g. grace=\"45s\"".into());
        return None;
    }
    Some(grace)
}

/// A node with exactly one string argument.
pub(crate) fn single_str(cx: &mut Cx, node: &Node, what: &str, example: &str) -> Option<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let v = r.req_arg_str(cx, 0, what, example);
    r.finish(cx);
    v
}

fn read_port(cx: &mut Cx, node: &Node) -> Option<Port> {
    let mut r = NodeReader::new(node);
    let name = r.req_arg_str(cx, 0, "a name", "port http 8080");
    let number = match r.arg(1) {
        Some(v) => expect_int(cx, v, "a port number", 1, 65535),
        None => {
            cx.error(codes::MISSING_VALUE, node.head, "port number missing", "`port` needs a number").help = Some("write it like this: port http 8080".into());
            None
        }
    };
    let target = r.prop_int(cx, "target", 1, 65535).map(|t| Spanned::new(t.value as u16, t.span));
    let protocol = r.prop_str(cx, "protocol", "protocol=grpc").and_then(|p| expect_one_of(cx, &p, "protocol", &Protocol::ALL));
    r.finish(cx);
    let name = name?;
    names::check_port_name(cx, &name);
    // Without protocol=, a port named like a protocol is that protocol (`port grpc 9090`).
    let protocol = protocol.unwrap_or_else(|| Protocol::ALL.iter().find(|(p, _)| *p == name.value).map(|(_, p)| *p).unwrap_or(Protocol::Http));
    Some(Port { name, number: number.map(|n| Spanned::new(n.value as u16, n.span))?, target, protocol })
}

fn read_route(cx: &mut Cx, node: &Node) -> Option<Route> {
    let mut r = NodeReader::new(node);
    let path = r.req_arg_str(cx, 0, "a path", "route \"/api\" public=#true");
    let [host, port] = r.props_str(cx, [("host", "host=\"shop.example.com\""), ("port", "port=http")]);
    let public = r.prop_bool(cx, "public").map(|b| b.value).unwrap_or(false);
    r.finish(cx);
    let path = path?;
    names::check_path(cx, &path);
    if let Some(h) = &host {
        names::check_host(cx, h);
    }
    // An absent port means the first port; `refs` resolves and reports it.
    let port = port.unwrap_or_else(|| Spanned::new(String::new(), node.head));
    Some(Route { path, host, port, public, span: node.head })
}

const PROBES: &[&str] = &["readiness", "liveness", "startup"];
const PROBE_CHECKS: [(&str, u8); 4] = [("http", 0), ("grpc", 1), ("tcp", 2), ("exec", 3)];

fn read_health(cx: &mut Cx, node: &Node) -> Health {
    let mut r = NodeReader::new(node);
    let mut health = Health::default();
    // Shorthand: `health readiness="/ready" liveness="/healthz"` (HTTP on the first port).
    for (i, kind) in PROBES.iter().enumerate() {
        if let Some(path) = r.prop_str(cx, kind, "readiness=\"/ready\"") {
            names::check_path(cx, &path);
            let probe = Probe {
                check: ProbeCheck::Http { path: path.value.clone() },
                headers: Vec::new(),
                port: Spanned::new(String::new(), path.span),
                initial_delay: None,
                period: None,
                timeout: None,
                failure_threshold: None,
                span: path.span,
            };
            set_probe(&mut health, i, probe);
        }
    }
    let children = r.allow_children();
    r.finish(cx);
    let mut once = Once::default();
    for child in children {
        let Some(i) = PROBES.iter().position(|p| *p == child.name.value) else {
            cx.unknown_node(child, "health", PROBES);
            continue;
        };
        if !once.first(cx, child) {
            continue;
        }
        if let Some(short) = node.props.iter().find(|p| p.name.value == child.name.value) {
            cx.error(codes::REPEATED_NODE, child.name.span, "given again here", format!("`{}` is given twice", child.name.value)).label(short.span, "first given here").help =
                Some(format!("keep either `{0}=\"/path\"` or the `{0} ...` block", child.name.value));
            continue;
        }
        if let Some(p) = read_probe(cx, child) {
            set_probe(&mut health, i, p);
        }
    }
    health
}

fn set_probe(h: &mut Health, i: usize, p: Probe) {
    match i {
        0 => h.readiness = Some(p),
        1 => h.liveness = Some(p),
        _ => h.startup = Some(p),
    }
}

/// `readiness http "/ready" port=http initial-delay="5s" period="10s" timeout="1s" failure-threshold=3`
fn read_probe(cx: &mut Cx, node: &Node) -> Option<Probe> {
    let mut r = NodeReader::new(node);
    let example = format!("{} http \"/ready\"", node.name.value);
    let kind = r.req_arg_str(cx, 0, "a check kind (http, grpc, tcp or exec)", &example);
    let kind = kind.and_then(|k| expect_one_of(cx, &k, "probe check", &PROBE_CHECKS));
    let check = match kind {
        Some(0) => {
            let path = r.req_arg_str(cx, 1, "a path for the HTTP check", &example);
            if let Some(p) = &path {
                names::check_path(cx, p);
            }
            ProbeCheck::Http { path: path.map(|p| p.value).unwrap_or_else(|| "/".into()) }
        }
        Some(1) => ProbeCheck::Grpc,
        Some(3) => {
            let command: Vec<String> = r.rest_args(1).iter().filter_map(|a| expect_str(cx, a, "a word of the command", "exec \"/app/healthcheck\" \"--quick\"")).map(|w| w.value).collect();
            if r.rest_args(1).is_empty() {
                cx.error(codes::MISSING_VALUE, node.head, "command missing", "an exec probe needs a command").help =
                    Some(format!("write the program and its arguments: {} exec \"/app/healthcheck\"", node.name.value));
            }
            ProbeCheck::Exec { command }
        }
        Some(_) => ProbeCheck::Tcp,
        None => {
            r.arg(1);
            ProbeCheck::Tcp
        }
    };
    let port = r.prop_str(cx, "port", "port=http").unwrap_or_else(|| Spanned::new(String::new(), node.head));
    if matches!(check, ProbeCheck::Exec { .. }) && !port.value.is_empty() {
        cx.error(codes::UNKNOWN_PROPERTY, port.span, "not for exec", "an exec probe checks no port").help = Some("remove `port=`: the command runs inside the container".into());
    }
    let initial_delay = r.prop_unit(cx, "initial-delay", codes::INVALID_DURATION, "duration", units::duration);
    let period = r.prop_unit(cx, "period", codes::INVALID_DURATION, "duration", units::duration);
    let timeout = r.prop_unit(cx, "timeout", codes::INVALID_DURATION, "duration", units::duration);
    let failure_threshold = r.prop_int(cx, "failure-threshold", 1, 100).map(|n| n.value as u32);
    let children = r.allow_children();
    r.finish(cx);
    let headers = read_probe_headers(cx, children, matches!(check, ProbeCheck::Http { .. }));
    kind?;
    // Kubernetes counts probe timings in whole seconds; an initial delay may be zero.
    let timings = [(&initial_delay, 0), (&period, 1000), (&timeout, 1000)];
    for (d, min) in timings.iter().filter_map(|(d, min)| d.as_ref().map(|d| (d, *min))) {
        if d.value.0 < min || d.value.0 % 1000 != 0 {
            cx.error(codes::OUT_OF_RANGE, d.span, "not whole seconds", "probe timings are whole seconds").help =
                Some("Kubernetes counts probe delays, periods and timeouts in whole seconds: write e.g. \"1s\" or \"10s\"".into());
        }
    }
    if let (Some(p), Some(t)) = (&period, &timeout) {
        if t.value > p.value {
            cx.error(codes::OUT_OF_RANGE, t.span, "longer than the period", "probe timeout is longer than its period").help = Some(format!("use a timeout of at most {} or a longer period", p.value));
        }
    }
    Some(Probe { check, port, headers, initial_delay: initial_delay.map(|d| d.value), period: period.map(|p| p.value), timeout: timeout.map(|t| t.value), failure_threshold, span: node.head })
}

/// The `header NAME="VALUE"` children of a probe (only an HTTP probe sends headers).
fn read_probe_headers(cx: &mut Cx, children: &[Node], http: bool) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    for child in children {
        if child.name.value != "header" {
            cx.unknown_node(child, "probe", &["header"]);
            continue;
        }
        if !http {
            cx.error(codes::UNKNOWN_NODE, child.name.span, "not for this check", "only an HTTP probe sends headers").help =
                Some("remove the header, or probe over HTTP: readiness http \"/ready\" { header ... }".into());
            continue;
        }
        let mut r = NodeReader::new(child);
        r.props_are_data();
        r.finish(cx);
        for p in &child.props {
            // RFC 9110 field names are tokens; KDL property names may hold much more.
            if !p.name.value.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
                cx.error(codes::INVALID_NAME, p.name.span, "not an HTTP header name", format!("`{}` is not an HTTP header name", p.name.value)).help =
                    Some("a header name is letters, digits and !#$%&'*+-.^_`|~ only, e.g. X-Probe".into());
                continue;
            }
            if let Some(v) = expect_str(cx, &p.value, "a header value", "header Cookie=\"session=probe\"") {
                headers.push((p.name.value.clone(), v.value));
            }
        }
    }
    headers
}

/// `env NAME=VALUE ...`: properties are the variables.
pub(crate) fn read_env(cx: &mut Cx, node: &Node) -> Vec<EnvVar> {
    let mut r = NodeReader::new(node);
    r.props_are_data();
    // Arguments get a specific report below, not the generic "takes no arguments".
    r.rest_args(0);
    let mut out = Vec::new();
    for p in &node.props {
        if let Err(help) = units::env_name(&p.name.value) {
            cx.error(codes::INVALID_ENV_NAME, p.name.span, "invalid name", format!("`{}` is not a valid environment variable name", p.name.value)).help = Some(help);
            continue;
        }
        let text = match &p.value.value {
            Value::Null => {
                cx.error(codes::WRONG_TYPE, p.value.span, "#null here", format!("`{}` has no value", p.name.value)).help = Some(format!("write a string, e.g. {}=\"\"", p.name.value));
                continue;
            }
            v => Spanned::new(v.to_text(), p.value.span),
        };
        let value = template::parse(cx, &text);
        out.push(EnvVar { name: p.name.clone(), value, span: p.span });
    }
    if node.props.is_empty() && node.args.is_empty() {
        cx.error(codes::MISSING_VALUE, node.head, "no variables", "`env` sets no variables").help = Some("write variables as properties: env LOG_LEVEL=info PORT=\"8080\"".into());
    }
    for a in &node.args {
        let help = match &a.value {
            Value::String(s) if s.contains('=') => format!("write it as a property, without quotes around the name: env {}", s.replacen('=', "=\"", 1) + "\""),
            _ => "write variables as properties: env NAME=\"value\"".into(),
        };
        cx.error(codes::UNEXPECTED_ARGUMENT, a.span, "not a `NAME=value` property", "unexpected argument to `env`").help = Some(help);
    }
    r.finish(cx);
    out
}

fn read_secret(cx: &mut Cx, node: &Node) -> Option<Secret> {
    let mut r = NodeReader::new(node);
    let name = r.req_arg_str(cx, 0, "an environment variable name", "secret STRIPE_KEY from=\"payments/stripe\" key=api-key");
    let [from, key] = r.props_str(cx, [("from", "from=\"payments/stripe\""), ("key", "key=api-key")]);
    // A literal value is exactly what a secret reference must never hold.
    if let Some(v) = r.prop(cx, "value") {
        cx.error(codes::UNKNOWN_PROPERTY, v.span, "a secret value in the spec", "secrets are references, never values").help =
            Some("store the value in the platform's secret store and reference it: secret NAME from=\"path/in/store\" key=KEY".into());
    }
    r.finish(cx);
    let name = name?;
    if let Err(help) = units::env_name(&name.value) {
        cx.error(codes::INVALID_ENV_NAME, name.span, "invalid name", format!("`{}` is not a valid environment variable name", name.value)).help = Some(help);
    }
    let Some(from) = from else {
        cx.error(codes::MISSING_VALUE, node.head, "`from` missing", format!("secret `{}` does not say where it comes from", name.value)).help =
            Some(format!("add the path in the secret store: secret {} from=\"team/app\" key=KEY", name.value));
        return None;
    };
    if from.value.trim().is_empty() {
        cx.error(codes::MISSING_VALUE, from.span, "empty path", "secret path is empty").help = Some("write the path in the secret store, e.g. from=\"payments/stripe\"".into());
    }
    Some(Secret { name, from, key, span: node.head })
}

/// `resources cpu= memory= cpu-limit= memory-limit=`
pub(crate) fn read_resources(cx: &mut Cx, node: &Node) -> ResourceSpec {
    let mut r = NodeReader::new(node);
    let spec = ResourceSpec {
        cpu: r.prop_unit(cx, "cpu", codes::INVALID_CPU, "CPU quantity", units::cpu),
        memory: r.prop_unit(cx, "memory", codes::INVALID_MEMORY, "memory quantity", units::memory),
        cpu_limit: r.prop_unit(cx, "cpu-limit", codes::INVALID_CPU, "CPU quantity", units::cpu),
        memory_limit: r.prop_unit(cx, "memory-limit", codes::INVALID_MEMORY, "memory quantity", units::memory),
    };
    r.finish(cx);
    spec
}

/// `scale min= max= cpu= memory=`
pub(crate) fn read_scale(cx: &mut Cx, node: &Node) -> ScaleSpec {
    let mut r = NodeReader::new(node);
    let spec = ScaleSpec {
        min: r.prop_int(cx, "min", 1, 1000).map(|n| Spanned::new(n.value as u32, n.span)),
        max: r.prop_int(cx, "max", 1, 1000).map(|n| Spanned::new(n.value as u32, n.span)),
        cpu: r.prop_unit(cx, "cpu", codes::INVALID_PERCENT, "percentage", units::whole_percent),
        memory: r.prop_unit(cx, "memory", codes::INVALID_PERCENT, "percentage", units::whole_percent),
    };
    r.finish(cx);
    spec
}

fn read_call(cx: &mut Cx, node: &Node) -> Option<Call> {
    let mut r = NodeReader::new(node);
    let service = r.req_arg_str(cx, 0, "a service name", "calls payments");
    let port = r.prop_str(cx, "port", "port=grpc");
    r.finish(cx);
    Some(Call { service: service?, port, span: node.head })
}

fn read_depends_on(cx: &mut Cx, node: &Node) -> Vec<Spanned<String>> {
    let mut r = NodeReader::new(node);
    let args = r.rest_args(0);
    r.finish(cx);
    if args.is_empty() {
        cx.error(codes::MISSING_VALUE, node.head, "no service named", "`depends-on` names no service").help = Some("write depends-on payments".into());
    }
    args.iter().filter_map(|a| expect_str(cx, a, "a service name", "depends-on payments")).collect()
}

const CONCURRENCY: [(&str, CronConcurrency); 3] = [("allow", CronConcurrency::Allow), ("forbid", CronConcurrency::Forbid), ("replace", CronConcurrency::Replace)];
const PROCESS_NODES: &[&str] = &["command", "env", "resources", "replicas"];
const INIT_NODES: &[&str] = &["command", "env", "resources", "image"];

/// `worker NAME { command ...; replicas N }`, `cron NAME schedule="..." { command ... }` or
/// `init NAME { command ...; image "REF:TAG" }`
fn read_process(cx: &mut Cx, node: &Node) -> Option<Process> {
    let is_cron = node.name.value == "cron";
    let is_init = node.name.value == "init";
    let example = match node.name.value.as_str() {
        "cron" => "cron cleanup schedule=\"0 3 * * *\" { command \"bin/cleanup\" }",
        "init" => "init migrate { command \"bin/migrate\" }",
        _ => "worker mailer { command \"bin/mailer\" }",
    };
    let mut r = NodeReader::new(node);
    let name = r.req_arg_str(cx, 0, "a name", example);
    let schedule = if is_cron { r.prop_str(cx, "schedule", "schedule=\"0 3 * * *\"") } else { None };
    let concurrency = if is_cron { r.prop_str(cx, "concurrency", "concurrency=forbid").and_then(|c| expect_one_of(cx, &c, "concurrency policy", &CONCURRENCY)) } else { None };
    let children = r.allow_children();
    r.finish(cx);
    let name = name?;
    names::check_dns(cx, &name, "process name");
    let mut command = Vec::new();
    let mut env = Vec::new();
    let mut resources = ResourceSpec::default();
    let mut replicas = 1;
    let mut image = None;
    let mut once = Once::default();
    for child in children {
        let known = match node.name.value.as_str() {
            "cron" => &PROCESS_NODES[..3],
            "init" => INIT_NODES,
            _ => PROCESS_NODES,
        };
        if !known.contains(&child.name.value.as_str()) {
            cx.unknown_node(child, &node.name.value, known);
            continue;
        }
        if child.name.value != "env" && !once.first(cx, child) {
            continue;
        }
        match child.name.value.as_str() {
            "command" => {
                let mut cr = NodeReader::new(child);
                let args = cr.rest_args(0);
                cr.finish(cx);
                command = args.iter().filter_map(|a| expect_str(cx, a, "a command word", "command \"bin/worker\" \"--queue=emails\"")).map(|s| s.value).collect();
                if args.is_empty() {
                    cx.error(codes::MISSING_VALUE, child.head, "empty command", "`command` has no words").help =
                        Some("write the program and its arguments: command \"bin/worker\" \"--verbose\"".into());
                }
            }
            "env" => env.extend(read_env(cx, child)),
            "resources" => resources = read_resources(cx, child),
            "image" => image = read_init_image(cx, child),
            _ => {
                let mut rr = NodeReader::new(child);
                if let Some(v) = rr.arg(0) {
                    if let Some(n) = expect_int(cx, v, "`replicas`", 0, 1000) {
                        replicas = n.value as u32;
                    }
                } else {
                    cx.error(codes::MISSING_VALUE, child.head, "number missing", "`replicas` needs a number").help = Some("write replicas 2".into());
                }
                rr.finish(cx);
            }
        }
    }
    if command.is_empty() && !children.iter().any(|c| c.name.value == "command") {
        cx.error(codes::MISSING_VALUE, node.head, "no command", format!("{} `{}` has no command", node.name.value, name.value)).help = Some(format!("add the program to run: {example}"));
    }
    let kind = if is_cron {
        let Some(schedule) = schedule else {
            cx.error(codes::MISSING_VALUE, node.head, "schedule missing", format!("cron `{}` has no schedule", name.value)).help =
                Some("add schedule=\"0 3 * * *\" (minute hour day month weekday)".into());
            return None;
        };
        if let Err(help) = units::cron(schedule.value.trim()) {
            cx.error(codes::INVALID_SCHEDULE, schedule.span, "not a cron schedule", format!("invalid cron schedule \"{}\"", schedule.value)).help = Some(help);
        }
        ProcessKind::Cron { schedule: schedule.value.trim().to_string(), concurrency: concurrency.unwrap_or(CronConcurrency::Forbid) }
    } else if is_init {
        ProcessKind::Init { image }
    } else {
        ProcessKind::Worker { replicas }
    };
    Some(Process { name, kind, command, env, resources, span: node.head })
}

const LATENCY_PROPS: [(&str, u8); 4] = [("latency-p50", 50), ("latency-p90", 90), ("latency-p95", 95), ("latency-p99", 99)];

/// `slo availability="99.9%" latency-p99="300ms" window="30d"`
fn read_slo(cx: &mut Cx, node: &Node) -> Option<Slo> {
    let mut r = NodeReader::new(node);
    let availability = r.prop_unit(cx, "availability", codes::INVALID_PERCENT, "percentage", units::percent);
    let mut latency: Option<LatencySlo> = None;
    for (prop, percentile) in LATENCY_PROPS {
        if let Some(d) = r.prop_unit(cx, prop, codes::INVALID_DURATION, "duration", units::duration) {
            if let Some(first) = &latency {
                let first_span = first.threshold.span;
                cx.error(codes::REPEATED_NODE, d.span, "second latency objective", "an SLO has one latency objective").label(first_span, "first one").help =
                    Some("keep the percentile your users feel, usually latency-p99=\"300ms\"".into());
                continue;
            }
            latency = Some(LatencySlo { percentile, threshold: d });
        }
    }
    let window = r.prop_unit(cx, "window", codes::INVALID_DURATION, "duration", units::duration);
    r.finish(cx);
    if let Some(a) = &availability {
        if a.value.0 >= 100 * Percent::SCALE {
            cx.error(codes::OUT_OF_RANGE, a.span, "no error budget", "an availability objective of 100% leaves no error budget").help =
                Some("pick a target below 100%, e.g. availability=\"99.9%\"".into());
        }
    }
    let wrote_objective = node.props.iter().any(|p| p.name.value == "availability" || p.name.value.starts_with("latency-"));
    if availability.is_none() && latency.is_none() && !wrote_objective {
        cx.error(codes::MISSING_VALUE, node.head, "no objective", "`slo` sets no objective").help = Some("write slo availability=\"99.9%\" latency-p99=\"300ms\"".into());
        return None;
    }
    if availability.is_none() && latency.is_none() {
        return None;
    }
    let window = match window {
        Some(w) if w.value.0 < 3_600_000 => {
            cx.error(codes::OUT_OF_RANGE, w.span, "shorter than an hour", "an SLO window must be at least 1h").help = Some("use the usual 30-day window: window=\"30d\"".into());
            None
        }
        Some(w) => Some(w.value),
        None => None,
    };
    Some(Slo { availability, latency, window, span: node.head })
}

const SEVERITIES: [(&str, u8); 3] = [("critical", 0), ("warning", 1), ("info", 2)];

/// `alert NAME expr="..." for="10m" severity=warning summary="..." description="..."`
fn read_alert(cx: &mut Cx, node: &Node) -> Option<Alert> {
    let mut r = NodeReader::new(node);
    let name = r.req_arg_str(cx, 0, "an alert name", "alert QueueBacklog expr=\"queue_depth > 100\"");
    let expr = r.prop_str(cx, "expr", "expr=\"queue_depth > 100\"");
    let for_ = r.prop_unit(cx, "for", codes::INVALID_DURATION, "duration", units::duration).map(|d| d.value);
    let severity = r.prop_str(cx, "severity", "severity=warning");
    let summary = r.prop_str(cx, "summary", "summary=\"Queue is backing up\"").filter(|s| alert::check_annotation(cx, s, "summary")).map(|s| s.value);
    let description = r.prop_str(cx, "description", "description=\"...\"").filter(|d| alert::check_annotation(cx, d, "description")).map(|d| d.value);
    r.finish(cx);
    let name = name?;
    names::check_alert_name(cx, &name);
    // A bad severity is reported, and the expression is still checked.
    let severity = match severity {
        Some(s) => expect_one_of(cx, &s, "severity", &SEVERITIES).map(|_| s.value),
        None => Some("warning".to_string()),
    };
    let Some(expr) = expr else {
        cx.error(codes::MISSING_VALUE, node.head, "`expr` missing", format!("alert `{}` has no expression", name.value)).help =
            Some("add the PromQL condition: expr=\"rate(errors_total[5m]) > 1\"".into());
        return None;
    };
    alert::check_promql(cx, &expr);
    Some(Alert { name, expr, for_, severity: severity?, summary, description, span: node.head })
}

const OVERRIDE_NODES: &[&str] = &["resources", "scale", "env"];

/// `environment NAME { resources ...; scale ...; env ... }`
fn read_override(cx: &mut Cx, node: &Node) -> Option<EnvOverride> {
    let mut r = NodeReader::new(node);
    let environment = r.req_arg_str(cx, 0, "an environment name", "environment prod { scale min=3 }");
    let children = r.allow_children();
    r.finish(cx);
    let mut o = EnvOverride { environment: environment?, resources: ResourceSpec::default(), scale: ScaleSpec::default(), env: Vec::new(), span: node.head };
    let mut once = Once::default();
    for child in children {
        match child.name.value.as_str() {
            "resources" if once.first(cx, child) => o.resources = read_resources(cx, child),
            "scale" if once.first(cx, child) => o.scale = read_scale(cx, child),
            "env" => o.env.extend(read_env(cx, child)),
            "resources" | "scale" => {}
            _ => cx.unknown_node(child, "environment", OVERRIDE_NODES),
        }
    }
    Some(o)
}

/// `patch KIND name=NAME merge="{...}" | json="[...]" env=ENV`, KIND one of `kinds`.
fn read_patch(cx: &mut Cx, node: &Node, kinds: &[&'static str]) -> Option<Patch> {
    let mut r = NodeReader::new(node);
    let kind = r.req_arg_str(cx, 0, "the kind of object to patch", "patch Deployment merge=#\"{\"spec\":{}}\"#");
    let name = r.prop_str(cx, "name", "name=checkout");
    let merge = r.prop_str(cx, "merge", "merge=#\"{\"metadata\":{}}\"#");
    let json = r.prop_str(cx, "json", "json=#\"[{\"op\":\"add\",...}]\"#");
    let environment = r.prop_str(cx, "env", "env=prod");
    r.finish(cx);
    let kind = kind?;
    let kinds: Vec<(&str, ())> = kinds.iter().map(|k| (*k, ())).collect();
    expect_one_of(cx, &kind, "kind of generated object", &kinds)?;
    let op = match (merge, json) {
        (Some(m), None) => super::patch::parse_merge(cx, &m).map(PatchOp::Merge),
        (None, Some(j)) => super::patch::parse_json_patch(cx, &j).map(PatchOp::Json),
        (Some(_), Some(j)) => {
            cx.error(codes::INVALID_PATCH, j.span, "second patch body", "a patch has either `merge` or `json`, not both").help = Some("split it into two `patch` nodes".into());
            None
        }
        (None, None) => {
            cx.error(codes::INVALID_PATCH, node.head, "no patch body", "`patch` has no `merge` or `json` body").help =
                Some("add merge=#\"{...}\"# (JSON merge patch, RFC 7386) or json=#\"[...]\"# (JSON patch, RFC 6902)".into());
            None
        }
    }?;
    Some(Patch { kind, name, op, environment, span: node.head })
}

/// `security run-as-root=#true writable-root-fs=#true service-account-token=#true`
fn read_security(cx: &mut Cx, node: &Node) -> Security {
    let mut r = NodeReader::new(node);
    let s = Security { run_as_root: r.prop_bool(cx, "run-as-root"), writable_root_fs: r.prop_bool(cx, "writable-root-fs"), service_account_token: r.prop_bool(cx, "service-account-token") };
    r.finish(cx);
    s
}

/// Checks that need the whole service: duplicates and references to its own ports.
fn check_local(cx: &mut Cx, s: &Service, had_port_nodes: bool) {
    names::duplicates(cx, s.ports.iter().map(|p| (&p.name.value, p.name.span)), "port");
    let numbers: Vec<(String, Span)> = s.ports.iter().map(|p| (p.number.value.to_string(), p.number.span)).collect();
    names::duplicates(cx, numbers.iter().map(|(n, sp)| (n, *sp)), "port number");
    // Two Service ports may not share a container port either: the container's `ports` name
    // each number once. Ports without `target=` that share a number are reported just above.
    let targeted = |p: &Port| p.target.is_some() || s.ports.iter().any(|q| q.target.as_ref().is_some_and(|t| t.value == p.number.value));
    let containers: Vec<(String, Span)> = s.ports.iter().filter(|p| targeted(p)).map(|p| (p.container().to_string(), p.target.as_ref().map_or(p.number.span, |t| t.span))).collect();
    names::duplicates(cx, containers.iter().map(|(n, sp)| (n, *sp)), "container port");
    let env_names = s.env.iter().map(|e| (&e.name.value, e.name.span)).chain(s.secrets.iter().map(|x| (&x.name.value, x.name.span)));
    names::duplicates(cx, env_names, "environment variable");
    for o in &s.overrides {
        let names = o.env.iter().map(|e| (&e.name.value, e.name.span)).chain(s.secrets.iter().map(|x| (&x.name.value, x.name.span)));
        names::duplicates(cx, names, "environment variable");
    }
    names::duplicates(cx, s.uses.iter().map(|u| (&u.name.value, u.name.span)), "resource");
    names::duplicates(cx, s.processes.iter().map(|p| (&p.name.value, p.name.span)), "process");
    names::duplicates(cx, s.alerts.iter().map(|a| (&a.name.value, a.name.span)), "alert");
    names::duplicates(cx, s.calls.iter().map(|c| (&c.service.value, c.service.span)), "call");
    names::duplicates(cx, s.overrides.iter().map(|o| (&o.environment.value, o.environment.span)), "environment override");
    let routes: Vec<(String, Span)> = s.routes.iter().map(|r| (format!("{} {}", r.host.as_ref().map(|h| h.value.as_str()).unwrap_or("(default host)"), r.path.value), r.path.span)).collect();
    names::duplicates(cx, routes.iter().map(|(n, sp)| (n, *sp)), "route");
    for p in &s.processes {
        // Objects (and init containers) of a process are named SERVICE-PROCESS; CronJob names
        // leave 11 characters for the Job suffix Kubernetes adds.
        let max = if matches!(p.kind, ProcessKind::Cron { .. }) { 52 } else { 63 };
        let full = s.name.value.len() + 1 + p.name.value.len();
        if full > max {
            cx.error(
                codes::INVALID_NAME,
                p.name.span,
                format!("`{}-{}` has {full} characters", s.name.value, p.name.value),
                format!("the name of {} `{}` is too long", p.kind.keyword(), p.name.value),
            )
            .help = Some(format!("its objects are named SERVICE-NAME, at most {max} characters: shorten the process name to {} characters or fewer", max.saturating_sub(s.name.value.len() + 1)));
        }
        let env_names = p.env.iter().map(|e| (&e.name.value, e.name.span));
        names::duplicates(cx, env_names, "environment variable");
    }
    // Port references inside the service.
    let port_names: Vec<&str> = s.ports.iter().map(|p| p.name.value.as_str()).collect();
    let probes = [&s.health.readiness, &s.health.liveness, &s.health.startup];
    let refs = s.routes.iter().map(|r| &r.port).chain(probes.into_iter().flatten().filter(|p| !matches!(p.check, ProbeCheck::Exec { .. })).map(|p| &p.port));
    for port in refs {
        if port.value.is_empty() {
            if s.ports.is_empty() && !had_port_nodes {
                cx.error(codes::UNKNOWN_PORT, port.span, "needs a port", format!("service `{}` declares no port", s.name.value)).help = Some("declare one: port http 8080".into());
                break;
            }
            continue;
        }
        if !port_names.contains(&port.value.as_str()) {
            let help = super::suggest::help_for_unknown(&port.value, &port_names, "port");
            cx.error(codes::UNKNOWN_PORT, port.span, "no such port", format!("service `{}` has no port `{}`", s.name.value, port.value)).help = Some(help);
        }
    }
}

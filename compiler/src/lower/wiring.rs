//! Env var wiring: connection details of backing resources, secret references, and the
//! service's own variables with `${...}` references resolved.
//!
//! Every output of every resource a service uses reaches the container as `RESOURCE_OUTPUT`
//! (e.g. `ORDERS_HOST`), read from the Secret `SERVICE-RESOURCE-connection`, whichever
//! provisioner serves the environment: the app sees the same names everywhere. A reference
//! inside a longer string becomes Kubernetes' dependent variable syntax `$(ORDERS_HOST)`,
//! expanded by the kubelet, so no value is ever copied into the manifests.

use indexmap::IndexMap;

use super::{Part, Placement};
use crate::emit::object::map;
use crate::graph::Graph;
use crate::model::{effective, EnvVar, Process, Protocol, Reference, Service, TemplatePart, Workspace};

/// The env vars and ConfigMap data of the web container.
pub struct Wiring {
    pub env: Vec<Part>,
    pub config: IndexMap<String, String>,
}

/// Env var name of a resource output: `orders` + `host` -> `ORDERS_HOST`.
pub fn output_var(resource: &str, output: &str) -> String {
    format!("{resource}_{output}").to_ascii_uppercase().replace('-', "_")
}

/// Name of the Secret holding a resource's connection details.
pub fn connection_secret(service: &str, resource: &str) -> String {
    format!("{service}-{resource}-connection")
}

/// Name of the ConfigMap with the service's plain env values.
pub fn config_map(service: &str) -> String {
    format!("{service}-config")
}

/// The web container's env.
pub fn env(ws: &Workspace, graph: &Graph, i: usize, pl: &Placement) -> Wiring {
    let s = &ws.services[i];
    let vars = effective::env_vars(s, &pl.env);
    let mut env = injected(ws, s, &vars);
    let mut config = IndexMap::new();
    for v in vars {
        match resolve(ws, graph, i, pl, v) {
            Resolved::Literal(text) => {
                env.push(from_config_map(s, v));
                config.insert(v.name.value.clone(), text);
            }
            Resolved::Entry(e) => env.push(e),
        }
    }
    Wiring { env, config }
}

/// A worker's or cron job's env: the service's wiring plus its own variables (inline).
pub fn process_env(ws: &Workspace, graph: &Graph, i: usize, pl: &Placement, p: &Process) -> Vec<Part> {
    let s = &ws.services[i];
    let mut vars = effective::env_vars(s, &pl.env);
    for v in &p.env {
        match vars.iter().position(|e| e.name.value == v.name.value) {
            Some(k) => vars[k] = v,
            None => vars.push(v),
        }
    }
    let mut env = injected(ws, s, &vars);
    for v in vars {
        let own = p.env.iter().any(|e| std::ptr::eq(e, v));
        match resolve(ws, graph, i, pl, v) {
            // The service's plain values come from its ConfigMap; the process's own inline.
            Resolved::Literal(text) if own => env.push(value(v.name.value.clone(), escape(&text))),
            Resolved::Literal(_) => env.push(from_config_map(s, v)),
            Resolved::Entry(e) => env.push(e),
        }
    }
    env
}

/// Connection variables of every resource, then secret references; a variable the spec
/// defines itself is left to the spec.
fn injected(ws: &Workspace, s: &Service, vars: &[&EnvVar]) -> Vec<Part> {
    let mut env = Vec::new();
    let defined = |n: &str| vars.iter().any(|v| v.name.value == n);
    for u in &s.uses {
        let Some(ty) = ws.types.get(&u.ty.value) else { continue };
        for out in ty.outputs.keys() {
            let name = output_var(&u.name.value, out);
            if !defined(&name) {
                env.push(from_secret(name, connection_secret(&s.name.value, &u.name.value), out.clone()));
            }
        }
    }
    for x in &s.secrets {
        env.push(from_secret(x.name.value.clone(), format!("{}-secrets", s.name.value), x.name.value.clone()));
    }
    env
}

/// `{name, value}`.
fn value(name: String, value: String) -> Part {
    map([("name", name.into()), ("value", value.into())])
}

/// `{name, valueFrom: {REF: {name: source, key}}}`.
fn value_from(name: String, reference: &'static str, source: String, key: String) -> Part {
    map([("name", name.into()), ("valueFrom", map([(reference, map([("name", source.into()), ("key", key.into())]))]))])
}

/// A variable read from key `key` of Secret `secret`.
fn from_secret(name: String, secret: String, key: String) -> Part {
    value_from(name, "secretKeyRef", secret, key)
}

/// A plain variable of the service, read from its ConfigMap (under its own name).
fn from_config_map(s: &Service, v: &EnvVar) -> Part {
    value_from(v.name.value.clone(), "configMapKeyRef", config_map(&s.name.value), v.name.value.clone())
}

enum Resolved {
    /// Known at build time: goes to the ConfigMap.
    Literal(String),
    /// A full env entry (`value` with `$(VAR)` references or `valueFrom`).
    Entry(Part),
}

fn resolve(ws: &Workspace, graph: &Graph, i: usize, pl: &Placement, v: &EnvVar) -> Resolved {
    let s = &ws.services[i];
    // A whole-value resource reference reads the connection Secret directly.
    if let [TemplatePart::Ref(r)] = v.value.parts.as_slice() {
        if let Reference::Resource { name, output } = &r.value {
            return Resolved::Entry(from_secret(v.name.value.clone(), connection_secret(&s.name.value, name), output.clone()));
        }
    }
    let mut text = String::new();
    let mut dependent = false;
    for part in &v.value.parts {
        match part {
            TemplatePart::Text(t) => text.push_str(&escape(t)),
            TemplatePart::Ref(r) => match &r.value {
                Reference::Resource { name, output } => {
                    dependent = true;
                    text.push_str(&format!("$({})", output_var(name, output)));
                }
                Reference::Service { name, attr } => text.push_str(&escape(&service_attr(ws, graph, i, pl, name, attr))),
                Reference::Platform { key } => text.push_str(&escape(&platform_value(ws, pl, key))),
            },
        }
    }
    if dependent {
        Resolved::Entry(value(v.name.value.clone(), text))
    } else {
        // No kubelet expansion happens for ConfigMap values: keep the text unescaped.
        Resolved::Literal(unescape(&text))
    }
}

/// `$(` would be expanded by the kubelet in a `value`; `$$(` keeps it literal.
fn escape(text: &str) -> String {
    text.replace("$(", "$$(")
}

fn unescape(text: &str) -> String {
    text.replace("$$(", "$(")
}

/// `${service.NAME.url|host|port}`: the in-cluster address of another service, on the port
/// this service calls (or the callee's first port).
fn service_attr(ws: &Workspace, graph: &Graph, i: usize, pl: &Placement, name: &str, attr: &str) -> String {
    let s = &ws.services[i];
    // A referenced service is one this service calls (an edge of the graph): looked up among
    // those, not among every service of the monorepo.
    let callee = if s.name.value == name { Some(s) } else { graph.callees(i).into_iter().map(|c| &ws.services[c]).find(|c| c.name.value == name) };
    let Some(callee) = callee else { return String::new() };
    let port_name = s.calls.iter().find(|c| c.service.value == name).and_then(|c| c.port.as_ref()).map(|p| p.value.as_str());
    let port = callee.call_target(port_name);
    let host = format!("{name}.{}.svc.cluster.local", pl.namespace);
    let number = port.map(|p| p.number.value).unwrap_or(80);
    match attr {
        "host" => host,
        "port" => number.to_string(),
        _ => match port.map(|p| p.protocol) {
            Some(Protocol::Grpc) => format!("dns:///{host}:{number}"),
            Some(Protocol::Tcp) => format!("tcp://{host}:{number}"),
            _ => format!("http://{host}:{number}"),
        },
    }
}

/// `${platform.KEY}` in one placement.
pub fn platform_value(ws: &Workspace, pl: &Placement, key: &str) -> String {
    let p = &ws.platform;
    match key {
        "name" => p.name.value.clone(),
        "domain" => p.domain.value.clone(),
        "region" => p.region.clone(),
        "environment" => pl.env.clone(),
        "registry" => p.registry.value.clone(),
        _ => String::new(),
    }
}

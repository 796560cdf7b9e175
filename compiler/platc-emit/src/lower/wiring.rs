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
use crate::model::{EnvVar, Process, Protocol, Reference, TemplatePart};
use crate::resolve::naming::{cluster_host, config_map, connection_secret, output_var, secrets_secret};
use crate::resolve::{Resolved, ResolvedService};

/// The env vars and ConfigMap data of the web container.
pub(crate) struct Wiring {
    pub env: Vec<Part>,
    pub config: IndexMap<String, String>,
}

/// The web container's env.
pub(crate) fn env(r: &Resolved, rs: &ResolvedService, pl: &Placement) -> Wiring {
    let vars: Vec<&EnvVar> = rs.envs[&pl.env].env.iter().collect();
    let mut env = injected(r, rs, &vars);
    let mut config = IndexMap::new();
    for v in vars {
        match resolve(r, rs, pl, v) {
            Value::Literal(text) => {
                env.push(from_config_map(rs, v));
                config.insert(v.name.value.clone(), text);
            }
            Value::Entry(e) => env.push(e),
        }
    }
    Wiring { env, config }
}

/// A worker's or cron job's env: the service's wiring plus its own variables (inline).
pub(crate) fn process_env(r: &Resolved, rs: &ResolvedService, pl: &Placement, p: &Process) -> Vec<Part> {
    let mut vars: Vec<&EnvVar> = rs.envs[&pl.env].env.iter().collect();
    for v in &p.env {
        match vars.iter().position(|e| e.name.value == v.name.value) {
            Some(k) => vars[k] = v,
            None => vars.push(v),
        }
    }
    let mut env = injected(r, rs, &vars);
    for v in vars {
        let own = p.env.iter().any(|e| std::ptr::eq(e, v));
        match resolve(r, rs, pl, v) {
            // The service's plain values come from its ConfigMap; the process's own inline.
            Value::Literal(text) if own => env.push(value(v.name.value.clone(), escape(&text))),
            Value::Literal(_) => env.push(from_config_map(rs, v)),
            Value::Entry(e) => env.push(e),
        }
    }
    env
}

/// Connection variables of every resource, then secret references; a variable the spec
/// defines itself is left to the spec.
fn injected(r: &Resolved, rs: &ResolvedService, vars: &[&EnvVar]) -> Vec<Part> {
    let s = &rs.spec;
    let mut env = Vec::new();
    let defined = |n: &str| vars.iter().any(|v| v.name.value == n);
    for u in &s.uses {
        let Some(ty) = r.types.get(&u.ty.value) else { continue };
        for out in ty.outputs.keys() {
            let name = output_var(&u.name.value, out);
            if !defined(&name) {
                env.push(from_secret(name, connection_secret(&s.name.value, &u.name.value), out.clone()));
            }
        }
    }
    for x in &s.secrets {
        env.push(from_secret(x.name.value.clone(), secrets_secret(&s.name.value), x.name.value.clone()));
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
fn from_config_map(rs: &ResolvedService, v: &EnvVar) -> Part {
    value_from(v.name.value.clone(), "configMapKeyRef", config_map(&rs.name), v.name.value.clone())
}

enum Value {
    /// Known at build time: goes to the ConfigMap.
    Literal(String),
    /// A full env entry (`value` with `$(VAR)` references or `valueFrom`).
    Entry(Part),
}

fn resolve(r: &Resolved, rs: &ResolvedService, pl: &Placement, v: &EnvVar) -> Value {
    // A whole-value resource reference reads the connection Secret directly.
    if let [TemplatePart::Ref(reference)] = v.value.parts.as_slice() {
        if let Reference::Resource { name, output } = &reference.value {
            return Value::Entry(from_secret(v.name.value.clone(), connection_secret(&rs.name, name), output.clone()));
        }
    }
    let mut text = String::new();
    let mut dependent = false;
    for part in &v.value.parts {
        match part {
            TemplatePart::Text(t) => text.push_str(&escape(t)),
            TemplatePart::Ref(reference) => match &reference.value {
                Reference::Resource { name, output } => {
                    dependent = true;
                    text.push_str(&format!("$({})", output_var(name, output)));
                }
                Reference::Service { name, attr } => text.push_str(&escape(&service_attr(rs, pl, name, attr))),
                Reference::Platform { key } => text.push_str(&escape(&platform_value(r, pl, key))),
            },
        }
    }
    if dependent {
        Value::Entry(value(v.name.value.clone(), text))
    } else {
        // No kubelet expansion happens for ConfigMap values: keep the text unescaped.
        Value::Literal(unescape(&text))
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
fn service_attr(rs: &ResolvedService, pl: &Placement, name: &str, attr: &str) -> String {
    // A referenced service is one this service calls (an edge of the graph), or itself.
    let port = if rs.name == name {
        rs.roles.primary.map(|k| &rs.spec.ports[k])
    } else {
        match rs.callees.iter().find(|c| c.name == name) {
            Some(c) => c.port.as_ref(),
            None => return String::new(),
        }
    };
    let host = cluster_host(name, pl);
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
pub(crate) fn platform_value(r: &Resolved, pl: &Placement, key: &str) -> String {
    let p = &r.platform;
    match key {
        "name" => p.name.value.clone(),
        "domain" => p.domain.value.clone(),
        "region" => p.region.clone(),
        "environment" => pl.env.clone(),
        "registry" => p.registry.value.clone(),
        _ => String::new(),
    }
}

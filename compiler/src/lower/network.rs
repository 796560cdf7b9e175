//! NetworkPolicy derived from the graph: default deny in both directions, then exactly the
//! traffic the specs declare.

use serde_json::{json, Value as Json};

use super::{BackingResource, NetworkPolicy, Placement};
use crate::graph::Graph;
use crate::model::{Ingress, Provisioner, Workspace};

/// Namespace of the Prometheus that scrapes ServiceMonitors.
pub const MONITORING_NAMESPACE: &str = "monitoring";

fn pods(name: &str) -> Json {
    json!({"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}})
}

fn namespace(name: &str) -> Json {
    json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}})
}

fn tcp(port: u16) -> Json {
    json!({"protocol": "TCP", "port": port})
}

/// `{"from"/"to": peers, "ports": ports}`, the lists moved in: `json!` would copy them value by
/// value (through `to_value`), once per rule of every service.
fn rule(direction: &str, peers: Vec<Json>, ports: Vec<Json>) -> Json {
    let mut m = serde_json::Map::with_capacity(2);
    m.insert(direction.to_string(), Json::Array(peers));
    m.insert("ports".to_string(), Json::Array(ports));
    Json::Object(m)
}

/// The policy of service `i` in one placement; `backing` are its resources there (an in-cluster
/// one is reached on its Service's port, the container port).
pub fn policy(ws: &Workspace, graph: &Graph, i: usize, pl: &Placement, backing: &[BackingResource]) -> NetworkPolicy {
    let s = &ws.services[i];
    let all_ports: Vec<Json> = s.ports.iter().map(|p| tcp(p.number.value)).collect();
    let mut ingress = Vec::new();
    // Callers reach every port of the service.
    let callers = graph.callers(i);
    if !callers.is_empty() && !all_ports.is_empty() {
        let from: Vec<Json> = callers.iter().map(|&c| pods(&ws.services[c].name.value)).collect();
        ingress.push(rule("from", from, all_ports));
    }
    // The ingress controller (or gateway) reaches the ports that routes expose.
    let mut route_ports: Vec<u16> = s
        .routes
        .iter()
        .filter_map(|r| if r.port.value.is_empty() { s.ports.first() } else { s.port(&r.port.value) })
        .map(|p| p.number.value)
        .collect();
    route_ports.sort_unstable();
    route_ports.dedup();
    if !route_ports.is_empty() {
        let ns = match &ws.platform.ingress {
            Ingress::Ingress { controller_namespace, .. } => controller_namespace.clone(),
            Ingress::GatewayApi { namespace, .. } => namespace.clone(),
        };
        ingress.push(rule("from", vec![namespace(&ns)], route_ports.iter().map(|p| tcp(*p)).collect()));
    }
    // Prometheus scrapes the metrics port.
    let metrics = s.port("metrics").or_else(|| s.ports.iter().find(|p| p.protocol == crate::model::Protocol::Http));
    if let Some(m) = metrics {
        ingress.push(rule("from", vec![namespace(MONITORING_NAMESPACE)], vec![tcp(m.number.value)]));
    }

    let mut egress = vec![json!({
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    })];
    for c in graph.callees(i) {
        let callee = &ws.services[c];
        let ports: Vec<Json> = callee.ports.iter().map(|p| tcp(p.number.value)).collect();
        if !ports.is_empty() {
            egress.push(rule("to", vec![pods(&callee.name.value)], ports));
        }
    }
    let env = &ws.platform.environments[&pl.env];
    let mut cloud_ports: Vec<u16> = Vec::new();
    for u in &s.uses {
        let Some(ty) = ws.types.get(&u.ty.value) else { continue };
        match env.provisioner_for(&u.ty.value) {
            Provisioner::InCluster => {
                let ic = backing.iter().find(|b| b.name == u.name.value).and_then(|b| b.inCluster.as_ref());
                let name = ic.map(|c| c.name.clone()).unwrap_or_else(|| super::incluster::object_name(&s.name.value, &u.name.value));
                let port = ic.and_then(|c| c.service.ports.first()).and_then(|p| p["port"].as_u64()).map(|p| p as u16).unwrap_or(ty.port);
                egress.push(rule("to", vec![pods(&name)], vec![tcp(port)]));
            }
            Provisioner::Aws => cloud_ports.push(ty.port),
        }
    }
    if !cloud_ports.is_empty() {
        // Managed services live outside the cluster at addresses known only after apply;
        // allow their ports, plus HTTPS for the AWS APIs and the EKS Pod Identity agent.
        cloud_ports.push(443);
        cloud_ports.sort_unstable();
        cloud_ports.dedup();
        egress.push(rule("to", vec![json!({"ipBlock": {"cidr": "0.0.0.0/0"}})], cloud_ports.iter().map(|p| tcp(*p)).collect()));
        egress.push(rule("to", vec![json!({"ipBlock": {"cidr": "169.254.170.23/32"}})], vec![tcp(80)]));
    }
    NetworkPolicy { enabled: true, ingress, egress }
}

//! NetworkPolicy derived from the graph: default deny in both directions, then exactly the
//! traffic the specs declare.

use super::{BackingResource, NetworkPolicy, Part, Placement};
use crate::emit::object::{list, map};
use crate::graph::Graph;
use crate::model::{Ingress, Provisioner, Workspace};

/// Namespace of the Prometheus that scrapes ServiceMonitors.
pub const MONITORING_NAMESPACE: &str = "monitoring";

fn pods(name: &str) -> Part {
    map([("podSelector", map([("matchLabels", map([("app.kubernetes.io/name", name.to_string().into())]))]))])
}

fn namespace(name: &str) -> Part {
    map([("namespaceSelector", map([("matchLabels", map([("kubernetes.io/metadata.name", name.to_string().into())]))]))])
}

fn port(protocol: &'static str, port: u16) -> Part {
    map([("protocol", protocol.into()), ("port", port.into())])
}

fn tcp(number: u16) -> Part {
    port("TCP", number)
}

/// `{"from"/"to": peers, "ports": ports}`.
fn rule(direction: &'static str, peers: Vec<Part>, ports: Vec<Part>) -> Part {
    map([(direction, peers.into()), ("ports", ports.into())])
}

/// A CIDR block as a peer.
fn ip_block(cidr: &'static str) -> Part {
    map([("ipBlock", map([("cidr", cidr.into())]))])
}

/// The policy of service `i` in one placement; `backing` are its resources there (an in-cluster
/// one is reached on its Service's port, the container port).
pub fn policy(ws: &Workspace, graph: &Graph, i: usize, pl: &Placement, backing: &[BackingResource]) -> NetworkPolicy {
    let s = &ws.services[i];
    let all_ports: Vec<Part> = s.ports.iter().map(|p| tcp(p.number.value)).collect();
    let mut ingress = Vec::new();
    // Callers reach every port of the service.
    let callers = graph.callers(i);
    if !callers.is_empty() && !all_ports.is_empty() {
        let from: Vec<Part> = callers.iter().map(|&c| pods(&ws.services[c].name.value)).collect();
        ingress.push(rule("from", from, all_ports));
    }
    // The ingress controller (or gateway) reaches the ports that routes expose.
    let mut route_ports: Vec<u16> = s.routes.iter().filter_map(|r| s.route_target(r)).map(|p| p.number.value).collect();
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
    let metrics = s.metrics_port();
    if let Some(m) = metrics {
        ingress.push(rule("from", vec![namespace(MONITORING_NAMESPACE)], vec![tcp(m.number.value)]));
    }

    let kube_dns = map([
        ("namespaceSelector", map([("matchLabels", map([("kubernetes.io/metadata.name", "kube-system".into())]))])),
        ("podSelector", map([("matchLabels", map([("k8s-app", "kube-dns".into())]))])),
    ]);
    let mut egress = vec![map([("to", list([kube_dns])), ("ports", list([port("UDP", 53), tcp(53)]))])];
    for c in graph.callees(i) {
        let callee = &ws.services[c];
        let ports: Vec<Part> = callee.ports.iter().map(|p| tcp(p.number.value)).collect();
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
        egress.push(rule("to", vec![ip_block("0.0.0.0/0")], cloud_ports.iter().map(|p| tcp(*p)).collect()));
        egress.push(rule("to", vec![ip_block("169.254.170.23/32")], vec![tcp(80)]));
    }
    NetworkPolicy { enabled: true, ingress, egress }
}

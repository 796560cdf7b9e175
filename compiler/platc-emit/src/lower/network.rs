//! NetworkPolicy derived from the graph: default deny in both directions, then exactly the
//! traffic the specs declare.

use super::incluster::Backing;
use super::{NetworkPolicy, Part, Placement};
use crate::emit::object::{list, map};
use crate::model::{Identity, Ingress, Provisioner};
use crate::resolve::{naming, Resolved, ResolvedService};

/// Namespace of the Prometheus that scrapes ServiceMonitors.
pub(crate) const MONITORING_NAMESPACE: &str = "monitoring";

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

/// The policy of a service in one placement; `backing` are its resources there (an in-cluster
/// one is reached on its Service's port, the container port).
pub(crate) fn policy(r: &Resolved, rs: &ResolvedService, pl: &Placement, backing: &Backing) -> NetworkPolicy {
    NetworkPolicy { enabled: true, ingress: ingress(r, rs), egress: egress(r, rs, pl, backing) }
}

/// Who may reach the service: each caller on the port its call reaches, the ingress controller
/// or gateway (the ports routes target) and Prometheus (the metrics port).
fn ingress(r: &Resolved, rs: &ResolvedService) -> Vec<Part> {
    let s = &rs.spec;
    let mut ingress = Vec::new();
    // One rule per port, in the spec's order, admitting every caller that reaches it.
    for (k, p) in s.ports.iter().enumerate() {
        let from: Vec<Part> = rs.callers.iter().filter(|c| c.port == Some(k)).map(|c| pods(&c.name)).collect();
        if !from.is_empty() {
            ingress.push(rule("from", from, vec![tcp(p.container())]));
        }
    }
    let mut route_ports: Vec<u16> = rs.routes.iter().filter_map(|r| r.target).map(|k| s.ports[k].container()).collect();
    route_ports.sort_unstable();
    route_ports.dedup();
    if !route_ports.is_empty() {
        let ns = match &r.platform.ingress {
            Ingress::Ingress { controller_namespace, .. } => controller_namespace.clone(),
            Ingress::GatewayApi { namespace, .. } => namespace.clone(),
        };
        ingress.push(rule("from", vec![namespace(&ns)], route_ports.iter().map(|p| tcp(*p)).collect()));
    }
    if let Some(m) = rs.roles.metrics {
        ingress.push(rule("from", vec![namespace(MONITORING_NAMESPACE)], vec![tcp(s.ports[m].container())]));
    }
    ingress
}

/// Where the service may connect: DNS, each callee on the port the call reaches, its in-cluster
/// resources (on their Service's port) and, for resources in the cloud, their ports outside the
/// cluster.
fn egress(r: &Resolved, rs: &ResolvedService, pl: &Placement, backing: &Backing) -> Vec<Part> {
    let kube_dns = map([
        ("namespaceSelector", map([("matchLabels", map([("kubernetes.io/metadata.name", "kube-system".into())]))])),
        ("podSelector", map([("matchLabels", map([("k8s-app", "kube-dns".into())]))])),
    ]);
    let mut egress = vec![map([("to", list([kube_dns])), ("ports", list([port("UDP", 53), tcp(53)]))])];
    for callee in &rs.callees {
        if let Some(port) = &callee.port {
            egress.push(rule("to", vec![pods(&callee.name)], vec![tcp(port.container())]));
        }
    }
    let facts = &rs.envs[&pl.env];
    let mut cloud_ports: Vec<u16> = Vec::new();
    for (k, (u, provisioner)) in rs.spec.uses.iter().zip(&facts.provisioners).enumerate() {
        if r.types.get(&u.ty.value).is_none() {
            continue;
        }
        let port = facts.resource_ports[k];
        match provisioner {
            Provisioner::InCluster => {
                let name = backing.in_cluster[k].clone().unwrap_or_else(|| naming::object_name(&rs.name, &u.name.value));
                egress.push(rule("to", vec![pods(&name)], vec![tcp(port)]));
            }
            Provisioner::Aws => cloud_ports.push(port),
        }
    }
    if !cloud_ports.is_empty() {
        // Managed services live outside the cluster at addresses known only after apply;
        // allow their ports, plus HTTPS for the AWS APIs (STS included, which IRSA calls).
        cloud_ports.push(443);
        cloud_ports.sort_unstable();
        cloud_ports.dedup();
        egress.push(rule("to", vec![ip_block("0.0.0.0/0")], cloud_ports.iter().map(|p| tcp(*p)).collect()));
        // The EKS Pod Identity agent on the node hands out the role's credentials; with IRSA
        // nothing listens there.
        if r.platform.identity == Identity::PodIdentity {
            egress.push(rule("to", vec![ip_block("169.254.170.23/32")], vec![tcp(80)]));
        }
    }
    egress
}

//! `platc graph`: the IR graph as Graphviz dot, Mermaid or JSON.

use std::fmt::Write;

use petgraph::visit::EdgeRef;

use super::{EdgeKind, Graph, Node};
use crate::model::Workspace;

/// An output format for the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Graphviz `dot`.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// Nodes and edges as JSON.
    Json,
}

/// A node's stable id and its label (environments are left out: every service is deployed to
/// every environment, which would only add noise).
fn node_id(ws: &Workspace, n: &Node) -> Option<(String, String, &'static str)> {
    let svc = |i: usize| ws.services[i].name.value.as_str();
    Some(match n {
        Node::Service(i) => (format!("service:{}", svc(*i)), svc(*i).to_string(), "service"),
        Node::Process(i, j) => {
            let p = &ws.services[*i].processes[*j];
            (format!("process:{}/{}", svc(*i), p.name.value), p.name.value.clone(), "process")
        }
        Node::Resource(i, j) => {
            let u = &ws.services[*i].uses[*j];
            (format!("resource:{}/{}", svc(*i), u.name.value), format!("{} {}", u.ty.value, u.name.value), "resource")
        }
        Node::Route(i, j) => {
            let r = &ws.services[*i].routes[*j];
            (format!("route:{}{}", svc(*i), r.path.value), r.path.value.clone(), if r.public { "public-route" } else { "internal-route" })
        }
        Node::Secret(i, j) => {
            let x = &ws.services[*i].secrets[*j];
            (format!("secret:{}/{}", svc(*i), x.name.value), x.name.value.clone(), "secret")
        }
        Node::Environment(_) => return None,
    })
}

fn edge_name(k: EdgeKind) -> &'static str {
    match k {
        EdgeKind::Owns => "owns",
        EdgeKind::Uses => "uses",
        EdgeKind::Calls => "calls",
        EdgeKind::DependsOn => "depends-on",
        EdgeKind::Deploys => "deploys",
    }
}

/// Renders the graph deterministically (nodes and edges sorted by id).
pub fn render(ws: &Workspace, g: &Graph, format: GraphFormat) -> String {
    let mut nodes: Vec<(String, String, &str)> = g.graph.node_weights().filter_map(|n| node_id(ws, n)).collect();
    nodes.sort();
    let mut edges: Vec<(String, String, &str)> = g
        .graph
        .edge_references()
        .filter_map(|e| {
            let (a, _, _) = node_id(ws, &g.graph[e.source()])?;
            let (b, _, _) = node_id(ws, &g.graph[e.target()])?;
            Some((a, b, edge_name(e.weight().kind)))
        })
        .collect();
    edges.sort();
    edges.dedup();
    let mut out = String::new();
    match format {
        GraphFormat::Dot => {
            out.push_str("digraph platc {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
            for (id, label, kind) in &nodes {
                let shape = match *kind {
                    "service" => "box",
                    "resource" => "cylinder",
                    "secret" => "note",
                    _ => "ellipse",
                };
                let _ = writeln!(out, "  {} [label={}, shape={shape}];", quote(id), quote(label));
            }
            for (a, b, kind) in &edges {
                let style = match *kind {
                    "depends-on" => ", style=bold",
                    "owns" => ", style=dashed",
                    _ => "",
                };
                let _ = writeln!(out, "  {} -> {} [label={}{style}];", quote(a), quote(b), quote(kind));
            }
            out.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            let ids: Vec<&String> = nodes.iter().map(|(id, _, _)| id).collect();
            let short = |id: &String| format!("n{}", ids.iter().position(|x| *x == id).unwrap_or(0));
            for (id, label, kind) in &nodes {
                let text = label.replace('"', "#quot;");
                let shape = match *kind {
                    "service" => format!("[\"{text}\"]"),
                    "resource" => format!("[(\"{text}\")]"),
                    _ => format!("(\"{text}\")"),
                };
                let _ = writeln!(out, "  {}{shape}", short(id));
            }
            for (a, b, kind) in &edges {
                let arrow = if *kind == "depends-on" {
                    "==>"
                } else if *kind == "owns" {
                    "-.->"
                } else {
                    "-->"
                };
                let _ = writeln!(out, "  {} {arrow}|{kind}| {}", short(a), short(b));
            }
        }
        GraphFormat::Json => {
            let v = serde_json::json!({
                "nodes": nodes.iter().map(|(id, label, kind)| serde_json::json!({"id": id, "label": label, "kind": kind})).collect::<Vec<_>>(),
                "edges": edges.iter().map(|(a, b, kind)| serde_json::json!({"from": a, "to": b, "kind": kind})).collect::<Vec<_>>(),
            });
            out = serde_json::to_string_pretty(&v).unwrap_or_default();
            out.push('\n');
        }
    }
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

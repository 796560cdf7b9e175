//! The IR graph: services, their processes, backing resources, routes, secrets and
//! environments as nodes; `uses`, `calls` and start-up `depends-on` as edges (petgraph).
//!
//! The graph answers the questions the backends ask: who calls a service (NetworkPolicy
//! ingress), whom it calls (egress and URL injection), in which order services start (Argo CD
//! sync waves, Flux `dependsOn`), and whether start-up dependencies form a cycle.

mod render;

pub use render::{render, GraphFormat};

use std::collections::HashMap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::diagnostics::{codes, Diagnostic, Diagnostics, Label};
use crate::model::{Reference, Workspace};
use crate::source::{FileId, Span};

/// A node of the IR graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A service, by index into `Workspace::services`.
    Service(usize),
    /// A worker or cron process of a service: (service, process index).
    Process(usize, usize),
    /// A backing resource: (service, index into its `uses`).
    Resource(usize, usize),
    /// A route of a service: (service, route index).
    Route(usize, usize),
    /// A secret reference of a service: (service, secret index).
    Secret(usize, usize),
    /// An environment of the platform, by name.
    Environment(String),
}

/// What an edge means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// Service -> its process, route or secret.
    Owns,
    /// Service -> backing resource.
    Uses,
    /// Service -> service it sends requests to (declared with `calls` or implied by a
    /// `${service.NAME...}` reference).
    Calls,
    /// Service -> service that must be running first.
    DependsOn,
    /// Environment -> service deployed in it.
    Deploys,
}

/// An edge with the place in the specs that created it (for diagnostics).
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    /// What the edge means.
    pub kind: EdgeKind,
    /// The file that declared it.
    pub file: FileId,
    /// The declaration in that file.
    pub span: Span,
}

/// The lowered graph of a workspace.
#[derive(Debug)]
pub struct Graph {
    /// Services, processes, resources, routes, secrets and environments as nodes, joined by
    /// [`Edge`]s.
    pub graph: DiGraph<Node, Edge>,
    /// Service index -> its node.
    pub services: Vec<NodeIndex>,
    /// Start-up wave per service (0 = no dependencies); only meaningful without cycles.
    pub waves: Vec<u32>,
}

/// W0107 for every service with an SLO and no port Prometheus scrapes
/// ([`crate::resolve::roles::metrics_port`]): its recording rules, burn-rate alerts and
/// dashboard would read series that never exist, and the alerts would never fire.
fn report_unscraped_slos(ws: &Workspace, diags: &mut Diagnostics) {
    for s in &ws.services {
        let Some(slo) = &s.slo else { continue };
        if crate::resolve::roles::metrics_port(s).is_some() {
            continue;
        }
        let only = if s.ports.is_empty() {
            "it has no port".to_string()
        } else {
            let mut protocols: Vec<&str> = s.ports.iter().map(|p| p.protocol.as_str()).collect();
            protocols.dedup();
            format!("it has no HTTP port, only {}", protocols.join(" and "))
        };
        diags.push(
            Diagnostic::new(
                codes::UNSCRAPED_SLO,
                Label::new(s.file, slo.span, "computed from metrics nothing scrapes"),
                format!("the SLO of `{}` reads metrics that Prometheus never scrapes: {only}", s.name.value),
            )
            .with_help("serve the metrics over HTTP and declare that port: port metrics 9102 protocol=http (Prometheus scrapes /metrics there)"),
        );
    }
}

impl Graph {
    /// Builds the graph. Reports E0701 for every start-up dependency cycle and E0413 for every
    /// SLO whose port is ambiguous.
    pub fn build(ws: &Workspace, diags: &mut Diagnostics) -> Graph {
        let mut graph = DiGraph::new();
        let mut services = Vec::with_capacity(ws.services.len());
        let mut by_name: HashMap<&str, usize> = HashMap::with_capacity(ws.services.len());
        for (i, s) in ws.services.iter().enumerate() {
            services.push(graph.add_node(Node::Service(i)));
            // The first definition wins, as in the checker's duplicate report.
            by_name.entry(s.name.value.as_str()).or_insert(i);
        }
        let env_nodes: Vec<NodeIndex> = ws.platform.environments.keys().map(|e| graph.add_node(Node::Environment(e.clone()))).collect();
        for (i, s) in ws.services.iter().enumerate() {
            let me = services[i];
            let own = |graph: &mut DiGraph<Node, Edge>, node: Node, span: Span, kind: EdgeKind| {
                let n = graph.add_node(node);
                graph.add_edge(me, n, Edge { kind, file: s.file, span });
            };
            for (j, p) in s.processes.iter().enumerate() {
                own(&mut graph, Node::Process(i, j), p.span, EdgeKind::Owns);
            }
            for (j, u) in s.uses.iter().enumerate() {
                own(&mut graph, Node::Resource(i, j), u.span, EdgeKind::Uses);
            }
            for (j, r) in s.routes.iter().enumerate() {
                own(&mut graph, Node::Route(i, j), r.span, EdgeKind::Owns);
            }
            for (j, x) in s.secrets.iter().enumerate() {
                own(&mut graph, Node::Secret(i, j), x.span, EdgeKind::Owns);
            }
            for &env in &env_nodes {
                graph.add_edge(env, me, Edge { kind: EdgeKind::Deploys, file: ws.platform.file, span: ws.platform.name.span });
            }
            let mut called: Vec<usize> = Vec::new();
            let mut call = |graph: &mut DiGraph<Node, Edge>, name: &str, span: Span, kind: EdgeKind| {
                let Some(&j) = by_name.get(name) else { return };
                if j == i {
                    return;
                }
                if kind == EdgeKind::Calls {
                    if called.contains(&j) {
                        return;
                    }
                    called.push(j);
                }
                graph.add_edge(me, services[j], Edge { kind, file: s.file, span });
            };
            for c in &s.calls {
                call(&mut graph, &c.service.value, c.service.span, EdgeKind::Calls);
            }
            let env_refs = s.env.iter().chain(s.overrides.iter().flat_map(|o| o.env.iter())).chain(s.processes.iter().flat_map(|p| p.env.iter()));
            for e in env_refs {
                for r in e.value.refs() {
                    if let Reference::Service { name, .. } = &r.value {
                        call(&mut graph, name, r.span, EdgeKind::Calls);
                    }
                }
            }
            for d in &s.depends_on {
                call(&mut graph, &d.value, d.span, EdgeKind::DependsOn);
            }
        }
        let mut g = Graph { graph, services, waves: vec![0; ws.services.len()] };
        g.report_ambiguous_slo_ports(ws, diags);
        report_unscraped_slos(ws, diags);
        if g.report_cycles(ws, diags) {
            g.compute_waves(ws);
        }
        g
    }

    /// E0413 for every service whose SLO cannot tell which port it measures: the first tier of
    /// its traffic reaches an HTTP and a gRPC port ([`crate::resolve::roles::measured_port`] holds
    /// the rule). Reported with the graph, which knows the callers, so that `platc check` finds it.
    fn report_ambiguous_slo_ports(&self, ws: &Workspace, diags: &mut Diagnostics) {
        use crate::resolve::roles::{called_ports, measured_port, Tier};
        for (i, s) in ws.services.iter().enumerate() {
            let Some(slo) = &s.slo else { continue };
            let Err(a) = measured_port(s, &called_ports(s, self.callers(i).into_iter().map(|j| &ws.services[j]))) else { continue };
            let names: Vec<String> = a.ports.iter().map(|&k| format!("`{}` ({})", s.ports[k].name.value, s.ports[k].protocol.as_str())).collect();
            let traffic = match a.tier {
                Tier::Public => "its public routes reach",
                Tier::Calls => "the services that call it reach",
                Tier::Internal => "its routes reach",
            };
            let message = format!("the SLO of `{}` cannot tell which port it measures: {traffic} {}", s.name.value, names.join(" and "));
            let mut d = Diagnostic::new(codes::AMBIGUOUS_SLO_PORT, Label::new(s.file, slo.span, "measures one port"), message);
            for &k in &a.ports {
                d = d.with_label(Label::new(s.file, s.ports[k].name.span, format!("{} port", s.ports[k].protocol.as_str())));
            }
            let help = "HTTP and gRPC requests are counted by different metrics: send this traffic to ports of one protocol, or move the other port into a service of its own with its own SLO";
            diags.push(d.with_help(help));
        }
    }

    /// Services that call service `i` (indexes), sorted.
    pub fn callers(&self, i: usize) -> Vec<usize> {
        self.neighbors(i, Direction::Incoming, EdgeKind::Calls)
    }

    /// Services that service `i` calls (indexes), sorted.
    pub fn callees(&self, i: usize) -> Vec<usize> {
        self.neighbors(i, Direction::Outgoing, EdgeKind::Calls)
    }

    /// Services that service `i` needs running first (indexes), sorted.
    pub fn dependencies(&self, i: usize) -> Vec<usize> {
        self.neighbors(i, Direction::Outgoing, EdgeKind::DependsOn)
    }

    fn neighbors(&self, i: usize, dir: Direction, kind: EdgeKind) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .graph
            .edges_directed(self.services[i], dir)
            .filter(|e| e.weight().kind == kind)
            .filter_map(|e| {
                let other = if dir == Direction::Outgoing { e.target() } else { e.source() };
                match self.graph[other] {
                    Node::Service(j) => Some(j),
                    _ => None,
                }
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Reports each strongly connected component of depends-on edges with more than one
    /// member as one E0701 naming every member and labelling every edge of the cycle. Returns
    /// true when there is no cycle.
    fn report_cycles(&self, ws: &Workspace, diags: &mut Diagnostics) -> bool {
        let deps = self.graph.filter_map(|_, n| Some(n.clone()), |_, e| (e.kind == EdgeKind::DependsOn).then_some(*e));
        let mut ok = true;
        let mut sccs = tarjan_scc(&deps);
        // Stable order: by the first member's service index.
        for scc in &mut sccs {
            scc.sort_by_key(|n| match deps[*n] {
                Node::Service(i) => i,
                _ => usize::MAX,
            });
        }
        sccs.sort_by_key(|scc| scc.first().map(|n| n.index()));
        for scc in sccs.into_iter().filter(|scc| scc.len() > 1) {
            ok = false;
            let members: Vec<usize> = scc
                .iter()
                .filter_map(|n| match deps[*n] {
                    Node::Service(i) => Some(i),
                    _ => None,
                })
                .collect();
            let names: Vec<String> = members.iter().map(|&i| format!("`{}`", ws.services[i].name.value)).collect();
            let mut edges: Vec<&Edge> = deps.edge_references().filter(|e| scc.contains(&e.source()) && scc.contains(&e.target())).map(|e| e.weight()).collect();
            edges.sort_by_key(|e| (e.file, e.span.start));
            let Some((first, rest)) = edges.split_first() else { continue };
            let label_for = |e: &Edge| {
                let from = ws.services.iter().find(|s| s.file == e.file).map(|s| s.name.value.as_str()).unwrap_or("?");
                format!("`{from}` depends on this")
            };
            let mut d = Diagnostic::new(codes::DEPENDENCY_CYCLE, Label::new(first.file, first.span, label_for(first)), format!("start-up dependency cycle between {}", names.join(", ")))
                .with_help("services in a cycle would wait for each other forever: remove one `depends-on` (a `calls` edge does not order start-up)");
            for e in rest {
                d = d.with_label(Label::new(e.file, e.span, label_for(e)));
            }
            diags.push(d);
        }
        ok
    }

    /// Wave of each service: 0 without dependencies, else one more than its deepest
    /// dependency. Requires an acyclic depends-on relation.
    fn compute_waves(&mut self, ws: &Workspace) {
        let n = ws.services.len();
        let deps: Vec<Vec<usize>> = (0..n).map(|i| self.dependencies(i)).collect();
        let mut wave: Vec<Option<u32>> = vec![None; n];
        fn visit(i: usize, deps: &[Vec<usize>], wave: &mut [Option<u32>]) -> u32 {
            if let Some(w) = wave[i] {
                return w;
            }
            let w = deps[i].iter().map(|&d| visit(d, deps, wave) + 1).max().unwrap_or(0);
            wave[i] = Some(w);
            w
        }
        for i in 0..n {
            visit(i, &deps, &mut wave);
        }
        self.waves = wave.into_iter().map(|w| w.unwrap_or(0)).collect();
    }
}

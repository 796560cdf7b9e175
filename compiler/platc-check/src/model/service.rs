//! The typed model of one `service.kdl`.

use indexmap::IndexMap;

use super::{Cpu, Duration, Memory, Percent};
use crate::source::{FileId, Span, Spanned};

/// One service: a deployable unit with a web process and optional extra processes.
#[derive(Debug, Clone)]
pub struct Service {
    pub file: FileId,
    pub name: Spanned<String>,
    pub owner: Option<Spanned<String>>,
    pub description: Option<String>,
    pub language: Option<Spanned<Language>>,
    /// Image repository without a tag (the tag comes from CI).
    pub image: Option<Spanned<String>>,
    pub ports: Vec<Port>,
    pub routes: Vec<Route>,
    pub health: Health,
    pub env: Vec<EnvVar>,
    pub secrets: Vec<Secret>,
    pub resources: ResourceSpec,
    pub scale: ScaleSpec,
    pub uses: Vec<Uses>,
    pub calls: Vec<Call>,
    /// Services that must be up before this one starts (start-up ordering).
    pub depends_on: Vec<Spanned<String>>,
    pub processes: Vec<Process>,
    pub slo: Option<Slo>,
    pub alerts: Vec<Alert>,
    pub overrides: Vec<EnvOverride>,
    pub patches: Vec<Patch>,
    pub security: Security,
}

impl Service {
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name.value == name)
    }
}

/// Programming language: picks the CI pipeline and the Dockerfile scaffold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    Go,
    Rust,
    Node,
    Python,
    Java,
}

impl Language {
    pub const ALL: [(&'static str, Language); 5] = [("go", Language::Go), ("rust", Language::Rust), ("node", Language::Node), ("python", Language::Python), ("java", Language::Java)];

    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, l)| *l == self).map(|(s, _)| *s).unwrap_or("")
    }
}

/// Wire protocol of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Http,
    Grpc,
    Tcp,
}

impl Protocol {
    pub const ALL: [(&'static str, Protocol); 3] = [("http", Protocol::Http), ("grpc", Protocol::Grpc), ("tcp", Protocol::Tcp)];

    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, l)| *l == self).map(|(s, _)| *s).unwrap_or("")
    }
}

/// `port NAME NUMBER protocol=...`
#[derive(Debug, Clone)]
pub struct Port {
    pub name: Spanned<String>,
    pub number: Spanned<u16>,
    pub protocol: Protocol,
}

/// `route PATH port=NAME host=HOST public=BOOL`
#[derive(Debug, Clone)]
pub struct Route {
    pub path: Spanned<String>,
    /// Explicit host; `None` means the platform derives `NAME.ENV.DOMAIN`.
    pub host: Option<Spanned<String>>,
    pub port: Spanned<String>,
    pub public: bool,
    pub span: Span,
}

/// Health probes of the web process.
#[derive(Debug, Clone, Default)]
pub struct Health {
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
    pub startup: Option<Probe>,
}

/// What a probe checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeCheck {
    Http { path: String },
    Grpc,
    Tcp,
}

/// One health probe with its timings.
#[derive(Debug, Clone)]
pub struct Probe {
    pub check: ProbeCheck,
    pub port: Spanned<String>,
    pub initial_delay: Option<Duration>,
    pub period: Option<Duration>,
    pub timeout: Option<Duration>,
    pub failure_threshold: Option<u32>,
    pub span: Span,
}

/// `env NAME=VALUE`: a value that may contain `${...}` references.
#[derive(Debug, Clone)]
pub struct EnvVar {
    pub name: Spanned<String>,
    pub value: Template,
    pub span: Span,
}

/// A string with `${...}` references in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

impl Template {
    /// The references in this template.
    pub fn refs(&self) -> impl Iterator<Item = &Spanned<Reference>> {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Ref(r) => Some(r),
            TemplatePart::Text(_) => None,
        })
    }

    /// The literal text when the template has no references.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                TemplatePart::Text(t) => out.push_str(t),
                TemplatePart::Ref(_) => return None,
            }
        }
        Some(out)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Text(String),
    Ref(Spanned<Reference>),
}

/// What a `${...}` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `${resources.NAME.OUTPUT}`
    Resource { name: String, output: String },
    /// `${service.NAME.ATTR}` with ATTR one of [`SERVICE_ATTRS`].
    Service { name: String, attr: String },
    /// `${platform.KEY}` with KEY one of [`PLATFORM_VALUES`].
    Platform { key: String },
}

/// Attributes of another service that `${service.NAME.ATTR}` can use.
pub const SERVICE_ATTRS: [&str; 3] = ["url", "host", "port"];

/// Platform values that `${platform.KEY}` can use.
pub const PLATFORM_VALUES: [&str; 5] = ["name", "domain", "region", "environment", "registry"];

/// `secret NAME from=PATH key=KEY`: a reference into the platform's secret store.
#[derive(Debug, Clone)]
pub struct Secret {
    pub name: Spanned<String>,
    pub from: Spanned<String>,
    pub key: Option<Spanned<String>>,
    pub span: Span,
}

/// CPU and memory requests and limits; `None` means the platform default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceSpec {
    pub cpu: Option<Spanned<Cpu>>,
    pub memory: Option<Spanned<Memory>>,
    pub cpu_limit: Option<Spanned<Cpu>>,
    pub memory_limit: Option<Spanned<Memory>>,
}

/// Replica bounds and autoscaling targets; `None` means the platform default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScaleSpec {
    pub min: Option<Spanned<u32>>,
    pub max: Option<Spanned<u32>>,
    pub cpu: Option<Spanned<Percent>>,
    pub memory: Option<Spanned<Percent>>,
}

/// `uses TYPE NAME key=value...`: a backing resource.
#[derive(Debug, Clone)]
pub struct Uses {
    pub ty: Spanned<String>,
    pub name: Spanned<String>,
    /// Parameters after defaults were applied, in the type's declaration order.
    pub params: IndexMap<String, ParamValue>,
    pub span: Span,
}

/// A checked resource parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    String(String),
    Int(i64),
    Bool(bool),
    Memory(Memory),
    Duration(Duration),
}

/// `calls SERVICE port=NAME`: this service sends requests to another one.
#[derive(Debug, Clone)]
pub struct Call {
    pub service: Spanned<String>,
    /// The callee's port; `None` means its first port.
    pub port: Option<Spanned<String>>,
    pub span: Span,
}

/// A non-web process: a long-running worker or a cron job.
#[derive(Debug, Clone)]
pub struct Process {
    pub name: Spanned<String>,
    pub kind: ProcessKind,
    pub command: Vec<String>,
    pub env: Vec<EnvVar>,
    pub resources: ResourceSpec,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProcessKind {
    Worker { replicas: u32 },
    Cron { schedule: String, concurrency: CronConcurrency },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CronConcurrency {
    Allow,
    Forbid,
    Replace,
}

/// Service level objectives.
#[derive(Debug, Clone)]
pub struct Slo {
    pub availability: Option<Spanned<Percent>>,
    /// Latency objective: the percentile (e.g. 99) and its threshold.
    pub latency: Option<LatencySlo>,
    /// The SLO window; `None` means the platform's `defaults { slo-window }` (30d built in).
    pub window: Option<Duration>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct LatencySlo {
    pub percentile: u8,
    pub threshold: Spanned<Duration>,
}

/// A raw Prometheus alert written in the spec.
#[derive(Debug, Clone)]
pub struct Alert {
    pub name: Spanned<String>,
    pub expr: Spanned<String>,
    pub for_: Option<Duration>,
    pub severity: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub span: Span,
}

/// `environment NAME { ... }`: values that replace the base ones in one environment.
#[derive(Debug, Clone)]
pub struct EnvOverride {
    pub environment: Spanned<String>,
    pub resources: ResourceSpec,
    pub scale: ScaleSpec,
    pub env: Vec<EnvVar>,
    pub span: Span,
}

/// Kinds of Kubernetes object platc generates: what `patch KIND` may name (checked against this
/// list) and `platc render --kind` may select.
pub const OBJECT_KINDS: &[&str] = &[
    "ServiceAccount",
    "ConfigMap",
    "ExternalSecret",
    "Deployment",
    "Service",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "Ingress",
    "HTTPRoute",
    "ServiceMonitor",
    "CronJob",
    "PrometheusRule",
    "StatefulSet",
    "Secret",
];

/// `patch KIND name=NAME merge=JSON | json=JSON`: the escape hatch, applied to a generated
/// object after emission.
#[derive(Debug, Clone)]
pub struct Patch {
    pub kind: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub op: PatchOp,
    /// Only in this environment, when set.
    pub environment: Option<Spanned<String>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PatchOp {
    /// RFC 7386 JSON merge patch.
    Merge(serde_json::Value),
    /// RFC 6902 JSON patch (a list of operations).
    Json(serde_json::Value),
}

/// Explicit loosening of secure defaults. Each `true` is a deliberate choice in the spec, and a
/// platform policy can forbid it.
#[derive(Debug, Clone, Default)]
pub struct Security {
    pub run_as_root: Option<Spanned<bool>>,
    pub writable_root_fs: Option<Spanned<bool>>,
    pub service_account_token: Option<Spanned<bool>>,
}

//! The typed model of one `service.kdl`.

use indexmap::IndexMap;

use super::{Cpu, Duration, Memory, Percent};
use crate::source::{FileId, Span, Spanned};

/// One service: a deployable unit with a web process and optional extra processes.
#[derive(Debug, Clone)]
pub struct Service {
    /// The service.kdl's file.
    pub file: FileId,
    /// The service's name: that of its Helm release and of its main process's objects.
    pub name: Spanned<String>,
    /// The owning team.
    pub owner: Option<Spanned<String>>,
    /// One line of documentation (chart description, dashboard).
    pub description: Option<String>,
    /// Picks the CI pipeline and the Dockerfile scaffold.
    pub language: Option<Spanned<Language>>,
    /// Image repository without a tag (the tag comes from CI), or a pinned third-party image
    /// when `build` is false.
    pub image: Option<Spanned<String>>,
    /// `image ... build=#false`: CI does not build this image, the spec pins its tag; the
    /// span is the property's. `None`: CI builds it.
    pub prebuilt: Option<Span>,
    /// The ports it listens on, in the order written (the first is the default target).
    pub ports: Vec<Port>,
    /// HTTP routes from outside the service.
    pub routes: Vec<Route>,
    /// Probes of the web process.
    pub health: Health,
    /// Environment variables of the web process, in the order written.
    pub env: Vec<EnvVar>,
    /// Environment variables read from the secret store.
    pub secrets: Vec<Secret>,
    /// Requests and limits of the web process as written (before defaults and overrides).
    pub resources: ResourceSpec,
    /// Replicas and autoscaling of the web process as written (before defaults and overrides).
    pub scale: ScaleSpec,
    /// The backing resources it owns.
    pub uses: Vec<Uses>,
    /// The services it sends requests to: network paths, no start-up order.
    pub calls: Vec<Call>,
    /// Services that must be up before this one starts (start-up ordering).
    pub depends_on: Vec<Spanned<String>>,
    /// Its workers and cron jobs.
    pub processes: Vec<Process>,
    /// Its service level objectives, when it has any.
    pub slo: Option<Slo>,
    /// Hand-written Prometheus alerts, emitted next to the generated ones.
    pub alerts: Vec<Alert>,
    /// Per-environment values, at most one block per environment.
    pub overrides: Vec<EnvOverride>,
    /// Changes to generated objects (the escape hatch).
    pub patches: Vec<Patch>,
    /// The secure defaults it loosens.
    pub security: Security,
    /// Policies of the platform it is exempt from, each with its reason.
    pub waivers: Vec<PolicyWaiver>,
    /// `shutdown grace="45s"`: how long its processes get between SIGTERM and SIGKILL; `None`:
    /// Kubernetes' 30 seconds.
    pub shutdown_grace: Option<Spanned<Duration>>,
}

/// `waive POLICY reason="..." until="YYYY-MM-DD"`: the service is exempt from one policy of the
/// platform, for a reason a reviewer reads, until a date if one is given.
#[derive(Debug, Clone)]
pub struct PolicyWaiver {
    /// The policy's name, one of [`POLICY_NAMES`].
    pub policy: Spanned<String>,
    /// Why the service may break it (never empty).
    pub reason: String,
    /// The last day the waiver applies (a day number, `platc_syntax::date`), and its text.
    pub until: Option<Spanned<(i64, String)>>,
    /// The `waive` node's head.
    pub span: Span,
}

impl PolicyWaiver {
    /// Whether it still applies on day `today`.
    pub fn applies(&self, today: i64) -> bool {
        self.until.as_ref().is_none_or(|u| u.value.0 >= today)
    }
}

impl Service {
    /// The port named `name`.
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name.value == name)
    }
}

/// Programming language: picks the CI pipeline, the Dockerfile template and the scaffold. A
/// language is data: the stdlib (with its overlays) defines one per `ci/languages/NAME.yaml`,
/// next to `docker/NAME.Dockerfile.hbs` and `scaffolds/NAME/` (see docs/stdlib.md), so a
/// platform team adds one without rebuilding platc. Check accepts only the names the stdlib
/// defines ([`crate::stdlib::Stdlib::languages`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Language(String);

impl Language {
    /// A language by the name `language` writes it with (one of the stdlib's: the caller checks).
    pub fn new(name: impl Into<String>) -> Self {
        Language(name.into())
    }

    /// The name `language` writes it with.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Wire protocol of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// HTTP (`appProtocol: http`).
    Http,
    /// gRPC (`appProtocol: grpc`).
    Grpc,
    /// Plain TCP: no requests an SLO could count.
    Tcp,
}

impl Protocol {
    /// Each protocol with the name `protocol=` writes it with.
    pub const ALL: [(&'static str, Protocol); 3] = [("http", Protocol::Http), ("grpc", Protocol::Grpc), ("tcp", Protocol::Tcp)];

    /// The name `protocol=` writes it with.
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, l)| *l == self).map(|(s, _)| *s).unwrap_or("")
    }
}

/// `port NAME NUMBER protocol=...`
#[derive(Debug, Clone)]
pub struct Port {
    /// The port's name, unique in the service: what routes, probes and calls refer to.
    pub name: Spanned<String>,
    /// The Service's port: what callers, routes and `${service.NAME.port}` use (1 to 65535).
    pub number: Spanned<u16>,
    /// `target=`: the port the container listens on, when it differs from `number`.
    pub target: Option<Spanned<u16>>,
    /// The wire protocol (default: the name when it is one, else HTTP).
    pub protocol: Protocol,
}

impl Port {
    /// The port the container listens on: `target=`, else the Service's port. Probes, the
    /// container's `ports`, NetworkPolicies (which see pod ports) and `EXPOSE` use it.
    pub fn container(&self) -> u16 {
        self.target.as_ref().map_or(self.number.value, |t| t.value)
    }
}

/// `route PATH port=NAME host=HOST public=BOOL`
#[derive(Debug, Clone)]
pub struct Route {
    /// The path prefix, starting with `/`.
    pub path: Spanned<String>,
    /// Explicit host; `None` means the platform derives `NAME.ENV.DOMAIN`.
    pub host: Option<Spanned<String>>,
    /// The name of the port it sends traffic to; empty (spanning the route) when it names none,
    /// which means the first port.
    pub port: Spanned<String>,
    /// On the internet-facing ingress or gateway; otherwise reachable only inside the network.
    pub public: bool,
    /// The `route` node's head, for diagnostics.
    pub span: Span,
}

/// Health probes of the web process.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// Traffic is sent to a pod only while this probe passes.
    pub readiness: Option<Probe>,
    /// The container is restarted when this probe keeps failing.
    pub liveness: Option<Probe>,
    /// The other probes wait until this one has passed once (slow starters).
    pub startup: Option<Probe>,
}

/// What a probe checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeCheck {
    /// An HTTP GET that must answer 2xx or 3xx.
    Http {
        /// The path requested.
        path: String,
    },
    /// The gRPC health protocol.
    Grpc,
    /// The port accepts a connection.
    Tcp,
    /// A command run in the container exits 0: for processes that listen on no port.
    Exec {
        /// The program and its arguments (no shell).
        command: Vec<String>,
    },
}

/// One health probe with its timings.
#[derive(Debug, Clone)]
pub struct Probe {
    /// What it checks.
    pub check: ProbeCheck,
    /// `header NAME="VALUE"` children of an HTTP probe: request headers it sends, in order.
    pub headers: Vec<(String, String)>,
    /// The port probed; empty when the probe names none, which means the first port of the check's
    /// protocol, else the first port.
    pub port: Spanned<String>,
    /// Wait before the first probe, when written.
    pub initial_delay: Option<Duration>,
    /// Time between probes, when written.
    pub period: Option<Duration>,
    /// How long one probe may take, when written (at most the period).
    pub timeout: Option<Duration>,
    /// Failures in a row before the probe counts as failed, when written.
    pub failure_threshold: Option<u32>,
    /// The probe's node head, or its property in the short form `health readiness="/ready"`.
    pub span: Span,
}

/// `env NAME=VALUE`: a value that may contain `${...}` references.
#[derive(Debug, Clone)]
pub struct EnvVar {
    /// The variable's name.
    pub name: Spanned<String>,
    /// Its value, references included.
    pub value: Template,
    /// The whole `NAME=VALUE` property.
    pub span: Span,
}

/// A string with `${...}` references in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// Literal text and references, in order.
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

/// A piece of a [`Template`].
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// A reference, spanning its `${...}`.
    Ref(Spanned<Reference>),
}

/// What a `${...}` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `${resources.NAME.OUTPUT}`
    Resource {
        /// The resource's name in `uses`.
        name: String,
        /// One of the outputs of its type.
        output: String,
    },
    /// `${service.NAME.ATTR}` with ATTR one of [`SERVICE_ATTRS`].
    Service {
        /// The other service's name.
        name: String,
        /// One of [`SERVICE_ATTRS`].
        attr: String,
    },
    /// `${platform.KEY}` with KEY one of [`PLATFORM_VALUES`].
    Platform {
        /// One of [`PLATFORM_VALUES`].
        key: String,
    },
}

/// Attributes of another service that `${service.NAME.ATTR}` can use.
pub const SERVICE_ATTRS: [&str; 3] = ["url", "host", "port"];

/// Platform values that `${platform.KEY}` can use.
pub const PLATFORM_VALUES: [&str; 5] = ["name", "domain", "region", "environment", "registry"];

/// `secret NAME from=PATH key=KEY`: a reference into the platform's secret store.
#[derive(Debug, Clone)]
pub struct Secret {
    /// The environment variable it sets.
    pub name: Spanned<String>,
    /// The secret's path in the platform's secret store.
    pub from: Spanned<String>,
    /// The property within that secret; `None`: the whole secret value.
    pub key: Option<Spanned<String>>,
    /// The `secret` node's head, for diagnostics.
    pub span: Span,
}

/// CPU and memory requests and limits; `None` means the platform default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceSpec {
    /// `cpu`: the CPU request.
    pub cpu: Option<Spanned<Cpu>>,
    /// `memory`: the memory request.
    pub memory: Option<Spanned<Memory>>,
    /// `cpu-limit`: the CPU limit.
    pub cpu_limit: Option<Spanned<Cpu>>,
    /// `memory-limit`: the memory limit.
    pub memory_limit: Option<Spanned<Memory>>,
}

/// Replica bounds and autoscaling targets; `None` means the platform default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScaleSpec {
    /// `min`: the replicas, and the autoscaler's minimum.
    pub min: Option<Spanned<u32>>,
    /// `max`: the autoscaler's maximum.
    pub max: Option<Spanned<u32>>,
    /// `cpu`: the autoscaler's target of average CPU utilization of the requests.
    pub cpu: Option<Spanned<Percent>>,
    /// `memory`: the autoscaler's target of average memory utilization.
    pub memory: Option<Spanned<Percent>>,
}

impl ResourceSpec {
    /// Each field given here, else `base`'s: a spec written over the defaults.
    pub fn or(self, base: ResourceSpec) -> ResourceSpec {
        ResourceSpec { cpu: self.cpu.or(base.cpu), memory: self.memory.or(base.memory), cpu_limit: self.cpu_limit.or(base.cpu_limit), memory_limit: self.memory_limit.or(base.memory_limit) }
    }
}

impl ScaleSpec {
    /// Each field given here, else `base`'s: a spec written over the defaults.
    pub fn or(self, base: ScaleSpec) -> ScaleSpec {
        ScaleSpec { min: self.min.or(base.min), max: self.max.or(base.max), cpu: self.cpu.or(base.cpu), memory: self.memory.or(base.memory) }
    }
}

/// `uses TYPE NAME key=value...`: a backing resource.
#[derive(Debug, Clone)]
pub struct Uses {
    /// The resource type's name.
    pub ty: Spanned<String>,
    /// The resource's name, unique in the service.
    pub name: Spanned<String>,
    /// Parameters after defaults were applied, in the type's declaration order.
    pub params: IndexMap<String, ParamValue>,
    /// The `uses` node's head, for diagnostics.
    pub span: Span,
}

/// A checked resource parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// The value of a `string` parameter.
    String(String),
    /// The value of an `int` parameter.
    Int(i64),
    /// The value of a `bool` parameter.
    Bool(bool),
    /// The value of a `memory` parameter.
    Memory(Memory),
    /// The value of a `duration` parameter.
    Duration(Duration),
}

/// `calls SERVICE port=NAME`: this service sends requests to another one.
#[derive(Debug, Clone)]
pub struct Call {
    /// The callee's name.
    pub service: Spanned<String>,
    /// The callee's port; `None` means its first port.
    pub port: Option<Spanned<String>>,
    /// The `calls` node's head, for diagnostics.
    pub span: Span,
}

/// A non-web process: a long-running worker or a cron job.
#[derive(Debug, Clone)]
pub struct Process {
    /// The process's name, unique among the service's processes.
    pub name: Spanned<String>,
    /// Worker, cron job or init container, with what only that kind has.
    pub kind: ProcessKind,
    /// The program and its arguments.
    pub command: Vec<String>,
    /// Environment variables of this process.
    pub env: Vec<EnvVar>,
    /// Its requests and limits, merged over the platform's defaults (not over the service's).
    pub resources: ResourceSpec,
    /// The `worker`, `cron` or `init` node's head, for diagnostics.
    pub span: Span,
}

/// The kind of a [`Process`].
#[derive(Debug, Clone, PartialEq)]
pub enum ProcessKind {
    /// `worker`: a long-running Deployment.
    Worker {
        /// Replicas as written (0 to 1000, default 1); a preview runs at most one.
        replicas: u32,
    },
    /// `cron`: a Kubernetes CronJob.
    Cron {
        /// The cron schedule, as written.
        schedule: String,
        /// What happens when a run is due while the last one still runs.
        concurrency: CronConcurrency,
    },
    /// `init`: an init container of the web process's pods, run to completion, in order,
    /// before its container starts.
    Init {
        /// `image "REF:TAG"`, pinned; `None`: the service's own image.
        image: Option<Spanned<String>>,
    },
}

impl ProcessKind {
    /// The node that declares it, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            ProcessKind::Worker { .. } => "worker",
            ProcessKind::Cron { .. } => "cron job",
            ProcessKind::Init { .. } => "init container",
        }
    }
}

/// `cron ... concurrency=`: what happens when a run is due while the last one still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CronConcurrency {
    /// Run both.
    Allow,
    /// Skip the new run (the default).
    Forbid,
    /// Stop the old run and start the new one.
    Replace,
}

/// Service level objectives.
#[derive(Debug, Clone)]
pub struct Slo {
    /// The share of requests that must succeed (below 100%).
    pub availability: Option<Spanned<Percent>>,
    /// Latency objective: the percentile (e.g. 99) and its threshold.
    pub latency: Option<LatencySlo>,
    /// The SLO window; `None` means the platform's `defaults { slo-window }` (30d built in).
    pub window: Option<Duration>,
    /// The `slo` node's head, for diagnostics.
    pub span: Span,
}

/// A latency objective, `latency-pNN="DURATION"`.
#[derive(Debug, Clone)]
pub struct LatencySlo {
    /// The percentile: 50, 90, 95 or 99.
    pub percentile: u8,
    /// The latency that percentile must stay below.
    pub threshold: Spanned<Duration>,
}

/// A raw Prometheus alert written in the spec.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The alert's name, CamelCase, unique in the service.
    pub name: Spanned<String>,
    /// The PromQL condition.
    pub expr: Spanned<String>,
    /// How long the condition must hold before the alert fires, when written.
    pub for_: Option<Duration>,
    /// `critical`, `warning` (the default) or `info`.
    pub severity: String,
    /// The summary annotation: a Go template, as Prometheus expands it.
    pub summary: Option<String>,
    /// The description annotation: a Go template, as Prometheus expands it.
    pub description: Option<String>,
    /// The `alert` node's head, for diagnostics.
    pub span: Span,
}

/// `environment NAME { ... }`: values that replace the base ones in one environment.
#[derive(Debug, Clone)]
pub struct EnvOverride {
    /// The environment's name, one declared in platform.kdl.
    pub environment: Spanned<String>,
    /// Requests and limits of the web process there, over the service's.
    pub resources: ResourceSpec,
    /// Replicas and autoscaling of the web process there, over the service's.
    pub scale: ScaleSpec,
    /// Variables there: each replaces the service's of the same name, or is added after them.
    pub env: Vec<EnvVar>,
    /// The `environment` node's head, for diagnostics.
    pub span: Span,
}

/// `patch KIND name=NAME merge=JSON | json=JSON`: the escape hatch, applied to a generated
/// object after emission.
#[derive(Debug, Clone)]
pub struct Patch {
    /// The kind of the generated object, one of the backends' (`check::Vocabulary::object_kinds`).
    pub kind: Spanned<String>,
    /// The object's name; `None`: the service's name.
    pub name: Option<Spanned<String>>,
    /// The body: a merge patch or a JSON patch.
    pub op: PatchOp,
    /// Only in this environment, when set.
    pub environment: Option<Spanned<String>>,
    /// The `patch` node's head, for diagnostics.
    pub span: Span,
}

/// The body of a patch, parsed.
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
    /// `run-as-root`: the container runs as user 0.
    pub run_as_root: Option<Spanned<bool>>,
    /// `writable-root-fs`: the root filesystem is writable.
    pub writable_root_fs: Option<Spanned<bool>>,
    /// `service-account-token`: the Kubernetes API token is mounted.
    pub service_account_token: Option<Spanned<bool>>,
}

//! The typed model of `platform.kdl`: decisions the platform team makes once.

use indexmap::IndexMap;

use super::{Cpu, Duration, Memory, ResourceSpec, ScaleSpec};
use crate::source::{FileId, Span, Spanned};

/// The platform every service of the tree is built for.
#[derive(Debug, Clone)]
pub struct Platform {
    pub file: FileId,
    pub name: Spanned<String>,
    pub cloud: Cloud,
    pub region: String,
    /// Container registry prefix, e.g. `ghcr.io/acme`.
    pub registry: Spanned<String>,
    pub domain: Spanned<String>,
    pub ingress: Ingress,
    pub gitops: GitOps,
    pub ci: CiSystem,
    pub identity: Identity,
    pub secret_store: SecretStore,
    pub runbooks: Option<String>,
    pub terraform_backend: Option<TerraformBackend>,
    /// Extra stdlib directories (overlays), relative to platform.kdl.
    pub stdlib: Vec<Spanned<String>>,
    pub defaults: Defaults,
    pub environments: IndexMap<String, Environment>,
    pub policies: Vec<Policy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Aws,
}

/// How public routes reach the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingress {
    /// `networking.k8s.io/v1` Ingress with this ingress class.
    Ingress { class: String, controller_namespace: String },
    /// Gateway API `HTTPRoute` attached to this gateway.
    GatewayApi { gateway: String, namespace: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitOps {
    pub engine: GitOpsEngine,
    pub repo: String,
    pub branch: String,
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitOpsEngine {
    ArgoCd,
    Flux,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiSystem {
    GithubActions,
    Gitlab,
}

/// How pods get cloud credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    PodIdentity,
    Irsa,
}

/// The External Secrets Operator store that secret references are read through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretStore {
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerraformBackend {
    pub bucket: String,
    pub region: String,
    pub lock_table: Option<String>,
    pub key_prefix: String,
}

/// Defaults for what a service does not say.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    pub resources: ResourceSpec,
    pub scale: ScaleSpec,
    pub slo_window: Duration,
}

/// One deployment environment.
#[derive(Debug, Clone)]
pub struct Environment {
    pub name: Spanned<String>,
    /// Ephemeral environments (preview) have a time to live.
    pub ttl: Option<Duration>,
    /// Deploys need an approval.
    pub protected: bool,
    /// Provisioner for resource types not listed in `per_type`.
    pub provisioner: Provisioner,
    pub per_type: IndexMap<String, Provisioner>,
    pub span: Span,
}

impl Environment {
    /// The provisioner serving a resource type here.
    pub fn provisioner_for(&self, ty: &str) -> Provisioner {
        self.per_type.get(ty).copied().unwrap_or(self.provisioner)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provisioner {
    /// Terraform for AWS.
    Aws,
    /// Kubernetes objects next to the service.
    InCluster,
}

impl Provisioner {
    pub const ALL: [(&'static str, Provisioner); 2] = [("aws", Provisioner::Aws), ("in-cluster", Provisioner::InCluster)];

    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, p)| *p == self).map(|(s, _)| *s).unwrap_or("")
    }
}

/// A guardrail the checker enforces on every service.
#[derive(Debug, Clone)]
pub struct Policy {
    pub rule: PolicyRule,
    /// Only in this environment, when set.
    pub environment: Option<Spanned<String>>,
    /// Where the policy is written in platform.kdl (the second label of a violation).
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PolicyRule {
    MinReplicas(u32),
    RequireSlo,
    RequireOwner,
    RequireProbes,
    MaxCpu(Cpu),
    MaxMemory(Memory),
    AllowedRegistries(Vec<String>),
    /// Loosening secure defaults (`security ...`) is forbidden.
    ForbidLoosening,
}

impl PolicyRule {
    /// The name the policy is written with in platform.kdl.
    pub fn name(&self) -> &'static str {
        match self {
            PolicyRule::MinReplicas(_) => "min-replicas",
            PolicyRule::RequireSlo => "require-slo",
            PolicyRule::RequireOwner => "require-owner",
            PolicyRule::RequireProbes => "require-probes",
            PolicyRule::MaxCpu(_) => "max-cpu",
            PolicyRule::MaxMemory(_) => "max-memory",
            PolicyRule::AllowedRegistries(_) => "allowed-registries",
            PolicyRule::ForbidLoosening => "forbid-loosening",
        }
    }
}

/// Every policy name, for did-you-mean.
pub const POLICY_NAMES: [&str; 8] = ["min-replicas", "require-slo", "require-owner", "require-probes", "max-cpu", "max-memory", "allowed-registries", "forbid-loosening"];

//! The typed model of `platform.kdl`: decisions the platform team makes once.

use indexmap::IndexMap;

use super::{Cpu, Duration, Memory, ResourceSpec, ScaleSpec};
use crate::source::{FileId, Span, Spanned};

/// The platform every service of the tree is built for.
#[derive(Debug, Clone)]
pub struct Platform {
    /// platform.kdl's file.
    pub file: FileId,
    /// The platform's name: the prefix of every namespace (`NAME-ENV`), and `${platform.name}`.
    pub name: Spanned<String>,
    /// The cloud the platform's resources are created in.
    pub cloud: Cloud,
    /// The region resources are created in (default `us-east-1`), and `${platform.region}`.
    pub region: String,
    /// Container registry prefix, e.g. `ghcr.io/acme`.
    pub registry: Spanned<String>,
    /// Base DNS domain of the default route hosts (`SERVICE.ENV.DOMAIN`), and `${platform.domain}`.
    pub domain: Spanned<String>,
    /// How public routes reach the cluster (default: Ingress objects of class `nginx`).
    pub ingress: Ingress,
    /// Where the rendered manifests are committed, and what deploys them.
    pub gitops: GitOps,
    /// The CI system platc writes pipelines for.
    pub ci: CiSystem,
    /// How pods get cloud credentials.
    pub identity: Identity,
    /// The store every `secret` is read through.
    pub secret_store: SecretStore,
    /// Base URL of the runbooks generated alerts link to, without a trailing `/`.
    pub runbooks: Option<String>,
    /// Where the generated Terraform keeps its state, when platform.kdl says.
    pub terraform_backend: Option<TerraformBackend>,
    /// Extra stdlib directories (overlays), relative to platform.kdl.
    pub stdlib: Vec<Spanned<String>>,
    /// What a service gets when it does not say.
    pub defaults: Defaults,
    /// The environments by name, in the order written: the promotion order.
    pub environments: IndexMap<String, Environment>,
    /// Guardrails every service is checked against.
    pub policies: Vec<Policy>,
}

/// The cloud of a platform (`cloud aws`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    /// Amazon Web Services, the only one.
    Aws,
}

/// How public routes reach the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingress {
    /// `networking.k8s.io/v1` Ingress with this ingress class.
    Ingress {
        /// The IngressClass of public routes (default `nginx`); internal routes use
        /// `CLASS-internal`.
        class: String,
        /// The namespace the ingress controller runs in (default `ingress-nginx`).
        controller_namespace: String,
        /// `cluster-issuer=`: the cert-manager ClusterIssuer that makes each Ingress's TLS
        /// certificate (`SERVICE-tls`); `None`: nothing makes them.
        cluster_issuer: Option<String>,
    },
    /// Gateway API `HTTPRoute` attached to this gateway.
    GatewayApi {
        /// The Gateway public routes attach to (default `public`); internal routes use
        /// `GATEWAY-internal`.
        gateway: String,
        /// The Gateway's namespace (default `gateway`).
        namespace: String,
    },
}

/// `gitops ENGINE repo=URL branch=BRANCH path=PATH`: where the rendered manifests are committed and
/// which engine deploys them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitOps {
    /// The engine that deploys from the repository.
    pub engine: GitOpsEngine,
    /// URL of the repository the rendered manifests are committed to.
    pub repo: String,
    /// The branch they are committed on (default `main`).
    pub branch: String,
    /// The directory in that repository, without surrounding `/` (default `deploy`).
    pub path: String,
}

/// The GitOps engine of a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitOpsEngine {
    /// Argo CD: an Application per service and environment.
    ArgoCd,
    /// Flux: a Kustomization per service and environment.
    Flux,
}

/// The files of Flux's wiring in each `gitops/INSTANCE/` besides each service's: the
/// GitRepository (`source.yaml`) and the instance's Namespace (`namespace.yaml`).
pub const FLUX_WIRING: [&str; 2] = ["source", "namespace"];

impl GitOpsEngine {
    /// The files of an instance's wiring in `gitops/INSTANCE/` besides each service's
    /// (`NAME.yaml`): names a service cannot have, or its file would replace one of them.
    /// Argo CD's applications live in `apps/`, so no name collides with its `root.yaml`.
    pub fn wiring_files(self) -> &'static [&'static str] {
        match self {
            GitOpsEngine::ArgoCd => &[],
            GitOpsEngine::Flux => &FLUX_WIRING,
        }
    }
}

/// The CI system platc writes pipelines for (`ci`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiSystem {
    /// GitHub Actions (the default).
    GithubActions,
    /// GitLab CI.
    Gitlab,
}

/// How pods get cloud credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// EKS Pod Identity (the default).
    PodIdentity,
    /// IAM Roles for Service Accounts.
    Irsa,
}

/// The External Secrets Operator store that secret references are read through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretStore {
    /// The store's name (default `platform-secrets`).
    pub name: String,
    /// `ClusterSecretStore` (the default) or `SecretStore`.
    pub kind: String,
}

/// `terraform-backend s3 ...`: where the generated Terraform keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerraformBackend {
    /// The S3 bucket that holds the state.
    pub bucket: String,
    /// The bucket's region; empty when not written.
    pub region: String,
    /// A DynamoDB table for state locking, when written.
    pub lock_table: Option<String>,
    /// The prefix of each state file's key (default `platc`).
    pub key_prefix: String,
}

/// Defaults for what a service does not say.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    /// Requests and limits, property by property, for what a container does not write (over the
    /// built-in defaults).
    pub resources: ResourceSpec,
    /// Replicas and autoscaling targets, property by property, for what a service does not write
    /// (over the built-in defaults).
    pub scale: ScaleSpec,
    /// The window of an `slo` without `window` (built in `30d`).
    pub slo_window: Duration,
}

/// One deployment environment.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The environment's name.
    pub name: Spanned<String>,
    /// Ephemeral environments (preview) have a time to live.
    pub ttl: Option<Duration>,
    /// Deploys need an approval.
    pub protected: bool,
    /// Provisioner for resource types not listed in `per_type`.
    pub provisioner: Provisioner,
    /// Provisioners chosen per resource type (`provision aws redis=in-cluster`), by type name.
    pub per_type: IndexMap<String, Provisioner>,
    /// The `environment` node's head, for diagnostics.
    pub span: Span,
}

impl Environment {
    /// The provisioner serving a resource type here.
    pub fn provisioner_for(&self, ty: &str) -> Provisioner {
        self.per_type.get(ty).copied().unwrap_or(self.provisioner)
    }
}

/// Who builds an environment's backing resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provisioner {
    /// Terraform for AWS.
    Aws,
    /// Kubernetes objects next to the service.
    InCluster,
}

impl Provisioner {
    /// Each provisioner with the name platform.kdl writes it with.
    pub const ALL: [(&'static str, Provisioner); 2] = [("aws", Provisioner::Aws), ("in-cluster", Provisioner::InCluster)];

    /// The name platform.kdl writes it with (`aws`, `in-cluster`).
    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, p)| *p == self).map(|(s, _)| *s).unwrap_or("")
    }
}

/// A guardrail the checker enforces on every service.
#[derive(Debug, Clone)]
pub struct Policy {
    /// What the policy requires.
    pub rule: PolicyRule,
    /// Only in this environment, when set.
    pub environment: Option<Spanned<String>>,
    /// Where the policy is written in platform.kdl (the second label of a violation).
    pub span: Span,
}

/// What a policy requires of every service.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyRule {
    /// `min-replicas N`: the effective `scale min` is at least N.
    MinReplicas(u32),
    /// `require-slo`: the service has an `slo`.
    RequireSlo,
    /// `require-owner`: the service has an `owner`.
    RequireOwner,
    /// `require-probes`: the service has a readiness and a liveness probe.
    RequireProbes,
    /// `max-cpu`: no `cpu` or `cpu-limit` the service writes is above it.
    MaxCpu(Cpu),
    /// `max-memory`: no `memory` or `memory-limit` the service writes is above it.
    MaxMemory(Memory),
    /// `allowed-registries`: the image is under one of these registry prefixes (whole path
    /// components).
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

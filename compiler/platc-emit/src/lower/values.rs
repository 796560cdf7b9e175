#![allow(non_snake_case)] // Field names are the Helm values keys, verbatim, so code and chart read alike.

//! The values of one service in one environment: the single typed description from which its
//! Kubernetes objects are built (emit::manifests), which the rendered manifests and the Helm
//! chart both print.
//!
//! Field names follow the conventions of `helm create` charts (`replicaCount`, `image`,
//! `serviceAccount`, `podSecurityContext`, `autoscaling`, ...), so that people who know Helm
//! find their way. Sub-objects that Kubernetes defines (probes, security contexts, resources,
//! env vars, NetworkPolicy rules) are kept in Kubernetes' own shape, which the objects
//! (emit::manifests) borrow as they are.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value as Json;

use crate::emit::object::Node;

/// A part of the values kept in Kubernetes' own shape (a probe, an env var, a port, a
/// NetworkPolicy rule): a tree of the [`Node`]s the rendered objects are made of, owned, so
/// that an object borrows it as it is. Built for every service in every environment: unlike a
/// `serde_json` value, its maps are lists of `'static` keys, with nothing hashed nor copied.
pub type Part = Node<'static>;

/// Values of one service in one environment.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    /// Name of every object of the web process (the service name).
    pub fullname: String,
    pub namespace: String,
    pub environment: String,
    /// `app.kubernetes.io/part-of`: the platform name.
    pub partOf: String,
    pub owner: String,
    /// Extra annotations on every pod and workload (e.g. preview TTL).
    pub commonAnnotations: IndexMap<String, String>,
    pub image: Image,
    pub replicaCount: u32,
    pub autoscaling: Autoscaling,
    pub serviceAccount: ServiceAccount,
    pub podSecurityContext: Part,
    pub securityContext: Part,
    pub resources: Part,
    pub containerPorts: Vec<Part>,
    pub service: ServiceValues,
    pub readinessProbe: Option<Part>,
    pub livenessProbe: Option<Part>,
    pub startupProbe: Option<Part>,
    /// Container env vars (values, ConfigMap and Secret key references), in spec order.
    pub env: Vec<Part>,
    /// ConfigMap data: the non-secret env values.
    pub config: IndexMap<String, String>,
    pub externalSecret: ExternalSecret,
    pub podDisruptionBudget: Pdb,
    pub networkPolicy: NetworkPolicy,
    pub ingress: IngressValues,
    pub httpRoute: HttpRouteValues,
    pub workers: Vec<Worker>,
    pub cronJobs: Vec<CronJob>,
    pub serviceMonitor: ServiceMonitor,
    /// The service's recording rules and alerts as a PrometheusRule (emit::observability).
    pub prometheusRule: PrometheusRuleValues,
    /// The service's Grafana dashboard as a ConfigMap for the Grafana sidecar.
    pub dashboard: DashboardValues,
    /// The backing resources of the service (`uses`), in spec order, each with the objects of
    /// the provisioner that serves it in this environment (see docs/resources.md).
    pub backingResources: Vec<BackingResource>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    pub repository: String,
    pub tag: String,
    pub pullPolicy: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaling {
    pub enabled: bool,
    pub minReplicas: u32,
    pub maxReplicas: u32,
    /// HPA metrics in Kubernetes' `autoscaling/v2` shape.
    pub metrics: Vec<Part>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccount {
    pub name: String,
    pub automount: bool,
    pub annotations: IndexMap<String, String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceValues {
    pub enabled: bool,
    pub ports: Vec<Part>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecret {
    pub enabled: bool,
    /// Name of the ExternalSecret and of the Secret it creates.
    pub name: String,
    pub refreshInterval: String,
    pub secretStoreRef: Part,
    /// `spec.data` entries: which remote key lands under which secret key.
    pub data: Vec<Part>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Pdb {
    pub enabled: bool,
    pub maxUnavailable: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicy {
    pub enabled: bool,
    pub ingress: Vec<Part>,
    pub egress: Vec<Part>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IngressValues {
    /// One Ingress object per entry (public and internal routes use different classes).
    pub items: Vec<IngressItem>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IngressItem {
    pub name: String,
    pub className: String,
    pub annotations: IndexMap<String, String>,
    /// `spec.rules` in Kubernetes' shape.
    pub rules: Vec<Part>,
    pub tls: Vec<Part>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteValues {
    /// One HTTPRoute per entry.
    pub items: Vec<HttpRouteItem>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteItem {
    pub name: String,
    pub parentRefs: Vec<Part>,
    pub hostnames: Vec<String>,
    pub rules: Vec<Part>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Worker {
    pub name: String,
    /// Annotations of the worker's Deployment.
    pub annotations: IndexMap<String, String>,
    pub replicas: u32,
    pub command: Vec<String>,
    pub env: Vec<Part>,
    pub resources: Part,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CronJob {
    pub name: String,
    pub schedule: String,
    pub concurrencyPolicy: String,
    pub command: Vec<String>,
    pub env: Vec<Part>,
    pub resources: Part,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusRuleValues {
    pub enabled: bool,
    /// `spec.groups` in the Prometheus Operator's shape.
    pub groups: Vec<crate::emit::observability::rule_file::RuleGroup>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DashboardValues {
    pub enabled: bool,
    /// The ConfigMap data key (the dashboard's file name).
    pub key: String,
    /// The dashboard JSON.
    pub json: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitor {
    pub enabled: bool,
    pub port: String,
    pub path: String,
    pub interval: String,
}

/// One `uses` of the service in one environment. Whichever provisioner serves it, the Secret
/// `connectionSecret` ends up holding one key per output of the type, which the containers read
/// as `RESOURCE_OUTPUT` env vars: the same names everywhere.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BackingResource {
    /// The resource's name in the spec (`uses postgres NAME`).
    pub name: String,
    /// The resource type (`postgres`, `bucket`, ...).
    pub r#type: String,
    /// `aws` or `in-cluster` (platform.kdl's `provision` for this environment and type).
    pub provisioner: String,
    /// Name of the Secret with the connection details: `SERVICE-RESOURCE-connection`.
    pub connectionSecret: String,
    /// `aws`: the ExternalSecret that copies the Terraform-written Secrets Manager secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub externalSecret: Option<ResourceExternalSecret>,
    /// `in-cluster`: the Kubernetes objects that serve the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inCluster: Option<InClusterResource>,
}

/// `spec` pieces of the ExternalSecret of a resource served by `aws`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceExternalSecret {
    pub refreshInterval: String,
    pub secretStoreRef: Json,
    /// `spec.dataFrom`: `extract` of the secret `platc/ENV/SERVICE/RESOURCE`.
    pub dataFrom: Vec<Json>,
}

/// The objects of a resource served `in-cluster`, from stdlib/incluster/TYPE.yaml.hbs.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InClusterResource {
    /// Name of the workload, Service, NetworkPolicy and generator, and the pods'
    /// `app.kubernetes.io/name`: `SERVICE-RESOURCE`.
    pub name: String,
    /// The image tag (label `app.kubernetes.io/version`).
    pub version: String,
    pub workload: ResourceWorkload,
    pub service: ResourceService,
    pub networkPolicy: ResourceNetworkPolicy,
    pub connection: ResourceConnection,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceWorkload {
    /// `StatefulSet` or `Deployment`; always one replica.
    pub kind: String,
    /// Annotations of the workload object.
    pub annotations: IndexMap<String, String>,
    /// Pod securityContext, in Kubernetes' shape.
    pub podSecurityContext: Json,
    /// The pod's containers, in Kubernetes' shape.
    pub containers: Vec<Json>,
    /// The pod's volumes, in Kubernetes' shape.
    pub volumes: Vec<Json>,
    /// StatefulSet volume claim templates, in Kubernetes' shape (deleted with the StatefulSet).
    pub volumeClaimTemplates: Vec<Json>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceService {
    /// ClusterIP Service ports, in Kubernetes' shape.
    pub ports: Vec<Json>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceNetworkPolicy {
    /// Ingress rules (only the owning service's pods), in Kubernetes' shape.
    pub ingress: Vec<Json>,
    /// Egress rules, in Kubernetes' shape (none: a database calls nobody).
    pub egress: Vec<Json>,
}

/// How the connection Secret of an in-cluster resource is made.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceConnection {
    /// The spec of the External Secrets `Password` generator when credentials are generated:
    /// an ExternalSecret then composes the Secret from `data` as a template. Absent: nothing in
    /// the Secret is secret, and it is written as a plain Secret with `data` as `stringData`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator: Option<Json>,
    /// `spec.dataFrom` of the ExternalSecret: one generator run per generated key.
    pub dataFrom: Vec<Json>,
    /// Secret keys: the type's outputs (and credentials only the server reads), as External
    /// Secrets templates (`{{ .password }}`, text for Helm) or plain values.
    pub data: IndexMap<String, String>,
}

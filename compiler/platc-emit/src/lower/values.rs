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
    /// Namespace of every object: the placement's. In the chart, a release installed in another
    /// namespace than `default` (`helm install --namespace`) puts them in its own.
    pub namespace: String,
    /// Name of the environment (label `platc.dev/environment`); in the chart, the value that picks
    /// which environment's objects render (each values-ENV.yaml sets it).
    pub environment: String,
    /// `app.kubernetes.io/part-of`: the platform name.
    pub partOf: String,
    /// The spec's `owner` (label `platc.dev/owner`); empty without one, and then no label.
    pub owner: String,
    /// Extra annotations on every pod and workload (e.g. preview TTL).
    pub commonAnnotations: IndexMap<String, String>,
    /// Seconds every pod of the service gets between SIGTERM and SIGKILL (`shutdown grace=`);
    /// `None`: Kubernetes' default, 30.
    pub terminationGracePeriodSeconds: Option<u64>,
    /// The policies the service waives, on its web Deployment for whoever reads the cluster:
    /// `platc.dev/waiver.POLICY: REASON` (with `(until DATE)` when it expires).
    pub waivers: IndexMap<String, String>,
    /// Annotations of the service's own pods (web, workers, cron jobs): the common ones and
    /// `checksum/config`, the SHA-256 of the ConfigMap's data, so that a changed value rolls
    /// the pods that read it (a ConfigMap change alone restarts nothing).
    pub podAnnotations: IndexMap<String, String>,
    /// The image of every container of the service (web, workers, cron jobs).
    pub image: Image,
    /// Replicas of the web Deployment: the autoscaling minimum. Left out of the Deployment when
    /// autoscaling is enabled (the HPA owns the count); a chart value.
    pub replicaCount: u32,
    /// The web Deployment's HorizontalPodAutoscaler.
    pub autoscaling: Autoscaling,
    /// The ServiceAccount every pod of the service runs as.
    pub serviceAccount: ServiceAccount,
    /// Pod `securityContext` of every pod of the service: non-root with UID 10001 and seccomp
    /// RuntimeDefault, or root when the spec sets `run-as-root`.
    pub podSecurityContext: Part,
    /// Container `securityContext` of every container: no privilege escalation, every capability
    /// dropped, a read-only root filesystem unless the spec sets `writable-root-fs`.
    pub securityContext: Part,
    /// Requests and limits of the web container in this environment, in Kubernetes' shape; each
    /// quantity is a chart value.
    pub resources: Part,
    /// The web container's `ports`: one per spec port, by name.
    pub containerPorts: Vec<Part>,
    /// The ClusterIP Service in front of the web pods.
    pub service: ServiceValues,
    /// Readiness probe of the web container; without one in the spec, a TCP check on the primary
    /// port (none when the service has no port).
    pub readinessProbe: Option<Part>,
    /// Liveness probe of the web container; without one in the spec, a TCP check on the primary
    /// port (none when the service has no port).
    pub livenessProbe: Option<Part>,
    /// Startup probe of the web container, only when the spec declares one.
    pub startupProbe: Option<Part>,
    /// Container env vars (values, ConfigMap and Secret key references), in spec order.
    pub env: Vec<Part>,
    /// ConfigMap data: the non-secret env values.
    pub config: IndexMap<String, String>,
    /// The ExternalSecret of the service's `secret` entries.
    pub externalSecret: ExternalSecret,
    /// The web pods' PodDisruptionBudget.
    pub podDisruptionBudget: Pdb,
    /// The web pods' NetworkPolicy.
    pub networkPolicy: NetworkPolicy,
    /// The Ingress objects of the service's routes, when the platform routes through an ingress
    /// controller.
    pub ingress: IngressValues,
    /// The HTTPRoutes of the service's routes, when the platform routes through the Gateway API.
    pub httpRoute: HttpRouteValues,
    /// The service's init containers (`init`), run in spec order before the web container.
    pub initContainers: Vec<InitContainer>,
    /// The service's worker processes, one Deployment each, in spec order.
    pub workers: Vec<Worker>,
    /// The service's cron processes, one CronJob each, in spec order.
    pub cronJobs: Vec<CronJob>,
    /// The ServiceMonitor that has Prometheus scrape the web pods.
    pub serviceMonitor: ServiceMonitor,
    /// The service's recording rules and alerts as a PrometheusRule (emit::observability).
    pub prometheusRule: PrometheusRuleValues,
    /// The service's Grafana dashboard as a ConfigMap for the Grafana sidecar.
    pub dashboard: DashboardValues,
    /// The backing resources of the service (`uses`), in spec order, each with the objects of
    /// the provisioner that serves it in this environment (see docs/resources.md).
    pub backingResources: Vec<BackingResource>,
}

/// The image of the service's containers.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// Registry and repository, without the tag: what CI pushes to; a chart value.
    pub repository: String,
    /// The tag the build resolved (label `app.kubernetes.io/version`); in the chart, CI sets the
    /// commit SHA (`--set image.tag=SHA`).
    pub tag: String,
    /// `imagePullPolicy` of every container: `Always`.
    pub pullPolicy: String,
}

/// The web Deployment's HorizontalPodAutoscaler.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Autoscaling {
    /// Whether the HPA is made: when the maximum exceeds the minimum, so never in a preview.
    pub enabled: bool,
    /// Fewest replicas: the spec's `scale` minimum in this environment, 1 in a preview; a chart
    /// value.
    pub minReplicas: u32,
    /// Most replicas: the spec's `scale` maximum in this environment, 1 in a preview; a chart value.
    pub maxReplicas: u32,
    /// HPA metrics in Kubernetes' `autoscaling/v2` shape.
    pub metrics: Vec<Part>,
}

/// The ServiceAccount the service's pods (web, workers, cron jobs) run as.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccount {
    /// Its name: the service name.
    pub name: String,
    /// Whether pods get its API token (`automountServiceAccountToken`): only when the spec sets
    /// `service-account-token`.
    pub automount: bool,
    /// Annotations of the ServiceAccount object, after the common ones; platc sets none.
    pub annotations: IndexMap<String, String>,
}

/// The ClusterIP Service in front of the web pods.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceValues {
    /// Whether it is made: when the service declares ports.
    pub enabled: bool,
    /// Its ports, one per spec port, each targeting the container port of the same name, with
    /// `appProtocol` for HTTP and gRPC ports.
    pub ports: Vec<Part>,
}

/// The ExternalSecret that copies the service's `secret` entries from the platform's secret store
/// into one Secret, which the containers' env references.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecret {
    /// Whether it is made: when the service has `secret` entries.
    pub enabled: bool,
    /// Name of the ExternalSecret and of the Secret it creates.
    pub name: String,
    /// How often the External Secrets Operator reads the store again: `1h`.
    pub refreshInterval: String,
    /// The platform's secret store (`name`, `kind`), in Kubernetes' shape.
    pub secretStoreRef: Part,
    /// `spec.data` entries: which remote key lands under which secret key.
    pub data: Vec<Part>,
}

/// The web pods' PodDisruptionBudget.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Pdb {
    /// Whether it is made: always.
    pub enabled: bool,
    /// Web pods a voluntary disruption (a node drain) may take down at once: 1.
    pub maxUnavailable: u32,
}

/// The web pods' NetworkPolicy: default deny in both directions, then exactly the traffic the
/// specs declare.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicy {
    /// Whether it is made: always.
    pub enabled: bool,
    /// Who may reach the pods (callers, the ingress controller or gateway, Prometheus), in
    /// Kubernetes' shape.
    pub ingress: Vec<Part>,
    /// Where the pods may connect (DNS, callees, backing resources), in Kubernetes' shape.
    pub egress: Vec<Part>,
}

/// The service's Ingress objects; none when the platform uses the Gateway API.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IngressValues {
    /// One Ingress object per entry (public and internal routes use different classes).
    pub items: Vec<IngressItem>,
}

/// One Ingress: the service's public routes, or its internal ones.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IngressItem {
    /// Name of the Ingress: the service name, with `-internal` for the internal routes.
    pub name: String,
    /// `ingressClassName`: the platform's ingress class, with `-internal` for the internal routes.
    pub className: String,
    /// Annotations of this Ingress, after the common ones: `backend-protocol: GRPC` when a
    /// route targets a gRPC port.
    pub annotations: IndexMap<String, String>,
    /// `spec.rules` in Kubernetes' shape.
    pub rules: Vec<Part>,
    /// `spec.tls`: every host of the Ingress, with its certificate in Secret `NAME-tls`.
    pub tls: Vec<Part>,
}

/// The service's HTTPRoutes; none when the platform uses an ingress controller.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteValues {
    /// One HTTPRoute per entry.
    pub items: Vec<HttpRouteItem>,
}

/// One HTTPRoute: the service's public routes, or its internal ones.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteItem {
    /// Name of the HTTPRoute: the service name, with `-internal` for the internal routes.
    pub name: String,
    /// The Gateway it attaches to: the platform's gateway (with `-internal` for the internal
    /// routes), in the gateway's namespace.
    pub parentRefs: Vec<Part>,
    /// The hosts of its routes in this environment, each once.
    pub hostnames: Vec<String>,
    /// One rule per route: its path prefix to the Service port, in Kubernetes' shape.
    pub rules: Vec<Part>,
}

/// An init container of the web pods: runs to completion before the web container starts.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InitContainer {
    /// The container's name: the process's workload name (`SERVICE-NAME`).
    pub name: String,
    /// Its own pinned image; `None` runs the service's image and tag.
    pub image: Option<String>,
    /// The container's command; empty keeps the image's entrypoint.
    pub command: Vec<String>,
    /// The container's env: the service's wiring, then the init's own variables.
    pub env: Vec<Part>,
    /// Requests and limits of the container, in Kubernetes' shape; each quantity is a chart
    /// value.
    pub resources: Part,
}

/// A worker process of the service: a Deployment of its own, without ports nor probes.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Worker {
    /// Name of its Deployment and container (the process's workload name).
    pub name: String,
    /// Annotations of the worker's Deployment.
    pub annotations: IndexMap<String, String>,
    /// Replicas of its Deployment: the spec's, at most 1 in a preview; a chart value
    /// (`workers.NAME.replicas`).
    pub replicas: u32,
    /// The container's command; empty keeps the image's entrypoint.
    pub command: Vec<String>,
    /// The container's env: the service's wiring, then the process's own variables.
    pub env: Vec<Part>,
    /// Requests and limits of its container, in Kubernetes' shape; each quantity is a chart value.
    pub resources: Part,
}

/// A cron process of the service, as a CronJob.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CronJob {
    /// Name of the CronJob and its container (the process's workload name).
    pub name: String,
    /// The schedule, in cron syntax, as the spec writes it.
    pub schedule: String,
    /// What a run due while the last one still runs does: `Allow`, `Forbid` or `Replace`
    /// (the CronJob's `concurrencyPolicy`).
    pub concurrencyPolicy: String,
    /// The container's command; empty keeps the image's entrypoint.
    pub command: Vec<String>,
    /// The container's env: the service's wiring, then the process's own variables.
    pub env: Vec<Part>,
    /// Requests and limits of its container, in Kubernetes' shape; each quantity is a chart value.
    pub resources: Part,
}

/// The PrometheusRule of the service's recording rules and alerts.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusRuleValues {
    /// Whether it is made: when the service has rules. Set with `groups` by the build after
    /// lowering.
    pub enabled: bool,
    /// `spec.groups` in the Prometheus Operator's shape.
    pub groups: Vec<crate::emit::observability::rule_file::RuleGroup>,
}

/// The ConfigMap that brings the service's dashboard to the Grafana sidecar (label
/// `grafana_dashboard`).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DashboardValues {
    /// Whether it is made: not when the build leaves ConfigMaps out (`platc render --kind`). Set
    /// by the build after lowering.
    pub enabled: bool,
    /// The ConfigMap data key (the dashboard's file name).
    pub key: String,
    /// The dashboard JSON.
    pub json: String,
}

/// The ServiceMonitor that has Prometheus scrape the web pods.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitor {
    /// Whether it is made: when the service has a metrics port (the one named `metrics`, else the
    /// first HTTP port).
    pub enabled: bool,
    /// Name of the port scraped.
    pub port: String,
    /// HTTP path scraped: `/metrics`.
    pub path: String,
    /// Time between scrapes: `30s`.
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
    /// How often the External Secrets Operator reads the store again: `1h`.
    pub refreshInterval: String,
    /// The platform's secret store (`name`, `kind`).
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
    /// The StatefulSet or Deployment that runs the resource.
    pub workload: ResourceWorkload,
    /// The ClusterIP Service the service's containers connect to.
    pub service: ResourceService,
    /// The NetworkPolicy of the resource's pods.
    pub networkPolicy: ResourceNetworkPolicy,
    /// How its connection Secret is made.
    pub connection: ResourceConnection,
}

/// The workload of an in-cluster resource: one replica of the type's container.
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

/// The Service of an in-cluster resource.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceService {
    /// ClusterIP Service ports, in Kubernetes' shape.
    pub ports: Vec<Json>,
}

/// The NetworkPolicy of an in-cluster resource's pods.
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

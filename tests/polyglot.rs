//! What examples/polyglot's artifacts do, beyond what the validators see (issue 20). The example
//! is modelled on a public demo that platc's authors did not design (Google's Online
//! Boutique): five languages, gRPC, a worker-only load generator, third-party images, a
//! Service port that differs from its container port, a Redis password inside a connection
//! string, a message broker and a document database. Built for every environment, a preview
//! included:
//!
//! - each service's NetworkPolicy egress is exactly DNS, its callees on the one port each call
//!   reaches, and its resources on the port the resource's provisioner serves in that
//!   environment (RabbitMQ: 5672 in-cluster, 5671 with TLS on Amazon MQ); each callee's ingress
//!   admits exactly its callers on that port;
//! - every env var that carries a secret output reaches the container only through a
//!   secretKeyRef, directly or as a `$(VAR)` of one, and no ConfigMap holds one;
//! - each Service maps its declared port to the container port that listens;
//! - no CI job builds, tests or signs an image marked `build=#false`, and every other image has
//!   its job.
//!
//! The expectations are computed from the specs as written and from the provisioners
//! platform.kdl names, not from platc's resolved model.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

mod common;

use platc_check::model::{Provisioner, Reference, Service, Workspace};
use serde_json::{json, Value as Json};

const BRANCH: &str = "feature/polyglot";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Polyglot {
    files: BTreeMap<String, Vec<u8>>,
    ws: Workspace,
}

/// examples/polyglot, every environment (the preview for a test branch).
fn polyglot() -> Polyglot {
    let (files, ws) = common::build_example("polyglot", BRANCH);
    Polyglot { files, ws }
}

impl Polyglot {
    fn text(&self, path: &str) -> &str {
        std::str::from_utf8(self.files.get(path).unwrap_or_else(|| panic!("{path} not generated"))).expect("UTF-8")
    }

    /// The instances built (`dev`, `staging`, `prod`, the preview's), from the manifests tree.
    fn instances(&self) -> BTreeSet<String> {
        self.files.keys().filter_map(|p| p.strip_prefix("deploy/frontend/manifests/")).filter_map(|p| p.split('/').next()).map(str::to_string).collect()
    }

    /// Every YAML document of one service's manifests in one instance.
    fn objects(&self, service: &str, instance: &str) -> Vec<Json> {
        let prefix = format!("deploy/{service}/manifests/{instance}/");
        let docs: Vec<Json> = self
            .files
            .iter()
            .filter(|(p, _)| p.starts_with(&prefix))
            .flat_map(|(p, b)| serde_saphyr::from_multiple::<Json>(std::str::from_utf8(b).unwrap()).unwrap_or_else(|e| panic!("{p}: {e}")))
            .collect();
        assert!(!docs.is_empty(), "no manifests under {prefix}");
        docs
    }

    fn object(&self, service: &str, instance: &str, kind: &str, name: &str) -> Json {
        self.objects(service, instance).into_iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name).unwrap_or_else(|| panic!("{service}/{instance}: no {kind} {name}"))
    }

    fn service(&self, name: &str) -> &Service {
        self.ws.services.iter().find(|s| s.name.value == name).unwrap_or_else(|| panic!("no service {name}"))
    }
}

/// The provisioner of a resource type in an instance, as platform.kdl says: dev and previews
/// serve everything in-cluster, staging everything on AWS but MongoDB, prod everything on AWS.
fn provisioner(instance: &str, ty: &str) -> Provisioner {
    match instance {
        "staging" if ty == "mongodb" => Provisioner::InCluster,
        "staging" | "prod" => Provisioner::Aws,
        _ => Provisioner::InCluster,
    }
}

/// The port a resource's server listens on, per the built-in types' documentation
/// (docs/language.md, "Built-in resource types").
fn served_port(ty: &str, p: Provisioner) -> u64 {
    match (ty, p) {
        ("redis", _) => 6379,
        ("mongodb", _) => 27017,
        ("amqp", Provisioner::InCluster) => 5672,
        ("amqp", Provisioner::Aws) => 5671,
        _ => panic!("the test knows no port for {ty}"),
    }
}

/// The container port of `callee` that a call from `caller` reaches: the port the `calls`
/// names, else the first one.
fn reached_port(caller: &Service, callee: &Service) -> u64 {
    let named = caller.calls.iter().find(|c| c.service.value == callee.name.value).and_then(|c| c.port.as_ref());
    let port = match named {
        Some(n) => callee.ports.iter().find(|p| p.name.value == n.value).expect("named port exists"),
        None => &callee.ports[0],
    };
    u64::from(port.container())
}

fn pods(name: &str) -> Json {
    json!({"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}})
}

/// A NetworkPolicy rule as (peers, TCP/UDP ports), order-free.
fn rules(policy: &Json, direction: &str, peers_key: &str) -> BTreeSet<(String, BTreeSet<String>)> {
    let list = policy["spec"][direction].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|r| {
            let peers: BTreeSet<String> = r[peers_key].as_array().unwrap().iter().map(|p| p.to_string()).collect();
            let ports: BTreeSet<String> = r["ports"].as_array().unwrap().iter().map(|p| format!("{}/{}", p["protocol"].as_str().unwrap(), p["port"])).collect();
            (peers.into_iter().collect::<Vec<_>>().join(" "), ports)
        })
        .collect()
}

fn tcp(ports: &[u64]) -> BTreeSet<String> {
    ports.iter().map(|p| format!("TCP/{p}")).collect()
}

impl Polyglot {
    /// A spec as written.
    fn spec_text(&self, service: &str) -> String {
        std::fs::read_to_string(root().join("examples/polyglot").join(service).join("service.kdl")).expect("spec readable")
    }
}

#[test]
fn egress_is_exactly_the_calls_and_resources_on_the_port_served_there() {
    let p = polyglot();
    let instances = p.instances();
    assert_eq!(instances.len(), 4, "dev, staging, prod and one preview: {instances:?}");
    let dns = json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}).to_string();
    let mut checked = 0;
    for instance in &instances {
        for s in &p.ws.services {
            let name = &s.name.value;
            let policy = p.object(name, instance, "NetworkPolicy", name);
            let mut want = BTreeSet::from([(dns.clone(), ["UDP/53".to_string(), "TCP/53".to_string()].into())]);
            for callee in callees_of(&p, s) {
                want.insert((pods(&callee).to_string(), tcp(&[reached_port(s, p.service(&callee))])));
            }
            let mut cloud = Vec::new();
            for u in &s.uses {
                let prov = provisioner(instance, &u.ty.value);
                let port = served_port(&u.ty.value, prov);
                match prov {
                    Provisioner::InCluster => {
                        want.insert((pods(&format!("{name}-{}", u.name.value)).to_string(), tcp(&[port])));
                    }
                    Provisioner::Aws => cloud.push(port),
                }
            }
            if !cloud.is_empty() {
                // Managed servers outside the cluster, and HTTPS for the AWS APIs; the platform
                // uses IRSA, so no rule for the EKS Pod Identity agent.
                cloud.push(443);
                want.insert((json!({"ipBlock": {"cidr": "0.0.0.0/0"}}).to_string(), tcp(&cloud)));
            }
            assert_eq!(rules(&policy, "egress", "to"), want, "{name} in {instance}: egress");
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * p.ws.services.len());
}

/// The services `s` reaches: its `calls`, and the services its env values name in
/// `${service.NAME...}` (a reference counts as a call).
fn callees_of(p: &Polyglot, s: &Service) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = s.calls.iter().map(|c| c.service.value.clone()).collect();
    for piece in p.spec_text(&s.name.value).split("${service.").skip(1) {
        out.insert(piece.split('.').next().unwrap().to_string());
    }
    out
}

#[test]
fn each_callee_admits_exactly_its_callers_on_the_port_they_reach() {
    let p = polyglot();
    for s in &p.ws.services {
        let name = &s.name.value;
        // port -> callers that reach it
        let mut want: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
        for caller in &p.ws.services {
            if callees_of(&p, caller).contains(name) {
                want.entry(reached_port(caller, s)).or_default().insert(pods(&caller.name.value).to_string());
            }
        }
        let policy = p.object(name, "prod", "NetworkPolicy", name);
        let got: BTreeMap<u64, BTreeSet<String>> = rules(&policy, "ingress", "from")
            .into_iter()
            .filter(|(peers, _)| peers.contains("podSelector") && !peers.contains("namespaceSelector"))
            .map(|(peers, ports)| {
                assert_eq!(ports.len(), 1, "{name}: one port per caller rule: {ports:?}");
                let port = ports.iter().next().unwrap().trim_start_matches("TCP/").parse().unwrap();
                (port, peers.split(' ').map(str::to_string).collect())
            })
            .collect();
        assert_eq!(got, want, "{name}: ingress from callers");
    }
    // The checkout admits the frontend on its gRPC port only: its metrics port is Prometheus's.
    let checkout = p.object("checkout", "prod", "NetworkPolicy", "checkout");
    let from_frontend: Vec<_> = rules(&checkout, "ingress", "from").into_iter().filter(|(peers, _)| peers.contains("frontend")).collect();
    assert_eq!(from_frontend, vec![(pods("frontend").to_string(), tcp(&[5050]))]);
}

/// The secret outputs of the types the example uses, from the type definitions.
fn secret_outputs(ws: &Workspace, ty: &str) -> BTreeSet<String> {
    let t = ws.types.get(ty).unwrap_or_else(|| panic!("no type {ty}"));
    t.outputs.values().filter(|o| o.secret).map(|o| o.name.clone()).collect()
}

#[test]
fn secrets_reach_containers_only_through_secret_key_refs() {
    let p = polyglot();
    let mut composed = 0;
    for instance in p.instances() {
        for s in &p.ws.services {
            let name = &s.name.value;
            let deployment = p.object(name, &instance, "Deployment", name);
            let env = deployment["spec"]["template"]["spec"]["containers"][0]["env"].as_array().cloned().unwrap_or_default();
            let from_secret: BTreeSet<&str> = env.iter().filter(|e| e["valueFrom"]["secretKeyRef"].is_object()).map(|e| e["name"].as_str().unwrap()).collect();
            for u in &s.uses {
                for output in secret_outputs(&p.ws, &u.ty.value) {
                    let reference = Reference::Resource { name: u.name.value.clone(), output: output.clone() };
                    for var in s.env.iter().filter(|v| v.value.refs().any(|r| r.value == reference)) {
                        let var_name = var.name.value.as_str();
                        let e = env.iter().find(|e| e["name"] == var_name).unwrap_or_else(|| panic!("{name}/{instance}: {var_name} not in the container"));
                        if e["valueFrom"]["secretKeyRef"].is_object() {
                            continue;
                        }
                        // Composed by the kubelet: every $(VAR) it names is a secretKeyRef or a
                        // value without secrets; the secret output's own variable is one.
                        let value = e["value"].as_str().unwrap_or_else(|| panic!("{name}/{instance}: {var_name} has neither value nor secretKeyRef"));
                        assert!(!value.contains("${"), "{name}/{instance}: {var_name} = {value}");
                        let own = format!("$({}_{})", u.name.value.to_uppercase().replace('-', "_"), output.to_uppercase());
                        assert!(value.contains(&own), "{name}/{instance}: {var_name} = {value} does not expand {own}");
                        assert!(from_secret.contains(own.trim_start_matches("$(").trim_end_matches(')')), "{name}/{instance}: {own} is not a secretKeyRef");
                        composed += 1;
                    }
                }
            }
            // No ConfigMap of the service names a variable that carries a secret.
            for o in p.objects(name, &instance).iter().filter(|o| o["kind"] == "ConfigMap") {
                for v in &from_secret {
                    assert!(o["data"].get(*v).is_none(), "{name}/{instance}: ConfigMap {} holds {v}", o["metadata"]["name"]);
                }
            }
        }
    }
    // The cart's REDIS_ADDR in every instance.
    assert_eq!(composed, 4, "composed connection strings checked");
    // And nowhere in the tree is a password written after `password=` other than as a variable.
    for (path, bytes) in &p.files {
        let text = String::from_utf8_lossy(bytes);
        for piece in text.split("password=").skip(1) {
            assert!(piece.starts_with("$("), "{path}: password=... is not a variable: {}", &piece[..piece.len().min(40)]);
        }
    }
}

#[test]
fn each_service_maps_its_declared_port_to_the_listening_container_port() {
    let p = polyglot();
    let mut differ = BTreeSet::new();
    for instance in p.instances() {
        for s in p.ws.services.iter().filter(|s| !s.ports.is_empty()) {
            let name = &s.name.value;
            let svc = p.object(name, &instance, "Service", name);
            let deployment = p.object(name, &instance, "Deployment", name);
            let container_ports = deployment["spec"]["template"]["spec"]["containers"][0]["ports"].as_array().unwrap().clone();
            let ports = svc["spec"]["ports"].as_array().unwrap();
            assert_eq!(ports.len(), s.ports.len(), "{name}/{instance}: Service ports");
            for (declared, sp) in s.ports.iter().zip(ports) {
                assert_eq!(sp["port"], u64::from(declared.number.value), "{name}/{instance}: Service port {}", declared.name.value);
                let target = sp["targetPort"].as_str().expect("targetPort by name");
                let cp = container_ports.iter().find(|c| c["name"] == target).unwrap_or_else(|| panic!("{name}/{instance}: no container port {target}"));
                assert_eq!(cp["containerPort"], u64::from(declared.container()), "{name}/{instance}: container port {target}");
                if declared.container() != declared.number.value {
                    differ.insert(format!("{name}:{}->{}", declared.number.value, declared.container()));
                }
            }
        }
    }
    assert_eq!(differ, BTreeSet::from(["email:5000->8080".to_string(), "frontend:80->8080".to_string()]));
    // Callers address the Service's port; the Dockerfile exposes the container's.
    let checkout_config = p.object("checkout", "prod", "ConfigMap", "checkout-config");
    assert_eq!(checkout_config["data"]["EMAIL_SERVICE_ADDR"], "email.boutique-prod.svc.cluster.local:5000", "{checkout_config}");
    assert!(p.text("deploy/email/Dockerfile").contains("EXPOSE 8080"), "{}", p.text("deploy/email/Dockerfile"));
}

#[test]
fn no_ci_job_builds_an_image_marked_not_built() {
    let p = polyglot();
    let ci: Json = serde_saphyr::from_str(p.text(".gitlab-ci.yml")).expect("pipeline is YAML");
    let jobs: BTreeSet<&str> = ci.as_object().unwrap().keys().map(String::as_str).collect();
    let not_built: Vec<&Service> = p.ws.services.iter().filter(|s| s.prebuilt.is_some()).collect();
    assert_eq!(not_built.iter().map(|s| s.name.value.as_str()).collect::<Vec<_>>(), ["jaeger", "otel-collector"]);
    for s in &p.ws.services {
        let name = s.name.value.as_str();
        let built = !not_built.iter().any(|n| n.name.value == name);
        for job in [format!("image-{name}"), format!("test-{name}")] {
            assert_eq!(jobs.contains(job.as_str()), built, "{name}: job {job} (built: {built})");
        }
        assert_eq!(p.files.contains_key(&format!("deploy/{name}/Dockerfile")), built, "{name}: Dockerfile");
    }
    // No job's script names a third-party image or its service's directory.
    let text = p.text(".gitlab-ci.yml");
    for s in &not_built {
        assert!(!text.contains(&s.name.value), "the pipeline mentions {}", s.name.value);
        let image = &s.image.as_ref().unwrap().value;
        let repository = image.rsplit_once(':').unwrap().0;
        assert!(!text.contains(repository), "the pipeline mentions {repository}");
    }
    // They run the tag their spec pins, in every instance.
    for instance in p.instances() {
        let d = p.object("otel-collector", &instance, "Deployment", "otel-collector");
        assert_eq!(d["spec"]["template"]["spec"]["containers"][0]["image"], "docker.io/otel/opentelemetry-collector-contrib:0.114.0");
    }
}

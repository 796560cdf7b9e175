//! A Service port that differs from the container port (`port www 80 target=8080`, issue 20):
//! what each generated object does with each number, beyond what a validator sees. The
//! Service listens on the declared port and forwards to the container port; the container,
//! its probes, the NetworkPolicies on both sides of a call (which see pod ports, not Service
//! ports) and the Dockerfile use the container port; callers are told the Service's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use platc_check::fs::MemoryFs;
use platc_syntax::diagnostics::{render, Format};
use serde_json::Value as Json;

mod common;

const WEB: &str = r#"service web {
    owner team-web
    language go
    port www 80 target=8080
    port grpc 5000 target=50051
    route "/internal"
    health {
        readiness http "/ready" port=www
        liveness grpc port=grpc
    }
}
"#;

const FRONT: &str = r#"service front {
    owner team-web
    language node
    port http 3000
    health readiness="/ready"
    env WEB_URL="${service.web.url}" WEB_PORT="${service.web.port}"
}
"#;

/// Every file of a dev build of the tree.
fn build(files: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    let mut fs = MemoryFs::new();
    for (path, text) in files {
        fs.add(Path::new(common::ROOT).join(path), *text);
    }
    let opts = platc_emit::lower::BuildOptions { env: Some("dev".into()), ..Default::default() };
    let r = platc::build::build_paths(&fs, &[PathBuf::from(common::ROOT)], &[], Path::new(common::ROOT), &opts).expect("loads");
    let diags: Vec<_> = r.diags.iter().cloned().collect();
    r.output.unwrap_or_else(|| panic!("build failed:\n{}", render(&diags, &r.loaded.sources, Format::Human, false))).files
}

/// The object of `kind` named like `service` in `service`'s dev manifests.
fn object(files: &BTreeMap<String, Vec<u8>>, service: &str, kind: &str) -> Json {
    named(files, service, kind, service)
}

/// The object of `kind` named `name` in `service`'s dev manifests.
fn named(files: &BTreeMap<String, Vec<u8>>, service: &str, kind: &str, name: &str) -> Json {
    let path = format!("deploy/{service}/manifests/dev/{}-{name}.yaml", kind.to_ascii_lowercase());
    let text = std::str::from_utf8(files.get(&path).unwrap_or_else(|| panic!("no {path}"))).expect("UTF-8");
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every port number a NetworkPolicy rule list allows.
fn rule_ports(rules: &Json) -> Vec<u64> {
    rules.as_array().into_iter().flatten().flat_map(|r| r["ports"].as_array().into_iter().flatten()).filter_map(|p| p["port"].as_u64()).collect()
}

fn tree() -> BTreeMap<String, Vec<u8>> {
    build(&[("platform.kdl", common::PLATFORM), ("web/service.kdl", WEB), ("front/service.kdl", FRONT)])
}

#[test]
fn the_service_maps_its_port_to_the_container_port() {
    let files = tree();
    let svc = object(&files, "web", "Service");
    let ports: Vec<(u64, &str)> = svc["spec"]["ports"].as_array().unwrap().iter().map(|p| (p["port"].as_u64().unwrap(), p["targetPort"].as_str().unwrap())).collect();
    assert_eq!(ports, [(80, "www"), (5000, "grpc")]);
    let deployment = object(&files, "web", "Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let container_ports: Vec<(&str, u64)> = container["ports"].as_array().unwrap().iter().map(|p| (p["name"].as_str().unwrap(), p["containerPort"].as_u64().unwrap())).collect();
    assert_eq!(container_ports, [("www", 8080), ("grpc", 50051)], "the named targets the Service forwards to");
    assert_eq!(container["readinessProbe"]["httpGet"]["port"], "www");
    // A gRPC probe takes a number, which must be the one the container listens on.
    assert_eq!(container["livenessProbe"]["grpc"]["port"], 50051);
    let dockerfile = std::str::from_utf8(&files["deploy/web/Dockerfile"]).unwrap();
    assert!(dockerfile.contains("EXPOSE 8080") && !dockerfile.contains("EXPOSE 80\n"), "the image exposes the container port:\n{dockerfile}");
}

#[test]
fn network_policies_use_pod_ports_and_callers_the_service_port() {
    let files = tree();
    let web = object(&files, "web", "NetworkPolicy");
    let ingress = rule_ports(&web["spec"]["ingress"]);
    assert!(!ingress.contains(&80) && !ingress.contains(&5000), "a Service port means nothing to a NetworkPolicy: {ingress:?}");
    // `front` names web only in `${service.web...}`, which reaches web's first port: the
    // caller is admitted on that pod port and nowhere else (the gRPC port stays closed to it).
    let from_front: Vec<&Json> = web["spec"]["ingress"].as_array().unwrap().iter().filter(|r| r["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "front").collect();
    assert_eq!(rule_ports(&Json::Array(from_front.into_iter().cloned().collect())), [8080], "front is admitted on www's pod port");
    assert!(!ingress.contains(&50051), "nobody calls the gRPC port: {ingress:?}");
    let front = object(&files, "front", "NetworkPolicy");
    let to_web: Vec<&Json> = front["spec"]["egress"].as_array().unwrap().iter().filter(|r| r["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "web").collect();
    assert_eq!(to_web.len(), 1, "one egress rule to web");
    let egress = rule_ports(&Json::Array(to_web.into_iter().cloned().collect()));
    assert_eq!(egress, [8080], "the caller may reach the pod port its reference names");
    let config = named(&files, "front", "ConfigMap", "front-config");
    assert_eq!(config["data"]["WEB_PORT"], "80", "callers connect through the Service");
    let url = config["data"]["WEB_URL"].as_str().unwrap();
    assert!(url.starts_with("http://web.") && !url.contains("8080"), "the URL names the Service, not the container: {url}");
}

#[test]
fn two_ports_on_one_container_port_are_refused() {
    let spec = "service web {\n    owner team-web\n    language go\n    port www 80 target=8080\n    port http 8080\n}\n";
    let run = common::check_tree(&[("platform.kdl", common::PLATFORM), ("web/service.kdl", spec)], &[]).expect("loads");
    let text = run.render(Format::Human);
    let errors: Vec<&str> = run.diags.iter().filter(|d| d.is_error()).map(|d| d.code.as_str()).collect();
    assert_eq!(errors, ["E0301"], "{text}");
    assert!(text.contains("container port"), "{text}");
    let spec = "service web {\n    owner team-web\n    language go\n    port www 80 target=0\n}\n";
    let run = common::check_tree(&[("platform.kdl", common::PLATFORM), ("web/service.kdl", spec)], &[]).expect("loads");
    assert!(run.diags.iter().any(|d| d.is_error()), "target=0 is not a port: {}", run.render(Format::Human));
}

/// The built-in redis type, with `extra` added to its children (an overlay replaces it).
fn redis_overlay(extra: &str) -> String {
    let builtin = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib/types/redis.kdl")).expect("stdlib/types/redis.kdl");
    let (head, rest) = builtin.split_once("{\n").expect("a children block");
    format!("{head}{{\n    {extra}\n{rest}")
}

const CART: &str = "service cart {\n    owner team-cart\n    language go\n    port http 8080\n    health readiness=\"/ready\"\n    uses redis cache\n}\n";

/// Every file of a build of `cart` with a stdlib overlay holding `types/redis.kdl`.
fn build_with_redis(redis: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut fs = MemoryFs::new();
    let root = Path::new(common::ROOT);
    fs.add(root.join("platform.kdl"), common::PLATFORM);
    fs.add(root.join("cart/service.kdl"), CART);
    fs.add(root.join("overlay/types/redis.kdl"), redis);
    let r = platc::build::build_paths(&fs, &[root.to_path_buf()], &[root.join("overlay")], root, &Default::default()).expect("loads");
    let diags: Vec<_> = r.diags.iter().cloned().collect();
    r.output.map(|o| o.files).ok_or_else(|| render(&diags, &r.loaded.sources, Format::Human, false))
}

/// The ports of the egress rules of `service`'s NetworkPolicy in `env` that go to `peer`
/// (`ipBlock` CIDR or pod name).
fn egress_to(files: &BTreeMap<String, Vec<u8>>, service: &str, env: &str, peer: &str) -> Vec<u64> {
    let path = format!("deploy/{service}/manifests/{env}/networkpolicy-{service}.yaml");
    let policy: Json = serde_saphyr::from_str(std::str::from_utf8(&files[&path]).unwrap()).unwrap();
    let rules: Vec<Json> = policy["spec"]["egress"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["to"][0]["ipBlock"]["cidr"] == peer || r["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == peer)
        .cloned()
        .collect();
    rule_ports(&Json::Array(rules))
}

/// `provisioner aws port=N` in a resource type (issue 20, gap 3): where the managed server
/// listens elsewhere than the in-cluster one, each environment's NetworkPolicy and the
/// Terraform security group open the port of the provisioner serving it there, and only that.
#[test]
fn each_provisioner_is_reached_on_its_own_port() {
    let files = build_with_redis(&redis_overlay("provisioner aws port=6380")).unwrap_or_else(|e| panic!("build failed:\n{e}"));
    // dev: in-cluster, on the template's port.
    assert_eq!(egress_to(&files, "cart", "dev", "cart-cache"), [6379]);
    for env in ["staging", "prod"] {
        let cloud = egress_to(&files, "cart", env, "0.0.0.0/0");
        assert!(cloud.contains(&6380) && !cloud.contains(&6379), "{env}: egress to the managed redis on {cloud:?}");
        let main = std::str::from_utf8(&files[&format!("deploy/cart/terraform/{env}/main.tf")]).unwrap();
        assert!(main.contains("from_port                    = 6380") && !main.contains("6379"), "{env}: the security group and the cluster use 6380:\n{main}");
    }
    let without = build_with_redis(&redis_overlay("")).unwrap_or_else(|e| panic!("build failed:\n{e}"));
    assert!(egress_to(&without, "cart", "prod", "0.0.0.0/0").contains(&6379), "without the entry, port= serves every provisioner");
}

/// The in-cluster template configures the server, so it decides where it listens; a type that
/// says otherwise for in-cluster fails the build at the template instead of opening the wrong
/// port.
#[test]
fn an_in_cluster_port_the_template_does_not_serve_is_refused() {
    let err = build_with_redis(&redis_overlay("provisioner in-cluster port=7000")).expect_err("the template serves 6379");
    assert!(err.contains("E0603") && err.contains("`port.number` is 6379") && err.contains("7000"), "{err}");
    let run = common::check_tree(&[("platform.kdl", common::PLATFORM), ("overlay/types/redis.kdl", &redis_overlay("provisioner on-prem port=1"))], &["overlay"]).expect("loads");
    assert!(run.codes().contains(&"E0205".to_string()), "an unknown provisioner: {}", run.render(Format::Human));
}

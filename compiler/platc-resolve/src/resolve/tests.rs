//! The decisions of the resolve stage, one at a time: port roles, names, provisioners, effective
//! values and the SLO port rule (with its diagnostic).

use std::path::{Path, PathBuf};

use super::*;
use crate::fs::MemoryFs;
use crate::model::Provisioner;

const PLATFORM: &str = include_str!("../../../../tests/cases/fixtures/platform.kdl");
const ROOT: &str = "/repo";

/// Resolves `services` (`(directory, service.kdl)`) under the shared test platform, for every
/// environment that needs no branch, and the diagnostics of checking them.
fn resolved(services: &[(&str, &str)]) -> (Option<Resolved>, Vec<String>) {
    let mut fs = MemoryFs::new();
    fs.add(Path::new(ROOT).join("platform.kdl"), PLATFORM);
    for (dir, text) in services {
        fs.add(Path::new(ROOT).join(dir).join("service.kdl"), *text);
    }
    let loaded = crate::load::load(&fs, &[PathBuf::from(ROOT)], &[], Path::new(ROOT)).expect("an in-memory tree loads");
    let analysis = crate::driver::analyze(&loaded, &crate::check::Vocabulary::default());
    let codes = analysis.diags.iter().filter(|d| d.is_error()).map(|d| format!("{}: {}", d.code.as_str(), d.message)).collect();
    let (Some(ws), Some(graph)) = (analysis.workspace.as_ref(), analysis.graph.as_ref()) else { return (None, codes) };
    if analysis.diags.has_errors() {
        return (None, codes);
    }
    let opts = BuildOptions::default();
    let envs = environments(ws, &opts).expect("environments");
    (Some(resolve(ws, graph, &envs, &opts, &loaded.sources)), codes)
}

fn ok(services: &[(&str, &str)]) -> Resolved {
    let (r, errors) = resolved(services);
    r.unwrap_or_else(|| panic!("errors: {errors:?}"))
}

fn port_name(rs: &ResolvedService, k: Option<usize>) -> Option<&str> {
    k.map(|k| rs.spec.ports[k].name.value.as_str())
}

/// The symptom of issue 19: an HTTP admin port declared before the gRPC API that the routes
/// reach. The SLO used to measure `admin` (the first serving port); it measures `api`.
const ADMIN_FIRST: &str = r#"service checkout {
    owner team-checkout
    image "ghcr.io/acme/checkout"
    port admin 9090
    port api 50051 protocol=grpc
    route "/checkout.v1.Checkout" port=api public=#true
    health readiness="/ready" liveness="/healthz"
    slo availability="99.9%"
}"#;

#[test]
fn the_slo_measures_the_port_the_routes_reach() {
    let r = ok(&[("checkout", ADMIN_FIRST)]);
    let rs = &r.services[0];
    assert_eq!(port_name(rs, rs.roles.measured), Some("api"));
    assert_eq!(port_name(rs, rs.roles.primary), Some("admin"), "the primary port is still the first one");
    assert_eq!(port_name(rs, rs.roles.metrics), Some("admin"), "Prometheus scrapes the first HTTP port");
    assert_eq!(rs.routes.iter().map(|r| r.target).collect::<Vec<_>>(), vec![Some(1)]);
}

#[test]
fn routes_to_an_http_and_a_grpc_port_make_the_slo_ambiguous() {
    let both = ADMIN_FIRST.replace(r#"    slo"#, "    route \"/admin\" port=admin public=#true\n    slo");
    let (r, errors) = resolved(&[("checkout", &both)]);
    assert!(r.is_none());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("E0413: the SLO of `checkout` cannot tell which port it measures: its public routes reach `api` (grpc) and `admin` (http)"), "{errors:?}");
    // Without an SLO nothing is ambiguous: request alerts and the dashboard follow the first route.
    let no_slo = both.replace("    slo availability=\"99.9%\"\n", "");
    let r = ok(&[("checkout", &no_slo)]);
    assert_eq!(port_name(&r.services[0], r.services[0].roles.measured), Some("api"));
}

/// A gRPC service that others call, with an internal HTTP route for the back office (the shop's
/// catalog): callers outweigh internal routes.
#[test]
fn calls_outweigh_internal_routes_and_the_first_serving_port_is_the_fallback() {
    let catalog = r#"service catalog {
    owner team-catalog
    image "ghcr.io/acme/catalog"
    port http 8080
    port grpc 9090 protocol=grpc
    route "/admin" port=http
    health readiness="/ready" liveness="/healthz"
    slo availability="99.9%"
}"#;
    let caller = r#"service cart {
    owner team-cart
    image "ghcr.io/acme/cart"
    port http 8080
    health readiness="/ready" liveness="/healthz"
    calls catalog port=grpc
}"#;
    let r = ok(&[("catalog", catalog), ("cart", caller)]);
    let rs = r.services.iter().find(|s| s.name == "catalog").unwrap();
    assert_eq!(port_name(rs, rs.roles.measured), Some("grpc"));
    assert_eq!(rs.callers, vec![Caller { name: "cart".to_string(), port: Some(1) }]);
    let cart = r.services.iter().find(|s| s.name == "cart").unwrap();
    assert_eq!(cart.callees.len(), 1);
    assert_eq!(cart.callees[0].port.as_ref().map(|p| p.number.value), Some(9090));
    // Alone, the internal route decides; without any traffic, the first serving port.
    let r = ok(&[("catalog", catalog)]);
    assert_eq!(port_name(&r.services[0], r.services[0].roles.measured), Some("http"));
    let unrouted = catalog.replace("    route \"/admin\" port=http\n", "");
    let r = ok(&[("catalog", &unrouted)]);
    assert_eq!(port_name(&r.services[0], r.services[0].roles.measured), Some("http"));
}

#[test]
fn the_metrics_port_is_never_measured_and_probes_follow_their_protocol() {
    let svc = r#"service checkout {
    owner team-checkout
    image "ghcr.io/acme/checkout"
    port metrics 9100
    port api 50051 protocol=grpc
    health {
        readiness grpc
        liveness http "/healthz" port=metrics
    }
}"#;
    let r = ok(&[("checkout", svc)]);
    let rs = &r.services[0];
    assert_eq!(port_name(rs, rs.roles.metrics), Some("metrics"));
    assert_eq!(port_name(rs, rs.roles.measured), Some("api"));
    assert_eq!(port_name(rs, rs.roles.readiness), Some("api"));
    assert_eq!(port_name(rs, rs.roles.liveness), Some("metrics"));
    assert_eq!(rs.roles.startup, None);
}

#[test]
fn provisioners_effective_values_and_names_are_decided_per_environment() {
    let svc = r#"service checkout {
    owner team-checkout
    image "ghcr.io/acme/checkout:1.2"
    port http 8080
    health readiness="/ready" liveness="/healthz"
    uses postgres orders version=16 size=small
    env LOG_LEVEL=info
    scale min=2 max=6
    worker mailer {
        command "bin/mailer"
    }
    environment prod {
        scale min=3 max=9
        env LOG_LEVEL=warn
    }
    slo availability="99.9%" window="7d"
}"#;
    let r = ok(&[("checkout", svc)]);
    let rs = &r.services[0];
    assert_eq!(rs.envs.keys().collect::<Vec<_>>(), vec!["dev", "staging", "prod", "preview"], "every environment, in platform.kdl order");
    assert_eq!(rs.envs["dev"].provisioners, vec![Provisioner::InCluster]);
    assert_eq!(rs.envs["prod"].provisioners, vec![Provisioner::Aws]);
    assert_eq!((rs.envs["prod"].scale.min.value, rs.envs["prod"].scale.max.value), (3, 9));
    assert!(rs.envs["prod"].autoscaling && !rs.envs["preview"].autoscaling && rs.envs["preview"].ephemeral);
    let level = |env: &str| rs.envs[env].env.iter().find(|v| v.name.value == "LOG_LEVEL").and_then(|v| v.value.as_literal());
    assert_eq!((level("dev").as_deref(), level("prod").as_deref()), (Some("info"), Some("warn")));
    assert_eq!(rs.image, ImageRef { repository: "ghcr.io/acme/checkout".into(), tag: "1.2".into(), built: true }, "a tag in the spec wins");
    assert_eq!(rs.processes[0].workload, "checkout-mailer");
    assert_eq!(rs.slo.as_ref().map(|s| s.window.to_string()), Some("7d".to_string()));
    assert_eq!((rs.source.as_str(), rs.dir.as_str(), r.platform_source.as_str()), ("checkout/service.kdl", "checkout", "platform.kdl"));
    let prod = r.placements.iter().find(|p| p.env == "prod").unwrap();
    assert_eq!(connection_secret_name(prod, "checkout", "orders"), "platc/prod/checkout/orders");
    assert_eq!(aws_name("acme", prod, "checkout", "orders"), "acme-prod-checkout-orders");
    assert_eq!(connection_secret("checkout", "orders"), "checkout-orders-connection");
    assert_eq!(object_name("checkout", "orders"), "checkout-orders");
    assert_eq!(output_var("orders-db", "host"), "ORDERS_DB_HOST");
    assert_eq!(tf_id("1st-db"), "r_1st_db");
    assert_eq!(route_host("checkout", Some("shop.example.com"), prod), "shop.example.com");
    let routed = ok(&[("checkout", ADMIN_FIRST)]);
    let dev = routed.placements.iter().find(|p| p.env == "dev").unwrap();
    assert_eq!(routed.services[0].routes[0].host(dev), "checkout.dev.acme.example.com", "a route without host= gets NAME.ENV.DOMAIN");
    assert_eq!(route_host("checkout", None, prod), "checkout.prod.acme.example.com");
}

#[test]
fn the_slo_window_defaults_to_the_platform_one() {
    let r = ok(&[("checkout", ADMIN_FIRST)]);
    assert_eq!(r.services[0].slo.as_ref().map(|s| s.window), Some(r.platform.defaults.slo_window));
}

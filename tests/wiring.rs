//! Variables composed from resource outputs (issue 20, gap 2): a connection string with a
//! secret in it, as third-party images want one (`REDIS_ADDR="host:port,password=..."`),
//! reaches the container through Kubernetes' dependent variables. Checked in every
//! environment, whichever provisioner serves the resource there: the composed variable is a
//! `value` of `$(VAR)` references to variables read earlier in the same list from the
//! connection Secret, and no file holds the secret or the composed string.

use std::path::{Path, PathBuf};

use platc_check::fs::MemoryFs;
use platc_syntax::diagnostics::{render, Format};
use serde_json::Value as Json;

mod common;

const CART: &str = r#"service cart {
    owner team-cart
    language go
    port http 8080
    health readiness="/ready"
    uses redis cache
    env REDIS_ADDR="${resources.cache.host}:${resources.cache.port},password=${resources.cache.password},ssl=false"
    env LOG_LEVEL=info
    worker sync {
        command "/app/sync"
    }
}
"#;

#[test]
fn a_secret_inside_a_connection_string_is_composed_by_the_kubelet() {
    let mut fs = MemoryFs::new();
    fs.add(Path::new(common::ROOT).join("platform.kdl"), common::PLATFORM);
    fs.add(Path::new(common::ROOT).join("cart/service.kdl"), CART);
    let r = platc::build::build_paths(&fs, &[PathBuf::from(common::ROOT)], &[], Path::new(common::ROOT), &Default::default()).expect("loads");
    let diags: Vec<_> = r.diags.iter().cloned().collect();
    let files = r.output.unwrap_or_else(|| panic!("build failed:\n{}", render(&diags, &r.loaded.sources, Format::Human, false))).files;
    let mut checked = 0;
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("password=") || text.contains("password=$(CACHE_PASSWORD)"), "{path}: the composed string outside a container's env");
        if !(path.contains("/manifests/") && path.contains("/deployment-cart") && path.ends_with(".yaml")) {
            continue;
        }
        let d: Json = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let env = d["spec"]["template"]["spec"]["containers"][0]["env"].as_array().unwrap_or_else(|| panic!("{path}: no env"));
        let at = |name: &str| env.iter().position(|v| v["name"] == name).unwrap_or_else(|| panic!("{path}: no {name}"));
        let addr = &env[at("REDIS_ADDR")];
        assert_eq!(addr["value"], "$(CACHE_HOST):$(CACHE_PORT),password=$(CACHE_PASSWORD),ssl=false", "{path}");
        assert!(addr.get("valueFrom").is_none(), "{path}: a composed variable is a value");
        for var in ["CACHE_HOST", "CACHE_PORT", "CACHE_PASSWORD"] {
            // The kubelet expands only variables defined earlier in the list.
            assert!(at(var) < at("REDIS_ADDR"), "{path}: {var} comes after REDIS_ADDR");
            assert_eq!(env[at(var)]["valueFrom"]["secretKeyRef"]["name"], "cart-cache-connection", "{path}: {var}");
        }
        checked += 1;
    }
    // The web and the worker Deployment, in each of the fixture's three built environments.
    assert_eq!(checked, 6, "Deployments checked");
    let config = files.iter().filter(|(p, _)| p.contains("/configmap-cart-config")).map(|(_, b)| String::from_utf8_lossy(b).into_owned()).collect::<Vec<_>>();
    assert!(!config.is_empty() && config.iter().all(|c| c.contains("LOG_LEVEL") && !c.contains("REDIS_ADDR")), "only plain values go to the ConfigMap");
}

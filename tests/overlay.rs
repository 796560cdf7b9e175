//! A platform team adds a resource type through a stdlib overlay directory (no rebuild of
//! platc): the release binary checks and builds a service that uses it, and the output passes
//! the same validators as the built-in types (.ci/oracles.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `release/platc` in the target directory cargo uses (`CARGO_TARGET_DIR`, else `target/`).
fn release_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    let target = if target.is_absolute() { target } else { root().join(target) };
    let p = target.join("release").join(format!("platc{}", std::env::consts::EXE_SUFFIX));
    assert!(p.is_file(), "{} is missing: run `cargo build --release` first (.ci/run does)", p.display());
    p
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn an_overlay_resource_type_is_built_and_validated_like_a_builtin() {
    let tmp = tempfile::tempdir().unwrap();
    let stdlib = root().join("stdlib");
    let overlay = tmp.path().join("platform-stdlib");
    // keydb: a Redis-compatible cache, declared entirely in the overlay.
    let redis_type = std::fs::read_to_string(stdlib.join("types/redis.kdl")).unwrap();
    write(&overlay.join("types/keydb.kdl"), &redis_type.replace("resource-type redis port=6379", "resource-type keydb port=6379"));
    let redis_incluster = std::fs::read_to_string(stdlib.join("incluster/redis.yaml.hbs")).unwrap();
    write(&overlay.join("incluster/keydb.yaml.hbs"), &redis_incluster.replace(r#"{{image "redis" resource.params.version}}"#, r#"{{image "keydb" resource.params.version}}"#));
    let mut images = std::fs::read_to_string(stdlib.join("incluster/images.yaml")).unwrap();
    images.push_str("\nkeydb:\n  \"6.2\": docker.io/eqalpha/keydb:x86_64_v6.3.4\n  \"7.0\": docker.io/eqalpha/keydb:x86_64_v6.3.4\n  \"7.1\": docker.io/eqalpha/keydb:x86_64_v6.3.4\n");
    write(&overlay.join("incluster/images.yaml"), &images);
    let tree = tmp.path().join("tree");
    write(
        &tree.join("platform.kdl"),
        "platform acme {\n    cloud aws region=\"eu-west-1\"\n    registry \"ghcr.io/acme\"\n    domain \"acme.example.com\"\n    gitops argocd repo=\"https://github.com/acme/gitops.git\"\n    environment dev { provision in-cluster }\n    environment prod protected=#true { provision in-cluster }\n    policies {\n        min-replicas 2 env=prod\n    }\n}\n",
    );
    write(
        &tree.join("cache/service.kdl"),
        "service cache {\n    owner team-a\n    language go\n    port http 8080\n    route \"/\" public=#true\n    health readiness=\"/ready\" liveness=\"/healthz\"\n    scale min=2 max=4\n    uses keydb sessions\n    env SESSIONS_ADDR=\"${resources.sessions.host}:${resources.sessions.port}\"\n    slo availability=\"99.9%\"\n}\n",
    );
    let platc = release_binary();
    // Without the overlay, keydb is unknown (E0401)...
    let out = Command::new(&platc).args(["check", "--format", "json"]).arg(&tree).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"E0401\""));
    // ...with it, the service checks and builds.
    let out_dir = tmp.path().join("out");
    let build = Command::new(&platc).arg("build").arg(&tree).arg("--stdlib").arg(&overlay).arg("--out").arg(&out_dir).output().unwrap();
    assert!(build.status.success(), "build failed: {}", String::from_utf8_lossy(&build.stderr));
    let sts = out_dir.join("deploy/cache/manifests/dev/statefulset-cache-sessions.yaml");
    let text = std::fs::read_to_string(&sts).unwrap_or_else(|e| panic!("{}: {e}", sts.display()));
    assert!(text.contains("eqalpha/keydb:x86_64_v6.3.4"), "the overlay's image is used");
    // The same validators as for the built-in types.
    let check = Command::new(root().join(".ci/oracles.sh")).arg("check").arg(&out_dir).env("PLATC_CHECKOV", "enforce").env("PLATC_CHECKOV_SKIP", "CKV_K8S_43,CKV_K8S_35").output().unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "validators failed (run `.ci/oracles.sh install` if tools are missing):\n{report}\n{}", String::from_utf8_lossy(&check.stderr));
    assert!(report.lines().last().is_some_and(|l| l.contains(" 0 failed")), "{report}");
}

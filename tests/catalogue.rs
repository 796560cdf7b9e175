//! The built-in types teams ask for first beside the databases (issue 20, gap 4): `mongodb`
//! (DocumentDB with TLS on `aws`, the official mongo image in-cluster) and `amqp` (Amazon MQ for
//! RabbitMQ on amqps 5671, the official rabbitmq image on 5672 in-cluster), with redis' new
//! `username` output.
//!
//! A small tree (the shared platform of tests/cases/fixtures, whose four environments serve
//! in-cluster in dev and preview and with `aws` in staging and prod) is built by the release
//! binary and every file it writes goes through the validators `.ci/run` runs on the examples:
//! `.ci/oracles.sh check` (kubernetes-validate --strict on every manifest and chart rendering,
//! terraform fmt/init/validate against the offline provider mirror, helm lint and template,
//! checkov enforced with the skips of `.ci/run`). A missing validator fails the test: run
//! `.ci/oracles.sh install`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const SERVICE: &str = r#"service reviews {
    owner team-catalog
    description "Product reviews, moderated by a worker that consumes a queue"
    language go
    image "ghcr.io/acme/reviews"
    port http 8080
    health readiness="/ready" liveness="/healthz"
    uses mongodb reviews-db
    uses mongodb archive version="5.0" size=medium replicas=2 storage="5Gi"
    uses amqp moderation size=medium
    uses redis cache
    env MONGO_URL="${resources.reviews-db.url}" AMQP_URL="${resources.moderation.url}" AMQP_TLS="${resources.moderation.tls}"
    env CACHE_USER="${resources.cache.username}"
    worker moderator {
        command "bin/moderator"
    }
}
"#;

/// The checkov skips `.ci/run` gives `.ci/oracles.sh check` (justified in docs/security.md).
fn ci_checkov_skips() -> String {
    let run = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    let line = run.lines().find_map(|l| l.trim().strip_prefix("export PLATC_CHECKOV_SKIP=")).expect(".ci/run exports PLATC_CHECKOV_SKIP");
    line.trim().to_string()
}

fn build(dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("reviews")).unwrap();
    std::fs::write(tree.join("platform.kdl"), common::PLATFORM).unwrap();
    std::fs::write(tree.join("reviews/service.kdl"), SERVICE).unwrap();
    let out = dir.join("out");
    // With a branch: the preview environment is built too.
    let res = Command::new(common::release_binary()).arg("build").arg(&tree).arg("--out").arg(&out).args(["--set", "branch=feature/reviews"]).output().expect("run platc");
    assert!(res.status.success(), "platc build failed:\n{}{}", String::from_utf8_lossy(&res.stdout), String::from_utf8_lossy(&res.stderr));
    out
}

fn objects(out: &Path, env: &str) -> BTreeMap<String, Json> {
    let dir = out.join("deploy/reviews/manifests").join(env);
    let mut all = BTreeMap::new();
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        for o in serde_saphyr::from_multiple::<Json>(&std::fs::read_to_string(&p).unwrap()).unwrap() {
            all.insert(format!("{} {}", o["kind"].as_str().unwrap(), o["metadata"]["name"].as_str().unwrap()), o);
        }
    }
    all
}

fn preview_env(out: &Path) -> String {
    std::fs::read_dir(out.join("deploy/reviews/manifests")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).find(|n| n.starts_with("preview-")).expect("a preview environment")
}

#[test]
fn mongodb_and_amqp_build_in_every_environment_and_pass_the_validators() {
    let dir = common::TempDir::new("catalogue");
    let out = build(dir.path());

    // What each provisioner made of them.
    let preview = preview_env(&out);
    for env in ["dev", preview.as_str()] {
        let o = objects(&out, env);
        for (object, image, port) in [
            ("reviews-reviews-db", "docker.io/library/mongo:8.0.4", 27017),
            ("reviews-archive", "docker.io/library/mongo:5.0.30", 27017),
            ("reviews-moderation", "docker.io/library/rabbitmq:3.13.7", 5672),
        ] {
            let sts = o.get(&format!("StatefulSet {object}")).unwrap_or_else(|| panic!("{env}: no StatefulSet {object}"));
            let c = &sts["spec"]["template"]["spec"]["containers"][0];
            assert_eq!(c["image"], image, "{env} {object}");
            assert_eq!(c["ports"][0]["containerPort"], port, "{env} {object}");
            assert!(c["startupProbe"]["exec"].is_object() && c["readinessProbe"]["exec"].is_object(), "{env} {object}: probes");
            let es = &o[&format!("ExternalSecret {object}-connection")];
            assert_eq!(es["spec"]["dataFrom"][0]["sourceRef"]["generatorRef"]["kind"], "Password", "{env} {object}: a generated password");
            assert!(o.contains_key(&format!("NetworkPolicy {object}")), "{env} {object}");
        }
        // The archive's claim has its `storage`; the others the default.
        assert_eq!(o["StatefulSet reviews-archive"]["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"], "5Gi");
        let data = &o["ExternalSecret reviews-moderation-connection"]["spec"]["target"]["template"]["data"];
        assert_eq!(data["tls"], "false");
        assert!(data["url"].as_str().unwrap().starts_with("amqp://reviews:{{ .password }}@reviews-moderation."), "{data}");
        let mongo = &o["ExternalSecret reviews-reviews-db-connection"]["spec"]["target"]["template"]["data"];
        assert!(mongo["url"].as_str().unwrap().ends_with(":27017/?authSource=admin"), "{mongo}");
        assert_eq!(o["ExternalSecret reviews-cache-connection"]["spec"]["target"]["template"]["data"]["username"], "default");
        let egress = serde_json::to_string(&o["NetworkPolicy reviews"]["spec"]["egress"]).unwrap();
        assert!(egress.contains("\"port\":5672") && egress.contains("\"port\":27017"), "{env}: {egress}");
    }
    for env in ["staging", "prod"] {
        let o = objects(&out, env);
        for r in ["reviews-db", "archive", "moderation", "cache"] {
            let es = &o[&format!("ExternalSecret reviews-{r}-connection")];
            assert_eq!(es["spec"]["dataFrom"][0]["extract"]["key"], format!("platc/{env}/reviews/{r}"), "{env} {r}");
        }
        // Amazon MQ listens on 5671 (TLS) only: the service's egress says so, and 5672 is closed.
        let egress = serde_json::to_string(&o["NetworkPolicy reviews"]["spec"]["egress"]).unwrap();
        assert!(egress.contains("\"port\":5671") && !egress.contains("\"port\":5672"), "{env}: {egress}");
        let main = std::fs::read_to_string(out.join(format!("deploy/reviews/terraform/{env}/main.tf"))).unwrap();
        for line in [
            "engine             = \"docdb\"",
            "engine_version     = \"8.0.0\"",
            "engine_version     = \"5.0.0\"",
            "family      = \"docdb8.0\"",
            "storage_encrypted = true",
            "engine_type    = \"RabbitMQ\"",
            "publicly_accessible        = false",
            "from_port                    = 5671",
            "from_port                    = 27017",
            "tls      = \"true\"",
            "username = \"default\"",
        ] {
            assert!(main.contains(line), "{env}: main.tf lacks `{line}`");
        }
        assert!(main.contains("?tls=true&replicaSet=rs0&readPreference=secondaryPreferred&retryWrites=false\""), "{env}: the DocumentDB URL");
        assert_eq!(main.contains("deployment_mode    = \"CLUSTER_MULTI_AZ\""), env == "prod", "{env}: a multi-AZ broker cluster in protected environments only");
    }

    // The validators, as .ci/run runs them on the examples.
    let res = Command::new("bash")
        .arg(root().join(".ci/oracles.sh"))
        .arg("check")
        .arg(&out)
        .env("PLATC_CHECKOV", "enforce")
        .env("PLATC_CHECKOV_SKIP", ci_checkov_skips())
        .output()
        .expect("run .ci/oracles.sh");
    let text = String::from_utf8_lossy(&res.stdout).into_owned();
    let fails: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL") || l.starts_with("      |")).collect();
    assert!(res.status.success() && fails.is_empty(), ".ci/oracles.sh check failed:\n{}\n{}", fails.join("\n"), String::from_utf8_lossy(&res.stderr));
    let count = |what: &str| text.lines().filter(|l| l.starts_with("PASS") && l.contains(what)).count();
    assert_eq!(count("terraform validate"), 2, "staging and prod:\n{text}");
    assert!(count("kubernetes-validate") >= 4 * 2, "every environment's manifests and charts:\n{text}");
    assert_eq!(count("checkov (enforce)"), 1, "{text}");
    let summary = text.lines().last().unwrap_or_default().to_string();
    assert!(summary.ends_with(" passed, 0 failed"), "{summary}");
    eprintln!(".ci/oracles.sh check: {summary}");
}

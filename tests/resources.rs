//! Backing resources on the Kubernetes side (issue 4), on examples/shop built for every
//! environment (dev and preview serve everything in-cluster, staging serves redis in-cluster,
//! prod serves everything with `aws`):
//!
//! - every container sees the same env var names in every environment, and each connection
//!   Secret they read is produced there with every key they read (an ExternalSecret from the
//!   Terraform-written secret on `aws`; the in-cluster objects otherwise);
//! - the in-cluster manifests pass `kubernetes-validate --strict` (custom resources only warn);
//! - no generated file holds a literal password or secret: passwords are External Secrets
//!   generator references, and a plain Secret holds no secret output;
//! - every in-cluster workload has requests and limits, the non-root settings, probes and a
//!   pinned image, and a NetworkPolicy admits only its service;
//! - images come from stdlib data that an overlay changes, and broken overlay data is reported.
//!
//! A missing validator fails the test: run `.ci/oracles.sh install`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use platc::build::build_paths;
use platc_check::fs::{MemoryFs, RealFs};
use platc_check::model::Workspace;
use platc_check::stdlib::Stdlib;
use platc_emit::lower::{self, incluster, BuildOptions, Catalog};
use platc_syntax::diagnostics::{render, Format};
use serde_json::Value as Json;

const KUBE_VERSION: &str = "1.32.0";
const BRANCH: &str = "feature/resources";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The path of an installed validator; a missing one fails the test.
fn tool(name: &str) -> PathBuf {
    let out = Command::new("bash").arg(root().join(".ci/oracles.sh")).args(["path", name]).output().expect("run .ci/oracles.sh");
    assert!(out.status.success(), ".ci/oracles.sh path {name} failed: {}", String::from_utf8_lossy(&out.stderr));
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(p.exists(), "{name} is not installed at {} (run .ci/oracles.sh install)", p.display());
    p
}

/// examples/shop, every environment (the preview for a test branch).
struct Shop {
    files: BTreeMap<String, Vec<u8>>,
    ws: Workspace,
}

fn shop() -> Shop {
    let (files, ws) = common::build_example("shop", BRANCH);
    Shop { files, ws }
}

fn parse_docs(text: &str, what: &str) -> Vec<Json> {
    let docs: Vec<Json> = serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{what}: not YAML: {e}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// The environment directories of a service's rendered manifests: `ENV` or `ENV-BRANCH`,
/// mapped to the platform environment.
fn env_of(dir: &str, ws: &Workspace) -> String {
    ws.platform.environments.keys().find(|e| dir == e.as_str() || dir.starts_with(&format!("{e}-"))).cloned().unwrap_or_else(|| panic!("{dir}: no such environment"))
}

impl Shop {
    /// Rendered objects of `service` by environment.
    fn objects(&self, service: &str) -> BTreeMap<String, Vec<Json>> {
        let prefix = format!("deploy/{service}/manifests/");
        let mut out: BTreeMap<String, Vec<Json>> = BTreeMap::new();
        for (path, bytes) in self.files.range(prefix.clone()..).take_while(|(p, _)| p.starts_with(&prefix)) {
            let dir = path[prefix.len()..].split('/').next().unwrap();
            let env = env_of(dir, &self.ws);
            out.entry(env).or_default().extend(parse_docs(&String::from_utf8_lossy(bytes), path));
        }
        out
    }

    fn provisioner(&self, env: &str, ty: &str) -> &'static str {
        self.ws.platform.environments[env].provisioner_for(ty).as_str()
    }
}

fn kind<'a>(objects: &'a [Json], kind: &str) -> impl Iterator<Item = &'a Json> + 'a {
    let kind = kind.to_string();
    objects.iter().filter(move |o| o["kind"] == kind.as_str())
}

fn named<'a>(objects: &'a [Json], k: &str, name: &str) -> Option<&'a Json> {
    kind(objects, k).find(|o| o["metadata"]["name"] == name)
}

/// The pod spec of a Deployment, StatefulSet or CronJob.
fn pod_spec(o: &Json) -> &Json {
    if o["kind"] == "CronJob" {
        &o["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    } else {
        &o["spec"]["template"]["spec"]
    }
}

/// The service's own workloads (not its resources'): container name -> env var names.
fn service_env(objects: &[Json], service: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for o in objects.iter().filter(|o| ["Deployment", "CronJob"].contains(&o["kind"].as_str().unwrap_or("")) && o["metadata"]["labels"]["app.kubernetes.io/name"] == service) {
        for c in pod_spec(o)["containers"].as_array().unwrap() {
            let names = c["env"].as_array().map(|e| e.iter().map(|v| v["name"].as_str().unwrap().to_string()).collect()).unwrap_or_default();
            out.insert(c["name"].as_str().unwrap().to_string(), names);
        }
    }
    out
}

/// The keys of Secret `name` as the objects of one environment produce it, and how.
fn secret_keys(objects: &[Json], name: &str) -> Option<(String, BTreeSet<String>)> {
    if let Some(s) = named(objects, "Secret", name) {
        return Some(("Secret".into(), s["stringData"].as_object().unwrap().keys().cloned().collect()));
    }
    let es = kind(objects, "ExternalSecret").find(|o| o["spec"]["target"]["name"] == name)?;
    match es["spec"]["target"]["template"]["data"].as_object() {
        Some(data) => Some(("generated".into(), data.keys().cloned().collect())),
        None => Some(("extract".into(), BTreeSet::new())),
    }
}

// ------------------------------------------------------------------------------------ tests

#[test]
fn the_app_sees_the_same_env_names_in_every_environment() {
    let shop = shop();
    let ws = &shop.ws;
    let mut checked = 0;
    for s in &ws.services {
        let name = &s.name.value;
        let by_env = shop.objects(name);
        assert_eq!(by_env.keys().cloned().collect::<Vec<_>>(), vec!["dev", "preview", "prod", "staging"], "{name}: environments built");
        // Names the spec sets only in one environment (`environment E { env ... }`) are the
        // spec's own difference, not the provisioner's.
        let base: BTreeSet<&str> = s.env.iter().map(|v| v.name.value.as_str()).collect();
        let own = |env: &str| -> BTreeSet<String> {
            s.overrides.iter().filter(|o| o.environment.value == env).flat_map(|o| o.env.iter()).map(|v| v.name.value.clone()).filter(|n| !base.contains(n.as_str())).collect()
        };
        let envs: BTreeMap<&String, BTreeMap<String, BTreeSet<String>>> = by_env
            .iter()
            .map(|(env, objects)| {
                let mut m = service_env(objects, name);
                let extra = own(env);
                for names in m.values_mut() {
                    names.retain(|n| !extra.contains(n));
                }
                (env, m)
            })
            .collect();
        let prod = &envs[&"prod".to_string()];
        for (env, containers) in &envs {
            assert_eq!(containers, prod, "{name}: the containers of `{env}` see other env var names than in prod");
        }
        // Every output of every resource is a variable, and its Secret exists with that key.
        for u in &s.uses {
            let ty = ws.types.get(&u.ty.value).unwrap();
            let secret = format!("{name}-{}-connection", u.name.value);
            for (env, objects) in &by_env {
                let vars: BTreeSet<String> = service_env(objects, name).into_values().flatten().collect();
                let (how, keys) = secret_keys(objects, &secret).unwrap_or_else(|| panic!("{name} in {env}: nothing creates Secret {secret}"));
                let provisioner = shop.provisioner(env, &u.ty.value);
                match provisioner {
                    "aws" => {
                        assert_eq!(how, "extract", "{name} in {env}: {secret} on aws");
                        let es = kind(objects, "ExternalSecret").find(|o| o["spec"]["target"]["name"] == secret.as_str()).unwrap();
                        let instance = if env == "preview" { format!("preview-{}", platc_emit::lower::preview_slug(BRANCH, 40)) } else { env.to_string() };
                        assert_eq!(es["spec"]["dataFrom"], serde_json::json!([{"extract": {"key": format!("platc/{instance}/{name}/{}", u.name.value)}}]), "{name} in {env}");
                        assert_eq!(es["spec"]["secretStoreRef"]["name"], Json::from(ws.platform.secret_store.name.as_str()));
                    }
                    _ => {
                        let outputs: BTreeSet<String> = ty.outputs.keys().cloned().collect();
                        assert!(keys.is_superset(&outputs), "{name} in {env}: {secret} lacks outputs: has {keys:?}, needs {outputs:?}");
                    }
                }
                for out in ty.outputs.keys() {
                    let var = format!("{}_{}", u.name.value, out).to_ascii_uppercase().replace('-', "_");
                    let defined_by_spec = s.env.iter().chain(s.overrides.iter().flat_map(|o| o.env.iter())).any(|v| v.name.value == var);
                    assert!(defined_by_spec || vars.contains(&var), "{name} in {env}: no env var {var}");
                }
                checked += 1;
            }
        }
        // Every secretKeyRef to a connection Secret names a key it has.
        for (env, objects) in &by_env {
            for o in objects.iter().filter(|o| ["Deployment", "CronJob", "StatefulSet"].contains(&o["kind"].as_str().unwrap_or(""))) {
                for c in pod_spec(o)["containers"].as_array().unwrap() {
                    for v in c["env"].as_array().into_iter().flatten() {
                        let Some(r) = v["valueFrom"].get("secretKeyRef") else { continue };
                        let secret = r["name"].as_str().unwrap();
                        if !secret.ends_with("-connection") {
                            continue;
                        }
                        let (how, keys) = secret_keys(objects, secret).unwrap_or_else(|| panic!("{name} in {env}: {secret} is never created"));
                        if how != "extract" {
                            assert!(keys.contains(r["key"].as_str().unwrap()), "{name} in {env}: {secret} has no key {}", r["key"]);
                        }
                    }
                }
            }
        }
    }
    assert!(checked >= 6 * 4, "only {checked} resource x environment pairs checked");
}

#[test]
fn in_cluster_manifests_pass_kubernetes_validate() {
    let shop = shop();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut resources = 0;
    for s in &shop.ws.services {
        for (env, objects) in shop.objects(&s.name.value) {
            for (i, o) in objects.iter().enumerate() {
                // Everything a resource served in-cluster consists of, and the services'
                // objects beside them.
                if o["metadata"]["labels"].get("platc.dev/service").is_some() {
                    resources += 1;
                }
                let p = dir.path().join(format!("{}-{env}-{i}.yaml", s.name.value));
                std::fs::write(&p, serde_json::to_string(o).unwrap()).unwrap();
                files.push(p);
            }
        }
    }
    assert!(resources > 40, "only {resources} in-cluster resource objects");
    let out = Command::new(tool("kubernetes-validate")).args(["--strict", "-k", KUBE_VERSION]).args(&files).output().expect("run kubernetes-validate");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let errors: Vec<&str> = text.lines().filter(|l| !l.starts_with("INFO") && !l.starts_with("WARN")).collect();
    let warned: Vec<&str> = text.lines().filter(|l| l.starts_with("WARN")).filter(|l| !l.contains("Couldn't find schema for kind")).collect();
    assert!(
        out.status.success() && errors.is_empty() && warned.is_empty(),
        "kubernetes-validate --strict -k {KUBE_VERSION}:\n{}",
        errors.iter().chain(&warned).copied().collect::<Vec<_>>().join("\n")
    );
    let passed = text.lines().filter(|l| l.starts_with("INFO") && l.contains(" passed ")).count();
    for k in ["statefulset/", "deployment/", "service/", "networkpolicy/", "secret/"] {
        assert!(text.lines().any(|l| l.starts_with("INFO") && l.contains(&format!("resource {k}"))), "no {k} validated");
    }
    assert!(passed > 200, "only {passed} objects validated");
}

/// `user:password@` in a URL, where the password is not a reference (`{{ .x }}`, `$(X)`,
/// `${x}`): a literal credential.
fn literal_url_credentials(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let after = &rest[i + 3..];
        let end = after.find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '/').unwrap_or(after.len());
        let authority = &after[..end];
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if let Some((_, password)) = userinfo.split_once(':') {
                if !(password.is_empty() || password.starts_with("{{") || password.starts_with("$(") || password.starts_with("${")) {
                    found.push(authority.to_string());
                }
            }
        }
        rest = after;
    }
    found
}

/// Map entries named like a credential whose value is a literal, anywhere in a YAML value;
/// env vars named like one with a literal `value`.
fn literal_secrets(v: &Json, path: &str, out: &mut Vec<String>) {
    let secretish = |k: &str| {
        let k = k.to_ascii_lowercase();
        ["password", "passwd", "secret", "token", "apikey", "api_key"].iter().any(|w| k.contains(w))
    };
    // Keys that name secrets rather than hold them.
    let names = ["secretName", "secretKey", "secretStoreRef", "secretKeyRef", "existingSecret", "connectionSecret", "automountServiceAccountToken"];
    match v {
        Json::Object(m) => {
            if let (Some(Json::String(n)), Some(Json::String(val))) = (m.get("name"), m.get("value")) {
                if secretish(n) && !val.is_empty() {
                    out.push(format!("{path}: env {n} has a literal value"));
                }
            }
            for (k, x) in m {
                if let Json::String(s) = x {
                    if secretish(k) && !names.contains(&k.as_str()) && !s.is_empty() && !s.trim_start().starts_with("{{") {
                        out.push(format!("{path}.{k}: literal `{s}`"));
                    }
                }
                literal_secrets(x, &format!("{path}.{k}"), out);
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                literal_secrets(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn no_generated_file_holds_a_literal_secret() {
    let shop = shop();
    let ws = &shop.ws;
    let mut problems = Vec::new();
    let mut yaml_files = 0;
    for (path, bytes) in &shop.files {
        let text = String::from_utf8_lossy(bytes);
        for c in literal_url_credentials(&text) {
            problems.push(format!("{path}: URL with a literal password: {c}"));
        }
        // Manifests and chart values (templates are not YAML until rendered).
        if (path.ends_with(".yaml") || path.ends_with(".yml")) && !path.contains("/templates/") && path.starts_with("deploy/") {
            yaml_files += 1;
            for d in parse_docs(&text, path) {
                literal_secrets(&d, path, &mut problems);
            }
        }
    }
    assert!(yaml_files > 300, "only {yaml_files} YAML files scanned");
    // The connection Secrets: generator references, never values, and no secret output in a
    // plain Secret.
    let mut generated = 0;
    for s in &ws.services {
        for (env, objects) in shop.objects(&s.name.value) {
            for secret in kind(&objects, "Secret") {
                let ty = secret["metadata"]["labels"]["app.kubernetes.io/component"].as_str().unwrap_or_default();
                let t = ws.types.get(ty).unwrap_or_else(|| panic!("{env}: Secret {} of no resource type", secret["metadata"]["name"]));
                for (k, o) in &t.outputs {
                    assert!(!(o.secret && secret["stringData"].get(k).is_some()), "{env}: plain Secret {} holds secret output {k}", secret["metadata"]["name"]);
                }
            }
            for es in kind(&objects, "ExternalSecret").filter(|e| e["spec"]["target"]["template"].is_object()) {
                let data = es["spec"]["target"]["template"]["data"].as_object().unwrap();
                assert_eq!(data["password"], "{{ .password }}", "{env}: {}: the password is the generator's output", es["metadata"]["name"]);
                let refs = es["spec"]["dataFrom"].as_array().unwrap();
                assert!(!refs.is_empty() && refs.iter().all(|r| r["sourceRef"]["generatorRef"]["kind"] == "Password"), "{env}: {} reads generators only", es["metadata"]["name"]);
                let generator = refs[0]["sourceRef"]["generatorRef"]["name"].as_str().unwrap();
                assert!(named(&objects, "Password", generator).is_some(), "{env}: no Password generator {generator}");
                assert_eq!(es["spec"]["refreshPolicy"], "CreatedOnce", "{env}: a generated password is generated once");
                generated += 1;
            }
        }
    }
    assert!(generated >= 8, "only {generated} generated connection Secrets");
    assert!(problems.is_empty(), "literal secrets:\n{}", problems.join("\n"));
    // The scanner itself finds what it looks for.
    assert_eq!(literal_url_credentials("postgres://app:hunter2@db:5432/x"), vec!["app:hunter2@db:5432"]);
    assert!(literal_url_credentials("postgres://app:{{ .password }}@db:5432/x redis://:$(P)@h:1").is_empty());
    let mut found = Vec::new();
    literal_secrets(&serde_json::json!({"env": [{"name": "DB_PASSWORD", "value": "x"}], "data": {"password": "hunter2"}}), "t", &mut found);
    assert_eq!(found.len(), 2, "{found:?}");
}

/// The objects of `uses` served in-cluster in one environment: bounded, non-root, probed,
/// pinned, reachable only by their service. Returns the workload.
fn check_in_cluster<'a>(objects: &'a [Json], service: &str, u: &platc_check::model::Uses, env: &str) -> &'a Json {
    let object = format!("{service}-{}", u.name.value);
    let w = ["StatefulSet", "Deployment"].iter().find_map(|k| named(objects, k, &object)).unwrap_or_else(|| panic!("{object} in {env}: no workload"));
    let what = format!("{} {object} in {env}", w["kind"].as_str().unwrap());
    assert_eq!(w["kind"], if ["postgres", "mysql", "redis", "mongodb", "amqp"].contains(&u.ty.value.as_str()) { "StatefulSet" } else { "Deployment" }, "{what}");
    assert_eq!(w["spec"]["replicas"], 1, "{what}");
    let pod = pod_spec(w);
    assert_eq!(pod["automountServiceAccountToken"], false, "{what}");
    let psc = &pod["securityContext"];
    assert_eq!(psc["runAsNonRoot"], true, "{what}");
    assert!(psc["runAsUser"].as_u64().unwrap() >= 10000, "{what}: a high UID");
    assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault", "{what}");
    for c in pod["containers"].as_array().unwrap() {
        for part in ["requests", "limits"] {
            for r in ["cpu", "memory"] {
                assert!(c["resources"][part][r].is_string(), "{what}: resources.{part}.{r}");
            }
        }
        let sc = &c["securityContext"];
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{what}");
        assert_eq!(sc["privileged"], false, "{what}");
        assert_eq!(sc["runAsNonRoot"], true, "{what}");
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{what}");
        assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]), "{what}");
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{what}");
        assert!(c["readinessProbe"].is_object() && c["livenessProbe"].is_object(), "{what}: probes");
        assert_eq!(c["imagePullPolicy"], "Always", "{what}");
        let image = c["image"].as_str().unwrap();
        let tag = image.rsplit('/').next().unwrap().split_once(':').map(|(_, t)| t).unwrap_or("");
        assert!(!tag.is_empty() && tag != "latest", "{what}: image {image} is not pinned");
        // Every mount has a volume (or a claim template).
        let volumes: BTreeSet<&str> =
            pod["volumes"].as_array().unwrap().iter().chain(w["spec"]["volumeClaimTemplates"].as_array().into_iter().flatten().map(|t| &t["metadata"])).map(|v| v["name"].as_str().unwrap()).collect();
        for m in c["volumeMounts"].as_array().into_iter().flatten() {
            assert!(volumes.contains(m["name"].as_str().unwrap()), "{what}: mount {} has no volume", m["name"]);
        }
    }
    // Storage from the `storage` parameter where the type has one.
    if let Some(platc_check::model::ParamValue::Memory(m)) = u.params.get("storage") {
        assert_eq!(w["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"], Json::from(m.to_string()), "{what}");
        assert_eq!(w["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"], "Delete", "{what}: ephemeral");
    }
    // Reached through its Service, only by its own service's pods.
    let port = w["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"].clone();
    let svc = named(objects, "Service", &object).unwrap_or_else(|| panic!("{what}: no Service"));
    assert_eq!(svc["spec"]["ports"][0]["port"], port, "{what}");
    assert_eq!(svc["spec"]["selector"], w["spec"]["selector"]["matchLabels"], "{what}");
    let np = named(objects, "NetworkPolicy", &object).unwrap_or_else(|| panic!("{what}: no NetworkPolicy"));
    assert_eq!(np["spec"]["podSelector"]["matchLabels"], w["spec"]["selector"]["matchLabels"], "{what}");
    assert_eq!(np["spec"]["ingress"], serde_json::json!([{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": service}}}], "ports": [{"protocol": "TCP", "port": port}]}]), "{what}");
    assert_eq!(np["spec"]["egress"], serde_json::json!([]), "{what}");
    let own = named(objects, "NetworkPolicy", service).unwrap();
    let egress = serde_json::json!({"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": object}}}], "ports": [{"protocol": "TCP", "port": port}]});
    assert!(own["spec"]["egress"].as_array().unwrap().contains(&egress), "{what}: {service} may not reach it");
    w
}

#[test]
fn in_cluster_workloads_are_bounded_and_non_root() {
    let shop = shop();
    let ws = &shop.ws;
    let mut workloads = 0;
    for s in &ws.services {
        let name = &s.name.value;
        for (env, objects) in shop.objects(name) {
            for u in &s.uses {
                let object = format!("{name}-{}", u.name.value);
                let in_cluster = shop.provisioner(&env, &u.ty.value) == "in-cluster";
                let w = ["StatefulSet", "Deployment"].iter().find_map(|k| named(&objects, k, &object));
                assert_eq!(w.is_some(), in_cluster, "{object} in {env}: a workload exactly where the resource is served in-cluster");
                if in_cluster {
                    check_in_cluster(&objects, name, u, &env);
                    workloads += 1;
                }
            }
        }
    }
    // dev and preview: all 7 resources; staging: redis.
    assert_eq!(workloads, 7 * 2 + 1);
}

/// A platform with IRSA and a service that uses every type, with the less common parameters.
const ALL_PLATFORM: &str = r#"platform acme {
    cloud aws region=us-east-2
    registry "ghcr.io/acme"
    domain acme.example.com
    gitops argocd repo="https://github.com/acme/gitops.git" branch=main path=deploy
    ci github-actions
    identity irsa
    environment dev {
        provision in-cluster
    }
    environment prod protected=#true {
        provision aws
    }
}
"#;

const ALL_SERVICE: &str = r#"service ledger-export {
    owner team-finance
    image "ghcr.io/acme/ledger-export"
    port http 8080
    health readiness="/ready" liveness="/healthz"
    env DB_URL="${resources.books.url}" CACHE_URL="${resources.hot.url}"
    uses mysql books version="8.4" size=large storage="200Gi" database=books
    uses postgres archive version=14 size=medium
    uses redis hot version="6.2" size=medium replicas=0
    uses bucket exports versioning=#false
    uses queue jobs fifo=#true visibility-timeout="2m" retention="14d" max-receives=3
    uses topic done fifo=#true
    uses mongodb docs version="5.0" size=large replicas=0 storage="50Gi"
    uses amqp events size=large
}
"#;

#[test]
fn every_type_in_cluster_validates_and_helm_renders_the_same() {
    let mut fs = MemoryFs::new();
    fs.add("/r/platform.kdl", ALL_PLATFORM).add("/r/ledger-export/service.kdl", ALL_SERVICE);
    let r = build_paths(&fs, &[PathBuf::from(".")], &[], Path::new("/r"), &BuildOptions::default()).unwrap();
    let diags: Vec<_> = r.diags.iter().cloned().collect();
    let Some(output) = r.output else { panic!("build failed:\n{}", render(&diags, &r.loaded.sources, Format::Human, false)) };
    let ws = r.workspace.unwrap();
    let s = &ws.services[0];
    let dir = tempfile::tempdir().unwrap();
    for (rel, bytes) in &output.files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let service = dir.path().join("deploy/ledger-export");
    let mut files = Vec::new();
    for env in ["dev", "prod"] {
        let mut objects = Vec::new();
        for e in std::fs::read_dir(service.join("manifests").join(env)).unwrap() {
            let p = e.unwrap().path();
            objects.extend(parse_docs(&std::fs::read_to_string(&p).unwrap(), &p.display().to_string()));
            files.push(p);
        }
        for u in &s.uses {
            if env == "dev" {
                check_in_cluster(&objects, &s.name.value, u, env);
            } else {
                assert!(named(&objects, "ExternalSecret", &format!("ledger-export-{}-connection", u.name.value)).is_some(), "{}: no ExternalSecret", u.name.value);
            }
        }
        // IRSA: the role ARN needs the account id, which no spec has: no annotation.
        let sa = named(&objects, "ServiceAccount", "ledger-export").unwrap();
        assert!(sa["metadata"].get("annotations").is_none_or(|a| a.get("eks.amazonaws.com/role-arn").is_none()), "{sa}");
        // The chart renders the same objects (helm 4; tests/helm_equivalence.rs runs both on the
        // examples).
        // As the release and in the namespace the rendered manifests stand for.
        let values = service.join(format!("chart/values-{env}.yaml"));
        let (release, namespace) = (format!("ledger-export-{env}"), sa["metadata"]["namespace"].as_str().unwrap().to_string());
        let out = Command::new(tool("helm4"))
            .args(["template", &release, service.join("chart").to_str().unwrap(), "-f", values.to_str().unwrap(), "-n", &namespace, "--kube-version", KUBE_VERSION])
            .env("HELM_CACHE_HOME", dir.path().join("h/cache"))
            .env("HELM_CONFIG_HOME", dir.path().join("h/config"))
            .env("HELM_DATA_HOME", dir.path().join("h/data"))
            .output()
            .unwrap();
        assert!(out.status.success(), "helm template: {}", String::from_utf8_lossy(&out.stderr));
        let key = |o: &Json| format!("{} {}", o["kind"].as_str().unwrap(), o["metadata"]["name"].as_str().unwrap());
        let want: BTreeMap<String, Json> = objects.iter().map(|o| (key(o), o.clone())).collect();
        let got: BTreeMap<String, Json> = parse_docs(&String::from_utf8_lossy(&out.stdout), "helm").into_iter().map(|o| (key(&o), o)).collect();
        assert_eq!(want.keys().collect::<Vec<_>>(), got.keys().collect::<Vec<_>>(), "{env}: objects");
        for (k, w) in &want {
            assert_eq!(normalize(w), normalize(&got[k]), "{env}: {k} differs between platc and helm");
        }
    }
    let out = Command::new(tool("kubernetes-validate")).args(["--strict", "-k", KUBE_VERSION]).args(&files).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let bad: Vec<&str> = text.lines().filter(|l| !(l.starts_with("INFO") || (l.starts_with("WARN") && l.contains("Couldn't find schema for kind")))).collect();
    assert!(out.status.success() && bad.is_empty(), "kubernetes-validate:\n{}", bad.join("\n"));
}

/// Numbers as f64 (helm writes 3 where platc writes 3, or 3.0).
fn normalize(v: &Json) -> Json {
    match v {
        Json::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Json::Array(a) => Json::Array(a.iter().map(normalize).collect()),
        Json::Object(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), normalize(v))).collect()),
        other => other.clone(),
    }
}

#[test]
fn no_service_account_gets_an_unknowable_role_arn() {
    // Pod Identity needs no annotation; with IRSA the ARN needs the account id, which platc
    // does not know (Terraform's `role_arn` output gives it, see docs/resources.md).
    let shop = shop();
    for (path, bytes) in shop.files.iter().filter(|(p, _)| p.contains("/manifests/") && p.contains("serviceaccount-")) {
        assert!(!String::from_utf8_lossy(bytes).contains("eks.amazonaws.com/role-arn"), "{path}");
    }
}

// ------------------------------------------------------------------- stdlib data, overlays

/// The shop lowered with the stdlib overlaid by `files`, or the problems `incluster::render`
/// reports.
fn lowered_with_overlay(files: &[(&str, String)]) -> Result<lower::Plan, Vec<incluster::Problem>> {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let loaded = platc_check::load::load(&RealFs, &[PathBuf::from("examples/shop")], &[dir.path().to_path_buf()], &root()).unwrap_or_else(|e| panic!("{}", e.0));
    let a = platc::build::analyze(&loaded);
    let (ws, graph) = (a.workspace.unwrap(), a.graph.unwrap());
    let opts = BuildOptions::default();
    let envs = platc_resolve::resolve::environments(&ws, &opts).unwrap();
    let model = platc_resolve::resolve::resolve(&ws, &graph, &envs, &opts, &loaded.sources);
    let catalog = Catalog::load(&loaded.stdlib).map_err(|p| vec![p])?;
    let (_, problems) = incluster::render(&model, &envs, &catalog);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(lower::lower_with(&model, &opts, &catalog))
}

fn builtin(rel: &str) -> String {
    Stdlib::builtin().get(rel).unwrap_or_else(|| panic!("no {rel}")).text.clone()
}

fn image_of(plan: &lower::Plan, service: &str, env: &str, resource: &str) -> String {
    let sp = plan.services.iter().find(|s| s.name == service).unwrap();
    let r = sp.envs[env].backingResources.iter().find(|r| r.name == resource).unwrap();
    r.inCluster.as_ref().unwrap().workload.containers[0]["image"].as_str().unwrap().to_string()
}

#[test]
fn images_come_from_stdlib_data_an_overlay_changes() {
    let plan = lowered_with_overlay(&[]).unwrap();
    assert_eq!(image_of(&plan, "catalog", "dev", "catalog-db"), "docker.io/library/postgres:16.8-bookworm");
    let images = builtin("incluster/images.yaml").replace("docker.io/library/postgres:16.8-bookworm", "registry.acme.example.com/mirror/postgres:16.9-bookworm");
    let plan = lowered_with_overlay(&[("incluster/images.yaml", images)]).unwrap();
    assert_eq!(image_of(&plan, "catalog", "dev", "catalog-db"), "registry.acme.example.com/mirror/postgres:16.9-bookworm");
    let sp = plan.services.iter().find(|s| s.name == "catalog").unwrap();
    assert_eq!(sp.envs["dev"].backingResources[0].inCluster.as_ref().unwrap().version, "16.9-bookworm");
}

#[test]
fn broken_overlay_data_is_reported_not_generated() {
    let problem = |files: &[(&str, String)]| -> String {
        match lowered_with_overlay(files) {
            Ok(_) => panic!("accepted: {:?}", files.iter().map(|(p, _)| *p).collect::<Vec<_>>()),
            Err(p) => p.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"),
        }
    };
    let images = builtin("incluster/images.yaml");
    let e = problem(&[("incluster/images.yaml", images.replace("postgres:16.8-bookworm", "postgres:latest"))]);
    assert!(e.contains("incluster/images.yaml") && e.contains("latest"), "{e}");
    let e = problem(&[("incluster/images.yaml", images.replace("  \"16\": docker.io/library/postgres:16.8-bookworm\n", ""))]);
    assert!(e.contains("incluster/postgres.yaml.hbs") && e.contains("version \"16\""), "{e}");
    let pg = builtin("incluster/postgres.yaml.hbs");
    // A secret output with a literal value.
    let e = problem(&[("incluster/postgres.yaml.hbs", pg.replace("  password: \"{{generated \"password\"}}\"", "  password: \"hunter2\""))]);
    assert!(e.contains("output `password`") && e.contains("never a literal"), "{e}");
    // A missing output.
    let e = problem(&[("incluster/postgres.yaml.hbs", pg.replace("  database: \"{{ident resource.params.database max=63}}\"\n", ""))]);
    assert!(e.contains("missing [database]"), "{e}");
    // What platc owns cannot be overridden.
    let e = problem(&[("incluster/postgres.yaml.hbs", pg.replace("container:\n", "container:\n  securityContext:\n    privileged: true\n"))]);
    assert!(e.contains("container.securityContext"), "{e}");
    // A template that does not compile, though no service of the shop uses its type.
    let e = problem(&[("incluster/mysql.yaml.hbs", "{{#if resource.name}}never closed\n".to_string())]);
    assert!(e.contains("incluster/mysql.yaml.hbs"), "{e}");
}

#[test]
fn a_type_without_in_cluster_data_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let types = dir.path().join("overlay/types");
    std::fs::create_dir_all(&types).unwrap();
    std::fs::write(types.join("couchdb.kdl"), "resource-type couchdb port=5984 {\n    description \"CouchDB\"\n    output host doc=\"Host\"\n}\n").unwrap();
    let shop = dir.path().join("shop");
    std::fs::create_dir_all(shop.join("docs")).unwrap();
    std::fs::write(shop.join("platform.kdl"), std::fs::read_to_string(root().join("examples/shop/platform.kdl")).unwrap()).unwrap();
    std::fs::write(
        shop.join("docs/service.kdl"),
        "service docs {\n    owner team-web\n    port http 8080\n    health readiness=\"/ready\" liveness=\"/healthz\"\n    scale min=2 max=3\n    slo availability=\"99.9%\"\n    uses couchdb pages\n}\n",
    )
    .unwrap();
    let loaded = platc_check::load::load(&RealFs, std::slice::from_ref(&shop), &[dir.path().join("overlay")], Path::new("/")).unwrap_or_else(|e| panic!("{}", e.0));
    let a = platc::build::analyze(&loaded);
    let msgs: Vec<String> = a.diags.iter().map(|d| d.message.clone()).collect();
    let (Some(ws), Some(graph)) = (a.workspace, a.graph) else { panic!("{msgs:?}") };
    let envs = platc_resolve::resolve::environments(&ws, &BuildOptions::default()).unwrap();
    let model = platc_resolve::resolve::resolve(&ws, &graph, &envs, &BuildOptions::default(), &loaded.sources);
    let catalog = Catalog::load(&loaded.stdlib).unwrap();
    let (_, problems) = incluster::render(&model, &envs, &catalog);
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 1, "dev serves couchdb in-cluster: {text:?}");
    assert!(text[0].contains("incluster/couchdb.yaml.hbs") && text[0].contains("`dev`"), "{text:?}");
}

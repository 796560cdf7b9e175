//! `platform.kdl` -> [`Platform`].

use indexmap::IndexMap;

use super::reader::{expect_one_of, expect_str, Cx, NodeReader, Once};
use super::service::{read_resources, read_scale, single_str};
use super::{names, units};
use crate::diagnostics::codes;
use crate::model::*;
use crate::source::{Span, Spanned};
use crate::syntax::Node;

/// Child nodes of `platform`, for did-you-mean (docs/language.md has a heading for each).
pub const PLATFORM_NODES: &[&str] =
    &["cloud", "registry", "domain", "ingress", "gitops", "ci", "identity", "secret-store", "runbooks", "terraform-backend", "stdlib", "defaults", "environment", "policies", "not-secret"];

const CLOUDS: [(&str, Cloud); 1] = [("aws", Cloud::Aws)];
const GITOPS: [(&str, GitOpsEngine); 2] = [("argocd", GitOpsEngine::ArgoCd), ("flux", GitOpsEngine::Flux)];
const CI: [(&str, CiSystem); 2] = [("github-actions", CiSystem::GithubActions), ("gitlab", CiSystem::Gitlab)];
const IDENTITY: [(&str, Identity); 2] = [("pod-identity", Identity::PodIdentity), ("irsa", Identity::Irsa)];
const INGRESS: [(&str, bool); 2] = [("ingress", false), ("gateway-api", true)];

/// Reads `platform NAME { ... }`. Missing optional decisions get documented defaults.
pub(crate) fn read(cx: &mut Cx, node: &Node) -> Option<Platform> {
    let mut r = NodeReader::new(node);
    let name = r.req_arg_str(cx, 0, "a name", "platform acme { ... }");
    let children = r.allow_children();
    r.finish(cx);
    let name = name?;
    names::check_dns(cx, &name, "platform name");
    let mut p = defaults(cx, name.clone());
    let mut once = Once::default();
    let mut present = Required::default();
    for child in children {
        let repeatable = matches!(child.name.value.as_str(), "environment" | "stdlib" | "not-secret");
        if PLATFORM_NODES.contains(&child.name.value.as_str()) && !repeatable && !once.first(cx, child) {
            continue;
        }
        read_child(cx, child, &mut p, &mut present);
    }
    present.report_missing(cx, &p);
    Some(p)
}

/// The platform `name` before its block is read: every optional decision at its documented
/// default. `registry`, `domain` and `gitops` have none ([`Required`]).
fn defaults(cx: &Cx, name: Spanned<String>) -> Platform {
    Platform {
        file: cx.file,
        cloud: Cloud::Aws,
        region: "us-east-1".into(),
        registry: Spanned::new(String::new(), name.span),
        domain: Spanned::new(String::new(), name.span),
        ingress: Ingress::Ingress { class: "nginx".into(), controller_namespace: "ingress-nginx".into(), cluster_issuer: None },
        gitops: GitOps { engine: GitOpsEngine::ArgoCd, repo: String::new(), branch: "main".into(), path: "deploy".into() },
        ci: CiSystem::GithubActions,
        identity: Identity::PodIdentity,
        secret_store: SecretStore { name: "platform-secrets".into(), kind: "ClusterSecretStore".into() },
        runbooks: None,
        terraform_backend: None,
        stdlib: Vec::new(),
        defaults: Defaults::builtin(),
        environments: IndexMap::new(),
        policies: Vec::new(),
        name,
    }
}

/// Which of the nodes without a default the platform block gave.
#[derive(Default)]
struct Required {
    registry: bool,
    domain: bool,
    gitops: bool,
}

impl Required {
    /// One error at the platform's name per missing node, and one for no environment at all.
    fn report_missing(&self, cx: &mut Cx, p: &Platform) {
        let name = &p.name;
        let required = [
            (self.registry, "registry", "registry \"ghcr.io/acme\""),
            (self.domain, "domain", "domain \"acme.example.com\""),
            (self.gitops, "gitops", "gitops argocd repo=\"https://github.com/acme/gitops.git\""),
        ];
        for (present, what, example) in required {
            if !present {
                cx.error(codes::MISSING_VALUE, name.span, format!("no `{what}`"), format!("platform `{}` has no `{what}`", name.value)).help =
                    Some(format!("add it inside the platform block: {example}"));
            }
        }
        if p.environments.is_empty() {
            cx.error(codes::MISSING_VALUE, name.span, "no environments", format!("platform `{}` declares no environment", name.value)).help =
                Some("declare at least one, e.g. environment dev { provision in-cluster }".into());
        }
    }
}

/// Reads one child of the platform block into `p`.
fn read_child(cx: &mut Cx, child: &Node, p: &mut Platform, present: &mut Required) {
    match child.name.value.as_str() {
        "cloud" => read_cloud(cx, child, p),
        "registry" => {
            if let Some(reg) = single_str(cx, child, "a registry", "registry \"ghcr.io/acme\"") {
                present.registry = true;
                p.registry = Spanned::new(reg.value.trim_end_matches('/').to_string(), reg.span);
            }
        }
        "domain" => {
            if let Some(d) = single_str(cx, child, "a domain", "domain \"acme.example.com\"") {
                names::check_host(cx, &d);
                present.domain = true;
                p.domain = d;
            }
        }
        "ingress" => {
            if let Some(ingress) = read_ingress(cx, child) {
                p.ingress = ingress;
            }
        }
        "gitops" => present.gitops = read_gitops(cx, child, &mut p.gitops),
        "ci" => {
            if let Some(c) = single_str(cx, child, "a CI system", "ci github-actions").and_then(|c| expect_one_of(cx, &c, "CI system", &CI)) {
                p.ci = c;
            }
        }
        "identity" => {
            if let Some(i) = single_str(cx, child, "an identity mechanism", "identity pod-identity").and_then(|i| expect_one_of(cx, &i, "identity mechanism", &IDENTITY)) {
                p.identity = i;
            }
        }
        "secret-store" => {
            if let Some(store) = read_secret_store(cx, child) {
                p.secret_store = store;
            }
        }
        "runbooks" => {
            if let Some(u) = single_str(cx, child, "a base URL", "runbooks \"https://runbooks.acme.example.com\"") {
                check_url(cx, &u);
                p.runbooks = Some(u.value.trim_end_matches('/').to_string());
            }
        }
        "terraform-backend" => p.terraform_backend = read_backend(cx, child),
        "stdlib" => p.stdlib.extend(single_str(cx, child, "a directory", "stdlib \"./platform-stdlib\"")),
        "defaults" => p.defaults = read_defaults(cx, child),
        "environment" => add_environment(cx, child, p),
        "policies" => p.policies = super::policy::read(cx, child),
        super::secrets::WAIVER => {} // read by check::secrets
        _ => cx.unknown_node(child, "platform", PLATFORM_NODES),
    }
}

/// `cloud aws region="eu-west-1"`.
fn read_cloud(cx: &mut Cx, child: &Node, p: &mut Platform) {
    let mut cr = NodeReader::new(child);
    let cloud = cr.req_arg_str(cx, 0, "a cloud", "cloud aws region=\"eu-west-1\"");
    if let Some(region) = cr.prop_str(cx, "region", "region=\"eu-west-1\"") {
        p.region = region.value;
    }
    cr.finish(cx);
    if let Some(c) = cloud.and_then(|c| expect_one_of(cx, &c, "cloud", &CLOUDS)) {
        p.cloud = c;
    }
}

/// `ingress nginx class=...` or `ingress gateway-api gateway=... namespace=...`; `None` when the
/// kind is not one of the two (reported).
fn read_ingress(cx: &mut Cx, child: &Node) -> Option<Ingress> {
    let mut cr = NodeReader::new(child);
    let kind = cr.req_arg_str(cx, 0, "`ingress` or `gateway-api`", "ingress gateway-api gateway=\"public\" namespace=\"gateway\"");
    let [class, gateway, namespace, issuer] =
        cr.props_str(cx, [("class", "class=nginx"), ("gateway", "gateway=public"), ("namespace", "namespace=gateway"), ("cluster-issuer", "cluster-issuer=letsencrypt")]);
    cr.finish(cx);
    if let Some(i) = &issuer {
        names::check_dns(cx, i, "ClusterIssuer name");
    }
    let value = |v: Option<Spanned<String>>, default: &str| v.map(|v| v.value).unwrap_or_else(|| default.into());
    match kind.and_then(|k| expect_one_of(cx, &k, "ingress kind", &INGRESS))? {
        true => Some(Ingress::GatewayApi { gateway: value(gateway, "public"), namespace: value(namespace, "gateway") }),
        false => Some(Ingress::Ingress { class: value(class, "nginx"), controller_namespace: value(namespace, "ingress-nginx"), cluster_issuer: issuer.map(|i| i.value) }),
    }
}

/// `gitops ENGINE repo=... branch=... path=...` into `gitops`; whether a `repo` was given.
fn read_gitops(cx: &mut Cx, child: &Node, gitops: &mut GitOps) -> bool {
    let mut cr = NodeReader::new(child);
    let engine = cr.req_arg_str(cx, 0, "a GitOps engine", "gitops argocd repo=\"https://github.com/acme/gitops.git\"");
    let [repo, branch, path] = cr.props_str(cx, [("repo", "repo=\"https://github.com/acme/gitops.git\""), ("branch", "branch=main"), ("path", "path=deploy")]);
    cr.finish(cx);
    if let Some(e) = engine.and_then(|e| expect_one_of(cx, &e, "GitOps engine", &GITOPS)) {
        gitops.engine = e;
    }
    if let Some(b) = branch {
        gitops.branch = b.value;
    }
    if let Some(path) = path {
        gitops.path = path.value.trim_matches('/').to_string();
    }
    let Some(repo) = repo else {
        cx.error(codes::MISSING_VALUE, child.head, "`repo` missing", "`gitops` needs the GitOps repository").help = Some("add repo=\"https://github.com/acme/gitops.git\"".into());
        return false;
    };
    check_url(cx, &repo);
    gitops.repo = repo.value;
    true
}

/// `secret-store NAME kind=ClusterSecretStore|SecretStore`.
fn read_secret_store(cx: &mut Cx, child: &Node) -> Option<SecretStore> {
    let mut cr = NodeReader::new(child);
    let name = cr.req_arg_str(cx, 0, "the store name", "secret-store platform-secrets kind=ClusterSecretStore");
    let kind = cr.prop_str(cx, "kind", "kind=ClusterSecretStore");
    cr.finish(cx);
    let kind = kind.and_then(|k| expect_one_of(cx, &k, "secret store kind", &[("ClusterSecretStore", "ClusterSecretStore"), ("SecretStore", "SecretStore")]));
    let n = name?;
    names::check_dns(cx, &n, "secret store name");
    Some(SecretStore { name: n.value, kind: kind.unwrap_or("ClusterSecretStore").to_string() })
}

/// `environment NAME { ... }`, added to `p` unless its name is taken (a duplicate, reported
/// with both spans).
fn add_environment(cx: &mut Cx, child: &Node, p: &mut Platform) {
    let Some(env) = read_environment(cx, child) else { return };
    names::check_namespace(cx, &p.name, &env);
    if let Some(first) = p.environments.get(&env.name.value) {
        let first = first.name.span;
        cx.error(codes::DUPLICATE, env.name.span, "defined again here", format!("environment `{}` is defined more than once", env.name.value)).label(first, "first defined here").help =
            Some("keep one `environment` node per name".into());
    } else {
        p.environments.insert(env.name.value.clone(), env);
    }
}

fn check_url(cx: &mut Cx, url: &Spanned<String>) {
    let ok = (url.value.starts_with("https://") || url.value.starts_with("http://") || url.value.starts_with("ssh://") || url.value.starts_with("git@")) && !url.value.contains(char::is_whitespace);
    if !ok {
        cx.error(codes::INVALID_URL, url.span, "not a URL", format!("invalid URL \"{}\"", url.value)).help = Some("write a full URL, e.g. \"https://github.com/acme/gitops.git\"".into());
    }
}

fn read_backend(cx: &mut Cx, node: &Node) -> Option<TerraformBackend> {
    let mut r = NodeReader::new(node);
    let kind = r.req_arg_str(cx, 0, "a backend kind", "terraform-backend s3 bucket=\"acme-tf-state\"");
    let [bucket, region, lock_table, key_prefix] =
        r.props_str(cx, [("bucket", "bucket=\"acme-tf-state\""), ("region", "region=\"eu-west-1\""), ("lock-table", "lock-table=\"terraform-locks\""), ("key-prefix", "key-prefix=\"platc\"")]);
    r.finish(cx);
    kind.and_then(|k| expect_one_of(cx, &k, "Terraform backend", &[("s3", ())]))?;
    let Some(bucket) = bucket else {
        cx.error(codes::MISSING_VALUE, node.head, "`bucket` missing", "the s3 backend needs a bucket").help = Some("add bucket=\"acme-tf-state\"".into());
        return None;
    };
    Some(TerraformBackend {
        bucket: bucket.value,
        region: region.map(|r| r.value).unwrap_or_default(),
        lock_table: lock_table.map(|l| l.value),
        key_prefix: key_prefix.map(|k| k.value).unwrap_or_else(|| "platc".into()),
    })
}

impl Defaults {
    /// What platc assumes when platform.kdl says nothing: small, safe and bounded.
    pub fn builtin() -> Self {
        let at = Span::default();
        Defaults {
            resources: ResourceSpec {
                cpu: Some(Spanned::new(Cpu(100), at)),
                memory: Some(Spanned::new(Memory(128 << 20), at)),
                cpu_limit: Some(Spanned::new(Cpu(500), at)),
                memory_limit: Some(Spanned::new(Memory(256 << 20), at)),
            },
            scale: ScaleSpec { min: Some(Spanned::new(1, at)), max: Some(Spanned::new(3, at)), cpu: Some(Spanned::new(Percent(80 * Percent::SCALE), at)), memory: None },
            slo_window: Duration(30 * 86_400_000),
        }
    }
}

const DEFAULT_NODES: &[&str] = &["resources", "scale", "slo-window"];

fn read_defaults(cx: &mut Cx, node: &Node) -> Defaults {
    let mut r = NodeReader::new(node);
    let children = r.allow_children();
    r.finish(cx);
    let mut d = Defaults::builtin();
    let mut once = Once::default();
    for child in children {
        if DEFAULT_NODES.contains(&child.name.value.as_str()) && !once.first(cx, child) {
            continue;
        }
        match child.name.value.as_str() {
            // Each field given replaces the built-in one; the rest stay.
            "resources" => d.resources = read_resources(cx, child).or(d.resources),
            "scale" => d.scale = read_scale(cx, child).or(d.scale),
            "slo-window" => {
                let mut cr = NodeReader::new(child);
                if let Some(v) = cr.arg(0) {
                    if let Some(w) = super::reader::parse_unit(cx, v, codes::INVALID_DURATION, "duration", units::duration) {
                        if w.value.0 < 3_600_000 {
                            cx.error(codes::OUT_OF_RANGE, w.span, "shorter than an hour", "an SLO window must be at least 1h").help = Some("use the usual 30-day window: slo-window \"30d\"".into());
                        } else {
                            d.slo_window = w.value;
                        }
                    }
                }
                cr.finish(cx);
            }
            _ => cx.unknown_node(child, "defaults", DEFAULT_NODES),
        }
    }
    d
}

/// `environment NAME ttl="72h" protected=#true { provision aws redis=in-cluster }`
fn read_environment(cx: &mut Cx, node: &Node) -> Option<Environment> {
    let mut r = NodeReader::new(node);
    let name = r.req_arg_str(cx, 0, "an environment name", "environment prod { provision aws }");
    let ttl = r.prop_unit(cx, "ttl", codes::INVALID_DURATION, "duration", units::duration).map(|t| t.value);
    let protected = r.prop_bool(cx, "protected").map(|b| b.value).unwrap_or(false);
    let children = r.allow_children();
    r.finish(cx);
    let name = name?;
    names::check_dns(cx, &name, "environment name");
    let mut env = Environment { name, ttl, protected, provisioner: Provisioner::InCluster, per_type: IndexMap::new(), span: node.head };
    let mut once = Once::default();
    for child in children {
        if child.name.value != "provision" {
            cx.unknown_node(child, "environment", &["provision"]);
            continue;
        }
        if !once.first(cx, child) {
            continue;
        }
        let mut cr = NodeReader::new(child);
        let default = cr.req_arg_str(cx, 0, "a provisioner", "provision aws redis=in-cluster");
        cr.props_are_data();
        cr.finish(cx);
        if let Some(p) = default.and_then(|d| provisioner(cx, &d)) {
            env.provisioner = p;
        }
        // Per-type provisioners; the type names are checked against the stdlib later.
        for prop in &child.props {
            if let Some(v) = expect_str(cx, &prop.value, "a provisioner", "redis=in-cluster") {
                if let Some(p) = provisioner(cx, &v) {
                    env.per_type.insert(prop.name.value.clone(), p);
                }
            }
        }
    }
    Some(env)
}

fn provisioner(cx: &mut Cx, v: &Spanned<String>) -> Option<Provisioner> {
    if let Some((_, p)) = Provisioner::ALL.iter().find(|(s, _)| *s == v.value) {
        return Some(*p);
    }
    let words: Vec<&str> = Provisioner::ALL.iter().map(|(s, _)| *s).collect();
    let help = match super::suggest::did_you_mean(&v.value, words.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? provisioners: {}", super::suggest::list(&words)),
        None => format!("provisioners: {}", super::suggest::list(&words)),
    };
    cx.error(codes::UNKNOWN_PROVISIONER, v.span, "unknown provisioner", format!("unknown provisioner `{}`", v.value)).help = Some(help);
    None
}

//! Backing resources served `in-cluster`: what a `uses` becomes as Kubernetes objects next to
//! the service, from the data in `stdlib/incluster/` (see docs/resources.md).
//!
//! Each resource type has a handlebars template, `incluster/TYPE.yaml.hbs`, that renders YAML
//! *data* about one `uses` (image, port, container settings, volumes, the connection details);
//! `incluster/images.yaml` holds the pinned images, read by the templates through `{{image}}`.
//! platc turns the data into k8s-shaped sub-objects of the chart values ([`InClusterResource`]),
//! adding what every workload gets and the data cannot loosen: a non-root UID/GID, no privilege
//! escalation, all capabilities dropped, seccomp `RuntimeDefault`, no service-account token,
//! pull policy `Always`. A platform team changes images, sizes, probes or arguments with a stdlib
//! overlay, without rebuilding platc.
//!
//! Credentials are generated in the cluster by the External Secrets Operator (a `Password`
//! generator per resource), and an ExternalSecret composes the connection Secret
//! `SERVICE-RESOURCE-connection` with a template (`{{ .password }}` is an ESO template, kept as
//! text in the values). A resource without generated credentials (the emulators) gets a plain
//! Secret: nothing in it is secret, and platc refuses a type whose secret outputs would be
//! literals.

use std::collections::HashMap;
use std::sync::OnceLock;

use handlebars::{Context, Handlebars, Helper, HelperResult, JsonRender, Output, RenderContext, RenderError, RenderErrorReason};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::{BackingResource, InClusterResource, Placement, ResourceConnection, ResourceExternalSecret, ResourceNetworkPolicy, ResourceService, ResourceWorkload};
use crate::model::{ParamValue, Provisioner, Uses};
use crate::resolve::{naming, Resolved, ResolvedService};
use crate::stdlib::Stdlib;

/// The stdlib folder of the in-cluster data.
pub const DIR: &str = "incluster/";
/// The images file, relative to the stdlib root.
pub const IMAGES: &str = "incluster/images.yaml";
/// Non-root UID and GID of resource pods unless the data says otherwise (the workloads' own).
pub const DEFAULT_USER: u64 = 10001;
/// API version of the External Secrets Operator generators.
pub const GENERATORS_API: &str = "generators.external-secrets.io/v1alpha1";

/// The template of a resource type, relative to the stdlib root.
pub fn template_path(ty: &str) -> String {
    format!("{DIR}{ty}.yaml.hbs")
}

pub use naming::object_name;

/// Why the in-cluster objects of a resource cannot be generated: a stdlib file (usually from an
/// overlay) is missing, does not render, or renders data that breaks the contract.
pub use crate::emit::stdlib_template::TemplateProblem as Problem;

/// The in-cluster templates and the images they may use, compiled on first use: compiling
/// them takes longer than rendering a thousand services' manifests of an environment that
/// has no in-cluster resource. Templates from a stdlib overlay are compiled right away, so
/// that a broken one is reported whether it is used or not; the built-in ones compile (a
/// unit test checks it).
pub struct Catalog {
    images: Map<String, Json>,
    /// Template name (the resource type) and text.
    templates: Vec<(String, String)>,
    hb: OnceLock<Handlebars<'static>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("templates", &self.templates.iter().map(|(name, _)| name).collect::<Vec<_>>()).finish()
    }
}

impl Catalog {
    /// Reads `incluster/*.yaml.hbs` of the merged stdlib and `incluster/images.yaml`.
    pub fn load(stdlib: &Stdlib) -> Result<Catalog, Problem> {
        let problem = |template: &str, message: String| Problem { service: None, uses: None, env: String::new(), template: template.to_string(), message };
        let images: Json = match stdlib.get(IMAGES) {
            None => Json::Object(Map::new()),
            Some(f) => serde_saphyr::from_str(&f.text).map_err(|e| problem(IMAGES, format!("not YAML: {e}")))?,
        };
        let Json::Object(images) = images else { return Err(problem(IMAGES, "must be a map from resource type to an image or to a map of versions".into())) };
        for (ty, v) in &images {
            let refs: Vec<(&str, &Json)> = match v {
                Json::Object(m) => m.iter().map(|(k, v)| (k.as_str(), v)).collect(),
                other => vec![("", other)],
            };
            for (version, r) in refs {
                let Some(r) = r.as_str() else { return Err(problem(IMAGES, format!("`{ty}`{}: an image reference must be a string", at(version)))) };
                if let Err(e) = check_image(r) {
                    return Err(problem(IMAGES, format!("`{ty}`{}: {e}", at(version))));
                }
            }
        }
        let mut templates = Vec::new();
        let mut overlaid = Vec::new();
        for (path, file) in stdlib.under(DIR) {
            let Some(name) = path.strip_prefix(DIR).and_then(|n| n.strip_suffix(".yaml.hbs")) else { continue };
            if file.overlay.is_some() {
                overlaid.push((path, name, &file.text));
            }
            templates.push((name.to_string(), file.text.clone()));
        }
        let catalog = Catalog { images, templates, hb: OnceLock::new() };
        if !overlaid.is_empty() {
            let mut hb = catalog.registry();
            for (path, name, text) in overlaid {
                hb.register_template_string(name, text).map_err(|e| problem(path, e.to_string()))?;
            }
            let _ = catalog.hb.set(catalog.with_templates(hb));
        }
        Ok(catalog)
    }

    /// A registry with the helpers and escaping of the templates, and no template yet.
    fn registry(&self) -> Handlebars<'static> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(yaml_escape);
        crate::emit::stdlib_template::register_name_helpers(&mut hb);
        hb.register_helper("generated", Box::new(generated));
        hb.register_helper("image", Box::new(ImageHelper(self.images.clone())));
        hb
    }

    /// `hb` with every template not yet in it.
    fn with_templates(&self, mut hb: Handlebars<'static>) -> Handlebars<'static> {
        for (name, text) in &self.templates {
            if !hb.has_template(name) {
                hb.register_template_string(name, text).unwrap_or_else(|e| panic!("built-in in-cluster template `{name}` does not compile: {e}"));
            }
        }
        hb
    }

    /// The compiled templates (compiled now if they were not yet).
    fn compiled(&self) -> &Handlebars<'static> {
        self.hb.get_or_init(|| self.with_templates(self.registry()))
    }

    /// The catalog of the built-in stdlib (loaded once).
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN.get_or_init(|| Catalog::load(&Stdlib::builtin()).expect("the built-in stdlib/incluster data loads (a unit test checks it)"))
    }

    /// Whether resource type `ty` has an in-cluster template.
    pub fn has(&self, ty: &str) -> bool {
        self.templates.iter().any(|(name, _)| name == ty)
    }
}

fn at(version: &str) -> String {
    if version.is_empty() {
        String::new()
    } else {
        format!(" version \"{version}\"")
    }
}

/// An image reference must name a tag (or a digest), never `latest`.
fn check_image(r: &str) -> Result<(), String> {
    if r.contains('@') {
        return Ok(());
    }
    let last = r.rsplit('/').next().unwrap_or(r);
    match last.split_once(':') {
        None => Err(format!("`{r}` has no tag: pin one (e.g. `{r}:1.2.3`)")),
        Some((_, "latest")) => Err(format!("`{r}`: `latest` is not a pinned tag")),
        Some((_, "")) => Err(format!("`{r}` has an empty tag")),
        Some(_) => Ok(()),
    }
}

/// The tag of an image reference, as a label value (`app.kubernetes.io/version`).
fn image_version(r: &str) -> String {
    let name = r.split('@').next().unwrap_or(r);
    let last = name.rsplit('/').next().unwrap_or(name);
    let tag = last.split_once(':').map(|(_, t)| t).unwrap_or("");
    let tag: String = tag.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).take(63).collect();
    tag.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string()
}

/// Escapes text for the inside of a double-quoted YAML string.
fn yaml_escape(text: &str) -> String {
    escape_quoted(text, &[])
}

/// Escapes text for the inside of a double-quoted string with C-style escapes (`\\`, `\"`,
/// `\n`, `\r`, `\t`), which YAML and HCL share; a character of `doubled` followed by `{` is
/// written twice (HCL's `$${` and `%%{`, which keep a value from being a template).
pub(crate) fn escape_quoted(text: &str, doubled: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ if doubled.contains(&c) && chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// `{{generated "KEY"}}`: the External Secrets template that reads generated credential KEY
/// (`{{ .KEY }}`), for the values of `connection` and `extra`.
fn generated(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let key = h.param(0).map(|p| p.value().render()).ok_or(RenderErrorReason::ParamNotFoundForIndex("generated", 0))?;
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(RenderErrorReason::Other(format!("generated: `{key}` is not a key name (letters, digits and `_`)")).into());
    }
    out.write(&eso_ref(&key))?;
    Ok(())
}

/// The External Secrets template text that reads key `key` of the generated data.
pub fn eso_ref(key: &str) -> String {
    format!("{{{{ .{key} }}}}")
}

/// `{{image "TYPE"}}` or `{{image "TYPE" VERSION}}`: the pinned image of incluster/images.yaml.
struct ImageHelper(Map<String, Json>);

impl handlebars::HelperDef for ImageHelper {
    fn call<'reg: 'rc, 'rc>(&self, h: &Helper<'rc>, _: &'reg Handlebars<'reg>, _: &'rc Context, _: &mut RenderContext<'reg, 'rc>, out: &mut dyn Output) -> HelperResult {
        let ty = h.param(0).map(|p| p.value().render()).ok_or(RenderErrorReason::ParamNotFoundForIndex("image", 0))?;
        let version = h.param(1).map(|p| p.value().render());
        let missing = |what: String| -> RenderError { RenderErrorReason::Other(format!("image: {IMAGES} has no image for {what}")).into() };
        let entry = self.0.get(&ty).ok_or_else(|| missing(format!("`{ty}`")))?;
        let r = match (entry, &version) {
            (Json::String(s), None) => s.clone(),
            (Json::Object(m), Some(v)) => m.get(v).and_then(Json::as_str).map(String::from).ok_or_else(|| {
                let have: Vec<&str> = m.keys().map(String::as_str).collect();
                missing(format!("`{ty}` version \"{v}\" (it has: {})", have.join(", ")))
            })?,
            (Json::String(_), Some(v)) => return Err(RenderErrorReason::Other(format!("image: `{ty}` has one image in {IMAGES}, not one per version (asked for \"{v}\")")).into()),
            (_, None) => {
                return Err(RenderErrorReason::Other(format!("image: `{ty}` has one image per version in {IMAGES}: give the version, e.g. {{{{image \"{ty}\" resource.params.version}}}}")).into())
            }
            (_, Some(_)) => return Err(missing(format!("`{ty}`"))),
        };
        out.write(&r)?;
        Ok(())
    }
}

/// What a type template renders: data about one `uses` (fields documented in docs/resources.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Data {
    kind: String,
    image: String,
    port: PortData,
    #[serde(default)]
    user: Option<u64>,
    #[serde(default, rename = "readOnlyRootFilesystem")]
    read_only_root_filesystem: Option<bool>,
    #[serde(default)]
    generated: Vec<String>,
    #[serde(default)]
    generator: Option<Json>,
    connection: IndexMap<String, String>,
    #[serde(default)]
    extra: IndexMap<String, String>,
    #[serde(default)]
    container: Map<String, Json>,
    resources: Json,
    #[serde(default)]
    volumes: Vec<Json>,
    #[serde(default)]
    storage: Option<StorageData>,
    #[serde(default)]
    annotations: IndexMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortData {
    name: String,
    number: u16,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StorageData {
    name: String,
    size: String,
    #[serde(default, rename = "storageClassName")]
    storage_class_name: Option<String>,
}

/// Container fields a template may set; platc sets the others (name, image, ports, resources,
/// security context).
const CONTAINER_KEYS: [&str; 9] = ["command", "args", "env", "startupProbe", "readinessProbe", "livenessProbe", "volumeMounts", "lifecycle", "workingDir"];

/// The template variables of one `uses` in one placement.
fn context(r: &Resolved, rs: &ResolvedService, u: &Uses, pl: &Placement, port: u16) -> Json {
    let s = &rs.spec;
    let name = &rs.name;
    let object = object_name(name, &u.name.value);
    let params = template_params(u);
    json!({
        "platform": {"name": r.platform.name.value, "region": r.platform.region},
        "env": {"name": pl.env, "namespace": pl.namespace, "instance": naming::instance(pl)},
        "service": {"name": name, "owner": s.owner.as_ref().map(|o| o.value.as_str()).unwrap_or("")},
        "resource": {
            "type": u.ty.value,
            "name": u.name.value,
            "object": object,
            "host": naming::cluster_host(&object, pl),
            "connection_secret": naming::connection_secret(name, &u.name.value),
            "port": port,
            "params": params,
        },
    })
}

/// The `params` of a `uses` as templates see them, the in-cluster and the Terraform ones alike:
/// keys with `_` for `-`, like every other name they see (`max-connections` is
/// `params.max_connections`), values as [`param_json`] has them.
pub fn template_params(u: &Uses) -> Map<String, Json> {
    u.params.iter().map(|(k, v)| (k.replace('-', "_"), param_json(v))).collect()
}

/// A parameter as templates see it: memory as `{bytes,mib,gib,text}`, durations as
/// `{seconds,minutes,hours,days,text}`: the units AWS asks for, rounded up so that a resource
/// never gets less than the spec wrote.
pub fn param_json(v: &ParamValue) -> Json {
    match v {
        ParamValue::String(s) => json!(s),
        ParamValue::Int(i) => json!(i),
        ParamValue::Bool(b) => json!(b),
        ParamValue::Memory(m) => json!({"bytes": m.0, "mib": m.0.div_ceil(1 << 20), "gib": m.0.div_ceil(1 << 30), "text": m.to_string()}),
        ParamValue::Duration(d) => {
            let secs = d.0.div_ceil(1000);
            json!({"seconds": secs, "minutes": secs.div_ceil(60), "hours": secs.div_ceil(3600), "days": secs.div_ceil(86_400), "text": d.to_string()})
        }
    }
}

/// The backing resources of a service in one placement, in `uses` order: their values, and the
/// name of each in-cluster one that rendered (what the NetworkPolicy's egress reaches).
pub struct Backing {
    /// The values of each resource, in `uses` order.
    pub values: Vec<BackingResource>,
    /// Per `uses`: the in-cluster objects' name, when served `in-cluster` and its data
    /// rendered (their port is the resolved one: `EnvFacts::resource_ports`).
    pub in_cluster: Vec<Option<String>>,
}

/// The resources of a service in one placement, in `uses` order: each with the objects of its
/// provisioner there, as [`render`] made them. A resource whose in-cluster data does not render
/// gets no objects ([`render`] reports it).
pub fn backing_resources(r: &Resolved, rs: &ResolvedService, pl: &Placement, rendered: &Rendered) -> Backing {
    let p = &r.platform;
    let Some(facts) = rs.envs.get(&pl.env) else { return Backing { values: Vec::new(), in_cluster: Vec::new() } };
    let mut in_cluster_ports = Vec::with_capacity(rs.spec.uses.len());
    let values = rs
        .spec
        .uses
        .iter()
        .enumerate()
        .zip(&facts.provisioners)
        .map(|((k, u), &provisioner)| {
            let mut b = BackingResource {
                name: u.name.value.clone(),
                r#type: u.ty.value.clone(),
                provisioner: provisioner.as_str().to_string(),
                connectionSecret: naming::connection_secret(&rs.name, &u.name.value),
                externalSecret: None,
                inCluster: None,
            };
            let mut reached = None;
            match provisioner {
                Provisioner::Aws => {
                    b.externalSecret = Some(ResourceExternalSecret {
                        refreshInterval: "1h".into(),
                        secretStoreRef: json!({"name": p.secret_store.name, "kind": p.secret_store.kind}),
                        dataFrom: vec![json!({"extract": {"key": naming::connection_secret_name(pl, &rs.name, &u.name.value)}})],
                    });
                }
                Provisioner::InCluster => {
                    if let Some(ic) = rendered.get(rs.index, k, &pl.env) {
                        reached = Some(ic.name.clone());
                        b.inCluster = Some(ic.clone());
                    }
                }
            }
            in_cluster_ports.push(reached);
            b
        })
        .collect();
    Backing { values, in_cluster: in_cluster_ports }
}

/// Every in-cluster resource of a build, rendered once ([`render`]): what lowering puts into
/// each environment's values, by service, `uses` and environment.
#[derive(Debug, Default)]
pub struct Rendered(HashMap<(usize, usize, String), InClusterResource>);

impl Rendered {
    /// The objects of `uses` number `k` of service `service` in environment `env`, when they
    /// rendered.
    pub fn get(&self, service: usize, k: usize, env: &str) -> Option<&InClusterResource> {
        self.0.get(&(service, k, env.to_string()))
    }
}

/// Renders every resource the given placements serve `in-cluster`, once each (services on all
/// cores): the objects, and every problem with the in-cluster data (a type without a template,
/// a template that does not render, data that breaks the contract: connection keys other than
/// the type's outputs, a literal secret, an unpinned image, ...). No problems when everything
/// renders.
pub fn render(r: &Resolved, placements: &[Placement], catalog: &Catalog) -> (Rendered, Vec<Problem>) {
    let chunks = crate::par::map_chunks(&r.services, |services| {
        let mut done = Vec::new();
        let mut problems = Vec::new();
        for pl in placements {
            for rs in services {
                let Some(facts) = rs.envs.get(&pl.env) else { continue };
                for (k, (u, p)) in rs.spec.uses.iter().zip(&facts.provisioners).enumerate() {
                    if *p != Provisioner::InCluster {
                        continue;
                    }
                    match in_cluster(r, rs, u, pl, facts.resource_ports[k], catalog) {
                        Ok(ic) => done.push(((rs.index, k, pl.env.clone()), ic)),
                        Err(message) => problems.push(Problem { service: Some(rs.index), uses: Some(k), env: pl.env.clone(), template: template_path(&u.ty.value), message }),
                    }
                }
            }
        }
        (done, problems)
    });
    let mut rendered = Rendered::default();
    let mut problems = Vec::new();
    for (done, found) in chunks {
        rendered.0.extend(done);
        problems.extend(found);
    }
    // In the order of one pass over placements, then services (the order `check` had).
    problems.sort_by_key(|p| (placements.iter().position(|pl| pl.env == p.env), p.service));
    (rendered, problems)
}

/// The in-cluster objects of one `uses`, as values, serving on `port` (the resolved one, which
/// the template is given as `resource.port` and must serve on).
fn in_cluster(r: &Resolved, rs: &ResolvedService, u: &Uses, pl: &Placement, port: u16, catalog: &Catalog) -> Result<InClusterResource, String> {
    let ty = &u.ty.value;
    if !catalog.has(ty) {
        return Err(format!("resource type `{ty}` has no in-cluster template: add {} to the stdlib overlay, or serve `{ty}` with `aws` in platform.kdl", template_path(ty)));
    }
    let ctx = context(r, rs, u, pl, port);
    let text = catalog.compiled().render(ty, &ctx).map_err(|e| render_error(&e))?;
    let data: Data = serde_saphyr::from_str(&text).map_err(|e| format!("does not render valid data: {e}"))?;
    let service = &rs.name;
    let object = object_name(service, &u.name.value);
    let outputs = r.types.get(ty).map(|t| t.outputs.values().map(|o| (o.name.clone(), o.secret)).collect::<Vec<_>>()).unwrap_or_default();
    validate(&data, ty, &outputs)?;
    if data.port.number != port {
        // Its clients' NetworkPolicy, and the type's documentation, say `port`.
        return Err(format!(
            "`port.number` is {}, but resource type `{ty}` says its in-cluster server listens on {port} (`provisioner in-cluster port=`, else `port=`): make the type and this template agree",
            data.port.number
        ));
    }

    let user = data.user.unwrap_or(DEFAULT_USER);
    let connection = connection(&data, &object);
    let resource = InClusterResource {
        name: object,
        version: image_version(&data.image),
        workload: ResourceWorkload {
            kind: data.kind.clone(),
            annotations: data.annotations.clone(),
            podSecurityContext: json!({
                "runAsNonRoot": true,
                "runAsUser": user,
                "runAsGroup": user,
                "fsGroup": user,
                "seccompProfile": {"type": "RuntimeDefault"},
            }),
            containers: vec![Json::Object(container(ty, &data))],
            volumes: data.volumes.clone(),
            volumeClaimTemplates: volume_claims(&data),
        },
        service: ResourceService { ports: vec![json!({"name": data.port.name, "port": data.port.number, "targetPort": data.port.name, "protocol": "TCP"})] },
        networkPolicy: ResourceNetworkPolicy {
            ingress: vec![json!({
                "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": service}}}],
                "ports": [{"protocol": "TCP", "port": data.port.number}],
            })],
            egress: Vec::new(),
        },
        connection,
    };
    Ok(resource)
}

/// The resource's container: what the data may set (the [`CONTAINER_KEYS`]) around what platc
/// sets and the data cannot loosen (name, image, pull policy, port, resources, a locked-down
/// security context). Keys are set in a fixed order, which the rendered manifests keep.
fn container(ty: &str, data: &Data) -> Map<String, Json> {
    let read_only = data.read_only_root_filesystem.unwrap_or(true);
    let mut container = Map::new();
    container.insert("name".into(), json!(ty));
    container.insert("image".into(), json!(data.image));
    container.insert("imagePullPolicy".into(), json!("Always"));
    for key in ["command", "args"] {
        if let Some(v) = data.container.get(key) {
            container.insert(key.into(), v.clone());
        }
    }
    container.insert("ports".into(), json!([{"name": data.port.name, "containerPort": data.port.number, "protocol": "TCP"}]));
    if let Some(v) = data.container.get("env") {
        container.insert("env".into(), v.clone());
    }
    container.insert("resources".into(), data.resources.clone());
    container.insert(
        "securityContext".into(),
        json!({
            "allowPrivilegeEscalation": false,
            "privileged": false,
            "readOnlyRootFilesystem": read_only,
            "runAsNonRoot": true,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        }),
    );
    for key in ["startupProbe", "readinessProbe", "livenessProbe", "volumeMounts", "lifecycle", "workingDir"] {
        if let Some(v) = data.container.get(key) {
            container.insert(key.into(), v.clone());
        }
    }
    container
}

/// The volume claims of the data's `storage` (StatefulSets): `ReadWriteOnce`, as the resource
/// runs a single replica.
fn volume_claims(data: &Data) -> Vec<Json> {
    data.storage
        .iter()
        .map(|st| {
            let mut spec = json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": st.size}}});
            if let Some(class) = &st.storage_class_name {
                spec["storageClassName"] = json!(class);
            }
            json!({"metadata": {"name": st.name}, "spec": spec})
        })
        .collect()
}

/// How the connection Secret is made: with `generated` keys, by an External Secrets `Password`
/// generator named `object` (one run per key); without, from the data's literals alone.
fn connection(data: &Data, object: &str) -> ResourceConnection {
    let generated = !data.generated.is_empty();
    let data_from: Vec<Json> = data
        .generated
        .iter()
        .map(|key| {
            let mut entry = json!({"sourceRef": {"generatorRef": {"apiVersion": GENERATORS_API, "kind": "Password", "name": object}}});
            if key != "password" {
                // Each entry runs the generator once, which yields `password`: renamed, it is
                // a second, independent credential.
                entry["rewrite"] = json!([{"regexp": {"source": "^password$", "target": key}}]);
            }
            entry
        })
        .collect();
    let mut secret_data = data.connection.clone();
    secret_data.extend(data.extra.clone());
    ResourceConnection { generator: generated.then(|| data.generator.clone().unwrap_or(Json::Null)), dataFrom: data_from, data: secret_data }
}

/// The contract of the rendered data.
fn validate(data: &Data, ty: &str, outputs: &[(String, bool)]) -> Result<(), String> {
    if data.kind != "StatefulSet" && data.kind != "Deployment" {
        return Err(format!("`kind` must be StatefulSet or Deployment, not `{}`", data.kind));
    }
    check_image(&data.image).map_err(|e| format!("`image`: {e}"))?;
    if data.port.name.is_empty() || data.port.name.len() > 15 || crate::check::units::dns_label(&data.port.name).is_err() {
        return Err(format!("`port.name` `{}` must be a DNS label of at most 15 characters", data.port.name));
    }
    if data.port.number == 0 {
        return Err("`port.number` must be a TCP port (1-65535)".into());
    }
    if data.user == Some(0) {
        return Err("`user` must not be 0: in-cluster resources run as a non-root UID".into());
    }
    for key in data.container.keys() {
        if !CONTAINER_KEYS.contains(&key.as_str()) {
            return Err(format!("`container.{key}` cannot be set here (platc sets the name, image, ports, resources and security context); allowed: {}", CONTAINER_KEYS.join(", ")));
        }
    }
    for (part, field) in [("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory")] {
        if data.resources.get(part).and_then(|p| p.get(field)).is_none_or(|v| v.is_null()) {
            return Err(format!("`resources.{part}.{field}` is required: every in-cluster container has requests and limits"));
        }
    }
    // Connection keys: exactly the type's outputs; `extra` adds keys that are not outputs.
    let want: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
    let missing: Vec<&str> = want.iter().copied().filter(|o| !data.connection.contains_key(*o)).collect();
    let extra: Vec<&str> = data.connection.keys().map(String::as_str).filter(|k| !want.contains(k)).collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(format!("`connection` must have one key per output of type `{ty}`: missing [{}], not outputs [{}]", missing.join(", "), extra.join(", ")));
    }
    if let Some(k) = data.extra.keys().find(|k| data.connection.contains_key(*k)) {
        return Err(format!("`extra.{k}` is already a connection key"));
    }
    // Generated credentials: referenced only if declared; secret outputs only through them.
    if !data.generated.is_empty() {
        match &data.generator {
            Some(Json::Object(_)) => {}
            _ => return Err("`generated` needs `generator`: the spec of the External Secrets Password generator (length, digits, symbols, ...)".into()),
        }
    }
    let mut seen = Vec::new();
    for key in &data.generated {
        if seen.contains(&key) {
            return Err(format!("`generated` lists `{key}` twice"));
        }
        seen.push(key);
    }
    for (k, v) in data.connection.iter().chain(&data.extra) {
        for used in eso_refs(v) {
            if !data.generated.contains(&used) {
                return Err(format!("`{k}` reads generated key `{used}`, which `generated` does not list"));
            }
        }
    }
    for (name, secret) in outputs {
        if *secret && eso_refs(&data.connection[name]).is_empty() {
            return Err(format!("output `{name}` of type `{ty}` is secret: its value must come from a generated credential ({{{{generated \"password\"}}}}), never a literal"));
        }
    }
    for (k, v) in &data.extra {
        if eso_refs(v).is_empty() {
            return Err(format!("`extra.{k}` must come from a generated credential: only credentials go beside the outputs"));
        }
    }
    if data.generated.is_empty() && data.generator.is_some() {
        return Err("`generator` without `generated` keys: list the credentials to generate".into());
    }
    Ok(())
}

/// The generated keys an External Secrets template text reads (`{{ .KEY }}`).
fn eso_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        if let Some(key) = inner.strip_prefix('.') {
            out.push(key.trim().to_string());
        }
        rest = &after[end + 2..];
    }
    out
}

fn render_error(e: &RenderError) -> String {
    format!("does not render: {}", crate::emit::stdlib_template::render_error(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_loads_and_pins_images() {
        let c = Catalog::builtin();
        for t in ["postgres", "mysql", "redis", "mongodb", "amqp", "bucket", "queue", "topic"] {
            assert!(c.has(t), "{t}");
        }
        // Compiled on first use (a panic if one did not compile): each must.
        let hb = c.compiled();
        for t in ["postgres", "mysql", "redis", "mongodb", "amqp", "bucket", "queue", "topic"] {
            assert!(hb.has_template(t), "{t}");
        }
        assert!(check_image("postgres:latest").is_err());
        assert!(check_image("docker.io/library/postgres").is_err());
        assert!(check_image("localhost:5000/postgres").is_err(), "a registry port is not a tag");
        assert!(check_image("docker.io/library/postgres:16.8-bookworm").is_ok());
        assert_eq!(image_version("docker.io/library/postgres:16.8-bookworm"), "16.8-bookworm");
    }

    #[test]
    fn eso_references_are_found() {
        assert_eq!(eso_refs("postgres://u:{{ .password }}@h/{{ .x }}"), vec!["password", "x"]);
        assert!(eso_refs("plain").is_empty());
        assert_eq!(eso_ref("password"), "{{ .password }}");
    }
}

//! The Helm chart's templates, derived from the objects platc builds for the rendered manifests
//! ([`super::manifests`]): one definition of every object, printed twice.
//!
//! Each environment's objects (patches applied) are printed by the same YAML writer as the
//! manifests, with a marker at every hole ([`Node::Hole`]: a value a Helm user sets, or the
//! release's name and namespace), into `templates/ENV/KIND-NAME.yaml` under
//! `{{- if eq .Values.environment "ENV" }}`; markers become `{{ .Values.PATH }}` actions. So
//! `helm template` with an environment's values prints that environment's manifests, holes
//! filled from the values and the release. One directory per environment, like
//! `manifests/ENV/`, so that a build of some environments (`--env`) rewrites only theirs and
//! keeps the others' (build::carry_over), and the chart renders every environment's manifests
//! after any sequence of builds.

use indexmap::{IndexMap, IndexSet};
use serde_json::{Map, Value as Json};

use super::object::{Expr, Node, ValueType};
use super::yaml;

/// Marks a hole in a printed tree; its index into [`Chart::exprs`] follows.
const HOLE: &str = "platc-chart-hole-";
/// The objects and values of every environment of a chart, as they are added.
#[derive(Debug, Default)]
pub struct Chart {
    /// Every hole's action, by index (the number after [`HOLE`]).
    exprs: IndexSet<Expr>,
    envs: Vec<Env>,
}

/// One environment of the chart.
#[derive(Debug)]
pub struct Env {
    pub name: String,
    /// Its namespace, for a release in `default` (see [`Chart::fill`]).
    namespace: String,
    /// Whether its templates are written: not for the base environment of a build that does
    /// not cover it, whose values.yaml it only gives (its templates are the last build's).
    written: bool,
    /// The values of its holes: what `values.yaml` (for the base) or `values-ENV.yaml` holds.
    pub values: Json,
    /// Its objects with markers, by template file name (`deployment-checkout.yaml`).
    objects: IndexMap<String, Json>,
}

impl Chart {
    /// Adds environment `name`'s objects, whose templates are written when `written`. `image`
    /// is its image repository and tag, which the values always hold (the container image is a
    /// hole made of both).
    pub fn add(&mut self, name: &str, namespace: &str, written: bool, image: (&str, &str), objects: &[Node]) {
        let mut env = Env { name: name.to_string(), namespace: namespace.to_string(), written, values: Json::Object(Map::new()), objects: IndexMap::new() };
        set_path(&mut env.values, &["environment".into()], Json::from(name));
        set_path(&mut env.values, &["image".into(), "repository".into()], Json::from(image.0));
        set_path(&mut env.values, &["image".into(), "tag".into()], Json::from(image.1));
        for o in objects {
            let file = format!("{}-{}.yaml", o.kind().unwrap_or("object").to_ascii_lowercase(), o.name().unwrap_or("unnamed"));
            let json = self.marked(o, &mut env);
            env.objects.insert(file, json);
        }
        self.envs.push(env);
    }

    /// Every values path a hole reads, with its type, in the order first met.
    pub fn value_types(&self) -> impl Iterator<Item = (&[String], ValueType)> {
        self.exprs.iter().filter_map(|e| match e {
            Expr::Value(path, ty) => Some((path.as_slice(), *ty)),
            _ => None,
        })
    }

    /// The environments, in the order they were added.
    pub fn envs(&self) -> &[Env] {
        &self.envs
    }

    /// `n` as JSON with a marker at each hole, whose value goes into `env`'s values.
    fn marked(&mut self, n: &Node, env: &mut Env) -> Json {
        match n {
            Node::Hole(h) => self.hole(&h.expr, h.node.to_json(), env),
            Node::Ref(r) => self.marked(r, env),
            Node::Refs(l) => Json::Array(l.iter().map(|n| self.marked(n, env)).collect()),
            Node::List(l) => Json::Array(l.iter().map(|n| self.marked(n, env)).collect()),
            Node::Map(m) => Json::Object(m.iter().map(|(k, v)| (k.to_string(), self.marked(v, env))).collect()),
            Node::Tree(t) => {
                let mut json = t.json.clone();
                // A hole a patch changed is the patch's literal (the patch wins in the manifests).
                for (at, expr, was) in &t.holes {
                    if json.pointer(at) == Some(was) {
                        let marker = self.hole(expr, was.clone(), env);
                        if let Some(slot) = json.pointer_mut(at) {
                            *slot = marker;
                        }
                    }
                }
                json
            }
            leaf => leaf.to_json(),
        }
    }

    fn hole(&mut self, expr: &Expr, value: Json, env: &mut Env) -> Json {
        if let Expr::Value(path, _) = expr {
            set_path(&mut env.values, path, value);
        }
        let (i, _) = self.exprs.insert_full(expr.clone());
        Json::String(format!("{HOLE}{i}"))
    }

    /// The templates (`templates/ENV/FILE`, text), each starting with `header` as a comment.
    pub fn templates(&self, header: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for e in self.envs.iter().filter(|e| e.written) {
            for (file, json) in &e.objects {
                let body = self.fill(&escape(&yaml::document(header, json)), &e.namespace);
                let mut text = format!("{{{{- if eq .Values.environment {:?} }}}}\n{body}{{{{- end }}}}\n", e.name);
                if file.starts_with("externalsecret-") {
                    text = yaml::mark_secret_references(text, yaml::SECRET_REFERENCES);
                }
                out.push((format!("templates/{}/{file}", e.name), text));
            }
        }
        out
    }

    /// `text` with each hole marker replaced by its action. A release in `default` (Helm's
    /// namespace without `--namespace`) puts its objects in `namespace`, the environment's:
    /// platc never deploys to `default` (checkov CKV_K8S_21).
    fn fill(&self, text: &str, namespace: &str) -> String {
        if !text.contains(HOLE) {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + 256);
        for line in text.split_inclusive('\n') {
            let body = line.trim_end_matches('\n');
            let Some(i) = marker_at_end(body) else {
                out.push_str(line);
                continue;
            };
            let expr = &self.exprs[i];
            let head = &body[..body.len() - format!("{HOLE}{i}").len()];
            match expr {
                Expr::Value(path, ValueType::Int) => out.push_str(&format!("{head}{{{{ {} | int }}}}\n", values_ref(path))),
                Expr::Value(path, ValueType::Str | ValueType::Quantity) => out.push_str(&format!("{head}{{{{ {} | quote }}}}\n", values_ref(path))),
                Expr::ReleaseName => out.push_str(&format!("{head}{{{{ .Release.Name | quote }}}}\n")),
                Expr::ReleaseNamespace => out.push_str(&format!("{head}{{{{ ternary {namespace:?} .Release.Namespace (eq .Release.Namespace \"default\") | quote }}}}\n")),
                Expr::Image => out.push_str(&format!("{head}{{{{ printf \"%s:%s\" .Values.image.repository .Values.image.tag | quote }}}}\n")),
            }
        }
        out
    }
}

/// The number after the hole marker when a line ends with one as a scalar (after `: ` or `- `).
fn marker_at_end(line: &str) -> Option<usize> {
    let at = line.rfind(HOLE)?;
    let before = &line[..at];
    if !(before.ends_with(": ") || before.ends_with("- ")) {
        return None;
    }
    line[at + HOLE.len()..].parse().ok()
}

/// Literal text in a template: `{{` (alert annotations use Prometheus' templates) printed as is.
fn escape(text: &str) -> String {
    text.replace("{{", "{{ \"{{\" }}")
}

/// The Go template reference to a values path: `.Values.a.b`, or `index` when a segment is not
/// an identifier (a worker named `email-sender`).
pub fn values_ref(path: &[String]) -> String {
    let ident = |s: &String| s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if path.iter().all(ident) {
        format!(".Values.{}", path.join("."))
    } else {
        format!("(index .Values {})", path.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(" "))
    }
}

/// Sets `path` in `values` (maps made on the way).
fn set_path(values: &mut Json, path: &[String], value: Json) {
    let mut at = values;
    for seg in &path[..path.len() - 1] {
        if !at.get(seg).is_some_and(Json::is_object) {
            at[seg.as_str()] = Json::Object(Map::new());
        }
        at = &mut at[seg.as_str()];
    }
    if let Some(last) = path.last() {
        debug_assert!(at.get(last).is_none_or(|v| *v == value), "chart: two values for {}", path.join("."));
        at[last.as_str()] = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::object::{map, release, value};

    fn object<'a>(replicas: u32) -> Node<'a> {
        map([
            ("kind", "Deployment".into()),
            ("metadata", map([("name", "web".into()), ("namespace", release(Expr::ReleaseNamespace, "ns"))])),
            ("spec", map([("replicas", value(&["replicaCount"], ValueType::Int, replicas)), ("image", release(Expr::Image, "r:1"))])),
            ("note", "{{ $labels.x }}".into()),
        ])
    }

    #[test]
    fn each_environment_has_its_objects_with_holes_as_actions() {
        let mut c = Chart::default();
        c.add("dev", "acme-dev", true, ("repo", "1"), &[object(1)]);
        c.add("prod", "acme-prod", true, ("repo", "1"), &[object(3)]);
        c.add("staging", "acme-staging", false, ("repo", "1"), &[object(2)]);
        let t = c.templates("head");
        assert_eq!(t.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), ["templates/dev/deployment-web.yaml", "templates/prod/deployment-web.yaml"]);
        let text = &t[1].1;
        assert!(text.starts_with("{{- if eq .Values.environment \"prod\" }}\n# head\n"), "{text}");
        assert!(text.ends_with("{{- end }}\n"), "{text}");
        assert!(text.contains("namespace: {{ ternary \"acme-prod\" .Release.Namespace (eq .Release.Namespace \"default\") | quote }}"), "{text}");
        assert!(text.contains("replicas: {{ .Values.replicaCount | int }}"), "{text}");
        assert!(text.contains("image: {{ printf \"%s:%s\" .Values.image.repository .Values.image.tag | quote }}"), "{text}");
        assert!(text.contains(r#"{{ "{{" }} $labels.x }}"#), "Prometheus' templates are printed as they are: {text}");
        assert_eq!(c.envs()[1].values["replicaCount"], Json::from(3));
        assert_eq!(c.envs()[2].values["replicaCount"], Json::from(2), "values of an environment whose templates are not written");
        assert_eq!(c.envs()[0].values["image"]["repository"], Json::from("repo"));
    }

    #[test]
    fn a_path_that_is_not_an_identifier_is_indexed() {
        assert_eq!(values_ref(&["image".into(), "tag".into()]), ".Values.image.tag");
        assert_eq!(values_ref(&["workers".into(), "email-sender".into(), "replicas".into()]), "(index .Values \"workers\" \"email-sender\" \"replicas\")");
    }
}

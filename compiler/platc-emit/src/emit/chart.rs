//! The Helm chart's templates and the rendered manifests, derived from the objects platc
//! builds ([`super::manifests`]): one definition of every object, printed once.
//!
//! Each environment's objects (patches applied) are printed by the manifests' YAML writer with
//! a marker at every hole ([`Node::Hole`]: a value a Helm user sets, or the release's name and
//! namespace). Markers become `{{ .Values.PATH }}` actions in `templates/ENV/KIND-NAME.yaml`,
//! under `{{- if eq .Values.environment "ENV" }}`, and the holes' values in the rendered
//! manifests. So `helm template` with an environment's values prints that environment's
//! manifests, holes filled from the values and the release. One directory per environment,
//! like `manifests/ENV/`, so that a build of some environments (`--env`) rewrites only theirs
//! and keeps the others' (build::carry_over), and the chart renders every environment's
//! manifests after any sequence of builds.

use std::cell::RefCell;

use indexmap::{IndexMap, IndexSet};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
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
    /// The environment's name (`values-NAME.yaml`, `templates/NAME/`).
    pub name: String,
    /// Whether its templates are written: not for the base environment of a build that does
    /// not cover it, whose values.yaml it only gives (its templates are the last build's).
    written: bool,
    /// The values of its holes: what `values.yaml` (for the base) or `values-ENV.yaml` holds.
    pub values: Json,
    /// Its templates, by file name (`deployment-checkout.yaml`); none when not `written`.
    objects: IndexMap<String, String>,
}

impl Chart {
    /// Adds environment `name`'s objects, whose templates (each starting with `header` as a
    /// comment) are written when `written`. `image` is its image repository and tag, which the
    /// values always hold (the container image is a hole made of both).
    ///
    /// Each object is printed once, straight from its [`Node`] tree with a marker at each hole
    /// ([`Marked`]), by the YAML writer of the manifests; the markers then become actions, and
    /// (when `written`) the holes' values: the object's rendered manifest, returned per object
    /// in `objects`' order. A rendered text is `None` when a hole's value is not a one-line
    /// scalar; the caller prints that object itself.
    pub fn add(&mut self, name: &str, namespace: &str, written: bool, image: (&str, &str), header: &str, objects: &[Node]) -> Vec<Option<String>> {
        let mut values = Json::Object(Map::new());
        set_path(&mut values, &["environment".into()], Json::from(name));
        set_path(&mut values, &["image".into(), "repository".into()], Json::from(image.0));
        set_path(&mut values, &["image".into(), "tag".into()], Json::from(image.1));
        let mut texts = Vec::new();
        let mut met = Vec::new();
        let marks = RefCell::new(Marks { exprs: &mut self.exprs, values: &mut values, met: &mut met, marked: 0 });
        for o in objects {
            let marked = Marked { node: o, marks: &marks };
            if !written {
                // Its values only (values.yaml's environment when the build does not cover it).
                let _ = serde_json::to_value(&marked);
                continue;
            }
            let file = format!("{}-{}.yaml", o.kind().unwrap_or("object").to_ascii_lowercase(), o.name().unwrap_or("unnamed"));
            let text = yaml::document(header, &marked);
            let holes = std::mem::take(&mut marks.borrow_mut().marked);
            texts.push((file, text, holes));
        }
        // Printed after the objects, not while: the writer is not reentrant.
        let printed: Vec<Option<String>> = if written { met.iter().map(|v| v.as_ref().and_then(scalar)).collect() } else { Vec::new() };
        let mut env = Env { name: name.to_string(), written, values, objects: IndexMap::new() };
        let mut rendered = Vec::with_capacity(texts.len());
        for (file, text, holes) in texts {
            let (mut template, manifest) = self.derive(name, &text, namespace, &printed, holes);
            if file.starts_with("externalsecret-") {
                template = yaml::mark_secret_references(template, yaml::SECRET_REFERENCES);
            }
            env.objects.insert(file, template);
            rendered.push(manifest);
        }
        self.envs.push(env);
        rendered
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

    /// The templates (`templates/ENV/FILE`, text) of the environments written.
    pub fn templates(&self) -> Vec<(String, String)> {
        self.envs.iter().filter(|e| e.written).flat_map(|e| e.objects.iter().map(|(file, text)| (format!("templates/{}/{file}", e.name), text.clone()))).collect()
    }

    /// The template of environment `name` from an object's printed `text`, and its rendered
    /// manifest, in one pass. The template: under `{{- if eq .Values.environment "NAME" }}`,
    /// each hole marker replaced by its action, and literal `{{` (alert annotations use
    /// Prometheus' templates) escaped. A release in `default` (Helm's namespace without
    /// `--namespace`) puts its objects in `namespace`, the environment's: platc never deploys
    /// to `default` (checkov CKV_K8S_21). The manifest: each marker replaced by its value as
    /// printed (`printed`, by marker number); `None` when a value has no one-line print or when
    /// fewer than the `holes` marked were found.
    fn derive(&self, name: &str, text: &str, namespace: &str, printed: &[Option<String>], holes: usize) -> (String, Option<String>) {
        let mut out = String::with_capacity(text.len() + text.len() / 8 + 64);
        let mut manifest = Some(String::with_capacity(text.len()));
        let mut found = 0;
        out.push_str(&format!("{{{{- if eq .Values.environment {name:?} }}}}\n"));
        // From marker to marker (a substring search over the whole text, not a look at each
        // line: an object has hundreds of lines and a few holes).
        let mut rest = text;
        while let Some((before, i, after)) = next_marker(rest) {
            push_escaped(&mut out, before);
            manifest = manifest.and_then(|mut m| {
                m.push_str(before);
                m.push_str(printed.get(i)?.as_deref()?);
                m.push('\n');
                Some(m)
            });
            found += 1;
            match &self.exprs[i] {
                Expr::Value(path, ValueType::Int) => out.push_str(&format!("{{{{ {} | int }}}}\n", values_ref(path))),
                Expr::Value(path, ValueType::Str | ValueType::Quantity) => out.push_str(&format!("{{{{ {} | quote }}}}\n", values_ref(path))),
                Expr::ReleaseName => out.push_str("{{ .Release.Name | quote }}\n"),
                Expr::ReleaseNamespace => out.push_str(&format!("{{{{ ternary {namespace:?} .Release.Namespace (eq .Release.Namespace \"default\") | quote }}}}\n")),
                Expr::Image => out.push_str("{{ printf \"%s:%s\" .Values.image.repository .Values.image.tag | quote }}\n"),
            }
            rest = after;
        }
        push_escaped(&mut out, rest);
        if let Some(m) = manifest.as_mut() {
            m.push_str(rest);
        }
        out.push_str("{{- end }}\n");
        (out, manifest.filter(|_| found == holes))
    }
}

/// The next hole marker of `text` that ends a line as a scalar (after `: ` or `- `): the text
/// before it, its number, and the text after its line's end. A marker elsewhere is text.
fn next_marker(text: &str) -> Option<(&str, usize, &str)> {
    let mut from = 0;
    loop {
        let at = from + text[from..].find(HOLE)?;
        let tail = &text[at + HOLE.len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        let (number, after) = tail.split_at(digits);
        let line_end = after.is_empty() || after.starts_with('\n');
        let before = &text[..at];
        if digits > 0 && line_end && (before.ends_with(": ") || before.ends_with("- ")) {
            if let Ok(i) = number.parse() {
                return Some((before, i, after.strip_prefix('\n').unwrap_or(after)));
            }
        }
        from = at + HOLE.len();
    }
}

/// Where the holes of the objects being printed go: each action once in the chart's list (its
/// index is the marker's number), each value into the environment's values and into `met` at
/// the marker's number (for the rendered manifests).
struct Marks<'c> {
    exprs: &'c mut IndexSet<Expr>,
    values: &'c mut Json,
    /// This environment's value of each hole met, by marker number.
    met: &'c mut Vec<Option<Json>>,
    /// Holes marked in the object being printed.
    marked: usize,
}

impl Marks<'_> {
    /// The marker of a hole, its value recorded.
    fn hole(&mut self, expr: &Expr, value: Json) -> String {
        let (i, _) = self.exprs.insert_full(expr.clone());
        if self.met.len() <= i {
            self.met.resize(i + 1, None);
        }
        // A hole's value is the same wherever its expression is met in one environment.
        if self.met[i].is_none() {
            self.met[i] = Some(value.clone());
        }
        if let Expr::Value(path, _) = expr {
            set_path(self.values, path, value);
        }
        self.marked += 1;
        format!("{HOLE}{i}")
    }
}

/// `value` as the YAML writer prints it after `key: `, when that is one line.
fn scalar(value: &Json) -> Option<String> {
    struct Entry<'v>(&'v Json);
    impl Serialize for Entry<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry("k", self.0)?;
            map.end()
        }
    }
    let text = yaml::document("", &Entry(value));
    let line = text.strip_prefix("k: ")?.strip_suffix('\n')?;
    (!line.contains('\n')).then(|| line.to_string())
}

/// An object tree serialized as it is, except that each hole prints its marker (and records
/// its value); the same structure, so the same YAML, as the rendered manifests.
struct Marked<'n, 'c> {
    node: &'n Node<'n>,
    marks: &'n RefCell<Marks<'c>>,
}

impl Serialize for Marked<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wrap = |node| Marked { node, marks: self.marks };
        match self.node {
            Node::Hole(h) => {
                let marker = self.marks.borrow_mut().hole(&h.expr, h.node.to_json());
                serializer.serialize_str(&marker)
            }
            Node::Ref(n) => wrap(n).serialize(serializer),
            Node::Refs(l) => {
                let mut seq = serializer.serialize_seq(Some(l.len()))?;
                for n in l.iter() {
                    seq.serialize_element(&wrap(n))?;
                }
                seq.end()
            }
            Node::List(l) => {
                let mut seq = serializer.serialize_seq(Some(l.len()))?;
                for n in l {
                    seq.serialize_element(&wrap(n))?;
                }
                seq.end()
            }
            Node::Map(m) => {
                let mut map = serializer.serialize_map(Some(m.entries().len()))?;
                for (k, v) in m.entries() {
                    map.serialize_entry(k, &wrap(v))?;
                }
                map.end()
            }
            Node::Tree(t) if !t.holes.is_empty() => {
                let mut json = t.json.clone();
                // A hole a patch changed is the patch's literal (the patch wins in the manifests).
                for (at, expr, was) in &t.holes {
                    if json.pointer(at) == Some(was) {
                        let marker = self.marks.borrow_mut().hole(expr, was.clone());
                        if let Some(slot) = json.pointer_mut(at) {
                            *slot = Json::String(marker);
                        }
                    }
                }
                json.serialize(serializer)
            }
            leaf => leaf.serialize(serializer),
        }
    }
}

/// Appends `text` with each `{{` printed as is in a template (`{{ "{{" }}`); a byte search
/// for `{`, not a substring search, since most lines have none.
fn push_escaped(out: &mut String, mut text: &str) {
    while let Some(at) = text.find('{') {
        if text[at + 1..].starts_with('{') {
            out.push_str(&text[..at]);
            out.push_str("{{ \"{{\" }}");
            text = &text[at + 2..];
        } else {
            out.push_str(&text[..=at]);
            text = &text[at + 1..];
        }
    }
    out.push_str(text);
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
        let rendered = c.add("dev", "acme-dev", true, ("repo", "1"), "head", &[object(1)]);
        assert_eq!(rendered, [Some(yaml::document("head", &object(1)))], "the manifest is derived from the same print");
        c.add("prod", "acme-prod", true, ("repo", "1"), "head", &[object(3)]);
        c.add("staging", "acme-staging", false, ("repo", "1"), "head", &[object(2)]);
        let t = c.templates();
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

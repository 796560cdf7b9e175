//! The Helm chart's templates, derived from the objects platc builds for the rendered manifests
//! ([`super::manifests`]): one definition of every object, printed twice.
//!
//! Each environment's objects (patches applied) are turned into JSON in which every hole
//! ([`Node::Hole`]: a value a Helm user sets, or the release's name and namespace) is a marker.
//! The environments' trees of one object are then laid over each other: what is the same in all
//! of them is printed once, literally, by the same YAML writer as the manifests; a subtree that
//! differs is printed once per distinct value, each under `{{- if eq .Values.environment ... }}`;
//! an object that only some environments have is wrapped in such a condition. Markers become
//! `{{ .Values.PATH }}` actions last. So `helm template` with an environment's values prints
//! that environment's manifests, holes filled from the values and the release.

use indexmap::{IndexMap, IndexSet};
use serde_json::{Map, Value as Json};

use super::object::{Expr, Node, ValueType};
use super::yaml;

/// Marks a hole in a printed tree; its index into [`Chart::exprs`] follows.
const HOLE: &str = "platc-chart-hole-";
/// Marks a subtree that differs between environments; its index into the printed object's
/// branches follows.
const BRANCH: &str = "platc-chart-branch-";

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
    /// The values of its holes: what `values.yaml` (for the base) or `values-ENV.yaml` holds.
    pub values: Json,
    /// Its objects with markers, by template file name (`deployment-checkout.yaml`).
    objects: IndexMap<String, Json>,
}

/// The distinct values of a subtree, each with the environments (indices of [`Chart::envs`])
/// that have it; `None`: the key is absent there.
type Groups = [(Vec<usize>, Option<Json>)];

/// A subtree that differs between environments: its key in the parent map (`None` in a
/// list) and its groups.
type BranchAt<'m> = (Option<&'m str>, &'m Groups);

/// One object's trees laid over each other (indices are of [`Chart::envs`]).
enum Merged {
    Same(Json),
    Map(Vec<(String, Merged)>),
    List(Vec<Merged>),
    /// Each distinct value with the environments that have it (`None`: the key is absent).
    Branch(Vec<(Vec<usize>, Option<Json>)>),
}

impl Chart {
    /// Adds environment `name`'s objects. `image` is its image repository and tag, which the
    /// values always hold (the container image is a hole made of both).
    pub fn add(&mut self, name: &str, image: (&str, &str), objects: &[Node]) {
        let mut env = Env { name: name.to_string(), values: Json::Object(Map::new()), objects: IndexMap::new() };
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

    /// The templates (`templates/FILE`, text), each starting with `header` as a comment.
    pub fn templates(&self, header: &str) -> Vec<(String, String)> {
        let mut files: IndexSet<&str> = IndexSet::new();
        for e in &self.envs {
            files.extend(e.objects.keys().map(String::as_str));
        }
        let mut out = Vec::with_capacity(files.len());
        for file in files {
            let trees: Vec<Option<&Json>> = self.envs.iter().map(|e| e.objects.get(file)).collect();
            let present: Vec<usize> = (0..trees.len()).filter(|&i| trees[i].is_some()).collect();
            let merged = unify(&present.iter().map(|&i| (i, trees[i])).collect::<Vec<_>>());
            let mut text = self.print(header, &merged);
            if present.len() < self.envs.len() {
                text = format!("{{{{- if {} }}}}\n{text}{{{{- end }}}}\n", self.condition(&present));
            }
            if file.starts_with("externalsecret-") {
                text = yaml::mark_secret_references(text, yaml::SECRET_REFERENCES);
            }
            out.push((format!("templates/{file}"), text));
        }
        out
    }

    /// The condition that selects environments `envs`.
    fn condition(&self, envs: &[usize]) -> String {
        match envs {
            [one] => format!("eq .Values.environment {:?}", self.envs[*one].name),
            _ => format!("has .Values.environment (list {})", envs.iter().map(|&i| format!("{:?}", self.envs[i].name)).collect::<Vec<_>>().join(" ")),
        }
    }

    /// One object's template text.
    fn print(&self, header: &str, merged: &Merged) -> String {
        let mut branches = Vec::new();
        let skeleton = skeleton(merged, None, &mut branches);
        let text = match merged {
            // Differs at the top (no common shape): each environment's whole object.
            Merged::Branch(groups) => {
                let mut t = String::new();
                for line in header.lines() {
                    t.push_str(&format!("# {line}\n"));
                }
                for (envs, value) in groups {
                    if let Some(v) = value {
                        t.push_str(&format!("{{{{- if {} }}}}\n{}{{{{- end }}}}\n", self.condition(envs), escape(&yaml::document("", v))));
                    }
                }
                t
            }
            _ => self.expand(&yaml::document(header, &skeleton), &branches),
        };
        self.fill(&text)
    }

    /// `text` with each line that ends in a branch marker replaced by that subtree's variants.
    fn expand(&self, text: &str, branches: &[BranchAt]) -> String {
        let mut out = String::with_capacity(text.len() * 2);
        for line in text.split_inclusive('\n') {
            let body = line.trim_end_matches('\n');
            let Some(i) = marker_at_end(body, BRANCH) else {
                out.push_str(&escape(line));
                continue;
            };
            let (key, groups) = branches[i];
            // The entry as the writer prints it alone, to find what comes before it on the line.
            let probe = entry(key, &Json::String(format!("{BRANCH}{i}")));
            let prefix = body.strip_suffix(probe.trim_end()).unwrap_or_else(|| panic!("chart: cannot place branch {i} in `{body}`"));
            let indent = " ".repeat(prefix.chars().count());
            for (envs, value) in groups {
                let Some(v) = value else { continue };
                out.push_str(&format!("{{{{- if {} }}}}\n", self.condition(envs)));
                for (n, l) in entry(key, v).lines().enumerate() {
                    let lead = if n == 0 {
                        prefix
                    } else if l.is_empty() {
                        ""
                    } else {
                        &indent
                    };
                    out.push_str(lead);
                    out.push_str(&escape(l));
                    out.push('\n');
                }
                out.push_str("{{- end }}\n");
            }
        }
        out
    }

    /// `text` with each hole marker replaced by its action.
    fn fill(&self, text: &str) -> String {
        if !text.contains(HOLE) {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len() + 256);
        for line in text.split_inclusive('\n') {
            let body = line.trim_end_matches('\n');
            let Some(i) = marker_at_end(body, HOLE) else {
                out.push_str(line);
                continue;
            };
            let expr = &self.exprs[i];
            let head = &body[..body.len() - format!("{HOLE}{i}").len()];
            match expr {
                Expr::Value(path, ValueType::Int) => out.push_str(&format!("{head}{{{{ {} | int }}}}\n", values_ref(path))),
                Expr::Value(path, ValueType::Str | ValueType::Quantity) => out.push_str(&format!("{head}{{{{ {} | quote }}}}\n", values_ref(path))),
                Expr::ReleaseName => out.push_str(&format!("{head}{{{{ .Release.Name | quote }}}}\n")),
                Expr::ReleaseNamespace => out.push_str(&format!("{head}{{{{ .Release.Namespace | quote }}}}\n")),
                Expr::Image => out.push_str(&format!("{head}{{{{ printf \"%s:%s\" .Values.image.repository .Values.image.tag | quote }}}}\n")),
            }
        }
        out
    }
}

/// Lays the trees of the environments that have an object over each other.
fn unify(trees: &[(usize, Option<&Json>)]) -> Merged {
    let first = trees[0].1;
    if trees.iter().all(|(_, t)| matches!((t, first), (Some(a), Some(b)) if same(a, b))) {
        return Merged::Same(first.cloned().unwrap_or(Json::Null));
    }
    let all = |f: fn(&Json) -> bool| trees.iter().all(|(_, t)| t.is_some_and(f));
    if all(Json::is_object) {
        let maps = trees.iter().filter_map(|(_, t)| t.and_then(Json::as_object));
        // The first key must be in every map: in a list item it carries the item's `- `.
        let keys = key_order(maps.clone()).filter(|keys| keys.first().is_none_or(|k| maps.clone().all(|m| m.contains_key(k))));
        if let Some(keys) = keys {
            let entries = keys.into_iter().map(|k| {
                let children: Vec<(usize, Option<&Json>)> = trees.iter().map(|(i, t)| (*i, t.and_then(|t| t.get(&k)))).collect();
                let m = if children.iter().all(|(_, c)| c.is_some()) { unify(&children) } else { branch(&children) };
                (k, m)
            });
            return Merged::Map(entries.collect());
        }
    }
    if all(Json::is_array) {
        let len = first.and_then(Json::as_array).map_or(0, Vec::len);
        if trees.iter().all(|(_, t)| t.and_then(Json::as_array).map(Vec::len) == Some(len)) {
            let items = (0..len).map(|n| unify(&trees.iter().map(|(i, t)| (*i, t.and_then(|t| t.get(n)))).collect::<Vec<_>>()));
            return Merged::List(items.collect());
        }
    }
    branch(trees)
}

/// Each distinct value of `trees`, with the environments that have it.
fn branch(trees: &[(usize, Option<&Json>)]) -> Merged {
    let mut groups: Vec<(Vec<usize>, Option<Json>)> = Vec::new();
    for (i, t) in trees {
        match groups.iter_mut().find(|(_, v)| match (v, t) {
            (Some(a), Some(b)) => same(a, b),
            (None, None) => true,
            _ => false,
        }) {
            Some((envs, _)) => envs.push(*i),
            None => groups.push((vec![*i], t.cloned())),
        }
    }
    Merged::Branch(groups)
}

/// The keys of every map, in an order that keeps each map's own, if there is one.
fn key_order<'a>(maps: impl Iterator<Item = &'a Map<String, Json>> + Clone) -> Option<Vec<String>> {
    let mut keys: Vec<String> = Vec::new();
    for m in maps.clone() {
        let mut at = 0;
        for k in m.keys() {
            match keys.iter().position(|x| x == k) {
                Some(p) => at = p + 1,
                None => {
                    keys.insert(at, k.clone());
                    at += 1;
                }
            }
        }
    }
    let keeps = |m: &Map<String, Json>| {
        let positions: Vec<usize> = m.keys().filter_map(|k| keys.iter().position(|x| x == k)).collect();
        positions.windows(2).all(|w| w[0] < w[1])
    };
    maps.into_iter().all(keeps).then_some(keys)
}

/// Equal, key order included (a chart must print each environment's keys in its order).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same(va, vb)),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(va, vb)| same(va, vb)),
        _ => a == b,
    }
}

/// The tree to print: branches replaced by markers (their key and groups kept in `branches`).
fn skeleton<'m>(m: &'m Merged, key: Option<&'m str>, branches: &mut Vec<BranchAt<'m>>) -> Json {
    match m {
        Merged::Same(j) => j.clone(),
        Merged::Map(entries) => Json::Object(entries.iter().map(|(k, v)| (k.clone(), skeleton(v, Some(k), branches))).collect()),
        Merged::List(items) => Json::Array(items.iter().map(|v| skeleton(v, None, branches)).collect()),
        Merged::Branch(groups) => {
            branches.push((key, groups));
            Json::String(format!("{BRANCH}{}", branches.len() - 1))
        }
    }
}

/// A map entry `key: value` (or a list item, without a key) as the writer prints it alone.
fn entry(key: Option<&str>, value: &Json) -> String {
    match key {
        Some(k) => yaml::document("", &Map::from_iter([(k.to_string(), value.clone())])),
        None => yaml::document("", &[value]),
    }
}

/// The number after `marker` when a line ends with it as a scalar (after `: ` or `- `).
fn marker_at_end(line: &str, marker: &str) -> Option<usize> {
    let at = line.rfind(marker)?;
    let before = &line[..at];
    if !(before.ends_with(": ") || before.ends_with("- ")) {
        return None;
    }
    line[at + marker.len()..].parse().ok()
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

    fn object<'a>(replicas: u32, extra: Option<&'a str>, host: &'a str) -> Node<'a> {
        let mut spec = vec![("replicas", value(&["replicaCount"], ValueType::Int, replicas)), ("host", host.into())];
        if let Some(e) = extra {
            spec.push(("extra", e.into()));
        }
        let mut m = crate::emit::object::Map::default();
        for (k, v) in spec {
            m.set(k, v);
        }
        map([
            ("kind", "Deployment".into()),
            ("metadata", map([("name", "web".into()), ("namespace", release(Expr::ReleaseNamespace, "ns"))])),
            ("spec", Node::Map(m)),
            ("note", "{{ $labels.x }}".into()),
        ])
    }

    #[test]
    fn differences_become_branches_and_holes_actions() {
        let mut c = Chart::default();
        c.add("dev", ("repo", "1"), &[object(1, None, "dev.example.com")]);
        c.add("prod", ("repo", "1"), &[object(3, Some("x"), "prod.example.com")]);
        let t = c.templates("head");
        assert_eq!(t.len(), 1);
        let text = &t[0].1;
        assert!(text.contains("namespace: {{ .Release.Namespace | quote }}"), "{text}");
        assert!(text.contains("replicas: {{ .Values.replicaCount | int }}"), "{text}");
        assert!(text.contains("{{- if eq .Values.environment \"prod\" }}\n  host: prod.example.com\n{{- end }}"), "{text}");
        assert!(text.contains("{{- if eq .Values.environment \"prod\" }}\n  extra: x\n{{- end }}"), "{text}");
        assert!(!text.contains("dev\" }}\n  extra"), "absent in dev: {text}");
        assert!(text.contains(r#"note: '{{ "{{" }} $labels.x }}'"#) || text.contains(r#"note: "{{ "{{" }} $labels.x }}""#), "{text}");
        assert_eq!(c.envs()[1].values["replicaCount"], Json::from(3));
    }

    #[test]
    fn an_object_of_some_environments_is_wrapped() {
        let mut c = Chart::default();
        c.add("dev", ("repo", "1"), &[object(1, None, "h")]);
        c.add("prod", ("repo", "1"), &[]);
        let text = &c.templates("head")[0].1;
        assert!(text.starts_with("{{- if eq .Values.environment \"dev\" }}\n# head\n"), "{text}");
        assert!(text.ends_with("{{- end }}\n"), "{text}");
    }

    #[test]
    fn a_path_that_is_not_an_identifier_is_indexed() {
        assert_eq!(values_ref(&["image".into(), "tag".into()]), ".Values.image.tag");
        assert_eq!(values_ref(&["workers".into(), "email-sender".into(), "replicas".into()]), "(index .Values \"workers\" \"email-sender\" \"replicas\")");
    }
}

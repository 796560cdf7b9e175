//! A Kubernetes object as [`super::manifests`] builds it: a tree shaped like a JSON value, but
//! whose maps are lists of entries and whose leaves borrow the service's [`Values`] rather
//! than copy them.
//!
//! At 1,000 services `platc render` builds some 8,000 objects of a dozen maps each. As
//! `serde_json` trees, each map hashed every key and each object copied its env vars, probes,
//! rules and labels out of the values, only to write them once and drop them: a fifth of the
//! run. A [`Node`] is written straight from the values; only an object a `patch` edits is
//! turned into JSON ([`Node::tree_mut`]), and it then serializes as that JSON. Both serialize
//! to the same bytes, key order included (a map keeps its entries in insertion order, as
//! `serde_json`'s does with `preserve_order`).
//!
//! [`Values`]: crate::lower::Values

use indexmap::IndexMap;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value as Json;

use super::observability::rule_file::{RuleFile, RuleGroup};

/// One value of an object; with `'a = 'static`, also a part of the values
/// ([`crate::lower::Part`]), which an object then borrows whole ([`Node::Ref`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    /// `true` or `false`.
    Bool(bool),
    /// A count or a port: objects have no negative or fractional numbers of their own.
    Int(u64),
    /// A string borrowed from the values.
    Str(&'a str),
    /// A string made for this object (a name, a joined value).
    String(String),
    /// A part of the values kept in Kubernetes' shape (a probe, a security context, ...).
    Ref(&'a Node<'a>),
    /// A list of such parts (env vars, ports, NetworkPolicy rules, ...).
    Refs(&'a [Node<'a>]),
    /// A part of an in-cluster resource's values, rendered from its template as JSON.
    Json(&'a Json),
    /// A list of such parts (containers, volumes, ...).
    JsonList(&'a [Json]),
    /// A list of strings (args, hosts, ...).
    Strings(&'a [String]),
    /// Annotations, ConfigMap data: string to string.
    StrMap(&'a IndexMap<String, String>),
    /// A map built for this object, keys in the order Kubernetes users expect.
    Map(Map<'a>),
    /// A list built for this object.
    List(Vec<Node<'a>>),
    /// A PrometheusRule's `spec`: `{groups: [...]}`.
    Rules(&'a [RuleGroup]),
    /// An object or value as JSON, once a patch has edited it, with the holes it had.
    Tree(Box<Tree>),
    /// A value a Helm user sets (or the release gives): written as its value in the rendered
    /// manifests, as a `{{ ... }}` action in the chart (see [`super::chart`]).
    Hole(Box<Hole<'a>>),
}

/// A patched object: its JSON, and where its holes were when it was turned into JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// The object (or part) as JSON, as the patches left it.
    pub json: Json,
    /// Each hole by JSON pointer, with the value it had: a hole whose value a patch changed is
    /// the patch's literal, as the patch wins in the rendered manifests too.
    pub holes: Vec<(String, Expr, Json)>,
}

/// A leaf of an object that the chart takes from the release or the values.
#[derive(Debug, Clone, PartialEq)]
pub struct Hole<'a> {
    /// What the chart prints in its place.
    pub expr: Expr,
    /// Its value in this environment: what the rendered manifests print.
    pub node: Node<'a>,
}

/// What the chart prints in place of a hole.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// `.Release.Name`.
    ReleaseName,
    /// `.Release.Namespace` (never `default`, see [`super::chart`]).
    ReleaseNamespace,
    /// The value at this path of the values (segments), of this type.
    Value(Vec<String>, ValueType),
    /// The container image: `image.repository` `:` `image.tag`.
    Image,
}

/// How a value is printed: what a Helm user may give at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// A string, always quoted (a tag of digits stays a string).
    Str,
    /// A non-negative integer.
    Int,
    /// A Kubernetes quantity (`250m`, `512Mi`): a string, or a number a Helm user gives.
    Quantity,
}

/// A hole at the values path `path` (dot-separated) of type `ty`, whose value here is `node`.
pub fn value<'a>(path: &[&str], ty: ValueType, node: impl Into<Node<'a>>) -> Node<'a> {
    Node::Hole(Box::new(Hole { expr: Expr::Value(path.iter().map(|s| s.to_string()).collect(), ty), node: node.into() }))
}

/// A hole the release fills (`Expr::ReleaseName`, `Expr::ReleaseNamespace`, `Expr::Image`).
pub fn release<'a>(expr: Expr, node: impl Into<Node<'a>>) -> Node<'a> {
    Node::Hole(Box::new(Hole { expr, node: node.into() }))
}

/// A map: entries in insertion order, keys unique. Small (a handful of keys), so a key is
/// found by looking at each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Map<'a>(Vec<(&'a str, Node<'a>)>);

impl<'a> Map<'a> {
    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Map(Vec::with_capacity(n))
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[(&'a str, Node<'a>)] {
        &self.0
    }

    /// Sets `key` to `value`: in its place when already set (as `serde_json`'s map does),
    /// else last.
    pub fn set(&mut self, key: &'a str, value: impl Into<Node<'a>>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The value of `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node<'a>> {
        self.0.iter_mut().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = &(&'a str, Node<'a>)> {
        self.0.iter()
    }
}

/// A map of `entries`, in order (keys must differ).
pub fn map<'a, const N: usize>(entries: [(&'a str, Node<'a>); N]) -> Node<'a> {
    Node::Map(Map(Vec::from(entries)))
}

/// A list of `items`.
pub fn list<'a, const N: usize>(items: [Node<'a>; N]) -> Node<'a> {
    Node::List(Vec::from(items))
}

impl<'a> Node<'a> {
    /// The value under `key` when this is a map.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// The map this is; `None` for anything else.
    pub fn as_map_mut(&mut self) -> Option<&mut Map<'a>> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            Node::String(s) => Some(s),
            Node::Ref(n) => n.as_str(),
            Node::Json(j) => j.as_str(),
            Node::Tree(t) => t.json.as_str(),
            Node::Hole(h) => h.node.as_str(),
            _ => None,
        }
    }

    /// An object's `kind`.
    pub fn kind(&self) -> Option<&str> {
        match self {
            Node::Tree(t) => t.json["kind"].as_str(),
            _ => self.get("kind")?.as_str(),
        }
    }

    /// An object's `metadata.name`.
    pub fn name(&self) -> Option<&str> {
        match self {
            Node::Tree(t) => t.json["metadata"]["name"].as_str(),
            _ => self.get("metadata")?.get("name")?.as_str(),
        }
    }

    /// This value as JSON.
    pub fn to_json(&self) -> Json {
        match self {
            Node::Tree(t) => t.json.clone(),
            // Strings, numbers and maps of them: serializing cannot fail.
            _ => serde_json::to_value(self).unwrap_or(Json::Null),
        }
    }

    /// This value as JSON to edit (a patch): turned into JSON in place the first time, its
    /// holes remembered by JSON pointer.
    pub fn tree_mut(&mut self) -> &mut Json {
        if !matches!(self, Node::Tree(_)) {
            let mut holes = Vec::new();
            self.holes("", &mut holes);
            *self = Node::Tree(Box::new(Tree { json: self.to_json(), holes }));
        }
        match self {
            Node::Tree(t) => &mut t.json,
            _ => unreachable!("just made a tree"),
        }
    }

    /// Every hole under this value, by JSON pointer from `at`, with its value.
    pub fn holes(&self, at: &str, out: &mut Vec<(String, Expr, Json)>) {
        match self {
            Node::Hole(h) => out.push((at.to_string(), h.expr.clone(), h.node.to_json())),
            Node::Ref(n) => n.holes(at, out),
            Node::Refs(l) => l.iter().enumerate().for_each(|(i, n)| n.holes(&format!("{at}/{i}"), out)),
            Node::List(l) => l.iter().enumerate().for_each(|(i, n)| n.holes(&format!("{at}/{i}"), out)),
            Node::Map(m) => m.0.iter().for_each(|(k, n)| n.holes(&format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out)),
            Node::Tree(t) => out.extend(t.holes.iter().map(|(p, e, j)| (format!("{at}{p}"), e.clone(), j.clone()))),
            _ => {}
        }
    }
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Bool(b) => serializer.serialize_bool(*b),
            Node::Int(n) => serializer.serialize_u64(*n),
            Node::Str(s) => serializer.serialize_str(s),
            Node::String(s) => serializer.serialize_str(s),
            Node::Ref(n) => n.serialize(serializer),
            Node::Refs(l) => l.serialize(serializer),
            Node::Json(j) => j.serialize(serializer),
            Node::JsonList(l) => l.serialize(serializer),
            Node::Strings(l) => l.serialize(serializer),
            Node::StrMap(m) => m.serialize(serializer),
            Node::Map(m) => {
                let mut s = serializer.serialize_map(Some(m.0.len()))?;
                for (k, v) in &m.0 {
                    s.serialize_entry(k, v)?;
                }
                s.end()
            }
            Node::List(l) => {
                let mut s = serializer.serialize_seq(Some(l.len()))?;
                for v in l {
                    s.serialize_element(v)?;
                }
                s.end()
            }
            Node::Rules(groups) => RuleFile { groups }.serialize(serializer),
            Node::Tree(t) => t.json.serialize(serializer),
            Node::Hole(h) => h.node.serialize(serializer),
        }
    }
}

impl From<bool> for Node<'_> {
    fn from(b: bool) -> Self {
        Node::Bool(b)
    }
}

impl From<u16> for Node<'_> {
    fn from(n: u16) -> Self {
        Node::Int(n.into())
    }
}

impl From<u32> for Node<'_> {
    fn from(n: u32) -> Self {
        Node::Int(n.into())
    }
}

impl From<u64> for Node<'_> {
    fn from(n: u64) -> Self {
        Node::Int(n)
    }
}

impl<'a> From<&'a str> for Node<'a> {
    fn from(s: &'a str) -> Self {
        Node::Str(s)
    }
}

impl<'a> From<&'a String> for Node<'a> {
    fn from(s: &'a String) -> Self {
        Node::Str(s)
    }
}

impl From<String> for Node<'_> {
    fn from(s: String) -> Self {
        Node::String(s)
    }
}

impl<'a, 'b: 'a> From<&'a Node<'b>> for Node<'a> {
    fn from(n: &'a Node<'b>) -> Self {
        Node::Ref(n)
    }
}

impl<'a, 'b: 'a> From<&'a Vec<Node<'b>>> for Node<'a> {
    fn from(l: &'a Vec<Node<'b>>) -> Self {
        Node::Refs(l)
    }
}

impl<'a> From<&'a Json> for Node<'a> {
    fn from(j: &'a Json) -> Self {
        Node::Json(j)
    }
}

impl<'a> From<&'a Vec<Json>> for Node<'a> {
    fn from(l: &'a Vec<Json>) -> Self {
        Node::JsonList(l)
    }
}

impl<'a> From<&'a Vec<String>> for Node<'a> {
    fn from(l: &'a Vec<String>) -> Self {
        Node::Strings(l)
    }
}

impl<'a> From<&'a IndexMap<String, String>> for Node<'a> {
    fn from(m: &'a IndexMap<String, String>) -> Self {
        Node::StrMap(m)
    }
}

impl<'a> From<Map<'a>> for Node<'a> {
    fn from(m: Map<'a>) -> Self {
        Node::Map(m)
    }
}

impl<'a> From<Vec<Node<'a>>> for Node<'a> {
    fn from(l: Vec<Node<'a>>) -> Self {
        Node::List(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_as_the_json_it_stands_for() {
        let env = vec![json!({"name": "A", "value": "1"})];
        let command = vec!["run".to_string()];
        let annotations: IndexMap<String, String> = [("b".to_string(), "2".to_string()), ("a".to_string(), "1".to_string())].into_iter().collect();
        let probe = json!({"httpGet": {"path": "/", "port": 8080}});
        let mut metadata = Map::default();
        metadata.set("name", "x");
        metadata.set("annotations", &annotations);
        // Set again: keeps its place, takes the new value.
        metadata.set("name", String::from("y"));
        let node = map([
            ("kind", "Pod".into()),
            ("metadata", metadata.into()),
            ("spec", map([("env", (&env).into()), ("command", (&command).into()), ("probe", (&probe).into()), ("n", 3u32.into()), ("on", true.into()), ("empty", list([]))])),
        ]);
        let expected = json!({
            "kind": "Pod",
            "metadata": {"name": "y", "annotations": {"b": "2", "a": "1"}},
            "spec": {"env": [{"name": "A", "value": "1"}], "command": ["run"], "probe": {"httpGet": {"path": "/", "port": 8080}}, "n": 3, "on": true, "empty": []},
        });
        assert_eq!(node.to_json(), expected);
        // Key order too (serde_json keeps insertion order): the same text.
        assert_eq!(serde_json::to_string(&node).unwrap(), serde_json::to_string(&expected).unwrap());
        assert_eq!(node.kind(), Some("Pod"));
        assert_eq!(node.name(), Some("y"));
    }

    #[test]
    fn an_owned_part_is_written_where_an_object_borrows_it() {
        // As the values hold them (`'static`), then borrowed by an object.
        let env: Vec<Node<'static>> = vec![map([("name", String::from("A").into()), ("value", "1".into())])];
        let probe: Node<'static> = map([("grpc", map([("port", 8080u16.into())])), ("periodSeconds", 10u64.into())]);
        let node = map([("env", (&env).into()), ("probe", (&probe).into()), ("ports", list([(&probe).into()]))]);
        assert!(matches!(node.get("env"), Some(Node::Refs(_))));
        assert!(matches!(node.get("probe"), Some(Node::Ref(_))));
        let probe_json = json!({"grpc": {"port": 8080}, "periodSeconds": 10});
        let expected = json!({"env": [{"name": "A", "value": "1"}], "probe": probe_json, "ports": [probe_json]});
        assert_eq!(serde_json::to_string(&node).unwrap(), serde_json::to_string(&expected).unwrap());
        assert_eq!(node.get("env").map(|e| e.to_json()), Some(expected["env"].clone()));
    }

    #[test]
    fn an_edited_object_becomes_json_and_stays_it() {
        let mut node = map([("kind", "Service".into()), ("metadata", map([("name", "api".into())]))]);
        node.tree_mut()["metadata"]["name"] = json!("web");
        assert!(matches!(node, Node::Tree(_)));
        assert_eq!(node.name(), Some("web"));
        assert_eq!(node.kind(), Some("Service"));
        assert_eq!(serde_json::to_string(&node).unwrap(), r#"{"kind":"Service","metadata":{"name":"web"}}"#);
    }
}

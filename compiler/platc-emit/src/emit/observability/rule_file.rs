//! The shape of a Prometheus rule file (`groups:` of recording and alerting rules), typed: the
//! rules of every service are written straight from these (tens of thousands of rules in a
//! monorepo), and turned into JSON only where a JSON tree is edited (a patch of the
//! PrometheusRule, the values diff of a chart's environments).
//!
//! Fields serialize in the order and under the names of Prometheus' documentation
//! (<https://prometheus.io/docs/prometheus/latest/configuration/recording_rules/>), which is
//! also what the Prometheus Operator's `PrometheusRule.spec.groups` holds.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value as Json;

/// `{"groups": [...]}`: a rule file, or a PrometheusRule's `spec`.
#[derive(Debug, Serialize)]
pub struct RuleFile<'a> {
    /// The rule groups, in order.
    pub groups: &'a [RuleGroup],
}

/// One rule group: its rules are evaluated in order, at the same time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleGroup {
    /// Group name: `SERVICE-KIND` (`api-slo-recording`, `api-baseline`, ...).
    pub name: String,
    /// The rules, in the order Prometheus evaluates them.
    pub rules: Vec<Rule>,
}

/// A recording or an alerting rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Rule {
    /// A recording rule: `expr` evaluated and stored as the series `record`.
    Record {
        /// Name of the series written.
        record: String,
        /// The PromQL expression.
        expr: String,
        /// Labels added to the series written.
        labels: Labels,
    },
    /// An alerting rule: fires while `expr` returns series, once they have for `for_`.
    Alert {
        /// The alert's name.
        alert: String,
        /// The PromQL expression: the alert is pending or firing for each series it returns.
        expr: String,
        /// How long `expr` must hold before the alert fires (`for:`); at once without.
        #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
        for_: Option<String>,
        /// Always written, `{}` when empty: the chart's template expects the key.
        labels: Labels,
        /// Texts for people (summary, description, runbook link); left out when empty.
        #[serde(skip_serializing_if = "Labels::is_empty")]
        annotations: Labels,
    },
}

impl Rule {
    /// The alert's name; `None` for a recording rule.
    pub fn alert_name(&self) -> Option<&str> {
        match self {
            Rule::Alert { alert, .. } => Some(alert),
            Rule::Record { .. } => None,
        }
    }
}

/// Labels or annotations in the order they were set, written as a map. A handful per rule:
/// a list searched in place costs less than hashing every key. Keys and values known to the
/// program (`severity`, `summary`, an objective's `slo`) are borrowed, not allocated for each
/// of the tens of thousands of rules of a monorepo.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Labels(Vec<(Text, Text)>);

/// A label's key or value.
pub type Text = Cow<'static, str>;

impl Labels {
    /// No labels, with room for `n`.
    pub fn with_capacity(n: usize) -> Self {
        Labels(Vec::with_capacity(n))
    }

    /// Sets `key` to `value`: in its place when already set (as a map's insert), else last.
    pub fn insert(&mut self, key: impl Into<Text>, value: impl Into<Text>) {
        let (key, value) = (key.into(), value.into());
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }

    /// Whether none is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Keys and values, in the order they were first set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }
}

impl<K: Into<Text>, V: Into<Text>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut labels = Labels::default();
        for (k, v) in iter {
            labels.insert(k, v);
        }
        labels
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Rule groups as a JSON tree (`[{"name": ..., "rules": [...]}]`), for what edits JSON.
pub fn to_json(groups: &[RuleGroup]) -> Json {
    // Plain data (strings, lists, maps of strings): serializing it cannot fail.
    serde_json::to_value(groups).unwrap_or(Json::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_serialize_in_prometheus_shape() {
        let groups = vec![RuleGroup {
            name: "g".into(),
            rules: vec![
                Rule::Record { record: "r".into(), expr: "up".into(), labels: [("slo", "a")].into_iter().collect() },
                Rule::Alert { alert: "A".into(), expr: "up == 0".into(), for_: Some("5m".into()), labels: Labels::default(), annotations: [("summary", "s")].into_iter().collect() },
                Rule::Alert { alert: "B".into(), expr: "x".into(), for_: None, labels: [("severity", "page")].into_iter().collect(), annotations: Labels::default() },
            ],
        }];
        let expected = serde_json::json!([{"name": "g", "rules": [
            {"record": "r", "expr": "up", "labels": {"slo": "a"}},
            {"alert": "A", "expr": "up == 0", "for": "5m", "labels": {}, "annotations": {"summary": "s"}},
            {"alert": "B", "expr": "x", "labels": {"severity": "page"}},
        ]}]);
        let json = to_json(&groups);
        assert_eq!(json, expected);
        // Key order too (the YAML follows it).
        assert_eq!(serde_json::to_string(&json).unwrap(), serde_json::to_string(&expected).unwrap());
    }

    fn text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof!["[a-zA-Z][a-zA-Z0-9_.-]{0,10}", "[a-z0-9 :#.{}=~\"\\-]{0,16}", "[a-z ()\n]{0,20}", "(?i)(on|no|yes|null|true|1|0\\.5|)",]
    }

    fn labels() -> impl proptest::strategy::Strategy<Value = Labels> {
        use proptest::prelude::*;
        prop::collection::vec((text(), text()), 0..3).prop_map(|kv| kv.into_iter().collect())
    }

    fn rule() -> impl proptest::strategy::Strategy<Value = Rule> {
        use proptest::prelude::*;
        prop_oneof![
            (text(), text(), labels()).prop_map(|(record, expr, labels)| Rule::Record { record, expr, labels }),
            (text(), text(), proptest::option::of(text()), labels(), labels()).prop_map(|(alert, expr, for_, labels, annotations)| Rule::Alert { alert, expr, for_, labels, annotations }),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 500, failure_persistence: None, ..Default::default() })]

        /// Typed rules take the YAML writer's fast road (no JSON tree): the same bytes as
        /// serde-saphyr's, and as the JSON tree's.
        #[test]
        fn typed_rules_write_the_bytes_of_their_json(groups in proptest::collection::vec((text(), proptest::collection::vec(rule(), 0..4)), 0..3)) {
            let groups: Vec<RuleGroup> = groups.into_iter().map(|(name, rules)| RuleGroup { name, rules }).collect();
            let file = RuleFile { groups: &groups };
            let fast = crate::emit::yaml::document("h", &file);
            proptest::prop_assert_eq!(&fast, &crate::emit::yaml::with_header("h", &file));
            proptest::prop_assert_eq!(&fast, &crate::emit::yaml::document("h", &serde_json::json!({"groups": to_json(&groups)})));
        }
    }

    #[test]
    fn labels_insert_replaces_in_place() {
        let mut l: Labels = [("a", "1"), ("b", "2")].into_iter().collect();
        l.insert("a", "3");
        l.insert("c", String::from("4"));
        assert_eq!(l.iter().collect::<Vec<_>>(), [("a", "3"), ("b", "2"), ("c", "4")]);
    }
}

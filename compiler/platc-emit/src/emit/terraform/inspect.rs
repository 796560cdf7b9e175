//! Reading generated Terraform back with `hcl-rs`: syntax check, the variables a configuration
//! uses, the keys of a connection-details local, and the IAM statements it grants (for tests and
//! reviews).

use std::collections::BTreeSet;

use hcl::{Block, Body, Expression, ObjectKey};

/// Parses HCL; the error names line and column.
pub fn parse(text: &str) -> Result<Body, String> {
    hcl::parse(text).map_err(|e| e.to_string())
}

/// Names `NAME` of every `var.NAME` in the text (outside comments), sorted.
pub fn referenced_variables(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split_once('#').map_or(line, |(code, _)| code);
        let bytes = code.as_bytes();
        let mut i = 0;
        while let Some(pos) = code[i..].find("var.") {
            let start = i + pos;
            let boundary = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_' || bytes[start - 1] == b'.');
            let name: String = code[start + 4..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
            if boundary && !name.is_empty() {
                out.insert(name);
            }
            i = start + 4;
        }
    }
    out
}

/// Top-level blocks `KIND "LABEL0" ...` of a body.
pub fn blocks<'a>(body: &'a Body, kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks().filter(move |b| b.identifier() == kind)
}

/// The keys of `locals { ID_connection = { ... } }`, or `None` when no such object is defined.
pub fn connection_keys(text: &str, id: &str) -> Option<BTreeSet<String>> {
    connection_keys_in(&parse(text).ok()?, id)
}

/// [`connection_keys`] of an already parsed body.
pub fn connection_keys_in(body: &Body, id: &str) -> Option<BTreeSet<String>> {
    let want = format!("{id}_connection");
    for locals in blocks(body, "locals") {
        for a in locals.body().attributes() {
            if a.key() != want {
                continue;
            }
            let Expression::Object(obj) = a.expr() else { return None };
            return Some(obj.keys().filter_map(key_text).collect());
        }
    }
    None
}

fn key_text(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Identifier(i) => Some(i.to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.clone()),
        ObjectKey::Expression(e) => Some(e.to_string()),
        _ => None,
    }
}

/// One `statement` of a `data "aws_iam_policy_document"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Label of the policy document.
    pub document: String,
    /// The statement's `sid`, if it has one.
    pub sid: Option<String>,
    /// `Allow` unless the statement says `Deny`.
    pub effect: String,
    /// The IAM actions, as written (`s3:GetObject`, `s3:*`).
    pub actions: Vec<String>,
    /// Each resource expression as written (`aws_s3_bucket.invoices.arn`, `"${...}/*"`).
    pub resources: Vec<String>,
}

/// Every statement of every `aws_iam_policy_document` in the text.
pub fn policy_statements(text: &str) -> Result<Vec<Statement>, String> {
    let body = parse(text)?;
    let mut out = Vec::new();
    for doc in blocks(&body, "data").filter(|b| b.labels().first().map(|l| l.as_str()) == Some("aws_iam_policy_document")) {
        let document = doc.labels().get(1).map(|l| l.as_str().to_string()).unwrap_or_default();
        for st in doc.body().blocks().filter(|b| b.identifier() == "statement") {
            let attr = |name: &str| st.body().attributes().find(|a| a.key() == name).map(|a| a.expr().clone());
            let strings = |e: Option<Expression>| -> Vec<String> {
                match e {
                    Some(Expression::Array(items)) => items.iter().map(expr_text).collect(),
                    Some(e) => vec![expr_text(&e)],
                    None => Vec::new(),
                }
            };
            out.push(Statement {
                document: document.clone(),
                sid: attr("sid").map(|e| expr_text(&e)),
                effect: attr("effect").map(|e| expr_text(&e)).unwrap_or_else(|| "Allow".into()),
                actions: strings(attr("actions")),
                resources: strings(attr("resources")),
            });
        }
    }
    Ok(out)
}

/// A string literal's or a quoted template's text (without quotes), any other expression as
/// HCL text.
pub fn expr_text(e: &Expression) -> String {
    match e {
        Expression::String(s) => s.clone(),
        Expression::TemplateExpr(t) => match t.as_ref() {
            hcl::TemplateExpr::QuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_variables_and_keys() {
        let text = "# var.not_this\nlocals {\n  x_connection = {\n    host      = var.host\n    \"dlq-url\" = \"${var.b}\"\n  }\n}\n";
        assert_eq!(referenced_variables(text).into_iter().collect::<Vec<_>>(), ["b", "host"]);
        assert_eq!(connection_keys(text, "x").unwrap().into_iter().collect::<Vec<_>>(), ["dlq-url", "host"]);
        assert_eq!(connection_keys(text, "y"), None);
    }

    #[test]
    fn reads_policy_statements() {
        let text = "data \"aws_iam_policy_document\" \"d\" {\n  statement {\n    actions   = [\"s3:GetObject\"]\n    resources = [\"${aws_s3_bucket.b.arn}/*\", aws_s3_bucket.b.arn]\n  }\n}\n";
        let st = policy_statements(text).unwrap();
        assert_eq!(st.len(), 1);
        assert_eq!(st[0].effect, "Allow");
        assert_eq!(st[0].resources, ["${aws_s3_bucket.b.arn}/*", "aws_s3_bucket.b.arn"]);
    }
}

//! The built-in rules on the cases each is for, and on the look-alikes none may report.

use super::*;
use crate::source::SourceFile;

/// The built-in rules, read from the embedded stdlib exactly as a run reads them.
fn builtin() -> Rules {
    let lib = crate::stdlib::Stdlib::builtin();
    let mut sources = SourceMap::new();
    let ids: Vec<FileId> = lib.secret_rule_files().map(|(_, f)| sources.add(SourceFile::new(f.display.clone(), None, f.text.clone()))).collect();
    assert!(!ids.is_empty(), "stdlib/secrets/rules.kdl is embedded");
    let mut diags = Diagnostics::new();
    let rules = read_rules(&sources, &ids, |id, d| crate::syntax::parse(id, sources.get(id), d), &mut diags);
    assert!(diags.is_empty(), "the built-in rules read cleanly: {diags:?}");
    rules
}

fn rule_of(rules: &Rules, name: Option<&str>, value: &str) -> Option<String> {
    rules.find_all(name, &blank_refs(value)).first().map(|f| f.rule.id.clone())
}

#[test]
fn every_builtin_rule_catches_its_case() {
    let rules = builtin();
    let cases: &[(Option<&str>, &str, &str)] = &[
        (Some("DB_PASSWORD"), "hunter2", "secret-name"),
        (Some("dbPassword"), "hunter2", "secret-name"),
        (Some("STRIPE_SECRET_KEY"), "x", "secret-name"),
        (Some("DATABASE_URL"), "postgres://app:s3cret@db.internal:5432/orders", "url-credentials"),
        (None, "AKIAIOSFODNN7EXAMPLE", "aws-access-key"),
        (None, "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "github-token"),
        (None, "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github-token"),
        (None, "glpat-abcdefghij0123456789", "gitlab-token"),
        (None, "xoxb-123456789012-abcdefghijkl", "slack-token"),
        (None, "sk_live_abcdefghijklmnop0123", "stripe-key"),
        (None, "AIzaSyA-abcdefghijklmnopqrstuvwxyz012345", "google-api-key"),
        (None, "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "pem-private-key"),
        (None, "-----BEGIN PRIVATE KEY-----", "pem-private-key"),
        (None, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt"),
        (Some("AWS_SECRET"), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret-name"),
        (Some("SIGNATURE_SEED"), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "high-entropy"),
    ];
    for (name, value, want) in cases {
        assert_eq!(rule_of(&rules, *name, value).as_deref(), Some(*want), "{name:?}={value:?}");
    }
}

#[test]
fn look_alikes_are_not_secrets() {
    let rules = builtin();
    let cases: &[(Option<&str>, &str)] = &[
        // references, empty values, switches, paths, settings named like secrets
        (Some("DB_PASSWORD"), "${resources.orders.password}"),
        (Some("DB_PASSWORD"), ""),
        (Some("REQUIRE_TOKEN"), "true"),
        (Some("GOOGLE_APPLICATION_CREDENTIALS"), "/var/run/secrets/gcp/key.json"),
        (Some("TOKEN_TTL"), "3600"),
        (Some("SECRET_NAME"), "orders-db"),
        (Some("PASSWORD_MIN_LENGTH"), "12"),
        // URLs without credentials, or whose password is a reference
        (Some("PAYMENTS_URL"), "https://payments.shop.svc.cluster.local:8080/api"),
        (Some("DATABASE_URL"), "postgres://app:${resources.orders.password}@db:5432/orders"),
        (Some("REPO"), "git@github.com:acme/gitops.git"),
        // identifiers
        (Some("IMAGE_TAG"), "0123456789abcdef0123456789abcdef01234567"),
        (Some("REQUEST_ID"), "123e4567-e89b-12d3-a456-426614174000"),
        (Some("DIGEST"), "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"),
        (Some("GREETING"), "dGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcw=="),
        (Some("METRIC"), "sum(rate(http_requests_total{job=\"checkout\",code=~\"5..\"}[5m]))"),
        (Some("LOG_LEVEL"), "info"),
        (Some("ROLE"), "arn:aws:iam::123456789012:role/checkout-prod"),
        (None, "platc-test-new-layout-15605-8-131673823"),
    ];
    for (name, value) in cases {
        assert_eq!(rule_of(&rules, *name, value), None, "{name:?}={value:?}");
    }
}

#[test]
fn assignments_in_arguments_and_json_keys_are_named() {
    assert_eq!(split_assignment("--db-password=hunter2"), Some(("db-password", "hunter2")));
    assert_eq!(split_assignment("A=B=C"), Some(("A", "B=C")));
    assert_eq!(split_assignment("x == y"), None);
    let json: serde_json::Value = serde_json::from_str(r#"{"env":[{"name":"DB_PASSWORD","value":"hunter2"}],"n":{"apiKey":"k"}}"#).unwrap();
    let mut out = Vec::new();
    json_literals("patch", &json, None, Span::new(0, 1), &mut out);
    let named: Vec<(Option<&str>, &str)> = out.iter().map(|l| (l.name.as_deref(), l.text.as_ref())).collect();
    assert!(named.contains(&(Some("DB_PASSWORD"), "hunter2")), "{named:?}");
    assert!(named.contains(&(Some("apiKey"), "k")), "{named:?}");
}

#[test]
fn references_are_blanked_out() {
    assert_eq!(blank_refs("a${x}b${y}"), "a b ");
    assert_eq!(blank_refs("a${unclosed"), "a${unclosed");
}

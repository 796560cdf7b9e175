//! Comments for policy scanners, on the one line they are about.
//!
//! checkov's secret scan (CKV_SECRET_6, "Base64 High Entropy String") takes the value of a key
//! whose name says "secret" for a secret: `secretKey: PROVIDER_WEBHOOK_SECRET` in an
//! ExternalSecret, `connectionSecret: cart-carts-connection` in a values file. Those are names
//! of Secret keys and Secrets, never values (a literal secret never reaches an output: E0216).
//! Rather than skipping the check for the whole run, which would also hide a real secret, each
//! such line carries its own `# checkov:skip=CKV_SECRET_6: REASON`, which checkov honours on
//! that line only.

/// The keys whose one-line values are references, each under its parent key (list items
/// between them aside), with the reason written next to it: `data[].secretKey` of an
/// ExternalSecret (and of the values it is rendered from), `backingResources[].connectionSecret`
/// of a values file. The same key elsewhere (`config.secretKey`, an env variable's literal
/// value) is not marked, so checkov still reads it.
pub const SECRET_REFERENCES: &[(&str, &str, &str)] = &[
    ("data", "secretKey", "a key of the Secret the External Secrets Operator creates, not a value"),
    ("backingResources", "connectionSecret", "the name of the Secret that holds a resource's connection details, not a value"),
];

/// `text` (a YAML document platc wrote) with `  # checkov:skip=CKV_SECRET_6: REASON` after each
/// line `KEY: VALUE` (or `- KEY: VALUE`) whose key and parent key are one of `refs` and whose
/// value is a plain name. Lines inside block scalars are content and are left alone; so is every
/// other line.
pub fn mark_secret_references(text: String, refs: &[(&str, &str, &str)]) -> String {
    if !refs.iter().any(|(_, k, _)| text.contains(&format!("{k}: "))) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 512);
    // The keys above the current line: (column, key).
    let mut parents: Vec<(usize, &str)> = Vec::new();
    // The column of the key that opened a block scalar: its content is indented further.
    let mut block: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let indent = body.len() - body.trim_start_matches(' ').len();
        if let Some(col) = block {
            if body.trim().is_empty() || indent > col {
                out.push_str(line);
                continue;
            }
            block = None;
        }
        if body.trim_start().starts_with('#') || body.trim().is_empty() {
            out.push_str(line);
            continue;
        }
        let mut content = &body[indent..];
        while let Some(rest) = content.strip_prefix("- ") {
            content = rest;
        }
        let col = body.len() - content.len();
        let (key, value) = match content.split_once(": ") {
            Some((k, v)) => (Some(k), v),
            None => (content.strip_suffix(':'), if content.ends_with(':') { "" } else { content }),
        };
        if let Some(k) = key {
            parents.retain(|(c, _)| *c < col);
            let parent = parents.last().map(|(_, p)| *p);
            let why = refs.iter().find(|(p, name, _)| *name == k && parent == Some(*p)).map(|(_, _, why)| *why);
            parents.push((col, k));
            let plain = !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
            if let Some(why) = why.filter(|_| plain) {
                out.push_str(body);
                out.push_str("  # checkov:skip=CKV_SECRET_6: ");
                out.push_str(why);
                out.push_str(&line[body.len()..]);
                continue;
            }
        }
        if value.starts_with(['|', '>']) {
            // `key: |` opens a block whose content is indented past the key; `- |`, past the dash.
            block = Some(if key.is_some() { col } else { col.saturating_sub(2) });
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_reference_lines_only() {
        let text = "data:\n- secretKey: API_KEY\n  remoteRef:\n    key: payments/provider\nbackingResources:\n- name: carts\n  connectionSecret: cart-carts-connection\nconfig:\n  secretKey: Vt7qP3xK9mZ2rL8sW4nB6yH1jD5fG0cA\n";
        let out = mark_secret_references(text.to_string(), SECRET_REFERENCES);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[1].starts_with("- secretKey: API_KEY  # checkov:skip=CKV_SECRET_6: a key of the Secret"), "{out}");
        assert!(lines[6].starts_with("  connectionSecret: cart-carts-connection  # checkov:skip=CKV_SECRET_6: "), "{out}");
        assert_eq!(out.matches("checkov:skip").count(), 2, "{out}");
        let back: serde_json::Value = serde_saphyr::from_str(&out).unwrap();
        let orig: serde_json::Value = serde_saphyr::from_str(text).unwrap();
        assert_eq!(back, orig, "comments change no value");
    }

    #[test]
    fn leaves_block_scalars_and_other_values_alone() {
        let text =
            "data:\n  description: |\n    secretKey: not-a-key\n\n    connectionSecret: x\n  secretKey: \"quoted value\"\n  items:\n  - |\n    secretKey: in-a-list-block\ndata:\n- secretKey: k\n";
        let out = mark_secret_references(text.to_string(), SECRET_REFERENCES);
        assert_eq!(out.matches("checkov:skip").count(), 1, "{out}");
        assert!(out.contains("- secretKey: k  # checkov:skip=CKV_SECRET_6:"), "{out}");
        let unchanged = "a: 1\nb: [secretKey]\n".to_string();
        assert_eq!(mark_secret_references(unchanged.clone(), SECRET_REFERENCES), unchanged);
    }
}

//! The report of a literal secret must not print it again, in a terminal or a CI log: every
//! renderer gets the diagnostics and the sources with each [`Diagnostic::redact`] text masked.

use super::Diagnostic;
use crate::source::{FileId, SourceFile, SourceMap, Span};

/// Texts of fewer characters are masked only in the diagnostics about the literal itself:
/// elsewhere `abc` is more likely a word of the message than the password.
const MIN_MASKED_ELSEWHERE: usize = 6;

/// A value shown without giving it away: a prefix of at most a quarter of it (four characters
/// at most) and its length: `h…(7 chars)`, `ghp_…(40 chars)`.
pub fn mask(value: &str) -> String {
    let n = value.chars().count();
    let prefix: String = value.chars().take(shown(n)).collect();
    format!("{prefix}…({n} chars)")
}

/// How many leading characters of an `n`-character secret [`mask`] shows.
pub fn shown(n: usize) -> usize {
    (n / 4).min(4)
}

/// The diagnostics and sources to render, when some diagnostic has text to redact: the spans
/// of those diagnostics masked in the sources (byte for byte, so every offset, line and column
/// stays), and each text masked wherever it appears in a message, label or help (ASCII case
/// folded: a help may suggest the lowercase form of what it quotes).
pub fn redact(diags: &[Diagnostic], sources: &SourceMap) -> Option<(Vec<Diagnostic>, SourceMap)> {
    let secrets: Vec<&Diagnostic> = diags.iter().filter(|d| !d.redact.is_empty()).collect();
    if secrets.is_empty() {
        return None;
    }
    let mut out = SourceMap::new();
    for (id, f) in sources.iter() {
        let mine: Vec<Span> = secrets.iter().filter(|d| d.primary.file == id).map(|d| d.primary.span).collect();
        let text = if mine.is_empty() { f.text.clone() } else { mask_spans(&f.text, &mine).into() };
        out.add(SourceFile::new(f.name.clone(), f.path.clone(), text));
    }
    let masked = diags
        .iter()
        .map(|d| {
            let mut d = d.clone();
            for s in &secrets {
                let about_it = [&d.primary].into_iter().chain(&d.secondary).any(|l| overlaps(l.file, l.span, s.primary.file, s.primary.span));
                for text in s.redact.iter().filter(|t| !t.is_empty() && (about_it || t.chars().count() >= MIN_MASKED_ELSEWHERE)) {
                    mask_in(&mut d.message, text);
                    mask_in(&mut d.primary.message, text);
                    d.secondary.iter_mut().for_each(|l| mask_in(&mut l.message, text));
                    if let Some(h) = &mut d.help {
                        mask_in(h, text);
                    }
                }
            }
            d
        })
        .collect();
    Some((masked, out))
}

fn overlaps(a: FileId, x: Span, b: FileId, y: Span) -> bool {
    a == b && x.start < y.end && y.start < x.end
}

/// Replaces every occurrence of `secret` in `text` (ASCII case folded) by its [`mask`].
fn mask_in(text: &mut String, secret: &str) {
    let (hay, needle) = (text.to_ascii_lowercase(), secret.to_ascii_lowercase());
    if !hay.contains(&needle) {
        return;
    }
    // ASCII folding keeps every byte offset, so positions in `hay` are positions in `text`.
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, _) in hay.match_indices(&needle) {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&mask(&text[start..start + needle.len()]));
        at = start + needle.len();
    }
    out.push_str(&text[at..]);
    *text = out;
}

/// `text` with each span's content replaced by `*` (byte for byte, so offsets and lines stay),
/// except its quotes and the prefix [`mask`] shows.
fn mask_spans(text: &str, spans: &[Span]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for span in spans {
        let Some(raw) = text.get(span.start..span.end) else { continue };
        let open = raw.len() - raw.trim_start_matches(['#', '"']).len();
        let close = raw.len() - raw.trim_end_matches(['#', '"']).len();
        let content = raw.get(open..raw.len().saturating_sub(close).max(open)).unwrap_or("");
        let keep = shown(content.chars().count());
        for (i, (at, c)) in content.char_indices().enumerate() {
            if i >= keep && c != '\n' {
                let from = span.start + open + at;
                bytes[from..from + c.len_utf8()].fill(b'*');
            }
        }
    }
    // Only whole UTF-8 sequences were replaced by ASCII.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::{codes, Label};

    #[test]
    fn masks_never_show_more_than_a_quarter() {
        assert_eq!(mask("hunter2"), "h…(7 chars)");
        assert_eq!(mask(&format!("ghp_{}", "a".repeat(36))), "ghp_…(40 chars)");
        assert_eq!(mask("abc"), "…(3 chars)");
        assert_eq!(mask(""), "…(0 chars)");
    }

    #[test]
    fn masking_keeps_quotes_offsets_and_lines() {
        let text = "env A=\"hunter2\" B=1\nnext";
        let start = text.find('"').unwrap();
        let masked = mask_spans(text, &[Span::new(start, start + 9)]);
        assert_eq!(masked, "env A=\"h******\" B=1\nnext");
        assert_eq!(masked.len(), text.len());
        let raw = "x #\"-----BEGIN KEY\nabcd\"#";
        let s = raw.find('#').unwrap();
        let m = mask_spans(raw, &[Span::new(s, raw.len())]);
        assert!(m.contains('\n') && !m.contains("abcd") && m.ends_with("\"#"), "{m}");
    }

    #[test]
    fn every_diagnostic_is_redacted_case_folded() {
        let text = "image \"ghcr.io/acme/AKIAZ7Q4XK3M2LPN5RTY\"\nowner x\n";
        let mut sources = SourceMap::new();
        let id = sources.add(SourceFile::new("s.kdl", None, text));
        let span = Span::new(6, 40);
        let mut secret = Diagnostic::new(codes::LITERAL_SECRET, Label::new(id, span, "masked"), "literal secret");
        secret.redact = vec!["AKIAZ7Q4XK3M2LPN5RTY".into(), "abc".into()];
        let other = Diagnostic::new(codes::INVALID_IMAGE, Label::new(id, span, "bad"), "invalid image \"ghcr.io/acme/AKIAZ7Q4XK3M2LPN5RTY\"")
            .with_help("write it in lowercase: ghcr.io/acme/akiaz7q4xk3m2lpn5rty (abc)");
        let elsewhere = Diagnostic::new(codes::INVALID_NAME, Label::new(id, Span::new(47, 48), "abc"), "abc is a word here");
        let (diags, masked) = redact(&[secret, other, elsewhere], &sources).expect("something to redact");
        assert!(!masked.get(id).text.contains("Q4XK3M2LPN5RTY") && masked.get(id).text.len() == text.len(), "{}", masked.get(id).text);
        assert_eq!(diags[1].message, "invalid image \"ghcr.io/acme/AKIA…(20 chars)\"");
        assert_eq!(diags[1].help.as_deref(), Some("write it in lowercase: ghcr.io/acme/akia…(20 chars) (…(3 chars))"));
        assert_eq!(diags[2].message, "abc is a word here", "a short text is masked only about its literal");
        assert!(redact(&diags[1..], &sources).is_none());
    }
}

//! "Did you mean ...?": the closest candidate above a similarity threshold.

/// The candidate most similar to `word`, if any is similar enough to be a likely typo.
///
/// Jaro-Winkler rewards shared prefixes, which matches how people misspell identifiers
/// (`memroy`, `readines`); 0.8 keeps unrelated words out, as rustc and KCL do.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    const THRESHOLD: f64 = 0.8;
    let word_lc = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| {
            let c_lc = c.to_ascii_lowercase();
            // An exact match ignoring case and separators is always the answer.
            let score = if normalize(&c_lc) == normalize(&word_lc) { 2.0 } else { strsim::jaro_winkler(&word_lc, &c_lc) };
            (score, c)
        })
        .filter(|(score, _)| *score >= THRESHOLD)
        // Highest score wins; ties go to the earliest candidate for stable output.
        .fold(None, |best: Option<(f64, &str)>, (score, c)| match best {
            Some((b, _)) if b >= score => best,
            _ => Some((score, c)),
        })
        .map(|(_, c)| c)
}

fn normalize(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// `help` text for an unknown word: "did you mean `x`?" or the list of valid words.
pub fn help_for_unknown(word: &str, candidates: &[&str], what: &str) -> String {
    match did_you_mean(word, candidates.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if candidates.is_empty() => format!("no {what} is allowed here"),
        None => format!("expected one of: {}", list(candidates)),
    }
}

/// `a`, `b`, `c` (backticked, comma separated).
pub fn list(items: &[&str]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_ignores_unrelated_words() {
        let c = ["memory", "cpu", "memory-limit", "cpu-limit"];
        assert_eq!(did_you_mean("memroy", c), Some("memory"));
        assert_eq!(did_you_mean("cpu_limit", c), Some("cpu-limit"));
        assert_eq!(did_you_mean("replicas", c), None);
        assert_eq!(did_you_mean("readines", ["readiness", "liveness", "startup"]), Some("readiness"));
    }
}

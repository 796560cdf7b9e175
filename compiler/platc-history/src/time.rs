//! Instants as seconds since the Unix epoch, read from and written as ISO 8601 / RFC 3339
//! (what `git show -s --format=%cI` prints), without a date library.

use platc_syntax::date::{civil_from_days, parse_date};

fn number(s: &str, len: usize) -> Option<u32> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// Parses `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM[:SS[.frac]][Z|±HH:MM|±HHMM]`
/// (`T` or a space; no offset means UTC) into seconds since the epoch.
pub fn parse(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = if text.len() > 10 { (text.get(..10)?, text.get(10..)?) } else { (text, "") };
    let mut secs = parse_date(date)? * 86_400;
    if rest.is_empty() {
        return Some(secs);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix('t')).or_else(|| rest.strip_prefix(' '))?;
    // Split the clock from the offset.
    let cut = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, offset) = rest.split_at(cut);
    let mut hms = clock.split(':');
    let h = number(hms.next()?, 2)?;
    let min = number(hms.next()?, 2)?;
    let s = match hms.next() {
        Some(s) => {
            let whole = match s.split_once('.') {
                Some((w, f)) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => w,
                Some(_) => return None,
                None => s,
            };
            number(whole, 2)?
        }
        None => 0,
    };
    if hms.next().is_some() || h > 23 || min > 59 || s > 60 {
        return None;
    }
    secs += i64::from(h * 3600 + min * 60 + s);
    let off = match offset {
        "" | "Z" | "z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let o = &o[1..];
            let (oh, om) = match o.split_once(':') {
                Some((a, b)) => (number(a, 2)?, number(b, 2)?),
                None if o.len() == 4 => (number(&o[..2], 2)?, number(&o[2..], 2)?),
                None => (number(o, 2)?, 0),
            };
            if oh > 23 || om > 59 {
                return None;
            }
            sign * i64::from(oh * 3600 + om * 60)
        }
    };
    Some(secs - off)
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// A duration in the two largest units that are not zero: `1d 4h`, `2h 30m`, `45s`.
pub fn format_duration(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let mut left = secs.unsigned_abs();
    let mut parts = Vec::new();
    for (unit, size) in [("d", 86_400u64), ("h", 3600), ("m", 60), ("s", 1)] {
        let n = left / size;
        left %= size;
        if n > 0 || !parts.is_empty() {
            parts.push(format!("{n}{unit}"));
        }
    }
    if parts.is_empty() {
        return "0s".into();
    }
    // The two largest units; trailing zero units are dropped (`2h 0m` -> `2h`).
    let mut shown: Vec<String> = parts.into_iter().take(2).collect();
    if shown.len() == 2 && shown[1].starts_with('0') {
        shown.pop();
    }
    format!("{sign}{}", shown.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_git_prints_and_dates() {
        let noon = 1_709_294_400;
        for (text, secs) in [
            ("1970-01-01", 0),
            ("2024-03-01T12:00:00Z", noon),
            ("2024-03-01T14:00:00+02:00", noon),
            ("2024-03-01T07:00:00-0500", noon),
            ("2024-03-01 12:00", noon),
            ("2024-03-01T12:00:00.250Z", noon),
            ("2024-02-29", 1_709_164_800),
        ] {
            assert_eq!(parse(text), Some(secs), "{text}");
        }
        for bad in ["2023-02-29", "2024-13-01", "yesterday", "2024-03-01T25:00:00Z", "2024-3-1", "2024-03-01T12:00:00+2:00"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for s in [0, 1_709_294_400, 951_782_400, -86_400, 4_102_444_799] {
            assert_eq!(parse(&format_utc(s)), Some(s), "{}", format_utc(s));
        }
        assert_eq!(format_utc(1_709_294_400), "2024-03-01T12:00:00Z");
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(45), "45s");
        assert_eq!(format_duration(7200), "2h");
        assert_eq!(format_duration(9000), "2h 30m");
        assert_eq!(format_duration(86_400 + 4 * 3600 + 59), "1d 4h");
        assert_eq!(format_duration(-90), "-1m 30s");
    }
}

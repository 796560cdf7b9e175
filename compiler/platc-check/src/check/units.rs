//! Parsers for unit-carrying values and names. Each returns the help text on failure: what to
//! write instead.

use crate::model::{Cpu, Duration, Memory, Percent};
use crate::syntax::Value;

/// `"250m"`, `"0.5"`, `"2"`, `2` or `0.5` -> millicores.
pub fn cpu(v: &Value) -> Result<Cpu, String> {
    const HELP: &str = "write CPU as cores or millicores in quotes, e.g. cpu=\"250m\" or cpu=\"0.5\"";
    let text = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        _ => return Err(HELP.into()),
    };
    let millis = if let Some(m) = text.strip_suffix('m') { m.parse::<u64>().map_err(|_| HELP.to_string())? } else { decimal_scaled(&text, 3).ok_or_else(|| HELP.to_string())? };
    if millis == 0 {
        return Err("CPU must be more than zero, e.g. cpu=\"100m\"".into());
    }
    Ok(Cpu(millis))
}

/// `"256Mi"`, `"1Gi"`, `"512M"` -> bytes. A bare number is refused: `memory=256` is almost
/// always meant as 256Mi, not 256 bytes.
pub fn memory(v: &Value) -> Result<Memory, String> {
    let s = quoted(v, |v| {
        let n = match v {
            Value::Int(i) => i.to_string(),
            _ => "256".to_string(),
        };
        format!("write memory with a unit in quotes, e.g. memory=\"{n}Mi\" (Ki, Mi, Gi, Ti or k, M, G, T)")
    })?;
    const HELP: &str = "write memory as a number with a unit, e.g. \"256Mi\" or \"1Gi\" (Ki, Mi, Gi, Ti or k, M, G, T)";
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let factor: u64 = match unit {
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "k" | "K" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "" => return Err(HELP.into()),
        "mi" | "MB" | "mb" | "MiB" => return Err(format!("unit `{unit}` is not a Kubernetes unit: write \"{num}Mi\"")),
        "gi" | "GB" | "gb" | "GiB" => return Err(format!("unit `{unit}` is not a Kubernetes unit: write \"{num}Gi\"")),
        _ => return Err(HELP.into()),
    };
    // Fractions such as "1.5Gi" are legal: scale through millis to stay exact enough.
    let thousandths = decimal_scaled(num, 3).ok_or_else(|| HELP.to_string())?;
    let bytes = thousandths.checked_mul(factor).map(|b| b / 1000).ok_or_else(|| "that is far too much memory".to_string())?;
    if bytes == 0 {
        return Err("memory must be more than zero, e.g. \"128Mi\"".into());
    }
    Ok(Memory(bytes))
}

/// `"30s"`, `"5m"`, `"1h30m"`, `"300ms"`, `"7d"` -> milliseconds.
pub fn duration(v: &Value) -> Result<Duration, String> {
    const HELP: &str = "write a duration in quotes with a unit, e.g. \"30s\", \"5m\", \"1h30m\" or \"300ms\" (ms, s, m, h, d, w)";
    let s = quoted(v, |v| match v {
        Value::Int(i) => format!("a duration needs a unit: write \"{i}s\""),
        _ => HELP.into(),
    })?;
    let s = s.trim();
    if s.is_empty() {
        return Err(HELP.into());
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(HELP.into());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| HELP.to_string())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "" => return Err(format!("`{n}` has no unit: write \"{n}s\"")),
            _ => return Err(HELP.into()),
        };
        rest = &rest[unit_len..];
        total = n.checked_mul(factor).and_then(|x| total.checked_add(x)).ok_or_else(|| "that duration is too long".to_string())?;
    }
    Ok(Duration(total))
}

/// `"70%"`, `"99.9%"` -> a [`Percent`] in (0, 100].
pub fn percent(v: &Value) -> Result<Percent, String> {
    const HELP: &str = "write a percentage in quotes, e.g. \"70%\" or \"99.9%\"";
    let s = quoted(v, |v| match v {
        Value::Int(i) => format!("write the percentage in quotes with a `%`: \"{i}%\""),
        Value::Float(f) => format!("write the percentage in quotes with a `%`: \"{f}%\""),
        _ => HELP.into(),
    })?;
    let Some(num) = s.trim().strip_suffix('%') else {
        return Err(format!("add a `%`: \"{}%\"", s.trim()));
    };
    let scaled = decimal_scaled(num.trim(), 4).ok_or_else(|| HELP.to_string())?;
    if scaled == 0 || scaled > 100 * Percent::SCALE {
        return Err("a percentage must be more than 0% and at most 100%".into());
    }
    Ok(Percent(scaled))
}

/// The text of a quoted value; any other value is refused with the help `unquoted` words for
/// it (a number is usually the value meant, written without its unit or its quotes).
fn quoted(v: &Value, unquoted: impl FnOnce(&Value) -> String) -> Result<&str, String> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(unquoted(other)),
    }
}

/// Parses a non-negative decimal (`"1.25"`) scaled by 10^places, exactly; `None` when it has
/// more fractional digits than `places` or is not a number.
fn decimal_scaled(s: &str, places: u32) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if frac.len() > places as usize {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac_val: u64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    let frac_scaled = frac_val * 10u64.pow(places - frac.len() as u32);
    int.checked_mul(10u64.pow(places))?.checked_add(frac_scaled)
}

/// A percentage that is a whole number (`"70%"`): autoscaling targets are integers.
pub fn whole_percent(v: &Value) -> Result<Percent, String> {
    let p = percent(v)?;
    match p.whole() {
        Some(_) => Ok(p),
        None => Err(format!("autoscaling targets are whole percentages: write \"{}%\"", (p.0 as f64 / Percent::SCALE as f64).round() as u64)),
    }
}

/// A DNS-1123 label: lowercase alphanumerics and `-`, starting and ending alphanumeric, at most
/// 63 characters. Returns the help text on failure.
pub fn dns_label(name: &str) -> Result<(), String> {
    let suggestion = to_dns_label(name);
    let fix = if suggestion.is_empty() || suggestion == name { String::new() } else { format!(", e.g. `{suggestion}`") };
    if name.is_empty() {
        return Err("a name cannot be empty".into());
    }
    if name.len() > 63 {
        return Err(format!("names are at most 63 characters (this one has {}); shorten it{fix}", name.len()));
    }
    let ok_chars = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let ok_ends = name.starts_with(|c: char| c.is_ascii_alphanumeric()) && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !ok_chars || !ok_ends {
        return Err(format!("use lowercase letters, digits and `-`, starting and ending with a letter or digit{fix}"));
    }
    Ok(())
}

/// A best-effort DNS-1123 label derived from arbitrary text (for suggestions).
pub fn to_dns_label(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    trimmed.chars().take(63).collect::<String>().trim_end_matches('-').to_string()
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*` (what every shell and runtime accepts).
/// Kubernetes also stores the names as ConfigMap and Secret keys (`[-._a-zA-Z0-9]+`, at most
/// 253 characters), which this grammar is a subset of.
pub fn env_name(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err(format!("a name has at most 253 characters, as Kubernetes ConfigMap and Secret keys (this one has {}); shorten it", name.len()));
    }
    let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        return Ok(());
    }
    let fixed: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    let fixed = if fixed.starts_with(|c: char| c.is_ascii_digit()) { format!("_{fixed}") } else { fixed };
    Err(format!("use letters, digits and `_`, not starting with a digit, e.g. `{fixed}`"))
}

/// A five-field cron schedule (`"*/5 * * * *"`) or a macro such as `@daily`.
pub fn cron(s: &str) -> Result<(), String> {
    const MACROS: [&str; 7] = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
    let help = "write five fields, minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\", or @hourly, @daily, @weekly, @monthly";
    if s.starts_with('@') {
        return if MACROS.contains(&s) { Ok(()) } else { Err(help.into()) };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("this schedule has {} field{}; {help}", fields.len(), if fields.len() == 1 { "" } else { "s" }));
    }
    let ranges = [(0, 59, "minute"), (0, 23, "hour"), (1, 31, "day of month"), (1, 12, "month"), (0, 7, "day of week")];
    for (field, (lo, hi, what)) in fields.iter().zip(ranges) {
        for part in field.split(',') {
            let (range, step) = part.split_once('/').unwrap_or((part, "1"));
            if step.parse::<u32>().map(|s| s == 0).unwrap_or(true) {
                return Err(format!("the step in `{part}` ({what}) must be a positive number"));
            }
            if range == "*" {
                continue;
            }
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            let named = |x: &str| -> Option<u32> {
                const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
                const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
                let l = x.to_ascii_lowercase();
                match what {
                    "month" => MONTHS.iter().position(|m| *m == l).map(|i| i as u32 + 1),
                    "day of week" => DAYS.iter().position(|d| *d == l).map(|i| i as u32),
                    _ => None,
                }
            };
            for x in [a, b] {
                let n = x.parse::<u32>().ok().or_else(|| named(x));
                match n {
                    Some(n) if n >= lo && n <= hi => {}
                    _ => return Err(format!("`{x}` is not a valid {what} ({lo}-{hi}); {help}")),
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_fit_kubernetes_keys() {
        assert!(env_name(&"A".repeat(253)).is_ok());
        assert!(env_name(&"A".repeat(254)).unwrap_err().contains("253"));
        assert!(env_name("LOG-LEVEL").is_err() && env_name("1X").is_err() && env_name("LOG_LEVEL").is_ok());
    }

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn cpu_units() {
        assert_eq!(cpu(&s("250m")), Ok(Cpu(250)));
        assert_eq!(cpu(&s("0.5")), Ok(Cpu(500)));
        assert_eq!(cpu(&Value::Int(2)), Ok(Cpu(2000)));
        assert_eq!(cpu(&Value::Float(0.25)), Ok(Cpu(250)));
        assert!(cpu(&s("250mb")).is_err());
        assert!(cpu(&s("0")).is_err());
        assert!(cpu(&s("0.0005")).is_err());
    }

    #[test]
    fn memory_units() {
        assert_eq!(memory(&s("256Mi")), Ok(Memory(256 << 20)));
        assert_eq!(memory(&s("1Gi")), Ok(Memory(1 << 30)));
        assert_eq!(memory(&s("1.5Gi")), Ok(Memory(3 << 29)));
        assert_eq!(memory(&s("512M")), Ok(Memory(512_000_000)));
        assert!(memory(&Value::Int(256)).unwrap_err().contains("256Mi"));
        assert!(memory(&s("256MB")).unwrap_err().contains("256Mi"));
        assert!(memory(&s("lots")).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(duration(&s("30s")), Ok(Duration(30_000)));
        assert_eq!(duration(&s("1h30m")), Ok(Duration(5_400_000)));
        assert_eq!(duration(&s("300ms")), Ok(Duration(300)));
        assert!(duration(&Value::Int(30)).unwrap_err().contains("\"30s\""));
        assert!(duration(&s("30")).is_err());
        assert!(duration(&s("s")).is_err());
    }

    #[test]
    fn percentages() {
        assert_eq!(percent(&s("70%")), Ok(Percent(700_000)));
        assert_eq!(percent(&s("99.95%")), Ok(Percent(999_500)));
        assert!(percent(&s("70")).unwrap_err().contains("70%"));
        assert!(percent(&s("101%")).is_err());
        assert!(percent(&Value::Int(70)).is_err());
    }

    #[test]
    fn names() {
        assert!(dns_label("checkout-api").is_ok());
        assert!(dns_label("Checkout_API").unwrap_err().contains("checkout-api"));
        assert!(dns_label(&"a".repeat(64)).is_err());
        assert!(dns_label("-a").is_err());
        assert!(env_name("LOG_LEVEL").is_ok());
        assert!(env_name("log-level").unwrap_err().contains("LOG_LEVEL"));
        assert!(env_name("1X").is_err());
    }

    #[test]
    fn cron_schedules() {
        assert!(cron("0 3 * * *").is_ok());
        assert!(cron("*/15 * * * mon-fri").is_ok());
        assert!(cron("@daily").is_ok());
        assert!(cron("0 25 * * *").is_err());
        assert!(cron("* * *").is_err());
        assert!(cron("*/0 * * * *").is_err());
    }
}

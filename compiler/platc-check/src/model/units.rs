//! Unit-carrying values: CPU, memory, durations and percentages, each kept both as a number
//! (for comparisons) and in a canonical text form (for emission).

use std::fmt;

/// CPU in millicores (`"250m"` = 250, `"0.5"` = 500, `2` = 2000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cpu(pub u64);

impl fmt::Display for Cpu {
    /// Canonical Kubernetes form: whole cores without a suffix, otherwise millicores.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % 1000 == 0 {
            write!(f, "{}", self.0 / 1000)
        } else {
            write!(f, "{}m", self.0)
        }
    }
}

/// Memory in bytes, displayed in the largest binary unit that divides it exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Memory(pub u64);

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u64); 4] = [("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)];
        for (suffix, size) in UNITS {
            if self.0 >= size && self.0 % size == 0 {
                return write!(f, "{}{}", self.0 / size, suffix);
            }
        }
        write!(f, "{}", self.0)
    }
}

/// A duration in milliseconds, written like `"30s"`, `"5m"`, `"1h30m"`, `"300ms"`, `"7d"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub u64);

impl Duration {
    /// The whole seconds of it, rounded down.
    pub fn as_secs(&self) -> u64 {
        self.0 / 1000
    }
}

impl fmt::Display for Duration {
    /// Prometheus/Go style, largest units first: `1d`, `6h`, `30m`, `5s`, `300ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (suffix, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
            if rest >= size {
                // Digits written by hand rather than through `write!`: every rule of every
                // service names its windows (tens of thousands of durations in a monorepo).
                let mut digits = [0u8; 20];
                let mut at = digits.len();
                let mut n = rest / size;
                loop {
                    at -= 1;
                    digits[at] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                f.write_str(std::str::from_utf8(&digits[at..]).unwrap_or_default())?;
                f.write_str(suffix)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

/// A percentage kept in basis points of a percent (`"99.95%"` = 999_500), so that it compares
/// and prints exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(pub u64);

impl Percent {
    /// Units per percent: `1%` is `Percent(SCALE)`.
    pub const SCALE: u64 = 10_000;

    /// As a fraction of 1 (`99.9%` -> `0.999`).
    pub fn ratio(&self) -> f64 {
        self.0 as f64 / (100 * Self::SCALE) as f64
    }

    /// Whole-number value when it is one (`70%` -> 70), as HPA targets need.
    pub fn whole(&self) -> Option<u64> {
        (self.0 % Self::SCALE == 0).then_some(self.0 / Self::SCALE)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / Self::SCALE;
        let frac = self.0 % Self::SCALE;
        if frac == 0 {
            write!(f, "{whole}%")
        } else {
            let digits = format!("{frac:04}");
            write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(Cpu(250).to_string(), "250m");
        assert_eq!(Cpu(2000).to_string(), "2");
        assert_eq!(Memory(256 << 20).to_string(), "256Mi");
        assert_eq!(Memory(1 << 30).to_string(), "1Gi");
        assert_eq!(Memory(1500).to_string(), "1500");
        assert_eq!(Duration(90_000).to_string(), "1m30s");
        assert_eq!(Duration(300).to_string(), "300ms");
        assert_eq!(Duration(0).to_string(), "0s");
        assert_eq!(Duration(10 * 86_400_000 + 3_600_000 + 1).to_string(), "10d1h1ms");
        assert_eq!(Duration(u64::MAX).to_string(), "213503982334d14h25m51s615ms");
        assert_eq!(Percent(999_000).to_string(), "99.9%");
        assert_eq!(Percent(700_000).to_string(), "70%");
        assert!((Percent(999_000).ratio() - 0.999).abs() < 1e-12);
    }
}

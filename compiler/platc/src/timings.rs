//! Wall time per stage on stderr when `PLATC_TIMINGS=1`, for profiling a build without a
//! profiler (`PLATC_TIMINGS=1 platc build ...`). Off by default: it prints nothing and costs
//! one cached environment lookup per stage.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("PLATC_TIMINGS").is_ok_and(|v| !v.is_empty() && v != "0"))
}

/// Runs `f`; with timings on, prints `platc timing: NAME 12.3 ms, peak RSS 45 MB` to stderr
/// after it.
pub fn time<R>(name: &str, f: impl FnOnce() -> R) -> R {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let r = f();
    eprintln!("platc timing: {name} {:.1} ms{}", start.elapsed().as_secs_f64() * 1000.0, peak_memory());
    r
}

/// `, peak RSS 123 MB` where the OS tells (Linux: VmHWM in /proc/self/status), else nothing.
fn peak_memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    kb.map(|kb| format!(", peak RSS {} MB", kb / 1000)).unwrap_or_default()
}

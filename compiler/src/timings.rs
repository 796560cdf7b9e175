//! Wall time per stage on stderr when `PLATC_TIMINGS=1`, for profiling a build without a
//! profiler (`PLATC_TIMINGS=1 platc build ...`). Off by default: it prints nothing and costs
//! one cached environment lookup per stage.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("PLATC_TIMINGS").is_ok_and(|v| !v.is_empty() && v != "0"))
}

/// Runs `f`; with timings on, prints `platc timing: NAME 12.3 ms` to stderr after it.
pub fn time<R>(name: &str, f: impl FnOnce() -> R) -> R {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let r = f();
    eprintln!("platc timing: {name} {:.1} ms", start.elapsed().as_secs_f64() * 1000.0);
    r
}

//! Phase timings on stderr when `AKS_EGRESS_LINT_TIMINGS` is set, to see
//! where a slow run spends its time without a profiler.

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("AKS_EGRESS_LINT_TIMINGS").is_some_and(|v| !v.is_empty()))
}

/// Run `f`, and print how long it took when timings are on.
pub fn phase<T>(name: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let out = f();
    eprintln!(
        "timing: {name:<24} {:>8.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    out
}

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
        "timing: {name:<24} {:>8.1} ms  rss {:>6} MB",
        start.elapsed().as_secs_f64() * 1e3,
        rss_mb().map_or_else(|| "?".to_string(), |m| m.to_string())
    );
    out
}

/// Resident memory of the process now, in MB (Linux only).
fn rss_mb() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096 / 1_000_000)
}

/// Print the peak resident memory of the process when timings are on
/// (`VmHWM`, Linux only): a parent's measure of a child can count the
/// parent's own memory.
pub fn peak() {
    if !enabled() {
        return;
    }
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        });
    match hwm {
        Some(kb) => eprintln!("timing: peak rss {} kB", kb),
        None => eprintln!("timing: peak rss ? kB"),
    }
}

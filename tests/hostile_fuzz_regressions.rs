//! Every input a fuzzer found a problem with, replayed through the same
//! entry point (`fuzz/harness.rs`) in the normal test suite.
//!
//! Inputs live in `testdata/fuzz-regressions/<target>/<name>`. A sibling
//! `<name>.expected` lists findings that must appear, one per line, as
//! `CODE file:line:col` (the file as the harness names it, e.g. `main.tf`).
//! Without one, the input must only run to completion without a panic.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const TARGETS: &[&str] = &["terraform", "arm", "arm_expr", "nsg", "config", "bicep"];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fuzz-regressions")
}

/// `CODE file:line:col` of each finding, file names without `/fuzz/`.
fn rendered(o: &harness::Outcome) -> Vec<String> {
    o.findings()
        .map(|f| {
            let span = &f.primary().span;
            let file = o.sources.get(span.file);
            let (line, col) = file.line_col(span.range.start);
            let name = file.display.trim_start_matches("/fuzz/");
            format!("{} {name}:{line}:{col}", f.code.as_str())
        })
        .collect()
}

fn run(target: &str, data: &[u8]) -> Vec<String> {
    match target {
        "terraform" => rendered(&harness::terraform(data)),
        "arm" => rendered(&harness::arm(data)),
        "arm_expr" => rendered(&harness::arm_expr(data)),
        "nsg" => rendered(&harness::nsg(data)),
        "bicep" => rendered(&harness::bicep(data)),
        "config" => match harness::config(data) {
            Ok(_) => vec![],
            Err(e) => vec![format!(
                "config {}:{}:{}",
                e.file,
                e.line.unwrap_or(0),
                e.column.unwrap_or(0)
            )],
        },
        other => panic!("unknown fuzz target `{other}`"),
    }
}

#[test]
fn fuzz_regressions() {
    let mut ran = 0;
    for target in TARGETS {
        let Ok(entries) = std::fs::read_dir(dir().join(target)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for path in files {
            if path.extension().is_some_and(|e| e == "expected") {
                continue;
            }
            let data = std::fs::read(&path).expect("read regression input");
            let t = Instant::now();
            let got = run(target, &data);
            let took = t.elapsed();
            // Generous: a debug build on a busy machine; the bug was a hang or a
            // blow-up of orders of magnitude more.
            assert!(
                took < Duration::from_secs(60),
                "{}: took {took:?}",
                path.display()
            );
            let mut expected = path.clone().into_os_string();
            expected.push(".expected");
            if let Ok(want) = std::fs::read_to_string(&expected) {
                for line in want.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    assert!(
                        got.iter().any(|g| g == line),
                        "{}: expected `{line}` among {got:#?}",
                        path.display()
                    );
                }
            }
            ran += 1;
        }
    }
    eprintln!("{ran} fuzz regression inputs replayed");
}

/// The seeds: every scenario file of `testdata/` through its entry point,
/// so the harness itself stays in step with the frontends.
#[test]
fn seeds_run_through_the_harness() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut n = 0;
    for e in ignore::Walk::new(&root).flatten() {
        let p = e.path();
        if !p.is_file() || p.starts_with(root.join("fuzz-regressions")) {
            continue;
        }
        let Ok(data) = std::fs::read(p) else { continue };
        let name = p.to_string_lossy();
        let target = if name.ends_with(".tf") || name.ends_with(".tfvars") {
            "terraform"
        } else if name.ends_with(".bicep") || name.ends_with(".bicepparam") {
            "bicep"
        } else if name.ends_with(".json") {
            let text = String::from_utf8_lossy(&data).to_ascii_lowercase();
            if text.contains("deploymenttemplate") || text.contains("deploymentparameters") {
                "arm"
            } else if text.contains("securityrules") || text.contains("\"priority\"") {
                "nsg"
            } else {
                continue;
            }
        } else {
            continue;
        };
        run(target, &data);
        n += 1;
    }
    assert!(n > 20, "only {n} seeds found");
}

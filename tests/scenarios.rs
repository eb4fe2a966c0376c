//! Every scenario folder under `testdata/` run end to end through the whole
//! pipeline (discovery, frontends, evaluation, checks, config, suppressions),
//! with one snapshot of its findings each: a change anywhere that alters what
//! users see shows here.

use aks_egress_lint::{Options, lint};
use std::path::Path;

fn render(dir: &Path) -> String {
    let opts = Options {
        paths: vec![dir.to_path_buf()],
        catalog: "current".into(),
        ..Default::default()
    };
    let (report, sources) = match lint(&opts) {
        Ok(r) => r,
        Err(e) => return format!("tool error: {e}\n"),
    };
    let mut out = String::new();
    for f in &report.findings {
        let p = f.primary();
        let (l, c, _, _) = sources.span_lines(&p.span);
        out.push_str(&format!(
            "{}:{}:{} {} {} {}\n",
            sources.get(p.span.file).display,
            l,
            c,
            f.code,
            f.severity.as_str(),
            f.message
        ));
    }
    out.push_str(&format!(
        "{} findings, {} clusters\n",
        report.findings.len(),
        report.clusters.len()
    ));
    out
}

#[test]
fn every_scenario() {
    let mut dirs: Vec<_> = std::fs::read_dir("testdata")
        .expect("testdata")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() > 10, "scenarios are missing");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/scenarios");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for dir in dirs {
            let name = dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            insta::assert_snapshot!(name, render(&dir));
        }
    });
}

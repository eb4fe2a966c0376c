//! Scenarios of `testdata/eval-*`: each is read into a model, checked, and
//! its findings compared with a snapshot and with exact primary positions.

mod common;

use aks_egress_lint::checks::{Overrides, run};
use aks_egress_lint::finding::{ClusterSummary, Code, Finding, Severity};
use aks_egress_lint::model::Model;
use aks_egress_lint::source::Sources;
use common::{catalog, render};

struct Run {
    findings: Vec<Finding>,
    summaries: Vec<ClusterSummary>,
    sources: Sources,
}

fn scenario_with(name: &str, ov: &Overrides) -> Run {
    let dir = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    files.sort();
    let mut sources = Sources::new();
    let mut model = Model::default();
    for p in files {
        let text = std::fs::read_to_string(&p).unwrap();
        let shown = format!(
            "testdata/{name}/{}",
            p.file_name().unwrap().to_string_lossy()
        );
        let id = sources.add_named(&shown, text.clone());
        model.merge(common::tf::read(id, &text));
    }
    let (findings, summaries) = run(&model, &sources, &catalog(), ov);
    Run {
        findings,
        summaries,
        sources,
    }
}

fn scenario(name: &str) -> Run {
    scenario_with(name, &Overrides::default())
}

fn codes(r: &Run) -> Vec<Code> {
    let mut c: Vec<Code> = r.findings.iter().map(|f| f.code).collect();
    c.sort();
    c
}

fn errors(r: &Run) -> Vec<&Finding> {
    r.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

fn at(r: &Run, code: Code, dest: &str) -> (String, usize, usize) {
    let f = r
        .findings
        .iter()
        .find(|f| f.code == code && f.endpoint.as_ref().is_some_and(|e| e.destination == dest))
        .unwrap_or_else(|| panic!("no {code} for {dest}:\n{}", render(&r.findings, &r.sources)));
    common::pos(f, &r.sources)
}

#[test]
fn policy_clean_has_no_error() {
    let r = scenario("eval-policy-clean");
    assert!(errors(&r).is_empty(), "{}", render(&r.findings, &r.sources));
    assert_eq!(r.summaries.len(), 1);
}

#[test]
fn policy_missing_mcr() {
    let r = scenario("eval-policy-missing-mcr");
    assert_eq!(
        codes(&r),
        [Code::AEL001, Code::AEL001],
        "{}",
        render(&r.findings, &r.sources)
    );
    // The application collection that lacks it; the network collection that
    // lacks the API server address.
    assert_eq!(
        at(&r, Code::AEL001, "mcr.microsoft.com"),
        ("testdata/eval-policy-missing-mcr/main.tf".into(), 84, 3)
    );
    assert_eq!(
        at(&r, Code::AEL001, "APIServerPublicIP"),
        ("testdata/eval-policy-missing-mcr/main.tf".into(), 57, 3)
    );
    insta::assert_snapshot!(render(&r.findings, &r.sources));
}

//! JUnit XML for test-result views such as Azure DevOps' *Publish Test
//! Results*.
//!
//! - One test suite per cluster, with one test case per catalog requirement
//!   (`<requirement> <destination>:<port>/<protocol>`) and one test case
//!   `cluster` for findings about the cluster that name no requirement.
//! - One test suite `files`, with one test case per scanned file, for
//!   findings that belong to no cluster (parse errors, unresolved values, …).
//!
//! Errors and warnings are failures (type = the code). Notes do not fail a
//! test case: they go to its `system-out`. Several findings on one test case
//! make one failure whose description lists them all. No timestamps or
//! durations are written, so the output is reproducible.

use crate::finding::{Finding, Report, Severity, Verdict};
use crate::source::{FileId, Sources};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use std::collections::HashMap;
use std::io::{self, Write};

pub fn write(w: &mut dyn Write, report: &Report, sources: &Sources) -> io::Result<()> {
    let mut out = quick_junit::Report::new("aks-egress-lint");
    // Each finding lands in exactly one test case. Buckets keep this linear.
    let mut by_cluster: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        if let Some(c) = f.cluster.as_deref() {
            by_cluster.entry(c).or_default().push(i);
        }
    }
    let mut placed = vec![false; report.findings.len()];

    for c in &report.clusters {
        let mine_all = by_cluster.get(c.name.as_str()).cloned().unwrap_or_default();
        let mut by_req: HashMap<&str, Vec<usize>> = HashMap::new();
        for &i in &mine_all {
            if let Some(r) = report
                .findings
                .get(i)
                .and_then(|f| f.requirement.as_deref())
            {
                by_req.entry(r).or_default().push(i);
            }
        }
        let mut suite = TestSuite::new(format!("cluster {}", c.name));
        for v in &c.verdicts {
            let name = format!(
                "{} {}:{}/{}",
                v.requirement, v.endpoint.destination, v.endpoint.port, v.endpoint.protocol
            );
            let candidates = by_req
                .get(v.requirement.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let mine = take(report, &mut placed, candidates, |f| {
                f.endpoint.as_ref().is_none_or(|e| *e == v.endpoint)
            });
            let mut case = case(&name, &c.name, &mine, sources);
            if v.verdict == Verdict::Unknown && mine.is_empty() {
                case.set_system_out("verdict unknown: a value on the path cannot be determined");
            }
            suite.add_test_case(case);
        }
        let rest = take(report, &mut placed, &mine_all, |_| true);
        suite.add_test_case(case("cluster", &c.name, &rest, sources));
        out.add_test_suite(suite);
    }

    // Findings for clusters without a summary, or for no cluster: per file.
    let mut by_file: HashMap<FileId, Vec<usize>> = HashMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        by_file.entry(f.primary().span.file).or_default().push(i);
    }
    let mut files = TestSuite::new("files");
    for (id, file) in sources.iter() {
        let candidates = by_file.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        let mine = take(report, &mut placed, candidates, |_| true);
        files.add_test_case(case(&file.display, "files", &mine, sources));
    }
    out.add_test_suite(files);

    let xml = out.to_string().map_err(io::Error::other)?;
    w.write_all(xml.as_bytes())?;
    if !xml.ends_with('\n') {
        writeln!(w)?;
    }
    Ok(())
}

/// The not yet placed findings among `candidates` that `pred` accepts.
fn take<'a>(
    report: &'a Report,
    placed: &mut [bool],
    candidates: &[usize],
    pred: impl Fn(&Finding) -> bool,
) -> Vec<&'a Finding> {
    let mut out = vec![];
    for &i in candidates {
        if let (Some(p), Some(f)) = (placed.get_mut(i), report.findings.get(i)) {
            if !*p && pred(f) {
                *p = true;
                out.push(f);
            }
        }
    }
    out
}

fn describe(f: &Finding, sources: &Sources) -> String {
    let p = f.primary();
    let (l, c, _, _) = sources.span_lines(&p.span);
    let mut s = format!(
        "{}:{l}:{c}: {} {} [{}]: {}",
        sources.get(p.span.file).display,
        f.severity.as_str(),
        f.code.as_str(),
        f.code.name(),
        f.message
    );
    for r in f.labels.iter().filter(|l| !l.primary) {
        let (l, c, _, _) = sources.span_lines(&r.span);
        s.push_str(&format!(
            "\n  {}:{l}:{c}: {}",
            sources.get(r.span.file).display,
            r.message
        ));
    }
    if let Some(h) = &f.help {
        s.push_str("\n  fix: ");
        s.push_str(h);
    }
    s.push_str("\n  see ");
    s.push_str(&f.code.help_uri());
    s
}

fn case(name: &str, classname: &str, findings: &[&Finding], sources: &Sources) -> TestCase {
    let (failing, notes): (Vec<&Finding>, Vec<&Finding>) = findings
        .iter()
        .partition(|f| f.severity >= Severity::Warning);
    let status = match failing.first() {
        None => TestCaseStatus::success(),
        Some(first) => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_type(first.code.as_str());
            st.set_message(if failing.len() == 1 {
                first.message.clone()
            } else {
                format!("{} (and {} more)", first.message, failing.len() - 1)
            });
            st.set_description(
                failing
                    .iter()
                    .map(|f| describe(f, sources))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            st
        }
    };
    let mut tc = TestCase::new(name, status);
    tc.set_classname(classname);
    if !notes.is_empty() {
        tc.set_system_out(
            notes
                .iter()
                .map(|f| describe(f, sources))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    tc
}

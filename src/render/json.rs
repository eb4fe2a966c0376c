//! JSON output, contract version 1: these keys are stable (added to, never
//! renamed). The DTOs below are the contract; internal types are never
//! serialised directly.

use crate::finding::{Finding, Report, Severity};
use crate::source::Sources;
use serde::Serialize;
use std::io::{self, Write};

pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    tool: Tool,
    findings: Vec<FindingV1<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct FindingV1<'a> {
    code: &'static str,
    name: &'static str,
    severity: &'static str,
    message: &'a str,
    help: Option<&'a str>,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    cluster: Option<&'a str>,
    endpoint: Option<EndpointV1<'a>>,
    related: Vec<RelatedV1<'a>>,
}

#[derive(Serialize)]
struct EndpointV1<'a> {
    destination: &'a str,
    protocol: &'a str,
    port: u16,
}

#[derive(Serialize)]
struct RelatedV1<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    clusters: usize,
    errors: usize,
    warnings: usize,
    notes: usize,
}

pub fn tool() -> (&'static str, &'static str) {
    (env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
}

fn finding<'a>(f: &'a Finding, sources: &'a Sources) -> FindingV1<'a> {
    let p = f.primary();
    let (line, column, end_line, end_column) = sources.span_lines(&p.span);
    let related = f
        .labels
        .iter()
        .filter(|l| !l.primary)
        .map(|l| {
            let (line, column, _, _) = sources.span_lines(&l.span);
            RelatedV1 {
                file: &sources.get(l.span.file).display,
                line,
                column,
                message: &l.message,
            }
        })
        .collect();
    FindingV1 {
        code: f.code.as_str(),
        name: f.code.name(),
        severity: f.severity.as_str(),
        message: &f.message,
        help: f.help.as_deref(),
        file: &sources.get(p.span.file).display,
        line,
        column,
        end_line,
        end_column,
        cluster: f.cluster.as_deref(),
        endpoint: f.endpoint.as_ref().map(|e| EndpointV1 {
            destination: &e.destination,
            protocol: &e.protocol,
            port: e.port,
        }),
        related,
    }
}

pub fn write(w: &mut dyn Write, report: &Report, sources: &Sources) -> io::Result<()> {
    let (name, version) = tool();
    let out = Output {
        version: VERSION,
        tool: Tool { name, version },
        findings: report
            .findings
            .iter()
            .map(|f| finding(f, sources))
            .collect(),
        summary: Summary {
            files: report.files,
            clusters: report.clusters.len(),
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            notes: report.count(Severity::Note),
        },
    };
    serde_json::to_writer_pretty(&mut *w, &out).map_err(io::Error::other)?;
    writeln!(w)
}

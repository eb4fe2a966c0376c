//! GitHub Actions output: one workflow command per finding
//! (`::error file=…,line=…,col=…,title=…::message`), which GitHub shows as
//! annotations on the pull request, and the Markdown report appended to the
//! job summary (`$GITHUB_STEP_SUMMARY`).
//!
//! Annotations carry the start position only: a span may end far below
//! (a whole resource block), and GitHub would then annotate every line.

use crate::finding::{Finding, Report, Severity};
use crate::render::markdown;
use crate::source::Sources;
use std::io::{self, Write};
use std::path::Path;

/// GitHub rejects a job summary above 1 MiB; stay under it.
const SUMMARY_LIMIT: usize = 1000 * 1024;

/// GitHub shows at most 10 error, 10 warning and 10 notice annotations per
/// step and drops the rest silently (actions/toolkit, docs/problem-matchers.md,
/// "Limitations").
pub const ANNOTATIONS_PER_KIND: usize = 10;

/// Write one workflow command per finding, up to what GitHub shows; the
/// rest as plain log lines, and a notice saying how many were not annotated.
pub fn write(w: &mut dyn Write, report: &Report, sources: &Sources) -> io::Result<()> {
    let total = |s: Severity| report.count(s);
    let overflow = [Severity::Error, Severity::Warning, Severity::Note]
        .iter()
        .any(|s| total(*s) > ANNOTATIONS_PER_KIND);
    // Keep a notice free for the message about the rest.
    let cap = |s: Severity| match s {
        Severity::Note if overflow => ANNOTATIONS_PER_KIND - 1,
        _ => ANNOTATIONS_PER_KIND,
    };
    let mut shown = [0usize; 3];
    let mut hidden = 0usize;
    for f in &report.findings {
        let slot = &mut shown[f.severity as usize];
        if *slot < cap(f.severity) {
            *slot += 1;
            writeln!(w, "{}", command(f, sources))?;
        } else {
            hidden += 1;
            writeln!(w, "{}", plain(f, sources))?;
        }
    }
    if hidden > 0 {
        writeln!(
            w,
            "::notice title=aks-egress-lint::{hidden} more findings are in the log above but not annotated (GitHub shows {ANNOTATIONS_PER_KIND} annotations of each kind per step); the job summary and the SARIF report have them all"
        )?;
    }
    Ok(())
}

fn kind(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

/// A finding that gets no annotation, as a log line that cannot be taken
/// for a workflow command.
fn plain(f: &Finding, sources: &Sources) -> String {
    let p = f.primary();
    let (line, col, _, _) = sources.span_lines(&p.span);
    let msg = format!(
        "{}:{line}:{col}: {} {} [{}]: {}",
        sources.get(p.span.file).display,
        f.severity.as_str(),
        f.code.as_str(),
        f.code.name(),
        f.message
    );
    msg.replace(['\r', '\n'], " ")
}

fn command(f: &Finding, sources: &Sources) -> String {
    let kind = kind(f.severity);
    let p = f.primary();
    let (line, col, _, _) = sources.span_lines(&p.span);
    let mut msg = f.message.clone();
    for l in f.labels.iter().filter(|l| !l.primary) {
        let (ll, lc, _, _) = sources.span_lines(&l.span);
        msg.push_str(&format!(
            "\n{}:{ll}:{lc}: {}",
            sources.get(l.span.file).display,
            l.message
        ));
    }
    if let Some(h) = &f.help {
        msg.push_str("\nfix: ");
        msg.push_str(h);
    }
    msg.push_str("\nsee ");
    msg.push_str(&f.code.help_uri());
    format!(
        "::{kind} file={},line={line},col={col},title={}::{}",
        property(&sources.get(p.span.file).display),
        property(&format!("{} {}", f.code.as_str(), f.code.name())),
        data(&msg)
    )
}

/// Escape the message part of a workflow command.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value: also `:` and `,`, which separate properties.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Append the Markdown report to `$GITHUB_STEP_SUMMARY` when it is set, with
/// links to the lines at the commit under test
/// (`$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/blob/$GITHUB_SHA/`). Does nothing
/// outside GitHub Actions.
pub fn write_step_summary(report: &Report, sources: &Sources) -> io::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let link_base = match (
        std::env::var("GITHUB_SERVER_URL"),
        std::env::var("GITHUB_REPOSITORY"),
        std::env::var("GITHUB_SHA"),
    ) {
        (Ok(server), Ok(repo), Ok(sha)) if !repo.is_empty() && !sha.is_empty() => Some(format!(
            "{}/{repo}/blob/{sha}/",
            server.trim_end_matches('/')
        )),
        _ => None,
    };
    append_summary(Path::new(&path), report, sources, link_base)
}

/// Append the summary to `path` (what [`write_step_summary`] does once it
/// has read the environment).
pub fn append_summary(
    path: &Path,
    report: &Report,
    sources: &Sources,
    link_base: Option<String>,
) -> io::Result<()> {
    let opts = markdown::Options {
        link_base,
        heading_level: 2,
    };
    let mut buf = Vec::new();
    markdown::write_with(&mut buf, report, sources, &opts)?;
    if buf.len() > SUMMARY_LIMIT {
        let cut = buf[..SUMMARY_LIMIT]
            .iter()
            .rposition(|b| *b == b'\n')
            .unwrap_or(0);
        buf.truncate(cut + 1);
        buf.extend_from_slice(
            b"\n\n*The report is longer than a job summary can hold; the annotations and the SARIF file have every finding.*\n",
        );
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_stop_at_what_github_shows() {
        use crate::finding::Code;
        use crate::source::Span;
        let mut s = Sources::new();
        let id = s.add_named("a.tf", "x\n");
        let mut findings = vec![];
        for i in 0..12 {
            findings.push(Finding::new(
                Code::AEL001,
                format!("e{i}"),
                Span::new(id, 0..1),
                "l",
            ));
        }
        for i in 0..3 {
            let mut f = Finding::new(Code::AEL008, format!("n{i}"), Span::new(id, 0..1), "l");
            f.severity = Severity::Note;
            findings.push(f);
        }
        let report = Report {
            findings,
            ..Default::default()
        };
        let mut out = vec![];
        write(&mut out, &report, &s).expect("write");
        let out = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("::error ")).count(),
            10
        );
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("::notice ")).count(),
            4
        );
        assert_eq!(
            lines[10],
            "a.tf:1:1: error AEL001 [missing-required-endpoint]: e10"
        );
        assert!(
            lines[15].starts_with("::notice title=aks-egress-lint::2 more findings"),
            "{out}"
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(data("a%b\r\nc"), "a%25b%0D%0Ac");
        assert_eq!(property("x:y,z%"), "x%3Ay%2Cz%25");
    }
}

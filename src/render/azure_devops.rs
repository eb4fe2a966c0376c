//! Azure DevOps logging commands: one `##vso[task.logissue …]` per finding,
//! then `##vso[task.complete result=…]` that agrees with the exit code.
//!
//! Azure DevOps has only `error` and `warning` issues: notes are printed as
//! plain log lines so they are visible without marking the task. Escaping
//! follows azure-pipelines-task-lib (`taskcommand.ts`): in properties `%`,
//! `;`, `]`, CR and LF; in the message `%`, CR and LF. `%` becomes
//! `%AZP25`, which the agent decodes back.

use crate::finding::{Finding, Report, Severity};
use crate::source::Sources;
use std::io::{self, Write};

/// Write the issues, then the task result matching `exit_code` (the code the
/// linter exits with: 0 clean or below the fail level, 1 findings at or
/// above it). A run with findings below the fail level ends
/// `SucceededWithIssues`, so the pipeline shows them without failing.
pub fn write(
    w: &mut dyn Write,
    report: &Report,
    sources: &Sources,
    exit_code: i32,
) -> io::Result<()> {
    for f in &report.findings {
        writeln!(w, "{}", line(f, sources))?;
    }
    let result = match exit_code {
        0 if report.findings.is_empty() => "Succeeded",
        0 => "SucceededWithIssues",
        _ => "Failed",
    };
    writeln!(
        w,
        "##vso[task.complete result={result};]aks-egress-lint: {} error(s), {} warning(s), {} note(s)",
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Note),
    )
}

fn line(f: &Finding, sources: &Sources) -> String {
    let p = f.primary();
    let (l, c, _, _) = sources.span_lines(&p.span);
    let file = &sources.get(p.span.file).display;
    let mut msg = format!("{} {}: {}", f.code.as_str(), f.code.name(), f.message);
    if let Some(h) = &f.help {
        msg.push_str("\nfix: ");
        msg.push_str(h);
    }
    let ty = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => {
            // No `note` issue type exists; keep it a plain, single log line.
            return format!("note: {file}:{l}:{c}: {}", msg.replace(['\r', '\n'], " "));
        }
    };
    format!(
        "##vso[task.logissue type={ty};sourcepath={};linenumber={l};columnnumber={c};code={}]{}",
        property(file),
        f.code.as_str(),
        data(&msg)
    )
}

fn data(s: &str) -> String {
    s.replace('%', "%AZP25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(';', "%3B").replace(']', "%5D")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(data("50%\r\nx;]"), "50%AZP25%0D%0Ax;]");
        assert_eq!(property("a;b]c%"), "a%3Bb%5Dc%AZP25");
    }
}

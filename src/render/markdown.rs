//! Markdown report for a pull-request comment or a job summary: a summary
//! line; per cluster a Mermaid diagram of its egress path with the blocking
//! hop marked and a table of every required endpoint with its verdict and the
//! rule that decided it; then the findings grouped by file, linked to lines.
//!
//! Everything taken from the scanned code is escaped: Mermaid labels use
//! entity codes, table cells escape `|`, text escapes HTML, and code spans
//! pick a fence longer than any backtick run inside.

use crate::finding::{ClusterSummary, Finding, Hop, Label, Report, Severity, Verdict};
use crate::render::sarif::uri_path;
use crate::source::{Sources, Span};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// How links to source lines are written.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Prefix of line links, e.g.
    /// `https://github.com/OWNER/REPO/blob/SHA/`; `None` writes links relative
    /// to the current directory, which work for a file committed next to the
    /// sources.
    pub link_base: Option<String>,
    /// Heading level of the title (1 = `#`); sections are one deeper.
    pub heading_level: usize,
}

impl Options {
    fn level(&self) -> usize {
        self.heading_level.clamp(1, 4)
    }
}

/// Write the report with relative links and a level-1 title.
pub fn write(w: &mut dyn Write, report: &Report, sources: &Sources) -> io::Result<()> {
    write_with(w, report, sources, &Options::default())
}

/// Write the report with the given link style.
pub fn write_with(
    w: &mut dyn Write,
    report: &Report,
    sources: &Sources,
    opts: &Options,
) -> io::Result<()> {
    w.write_all(render(report, sources, opts).as_bytes())
}

fn render(report: &Report, sources: &Sources, opts: &Options) -> String {
    let h1 = "#".repeat(opts.level());
    let h2 = "#".repeat(opts.level() + 1);
    let h3 = "#".repeat(opts.level() + 2);
    let mut out = String::new();
    let _ = writeln!(out, "{h1} aks-egress-lint\n");
    let (e, wn, n) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Note),
    );
    let status = if e > 0 {
        ":x:"
    } else if wn > 0 {
        ":warning:"
    } else {
        ":white_check_mark:"
    };
    let _ = writeln!(
        out,
        "{status} {} in {}, {}.\n",
        counts(e, wn, n),
        plural(report.files, "file"),
        plural(report.clusters.len(), "cluster"),
    );

    for c in &report.clusters {
        cluster(&mut out, c, sources, opts, &h2);
    }

    let _ = writeln!(out, "{h2} Findings\n");
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.");
        return out;
    }
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        by_file
            .entry(sources.get(f.primary().span.file).display.as_str())
            .or_default()
            .push(f);
    }
    for (file, findings) in by_file {
        let _ = writeln!(out, "{h3} {}\n", code(file));
        for f in findings {
            finding(&mut out, f, sources, opts);
        }
        out.push('\n');
    }
    out
}

fn counts(e: usize, w: usize, n: usize) -> String {
    format!(
        "{}, {}, {}",
        plural(e, "error"),
        plural(w, "warning"),
        plural(n, "note")
    )
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn cluster(out: &mut String, c: &ClusterSummary, sources: &Sources, opts: &Options, h2: &str) {
    let _ = writeln!(out, "{h2} Cluster {}\n", code(&c.name));
    let _ = writeln!(
        out,
        "Defined at {}{}.\n",
        link(&c.span, sources, opts),
        c.source
            .as_deref()
            .map(|s| format!(", egress from {}", code(s)))
            .unwrap_or_default()
    );
    if !c.path.is_empty() {
        let _ = writeln!(out, "```mermaid\n{}```\n", mermaid(&c.path));
    }
    if c.verdicts.is_empty() {
        let _ = writeln!(out, "No catalog requirement applies.\n");
        return;
    }
    // Long tables fold away; they start open when something is not allowed.
    let count = |v: Verdict| c.verdicts.iter().filter(|r| r.verdict == v).count();
    let (allowed, denied, unknown) = (
        count(Verdict::Allowed),
        count(Verdict::Denied),
        count(Verdict::Unknown),
    );
    let _ = writeln!(
        out,
        "<details{}><summary>{}: {allowed} allowed, {denied} denied, {unknown} unknown</summary>\n",
        if denied + unknown > 0 { " open" } else { "" },
        plural(c.verdicts.len(), "requirement"),
    );
    let _ = writeln!(
        out,
        "| verdict | requirement | destination | port | level | decided by |\n|---|---|---|---|---|---|"
    );
    for v in &c.verdicts {
        let verdict = match v.verdict {
            Verdict::Allowed => ":white_check_mark: allowed",
            Verdict::Denied => ":x: denied",
            Verdict::Unknown => ":grey_question: unknown",
        };
        let decided = v
            .decided_by
            .as_ref()
            .map(|l| decided_by(l, sources, opts))
            .unwrap_or_else(|| "—".into());
        let _ = writeln!(
            out,
            "| {verdict} | {} | {} | {}/{} | {} | {} |",
            cell(&code(&v.requirement)),
            cell(&code(&v.endpoint.destination)),
            v.endpoint.port,
            cell(&text(&v.endpoint.protocol)),
            cell(&text(&v.level)),
            cell(&decided),
        );
    }
    out.push_str("\n</details>\n\n");
}

fn decided_by(l: &Label, sources: &Sources, opts: &Options) -> String {
    format!("{} {}", link(&l.span, sources, opts), inline(&l.message))
}

fn finding(out: &mut String, f: &Finding, sources: &Sources, opts: &Options) {
    let icon = match f.severity {
        Severity::Error => ":x:",
        Severity::Warning => ":warning:",
        Severity::Note => ":information_source:",
    };
    let p = f.primary();
    let _ = writeln!(
        out,
        "- {icon} **{}** [{}]({}) {} at {}: {}",
        f.severity.as_str(),
        f.code.as_str(),
        f.code.help_uri(),
        text(f.code.name()),
        link(&p.span, sources, opts),
        inline(&f.message),
    );
    for l in f.labels.iter().filter(|l| !l.primary) {
        let _ = writeln!(
            out,
            "  - {}: {}",
            link(&l.span, sources, opts),
            inline(&l.message)
        );
    }
    if let Some(h) = &f.help {
        fix(out, h, &sources.get(p.span.file).display);
    }
}

/// The fix: its first line as text, the rest (a rule or block to paste) as
/// a fenced code block in the file's own language.
fn fix(out: &mut String, help: &str, file: &str) {
    let (prose, code) = match help.split_once('\n') {
        Some((p, c)) if !c.trim().is_empty() => (p, Some(c)),
        _ => (help, None),
    };
    let _ = writeln!(out, "  - fix: {}", inline(prose));
    let Some(code) = code else {
        return;
    };
    let lang = match file.rsplit('.').next().unwrap_or("") {
        "tf" | "tfvars" | "hcl" => "hcl",
        "bicep" | "bicepparam" => "bicep",
        "json" | "jsonc" => "json",
        "yaml" | "yml" => "yaml",
        _ => "",
    };
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "\n    {fence}{lang}");
    for line in code.trim_end().lines() {
        let _ = writeln!(out, "    {line}");
    }
    let _ = writeln!(out, "    {fence}\n");
}

/// `file:line` linked to the line (a range when the span covers several).
fn link(span: &Span, sources: &Sources, opts: &Options) -> String {
    let file = &sources.get(span.file).display;
    let (l1, _, l2, _) = sources.span_lines(span);
    let anchor = if l2 > l1 {
        format!("#L{l1}-L{l2}")
    } else {
        format!("#L{l1}")
    };
    let base = opts.link_base.as_deref().unwrap_or("");
    format!(
        "[{}:{l1}]({base}{}{anchor})",
        text(file),
        uri_path(file).replace('(', "%28").replace(')', "%29")
    )
}

/// Plain text: no HTML, no accidental emphasis or links.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            '*' | '_' | '[' | ']' | '\\' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Messages quote values in backticks by convention: keep those as code
/// spans, escape everything else.
fn inline(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&code(part));
        } else {
            out.push_str(&text(part));
        }
    }
    // An odd number of backticks leaves the last part as code: fine, it was
    // escaped by `code` like any other.
    out
}

/// A code span that holds any text, backticks included.
fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest > 0 || s.starts_with(' ') || s.ends_with(' ') {
        format!("{fence} {s} {fence}")
    } else if s.is_empty() {
        "` `".to_string()
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// A table cell: pipes would end it.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Mermaid flowchart of the path, left to right. Labels are quoted and every
/// character outside a small safe set becomes an entity code (`#NNN;`), so
/// no name from the scanned code can change the diagram's syntax.
pub fn mermaid(path: &[Hop]) -> String {
    let mut out = String::from("flowchart LR\n");
    for (i, hop) in path.iter().enumerate() {
        let mut label = if hop.kind == "internet"
            && (hop.name.is_empty() || hop.name.eq_ignore_ascii_case("internet"))
        {
            "Internet".to_string()
        } else {
            format!("{}: {}", hop.kind, hop.name)
        };
        if hop.blocking {
            label.push_str(" (blocks)");
        }
        let _ = write!(out, "  h{i}[\"{}\"]", mermaid_label(&label));
        if hop.blocking {
            out.push_str(":::blocking");
        }
        out.push('\n');
    }
    for i in 1..path.len() {
        let _ = writeln!(out, "  h{} --> h{i}", i - 1);
    }
    if path.iter().any(|h| h.blocking) {
        out.push_str("  classDef blocking fill:#fdd,stroke:#c00,stroke-width:3px\n");
    }
    out
}

fn mermaid_label(s: &str) -> String {
    const MAX: usize = 80;
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == MAX {
            out.push_str("#8230;");
            break;
        }
        if c.is_ascii_alphanumeric() || " .-_/:()".contains(c) {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", c as u32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("x"), "`x`");
        assert_eq!(text("<b>*x*</b>"), "&lt;b&gt;\\*x\\*&lt;/b&gt;");
        assert_eq!(
            inline("to `mcr.microsoft.com` <x>"),
            "to `mcr.microsoft.com` &lt;x&gt;"
        );
        assert_eq!(mermaid_label("fw \"hub\"];x"), "fw #34;hub#34;#93;#59;x");
    }

    #[test]
    fn diagram_marks_blocking_hop() {
        let hop = |kind: &str, name: &str, blocking| Hop {
            kind: kind.into(),
            name: name.into(),
            span: None,
            blocking,
        };
        let d = mermaid(&[
            hop("subnet", "snet", false),
            hop("firewall", "fw", true),
            hop("internet", "", false),
        ]);
        assert_eq!(
            d,
            "flowchart LR\n  h0[\"subnet: snet\"]\n  h1[\"firewall: fw (blocks)\"]:::blocking\n  h2[\"Internet\"]\n  h0 --> h1\n  h1 --> h2\n  classDef blocking fill:#fdd,stroke:#c00,stroke-width:3px\n"
        );
    }
}

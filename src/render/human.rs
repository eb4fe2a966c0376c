//! Human output: miette diagnostics with source snippets. miette draws one
//! source per diagnostic, so labels in other files become related diagnostics.

use crate::finding::{Finding, Report, Severity};
use crate::source::{FileId, Sources};
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};
use std::fmt;
use std::io::{self, Write};

#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    pub color: bool,
    /// Wrap width of the diagnostics.
    pub width: usize,
}

impl Default for HumanOptions {
    fn default() -> Self {
        HumanOptions {
            color: false,
            width: 100,
        }
    }
}

#[derive(Debug)]
struct Diag {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<String>,
    url: Option<String>,
    src: NamedSource<String>,
    labels: Vec<LabeledSpan>,
    related: Vec<Diag>,
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diag {}

impl Diagnostic for Diag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.url
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)))
        }
    }
}

fn severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    }
}

/// Offset and length of a label, cut to its first line: a label on a whole
/// resource block would otherwise print the block in full.
fn clamp(sources: &Sources, file: FileId, r: &std::ops::Range<usize>) -> (usize, usize) {
    let text = sources.text(file);
    let len = text.len();
    let start = r.start.min(len);
    let mut end = r.end.clamp(start, len);
    if let Some(nl) = text.get(start..end).and_then(|t| t.find('\n')) {
        end = start + text[start..start + nl].trim_end().len();
    }
    (start, end - start)
}

fn to_diag(f: &Finding, sources: &Sources) -> Diag {
    let primary = f.primary();
    let pfile = primary.span.file;
    let mut files: Vec<FileId> = vec![pfile];
    for l in &f.labels {
        if !files.contains(&l.span.file) {
            files.push(l.span.file);
        }
    }
    let labels_in = |file: FileId| -> Vec<LabeledSpan> {
        f.labels
            .iter()
            .filter(|l| l.span.file == file)
            .map(|l| {
                let (off, len) = clamp(sources, file, &l.span.range);
                let msg = if l.message.is_empty() {
                    None
                } else {
                    Some(l.message.clone())
                };
                if l.primary {
                    LabeledSpan::new_primary_with_span(msg, (off, len))
                } else {
                    LabeledSpan::new_with_span(msg, (off, len))
                }
            })
            .collect()
    };
    let named = |file: FileId| {
        let sf = sources.get(file);
        NamedSource::new(sf.display.clone(), sf.text.clone())
    };
    let related = files[1..]
        .iter()
        .map(|&file| Diag {
            message: format!("related: {}", sources.get(file).display),
            code: None,
            severity: miette::Severity::Advice,
            help: None,
            url: None,
            src: named(file),
            labels: labels_in(file),
            related: vec![],
        })
        .collect();
    let mut message = f.message.clone();
    if let Some(c) = &f.cluster {
        message.push_str(&format!(" (cluster `{c}`)"));
    }
    Diag {
        message,
        code: Some(format!("{}({})", f.code.as_str(), f.code.name())),
        severity: severity(f.severity),
        help: f.help.clone(),
        url: Some(f.code.help_uri()),
        src: named(pfile),
        labels: labels_in(pfile),
        related,
    }
}

/// Render one finding (used by tests and the `explain` command).
pub fn render_finding(f: &Finding, sources: &Sources, opts: HumanOptions) -> String {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_links(false);
    let mut out = String::new();
    let diag = to_diag(f, sources);
    if handler.render_report(&mut out, &diag).is_err() {
        // Rendering into a String only fails on a formatter bug; fall back to one line.
        let (l, c, _, _) = sources.span_lines(&f.primary().span);
        out = format!(
            "{}: {}:{}:{}: {}\n",
            f.code,
            sources.get(f.primary().span.file).display,
            l,
            c,
            f.message
        );
    }
    out
}

/// Findings that differ only by endpoint (same code, cluster and labels) are
/// shown as one diagnostic listing the endpoints; each stays a finding of its
/// own in every machine format.
pub fn group(findings: &[Finding]) -> Vec<Finding> {
    type Key = (
        crate::finding::Code,
        Severity,
        Option<String>,
        Vec<(u32, usize, usize, bool)>,
    );
    let key = |f: &Finding| -> Key {
        let spans = f
            .labels
            .iter()
            .map(|l| {
                (
                    l.span.file.0,
                    l.span.range.start,
                    l.span.range.end,
                    l.primary,
                )
            })
            .collect();
        (f.code, f.severity, f.cluster.clone(), spans)
    };
    // Only findings about an endpoint are grouped; the index keeps it linear.
    let mut out: Vec<(Key, Vec<&Finding>)> = vec![];
    let mut index: std::collections::HashMap<Key, usize> = std::collections::HashMap::new();
    for f in findings {
        let k = key(f);
        match f.endpoint.is_some().then(|| index.get(&k)).flatten() {
            Some(&i) => out[i].1.push(f),
            None => {
                if f.endpoint.is_some() {
                    index.insert(k.clone(), out.len());
                }
                out.push((k, vec![f]));
            }
        }
    }
    out.into_iter()
        .map(|(_, g)| {
            let first = g[0].clone();
            if g.len() == 1 {
                return first;
            }
            let name = |f: &Finding| {
                f.endpoint
                    .as_ref()
                    .map(|e| format!("`{}:{}/{}`", e.destination, e.port, e.protocol))
                    .unwrap_or_default()
            };
            let own = name(&first);
            let many = format!("{} endpoints", g.len());
            let mut merged = first.clone();
            merged.message = first.message.replace(&own, &many);
            for l in &mut merged.labels {
                l.message = l.message.replace(&own, &many);
            }
            let list: Vec<String> = g.iter().map(|f| name(f)).collect();
            let help = first
                .help
                .as_deref()
                .map(|h| format!("\n\nfor the first one:\n{h}"))
                .unwrap_or_default();
            merged.help = Some(format!(
                "the endpoints: {}{help}\n\n(`--format json` gives the fix of each)",
                list.join(", ")
            ));
            merged
        })
        .collect()
}

pub fn write(
    w: &mut dyn Write,
    report: &Report,
    sources: &Sources,
    opts: HumanOptions,
) -> io::Result<()> {
    for f in &group(&report.findings) {
        write!(w, "{}", render_finding(f, sources, opts))?;
        writeln!(w)?;
    }
    writeln!(w, "{}", summary_line(report))
}

pub fn summary_line(report: &Report) -> String {
    let plural = |n: usize, s: &str| {
        if n == 1 {
            format!("{n} {s}")
        } else {
            format!("{n} {s}s")
        }
    };
    format!(
        "{}, {}, {} in {} ({})",
        plural(report.count(Severity::Error), "error"),
        plural(report.count(Severity::Warning), "warning"),
        plural(report.count(Severity::Note), "note"),
        plural(report.files, "file"),
        plural(report.clusters.len(), "cluster"),
    )
}

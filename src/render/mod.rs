//! Renderers: pure functions of (report, sources) → bytes, one module per format.

pub mod azure_devops;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;

use crate::finding::Report;
use crate::source::Sources;
use clap::ValueEnum;
use std::io::{self, Write};

/// Output formats of the lint report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics with source snippets, for terminals.
    Human,
    /// The versioned JSON contract (version 1).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// Azure DevOps logging commands.
    AzureDevops,
    /// JUnit XML, for test-result publishers.
    Junit,
    /// A Markdown report for pull request comments and job summaries.
    Markdown,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::AzureDevops => "azure-devops",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::from_str(s, true).ok()
    }
}

/// What some renderers need beyond the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    pub human: human::HumanOptions,
    /// The exit code of the run (Azure DevOps `task.complete`).
    pub exit_code: i32,
    /// Human output without the summary line.
    pub quiet: bool,
}

/// Write `report` in `format`.
pub fn write(
    format: Format,
    w: &mut dyn Write,
    report: &Report,
    sources: &Sources,
    opts: RenderOptions,
) -> io::Result<()> {
    // Renderers write field by field; unbuffered stdout made that a system
    // call each (10,000 findings took a second of writes).
    let mut buf = io::BufWriter::new(w);
    let w: &mut dyn Write = &mut buf;
    let r = match format {
        Format::Human if opts.quiet => {
            for f in &human::group(&report.findings) {
                write!(w, "{}", human::render_finding(f, sources, opts.human))?;
            }
            Ok(())
        }
        Format::Human => human::write(w, report, sources, opts.human),
        Format::Json => json::write(w, report, sources),
        Format::Sarif => sarif::write(w, report, sources),
        Format::Github => github::write(w, report, sources),
        Format::AzureDevops => azure_devops::write(w, report, sources, opts.exit_code),
        Format::Junit => junit::write(w, report, sources),
        Format::Markdown => markdown::write(w, report, sources),
    };
    r.and(buf.flush())
}

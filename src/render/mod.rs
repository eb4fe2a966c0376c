//! Renderers: pure functions of (report, sources) → bytes, one module per format.

pub mod human;
pub mod json;

use clap::ValueEnum;

/// Output formats of the lint report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics with source snippets, for terminals.
    Human,
    /// The versioned JSON contract (version 1).
    Json,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
        }
    }
}

pub mod azure_devops;
pub mod github;
pub mod junit;
pub mod markdown;
pub mod sarif;

//! Human output: miette diagnostics with source snippets.

//! Baseline.

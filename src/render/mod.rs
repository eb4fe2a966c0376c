//! Renderers: pure functions of (report, sources) → bytes, one module per format.

pub mod human;
pub mod json;

//! Renderers: pure functions of (report, sources) → bytes, one module per format.

pub mod azure_devops;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;

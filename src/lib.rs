//! aks-egress-lint: static egress linting for Azure Kubernetes Service.
//!
//! Pipeline, in one direction:
//! discover → frontend (per format) → model → link → eval → checks → render.

pub mod catalog;
pub mod checks;
pub mod config;
pub mod discover;
pub mod endpoints;
pub mod eval;
pub mod explain;
pub mod finding;
pub mod frontend;
pub mod link;
pub mod model;
pub mod render;
pub mod source;

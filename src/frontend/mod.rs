//! Frontends: each format turns its files into a [`Model`](crate::model::Model)
//! fragment. Frontends resolve what the format itself defines and leave the
//! rest `Unknown`; they never decide what is allowed.

pub mod arm;
pub mod bicep;
pub mod k8s;
pub mod nsg;
pub mod terraform;

use std::path::PathBuf;

/// Resource limits shared by every frontend.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_file_size: u64,
    /// Deepest nesting a parser or evaluator follows.
    pub max_depth: usize,
    /// Most instances a `count`, `for_each` or `copy` expands to.
    pub max_expansion: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 10 * 1024 * 1024,
            max_depth: 128,
            max_expansion: 1000,
        }
    }
}

/// What the command line adds to what the files say.
#[derive(Clone, Debug, Default)]
pub struct FrontendOptions {
    /// `--location`: stands for `resourceGroup().location` and similar.
    pub location: Option<String>,
    /// `--var name=value` (Terraform).
    pub vars: Vec<(String, String)>,
    /// `--var-file FILE` (Terraform).
    pub var_files: Vec<PathBuf>,
    /// `--parameters FILE` (ARM).
    pub parameters: Vec<PathBuf>,
    /// Root of the scan: module sources and template links outside it are not followed.
    pub root: PathBuf,
    pub limits: Limits,
}

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

impl Limits {
    /// Stack for the threads that parse and evaluate. Recursion is bounded
    /// by `max_depth`, but an ARM reference chain nests expressions at each
    /// level (about 0.4 MiB per level in debug builds, so 1 MiB a level
    /// leaves a margin), and a debug build spends kilobytes per level of
    /// HCL. The space is reserved, not committed: only pages used count.
    pub fn stack_size(&self) -> usize {
        (self.max_depth.max(8) * 1024 * 1024).clamp(64 << 20, 1 << 30)
    }
}

std::thread_local! {
    static ROOMY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` on a rayon pool whose threads have [`Limits::stack_size`] of
/// stack, or inline when already on one. Parallel work inside `f` runs on
/// that pool too, so the frontends' bounded but deep recursion never meets
/// the 2 MiB stack of a default worker.
pub fn on_roomy_stack<T: Send>(limits: &Limits, f: impl FnOnce() -> T + Send) -> T {
    if ROOMY.with(|r| r.get()) {
        return f();
    }
    match rayon::ThreadPoolBuilder::new()
        .stack_size(limits.stack_size())
        .thread_name(|i| format!("aks-egress-lint-{i}"))
        .start_handler(|_| ROOMY.with(|r| r.set(true)))
        .build()
    {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
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

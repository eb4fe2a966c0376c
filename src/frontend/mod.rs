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
    /// Stack size of the pool thread this is, 0 elsewhere.
    static ROOMY: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A pool whose threads have at least `stack` bytes of stack, built the
/// first time that size is asked for and kept: runs (and fuzzing
/// iterations) do not start threads anew. Where the system will not reserve
/// that much stack for every core, one thread still does the work.
fn roomy_pool(stack: usize) -> Option<std::sync::Arc<rayon::ThreadPool>> {
    use std::sync::{Arc, Mutex};
    static POOLS: Mutex<Vec<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(Vec::new());
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = pools.iter().find(|(s, _)| *s >= stack) {
        return Some(Arc::clone(p));
    }
    let build = |n: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .stack_size(stack)
            .thread_name(|i| format!("aks-egress-lint-{i}"))
            .start_handler(move |_| ROOMY.with(|r| r.set(stack)))
            .build()
    };
    let pool = Arc::new(build(0).or_else(|_| build(1)).ok()?);
    pools.push((stack, Arc::clone(&pool)));
    Some(pool)
}

/// Run `f` on a rayon pool whose threads have at least `stack` bytes of
/// stack, or inline when already on one. Parallel work inside `f` runs on
/// that pool too, so the frontends' bounded but deep recursion never meets
/// the 2 MiB stack of a default worker.
pub fn on_stack<T: Send>(stack: usize, f: impl FnOnce() -> T + Send) -> T {
    if ROOMY.with(|r| r.get()) >= stack {
        return f();
    }
    match roomy_pool(stack) {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// [`on_stack`] with [`Limits::stack_size`].
pub fn on_roomy_stack<T: Send>(limits: &Limits, f: impl FnOnce() -> T + Send) -> T {
    on_stack(limits.stack_size(), f)
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

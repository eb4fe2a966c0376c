//! aks-egress-lint: static egress linting for Azure Kubernetes Service.
//!
//! Pipeline, in one direction:
//! discover → frontend (per format) → model → link → eval → checks → render.

pub mod baseline;
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
pub mod suppress;
pub mod timing;

use catalog::Catalog;
use checks::Overrides;
use discover::{DiscoverOptions, FileKind};
use finding::Report;
use frontend::FrontendOptions;
use model::Model;
use source::Sources;
use std::path::PathBuf;

/// Everything a run needs, as the command line and config decide it.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    /// Catalog revision: `current` or `2020-01`.
    pub catalog: String,
    /// `--rules DIR`: load the catalog from a folder instead of the embedded one.
    pub rules_dir: Option<PathBuf>,
    pub overrides: Overrides,
    pub exclude: Vec<String>,
    pub frontend: FrontendOptions,
    /// The configuration file's content (`Config::default()` when none).
    pub config: config::Config,
}

/// An error of the tool itself (usage, I/O): exit code 2.
#[derive(Debug)]
pub struct ToolError(pub String);

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ToolError {}

/// The parsed repository: sources, the merged model and the catalog.
#[derive(Debug)]
pub struct Analysis {
    pub sources: Sources,
    pub model: Model,
    pub catalog: Catalog,
    pub files: usize,
}

pub fn load_catalog(opts: &Options) -> Result<Catalog, ToolError> {
    let rev = if opts.catalog.is_empty() {
        "current"
    } else {
        opts.catalog.as_str()
    };
    match &opts.rules_dir {
        Some(dir) => catalog::load_dir(dir, rev),
        None => catalog::load(rev),
    }
    .map_err(|e| ToolError(format!("catalog: {e}")))
}

/// Run `f` where every stage may recurse as deep as its limits allow
/// (see [`frontend::on_roomy_stack`]).
pub fn in_pool<T: Send>(opts: &Options, f: impl FnOnce() -> T + Send) -> T {
    frontend::on_roomy_stack(&opts.frontend.limits, f)
}

/// Discover the files and run every frontend (in parallel) into one model.
pub fn analyse(opts: &Options) -> Result<Analysis, ToolError> {
    in_pool(opts, || analyse_here(opts))
}

fn analyse_here(opts: &Options) -> Result<Analysis, ToolError> {
    let paths = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    let d = timing::phase("discover", || {
        discover::discover(
            &paths,
            &DiscoverOptions {
                exclude: opts.exclude.clone(),
                max_file_size: opts.frontend.limits.max_file_size,
            },
        )
    })
    .map_err(ToolError)?;
    let catalog = load_catalog(opts)?;
    let mut fopts = opts.frontend.clone();
    if fopts.root.as_os_str().is_empty() {
        fopts.root = common_root(&paths);
    }
    let ids = |k: FileKind| d.of_kind(k).collect::<Vec<_>>();
    let (plans, mut templates, params, nsgs, k8s, bicep, bicepparams) = (
        ids(FileKind::TerraformPlan),
        ids(FileKind::ArmTemplate),
        ids(FileKind::ArmParameters),
        ids(FileKind::NsgExport),
        ids(FileKind::K8sManifest),
        ids(FileKind::Bicep),
        ids(FileKind::BicepParam),
    );
    let src = &d.sources;
    // A compiled `main.json` next to its `main.bicep` is read once, from the Bicep.
    let compiled = frontend::bicep::compiled_from_bicep(src, &bicep, &templates);
    templates.retain(|t| !compiled.contains(t));
    // The JSON formats first, Terraform after: each stage is parallel
    // inside, and the ARM frontend's syntax trees and evaluated resources
    // (its peak) then never coincide with the Terraform model.
    let (arm, ((nsg, k), bic)) = rayon::join(
        || {
            timing::phase("arm", || {
                frontend::arm::load(src, &templates, &params, &fopts)
            })
        },
        || {
            rayon::join(
                || {
                    rayon::join(
                        || timing::phase("nsg", || frontend::nsg::load(src, &nsgs)),
                        || timing::phase("k8s", || frontend::k8s::load(src, &k8s)),
                    )
                },
                || {
                    timing::phase("bicep", || {
                        frontend::bicep::load(src, &bicep, &bicepparams, &fopts)
                    })
                },
            )
        },
    );
    let tf = timing::phase("terraform", || {
        frontend::terraform::load(src, &d.tf_modules, &plans, &fopts)
    });
    // A `.bicep` that does not parse is not analysed: its compiled JSON, when
    // there is one, stands in for it.
    let broken: Vec<PathBuf> = bic
        .findings
        .iter()
        .filter(|f| f.code == finding::Code::AEL000)
        .map(|f| source::normalize(&src.get(f.primary().span.file).path.with_extension("")))
        .collect();
    let fallback: Vec<_> = compiled
        .iter()
        .copied()
        .filter(|t| broken.contains(&source::normalize(&src.get(*t).path.with_extension(""))))
        .collect();
    let mut model = Model::default();
    for m in [tf, arm, nsg, k, bic] {
        model.merge(m);
    }
    if !fallback.is_empty() {
        model.merge(frontend::arm::load(src, &fallback, &params, &fopts));
    }
    model.findings.extend(d.findings);
    let files = d.sources.len();
    Ok(Analysis {
        sources: d.sources,
        model,
        catalog,
        files,
    })
}

/// Run the whole pipeline: findings sorted by file, line, column and code.
pub fn lint(opts: &Options) -> Result<(Report, Sources), ToolError> {
    let a = timing::phase("analyse", || analyse(opts))?;
    let (mut findings, clusters) = timing::phase("checks", || {
        in_pool(opts, || {
            checks::run(&a.model, &a.sources, &a.catalog, &opts.overrides)
        })
    });
    findings.extend(a.model.findings.iter().cloned());
    // Inline suppressions first, so one for a code the config turns off still counts as used.
    let findings = timing::phase("suppress, config, sort", || {
        let mut findings = suppress::apply(findings, &a.sources);
        opts.config.apply(&mut findings, &a.sources);
        sort_findings(&mut findings, &a.sources);
        findings
    });
    let Analysis {
        sources,
        model,
        files,
        ..
    } = a;
    // Freeing a large model's many small allocations takes a noticeable
    // share of a run: do it beside the rendering rather than before it.
    drop_in_background(model);
    Ok((
        Report {
            findings,
            files,
            clusters,
        },
        sources,
    ))
}

fn drop_in_background<T: Send + 'static>(v: T) {
    // Should no thread start, the value is dropped here with the closure.
    let _ = std::thread::Builder::new()
        .name("drop".into())
        .spawn(move || drop(v));
}

/// Sort by file path, position, code and message, and drop exact duplicates.
pub fn sort_findings(findings: &mut Vec<finding::Finding>, sources: &Sources) {
    findings.sort_by(|a, b| {
        let (pa, pb) = (a.primary(), b.primary());
        sources
            .get(pa.span.file)
            .display
            .cmp(&sources.get(pb.span.file).display)
            .then(pa.span.range.start.cmp(&pb.span.range.start))
            .then(a.code.cmp(&b.code))
            .then(a.message.cmp(&b.message))
    });
    // The same endpoint can come from several catalog rows (a feature row
    // repeating a core one): users need to hear it once.
    findings.dedup_by(|a, b| {
        a.code == b.code
            && a.endpoint.is_some()
            && a.endpoint == b.endpoint
            && a.cluster == b.cluster
            && a.message == b.message
            && a.primary().span == b.primary().span
    });
    findings.dedup();
}

/// The deepest folder containing every scanned path.
fn common_root(paths: &[PathBuf]) -> PathBuf {
    let abs: Vec<PathBuf> = paths
        .iter()
        .map(|p| {
            let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            if p.is_file() {
                p.parent().map(|x| x.to_path_buf()).unwrap_or(p)
            } else {
                p
            }
        })
        .collect();
    let Some(first) = abs.first() else {
        return PathBuf::from(".");
    };
    let mut root = first.clone();
    for p in &abs[1..] {
        while !p.starts_with(&root) {
            if !root.pop() {
                break;
            }
        }
    }
    root
}

//! Bicep frontend: `.bicep` and `.bicepparam` files read directly, with no
//! Bicep compiler, so findings point at the Bicep lines people edit.
//!
//! - [`parse`]: tree-sitter-bicep, with byte-preserving workarounds for the
//!   grammar's gaps, into the spanned [`syntax`] tree;
//! - [`eval`]: lowering, the language evaluated as the Bicep compiler and
//!   ARM would (parameters, variables, loops, conditions, symbolic
//!   references, modules), into resource instances whose property trees
//!   keep their Bicep spans;
//! - [`modules`]: module and `using` paths;
//! - [`funcs`]: function calls, evaluated by the ARM function library.
//!
//! Entry points. A `.bicep` file that another scanned `.bicep` file uses as
//! a module is analysed only through its callers, with the parameters they
//! pass. A template named by the `using` line of a `.bicepparam` file is
//! analysed once per such file, with its values. Any other `.bicep` file is
//! analysed once on its own, with its parameter defaults (parameters without
//! one are unknown). Identical resources from several entries are kept once.

pub mod eval;
pub mod funcs;
pub mod lower;
pub mod modules;
pub mod parse;
pub mod syntax;
pub mod value;

use crate::finding::{Code, Finding};
use crate::frontend::FrontendOptions;
use crate::model::Model;
use crate::source::{FileId, Sources, Span};
use eval::{Inst, Loader, ResInst};
use std::collections::{HashMap, HashSet};
use syntax::{File, StmtKind};

/// Read Bicep templates and their `.bicepparam` files into the model.
pub fn load(
    sources: &Sources,
    files: &[FileId],
    params: &[FileId],
    opts: &FrontendOptions,
) -> Model {
    let mut model = Model::default();
    let (resources, findings) = super::on_stack(STACK, || evaluate(sources, files, params, opts));
    model.findings.extend(findings);
    lower::map(&resources, &mut model);
    model
}

/// Stack for parsing and evaluation. Their recursion is bounded by the depth
/// limit, but a debug build spends kilobytes per level, more than the 2 MB a
/// default thread has; the space is reserved, not committed.
const STACK: usize = 64 << 20;

/// Parse and evaluate every entry point: the resource instances (identical
/// ones once) and the findings raised while reading.
pub fn evaluate(
    sources: &Sources,
    files: &[FileId],
    params: &[FileId],
    opts: &FrontendOptions,
) -> (Vec<ResInst>, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut parsed: HashMap<FileId, File> = HashMap::new();
    let param_set: HashSet<FileId> = params.iter().copied().collect();
    for &f in files.iter().chain(params) {
        if parsed.contains_key(&f) {
            continue;
        }
        let is_param = param_set.contains(&f);
        let mut ast = parse::parse(sources.text(f), is_param, opts.limits.max_depth);
        if ast.errors.is_empty() {
            ast.errors = eval::undeclared(&ast, is_param);
        }
        for e in &ast.errors {
            findings.push(
                Finding::new(
                    Code::AEL000,
                    e.message.clone(),
                    Span::new(f, e.range.clone()),
                    "the Bicep compiler rejects this",
                )
                .help("fix the Bicep syntax; this file is not analysed until it compiles"),
            );
        }
        parsed.insert(f, ast);
    }

    // Which templates are used as modules or by a `.bicepparam` file.
    let ok = |f: &FileId| parsed.get(f).is_some_and(|a| a.errors.is_empty());
    let mut used_as_module: HashSet<FileId> = HashSet::new();
    let mut edges: HashMap<FileId, Vec<FileId>> = HashMap::new();
    for f in files.iter().filter(|f| ok(f)) {
        let Some(ast) = parsed.get(f) else { continue };
        for st in &ast.stmts {
            if let StmtKind::Module { path, .. } = &st.kind
                && !modules::is_remote(path)
            {
                let want = modules::target_path(&sources.get(*f).path, path);
                if let Some(t) = sources.find(&want)
                    && t != *f
                    && modules::inside_root(&want, &opts.root)
                {
                    used_as_module.insert(t);
                    edges.entry(*f).or_default().push(t);
                }
            }
        }
    }

    let mut ld = Loader::new(sources, opts, &parsed);
    let mut with_params: HashSet<FileId> = HashSet::new();
    let mut entries: Vec<(FileId, Option<FileId>)> = Vec::new();
    for &p in params {
        if !ok(&p) {
            continue;
        }
        let Some(ast) = parsed.get(&p) else { continue };
        let using = ast.stmts.iter().find_map(|s| match &s.kind {
            StmtKind::Using { path, path_range } => Some((path.clone(), path_range.clone())),
            _ => None,
        });
        let Some((path, range)) = using else {
            continue;
        };
        if path.is_empty() || path == "none" {
            continue;
        }
        match modules::resolve(&mut ld, p, &path, &Span::new(p, range)) {
            modules::ModuleTarget::File(t) => {
                with_params.insert(t);
                if ok(&t) {
                    entries.push((t, Some(p)));
                }
            }
            modules::ModuleTarget::NotFollowed(_) => {}
        }
    }
    for &f in files {
        if ok(&f)
            && !used_as_module.contains(&f)
            && !with_params.contains(&f)
            && !param_set.contains(&f)
        {
            entries.push((f, None));
        }
    }
    // Files only reachable from each other (a module cycle) still get
    // analysed once, from the first of them, so the cycle is reported.
    let mut reached: HashSet<FileId> = HashSet::new();
    let reach = |from: FileId, reached: &mut HashSet<FileId>| {
        let mut todo = vec![from];
        while let Some(f) = todo.pop() {
            if reached.insert(f) {
                todo.extend(edges.get(&f).into_iter().flatten().copied());
            }
        }
    };
    for (t, _) in &entries {
        reach(*t, &mut reached);
    }
    for &f in files {
        if ok(&f) && !param_set.contains(&f) && !reached.contains(&f) {
            entries.push((f, None));
            reach(f, &mut reached);
        }
    }

    for (template, param_file) in entries {
        let mut given = HashMap::new();
        if let Some(p) = param_file
            && let Some(past) = parsed.get(&p)
        {
            // `extends` chains: the base files' values first, overridden by
            // the file's own.
            let mut chain = vec![p];
            let mut cur = past;
            let mut from = p;
            while let Some((path, range)) = &cur.extends {
                if chain.len() > 8 {
                    break;
                }
                match modules::resolve(&mut ld, from, path, &Span::new(from, range.clone())) {
                    modules::ModuleTarget::File(base)
                        if !chain.contains(&base) && param_set.contains(&base) =>
                    {
                        let Some(bast) = parsed.get(&base).filter(|a| a.errors.is_empty()) else {
                            break;
                        };
                        chain.push(base);
                        cur = bast;
                        from = base;
                    }
                    _ => break,
                }
            }
            for f in chain.iter().rev() {
                if let Some(fast) = parsed.get(f) {
                    let mut pinst = Inst::new(*f, fast, HashMap::new(), None);
                    given.extend(pinst.param_values(&mut ld));
                }
            }
            if let Some(tast) = parsed.get(&template) {
                let declared: HashSet<&str> = tast
                    .stmts
                    .iter()
                    .filter(|s| matches!(s.kind, StmtKind::Param { .. }))
                    .map(|s| s.name.as_str())
                    .collect();
                for st in &past.stmts {
                    if matches!(st.kind, StmtKind::Param { .. })
                        && !declared.contains(st.name.as_str())
                    {
                        ld.note(
                            &Span::new(p, st.name_range.clone()),
                            format!("parameter `{}` is not declared by the template", st.name),
                            "unknown parameter",
                            None,
                        );
                    }
                }
            }
        }
        let Some(ast) = parsed.get(&template) else {
            continue;
        };
        let mut inst = Inst::new(template, ast, given, None);
        ld.stack.clear();
        inst.run(&mut ld);
    }

    // Identical instances (same declaration, names and contents) once;
    // full comparisons only within a declaration and name.
    let mut resources: Vec<ResInst> = Vec::new();
    type Bucket = (FileId, usize, Option<Vec<String>>);
    let mut seen: HashMap<Bucket, Vec<usize>> = HashMap::new();
    for r in std::mem::take(&mut ld.resources) {
        let bucket = seen
            .entry((r.decl_span.file, r.decl_span.range.start, r.names.clone()))
            .or_default();
        if !bucket.iter().any(|&i| resources.get(i) == Some(&r)) {
            bucket.push(resources.len());
            resources.push(r);
        }
    }
    findings.extend(std::mem::take(&mut ld.findings));
    (resources, findings)
}

/// ARM templates among `templates` that are the compiled form of a scanned
/// `.bicep` file (same folder and stem, `metadata._generator.name` is
/// `bicep`): their findings would repeat the Bicep ones on generated lines,
/// so the caller leaves them out.
pub fn compiled_from_bicep(
    sources: &Sources,
    bicep: &[FileId],
    templates: &[FileId],
) -> Vec<FileId> {
    let stems: HashSet<std::path::PathBuf> = bicep
        .iter()
        .map(|f| crate::source::normalize(&sources.get(*f).path.with_extension("")))
        .collect();
    templates
        .iter()
        .copied()
        .filter(|t| {
            let f = sources.get(*t);
            stems.contains(&crate::source::normalize(&f.path.with_extension("")))
                && crate::frontend::arm::is_bicep_generated(sources, *t)
        })
        .collect()
}

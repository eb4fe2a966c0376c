//! ARM template frontend: reads ARM JSON the way Azure Resource Manager
//! would, without deploying it, and fills the network model.
//!
//! - [`json`]: span-aware parsing (comments, trailing commas, raw newlines in
//!   strings) and JSON pointers,
//! - [`expr`]: the template expression language (shared with Bicep),
//! - [`template`] and [`deploy`]: parameters, variables, copy loops, nested
//!   deployments, languageVersion 2.0,
//! - [`resources`]: evaluated resources → the model.
//!
//! Parameter files: each template is evaluated once per parameter file paired
//! with it (`x.parameters.json`, `x.parameters.<env>.json` next to `x.json`),
//! or once with defaults when none is paired; `--parameters FILE` values
//! override both. Identical resources from several instances are kept once.

pub mod deploy;
pub mod expr;
pub mod json;
pub mod resources;
pub mod template;

use crate::finding::{Code, Finding};
use crate::frontend::FrontendOptions;
use crate::model::Model;
use crate::model::ResKey;
use crate::source::{FileId, Sources, Span};
use json::Json;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use template::{Ctx, EvRes, Known, Pass, ScopeState, Shared, Supplied, TScope};

/// Parse a file, reporting `AEL000` at the exact position when it fails.
fn parse_file(
    sources: &Sources,
    file: FileId,
    opts: &FrontendOptions,
) -> Result<Json, Box<Finding>> {
    let text = sources.text(file);
    if text.len() as u64 > opts.limits.max_file_size {
        return Err(Box::new(Finding::new(
            Code::AEL000,
            format!(
                "file is {} bytes, over the {}-byte limit; it was not analysed (raise `max-file-size` in the config)",
                text.len(),
                opts.limits.max_file_size
            ),
            Span::new(file, 0..0),
            "here",
        )));
    }
    json::parse(text, opts.limits.max_depth.max(8)).map_err(|e| {
        Box::new(Finding::new(
            Code::AEL000,
            format!("invalid JSON: {}", e.message),
            Span::new(file, e.range.clone()),
            "here",
        ))
    })
}

/// `metadata._generator.name` of a template (`bicep` for compiled Bicep).
pub fn generator(doc: &Json) -> Option<&str> {
    doc.path(&["metadata", "_generator", "name"])
        .and_then(Json::as_str)
}

/// Whether a template was compiled from Bicep (`metadata._generator.name == "bicep"`).
pub fn is_bicep_generated(sources: &Sources, file: FileId) -> bool {
    let text = sources.text(file);
    // The generator block sits at the top; avoid parsing huge files for it.
    if !text.contains("_generator") {
        return false;
    }
    json::parse(text, 256)
        .ok()
        .is_some_and(|d| generator(&d).is_some_and(|g| g.eq_ignore_ascii_case("bicep")))
}

/// Notes for `.bicepparam` files: they belong to the Bicep frontend, and
/// the ARM frontend does not read them.
pub fn bicepparam_notes(sources: &Sources, files: &[FileId]) -> Vec<Finding> {
    files
        .iter()
        .map(|&f| {
            Finding::new(
                Code::AEL008,
                format!(
                    "`{}` is a Bicep parameters file; its values are not applied to ARM templates",
                    sources.get(f).display
                ),
                Span::new(f, 0..0),
                "not read",
            )
        })
        .collect()
}

/// File stem of a template and the folder it is in.
fn stem_and_dir(path: &Path) -> (String, Option<&Path>) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".jsonc")
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(&name)
        .to_string();
    (stem, path.parent())
}

/// Parameter files that belong to `template`: same folder, named
/// `<stem>.parameters.json` or `<stem>.parameters.<env>.json` (also
/// `<stem>.params.json`). A parameter file no template claims by name is
/// paired with the only template of its folder.
pub fn pair_parameters(
    sources: &Sources,
    template: FileId,
    templates: &[FileId],
    params: &[FileId],
) -> Vec<FileId> {
    Pairing::new(sources, templates, params).of(sources, template)
}

/// Templates and parameter files by folder, so pairing a template looks at
/// its own folder only.
struct Pairing<'p> {
    /// Folder → (stem, template) in input order.
    templates: HashMap<Option<&'p Path>, Vec<(String, FileId)>>,
    /// Folder → (`<stem>.json` of the parameter file, file) in input order.
    params: HashMap<Option<&'p Path>, Vec<(String, FileId)>>,
}

impl<'p> Pairing<'p> {
    fn new(sources: &'p Sources, templates: &[FileId], params: &[FileId]) -> Self {
        let by_dir = |files: &[FileId], json: bool| {
            let mut m: HashMap<Option<&'p Path>, Vec<(String, FileId)>> = HashMap::new();
            for &f in files {
                let (stem, dir) = stem_and_dir(&sources.get(f).path);
                let name = if json { format!("{stem}.json") } else { stem };
                m.entry(dir).or_default().push((name, f));
            }
            m
        };
        Pairing {
            templates: by_dir(templates, false),
            params: by_dir(params, true),
        }
    }

    fn of(&self, sources: &Sources, template: FileId) -> Vec<FileId> {
        let claims = |t: &str, p: &str| {
            p.starts_with(&format!("{t}.parameters.")) || p.starts_with(&format!("{t}.params."))
        };
        let (stem, dir) = stem_and_dir(&sources.get(template).path);
        let same_dir = self.templates.get(&dir).map_or(&[][..], Vec::as_slice);
        let only = matches!(same_dir, [(_, t)] if *t == template);
        let mut out = vec![];
        for (pname, p) in self.params.get(&dir).map_or(&[][..], Vec::as_slice) {
            if claims(&stem, pname) || (only && !same_dir.iter().any(|(t, _)| claims(t, pname))) {
                out.push(*p);
            }
        }
        out.sort_by(|a, b| sources.get(*a).path.cmp(&sources.get(*b).path));
        out
    }
}

/// Read ARM templates into the model.
///
/// `templates` are template files, `params` the parameter files discovery
/// found (paired by name, see [`pair_parameters`]). `opts.parameters`
/// (`--parameters FILE`) override paired values; such files must be in
/// `sources`.
///
/// Templates are parsed and evaluated on a thread pool of our own (as many
/// threads as the caller's pool); the result does not depend on how the
/// work is scheduled.
pub fn load(
    sources: &Sources,
    templates: &[FileId],
    params: &[FileId],
    opts: &FrontendOptions,
) -> Model {
    on_pool(opts.limits.stack_size(), || {
        load_here(sources, templates, params, opts)
    })
    .unwrap_or_else(|| {
        let mut m = Model::default();
        m.findings.push(Finding::new(
            Code::AEL000,
            "the ARM templates could not be evaluated (internal error)",
            Span::new(templates.first().copied().unwrap_or_default(), 0..0),
            "here",
        ));
        m
    })
}

/// Run `f` on pool threads with `stack` bytes of stack: evaluation recurses
/// (bounded by `max_depth`), and those threads give it a known stack
/// whichever thread the caller runs on. `None` when `f` panics.
fn on_pool<T: Send>(stack: usize, f: impl FnOnce() -> T + Send) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| super::on_stack(stack, f))).ok()
}

/// A template with the parameter sets it is evaluated with.
struct Unit {
    file: FileId,
    doc: Arc<Json>,
    sets: Vec<Supplied>,
    /// Has a parameter file of its own.
    own: bool,
    /// `deployment().name` when deployed on its own.
    deployment: String,
}

/// What the first pass over one template instance learned.
struct KeysOut {
    learned: Known,
    findings: Vec<Finding>,
    consulted: bool,
    state: ScopeState,
}

fn keys_pass(shared: &Shared, base: &Known, u: &Unit, set: &Supplied) -> KeysOut {
    let ctx = Ctx::new(shared, base);
    let mut t = TScope::new(&ctx, u.file, &u.doc, set.clone());
    t.deployment = Some(u.deployment.clone());
    template::walk_template(&t, Pass::Keys);
    let state = t.into_state();
    KeysOut {
        learned: ctx.learned.into_inner(),
        findings: ctx.findings.into_inner(),
        consulted: ctx.consulted.get(),
        state,
    }
}

/// The second pass over one template instance.
struct FullOut {
    findings: Vec<Finding>,
    out: Vec<EvRes>,
    /// Files it links to.
    linked: HashSet<FileId>,
    outputs: HashMap<ResKey, expr::Val>,
    /// Deployments whose outputs it read before they were known.
    missed: Vec<ResKey>,
    /// What a second run needs when `missed` is not empty.
    redo: Option<(Arc<Json>, Supplied, ScopeState)>,
}

fn full_pass(
    shared: &Shared,
    known: &Known,
    u: &Unit,
    (set, state): (&Supplied, ScopeState),
    outputs: HashMap<ResKey, expr::Val>,
) -> FullOut {
    let ctx = Ctx::new(shared, known);
    *ctx.outputs.borrow_mut() = outputs;
    let mut t = TScope::new(&ctx, u.file, &u.doc, set.clone());
    t.deployment = Some(u.deployment.clone());
    // Kept until we know whether a second run is needed.
    let kept = state.clone();
    t.set_state(state);
    template::walk_template(&t, Pass::Full);
    drop(t);
    let missed = ctx.missed_outputs.into_inner();
    FullOut {
        findings: ctx.findings.into_inner(),
        out: ctx.out.into_inner(),
        linked: ctx.learned.into_inner().linked,
        outputs: ctx.outputs.into_inner(),
        redo: (!missed.is_empty()).then(|| (u.doc.clone(), set.clone(), kept)),
        missed,
    }
}

/// Parse a template and its parameter files: the unit (`None` when the
/// template is not analysed) and the parse errors in order.
fn parse_unit(
    sources: &Sources,
    file: FileId,
    pairing: &Pairing,
    cli: &Supplied,
    cli_outside: &[(String, expr::Val)],
    opts: &FrontendOptions,
) -> (Option<Unit>, Vec<Finding>) {
    let mut errors = vec![];
    if sources.text(file).is_empty() {
        return (None, errors); // discovery already reported why
    }
    let doc = match parse_file(sources, file, opts) {
        Ok(d) => d,
        Err(e) => {
            errors.push(*e);
            return (None, errors);
        }
    };
    let mut cli = cli.clone();
    for (name, v) in cli_outside {
        let decl = doc.get("parameters").and_then(|p| p.member(name));
        let span = Span::new(file, decl.map(|m| m.key_range.clone()).unwrap_or(0..0));
        cli.insert(
            name.to_ascii_lowercase(),
            template::SNode::from_val(v.clone(), &span),
        );
    }
    let mut sets = vec![];
    for pf in pairing.of(sources, file) {
        match parse_file(sources, pf, opts) {
            Ok(pdoc) => {
                let mut s = deploy::parameter_file_values(&pdoc, pf);
                s.extend(cli.clone());
                sets.push(s);
            }
            Err(e) => errors.push(*e),
        }
    }
    let own = !sets.is_empty();
    if sets.is_empty() {
        sets.push(cli);
    }
    let unit = Unit {
        file,
        doc: Arc::new(doc),
        sets,
        own,
        deployment: stem_and_dir(&sources.get(file).path).0,
    };
    (Some(unit), errors)
}

/// `load` on the thread pool.
///
/// Every template instance (a template with one parameter set) is evaluated
/// on its own, in parallel, and the results are put together in input
/// order. Where an instance depends on the ones before it (identities the
/// first pass learns, files linked in the second pass, outputs of a
/// deployment read by a later template) the dependency is recorded, and the
/// instance evaluated again, in order, when it changes the answer: the
/// result is that of a run over the templates one by one.
fn load_here(
    sources: &Sources,
    templates: &[FileId],
    params: &[FileId],
    opts: &FrontendOptions,
) -> Model {
    let mut model = Model::default();
    // Findings made before the first pass.
    let mut prelude = vec![];

    // Values from --parameters, in order (later files win). A file outside
    // the scanned folders is read here; its values point at the parameter's
    // declaration in each template, since the file has no place in `sources`.
    let mut cli = Supplied::new();
    let mut cli_outside: Vec<(String, expr::Val)> = vec![];
    for p in &opts.parameters {
        match sources.find(p) {
            Some(f) => match parse_file(sources, f, opts) {
                Ok(doc) => cli.extend(deploy::parameter_file_values(&doc, f)),
                Err(e) => model.findings.push(*e),
            },
            None => match read_outside(p, opts) {
                Ok(vals) => cli_outside.extend(vals),
                Err(msg) => prelude.push(template::make_finding(
                    Code::AEL000,
                    msg,
                    Span::new(templates.first().copied().unwrap_or_default(), 0..0),
                    "here",
                )),
            },
        }
    }

    let pairing = Pairing::new(sources, templates, params);
    let parsed: Vec<(Option<Unit>, Vec<Finding>)> = crate::timing::phase("arm parse", || {
        templates
            .par_iter()
            .map(|&f| parse_unit(sources, f, &pairing, &cli, &cli_outside, opts))
            .collect()
    });
    let mut units = Vec::with_capacity(parsed.len());
    for (u, errors) in parsed {
        model.findings.extend(errors);
        units.extend(u);
    }
    let several_sets = units.iter().any(|u| u.sets.len() > 1);

    let mut shared = Shared::new(sources, opts);
    shared.docs = units.iter().map(|u| (u.file, u.doc.clone())).collect();

    // First pass: identities. Each instance alone, then in order: one that
    // looked up a resource it does not declare itself is run again with
    // what the instances before it declare.
    let scopes: Vec<(usize, usize)> = units
        .iter()
        .enumerate()
        .flat_map(|(i, u)| (0..u.sets.len()).map(move |s| (i, s)))
        .collect();
    let nothing = Known::default();
    let alone: Vec<KeysOut> = crate::timing::phase("arm first pass", || {
        scopes
            .par_iter()
            .map(|&(u, s)| keys_pass(&shared, &nothing, &units[u], &units[u].sets[s]))
            .collect()
    });
    let mut known = Known::default();
    let mut keys_findings = vec![];
    let mut states: Vec<Vec<ScopeState>> = units.iter().map(|_| vec![]).collect();
    for (&(u, s), mut k) in scopes.iter().zip(alone) {
        if k.consulted && !known.is_empty() {
            k = keys_pass(&shared, &known, &units[u], &units[u].sets[s]);
        }
        known.merge(k.learned);
        keys_findings.extend(k.findings);
        if let Some(st) = states.get_mut(u) {
            st.push(k.state);
        }
    }

    // Second pass: everything. A template is dropped as soon as its
    // instances are evaluated, unless another one links to it.
    shared.docs.retain(|f, _| known.linked.contains(f));
    let evaluated: Vec<(FileId, bool, Vec<FullOut>)> =
        crate::timing::phase("arm second pass", || {
            units
                .into_par_iter()
                .zip(states)
                .map(|(u, states)| {
                    // A template that another one links to is evaluated there, with
                    // the parameters it is given, unless it has a parameter file of
                    // its own.
                    let outs = if !u.own && known.linked.contains(&u.file) {
                        vec![]
                    } else {
                        u.sets
                            .iter()
                            .zip(states)
                            .map(|s| full_pass(&shared, &known, &u, s, HashMap::new()))
                            .collect()
                    };
                    (u.file, u.own, outs)
                })
                .collect()
        });
    let mut linked = known.linked.clone();
    let mut outputs: HashMap<ResKey, expr::Val> = HashMap::new();
    let mut full_findings = vec![];
    let mut evs = vec![];
    for (file, own, outs) in evaluated {
        for mut r in outs {
            // Linked by an instance evaluated before it.
            if !own && linked.contains(&file) {
                continue;
            }
            // It read the outputs of a deployment an earlier template made.
            if r.missed.iter().any(|k| outputs.contains_key(k))
                && let Some((doc, set, state)) = r.redo.take()
            {
                let u = Unit {
                    file,
                    doc,
                    sets: vec![],
                    own,
                    deployment: stem_and_dir(&sources.get(file).path).0,
                };
                r = full_pass(&shared, &known, &u, (&set, state), outputs.clone());
            }
            outputs.extend(r.outputs);
            linked.extend(r.linked);
            full_findings.extend(r.findings);
            evs.extend(r.out);
        }
    }
    drop(shared);

    let mut m = Model::default();
    crate::timing::phase("arm map", || resources::map_owned(evs, &mut m));
    // Only several instances of one template can repeat a resource exactly.
    if several_sets {
        crate::timing::phase("arm dedup", || dedup_model(&mut m));
    }
    model.merge(m);
    model.findings.extend(prelude);
    model.findings.extend(keys_findings);
    model.findings.extend(full_findings);
    dedup_findings(&mut model.findings);
    model.shrink_to_fit();
    model
}

/// Values of a `--parameters` file that discovery did not read.
fn read_outside(path: &Path, opts: &FrontendOptions) -> Result<Vec<(String, expr::Val)>, String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read parameters file `{}`: {e}", path.display()))?;
    if meta.len() > opts.limits.max_file_size {
        return Err(format!(
            "parameters file `{}` is over the {}-byte limit",
            path.display(),
            opts.limits.max_file_size
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read parameters file `{}`: {e}", path.display()))?;
    let doc = json::parse(&text, opts.limits.max_depth.max(8)).map_err(|e| {
        format!(
            "parameters file `{}` is not valid JSON: {} (at byte {})",
            path.display(),
            e.message,
            e.range.start
        )
    })?;
    let vals = deploy::parameter_file_values(&doc, FileId::default());
    let mut out: Vec<(String, expr::Val)> =
        vals.into_iter().map(|(k, v)| (k, v.to_val())).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Findings repeat when a template is evaluated once per parameter file.
pub fn dedup_findings(f: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    f.retain(|x| {
        let p = x.primary();
        seen.insert((
            x.code,
            p.span.file,
            p.span.range.start,
            p.span.range.end,
            x.message.clone(),
        ))
    });
}

/// Keep one of resources that are identical in every value (the same
/// template instantiated with several parameter files). Spans are ignored:
/// the same value read from two parameter files is the same resource.
fn dedup_model(m: &mut Model) {
    /// The rendering without spans.
    fn render<T: std::fmt::Debug>(x: &T, buf: &mut String) -> String {
        use std::fmt::Write;
        buf.clear();
        let _ = write!(buf, "{x:?}");
        let mut out = String::with_capacity(buf.len());
        strip_spans(buf, &mut out);
        out
    }
    fn dd<T: std::fmt::Debug + Sync>(v: &mut Vec<T>) {
        // Rendered in parallel a slice at a time, compared in order.
        const SLICE: usize = 256;
        let mut seen: HashSet<String> = HashSet::new();
        let mut keep = Vec::with_capacity(v.len());
        for slice in v.chunks(SLICE) {
            let rendered: Vec<String> = slice
                .par_iter()
                .map_init(String::new, |buf, x| render(x, buf))
                .collect();
            keep.extend(rendered.into_iter().map(|r| seen.insert(r)));
        }
        let mut flags = keep.into_iter();
        v.retain(|_| flags.next().unwrap_or(true));
    }
    dd(&mut m.clusters);
    dd(&mut m.node_pools);
    dd(&mut m.vnets);
    dd(&mut m.subnets);
    dd(&mut m.nsgs);
    dd(&mut m.nsg_rules);
    dd(&mut m.route_tables);
    dd(&mut m.routes);
    dd(&mut m.firewalls);
    dd(&mut m.policies);
    dd(&mut m.rule_collection_groups);
    dd(&mut m.ip_groups);
}

/// A `Debug` rendering with every `Span { .. }` removed.
#[cfg(test)]
fn without_spans(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    strip_spans(debug, &mut out);
    out
}

fn strip_spans(debug: &str, out: &mut String) {
    const OPEN: &str = "Span { file: FileId(";
    let mut rest = debug;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        match after.find(" }") {
            Some(j) => rest = &after[j + 2..],
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_on_the_pool_is_caught() {
        let stack = FrontendOptions::default().limits.stack_size();
        assert_eq!(on_pool(stack, || 7), Some(7));
        let caught: Option<()> = on_pool(stack, || {
            let v: Vec<u32> = (0..2)
                .into_par_iter()
                .map(|i| [1, 2][i as usize + 1])
                .collect();
            assert!(v.is_empty());
        });
        assert_eq!(caught, None);
        // Deep recursion fits in the stack the pool gives its threads.
        fn down(n: usize) -> usize {
            let pad = std::hint::black_box([0u8; 1024]);
            if n == 0 {
                pad[0] as usize
            } else {
                down(n - 1) + 1
            }
        }
        assert_eq!(on_pool(stack, || down(8_000)), Some(8_000));
    }

    #[test]
    fn spans_are_ignored_when_comparing() {
        let a = format!("{:?}", (1, Span::new(FileId(0), 3..9), "x"));
        let b = format!("{:?}", (1, Span::new(FileId(2), 4..5), "x"));
        assert_ne!(a, b);
        assert_eq!(without_spans(&a), without_spans(&b));
        assert_eq!(without_spans(&a), "(1, , \"x\")");
    }
}

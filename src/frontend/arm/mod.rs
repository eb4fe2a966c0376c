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
use crate::source::{FileId, Sources, Span};
use json::Json;
use std::path::Path;
use std::rc::Rc;
use template::{Ctx, Pass, Supplied, TScope};

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
                "file is {} bytes, over the {}-byte limit; it was not analysed",
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
    let tpath = &sources.get(template).path;
    let (stem, dir) = stem_and_dir(tpath);
    let claims = |t: &str, p: &str| {
        p.starts_with(&format!("{t}.parameters.")) || p.starts_with(&format!("{t}.params."))
    };
    let mut out = vec![];
    for &p in params {
        let ppath = &sources.get(p).path;
        let (pstem, pdir) = stem_and_dir(ppath);
        if pdir != dir {
            continue;
        }
        let pname = format!("{pstem}.json");
        if claims(&stem, &pname) {
            out.push(p);
            continue;
        }
        let same_dir: Vec<FileId> = templates
            .iter()
            .copied()
            .filter(|t| stem_and_dir(&sources.get(*t).path).1 == pdir)
            .collect();
        let claimed = same_dir
            .iter()
            .any(|t| claims(&stem_and_dir(&sources.get(*t).path).0, &pname));
        if !claimed && same_dir == [template] {
            out.push(p);
        }
    }
    out.sort_by(|a, b| sources.get(*a).path.cmp(&sources.get(*b).path));
    out
}

/// Read ARM templates into the model.
///
/// `templates` are template files, `params` the parameter files discovery
/// found (paired by name, see [`pair_parameters`]). `opts.parameters`
/// (`--parameters FILE`) override paired values; such files must be in
/// `sources`.
pub fn load(
    sources: &Sources,
    templates: &[FileId],
    params: &[FileId],
    opts: &FrontendOptions,
) -> Model {
    // Evaluation recurses (bounded by `max_depth`); a thread of our own gives
    // it a known stack whichever thread the caller runs on.
    std::thread::scope(|sc| {
        std::thread::Builder::new()
            .name("arm-frontend".into())
            .stack_size(eval_stack(opts))
            .spawn_scoped(sc, || load_here(sources, templates, params, opts))
            .ok()
            .and_then(|h| h.join().ok())
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

/// Stack of the evaluation thread: room for `max_depth` nested references,
/// each holding an expression nested up to 64 levels (measured: about
/// 0.4 MiB per level in debug builds, so 1 MiB leaves a margin). Only the
/// pages used are committed.
fn eval_stack(opts: &FrontendOptions) -> usize {
    (opts.limits.max_depth.max(8) * 1024 * 1024).clamp(16 << 20, 1 << 30)
}

fn load_here(
    sources: &Sources,
    templates: &[FileId],
    params: &[FileId],
    opts: &FrontendOptions,
) -> Model {
    let ctx = Ctx::new(sources, opts);
    let mut model = Model::default();

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
                Err(msg) => ctx.finding(
                    Code::AEL000,
                    msg,
                    Span::new(templates.first().copied().unwrap_or_default(), 0..0),
                    "here",
                ),
            },
        }
    }

    // (file, document, parameter sets, has its own parameter file)
    let mut docs: Vec<(FileId, Rc<Json>, Vec<Supplied>, bool)> = vec![];
    for &file in templates {
        if sources.text(file).is_empty() {
            continue; // discovery already reported why
        }
        let doc = match parse_file(sources, file, opts) {
            Ok(d) => Rc::new(d),
            Err(e) => {
                model.findings.push(*e);
                continue;
            }
        };
        let mut cli = cli.clone();
        for (name, v) in &cli_outside {
            let decl = doc.get("parameters").and_then(|p| p.member(name));
            let span = Span::new(file, decl.map(|m| m.key_range.clone()).unwrap_or(0..0));
            cli.insert(
                name.to_ascii_lowercase(),
                template::SNode::from_val(v.clone(), &span),
            );
        }
        let mut sets = vec![];
        for pf in pair_parameters(sources, file, templates, params) {
            match parse_file(sources, pf, opts) {
                Ok(pdoc) => {
                    let mut s = deploy::parameter_file_values(&pdoc, pf);
                    s.extend(cli.clone());
                    sets.push(s);
                }
                Err(e) => model.findings.push(*e),
            }
        }
        let own = !sets.is_empty();
        if sets.is_empty() {
            sets.push(cli);
        }
        docs.push((file, doc, sets, own));
    }

    let scopes: Vec<(TScope, bool)> = docs
        .iter()
        .flat_map(|(file, doc, sets, own)| {
            sets.iter()
                .map(|s| {
                    let mut t = TScope::new(&ctx, *file, doc, s.clone());
                    t.deployment = Some(stem_and_dir(&sources.get(*file).path).0);
                    (t, *own)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for (s, _) in &scopes {
        template::walk_template(s, Pass::Keys);
    }
    for (s, own) in &scopes {
        // A template that another one links to is evaluated there, with the
        // parameters it is given, unless it has a parameter file of its own.
        if !own && ctx.linked.borrow().contains(&s.file) {
            continue;
        }
        template::walk_template(s, Pass::Full);
    }
    drop(scopes);

    let evs = ctx.out.take();
    let mut m = Model::default();
    resources::map(&evs, &mut m);
    // Only several instances of one template can repeat a resource exactly.
    if docs.iter().any(|d| d.2.len() > 1) {
        dedup_model(&mut m);
    }
    model.merge(m);
    model.findings.extend(ctx.findings.take());
    dedup_findings(&mut model.findings);
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
    fn dd<T: std::fmt::Debug>(v: &mut Vec<T>) {
        let mut seen = std::collections::HashSet::new();
        v.retain(|x| seen.insert(without_spans(&format!("{x:?}"))));
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
fn without_spans(debug: &str) -> String {
    const OPEN: &str = "Span { file: FileId(";
    let mut out = String::with_capacity(debug.len());
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_ignored_when_comparing() {
        let a = format!("{:?}", (1, Span::new(FileId(0), 3..9), "x"));
        let b = format!("{:?}", (1, Span::new(FileId(2), 4..5), "x"));
        assert_ne!(a, b);
        assert_eq!(without_spans(&a), without_spans(&b));
        assert_eq!(without_spans(&a), "(1, , \"x\")");
    }
}

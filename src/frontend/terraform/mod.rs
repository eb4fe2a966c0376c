//! Terraform frontend: `.tf` modules and `terraform show -json` plans become
//! the network model.
//!
//! Each scanned folder with `.tf` files is a module. A folder used as a local
//! `module` source by another scanned folder is analysed only through its
//! callers, with their inputs; the others are root modules, with their
//! variables from tfvars files and the command line. A plan whose
//! configuration matches a scanned root module overlays its values on that
//! module, so each resource is produced once and points at its `.tf` source.
//!
//! Spans: a resource's declaration span is the whole block; an attribute's
//! span is its expression (the right-hand side), or the enclosing block when
//! the value comes from a plan and the attribute is not written.

mod eval;
mod expr;
mod funcs;
mod modules;
mod parse;
mod plan;
mod resources;
mod value;

use crate::discover::TfModule;
use crate::finding::{Code, Finding};
use crate::frontend::FrontendOptions;
use crate::model::{Model, ResKey, Unknown};
use crate::source::{FileId, Sources, Span, display_path, normalize};
use eval::{Children, Ev, Inst, Prog, Scope, View};
use parse::{ModSrc, block_span};
use rayon::prelude::*;
use resources::{Base, Reader};
use std::collections::HashSet;
use value::V;

/// Resource types read into the model; others are evaluated only when
/// referenced.
const TYPES: &[&str] = &[
    "azurerm_kubernetes_cluster",
    "azurerm_kubernetes_cluster_node_pool",
    "azurerm_virtual_network",
    "azurerm_subnet",
    "azurerm_network_security_group",
    "azurerm_network_security_rule",
    "azurerm_route_table",
    "azurerm_route",
    "azurerm_subnet_network_security_group_association",
    "azurerm_subnet_route_table_association",
    "azurerm_firewall",
    "azurerm_firewall_policy",
    "azurerm_firewall_policy_rule_collection_group",
    "azurerm_firewall_application_rule_collection",
    "azurerm_firewall_network_rule_collection",
    "azurerm_firewall_nat_rule_collection",
    "azurerm_ip_group",
    "azurerm_ip_group_cidr",
    "azurerm_kubernetes_cluster_extension",
    "azurerm_kubernetes_flux_configuration",
    "azurerm_virtual_network_dns_servers",
];

/// Read the Terraform modules and plans into one model fragment.
pub fn load(
    sources: &Sources,
    modules: &[TfModule],
    plans: &[FileId],
    opts: &FrontendOptions,
) -> Model {
    // Evaluation recursion is bounded, but deeper than a default thread's
    // stack allows. A bug must not take the run down.
    super::on_roomy_stack(&opts.limits, || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            load_inner(sources, modules, plans, opts)
        }))
        .unwrap_or_else(|_| internal_error(modules, plans))
    })
}

fn internal_error(modules: &[TfModule], plans: &[FileId]) -> Model {
    let file = modules
        .iter()
        .flat_map(|m| m.files.iter())
        .chain(plans.iter())
        .next()
        .copied()
        .unwrap_or_default();
    let mut m = Model::default();
    m.findings.push(Finding::new(
        Code::AEL000,
        "internal error while reading Terraform; this module was not analysed",
        Span::new(file, 0..0),
        "here",
    ));
    m
}

fn load_inner(
    sources: &Sources,
    modules: &[TfModule],
    plans: &[FileId],
    opts: &FrontendOptions,
) -> Model {
    let mut findings = vec![];
    let plan_json: Vec<(FileId, serde_json::Value)> = plans
        .iter()
        .filter_map(|&f| plan::parse_json(sources, f, &mut findings).map(|j| (f, j)))
        .collect();
    let plan_idx: Vec<plan::Plan<'_>> = plan_json
        .iter()
        .map(|(f, j)| plan::index(sources, *f, j))
        .collect();

    // A folder that neither calls nor is called by another scanned folder is
    // parsed, evaluated and dropped in one task: its syntax trees never wait
    // for the rest of the monorepo. The others are parsed together first.
    let linked = crate::timing::phase("terraform call graph", || linked_modules(sources, modules));
    let lone: Vec<usize> = (0..modules.len()).filter(|&i| !linked[i]).collect();
    let (lone, grouped): (Vec<usize>, Vec<usize>) = if lone.len() >= 2 {
        (lone, (0..modules.len()).filter(|&i| linked[i]).collect())
    } else {
        (vec![], (0..modules.len()).collect())
    };

    let parsed: Vec<(ModSrc, Vec<Finding>)> = grouped
        .par_iter()
        .map(|&i| parse_folder(sources, &modules[i], opts))
        .collect();
    let mut mods: Vec<ModSrc> = Vec::with_capacity(parsed.len() + 1);
    for (m, f) in parsed {
        mods.push(m);
        findings.extend(f);
    }
    let n_real = mods.len();
    // A placeholder module, so evaluation over a plan alone has a scope.
    mods.push(ModSrc::default());
    let prog = Prog::new(mods);
    let called = called_modules(&prog, n_real);
    let roots: Vec<(usize, Option<usize>)> = (0..n_real)
        .filter(|src| !called.contains(src))
        .map(|src| (src, match_plan(&prog.mods[src], &plan_idx)))
        .collect();

    let lone_out: Vec<(usize, Fragment)> = lone
        .par_iter()
        .map(|&i| {
            let (src, mut f) = parse_folder(sources, &modules[i], opts);
            let pi = match_plan(&src, &plan_idx);
            let prog = Prog::new(vec![src]);
            let mut frag = eval_root(&prog, 0, pi, &plan_idx, sources, opts, true);
            f.append(&mut frag.findings);
            frag.findings = f;
            (i, frag)
        })
        .collect();

    let mut used_plans: HashSet<usize> = roots.iter().filter_map(|r| r.1).collect();
    used_plans.extend(lone_out.iter().filter_map(|(_, f)| f.plan));
    // Several configurations in one scan: their keys carry their folder, so
    // equal addresses in unrelated configurations stay apart.
    let tagged = !lone.is_empty() || roots.len() + plan_idx.len() - used_plans.len() > 1;
    let grouped_out: Vec<(usize, Fragment)> = roots
        .par_iter()
        .map(|&(src, pi)| {
            let frag = eval_root(&prog, src, pi, &plan_idx, sources, opts, tagged);
            (grouped[src], frag)
        })
        .collect();

    // Model order follows the discovery order of the folders.
    let mut frags: Vec<(usize, Fragment)> = lone_out.into_iter().chain(grouped_out).collect();
    frags.sort_by_key(|(i, _)| *i);
    let mut model = Model::default();
    let mut extensions = vec![];
    let mut dns_servers = vec![];
    for (_, f) in frags {
        model.merge(f.model);
        findings.extend(f.findings);
        extensions.extend(f.extensions);
        dns_servers.extend(f.dns_servers);
    }

    let mut ev = Ev::new(&prog, sources, opts);
    for (i, p) in plan_idx.iter().enumerate() {
        if !used_plans.contains(&i) {
            ev.plan_tag = if tagged {
                sources.get(p.file).display.clone()
            } else {
                String::new()
            };
            build_plan_only(&mut ev, p, n_real, &mut model);
        }
    }
    findings.append(&mut ev.findings);
    extensions.append(&mut ev.extensions);
    dns_servers.append(&mut ev.dns_servers);
    model.findings.extend(findings);
    attach_extensions(&mut model, extensions);
    attach_dns_servers(&mut model, dns_servers);
    model
}

fn parse_folder(sources: &Sources, m: &TfModule, opts: &FrontendOptions) -> (ModSrc, Vec<Finding>) {
    let mut f = vec![];
    let src = parse::parse_module(
        sources,
        m.dir.clone(),
        &m.files,
        &m.tfvars,
        opts.limits.max_file_size,
        &mut f,
    );
    (src, f)
}

/// What evaluating one root module gives.
struct Fragment {
    model: Model,
    findings: Vec<Finding>,
    extensions: Vec<(ResKey, crate::model::Attr<bool>)>,
    dns_servers: Vec<(ResKey, crate::model::Attr<Vec<String>>)>,
    /// The plan overlaid on it.
    plan: Option<usize>,
}

/// Evaluate the root module `src` of `prog` (with its plan, if any) on its
/// own evaluator: roots share nothing but the parsed modules, so they run in
/// parallel.
fn eval_root<'a>(
    prog: &'a Prog,
    src: usize,
    pi: Option<usize>,
    plan_idx: &'a [plan::Plan<'a>],
    sources: &'a Sources,
    opts: &'a FrontendOptions,
    tagged: bool,
) -> Fragment {
    let mut ev = Ev::new(prog, sources, opts);
    let plan = pi.and_then(|p| plan_idx.get(p));
    let planned = plan
        .map(|p| {
            p.variables
                .iter()
                .map(|(k, v)| (k.clone(), V::from_json(v, 0)))
                .collect()
        })
        .unwrap_or_default();
    let tag = if tagged {
        display_path(&prog.mods[src].dir)
    } else {
        String::new()
    };
    let mi = ev.add_root(src, planned, tag);
    let mut model = Model::default();
    build(&mut ev, mi, plan, &mut model, 0);
    model.shrink_to_fit();
    Fragment {
        model,
        findings: std::mem::take(&mut ev.findings),
        extensions: std::mem::take(&mut ev.extensions),
        dns_servers: std::mem::take(&mut ev.dns_servers),
        plan: pi,
    }
}

/// Folders used as local module sources, analysed through their callers.
fn called_modules(prog: &Prog, n_real: usize) -> HashSet<usize> {
    let mut called: HashSet<usize> = HashSet::new();
    for (i, m) in prog.mods.iter().enumerate().take(n_real) {
        for at in m.calls.values() {
            let Some(src) = m
                .block(*at)
                .and_then(|b| b.body.get_attribute("source"))
                .and_then(|a| match &a.value {
                    hcl_edit::expr::Expression::String(s) => Some(s.value().to_string()),
                    _ => None,
                })
            else {
                continue;
            };
            if modules::is_local_source(prog, &m.dir, &src)
                && let Some(&t) = prog.by_dir.get(&normalize(&m.dir.join(&src)))
                && t != i
            {
                called.insert(t);
            }
        }
    }
    called
}

/// For each folder, whether it may call or be called by another scanned
/// folder, from a scan of the text for `source = "..."` (Terraform requires
/// a module source to be a literal string). Any such literal that names a
/// scanned folder counts, so the answer errs towards "linked", which is
/// always analysed correctly, only with the whole group's trees in memory.
fn linked_modules(sources: &Sources, modules: &[TfModule]) -> Vec<bool> {
    let dirs: std::collections::HashMap<std::path::PathBuf, usize> = modules
        .iter()
        .enumerate()
        .map(|(i, m)| (normalize(&m.dir), i))
        .collect();
    let edges: Vec<Vec<usize>> = modules
        .par_iter()
        .enumerate()
        .map(|(i, m)| {
            let mut out = vec![];
            for &f in &m.files {
                for lit in source_literals(sources.text(f)) {
                    if let Some(&t) = dirs.get(&normalize(&m.dir.join(lit)))
                        && t != i
                    {
                        out.push(t);
                    }
                }
            }
            out
        })
        .collect();
    let mut linked = vec![false; modules.len()];
    for (i, ts) in edges.iter().enumerate() {
        for &t in ts {
            linked[i] = true;
            linked[t] = true;
        }
    }
    linked
}

/// The string literals assigned to a `source` attribute anywhere in `text`.
fn source_literals(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("source").filter_map(move |(at, _)| {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            return None;
        }
        let rest = text[at + "source".len()..].trim_start_matches([' ', '\t']);
        let rest = rest.strip_prefix('=')?.trim_start_matches([' ', '\t']);
        let rest = rest.strip_prefix('"')?;
        let end = rest.find(['"', '\n'])?;
        Some(&rest[..end])
    })
}

/// DNS servers set with `azurerm_virtual_network_dns_servers` become those
/// of the VNet they name.
fn attach_dns_servers(model: &mut Model, sets: Vec<(ResKey, crate::model::Attr<Vec<String>>)>) {
    for (key, servers) in sets {
        for v in model
            .vnets
            .iter_mut()
            .filter(|v| v.decl.keys.contains(&key))
        {
            v.dns_servers = Some(servers.clone());
        }
    }
}

/// Cluster extensions (and Flux, which is one) are separate resources: they
/// become the `extensions` feature of the cluster they name.
fn attach_extensions(model: &mut Model, exts: Vec<(ResKey, crate::model::Attr<bool>)>) {
    for (key, attr) in exts {
        for c in model
            .clusters
            .iter_mut()
            .filter(|c| c.decl.keys.contains(&key))
        {
            if !c.features.iter().any(|(n, _)| n == "extensions") {
                c.features.push(("extensions".to_string(), attr.clone()));
            }
        }
    }
}

/// The plan of a root module: the one whose configuration's root resources
/// are all declared in the module (the plan's own folder first).
fn match_plan(m: &ModSrc, plans: &[plan::Plan<'_>]) -> Option<usize> {
    let fits = |p: &plan::Plan<'_>| {
        !p.root_addrs.is_empty()
            && p.root_addrs
                .iter()
                .all(|a| match a.strip_prefix("module.") {
                    Some(call) => m.calls.contains_key(call),
                    None => m.res_index.contains_key(a),
                })
    };
    let same_dir = plans
        .iter()
        .position(|p| normalize(&p.dir) == normalize(&m.dir) && fits(p));
    same_dir.or_else(|| plans.iter().position(fits))
}

fn build<'a>(
    ev: &mut Ev<'a>,
    mi: usize,
    plan: Option<&'a plan::Plan<'a>>,
    model: &mut Model,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    let src = ev.src(mi);
    let (path, cond) = match ev.insts.get(mi) {
        Some(Inst {
            path, condition, ..
        }) => (path.clone(), condition.clone()),
        None => return,
    };
    for d in &src.resources {
        if d.data || !TYPES.contains(&d.rtype.as_str()) {
            continue;
        }
        let Some(b) = src.block(d.at) else { continue };
        let file = src.file_id(d.at);
        let addr = d.addr();
        let span = block_span(file, b);
        let exp = ev.expand(mi, file, &b.body, &format!("`{addr}`"));
        let planned: Option<Vec<&'a plan::PlanRes<'a>>> = plan.and_then(|p| {
            p.by_addr
                .get(&(path.clone(), addr.clone()))
                .map(|ix| ix.iter().filter_map(|i| p.res.get(*i)).collect())
        });
        // Instances: the plan's when it has them, the expansion's otherwise.
        let items: Vec<(Option<V>, Scope, Option<&'a plan::PlanRes<'a>>)> = match planned {
            Some(list) if !list.is_empty() => list
                .into_iter()
                .map(|pr| {
                    let k = pr.index.map(|j| V::from_json(j, 0));
                    let scope = exp
                        .items
                        .iter()
                        .find(|(ek, _)| ek == &k)
                        .map(|(_, s)| s.clone())
                        .unwrap_or_else(|| plan_scope(&k));
                    (k, scope, Some(pr))
                })
                .collect(),
            _ => exp
                .items
                .iter()
                .map(|(k, s)| (k.clone(), s.clone(), None))
                .collect(),
        };
        let condition = if items.iter().any(|i| i.2.is_some()) {
            None
        } else {
            exp.condition.clone().or(cond.clone())
        };
        for (k, scope, pr) in items {
            let base = Base {
                tf_key: ev.inst_key(mi, d, &k),
                label: resources::label(&path, &addr, &k),
                span: span.clone(),
                condition: condition.as_ref().map(|c| Unknown {
                    reason: c.reason.clone(),
                    hint: c.hint.clone(),
                }),
            };
            let view = View {
                mi,
                file,
                body: Some(&b.body),
                span: span.clone(),
                scope,
                plan: pr.map(|p| p.values),
                cfg: None,
                unk: None,
                mpath: path.clone(),
                obj: None,
            };
            resources::read(&mut Reader { ev }, &d.rtype, &view, &base, model);
        }
    }
    let calls: Vec<String> = src.calls.keys().cloned().collect();
    for c in calls {
        if let Children::Local(_, ids) = ev.children(mi, &c) {
            for id in ids {
                build(ev, id, plan, model, depth + 1);
            }
        }
    }
}

/// Bindings of a plan instance the configuration alone cannot expand: its
/// key is known, `each.value` is not.
fn plan_scope(k: &Option<V>) -> Scope {
    use std::collections::BTreeMap;
    match k {
        Some(n @ V::Num(_)) => vec![(
            "count".into(),
            V::map(BTreeMap::from([("index".to_string(), n.clone())])),
        )],
        Some(key) => vec![(
            "each".into(),
            V::map(BTreeMap::from([
                ("key".to_string(), key.clone()),
                (
                    "value".to_string(),
                    V::unknown("`each.value` of an instance known only from the plan"),
                ),
            ])),
        )],
        None => vec![],
    }
}

/// A plan without its configuration in the scanned tree: values from the
/// plan, spans at each resource's address in the plan file.
fn build_plan_only<'a>(
    ev: &mut Ev<'a>,
    p: &'a plan::Plan<'a>,
    placeholder: usize,
    model: &mut Model,
) {
    let mi = ev.insts.len();
    ev.insts.push(Inst::new(placeholder, String::new()));
    ev.plan_cfg = p.cfg_root;
    for r in &p.res {
        if r.data || !TYPES.contains(&r.rtype.as_str()) {
            continue;
        }
        let span = plan::address_span(ev.sources, p.file, &r.full);
        let label = r.full.clone();
        let base = Base {
            tf_key: ResKey::tf(
                &eval::key_module(&ev.plan_tag, &r.module),
                r.full
                    .strip_prefix(&format!("{}.", r.module))
                    .unwrap_or(&r.full),
            ),
            label,
            span: span.clone(),
            condition: None,
        };
        let view = View {
            mi,
            file: p.file,
            body: None,
            span,
            scope: vec![],
            plan: Some(r.values),
            cfg: r.cfg,
            unk: r.unk,
            mpath: r.module.clone(),
            obj: None,
        };
        resources::read(&mut Reader { ev }, &r.rtype, &view, &base, model);
    }
}

#[cfg(test)]
mod tests;

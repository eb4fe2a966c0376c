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
];

/// Read the Terraform modules and plans into one model fragment.
pub fn load(
    sources: &Sources,
    modules: &[TfModule],
    plans: &[FileId],
    opts: &FrontendOptions,
) -> Model {
    // Evaluation recurses (expressions, references, modules); every level is
    // bounded, and a thread with a roomy stack makes those bounds safe even
    // when the caller runs on a small-stack worker thread.
    std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name("terraform-frontend".into())
            .stack_size(64 * 1024 * 1024)
            .spawn_scoped(s, || load_inner(sources, modules, plans, opts));
        match h {
            Ok(h) => h.join().unwrap_or_else(|_| internal_error(modules, plans)),
            Err(_) => load_inner(sources, modules, plans, opts),
        }
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
    let mut model = Model::default();
    let mut findings = vec![];
    // Folders are parsed in parallel; evaluation below is sequential.
    let parsed: Vec<(ModSrc, Vec<Finding>)> = crate::timing::phase("terraform parse", || {
        modules
            .par_iter()
            .map(|m| {
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
            })
            .collect()
    });
    let mut mods: Vec<ModSrc> = Vec::with_capacity(parsed.len() + 1);
    for (m, f) in parsed {
        mods.push(m);
        findings.extend(f);
    }
    let n_real = mods.len();
    // A placeholder module, so evaluation over a plan alone has a scope.
    mods.push(ModSrc::default());
    let prog = Prog::new(mods);

    // Folders used as local module sources are analysed through their callers.
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
            if modules::is_local_source(&prog, &m.dir, &src)
                && let Some(&t) = prog.by_dir.get(&normalize(&m.dir.join(&src)))
                && t != i
            {
                called.insert(t);
            }
        }
    }

    let plan_json: Vec<(FileId, serde_json::Value)> = plans
        .iter()
        .filter_map(|&f| plan::parse_json(sources, f, &mut findings).map(|j| (f, j)))
        .collect();
    let plan_idx: Vec<plan::Plan<'_>> = plan_json
        .iter()
        .map(|(f, j)| plan::index(sources, *f, j))
        .collect();

    let mut ev = Ev::new(&prog, sources, opts);
    let roots: Vec<(usize, Option<usize>)> = (0..n_real)
        .filter(|src| !called.contains(src))
        .map(|src| (src, match_plan(&prog.mods[src], &plan_idx)))
        .collect();
    let used_plans: HashSet<usize> = roots.iter().filter_map(|r| r.1).collect();
    // Several configurations in one scan: their keys carry their folder, so
    // equal addresses in unrelated configurations stay apart.
    let tagged = roots.len() + plan_idx.len() - used_plans.len() > 1;
    for (src, pi) in roots {
        let planned = pi
            .and_then(|p| plan_idx.get(p))
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
        build(&mut ev, mi, pi.and_then(|p| plan_idx.get(p)), &mut model, 0);
    }
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
    model.findings.extend(findings);
    attach_extensions(&mut model, std::mem::take(&mut ev.extensions));
    model
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

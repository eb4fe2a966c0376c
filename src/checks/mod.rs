//! Checks: one small module per finding code. They read the linked model and
//! the evaluation, never JSON or HCL.

pub mod asymmetric_routing;
pub mod black_hole;
pub mod broad_rule;
pub mod dns_proxy;
pub mod fix;
pub mod internal_traffic;
pub mod missing_endpoint;
pub mod udr_default_route;
pub mod unresolved;

use crate::catalog::{Catalog, Cloud, Level};
use crate::eval::flow::Evaluator;
use crate::eval::requirements::{
    ClusterPlan, Mode, SharedEntries, plan_cluster_shared, plan_nsg_shared,
};
use crate::eval::{Decider, Outcome, Verdict};
use crate::finding::{ClusterSummary, Code, Finding, Hop, Label, RequirementVerdict};
use crate::link::{ApplianceLink, Link, Linked, decl_name};
use crate::model::Model;
use crate::source::Sources;
use rayon::prelude::*;

/// What the command line and the config say about clusters when the code
/// does not (or to override it).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--cloud`
    pub cloud: Option<Cloud>,
    /// `--location`: wins over the code.
    pub location: Option<String>,
    /// `--features`: added to what the code shows.
    pub features: Vec<String>,
    /// Config `defaults.cloud`: used when the code does not say.
    pub default_cloud: Option<Cloud>,
    /// Config `defaults.location`: used when the code does not say.
    pub default_location: Option<String>,
    /// Config `clusters.<name>`: per-cluster defaults (their `cloud`,
    /// `location` and `features`; nested `clusters` are ignored).
    pub clusters: std::collections::BTreeMap<String, Overrides>,
}

impl Overrides {
    /// The overrides for one cluster: the command line's `cloud` and
    /// `location` still win over the code; the cluster's own config entry
    /// replaces the defaults; features add up.
    pub fn for_cluster(&self, name: &str) -> Overrides {
        let mut o = Overrides {
            cloud: self.cloud,
            location: self.location.clone(),
            features: self.features.clone(),
            default_cloud: self.default_cloud,
            default_location: self.default_location.clone(),
            clusters: Default::default(),
        };
        if let Some(c) = self.clusters.get(name) {
            o.default_cloud = c.default_cloud.or(c.cloud).or(o.default_cloud);
            o.default_location = c
                .default_location
                .clone()
                .or(c.location.clone())
                .or(o.default_location);
            for f in &c.features {
                if !o.features.contains(f) {
                    o.features.push(f.clone());
                }
            }
        }
        o
    }
}

/// The evaluation of one requirement from one source.
#[derive(Clone, Debug)]
pub struct Evaluated<'m> {
    /// Index into the plan's `requirements`.
    pub req: usize,
    /// Index into the plan's `sources`.
    pub source: usize,
    /// One per flow of the requirement.
    pub outcomes: Vec<Outcome<'m>>,
}

impl<'m> Evaluated<'m> {
    /// The outcome that stands for the requirement: a denied flow first,
    /// then an unknown one, else the first.
    pub fn worst(&self) -> Option<&Outcome<'m>> {
        self.outcomes
            .iter()
            .find(|o| o.verdict == Verdict::Denied)
            .or_else(|| self.outcomes.iter().find(|o| o.verdict == Verdict::Unknown))
            .or_else(|| self.outcomes.first())
    }

    pub fn verdict(&self) -> Verdict {
        self.worst().map(|o| o.verdict).unwrap_or(Verdict::Unknown)
    }
}

/// Everything the checks read.
pub struct Ctx<'a, 'm> {
    pub model: &'m Model,
    pub sources: &'a Sources,
    pub catalog: &'a Catalog,
    pub linked: &'a Linked<'m>,
    pub eval: &'a Evaluator<'a, 'm>,
    pub plans: Vec<ClusterPlan<'m>>,
    /// Per plan, every (requirement, source) evaluation.
    pub results: Vec<Vec<Evaluated<'m>>>,
}

/// Plan every cluster (or, with no cluster at all, every NSG standing for a
/// node subnet) and evaluate its requirements.
pub fn analyse<'a, 'm>(
    model: &'m Model,
    sources: &'a Sources,
    catalog: &'a Catalog,
    overrides: &Overrides,
    linked: &'a Linked<'m>,
    eval: &'a Evaluator<'a, 'm>,
) -> Ctx<'a, 'm> {
    let shared = SharedEntries::new(catalog);
    let all = subjects(model, linked);
    let plans = plan_all(linked, catalog, &shared, overrides, &all);
    evaluate(model, sources, catalog, linked, eval, plans)
}

/// What gets a plan: every cluster, or with no cluster at all, every NSG
/// standing for a node subnet.
#[derive(Clone, Copy)]
enum Subject<'m> {
    Cluster(&'m crate::model::Cluster),
    Nsg(&'m crate::model::Nsg),
}

fn subjects<'m>(model: &'m Model, linked: &Linked<'m>) -> Vec<Subject<'m>> {
    if model.clusters.is_empty() {
        model
            .nsgs
            .iter()
            .filter(|n| may_guard_nodes(linked, n))
            .map(Subject::Nsg)
            .collect()
    } else {
        model.clusters.iter().map(Subject::Cluster).collect()
    }
}

/// Planning reads every source path's rules once: in parallel too.
fn plan_all<'m>(
    linked: &Linked<'m>,
    catalog: &Catalog,
    shared: &SharedEntries,
    overrides: &Overrides,
    subjects: &[Subject<'m>],
) -> Vec<ClusterPlan<'m>> {
    subjects
        .par_iter()
        .map(|s| match s {
            Subject::Cluster(c) => plan_cluster_shared(linked, catalog, shared, overrides, c),
            Subject::Nsg(n) => plan_nsg_shared(linked, catalog, shared, overrides, n),
        })
        .collect()
}

/// Evaluate every requirement of `plans`.
fn evaluate<'a, 'm>(
    model: &'m Model,
    sources: &'a Sources,
    catalog: &'a Catalog,
    linked: &'a Linked<'m>,
    eval: &'a Evaluator<'a, 'm>,
    plans: Vec<ClusterPlan<'m>>,
) -> Ctx<'a, 'm> {
    // Clusters are evaluated in parallel: on a monorepo this is most of the run.
    let results = plans
        .par_iter()
        .map(|p| {
            if p.mode != Mode::Checked {
                return vec![];
            }
            let mut out = vec![];
            for (ri, r) in p.requirements.iter().enumerate() {
                for (si, s) in p.sources.iter().enumerate() {
                    out.push(Evaluated {
                        req: ri,
                        source: si,
                        outcomes: r.flows.iter().map(|f| eval.eval(s, f)).collect(),
                    });
                }
            }
            out
        })
        .collect();
    Ctx {
        model,
        sources,
        catalog,
        linked,
        eval,
        plans,
        results,
    }
}

/// Without a cluster, an NSG stands for an AKS node subnet unless it
/// guards only subnets that never hold nodes (Bastion, gateways, firewalls)
/// or is named for Bastion.
fn may_guard_nodes(l: &Linked, n: &crate::model::Nsg) -> bool {
    const NOT_NODES: &[&str] = &[
        "azurebastionsubnet",
        "gatewaysubnet",
        "azurefirewallsubnet",
        "azurefirewallmanagementsubnet",
        "routeserversubnet",
    ];
    if decl_name(&n.decl).to_ascii_lowercase().contains("bastion") {
        return false;
    }
    let subnets = l.subnets_of_nsg(n);
    subnets.is_empty()
        || subnets.iter().any(|s| {
            let name = decl_name(&s.decl).to_ascii_lowercase();
            !NOT_NODES.contains(&name.as_str())
        })
}

/// The findings of `f` for every plan, computed in parallel, in plan order
/// (as a loop over the plans gives them).
pub fn per_plan<'m, F>(ctx: &Ctx<'_, 'm>, out: &mut Vec<Finding>, f: F)
where
    F: Fn(usize, &ClusterPlan<'m>) -> Vec<Finding> + Sync + Send,
{
    let found: Vec<Vec<Finding>> = ctx
        .plans
        .par_iter()
        .enumerate()
        .map(|(i, p)| f(i, p))
        .collect();
    out.extend(found.into_iter().flatten());
}

/// Run every check. Findings come back unsorted and unfiltered; one
/// summary per cluster.
pub fn run(
    model: &Model,
    sources: &Sources,
    catalog: &Catalog,
    overrides: &Overrides,
) -> (Vec<Finding>, Vec<ClusterSummary>) {
    run_batched(model, sources, catalog, overrides, BATCH)
}

/// [`run`] with `batch` clusters planned and checked at a time: the
/// results do not depend on it.
pub fn run_batched(
    model: &Model,
    sources: &Sources,
    catalog: &Catalog,
    overrides: &Overrides,
    batch: usize,
) -> (Vec<Finding>, Vec<ClusterSummary>) {
    let linked = Linked::new(model);
    let shared = SharedEntries::new(catalog);
    let all = subjects(model, &linked);
    // Clusters are planned, evaluated and checked a batch at a time, and
    // each batch's plans and traces are dropped before the next: on a
    // monorepo they would otherwise be the largest part of the memory.
    // Each check's findings keep the order one pass over all clusters gives.
    let mut notes = vec![];
    let mut per_check: [Vec<Finding>; 7] = Default::default();
    let mut internal_reported = std::collections::HashSet::new();
    let mut summaries_all = vec![];
    for part in all.chunks(batch.max(1)) {
        // An evaluator per batch: it reads the firewalls the batch reaches,
        // and drops them with the batch.
        let eval = Evaluator::new(&linked, catalog);
        let plans = plan_all(&linked, catalog, &shared, overrides, part);
        let ctx = evaluate(model, sources, catalog, &linked, &eval, plans);
        for p in &ctx.plans {
            notes.extend(p.notes.iter().cloned());
        }
        let [me, it, bh, asym, udr, broad, unres] = &mut per_check;
        missing_endpoint::check(&ctx, me);
        internal_traffic::check(&ctx, it, &mut internal_reported);
        black_hole::check(&ctx, bh);
        asymmetric_routing::check(&ctx, asym);
        udr_default_route::check(&ctx, udr);
        broad_rule::check(&ctx, broad);
        unresolved::check(&ctx, unres);
        summaries_all.extend(summaries(&ctx));
        // Every flow's trace goes: in parallel, it is a fair share of the run.
        let Ctx { plans, results, .. } = ctx;
        rayon::join(
            || plans.into_par_iter().for_each(drop),
            || results.into_par_iter().for_each(drop),
        );
    }
    let mut out = notes;
    // Separate node pools whose cluster cannot be linked.
    for pool in linked.orphan_pools() {
        let (span, why) = match &pool.cluster {
            Some(a) => match crate::link::attr_key(a) {
                Ok(k) => (
                    a.span.clone(),
                    format!(
                        "cluster `{}` is not declared in the scanned files",
                        crate::link::key_display(k)
                    ),
                ),
                Err(u) => (u.span, u.reason),
            },
            None => (pool.decl.span.clone(), "it names no cluster".to_string()),
        };
        out.push(Finding::new(
            Code::AEL008,
            format!(
                "node pool `{}` cannot be tied to a cluster ({why}): its subnets are not checked",
                pool.decl.label
            ),
            span,
            "cluster reference",
        ));
    }
    let [me, it, bh, asym, udr, broad, unres] = per_check;
    out.extend(me);
    out.extend(it);
    out.extend(bh);
    // Firewall-wide: once, whatever the clusters.
    dns_proxy::check(&linked, sources, &mut out);
    out.extend(asym);
    out.extend(udr);
    out.extend(broad);
    out.extend(unres);
    (out, summaries_all)
}

/// Clusters planned and checked together (see [`run`]).
const BATCH: usize = 128;

/// A short description of what decided a flow.
pub fn decider_text(d: &Decider) -> String {
    match d {
        Decider::NsgRule { nsg, rule } => format!(
            "NSG `{}` rule `{}`",
            decl_name(&nsg.decl),
            decl_name(&rule.decl)
        ),
        Decider::NsgDefault { nsg, name } => {
            format!("NSG `{}` default rule `{name}`", decl_name(&nsg.decl))
        }
        Decider::BlackHole { why, .. } => why.clone(),
        Decider::SystemRoute { text } => text.clone(),
        Decider::UdrWithoutDefault { subnet } => format!(
            "subnet `{}` has no `0.0.0.0/0` route under `userDefinedRouting`",
            decl_name(&subnet.decl)
        ),
        Decider::FirewallRule {
            firewall,
            policy,
            collection,
            rule,
            ..
        } => format!(
            "rule `{}` in collection `{}` of {}",
            decl_name(&rule.decl),
            decl_name(&collection.decl),
            match policy {
                Some(p) => format!("firewall policy `{}`", decl_name(&p.decl)),
                None => format!("firewall `{}`", decl_name(&firewall.decl)),
            }
        ),
        Decider::FirewallDefault { firewall, policy } => match policy {
            Some(p) => format!("firewall policy `{}` (no rule matches)", decl_name(&p.decl)),
            None => format!("firewall `{}` (no rule matches)", decl_name(&firewall.decl)),
        },
        Decider::Internet { .. } => "the Internet route".into(),
        Decider::VnetLocal => "the virtual network".into(),
        Decider::Undecided => "nothing certain".into(),
    }
}

fn summaries(ctx: &Ctx) -> Vec<ClusterSummary> {
    let all: Vec<Option<ClusterSummary>> = ctx
        .plans
        .par_iter()
        .enumerate()
        .map(|(pi, p)| summary(ctx, pi, p))
        .collect();
    all.into_iter().flatten().collect()
}

fn summary(ctx: &Ctx, pi: usize, p: &ClusterPlan) -> Option<ClusterSummary> {
    p.cluster?;
    let results = ctx.results.get(pi).map(Vec::as_slice).unwrap_or(&[]);
    let mut blocking: Vec<crate::source::Span> = vec![];
    let mut verdicts = vec![];
    for (ri, r) in p.requirements.iter().enumerate() {
        // The first source stands for the cluster in the summary; a
        // requirement is as bad as its worst source.
        let evs: Vec<&Evaluated> = results.iter().filter(|e| e.req == ri).collect();
        let worst = evs
            .iter()
            .find(|e| e.verdict() == Verdict::Denied)
            .or_else(|| evs.iter().find(|e| e.verdict() == Verdict::Unknown))
            .or_else(|| evs.first());
        let (verdict, decided_by) = match worst.and_then(|e| e.worst()) {
            Some(o) => {
                let span = o.decider.span();
                if o.verdict == Verdict::Denied {
                    blocking.extend(span.clone());
                }
                (
                    o.verdict,
                    span.map(|s| Label {
                        span: s,
                        message: decider_text(&o.decider),
                        primary: true,
                    }),
                )
            }
            None => (Verdict::Unknown, None),
        };
        verdicts.push(RequirementVerdict {
            requirement: r.entry.id.clone(),
            endpoint: r.endpoint.clone(),
            level: match r.entry.level {
                Level::Required => "required".into(),
                Level::Recommended => "recommended".into(),
            },
            verdict,
            decided_by,
            source: Some(r.entry.source.clone()),
        });
    }
    let path = p
        .sources
        .first()
        .map(|s| path_hops(ctx, s, &blocking))
        .unwrap_or_default();
    Some(ClusterSummary {
        name: p.name.clone(),
        span: p.span.clone(),
        source: p.sources.first().map(|s| s.name.clone()),
        path,
        verdicts,
    })
}

/// The hops of a source's default path (for `0.0.0.0/0`).
pub fn path_hops(
    ctx: &Ctx,
    s: &crate::eval::flow::SourcePath,
    blocking: &[crate::source::Span],
) -> Vec<Hop> {
    let blocks = |sp: &crate::source::Span| {
        blocking.iter().any(|b| {
            b.file == sp.file && b.range.start >= sp.range.start && b.range.end <= sp.range.end
        })
    };
    let mut hops = vec![];
    if let Some(sub) = s.subnet {
        hops.push(Hop {
            kind: "subnet".into(),
            name: s.name.clone(),
            span: Some(sub.decl.span.clone()),
            blocking: false,
        });
    }
    if let Link::Found((n, _)) = &s.nsg {
        hops.push(Hop {
            kind: "nsg".into(),
            name: decl_name(&n.decl),
            span: Some(n.decl.span.clone()),
            blocking: blocks(&n.decl.span),
        });
    }
    let mut firewall = None;
    if let Link::Found((rt, _)) = &s.route_table {
        hops.push(Hop {
            kind: "route-table".into(),
            name: decl_name(&rt.decl),
            span: Some(rt.decl.span.clone()),
            blocking: blocks(&rt.decl.span),
        });
        for m in &s.routes {
            let r = m.item;
            let default = r
                .address_prefix
                .value
                .known()
                .is_some_and(|p| crate::eval::route::is_default_prefix(p));
            if default {
                match ctx.linked.appliance(r) {
                    ApplianceLink::Firewall(h) => firewall = Some(h.firewall),
                    _ => {
                        if r.next_hop_type
                            .value
                            .known()
                            .is_some_and(|t| t.eq_ignore_ascii_case("VirtualAppliance"))
                        {
                            hops.push(Hop {
                                kind: "appliance".into(),
                                name: r
                                    .next_hop_ip
                                    .as_ref()
                                    .and_then(|a| a.value.known().cloned())
                                    .unwrap_or_else(|| "?".into()),
                                span: Some(r.decl.span.clone()),
                                blocking: blocks(&r.decl.span),
                            });
                        }
                    }
                }
            }
        }
    }
    if let Some(fw) = firewall {
        hops.push(Hop {
            kind: "firewall".into(),
            name: decl_name(&fw.decl),
            span: Some(fw.decl.span.clone()),
            blocking: blocks(&fw.decl.span),
        });
        if let Some(st) = ctx.eval.setup_of(fw) {
            for p in &st.chain {
                hops.push(Hop {
                    kind: "firewall-policy".into(),
                    name: decl_name(&p.decl),
                    span: Some(p.decl.span.clone()),
                    blocking: blocks(&p.decl.span)
                        || ctx.linked.rcgs(p).iter().any(|g| blocks(&g.item.decl.span)),
                });
            }
        }
    }
    hops.push(Hop {
        kind: "internet".into(),
        name: "Internet".into(),
        span: None,
        blocking: false,
    });
    hops
}

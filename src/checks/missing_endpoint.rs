//! AEL001 `missing-required-endpoint` and AEL002 `missing-recommended-endpoint`.
//!
//! ## What it does
//! Evaluates every endpoint the catalog says a cluster needs (for its cloud,
//! region and the features its code turns on) from every node and pod
//! subnet, through the subnet's NSG, its route table and the firewall the
//! default route leads to, and reports each destination, protocol and port
//! that the path certainly denies.
//!
//! ## Why is this bad?
//! Nodes that cannot reach `mcr.microsoft.com`, the API server tunnel or
//! `login.microsoftonline.com` fail to bootstrap, pull system images or
//! authenticate: cluster creation and upgrades fail, often after a long
//! timeout and far from the firewall rule that caused it.
//!
//! ## Example
//! ```hcl
//! resource "azurerm_firewall_policy_rule_collection_group" "aks" {
//!   application_rule_collection {
//!     name     = "aks"
//!     priority = 100
//!     action   = "Allow"
//!     rule {
//!       name              = "packages"
//!       source_addresses  = ["10.0.0.0/22"]
//!       destination_fqdns = ["packages.microsoft.com"]   # mcr.microsoft.com missing
//!       protocols { type = "Https" port = 443 }
//!     }
//!   }
//! }
//! ```
//! Use instead: add a rule for `mcr.microsoft.com` (or the
//! `AzureKubernetesService` FQDN tag) on Https:443.

use super::fix::{firewall_rule, lang_of, nsg_rule, nsg_rule_resource};
use super::{Ctx, decider_text};
use crate::catalog::Level;
use crate::eval::flow::SourcePath;
use crate::eval::{Decider, Dest, Flow, Outcome, Verdict};
use crate::finding::{Code, Finding};
use crate::link::{Member, decl_name};
use crate::model::{RuleCollection, RuleKind, Value};
use crate::source::Span;
use std::collections::HashSet;

pub fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    super::per_plan(ctx, out, |pi, plan| {
        let mut out = vec![];
        let Some(results) = ctx.results.get(pi) else {
            return out;
        };
        let mut seen = HashSet::new();
        for ev in results {
            let (Some(req), Some(src)) =
                (plan.requirements.get(ev.req), plan.sources.get(ev.source))
            else {
                continue;
            };
            let Some((fi, o)) = ev
                .outcomes
                .iter()
                .enumerate()
                .find(|(_, o)| o.verdict == Verdict::Denied)
            else {
                continue;
            };
            // Black holes and a missing default route have their own codes.
            if matches!(
                o.decider,
                Decider::BlackHole { .. } | Decider::UdrWithoutDefault { .. }
            ) {
                continue;
            }
            if !seen.insert((req.endpoint.clone(), ev.source)) {
                continue;
            }
            let Some(flow) = req.flows.get(fi) else {
                continue;
            };
            let code = match req.entry.level {
                Level::Required => Code::AEL001,
                Level::Recommended => Code::AEL002,
            };
            let multi = plan.sources.len() > 1;
            if let Some(f) = finding(ctx, code, plan, src, multi, flow, &req.endpoint, o) {
                let f = f
                    .endpoint(req.endpoint.clone())
                    .requirement(req.entry.id.clone());
                out.push(match plan.cluster {
                    Some(_) => f.cluster(plan.name.clone()),
                    None => f,
                });
            }
        }
        out
    })
}

/// `mcr.microsoft.com:443/tcp`.
pub fn endpoint_text(e: &crate::finding::Endpoint) -> String {
    format!("{}:{}/{}", e.destination, e.port, e.protocol)
}

/// Prefixes of the source subnet, for the fix (`*` when not known).
pub fn source_prefixes(src: &SourcePath) -> Vec<String> {
    src.subnet
        .and_then(|s| s.address_prefixes.value.known().cloned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| vec!["*".into()])
}

/// An Allow collection of `kind` where the missing rule belongs.
fn allow_collection<'m>(
    ctx: &Ctx<'_, 'm>,
    fw: &'m crate::model::Firewall,
    policy: Option<&'m crate::model::FirewallPolicy>,
    kind: RuleKind,
) -> Option<&'m RuleCollection> {
    let is_allow = |c: &RuleCollection| {
        c.kind == kind
            && matches!(&c.action.value, Value::Known(a) if a.eq_ignore_ascii_case("allow"))
    };
    match policy {
        Some(p) => ctx
            .linked
            .rcgs(p)
            .into_iter()
            .filter(|g| g.certain)
            .flat_map(|g: Member<_>| g.item.collections.iter())
            .find(|c| is_allow(c)),
        None => ctx
            .linked
            .classic_collections(fw)
            .into_iter()
            .filter(|c| c.certain)
            .map(|c| c.item)
            .find(|c| is_allow(c)),
    }
}

fn kind_for(flow: &Flow) -> RuleKind {
    match (&flow.dest, flow.app) {
        (Dest::Fqdn { .. }, Some(_)) => RuleKind::Application,
        _ => RuleKind::Network,
    }
}

fn route_labels(o: &Outcome) -> Vec<(Span, String)> {
    o.steps
        .iter()
        .filter(|s| s.hop == "route" || s.hop == "appliance")
        .filter_map(|s| s.span.clone().map(|sp| (sp, s.text.to_string())))
        .take(2)
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn finding<'m>(
    ctx: &Ctx<'_, 'm>,
    code: Code,
    plan: &crate::eval::requirements::ClusterPlan,
    src: &SourcePath,
    multi: bool,
    flow: &Flow,
    endpoint: &crate::finding::Endpoint,
    o: &Outcome<'m>,
) -> Option<Finding> {
    let ep = endpoint_text(endpoint);
    let from = if multi {
        format!(" from {} subnet `{}`", src.role, src.name)
    } else {
        String::new()
    };
    let sources = source_prefixes(src);
    let (primary, label, message, help, extra): (
        Span,
        String,
        String,
        String,
        Vec<(Span, String)>,
    ) = match &o.decider {
        Decider::FirewallDefault { firewall, policy } => {
            let what = match policy {
                Some(p) => format!("firewall policy `{}`", decl_name(&p.decl)),
                None => format!("firewall `{}`", decl_name(&firewall.decl)),
            };
            let kind = kind_for(flow);
            let coll = allow_collection(ctx, firewall, *policy, kind);
            let owner_span = policy
                .map(|p| p.decl.span.clone())
                .unwrap_or_else(|| firewall.decl.span.clone());
            let (span, label) = match coll {
                Some(c) => (
                    c.decl.span.clone(),
                    format!("no rule in this collection allows `{ep}`"),
                ),
                None => (owner_span.clone(), format!("no rule allows `{ep}`")),
            };
            let lang = lang_of(ctx.sources, &span);
            let rule = firewall_rule(
                lang,
                policy.is_some(),
                flow,
                &endpoint.destination,
                &sources,
                ctx.eval
                    .setup_of(firewall)
                    .is_some_and(|s| s.dns_proxy == Ok(true)),
            );
            let kind_s = match kind {
                RuleKind::Application => "an application rule collection",
                _ => "a network rule collection",
            };
            let mut extra = vec![];
            if coll.is_some() {
                extra.push((owner_span, what.clone()));
            }
            if policy.is_some() {
                extra.push((
                    firewall.decl.span.clone(),
                    format!("firewall `{}`", decl_name(&firewall.decl)),
                ));
            }
            (
                span,
                label,
                format!("egress to `{ep}`{from} is not allowed by {what}"),
                format!("add this rule to {kind_s} of {what}:\n{rule}"),
                extra,
            )
        }
        Decider::FirewallRule {
            firewall,
            policy,
            collection,
            rule,
            ..
        } => {
            let what = decider_text(&o.decider);
            let lang = lang_of(ctx.sources, &rule.decl.span);
            let fix = firewall_rule(
                lang,
                policy.is_some(),
                flow,
                &endpoint.destination,
                &sources,
                ctx.eval
                    .setup_of(firewall)
                    .is_some_and(|s| s.dns_proxy == Ok(true)),
            );
            (
                rule.decl.span.clone(),
                format!("this rule denies `{ep}`"),
                format!("egress to `{ep}`{from} is denied by {what}"),
                format!(
                    "narrow this deny rule, or allow the endpoint in a collection processed before `{}`:\n{fix}",
                    decl_name(&collection.decl)
                ),
                vec![(
                    firewall.decl.span.clone(),
                    format!("firewall `{}`", decl_name(&firewall.decl)),
                )],
            )
        }
        Decider::NsgRule { nsg, rule } => {
            let prio = rule.priority.value.known().copied().unwrap_or(4096);
            let before = if prio > 100 {
                String::new()
            } else {
                format!(" and move `{}` to a higher number", decl_name(&rule.decl))
            };
            let lang = lang_of(ctx.sources, &rule.decl.span);
            let (prio, src) = (
                prio.saturating_sub(1).max(100),
                sources.first().map(String::as_str).unwrap_or("*"),
            );
            let fix = nsg_rule_resource(ctx.sources, rule, flow, &endpoint.destination, prio, src)
                .unwrap_or_else(|| nsg_rule(lang, flow, &endpoint.destination, prio, src));
            (
                rule.decl.span.clone(),
                format!("this rule denies `{ep}`"),
                format!(
                    "egress to `{ep}`{from} is denied by NSG rule `{}` of `{}`",
                    decl_name(&rule.decl),
                    decl_name(&nsg.decl)
                ),
                format!(
                    "allow the endpoint with a rule of higher precedence (a lower priority number){before}:\n{fix}"
                ),
                vec![(
                    nsg.decl.span.clone(),
                    format!("NSG `{}`", decl_name(&nsg.decl)),
                )],
            )
        }
        Decider::NsgDefault { nsg, name } => {
            let lang = lang_of(ctx.sources, &nsg.decl.span);
            let src = sources.first().map(String::as_str).unwrap_or("*");
            // An NSG whose rules are separate resources gets one more.
            let fix = nsg
                .rules
                .iter()
                .find_map(|r| {
                    nsg_rule_resource(ctx.sources, r, flow, &endpoint.destination, 4096, src)
                })
                .unwrap_or_else(|| nsg_rule(lang, flow, &endpoint.destination, 4096, src));
            (
                nsg.decl.span.clone(),
                format!("no rule allows `{ep}`; the default rule `{name}` applies"),
                format!(
                    "egress to `{ep}`{from} is denied by the default rule `{name}` of NSG `{}`",
                    decl_name(&nsg.decl)
                ),
                format!("add this rule:\n{fix}"),
                vec![],
            )
        }
        _ => return None,
    };
    let mut f = Finding::new(code, message, primary, label).help(help);
    if let Some(c) = plan.cluster {
        f = f.related(c.decl.span.clone(), format!("cluster `{}`", plan.name));
    }
    if let Some(s) = src.subnet {
        let prefixes = s
            .address_prefixes
            .value
            .known()
            .map(|v| format!(" ({})", v.join(", ")))
            .unwrap_or_default();
        f = f.related(
            s.decl.span.clone(),
            format!("{} subnet `{}`{prefixes}", src.role, src.name),
        );
    }
    for (sp, text) in route_labels(o).into_iter().chain(extra) {
        f = f.related(sp, text);
    }
    for d in &o.also {
        if let Some(sp) = d.span() {
            f = f.related(sp, format!("also not allowed by {}", decider_text(d)));
        }
    }
    Some(f)
}

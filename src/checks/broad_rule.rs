//! AEL009 `broad-rule-only`.
//!
//! ## What it does
//! Finds required endpoints that no rule names (by FQDN, FQDN tag, or a
//! service tag the facts tie to them) and whose only way through is a rule
//! to an address range or a regional service tag that may or may not
//! contain their address, such as `mcr.microsoft.com:443` behind a network
//! rule `TCP 443 → AzureCloud.westeurope` and no application rule.
//!
//! ## Why is this bad?
//! Whether the endpoint's addresses fall in that range is decided by
//! Microsoft's DNS and changes over time: such configurations work by
//! accident, or not at all, and break without any change in the code.
//!
//! ## Example
//! ```hcl
//! rule {
//!   name                  = "azure-443"
//!   protocols             = ["TCP"]
//!   destination_addresses = ["AzureCloud.westeurope"]
//!   destination_ports     = ["443"]
//! }
//! ```
//! Use instead: an application rule for `mcr.microsoft.com` (or the
//! `AzureKubernetesService` FQDN tag).

use super::Ctx;
use super::fix::{firewall_rule, lang_of};
use super::missing_endpoint::{endpoint_text, source_prefixes};
use crate::catalog::Level;
use crate::eval::{Decider, Doubt, Verdict};
use crate::finding::{Code, Finding};
use crate::link::decl_name;
use crate::model::Value;
use std::collections::HashSet;

fn is_allow(v: &Value<String>) -> bool {
    matches!(v, Value::Known(a) if a.eq_ignore_ascii_case("allow"))
}

pub fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    super::per_plan(ctx, out, |pi, plan| {
        let mut out = vec![];
        let Some(results) = ctx.results.get(pi) else {
            return out;
        };
        let mut seen = HashSet::new();
        for ev in results {
            if ev.verdict() != Verdict::Unknown {
                continue;
            }
            let (Some(req), Some(src), Some(o)) = (
                plan.requirements.get(ev.req),
                plan.sources.get(ev.source),
                ev.worst(),
            ) else {
                continue;
            };
            if req.entry.level != Level::Required {
                continue;
            }
            // Other doubts are AEL008's: here a broad allow is the only one.
            if o.doubts.iter().any(|d| !matches!(d, Doubt::Broad { .. })) {
                continue;
            }
            let (span, rule_name, policy) = match &o.decider {
                Decider::FirewallRule {
                    rule,
                    collection,
                    policy,
                    firewall,
                    ..
                } if is_allow(&collection.action.value) => (
                    rule.decl.span.clone(),
                    format!("network rule `{}`", decl_name(&rule.decl)),
                    Some((policy.is_some(), *firewall)),
                ),
                Decider::NsgRule { rule, nsg } if is_allow(&rule.access.value) => (
                    rule.decl.span.clone(),
                    format!(
                        "NSG `{}` rule `{}`",
                        decl_name(&nsg.decl),
                        decl_name(&rule.decl)
                    ),
                    None,
                ),
                _ => continue,
            };
            let Some(pattern) = o.doubts.iter().find_map(|d| match d {
                Doubt::Broad {
                    span: s, pattern, ..
                } if *s == span => Some(pattern.clone()),
                _ => None,
            }) else {
                continue;
            };
            if !seen.insert((req.endpoint.clone(), ev.source)) {
                continue;
            }
            let ep = endpoint_text(&req.endpoint);
            let mut f = Finding::new(
                Code::AEL009,
                format!(
                    "`{ep}` passes only through {rule_name} to `{pattern}`, which may or may not contain its address"
                ),
                span.clone(),
                format!("`{pattern}` may or may not hold `{}`", req.endpoint.destination),
            )
            .endpoint(req.endpoint.clone())
            .requirement(req.entry.id.clone());
            if let Some(c) = plan.cluster {
                f = f
                    .related(c.decl.span.clone(), format!("cluster `{}`", plan.name))
                    .cluster(plan.name.clone());
            }
            if let Some(flow) = req.flows.first() {
                let help = match policy {
                    Some((is_policy, fw)) => {
                        let target = ctx
                            .eval
                            .setup_of(fw)
                            .and_then(|s| s.own_policy())
                            .map(|p| p.decl.span.clone())
                            .unwrap_or_else(|| span.clone());
                        let lang = lang_of(ctx.sources, &target);
                        format!(
                            "name the endpoint instead, e.g.:\n{}",
                            firewall_rule(
                                lang,
                                is_policy,
                                flow,
                                &req.endpoint.destination,
                                &source_prefixes(src),
                                ctx.eval.setup_of(fw).is_some_and(|s| s.dns_proxy == Ok(true)),
                            )
                        )
                    }
                    None => "send the traffic through a firewall that names the endpoint by FQDN: NSGs cannot".into(),
                };
                f = f.help(help);
            }
            out.push(f);
        }
        out
    })
}

//! AEL007 `udr-without-default-route`.
//!
//! ## What it does
//! For clusters with `outbound_type = userDefinedRouting`, finds node
//! subnets without a route table, or whose route table has no `0.0.0.0/0`
//! route, when every declaration that could attach one is known (a route
//! table or association from an unresolved module or parameter leaves it
//! unknown, and silent).
//!
//! ## Why is this bad?
//! With `userDefinedRouting` AKS creates no outbound IP and requires the
//! subnet to route `0.0.0.0/0` to a firewall or gateway; without it the
//! cluster cannot be created, or its nodes have no egress at all.
//!
//! ## Example
//! ```hcl
//! network_profile {
//!   outbound_type = "userDefinedRouting"   # and aks-udr has no 0.0.0.0/0 route
//! }
//! ```
//! Use instead: a `0.0.0.0/0 → VirtualAppliance` route to the firewall.

use super::Ctx;
use super::fix::{Lang, lang_of};
use crate::eval::flow::Outbound;
use crate::eval::requirements::Mode;
use crate::finding::{Code, Finding};
use crate::link::{Link, decl_name};
use crate::model::Value;

fn route_fix(lang: Lang, ip: Option<String>) -> String {
    let ip = ip.unwrap_or_else(|| "<firewall private IP>".into());
    match lang {
        Lang::Hcl => format!(
            "route {{\n  name                   = \"default\"\n  address_prefix         = \"0.0.0.0/0\"\n  next_hop_type          = \"VirtualAppliance\"\n  next_hop_in_ip_address = \"{ip}\"\n}}"
        ),
        Lang::Json => format!(
            "{{\n  \"name\": \"default\",\n  \"properties\": {{\n    \"addressPrefix\": \"0.0.0.0/0\",\n    \"nextHopType\": \"VirtualAppliance\",\n    \"nextHopIpAddress\": \"{ip}\"\n  }}\n}}"
        ),
    }
}

pub fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let fw_ip = match ctx.model.firewalls.as_slice() {
        [fw] => ctx.linked.firewall_ip(fw).map(|(ip, _)| ip.to_string()),
        _ => None,
    };
    for plan in &ctx.plans {
        let Some(c) = plan.cluster else { continue };
        if plan.outbound != Outbound::Udr || matches!(plan.mode, Mode::Isolated(_)) {
            continue;
        }
        let ot_span = c
            .outbound_type
            .as_ref()
            .map(|a| a.span.clone())
            .unwrap_or_else(|| c.decl.span.clone());
        for src in plan.sources.iter().filter(|s| s.role == "node") {
            let Some(subnet) = src.subnet else { continue };
            let (span, label, msg) = match &src.route_table {
                Link::Absent => (
                    subnet.decl.span.clone(),
                    "no route table is attached to this subnet".to_string(),
                    format!(
                        "node subnet `{}` of cluster `{}` has no route table, but the cluster uses outbound type `userDefinedRouting`",
                        src.name, plan.name
                    ),
                ),
                Link::Found((rt, _)) => {
                    // Only when every route is known and certainly attached.
                    let mut has_default = false;
                    let mut unsure = false;
                    for m in &src.routes {
                        match &m.item.address_prefix.value {
                            Value::Known(p) => {
                                if crate::eval::route::is_default_prefix(p) {
                                    if m.certain {
                                        has_default = true;
                                    } else {
                                        unsure = true;
                                    }
                                }
                            }
                            _ => unsure = true,
                        }
                    }
                    if has_default || unsure {
                        continue;
                    }
                    (
                        rt.decl.span.clone(),
                        "no `0.0.0.0/0` route here".to_string(),
                        format!(
                            "route table `{}` of node subnet `{}` has no `0.0.0.0/0` route, but cluster `{}` uses outbound type `userDefinedRouting`",
                            decl_name(&rt.decl),
                            src.name,
                            plan.name
                        ),
                    )
                }
                Link::Unknown(_) => continue,
            };
            let lang = lang_of(ctx.sources, &span);
            out.push(
                Finding::new(Code::AEL007, msg, span, label)
                    .related(ot_span.clone(), "outbound type `userDefinedRouting`")
                    .related(
                        subnet.decl.span.clone(),
                        format!("node subnet `{}`", src.name),
                    )
                    .help(format!(
                        "route `0.0.0.0/0` to the firewall:\n{}",
                        route_fix(lang, fw_ip.clone())
                    ))
                    .cluster(plan.name.clone()),
            );
        }
    }
}

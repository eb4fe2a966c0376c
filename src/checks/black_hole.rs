//! AEL004 `egress-black-holed`.
//!
//! ## What it does
//! Finds routes that send required destinations to next hop `None`, or to
//! a `VirtualAppliance` address inside a firewall subnet of the code where
//! no firewall has that address (a mistyped firewall IP, say). One finding
//! per route and cluster. An appliance address outside every network of the
//! code may live in a hub managed elsewhere: that is a note (AEL008), not
//! this.
//!
//! ## Why is this bad?
//! Packets routed there are dropped silently: nodes cannot bootstrap and
//! the failure shows up as timeouts, not as a denied rule in any log.
//!
//! ## Example
//! ```hcl
//! route {
//!   name                   = "default"
//!   address_prefix         = "0.0.0.0/0"
//!   next_hop_type          = "VirtualAppliance"
//!   next_hop_in_ip_address = "10.0.8.5"   # the firewall is at 10.0.8.4
//! }
//! ```
//! Use instead: the firewall's private IP, or a reference to it.

use super::Ctx;
use super::missing_endpoint::endpoint_text;
use crate::catalog::Level;
use crate::eval::{Decider, Verdict};
use crate::finding::{Code, Finding};
use crate::source::Span;

pub fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    // Every firewall's private IP, for the help: the same for every plan.
    let fw_ips = std::sync::OnceLock::new();
    let fw_ips = || -> &Vec<String> {
        fw_ips.get_or_init(|| {
            ctx.model
                .firewalls
                .iter()
                .filter_map(|fw| ctx.linked.firewall_ip(fw).map(|(ip, _)| ip.to_string()))
                .collect()
        })
    };
    super::per_plan(ctx, out, |pi, plan| {
        let mut out = vec![];
        let Some(results) = ctx.results.get(pi) else {
            return out;
        };
        // route span → (why, next hop span, endpoints)
        let mut groups: Vec<(Span, String, Option<Span>, Vec<String>)> = vec![];
        for ev in results {
            let Some(req) = plan.requirements.get(ev.req) else {
                continue;
            };
            if req.entry.level != Level::Required {
                continue;
            }
            for o in ev.outcomes.iter().filter(|o| o.verdict == Verdict::Denied) {
                let Decider::BlackHole { route, why } = &o.decider else {
                    continue;
                };
                let ep = endpoint_text(&req.endpoint);
                let hop_span = route.next_hop_ip.as_ref().map(|a| a.span.clone());
                match groups.iter_mut().find(|g| g.0 == route.decl.span) {
                    Some(g) => {
                        if !g.3.contains(&ep) {
                            g.3.push(ep)
                        }
                    }
                    None => groups.push((route.decl.span.clone(), why.clone(), hop_span, vec![ep])),
                }
            }
        }
        for (span, why, hop_span, eps) in groups {
            let shown: Vec<String> = eps.iter().take(3).map(|e| format!("`{e}`")).collect();
            let more = if eps.len() > 3 {
                format!(" and {} more", eps.len() - 3)
            } else {
                String::new()
            };
            let nobody = why.contains("no firewall has");
            let primary = if nobody {
                hop_span.unwrap_or(span.clone())
            } else {
                span.clone()
            };
            let mut f = Finding::new(
                Code::AEL004,
                format!("{why}: egress to {}{more} is dropped", shown.join(", ")),
                primary,
                if nobody {
                    "nothing answers at this address"
                } else {
                    "this route drops the traffic"
                },
            );
            if let Some(c) = plan.cluster {
                f = f
                    .related(c.decl.span.clone(), format!("cluster `{}`", plan.name))
                    .cluster(plan.name.clone());
            }
            let help = if nobody {
                match fw_ips().as_slice() {
                    [one] => format!(
                        "set the next hop to the firewall's private IP `{one}`, or reference the firewall's `private_ip_address`"
                    ),
                    _ => "set the next hop to the firewall's private IP, or reference it".into(),
                }
            } else {
                "send the traffic to the firewall (`VirtualAppliance` with its private IP) or remove the route".into()
            };
            out.push(f.help(help));
        }
        out
    })
}

//! AEL003 `internal-traffic-blocked`.
//!
//! ## What it does
//! Finds NSG rules on the cluster's own subnets (node, pod and API server
//! subnets) that deny traffic among those subnets and the cluster's pod
//! CIDRs, in either direction, and routes on those subnets that send the
//! other cluster subnets through an appliance. Deny rules on other subnets
//! of the VNet (Bastion, gateways, private endpoints) are not this.
//!
//! ## Why is this bad?
//! "Blocking internal subnet traffic using NSGs and firewalls isn't
//! supported" (AKS, outbound-rules-control-egress.md, 2020 and 2026):
//! nodes, pods and the API server talk on many ports (kubelet, DNS,
//! konnectivity, webhooks), and cutting any of them breaks the cluster in
//! ways that are hard to trace. Newer docs ask to allow node↔node,
//! node→pod and pod↔pod traffic on all ports (concepts-network.md).
//!
//! ## Example
//! ```hcl
//! security_rule {
//!   name                       = "deny-vnet"
//!   priority                   = 100
//!   direction                  = "Outbound"
//!   access                     = "Deny"
//!   destination_address_prefix = "VirtualNetwork"
//!   ...
//! }
//! ```
//! Use instead: deny only what lies outside the cluster's subnets.

use super::Ctx;
use crate::eval::addr::{IpRange, parse_range};
use crate::eval::nsg::Packet;
use crate::eval::requirements::ClusterPlan;
use crate::eval::route::NextHop;
use crate::eval::{Decider, Dest, Flow, Transport, Tri, Verdict};
use crate::finding::{Code, Finding};
use crate::link::{Link, decl_name};
use crate::source::Span;
use rayon::prelude::*;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address inside a range: the first assignable one when there is room.
fn representative(r: &IpRange) -> IpAddr {
    let x = if r.hi - r.lo >= 8 { r.lo + 4 } else { r.lo };
    if r.v6 {
        IpAddr::V6(Ipv6Addr::from(x))
    } else {
        IpAddr::V4(Ipv4Addr::from(x as u32))
    }
}

struct Part {
    name: String,
    range: IpRange,
    /// A subnet of the VNet (routes apply), not a pod CIDR.
    subnet: bool,
}

/// Kubelet, DNS, HTTPS and the API server's 4443 (VNet integration).
const PROBES: [(Transport, u16); 4] = [
    (Transport::Tcp, 443),
    (Transport::Tcp, 10250),
    (Transport::Udp, 53),
    (Transport::Tcp, 4443),
];

/// Reports nothing already in `reported`: the rules and routes reported for
/// clusters of earlier batches.
pub fn check(ctx: &Ctx, out: &mut Vec<Finding>, reported: &mut HashSet<Span>) {
    let found: Vec<Vec<(Span, Finding)>> = ctx
        .plans
        .par_iter()
        .map(|plan| plan_findings(ctx, plan))
        .collect();
    // A rule or route is reported once, for the first cluster it cuts.
    for (span, f) in found.into_iter().flatten() {
        if reported.insert(span) {
            out.push(f);
        }
    }
}

/// One cluster's findings, each with the rule or route it reports (once).
fn plan_findings(ctx: &Ctx, plan: &ClusterPlan) -> Vec<(Span, Finding)> {
    let mut out = vec![];
    let mut reported: HashSet<Span> = HashSet::new();
    let Some(c) = plan.cluster else { return out };
    let mut parts: Vec<Part> = vec![];
    for s in &plan.sources {
        for r in s.ranges.iter().flatten() {
            parts.push(Part {
                name: format!("{} subnet `{}`", s.role, s.name),
                range: *r,
                subnet: true,
            });
        }
    }
    if let Some(a) = &c.api_server_subnet
        && let Link::Found(s) = ctx.linked.subnet(a)
    {
        for r in ctx.linked.subnet_ranges(s).iter().flatten() {
            parts.push(Part {
                name: format!("API server subnet `{}`", decl_name(&s.decl)),
                range: *r,
                subnet: true,
            });
        }
    }
    if let Some(a) = &c.pod_cidrs {
        for p in a.value.known().iter().flat_map(|v| v.iter()) {
            if let Some(r) = parse_range(p) {
                parts.push(Part {
                    name: format!("pod CIDR `{p}`"),
                    range: r,
                    subnet: false,
                });
            }
        }
    }
    for s in &plan.sources {
        let Some(own) = s.ranges.as_ref().and_then(|r| r.first()).copied() else {
            continue;
        };
        let own_ip = representative(&own);
        // NSG of this subnet, both directions.
        if let (Link::Found((nsg, _)), Some(m)) = (&s.nsg, s.nsg_matcher()) {
            for other in &parts {
                let peer = representative(&other.range);
                for (transport, port) in PROBES {
                    for inbound in [false, true] {
                        let p = Packet {
                            src: if inbound { peer } else { own_ip },
                            dst: if inbound { own_ip } else { peer },
                            transport,
                            port,
                            inbound,
                        };
                        let o = m.eval_packet(&p, &s.scope);
                        if o.verdict != Verdict::Denied {
                            continue;
                        }
                        // Azure's own default rules never cut VNet traffic;
                        // only a rule of the code is reported.
                        let Decider::NsgRule { rule, .. } = o.decider else {
                            continue;
                        };
                        if !reported.insert(rule.decl.span.clone()) {
                            continue;
                        }
                        let (from, to) = if inbound {
                            (
                                other.name.clone(),
                                format!("{} subnet `{}`", s.role, s.name),
                            )
                        } else {
                            (
                                format!("{} subnet `{}`", s.role, s.name),
                                other.name.clone(),
                            )
                        };
                        out.push((rule.decl.span.clone(),
                            Finding::new(
                                Code::AEL003,
                                format!(
                                    "NSG rule `{}` of `{}` denies traffic from {from} to {to} of cluster `{}` ({} {port})",
                                    decl_name(&rule.decl),
                                    decl_name(&nsg.decl),
                                    plan.name,
                                    transport.as_str().to_ascii_uppercase()
                                ),
                                rule.decl.span.clone(),
                                "this rule blocks traffic inside the cluster",
                            )
                            .related(c.decl.span.clone(), format!("cluster `{}`", plan.name))
                            .related(nsg.decl.span.clone(), format!("NSG `{}`", decl_name(&nsg.decl)))
                            .help("blocking internal subnet traffic with NSGs is not supported by AKS: allow node↔node, node→pod and pod↔pod traffic on all ports, and deny only destinations outside the cluster")
                            .cluster(plan.name.clone()),
                        ));
                    }
                }
            }
        }
        // Routes that send other cluster subnets through an appliance.
        for other in parts.iter().filter(|p| p.subnet) {
            let flow = Flow {
                dest: Dest::Ip(representative(&other.range)),
                transport: Transport::Tcp,
                port: 443,
                app: None,
                entry: None,
                display: other.name.clone(),
            };
            let Some(first) = s
                .route_set()
                .choices_until_certain(&flow)
                .into_iter()
                .find(|c| c.tri == Tri::Yes)
            else {
                continue;
            };
            let (Some(route), Ok(NextHop::Appliance)) = (first.route, &first.hop) else {
                continue;
            };
            if other.range.contains(&own) && own.contains(&other.range) {
                // The subnet's own prefix: intra-subnet traffic is not routed.
                continue;
            }
            if !reported.insert(route.decl.span.clone()) {
                continue;
            }
            let f = Finding::new(
                Code::AEL003,
                format!(
                    "route `{}` sends traffic from {} subnet `{}` to {} of cluster `{}` through an appliance",
                    decl_name(&route.decl),
                    s.role,
                    s.name,
                    other.name,
                    plan.name
                ),
                route.decl.span.clone(),
                "this route sends the cluster's own traffic through an appliance",
            )
            .related(c.decl.span.clone(), format!("cluster `{}`", plan.name))
            .help("AKS does not support filtering its internal traffic: route only destinations outside the cluster's subnets to the firewall")
            .cluster(plan.name.clone());
            let f = match &s.route_table {
                Link::Found((rt, _)) => f.related(
                    rt.decl.span.clone(),
                    format!("route table `{}`", decl_name(&rt.decl)),
                ),
                _ => f,
            };
            out.push((route.decl.span.clone(), f));
        }
    }
    out
}

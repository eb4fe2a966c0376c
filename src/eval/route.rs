//! Route selection: longest prefix over the subnet's route table and the
//! system routes (VNet space → VnetLocal; 10/8, 172.16/12, 192.168/16,
//! 100.64/10 → None unless inside the VNet; 0.0.0.0/0 → Internet). On equal
//! length a user route wins over a system route.

use super::addr::{AddrPat, DestAddr, IpRange, Place, Tri, VnetScope, addr_covers, parse_addr};
use super::nsg::dest_addr;
use super::{Doubt, Flow, unresolved_of};
use crate::link::Member;
use crate::model::{Route, Value};
use std::str::FromStr;
use std::sync::Arc;

/// A next hop, normalised.
#[derive(Clone, Debug, PartialEq)]
pub enum NextHop {
    Internet,
    None,
    VnetLocal,
    Gateway,
    Appliance,
    /// Written but not readable.
    Unknown(String),
}

pub fn next_hop_of(s: &str) -> NextHop {
    match s.trim().to_ascii_lowercase().as_str() {
        "internet" => NextHop::Internet,
        "none" => NextHop::None,
        "vnetlocal" => NextHop::VnetLocal,
        "virtualnetworkgateway" | "vpngateway" => NextHop::Gateway,
        "virtualappliance" => NextHop::Appliance,
        other => NextHop::Unknown(other.to_string()),
    }
}

/// A route that may carry the flow.
#[derive(Clone, Debug)]
pub struct RouteChoice<'m> {
    pub tri: Tri,
    /// `None` for system routes.
    pub route: Option<&'m Route>,
    pub hop: Result<NextHop, Doubt>,
    /// `route `default` sends `0.0.0.0/0` to VirtualAppliance`.
    pub text: Arc<str>,
    /// The trace line: `text`, with ` (if it covers the destination)` for
    /// a route that may or may not carry the flow.
    pub step_text: Arc<str>,
    pub prefix: Arc<str>,
    pub doubts: Vec<Doubt>,
    /// A system route (no user route covered the flow).
    pub system: bool,
}

pub(crate) fn prefix_len(p: &AddrPat) -> u32 {
    match p {
        AddrPat::Any => 0,
        AddrPat::Range(r) => {
            let size = r.hi - r.lo;
            let bits = if r.v6 { 128 } else { 32 };
            bits - (128 - size.leading_zeros()).min(bits)
        }
        // Service-tag routes hold prefixes longer than 0.0.0.0/0 but shorter
        // than any explicit route that also covers the flow.
        AddrPat::Tag(_) => 1,
    }
}

/// Candidate routes for a flow, in selection order (longest prefix first).
/// See [`RouteSet`] to select for many flows.
pub fn choices<'m>(
    routes: &[Member<'m, Route>],
    scope: &VnetScope,
    flow: &Flow,
) -> Vec<RouteChoice<'m>> {
    RouteSet::new(routes, scope).choices(flow)
}

/// How a route's prefix was read.
#[derive(Clone, Debug)]
enum Prefix {
    Pattern(AddrPat),
    /// Not readable or not known: it may carry any flow, with these doubts.
    Doubtful(Vec<Doubt>),
}

/// One user or system route, read once.
#[derive(Clone, Debug)]
struct RouteEntry<'m> {
    route: Option<&'m Route>,
    certain: bool,
    prefix: Prefix,
    prefix_s: Arc<str>,
    hop: Result<NextHop, Doubt>,
    text: Arc<str>,
    /// The text of a route that may or may not carry the flow.
    maybe_text: Arc<str>,
}

/// A subnet's routes (its route table's and the system routes) read once
/// and laid out in selection order: what [`choices`] computes, without
/// reading a string per flow. Built once per source path.
#[derive(Clone, Debug, Default)]
pub struct RouteSet<'m> {
    entries: Vec<RouteEntry<'m>>,
    /// The VNet space alone: routes are matched against it, not the UDR
    /// quirk of `VirtualNetwork`.
    plain: VnetScope,
}

impl<'m> RouteSet<'m> {
    pub fn new(routes: &[Member<'m, Route>], scope: &VnetScope) -> Self {
        let mut out: Vec<(u32, u8, RouteEntry<'m>)> = vec![];
        for m in routes {
            let r = m.item;
            let (prefix, len, prefix_s) = match &r.address_prefix.value {
                Value::Known(p) => match parse_addr(p) {
                    Some(pat) => (Prefix::Pattern(pat.clone()), prefix_len(&pat), p.clone()),
                    None => (
                        Prefix::Doubtful(vec![Doubt::Other {
                            span: r.address_prefix.span.clone(),
                            reason: format!("route prefix `{p}` cannot be read"),
                        }]),
                        200,
                        p.clone(),
                    ),
                },
                _ => (
                    Prefix::Doubtful(
                        unresolved_of(&r.address_prefix)
                            .map(Doubt::Value)
                            .into_iter()
                            .collect(),
                    ),
                    200,
                    "?".into(),
                ),
            };
            let hop = match &r.next_hop_type.value {
                Value::Known(h) => Ok(next_hop_of(h)),
                _ => Err(Doubt::Value(
                    unresolved_of(&r.next_hop_type).unwrap_or_else(|| crate::link::Unresolved {
                        reason: "next hop type not known".into(),
                        hint: None,
                        span: r.next_hop_type.span.clone(),
                    }),
                )),
            };
            let hop_s = r
                .next_hop_type
                .value
                .known()
                .cloned()
                .unwrap_or_else(|| "?".into());
            let text = format!(
                "route `{}` sends `{prefix_s}` to {hop_s}",
                crate::link::decl_name(&r.decl)
            );
            out.push((
                len,
                1,
                RouteEntry {
                    route: Some(r),
                    certain: m.certain,
                    prefix,
                    prefix_s: prefix_s.into(),
                    hop,
                    maybe_text: format!("{text} (if it covers the destination)").into(),
                    text: text.into(),
                },
            ));
        }
        // System routes.
        let mut sys: Vec<(String, NextHop)> = vec![];
        if let Some(space) = &scope.space {
            for r in space {
                sys.push((range_str(r), NextHop::VnetLocal));
            }
        }
        for p in [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
        ] {
            let inside = scope.space.as_ref().is_some_and(|sp| {
                parse_addr(p).is_some_and(|pat| match pat {
                    AddrPat::Range(r) => sp.iter().any(|s| s.overlaps(&r)),
                    _ => false,
                })
            });
            if !inside {
                sys.push((p.to_string(), NextHop::None));
            }
        }
        sys.push(("0.0.0.0/0".into(), NextHop::Internet));
        for (p, hop) in sys {
            let Some(pat) = parse_addr(&p) else { continue };
            let hop_s = match hop {
                NextHop::VnetLocal => "VnetLocal",
                NextHop::None => "None",
                _ => "Internet",
            };
            let text = format!("system route sends `{p}` to {hop_s}");
            out.push((
                prefix_len(&pat),
                0,
                RouteEntry {
                    route: None,
                    certain: true,
                    prefix: Prefix::Pattern(pat),
                    prefix_s: p.into(),
                    hop: Ok(hop),
                    maybe_text: format!("{text} (if it covers the destination)").into(),
                    text: text.into(),
                },
            ));
        }
        // Longest prefix first; on equal length a user route first.
        out.sort_by_key(|c| std::cmp::Reverse((c.0, c.1)));
        RouteSet {
            entries: out.into_iter().map(|(_, _, e)| e).collect(),
            plain: VnetScope {
                space: scope.space.clone(),
                udr_prefixes: vec![],
            },
        }
    }

    /// Candidate routes for a flow, in selection order.
    pub fn choices(&self, flow: &Flow) -> Vec<RouteChoice<'m>> {
        self.select(flow, false)
    }

    /// The candidates up to the first that certainly carries the flow (the
    /// rest are never taken).
    pub fn choices_until_certain(&self, flow: &Flow) -> Vec<RouteChoice<'m>> {
        self.select(flow, true)
    }

    fn select(&self, flow: &Flow, stop: bool) -> Vec<RouteChoice<'m>> {
        let dest = dest_addr(flow);
        let mut out = vec![];
        for e in &self.entries {
            let mut doubts = vec![];
            let tri = match &e.prefix {
                Prefix::Pattern(pat) => {
                    let mut t = match &dest {
                        Ok(d) => addr_covers(pat, d, Place::Route, &self.plain),
                        Err(u) => {
                            doubts.push(Doubt::Value(u.clone()));
                            Tri::Maybe
                        }
                    };
                    if let Some(r) = e.route {
                        if t == Tri::Maybe && doubts.is_empty() {
                            doubts.push(Doubt::Other {
                                span: r.decl.span.clone(),
                                reason: format!(
                                    "route prefix `{}` may or may not contain the destination",
                                    e.prefix_s
                                ),
                            });
                        }
                        if !e.certain && t != Tri::No {
                            t = Tri::Maybe;
                            doubts.extend(
                                r.route_table
                                    .as_ref()
                                    .and_then(unresolved_of)
                                    .map(Doubt::Value),
                            );
                        }
                    }
                    t
                }
                Prefix::Doubtful(d) => {
                    doubts.extend(d.iter().cloned());
                    Tri::Maybe
                }
            };
            if tri == Tri::No {
                continue;
            }
            out.push(RouteChoice {
                tri,
                route: e.route,
                hop: e.hop.clone(),
                text: e.text.clone(),
                step_text: if tri == Tri::Yes {
                    e.text.clone()
                } else {
                    e.maybe_text.clone()
                },
                prefix: e.prefix_s.clone(),
                doubts,
                system: e.route.is_none(),
            });
            if stop && tri == Tri::Yes {
                break;
            }
        }
        out
    }
}

pub(crate) fn range_str(r: &IpRange) -> String {
    if r.v6 {
        let lo = std::net::Ipv6Addr::from(r.lo);
        let len = 128
            - (r.hi - r.lo)
                .checked_add(1)
                .map(|s| s.trailing_zeros())
                .unwrap_or(128);
        format!("{lo}/{len}")
    } else {
        let lo = std::net::Ipv4Addr::from(r.lo as u32);
        let size = (r.hi - r.lo) + 1;
        let len = 32u32.saturating_sub(size.trailing_zeros());
        format!("{lo}/{len}")
    }
}

/// Is this a `0.0.0.0/0` prefix?
pub fn is_default_prefix(p: &str) -> bool {
    matches!(parse_addr(p), Some(AddrPat::Range(r)) if r.is_all_v4())
        || ipnet::IpNet::from_str(p.trim()).is_ok_and(|n| n.prefix_len() == 0 && n.addr().is_ipv4())
}

/// A destination address for tests and callers that have a literal.
pub fn dest_of_ip(ip: std::net::IpAddr) -> DestAddr {
    DestAddr::Ip(ip)
}

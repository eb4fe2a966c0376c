//! The direct evaluation: every rule's strings read again for every flow.
//! The evaluator runs precompiled matchers instead ([`super::nsg::NsgMatcher`],
//! the matchers of [`super::firewall::FwSetup`], [`super::route::RouteSet`]);
//! this is the reference they are tested against (`tests/eval_differential.rs`):
//! same verdicts, deciders, steps and doubts.

use super::addr::{
    AddrPat, DestAddr, IpRange, Place, Tri, VnetScope, addr_covers, fqdn_covers, parse_addr,
    parse_range, ports_cover, protocol_covers, source_covers,
};
use super::firewall::{FwEntry, FwEnv, FwSetup};
use super::nsg::{Packet, addrs_cover, dest_addr, effect_of, list_of};
use super::route::{NextHop, RouteChoice, next_hop_of, prefix_len, range_str};
use super::{
    AppProto, Candidate, Decider, Dest, Doubt, Effect, Flow, Outcome, Verdict, first_match, step,
    unresolved_of,
};
use crate::catalog::{Destination, Protocol};
use crate::link::{Link, Member, decl_name};
use crate::model::{
    AppProtocol, Attr, FirewallRule, Nsg, ResKey, Route, RuleKind, SecurityRule, Value,
};

fn rule_desc(nsg: &Nsg, r: &SecurityRule) -> String {
    format!(
        "NSG `{}` rule `{}`",
        decl_name(&nsg.decl),
        decl_name(&r.decl)
    )
}

/// Does one security rule match an outbound flow?
pub fn rule_matches(
    nsg: &Nsg,
    r: &SecurityRule,
    flow: &Flow,
    src: Option<&[IpRange]>,
    scope: &VnetScope,
) -> (Tri, Vec<Doubt>) {
    let mut doubts = vec![];
    let mut t = match &r.direction.value {
        Value::Known(d) => Tri::from_bool(d.eq_ignore_ascii_case("outbound")),
        _ => {
            doubts.extend(super::unresolved_of(&r.direction).map(Doubt::Value));
            Tri::Maybe
        }
    };
    if t == Tri::No {
        return (t, vec![]);
    }
    t = t.and(match &r.protocol.value {
        Value::Known(p) => protocol_covers(p, flow.transport),
        _ => {
            doubts.extend(super::unresolved_of(&r.protocol).map(Doubt::Value));
            Tri::Maybe
        }
    });
    t = t.and(match list_of(&r.destination_ports) {
        Ok(l) => ports_cover(l, flow.port),
        Err(d) => {
            doubts.push(d);
            Tri::Maybe
        }
    });
    if t == Tri::No {
        return (t, vec![]);
    }
    let desc = rule_desc(nsg, r);
    // Destination: prefixes, or application security groups (their members
    // are NICs of the VNet, never a public endpoint).
    let dest = dest_addr(flow);
    let mut dt = match list_of(&r.destination_addresses) {
        Ok(l) => addrs_cover(
            l,
            &dest,
            Place::Nsg,
            scope,
            &r.decl.span,
            &desc,
            &mut doubts,
        ),
        Err(d) => {
            doubts.push(d);
            Tri::Maybe
        }
    };
    if !r.destination_asgs.is_empty() {
        let asg = match &dest {
            Ok(DestAddr::Ip(ip)) if super::addr::is_non_public_ip(*ip) => {
                doubts.push(Doubt::Other {
                    span: r.decl.span.clone(),
                    reason: format!("{desc} names application security groups, whose members are not known statically"),
                });
                Tri::Maybe
            }
            _ => Tri::No,
        };
        dt = dt.or(asg);
    }
    t = t.and(dt);
    if t == Tri::No {
        return (t, vec![]);
    }
    // Source: the subnet the flow leaves from.
    let mut st = match list_of(&r.source_addresses) {
        Ok(l) if l.is_empty() => Tri::No,
        Ok(l) => Tri::any(l.iter().map(|p| match parse_addr(p) {
            Some(pat) => source_covers(&pat, src, Place::Nsg),
            None => Tri::Maybe,
        })),
        Err(d) => {
            doubts.push(d);
            Tri::Maybe
        }
    };
    if !r.source_asgs.is_empty() && st != Tri::Yes {
        doubts.push(Doubt::Other {
            span: r.decl.span.clone(),
            reason: format!(
                "{desc} names application security groups, whose members are not known statically"
            ),
        });
        st = st.or(Tri::Maybe);
    }
    if st == Tri::Maybe && src.is_none() {
        doubts.push(Doubt::Other {
            span: r.decl.span.clone(),
            reason: format!(
                "the source subnet's prefixes are not known, so {desc} may or may not apply"
            ),
        });
    }
    t = t.and(st);
    // Source ports: flows leave from ephemeral ports.
    t = t.and(match list_of(&r.source_ports) {
        Ok(l) if l.iter().any(|s| s.trim() == "*") => Tri::Yes,
        Ok(l) if l.is_empty() => Tri::Yes,
        Ok(_) => {
            doubts.push(Doubt::Other {
                span: r.decl.span.clone(),
                reason: format!("{desc} restricts source ports, which are ephemeral"),
            });
            Tri::Maybe
        }
        Err(d) => {
            doubts.push(d);
            Tri::Maybe
        }
    });
    if t != Tri::Maybe {
        doubts.clear();
    }
    (t, doubts)
}

/// Evaluate one NSG for an outbound flow.
pub fn eval_nsg<'m>(
    nsg: &'m Nsg,
    rules: &[Member<'m, SecurityRule>],
    flow: &Flow,
    src: Option<&[IpRange]>,
    scope: &VnetScope,
) -> Outcome<'m> {
    let mut known: Vec<(u32, &Member<SecurityRule>)> = vec![];
    let mut unordered: Vec<&Member<SecurityRule>> = vec![];
    for m in rules {
        // Azure's six default rules always exist; an export that lists some
        // of them (or a subset) does not change them, so the built-ins below
        // stand for them.
        if m.item.is_default {
            continue;
        }
        match m.item.priority.value {
            Value::Known(p) => known.push((p, m)),
            _ => unordered.push(m),
        }
    }
    known.sort_by_key(|(p, _)| *p);
    let name = decl_name(&nsg.decl);
    let mut cands = vec![];
    let mut keys: Vec<u64> = vec![];
    // A rule whose priority is unknown may come before any other: it is an
    // uncertain candidate placed first.
    let ordered = unordered
        .into_iter()
        .map(|m| (None, m))
        .chain(known.into_iter().map(|(p, m)| (Some(p), m)));
    for (prio, m) in ordered {
        let r = m.item;
        let (mut tri, mut doubts) = rule_matches(nsg, r, flow, src, scope);
        if tri == Tri::No {
            continue;
        }
        if tri != Tri::No && (prio.is_none() || !m.certain) {
            if prio.is_none() {
                doubts.extend(super::unresolved_of(&r.priority).map(Doubt::Value));
            } else if let Some(a) = &r.nsg {
                doubts.extend(super::unresolved_of(a).map(Doubt::Value));
            }
            tri = Tri::Maybe;
        }
        let action = super::action_of(&r.access.value);
        if action == Verdict::Unknown && tri != Tri::No {
            doubts.extend(super::unresolved_of(&r.access).map(Doubt::Value));
        }
        let prio_s = prio.map(|p| p.to_string()).unwrap_or_else(|| "?".into());
        let access = r
            .access
            .value
            .known()
            .cloned()
            .unwrap_or_else(|| "?".into());
        let text = format!(
            "NSG `{name}` rule `{}` (priority {prio_s}, {access}) {}",
            decl_name(&r.decl),
            if tri == Tri::Yes {
                "matches"
            } else {
                "may match"
            }
        );
        keys.push(prio.map(|x| x as u64 + 1).unwrap_or(0));
        cands.push(Candidate {
            tri,
            action,
            decider: Decider::NsgRule { nsg, rule: r },
            step: step(
                "nsg",
                Some(r.decl.span.clone()),
                text,
                effect_of(tri, action),
            ),
            doubts,
        });
    }
    {
        let dest = dest_addr(flow);
        for (n, prio, tag, action) in [
            (
                "AllowVnetOutBound",
                65000,
                "VirtualNetwork",
                Verdict::Allowed,
            ),
            ("AllowInternetOutBound", 65001, "Internet", Verdict::Allowed),
        ] {
            let mut doubts = vec![];
            let tri = match &dest {
                Ok(d) => addr_covers(&AddrPat::Tag(tag.into()), d, Place::Nsg, scope),
                Err(u) => {
                    doubts.push(Doubt::Value(u.clone()));
                    Tri::Maybe
                }
            };
            keys.push(prio as u64 + 1);
            cands.push(Candidate {
                tri,
                action,
                decider: Decider::NsgDefault { nsg, name: n },
                step: step(
                    "nsg",
                    Some(nsg.decl.span.clone()),
                    format!(
                        "NSG `{name}` default rule `{n}` (priority {prio}, Allow) {}",
                        if tri == Tri::Yes {
                            "matches"
                        } else {
                            "may match"
                        }
                    ),
                    effect_of(tri, action),
                ),
                doubts,
            });
        }
    }
    let default = Candidate {
        tri: Tri::Yes,
        action: Verdict::Denied,
        decider: Decider::NsgDefault {
            nsg,
            name: "DenyAllOutBound",
        },
        step: step(
            "nsg",
            Some(nsg.decl.span.clone()),
            format!("NSG `{name}` default rule `DenyAllOutBound` (priority 65500, Deny) matches"),
            Effect::Deny,
        ),
        doubts: vec![],
    };
    first_match(by_priority(keys, cands), default)
}

fn packet_rule_matches(r: &SecurityRule, p: &Packet, scope: &VnetScope) -> Tri {
    let dir = match &r.direction.value {
        Value::Known(d) => {
            Tri::from_bool(d.eq_ignore_ascii_case(if p.inbound { "inbound" } else { "outbound" }))
        }
        _ => Tri::Maybe,
    };
    let proto = match &r.protocol.value {
        Value::Known(x) => protocol_covers(x, p.transport),
        _ => Tri::Maybe,
    };
    let ports = match &r.destination_ports.value {
        Value::Known(l) => ports_cover(l, p.port),
        _ => Tri::Maybe,
    };
    let sports = match &r.source_ports.value {
        Value::Known(l) if l.is_empty() || l.iter().any(|s| s.trim() == "*") => Tri::Yes,
        _ => Tri::Maybe,
    };
    let side = |list: &Value<Vec<String>>, asgs: bool, ip: std::net::IpAddr| -> Tri {
        let mut t = match list {
            Value::Known(l) => Tri::any(l.iter().map(|x| match parse_addr(x) {
                Some(pat) => addr_covers(&pat, &DestAddr::Ip(ip), Place::Nsg, scope),
                None => Tri::Maybe,
            })),
            _ => Tri::Maybe,
        };
        if asgs && t != Tri::Yes {
            t = t.or(Tri::Maybe);
        }
        t
    };
    dir.and(proto)
        .and(ports)
        .and(sports)
        .and(side(
            &r.source_addresses.value,
            !r.source_asgs.is_empty(),
            p.src,
        ))
        .and(side(
            &r.destination_addresses.value,
            !r.destination_asgs.is_empty(),
            p.dst,
        ))
}

/// Evaluate an NSG for a packet between known addresses, in either
/// direction, with the default rules of that direction.
pub fn eval_nsg_packet<'m>(
    nsg: &'m Nsg,
    rules: &[Member<'m, SecurityRule>],
    p: &Packet,
    scope: &VnetScope,
) -> Outcome<'m> {
    // The built-in defaults below stand for any an export lists.
    let mut ordered: Vec<(Option<u32>, &Member<SecurityRule>)> = rules
        .iter()
        .filter(|m| !m.item.is_default)
        .map(|m| (m.item.priority.value.known().copied(), m))
        .collect();
    // Unknown priorities first (they may come before anything), then ascending.
    ordered.sort_by_key(|(p, _)| p.map(|x| x as u64 + 1).unwrap_or(0));
    let name = decl_name(&nsg.decl);
    let mut cands = vec![];
    let mut keys: Vec<u64> = vec![];
    for (prio, m) in ordered {
        let r = m.item;
        let mut tri = packet_rule_matches(r, p, scope);
        if tri == Tri::No {
            continue;
        }
        if tri != Tri::No && (prio.is_none() || !m.certain) {
            tri = Tri::Maybe;
        }
        let action = super::action_of(&r.access.value);
        keys.push(prio.map(|x| x as u64 + 1).unwrap_or(0));
        cands.push(Candidate {
            tri,
            action,
            decider: Decider::NsgRule { nsg, rule: r },
            step: step(
                "nsg",
                Some(r.decl.span.clone()),
                format!("NSG `{name}` rule `{}`", decl_name(&r.decl)),
                effect_of(tri, action),
            ),
            doubts: vec![],
        });
    }
    {
        let vnet = AddrPat::Tag("VirtualNetwork".into());
        let both_vnet = addr_covers(&vnet, &DestAddr::Ip(p.src), Place::Nsg, scope)
            .and(addr_covers(&vnet, &DestAddr::Ip(p.dst), Place::Nsg, scope));
        let second = if p.inbound {
            (
                "AllowAzureLoadBalancerInBound",
                addr_covers(
                    &AddrPat::Tag("AzureLoadBalancer".into()),
                    &DestAddr::Ip(p.src),
                    Place::Nsg,
                    scope,
                ),
            )
        } else {
            (
                "AllowInternetOutBound",
                addr_covers(
                    &AddrPat::Tag("Internet".into()),
                    &DestAddr::Ip(p.dst),
                    Place::Nsg,
                    scope,
                ),
            )
        };
        let first = if p.inbound {
            "AllowVnetInBound"
        } else {
            "AllowVnetOutBound"
        };
        for (n, tri) in [(first, both_vnet), second] {
            keys.push(if n.starts_with("AllowVnet") {
                65001
            } else {
                65002
            });
            cands.push(Candidate {
                tri,
                action: Verdict::Allowed,
                decider: Decider::NsgDefault { nsg, name: n },
                step: step(
                    "nsg",
                    Some(nsg.decl.span.clone()),
                    format!("NSG `{name}` default rule `{n}`"),
                    effect_of(tri, Verdict::Allowed),
                ),
                doubts: vec![],
            });
        }
    }
    let deny = if p.inbound {
        "DenyAllInBound"
    } else {
        "DenyAllOutBound"
    };
    first_match(
        by_priority(keys, cands),
        Candidate {
            tri: Tri::Yes,
            action: Verdict::Denied,
            decider: Decider::NsgDefault { nsg, name: deny },
            step: step(
                "nsg",
                Some(nsg.decl.span.clone()),
                format!("NSG `{name}` default rule `{deny}`"),
                Effect::Deny,
            ),
            doubts: vec![],
        },
    )
}

/// Candidates in priority order (stable: equal keys keep their order).
fn by_priority<'m>(keys: Vec<u64>, cands: Vec<Candidate<'m>>) -> Vec<Candidate<'m>> {
    let mut v: Vec<(u64, Candidate<'m>)> = keys.into_iter().zip(cands).collect();
    v.sort_by_key(|(k, _)| *k);
    v.into_iter().map(|(_, c)| c).collect()
}

fn fw_rule_desc(e: &FwEntry) -> String {
    let kind = match e.collection.kind {
        RuleKind::Network => "network rule",
        RuleKind::Application => "application rule",
        RuleKind::Nat => "DNAT rule",
    };
    format!(
        "{kind} `{}` in collection `{}`",
        decl_name(&e.rule.decl),
        decl_name(&e.collection.decl)
    )
}

fn source_match(env: &FwEnv, r: &FirewallRule, doubts: &mut Vec<Doubt>) -> Tri {
    if r.source_addresses.is_none() && r.source_ip_groups.is_none() {
        return Tri::Yes;
    }
    let mut t = Tri::No;
    if let Some(a) = &r.source_addresses {
        match list_of(a) {
            Ok(l) => {
                t = t.or(Tri::any(l.iter().map(|p| match parse_addr(p) {
                    Some(pat) => source_covers(&pat, env.src, Place::Firewall),
                    None => Tri::Maybe,
                })))
            }
            Err(d) => {
                doubts.push(d);
                t = t.or(Tri::Maybe);
            }
        }
    }
    if let Some(a) = &r.source_ip_groups {
        t = t.or(ip_groups_match(env, a, doubts, |r| {
            source_covers(&super::addr::AddrPat::Range(r), env.src, Place::Firewall)
        }));
    }
    if t == Tri::Maybe && env.src.is_none() {
        doubts.push(Doubt::Other {
            span: r.decl.span.clone(),
            reason: "the source subnet's prefixes are not known".into(),
        });
    }
    t
}

fn ip_groups_match(
    env: &FwEnv,
    a: &Attr<Vec<ResKey>>,
    doubts: &mut Vec<Doubt>,
    f: impl Fn(IpRange) -> Tri,
) -> Tri {
    let keys = match &a.value {
        Value::Known(k) => k,
        _ => {
            doubts.extend(unresolved_of(a).map(Doubt::Value));
            return Tri::Maybe;
        }
    };
    let mut t = Tri::No;
    for k in keys {
        match env.linked.ip_group_cidrs_by_key(k, &a.span) {
            Link::Found(cidrs) => {
                for c in cidrs {
                    t = t.or(match parse_range(&c) {
                        Some(r) => f(r),
                        None => Tri::Maybe,
                    });
                }
            }
            Link::Absent => {}
            Link::Unknown(u) => {
                doubts.push(Doubt::Value(u));
                t = t.or(Tri::Maybe);
            }
        }
    }
    t
}

/// FQDN pattern against a flow destination, keeping `{location}` doubts.
fn fqdn_dest(pattern: &str, flow: &Flow) -> Tri {
    match &flow.dest {
        Dest::Fqdn { name, .. } => {
            if name.contains("{location}") {
                match fqdn_covers(pattern, &name.replace("{location}", "location-not-known")) {
                    Tri::Yes => Tri::Yes,
                    _ => Tri::Maybe,
                }
            } else {
                fqdn_covers(pattern, name)
            }
        }
        _ => Tri::No,
    }
}

fn network_rule(
    env: &FwEnv,
    s: &FwSetup,
    e: &FwEntry,
    flow: &Flow,
    doubts: &mut Vec<Doubt>,
) -> Tri {
    let r = e.rule;
    let mut t = match &r.protocols {
        None => Tri::Maybe,
        Some(a) => match list_of(a) {
            Ok(l) => Tri::any(l.iter().map(|p| protocol_covers(p, flow.transport))),
            Err(d) => {
                doubts.push(d);
                Tri::Maybe
            }
        },
    };
    t = t.and(match &r.destination_ports {
        None => Tri::Maybe,
        Some(a) => match list_of(a) {
            Ok(l) => ports_cover(l, flow.port),
            Err(d) => {
                doubts.push(d);
                Tri::Maybe
            }
        },
    });
    if t == Tri::No {
        return t;
    }
    let desc = fw_rule_desc(e);
    let dest = dest_addr(flow);
    let mut dt = Tri::No;
    if let Some(a) = &r.destination_addresses {
        dt = dt.or(match list_of(a) {
            Ok(l) => addrs_cover(
                l,
                &dest,
                Place::Firewall,
                &VnetScope::default(),
                &r.decl.span,
                &desc,
                doubts,
            ),
            Err(d) => {
                doubts.push(d);
                Tri::Maybe
            }
        });
    }
    if let Some(a) = &r.destination_ip_groups {
        let d = dest.clone();
        dt = dt.or(ip_groups_match(env, a, doubts, |range| match &d {
            Ok(super::addr::DestAddr::Ip(ip)) => Tri::from_bool(range.contains_ip(*ip)),
            Ok(_) if range.is_all_v4() => Tri::Yes,
            Ok(_) if range.is_non_public() => Tri::No,
            _ => Tri::Maybe,
        }));
    }
    if let Some(a) = &r.destination_fqdns {
        let ft = match list_of(a) {
            Ok(l) => Tri::any(l.iter().map(|p| match &flow.dest {
                Dest::Fqdn { .. } => fqdn_dest(p, flow),
                Dest::Ip(ip) if super::addr::is_non_public_ip(*ip) => Tri::No,
                // A name resolves to addresses that may include this one.
                _ => Tri::Maybe,
            })),
            Err(d) => {
                doubts.push(d);
                Tri::Maybe
            }
        };
        // Network-rule FQDNs match only through the firewall's DNS proxy.
        let ft = match &s.dns_proxy {
            Ok(true) => ft,
            Ok(false) => Tri::No,
            Err(u) => {
                if ft != Tri::No {
                    doubts.push(Doubt::Value(u.clone()));
                }
                ft.and(Tri::Maybe)
            }
        };
        dt = dt.or(ft);
    }
    t.and(dt)
}

fn app_protocol_match(p: &AppProtocol, app: AppProto, port: u16) -> Tri {
    let kind = p.kind.trim().to_ascii_lowercase();
    let (k, default) = match kind.as_str() {
        "http" => (AppProto::Http, 80),
        "https" => (AppProto::Https, 443),
        _ => return Tri::No,
    };
    Tri::from_bool(k == app && p.port.unwrap_or(default) == port)
}

fn fqdn_tag_match(env: &FwEnv, tag: &str, flow: &Flow, app: AppProto) -> Tri {
    match env.catalog.tag(tag) {
        Some(t) => {
            // The tag is a set of hosts: a feature row (Azure Monitor's
            // `login.microsoftonline.com`) is covered when a covered core row
            // names the same host, protocol and port.
            let entry = flow.entry.as_ref().and_then(|id| env.catalog.entry(id));
            let covers = flow.entry.as_ref().is_some_and(|id| {
                t.covers.iter().any(|c| {
                    c == id
                        || env.catalog.entry(c).zip(entry).is_some_and(|(c, e)| {
                            matches!(
                                (&c.destination, &e.destination),
                                (Destination::Fqdn(a), Destination::Fqdn(b)) if a.eq_ignore_ascii_case(b)
                            ) && c.protocol == e.protocol
                                && c.ports.contains(&flow.port)
                        })
                })
            });
            let proto = t.protocols.is_empty()
                || t.protocols.iter().any(|p| {
                    matches!(
                        (p, app),
                        (Protocol::Http, AppProto::Http) | (Protocol::Https, AppProto::Https)
                    )
                });
            Tri::from_bool(covers && proto)
        }
        // Contents of other Microsoft tags are unpublished.
        None => Tri::No,
    }
}

fn app_rule(env: &FwEnv, e: &FwEntry, flow: &Flow, doubts: &mut Vec<Doubt>) -> Tri {
    let r = e.rule;
    let Some(app) = flow.app else {
        return Tri::No;
    };
    if !matches!(flow.dest, Dest::Fqdn { .. }) {
        return Tri::No;
    }
    // Protocols as written; a rule with FQDN tags and no protocols takes
    // the tag's own (classic collections forbid both together).
    let pt = match &r.app_protocols {
        None => None,
        Some(a) => match &a.value {
            Value::Known(l) if l.is_empty() => None,
            Value::Known(l) => Some(Tri::any(
                l.iter().map(|p| app_protocol_match(p, app, flow.port)),
            )),
            _ => {
                doubts.extend(unresolved_of(a).map(Doubt::Value));
                Some(Tri::Maybe)
            }
        },
    };
    if pt == Some(Tri::No) {
        return Tri::No;
    }
    // Explicit FQDNs and addresses need explicit protocols.
    let t = pt.unwrap_or(Tri::No);
    let mut dt = Tri::No;
    if let Some(a) = &r.target_fqdns {
        dt = dt.or(match list_of(a) {
            Ok(l) => Tri::any(l.iter().map(|p| fqdn_dest(p, flow))),
            Err(d) => {
                doubts.push(d);
                Tri::Maybe
            }
        });
    }
    let mut tag_t = Tri::No;
    if let Some(a) = &r.fqdn_tags {
        tag_t = match list_of(a) {
            Ok(l) => Tri::any(l.iter().map(|tag| fqdn_tag_match(env, tag, flow, app))),
            Err(d) => {
                doubts.push(d);
                Tri::Maybe
            }
        };
        // With explicit protocols the flow must match them too.
        if let Some(p) = pt {
            tag_t = tag_t.and(p);
        }
    }
    if let Some(a) = &r.target_urls {
        // A URL rule matches a host and a path: some requests only.
        let ut = match list_of(a) {
            Ok(l) => Tri::any(l.iter().map(|u| {
                let host = u.split('/').next().unwrap_or("");
                fqdn_dest(host, flow).and(Tri::Maybe)
            })),
            Err(d) => {
                doubts.push(d);
                Tri::Maybe
            }
        };
        if ut == Tri::Maybe {
            doubts.push(Doubt::Other {
                span: r.decl.span.clone(),
                reason: format!("{} allows some URL paths only", fw_rule_desc(e)),
            });
        }
        dt = dt.or(ut);
    }
    if let Some(a) = &r.web_categories
        && list_of(a).map(|l| !l.is_empty()).unwrap_or(true)
    {
        doubts.push(Doubt::Other {
            span: r.decl.span.clone(),
            reason: format!(
                "{} uses web categories, which Microsoft assigns",
                fw_rule_desc(e)
            ),
        });
        dt = dt.or(Tri::Maybe);
    }
    if let Some(a) = &r.destination_addresses {
        let dest = dest_addr(flow);
        dt = dt.or(match list_of(a) {
            Ok(l) => addrs_cover(
                l,
                &dest,
                Place::Firewall,
                &VnetScope::default(),
                &r.decl.span,
                &fw_rule_desc(e),
                doubts,
            ),
            Err(d) => {
                doubts.push(d);
                Tri::Maybe
            }
        });
    }
    t.and(dt).or(tag_t)
}

/// Evaluate a flow against a firewall.
pub fn eval_firewall<'m>(env: &FwEnv<'_, 'm>, s: &FwSetup<'m>, flow: &Flow) -> Outcome<'m> {
    let fw = s.firewall;
    let what = s.describe();
    if let Some(u) = &s.chain_unknown {
        let mut o = Outcome::new(Verdict::Unknown, Decider::Undecided);
        o.steps.push(step(
            "firewall",
            Some(fw.decl.span.clone()),
            format!(
                "firewall `{}`: its policy is not known ({})",
                decl_name(&fw.decl),
                u.reason
            ),
            Effect::Maybe,
        ));
        o.doubts.push(Doubt::Value(u.clone()));
        return o;
    }
    let mut cands = vec![];
    for (list, is_net) in [(&s.network, true), (&s.application, false)] {
        for e in list {
            let mut doubts = vec![];
            let mut tri = match source_match(env, e.rule, &mut doubts) {
                Tri::No => Tri::No,
                st => st.and(if is_net {
                    network_rule(env, s, e, flow, &mut doubts)
                } else {
                    app_rule(env, e, flow, &mut doubts)
                }),
            };
            if tri == Tri::No {
                continue;
            }
            if let Some(u) = &e.unordered {
                tri = Tri::Maybe;
                doubts.push(Doubt::Value(u.clone()));
            }
            // A certain match leaves no doubt about matching; an unknown
            // action still does.
            if tri == Tri::Yes {
                doubts.clear();
            }
            let action = super::action_of(&e.collection.action.value);
            if action == Verdict::Unknown {
                doubts.extend(unresolved_of(&e.collection.action).map(Doubt::Value));
            }
            let text = format!(
                "{what}: {} ({}) {}",
                fw_rule_desc(e),
                e.collection
                    .action
                    .value
                    .known()
                    .cloned()
                    .unwrap_or_else(|| "?".into()),
                if tri == Tri::Yes {
                    "matches"
                } else {
                    "may match"
                }
            );
            cands.push(Candidate {
                tri,
                action,
                decider: Decider::FirewallRule {
                    firewall: fw,
                    policy: e.policy,
                    group: e.group,
                    collection: e.collection,
                    rule: e.rule,
                },
                step: step(
                    "firewall",
                    Some(e.rule.decl.span.clone()),
                    text,
                    effect_of(tri, action),
                ),
                doubts,
            });
        }
    }
    let span = s
        .own_policy()
        .map(|p| p.decl.span.clone())
        .unwrap_or_else(|| fw.decl.span.clone());
    let default = Candidate {
        tri: Tri::Yes,
        action: Verdict::Denied,
        decider: Decider::FirewallDefault {
            firewall: fw,
            policy: s.own_policy(),
        },
        step: step(
            "firewall",
            Some(span),
            if cands.iter().any(|c| c.tri == Tri::Maybe) {
                format!("{what}: otherwise no rule matches, and Azure Firewall denies by default")
            } else {
                format!("{what}: no rule matches, Azure Firewall denies by default")
            },
            Effect::Deny,
        ),
        doubts: vec![],
    };
    let mut o = first_match(cands, default);
    o.steps.insert(
        0,
        step(
            "firewall",
            Some(fw.decl.span.clone()),
            format!("{what} inspects the flow"),
            Effect::Pass,
        ),
    );
    o
}

/// Candidate routes for a flow, in selection order (longest prefix first).
pub fn choices<'m>(
    routes: &[Member<'m, Route>],
    scope: &VnetScope,
    flow: &Flow,
) -> Vec<RouteChoice<'m>> {
    let dest = dest_addr(flow);
    // Routes are matched against the VNet space only, not the UDR quirk.
    let plain = VnetScope {
        space: scope.space.clone(),
        udr_prefixes: vec![],
    };
    let cover = |pat: &AddrPat, doubts: &mut Vec<Doubt>| -> Tri {
        match &dest {
            Ok(d) => addr_covers(pat, d, Place::Route, &plain),
            Err(u) => {
                doubts.push(Doubt::Value(u.clone()));
                Tri::Maybe
            }
        }
    };
    let mut out: Vec<(u32, u8, RouteChoice<'m>)> = vec![];
    for m in routes {
        let r = m.item;
        let mut doubts = vec![];
        let (tri, len, prefix) = match &r.address_prefix.value {
            Value::Known(p) => match parse_addr(p) {
                Some(pat) => {
                    let mut t = cover(&pat, &mut doubts);
                    if t == Tri::Maybe && doubts.is_empty() {
                        doubts.push(Doubt::Other {
                            span: r.decl.span.clone(),
                            reason: format!(
                                "route prefix `{p}` may or may not contain the destination"
                            ),
                        });
                    }
                    if !m.certain && t != Tri::No {
                        t = Tri::Maybe;
                        doubts.extend(
                            r.route_table
                                .as_ref()
                                .and_then(unresolved_of)
                                .map(Doubt::Value),
                        );
                    }
                    (t, prefix_len(&pat), p.clone())
                }
                None => {
                    doubts.push(Doubt::Other {
                        span: r.address_prefix.span.clone(),
                        reason: format!("route prefix `{p}` cannot be read"),
                    });
                    (Tri::Maybe, 200, p.clone())
                }
            },
            _ => {
                doubts.extend(unresolved_of(&r.address_prefix).map(Doubt::Value));
                (Tri::Maybe, 200, "?".into())
            }
        };
        if tri == Tri::No {
            continue;
        }
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
            "route `{}` sends `{prefix}` to {hop_s}",
            crate::link::decl_name(&r.decl)
        );
        out.push((
            len,
            1,
            RouteChoice {
                tri,
                route: Some(r),
                hop,
                text: text.clone().into(),
                step_text: step_text(&text, tri),
                prefix: prefix.into(),
                doubts,
                system: false,
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
        let mut doubts = vec![];
        let tri = cover(&pat, &mut doubts);
        if tri == Tri::No {
            continue;
        }
        let hop_s = match hop {
            NextHop::VnetLocal => "VnetLocal",
            NextHop::None => "None",
            _ => "Internet",
        };
        out.push((
            prefix_len(&pat),
            0,
            RouteChoice {
                tri,
                route: None,
                hop: Ok(hop),
                text: format!("system route sends `{p}` to {hop_s}").into(),
                step_text: step_text(&format!("system route sends `{p}` to {hop_s}"), tri),
                prefix: p.into(),
                doubts,
                system: true,
            },
        ));
    }
    out.sort_by_key(|c| std::cmp::Reverse((c.0, c.1)));
    out.into_iter().map(|(_, _, c)| c).collect()
}

/// The trace line of a route choice, as the evaluator writes it.
fn step_text(text: &str, tri: Tri) -> std::sync::Arc<str> {
    if tri == Tri::Yes {
        text.into()
    } else {
        format!("{text} (if it covers the destination)").into()
    }
}

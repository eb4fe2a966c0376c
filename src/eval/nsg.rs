//! NSG evaluation, outbound: rules by ascending priority, first match wins,
//! then Azure's default rules (`AllowVnetOutBound` 65000,
//! `AllowInternetOutBound` 65001, `DenyAllOutBound` 65500).

use super::addr::{
    AddrPat, DestAddr, IpRange, Place, Tri, VnetScope, addr_covers, parse_addr, ports_cover,
    protocol_covers, source_covers,
};
use super::{Candidate, Decider, Dest, Doubt, Effect, Flow, Outcome, Verdict, first_match, step};
use crate::link::{Member, Unresolved, decl_name};
use crate::model::{Attr, Nsg, SecurityRule, Value};

/// The destination as an address, or why it is not known.
pub fn dest_addr(flow: &Flow) -> Result<DestAddr, Unresolved> {
    match &flow.dest {
        Dest::Fqdn { in_tags, .. } => Ok(DestAddr::Public {
            in_tags: in_tags.clone(),
        }),
        Dest::Ip(ip) => Ok(DestAddr::Ip(*ip)),
        Dest::Tag(t) => Ok(DestAddr::Public {
            in_tags: vec![t.clone()],
        }),
        Dest::Unknown(u) => Err(u.clone()),
    }
}

/// A known list, or the doubt it raises.
pub fn list_of(a: &Attr<Vec<String>>) -> Result<&Vec<String>, Doubt> {
    match &a.value {
        Value::Known(v) => Ok(v),
        _ => Err(Doubt::Value(super::unresolved_of(a).unwrap_or_else(|| {
            Unresolved {
                reason: "value not known".into(),
                hint: None,
                span: a.span.clone(),
            }
        }))),
    }
}

/// Match of a list of address patterns against the destination (OR).
pub fn addrs_cover(
    list: &[String],
    dest: &Result<DestAddr, Unresolved>,
    place: Place,
    scope: &VnetScope,
    rule_span: &crate::source::Span,
    rule_desc: &str,
    doubts: &mut Vec<Doubt>,
) -> Tri {
    let dest = match dest {
        Ok(d) => d,
        Err(u) => {
            doubts.push(Doubt::Value(u.clone()));
            return Tri::Maybe;
        }
    };
    let mut acc = Tri::No;
    for p in list {
        let t = match parse_addr(p) {
            Some(pat) => {
                let t = addr_covers(&pat, dest, place, scope);
                if t == Tri::Maybe {
                    doubts.push(Doubt::Broad {
                        span: rule_span.clone(),
                        rule: rule_desc.to_string(),
                        pattern: p.clone(),
                    });
                }
                t
            }
            None => {
                doubts.push(Doubt::Other {
                    span: rule_span.clone(),
                    reason: format!("address `{p}` of {rule_desc} cannot be read"),
                });
                Tri::Maybe
            }
        };
        acc = acc.or(t);
        if acc == Tri::Yes {
            return acc;
        }
    }
    acc
}

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

pub fn effect_of(tri: Tri, action: Verdict) -> Effect {
    match (tri, action) {
        (Tri::Yes, Verdict::Allowed) => Effect::Allow,
        (Tri::Yes, Verdict::Denied) => Effect::Deny,
        (Tri::No, _) => Effect::Pass,
        _ => Effect::Maybe,
    }
}

/// A packet between two known addresses, for internal traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    pub src: std::net::IpAddr,
    pub dst: std::net::IpAddr,
    pub transport: super::Transport,
    pub port: u16,
    /// Inbound to the NSG's subnet (else outbound from it).
    pub inbound: bool,
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

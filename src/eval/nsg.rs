//! NSG evaluation, outbound: rules by ascending priority, first match wins,
//! then Azure's default rules (`AllowVnetOutBound` 65000,
//! `AllowInternetOutBound` 65001, `DenyAllOutBound` 65500).

use super::addr::{
    AddrPat, DestAddr, IpRange, Place, Ports, ProtoMatch, Tri, VnetScope, addr_covers, parse_addr,
    source_covers,
};
use super::{
    Candidate, Decider, Dest, Doubt, Effect, Flow, Outcome, Step, Verdict, first_match, step,
};
use crate::link::{Member, Unresolved, decl_name};
use crate::model::{Attr, Nsg, SecurityRule, Value};
use std::sync::{Arc, OnceLock};

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
    let parsed = parse_addrs(list);
    addrs_cover_parsed(
        &parsed, list, dest, place, scope, rule_span, rule_desc, doubts,
    )
}

/// Address patterns read once (`None`: unreadable).
pub fn parse_addrs(list: &[String]) -> Vec<Option<AddrPat>> {
    list.iter().map(|p| parse_addr(p)).collect()
}

/// [`addrs_cover`] over patterns read once, with the texts they were read
/// from (for doubts).
#[allow(clippy::too_many_arguments)]
pub fn addrs_cover_parsed(
    pats: &[Option<AddrPat>],
    texts: &[String],
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
    for (pat, p) in pats.iter().zip(texts) {
        let t = match pat {
            Some(pat) => {
                let t = addr_covers(pat, dest, place, scope);
                if t == Tri::Maybe {
                    doubts.push(Doubt::Broad {
                        span: rule_span.clone(),
                        rule: rule_desc.to_string(),
                        pattern: p.to_string(),
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

/// A known list read once, or the doubt its value raises.
/// A list read once, or why it cannot be (boxed: most lists are read).
type Listed<T> = Result<T, Box<Doubt>>;

fn listed<'m, T>(a: &'m Attr<Vec<String>>, f: impl FnOnce(&'m [String]) -> T) -> Listed<T> {
    list_of(a).map(|l| f(l)).map_err(Box::new)
}

/// Written direction of a rule.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Direction {
    Outbound,
    Inbound,
    Other,
}

/// One security rule with its strings read once: the same answers as
/// reading them for every flow, for every flow of a run.
#[derive(Clone, Debug)]
struct RuleMatcher<'m> {
    rule: &'m SecurityRule,
    certain: bool,
    priority: Option<u32>,
    /// `None` when not known.
    direction: Option<Direction>,
    protocol: Option<ProtoMatch>,
    dst_ports: Listed<Ports>,
    /// The address lists, read when a flow first gets past the protocol
    /// and ports (most rules stop there).
    dst: OnceLock<Listed<Vec<Option<AddrPat>>>>,
    src: OnceLock<Listed<Vec<Option<AddrPat>>>>,
    /// `Some(true)` for `*` or no list: every ephemeral source port.
    src_ports_any: Listed<bool>,
    desc: OnceLock<String>,
    /// Step texts (matches, may match), written when first shown.
    texts: [OnceLock<Arc<str>>; 2],
}

impl<'m> RuleMatcher<'m> {
    fn new(m: &Member<'m, SecurityRule>) -> Self {
        let r = m.item;
        RuleMatcher {
            rule: r,
            certain: m.certain,
            priority: r.priority.value.known().copied(),
            direction: r.direction.value.known().map(|d| {
                if d.eq_ignore_ascii_case("outbound") {
                    Direction::Outbound
                } else if d.eq_ignore_ascii_case("inbound") {
                    Direction::Inbound
                } else {
                    Direction::Other
                }
            }),
            protocol: r.protocol.value.known().map(|p| ProtoMatch::parse(p)),
            dst_ports: listed(&r.destination_ports, Ports::parse),
            dst: OnceLock::new(),
            src: OnceLock::new(),
            src_ports_any: listed(&r.source_ports, |l| {
                l.is_empty() || l.iter().any(|s| s.trim() == "*")
            }),
            desc: OnceLock::new(),
            texts: Default::default(),
        }
    }

    fn dst(&self) -> &Listed<Vec<Option<AddrPat>>> {
        self.dst
            .get_or_init(|| listed(&self.rule.destination_addresses, parse_addrs))
    }

    fn src(&self) -> &Listed<Vec<Option<AddrPat>>> {
        self.src.get_or_init(|| {
            listed(&self.rule.source_addresses, |l| {
                l.iter().map(|p| parse_addr(p)).collect()
            })
        })
    }

    fn desc(&self, nsg: &Nsg) -> &str {
        self.desc.get_or_init(|| {
            format!(
                "NSG `{}` rule `{}`",
                decl_name(&nsg.decl),
                decl_name(&self.rule.decl)
            )
        })
    }

    /// Does the rule match an outbound flow? (With its doubts when it may.)
    fn matches(
        &self,
        nsg: &Nsg,
        flow: &Flow,
        dest: &Result<DestAddr, Unresolved>,
        src: Option<&[IpRange]>,
        scope: &VnetScope,
    ) -> (Tri, Vec<Doubt>) {
        let r = self.rule;
        let mut doubts = vec![];
        let mut t = match self.direction {
            Some(d) => Tri::from_bool(d == Direction::Outbound),
            None => {
                doubts.extend(super::unresolved_of(&r.direction).map(Doubt::Value));
                Tri::Maybe
            }
        };
        if t == Tri::No {
            return (t, vec![]);
        }
        t = t.and(match self.protocol {
            Some(p) => p.covers(flow.transport),
            None => {
                doubts.extend(super::unresolved_of(&r.protocol).map(Doubt::Value));
                Tri::Maybe
            }
        });
        t = t.and(match &self.dst_ports {
            Ok(p) => p.cover(flow.port),
            Err(d) => {
                doubts.push(*d.clone());
                Tri::Maybe
            }
        });
        if t == Tri::No {
            return (t, vec![]);
        }
        // Destination: prefixes, or application security groups (their members
        // are NICs of the VNet, never a public endpoint).
        let mut dt = match self.dst() {
            Ok(l) => addrs_cover_parsed(
                l,
                r.destination_addresses
                    .value
                    .known()
                    .map_or(&[], Vec::as_slice),
                dest,
                Place::Nsg,
                scope,
                &r.decl.span,
                self.desc(nsg),
                &mut doubts,
            ),
            Err(d) => {
                doubts.push(*d.clone());
                Tri::Maybe
            }
        };
        if !r.destination_asgs.is_empty() {
            let asg = match dest {
                Ok(DestAddr::Ip(ip)) if super::addr::is_non_public_ip(*ip) => {
                    doubts.push(Doubt::Other {
                        span: r.decl.span.clone(),
                        reason: format!("{} names application security groups, whose members are not known statically", self.desc(nsg)),
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
        let mut st = match self.src() {
            Ok(l) if l.is_empty() => Tri::No,
            Ok(l) => Tri::any(l.iter().map(|pat| match pat {
                Some(pat) => source_covers(pat, src, Place::Nsg),
                None => Tri::Maybe,
            })),
            Err(d) => {
                doubts.push(*d.clone());
                Tri::Maybe
            }
        };
        if !r.source_asgs.is_empty() && st != Tri::Yes {
            doubts.push(Doubt::Other {
                span: r.decl.span.clone(),
                reason: format!(
                    "{} names application security groups, whose members are not known statically",
                    self.desc(nsg)
                ),
            });
            st = st.or(Tri::Maybe);
        }
        if st == Tri::Maybe && src.is_none() {
            doubts.push(Doubt::Other {
                span: r.decl.span.clone(),
                reason: format!(
                    "the source subnet's prefixes are not known, so {} may or may not apply",
                    self.desc(nsg)
                ),
            });
        }
        t = t.and(st);
        // Source ports: flows leave from ephemeral ports.
        t = t.and(match &self.src_ports_any {
            Ok(true) => Tri::Yes,
            Ok(false) => {
                doubts.push(Doubt::Other {
                    span: r.decl.span.clone(),
                    reason: format!(
                        "{} restricts source ports, which are ephemeral",
                        self.desc(nsg)
                    ),
                });
                Tri::Maybe
            }
            Err(d) => {
                doubts.push(*d.clone());
                Tri::Maybe
            }
        });
        if t != Tri::Maybe {
            doubts.clear();
        }
        (t, doubts)
    }

    fn packet_matches(&self, p: &Packet, scope: &VnetScope) -> Tri {
        let r = self.rule;
        let dir = match self.direction {
            Some(d) => Tri::from_bool(
                d == if p.inbound {
                    Direction::Inbound
                } else {
                    Direction::Outbound
                },
            ),
            None => Tri::Maybe,
        };
        let proto = match self.protocol {
            Some(x) => x.covers(p.transport),
            None => Tri::Maybe,
        };
        let ports = match &self.dst_ports {
            Ok(l) => l.cover(p.port),
            Err(_) => Tri::Maybe,
        };
        let sports = match self.src_ports_any {
            Ok(true) => Tri::Yes,
            _ => Tri::Maybe,
        };
        let (dir, proto, ports, sports) = (dir, proto, ports, sports);
        if dir.and(proto).and(ports).and(sports) == Tri::No {
            return Tri::No;
        }
        let src = self.src().as_ref().ok().map(|l| l.iter());
        let dst = self.dst().as_ref().ok().map(|l| l.iter());
        dir.and(proto)
            .and(ports)
            .and(sports)
            .and(packet_side(src, !r.source_asgs.is_empty(), p.src, scope))
            .and(packet_side(
                dst,
                !r.destination_asgs.is_empty(),
                p.dst,
                scope,
            ))
    }

    /// The trace line of an outbound flow the rule matches (or may).
    fn step(&self, nsg: &Nsg, tri: Tri, action: Verdict) -> Step {
        let sure = tri == Tri::Yes;
        let text = self.texts[usize::from(!sure)].get_or_init(|| {
            let prio_s = self
                .priority
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into());
            let access = self
                .rule
                .access
                .value
                .known()
                .cloned()
                .unwrap_or_else(|| "?".into());
            format!(
                "NSG `{}` rule `{}` (priority {prio_s}, {access}) {}",
                decl_name(&nsg.decl),
                decl_name(&self.rule.decl),
                if sure { "matches" } else { "may match" }
            )
            .into()
        });
        step(
            "nsg",
            Some(self.rule.decl.span.clone()),
            text.clone(),
            effect_of(tri, action),
        )
    }
}

/// One side of a packet against a rule's patterns (`None`: not known).
fn packet_side<'a>(
    pats: Option<impl Iterator<Item = &'a Option<AddrPat>>>,
    asgs: bool,
    ip: std::net::IpAddr,
    scope: &VnetScope,
) -> Tri {
    let mut t = match pats {
        Some(l) => Tri::any(l.map(|x| match x {
            Some(pat) => addr_covers(pat, &DestAddr::Ip(ip), Place::Nsg, scope),
            None => Tri::Maybe,
        })),
        None => Tri::Maybe,
    };
    if asgs && t != Tri::Yes {
        t = t.or(Tri::Maybe);
    }
    t
}

/// A slot in an NSG's processing order.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Rule(usize),
    /// Azure's `AllowVnet…` default (priority 65000).
    Vnet,
    /// `AllowInternetOutBound` or `AllowAzureLoadBalancerInBound` (65001).
    Second,
}

/// An NSG with its rules read once and laid out in processing order: what
/// [`eval_nsg`] and [`eval_nsg_packet`] compute, without reading a string
/// per flow. Built once per source path.
#[derive(Clone, Debug)]
pub struct NsgMatcher<'m> {
    nsg: &'m Nsg,
    rules: Vec<RuleMatcher<'m>>,
    order: Vec<Slot>,
    /// Default-rule texts, written when first shown: `AllowVnetOutBound`
    /// and `AllowInternetOutBound` (matches, may match), `DenyAllOutBound`.
    texts: [OnceLock<Arc<str>>; 5],
}

impl<'m> NsgMatcher<'m> {
    pub fn new(nsg: &'m Nsg, rules: &[Member<'m, SecurityRule>]) -> Self {
        // Azure's six default rules always exist; an export that lists some
        // of them (or a subset) does not change them, so the built-ins
        // stand for them.
        let mut rules: Vec<RuleMatcher<'m>> = rules
            .iter()
            .filter(|m| !m.item.is_default)
            .map(RuleMatcher::new)
            .collect();
        // A rule whose priority is unknown may come before any other: it
        // is placed first. Then ascending priority, ties in written order;
        // the defaults after every rule of a lower or equal sort key.
        let key = |r: &RuleMatcher| r.priority.map(|p| p as u64 + 1).unwrap_or(0);
        rules.sort_by_key(key);
        let mut order = vec![];
        let (mut vnet, mut second) = (false, false);
        for (i, r) in rules.iter().enumerate() {
            let k = key(r);
            if k > 65001 && !vnet {
                order.push(Slot::Vnet);
                vnet = true;
            }
            if k > 65002 && !second {
                order.push(Slot::Second);
                second = true;
            }
            order.push(Slot::Rule(i));
        }
        if !vnet {
            order.push(Slot::Vnet);
        }
        if !second {
            order.push(Slot::Second);
        }
        NsgMatcher {
            nsg,
            rules,
            order,
            texts: Default::default(),
        }
    }

    pub fn nsg(&self) -> &'m Nsg {
        self.nsg
    }

    fn text(&self, i: usize, f: impl FnOnce(&str) -> String) -> Arc<str> {
        let make = || -> Arc<str> { f(&decl_name(&self.nsg.decl)).into() };
        match self.texts.get(i) {
            Some(t) => t.get_or_init(make).clone(),
            None => make(),
        }
    }

    /// Evaluate an outbound flow: rules by priority, first match wins, then
    /// Azure's default rules.
    pub fn eval(&self, flow: &Flow, src: Option<&[IpRange]>, scope: &VnetScope) -> Outcome<'m> {
        let nsg = self.nsg;
        let dest = dest_addr(flow);
        let mut cands = vec![];
        for slot in &self.order {
            let c = match *slot {
                Slot::Rule(i) => {
                    let Some(m) = self.rules.get(i) else { continue };
                    let r = m.rule;
                    let (mut tri, mut doubts) = m.matches(nsg, flow, &dest, src, scope);
                    if tri == Tri::No {
                        continue;
                    }
                    if m.priority.is_none() || !m.certain {
                        if m.priority.is_none() {
                            doubts.extend(super::unresolved_of(&r.priority).map(Doubt::Value));
                        } else if let Some(a) = &r.nsg {
                            doubts.extend(super::unresolved_of(a).map(Doubt::Value));
                        }
                        tri = Tri::Maybe;
                    }
                    let action = super::action_of(&r.access.value);
                    if action == Verdict::Unknown {
                        doubts.extend(super::unresolved_of(&r.access).map(Doubt::Value));
                    }
                    Candidate {
                        tri,
                        action,
                        decider: Decider::NsgRule { nsg, rule: r },
                        step: m.step(nsg, tri, action),
                        doubts,
                    }
                }
                Slot::Vnet | Slot::Second => {
                    let (n, prio, tag, base) = match slot {
                        Slot::Vnet => ("AllowVnetOutBound", 65000, "VirtualNetwork", 0),
                        _ => ("AllowInternetOutBound", 65001, "Internet", 2),
                    };
                    let mut doubts = vec![];
                    let tri = match &dest {
                        Ok(d) => addr_covers(&AddrPat::Tag(tag.into()), d, Place::Nsg, scope),
                        Err(u) => {
                            doubts.push(Doubt::Value(u.clone()));
                            Tri::Maybe
                        }
                    };
                    let sure = tri == Tri::Yes;
                    let text = self.text(base + usize::from(!sure), |name| {
                        format!(
                            "NSG `{name}` default rule `{n}` (priority {prio}, Allow) {}",
                            if sure { "matches" } else { "may match" }
                        )
                    });
                    Candidate {
                        tri,
                        action: Verdict::Allowed,
                        decider: Decider::NsgDefault { nsg, name: n },
                        step: step(
                            "nsg",
                            Some(nsg.decl.span.clone()),
                            text,
                            effect_of(tri, Verdict::Allowed),
                        ),
                        doubts,
                    }
                }
            };
            let sure = c.tri == Tri::Yes;
            cands.push(c);
            // First match wins: nothing after a certain match is looked at.
            if sure {
                break;
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
                self.text(4, |name| {
                    format!(
                        "NSG `{name}` default rule `DenyAllOutBound` (priority 65500, Deny) matches"
                    )
                }),
                Effect::Deny,
            ),
            doubts: vec![],
        };
        first_match(cands, default)
    }

    /// Evaluate a packet between known addresses, in either direction, with
    /// the default rules of that direction.
    pub fn eval_packet(&self, p: &Packet, scope: &VnetScope) -> Outcome<'m> {
        let nsg = self.nsg;
        let name = decl_name(&nsg.decl);
        let mut cands = vec![];
        for slot in &self.order {
            let c = match *slot {
                Slot::Rule(i) => {
                    let Some(m) = self.rules.get(i) else { continue };
                    let r = m.rule;
                    let mut tri = m.packet_matches(p, scope);
                    if tri == Tri::No {
                        continue;
                    }
                    if m.priority.is_none() || !m.certain {
                        tri = Tri::Maybe;
                    }
                    let action = super::action_of(&r.access.value);
                    Candidate {
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
                    }
                }
                Slot::Vnet | Slot::Second => {
                    let (n, tri) = match slot {
                        Slot::Vnet => {
                            let vnet = AddrPat::Tag("VirtualNetwork".into());
                            let both = addr_covers(&vnet, &DestAddr::Ip(p.src), Place::Nsg, scope)
                                .and(addr_covers(&vnet, &DestAddr::Ip(p.dst), Place::Nsg, scope));
                            (
                                if p.inbound {
                                    "AllowVnetInBound"
                                } else {
                                    "AllowVnetOutBound"
                                },
                                both,
                            )
                        }
                        _ if p.inbound => (
                            "AllowAzureLoadBalancerInBound",
                            addr_covers(
                                &AddrPat::Tag("AzureLoadBalancer".into()),
                                &DestAddr::Ip(p.src),
                                Place::Nsg,
                                scope,
                            ),
                        ),
                        _ => (
                            "AllowInternetOutBound",
                            addr_covers(
                                &AddrPat::Tag("Internet".into()),
                                &DestAddr::Ip(p.dst),
                                Place::Nsg,
                                scope,
                            ),
                        ),
                    };
                    Candidate {
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
                    }
                }
            };
            let sure = c.tri == Tri::Yes;
            cands.push(c);
            if sure {
                break;
            }
        }
        let deny = if p.inbound {
            "DenyAllInBound"
        } else {
            "DenyAllOutBound"
        };
        first_match(
            cands,
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
}

/// Does one security rule match an outbound flow?
pub fn rule_matches(
    nsg: &Nsg,
    r: &SecurityRule,
    flow: &Flow,
    src: Option<&[IpRange]>,
    scope: &VnetScope,
) -> (Tri, Vec<Doubt>) {
    let m = RuleMatcher::new(&Member {
        item: r,
        certain: true,
    });
    m.matches(nsg, flow, &dest_addr(flow), src, scope)
}

/// Evaluate one NSG for an outbound flow (see [`NsgMatcher`] to evaluate
/// many).
pub fn eval_nsg<'m>(
    nsg: &'m Nsg,
    rules: &[Member<'m, SecurityRule>],
    flow: &Flow,
    src: Option<&[IpRange]>,
    scope: &VnetScope,
) -> Outcome<'m> {
    NsgMatcher::new(nsg, rules).eval(flow, src, scope)
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

/// Evaluate an NSG for a packet between known addresses, in either
/// direction, with the default rules of that direction (see
/// [`NsgMatcher::eval_packet`] to evaluate many).
pub fn eval_nsg_packet<'m>(
    nsg: &'m Nsg,
    rules: &[Member<'m, SecurityRule>],
    p: &Packet,
    scope: &VnetScope,
) -> Outcome<'m> {
    NsgMatcher::new(nsg, rules).eval_packet(p, scope)
}

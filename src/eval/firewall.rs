//! Azure Firewall evaluation, as Azure processes rules (firewall
//! rule-processing.md): threat intelligence aside, DNAT, then network rules,
//! then application rules; within a type, parent policy before child, then
//! rule collection group priority, then collection priority; first match
//! wins; nothing matched is deny.
//!
//! DNAT rules translate inbound traffic to the firewall's public address;
//! they never match a flow that leaves a node subnet, so egress skips them.

use super::addr::{
    IpRange, Place, Tri, VnetScope, fqdn_covers, parse_addr, parse_range, ports_cover,
    protocol_covers, source_covers,
};
use super::nsg::{addrs_cover, dest_addr, effect_of, list_of};
use super::{
    AppProto, Candidate, Decider, Dest, Doubt, Effect, Flow, Outcome, Verdict, first_match, step,
    unresolved_of,
};
use crate::catalog::{Catalog, Destination, Protocol};
use crate::link::{Link, Linked, Unresolved, decl_name};
use crate::model::{
    AppProtocol, Attr, Firewall, FirewallPolicy, FirewallRule, ResKey, RuleCollection,
    RuleCollectionGroup, RuleKind, Value,
};

/// One rule in processing order.
#[derive(Clone, Debug)]
pub struct FwEntry<'m> {
    pub policy: Option<&'m FirewallPolicy>,
    pub group: Option<&'m RuleCollectionGroup>,
    pub collection: &'m RuleCollection,
    pub rule: &'m FirewallRule,
    /// Why its place in the order (or its membership) is not known.
    pub unordered: Option<Unresolved>,
}

/// A firewall with its rules laid out in processing order.
#[derive(Clone, Debug)]
pub struct FwSetup<'m> {
    pub firewall: &'m Firewall,
    /// Root first; empty for a classic firewall.
    pub chain: Vec<&'m FirewallPolicy>,
    /// The policy link could not be made.
    pub chain_unknown: Option<Unresolved>,
    /// DNS proxy on (network-rule FQDNs work), off, or unknown.
    pub dns_proxy: Result<bool, Unresolved>,
    /// Where DNS proxy is set (or should be).
    pub dns_span: crate::source::Span,
    pub network: Vec<FwEntry<'m>>,
    pub application: Vec<FwEntry<'m>>,
    pub nat: Vec<FwEntry<'m>>,
}

impl<'m> FwSetup<'m> {
    /// The policy that names the firewall (the child of the chain).
    pub fn own_policy(&self) -> Option<&'m FirewallPolicy> {
        self.chain.last().copied()
    }

    /// `firewall policy `fw-pol`` or `firewall `fw``.
    pub fn describe(&self) -> String {
        match self.own_policy() {
            Some(p) => format!("firewall policy `{}`", decl_name(&p.decl)),
            None => format!("firewall `{}`", decl_name(&self.firewall.decl)),
        }
    }

    pub fn is_policy(&self) -> bool {
        self.firewall.policy.is_some()
    }
}

fn prio(a: &Attr<u32>) -> Result<u32, Unresolved> {
    match &a.value {
        Value::Known(p) => Ok(*p),
        _ => Err(unresolved_of(a).unwrap_or_else(|| Unresolved {
            reason: "priority not known".into(),
            hint: None,
            span: a.span.clone(),
        })),
    }
}

fn attr_bool(a: &Attr<bool>) -> Result<bool, Unresolved> {
    match &a.value {
        Value::Known(b) => Ok(*b),
        _ => Err(unresolved_of(a).unwrap_or_else(|| Unresolved {
            reason: "value not known".into(),
            hint: None,
            span: a.span.clone(),
        })),
    }
}

/// Processing order: ordered entries after unordered ones, then policy
/// depth, group priority, collection priority, position.
type SortKey = (u8, usize, u32, u32, usize);

/// Lay out a firewall's rules.
pub fn setup<'m>(l: &Linked<'m>, fw: &'m Firewall) -> FwSetup<'m> {
    let mut s = FwSetup {
        firewall: fw,
        chain: vec![],
        chain_unknown: None,
        dns_proxy: Ok(false),
        dns_span: fw.decl.span.clone(),
        network: vec![],
        application: vec![],
        nat: vec![],
    };
    // (sort key, entry); unordered entries sort first and match at best "maybe".
    let mut all: Vec<(SortKey, FwEntry<'m>)> = vec![];
    if fw.policy.is_some() {
        match l.policy_chain(fw) {
            Link::Found(chain) => s.chain = chain,
            Link::Unknown(u) => s.chain_unknown = Some(u),
            Link::Absent => {}
        }
        // DNS settings: the child's own, else inherited from the parent.
        s.dns_proxy = Ok(false);
        if let Some(p) = s.chain.last() {
            s.dns_span = p.decl.span.clone();
        }
        for p in s.chain.iter().rev() {
            if let Some(a) = &p.dns_proxy {
                s.dns_proxy = attr_bool(a);
                s.dns_span = a.span.clone();
                break;
            }
        }
        let mut seq = 0usize;
        for (depth, p) in s.chain.iter().enumerate() {
            for g in l.rcgs(p) {
                let gp = prio(&g.item.priority);
                for c in &g.item.collections {
                    let cp = prio(&c.priority);
                    for r in &c.rules {
                        seq += 1;
                        let unordered = if !g.certain {
                            unresolved_of(&g.item.policy)
                        } else {
                            gp.clone().err().or_else(|| cp.clone().err())
                        };
                        let key = (
                            u8::from(unordered.is_none()),
                            depth,
                            *gp.as_ref().unwrap_or(&0),
                            *cp.as_ref().unwrap_or(&0),
                            seq,
                        );
                        all.push((
                            key,
                            FwEntry {
                                policy: Some(p),
                                group: Some(g.item),
                                collection: c,
                                rule: r,
                                unordered,
                            },
                        ));
                    }
                }
            }
        }
    } else {
        if let Some(a) = &fw.dns_proxy {
            s.dns_proxy = attr_bool(a);
            s.dns_span = a.span.clone();
        }
        let mut seq = 0usize;
        for c in l.classic_collections(fw) {
            let cp = prio(&c.item.priority);
            for r in &c.item.rules {
                seq += 1;
                let unordered = if !c.certain {
                    c.item.firewall.as_ref().and_then(unresolved_of)
                } else {
                    cp.clone().err()
                };
                let key = (
                    u8::from(unordered.is_none()),
                    0,
                    0,
                    *cp.as_ref().unwrap_or(&0),
                    seq,
                );
                all.push((
                    key,
                    FwEntry {
                        policy: None,
                        group: None,
                        collection: c.item,
                        rule: r,
                        unordered,
                    },
                ));
            }
        }
    }
    all.sort_by_key(|(k, _)| *k);
    for (_, e) in all {
        match e.collection.kind {
            RuleKind::Network => s.network.push(e),
            RuleKind::Application => s.application.push(e),
            RuleKind::Nat => s.nat.push(e),
        }
    }
    s
}

/// What rule evaluation needs besides the rule.
pub struct FwEnv<'a, 'm> {
    pub linked: &'a Linked<'m>,
    pub catalog: &'a Catalog,
    pub src: Option<&'a [IpRange]>,
}

fn rule_desc(e: &FwEntry) -> String {
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
    let desc = rule_desc(e);
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
                reason: format!("{} allows some URL paths only", rule_desc(e)),
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
                rule_desc(e)
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
                &rule_desc(e),
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
                rule_desc(e),
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

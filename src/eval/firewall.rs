//! Azure Firewall evaluation, as Azure processes rules (firewall
//! rule-processing.md): threat intelligence aside, DNAT, then network rules,
//! then application rules; within a type, parent policy before child, then
//! rule collection group priority, then collection priority; first match
//! wins; nothing matched is deny.
//!
//! DNAT rules translate inbound traffic to the firewall's public address;
//! they never match a flow that leaves a node subnet, so egress skips them.

use super::addr::{
    AddrPat, DestAddr, IpRange, Place, Ports, ProtoMatch, Tri, VnetScope, fqdn_covers_norm,
    fqdn_pattern, norm_fqdn, norm_pattern_valid, parse_addr, parse_range, source_covers,
};
use super::nsg::{addrs_cover_parsed, dest_addr, effect_of, list_of, parse_addrs};
use super::{
    AppProto, Candidate, Decider, Dest, Doubt, Effect, Flow, Outcome, Step, Verdict, first_match,
    step, unresolved_of,
};
use crate::catalog::{Catalog, Destination, Protocol};
use crate::link::{Link, Linked, Unresolved, decl_name};
use crate::model::{
    AppProtocol, Attr, Firewall, FirewallPolicy, FirewallRule, ResKey, RuleCollection,
    RuleCollectionGroup, RuleKind, Value,
};
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

/// One rule in processing order.
#[derive(Clone, Debug)]
pub struct FwEntry<'m> {
    pub policy: Option<&'m FirewallPolicy>,
    pub group: Option<&'m RuleCollectionGroup>,
    pub collection: &'m RuleCollection,
    pub rule: &'m FirewallRule,
    /// Why its place in the order (or its membership) is not known.
    pub unordered: Option<Unresolved>,
    /// The rule read once.
    matcher: RuleMatcher<'m>,
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
    /// [`FwSetup::describe`], written once.
    what: String,
    /// Texts of the default deny (no rule may match, some may) and of the
    /// first step.
    texts: [OnceLock<Arc<str>>; 3],
}

impl<'m> FwSetup<'m> {
    /// The policy that names the firewall (the child of the chain).
    pub fn own_policy(&self) -> Option<&'m FirewallPolicy> {
        self.chain.last().copied()
    }

    /// `firewall policy `fw-pol`` or `firewall `fw``.
    pub fn describe(&self) -> String {
        self.what.clone()
    }

    fn describe_fresh(&self) -> String {
        match self.own_policy() {
            Some(p) => format!("firewall policy `{}`", decl_name(&p.decl)),
            None => format!("firewall `{}`", decl_name(&self.firewall.decl)),
        }
    }

    fn text(&self, i: usize, f: impl FnOnce(&str) -> String) -> Arc<str> {
        let make = || -> Arc<str> { f(&self.what).into() };
        match self.texts.get(i) {
            Some(t) => t.get_or_init(make).clone(),
            None => make(),
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
        what: String::new(),
        texts: Default::default(),
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
                                matcher: RuleMatcher::new(l, c, r),
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
                        matcher: RuleMatcher::new(l, c.item, r),
                    },
                ));
            }
        }
    }
    s.what = s.describe_fresh();
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

/// A known list read once, or the doubt its value raises.
/// A list read once, or why it cannot be (boxed: most lists are read).
type Listed<T> = Result<T, Box<Doubt>>;

fn listed<'m, T>(a: &'m Attr<Vec<String>>, f: impl FnOnce(&'m [String]) -> T) -> Listed<T> {
    list_of(a).map(|l| f(l)).map_err(Box::new)
}

/// IP groups read once: for each key, its ranges (`None`: unreadable) or
/// why they are not known. `Err` when the list itself is not known.
type Groups = Result<Vec<Link<Vec<Option<IpRange>>>>, Option<Box<Doubt>>>;

fn groups(l: &Linked, a: &Attr<Vec<ResKey>>) -> Groups {
    match &a.value {
        Value::Known(keys) => Ok(keys
            .iter()
            .map(|k| match l.ip_group_cidrs_by_key(k, &a.span) {
                Link::Found(cidrs) => Link::Found(cidrs.iter().map(|c| parse_range(c)).collect()),
                Link::Absent => Link::Absent,
                Link::Unknown(u) => Link::Unknown(u),
            })
            .collect()),
        _ => Err(unresolved_of(a).map(|u| Box::new(Doubt::Value(u)))),
    }
}

fn groups_match(g: &Groups, doubts: &mut Vec<Doubt>, f: impl Fn(IpRange) -> Tri) -> Tri {
    let links = match g {
        Ok(l) => l,
        Err(d) => {
            doubts.extend(d.as_deref().cloned());
            return Tri::Maybe;
        }
    };
    let mut t = Tri::No;
    for link in links {
        match link {
            Link::Found(ranges) => {
                for r in ranges {
                    t = t.or(match r {
                        Some(r) => f(*r),
                        None => Tri::Maybe,
                    });
                }
            }
            Link::Absent => {}
            Link::Unknown(u) => {
                doubts.push(Doubt::Value(u.clone()));
                t = t.or(Tri::Maybe);
            }
        }
    }
    t
}

/// Application protocols as written: absent (or an empty list), each
/// `(protocol, port)` (`None`: a kind that is neither HTTP nor HTTPS), or
/// not known.
#[derive(Clone, Debug)]
enum AppProtos {
    Absent,
    Known(Vec<Option<(AppProto, u16)>>),
    Unknown(Option<Box<Doubt>>),
}

fn app_protocol(p: &AppProtocol) -> Option<(AppProto, u16)> {
    let kind = p.kind.trim();
    let (k, default) = if kind.eq_ignore_ascii_case("http") {
        (AppProto::Http, 80)
    } else if kind.eq_ignore_ascii_case("https") {
        (AppProto::Https, 443)
    } else {
        return None;
    };
    Some((k, p.port.unwrap_or(default)))
}

/// An FQDN pattern read once: normalised (borrowed when written so), or
/// `None` when Azure rejects it.
type Pattern<'m> = Option<Cow<'m, str>>;

/// Address patterns read once, and the texts they were read from.
type Addrs<'m> = (Vec<Option<AddrPat>>, &'m [String]);

/// FQDN patterns read once.
fn patterns<'m>(list: impl IntoIterator<Item = &'m str>) -> Vec<Pattern<'m>> {
    list.into_iter()
        .map(|p| {
            let plain =
                p.trim() == p && !p.ends_with('.') && !p.bytes().any(|b| b.is_ascii_uppercase());
            if plain {
                norm_pattern_valid(p).then_some(Cow::Borrowed(p))
            } else {
                fqdn_pattern(p).map(Cow::Owned)
            }
        })
        .collect()
}

/// A firewall rule with its strings read once, when the firewall is laid
/// out: the same answers as reading them for every flow.
#[derive(Clone, Debug)]
struct RuleMatcher<'m> {
    rule: &'m FirewallRule,
    collection: &'m RuleCollection,
    /// `network rule `x` in collection `y``, written when first needed.
    desc: OnceLock<String>,
    src_addrs: Option<Listed<Vec<Option<AddrPat>>>>,
    src_groups: Option<Groups>,
    protocols: Option<Listed<ProtoMatch>>,
    dst_ports: Option<Listed<Ports>>,
    dst_addrs: Option<Listed<Addrs<'m>>>,
    dst_groups: Option<Groups>,
    dst_fqdns: Option<Listed<Vec<Pattern<'m>>>>,
    app_protocols: AppProtos,
    target_fqdns: Option<Listed<Vec<Pattern<'m>>>>,
    fqdn_tags: Option<Listed<&'m [String]>>,
    /// The host part of each URL, as an FQDN pattern.
    target_urls: Option<Listed<Vec<Pattern<'m>>>>,
    /// Web categories that are not an empty list.
    web_categories: bool,
    /// Step texts (matches, may match), written when first shown.
    texts: [OnceLock<Arc<str>>; 2],
}

impl<'m> RuleMatcher<'m> {
    fn new(l: &Linked<'m>, c: &'m RuleCollection, r: &'m FirewallRule) -> Self {
        RuleMatcher {
            rule: r,
            collection: c,
            desc: OnceLock::new(),
            src_addrs: r
                .source_addresses
                .as_ref()
                .map(|a| listed(a, |l| l.iter().map(|p| parse_addr(p)).collect())),
            src_groups: r.source_ip_groups.as_ref().map(|a| groups(l, a)),
            protocols: r.protocols.as_ref().map(|a| listed(a, ProtoMatch::any)),
            dst_ports: r
                .destination_ports
                .as_ref()
                .map(|a| listed(a, Ports::parse)),
            dst_addrs: r
                .destination_addresses
                .as_ref()
                .map(|a| listed(a, |l| (parse_addrs(l), l))),
            dst_groups: r.destination_ip_groups.as_ref().map(|a| groups(l, a)),
            dst_fqdns: r
                .destination_fqdns
                .as_ref()
                .map(|a| listed(a, |l| patterns(l.iter().map(String::as_str)))),
            app_protocols: match &r.app_protocols {
                None => AppProtos::Absent,
                Some(a) => match &a.value {
                    Value::Known(l) if l.is_empty() => AppProtos::Absent,
                    Value::Known(l) => AppProtos::Known(l.iter().map(app_protocol).collect()),
                    _ => AppProtos::Unknown(unresolved_of(a).map(|u| Box::new(Doubt::Value(u)))),
                },
            },
            target_fqdns: r
                .target_fqdns
                .as_ref()
                .map(|a| listed(a, |l| patterns(l.iter().map(String::as_str)))),
            fqdn_tags: r.fqdn_tags.as_ref().map(|a| listed(a, |l| l)),
            target_urls: r.target_urls.as_ref().map(|a| {
                listed(a, |l| {
                    patterns(l.iter().map(|u| u.split('/').next().unwrap_or("")))
                })
            }),
            web_categories: r
                .web_categories
                .as_ref()
                .is_some_and(|a| list_of(a).map(|l| !l.is_empty()).unwrap_or(true)),
            texts: Default::default(),
        }
    }

    fn desc(&self) -> &str {
        self.desc.get_or_init(|| {
            let kind = match self.collection.kind {
                RuleKind::Network => "network rule",
                RuleKind::Application => "application rule",
                RuleKind::Nat => "DNAT rule",
            };
            format!(
                "{kind} `{}` in collection `{}`",
                decl_name(&self.rule.decl),
                decl_name(&self.collection.decl)
            )
        })
    }

    fn source(&self, env: &FwEnv, r: &FirewallRule, doubts: &mut Vec<Doubt>) -> Tri {
        if self.src_addrs.is_none() && self.src_groups.is_none() {
            return Tri::Yes;
        }
        let mut t = Tri::No;
        if let Some(a) = &self.src_addrs {
            match a {
                Ok(l) => {
                    t = t.or(Tri::any(l.iter().map(|p| match p {
                        Some(pat) => source_covers(pat, env.src, Place::Firewall),
                        None => Tri::Maybe,
                    })))
                }
                Err(d) => {
                    doubts.push(*d.clone());
                    t = t.or(Tri::Maybe);
                }
            }
        }
        if let Some(g) = &self.src_groups {
            t = t.or(groups_match(g, doubts, |r| {
                source_covers(&AddrPat::Range(r), env.src, Place::Firewall)
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

    fn addrs(&self, r: &FirewallRule, fv: &FlowView, doubts: &mut Vec<Doubt>) -> Tri {
        match &self.dst_addrs {
            None => Tri::No,
            Some(Ok((pats, texts))) => addrs_cover_parsed(
                pats,
                texts,
                &fv.dest,
                Place::Firewall,
                &VnetScope::default(),
                &r.decl.span,
                self.desc(),
                doubts,
            ),
            Some(Err(d)) => {
                doubts.push(*d.clone());
                Tri::Maybe
            }
        }
    }

    fn network(
        &self,
        s: &FwSetup,
        r: &FirewallRule,
        fv: &FlowView,
        doubts: &mut Vec<Doubt>,
    ) -> Tri {
        let flow = fv.flow;
        let mut t = match &self.protocols {
            None => Tri::Maybe,
            Some(Ok(p)) => p.covers(flow.transport),
            Some(Err(d)) => {
                doubts.push(*d.clone());
                Tri::Maybe
            }
        };
        t = t.and(match &self.dst_ports {
            None => Tri::Maybe,
            Some(Ok(p)) => p.cover(flow.port),
            Some(Err(d)) => {
                doubts.push(*d.clone());
                Tri::Maybe
            }
        });
        if t == Tri::No {
            return t;
        }
        let mut dt = self.addrs(r, fv, doubts);
        if let Some(g) = &self.dst_groups {
            dt = dt.or(groups_match(g, doubts, |range| match &fv.dest {
                Ok(DestAddr::Ip(ip)) => Tri::from_bool(range.contains_ip(*ip)),
                Ok(_) if range.is_all_v4() => Tri::Yes,
                Ok(_) if range.is_non_public() => Tri::No,
                _ => Tri::Maybe,
            }));
        }
        if let Some(f) = &self.dst_fqdns {
            let ft = match f {
                Ok(l) => Tri::any(l.iter().map(|p| match &flow.dest {
                    Dest::Fqdn { .. } => fv.fqdn(p),
                    Dest::Ip(ip) if super::addr::is_non_public_ip(*ip) => Tri::No,
                    // A name resolves to addresses that may include this one.
                    _ => Tri::Maybe,
                })),
                Err(d) => {
                    doubts.push(*d.clone());
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

    fn app(&self, env: &FwEnv, r: &FirewallRule, fv: &FlowView, doubts: &mut Vec<Doubt>) -> Tri {
        let flow = fv.flow;
        let Some(app) = flow.app else {
            return Tri::No;
        };
        if !matches!(flow.dest, Dest::Fqdn { .. }) {
            return Tri::No;
        }
        // Protocols as written; a rule with FQDN tags and no protocols takes
        // the tag's own (classic collections forbid both together).
        let pt = match &self.app_protocols {
            AppProtos::Absent => None,
            AppProtos::Known(l) => Some(Tri::any(l.iter().map(|p| match p {
                Some((k, port)) => Tri::from_bool(*k == app && *port == flow.port),
                None => Tri::No,
            }))),
            AppProtos::Unknown(d) => {
                doubts.extend(d.as_deref().cloned());
                Some(Tri::Maybe)
            }
        };
        if pt == Some(Tri::No) {
            return Tri::No;
        }
        // Explicit FQDNs and addresses need explicit protocols.
        let t = pt.unwrap_or(Tri::No);
        let mut dt = Tri::No;
        if let Some(a) = &self.target_fqdns {
            dt = dt.or(match a {
                Ok(l) => Tri::any(l.iter().map(|p| fv.fqdn(p))),
                Err(d) => {
                    doubts.push(*d.clone());
                    Tri::Maybe
                }
            });
        }
        let mut tag_t = Tri::No;
        if let Some(a) = &self.fqdn_tags {
            tag_t = match a {
                Ok(l) => Tri::any(l.iter().map(|tag| fqdn_tag_match(env, tag, flow, app))),
                Err(d) => {
                    doubts.push(*d.clone());
                    Tri::Maybe
                }
            };
            // With explicit protocols the flow must match them too.
            if let Some(p) = pt {
                tag_t = tag_t.and(p);
            }
        }
        if let Some(a) = &self.target_urls {
            // A URL rule matches a host and a path: some requests only.
            let ut = match a {
                Ok(l) => Tri::any(l.iter().map(|host| fv.fqdn(host).and(Tri::Maybe))),
                Err(d) => {
                    doubts.push(*d.clone());
                    Tri::Maybe
                }
            };
            if ut == Tri::Maybe {
                doubts.push(Doubt::Other {
                    span: r.decl.span.clone(),
                    reason: format!("{} allows some URL paths only", self.desc()),
                });
            }
            dt = dt.or(ut);
        }
        if self.web_categories {
            doubts.push(Doubt::Other {
                span: r.decl.span.clone(),
                reason: format!(
                    "{} uses web categories, which Microsoft assigns",
                    self.desc()
                ),
            });
            dt = dt.or(Tri::Maybe);
        }
        if self.dst_addrs.is_some() {
            dt = dt.or(self.addrs(r, fv, doubts));
        }
        t.and(dt).or(tag_t)
    }
}

/// A flow's destination, read once per evaluation.
struct FlowView<'f> {
    flow: &'f Flow,
    dest: Result<DestAddr, Unresolved>,
    /// For an FQDN: the normalised name (`{location}` filled with a name
    /// no pattern names), and whether it had `{location}`.
    name: Option<(String, bool)>,
}

impl<'f> FlowView<'f> {
    fn new(flow: &'f Flow) -> Self {
        let name = match &flow.dest {
            Dest::Fqdn { name, .. } if name.contains("{location}") => Some((
                norm_fqdn(&name.replace("{location}", "location-not-known")),
                true,
            )),
            Dest::Fqdn { name, .. } => Some((norm_fqdn(name), false)),
            _ => None,
        };
        FlowView {
            flow,
            dest: dest_addr(flow),
            name,
        }
    }

    /// An FQDN pattern against the destination, keeping `{location}` doubts.
    fn fqdn(&self, pattern: &Pattern) -> Tri {
        let Some((name, location)) = &self.name else {
            return Tri::No;
        };
        let t = match pattern {
            Some(p) => fqdn_covers_norm(p, name),
            None => Tri::No,
        };
        match (location, t) {
            (false, t) => t,
            (true, Tri::Yes) => Tri::Yes,
            (true, _) => Tri::Maybe,
        }
    }
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

impl<'m> FwEntry<'m> {
    /// The trace line of a flow the rule matches (or may).
    fn step(&self, what: &str, tri: Tri, action: Verdict) -> Step {
        let sure = tri == Tri::Yes;
        let text = self.matcher.texts[usize::from(!sure)].get_or_init(|| {
            format!(
                "{what}: {} ({}) {}",
                self.matcher.desc(),
                self.collection
                    .action
                    .value
                    .known()
                    .cloned()
                    .unwrap_or_else(|| "?".into()),
                if sure { "matches" } else { "may match" }
            )
            .into()
        });
        step(
            "firewall",
            Some(self.rule.decl.span.clone()),
            text.clone(),
            effect_of(tri, action),
        )
    }
}

/// Evaluate a flow against a firewall.
pub fn eval_firewall<'m>(env: &FwEnv<'_, 'm>, s: &FwSetup<'m>, flow: &Flow) -> Outcome<'m> {
    let fw = s.firewall;
    let what = &s.what;
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
    let fv = FlowView::new(flow);
    let mut cands = vec![];
    'rules: for (list, is_net) in [(&s.network, true), (&s.application, false)] {
        for e in list {
            let m = &e.matcher;
            let mut doubts = vec![];
            let mut tri = match m.source(env, e.rule, &mut doubts) {
                Tri::No => Tri::No,
                st => st.and(if is_net {
                    m.network(s, e.rule, &fv, &mut doubts)
                } else {
                    m.app(env, e.rule, &fv, &mut doubts)
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
                step: e.step(what, tri, action),
                doubts,
            });
            // First match wins: no later rule is looked at.
            if tri == Tri::Yes {
                break 'rules;
            }
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
                s.text(0, |what| {
                    format!(
                        "{what}: otherwise no rule matches, and Azure Firewall denies by default"
                    )
                })
            } else {
                s.text(1, |what| {
                    format!("{what}: no rule matches, Azure Firewall denies by default")
                })
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
            s.text(2, |what| format!("{what} inspects the flow")),
            Effect::Pass,
        ),
    );
    o
}

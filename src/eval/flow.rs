//! The whole path of one flow: the source subnet's NSG, then its route
//! table (or the system routes), then whatever the chosen next hop is: the
//! Internet, a firewall, a black hole, a gateway.

use super::addr::{IpRange, Tri, VnetScope, parse_range};
use super::firewall::{FwEnv, FwSetup, eval_firewall, setup};
use super::nsg::{NsgMatcher, eval_nsg};
use super::reference;
use super::route::{NextHop, RouteChoice, RouteSet};
use super::{Decider, Doubt, Effect, Flow, Outcome, Verdict, combine_branches, step};
use crate::catalog::Catalog;
use crate::link::{ApplianceLink, Link, Linked, Member, Unresolved, decl_name};
use crate::model::{Cluster, Firewall, Nsg, Route, RouteTable, SecurityRule, Subnet, Value};
use crate::source::Span;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::OnceLock;

/// How a cluster sends traffic to the Internet.
#[derive(Clone, Debug, PartialEq)]
pub enum Outbound {
    /// `loadBalancer` (the default) or a NAT gateway.
    Direct,
    /// `userDefinedRouting`: the subnet must route `0.0.0.0/0` itself.
    Udr,
    /// `none` / `block`: network-isolated.
    Isolated(String),
    Unknown(Unresolved),
}

impl Outbound {
    pub fn of(c: &Cluster) -> Outbound {
        match &c.outbound_type {
            None => Outbound::Direct,
            Some(a) => match &a.value {
                Value::Known(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "userdefinedrouting" => Outbound::Udr,
                    "none" | "block" => Outbound::Isolated(s.clone()),
                    _ => Outbound::Direct,
                },
                _ => Outbound::Unknown(super::unresolved_of(a).unwrap_or_else(|| Unresolved {
                    reason: "outbound type not known".into(),
                    hint: None,
                    span: a.span.clone(),
                })),
            },
        }
    }
}

/// Where flows start: one node or pod subnet (or, for a folder of NSG
/// exports, one NSG standing for an AKS node subnet).
#[derive(Clone, Debug)]
pub struct SourcePath<'m> {
    /// Subnet name for messages.
    pub name: String,
    /// `node` or `pod`.
    pub role: &'static str,
    pub subnet: Option<&'m Subnet>,
    /// Where the pool names the subnet.
    pub ref_span: Option<Span>,
    pub ranges: Option<Vec<IpRange>>,
    pub scope: VnetScope,
    pub nsg: Link<(&'m Nsg, Span)>,
    pub nsg_rules: Vec<Member<'m, SecurityRule>>,
    pub route_table: Link<(&'m RouteTable, Span)>,
    pub routes: Vec<Member<'m, Route>>,
    pub outbound: Outbound,
    /// Evaluate the NSG alone (NSG exports without a cluster).
    pub nsg_only: bool,
    /// The NSG, routes and texts above, read once for every flow from this
    /// source (so the fields above are not to be changed after it is made).
    compiled: Compiled<'m>,
}

/// What every flow from one source reads, read once.
#[derive(Clone, Debug)]
struct Compiled<'m> {
    nsg: Option<NsgMatcher<'m>>,
    routes: RouteSet<'m>,
    /// Each `VirtualAppliance` route: where it leads, and the trace line
    /// when it leads to a firewall.
    appliances: Vec<(&'m Route, ApplianceLink<'m>, Option<Arc<str>>)>,
    /// The trace line of an NSG that is absent or not known.
    nsg_text: Arc<str>,
    /// The trace line of the route table.
    route_table_text: Arc<str>,
}

impl<'m> Compiled<'m> {
    /// A placeholder until the source path is complete.
    fn empty() -> Self {
        Compiled {
            nsg: None,
            routes: RouteSet::default(),
            appliances: vec![],
            nsg_text: Arc::from(""),
            route_table_text: Arc::from(""),
        }
    }

    fn new(l: &Linked<'m>, p: &SourcePath<'m>) -> Self {
        let appliances = p
            .routes
            .iter()
            .filter(|m| {
                m.item
                    .next_hop_type
                    .value
                    .known()
                    .is_some_and(|h| next_hop_is_appliance(h))
            })
            .map(|m| {
                let link = l.appliance(m.item);
                let text = match &link {
                    ApplianceLink::Firewall(hop) => Some(appliance_text(hop)),
                    _ => None,
                };
                (m.item, link, text)
            })
            .collect();
        Compiled {
            nsg: match &p.nsg {
                Link::Found((n, _)) => Some(NsgMatcher::new(n, &p.nsg_rules)),
                _ => None,
            },
            routes: RouteSet::new(&p.routes, &p.scope),
            appliances,
            nsg_text: nsg_text(p).into(),
            route_table_text: route_table_text(p).into(),
        }
    }

    fn appliance(&self, r: &Route) -> Option<(&ApplianceLink<'m>, Option<&Arc<str>>)> {
        self.appliances
            .iter()
            .find(|(x, _, _)| std::ptr::eq(*x, r))
            .map(|(_, link, text)| (link, text.as_ref()))
    }
}

fn next_hop_is_appliance(h: &str) -> bool {
    matches!(super::route::next_hop_of(h), NextHop::Appliance)
}

fn appliance_text(hop: &crate::link::FirewallHop) -> Arc<str> {
    format!(
        "next hop is firewall `{}`: {}",
        decl_name(&hop.firewall.decl),
        hop.how
    )
    .into()
}

fn nsg_text(p: &SourcePath) -> String {
    match &p.nsg {
        Link::Unknown(u) => format!("the NSG of subnet `{}` is not known: {}", p.name, u.reason),
        _ => format!("subnet `{}` has no NSG", p.name),
    }
}

fn route_table_text(p: &SourcePath) -> String {
    match &p.route_table {
        Link::Found((rt, _)) => format!(
            "subnet `{}` uses route table `{}`",
            p.name,
            decl_name(&rt.decl)
        ),
        Link::Absent => format!(
            "subnet `{}` has no route table: system routes apply",
            p.name
        ),
        Link::Unknown(u) => format!(
            "the route table of subnet `{}` is not known: {}",
            p.name, u.reason
        ),
    }
}

impl<'m> SourcePath<'m> {
    /// Path of a subnet of the code.
    pub fn of_subnet(
        l: &Linked<'m>,
        s: &'m Subnet,
        role: &'static str,
        outbound: Outbound,
    ) -> Self {
        let ranges = l.subnet_ranges(s);
        let vnet = l.vnet_of(s);
        let space = vnet.and_then(|v| {
            v.address_space
                .value
                .known()
                .and_then(|l| l.iter().map(|p| parse_range(p)).collect::<Option<Vec<_>>>())
        });
        let nsg = l.nsg_of(s);
        let nsg_rules = match &nsg {
            Link::Found((n, _)) => l.nsg_rules(n),
            _ => vec![],
        };
        let route_table = l.route_table_of(s);
        let routes = match &route_table {
            Link::Found((rt, _)) => l.routes(rt),
            _ => vec![],
        };
        let udr_prefixes = routes
            .iter()
            .filter_map(|m| m.item.address_prefix.value.known().cloned())
            .collect();
        SourcePath {
            name: decl_name(&s.decl),
            role,
            subnet: Some(s),
            ref_span: None,
            ranges,
            scope: VnetScope {
                space,
                udr_prefixes,
            },
            nsg,
            nsg_rules,
            route_table,
            routes,
            outbound,
            nsg_only: false,
            compiled: Compiled::empty(),
        }
        .compile(l)
    }

    fn compile(mut self, l: &Linked<'m>) -> Self {
        self.compiled = Compiled::new(l, &self);
        self
    }

    /// The NSG read once, when the source has one.
    pub fn nsg_matcher(&self) -> Option<&NsgMatcher<'m>> {
        self.compiled.nsg.as_ref()
    }

    /// The routes read once.
    pub fn route_set(&self) -> &RouteSet<'m> {
        &self.compiled.routes
    }

    /// An NSG standing for an AKS node subnet whose prefixes are not known.
    pub fn of_nsg(l: &Linked<'m>, n: &'m Nsg) -> Self {
        // The subnet it guards, when the scanned files declare it.
        let guarded = l.subnets_of_nsg(n).into_iter().next();
        let ranges = guarded.and_then(|s| l.subnet_ranges(s));
        let space = guarded.and_then(|s| l.vnet_of(s)).and_then(|v| {
            v.address_space
                .value
                .known()
                .and_then(|l| l.iter().map(|p| parse_range(p)).collect::<Option<Vec<_>>>())
        });
        SourcePath {
            name: decl_name(&n.decl),
            role: "node",
            subnet: None,
            ref_span: None,
            ranges,
            scope: VnetScope {
                space,
                udr_prefixes: vec![],
            },
            nsg: Link::Found((n, n.decl.span.clone())),
            nsg_rules: l.nsg_rules(n),
            route_table: Link::Absent,
            routes: vec![],
            outbound: Outbound::Direct,
            nsg_only: true,
            compiled: Compiled::empty(),
        }
        .compile(l)
    }
}

/// Evaluates flows over the linked model.
pub struct Evaluator<'a, 'm> {
    pub linked: &'a Linked<'m>,
    pub catalog: &'a Catalog,
    /// Each firewall's rules, read the first time a flow reaches it: an
    /// evaluator made for a batch of clusters holds only their firewalls.
    setups: Vec<OnceLock<FwSetup<'m>>>,
    /// Firewall (by address) → its setup.
    by_firewall: HashMap<usize, usize>,
    /// Read every rule again for every flow ([`reference`]) instead of
    /// using the matchers read once.
    reference: bool,
}

impl<'a, 'm> Evaluator<'a, 'm> {
    pub fn new(linked: &'a Linked<'m>, catalog: &'a Catalog) -> Self {
        let firewalls = &linked.model.firewalls;
        let mut by_firewall = HashMap::new();
        for (i, f) in firewalls.iter().enumerate() {
            by_firewall
                .entry(f as *const Firewall as usize)
                .or_insert(i);
        }
        Evaluator {
            linked,
            catalog,
            setups: firewalls.iter().map(|_| OnceLock::new()).collect(),
            by_firewall,
            reference: false,
        }
    }

    /// An evaluator that reads every rule again for every flow: the
    /// reference the matchers read once are tested against.
    pub fn reference(linked: &'a Linked<'m>, catalog: &'a Catalog) -> Self {
        Evaluator {
            reference: true,
            ..Evaluator::new(linked, catalog)
        }
    }

    pub fn setup_of(&self, fw: &Firewall) -> Option<&FwSetup<'m>> {
        let i = *self.by_firewall.get(&(fw as *const Firewall as usize))?;
        let f = self.linked.model.firewalls.get(i)?;
        Some(self.setups.get(i)?.get_or_init(|| setup(self.linked, f)))
    }

    /// Evaluate one flow from one source.
    pub fn eval(&self, p: &SourcePath<'m>, flow: &Flow) -> Outcome<'m> {
        let c = &p.compiled;
        let nsg_out = match &p.nsg {
            Link::Found((n, _)) => match (&c.nsg, self.reference) {
                (Some(m), false) => m.eval(flow, p.ranges.as_deref(), &p.scope),
                (_, true) => {
                    reference::eval_nsg(n, &p.nsg_rules, flow, p.ranges.as_deref(), &p.scope)
                }
                (None, false) => eval_nsg(n, &p.nsg_rules, flow, p.ranges.as_deref(), &p.scope),
            },
            Link::Absent => {
                let mut o = Outcome::new(Verdict::Allowed, Decider::Undecided);
                o.steps.push(step(
                    "nsg",
                    p.subnet.map(|s| s.decl.span.clone()),
                    c.nsg_text.clone(),
                    Effect::Pass,
                ));
                o
            }
            Link::Unknown(u) => {
                let mut o = Outcome::new(Verdict::Unknown, Decider::Undecided);
                o.steps.push(step(
                    "nsg",
                    Some(u.span.clone()),
                    c.nsg_text.clone(),
                    Effect::Maybe,
                ));
                o.doubts.push(Doubt::Value(u.clone()));
                o
            }
        };
        if p.nsg_only {
            return nsg_out;
        }
        let route_out = self.eval_routes(p, flow);
        join(nsg_out, route_out)
    }

    fn eval_routes(&self, p: &SourcePath<'m>, flow: &Flow) -> Outcome<'m> {
        let mut pre = vec![];
        let mut pre_doubts = vec![];
        let text = p.compiled.route_table_text.clone();
        match &p.route_table {
            Link::Found((_, span)) => {
                pre.push(step("route-table", Some(span.clone()), text, Effect::Pass))
            }
            Link::Absent => pre.push(step(
                "route-table",
                p.subnet.map(|s| s.decl.span.clone()),
                text,
                Effect::Pass,
            )),
            Link::Unknown(u) => {
                let mut o = Outcome::new(Verdict::Unknown, Decider::Undecided);
                o.steps.push(step(
                    "route-table",
                    Some(u.span.clone()),
                    text,
                    Effect::Maybe,
                ));
                o.doubts.push(Doubt::Value(u.clone()));
                return o;
            }
        }
        let choices = if self.reference {
            reference::choices(&p.routes, &p.scope, flow)
        } else {
            p.compiled.routes.choices_until_certain(flow)
        };
        let mut branches = vec![];
        let mut decided = None;
        for c in choices {
            let tri = c.tri;
            let mut o = self.follow(p, flow, &c);
            o.steps.insert(
                0,
                step(
                    "route",
                    c.route.map(|r| r.decl.span.clone()),
                    c.step_text.clone(),
                    if tri == Tri::Yes {
                        Effect::Pass
                    } else {
                        Effect::Maybe
                    },
                ),
            );
            if tri == Tri::Yes {
                decided = Some(o);
                break;
            }
            pre_doubts.extend(c.doubts);
            branches.push(o);
        }
        if let Some(d) = decided {
            // Uncertain longer routes first, the certain one last.
            branches.push(d);
        }
        // Put the branch whose verdict wins (when all agree) first, so its
        // decider is reported.
        let mut o = match combine_branches(branches) {
            Some(o) => o,
            None => Outcome::new(Verdict::Unknown, Decider::Undecided),
        };
        let mut steps = pre;
        steps.append(&mut o.steps);
        o.steps = steps;
        o.doubts.extend(pre_doubts);
        o
    }

    fn follow(&self, p: &SourcePath<'m>, flow: &Flow, c: &RouteChoice<'m>) -> Outcome<'m> {
        let hop = match &c.hop {
            Ok(h) => h.clone(),
            Err(d) => {
                let mut o = Outcome::new(Verdict::Unknown, Decider::Undecided);
                o.doubts.push(d.clone());
                return o;
            }
        };
        match hop {
            NextHop::Internet => {
                if c.system && &*c.prefix == "0.0.0.0/0" {
                    match &p.outbound {
                        Outbound::Udr => {
                            if let Some(s) = p.subnet {
                                let mut o = Outcome::new(
                                    Verdict::Denied,
                                    Decider::UdrWithoutDefault { subnet: s },
                                );
                                o.steps.push(step(
                                    "internet",
                                    None,
                                    "outbound type `userDefinedRouting` gives no Internet egress without a `0.0.0.0/0` route",
                                    Effect::Deny,
                                ));
                                return o;
                            }
                        }
                        Outbound::Unknown(u) => {
                            let mut o = Outcome::new(Verdict::Unknown, Decider::Undecided);
                            o.doubts.push(Doubt::Value(u.clone()));
                            o.steps.push(step(
                                "internet",
                                Some(u.span.clone()),
                                "whether the cluster has Internet egress depends on its outbound type, which is not known",
                                Effect::Maybe,
                            ));
                            return o;
                        }
                        _ => {}
                    }
                }
                let mut o = Outcome::new(Verdict::Allowed, Decider::Internet { route: c.route });
                o.steps.push(step(
                    "internet",
                    None,
                    "leaves to the Internet",
                    Effect::Allow,
                ));
                o
            }
            NextHop::VnetLocal => {
                let mut o = Outcome::new(Verdict::Allowed, Decider::VnetLocal);
                o.steps.push(step(
                    "route",
                    None,
                    "stays inside the virtual network",
                    Effect::Allow,
                ));
                o
            }
            NextHop::None => match c.route {
                Some(r) => {
                    let mut o = Outcome::new(
                        Verdict::Denied,
                        Decider::BlackHole {
                            route: r,
                            why: format!(
                                "route `{}` sends `{}` to next hop `None`",
                                decl_name(&r.decl),
                                c.prefix
                            ),
                        },
                    );
                    o.steps.push(step(
                        "route",
                        Some(r.decl.span.clone()),
                        "next hop `None` drops the flow",
                        Effect::Deny,
                    ));
                    o
                }
                None => {
                    // Peerings and gateways add routes the scanned files may not show.
                    let mut o = Outcome::new(
                        Verdict::Unknown,
                        Decider::SystemRoute {
                            text: format!("system route `{}` → None", c.prefix),
                        },
                    );
                    let span = p.subnet.map(|s| s.decl.span.clone()).unwrap_or_default();
                    // An unknown destination may or may not lie outside:
                    // the doubt about its value already says why.
                    if !matches!(flow.dest, super::Dest::Unknown(_)) {
                        o.doubts.push(Doubt::Other {
                            span: span.clone(),
                            reason: format!(
                                "`{}` lies outside the virtual network: only a peering or gateway the scanned files do not show can reach it",
                                flow.display
                            ),
                        });
                    }
                    o.steps.push(step(
                        "route",
                        Some(span),
                        "a private destination outside the virtual network: reachable only through a peering or gateway",
                        Effect::Maybe,
                    ));
                    o
                }
            },
            NextHop::Gateway => {
                let mut o = Outcome::new(Verdict::Unknown, Decider::Undecided);
                let span = c.route.map(|r| r.decl.span.clone()).unwrap_or_default();
                o.doubts.push(Doubt::Other {
                    span: span.clone(),
                    reason: "the flow leaves through a virtual network gateway; what lies beyond it is not in the scanned files".into(),
                });
                o.steps.push(step(
                    "gateway",
                    Some(span),
                    "leaves through a virtual network gateway (on-premises decides)",
                    Effect::Maybe,
                ));
                o
            }
            NextHop::Unknown(s) => {
                let mut o = Outcome::new(Verdict::Unknown, Decider::Undecided);
                let span = c.route.map(|r| r.decl.span.clone()).unwrap_or_default();
                o.doubts.push(Doubt::Other {
                    span,
                    reason: format!("next hop type `{s}` is not one Azure knows"),
                });
                o
            }
            NextHop::Appliance => {
                let Some(r) = c.route else {
                    return Outcome::new(Verdict::Unknown, Decider::Undecided);
                };
                let owned;
                let (link, text) = match p.compiled.appliance(r) {
                    Some(x) if !self.reference => x,
                    _ => {
                        owned = self.linked.appliance(r);
                        (&owned, None)
                    }
                };
                match link {
                    ApplianceLink::Firewall(hop) => {
                        let env = FwEnv {
                            linked: self.linked,
                            catalog: self.catalog,
                            src: p.ranges.as_deref(),
                        };
                        let Some(s) = self.setup_of(hop.firewall) else {
                            return Outcome::new(Verdict::Unknown, Decider::Undecided);
                        };
                        let mut o = if self.reference {
                            reference::eval_firewall(&env, s, flow)
                        } else {
                            eval_firewall(&env, s, flow)
                        };
                        o.steps.insert(
                            0,
                            step(
                                "appliance",
                                r.next_hop_ip.as_ref().map(|a| a.span.clone()),
                                text.cloned().unwrap_or_else(|| appliance_text(hop)),
                                Effect::Pass,
                            ),
                        );
                        o
                    }
                    ApplianceLink::Nobody { address, subnet } => {
                        let mut o = Outcome::new(
                            Verdict::Denied,
                            Decider::BlackHole {
                                route: r,
                                why: format!(
                                    "next hop `{address}` lies in subnet `{}` but no firewall has that address",
                                    decl_name(&subnet.decl)
                                ),
                            },
                        );
                        o.steps.push(step(
                            "appliance",
                            r.next_hop_ip.as_ref().map(|a| a.span.clone()),
                            format!("nothing answers at next hop `{address}`"),
                            Effect::Deny,
                        ));
                        o
                    }
                    ApplianceLink::Unknown(u) => {
                        let mut o = Outcome::new(Verdict::Unknown, Decider::Undecided);
                        o.steps.push(step(
                            "appliance",
                            Some(u.span.clone()),
                            format!("next hop: {}", u.reason),
                            Effect::Maybe,
                        ));
                        o.doubts.push(Doubt::Value(u.clone()));
                        o
                    }
                }
            }
        }
    }
}

/// The NSG and the route must both let the flow through.
fn join<'m>(nsg: Outcome<'m>, route: Outcome<'m>) -> Outcome<'m> {
    match nsg.verdict {
        Verdict::Denied => {
            let mut o = nsg;
            if route.verdict == Verdict::Denied {
                o.also.push(route.decider);
            }
            o.steps.extend(route.steps);
            o
        }
        Verdict::Allowed => {
            let mut o = route;
            let mut steps = nsg.steps;
            steps.append(&mut o.steps);
            o.steps = steps;
            o.doubts.extend(nsg.doubts);
            o
        }
        Verdict::Unknown => {
            if route.verdict == Verdict::Denied {
                let mut o = route;
                let mut steps = nsg.steps;
                steps.append(&mut o.steps);
                o.steps = steps;
                o
            } else {
                let mut o = nsg;
                o.steps.extend(route.steps);
                o.doubts.extend(route.doubts);
                o
            }
        }
    }
}

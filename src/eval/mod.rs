//! Flow evaluation: for (cluster, node subnet) → (destination, protocol, port),
//! Allowed, Denied or Unknown, with the trace of every hop that decided it.
//!
//! Every matcher is three-valued ([`Tri`]). A rule that certainly covers a
//! flow decides it; one that certainly does not is skipped; an uncertain one
//! splits the evaluation: both branches are followed and the flow is
//! `Unknown` only when they disagree. Unknown values are never treated as
//! allowed nor as denied.

pub mod addr;
pub mod firewall;
pub mod flow;
pub mod nsg;
pub mod reference;
pub mod requirements;
pub mod route;

pub use crate::finding::Verdict;
pub use addr::{Transport, Tri};

use crate::link::Unresolved;
use crate::model::{
    Firewall, FirewallPolicy, FirewallRule, Nsg, Route, RuleCollection, RuleCollectionGroup,
    SecurityRule, Subnet,
};
use crate::source::Span;
use std::net::IpAddr;
use std::sync::Arc;

/// Application protocol of a flow, for firewall application rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AppProto {
    Http,
    Https,
}

impl AppProto {
    pub fn as_str(self) -> &'static str {
        match self {
            AppProto::Http => "Http",
            AppProto::Https => "Https",
        }
    }
}

/// Where a flow goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Dest {
    /// An exact name or `*.base` (every subdomain of `base`), with the
    /// service tags its addresses certainly lie in.
    Fqdn {
        name: String,
        in_tags: Vec<String>,
    },
    Ip(IpAddr),
    /// Some public address inside a service tag (e.g. the API server's
    /// address inside `AzureCloud.westeurope`).
    Tag(String),
    /// The address is not known (custom DNS servers from a variable, say).
    Unknown(Unresolved),
}

/// One flow to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    pub dest: Dest,
    pub transport: Transport,
    pub port: u16,
    /// Set for HTTP(S) endpoints: application rules may allow them.
    pub app: Option<AppProto>,
    /// Catalog entry id (FQDN tags cover entries by id).
    pub entry: Option<String>,
    /// `mcr.microsoft.com:443/tcp`.
    pub display: String,
}

/// Why a match was uncertain.
#[derive(Clone, Debug, PartialEq)]
pub enum Doubt {
    /// A value that would decide it is unknown.
    Value(Unresolved),
    /// A rule to an address range or a regional service tag that may or may
    /// not contain the destination.
    Broad {
        span: Span,
        /// `network rule `allow-azure` (TCP 443 → `AzureCloud.westeurope`)`.
        rule: String,
        pattern: String,
    },
    /// Anything else (ASG membership, an unreadable port, a gateway).
    Other { span: Span, reason: String },
}

/// What a hop did to the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
    /// Passed on to the next hop.
    Pass,
    /// May or may not have matched.
    Maybe,
}

/// One line of a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// `subnet`, `nsg`, `route-table`, `route`, `firewall`, `firewall-policy`,
    /// `appliance`, `internet`, `gateway`.
    pub hop: &'static str,
    pub span: Option<Span>,
    /// Shared: most texts are the same for every flow through a hop, and
    /// are written once per run.
    pub text: Arc<str>,
    pub effect: Effect,
}

/// The rule or resource that decided a flow.
#[derive(Clone, Debug)]
pub enum Decider<'m> {
    NsgRule {
        nsg: &'m Nsg,
        rule: &'m SecurityRule,
    },
    /// One of Azure's default NSG rules (`DenyAllOutBound`, ...).
    NsgDefault { nsg: &'m Nsg, name: &'static str },
    /// A route whose next hop drops the flow (`None`, or an address where
    /// nothing answers).
    BlackHole { route: &'m Route, why: String },
    /// A system route (private ranges outside the VNet go nowhere).
    SystemRoute { text: String },
    /// `userDefinedRouting` and no `0.0.0.0/0` route (AEL007 reports it).
    UdrWithoutDefault { subnet: &'m Subnet },
    FirewallRule {
        firewall: &'m Firewall,
        policy: Option<&'m FirewallPolicy>,
        group: Option<&'m RuleCollectionGroup>,
        collection: &'m RuleCollection,
        rule: &'m FirewallRule,
    },
    /// No firewall rule matched: Azure Firewall denies by default.
    FirewallDefault {
        firewall: &'m Firewall,
        /// The firewall's own policy (the child of the chain).
        policy: Option<&'m FirewallPolicy>,
    },
    /// Leaves to the Internet (load balancer or NAT gateway).
    Internet { route: Option<&'m Route> },
    /// Stays inside the VNet.
    VnetLocal,
    /// Not decidable; see the doubts.
    Undecided,
}

impl Decider<'_> {
    /// Where a finding about it points.
    pub fn span(&self) -> Option<Span> {
        match self {
            Decider::NsgRule { rule, .. } => Some(rule.decl.span.clone()),
            Decider::NsgDefault { nsg, .. } => Some(nsg.decl.span.clone()),
            Decider::BlackHole { route, .. } => Some(route.decl.span.clone()),
            Decider::UdrWithoutDefault { subnet } => Some(subnet.decl.span.clone()),
            Decider::FirewallRule { rule, .. } => Some(rule.decl.span.clone()),
            Decider::FirewallDefault { firewall, policy } => Some(
                policy
                    .map(|p| p.decl.span.clone())
                    .unwrap_or_else(|| firewall.decl.span.clone()),
            ),
            Decider::Internet { route } => route.map(|r| r.decl.span.clone()),
            Decider::SystemRoute { .. } | Decider::VnetLocal | Decider::Undecided => None,
        }
    }
}

/// The verdict of one flow and how it was reached.
#[derive(Clone, Debug)]
pub struct Outcome<'m> {
    pub verdict: Verdict,
    /// What decided it: for `Denied`, the first hop that denies.
    pub decider: Decider<'m>,
    pub steps: Vec<Step>,
    pub doubts: Vec<Doubt>,
    /// Later hops that deny too (a firewall behind a denying NSG).
    pub also: Vec<Decider<'m>>,
}

impl<'m> Outcome<'m> {
    pub fn new(verdict: Verdict, decider: Decider<'m>) -> Self {
        Outcome {
            verdict,
            decider,
            steps: vec![],
            doubts: vec![],
            also: vec![],
        }
    }
}

/// A rule in a first-match list: does it match, and what does it do.
pub struct Candidate<'m> {
    pub tri: Tri,
    pub action: Verdict,
    pub decider: Decider<'m>,
    pub step: Step,
    pub doubts: Vec<Doubt>,
}

/// First match wins over `cands` (already in processing order), `default`
/// when nothing matches. Uncertain candidates split the evaluation: the
/// result is the common verdict of every branch, else `Unknown`.
pub fn first_match<'m>(
    cands: impl IntoIterator<Item = Candidate<'m>>,
    default: Candidate<'m>,
) -> Outcome<'m> {
    let mut maybes: Vec<Candidate<'m>> = vec![];
    let mut last = default;
    for c in cands {
        match c.tri {
            Tri::No => {}
            Tri::Maybe => maybes.push(c),
            Tri::Yes => {
                last = c;
                break;
            }
        }
    }
    let all_same = maybes.iter().all(|m| m.action == last.action);
    let verdict = if all_same {
        last.action
    } else {
        Verdict::Unknown
    };
    let mut steps = vec![];
    let mut doubts = vec![];
    // When every branch agrees, the certain match decides; otherwise the
    // first uncertain rule is what makes it unknown.
    let mut decider = None;
    for m in maybes {
        steps.push(m.step);
        doubts.extend(m.doubts);
        if decider.is_none() && verdict == Verdict::Unknown {
            decider = Some(m.decider);
        }
    }
    steps.push(last.step);
    doubts.extend(last.doubts);
    Outcome {
        verdict,
        decider: decider.unwrap_or(last.decider),
        steps,
        doubts,
        also: vec![],
    }
}

/// Combine the outcomes of alternative branches (e.g. routes that may or may
/// not match): their common verdict, else `Unknown`.
pub fn combine_branches<'m>(mut outs: Vec<Outcome<'m>>) -> Option<Outcome<'m>> {
    if outs.is_empty() {
        return None;
    }
    let v = outs[0].verdict;
    let same = outs.iter().all(|o| o.verdict == v);
    let mut first = outs.remove(0);
    for o in outs {
        first.steps.extend(o.steps);
        first.doubts.extend(o.doubts);
    }
    if !same {
        first.verdict = Verdict::Unknown;
    }
    Some(first)
}

/// A `Step` helper.
pub fn step(
    hop: &'static str,
    span: Option<Span>,
    text: impl Into<Arc<str>>,
    effect: Effect,
) -> Step {
    Step {
        hop,
        span,
        text: text.into(),
        effect,
    }
}

/// A value attribute as a verdict action (`Allow`/`Deny` as written).
pub fn action_of(v: &crate::model::Value<String>) -> Verdict {
    match v {
        crate::model::Value::Known(s) if s.eq_ignore_ascii_case("allow") => Verdict::Allowed,
        crate::model::Value::Known(s) if s.eq_ignore_ascii_case("deny") => Verdict::Denied,
        _ => Verdict::Unknown,
    }
}

/// An `Unresolved` from an unknown attribute.
pub fn unresolved_of<T>(a: &crate::model::Attr<T>) -> Option<Unresolved> {
    match &a.value {
        crate::model::Value::Known(_) => None,
        crate::model::Value::Ref(r) => Some(Unresolved {
            reason: format!(
                "`{}` of `{}` is computed by Azure",
                r.attr,
                crate::link::key_display(&r.target)
            ),
            hint: None,
            span: a.span.clone(),
        }),
        crate::model::Value::Unknown(u) => Some(Unresolved {
            reason: u.reason.clone(),
            hint: u.hint.clone(),
            span: a.span.clone(),
        }),
    }
}

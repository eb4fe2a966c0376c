//! Linking: resolves references across resources and files. Cluster → node
//! pools → subnet → NSG and route table → next hop → firewall → its classic
//! collections or its policy chain and rule collection groups.
//!
//! A reference that matches nothing is [`Link::Unknown`] with its reason,
//! never an error and never a guess.

use crate::eval::addr::{IpRange, first_assignable, parse_range};
use crate::model::*;
use crate::source::Span;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// Deepest `base_policy` chain followed.
const MAX_POLICY_DEPTH: usize = 32;

/// Why a link could not be made, and where the reference was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Unresolved {
    pub reason: String,
    pub hint: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Link<T> {
    Found(T),
    /// Nothing declares it (e.g. a subnet without NSG).
    Absent,
    Unknown(Unresolved),
}

/// An item attached by reference, and whether the attachment is certain
/// (a separate rule whose parent reference is unknown may or may not belong).
#[derive(Clone, Debug)]
pub struct Member<'m, T> {
    pub item: &'m T,
    pub certain: bool,
}

/// How a route's next hop was tied to a firewall.
#[derive(Clone, Debug)]
pub struct FirewallHop<'m> {
    pub firewall: &'m Firewall,
    pub address: Option<IpAddr>,
    /// E.g. "private IP of `azurerm_firewall.hub`, the first assignable address
    /// of its `AzureFirewallSubnet` `10.0.1.0/26` (network + 4: Azure reserves the first four)".
    pub how: String,
}

/// What a route's `VirtualAppliance` next hop leads to.
#[derive(Clone, Debug)]
pub enum ApplianceLink<'m> {
    Firewall(FirewallHop<'m>),
    /// The address lies in a subnet of the code that holds a firewall, and no
    /// firewall has it: nothing answers there.
    Nobody {
        address: IpAddr,
        subnet: &'m Subnet,
    },
    /// The address is outside what the code shows (a hub managed elsewhere)
    /// or could not be tied to anything.
    Unknown(Unresolved),
}

/// Short, human name of a key: a Terraform address or an ARM name.
pub fn key_display(k: &ResKey) -> String {
    let s = &k.0;
    if let Some(rest) = s.strip_prefix("tf:") {
        let (module, addr) = rest.split_once(':').unwrap_or(("", rest));
        if module.is_empty() {
            addr.to_string()
        } else {
            format!("{module}.{addr}")
        }
    } else if let Some(rest) = s.strip_prefix("arm:") {
        rest.rsplit('/').next().unwrap_or(rest).to_string()
    } else {
        s.clone()
    }
}

/// Name of a resource for messages: its Azure name, else its label.
pub fn decl_name(d: &Decl) -> String {
    d.name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_else(|| d.label.clone())
}

pub struct Linked<'m> {
    pub model: &'m Model,
    subnets: HashMap<&'m ResKey, usize>,
    vnets: HashMap<&'m ResKey, usize>,
    nsgs: HashMap<&'m ResKey, usize>,
    route_tables: HashMap<&'m ResKey, usize>,
    firewalls: HashMap<&'m ResKey, usize>,
    policies: HashMap<&'m ResKey, usize>,
    ip_groups: HashMap<&'m ResKey, usize>,
    clusters: HashMap<&'m ResKey, usize>,
}

fn index<T>(items: &[T], decl: impl Fn(&T) -> &Decl) -> HashMap<&ResKey, usize> {
    let mut m = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        for k in &decl(it).keys {
            m.entry(k).or_insert(i);
        }
    }
    m
}

/// The key an attribute names, or why not.
pub fn attr_key(a: &Attr<ResKey>) -> Result<&ResKey, Unresolved> {
    match &a.value {
        Value::Known(k) => Ok(k),
        Value::Ref(r) => Ok(&r.target),
        Value::Unknown(u) => Err(Unresolved {
            reason: u.reason.clone(),
            hint: u.hint.clone(),
            span: a.span.clone(),
        }),
    }
}

fn not_declared(what: &str, k: &ResKey, span: &Span) -> Unresolved {
    Unresolved {
        reason: format!(
            "{what} `{}` is not declared in the scanned files",
            key_display(k)
        ),
        hint: Some("scan the folder that declares it too".into()),
        span: span.clone(),
    }
}

impl<'m> Linked<'m> {
    pub fn new(model: &'m Model) -> Self {
        Linked {
            model,
            subnets: index(&model.subnets, |x| &x.decl),
            vnets: index(&model.vnets, |x| &x.decl),
            nsgs: index(&model.nsgs, |x| &x.decl),
            route_tables: index(&model.route_tables, |x| &x.decl),
            firewalls: index(&model.firewalls, |x| &x.decl),
            policies: index(&model.policies, |x| &x.decl),
            ip_groups: index(&model.ip_groups, |x| &x.decl),
            clusters: index(&model.clusters, |x| &x.decl),
        }
    }

    fn lookup<T>(
        &self,
        map: &HashMap<&'m ResKey, usize>,
        items: &'m [T],
        a: &Attr<ResKey>,
        what: &str,
    ) -> Link<&'m T> {
        match attr_key(a) {
            Err(u) => Link::Unknown(u),
            Ok(k) => match map.get(k).and_then(|i| items.get(*i)) {
                Some(t) => Link::Found(t),
                None => Link::Unknown(not_declared(what, k, &a.span)),
            },
        }
    }

    pub fn subnet(&self, a: &Attr<ResKey>) -> Link<&'m Subnet> {
        self.lookup(&self.subnets, &self.model.subnets, a, "subnet")
    }

    pub fn subnet_by_key(&self, k: &ResKey) -> Option<&'m Subnet> {
        self.subnets.get(k).and_then(|i| self.model.subnets.get(*i))
    }

    pub fn firewall_by_key(&self, k: &ResKey) -> Option<&'m Firewall> {
        self.firewalls
            .get(k)
            .and_then(|i| self.model.firewalls.get(*i))
    }

    pub fn cluster_by_key(&self, k: &ResKey) -> Option<&'m Cluster> {
        self.clusters
            .get(k)
            .and_then(|i| self.model.clusters.get(*i))
    }

    /// Node pools of a cluster: inline, plus separate pools that name it.
    pub fn pools(&self, c: &'m Cluster) -> Vec<&'m NodePool> {
        let mut out: Vec<&NodePool> = c.node_pools.iter().collect();
        for p in &self.model.node_pools {
            if let Some(a) = &p.cluster {
                if let Ok(k) = attr_key(a) {
                    if c.decl.keys.contains(k) {
                        out.push(p);
                    }
                }
            }
        }
        out
    }

    /// Separate node pools whose cluster is unknown or not declared.
    pub fn orphan_pools(&self) -> Vec<&'m NodePool> {
        self.model
            .node_pools
            .iter()
            .filter(|p| match &p.cluster {
                None => true,
                Some(a) => match attr_key(a) {
                    Err(_) => true,
                    Ok(k) => !self.clusters.contains_key(k),
                },
            })
            .collect()
    }

    /// The VNet a subnet belongs to: its `vnet` key, or the parent of an
    /// ARM child key.
    pub fn vnet_of(&self, s: &Subnet) -> Option<&'m VirtualNetwork> {
        let mut keys: Vec<ResKey> = s.vnet.iter().cloned().collect();
        for k in &s.decl.keys {
            if let Some(idx) = k.0.find("/subnets/") {
                keys.push(ResKey(k.0[..idx].to_string()));
            }
        }
        keys.iter()
            .find_map(|k| self.vnets.get(k).and_then(|i| self.model.vnets.get(*i)))
    }

    /// Known prefixes of a subnet.
    pub fn subnet_ranges(&self, s: &Subnet) -> Option<Vec<IpRange>> {
        let v = s.address_prefixes.value.known()?;
        let r: Option<Vec<IpRange>> = v.iter().map(|p| parse_range(p)).collect();
        r.filter(|r| !r.is_empty())
    }

    #[allow(clippy::too_many_arguments)]
    fn attached<T>(
        &self,
        s: &Subnet,
        inline: Option<&Attr<ResKey>>,
        kind: AssociationKind,
        map: &HashMap<&'m ResKey, usize>,
        items: &'m [T],
        what: &str,
        listed_by: impl Fn(&'m T) -> bool,
    ) -> Link<(&'m T, Span)> {
        if let Some(a) = inline {
            return match self.lookup(map, items, a, what) {
                Link::Found(t) => Link::Found((t, a.span.clone())),
                Link::Absent => Link::Absent,
                Link::Unknown(u) => Link::Unknown(u),
            };
        }
        let mut unknown: Option<Unresolved> = None;
        for asc in self.model.associations.iter().filter(|a| a.kind == kind) {
            match attr_key(&asc.subnet) {
                Ok(k) if s.decl.keys.contains(k) => {
                    return match self.lookup(map, items, &asc.target, what) {
                        Link::Found(t) => Link::Found((t, asc.decl.span.clone())),
                        Link::Absent => Link::Absent,
                        Link::Unknown(u) => Link::Unknown(u),
                    };
                }
                Ok(_) => {}
                Err(u) => {
                    unknown.get_or_insert(Unresolved {
                        reason: format!(
                            "{} may attach a {what} to this subnet: {}",
                            asc.decl.label, u.reason
                        ),
                        hint: u.hint,
                        span: u.span,
                    });
                }
            }
        }
        if let Some(t) = items.iter().find(|t| listed_by(t)) {
            return Link::Found((t, s.decl.span.clone()));
        }
        match unknown {
            Some(u) => Link::Unknown(u),
            None => Link::Absent,
        }
    }

    pub fn nsg_of(&self, s: &Subnet) -> Link<(&'m Nsg, Span)> {
        self.attached(
            s,
            s.nsg.as_ref(),
            AssociationKind::Nsg,
            &self.nsgs,
            &self.model.nsgs,
            "network security group",
            |n: &Nsg| {
                n.subnets.iter().any(|a| {
                    attr_key(a)
                        .map(|k| s.decl.keys.contains(k))
                        .unwrap_or(false)
                })
            },
        )
    }

    pub fn route_table_of(&self, s: &Subnet) -> Link<(&'m RouteTable, Span)> {
        self.attached(
            s,
            s.route_table.as_ref(),
            AssociationKind::RouteTable,
            &self.route_tables,
            &self.model.route_tables,
            "route table",
            |_| false,
        )
    }

    fn members<T>(
        &self,
        inline: &'m [T],
        separate: &'m [T],
        owner: &Decl,
        parent: impl Fn(&'m T) -> Option<&'m Attr<ResKey>>,
        known_owner: impl Fn(&ResKey) -> bool,
    ) -> Vec<Member<'m, T>> {
        let mut out: Vec<Member<T>> = inline
            .iter()
            .map(|item| Member {
                item,
                certain: true,
            })
            .collect();
        for item in separate {
            let Some(a) = parent(item) else { continue };
            match attr_key(a) {
                Ok(k) if owner.keys.contains(k) => out.push(Member {
                    item,
                    certain: true,
                }),
                Ok(k) if known_owner(k) => {}
                // Its parent is unknown or undeclared: it may be this one.
                _ => out.push(Member {
                    item,
                    certain: false,
                }),
            }
        }
        out
    }

    pub fn nsg_rules(&self, n: &'m Nsg) -> Vec<Member<'m, SecurityRule>> {
        self.members(
            &n.rules,
            &self.model.nsg_rules,
            &n.decl,
            |r| r.nsg.as_ref(),
            |k| self.nsgs.contains_key(k),
        )
    }

    pub fn routes(&self, rt: &'m RouteTable) -> Vec<Member<'m, Route>> {
        self.members(
            &rt.routes,
            &self.model.routes,
            &rt.decl,
            |r| r.route_table.as_ref(),
            |k| self.route_tables.contains_key(k),
        )
    }

    pub fn classic_collections(&self, fw: &'m Firewall) -> Vec<Member<'m, RuleCollection>> {
        self.members(
            &fw.collections,
            &self.model.fw_collections,
            &fw.decl,
            |c| c.firewall.as_ref(),
            |k| self.firewalls.contains_key(k),
        )
    }

    /// Rule collection groups of one policy, wherever declared.
    pub fn rcgs(&self, p: &'m FirewallPolicy) -> Vec<Member<'m, RuleCollectionGroup>> {
        let mut out = vec![];
        for g in &self.model.rule_collection_groups {
            match attr_key(&g.policy) {
                Ok(k) if p.decl.keys.contains(k) => out.push(Member {
                    item: g,
                    certain: true,
                }),
                Ok(k) if self.policies.contains_key(k) => {}
                _ => out.push(Member {
                    item: g,
                    certain: false,
                }),
            }
        }
        out
    }

    /// The firewall's policy and its ancestors, root first (parent rule
    /// collection groups are processed before the child's). Cycle-safe.
    pub fn policy_chain(&self, fw: &Firewall) -> Link<Vec<&'m FirewallPolicy>> {
        let Some(a) = &fw.policy else {
            return Link::Absent;
        };
        let mut chain: Vec<&FirewallPolicy> = vec![];
        let mut cur = match self.lookup(&self.policies, &self.model.policies, a, "firewall policy")
        {
            Link::Found(p) => p,
            Link::Absent => return Link::Absent,
            Link::Unknown(u) => return Link::Unknown(u),
        };
        let mut seen: HashSet<*const FirewallPolicy> = HashSet::new();
        loop {
            if !seen.insert(cur as *const _) || chain.len() >= MAX_POLICY_DEPTH {
                return Link::Unknown(Unresolved {
                    reason: format!(
                        "the `base_policy` chain of `{}` loops or is deeper than {MAX_POLICY_DEPTH}",
                        decl_name(&cur.decl)
                    ),
                    hint: None,
                    span: cur.decl.span.clone(),
                });
            }
            chain.push(cur);
            let Some(b) = &cur.base_policy else { break };
            match self.lookup(&self.policies, &self.model.policies, b, "base policy") {
                Link::Found(p) => cur = p,
                Link::Absent => break,
                Link::Unknown(u) => return Link::Unknown(u),
            }
        }
        chain.reverse();
        Link::Found(chain)
    }

    /// CIDRs of an IP group (its own list and `azurerm_ip_group_cidr` entries).
    pub fn ip_group_cidrs(&self, a: &Attr<ResKey>) -> Link<Vec<String>> {
        let g = match self.lookup(&self.ip_groups, &self.model.ip_groups, a, "IP group") {
            Link::Found(g) => g,
            Link::Absent => return Link::Absent,
            Link::Unknown(u) => return Link::Unknown(u),
        };
        self.ip_group_cidrs_of(g)
    }

    pub fn ip_group_cidrs_by_key(&self, k: &ResKey, span: &Span) -> Link<Vec<String>> {
        match self
            .ip_groups
            .get(k)
            .and_then(|i| self.model.ip_groups.get(*i))
        {
            Some(g) => self.ip_group_cidrs_of(g),
            None => Link::Unknown(not_declared("IP group", k, span)),
        }
    }

    fn ip_group_cidrs_of(&self, g: &IpGroup) -> Link<Vec<String>> {
        let mut out = match &g.cidrs.value {
            Value::Known(v) => v.clone(),
            Value::Ref(_) | Value::Unknown(_) => {
                return Link::Unknown(Unresolved {
                    reason: format!(
                        "the addresses of IP group `{}` are not known",
                        decl_name(&g.decl)
                    ),
                    hint: None,
                    span: g.cidrs.span.clone(),
                });
            }
        };
        for c in &self.model.ip_group_cidrs {
            match attr_key(&c.ip_group) {
                Ok(k) if g.decl.keys.contains(k) => match &c.cidr.value {
                    Value::Known(s) => out.push(s.clone()),
                    _ => {
                        return Link::Unknown(Unresolved {
                            reason: format!(
                                "a CIDR of IP group `{}` is not known",
                                decl_name(&g.decl)
                            ),
                            hint: None,
                            span: c.cidr.span.clone(),
                        });
                    }
                },
                Ok(_) => {}
                Err(u) => return Link::Unknown(u),
            }
        }
        Link::Found(out)
    }

    /// The private IP of a firewall: written literally, or the first
    /// assignable address of its `AzureFirewallSubnet`.
    pub fn firewall_ip(&self, fw: &Firewall) -> Option<(IpAddr, String)> {
        if let Some(a) = &fw.private_ip {
            if let Value::Known(s) = &a.value {
                if let Ok(ip) = s.trim().parse::<IpAddr>() {
                    return Some((ip, format!("private IP `{ip}` of `{}`", fw.decl.label)));
                }
            }
        }
        let sa = fw.subnet.as_ref()?;
        let Link::Found(s) = self.subnet(sa) else {
            return None;
        };
        let prefixes = s.address_prefixes.value.known()?;
        let p = prefixes.first()?;
        let ip = first_assignable(p)?;
        Some((
            ip,
            format!(
                "`{ip}`, the first assignable address of `{}`'s AzureFirewallSubnet `{p}` (network + 4: Azure reserves the first four)",
                fw.decl.label
            ),
        ))
    }

    /// Where a `VirtualAppliance` next hop leads.
    pub fn appliance(&self, route: &Route) -> ApplianceLink<'m> {
        let Some(a) = &route.next_hop_ip else {
            return ApplianceLink::Unknown(Unresolved {
                reason: "the route has no next hop address".into(),
                hint: None,
                span: route.decl.span.clone(),
            });
        };
        match &a.value {
            Value::Unknown(u) => ApplianceLink::Unknown(Unresolved {
                reason: u.reason.clone(),
                hint: u.hint.clone(),
                span: a.span.clone(),
            }),
            Value::Ref(r) => match self.firewall_by_key(&r.target) {
                Some(fw) => ApplianceLink::Firewall(FirewallHop {
                    firewall: fw,
                    address: self.firewall_ip(fw).map(|x| x.0),
                    how: format!("a reference to the private IP of `{}`", fw.decl.label),
                }),
                None => ApplianceLink::Unknown(not_declared("firewall", &r.target, &a.span)),
            },
            Value::Known(s) => {
                let Ok(ip) = s.trim().parse::<IpAddr>() else {
                    return ApplianceLink::Unknown(Unresolved {
                        reason: format!("next hop `{s}` is not an IP address"),
                        hint: None,
                        span: a.span.clone(),
                    });
                };
                let mut unknown_fw = None;
                for fw in &self.model.firewalls {
                    match self.firewall_ip(fw) {
                        Some((fip, how)) if fip == ip => {
                            return ApplianceLink::Firewall(FirewallHop {
                                firewall: fw,
                                address: Some(ip),
                                how,
                            });
                        }
                        Some(_) => {}
                        None => unknown_fw = Some(fw),
                    }
                }
                // Which declared subnet holds the address?
                let holder = self.model.subnets.iter().find(|s| {
                    self.subnet_ranges(s)
                        .is_some_and(|rs| rs.iter().any(|r| r.contains_ip(ip)))
                });
                if let Some(fw) = unknown_fw {
                    return ApplianceLink::Unknown(Unresolved {
                        reason: format!(
                            "the private IP of `{}` is not known, so next hop `{ip}` cannot be tied to it",
                            fw.decl.label
                        ),
                        hint: Some("write the firewall's subnet prefix or private IP".into()),
                        span: a.span.clone(),
                    });
                }
                match holder {
                    Some(sub) if self.is_firewall_subnet(sub) => ApplianceLink::Nobody {
                        address: ip,
                        subnet: sub,
                    },
                    Some(sub) => ApplianceLink::Unknown(Unresolved {
                        reason: format!(
                            "next hop `{ip}` lies in subnet `{}`, where no firewall of the scanned files lives (a network virtual appliance is not modelled)",
                            decl_name(&sub.decl)
                        ),
                        hint: None,
                        span: a.span.clone(),
                    }),
                    None => ApplianceLink::Unknown(Unresolved {
                        reason: format!(
                            "next hop `{ip}` lies outside every network of the scanned files (a hub managed elsewhere?)"
                        ),
                        hint: Some("scan the repository that declares the hub firewall too".into()),
                        span: a.span.clone(),
                    }),
                }
            }
        }
    }

    /// Subnets of the code whose NSG is this one.
    pub fn subnets_of_nsg(&self, n: &Nsg) -> Vec<&'m Subnet> {
        self.model
            .subnets
            .iter()
            .filter(|s| matches!(self.nsg_of(s), Link::Found((x, _)) if std::ptr::eq(x, n)))
            .collect()
    }

    /// An `AzureFirewallSubnet`, or a subnet some firewall of the code uses.
    pub fn is_firewall_subnet(&self, s: &Subnet) -> bool {
        let named = s
            .decl
            .name
            .as_ref()
            .is_some_and(|n| n.value.eq_ignore_ascii_case("AzureFirewallSubnet"));
        named
            || self.model.firewalls.iter().any(|fw| {
                fw.subnet
                    .as_ref()
                    .and_then(|a| attr_key(a).ok())
                    .is_some_and(|k| s.decl.keys.contains(k))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Spanned};

    fn sp() -> Span {
        Span::new(FileId(0), 0..1)
    }

    fn decl(key: &str, name: &str) -> Decl {
        Decl {
            keys: vec![ResKey(key.into())],
            name: Some(Spanned::new(name.into(), sp())),
            span: sp(),
            label: key.into(),
            condition: None,
        }
    }

    fn kref(k: &str) -> Attr<ResKey> {
        known(ResKey(k.into()), sp())
    }

    fn policy(key: &str, base: Option<&str>) -> FirewallPolicy {
        FirewallPolicy {
            decl: decl(key, key),
            base_policy: base.map(kref),
            dns_proxy: None,
            sku_tier: None,
        }
    }

    fn firewall(policy: Option<&str>) -> Firewall {
        Firewall {
            decl: decl("fw", "fw"),
            sku_tier: None,
            policy: policy.map(kref),
            dns_proxy: None,
            private_ip: None,
            subnet: Some(kref("fwsub")),
            collections: vec![],
            threat_intel_mode: None,
        }
    }

    fn subnet(key: &str, name: &str, prefix: &str) -> Subnet {
        Subnet {
            decl: decl(key, name),
            vnet: None,
            address_prefixes: known(vec![prefix.into()], sp()),
            nsg: None,
            route_table: None,
            nat_gateway: None,
        }
    }

    #[test]
    fn policy_chain_root_first_and_cycle_safe() {
        let mut m = Model::default();
        m.policies.push(policy("child", Some("parent")));
        m.policies.push(policy("parent", Some("root")));
        m.policies.push(policy("root", None));
        m.firewalls.push(firewall(Some("child")));
        let l = Linked::new(&m);
        let Link::Found(chain) = l.policy_chain(&m.firewalls[0]) else {
            panic!()
        };
        let names: Vec<_> = chain.iter().map(|p| decl_name(&p.decl)).collect();
        assert_eq!(names, ["root", "parent", "child"]);

        let mut m = Model::default();
        m.policies.push(policy("a", Some("b")));
        m.policies.push(policy("b", Some("a")));
        m.firewalls.push(firewall(Some("a")));
        let l = Linked::new(&m);
        assert!(matches!(l.policy_chain(&m.firewalls[0]), Link::Unknown(_)));

        let mut m = Model::default();
        m.firewalls.push(firewall(Some("missing")));
        let l = Linked::new(&m);
        let Link::Unknown(u) = l.policy_chain(&m.firewalls[0]) else {
            panic!()
        };
        assert!(
            u.reason.contains("`missing` is not declared"),
            "{}",
            u.reason
        );
    }

    #[test]
    fn next_hop_to_firewall_by_subnet_plus_four() {
        let mut m = Model::default();
        m.subnets
            .push(subnet("fwsub", "AzureFirewallSubnet", "10.0.1.0/26"));
        m.firewalls.push(firewall(None));
        let route = |ip: &str| Route {
            decl: decl("r", "r"),
            route_table: None,
            address_prefix: known("0.0.0.0/0".into(), sp()),
            next_hop_type: known("VirtualAppliance".into(), sp()),
            next_hop_ip: Some(known(ip.into(), sp())),
        };
        let l = Linked::new(&m);
        let ApplianceLink::Firewall(hop) = l.appliance(&route("10.0.1.4")) else {
            panic!()
        };
        assert!(hop.how.contains("network + 4"), "{}", hop.how);
        assert!(matches!(
            l.appliance(&route("10.0.1.5")),
            ApplianceLink::Nobody { .. }
        ));
        assert!(matches!(
            l.appliance(&route("192.168.9.4")),
            ApplianceLink::Unknown(_)
        ));
    }

    #[test]
    fn associations_and_separate_rules() {
        let mut m = Model::default();
        m.subnets.push(subnet("nodes", "nodes", "10.0.0.0/24"));
        m.nsgs.push(Nsg {
            decl: decl("nsg", "nsg"),
            rules: vec![],
            subnets: vec![],
            from_export: false,
        });
        m.associations.push(Association {
            decl: decl("asc", "asc"),
            kind: AssociationKind::Nsg,
            subnet: kref("nodes"),
            target: kref("nsg"),
        });
        let l = Linked::new(&m);
        assert!(matches!(l.nsg_of(&m.subnets[0]), Link::Found(_)));
        assert!(matches!(l.route_table_of(&m.subnets[0]), Link::Absent));

        m.associations.push(Association {
            decl: decl("asc2", "asc2"),
            kind: AssociationKind::RouteTable,
            subnet: unknown("module output", sp()),
            target: kref("rt"),
        });
        let l = Linked::new(&m);
        assert!(matches!(l.route_table_of(&m.subnets[0]), Link::Unknown(_)));
    }
}

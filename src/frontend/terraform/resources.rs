//! azurerm resources that decide AKS egress, read into the model.
//!
//! Every azurerm spelling still found in real repositories is read: 1.x
//! `agent_pool_profile` and `addon_profile`, singular `address_prefix`,
//! inline `subnet`/`security_rule`/`route` blocks, the 4.x
//! `bgp_route_propagation_enabled`, the 5.x `*_wo` association fields.

use super::eval::{Ev, View, inline_subnet_key, key_suffix};
use super::value::{V, describe_ref, normalise_attr, pending_reason};
use crate::model::*;
use crate::source::{Span, Spanned};

// ------------------------------------------------------------ conversions

fn unknown_of(v: &V) -> Unknown {
    match v {
        V::Unknown(u) => Unknown {
            reason: u.reason.clone(),
            hint: u.hint.clone(),
        },
        other => Unknown::new(pending_reason(other)),
    }
}

fn as_ref_value<T>(v: &V) -> Option<Value<T>> {
    match v {
        V::Ref { key, rtype, path } => Some(Value::Ref(Box::new(Ref {
            target: key.clone(),
            attr: normalise_attr(rtype, path),
        }))),
        V::Unknown(_) => Some(Value::Unknown(Box::new(unknown_of(v)))),
        _ => None,
    }
}

pub fn to_str(v: &V) -> Value<String> {
    if let Some(r) = as_ref_value(v) {
        return r;
    }
    match v.as_string() {
        Some(s) => Value::Known(s),
        None => Value::Unknown(Box::new(Unknown::new(format!(
            "expected a string, found a {}",
            v.type_name()
        )))),
    }
}

pub fn to_list(v: &V) -> Value<Vec<String>> {
    if let Some(r) = as_ref_value(v) {
        return r;
    }
    match v {
        // `[azurerm_firewall.x.ip_configuration[0].private_ip_address]`: the
        // list is the referenced value.
        V::List(items) if items.len() == 1 && matches!(items.first(), Some(V::Ref { .. })) => items
            .first()
            .and_then(as_ref_value)
            .unwrap_or(Value::Known(vec![])),
        V::List(items) => {
            let mut out = vec![];
            for i in items {
                match i.as_string() {
                    Some(s) => out.push(s),
                    None if i.is_pending() => return Value::Unknown(Box::new(unknown_of(i))),
                    None => {
                        return Value::Unknown(Box::new(Unknown::new(format!(
                            "expected a list of strings, found a {}",
                            i.type_name()
                        ))));
                    }
                }
            }
            Value::Known(out)
        }
        V::Null => Value::Known(vec![]),
        other => match other.as_string() {
            Some(s) => Value::Known(vec![s]),
            None => Value::Unknown(Box::new(Unknown::new(format!(
                "expected a list, found a {}",
                other.type_name()
            )))),
        },
    }
}

/// A reference to a resource: `x.id` of a Terraform resource, or an ARM id.
pub fn to_key(v: &V) -> Value<ResKey> {
    match v {
        V::Ref { key, path, .. } if path == "id" => Value::Known(key.clone()),
        V::Ref { key, path, .. } => Value::Unknown(Box::new(Unknown::new(format!(
            "`{}` is not a resource id",
            describe_ref(key, path)
        )))),
        V::Unknown(_) => Value::Unknown(Box::new(unknown_of(v))),
        V::Str(s) => match ResKey::from_arm_id(s) {
            Some(k) => Value::Known(k),
            None => Value::Unknown(Box::new(Unknown::new(format!(
                "`{s}` is not an Azure resource id"
            )))),
        },
        other => Value::Unknown(Box::new(Unknown::new(format!(
            "expected a resource id, found a {}",
            other.type_name()
        )))),
    }
}

fn to_key_list(v: &V) -> Value<Vec<ResKey>> {
    match v {
        V::List(items) => {
            let mut out = vec![];
            for i in items {
                match to_key(i) {
                    Value::Known(k) => out.push(k),
                    Value::Unknown(u) => return Value::Unknown(u),
                    Value::Ref(r) => return Value::Ref(r),
                }
            }
            Value::Known(out)
        }
        other => match to_key(other) {
            Value::Known(k) => Value::Known(vec![k]),
            Value::Unknown(u) => Value::Unknown(u),
            Value::Ref(r) => Value::Ref(r),
        },
    }
}

/// A parent named by its Azure name (`virtual_network_name`): the ARM key
/// when the name is known, the resource itself when it is `x.name`.
fn to_parent(v: &V, arm_type: &str, parents: &[String]) -> Value<ResKey> {
    match v {
        V::Ref { key, path, .. } if path == "name" => Value::Known(key.clone()),
        other => match other.as_string() {
            Some(n) => {
                let mut names: Vec<&str> = parents.iter().map(String::as_str).collect();
                names.push(&n);
                Value::Known(ResKey::arm(arm_type, &names))
            }
            None => Value::Unknown(Box::new(unknown_of(other))),
        },
    }
}

fn to_bool(v: &V) -> Value<bool> {
    if let Some(r) = as_ref_value(v) {
        return r;
    }
    match v.as_bool() {
        Some(b) => Value::Known(b),
        None => Value::Unknown(Box::new(Unknown::new(format!(
            "expected a bool, found a {}",
            v.type_name()
        )))),
    }
}

fn to_u32(v: &V) -> Value<u32> {
    if let Some(r) = as_ref_value(v) {
        return r;
    }
    match v.as_num() {
        Some(n) if (0.0..=u32::MAX as f64).contains(&n) => Value::Known(n as u32),
        _ => Value::Unknown(Box::new(Unknown::new(format!(
            "expected a number, found {}",
            v.type_name()
        )))),
    }
}

// ------------------------------------------------------------------ reader

pub struct Reader<'e, 'a> {
    pub ev: &'e mut Ev<'a>,
}

impl<'a> Reader<'_, 'a> {
    fn get(&mut self, v: &View<'a>, name: &str) -> Option<(V, Span)> {
        self.ev.attr(v, name)
    }
    fn str(&mut self, v: &View<'a>, name: &str) -> Option<Attr<String>> {
        self.get(v, name).map(|(x, s)| Spanned::new(to_str(&x), s))
    }
    fn list(&mut self, v: &View<'a>, name: &str) -> Option<Attr<Vec<String>>> {
        self.get(v, name).map(|(x, s)| Spanned::new(to_list(&x), s))
    }
    fn key(&mut self, v: &View<'a>, name: &str) -> Option<Attr<ResKey>> {
        self.get(v, name).map(|(x, s)| Spanned::new(to_key(&x), s))
    }
    fn keys(&mut self, v: &View<'a>, name: &str) -> Option<Attr<Vec<ResKey>>> {
        self.get(v, name)
            .map(|(x, s)| Spanned::new(to_key_list(&x), s))
    }
    fn bool(&mut self, v: &View<'a>, name: &str) -> Option<Attr<bool>> {
        self.get(v, name).map(|(x, s)| Spanned::new(to_bool(&x), s))
    }
    fn u32(&mut self, v: &View<'a>, name: &str) -> Option<Attr<u32>> {
        self.get(v, name).map(|(x, s)| Spanned::new(to_u32(&x), s))
    }
    /// The first attribute of `names` that is set.
    fn key_any(&mut self, v: &View<'a>, names: &[&str]) -> Option<Attr<ResKey>> {
        names.iter().find_map(|n| self.key(v, n))
    }
    /// A required attribute: unknown with the block's span when missing.
    fn req_u32(&mut self, v: &View<'a>, name: &str) -> Attr<u32> {
        self.u32(v, name)
            .unwrap_or_else(|| unknown(format!("`{name}` is not set"), v.span.clone()))
    }
    fn req_str(&mut self, v: &View<'a>, name: &str) -> Attr<String> {
        self.str(v, name)
            .unwrap_or_else(|| unknown(format!("`{name}` is not set"), v.span.clone()))
    }
    /// Singular and plural forms merged (`destination_port_range` +
    /// `destination_port_ranges`); the span is the first written.
    fn merged(&mut self, v: &View<'a>, one: &str, many: &str) -> Option<Attr<Vec<String>>> {
        let a = self.get(v, one);
        let b = self.get(v, many);
        let span = a.as_ref().or(b.as_ref()).map(|x| x.1.clone())?;
        let mut out = vec![];
        for (x, _) in a.iter().chain(b.iter()) {
            match to_list(x) {
                Value::Known(l) => out.extend(l),
                other => return Some(Spanned::new(other, span)),
            }
        }
        Some(Spanned::new(Value::Known(out), span))
    }
    fn req_merged(&mut self, v: &View<'a>, one: &str, many: &str) -> Attr<Vec<String>> {
        self.merged(v, one, many).unwrap_or_else(|| {
            unknown(
                format!("neither `{one}` nor `{many}` is set"),
                v.span.clone(),
            )
        })
    }
    fn blocks(&mut self, v: &View<'a>, name: &str) -> Vec<View<'a>> {
        self.ev.blocks(v, name)
    }
    fn first_block(&mut self, v: &View<'a>, name: &str) -> Option<View<'a>> {
        self.blocks(v, name).into_iter().next()
    }
    /// The known Azure name of a view, with its span.
    fn name(&mut self, v: &View<'a>) -> Option<Spanned<String>> {
        let (x, s) = self.get(v, "name")?;
        x.as_string().map(|n| Spanned::new(n, s))
    }
}

/// What every resource of one instance shares.
pub struct Base {
    pub tf_key: ResKey,
    pub label: String,
    pub span: Span,
    pub condition: Option<Unknown>,
}

fn decl(base: &Base, name: Option<Spanned<String>>, arm: Option<ResKey>) -> Decl {
    let mut keys = vec![base.tf_key.clone()];
    keys.extend(arm);
    Decl {
        keys,
        name,
        span: base.span.clone(),
        label: base.label.clone(),
        condition: base.condition.clone().map(Box::new),
    }
}

fn sub_decl(base: &Base, what: &str, name: Option<Spanned<String>>, span: Span) -> Decl {
    let label = match &name {
        Some(n) => format!("{} {what} `{}`", base.label, n.value),
        None => format!("{} {what}", base.label),
    };
    Decl {
        keys: vec![],
        name,
        span,
        label,
        condition: base.condition.clone().map(Box::new),
    }
}

fn arm1(t: &str, n: &Option<Spanned<String>>) -> Option<ResKey> {
    n.as_ref().map(|n| ResKey::arm(t, &[&n.value]))
}

/// Read one resource instance into the model. Unknown types are ignored.
pub fn read<'a>(r: &mut Reader<'_, 'a>, rtype: &str, v: &View<'a>, base: &Base, m: &mut Model) {
    read_inner(r, rtype, v.clone(), base, m)
}

fn read_inner<'a>(r: &mut Reader<'_, 'a>, rtype: &str, v: View<'a>, base: &Base, m: &mut Model) {
    match rtype {
        "azurerm_kubernetes_cluster" => m.clusters.push(cluster(r, &v, base)),
        "azurerm_kubernetes_cluster_node_pool" => {
            let name = r.name(&v);
            let cluster = r.key(&v, "kubernetes_cluster_id");
            // With the cluster given by ARM id, the pool has an ARM identity.
            let arm = match (&name, cluster.as_ref().and_then(|c| c.value.known())) {
                (Some(n), Some(ResKey(k))) if k.starts_with("arm:") => {
                    k.rsplit('/').next().map(|cn| {
                        ResKey::arm(
                            "Microsoft.ContainerService/managedClusters/agentPools",
                            &[cn, &n.value],
                        )
                    })
                }
                _ => None,
            };
            let mut p = node_pool(r, &v, decl(base, name, arm));
            p.cluster = cluster;
            m.node_pools.push(p);
        }
        "azurerm_virtual_network" => vnet(r, &v, base, m),
        "azurerm_subnet" => {
            let name = r.name(&v);
            let vnet_name = r.get(&v, "virtual_network_name");
            let arm = match (&name, vnet_name.as_ref().and_then(|x| x.0.as_string())) {
                (Some(n), Some(vn)) => Some(ResKey::arm(
                    "Microsoft.Network/virtualNetworks/subnets",
                    &[&vn, &n.value],
                )),
                _ => None,
            };
            let vnet = vnet_name.and_then(|(x, _)| {
                match to_parent(&x, "Microsoft.Network/virtualNetworks", &[]) {
                    Value::Known(k) => Some(k),
                    _ => None,
                }
            });
            let address_prefixes = r.req_merged(&v, "address_prefix", "address_prefixes");
            let nsg = r.key_any(
                &v,
                &["network_security_group_id", "network_security_group_id_wo"],
            );
            let route_table = r.key_any(&v, &["route_table_id", "route_table_id_wo"]);
            m.subnets.push(Subnet {
                decl: decl(base, name, arm),
                vnet,
                address_prefixes,
                nsg,
                route_table,
                nat_gateway: None,
            });
        }
        "azurerm_network_security_group" => {
            let name = r.name(&v);
            let arm = arm1("Microsoft.Network/networkSecurityGroups", &name);
            let rules = r
                .blocks(&v, "security_rule")
                .into_iter()
                .map(|b| {
                    let n = r.name(&b);
                    let d = sub_decl(base, "rule", n, b.span.clone());
                    security_rule(r, &b, d)
                })
                .collect();
            m.nsgs.push(Nsg {
                decl: decl(base, name, arm),
                rules,
                subnets: vec![],
                from_export: false,
            });
        }
        "azurerm_network_security_rule" => {
            let name = r.name(&v);
            let parent = r.get(&v, "network_security_group_name");
            let arm = match (&name, parent.as_ref().and_then(|p| p.0.as_string())) {
                (Some(n), Some(p)) => Some(ResKey::arm(
                    "Microsoft.Network/networkSecurityGroups/securityRules",
                    &[&p, &n.value],
                )),
                _ => None,
            };
            let mut rule = security_rule(r, &v, decl(base, name, arm));
            rule.nsg = parent.map(|(x, s)| {
                Spanned::new(
                    to_parent(&x, "Microsoft.Network/networkSecurityGroups", &[]),
                    s,
                )
            });
            m.nsg_rules.push(rule);
        }
        "azurerm_route_table" => {
            let name = r.name(&v);
            let arm = arm1("Microsoft.Network/routeTables", &name);
            let routes = r
                .blocks(&v, "route")
                .into_iter()
                .map(|b| {
                    let n = r.name(&b);
                    let d = sub_decl(base, "route", n, b.span.clone());
                    route(r, &b, d)
                })
                .collect();
            let disable = r.bool(&v, "disable_bgp_route_propagation").or_else(|| {
                r.bool(&v, "bgp_route_propagation_enabled").map(|a| {
                    a.map(|x| match x {
                        Value::Known(b) => Value::Known(!b),
                        other => other,
                    })
                })
            });
            m.route_tables.push(RouteTable {
                decl: decl(base, name, arm),
                routes,
                disable_bgp_route_propagation: disable,
            });
        }
        "azurerm_route" => {
            let name = r.name(&v);
            let parent = r.get(&v, "route_table_name");
            let arm = match (&name, parent.as_ref().and_then(|p| p.0.as_string())) {
                (Some(n), Some(p)) => Some(ResKey::arm(
                    "Microsoft.Network/routeTables/routes",
                    &[&p, &n.value],
                )),
                _ => None,
            };
            let mut rt = route(r, &v, decl(base, name, arm));
            rt.route_table = parent
                .map(|(x, s)| Spanned::new(to_parent(&x, "Microsoft.Network/routeTables", &[]), s));
            m.routes.push(rt);
        }
        "azurerm_subnet_network_security_group_association"
        | "azurerm_subnet_route_table_association" => {
            let nsg = rtype.contains("security_group");
            let subnet = r
                .key(&v, "subnet_id")
                .unwrap_or_else(|| unknown("`subnet_id` is not set", v.span.clone()));
            let target = if nsg {
                r.key(&v, "network_security_group_id")
            } else {
                r.key(&v, "route_table_id")
            }
            .unwrap_or_else(|| unknown("the associated resource is not set", v.span.clone()));
            m.associations.push(Association {
                decl: decl(base, None, None),
                kind: if nsg {
                    AssociationKind::Nsg
                } else {
                    AssociationKind::RouteTable
                },
                subnet,
                target,
            });
        }
        "azurerm_firewall" => {
            let name = r.name(&v);
            let arm = arm1("Microsoft.Network/azureFirewalls", &name);
            let ipc = r.first_block(&v, "ip_configuration");
            let (subnet, private_ip) = match &ipc {
                Some(b) => (r.key(b, "subnet_id"), r.str(b, "private_ip_address")),
                None => (None, None),
            };
            // DNS proxy: azurerm turns it on when `dns_servers` is a non-empty
            // list, whatever `dns_proxy_enabled` says (facts §6; azurerm docs of
            // `dns_proxy_enabled`); otherwise `dns_proxy_enabled` decides.
            let servers = r.list(&v, "dns_servers");
            let flag = r.bool(&v, "dns_proxy_enabled");
            let servers_on = servers
                .as_ref()
                .map(|sv| matches!(&sv.value, Value::Known(l) if !l.is_empty()));
            let dns_proxy = match (servers, flag) {
                (Some(sv), _) if servers_on == Some(true) => Some(known(true, sv.span)),
                (_, Some(f)) if f.value == Value::Known(true) => Some(f),
                // Unknown servers may turn the proxy on.
                (Some(sv), _) if sv.value.known().is_none() => Some(sv.map(|x| match x {
                    Value::Ref(rf) => Value::Unknown(Box::new(Unknown::new(format!(
                        "`dns_servers` refers to `{}`",
                        rf.target
                    )))),
                    Value::Unknown(u) => Value::Unknown(u),
                    Value::Known(_) => Value::Known(true),
                })),
                (_, Some(f)) => Some(f),
                (Some(sv), None) => Some(known(false, sv.span)),
                (None, None) => None,
            };
            m.firewalls.push(Firewall {
                decl: decl(base, name, arm),
                sku_tier: r.str(&v, "sku_tier"),
                policy: r.key(&v, "firewall_policy_id"),
                dns_proxy,
                private_ip,
                subnet,
                collections: vec![],
                threat_intel_mode: r.str(&v, "threat_intel_mode"),
            });
        }
        "azurerm_firewall_policy" => {
            let name = r.name(&v);
            let arm = arm1("Microsoft.Network/firewallPolicies", &name);
            let dns = r.first_block(&v, "dns");
            let dns_proxy = dns.and_then(|d| r.bool(&d, "proxy_enabled"));
            m.policies.push(FirewallPolicy {
                decl: decl(base, name, arm),
                base_policy: r.key(&v, "base_policy_id"),
                dns_proxy,
                sku_tier: r.str(&v, "sku"),
            });
        }
        "azurerm_firewall_policy_rule_collection_group" => {
            let name = r.name(&v);
            let policy = r
                .key(&v, "firewall_policy_id")
                .unwrap_or_else(|| unknown("`firewall_policy_id` is not set", v.span.clone()));
            let arm = match (&name, policy.value.known()) {
                (Some(n), Some(ResKey(p))) if p.starts_with("arm:") => {
                    p.rsplit('/').next().map(|pn| {
                        ResKey::arm(
                            "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
                            &[pn, &n.value],
                        )
                    })
                }
                _ => None,
            };
            let mut collections = vec![];
            for (block, kind) in [
                ("nat_rule_collection", RuleKind::Nat),
                ("network_rule_collection", RuleKind::Network),
                ("application_rule_collection", RuleKind::Application),
            ] {
                for b in r.blocks(&v, block) {
                    collections.push(collection(r, &b, base, kind, None, b.span.clone()));
                }
            }
            m.rule_collection_groups.push(RuleCollectionGroup {
                decl: decl(base, name, arm),
                priority: r.req_u32(&v, "priority"),
                policy,
                collections,
            });
        }
        "azurerm_firewall_application_rule_collection"
        | "azurerm_firewall_network_rule_collection"
        | "azurerm_firewall_nat_rule_collection" => {
            let kind = if rtype.contains("application") {
                RuleKind::Application
            } else if rtype.contains("network") {
                RuleKind::Network
            } else {
                RuleKind::Nat
            };
            let fw = r.get(&v, "azure_firewall_name").map(|(x, s)| {
                Spanned::new(to_parent(&x, "Microsoft.Network/azureFirewalls", &[]), s)
            });
            let fw =
                Some(fw.unwrap_or_else(|| {
                    unknown("`azure_firewall_name` is not set", v.span.clone())
                }));
            let c = collection(r, &v, base, kind, fw, v.span.clone());
            m.fw_collections.push(c);
        }
        "azurerm_kubernetes_cluster_extension" | "azurerm_kubernetes_flux_configuration" => {
            let attr = if rtype.contains("flux") {
                "kubernetes_cluster_id"
            } else {
                "cluster_id"
            };
            if let Some(Value::Known(k)) = r.key(&v, attr).map(|a| a.value) {
                r.ev.extensions.push((k, known(true, v.span.clone())));
            }
        }
        // The VNet's DNS servers set by a resource of their own (azurerm
        // docs: `virtual_network_dns_servers`); they replace the VNet's own
        // `dns_servers`, as Terraform warns not to use both.
        "azurerm_virtual_network_dns_servers" => {
            if let (Some(Value::Known(k)), Some(servers)) = (
                r.key(&v, "virtual_network_id").map(|a| a.value),
                r.list(&v, "dns_servers"),
            ) {
                r.ev.dns_servers.push((k, servers));
            }
        }
        "azurerm_ip_group" => {
            let name = r.name(&v);
            let arm = arm1("Microsoft.Network/ipGroups", &name);
            let cidrs = r
                .list(&v, "cidrs")
                .unwrap_or_else(|| known(vec![], v.span.clone()));
            m.ip_groups.push(IpGroup {
                decl: decl(base, name, arm),
                cidrs,
            });
        }
        "azurerm_ip_group_cidr" => {
            let ip_group = r
                .key(&v, "ip_group_id")
                .unwrap_or_else(|| unknown("`ip_group_id` is not set", v.span.clone()));
            let cidr = r.req_str(&v, "cidr");
            m.ip_group_cidrs.push(IpGroupCidr {
                decl: decl(base, None, None),
                ip_group,
                cidr,
            });
        }
        _ => {}
    }
}

fn vnet<'a>(r: &mut Reader<'_, 'a>, v: &View<'a>, base: &Base, m: &mut Model) {
    let name = r.name(v);
    let arm = arm1("Microsoft.Network/virtualNetworks", &name);
    let address_space = r
        .list(v, "address_space")
        .unwrap_or_else(|| unknown("`address_space` is not set", v.span.clone()));
    let dns_servers = r.list(v, "dns_servers");
    for (i, b) in r.blocks(v, "subnet").into_iter().enumerate() {
        let sn = r.name(&b);
        let key = inline_subnet_key(&base.tf_key, sn.as_ref().map(|n| n.value.as_str()), i);
        let arm_sub = match (&name, &sn) {
            (Some(vn), Some(s)) => Some(ResKey::arm(
                "Microsoft.Network/virtualNetworks/subnets",
                &[&vn.value, &s.value],
            )),
            _ => None,
        };
        let mut keys = vec![key];
        keys.extend(arm_sub);
        let label = match &sn {
            Some(s) => format!("{} subnet `{}`", base.label, s.value),
            None => format!("{} subnet #{}", base.label, i + 1),
        };
        let address_prefixes = r.req_merged(&b, "address_prefix", "address_prefixes");
        let nsg = r.key_any(&b, &["security_group", "network_security_group_id"]);
        let route_table = r.key(&b, "route_table_id");
        m.subnets.push(Subnet {
            decl: Decl {
                keys,
                name: sn,
                span: b.span.clone(),
                label,
                condition: base.condition.clone().map(Box::new),
            },
            vnet: Some(base.tf_key.clone()),
            address_prefixes,
            nsg,
            route_table,
            nat_gateway: None,
        });
    }
    m.vnets.push(VirtualNetwork {
        decl: decl(base, name, arm),
        address_space,
        dns_servers,
    });
}

fn security_rule<'a>(r: &mut Reader<'_, 'a>, v: &View<'a>, d: Decl) -> SecurityRule {
    let asgs = |r: &mut Reader<'_, 'a>, n: &str| -> Vec<Attr<ResKey>> {
        match r.get(v, n) {
            Some((V::List(items), s)) => items
                .iter()
                .map(|i| Spanned::new(to_key(i), s.clone()))
                .collect(),
            Some((x, s)) => vec![Spanned::new(to_key(&x), s)],
            None => vec![],
        }
    };
    let source_asgs = asgs(r, "source_application_security_group_ids");
    let destination_asgs = asgs(r, "destination_application_security_group_ids");
    let any = |r: &mut Reader<'_, 'a>, one: &str, many: &str, asg: bool| -> Attr<Vec<String>> {
        match r.merged(v, one, many) {
            Some(a) => a,
            // With application security groups, no prefix is written.
            None if asg => known(vec![], v.span.clone()),
            None => unknown(
                format!("neither `{one}` nor `{many}` is set"),
                v.span.clone(),
            ),
        }
    };
    SecurityRule {
        priority: r.req_u32(v, "priority"),
        direction: r.req_str(v, "direction"),
        access: r.req_str(v, "access"),
        protocol: r.req_str(v, "protocol"),
        source_addresses: any(
            r,
            "source_address_prefix",
            "source_address_prefixes",
            !source_asgs.is_empty(),
        ),
        destination_addresses: any(
            r,
            "destination_address_prefix",
            "destination_address_prefixes",
            !destination_asgs.is_empty(),
        ),
        source_ports: r.req_merged(v, "source_port_range", "source_port_ranges"),
        destination_ports: r.req_merged(v, "destination_port_range", "destination_port_ranges"),
        source_asgs,
        destination_asgs,
        decl: d,
        nsg: None,
        is_default: false,
    }
}

fn route<'a>(r: &mut Reader<'_, 'a>, v: &View<'a>, d: Decl) -> Route {
    Route {
        decl: d,
        route_table: None,
        address_prefix: r.req_str(v, "address_prefix"),
        next_hop_type: r.req_str(v, "next_hop_type"),
        next_hop_ip: r.str(v, "next_hop_in_ip_address"),
    }
}

fn collection<'a>(
    r: &mut Reader<'_, 'a>,
    v: &View<'a>,
    base: &Base,
    kind: RuleKind,
    firewall: Option<Attr<ResKey>>,
    span: Span,
) -> RuleCollection {
    let name = r.name(v);
    let what = match kind {
        RuleKind::Application => "application rule collection",
        RuleKind::Network => "network rule collection",
        RuleKind::Nat => "NAT rule collection",
    };
    // A separate classic collection is the resource itself.
    let d = if firewall.is_some() {
        decl(base, name, None)
    } else {
        sub_decl(base, what, name, span)
    };
    let rules = r
        .blocks(v, "rule")
        .into_iter()
        .map(|b| fw_rule(r, &b, &d, kind))
        .collect();
    RuleCollection {
        decl: d,
        firewall,
        kind,
        priority: r.req_u32(v, "priority"),
        action: r.req_str(v, "action"),
        rules,
    }
}

fn fw_rule<'a>(r: &mut Reader<'_, 'a>, v: &View<'a>, coll: &Decl, kind: RuleKind) -> FirewallRule {
    let name = r.name(v);
    let label = match &name {
        Some(n) => format!("{} rule `{}`", coll.label, n.value),
        None => format!("{} rule", coll.label),
    };
    let d = Decl {
        keys: vec![],
        name,
        span: v.span.clone(),
        label,
        condition: coll.condition.clone(),
    };
    let mut rule = FirewallRule {
        decl: d,
        source_addresses: r.list(v, "source_addresses"),
        source_ip_groups: r.keys(v, "source_ip_groups").map(Box::new),
        protocols: None,
        app_protocols: None,
        destination_addresses: r.list(v, "destination_addresses"),
        destination_ip_groups: r.keys(v, "destination_ip_groups").map(Box::new),
        destination_fqdns: None,
        destination_ports: r.list(v, "destination_ports"),
        target_fqdns: None,
        fqdn_tags: None,
        target_urls: None,
        web_categories: None,
        terminate_tls: None,
        translated_address: None,
        translated_port: None,
    };
    match kind {
        RuleKind::Application => {
            // Policy rules say `destination_fqdns`, classic ones `target_fqdns`.
            rule.target_fqdns = r
                .list(v, "destination_fqdns")
                .or_else(|| r.list(v, "target_fqdns"));
            rule.fqdn_tags = r
                .list(v, "destination_fqdn_tags")
                .or_else(|| r.list(v, "fqdn_tags"))
                .map(Box::new);
            rule.target_urls = r.list(v, "destination_urls").map(Box::new);
            rule.web_categories = r.list(v, "web_categories").map(Box::new);
            rule.terminate_tls = r.bool(v, "terminate_tls").map(Box::new);
            let mut protos = vec![];
            let mut span: Option<Span> = None;
            let mut pending: Option<Value<Vec<AppProtocol>>> = None;
            for name in ["protocols", "protocol"] {
                for b in r.blocks(v, name) {
                    span.get_or_insert(b.span.clone());
                    let t = r.get(&b, "type");
                    let p = r.get(&b, "port");
                    let Some(t) = t.map(|x| x.0) else { continue };
                    let port = p.map(|x| x.0);
                    match (t.as_string(), port.as_ref().map(|p| p.as_num())) {
                        (Some(kind), None) => protos.push(AppProtocol { kind, port: None }),
                        (Some(kind), Some(Some(n))) if (0.0..=65535.0).contains(&n) => {
                            protos.push(AppProtocol {
                                kind,
                                port: Some(n as u16),
                            })
                        }
                        (None, _) => {
                            pending.get_or_insert(Value::Unknown(Box::new(unknown_of(&t))));
                        }
                        (Some(_), Some(_)) => {
                            let p = port.unwrap_or(V::Null);
                            pending.get_or_insert(Value::Unknown(Box::new(unknown_of(&p))));
                        }
                    }
                }
            }
            if let Some(s) = span {
                rule.app_protocols = Some(Spanned::new(pending.unwrap_or(Value::Known(protos)), s));
            }
        }
        RuleKind::Network | RuleKind::Nat => {
            rule.protocols = r.list(v, "protocols");
            rule.destination_fqdns = r.list(v, "destination_fqdns").map(Box::new);
            if kind == RuleKind::Nat {
                if rule.destination_addresses.is_none() {
                    rule.destination_addresses = r.list(v, "destination_address");
                }
                rule.translated_address = r.str(v, "translated_address").map(Box::new);
                rule.translated_port = r.str(v, "translated_port").map(Box::new);
            }
        }
    }
    rule
}

fn node_pool<'a>(r: &mut Reader<'_, 'a>, v: &View<'a>, d: Decl) -> NodePool {
    NodePool {
        decl: d,
        cluster: None,
        subnet: r.key(v, "vnet_subnet_id"),
        pod_subnet: r.key(v, "pod_subnet_id"),
        vm_size: r.str(v, "vm_size"),
        os_type: r.str(v, "os_type"),
        os_sku: r.str(v, "os_sku"),
    }
}

fn present(v: &View<'_>) -> Attr<bool> {
    known(true, v.span.clone())
}

/// The cluster's location; `--location` stands in when it is unknown.
fn location<'a>(r: &mut Reader<'_, 'a>, v: &View<'a>) -> Option<Attr<String>> {
    let a = r.str(v, "location");
    match (&a, &r.ev.opts.location) {
        (Some(x), Some(loc)) if x.value.known().is_none() => {
            Some(known(loc.clone(), x.span.clone()))
        }
        _ => a,
    }
}

fn cluster<'a>(r: &mut Reader<'_, 'a>, v: &View<'a>, base: &Base) -> Cluster {
    let name = r.name(v);
    let arm = arm1("Microsoft.ContainerService/managedClusters", &name);
    let mut features: Vec<(String, Attr<bool>)> = vec![];
    let mut add = |f: &str, a: Attr<bool>| {
        // A feature switched off by a known `false` brings no requirement.
        if a.value != Value::Known(false) && !features.iter().any(|(n, _)| n == f) {
            features.push((f.to_string(), a));
        }
    };
    for (block, feature) in [
        ("oms_agent", "monitoring"),
        ("monitor_metrics", "monitoring"),
        ("microsoft_defender", "defender"),
        ("key_vault_secrets_provider", "keyvault"),
        ("web_app_routing", "web-app-routing"),
        ("service_mesh_profile", "service-mesh"),
    ] {
        if let Some(b) = r.first_block(v, block) {
            add(feature, present(&b));
        }
    }
    for (attr, feature) in [
        ("azure_policy_enabled", "policy"),
        ("workload_identity_enabled", "workload-identity"),
        ("cost_analysis_enabled", "cost-analysis"),
    ] {
        if let Some(a) = r.bool(v, attr) {
            add(feature, a);
        }
    }
    // azurerm 1.x/2.x: addon_profile { oms_agent { enabled = true } ... }.
    if let Some(ap) = r.first_block(v, "addon_profile") {
        for (block, feature) in [
            ("oms_agent", "monitoring"),
            ("azure_policy", "policy"),
            ("azure_keyvault_secrets_provider", "keyvault"),
        ] {
            if let Some(b) = r.first_block(&ap, block) {
                let a = r
                    .bool(&b, "enabled")
                    .unwrap_or_else(|| known(false, b.span.clone()));
                add(feature, a);
            }
        }
    }
    let np = r.first_block(v, "network_profile");
    let (mut outbound_type, mut network_plugin, mut network_plugin_mode) = (None, None, None);
    let (mut pod_cidrs, mut service_cidrs) = (None, None);
    if let Some(np) = &np {
        outbound_type = r.str(np, "outbound_type");
        network_plugin = r.str(np, "network_plugin");
        network_plugin_mode = r.str(np, "network_plugin_mode");
        pod_cidrs = r.merged(np, "pod_cidr", "pod_cidrs");
        service_cidrs = r.merged(np, "service_cidr", "service_cidrs");
    }
    let mut private_cluster = r.bool(v, "private_cluster_enabled");
    if private_cluster.is_none() {
        private_cluster = r.bool(v, "private_link_enabled");
    }
    let (mut api_server_vnet_integration, mut api_server_subnet) = (None, None);
    if let Some(ap) = r.first_block(v, "api_server_access_profile") {
        api_server_vnet_integration = r
            .bool(&ap, "virtual_network_integration_enabled")
            .or_else(|| r.bool(&ap, "vnet_integration_enabled"));
        api_server_subnet = r.key(&ap, "subnet_id");
    }
    let http_proxy = r.first_block(v, "http_proxy_config").map(|b| b.span);
    let artifact_source = match r.first_block(v, "bootstrap_profile") {
        Some(b) => r.str(&b, "artifact_source"),
        None => None,
    };
    let mut node_pools = vec![];
    let mut pools = r.blocks(v, "default_node_pool");
    pools.extend(r.blocks(v, "agent_pool_profile"));
    for p in pools {
        let n = r.name(&p);
        let d = sub_decl(base, "node pool", n, p.span.clone());
        node_pools.push(node_pool(r, &p, d));
    }
    Cluster {
        decl: decl(base, name, arm),
        location: location(r, v),
        outbound_type,
        network_plugin,
        network_plugin_mode,
        pod_cidrs,
        service_cidrs,
        private_cluster,
        api_server_vnet_integration,
        api_server_subnet,
        http_proxy,
        artifact_source,
        features,
        node_pools,
    }
}

/// Label of an instance: `module.net.azurerm_subnet.aks["a"]`.
pub fn label(module_path: &str, addr: &str, k: &Option<V>) -> String {
    if module_path.is_empty() {
        format!("{addr}{}", key_suffix(k))
    } else {
        format!("{module_path}.{addr}{}", key_suffix(k))
    }
}

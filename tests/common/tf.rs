//! A test-only reader for the Terraform shapes the scenarios use, so a
//! scenario is its text and nothing else. It knows only literal values and
//! plain references; it stands in until the real frontend lands.

use aks_egress_lint::model::*;
use aks_egress_lint::source::{FileId, Span, Spanned};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Body, Structure};
use std::ops::Range;

#[derive(Clone, Debug)]
pub enum V {
    Str(String),
    Num(u64),
    Bool(bool),
    List(Vec<V>),
    /// `azurerm_subnet.nodes.id` → ["azurerm_subnet", "nodes", "id"].
    Ref(Vec<String>),
    Other,
}

#[derive(Clone, Debug)]
pub struct B {
    pub ident: String,
    pub labels: Vec<String>,
    pub span: Range<usize>,
    pub attrs: Vec<(String, V, Range<usize>)>,
    pub blocks: Vec<B>,
}

fn value(e: &Expression) -> V {
    match e {
        Expression::String(s) => V::Str(s.value().to_string()),
        Expression::Number(n) => n.value().as_u64().map(V::Num).unwrap_or(V::Other),
        Expression::Bool(b) => V::Bool(*b.value()),
        Expression::Array(a) => V::List(a.iter().map(value).collect()),
        Expression::Variable(v) => V::Ref(vec![v.value().as_str().to_string()]),
        Expression::Traversal(t) => {
            let mut segs = match value(&t.expr) {
                V::Ref(s) => s,
                _ => return V::Other,
            };
            for op in &t.operators {
                if let TraversalOperator::GetAttr(a) = op.value() {
                    segs.push(a.value().as_str().to_string());
                }
            }
            V::Ref(segs)
        }
        _ => V::Other,
    }
}

fn blocks(body: &Body) -> Vec<B> {
    body.iter()
        .filter_map(|s| match s {
            Structure::Block(b) => Some(B {
                ident: b.ident.value().as_str().to_string(),
                labels: b.labels.iter().map(|l| l.as_str().to_string()).collect(),
                span: b.span().unwrap_or(0..0),
                attrs: b
                    .body
                    .iter()
                    .filter_map(|s| match s {
                        Structure::Attribute(a) => Some((
                            a.key.value().as_str().to_string(),
                            value(&a.value),
                            a.span().unwrap_or(0..0),
                        )),
                        _ => None,
                    })
                    .collect(),
                blocks: blocks(&b.body),
            }),
            _ => None,
        })
        .collect()
}

struct Cx {
    file: FileId,
}

impl Cx {
    fn sp(&self, r: &Range<usize>) -> Span {
        Span::new(self.file, r.clone())
    }
    fn decl(&self, b: &B, key: Option<String>) -> Decl {
        let name = b.get("name").map(|(v, r)| match v {
            V::Str(s) => Spanned::new(s.clone(), self.sp(r)),
            _ => Spanned::new(String::new(), self.sp(r)),
        });
        let label = match (b.labels.first(), b.labels.get(1)) {
            (Some(t), Some(n)) => format!("{t}.{n}"),
            _ => b.ident.clone(),
        };
        Decl {
            keys: key.into_iter().map(ResKey).collect(),
            name,
            span: self.sp(&b.span),
            label,
            condition: None,
        }
    }
    fn s(&self, b: &B, k: &str) -> Option<Attr<String>> {
        b.get(k).map(|(v, r)| match v {
            V::Str(s) => known(s.clone(), self.sp(r)),
            V::Num(n) => known(n.to_string(), self.sp(r)),
            V::Ref(segs) if segs.len() >= 2 && segs[0] != "var" => Spanned::new(
                Value::Ref(Box::new(Ref {
                    target: ResKey::tf("", &format!("{}.{}", segs[0], segs[1])),
                    attr: if segs.iter().any(|s| s == "private_ip_address") {
                        "private_ip".into()
                    } else {
                        segs[2..].join(".")
                    },
                })),
                self.sp(r),
            ),
            _ => unknown(format!("`{k}` is not a literal"), self.sp(r)),
        })
    }
    fn n(&self, b: &B, k: &str) -> Option<Attr<u32>> {
        b.get(k).map(|(v, r)| match v {
            V::Num(n) => known(*n as u32, self.sp(r)),
            _ => unknown(format!("`{k}` is not a literal"), self.sp(r)),
        })
    }
    fn bool(&self, b: &B, k: &str) -> Option<Attr<bool>> {
        b.get(k).map(|(v, r)| match v {
            V::Bool(x) => known(*x, self.sp(r)),
            _ => unknown(format!("`{k}` is not a literal"), self.sp(r)),
        })
    }
    fn list(&self, b: &B, keys: &[&str]) -> Option<Attr<Vec<String>>> {
        let mut out: Option<Attr<Vec<String>>> = None;
        for k in keys {
            if let Some((v, r)) = b.get(k) {
                let vals = match v {
                    V::Str(s) => Some(vec![s.clone()]),
                    V::Num(n) => Some(vec![n.to_string()]),
                    V::List(l) => l
                        .iter()
                        .map(|x| match x {
                            V::Str(s) => Some(s.clone()),
                            V::Num(n) => Some(n.to_string()),
                            _ => None,
                        })
                        .collect(),
                    _ => None,
                };
                let a = match vals {
                    Some(v) => known(v, self.sp(r)),
                    None => unknown(format!("`{k}` is not a literal"), self.sp(r)),
                };
                out = Some(match out {
                    Some(Spanned {
                        value: Value::Known(mut prev),
                        span,
                    }) => {
                        if let Value::Known(more) = a.value {
                            prev.extend(more);
                            known(prev, span)
                        } else {
                            a
                        }
                    }
                    Some(o) => o,
                    None => a,
                });
            }
        }
        out
    }
    fn key(&self, b: &B, k: &str) -> Option<Attr<ResKey>> {
        b.get(k).map(|(v, r)| match v {
            V::Ref(segs) if segs.len() >= 2 && segs[0] != "var" => known(
                ResKey::tf("", &format!("{}.{}", segs[0], segs[1])),
                self.sp(r),
            ),
            V::Str(s) => match ResKey::from_arm_id(s) {
                Some(k) => known(k, self.sp(r)),
                None => unknown(format!("`{k}` is not an id"), self.sp(r)),
            },
            V::Ref(segs) => Spanned::new(
                Value::Unknown(Box::new(Unknown::with_hint(
                    format!(
                        "variable `{}` has no value",
                        segs.get(1).cloned().unwrap_or_default()
                    ),
                    format!("--var {}=...", segs.get(1).cloned().unwrap_or_default()),
                ))),
                self.sp(r),
            ),
            _ => unknown(format!("`{k}` is not a reference"), self.sp(r)),
        })
    }
    fn keys(&self, b: &B, k: &str) -> Option<Attr<Vec<ResKey>>> {
        b.get(k).map(|(v, r)| match v {
            V::List(l) => known(
                l.iter()
                    .filter_map(|x| match x {
                        V::Ref(s) if s.len() >= 2 => {
                            Some(ResKey::tf("", &format!("{}.{}", s[0], s[1])))
                        }
                        _ => None,
                    })
                    .collect(),
                self.sp(r),
            ),
            _ => unknown("not a list", self.sp(r)),
        })
    }
}

impl B {
    pub fn get(&self, k: &str) -> Option<(&V, &Range<usize>)> {
        self.attrs
            .iter()
            .find(|(n, _, _)| n == k)
            .map(|(_, v, r)| (v, r))
    }
    fn sub(&self, ident: &str) -> impl Iterator<Item = &B> {
        self.blocks.iter().filter(move |b| b.ident == ident)
    }
}

fn rule(cx: &Cx, r: &B, kind: RuleKind) -> FirewallRule {
    let app_protocols = {
        let ps: Vec<AppProtocol> = r
            .sub("protocols")
            .chain(r.sub("protocol"))
            .filter_map(|p| {
                let kind = match p.get("type") {
                    Some((V::Str(s), _)) => s.clone(),
                    _ => return None,
                };
                let port = match p.get("port") {
                    Some((V::Num(n), _)) => Some(*n as u16),
                    _ => None,
                };
                Some(AppProtocol { kind, port })
            })
            .collect();
        (kind == RuleKind::Application).then(|| known(ps, cx.sp(&r.span)))
    };
    let (dest_fqdns, target_fqdns) = if kind == RuleKind::Application {
        (None, cx.list(r, &["destination_fqdns", "target_fqdns"]))
    } else {
        (cx.list(r, &["destination_fqdns"]), None)
    };
    FirewallRule {
        decl: cx.decl(r, None),
        source_addresses: cx.list(r, &["source_addresses"]),
        source_ip_groups: cx.keys(r, "source_ip_groups").map(Box::new),
        protocols: if kind == RuleKind::Application {
            None
        } else {
            cx.list(r, &["protocols"])
        },
        app_protocols,
        destination_addresses: cx.list(r, &["destination_addresses"]),
        destination_ip_groups: cx.keys(r, "destination_ip_groups").map(Box::new),
        destination_fqdns: dest_fqdns.map(Box::new),
        destination_ports: cx.list(r, &["destination_ports"]),
        target_fqdns,
        fqdn_tags: cx
            .list(r, &["destination_fqdn_tags", "fqdn_tags"])
            .map(Box::new),
        target_urls: cx.list(r, &["destination_urls"]).map(Box::new),
        web_categories: cx.list(r, &["web_categories"]).map(Box::new),
        terminate_tls: cx.bool(r, "terminate_tls").map(Box::new),
        translated_address: cx.s(r, "translated_address").map(Box::new),
        translated_port: cx.s(r, "translated_port").map(Box::new),
    }
}

fn collection(cx: &Cx, c: &B, kind: RuleKind, key: Option<String>) -> RuleCollection {
    RuleCollection {
        decl: cx.decl(c, key),
        firewall: None,
        kind,
        priority: cx
            .n(c, "priority")
            .unwrap_or_else(|| unknown("no priority", cx.sp(&c.span))),
        action: cx
            .s(c, "action")
            .unwrap_or_else(|| unknown("no action", cx.sp(&c.span))),
        rules: c.sub("rule").map(|r| rule(cx, r, kind)).collect(),
    }
}

fn pool(cx: &Cx, p: &B, key: Option<String>) -> NodePool {
    NodePool {
        decl: cx.decl(p, key),
        cluster: cx.key(p, "kubernetes_cluster_id"),
        subnet: cx.key(p, "vnet_subnet_id"),
        pod_subnet: cx.key(p, "pod_subnet_id"),
        vm_size: cx.s(p, "vm_size"),
        os_type: cx.s(p, "os_type"),
        os_sku: None,
    }
}

/// Read one Terraform file of a scenario into a model.
pub fn read(file: FileId, text: &str) -> Model {
    let body = hcl_edit::parser::parse_body(text).expect("scenario parses");
    let cx = Cx { file };
    let mut m = Model::default();
    for b in blocks(&body).iter().filter(|b| b.ident == "resource") {
        let (Some(ty), Some(n)) = (b.labels.first(), b.labels.get(1)) else {
            continue;
        };
        let key = Some(ResKey::tf("", &format!("{ty}.{n}")).0);
        let d = cx.decl(b, key.clone());

        match ty.as_str() {
            "azurerm_virtual_network" => m.vnets.push(VirtualNetwork {
                address_space: cx
                    .list(b, &["address_space"])
                    .unwrap_or_else(|| unknown("none", d.span.clone())),
                dns_servers: cx.list(b, &["dns_servers"]),
                decl: d,
            }),
            "azurerm_subnet" => m.subnets.push(Subnet {
                vnet: cx
                    .key(b, "virtual_network_name")
                    .and_then(|a| a.value.known().cloned()),
                address_prefixes: cx
                    .list(b, &["address_prefixes"])
                    .unwrap_or_else(|| unknown("none", d.span.clone())),
                nsg: None,
                route_table: None,
                nat_gateway: None,
                decl: d,
            }),
            "azurerm_route_table" => m.route_tables.push(RouteTable {
                routes: b
                    .sub("route")
                    .map(|r| Route {
                        decl: cx.decl(r, None),
                        route_table: None,
                        address_prefix: cx
                            .s(r, "address_prefix")
                            .unwrap_or_else(|| unknown("none", cx.sp(&r.span))),
                        next_hop_type: cx
                            .s(r, "next_hop_type")
                            .unwrap_or_else(|| unknown("none", cx.sp(&r.span))),
                        next_hop_ip: cx.s(r, "next_hop_in_ip_address"),
                    })
                    .collect(),
                disable_bgp_route_propagation: None,
                decl: d,
            }),
            "azurerm_route" => m.routes.push(Route {
                route_table: cx.key(b, "route_table_name"),
                address_prefix: cx
                    .s(b, "address_prefix")
                    .unwrap_or_else(|| unknown("none", d.span.clone())),
                next_hop_type: cx
                    .s(b, "next_hop_type")
                    .unwrap_or_else(|| unknown("none", d.span.clone())),
                next_hop_ip: cx.s(b, "next_hop_in_ip_address"),
                decl: d,
            }),
            "azurerm_subnet_route_table_association"
            | "azurerm_subnet_network_security_group_association" => {
                let (kind, tk) = if ty.contains("route_table") {
                    (AssociationKind::RouteTable, "route_table_id")
                } else {
                    (AssociationKind::Nsg, "network_security_group_id")
                };
                m.associations.push(Association {
                    kind,
                    subnet: cx
                        .key(b, "subnet_id")
                        .unwrap_or_else(|| unknown("none", d.span.clone())),
                    target: cx
                        .key(b, tk)
                        .unwrap_or_else(|| unknown("none", d.span.clone())),
                    decl: d,
                })
            }
            "azurerm_network_security_group" => m.nsgs.push(Nsg {
                rules: b
                    .sub("security_rule")
                    .map(|r| security_rule(&cx, r, None))
                    .collect(),
                subnets: vec![],
                from_export: false,
                decl: d,
            }),
            "azurerm_network_security_rule" => {
                let mut r = security_rule(&cx, b, key.clone());
                r.nsg = cx.key(b, "network_security_group_name");
                m.nsg_rules.push(r)
            }
            "azurerm_firewall" => {
                let ipc = b.sub("ip_configuration").next();
                m.firewalls.push(Firewall {
                    sku_tier: cx.s(b, "sku_tier"),
                    policy: cx.key(b, "firewall_policy_id"),
                    dns_proxy: cx.bool(b, "dns_proxy_enabled"),
                    private_ip: ipc.and_then(|i| cx.s(i, "private_ip_address")),
                    subnet: ipc.and_then(|i| cx.key(i, "subnet_id")),
                    collections: vec![],
                    threat_intel_mode: None,
                    decl: d,
                })
            }
            "azurerm_firewall_policy" => m.policies.push(FirewallPolicy {
                base_policy: cx.key(b, "base_policy_id"),
                dns_proxy: b
                    .sub("dns")
                    .next()
                    .and_then(|x| cx.bool(x, "proxy_enabled")),
                sku_tier: cx.s(b, "sku"),
                decl: d,
            }),
            "azurerm_firewall_policy_rule_collection_group" => {
                let mut cols = vec![];
                for c in &b.blocks {
                    let kind = match c.ident.as_str() {
                        "application_rule_collection" => RuleKind::Application,
                        "network_rule_collection" => RuleKind::Network,
                        "nat_rule_collection" => RuleKind::Nat,
                        _ => continue,
                    };
                    cols.push(collection(&cx, c, kind, None));
                }
                m.rule_collection_groups.push(RuleCollectionGroup {
                    policy: cx
                        .key(b, "firewall_policy_id")
                        .unwrap_or_else(|| unknown("none", d.span.clone())),
                    priority: cx
                        .n(b, "priority")
                        .unwrap_or_else(|| unknown("none", d.span.clone())),
                    collections: cols,
                    decl: d,
                })
            }
            "azurerm_firewall_application_rule_collection"
            | "azurerm_firewall_network_rule_collection" => {
                let kind = if ty.contains("application") {
                    RuleKind::Application
                } else {
                    RuleKind::Network
                };
                let mut c = collection(&cx, b, kind, key.clone());
                c.firewall = cx.key(b, "azure_firewall_name");
                m.fw_collections.push(c)
            }
            "azurerm_ip_group" => m.ip_groups.push(IpGroup {
                cidrs: cx
                    .list(b, &["cidrs"])
                    .unwrap_or_else(|| known(vec![], d.span.clone())),
                decl: d,
            }),
            "azurerm_kubernetes_cluster_node_pool" => m.node_pools.push(pool(&cx, b, key.clone())),
            "azurerm_kubernetes_cluster" => {
                let np = b.sub("network_profile").next();
                let mut features = vec![];
                if let Some(o) = b.sub("oms_agent").next() {
                    features.push(("monitoring".to_string(), known(true, cx.sp(&o.span))));
                }
                if let Some(a) = cx.bool(b, "azure_policy_enabled") {
                    features.push(("policy".to_string(), a));
                }
                m.clusters.push(Cluster {
                    location: cx.s(b, "location"),
                    outbound_type: np.and_then(|n| cx.s(n, "outbound_type")),
                    network_plugin: np.and_then(|n| cx.s(n, "network_plugin")),
                    network_plugin_mode: np.and_then(|n| cx.s(n, "network_plugin_mode")),
                    pod_cidrs: np.and_then(|n| cx.list(n, &["pod_cidr", "pod_cidrs"])),
                    service_cidrs: np.and_then(|n| cx.list(n, &["service_cidr", "service_cidrs"])),
                    private_cluster: cx.bool(b, "private_cluster_enabled"),
                    api_server_vnet_integration: None,
                    api_server_subnet: None,
                    http_proxy: b.sub("http_proxy_config").next().map(|h| cx.sp(&h.span)),
                    artifact_source: None,
                    features,
                    node_pools: b
                        .sub("default_node_pool")
                        .map(|p| pool(&cx, p, None))
                        .collect(),
                    decl: d,
                })
            }
            _ => {}
        }
    }
    m
}

fn security_rule(cx: &Cx, r: &B, key: Option<String>) -> SecurityRule {
    let sp = cx.sp(&r.span);
    let star = || known(vec!["*".to_string()], sp.clone());
    SecurityRule {
        decl: cx.decl(r, key),
        nsg: None,
        priority: cx
            .n(r, "priority")
            .unwrap_or_else(|| unknown("none", sp.clone())),
        direction: cx
            .s(r, "direction")
            .unwrap_or_else(|| unknown("none", sp.clone())),
        access: cx
            .s(r, "access")
            .unwrap_or_else(|| unknown("none", sp.clone())),
        protocol: cx
            .s(r, "protocol")
            .unwrap_or_else(|| unknown("none", sp.clone())),
        source_addresses: cx
            .list(r, &["source_address_prefix", "source_address_prefixes"])
            .unwrap_or_else(star),
        destination_addresses: cx
            .list(
                r,
                &["destination_address_prefix", "destination_address_prefixes"],
            )
            .unwrap_or_else(|| known(vec![], sp.clone())),
        source_ports: cx
            .list(r, &["source_port_range", "source_port_ranges"])
            .unwrap_or_else(star),
        destination_ports: cx
            .list(r, &["destination_port_range", "destination_port_ranges"])
            .unwrap_or_else(|| known(vec![], sp.clone())),
        source_asgs: vec![],
        destination_asgs: vec![],
        is_default: false,
    }
}

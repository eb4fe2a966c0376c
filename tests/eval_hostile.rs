//! Hostile and random models: evaluation, the checks, `explain` and
//! `allow-set` never panic, whatever strings and references the frontends
//! hand over, and stay fast on large rule sets.

use aks_egress_lint::catalog::load;
use aks_egress_lint::checks::{Overrides, run};
use aks_egress_lint::explain::{AllowSetArgs, ExplainArgs, Format, allow_set, explain};
use aks_egress_lint::model::*;
use aks_egress_lint::source::{FileId, Sources, Span, Spanned};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "*",
    "0.0.0.0/0",
    "10.0.0.0/8",
    "10.0.0.0/33",
    "10.0.0.5-10.0.0.1",
    "::/0",
    "fe80::/10",
    "Internet",
    "VirtualNetwork",
    "AzureCloud.westeurope",
    "AzureCloud.",
    ".",
    "",
    "443",
    "1-65535",
    "65536",
    "-1",
    "80,443",
    "Tcp",
    "udp",
    "Any",
    "Icmp",
    "Allow",
    "Deny",
    "Outbound",
    "Inbound",
    "VirtualAppliance",
    "None",
    "Internet",
    "VnetLocal",
    "VirtualNetworkGateway",
    "10.0.1.4",
    "é",
    "*.*",
    "*contoso.com",
    "mcr.microsoft.com",
    "Https",
    "Http",
    "Mssql",
    "AzureKubernetesService",
    "k1",
    "k2",
    "k3",
];

fn sp(f: u32, a: usize, b: usize) -> Span {
    Span::new(FileId(f), a.min(b)..a.max(b))
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..WORDS.len()).prop_map(|i| WORDS[i].to_string()),
        "\\PC{0,12}",
    ]
}

fn attr_s() -> impl Strategy<Value = Attr<String>> {
    prop_oneof![
        word().prop_map(|w| known(w, sp(0, 0, 3))),
        Just(unknown("not known", sp(0, 1, 2))),
        (0..3usize).prop_map(|k| Spanned::new(
            Value::Ref(Box::new(Ref {
                target: ResKey(format!("k{k}")),
                attr: "private_ip".into()
            })),
            sp(0, 0, 1)
        )),
    ]
}

fn attr_v() -> impl Strategy<Value = Attr<Vec<String>>> {
    prop_oneof![
        prop::collection::vec(word(), 0..4).prop_map(|w| known(w, sp(0, 2, 5))),
        Just(unknown("not known", sp(0, 1, 2))),
    ]
}

fn key() -> impl Strategy<Value = Attr<ResKey>> {
    prop_oneof![
        (0..4usize).prop_map(|k| known(ResKey(format!("k{k}")), sp(0, 0, 2))),
        Just(unknown("module output", sp(0, 0, 1))),
    ]
}

fn decl(k: usize) -> Decl {
    Decl {
        keys: vec![ResKey(format!("k{k}"))],
        name: Some(Spanned::new(format!("n{k}"), sp(0, 0, 2))),
        span: sp(0, k, k + 5),
        label: format!("r.k{k}"),
        condition: None,
    }
}

fn model() -> impl Strategy<Value = Model> {
    let rule = (
        attr_s(),
        attr_s(),
        attr_s(),
        attr_v(),
        attr_v(),
        attr_v(),
        any::<u16>(),
        any::<bool>(),
    );
    let fw_rule = (attr_v(), attr_v(), attr_v(), attr_v(), any::<bool>());
    (
        prop::collection::vec(rule, 0..6),
        prop::collection::vec((attr_s(), attr_s(), prop::option::of(attr_s())), 0..4),
        prop::collection::vec(fw_rule, 0..6),
        attr_v(),
        attr_v(),
        prop::option::of(attr_s()),
        attr_s(),
        prop::option::of(key()),
        prop::option::of(key()),
    )
        .prop_map(
            |(rules, routes, fw_rules, prefixes, space, outbound, location, nsg, rt)| {
                let mut m = Model::default();
                m.vnets.push(VirtualNetwork {
                    decl: decl(0),
                    address_space: space,
                    dns_servers: None,
                });
                m.subnets.push(Subnet {
                    decl: decl(1),
                    vnet: Some(ResKey("k0".into())),
                    address_prefixes: prefixes.clone(),
                    nsg,
                    route_table: rt,
                    nat_gateway: None,
                });
                m.subnets.push(Subnet {
                    decl: Decl {
                        name: Some(Spanned::new("AzureFirewallSubnet".into(), sp(0, 0, 1))),
                        ..decl(2)
                    },
                    vnet: Some(ResKey("k0".into())),
                    address_prefixes: prefixes,
                    nsg: None,
                    route_table: None,
                    nat_gateway: None,
                });
                m.nsgs.push(Nsg {
                    decl: decl(2),
                    rules: rules
                        .into_iter()
                        .enumerate()
                        .map(
                            |(i, (dir, acc, proto, src, dst, ports, prio, def))| SecurityRule {
                                decl: decl(10 + i),
                                nsg: None,
                                priority: known(prio as u32, sp(0, 0, 1)),
                                direction: dir,
                                access: acc,
                                protocol: proto,
                                source_addresses: src,
                                destination_addresses: dst,
                                source_ports: known(vec!["*".into()], sp(0, 0, 1)),
                                destination_ports: ports,
                                source_asgs: vec![],
                                destination_asgs: vec![],
                                is_default: def,
                            },
                        )
                        .collect(),
                    subnets: vec![],
                    from_export: false,
                });
                m.route_tables.push(RouteTable {
                    decl: decl(3),
                    routes: routes
                        .into_iter()
                        .enumerate()
                        .map(|(i, (p, h, ip))| Route {
                            decl: decl(30 + i),
                            route_table: None,
                            address_prefix: p,
                            next_hop_type: h,
                            next_hop_ip: ip,
                        })
                        .collect(),
                    disable_bgp_route_propagation: None,
                });
                let rules: Vec<FirewallRule> = fw_rules
                    .into_iter()
                    .enumerate()
                    .map(|(i, (a, f, p, ports, app))| FirewallRule {
                        decl: decl(50 + i),
                        source_addresses: Some(a.clone()),
                        source_ip_groups: Some(Box::new(known(
                            vec![ResKey("k1".into())],
                            sp(0, 0, 1),
                        ))),
                        protocols: Some(p),
                        app_protocols: app.then(|| {
                            known(
                                vec![AppProtocol {
                                    kind: "Https".into(),
                                    port: None,
                                }],
                                sp(0, 0, 1),
                            )
                        }),
                        destination_addresses: Some(a),
                        destination_ip_groups: None,
                        destination_fqdns: Some(Box::new(f.clone())),
                        destination_ports: Some(ports),
                        target_fqdns: Some(f.clone()),
                        fqdn_tags: Some(Box::new(f)),
                        target_urls: None,
                        web_categories: None,
                        terminate_tls: None,
                        translated_address: None,
                        translated_port: None,
                    })
                    .collect();
                m.firewalls.push(Firewall {
                    decl: decl(1),
                    sku_tier: None,
                    policy: Some(known(ResKey("k2".into()), sp(0, 0, 1))),
                    dns_proxy: None,
                    private_ip: None,
                    subnet: Some(known(ResKey("k2".into()), sp(0, 0, 1))),
                    collections: vec![],
                    threat_intel_mode: None,
                });
                m.policies.push(FirewallPolicy {
                    decl: decl(2),
                    base_policy: Some(known(ResKey("k2".into()), sp(0, 0, 1))),
                    dns_proxy: Some(unknown("x", sp(0, 0, 1))),
                    sku_tier: None,
                });
                for (kind, action) in [
                    (RuleKind::Network, "Allow"),
                    (RuleKind::Application, "Deny"),
                ] {
                    m.rule_collection_groups.push(RuleCollectionGroup {
                        decl: decl(4),
                        policy: known(ResKey("k2".into()), sp(0, 0, 1)),
                        priority: unknown("p", sp(0, 0, 1)),
                        collections: vec![RuleCollection {
                            decl: decl(5),
                            firewall: None,
                            kind,
                            priority: known(100, sp(0, 0, 1)),
                            action: known(action.into(), sp(0, 0, 1)),
                            rules: rules.clone(),
                        }],
                    });
                }
                m.ip_groups.push(IpGroup {
                    decl: decl(1),
                    cidrs: known(vec!["10.0.0.0/8".into(), "junk".into()], sp(0, 0, 1)),
                });
                m.clusters.push(Cluster {
                    decl: decl(6),
                    location: Some(location),
                    outbound_type: outbound,
                    network_plugin: None,
                    network_plugin_mode: None,
                    pod_cidrs: Some(known(vec!["10.244.0.0/16".into(), "x".into()], sp(0, 0, 1))),
                    service_cidrs: None,
                    private_cluster: None,
                    api_server_vnet_integration: None,
                    api_server_subnet: Some(known(ResKey("k1".into()), sp(0, 0, 1))),
                    http_proxy: None,
                    artifact_source: None,
                    features: vec![("monitoring".into(), unknown("var", sp(0, 0, 1)))],
                    node_pools: vec![NodePool {
                        decl: decl(7),
                        cluster: None,
                        subnet: Some(known(ResKey("k1".into()), sp(0, 0, 1))),
                        pod_subnet: Some(known(ResKey("k1".into()), sp(0, 0, 1))),
                        vm_size: Some(known("Standard_NC6".into(), sp(0, 0, 1))),
                        os_type: Some(known("Windows".into(), sp(0, 0, 1))),
                        os_sku: None,
                    }],
                });
                m.public_inbound.push(PublicInbound {
                    decl: decl(8),
                    description: "Service `x`".into(),
                });
                m
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_models_never_panic(m in model(), to in word()) {
        let mut sources = Sources::new();
        sources.add_named("main.tf", "resource \"x\" \"y\" {\n  a = 1\n}\n".repeat(20));
        static CATALOG: std::sync::OnceLock<aks_egress_lint::catalog::Catalog> = std::sync::OnceLock::new();
        let catalog = CATALOG.get_or_init(|| load("current").unwrap());
        let ov = Overrides::default();
        let (findings, summaries) = run(&m, &sources, catalog, &ov);
        for f in &findings {
            prop_assert_eq!(f.labels.iter().filter(|l| l.primary).count(), 1);
        }
        prop_assert_eq!(summaries.len(), 1);
        let mut out = vec![];
        let _ = explain(&m, &sources, catalog, &ov, &ExplainArgs { cluster: None, to: to.clone(), format: Format::Json }, &mut out).unwrap();
        let _ = explain(&m, &sources, catalog, &ov, &ExplainArgs { cluster: None, to: "mcr.microsoft.com".into(), format: Format::Human }, &mut out).unwrap();
        let _ = allow_set(&m, &sources, catalog, &ov, &AllowSetArgs { cluster: None, format: Format::Human }, &mut out).unwrap();
    }
}

/// A large policy and NSG: the whole run stays well under a few seconds.
#[test]
fn large_rule_sets_are_fast() {
    let mut m = Model::default();
    let k = |s: &str| known(ResKey(s.into()), Span::default());
    m.vnets.push(VirtualNetwork {
        decl: decl(0),
        address_space: known(vec!["10.0.0.0/8".into()], Span::default()),
        dns_servers: None,
    });
    for i in 0..200 {
        m.subnets.push(Subnet {
            decl: decl(1000 + i),
            vnet: Some(ResKey("k0".into())),
            address_prefixes: known(vec![format!("10.{}.0.0/16", i)], Span::default()),
            nsg: Some(k("k2")),
            route_table: Some(k("k3")),
            nat_gateway: None,
        });
    }
    m.subnets.push(Subnet {
        decl: decl(5000),
        vnet: Some(ResKey("k0".into())),
        address_prefixes: known(vec!["10.250.0.0/26".into()], Span::default()),
        nsg: None,
        route_table: None,
        nat_gateway: None,
    });
    let rule = |i: usize| SecurityRule {
        decl: decl(10_000 + i),
        nsg: None,
        priority: known(100 + (i as u32 % 3900), Span::default()),
        direction: known("Outbound".into(), Span::default()),
        access: known(
            if i.is_multiple_of(2) { "Allow" } else { "Deny" }.into(),
            Span::default(),
        ),
        protocol: known("Tcp".into(), Span::default()),
        source_addresses: known(vec!["*".into()], Span::default()),
        destination_addresses: known(vec![format!("192.168.{}.0/24", i % 250)], Span::default()),
        source_ports: known(vec!["*".into()], Span::default()),
        destination_ports: known(vec![format!("{}", 1000 + i)], Span::default()),
        source_asgs: vec![],
        destination_asgs: vec![],
        is_default: false,
    };
    m.nsgs.push(Nsg {
        decl: decl(2),
        rules: (0..4000).map(rule).collect(),
        subnets: vec![],
        from_export: false,
    });
    m.route_tables.push(RouteTable {
        decl: decl(3),
        routes: vec![Route {
            decl: decl(4),
            route_table: None,
            address_prefix: known("0.0.0.0/0".into(), Span::default()),
            next_hop_type: known("VirtualAppliance".into(), Span::default()),
            next_hop_ip: Some(known("10.250.0.4".into(), Span::default())),
        }],
        disable_bgp_route_propagation: None,
    });
    m.firewalls.push(Firewall {
        decl: decl(5),
        sku_tier: None,
        policy: Some(k("k6")),
        dns_proxy: None,
        private_ip: Some(known("10.250.0.4".into(), Span::default())),
        subnet: None,
        collections: vec![],
        threat_intel_mode: None,
    });
    m.policies.push(FirewallPolicy {
        decl: decl(6),
        base_policy: None,
        dns_proxy: None,
        sku_tier: None,
    });
    let fw_rule = |i: usize| FirewallRule {
        decl: decl(20_000 + i),
        source_addresses: Some(known(vec!["10.0.0.0/8".into()], Span::default())),
        source_ip_groups: None,
        protocols: None,
        app_protocols: Some(known(
            vec![AppProtocol {
                kind: "Https".into(),
                port: Some(443),
            }],
            Span::default(),
        )),
        destination_addresses: None,
        destination_ip_groups: None,
        destination_fqdns: None,
        destination_ports: None,
        target_fqdns: Some(known(vec![format!("host{i}.example.com")], Span::default())),
        fqdn_tags: None,
        target_urls: None,
        web_categories: None,
        terminate_tls: None,
        translated_address: None,
        translated_port: None,
    };
    m.rule_collection_groups.push(RuleCollectionGroup {
        decl: decl(7),
        policy: k("k6"),
        priority: known(100, Span::default()),
        collections: vec![RuleCollection {
            decl: decl(8),
            firewall: None,
            kind: RuleKind::Application,
            priority: known(100, Span::default()),
            action: known("Allow".into(), Span::default()),
            rules: (0..3000).map(fw_rule).collect(),
        }],
    });
    for c in 0..3 {
        m.clusters.push(Cluster {
            decl: decl(9 + c),
            location: Some(known("westeurope".into(), Span::default())),
            outbound_type: Some(known("userDefinedRouting".into(), Span::default())),
            network_plugin: None,
            network_plugin_mode: None,
            pod_cidrs: None,
            service_cidrs: None,
            private_cluster: None,
            api_server_vnet_integration: None,
            api_server_subnet: None,
            http_proxy: None,
            artifact_source: None,
            features: vec![("monitoring".into(), known(true, Span::default()))],
            node_pools: (0..4)
                .map(|p| NodePool {
                    decl: decl(100 + p),
                    cluster: None,
                    subnet: Some(k(&format!("k{}", 1000 + c * 10 + p))),
                    pod_subnet: None,
                    vm_size: None,
                    os_type: None,
                    os_sku: None,
                })
                .collect(),
        });
    }
    let mut sources = Sources::new();
    sources.add_named("main.tf", "x");
    let catalog = load("current").unwrap();
    let t = std::time::Instant::now();
    let (findings, _) = run(&m, &sources, &catalog, &Overrides::default());
    let took = t.elapsed();
    assert!(!findings.is_empty());
    // Debug builds on a shared machine: generous, but catches quadratic blow-ups.
    assert!(took.as_secs() < 20, "took {took:?}");
}

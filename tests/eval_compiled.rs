//! Differential tests: the matchers read once per run (NSGs, firewall
//! rules, routes) against the direct evaluation that reads every rule's
//! strings again for every flow (`eval::reference`). On generated rule
//! sets, including unknown values, unreadable strings, uncertain members
//! and odd priorities, both must give the same outcome: verdict, decider,
//! every trace line and every doubt. Then the whole path, on every scenario
//! of `testdata/`.

use aks_egress_lint::catalog::{self, Catalog};
use aks_egress_lint::checks::{self, Overrides};
use aks_egress_lint::eval::addr::{IpRange, VnetScope, parse_range};
use aks_egress_lint::eval::firewall::{FwEnv, eval_firewall, setup};
use aks_egress_lint::eval::flow::Evaluator;
use aks_egress_lint::eval::nsg::{Packet, eval_nsg, eval_nsg_packet, rule_matches};
use aks_egress_lint::eval::route::choices;
use aks_egress_lint::eval::{AppProto, Dest, Flow, Transport, reference};
use aks_egress_lint::link::{Linked, Member, Unresolved};
use aks_egress_lint::model::*;
use aks_egress_lint::source::{FileId, Span, Spanned};
use aks_egress_lint::{Options, analyse};
use proptest::prelude::*;
use std::path::PathBuf;

/// A small deterministic generator: one proptest seed drives a whole case.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, pool: &[&'a str]) -> &'a str {
        pool[self.below(pool.len())]
    }
    fn list(&mut self, pool: &[&str], max: usize) -> Vec<String> {
        (0..self.below(max + 1))
            .map(|_| self.pick(pool).to_string())
            .collect()
    }
    fn span(&mut self) -> Span {
        let a = self.below(10_000);
        Span::new(FileId(0), a..a + 1)
    }
    /// A value that is usually known, sometimes unknown or a reference.
    fn attr<T>(&mut self, v: T) -> Attr<T> {
        let span = self.span();
        match self.below(20) {
            0 => unknown("variable `x` has no value", span),
            1 => Spanned::new(
                Value::Ref(Box::new(Ref {
                    target: ResKey("tf::azurerm_thing.x".into()),
                    attr: "id".into(),
                })),
                span,
            ),
            _ => known(v, span),
        }
    }
    fn attr_list(&mut self, (pool, max): (&[&str], usize)) -> Attr<Vec<String>> {
        let l = self.list(pool, max);
        self.attr(l)
    }
    fn opt_list(&mut self, (pool, max): (&[&str], usize)) -> Option<Attr<Vec<String>>> {
        let l = self.list(pool, max);
        self.opt_attr(l)
    }
    fn attr_pick(&mut self, pool: &[&str]) -> Attr<String> {
        let v = self.pick(pool).to_string();
        self.attr(v)
    }
    fn opt_attr<T>(&mut self, v: T) -> Option<Attr<T>> {
        if self.chance(35) {
            None
        } else {
            Some(self.attr(v))
        }
    }
}

fn decl(key: &str, span: Span) -> Decl {
    Decl {
        keys: vec![ResKey(key.into())],
        name: Some(Spanned::new(key.into(), span.clone())),
        span,
        label: key.into(),
        condition: None,
    }
}

const ADDRS: &[&str] = &[
    "*",
    "Any",
    "10.0.0.0/8",
    "10.1.0.0/24",
    "10.1.0.5",
    "10.0.0.1-10.0.0.9",
    "10.0.0.9-10.0.0.1",
    "20.0.0.0/8",
    "0.0.0.0/0",
    "VirtualNetwork",
    "Internet",
    "AzureCloud",
    "AzureCloud.westeurope",
    "azurecloud.EastUS",
    "Storage",
    "MicrosoftContainerRegistry",
    "AzureLoadBalancer",
    "AzurePlatformDNS",
    "not an address!",
    "",
    " 10.2.0.0/16 ",
    "2001:db8::/32",
    "168.63.129.16",
    "192.168.0.0/16",
];
const PORTS: &[&str] = &[
    "*",
    "443",
    "80",
    "1-1000",
    "400-500",
    "80,443",
    "x",
    "",
    "Any",
    " 443 ",
    "123",
    "53",
    "9000-9001",
    "1194",
];
const PROTOS: &[&str] = &[
    "Tcp", "Udp", "*", "Any", "Icmp", "TCP", "UDP", "weird", "esp", " tcp ",
];
const FQDNS: &[&str] = &[
    "mcr.microsoft.com",
    "MCR.Microsoft.com.",
    "*.microsoft.com",
    "*microsoft.com",
    "*",
    "www.contoso.*",
    "a*.contoso.com",
    "*.data.mcr.microsoft.com",
    "*.hcp.westeurope.azmk8s.io",
    "*.azmk8s.io",
    "x.data.mcr.microsoft.com",
    "management.azure.com",
    "",
    "*.location-not-known.example",
    "packages.microsoft.com/some/path",
];
const NAMES: &[&str] = &[
    "mcr.microsoft.com",
    "*.data.mcr.microsoft.com",
    "management.azure.com",
    "*.hcp.westeurope.azmk8s.io",
    "*.hcp.{location}.azmk8s.io",
    "{location}.dp.kubernetesconfiguration.azure.com",
    "packages.microsoft.com",
    "notmicrosoft.com",
    "ntp.ubuntu.com",
];
const IPS: &[&str] = &[
    "10.1.0.7",
    "10.9.9.9",
    "20.1.2.3",
    "168.63.129.16",
    "192.168.1.1",
    "8.8.8.8",
    "2001:db8::1",
    "100.64.0.1",
];
const TAGS: &[&str] = &[
    "AzureCloud.westeurope",
    "AzureCloud",
    "MicrosoftContainerRegistry",
    "AzureActiveDirectory",
    "Storage.westeurope",
];

fn gen_flow(g: &mut Gen, catalog: &Catalog) -> Flow {
    let transport = if g.chance(30) {
        Transport::Udp
    } else {
        Transport::Tcp
    };
    let port = [443u16, 80, 123, 53, 1194, 9000, 8443][g.below(7)];
    let dest = match g.below(10) {
        0..=4 => Dest::Fqdn {
            name: g.pick(NAMES).into(),
            in_tags: g.list(TAGS, 2),
        },
        5 | 6 => Dest::Ip(g.pick(IPS).parse().unwrap()),
        7 | 8 => Dest::Tag(g.pick(TAGS).into()),
        _ => Dest::Unknown(Unresolved {
            reason: "custom DNS servers come from a variable".into(),
            hint: None,
            span: g.span(),
        }),
    };
    let app = match g.below(3) {
        0 => None,
        1 => Some(AppProto::Http),
        _ => Some(AppProto::Https),
    };
    let entry = if g.chance(60) && !catalog.entries.is_empty() {
        Some(catalog.entries[g.below(catalog.entries.len())].id.clone())
    } else {
        None
    };
    Flow {
        dest,
        transport,
        port,
        app,
        entry,
        display: "x:443/tcp".into(),
    }
}

fn gen_src(g: &mut Gen) -> Option<Vec<IpRange>> {
    match g.below(4) {
        0 => None,
        1 => Some(vec![]),
        2 => Some(vec![parse_range("10.1.0.0/24").unwrap()]),
        _ => Some(vec![
            parse_range("10.1.0.0/24").unwrap(),
            parse_range("10.9.0.0/16").unwrap(),
        ]),
    }
}

fn gen_scope(g: &mut Gen) -> VnetScope {
    VnetScope {
        space: match g.below(3) {
            0 => None,
            1 => Some(vec![parse_range("10.0.0.0/8").unwrap()]),
            _ => Some(vec![parse_range("10.1.0.0/16").unwrap()]),
        },
        udr_prefixes: g.list(
            &[
                "0.0.0.0/0",
                "AzureCloud.westeurope",
                "Internet",
                "10.5.0.0/16",
                "junk!",
            ],
            2,
        ),
    }
}

fn gen_nsg(g: &mut Gen) -> Nsg {
    let n = g.below(9);
    let rules = (0..n)
        .map(|i| {
            let span = g.span();
            let prio = [100u32, 200, 200, 300, 4096, 65000, 65001, 65002, 70000][g.below(9)];
            SecurityRule {
                decl: decl(&format!("r{i}"), span),
                nsg: if g.chance(10) {
                    Some(unknown("the NSG id is computed", g.span()))
                } else {
                    None
                },
                priority: g.attr(prio),
                direction: g.attr_pick(&["Outbound", "Inbound", "outbound", "sideways"]),
                access: g.attr_pick(&["Allow", "Deny", "deny", "maybe"]),
                protocol: g.attr_pick(PROTOS),
                source_addresses: g.attr_list((ADDRS, 2)),
                destination_addresses: g.attr_list((ADDRS, 3)),
                source_ports: g.attr_list((&["*", "1024-65535", "80"], 2)),
                destination_ports: g.attr_list((PORTS, 2)),
                source_asgs: if g.chance(15) {
                    vec![known(ResKey("asg".into()), g.span())]
                } else {
                    vec![]
                },
                destination_asgs: if g.chance(15) {
                    vec![known(ResKey("asg".into()), g.span())]
                } else {
                    vec![]
                },
                is_default: g.chance(5),
            }
        })
        .collect();
    Nsg {
        decl: decl("nsg", Span::new(FileId(0), 0..1)),
        rules,
        subnets: vec![],
        from_export: false,
    }
}

fn members<'m>(g: &mut Gen, nsg: &'m Nsg) -> Vec<Member<'m, SecurityRule>> {
    nsg.rules
        .iter()
        .map(|item| Member {
            item,
            certain: !g.chance(10),
        })
        .collect()
}

fn show<T: std::fmt::Debug>(x: &T) -> String {
    format!("{x:#?}")
}

fn gen_fw_rule(g: &mut Gen, i: usize, net: bool) -> FirewallRule {
    let span = g.span();
    let groups = |g: &mut Gen| {
        if g.chance(25) {
            let keys = (0..g.below(3))
                .map(|_| ResKey(g.pick(&["ipg-a", "ipg-b", "ipg-missing"]).into()))
                .collect();
            Some(g.attr(keys))
        } else {
            None
        }
    };
    let app_protocols = (0..g.below(3))
        .map(|_| AppProtocol {
            kind: g.pick(&["Http", "Https", "https ", "Mssql"]).into(),
            port: [None, Some(443), Some(80), Some(8443)][g.below(4)],
        })
        .collect();
    FirewallRule {
        decl: decl(&format!("rule{i}"), span),
        source_addresses: if g.chance(80) {
            Some(g.attr_list((ADDRS, 2)))
        } else {
            None
        },
        source_ip_groups: groups(g).map(Box::new),
        protocols: if net { g.opt_list((PROTOS, 2)) } else { None },
        app_protocols: if net { None } else { g.opt_attr(app_protocols) },
        destination_addresses: g.opt_list((ADDRS, 2)),
        destination_ip_groups: groups(g).map(Box::new),
        destination_fqdns: if net {
            g.opt_list((FQDNS, 2)).map(Box::new)
        } else {
            None
        },
        destination_ports: if net { g.opt_list((PORTS, 2)) } else { None },
        target_fqdns: if net { None } else { g.opt_list((FQDNS, 3)) },
        fqdn_tags: if !net && g.chance(30) {
            Some(Box::new(g.attr_list((
                &[
                    "AzureKubernetesService",
                    "WindowsUpdate",
                    "azurekubernetesservice",
                ],
                2,
            ))))
        } else {
            None
        },
        target_urls: if !net && g.chance(20) {
            Some(Box::new(g.attr_list((
                &[
                    "packages.microsoft.com/a/b",
                    "mcr.microsoft.com",
                    "*.microsoft.com/x",
                    "/x",
                ],
                2,
            ))))
        } else {
            None
        },
        web_categories: if !net && g.chance(10) {
            Some(Box::new(g.attr_list((&["Gambling"], 1))))
        } else {
            None
        },
        terminate_tls: None,
        translated_address: None,
        translated_port: None,
    }
}

fn gen_collection(g: &mut Gen, i: usize, classic: bool) -> RuleCollection {
    let kind = match g.below(5) {
        0 | 1 => RuleKind::Network,
        2 | 3 => RuleKind::Application,
        _ => RuleKind::Nat,
    };
    let net = kind != RuleKind::Application;
    let rules = (0..g.below(5))
        .map(|r| gen_fw_rule(g, i * 10 + r, net))
        .collect();
    RuleCollection {
        decl: decl(&format!("coll{i}"), g.span()),
        firewall: if classic && g.chance(20) {
            Some(unknown("the firewall id is computed", g.span()))
        } else if classic {
            Some(known(ResKey("fw".into()), g.span()))
        } else {
            None
        },
        kind,
        priority: {
            let p = [100u32, 200, 300, 100][g.below(4)];
            g.attr(p)
        },
        action: g.attr_pick(&["Allow", "Deny", "allow", "Dnat", "?"]),
        rules,
    }
}

fn gen_fw_model(g: &mut Gen) -> Model {
    let mut m = Model::default();
    let classic = g.chance(30);
    let dns = match g.below(4) {
        0 => None,
        1 => Some(known(true, g.span())),
        2 => Some(known(false, g.span())),
        _ => Some(unknown("dns proxy from a variable", g.span())),
    };
    if !classic {
        m.policies.push(FirewallPolicy {
            decl: decl("pol", g.span()),
            base_policy: if g.chance(30) {
                Some(known(ResKey("base".into()), g.span()))
            } else {
                None
            },
            dns_proxy: dns.clone(),
            sku_tier: None,
        });
        m.policies.push(FirewallPolicy {
            decl: decl("base", g.span()),
            base_policy: None,
            dns_proxy: None,
            sku_tier: None,
        });
    }
    m.firewalls.push(Firewall {
        decl: decl("fw", g.span()),
        sku_tier: None,
        policy: if classic {
            None
        } else if g.chance(5) {
            Some(unknown("policy id from a variable", g.span()))
        } else {
            Some(known(ResKey("pol".into()), g.span()))
        },
        dns_proxy: if classic { dns } else { None },
        private_ip: Some(known("10.9.0.4".into(), g.span())),
        subnet: None,
        collections: vec![],
        threat_intel_mode: None,
    });
    for (i, name) in ["ipg-a", "ipg-b"].iter().enumerate() {
        m.ip_groups.push(IpGroup {
            decl: decl(name, g.span()),
            cidrs: g.attr_list((&["10.1.0.0/16", "20.0.0.0/8", "0.0.0.0/0", "bad"], 2)),
        });
        if g.chance(30) {
            m.ip_group_cidrs.push(IpGroupCidr {
                decl: decl(&format!("cidr{i}"), g.span()),
                ip_group: known(ResKey((*name).into()), g.span()),
                cidr: g.attr("10.1.0.0/24".into()),
            });
        }
    }
    if classic {
        for c in 0..g.below(4) {
            let coll = gen_collection(g, c, true);
            m.fw_collections.push(coll);
        }
    } else {
        for gi in 0..g.below(4) {
            let colls = (0..g.below(4))
                .map(|c| gen_collection(g, gi * 10 + c, false))
                .collect();
            let policy = match g.below(10) {
                0 => unknown("policy id from a variable", g.span()),
                1 | 2 => known(ResKey("base".into()), g.span()),
                _ => known(ResKey("pol".into()), g.span()),
            };
            m.rule_collection_groups.push(RuleCollectionGroup {
                decl: decl(&format!("g{gi}"), g.span()),
                policy,
                priority: {
                    let p = [100u32, 200, 300][g.below(3)];
                    g.attr(p)
                },
                collections: colls,
            });
        }
    }
    m
}

fn gen_routes(g: &mut Gen) -> Vec<Route> {
    (0..g.below(5))
        .map(|i| Route {
            decl: decl(&format!("route{i}"), g.span()),
            route_table: if g.chance(15) {
                Some(unknown("route table id from a variable", g.span()))
            } else {
                None
            },
            address_prefix: g.attr_pick(&[
                "0.0.0.0/0",
                "10.0.0.0/8",
                "10.1.0.0/16",
                "20.0.0.0/8",
                "AzureCloud.westeurope",
                "Internet",
                "junk!",
                "192.168.0.0/16",
                "2001:db8::/32",
            ]),
            next_hop_type: g.attr_pick(&[
                "VirtualAppliance",
                "Internet",
                "None",
                "VnetLocal",
                "VirtualNetworkGateway",
                "Teleport",
            ]),
            next_hop_ip: Some(known("10.9.0.4".into(), g.span())),
        })
        .collect()
}

fn embedded_catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| catalog::load("current").unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn nsg_matcher_is_the_direct_evaluation(seed in any::<u64>()) {
        let mut g = Gen(seed | 1);
        let catalog = Catalog { revision: "t".into(), entries: vec![], tags: vec![], regions: vec![] };
        let nsg = gen_nsg(&mut g);
        let members = members(&mut g, &nsg);
        let src = gen_src(&mut g);
        let scope = gen_scope(&mut g);
        for _ in 0..4 {
            let flow = gen_flow(&mut g, &catalog);
            let got = eval_nsg(&nsg, &members, &flow, src.as_deref(), &scope);
            let want = reference::eval_nsg(&nsg, &members, &flow, src.as_deref(), &scope);
            prop_assert_eq!(show(&got), show(&want), "flow {:?}", flow);
            for r in &nsg.rules {
                prop_assert_eq!(
                    rule_matches(&nsg, r, &flow, src.as_deref(), &scope),
                    reference::rule_matches(&nsg, r, &flow, src.as_deref(), &scope)
                );
            }
            let p = Packet {
                src: g.pick(IPS).parse().unwrap(),
                dst: g.pick(IPS).parse().unwrap(),
                transport: flow.transport,
                port: flow.port,
                inbound: g.chance(50),
            };
            prop_assert_eq!(
                show(&eval_nsg_packet(&nsg, &members, &p, &scope)),
                show(&reference::eval_nsg_packet(&nsg, &members, &p, &scope))
            );
        }
    }

    #[test]
    fn firewall_matchers_are_the_direct_evaluation(seed in any::<u64>()) {
        let mut g = Gen(seed | 1);
        let catalog = embedded_catalog();
        let model = gen_fw_model(&mut g);
        let linked = Linked::new(&model);
        let s = setup(&linked, &model.firewalls[0]);
        let src = gen_src(&mut g);
        let env = FwEnv { linked: &linked, catalog, src: src.as_deref() };
        for _ in 0..6 {
            let flow = gen_flow(&mut g, catalog);
            let got = eval_firewall(&env, &s, &flow);
            let want = reference::eval_firewall(&env, &s, &flow);
            prop_assert_eq!(show(&got), show(&want), "flow {:?}", flow);
        }
    }

    #[test]
    fn route_set_is_the_direct_selection(seed in any::<u64>()) {
        let mut g = Gen(seed | 1);
        let catalog = Catalog { revision: "t".into(), entries: vec![], tags: vec![], regions: vec![] };
        let routes = gen_routes(&mut g);
        let members: Vec<Member<Route>> = routes
            .iter()
            .map(|item| Member { item, certain: !g.chance(15) })
            .collect();
        let scope = gen_scope(&mut g);
        for _ in 0..4 {
            let flow = gen_flow(&mut g, &catalog);
            prop_assert_eq!(
                show(&choices(&members, &scope, &flow)),
                show(&reference::choices(&members, &scope, &flow))
            );
        }
    }
}

/// Every scenario of `testdata/`: every requirement of every cluster, and
/// a few more destinations, through the whole path (NSG, routes, firewall).
#[test]
fn whole_paths_match_the_direct_evaluation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() > 20, "scenarios not found in {}", root.display());
    let mut g = Gen(0x5eed);
    let mut flows_seen = 0;
    for dir in dirs {
        let opts = Options {
            paths: vec![dir.clone()],
            catalog: "current".into(),
            ..Default::default()
        };
        let Ok(a) = analyse(&opts) else { continue };
        let linked = Linked::new(&a.model);
        let fast = Evaluator::new(&linked, &a.catalog);
        let slow = Evaluator::reference(&linked, &a.catalog);
        let ov = Overrides::default();
        let x = checks::analyse(&a.model, &a.sources, &a.catalog, &ov, &linked, &fast);
        let y = checks::analyse(&a.model, &a.sources, &a.catalog, &ov, &linked, &slow);
        assert_eq!(show(&x.results), show(&y.results), "{}", dir.display());
        for p in &x.plans {
            for s in &p.sources {
                for _ in 0..30 {
                    let flow = gen_flow(&mut g, &a.catalog);
                    assert_eq!(
                        show(&fast.eval(s, &flow)),
                        show(&slow.eval(s, &flow)),
                        "{} {flow:?}",
                        dir.display()
                    );
                    flows_seen += 1;
                }
            }
        }
    }
    assert!(flows_seen > 1000, "only {flows_seen} flows");
}

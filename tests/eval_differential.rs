//! Differential tests: NSG and firewall evaluation against small
//! brute-force reference evaluators written independently here, on
//! thousands of generated rule sets. The reference enumerates every way the
//! uncertain rules could match and calls a flow unknown only when those
//! worlds disagree.

use aks_egress_lint::catalog::Catalog;
use aks_egress_lint::eval::addr::{VnetScope, parse_range};
use aks_egress_lint::eval::firewall::{FwEnv, eval_firewall, setup};
use aks_egress_lint::eval::nsg::eval_nsg;
use aks_egress_lint::eval::{AppProto, Dest, Flow, Transport, Verdict};
use aks_egress_lint::link::{Linked, Member};
use aks_egress_lint::model::*;
use aks_egress_lint::source::{FileId, Span, Spanned};
use proptest::prelude::*;

fn sp() -> Span {
    Span::new(FileId(0), 0..0)
}

fn decl(key: &str) -> Decl {
    Decl {
        keys: vec![ResKey(key.into())],
        name: Some(Spanned::new(key.into(), sp())),
        span: sp(),
        label: key.into(),
        condition: None,
    }
}

fn kv<T>(v: T) -> Attr<T> {
    known(v, sp())
}

// ------------------------------------------------------------ reference

fn ip4(s: &str) -> u32 {
    let p: Vec<u32> = s.split('.').map(|x| x.parse().unwrap()).collect();
    (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]
}

/// (low, high) of a CIDR, an address or a range `a-b`.
fn interval(s: &str) -> (u32, u32) {
    if let Some((a, b)) = s.split_once('-') {
        return (ip4(a), ip4(b));
    }
    match s.split_once('/') {
        Some((a, l)) => {
            let l: u32 = l.parse().unwrap();
            let mask = if l == 0 { 0 } else { u32::MAX << (32 - l) };
            let lo = ip4(a) & mask;
            (lo, lo | !mask)
        }
        None => (ip4(s), ip4(s)),
    }
}

fn private(ip: u32) -> bool {
    [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
    ]
    .iter()
    .any(|c| {
        let (lo, hi) = interval(c);
        lo <= ip && ip <= hi
    })
}

fn port_in(spec: &str, port: u16) -> bool {
    if spec == "*" {
        return true;
    }
    match spec.split_once('-') {
        Some((a, b)) => a.parse::<u16>().unwrap() <= port && port <= b.parse::<u16>().unwrap(),
        None => spec.parse::<u16>().unwrap() == port,
    }
}

/// Three-valued, as the reference sees it.
#[derive(Clone, Copy, PartialEq, Debug)]
enum M {
    Y,
    N,
    Maybe,
}

fn any_m(it: impl Iterator<Item = M>) -> M {
    let v: Vec<M> = it.collect();
    if v.contains(&M::Y) {
        M::Y
    } else if v.contains(&M::Maybe) {
        M::Maybe
    } else {
        M::N
    }
}

fn all(v: &[M]) -> M {
    if v.contains(&M::N) {
        M::N
    } else if v.contains(&M::Maybe) {
        M::Maybe
    } else {
        M::Y
    }
}

/// Brute force: every assignment of the uncertain rules, first match each.
fn brute(rules: &[(M, Verdict)], default: Verdict) -> Verdict {
    let maybes: Vec<usize> = (0..rules.len())
        .filter(|i| rules[*i].0 == M::Maybe)
        .collect();
    assert!(maybes.len() < 16);
    let mut seen = vec![];
    for mask in 0u32..(1 << maybes.len()) {
        let mut v = default;
        for (i, (m, a)) in rules.iter().enumerate() {
            let hit = match m {
                M::Y => true,
                M::N => false,
                M::Maybe => {
                    let bit = maybes.iter().position(|x| *x == i).unwrap();
                    mask & (1 << bit) != 0
                }
            };
            if hit {
                v = *a;
                break;
            }
        }
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    if seen.len() == 1 {
        seen[0]
    } else {
        Verdict::Unknown
    }
}

// ------------------------------------------------------------ NSG

const NSG_DEST: &[&str] = &[
    "*",
    "10.0.0.0/8",
    "10.1.0.0/16",
    "10.1.2.0/24",
    "20.0.0.0/8",
    "20.1.2.3",
    "0.0.0.0/0",
    "Internet",
    "VirtualNetwork",
    "192.168.0.0/16",
    "10.1.2.5-10.1.2.9",
    "52.0.0.0/6",
];
const NSG_SRC: &[&str] = &[
    "*",
    "VirtualNetwork",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "10.1.0.0/24",
];
const PORTS: &[&str] = &["*", "443", "80", "400-500", "53", "22"];
const NSG_PROTO: &[&str] = &["Tcp", "Udp", "*", "Icmp"];
const DEST_IPS: &[&str] = &["10.1.2.7", "10.1.200.1", "20.1.2.3", "8.8.8.8", "52.1.1.1"];
const FLOW_PORTS: &[u16] = &[443, 80, 53, 450, 22];

#[derive(Clone, Debug)]
struct GenRule {
    prio: u32,
    outbound: bool,
    allow: bool,
    proto: usize,
    dst: Vec<usize>,
    src: usize,
    ports: Vec<usize>,
}

fn gen_rule() -> impl Strategy<Value = GenRule> {
    (
        100u32..4096,
        prop::bool::weighted(0.85),
        any::<bool>(),
        0..NSG_PROTO.len(),
        prop::collection::vec(0..NSG_DEST.len(), 1..3),
        0..NSG_SRC.len(),
        prop::collection::vec(0..PORTS.len(), 1..3),
    )
        .prop_map(|(prio, outbound, allow, proto, dst, src, ports)| GenRule {
            prio,
            outbound,
            allow,
            proto,
            dst,
            src,
            ports,
        })
}

fn nsg_reference(rules: &[GenRule], dst: &str, udp: bool, port: u16, quirk: bool) -> Verdict {
    let d = ip4(dst);
    let (vlo, vhi) = interval("10.1.0.0/16");
    let in_vnet = |ip: u32| quirk || (vlo <= ip && ip <= vhi);
    let dest_match = |p: &str| -> M {
        match p {
            "*" => M::Y,
            "Internet" => {
                if private(d) {
                    M::N
                } else {
                    M::Y
                }
            }
            "VirtualNetwork" => {
                if in_vnet(d) {
                    M::Y
                } else {
                    M::N
                }
            }
            c => {
                let (lo, hi) = interval(c);
                if lo <= d && d <= hi { M::Y } else { M::N }
            }
        }
    };
    // Source subnet 10.1.0.0/24.
    let src_match = |p: &str| -> M {
        match p {
            "*" | "VirtualNetwork" => M::Y,
            c => {
                let (lo, hi) = interval(c);
                let (slo, shi) = interval("10.1.0.0/24");
                if lo <= slo && shi <= hi {
                    M::Y
                } else if hi < slo || shi < lo {
                    M::N
                } else {
                    M::Maybe
                }
            }
        }
    };
    let mut sorted: Vec<&GenRule> = rules.iter().collect();
    sorted.sort_by_key(|r| r.prio);
    let mut list: Vec<(M, Verdict)> = sorted
        .iter()
        .map(|r| {
            let proto = match NSG_PROTO[r.proto] {
                "*" => M::Y,
                "Tcp" => {
                    if udp {
                        M::N
                    } else {
                        M::Y
                    }
                }
                "Udp" => {
                    if udp {
                        M::Y
                    } else {
                        M::N
                    }
                }
                _ => M::N,
            };
            let m = all(&[
                if r.outbound { M::Y } else { M::N },
                proto,
                any_m(
                    r.ports
                        .iter()
                        .map(|p| if port_in(PORTS[*p], port) { M::Y } else { M::N }),
                ),
                any_m(r.dst.iter().map(|p| dest_match(NSG_DEST[*p]))),
                src_match(NSG_SRC[r.src]),
            ]);
            (
                m,
                if r.allow {
                    Verdict::Allowed
                } else {
                    Verdict::Denied
                },
            )
        })
        .collect();
    // Defaults.
    list.push((if in_vnet(d) { M::Y } else { M::N }, Verdict::Allowed));
    list.push((if private(d) { M::N } else { M::Y }, Verdict::Allowed));
    brute(&list, Verdict::Denied)
}

fn nsg_model(rules: &[GenRule]) -> Nsg {
    Nsg {
        decl: decl("nsg"),
        rules: rules
            .iter()
            .enumerate()
            .map(|(i, r)| SecurityRule {
                decl: decl(&format!("r{i}")),
                nsg: None,
                priority: kv(r.prio),
                direction: kv(if r.outbound { "Outbound" } else { "Inbound" }.into()),
                access: kv(if r.allow { "Allow" } else { "Deny" }.into()),
                protocol: kv(NSG_PROTO[r.proto].into()),
                source_addresses: kv(vec![NSG_SRC[r.src].to_string()]),
                destination_addresses: kv(r.dst.iter().map(|i| NSG_DEST[*i].to_string()).collect()),
                source_ports: kv(vec!["*".into()]),
                destination_ports: kv(r.ports.iter().map(|i| PORTS[*i].to_string()).collect()),
                source_asgs: vec![],
                destination_asgs: vec![],
                is_default: false,
            })
            .collect(),
        subnets: vec![],
        from_export: false,
    }
}

fn unique_priorities(mut rules: Vec<GenRule>) -> Vec<GenRule> {
    // Azure refuses two rules of one direction with the same priority.
    let mut seen = std::collections::HashSet::new();
    rules.retain(|r| seen.insert((r.prio, r.outbound)));
    rules
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn nsg_matches_reference(
        rules in prop::collection::vec(gen_rule(), 0..10),
        dst in 0..DEST_IPS.len(),
        udp in any::<bool>(),
        port in 0..FLOW_PORTS.len(),
        quirk in prop::bool::weighted(0.2),
    ) {
        let rules = unique_priorities(rules);
        let nsg = nsg_model(&rules);
        let members: Vec<Member<SecurityRule>> = nsg.rules.iter().map(|item| Member { item, certain: true }).collect();
        let flow = Flow {
            dest: Dest::Ip(DEST_IPS[dst].parse().unwrap()),
            transport: if udp { Transport::Udp } else { Transport::Tcp },
            port: FLOW_PORTS[port],
            app: None,
            entry: None,
            display: String::new(),
        };
        let scope = VnetScope {
            space: Some(vec![parse_range("10.1.0.0/16").unwrap()]),
            udr_prefixes: if quirk { vec!["0.0.0.0/0".into()] } else { vec![] },
        };
        let src = [parse_range("10.1.0.0/24").unwrap()];
        let got = eval_nsg(&nsg, &members, &flow, Some(&src), &scope).verdict;
        let want = nsg_reference(&rules, DEST_IPS[dst], udp, FLOW_PORTS[port], quirk);
        prop_assert_eq!(got, want, "rules {:?}", rules);
    }
}

// ------------------------------------------------------------ firewall

const FW_ADDR: &[&str] = &["*", "20.0.0.0/8", "20.1.2.3", "10.0.0.0/8", "8.8.8.0/24"];
const FW_PROTO: &[&str] = &["TCP", "UDP", "Any"];
const FW_SRC: &[&str] = &["*", "10.1.0.0/16", "10.1.0.0/25", "172.16.0.0/12"];
const FQDN_PATTERNS: &[&str] = &[
    "mcr.microsoft.com",
    "*.microsoft.com",
    "*microsoft.com",
    "example.com",
    "*.example.com",
    "*",
];
const APP_PROTOS: &[(&str, u16)] = &[("Https", 443), ("Http", 80), ("Https", 8443)];
const NAMES: &[&str] = &[
    "mcr.microsoft.com",
    "microsoft.com",
    "a.b.microsoft.com",
    "notmicrosoft.com",
    "example.com",
    "x.example.com",
];
const FW_IPS: &[&str] = &["20.1.2.3", "8.8.8.8", "10.5.5.5"];

#[derive(Clone, Debug)]
struct GenFwRule {
    net: bool,
    src: usize,
    protos: Vec<usize>,
    addrs: Vec<usize>,
    fqdns: Vec<usize>,
    ports: Vec<usize>,
    app_protos: Vec<usize>,
}

#[derive(Clone, Debug)]
struct GenColl {
    prio: u32,
    allow: bool,
    net: bool,
    rules: Vec<GenFwRule>,
}

#[derive(Clone, Debug)]
struct GenGroup {
    prio: u32,
    colls: Vec<GenColl>,
}

fn gen_fw_rule(net: bool) -> impl Strategy<Value = GenFwRule> {
    (
        0..FW_SRC.len(),
        prop::collection::vec(0..FW_PROTO.len(), 1..3),
        prop::collection::vec(0..FW_ADDR.len(), 0..3),
        prop::collection::vec(0..FQDN_PATTERNS.len(), 0..3),
        prop::collection::vec(0..PORTS.len(), 1..3),
        prop::collection::vec(0..APP_PROTOS.len(), 1..3),
    )
        .prop_map(
            move |(src, protos, addrs, fqdns, ports, app_protos)| GenFwRule {
                net,
                src,
                protos,
                addrs,
                fqdns,
                ports,
                app_protos,
            },
        )
}

fn gen_coll() -> impl Strategy<Value = GenColl> {
    (100u32..1000, any::<bool>(), any::<bool>()).prop_flat_map(|(prio, allow, net)| {
        prop::collection::vec(gen_fw_rule(net), 1..4).prop_map(move |rules| GenColl {
            prio,
            allow,
            net,
            rules,
        })
    })
}

fn gen_group() -> impl Strategy<Value = GenGroup> {
    (100u32..1000, prop::collection::vec(gen_coll(), 1..4))
        .prop_map(|(prio, colls)| GenGroup { prio, colls })
}

fn fqdn_ref(pattern: &str, name: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix('*') {
        Some(suffix) => {
            name.ends_with(suffix) && name != suffix.trim_start_matches('.')
                || (!suffix.starts_with('.') && name == suffix)
        }
        None => pattern == name,
    }
}

enum FlowKind {
    Ip(&'static str, bool, u16),
    Name(&'static str, usize),
}

fn fw_reference(groups: &[GenGroup], flow: &FlowKind) -> Verdict {
    // Network rules first, then application rules; each by group priority,
    // then collection priority, then written order.
    let mut entries: Vec<(u8, u32, u32, usize, &GenColl, &GenFwRule)> = vec![];
    let mut n = 0;
    for g in groups {
        for c in &g.colls {
            for r in &c.rules {
                n += 1;
                entries.push((if c.net { 0 } else { 1 }, g.prio, c.prio, n, c, r));
            }
        }
    }
    entries.sort_by_key(|e| (e.0, e.1, e.2, e.3));
    let src = |r: &GenFwRule| -> M {
        match FW_SRC[r.src] {
            "*" | "10.1.0.0/16" => M::Y,
            "10.1.0.0/25" => M::Maybe,
            _ => M::N,
        }
    };
    let list: Vec<(M, Verdict)> = entries
        .iter()
        .map(|(_, _, _, _, c, r)| {
            let m = match (flow, r.net) {
                (FlowKind::Ip(ip, udp, port), true) => {
                    let d = ip4(ip);
                    let proto = any_m(r.protos.iter().map(|p| match FW_PROTO[*p] {
                        "Any" => M::Y,
                        "TCP" => {
                            if *udp {
                                M::N
                            } else {
                                M::Y
                            }
                        }
                        _ => {
                            if *udp {
                                M::Y
                            } else {
                                M::N
                            }
                        }
                    }));
                    let addr = any_m(r.addrs.iter().map(|a| match FW_ADDR[*a] {
                        "*" => M::Y,
                        c => {
                            let (lo, hi) = interval(c);
                            if lo <= d && d <= hi { M::Y } else { M::N }
                        }
                    }));
                    // A name may resolve to a public address, never to a private one.
                    let names = if r.fqdns.is_empty() || private(d) {
                        M::N
                    } else {
                        M::Maybe
                    };
                    all(&[
                        src(r),
                        proto,
                        any_m(r.ports.iter().map(|p| {
                            if port_in(PORTS[*p], *port) {
                                M::Y
                            } else {
                                M::N
                            }
                        })),
                        any_m([addr, names].into_iter()),
                    ])
                }
                (FlowKind::Ip(..), false) => M::N,
                (FlowKind::Name(name, ap), true) => {
                    let (_, port) = APP_PROTOS[*ap];
                    let proto = any_m(
                        r.protos
                            .iter()
                            .map(|p| if FW_PROTO[*p] == "UDP" { M::N } else { M::Y }),
                    );
                    let addr = any_m(r.addrs.iter().map(|a| match FW_ADDR[*a] {
                        "*" => M::Y,
                        c => {
                            let (lo, hi) = interval(c);
                            if private(lo) && private(hi) {
                                M::N
                            } else {
                                M::Maybe
                            }
                        }
                    }));
                    let names = any_m(r.fqdns.iter().map(|f| {
                        if fqdn_ref(FQDN_PATTERNS[*f], name) {
                            M::Y
                        } else {
                            M::N
                        }
                    }));
                    all(&[
                        src(r),
                        proto,
                        any_m(
                            r.ports
                                .iter()
                                .map(|p| if port_in(PORTS[*p], port) { M::Y } else { M::N }),
                        ),
                        any_m([addr, names].into_iter()),
                    ])
                }
                (FlowKind::Name(name, ap), false) => {
                    let (kind, port) = APP_PROTOS[*ap];
                    let proto = any_m(r.app_protos.iter().map(|p| {
                        let (k, pp) = APP_PROTOS[*p];
                        if k == kind && pp == port { M::Y } else { M::N }
                    }));
                    let names = any_m(r.fqdns.iter().map(|f| {
                        if fqdn_ref(FQDN_PATTERNS[*f], name) {
                            M::Y
                        } else {
                            M::N
                        }
                    }));
                    all(&[src(r), proto, names])
                }
            };
            (
                m,
                if c.allow {
                    Verdict::Allowed
                } else {
                    Verdict::Denied
                },
            )
        })
        .collect();
    brute(&list, Verdict::Denied)
}

fn fw_model(groups: &[GenGroup]) -> Model {
    let mut m = Model::default();
    m.policies.push(FirewallPolicy {
        decl: decl("pol"),
        base_policy: None,
        dns_proxy: Some(kv(true)),
        sku_tier: None,
    });
    m.firewalls.push(Firewall {
        decl: decl("fw"),
        sku_tier: None,
        policy: Some(kv(ResKey("pol".into()))),
        dns_proxy: None,
        private_ip: Some(kv("10.9.0.4".into())),
        subnet: None,
        collections: vec![],
        threat_intel_mode: None,
    });
    for (gi, g) in groups.iter().enumerate() {
        let mut colls = vec![];
        for (ci, c) in g.colls.iter().enumerate() {
            let rules = c
                .rules
                .iter()
                .enumerate()
                .map(|(ri, r)| {
                    let strs = |pool: &[&str], ix: &[usize]| -> Vec<String> {
                        ix.iter().map(|i| pool[*i].to_string()).collect()
                    };
                    FirewallRule {
                        decl: decl(&format!("g{gi}c{ci}r{ri}")),
                        source_addresses: Some(kv(vec![FW_SRC[r.src].to_string()])),
                        source_ip_groups: None,
                        protocols: r.net.then(|| kv(strs(FW_PROTO, &r.protos))),
                        app_protocols: (!r.net).then(|| {
                            kv(r.app_protos
                                .iter()
                                .map(|p| AppProtocol {
                                    kind: APP_PROTOS[*p].0.into(),
                                    port: Some(APP_PROTOS[*p].1),
                                })
                                .collect())
                        }),
                        destination_addresses: (r.net && !r.addrs.is_empty())
                            .then(|| kv(strs(FW_ADDR, &r.addrs))),
                        destination_ip_groups: None,
                        destination_fqdns: (r.net && !r.fqdns.is_empty())
                            .then(|| kv(strs(FQDN_PATTERNS, &r.fqdns)))
                            .map(Box::new),
                        destination_ports: r.net.then(|| kv(strs(PORTS, &r.ports))),
                        target_fqdns: (!r.net).then(|| kv(strs(FQDN_PATTERNS, &r.fqdns))),
                        fqdn_tags: None,
                        target_urls: None,
                        web_categories: None,
                        terminate_tls: None,
                        translated_address: None,
                        translated_port: None,
                    }
                })
                .collect();
            colls.push(RuleCollection {
                decl: decl(&format!("g{gi}c{ci}")),
                firewall: None,
                kind: if c.net {
                    RuleKind::Network
                } else {
                    RuleKind::Application
                },
                priority: kv(c.prio),
                action: kv(if c.allow { "Allow" } else { "Deny" }.into()),
                rules,
            });
        }
        m.rule_collection_groups.push(RuleCollectionGroup {
            decl: decl(&format!("g{gi}")),
            policy: kv(ResKey("pol".into())),
            priority: kv(g.prio),
            collections: colls,
        });
    }
    m
}

fn distinct(mut groups: Vec<GenGroup>) -> Vec<GenGroup> {
    // Azure refuses equal group priorities in a policy, and equal
    // collection priorities in a group.
    let mut seen = std::collections::HashSet::new();
    groups.retain(|g| seen.insert(g.prio));
    for g in &mut groups {
        let mut s = std::collections::HashSet::new();
        g.colls.retain(|c| s.insert(c.prio));
    }
    groups
}

fn empty_catalog() -> Catalog {
    Catalog {
        revision: "t".into(),
        entries: vec![],
        tags: vec![],
        regions: vec![],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn firewall_matches_reference(
        groups in prop::collection::vec(gen_group(), 0..4),
        by_name in any::<bool>(),
        name in 0..NAMES.len(),
        ap in 0..APP_PROTOS.len(),
        ip in 0..FW_IPS.len(),
        udp in any::<bool>(),
        port in 0..FLOW_PORTS.len(),
    ) {
        let groups = distinct(groups);
        let model = fw_model(&groups);
        let linked = Linked::new(&model);
        let catalog = empty_catalog();
        let src = [parse_range("10.1.0.0/24").unwrap()];
        let env = FwEnv { linked: &linked, catalog: &catalog, src: Some(&src) };
        let s = setup(&linked, &model.firewalls[0]);
        let (flow, kind) = if by_name {
            let (k, p) = APP_PROTOS[ap];
            (
                Flow {
                    dest: Dest::Fqdn { name: NAMES[name].into(), in_tags: vec![] },
                    transport: Transport::Tcp,
                    port: p,
                    app: Some(if k == "Http" { AppProto::Http } else { AppProto::Https }),
                    entry: None,
                    display: String::new(),
                },
                FlowKind::Name(NAMES[name], ap),
            )
        } else {
            (
                Flow {
                    dest: Dest::Ip(FW_IPS[ip].parse().unwrap()),
                    transport: if udp { Transport::Udp } else { Transport::Tcp },
                    port: FLOW_PORTS[port],
                    app: None,
                    entry: None,
                    display: String::new(),
                },
                FlowKind::Ip(FW_IPS[ip], udp, FLOW_PORTS[port]),
            )
        };
        let got = eval_firewall(&env, &s, &flow).verdict;
        let want = fw_reference(&groups, &kind);
        prop_assert_eq!(got, want, "groups {:?}", groups);
    }
}

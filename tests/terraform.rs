//! Terraform frontend scenarios: each `testdata/tf-*` folder read into the
//! model, with assertions on values and exact spans.

use aks_egress_lint::discover::{DiscoverOptions, Discovered, FileKind, discover};
use aks_egress_lint::finding::Code;
use aks_egress_lint::frontend::{FrontendOptions, terraform};
use aks_egress_lint::model::*;
use aks_egress_lint::source::Span;
use std::path::PathBuf;

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn run(name: &str, mut opts: FrontendOptions) -> (Discovered, Model) {
    let root = dir(name);
    let d = discover(std::slice::from_ref(&root), &DiscoverOptions::default()).expect("discover");
    opts.root = root;
    let plans: Vec<_> = d.of_kind(FileKind::TerraformPlan).collect();
    let m = terraform::load(&d.sources, &d.tf_modules, &plans, &opts);
    (d, m)
}

/// `file:line:col` of a span start, and the text it covers.
fn at(d: &Discovered, s: &Span) -> (String, String) {
    let f = d.sources.get(s.file);
    let (l, c) = f.line_col(s.range.start);
    let name = f.path.file_name().unwrap().to_string_lossy().to_string();
    (format!("{name}:{l}:{c}"), d.sources.slice(s).to_string())
}

fn k<T: Clone + std::fmt::Debug>(a: &Attr<T>) -> T {
    match &a.value {
        Value::Known(v) => v.clone(),
        other => panic!("not known: {other:?}"),
    }
}

fn by_label<'m, T>(items: &'m [T], label: &str, decl: impl Fn(&T) -> &Decl) -> &'m T {
    items
        .iter()
        .find(|x| decl(x).label == label)
        .unwrap_or_else(|| {
            panic!(
                "no `{label}` in {:?}",
                items
                    .iter()
                    .map(|x| decl(x).label.clone())
                    .collect::<Vec<_>>()
            )
        })
}

#[test]
fn variables_tfvars_precedence_and_locals() {
    let (d, m) = run("tf-variables", FrontendOptions::default());
    let c = by_label(&m.clusters, "azurerm_kubernetes_cluster.aks", |c| &c.decl);
    // b.auto.tfvars.json wins over a.auto.tfvars, terraform.tfvars(.json) and the default.
    assert_eq!(c.decl.name.as_ref().unwrap().value, "auto-b-aks");
    assert_eq!(k(c.location.as_ref().unwrap()), "westeurope");
    assert_eq!(k(c.outbound_type.as_ref().unwrap()), "userDefinedRouting");
    let feats: Vec<&str> = c.features.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(feats, ["monitoring", "policy"]);
    assert_eq!(
        c.decl.keys,
        vec![
            ResKey::tf("", "azurerm_kubernetes_cluster.aks"),
            ResKey::arm(
                "Microsoft.ContainerService/managedClusters",
                &["auto-b-aks"]
            ),
        ]
    );
    let pool = &c.node_pools[0];
    let subnet = pool.subnet.as_ref().unwrap();
    assert_eq!(k(subnet), ResKey::tf("", "azurerm_subnet.nodes"));
    assert_eq!(
        at(&d, &subnet.span),
        ("main.tf:53:22".into(), "azurerm_subnet.nodes.id".into())
    );

    let s = by_label(&m.subnets, "azurerm_subnet.nodes", |s| &s.decl);
    assert_eq!(k(&s.address_prefixes), vec!["10.99.1.0/24".to_string()]);
    assert_eq!(
        at(&d, &s.address_prefixes.span),
        ("main.tf:23:26".into(), "local.node_prefixes".into())
    );
    assert_eq!(
        s.vnet,
        Some(ResKey::arm(
            "Microsoft.Network/virtualNetworks",
            &["vnet-auto-b-aks"]
        ))
    );
    assert!(s.decl.keys.contains(&ResKey::arm(
        "Microsoft.Network/virtualNetworks/subnets",
        &["vnet-auto-b-aks", "snet-nodes"]
    )));
    let (pos, text) = at(&d, &s.decl.span);
    assert_eq!(pos, "main.tf:19:1");
    assert!(text.starts_with("resource \"azurerm_subnet\" \"nodes\" {") && text.ends_with('}'));

    // `fw_ip` has no value: unknown, with a hint naming the var file present.
    let rt = by_label(&m.route_tables, "azurerm_route_table.egress", |r| &r.decl);
    let hop = rt.routes[0].next_hop_ip.as_ref().unwrap();
    match &hop.value {
        Value::Unknown(u) => {
            assert!(u.reason.contains("variable `fw_ip`"), "{}", u.reason);
            assert!(u.hint.as_deref().unwrap_or("").contains("prod.tfvars"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(at(&d, &hop.span).1, "var.fw_ip");

    let a = &m.associations[0];
    assert_eq!(a.kind, AssociationKind::RouteTable);
    assert_eq!(k(&a.subnet), ResKey::tf("", "azurerm_subnet.nodes"));
    assert_eq!(k(&a.target), ResKey::tf("", "azurerm_route_table.egress"));
    assert!(m.findings.is_empty(), "{:?}", m.findings);
}

#[test]
fn command_line_overrides_files() {
    let opts = FrontendOptions {
        vars: vec![("prefix".into(), "cli".into())],
        var_files: vec![dir("tf-variables").join("prod.tfvars")],
        ..FrontendOptions::default()
    };
    let (_, m) = run("tf-variables", opts);
    assert_eq!(m.clusters[0].decl.name.as_ref().unwrap().value, "cli-aks");
    let hop = m.route_tables[0].routes[0].next_hop_ip.as_ref().unwrap();
    assert_eq!(k(hop), "10.0.1.4");
}

#[test]
fn codes_in_findings_are_frontend_codes() {
    let (_, m) = run("tf-variables", FrontendOptions::default());
    assert!(
        m.findings
            .iter()
            .all(|f| matches!(f.code, Code::AEL000 | Code::AEL008))
    );
}

#[test]
fn local_modules_two_levels_deep_with_inputs_and_outputs() {
    let (d, m) = run("tf-modules", FrontendOptions::default());
    // The module folders are analysed only through their callers.
    let labels: Vec<&str> = m.subnets.iter().map(|s| s.decl.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "module.network.module.subnet[\"aks\"].azurerm_subnet.this",
            "module.network.module.subnet[\"firewall\"].azurerm_subnet.this",
        ]
    );
    let aks = &m.subnets[0];
    assert_eq!(k(&aks.address_prefixes), vec!["10.10.1.0/24".to_string()]);
    assert_eq!(
        aks.decl.keys,
        vec![
            ResKey::tf(
                "module.network.module.subnet[\"aks\"]",
                "azurerm_subnet.this"
            ),
            ResKey::arm(
                "Microsoft.Network/virtualNetworks/subnets",
                &["vnet-hub", "snet-aks"]
            ),
        ]
    );
    assert_eq!(
        at(&d, &aks.address_prefixes.span),
        ("main.tf:17:26".into(), "[var.prefix]".into())
    );
    assert_eq!(m.vnets.len(), 1);
    assert_eq!(
        m.vnets[0].decl.label,
        "module.network.azurerm_virtual_network.this"
    );

    let c = &m.clusters[0];
    // Output of a module, itself built from a nested module's outputs.
    assert_eq!(
        k(c.node_pools[0].subnet.as_ref().unwrap()),
        ResKey::tf(
            "module.network.module.subnet[\"aks\"]",
            "azurerm_subnet.this"
        )
    );
    assert_eq!(k(c.location.as_ref().unwrap()), "northeurope");

    // Registry module: outputs unknown, and a note names it.
    let gpu = &m.node_pools[0];
    assert_eq!(
        k(gpu.cluster.as_ref().unwrap()),
        ResKey::tf("", "azurerm_kubernetes_cluster.aks")
    );
    assert_eq!(k(gpu.vm_size.as_ref().unwrap()), "Standard_NC6s_v3");
    match &gpu.subnet.as_ref().unwrap().value {
        Value::Unknown(u) => assert!(u.reason.contains("Azure/naming/azurerm"), "{}", u.reason),
        other => panic!("{other:?}"),
    }
    assert!(gpu.decl.name.is_none());
    let notes: Vec<(String, String)> = m
        .findings
        .iter()
        .map(|f| (at(&d, &f.primary().span).0, f.message.clone()))
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(m.findings.iter().all(|f| f.code == Code::AEL008));
    assert_eq!(notes[0].0, "main.tf:14:1");
    assert!(
        notes[0]
            .1
            .contains("`Azure/naming/azurerm`, which is not fetched")
    );
    assert_eq!(notes[1].0, "main.tf:19:1");
    assert!(notes[1].1.contains("outside the scanned root"));
}

type RuleRow = (String, u32, String, String, Vec<String>, Vec<String>);

#[test]
fn for_each_over_a_map_of_rules_and_subnets() {
    let (d, m) = run("tf-for-each", FrontendOptions::default());
    let rules: Vec<RuleRow> = m
        .nsg_rules
        .iter()
        .map(|r| {
            (
                r.decl.label.clone(),
                k(&r.priority),
                k(&r.access),
                k(&r.protocol),
                k(&r.destination_ports),
                k(&r.destination_addresses),
            )
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        rules,
        vec![
            (
                s("azurerm_network_security_rule.egress[\"allow-https\"]"),
                100,
                s("Allow"),
                s("Tcp"),
                vec![s("443")],
                vec![s("AzureCloud")]
            ),
            (
                s("azurerm_network_security_rule.egress[\"allow-ntp\"]"),
                110,
                s("Allow"),
                s("Udp"),
                vec![s("123")],
                vec![s("*")]
            ),
            (
                s("azurerm_network_security_rule.egress[\"deny-all\"]"),
                4000,
                s("Deny"),
                s("Tcp"),
                vec![s("*")],
                vec![s("*")]
            ),
        ]
    );
    let nsg_arm = ResKey::arm("Microsoft.Network/networkSecurityGroups", &["nsg-nodes"]);
    assert!(
        m.nsg_rules
            .iter()
            .all(|r| r.nsg.as_ref().map(k) == Some(nsg_arm.clone()))
    );
    assert!(m.nsgs[0].decl.keys.contains(&nsg_arm));
    assert_eq!(
        at(&d, &m.nsg_rules[0].priority.span),
        ("main.tf:40:33".into(), "each.value.priority".into())
    );

    // One association per subnet, each linked to its own instance.
    let assoc: Vec<(ResKey, ResKey)> = m
        .associations
        .iter()
        .map(|a| (k(&a.subnet), k(&a.target)))
        .collect();
    assert_eq!(
        assoc,
        vec![
            (
                ResKey::tf("", "azurerm_subnet.this[\"nodes\"]"),
                ResKey::tf("", "azurerm_network_security_group.nodes")
            ),
            (
                ResKey::tf("", "azurerm_subnet.this[\"pods\"]"),
                ResKey::tf("", "azurerm_network_security_group.nodes")
            ),
            (
                ResKey::tf("", "azurerm_subnet.this[\"nodes\"]"),
                ResKey::tf("", "azurerm_route_table.rt[1]")
            ),
        ]
    );
    let labels: Vec<&str> = m
        .route_tables
        .iter()
        .map(|r| r.decl.label.as_str())
        .collect();
    assert_eq!(
        labels,
        ["azurerm_route_table.rt[0]", "azurerm_route_table.rt[1]"]
    );
    assert_eq!(
        m.subnets[1].decl.name.as_ref().map(|n| n.value.as_str()),
        Some("snet-pods")
    );
    assert!(m.findings.is_empty(), "{:?}", m.findings);
}

#[test]
fn dynamic_rule_blocks() {
    let (d, m) = run("tf-dynamic", FrontendOptions::default());
    let nsg = &m.nsgs[0];
    let rules: Vec<(String, u32, Vec<String>)> = nsg
        .rules
        .iter()
        .map(|r| {
            (
                r.decl.label.clone(),
                k(&r.priority),
                k(&r.destination_ports),
            )
        })
        .collect();
    assert_eq!(
        rules,
        vec![
            (
                "azurerm_network_security_group.nodes rule `ssh`".to_string(),
                210,
                vec!["22".to_string()]
            ),
            (
                "azurerm_network_security_group.nodes rule `web`".to_string(),
                200,
                vec!["80".to_string(), "443".to_string()]
            ),
            (
                "azurerm_network_security_group.nodes rule `deny-internet`".to_string(),
                4000,
                vec!["*".to_string()]
            ),
        ]
    );
    // A value from the iterator points at the expression inside `content`.
    assert_eq!(
        at(&d, &nsg.rules[1].destination_ports.span),
        ("main.tf:38:36".into(), "r.value.ports".into())
    );
    let rcg = &m.rule_collection_groups[0];
    assert_eq!(k(&rcg.policy), ResKey::tf("", "azurerm_firewall_policy.p"));
    assert_eq!(k(&rcg.priority), 200);
    let app = &rcg.collections[1];
    assert_eq!(app.kind, RuleKind::Application);
    let fqdns: Vec<Vec<String>> = app
        .rules
        .iter()
        .map(|r| k(r.target_fqdns.as_ref().unwrap()))
        .collect();
    assert_eq!(
        fqdns,
        vec![
            vec!["mcr.microsoft.com".to_string()],
            vec!["*.data.mcr.microsoft.com".to_string()],
            vec!["management.azure.com".to_string()],
        ]
    );
    assert_eq!(
        k(app.rules[0].app_protocols.as_ref().unwrap()),
        vec![AppProtocol {
            kind: "Https".into(),
            port: Some(443)
        }]
    );
    assert_eq!(
        app.rules[2].decl.label,
        "azurerm_firewall_policy_rule_collection_group.aks application rule collection `aks-fqdns` rule `fqdn-2`"
    );
    // A dynamic block over an unknown list: one rule stands for them, its
    // values unknown, never guessed.
    let net = &rcg.collections[0];
    assert_eq!(net.kind, RuleKind::Network);
    assert_eq!(net.rules.len(), 1);
    match &net.rules[0].destination_addresses.as_ref().unwrap().value {
        Value::Unknown(u) => assert!(u.reason.contains("extra_rules"), "{}", u.reason),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        k(net.rules[0].destination_ports.as_ref().unwrap()),
        vec!["443".to_string()]
    );
}

fn r#ref(a: &Attr<String>) -> Ref {
    match &a.value {
        Value::Ref(r) => (**r).clone(),
        other => panic!("not a reference: {other:?}"),
    }
}

#[test]
fn classic_and_policy_firewalls_and_computed_references() {
    let (d, m) = run("tf-firewall", FrontendOptions::default());
    let fw_classic = ResKey::tf("", "azurerm_firewall.classic");
    let hub = ResKey::tf("", "azurerm_virtual_network.hub");
    let snet_aks = ResKey(format!("{}.subnet[\"snet-aks\"]", hub.0));
    let snet_fw = ResKey(format!("{}.subnet[\"AzureFirewallSubnet\"]", hub.0));

    // Computed attributes stay symbolic links.
    let private_ip = Ref {
        target: fw_classic.clone(),
        attr: "private_ip".into(),
    };
    let route = by_label(&m.routes, "azurerm_route.default", |r| &r.decl);
    let hop = route.next_hop_ip.as_ref().unwrap();
    assert_eq!(r#ref(hop), private_ip);
    assert_eq!(
        at(&d, &hop.span),
        (
            "network.tf:45:28".into(),
            "azurerm_firewall.classic.ip_configuration[0].private_ip_address".into()
        )
    );
    assert_eq!(
        k(route.route_table.as_ref().unwrap()),
        ResKey::arm("Microsoft.Network/routeTables", &["rt-aks"])
    );
    let legacy = by_label(&m.routes, "azurerm_route.policy_fw", |r| &r.decl);
    assert_eq!(
        r#ref(legacy.next_hop_ip.as_ref().unwrap()),
        Ref {
            target: ResKey::tf("", "azurerm_firewall.policy"),
            attr: "private_ip".into()
        }
    );
    match &m.vnets[0].dns_servers.as_ref().unwrap().value {
        Value::Ref(r) => assert_eq!(&**r, &private_ip),
        other => panic!("{other:?}"),
    }

    // Inline subnets: their own keys, linked by index, by splat and by name.
    let subnets: Vec<(Vec<ResKey>, Vec<String>)> = m
        .subnets
        .iter()
        .map(|s| (s.decl.keys.clone(), k(&s.address_prefixes)))
        .collect();
    assert_eq!(
        subnets,
        vec![
            (
                vec![
                    snet_fw.clone(),
                    ResKey::arm(
                        "Microsoft.Network/virtualNetworks/subnets",
                        &["vnet-hub", "AzureFirewallSubnet"]
                    )
                ],
                vec!["10.0.0.0/26".to_string()]
            ),
            (
                vec![
                    snet_aks.clone(),
                    ResKey::arm(
                        "Microsoft.Network/virtualNetworks/subnets",
                        &["vnet-hub", "snet-aks"]
                    )
                ],
                vec!["10.0.4.0/22".to_string()]
            ),
        ]
    );
    assert_eq!(m.subnets[1].vnet, Some(hub.clone()));
    assert_eq!(
        k(m.subnets[1].nsg.as_ref().unwrap()),
        ResKey::tf("", "azurerm_network_security_group.aks")
    );
    let c = &m.clusters[0];
    assert_eq!(k(c.node_pools[0].subnet.as_ref().unwrap()), snet_aks);
    assert_eq!(
        c.node_pools[0].decl.label,
        "azurerm_kubernetes_cluster.aks node pool `pool1`"
    );
    let feats: Vec<&str> = c.features.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(feats, ["monitoring"]);
    let win = &m.node_pools[0];
    assert_eq!(k(win.subnet.as_ref().unwrap()), snet_aks);
    assert_eq!(k(win.os_type.as_ref().unwrap()), "Windows");

    // An id built by interpolation, unknown subscription: still the subnet.
    let a = &m.associations[0];
    assert_eq!(
        k(&a.subnet),
        ResKey::arm(
            "Microsoft.Network/virtualNetworks/subnets",
            &["vnet-hub", "snet-aks"]
        )
    );

    // Classic firewall: DNS proxy from `dns_servers`, subnet by splat.
    let fw = by_label(&m.firewalls, "azurerm_firewall.classic", |f| &f.decl);
    assert!(k(fw.dns_proxy.as_ref().unwrap()));
    assert_eq!(k(fw.subnet.as_ref().unwrap()), snet_fw);
    assert!(fw.policy.is_none());
    let pfw = by_label(&m.firewalls, "azurerm_firewall.policy", |f| &f.decl);
    assert!(!k(pfw.dns_proxy.as_ref().unwrap()));
    assert_eq!(
        k(pfw.policy.as_ref().unwrap()),
        ResKey::tf("", "azurerm_firewall_policy.child")
    );
    assert_eq!(
        k(pfw.subnet.as_ref().unwrap()),
        ResKey::arm(
            "Microsoft.Network/virtualNetworks/subnets",
            &["vnet-hub", "AzureFirewallSubnet"]
        )
    );

    // Classic collections, linked to their firewall by name.
    let fw_arm = ResKey::arm("Microsoft.Network/azureFirewalls", &["fw-classic"]);
    assert!(fw.decl.keys.contains(&fw_arm));
    let kinds: Vec<(RuleKind, u32, String)> = m
        .fw_collections
        .iter()
        .map(|c| (c.kind, k(&c.priority), k(&c.action)))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (RuleKind::Network, 100, "Allow".to_string()),
            (RuleKind::Application, 200, "Allow".to_string()),
            (RuleKind::Nat, 100, "Dnat".to_string()),
        ]
    );
    assert!(
        m.fw_collections
            .iter()
            .all(|c| c.firewall.as_ref().map(k) == Some(fw_arm.clone()))
    );
    let net = &m.fw_collections[0];
    assert_eq!(
        k(net.rules[1].destination_fqdns.as_ref().unwrap()),
        vec!["ntp.ubuntu.com".to_string()]
    );
    assert_eq!(
        k(net.rules[0].protocols.as_ref().unwrap()),
        vec!["UDP".to_string()]
    );
    let app = &m.fw_collections[1];
    assert_eq!(
        k(app.rules[0].fqdn_tags.as_ref().unwrap()),
        vec!["AzureKubernetesService".to_string()]
    );
    assert_eq!(
        k(app.rules[1].app_protocols.as_ref().unwrap()),
        vec![AppProtocol {
            kind: "Http".into(),
            port: Some(80)
        }]
    );
    assert_eq!(
        at(&d, &app.rules[1].target_fqdns.as_ref().unwrap().span),
        (
            "firewall.tf:55:24".into(),
            "[\"security.ubuntu.com\", \"azure.archive.ubuntu.com\"]".into()
        )
    );
    assert_eq!(
        net.rules[0].decl.label,
        "azurerm_firewall_network_rule_collection.aks rule `ntp`"
    );
    let nat = &m.fw_collections[2];
    assert_eq!(k(nat.rules[0].translated_port.as_ref().unwrap()), "443");

    // Policies and the rule collection group.
    let child = by_label(&m.policies, "azurerm_firewall_policy.child", |p| &p.decl);
    assert_eq!(
        k(child.base_policy.as_ref().unwrap()),
        ResKey::tf("", "azurerm_firewall_policy.base")
    );
    let base = by_label(&m.policies, "azurerm_firewall_policy.base", |p| &p.decl);
    assert!(k(base.dns_proxy.as_ref().unwrap()));
    assert_eq!(k(base.sku_tier.as_ref().unwrap()), "Premium");
    let rcg = &m.rule_collection_groups[0];
    let kinds: Vec<(RuleKind, u32)> = rcg
        .collections
        .iter()
        .map(|c| (c.kind, k(&c.priority)))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (RuleKind::Nat, 50),
            (RuleKind::Network, 100),
            (RuleKind::Application, 200)
        ]
    );
    let tunnel = &rcg.collections[1].rules[0];
    assert_eq!(
        k(tunnel.source_ip_groups.as_ref().unwrap()),
        vec![ResKey::tf("", "azurerm_ip_group.nodes")]
    );
    assert_eq!(
        k(tunnel.destination_ports.as_ref().unwrap()),
        vec!["1194".to_string(), "9000".to_string()]
    );
    assert_eq!(
        k(rcg.collections[0].rules[0]
            .destination_addresses
            .as_ref()
            .unwrap()),
        vec!["20.1.2.4".to_string()]
    );
    assert_eq!(
        k(rcg.collections[2].rules[0].app_protocols.as_ref().unwrap()).len(),
        2
    );
    assert_eq!(k(&m.ip_groups[0].cidrs), vec!["10.0.4.0/22".to_string()]);
    assert_eq!(k(&m.ip_group_cidrs[0].cidr), "10.244.0.0/16");
    assert_eq!(
        k(&m.ip_group_cidrs[0].ip_group),
        ResKey::tf("", "azurerm_ip_group.nodes")
    );
    assert!(m.findings.is_empty(), "{:?}", m.findings);
}

#[test]
fn parse_error_next_to_a_valid_module() {
    let (d, m) = run("tf-parse-error", FrontendOptions::default());
    assert_eq!(m.findings.len(), 1, "{:?}", m.findings);
    let f = &m.findings[0];
    assert_eq!(f.code, Code::AEL000);
    let (pos, _) = at(&d, &f.primary().span);
    assert_eq!(pos, "main.tf:7:22");
    assert!(
        d.sources
            .get(f.primary().span.file)
            .path
            .ends_with("broken/main.tf")
    );
    assert!(f.message.starts_with("HCL parse error"), "{}", f.message);
    // The valid module and the valid file of the broken module are read.
    assert_eq!(m.subnets.len(), 1);
    assert_eq!(m.nsgs.len(), 1);
    assert!(m.route_tables.is_empty());
}

#[test]
fn registry_module_left_unknown() {
    let (d, m) = run("tf-registry", FrontendOptions::default());
    let hop = m.route_tables[0].routes[0].next_hop_ip.as_ref().unwrap();
    match &hop.value {
        Value::Unknown(u) => {
            assert!(u.reason.contains("module `hub`"), "{}", u.reason);
            assert!(u.reason.contains("not fetched"), "{}", u.reason);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(at(&d, &hop.span).1, "module.hub.firewall_private_ip");
    // Nothing is invented for the registry AKS module.
    assert!(m.clusters.is_empty());
    let notes: Vec<(String, &str)> = m
        .findings
        .iter()
        .map(|f| (at(&d, &f.primary().span).0, f.message.as_str()))
        .collect();
    assert_eq!(
        notes,
        vec![
            (
                "main.tf:11:1".to_string(),
                "module `hub` comes from `git::https://example.com/hub.git?ref=v1`, which is not fetched; its outputs are unknown"
            ),
            (
                "main.tf:3:1".to_string(),
                "module `aks` comes from `Azure/aks/azurerm`, which is not fetched; its outputs are unknown"
            ),
        ]
    );
    assert!(m.findings.iter().all(|f| f.code == Code::AEL008));
}

#[test]
fn plan_with_its_configuration_points_at_the_tf_source() {
    let (d, m) = run("tf-plan-config", FrontendOptions::default());
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    // Each resource once, instances from the plan, spans in main.tf.
    let subnets: Vec<(String, Vec<String>)> = m
        .subnets
        .iter()
        .map(|s| (s.decl.label.clone(), k(&s.address_prefixes)))
        .collect();
    assert_eq!(
        subnets,
        vec![
            (
                "azurerm_subnet.this[\"aks\"]".to_string(),
                vec!["10.30.1.0/24".to_string()]
            ),
            (
                "azurerm_subnet.this[\"fw\"]".to_string(),
                vec!["10.30.0.0/26".to_string()]
            ),
        ]
    );
    assert_eq!(at(&d, &m.subnets[0].decl.span).0, "main.tf:10:1");
    assert_eq!(
        at(&d, &m.subnets[0].address_prefixes.span),
        ("main.tf:15:26".into(), "[each.value]".into())
    );
    let hop = m.route_tables[0].routes[0].next_hop_ip.as_ref().unwrap();
    assert_eq!(k(hop), "10.30.0.4");
    assert_eq!(
        at(&d, &hop.span),
        ("main.tf:27:30".into(), "var.fw_ip".into())
    );
    // Not written in the .tf: the plan's value, at the block.
    let bgp = m.route_tables[0]
        .disable_bgp_route_propagation
        .as_ref()
        .unwrap();
    assert!(!k(bgp));
    assert_eq!(at(&d, &bgp.span).0, "main.tf:18:1");
    assert_eq!(m.clusters.len(), 1);
    let c = &m.clusters[0];
    // Unknown in the plan (computed at apply): the .tf reference decides.
    assert_eq!(
        k(c.node_pools[0].subnet.as_ref().unwrap()),
        ResKey::tf("", "azurerm_subnet.this[\"aks\"]")
    );
    assert_eq!(k(c.node_pools[0].os_sku.as_ref().unwrap()), "Ubuntu");
    assert!(c.features.is_empty(), "{:?}", c.features);
}

#[test]
fn plan_alone() {
    let (d, m) = run("tf-plan", FrontendOptions::default());
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    let c = &m.clusters[0];
    assert_eq!(c.decl.label, "azurerm_kubernetes_cluster.aks");
    let (pos, text) = at(&d, &c.decl.span);
    assert_eq!(text, "\"azurerm_kubernetes_cluster.aks\"");
    assert!(pos.starts_with("plan.json:1:"), "{pos}");
    assert_eq!(k(c.location.as_ref().unwrap()), "eastus2");
    let feats: Vec<&str> = c.features.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(feats, ["monitoring", "workload-identity"]);
    // Computed at apply time and routed through a module output: the
    // configuration's references lead to the subnet.
    assert_eq!(
        k(c.node_pools[0].subnet.as_ref().unwrap()),
        ResKey::tf("module.net", "azurerm_subnet.nodes")
    );
    let s = &m.subnets[0];
    assert_eq!(
        s.decl.keys,
        vec![
            ResKey::tf("module.net", "azurerm_subnet.nodes"),
            ResKey::arm(
                "Microsoft.Network/virtualNetworks/subnets",
                &["vnet-only", "snet-nodes"]
            ),
        ]
    );
    assert_eq!(s.decl.label, "module.net.azurerm_subnet.nodes");
    let rcg = &m.rule_collection_groups[0];
    assert_eq!(
        k(&rcg.policy),
        ResKey::arm("Microsoft.Network/firewallPolicies", &["fwp"])
    );
    assert!(rcg.decl.keys.contains(&ResKey::arm(
        "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
        &["fwp", "aks"]
    )));
    assert_eq!(rcg.collections.len(), 1);
    let rule = &rcg.collections[0].rules[0];
    assert_eq!(
        k(rule.target_fqdns.as_ref().unwrap()),
        vec!["mcr.microsoft.com".to_string()]
    );
    assert!(rule.fqdn_tags.is_none());
}

/// Manual run on any folder: `TF_SCAN=path cargo test --test terraform scan -- --ignored --nocapture`.
#[test]
#[ignore]
fn scan() {
    let Ok(p) = std::env::var("TF_SCAN") else {
        return;
    };
    let root = PathBuf::from(p);
    let d = discover(std::slice::from_ref(&root), &DiscoverOptions::default()).expect("discover");
    let var_files = std::env::var("TF_SCAN_VAR_FILES")
        .map(|v| v.split(',').map(PathBuf::from).collect())
        .unwrap_or_default();
    let opts = FrontendOptions {
        root,
        var_files,
        ..FrontendOptions::default()
    };
    let plans: Vec<_> = d.of_kind(FileKind::TerraformPlan).collect();
    let m = terraform::load(&d.sources, &d.tf_modules, &plans, &opts);
    for f in d.findings.iter().chain(m.findings.iter()) {
        let (l, c, _, _) = d.sources.span_lines(&f.primary().span);
        let file = &d.sources.get(f.primary().span.file).display;
        println!("{} {file}:{l}:{c} {}", f.code, f.message);
    }
    println!(
        "clusters {} pools {} vnets {} subnets {} nsgs {} rules {} rts {} routes {} assoc {} fws {} policies {} rcgs {} classic {}",
        m.clusters.len(),
        m.node_pools.len(),
        m.vnets.len(),
        m.subnets.len(),
        m.nsgs.len(),
        m.nsg_rules.len(),
        m.route_tables.len(),
        m.routes.len(),
        m.associations.len(),
        m.firewalls.len(),
        m.policies.len(),
        m.rule_collection_groups.len(),
        m.fw_collections.len()
    );
    if std::env::var("TF_SCAN_VERBOSE").is_ok() {
        for c in &m.clusters {
            println!("{c:#?}");
        }
    }
    for r in &m.route_tables {
        for rt in &r.routes {
            println!(
                "{} {:?} {:?} {:?}",
                rt.decl.label,
                rt.address_prefix.value,
                rt.next_hop_type.value,
                rt.next_hop_ip.as_ref().map(|x| &x.value)
            );
        }
    }
    for f in &m.firewalls {
        println!(
            "{} policy {:?} dns {:?} subnet {:?}",
            f.decl.label,
            f.policy.as_ref().map(|x| &x.value),
            f.dns_proxy.as_ref().map(|x| &x.value),
            f.subnet.as_ref().map(|x| &x.value)
        );
    }
    for g in &m.rule_collection_groups {
        println!("{} policy {:?}", g.decl.label, g.policy.value);
        for c in &g.collections {
            println!(
                "  {} {:?} {:?} rules {}",
                c.decl.label,
                c.kind,
                c.priority.value,
                c.rules.len()
            );
            for r in &c.rules {
                println!(
                    "    {} fqdns {:?} tags {:?} dst {:?} ports {:?}",
                    r.decl.label,
                    r.target_fqdns
                        .as_ref()
                        .or(r.destination_fqdns.as_deref())
                        .map(|x| &x.value),
                    r.fqdn_tags.as_ref().map(|x| &x.value),
                    r.destination_addresses.as_ref().map(|x| &x.value),
                    r.destination_ports.as_ref().map(|x| &x.value)
                );
            }
        }
    }
    for a in &m.associations {
        println!(
            "{} {:?} -> {:?}",
            a.decl.label, a.subnet.value, a.target.value
        );
    }
    for s in &m.subnets {
        println!(
            "{} {:?} {:?}",
            s.decl.label, s.address_prefixes.value, s.decl.keys
        );
    }
}

#[test]
fn locals_with_functions() {
    let (d, m) = run("tf-locals", FrontendOptions::default());
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    let subnets: Vec<(String, Vec<String>)> = m
        .subnets
        .iter()
        .map(|s| (s.decl.label.clone(), k(&s.address_prefixes)))
        .collect();
    assert_eq!(
        subnets,
        vec![
            (
                "azurerm_subnet.nodes[\"snet-prod-00\"]".to_string(),
                vec!["10.60.10.0/24".to_string()]
            ),
            (
                "azurerm_subnet.nodes[\"snet-prod-01\"]".to_string(),
                vec!["10.60.11.0/24".to_string()]
            ),
        ]
    );
    let rt = &m.route_tables[0];
    assert_eq!(rt.decl.name.as_ref().unwrap().value, "rt-dev,prod,PROD");
    let hop = rt.routes[0].next_hop_ip.as_ref().unwrap();
    assert_eq!(k(hop), "10.60.0.4");
    assert_eq!(
        at(&d, &hop.span),
        ("main.tf:36:30".into(), "local.fw_ip".into())
    );
    let rule = &m.fw_collections[0].rules[0];
    assert_eq!(
        k(rule.target_fqdns.as_ref().unwrap()),
        vec![
            "mcr.microsoft.com".to_string(),
            "*.data.mcr.microsoft.com".to_string()
        ]
    );
    assert_eq!(
        k(rule.source_addresses.as_ref().unwrap()),
        vec!["10.60.10.0/24".to_string(), "10.60.11.0/24".to_string()]
    );
    assert_eq!(
        k(m.fw_collections[0].firewall.as_ref().unwrap()),
        ResKey::arm("Microsoft.Network/azureFirewalls", &["fw-prod"])
    );
}

#[test]
fn references_to_computed_attributes() {
    let (d, m) = run("tf-computed-refs", FrontendOptions::default());
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    let fw = ResKey::tf("", "azurerm_firewall.hub");
    let private_ip = Ref {
        target: fw.clone(),
        attr: "private_ip".into(),
    };
    match &m.vnets[0].dns_servers.as_ref().unwrap().value {
        Value::Ref(r) => assert_eq!(&**r, &private_ip),
        other => panic!("{other:?}"),
    }
    let rt = &m.route_tables[0];
    let hop = rt.routes[0].next_hop_ip.as_ref().unwrap();
    assert_eq!(r#ref(hop), private_ip);
    assert_eq!(
        at(&d, &hop.span),
        (
            "main.tf:53:30".into(),
            "azurerm_firewall.hub.ip_configuration[0].private_ip_address".into()
        )
    );
    // Written attributes of other resources are read through.
    assert_eq!(k(&rt.routes[1].address_prefix), "10.70.0.0/26");
    let rule = &m.nsgs[0].rules[0];
    assert_eq!(k(&rule.source_addresses), vec!["10.70.4.0/22".to_string()]);
    assert_eq!(
        k(&rule.destination_addresses),
        vec!["10.70.0.0/26".to_string()]
    );
    // The firewall and cluster subnets link by `.id`.
    assert_eq!(
        k(m.firewalls[0].subnet.as_ref().unwrap()),
        ResKey::tf("", "azurerm_subnet.fw")
    );
    let c = &m.clusters[0];
    assert_eq!(
        k(c.node_pools[0].subnet.as_ref().unwrap()),
        ResKey::tf("", "azurerm_subnet.aks")
    );
    // A location that depends on a variable without a value: unknown, with
    // the variable named and how to supply it.
    match &c.location.as_ref().unwrap().value {
        Value::Unknown(u) => {
            assert!(u.reason.contains("variable `location`"), "{}", u.reason);
            assert_eq!(
                u.hint.as_deref(),
                Some("--var location=... or a tfvars file")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        m.subnets[1].vnet,
        Some(ResKey::arm(
            "Microsoft.Network/virtualNetworks",
            &["vnet-hub"]
        ))
    );
    // --location stands in for it.
    let (_, m) = run(
        "tf-computed-refs",
        FrontendOptions {
            location: Some("swedencentral".into()),
            ..FrontendOptions::default()
        },
    );
    assert_eq!(k(m.clusters[0].location.as_ref().unwrap()), "swedencentral");
}

//! ARM frontend scenarios: each `testdata/arm-*` folder is read as discovery
//! would, and the resulting model is asserted with exact spans.

use aks_egress_lint::discover::{FileKind, sniff_json};
use aks_egress_lint::finding::Code;
use aks_egress_lint::frontend::{FrontendOptions, arm};
use aks_egress_lint::model::*;
use aks_egress_lint::source::{FileId, Sources, Span};
use std::path::Path;

struct Loaded {
    sources: Sources,
    model: Model,
    templates: Vec<FileId>,
}

fn load_dir(dir: &str, opts: &FrontendOptions) -> Loaded {
    let mut sources = Sources::new();
    let mut templates = vec![];
    let mut params = vec![];
    let mut entries: Vec<_> = std::fs::read_dir(Path::new("testdata").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let kind = sniff_json(&text);
        let id = sources.add(&p, text);
        match kind {
            Some(FileKind::ArmTemplate) => templates.push(id),
            Some(FileKind::ArmParameters) => params.push(id),
            _ => {}
        }
    }
    let model = arm::load(&sources, &templates, &params, opts);
    Loaded {
        sources,
        model,
        templates,
    }
}

/// `(line, col, text)` of a span.
fn at(s: &Sources, span: &Span) -> (usize, usize, String) {
    let (l, c, _, _) = s.span_lines(span);
    (l, c, s.slice(span).to_string())
}

fn known<T: Clone + std::fmt::Debug>(a: &Attr<T>) -> T {
    match &a.value {
        Value::Known(v) => v.clone(),
        other => panic!("expected a known value, got {other:?}"),
    }
}

fn key(s: &str) -> ResKey {
    ResKey(s.to_string())
}

#[test]
fn hand_written_template() {
    let l = load_dir("arm-hand-written", &FrontendOptions::default());
    let (s, m) = (&l.sources, &l.model);
    assert!(m.findings.is_empty(), "{:#?}", m.findings);

    // Route table with its inline route; next hop is a link to the firewall.
    assert_eq!(m.route_tables.len(), 1);
    let rt = &m.route_tables[0];
    assert_eq!(rt.decl.label, "Microsoft.Network/routeTables 'rt-aks'");
    assert_eq!(
        rt.decl.keys,
        vec![key("arm:microsoft.network/routetables/rt-aks")]
    );
    assert_eq!(at(s, &rt.decl.span).0, 17);
    let r = &rt.routes[0];
    assert_eq!(known(&r.address_prefix), "0.0.0.0/0");
    assert_eq!(
        at(s, &r.address_prefix.span),
        (28, 32, "\"0.0.0.0/0\"".into())
    );
    assert_eq!(
        r.next_hop_ip.as_ref().unwrap().value,
        Value::Ref(Ref {
            target: key("arm:microsoft.network/azurefirewalls/prod-fw"),
            attr: "private_ip".into()
        })
    );
    assert_eq!(
        r.decl.keys,
        vec![key(
            "arm:microsoft.network/routetables/rt-aks/routes/default-via-fw"
        )]
    );
    assert!(known(rt.disable_bgp_route_propagation.as_ref().unwrap()));

    // NSG with an inline rule and a nested child rule.
    assert_eq!(m.nsgs.len(), 1);
    let nsg = &m.nsgs[0];
    assert_eq!(nsg.rules.len(), 1);
    let deny = &nsg.rules[0];
    assert_eq!(known(&deny.priority), 4000);
    assert_eq!(known(&deny.destination_ports), vec!["80", "443"]);
    assert_eq!(at(s, &deny.destination_ports.span).2, "[\"80\", \"443\"]");
    assert_eq!(m.nsg_rules.len(), 1);
    let child = &m.nsg_rules[0];
    assert_eq!(
        child.decl.keys,
        vec![key(
            "arm:microsoft.network/networksecuritygroups/nsg-nodes/securityrules/allow-fw"
        )]
    );
    assert_eq!(
        child.nsg.as_ref().unwrap().value,
        Value::Known(key("arm:microsoft.network/networksecuritygroups/nsg-nodes"))
    );
    assert_eq!(known(&child.destination_addresses), vec!["10.0.1.4"]);
    // The value comes from the parameter's default: the span points there.
    assert_eq!(
        at(s, &child.destination_addresses.span),
        (7, 56, "\"10.0.1.4\"".into())
    );

    // VNet named from the parameter file, inline subnet with associations.
    let vnet = &m.vnets[0];
    assert_eq!(
        vnet.decl.label,
        "Microsoft.Network/virtualNetworks 'prod-vnet'"
    );
    assert_eq!(known(vnet.dns_servers.as_ref().unwrap()), vec!["10.0.1.4"]);
    let sn = &m.subnets[0];
    assert_eq!(
        sn.decl.keys,
        vec![key(
            "arm:microsoft.network/virtualnetworks/prod-vnet/subnets/nodes"
        )]
    );
    assert_eq!(known(&sn.address_prefixes), vec!["10.1.0.0/22"]);
    assert_eq!(
        known(sn.nsg.as_ref().unwrap()),
        key("arm:microsoft.network/networksecuritygroups/nsg-nodes")
    );
    assert_eq!(
        known(sn.route_table.as_ref().unwrap()),
        key("arm:microsoft.network/routetables/rt-aks")
    );

    // Firewall: classic collections, DNS proxy, subnet.
    let fw = &m.firewalls[0];
    assert_eq!(fw.decl.label, "Microsoft.Network/azureFirewalls 'prod-fw'");
    assert!(known(fw.dns_proxy.as_ref().unwrap()));
    assert_eq!(known(fw.sku_tier.as_ref().unwrap()), "Standard");
    assert_eq!(
        known(fw.subnet.as_ref().unwrap()),
        key("arm:microsoft.network/virtualnetworks/hub/subnets/azurefirewallsubnet")
    );
    assert_eq!(fw.collections.len(), 2);
    let app = &fw.collections[0];
    assert_eq!(app.kind, RuleKind::Application);
    assert_eq!(known(&app.action), "Allow");
    let rule = &app.rules[0];
    assert_eq!(
        known(rule.app_protocols.as_ref().unwrap()),
        vec![AppProtocol {
            kind: "Https".into(),
            port: Some(443)
        }]
    );
    assert_eq!(
        known(rule.fqdn_tags.as_ref().unwrap()),
        vec!["AzureKubernetesService"]
    );
    let net = &fw.collections[1];
    assert_eq!(net.kind, RuleKind::Network);
    assert_eq!(known(net.rules[0].protocols.as_ref().unwrap()), vec!["UDP"]);

    // Cluster: pool subnet from a variable, features, location unknown.
    let c = &m.clusters[0];
    assert_eq!(
        c.decl.label,
        "Microsoft.ContainerService/managedClusters 'prod-aks'"
    );
    assert_eq!(
        known(c.outbound_type.as_ref().unwrap()),
        "userDefinedRouting"
    );
    assert!(known(c.private_cluster.as_ref().unwrap()));
    let pool = &c.node_pools[0];
    assert_eq!(
        known(pool.subnet.as_ref().unwrap()),
        key("arm:microsoft.network/virtualnetworks/prod-vnet/subnets/nodes")
    );
    assert_eq!(known(pool.vm_size.as_ref().unwrap()), "Standard_D4s_v5");
    let feats: Vec<(String, bool)> = c
        .features
        .iter()
        .map(|(n, a)| (n.clone(), known(a)))
        .collect();
    assert_eq!(
        feats,
        vec![("monitoring".into(), true), ("policy".into(), false)]
    );
    match &c.location.as_ref().unwrap().value {
        Value::Unknown(u) => assert!(u.reason.contains("--location"), "{}", u.reason),
        other => panic!("{other:?}"),
    }
    assert!(!arm::is_bicep_generated(s, l.templates[0]));
}

#[test]
fn location_option_resolves_resource_group_location() {
    let opts = FrontendOptions {
        location: Some("westeurope".into()),
        ..Default::default()
    };
    let l = load_dir("arm-hand-written", &opts);
    let c = &l.model.clusters[0];
    assert_eq!(known(c.location.as_ref().unwrap()), "westeurope");
    let _ = Code::AEL000;
}

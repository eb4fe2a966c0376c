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
    let mut entries = vec![];
    let mut stack = vec![Path::new("testdata").join(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                entries.push(p);
            }
        }
    }
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
        Value::Ref(Box::new(Ref {
            target: key("arm:microsoft.network/azurefirewalls/prod-fw"),
            attr: "private_ip".into()
        }))
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

#[test]
fn bicep_compiled_template() {
    let l = load_dir("arm-bicep-compiled", &FrontendOptions::default());
    let (s, m) = (&l.sources, &l.model);
    assert!(m.findings.is_empty(), "{:#?}", m.findings);
    assert!(arm::is_bicep_generated(s, l.templates[0]));

    // Variable copy loop → node and pod subnets of the pool.
    let c = &m.clusters[0];
    assert_eq!(
        c.decl.label,
        "Microsoft.ContainerService/managedClusters 'aks-dev'"
    );
    assert_eq!(known(c.location.as_ref().unwrap()), "westeurope");
    // The location comes from the parameter file.
    assert_eq!(
        c.location.as_ref().unwrap().span.file,
        l.sources
            .find(Path::new(
                "testdata/arm-bicep-compiled/main.parameters.json"
            ))
            .unwrap()
    );
    let pool = &c.node_pools[0];
    assert_eq!(
        known(pool.subnet.as_ref().unwrap()),
        key("arm:microsoft.network/virtualnetworks/vnet-spoke-dev/subnets/nodes")
    );
    assert_eq!(
        known(pool.pod_subnet.as_ref().unwrap()),
        key("arm:microsoft.network/virtualnetworks/vnet-spoke-dev/subnets/pods")
    );
    assert_eq!(known(c.network_plugin_mode.as_ref().unwrap()), "overlay");
    assert_eq!(known(c.pod_cidrs.as_ref().unwrap()), vec!["192.168.0.0/16"]);
    assert_eq!(
        known(c.service_cidrs.as_ref().unwrap()),
        vec!["172.16.0.0/16"]
    );
    assert!(known(c.api_server_vnet_integration.as_ref().unwrap()));
    assert_eq!(
        known(c.api_server_subnet.as_ref().unwrap()),
        key("arm:microsoft.network/virtualnetworks/vnet-spoke-dev/subnets/apiserver")
    );
    assert!(c.http_proxy.is_some());
    assert_eq!(known(c.artifact_source.as_ref().unwrap()), "Cache");
    let mut feats: Vec<(String, bool)> = c
        .features
        .iter()
        .map(|(n, a)| (n.clone(), known(a)))
        .collect();
    feats.sort();
    assert_eq!(
        feats,
        vec![
            ("defender".into(), true),
            ("keyvault".into(), true),
            ("monitoring".into(), true),
            ("service-mesh".into(), true),
            ("web-app-routing".into(), false),
            ("workload-identity".into(), true),
        ]
    );
    let (_, _, text) = at(
        s,
        &c.features
            .iter()
            .find(|f| f.0 == "service-mesh")
            .unwrap()
            .1
            .span,
    );
    assert_eq!(text, "\"Istio\"");

    // Separate agent pool resource.
    let np = &m.node_pools[0];
    assert_eq!(
        np.decl.keys,
        vec![key(
            "arm:microsoft.containerservice/managedclusters/aks-dev/agentpools/gpu"
        )]
    );
    assert_eq!(
        known(np.cluster.as_ref().unwrap()),
        key("arm:microsoft.containerservice/managedclusters/aks-dev")
    );
    assert_eq!(known(np.os_type.as_ref().unwrap()), "Windows");

    // Property copy → subnets; route table id from the nested deployment's output.
    let names: Vec<String> = m
        .subnets
        .iter()
        .map(|s| s.decl.name.as_ref().unwrap().value.clone())
        .collect();
    assert_eq!(names, vec!["nodes", "pods"]);
    let sn = &m.subnets[1];
    assert_eq!(known(&sn.address_prefixes), vec!["10.10.4.0/22"]);
    // Spans of values read through parameters('spokeSubnets') point at the default.
    assert_eq!(
        at(s, &sn.address_prefixes.span),
        (25, 37, "\"10.10.4.0/22\"".into())
    );
    assert_eq!(
        known(sn.route_table.as_ref().unwrap()),
        key("arm:microsoft.network/routetables/rt-spoke")
    );
    // `existing` resources are not declared.
    assert_eq!(m.vnets.len(), 1);

    // Nested deployment (inner scope): firewall and route table.
    let fw = &m.firewalls[0];
    assert_eq!(
        known(fw.policy.as_ref().unwrap()),
        key("arm:microsoft.network/firewallpolicies/fwp-dev")
    );
    assert_eq!(known(fw.sku_tier.as_ref().unwrap()), "Premium");
    let rt = &m.route_tables[0];
    assert_eq!(
        rt.routes[0].next_hop_ip.as_ref().unwrap().value,
        Value::Ref(Box::new(Ref {
            target: key("arm:microsoft.network/azurefirewalls/afw-hub"),
            attr: "private_ip".into()
        }))
    );

    // Policy and rule collection group (top-level child with `policy/group`).
    let p = &m.policies[0];
    assert!(known(p.dns_proxy.as_ref().unwrap()));
    assert_eq!(
        known(p.base_policy.as_ref().unwrap()),
        key("arm:microsoft.network/firewallpolicies/fwp-base")
    );
    let g = &m.rule_collection_groups[0];
    assert_eq!(
        known(&g.policy),
        key("arm:microsoft.network/firewallpolicies/fwp-dev")
    );
    assert_eq!(known(&g.priority), 200);
    assert_eq!(g.collections.len(), 3);
    let app = &g.collections[0];
    assert_eq!(app.kind, RuleKind::Application);
    assert_eq!(
        known(app.rules[0].target_fqdns.as_ref().unwrap()),
        vec!["mcr.microsoft.com", "*.data.mcr.microsoft.com"]
    );
    assert_eq!(
        known(app.rules[0].source_ip_groups.as_ref().unwrap()),
        vec![key("arm:microsoft.network/ipgroups/ipg-aks-dev")]
    );
    let net = &g.collections[1];
    assert_eq!(net.kind, RuleKind::Network);
    assert_eq!(known(net.rules[0].protocols.as_ref().unwrap()), vec!["UDP"]);
    assert_eq!(
        known(net.rules[0].destination_fqdns.as_ref().unwrap()),
        vec!["ntp.ubuntu.com"]
    );
    let nat = &g.collections[2];
    assert_eq!(nat.kind, RuleKind::Nat);
    assert_eq!(known(&nat.action), "Dnat");
    assert_eq!(
        known(nat.rules[0].translated_address.as_ref().unwrap()),
        "10.10.0.10"
    );

    // IP group from a lambda.
    assert_eq!(
        known(&m.ip_groups[0].cidrs),
        vec!["10.10.0.0/22", "10.10.4.0/22"]
    );

    // Resource copy: two separate rules with computed priorities.
    let prios: Vec<u32> = m.nsg_rules.iter().map(|r| known(&r.priority)).collect();
    assert_eq!(prios, vec![100, 101]);
    assert_eq!(
        m.nsg_rules[1].decl.keys,
        vec![key(
            "arm:microsoft.network/networksecuritygroups/nsg-aks/securityrules/allow-1"
        )]
    );
}

#[test]
fn nested_deployments_outer_and_linked() {
    let opts = FrontendOptions {
        root: "testdata".into(),
        ..Default::default()
    };
    let l = load_dir("arm-nested-deployments", &opts);
    let (s, m) = (&l.sources, &l.model);
    // Outer scope: the nested NSG is named from the parent's variable.
    assert_eq!(m.nsgs.len(), 1);
    assert_eq!(
        m.nsgs[0].decl.keys,
        vec![key("arm:microsoft.network/networksecuritygroups/nsg-hub")]
    );
    // Linked template evaluated once, with the parameter passed in; the
    // condition that is false drops `skipped`.
    assert_eq!(m.route_tables.len(), 1);
    let rt = &m.route_tables[0];
    assert_eq!(rt.decl.label, "Microsoft.Network/routeTables 'rt-hub'");
    assert!(
        s.get(rt.decl.span.file)
            .display
            .ends_with("modules/routes.json")
    );
    assert_eq!(known(&rt.routes[0].next_hop_type), "Internet");
    assert_eq!(
        at(s, &rt.routes[0].next_hop_type.span),
        (16, 74, "\"Internet\"".into())
    );
    // The name comes from the parameter passed in by the parent.
    let name = rt.decl.name.as_ref().unwrap();
    assert_eq!(name.value, "rt-hub");
    assert_eq!(
        at(s, &name.span),
        (11, 15, "\"[parameters('tableName')]\"".into())
    );
    // The remote link is a note at the link.
    assert_eq!(m.findings.len(), 1, "{:#?}", m.findings);
    let f = &m.findings[0];
    assert_eq!(f.code, Code::AEL008);
    assert!(
        f.message.contains("https://example.invalid"),
        "{}",
        f.message
    );
    assert_eq!(at(s, &f.primary().span).0, 50);
}

#[test]
fn one_instance_per_parameter_file() {
    let l = load_dir("arm-parameter-files", &FrontendOptions::default());
    let m = &l.model;
    assert!(m.findings.is_empty(), "{:#?}", m.findings);
    let names: Vec<&str> = m.clusters.iter().map(|c| c.decl.label.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "Microsoft.ContainerService/managedClusters 'aks-dev'",
            "Microsoft.ContainerService/managedClusters 'aks-prod'"
        ]
    );
    // The route table is the same in both instances: kept once.
    assert_eq!(m.route_tables.len(), 1);
    // firewallIp is declared without a default and never supplied; unused, so no finding.
    let pool = &m.clusters[1].node_pools[0];
    assert_eq!(
        known(pool.subnet.as_ref().unwrap()),
        key("arm:microsoft.network/virtualnetworks/vnet-prod/subnets/nodes")
    );
    // The subnet id is written in the prod parameter file.
    let (line, col, _) = at(&l.sources, &pool.subnet.as_ref().unwrap().span);
    assert_eq!((line, col), (6, 28));
    assert!(
        l.sources
            .get(pool.subnet.as_ref().unwrap().span.file)
            .display
            .ends_with("aks.parameters.prod.json")
    );
}

#[test]
fn parse_errors_cycles_and_bad_expressions() {
    let l = load_dir("arm-invalid", &FrontendOptions::default());
    let (s, m) = (&l.sources, &l.model);
    let mut got: Vec<(String, usize, usize, Code, String)> = m
        .findings
        .iter()
        .map(|f| {
            let (line, col, _) = at(s, &f.primary().span);
            let file = s.get(f.primary().span.file).display.clone();
            let file = file.rsplit('/').next().unwrap_or("").to_string();
            (file, line, col, f.code, f.message.clone())
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "broken.json".into(),
                6,
                46,
                Code::AEL000,
                "invalid JSON: expected comma".into()
            ),
            // One finding per cycle, at the variable where it closes.
            (
                "cycle.json".into(),
                5,
                10,
                Code::AEL000,
                "variable `a` refers to itself through `a` → `b` → `a`".into()
            ),
            (
                "cycle.json".into(),
                7,
                26,
                Code::AEL000,
                "invalid template expression: expected an expression".into()
            ),
        ]
    );
    // The resources around the errors are still read.
    assert_eq!(m.nsgs.len(), 1);
    assert!(matches!(
        m.nsgs[0].rules[0].destination_addresses.value,
        Value::Unknown(_)
    ));
    assert_eq!(known(&m.nsgs[0].rules[0].destination_ports), vec!["443"]);
}

fn load_text(text: &str, opts: &FrontendOptions) -> (Sources, Model) {
    let mut sources = Sources::new();
    let f = sources.add_named("main.json", text);
    let m = arm::load(&sources, &[f], &[], opts);
    (sources, m)
}

#[test]
fn unknown_properties_are_unknown_not_absent() {
    let (s, m) = load_text(
        r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": { "props": { "type": "object" } },
  "resources": [
    {
      "type": "Microsoft.ContainerService/managedClusters",
      "name": "aks",
      "properties": "[parameters('props')]"
    }
  ]
}"#,
        &FrontendOptions::default(),
    );
    let c = &m.clusters[0];
    assert!(matches!(
        c.outbound_type.as_ref().unwrap().value,
        Value::Unknown(_)
    ));
    assert!(matches!(
        c.private_cluster.as_ref().unwrap().value,
        Value::Unknown(_)
    ));
    assert_eq!(m.findings.len(), 1);
    assert_eq!(m.findings[0].code, Code::AEL008);
    assert_eq!(
        m.findings[0].message,
        "`properties` of Microsoft.ContainerService/managedClusters 'aks' cannot be determined: parameter `props` has no default value and no value is supplied (a parameters file or --parameters)"
    );
    assert_eq!(at(&s, &m.findings[0].primary().span).0, 3);
}

#[test]
fn deployment_name_and_module_outputs() {
    // What Bicep emits for modules: deployments named after deployment().name,
    // outputs read back through reference(resourceId('Microsoft.Resources/deployments', ...)).
    let (_, m) = load_text(
        r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [
    {
      "type": "Microsoft.Network/virtualNetworks",
      "name": "spoke",
      "properties": {
        "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] },
        "subnets": [ { "name": "nodes", "properties": { "addressPrefix": "10.0.0.0/24",
          "routeTable": { "id": "[reference(resourceId('Microsoft.Resources/deployments', take(format('{0}-rt', deployment().name), 64))).outputs.id.value]" } } } ]
      }
    },
    {
      "type": "Microsoft.Resources/deployments",
      "name": "[take(format('{0}-rt', deployment().name), 64)]",
      "properties": {
        "expressionEvaluationOptions": { "scope": "inner" },
        "template": {
          "resources": [ { "type": "Microsoft.Network/routeTables", "name": "[format('rt-{0}', deployment().name)]", "properties": {} } ],
          "outputs": { "id": { "type": "string", "value": "[resourceId('Microsoft.Network/routeTables', format('rt-{0}', deployment().name))]" } }
        }
      }
    }
  ]
}"#,
        &FrontendOptions::default(),
    );
    assert!(m.findings.is_empty(), "{:#?}", m.findings);
    assert_eq!(
        m.route_tables[0].decl.label,
        "Microsoft.Network/routeTables 'rt-main-rt'"
    );
    assert_eq!(
        known(m.subnets[0].route_table.as_ref().unwrap()),
        key("arm:microsoft.network/routetables/rt-main-rt")
    );
}

#[test]
fn unique_names_stay_consistent_and_ip_configs_from_a_copy() {
    let l = load_dir("arm-firewall-unique-names", &FrontendOptions::default());
    let m = &l.model;
    assert!(m.findings.is_empty(), "{:#?}", m.findings);
    // The same uniqueString() stand-in in the VNet and in the id that names it.
    let vnet_key = &m.vnets[0].decl.keys[0];
    assert!(
        vnet_key
            .0
            .starts_with("arm:microsoft.network/virtualnetworks/vnet{uniquestring:")
    );
    let fw = &m.firewalls[0];
    let subnet = known(fw.subnet.as_ref().unwrap());
    assert_eq!(
        subnet.0,
        format!("{}/subnets/azurefirewallsubnet", vnet_key.0)
    );
    assert_eq!(m.subnets[0].decl.keys[0], subnet);
    let g = &m.rule_collection_groups[0];
    assert_eq!(
        known(g.collections[0].rules[0].source_ip_groups.as_ref().unwrap()),
        m.ip_groups[0].decl.keys
    );
}

#[test]
fn unknown_deployment_condition_is_inherited() {
    let (_, m) = load_text(
        r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": { "withFw": { "type": "bool" } },
  "resources": [
    {
      "condition": "[parameters('withFw')]",
      "type": "Microsoft.Resources/deployments",
      "name": "fw",
      "properties": {
        "expressionEvaluationOptions": { "scope": "inner" },
        "template": { "resources": [ { "type": "Microsoft.Network/azureFirewalls", "name": "fw", "properties": {} } ] }
      }
    },
    { "type": "Microsoft.Network/routeTables", "name": "rt", "properties": {} }
  ]
}"#,
        &FrontendOptions::default(),
    );
    let c = m.firewalls[0].decl.condition.as_ref().unwrap();
    assert!(
        c.reason.contains("parameter `withFw` has no default"),
        "{}",
        c.reason
    );
    assert!(m.route_tables[0].decl.condition.is_none());
}

#[test]
fn same_values_from_two_parameter_files_are_one_resource() {
    let mut sources = Sources::new();
    let t = sources.add(
        "x/aks.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": { "name": { "type": "string" }, "size": { "type": "string" } },
  "resources": [ { "type": "Microsoft.ContainerService/managedClusters", "name": "[parameters('name')]",
    "properties": { "agentPoolProfiles": [ { "name": "sys", "vmSize": "[parameters('size')]" } ] } } ] }"#,
    );
    let p1 = sources.add(
        "x/aks.parameters.a.json",
        r#"{"parameters": {"name": {"value": "aks"}, "size": {"value": "D4"}}}"#,
    );
    let p2 = sources.add(
        "x/aks.parameters.b.json",
        r#"{"parameters": {"name": {"value": "aks"}, "size": {"value": "D4"}}}"#,
    );
    let p3 = sources.add(
        "x/aks.parameters.c.json",
        r#"{"parameters": {"name": {"value": "aks"}, "size": {"value": "D8"}}}"#,
    );
    let m = arm::load(&sources, &[t], &[p1, p2, p3], &FrontendOptions::default());
    let sizes: Vec<String> = m
        .clusters
        .iter()
        .map(|c| known(c.node_pools[0].vm_size.as_ref().unwrap()))
        .collect();
    assert_eq!(sizes, vec!["D4", "D8"]);
}

#[test]
fn reference_to_an_inline_subnet() {
    let (_, m) = load_text(
        r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [
    { "type": "Microsoft.Network/virtualNetworks", "name": "hub",
      "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] },
        "subnets": [ { "name": "nodes", "properties": { "addressPrefix": "10.0.0.0/24" } } ] } },
    { "type": "Microsoft.Network/networkSecurityGroups", "name": "nsg",
      "properties": { "securityRules": [ { "name": "nodes-out", "properties": {
        "priority": 100, "direction": "Outbound", "access": "Allow", "protocol": "*",
        "sourceAddressPrefix": "[reference(resourceId('Microsoft.Network/virtualNetworks/subnets', 'hub', 'nodes')).addressPrefix]",
        "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "*" } } ] } }
  ]
}"#,
        &FrontendOptions::default(),
    );
    assert_eq!(
        m.nsgs[0].rules[0].source_addresses.value,
        Value::Ref(Box::new(Ref {
            target: key("arm:microsoft.network/virtualnetworks/hub/subnets/nodes"),
            attr: "address_prefixes".into()
        }))
    );
}

#[test]
fn cluster_extensions_turn_on_the_extensions_feature() {
    let (_, m) = load_text(
        r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "languageVersion": "2.0",
  "resources": {
    "aks": { "type": "Microsoft.ContainerService/managedClusters", "name": "aks", "properties": {} },
    "flux": { "type": "Microsoft.KubernetesConfiguration/extensions", "name": "flux", "scope": "aks",
              "properties": { "extensionType": "microsoft.flux" } },
    "other": { "type": "Microsoft.KubernetesConfiguration/extensions", "name": "dapr",
               "scope": "[format('Microsoft.ContainerService/managedClusters/{0}', 'aks')]", "properties": {} }
  }
}"#,
        &FrontendOptions::default(),
    );
    let f: Vec<(&str, bool)> = m.clusters[0]
        .features
        .iter()
        .map(|(n, a)| (n.as_str(), known(a)))
        .collect();
    assert_eq!(f, vec![("extensions", true), ("extensions", true)]);
}

#[test]
fn parameters_option_with_a_file_outside_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("prod.parameters.json");
    std::fs::write(&pf, r#"{"parameters": {"Prefix": {"value": "cli"}}}"#).unwrap();
    let opts = FrontendOptions {
        parameters: vec![pf],
        ..Default::default()
    };
    let l = load_dir("arm-hand-written", &opts);
    let m = &l.model;
    assert!(m.findings.is_empty(), "{:#?}", m.findings);
    // --parameters wins over the paired parameter file.
    assert_eq!(
        m.vnets[0].decl.label,
        "Microsoft.Network/virtualNetworks 'cli-vnet'"
    );
    // The value points at the parameter's declaration.
    let fw = &m.firewalls[0];
    assert_eq!(fw.decl.label, "Microsoft.Network/azureFirewalls 'cli-fw'");
    let missing = FrontendOptions {
        parameters: vec![dir.path().join("nope.json")],
        ..Default::default()
    };
    let l = load_dir("arm-hand-written", &missing);
    assert_eq!(l.model.findings.len(), 1);
    assert!(
        l.model.findings[0]
            .message
            .starts_with("cannot read parameters file")
    );
}

#[test]
fn unknown_resource_name_is_a_note() {
    let (s, m) = load_text(
        r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": { "fwName": { "type": "string" } },
  "resources": [
    { "type": "Microsoft.Network/azureFirewalls", "name": "[parameters('fwName')]", "properties": {} }
  ]
}"#,
        &FrontendOptions::default(),
    );
    assert_eq!(m.firewalls[0].decl.keys, vec![]);
    assert_eq!(m.findings.len(), 1);
    assert_eq!(
        m.findings[0].message,
        "the Microsoft.Network/azureFirewalls resource's name is unknown: parameter `fwName` has no default value and no value is supplied (a parameters file or --parameters)"
    );
    assert_eq!(
        at(&s, &m.findings[0].primary().span),
        (5, 59, "\"[parameters('fwName')]\"".into())
    );
}

#[test]
fn parameter_files_pair_by_name() {
    let mut s = Sources::new();
    let a = s.add("p/azuredeploy.json", "{}");
    let b = s.add("p/network.json", "{}");
    let pa = s.add("p/azuredeploy.parameters.json", "{}");
    let pa_dev = s.add("p/azuredeploy.parameters.dev.json", "{}");
    let pb = s.add("p/network.params.json", "{}");
    let orphan = s.add("p/prod.parameters.json", "{}");
    let other_dir = s.add("q/azuredeploy.parameters.json", "{}");
    let params = [pa, pa_dev, pb, orphan, other_dir];
    assert_eq!(
        arm::pair_parameters(&s, a, &[a, b], &params),
        vec![pa_dev, pa]
    );
    assert_eq!(arm::pair_parameters(&s, b, &[a, b], &params), vec![pb]);
    // Alone in its folder, a template also takes the files no template claims.
    let c = s.add("r/main.json", "{}");
    let pc = s.add("r/prod.parameters.json", "{}");
    assert_eq!(arm::pair_parameters(&s, c, &[a, b, c], &[pc]), vec![pc]);
}

#[test]
fn reference_paths_are_normalised() {
    use aks_egress_lint::frontend::arm::expr::ResRef;
    use aks_egress_lint::frontend::arm::resources::ref_attr;
    let r = |path: &[&str], full: bool| {
        ref_attr(&ResRef {
            target: key("arm:x/y/z"),
            path: path.iter().map(|s| s.to_string()).collect(),
            full,
        })
    };
    assert_eq!(
        r(
            &["ipConfigurations", "0", "properties", "privateIPAddress"],
            false
        ),
        "private_ip"
    );
    assert_eq!(
        r(
            &[
                "properties",
                "ipConfigurations",
                "0",
                "properties",
                "privateIpAddress"
            ],
            true
        ),
        "private_ip"
    );
    assert_eq!(
        r(&["hubIPAddresses", "privateIPAddress"], false),
        "private_ip"
    );
    assert_eq!(r(&["addressPrefix"], false), "address_prefixes");
    assert_eq!(
        r(&["addressSpace", "addressPrefixes"], false),
        "address_prefixes"
    );
    assert_eq!(r(&["id"], true), "id");
    assert_eq!(r(&["location"], true), "location");
    assert_eq!(r(&["provisioningState"], false), "provisioningState");
}

#[test]
fn exported_templates_declare_children_twice() {
    // The portal's "Export template" writes each subnet, route and rule both
    // inline and as a separate child resource.
    let (s, m) = load_text(
        r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [
    { "type": "Microsoft.Network/virtualNetworks", "name": "hub",
      "properties": { "addressSpace": { "addressPrefixes": ["10.0.0.0/16"] },
        "subnets": [ { "name": "nodes", "properties": { "addressPrefix": "10.0.0.0/24" } } ] } },
    { "type": "Microsoft.Network/virtualNetworks/subnets", "name": "hub/nodes",
      "properties": { "addressPrefix": "10.0.0.0/24" } },
    { "type": "Microsoft.Network/routeTables", "name": "rt",
      "properties": { "routes": [ { "name": "fw", "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "Internet" } } ] } },
    { "type": "Microsoft.Network/routeTables/routes", "name": "rt/fw",
      "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.1.4" } },
    { "type": "Microsoft.Network/networkSecurityGroups", "name": "nsg",
      "properties": { "securityRules": [ { "name": "r", "properties": { "priority": 100, "direction": "Outbound",
        "access": "Allow", "protocol": "*", "sourceAddressPrefix": "*", "sourcePortRange": "*",
        "destinationAddressPrefix": "*", "destinationPortRange": "*" } } ] } },
    { "type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "nsg/r",
      "properties": { "priority": 100, "direction": "Outbound", "access": "Allow", "protocol": "*",
        "sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "*" } }
  ]
}"#,
        &FrontendOptions::default(),
    );
    assert_eq!(m.subnets.len(), 1);
    assert_eq!(at(&s, &m.subnets[0].decl.span).0, 7);
    assert!(m.route_tables[0].routes.is_empty());
    assert_eq!(m.routes.len(), 1);
    assert_eq!(known(&m.routes[0].next_hop_type), "VirtualAppliance");
    assert!(m.nsgs[0].rules.is_empty());
    assert_eq!(m.nsg_rules.len(), 1);
}

#[test]
fn notes_say_how_to_supply_what_is_missing() {
    let (_, m) = load_text(
        r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": { "fwName": { "type": "string" } },
  "resources": [
    { "type": "Microsoft.Network/azureFirewalls", "name": "[parameters('fwName')]", "properties": {} }
  ]
}"#,
        &FrontendOptions::default(),
    );
    assert!(
        m.findings[0]
            .help
            .as_deref()
            .unwrap()
            .contains("--parameters FILE")
    );
}

/// Templates evaluated in parallel read each other as they would one by one,
/// in file order: `early.json` is read before `hub.json`, `spoke.json` after.
#[test]
fn templates_read_each_other_in_file_order() {
    let opts = FrontendOptions {
        root: "testdata".into(),
        ..Default::default()
    };
    let l = load_dir("arm-cross-template", &opts);
    let (s, m) = (&l.sources, &l.model);
    let file = |span: &Span| {
        let d = &s.get(span.file).display;
        d[d.rfind("arm-cross-template/").unwrap() + 19..].to_string()
    };

    // `late.json` is linked by `linker.json` through a path known only in
    // the second pass: evaluated there (`rt-linked`), not alone (`rt-alone`).
    let tables: Vec<&str> = m
        .route_tables
        .iter()
        .map(|r| r.decl.label.as_str())
        .collect();
    assert_eq!(
        tables,
        vec![
            "Microsoft.Network/routeTables 'rt-early'",
            "Microsoft.Network/routeTables 'rt-linked'",
            "Microsoft.Network/routeTables 'rt-spoke'",
        ]
    );
    assert_eq!(file(&m.route_tables[1].decl.span), "modules/late.json");

    // `reference('fw-hub')` names the firewall of another template, before
    // or after it.
    for rt in [&m.route_tables[0], &m.route_tables[2]] {
        let ip = rt.routes[0].next_hop_ip.as_ref().unwrap();
        assert_eq!(
            ip.value,
            Value::Ref(Box::new(Ref {
                target: key("arm:microsoft.network/azurefirewalls/fw-hub"),
                attr: "private_ip".into()
            }))
        );
    }
    // Outputs of the `shared` deployment of hub.json are known to the
    // template read after it only.
    let early = &m.route_tables[0].routes[1].address_prefix;
    match &early.value {
        Value::Unknown(u) => assert_eq!(
            u.reason,
            "outputs of deployment `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Resources/deployments/shared` are not known at this point"
        ),
        other => panic!("expected unknown, got {other:?}"),
    }
    let spoke = &m.route_tables[2].routes[1].address_prefix;
    assert_eq!(known(spoke), "10.9.0.0/16");
    assert_eq!(
        at(s, &spoke.span),
        (
            23,
            32,
            "\"[reference(resourceId('Microsoft.Resources/deployments', 'shared')).outputs.prefix.value]\"".into()
        )
    );
    // And the other way round: hub.json reads the spoke's address space.
    assert_eq!(
        m.nsgs[0].rules[0].source_addresses.value,
        Value::Ref(Box::new(Ref {
            target: key("arm:microsoft.network/virtualnetworks/vnet-spoke"),
            attr: "addressSpace.addressPrefixes.0".into()
        }))
    );
    // `reference('vnet-hub').subnets[1].id`: the subnet hub.json declares inline.
    let pool = &m.clusters[0].node_pools[0];
    assert_eq!(
        known(pool.subnet.as_ref().unwrap()),
        key("arm:microsoft.network/virtualnetworks/vnet-hub/subnets/nodes")
    );

    // The copy counts: early.json's first pass does not know the firewall
    // yet, its second does; spoke.json knows it in both.
    let got: Vec<(String, usize, usize, &str)> = m
        .findings
        .iter()
        .map(|f| {
            let p = f.primary();
            let (l, c, _) = at(s, &p.span);
            (file(&p.span), l, c, f.message.as_str())
        })
        .collect();
    let counted = "the number of copies of `per-config` is unknown: length() of `reference(arm:microsoft.network/azurefirewalls/fw-hub)` depends on the deployed resource";
    assert_eq!(
        got,
        vec![
            (
                "early.json".into(),
                34,
                48,
                "the number of copies of `per-config` is unknown: reference('fw-hub') names no resource of the template"
            ),
            ("spoke.json".into(), 34, 48, counted),
            ("early.json".into(), 34, 48, counted),
        ]
    );
}

/// A linked template with a parameter file of its own is evaluated both
/// where it is linked and on its own.
#[test]
fn linked_template_with_its_own_parameter_file() {
    let opts = FrontendOptions {
        root: "testdata".into(),
        ..Default::default()
    };
    let l = load_dir("arm-linked-with-parameters", &opts);
    let (s, m) = (&l.sources, &l.model);
    assert!(m.findings.is_empty(), "{:#?}", m.findings);
    let tables: Vec<(&str, (usize, usize, String))> = m
        .route_tables
        .iter()
        .map(|r| {
            let name = r.decl.name.as_ref().unwrap();
            (name.value.as_str(), at(s, &name.span))
        })
        .collect();
    assert_eq!(
        tables,
        vec![
            (
                "rt-from-main",
                (11, 15, "\"[parameters('tableName')]\"".into())
            ),
            (
                "rt-on-its-own",
                (11, 15, "\"[parameters('tableName')]\"".into())
            ),
        ]
    );
    for rt in &m.route_tables {
        assert!(
            s.get(rt.decl.span.file)
                .display
                .ends_with("modules/table.json")
        );
    }
}

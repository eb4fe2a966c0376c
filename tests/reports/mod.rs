//! Hand-built reports for the renderer goldens: one clean scenario and one
//! with findings of several codes across several files. Spans are found by
//! searching the file text, so the fixtures read like real code.
#![allow(dead_code)]

use aks_egress_lint::finding::{
    ClusterSummary, Code, Endpoint, Finding, Hop, Label, Report, RequirementVerdict, Verdict,
};
use aks_egress_lint::source::{FileId, Sources, Span};

pub const NETWORK_TF: &str = r#"resource "azurerm_subnet" "aks" {
  name                 = "snet-aks"
  virtual_network_name = azurerm_virtual_network.spoke.name
  address_prefixes     = ["10.10.0.0/22"]
}

resource "azurerm_route_table" "aks" {
  name = "rt-aks"

  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }
}
"#;

pub const FIREWALL_TF: &str = r#"resource "azurerm_firewall_policy_rule_collection_group" "aks" {
  name               = "aks-egress"
  firewall_policy_id = azurerm_firewall_policy.hub.id
  priority           = 200

  application_rule_collection {
    name     = "aks-fqdns"
    priority = 300
    action   = "Allow"

    rule {
      name = "mgmt"
      protocols {
        type = "Https"
        port = 443
      }
      source_addresses  = ["10.10.0.0/22"]
      destination_fqdns = ["management.azure.com", "login.microsoftonline.com"]
    }
  }

  network_rule_collection {
    name     = "aks-network"
    priority = 200
    action   = "Allow"

    rule {
      name                  = "ntp"
      protocols             = ["UDP"]
      source_addresses      = ["10.10.0.0/22"]
      destination_fqdns     = ["ntp.ubuntu.com"]
      destination_ports     = ["123"]
    }
  }
}
"#;

pub const CLUSTER_JSON: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {
      "type": "Microsoft.ContainerService/managedClusters",
      "apiVersion": "2025-10-01",
      "name": "aks-prod",
      "location": "westeurope",
      "properties": {
        "networkProfile": {
          "networkPlugin": "azure",
          "outboundType": "userDefinedRouting"
        },
        "addonProfiles": {
          "omsagent": { "enabled": true }
        }
      }
    }
  ]
}
"#;

/// An NSG export whose name holds characters every format must escape.
pub const NSG_JSON: &str = r#"{
  "name": "nsg-aks|prod",
  "securityRules": [
    {
      "name": "deny-vnet, 100%",
      "properties": {
        "priority": 100,
        "direction": "Outbound",
        "access": "Deny",
        "protocol": "*",
        "destinationAddressPrefix": "VirtualNetwork"
      }
    }
  ]
}
"#;

pub const BROKEN_BICEP: &str = "resource fw 'Microsoft.Network/azureFirewalls@2024-05-01' = {\n  name: 'fw-hub'\n  properties: {\n";

pub fn span(s: &Sources, file: FileId, needle: &str) -> Span {
    let text = s.text(file);
    let start = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in {}", s.get(file).display));
    Span::new(file, start..start + needle.len())
}

fn ep(d: &str, proto: &str, port: u16) -> Endpoint {
    Endpoint {
        destination: d.into(),
        protocol: proto.into(),
        port,
    }
}

fn label(span: Span, message: &str) -> Label {
    Label {
        span,
        message: message.into(),
        primary: false,
    }
}

/// A clean run: one cluster, every requirement allowed.
pub fn clean() -> (Sources, Report) {
    let mut s = Sources::new();
    let net = s.add_named("infra/network.tf", NETWORK_TF);
    let fw = s.add_named("infra/firewall.tf", FIREWALL_TF);
    let aks = s.add_named("arm/aks.json", CLUSTER_JSON);
    let cluster = ClusterSummary {
        name: "aks-prod".into(),
        span: span(&s, aks, "\"name\": \"aks-prod\""),
        source: Some("snet-aks".into()),
        path: vec![
            Hop {
                kind: "subnet".into(),
                name: "snet-aks".into(),
                span: Some(span(&s, net, "resource \"azurerm_subnet\" \"aks\"")),
                blocking: false,
            },
            Hop {
                kind: "route-table".into(),
                name: "rt-aks".into(),
                span: Some(span(&s, net, "resource \"azurerm_route_table\" \"aks\"")),
                blocking: false,
            },
            Hop {
                kind: "firewall-policy".into(),
                name: "aks-egress".into(),
                span: Some(span(
                    &s,
                    fw,
                    "resource \"azurerm_firewall_policy_rule_collection_group\" \"aks\"",
                )),
                blocking: false,
            },
            Hop {
                kind: "internet".into(),
                name: "internet".into(),
                span: None,
                blocking: false,
            },
        ],
        verdicts: vec![
            RequirementVerdict {
                requirement: "aks.arm".into(),
                endpoint: ep("management.azure.com", "tcp", 443),
                level: "required".into(),
                verdict: Verdict::Allowed,
                decided_by: Some(label(
                    span(&s, fw, "name = \"mgmt\""),
                    "application rule `mgmt` in collection `aks-fqdns`",
                )),
                source: Some("outbound-rules-control-egress.md".into()),
            },
            RequirementVerdict {
                requirement: "aks.ntp".into(),
                endpoint: ep("ntp.ubuntu.com", "udp", 123),
                level: "recommended".into(),
                verdict: Verdict::Allowed,
                decided_by: Some(label(
                    span(&s, fw, "name                  = \"ntp\""),
                    "network rule `ntp` in collection `aks-network`",
                )),
                source: None,
            },
        ],
    };
    let report = Report {
        findings: vec![],
        files: 3,
        clusters: vec![cluster],
    };
    (s, report)
}

/// Findings of several codes across several files, sorted by file, line,
/// column, code as the pipeline sorts them.
pub fn with_findings() -> (Sources, Report) {
    let (mut s, mut report) = clean();
    let net = FileId(0);
    let fw = FileId(1);
    let aks = FileId(2);
    let nsg = s.add_named("exports/nsg prod.json", NSG_JSON);
    let bicep = s.add_named("bicep/firewall.bicep", BROKEN_BICEP);
    report.files = 5;

    let cluster = &mut report.clusters[0];
    cluster.path.insert(
        1,
        Hop {
            kind: "nsg".into(),
            name: "nsg-aks|prod".into(),
            span: Some(span(&s, nsg, "\"name\": \"nsg-aks|prod\"")),
            blocking: false,
        },
    );
    cluster.path[3].blocking = true;
    cluster.verdicts.insert(
        0,
        RequirementVerdict {
            requirement: "aks.mcr".into(),
            endpoint: ep("mcr.microsoft.com", "tcp", 443),
            level: "required".into(),
            verdict: Verdict::Denied,
            decided_by: Some(label(
                span(
                    &s,
                    fw,
                    "resource \"azurerm_firewall_policy_rule_collection_group\" \"aks\"",
                ),
                "no rule of firewall policy `aks-egress` allows it",
            )),
            source: Some("outbound-rules-control-egress.md".into()),
        },
    );
    cluster.verdicts.push(RequirementVerdict {
        requirement: "monitor.ods".into(),
        endpoint: ep("*.ods.opinsights.azure.com", "tcp", 443),
        level: "recommended".into(),
        verdict: Verdict::Denied,
        decided_by: None,
        source: None,
    });
    cluster.verdicts.push(RequirementVerdict {
        requirement: "aks.tunnel-udp".into(),
        endpoint: ep("AzureCloud.westeurope", "udp", 1194),
        level: "required".into(),
        verdict: Verdict::Unknown,
        decided_by: None,
        source: None,
    });

    let rcg = span(
        &s,
        fw,
        "resource \"azurerm_firewall_policy_rule_collection_group\" \"aks\"",
    );
    let mut findings = vec![
        Finding::new(
            Code::AEL000,
            "expected `}` before the end of the file",
            Span::new(bicep, BROKEN_BICEP.len()..BROKEN_BICEP.len()),
            "the file ends here",
        ),
        Finding::new(
            Code::AEL001,
            "egress to `mcr.microsoft.com:443/tcp` is not allowed by firewall policy `aks-egress`",
            rcg.clone(),
            "no rule allows `mcr.microsoft.com`",
        )
        .related(span(&s, net, "resource \"azurerm_subnet\" \"aks\""), "node subnet `snet-aks`")
        .related(
            span(&s, net, "next_hop_in_ip_address = \"10.0.1.4\""),
            "route `default` sends egress to the firewall",
        )
        .help(
            "add this rule to an application rule collection of firewall policy `aks-egress`:\n\
             rule {\n  name              = \"allow-mcr\"\n  source_addresses  = [\"10.10.0.0/22\"]\n  \
             destination_fqdns = [\"mcr.microsoft.com\"]\n  protocols {\n    type = \"Https\"\n    port = 443\n  }\n}",
        )
        .cluster("aks-prod")
        .requirement("aks.mcr")
        .endpoint(ep("mcr.microsoft.com", "tcp", 443)),
        Finding::new(
            Code::AEL002,
            "egress to `*.ods.opinsights.azure.com:443/tcp`, needed by the monitoring add-on, is not allowed",
            rcg,
            "no rule allows `*.ods.opinsights.azure.com`",
        )
        .related(span(&s, aks, "\"omsagent\": { \"enabled\": true }"), "monitoring add-on enabled here")
        .help("add `*.ods.opinsights.azure.com` to an application rule")
        .cluster("aks-prod")
        .requirement("monitor.ods")
        .endpoint(ep("*.ods.opinsights.azure.com", "tcp", 443)),
        Finding::new(
            Code::AEL005,
            "network rule `ntp` names FQDN `ntp.ubuntu.com` but DNS proxy is off, so it never matches",
            span(&s, fw, "destination_fqdns     = [\"ntp.ubuntu.com\"]"),
            "FQDN in a network rule",
        )
        .help("enable `dns.proxy_enabled` on the firewall policy, or use an application rule")
        .cluster("aks-prod"),
        Finding::new(
            Code::AEL008,
            "the virtual network name `azurerm_virtual_network.spoke.name` cannot be resolved",
            span(&s, net, "azurerm_virtual_network.spoke.name"),
            "unresolved reference",
        ),
        Finding::new(
            Code::AEL003,
            "rule `deny-vnet, 100%` denies traffic to `VirtualNetwork`, which blocks node-to-node traffic",
            span(&s, nsg, "\"name\": \"deny-vnet, 100%\""),
            "denies VirtualNetwork: 100% of in-cluster traffic",
        )
        .help("allow the node and pod ranges before this rule; priority < 100")
        .cluster("aks-prod"),
        Finding::new(
            Code::AEL007,
            "outboundType `userDefinedRouting` without a `0.0.0.0/0` route on node pool `system`'s subnet",
            span(&s, aks, "\"outboundType\": \"userDefinedRouting\""),
            "user-defined routing",
        )
        .cluster("aks-staging"),
    ];
    findings.sort_by_key(|f| f.sort_key());
    report.findings = findings;
    (s, report)
}

//! Benchmark: generate a synthetic monorepo of N stacks and measure the
//! linter against a bare parse of the same files (and checkov when installed).
//!
//! Each stack holds a Terraform configuration (cluster, VNet, NSG with 30
//! rules, route table, firewall policy with rule collection groups), an ARM
//! template with the same, its parameter file, and an `az network nsg show`
//! export.
//!
//! Usage:
//!   cargo bench --bench bench                 # N = 100 and N = 1000
//!   cargo bench --bench bench -- --smoke      # N = 20, for CI (no timing claims)
//!   cargo bench --bench bench -- 100 300      # chosen sizes
//!   cargo bench --bench bench -- --checkov    # also time `checkov -d` on each corpus

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

// The same allocator as the command line, so the library timings match it.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NSG_RULES: usize = 30;
/// Application rules of the workload collection: with them a stack is about
/// 75 KB, so N = 1000 is the 75 MB monorepo of the targets.
const APP_RULES: usize = 42;

fn tf_app_rules(b: usize) -> String {
    let mut s = String::from(
        "\n  application_rule_collection {\n    name     = \"workloads\"\n    priority = 300\n    action   = \"Allow\"\n",
    );
    for r in 0..APP_RULES {
        let _ = write!(
            s,
            r#"    rule {{
      name              = "app-{r}"
      description       = "workload {r}: its package feeds and its API"
      source_addresses  = ["10.{b}.4.0/22"]
      destination_fqdns = ["api-{r}.contoso.example", "feed-{r}.contoso.example", "cdn-{r}.contoso.example"]
      protocols {{
        type = "Https"
        port = 443
      }}
    }}
"#
        );
    }
    s.push_str("  }\n");
    s
}

fn arm_app_rules(b: usize) -> String {
    let rules: Vec<String> = (0..APP_RULES)
        .map(|r| {
            format!(
                r#"              {{ "ruleType": "ApplicationRule", "name": "app-{r}", "description": "workload {r}: its package feeds and its API",
                 "sourceAddresses": ["10.{b}.4.0/22"],
                 "targetFqdns": ["api-{r}.contoso.example", "feed-{r}.contoso.example", "cdn-{r}.contoso.example"],
                 "protocols": [{{ "protocolType": "Https", "port": 443 }}] }}"#
            )
        })
        .collect();
    format!(
        r#",
          {{
            "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
            "name": "workloads", "priority": 300, "action": {{ "type": "Allow" }},
            "rules": [
{}
            ]
          }}"#,
        rules.join(",\n")
    )
}

fn tf_stack(i: usize) -> (String, String) {
    let mut s = String::new();
    let b = i % 250;
    let apps = tf_app_rules(b);
    let _ = write!(
        s,
        r#"resource "azurerm_resource_group" "rg" {{
  name     = "rg-stack-{i}"
  location = var.location
}}

resource "azurerm_virtual_network" "vnet" {{
  name                = "vnet-{i}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.{b}.0.0/16"]
}}

resource "azurerm_subnet" "firewall" {{
  name                 = "AzureFirewallSubnet"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.{b}.1.0/26"]
}}

resource "azurerm_subnet" "nodes" {{
  name                 = "snet-nodes"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.{b}.4.0/22"]
}}

resource "azurerm_network_security_group" "nodes" {{
  name                = "nsg-nodes-{i}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
"#
    );
    for r in 0..NSG_RULES {
        let _ = write!(
            s,
            r#"
  security_rule {{
    name                       = "rule-{r}"
    priority                   = {prio}
    direction                  = "{dir}"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "{port}"
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = "10.{b}.{r}.0/24"
  }}
"#,
            prio = 100 + r * 10,
            dir = if r % 2 == 0 { "Inbound" } else { "Outbound" },
            port = 8000 + r,
        );
    }
    let _ = write!(
        s,
        r#"}}

resource "azurerm_subnet_network_security_group_association" "nodes" {{
  subnet_id                 = azurerm_subnet.nodes.id
  network_security_group_id = azurerm_network_security_group.nodes.id
}}

resource "azurerm_route_table" "nodes" {{
  name                = "rt-nodes-{i}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name

  route {{
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = azurerm_firewall.fw.ip_configuration[0].private_ip_address
  }}
}}

resource "azurerm_subnet_route_table_association" "nodes" {{
  subnet_id      = azurerm_subnet.nodes.id
  route_table_id = azurerm_route_table.nodes.id
}}

resource "azurerm_firewall_policy" "fw" {{
  name                = "fwpol-{i}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  dns {{
    proxy_enabled = true
  }}
}}

resource "azurerm_firewall" "fw" {{
  name                = "fw-{i}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku_name            = "AZFW_VNet"
  sku_tier            = "Standard"
  firewall_policy_id  = azurerm_firewall_policy.fw.id
  ip_configuration {{
    name      = "ipconfig"
    subnet_id = azurerm_subnet.firewall.id
  }}
}}

resource "azurerm_firewall_policy_rule_collection_group" "aks" {{
  name               = "rcg-aks"
  firewall_policy_id = azurerm_firewall_policy.fw.id
  priority           = 200

  network_rule_collection {{
    name     = "aks-network"
    priority = 100
    action   = "Allow"
    rule {{
      name                  = "tunnel"
      protocols             = ["UDP", "TCP"]
      source_addresses      = ["10.{b}.4.0/22"]
      destination_addresses = ["AzureCloud.${{var.location}}"]
      destination_ports     = ["1194", "9000"]
    }}
    rule {{
      name              = "ntp"
      protocols         = ["UDP"]
      source_addresses  = ["10.{b}.4.0/22"]
      destination_fqdns = ["ntp.ubuntu.com"]
      destination_ports = ["123"]
    }}
  }}

  application_rule_collection {{
    name     = "aks-fqdn"
    priority = 200
    action   = "Allow"
    rule {{
      name                  = "aks-tag"
      source_addresses      = ["10.{b}.4.0/22"]
      destination_fqdn_tags = ["AzureKubernetesService"]
      protocols {{
        type = "Https"
        port = 443
      }}
    }}
  }}
{apps}}}

resource "azurerm_kubernetes_cluster" "aks" {{
  name                = "aks-{i}"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  dns_prefix          = "aks{i}"
  default_node_pool {{
    name           = "system"
    vm_size        = "Standard_D4s_v5"
    node_count     = 3
    vnet_subnet_id = azurerm_subnet.nodes.id
  }}
  identity {{
    type = "SystemAssigned"
  }}
  network_profile {{
    network_plugin = "azure"
    outbound_type  = "userDefinedRouting"
  }}
}}
"#
    );
    let vars =
        "variable \"location\" {\n  type    = string\n  default = \"westeurope\"\n}\n".to_string();
    (s, vars)
}

fn arm_stack(i: usize) -> (String, String) {
    let b = i % 250;
    let rules: Vec<String> = (0..NSG_RULES)
        .map(|r| {
            format!(
                r#"          {{
            "name": "rule-{r}",
            "properties": {{
              "priority": {prio}, "direction": "{dir}", "access": "Allow", "protocol": "Tcp",
              "sourcePortRange": "*", "destinationPortRange": "{port}",
              "sourceAddressPrefix": "VirtualNetwork", "destinationAddressPrefix": "10.{b}.{r}.0/24"
            }}
          }}"#,
                prio = 100 + r * 10,
                dir = if r % 2 == 0 { "Inbound" } else { "Outbound" },
                port = 8000 + r
            )
        })
        .collect();
    let template = format!(
        r#"{{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {{
    "location": {{ "type": "string", "defaultValue": "[resourceGroup().location]" }},
    "prefix": {{ "type": "string", "defaultValue": "s{i}" }}
  }},
  "variables": {{
    "vnetName": "[format('{{0}}-vnet', parameters('prefix'))]",
    "nodeSubnetId": "[resourceId('Microsoft.Network/virtualNetworks/subnets', variables('vnetName'), 'snet-nodes')]"
  }},
  "resources": [
    {{
      "type": "Microsoft.Network/networkSecurityGroups",
      "apiVersion": "2024-05-01",
      "name": "[format('{{0}}-nsg', parameters('prefix'))]",
      "location": "[parameters('location')]",
      "properties": {{
        "securityRules": [
{rules}
        ]
      }}
    }},
    {{
      "type": "Microsoft.Network/routeTables",
      "apiVersion": "2024-05-01",
      "name": "[format('{{0}}-rt', parameters('prefix'))]",
      "location": "[parameters('location')]",
      "properties": {{
        "routes": [
          {{ "name": "default", "properties": {{ "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.{b}.1.4" }} }}
        ]
      }}
    }},
    {{
      "type": "Microsoft.Network/virtualNetworks",
      "apiVersion": "2024-05-01",
      "name": "[variables('vnetName')]",
      "location": "[parameters('location')]",
      "properties": {{
        "addressSpace": {{ "addressPrefixes": ["10.{b}.0.0/16"] }},
        "subnets": [
          {{ "name": "AzureFirewallSubnet", "properties": {{ "addressPrefix": "10.{b}.1.0/26" }} }},
          {{ "name": "snet-nodes", "properties": {{
            "addressPrefix": "10.{b}.4.0/22",
            "networkSecurityGroup": {{ "id": "[resourceId('Microsoft.Network/networkSecurityGroups', format('{{0}}-nsg', parameters('prefix')))]" }},
            "routeTable": {{ "id": "[resourceId('Microsoft.Network/routeTables', format('{{0}}-rt', parameters('prefix')))]" }}
          }} }}
        ]
      }}
    }},
    {{
      "type": "Microsoft.Network/firewallPolicies",
      "apiVersion": "2024-05-01",
      "name": "[format('{{0}}-fwpol', parameters('prefix'))]",
      "location": "[parameters('location')]",
      "properties": {{ "dnsSettings": {{ "enableProxy": true }} }}
    }},
    {{
      "type": "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
      "apiVersion": "2024-05-01",
      "name": "[format('{{0}}-fwpol/aks', parameters('prefix'))]",
      "properties": {{
        "priority": 200,
        "ruleCollections": [
          {{
            "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
            "name": "aks-network", "priority": 100, "action": {{ "type": "Allow" }},
            "rules": [
              {{ "ruleType": "NetworkRule", "name": "tunnel", "ipProtocols": ["UDP", "TCP"],
                 "sourceAddresses": ["10.{b}.4.0/22"], "destinationAddresses": ["[format('AzureCloud.{{0}}', parameters('location'))]"],
                 "destinationPorts": ["1194", "9000"] }}
            ]
          }},
          {{
            "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
            "name": "aks-fqdn", "priority": 200, "action": {{ "type": "Allow" }},
            "rules": [
              {{ "ruleType": "ApplicationRule", "name": "aks-tag", "sourceAddresses": ["10.{b}.4.0/22"],
                 "fqdnTags": ["AzureKubernetesService"], "protocols": [{{ "protocolType": "Https", "port": 443 }}] }}
            ]
          }}{arm_apps}
        ]
      }}
    }},
    {{
      "type": "Microsoft.ContainerService/managedClusters",
      "apiVersion": "2025-10-01",
      "name": "[format('{{0}}-aks', parameters('prefix'))]",
      "location": "[parameters('location')]",
      "properties": {{
        "dnsPrefix": "[parameters('prefix')]",
        "agentPoolProfiles": [
          {{ "name": "system", "count": 3, "vmSize": "Standard_D4s_v5", "mode": "System", "vnetSubnetID": "[variables('nodeSubnetId')]" }}
        ],
        "networkProfile": {{ "networkPlugin": "azure", "outboundType": "userDefinedRouting" }}
      }}
    }}
  ]
}}
"#,
        rules = rules.join(",\n"),
        arm_apps = arm_app_rules(b)
    );
    let params = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "contentVersion": "1.0.0.0",
  "parameters": { "location": { "value": "westeurope" } }
}
"#
    .to_string();
    (template, params)
}

fn nsg_export(i: usize) -> String {
    let rules: Vec<String> = (0..NSG_RULES)
        .map(|r| {
            format!(
                r#"    {{
      "access": "Allow", "destinationAddressPrefix": "*", "destinationPortRange": "{port}",
      "direction": "Outbound", "name": "out-{r}", "priority": {prio}, "protocol": "Tcp",
      "provisioningState": "Succeeded", "sourceAddressPrefix": "VirtualNetwork", "sourcePortRange": "*",
      "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-{i}/providers/Microsoft.Network/networkSecurityGroups/nsg-export-{i}/securityRules/out-{r}"
    }}"#,
                port = if r == 0 { 443 } else { 9000 + r },
                prio = 100 + r
            )
        })
        .collect();
    format!(
        r#"{{
  "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-{i}/providers/Microsoft.Network/networkSecurityGroups/nsg-export-{i}",
  "location": "westeurope",
  "name": "nsg-export-{i}",
  "securityRules": [
{}
  ],
  "type": "Microsoft.Network/networkSecurityGroups"
}}
"#,
        rules.join(",\n")
    )
}

/// Write the corpus for `n` stacks (reused if already there). Returns (files, bytes).
fn generate(root: &Path, n: usize) -> (usize, u64) {
    let marker = root.join(".complete-v3");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(root);
        for i in 0..n {
            let dir = root.join(format!("stack-{i:04}"));
            let (tf, vars) = tf_stack(i);
            let (tmpl, params) = arm_stack(i);
            let files = [
                ("tf/main.tf", tf),
                ("tf/variables.tf", vars),
                ("arm/azuredeploy.json", tmpl),
                ("arm/azuredeploy.parameters.json", params),
                ("nsg/nsg-export.json", nsg_export(i)),
            ];
            for (rel, text) in files {
                let p = dir.join(rel);
                std::fs::create_dir_all(p.parent().expect("generated paths have a parent"))
                    .expect("create corpus dir");
                std::fs::write(&p, text).expect("write corpus file");
            }
        }
        std::fs::write(&marker, "").expect("write marker");
    }
    let mut files = 0;
    let mut bytes = 0;
    for e in ignore::WalkBuilder::new(root)
        .hidden(true)
        .build()
        .flatten()
    {
        if e.file_type().is_some_and(|t| t.is_file()) {
            files += 1;
            bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    (files, bytes)
}

/// The floor: walk and parse every file (hcl-edit, serde_json) in parallel, nothing else.
fn bare_parse(root: &Path) -> (usize, usize) {
    use rayon::prelude::*;
    let paths: Vec<PathBuf> = ignore::WalkBuilder::new(root)
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .collect();
    let ok = paths
        .par_iter()
        .map(|p| {
            let Ok(text) = std::fs::read_to_string(p) else {
                return 0;
            };
            let ok = if p.extension().is_some_and(|e| e == "tf") {
                hcl_edit::parser::parse_body(&text).is_ok()
            } else {
                serde_json::from_str::<serde_json::Value>(&text).is_ok()
            };
            usize::from(ok)
        })
        .sum();
    (ok, paths.len())
}

/// Run a command and return its wall time and peak RSS in KiB (from wait4).
fn run_child(cmd: &mut Command) -> Option<(Duration, i64, i32)> {
    let start = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, zero-initialised, and filled in by wait4 for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is a child of this process that has not been waited for.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r < 0 {
        return None;
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Some((start.elapsed(), usage.ru_maxrss, code))
}

/// Run the command line with timings on: wall time and its own peak
/// resident memory in KiB (`VmHWM`, which it prints itself; the `wait4`
/// figure of a child also counts this process's memory at spawn time).
fn run_cli(bin: &Path, root: &Path) -> Option<(Duration, i64)> {
    let start = Instant::now();
    let out = Command::new(bin)
        .arg(root)
        .arg("--format")
        .arg("json")
        .env("AKS_EGRESS_LINT_TIMINGS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .ok()?;
    let wall = start.elapsed();
    let text = String::from_utf8_lossy(&out.stderr);
    let kb = text
        .lines()
        .find_map(|l| l.strip_prefix("timing: peak rss "))
        .and_then(|v| v.trim_end_matches(" kB").trim().parse().ok())?;
    Some((wall, kb))
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.expect("at least one run"))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let checkov = args.iter().any(|a| a == "--checkov");
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = if smoke { vec![20] } else { vec![100, 1000] };
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    let bin = std::env::var_os("AKS_EGRESS_LINT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let release = target.join("release").join("aks-egress-lint");
            if smoke && !release.exists() {
                target.join("debug").join("aks-egress-lint")
            } else {
                release
            }
        });
    let runs = if smoke { 1 } else { 3 };
    println!(
        "stacks  files      MB   bare-parse   lint(lib)  ratio   files/s     MB/s   cli-wall  peak-RSS"
    );
    let mut lint_times = vec![];
    for &n in &sizes {
        let root = target.join("bench-corpus").join(n.to_string());
        let (files, bytes) = generate(&root, n);
        let mb = bytes as f64 / 1e6;
        let (bare, (parsed, seen)) = best_of(runs, || bare_parse(&root));
        assert_eq!(parsed, seen, "every generated file must parse");
        let opts = aks_egress_lint::Options {
            paths: vec![root.clone()],
            catalog: "current".into(),
            ..Default::default()
        };
        let (lint, report) = best_of(runs, || aks_egress_lint::lint(&opts));
        let findings = report.map(|(r, _)| r.findings.len()).unwrap_or(usize::MAX);
        let cli = if bin.exists() {
            run_cli(&bin, &root)
        } else {
            None
        };
        let (cli_wall, rss) = match cli {
            Some((d, rss)) => (
                format!("{:>8.3}s", d.as_secs_f64()),
                format!("{:>6.1} MB", rss as f64 / 1024.0),
            ),
            None => ("       -".into(), "      -".into()),
        };
        println!(
            "{n:>6} {files:>6} {mb:>7.1} {:>11.3}s {:>10.3}s {:>5.2}x {:>9.0} {:>8.1} {cli_wall} {rss}   ({findings} findings)",
            bare.as_secs_f64(),
            lint.as_secs_f64(),
            lint.as_secs_f64() / bare.as_secs_f64().max(1e-9),
            files as f64 / lint.as_secs_f64(),
            mb / lint.as_secs_f64(),
        );
        lint_times.push((n, lint));
        if checkov {
            match run_child(
                Command::new("checkov")
                    .arg("-d")
                    .arg(&root)
                    .arg("--quiet")
                    .arg("--compact"),
            ) {
                Some((d, rss, _)) => println!(
                    "        checkov -d: {:.3}s, peak at most {:.1} MB (wait4 counts this process too), {:.1}x the linter's wall time",
                    d.as_secs_f64(),
                    rss as f64 / 1024.0,
                    d.as_secs_f64() / lint.as_secs_f64().max(1e-9)
                ),
                None => println!("        checkov not installed (pip install checkov)"),
            }
        }
    }
    if lint_times.len() >= 2 {
        let (n0, t0) = lint_times[0];
        let (n1, t1) = lint_times[lint_times.len() - 1];
        println!(
            "scaling: {}x the stacks took {:.1}x the time",
            n1 / n0.max(1),
            t1.as_secs_f64() / t0.as_secs_f64().max(1e-9)
        );
    }
    if !bin.exists() {
        println!("(build `cargo build --release` for the CLI wall time and peak RSS columns)");
    }
}

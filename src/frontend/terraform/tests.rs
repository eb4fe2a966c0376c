//! Table-style tests on in-memory modules, with exact positions.

use super::load;
use crate::discover::TfModule;
use crate::finding::Code;
use crate::frontend::FrontendOptions;
use crate::model::*;
use crate::source::{Sources, Span};
use std::path::PathBuf;

/// Load in-memory files; names with a `/` go to that folder.
fn model_of(files: &[(&str, &str)]) -> (Sources, Model) {
    let mut sources = Sources::new();
    let mut mods: Vec<TfModule> = vec![];
    let mut plans = vec![];
    for (name, text) in files {
        let path = PathBuf::from("mem").join(name);
        let dir = path.parent().map(PathBuf::from).unwrap_or_default();
        let id = sources.add_named(&path.to_string_lossy(), *text);
        if name.ends_with(".json") && !name.ends_with(".tfvars.json") {
            plans.push(id);
            continue;
        }
        let m = match mods.iter_mut().find(|m| m.dir == dir) {
            Some(m) => m,
            None => {
                mods.push(TfModule {
                    dir: dir.clone(),
                    files: vec![],
                    tfvars: vec![],
                });
                mods.last_mut().unwrap()
            }
        };
        if name.ends_with(".tf") {
            m.files.push(id);
        } else {
            m.tfvars.push(id);
        }
    }
    let m = load(&sources, &mods, &plans, &FrontendOptions::default());
    (sources, m)
}

fn pos(s: &Sources, span: &Span) -> (usize, usize, String) {
    let (l, c, _, _) = s.span_lines(span);
    (l, c, s.slice(span).to_string())
}

fn known<T: Clone + std::fmt::Debug>(a: &Attr<T>) -> T {
    match &a.value {
        Value::Known(v) => v.clone(),
        other => panic!("not known: {other:?}"),
    }
}

#[test]
fn optional_object_attributes_are_null_or_their_default() {
    let (_, m) = model_of(&[(
        "main.tf",
        r#"
variable "fw" {
  type = object({
    name        = string
    dns_servers = optional(list(string))
    proxy       = optional(bool, true)
  })
  default = { name = "fw" }
}
resource "azurerm_firewall" "fw" {
  name              = var.fw.name
  dns_servers       = var.fw.dns_servers
  dns_proxy_enabled = var.fw.proxy
}
"#,
    )]);
    let fw = &m.firewalls[0];
    assert!(known(fw.dns_proxy.as_ref().unwrap()));
    assert!(m.findings.is_empty());
}

#[test]
fn terraform_0_11_interpolation() {
    let (s, m) = model_of(&[(
        "main.tf",
        r#"
variable "prefixes" { default = "10.0.1.0/24,10.0.2.0/24" }
variable "names" {
  type    = "list"
  default = ["a", "b"]
}
variable "rt" {
  type = "map"
  default = { hop = "10.0.0.4" }
}
resource "azurerm_subnet" "s" {
  count                = "${length(var.names)}"
  name                 = "${element(var.names, count.index)}"
  virtual_network_name = "vnet"
  address_prefix       = "${element(split(",", var.prefixes), count.index)}"
}
resource "azurerm_route" "r" {
  name                   = "default"
  route_table_name       = "rt"
  address_prefix         = "0.0.0.0/0"
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = "${lookup(var.rt, "hop")}"
}
resource "azurerm_subnet_route_table_association" "a" {
  subnet_id      = "${azurerm_subnet.s.*.id[1]}"
  route_table_id = "${azurerm_subnet.s.0.id}"
}
"#,
    )]);
    let prefixes: Vec<Vec<String>> = m
        .subnets
        .iter()
        .map(|x| known(&x.address_prefixes))
        .collect();
    assert_eq!(
        prefixes,
        vec![
            vec!["10.0.1.0/24".to_string()],
            vec!["10.0.2.0/24".to_string()]
        ]
    );
    assert_eq!(m.subnets[1].decl.label, "azurerm_subnet.s[1]");
    let hop = m.routes[0].next_hop_ip.as_ref().unwrap();
    assert_eq!(known(hop), "10.0.0.4");
    assert_eq!(
        pos(&s, &hop.span),
        (22, 28, "\"${lookup(var.rt, \"hop\")}\"".into())
    );
    assert_eq!(
        known(&m.associations[0].subnet),
        ResKey::tf("", "azurerm_subnet.s[1]")
    );
    assert_eq!(
        known(&m.associations[0].target),
        ResKey::tf("", "azurerm_subnet.s[0]")
    );
}

#[test]
fn unknown_count_marks_the_resource_conditional() {
    let (_, m) = model_of(&[(
        "main.tf",
        r#"
variable "enable_fw" { type = bool }
resource "azurerm_firewall" "fw" {
  count = var.enable_fw ? 1 : 0
  name  = "fw"
}
"#,
    )]);
    let c = m.firewalls[0].decl.condition.as_ref().expect("conditional");
    assert!(c.reason.contains("enable_fw"), "{}", c.reason);
    assert_eq!(
        c.hint.as_deref(),
        Some("--var enable_fw=... or a tfvars file")
    );
}

#[test]
fn data_sources_link_by_arm_identity() {
    let (_, m) = model_of(&[(
        "main.tf",
        r#"
data "azurerm_subnet" "nodes" {
  name                 = "snet-aks"
  virtual_network_name = "vnet-spoke"
  resource_group_name  = "rg"
}
data "azurerm_firewall" "hub" {
  name                = "fw-hub"
  resource_group_name = "rg-hub"
}
resource "azurerm_route_table" "rt" {
  name = "rt"
  route {
    name                   = "fw"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = data.azurerm_firewall.hub.ip_configuration[0].private_ip_address
  }
}
resource "azurerm_subnet_route_table_association" "a" {
  subnet_id      = data.azurerm_subnet.nodes.id
  route_table_id = azurerm_route_table.rt.id
}
"#,
    )]);
    assert_eq!(
        known(&m.associations[0].subnet),
        ResKey::arm(
            "Microsoft.Network/virtualNetworks/subnets",
            &["vnet-spoke", "snet-aks"]
        )
    );
    match &m.route_tables[0].routes[0]
        .next_hop_ip
        .as_ref()
        .unwrap()
        .value
    {
        Value::Ref(r) => {
            assert_eq!(
                r.target,
                ResKey::arm("Microsoft.Network/azureFirewalls", &["fw-hub"])
            );
            assert_eq!(r.attr, "private_ip");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_names_still_link_parents() {
    let (_, m) = model_of(&[(
        "main.tf",
        r#"
variable "env" {}
resource "azurerm_network_security_group" "nsg" {
  name = "nsg-${var.env}"
}
resource "azurerm_network_security_rule" "r" {
  name                        = "r"
  network_security_group_name = azurerm_network_security_group.nsg.name
  priority                    = 100
  direction                   = "Outbound"
  access                      = "Allow"
  protocol                    = "*"
  source_port_range           = "*"
  destination_port_ranges     = ["443", "9000"]
  destination_port_range      = "1194"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
}
"#,
    )]);
    let r = &m.nsg_rules[0];
    assert_eq!(
        known(r.nsg.as_ref().unwrap()),
        ResKey::tf("", "azurerm_network_security_group.nsg")
    );
    // Singular and plural forms merged, singular first.
    assert_eq!(
        known(&r.destination_ports),
        vec!["1194".to_string(), "443".to_string(), "9000".to_string()]
    );
    assert!(m.nsgs[0].decl.name.is_none());
}

#[test]
fn module_source_used_elsewhere_is_not_a_root() {
    let (_, m) = model_of(&[
        (
            "main.tf",
            r#"
module "a" {
  source = "./mod"
  cidr   = "10.5.0.0/24"
}
"#,
        ),
        (
            "mod/main.tf",
            r#"
variable "cidr" {}
resource "azurerm_subnet" "s" {
  name             = "s"
  address_prefixes = [var.cidr]
}
"#,
        ),
    ]);
    assert_eq!(m.subnets.len(), 1);
    assert_eq!(
        known(&m.subnets[0].address_prefixes),
        vec!["10.5.0.0/24".to_string()]
    );
    assert!(m.findings.is_empty());
}

#[test]
fn parse_error_position() {
    let (s, m) = model_of(&[("main.tf", "resource \"x\" \"y\" {\n  a = [1,\n}\n")]);
    assert_eq!(m.findings.len(), 1);
    assert_eq!(m.findings[0].code, Code::AEL000);
    let (l, c, _) = pos(&s, &m.findings[0].primary().span);
    assert_eq!((l, c), (3, 1));
}

#[test]
fn nested_blocks_written_as_attributes() {
    let (s, m) = model_of(&[(
        "main.tf",
        r#"
locals {
  rules = [
    { name = "https", priority = 100, direction = "Outbound", access = "Allow", protocol = "Tcp",
      source_port_range = "*", destination_port_range = "443", source_address_prefix = "*",
      destination_address_prefix = "AzureCloud" },
  ]
}
resource "azurerm_network_security_group" "nsg" {
  name          = "nsg"
  security_rule = local.rules
}
resource "azurerm_virtual_network" "v" {
  name          = "v"
  address_space = ["10.0.0.0/16"]
  subnet        = []
}
"#,
    )]);
    let r = &m.nsgs[0].rules[0];
    assert_eq!(known(&r.priority), 100);
    assert_eq!(
        known(&r.destination_addresses),
        vec!["AzureCloud".to_string()]
    );
    assert_eq!(pos(&s, &r.priority.span), (11, 19, "local.rules".into()));
    assert_eq!(
        r.decl.label,
        "azurerm_network_security_group.nsg rule `https`"
    );
    assert!(m.subnets.is_empty());
}

#[test]
fn plan_over_a_configuration_with_modules() {
    let plan = r#"{"format_version":"1.2","terraform_version":"1.9.0",
"planned_values":{"root_module":{"resources":[],"child_modules":[{"address":"module.net[\"a\"]","resources":[
 {"address":"module.net[\"a\"].azurerm_subnet.s","mode":"managed","type":"azurerm_subnet","name":"s",
  "values":{"name":"snet-a","virtual_network_name":"vnet","address_prefixes":["10.9.0.0/24"]}}]}]}},
"variables":{"nets":{"value":{"a":"10.9.0.0/24"}}},
"configuration":{"root_module":{"module_calls":{"net":{"source":"./mod","module":{"resources":[]}}}}}}"#;
    let (s, m) = model_of(&[
        (
            "main.tf",
            "variable \"nets\" {}\nmodule \"net\" {\n  source   = \"./mod\"\n  for_each = var.nets\n  cidr     = each.value\n}\n",
        ),
        (
            "mod/main.tf",
            "variable \"cidr\" {}\nresource \"azurerm_subnet\" \"s\" {\n  name             = \"snet\"\n  address_prefixes = [var.cidr]\n}\n",
        ),
        ("plan.json", plan),
    ]);
    // Matched by its module calls: one subnet, values from the plan, spans
    // in the module's .tf.
    assert_eq!(m.subnets.len(), 1, "{:?}", m.subnets);
    let sub = &m.subnets[0];
    assert_eq!(sub.decl.label, "module.net[\"a\"].azurerm_subnet.s");
    assert_eq!(
        sub.decl.keys[0],
        ResKey::tf("module.net[\"a\"]", "azurerm_subnet.s")
    );
    assert_eq!(
        known(&sub.address_prefixes),
        vec!["10.9.0.0/24".to_string()]
    );
    assert!(s.get(sub.decl.span.file).path.ends_with("mod/main.tf"));
    assert_eq!(
        pos(&s, &sub.address_prefixes.span),
        (4, 22, "[var.cidr]".into())
    );
    // The name comes from the plan, the span from the .tf.
    assert_eq!(sub.decl.name.as_ref().unwrap().value, "snet-a");
    assert_eq!(pos(&s, &sub.decl.name.as_ref().unwrap().span).2, "\"snet\"");
}

#[test]
fn plan_references() {
    use super::plan::reference_value;
    use super::value::V;
    match reference_value("", "azurerm_subnet.nodes[\"a\"].id", None, 0, "") {
        V::Ref { key, path, .. } => {
            assert_eq!(key, ResKey::tf("", "azurerm_subnet.nodes[\"a\"]"));
            assert_eq!(path, "id");
        }
        other => panic!("{other:?}"),
    }
    match reference_value(
        "module.m",
        "azurerm_firewall.f.ip_configuration[0].private_ip_address",
        None,
        0,
        "",
    ) {
        V::Ref { key, path, .. } => {
            assert_eq!(key, ResKey::tf("module.m", "azurerm_firewall.f"));
            assert_eq!(path, "ip_configuration.private_ip_address");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        reference_value("", "var.x", None, 0, ""),
        V::Unknown(_)
    ));
}

#[test]
fn command_line_location_stands_in_for_an_unknown_one() {
    let mut sources = Sources::new();
    let id = sources.add_named(
        "mem/main.tf",
        "variable \"loc\" {}\nresource \"azurerm_kubernetes_cluster\" \"k\" {\n  location = var.loc\n}\n",
    );
    let mods = vec![TfModule {
        dir: PathBuf::from("mem"),
        files: vec![id],
        tfvars: vec![],
    }];
    let opts = FrontendOptions {
        location: Some("westeurope".into()),
        ..FrontendOptions::default()
    };
    let m = load(&sources, &mods, &[], &opts);
    let loc = m.clusters[0].location.as_ref().unwrap();
    assert_eq!(known(loc), "westeurope");
    assert_eq!(pos(&sources, &loc.span), (3, 14, "var.loc".into()));
}

#[test]
fn terraform_0_11_bare_local_module_source() {
    let (_, m) = model_of(&[
        ("main.tf", "module \"net\" {\n  source = \"net\"\n}\n"),
        (
            "net/main.tf",
            "resource \"azurerm_subnet\" \"s\" {\n  name = \"s\"\n  address_prefixes = [\"10.0.0.0/24\"]\n}\n",
        ),
    ]);
    assert_eq!(m.subnets.len(), 1);
    assert_eq!(m.subnets[0].decl.label, "module.net.azurerm_subnet.s");
    assert!(m.findings.is_empty(), "{:?}", m.findings);
}

#[test]
fn nested_dynamic_blocks_and_remote_state() {
    let (s, m) = model_of(&[(
        "main.tf",
        r#"
data "terraform_remote_state" "hub" {
  backend = "azurerm"
}
variable "collections" {
  default = {
    aks = { priority = 100, rules = { mcr = ["mcr.microsoft.com"], arm = ["management.azure.com"] } }
    os  = { priority = 200, rules = { ubuntu = ["security.ubuntu.com"] } }
  }
}
resource "azurerm_firewall_policy_rule_collection_group" "g" {
  name               = "g"
  priority           = 100
  firewall_policy_id = data.terraform_remote_state.hub.outputs.policy_id
  dynamic "application_rule_collection" {
    for_each = var.collections
    content {
      name     = application_rule_collection.key
      priority = application_rule_collection.value.priority
      action   = "Allow"
      dynamic "rule" {
        for_each = application_rule_collection.value.rules
        content {
          name              = rule.key
          destination_fqdns = rule.value
          protocols {
            type = "Https"
            port = 443
          }
        }
      }
    }
  }
}
"#,
    )]);
    let g = &m.rule_collection_groups[0];
    match &g.policy.value {
        Value::Unknown(u) => {
            assert!(u.reason.contains("terraform_remote_state"), "{}", u.reason);
            assert!(u.hint.is_some());
        }
        other => panic!("{other:?}"),
    }
    let rows: Vec<(String, u32, Vec<Vec<String>>)> = g
        .collections
        .iter()
        .map(|c| {
            (
                c.decl.name.as_ref().unwrap().value.clone(),
                known(&c.priority),
                c.rules
                    .iter()
                    .map(|r| known(r.target_fqdns.as_ref().unwrap()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "aks".to_string(),
                100,
                vec![
                    vec!["management.azure.com".to_string()],
                    vec!["mcr.microsoft.com".to_string()]
                ]
            ),
            (
                "os".to_string(),
                200,
                vec![vec!["security.ubuntu.com".to_string()]]
            ),
        ]
    );
    let r = &g.collections[0].rules[1];
    assert_eq!(
        r.decl.label,
        "azurerm_firewall_policy_rule_collection_group.g application rule collection `aks` rule `mcr`"
    );
    assert_eq!(
        pos(&s, &r.target_fqdns.as_ref().unwrap().span),
        (25, 31, "rule.value".into())
    );
}

#[test]
fn firewall_dns_proxy_from_servers_or_flag() {
    let (_, m) = model_of(&[(
        "main.tf",
        r#"
variable "servers" {}
resource "azurerm_firewall" "a" {
  name              = "a"
  dns_proxy_enabled = false
  dns_servers       = ["10.0.0.4"]
}
resource "azurerm_firewall" "b" {
  name              = "b"
  dns_proxy_enabled = true
}
resource "azurerm_firewall" "c" {
  name        = "c"
  dns_servers = []
}
resource "azurerm_firewall" "d" {
  name        = "d"
  dns_servers = var.servers
}
resource "azurerm_firewall" "e" {
  name = "e"
}
resource "azurerm_firewall" "f" {
  name              = "f"
  dns_proxy_enabled = false
  dns_servers       = var.servers
}
"#,
    )]);
    let got: Vec<Option<Value<bool>>> = m
        .firewalls
        .iter()
        .map(|f| f.dns_proxy.as_ref().map(|d| d.value.clone()))
        .collect();
    assert_eq!(got[0], Some(Value::Known(true)));
    assert_eq!(got[1], Some(Value::Known(true)));
    assert_eq!(got[2], Some(Value::Known(false)));
    assert!(matches!(got[3], Some(Value::Unknown(_))));
    assert_eq!(got[4], None);
    assert!(matches!(got[5], Some(Value::Unknown(_))));
}

#[test]
fn template_directives() {
    let (_, m) = model_of(&[(
        "main.tf",
        r#"
variable "prod" { default = true }
variable "unknown" {}
locals {
  names = ["a", "b"]
}
resource "azurerm_route_table" "a" {
  name = "rt-%{ if var.prod }prod%{ else }dev%{ endif }-%{ for n in local.names }${n}%{ endfor }"
}
resource "azurerm_route_table" "b" {
  name = "rt-%{ if var.unknown }x%{ endif }"
}
"#,
    )]);
    assert_eq!(
        m.route_tables[0].decl.name.as_ref().unwrap().value,
        "rt-prod-ab"
    );
    assert!(m.route_tables[1].decl.name.is_none());
}

#[test]
fn plan_nested_blocks_pair_with_written_blocks_by_name() {
    let plan = r#"{"format_version":"1.2","terraform_version":"1.9.0",
"planned_values":{"root_module":{"resources":[
 {"address":"azurerm_network_security_group.n","mode":"managed","type":"azurerm_network_security_group","name":"n",
  "values":{"name":"nsg","security_rule":[
   {"name":"a-deny","priority":4000,"direction":"Outbound","access":"Deny","protocol":"*","source_port_range":"*",
    "destination_port_range":"*","destination_port_ranges":[],"source_address_prefix":"*","source_address_prefixes":[],
    "destination_address_prefix":"Internet","destination_address_prefixes":[]},
   {"name":"z-allow","priority":100,"direction":"Outbound","access":"Allow","protocol":"Tcp","source_port_range":"*",
    "destination_port_range":"","destination_port_ranges":["443","9000"],"source_address_prefix":"*","source_address_prefixes":[],
    "destination_address_prefix":"AzureCloud","destination_address_prefixes":[]}]}}]}},
"configuration":{"root_module":{"resources":[{"address":"azurerm_network_security_group.n","mode":"managed","type":"azurerm_network_security_group","name":"n","expressions":{}}]}}}"#;
    let tf = r#"
variable "ports" {}
resource "azurerm_network_security_group" "n" {
  name = "nsg"
  security_rule {
    name                       = "z-allow"
    priority                   = 100
    direction                  = "Outbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_ranges    = var.ports
    source_address_prefix      = "*"
    destination_address_prefix = "AzureCloud"
  }
  security_rule {
    name                       = "a-deny"
    priority                   = 4000
    direction                  = "Outbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "Internet"
  }
}
"#;
    let (s, m) = model_of(&[("main.tf", tf), ("plan.json", plan)]);
    assert_eq!(m.nsgs.len(), 1);
    let rules = &m.nsgs[0].rules;
    let allow = rules.iter().find(|r| known(&r.priority) == 100).unwrap();
    assert_eq!(
        known(&allow.destination_ports),
        vec!["443".to_string(), "9000".to_string()]
    );
    assert_eq!(
        pos(&s, &allow.destination_ports.span),
        (12, 34, "var.ports".into())
    );
    assert_eq!(pos(&s, &allow.decl.span).0, 5);
    let deny = rules.iter().find(|r| known(&r.priority) == 4000).unwrap();
    assert_eq!(pos(&s, &deny.decl.span).0, 16);
}

#[test]
fn cluster_extensions_are_a_feature() {
    let (_, m) = model_of(&[(
        "main.tf",
        r#"
resource "azurerm_kubernetes_cluster" "k" {
  name = "k"
}
resource "azurerm_kubernetes_cluster_extension" "flux" {
  name           = "flux"
  cluster_id     = azurerm_kubernetes_cluster.k.id
  extension_type = "microsoft.flux"
}
"#,
    )]);
    let f: Vec<&str> = m.clusters[0]
        .features
        .iter()
        .map(|f| f.0.as_str())
        .collect();
    assert_eq!(f, ["extensions"]);
}

#[test]
fn separate_configurations_keep_their_keys_apart() {
    let tf = |cidr: &str| {
        format!(
            "resource \"azurerm_subnet\" \"internal\" {{\n  name = \"internal\"\n  address_prefixes = [\"{cidr}\"]\n}}\n\
             resource \"azurerm_subnet_route_table_association\" \"a\" {{\n  subnet_id = azurerm_subnet.internal.id\n  route_table_id = \"/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/routeTables/rt\"\n}}\n"
        )
    };
    let (a, b) = (tf("10.1.0.0/24"), tf("10.2.0.0/24"));
    let (_, m) = model_of(&[("a/main.tf", &a), ("b/main.tf", &b)]);
    let keys: Vec<&ResKey> = m.subnets.iter().map(|s| &s.decl.keys[0]).collect();
    assert_eq!(
        keys,
        [
            &ResKey::tf("mem/a", "azurerm_subnet.internal"),
            &ResKey::tf("mem/b", "azurerm_subnet.internal")
        ]
    );
    // Labels stay Terraform addresses; links stay inside their configuration.
    assert_eq!(m.subnets[1].decl.label, "azurerm_subnet.internal");
    assert_eq!(known(&m.associations[1].subnet), *keys[1]);
}

#[test]
fn duplicate_object_keys_are_accepted_as_terraform_does() {
    let (s, m) = model_of(&[(
        "main.tf",
        r#"
locals {
  cfg = {
    subnet_prefix = "10.0.0.0/24"
    other         = 1
    subnet_prefix = "10.0.0.0/24"
  }
}
resource "azurerm_subnet" "s" {
  name             = "s"
  address_prefixes = [local.cfg.subnet_prefix]
}
"#,
    )]);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    assert_eq!(
        known(&m.subnets[0].address_prefixes),
        vec!["10.0.0.0/24".to_string()]
    );
    assert_eq!(
        pos(&s, &m.subnets[0].address_prefixes.span),
        (11, 22, "[local.cfg.subnet_prefix]".into())
    );
}

#[test]
fn try_catches_failures_inside_indexes_and_conditions() {
    let (_, m) = model_of(&[(
        "main.tf",
        r#"
locals {
  regions = { r1 = "westeurope" }
  s       = { name = "x" }
  a       = try(local.regions[local.s.region], null)
  b       = try(local.s.missing ? "x" : "y", "z")
}
resource "azurerm_kubernetes_cluster" "k" {
  name     = coalesce(local.b, "n")
  location = coalesce(local.a, "northeurope")
}
"#,
    )]);
    let c = &m.clusters[0];
    assert_eq!(known(c.location.as_ref().unwrap()), "northeurope");
    assert_eq!(c.decl.name.as_ref().unwrap().value, "z");
}

#[test]
fn references_to_a_conditional_instance_link() {
    let (_, m) = model_of(&[(
        "main.tf",
        r#"
variable "deploy_firewall" { type = bool }
resource "azurerm_firewall" "fw" {
  count = var.deploy_firewall ? 1 : 0
  name  = "fw"
}
resource "azurerm_route" "r" {
  name                   = "default"
  route_table_name       = "rt"
  address_prefix         = "0.0.0.0/0"
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = azurerm_firewall.fw[0].ip_configuration[0].private_ip_address
}
"#,
    )]);
    assert!(m.firewalls[0].decl.condition.is_some());
    match &m.routes[0].next_hop_ip.as_ref().unwrap().value {
        Value::Ref(r) => {
            assert_eq!(r.target, ResKey::tf("", "azurerm_firewall.fw[0]"));
            assert_eq!(r.attr, "private_ip");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tfvars_json_beats_tfvars_and_auto_files_go_in_lexical_order() {
    let tf = r#"
variable "a" {}
variable "b" {}
variable "c" { default = "default" }
resource "azurerm_route_table" "t" { name = "${var.a}-${var.b}-${var.c}" }
"#;
    let (_, m) = model_of(&[
        ("main.tf", tf),
        ("terraform.tfvars", "a = \"tfvars\"\nb = \"tfvars\"\n"),
        ("terraform.tfvars.json", r#"{"a": "json", "b": "json"}"#),
        ("z.auto.tfvars", "b = \"z-auto\"\n"),
        ("m.auto.tfvars.json", r#"{"b": "m-auto"}"#),
        ("other.tfvars", "c = \"not-loaded\"\n"),
    ]);
    assert_eq!(
        m.route_tables[0].decl.name.as_ref().unwrap().value,
        "json-z-auto-default"
    );
}

#[test]
fn broken_variable_files_are_parse_errors_at_their_position() {
    let (s, m) = model_of(&[
        ("main.tf", "variable \"a\" {}\n"),
        ("terraform.tfvars", "a = [\n"),
        ("x.auto.tfvars.json", "{\"a\": 1,\n \"b\" 2}"),
    ]);
    let mut got: Vec<(String, usize, usize)> = m
        .findings
        .iter()
        .map(|f| {
            let (l, c, _) = pos(&s, &f.primary().span);
            (s.get(f.primary().span.file).display.clone(), l, c)
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("mem/terraform.tfvars".to_string(), 1, 6),
            ("mem/x.auto.tfvars.json".to_string(), 2, 6),
        ]
    );
    assert!(m.findings.iter().all(|f| f.code == Code::AEL000));
}

#[test]
fn inline_subnets_selected_by_name() {
    let (_, m) = model_of(&[(
        "main.tf",
        r#"
resource "azurerm_virtual_network" "v" {
  name          = "vnet"
  address_space = ["10.0.0.0/16"]
  subnet {
    name           = "other"
    address_prefix = "10.0.1.0/24"
  }
  subnet {
    name           = "aks"
    address_prefix = "10.0.2.0/24"
  }
}
locals {
  by_name = { for s in azurerm_virtual_network.v.subnet : s.name => s.id }
}
resource "azurerm_kubernetes_cluster" "k" {
  name = "k"
  default_node_pool {
    name           = "a"
    vnet_subnet_id = [for s in azurerm_virtual_network.v.subnet : s.id if s.name == "aks"][0]
  }
  default_node_pool {
    name           = "b"
    vnet_subnet_id = local.by_name["aks"]
  }
  default_node_pool {
    name           = "c"
    vnet_subnet_id = tolist(azurerm_virtual_network.v.subnet)[1].id
  }
}
"#,
    )]);
    let want = ResKey(format!(
        "{}.subnet[\"aks\"]",
        ResKey::tf("", "azurerm_virtual_network.v").0
    ));
    for p in &m.clusters[0].node_pools {
        assert_eq!(known(p.subnet.as_ref().unwrap()), want, "{}", p.decl.label);
    }
    assert!(m.subnets[1].decl.keys.contains(&want));
}

/// Folders that call no other folder are evaluated on their own; folders
/// linked by a module call are evaluated together. A scan mixing both gives
/// each resource once, in discovery order, with the caller's inputs.
#[test]
fn lone_and_linked_folders_in_one_scan() {
    let subnet = |name: &str, cidr: &str| {
        format!(
            "resource \"azurerm_subnet\" \"{name}\" {{\n  name = \"{name}\"\n  address_prefixes = [\"{cidr}\"]\n}}\n"
        )
    };
    let (a, c) = (subnet("a", "10.1.0.0/24"), subnet("c", "10.3.0.0/24"));
    let caller = "module \"net\" {\n  source = \"../shared\"\n  cidr   = \"10.2.0.0/24\"\n}\n";
    let shared = "variable \"cidr\" {}\nresource \"azurerm_subnet\" \"s\" {\n  name = \"s\"\n  address_prefixes = [var.cidr]\n}\n";
    let (_, m) = model_of(&[
        ("a/main.tf", &a),
        ("b/main.tf", caller),
        ("c/main.tf", &c),
        ("shared/main.tf", shared),
    ]);
    let got: Vec<(String, Vec<String>)> = m
        .subnets
        .iter()
        .map(|s| (s.decl.keys[0].0.clone(), known(&s.address_prefixes)))
        .collect();
    let want: Vec<(String, Vec<String>)> = vec![
        (
            ResKey::tf("mem/a", "azurerm_subnet.a").0,
            vec!["10.1.0.0/24".into()],
        ),
        (
            ResKey::tf(
                &super::eval::key_module("mem/b", "module.net"),
                "azurerm_subnet.s",
            )
            .0,
            vec!["10.2.0.0/24".into()],
        ),
        (
            ResKey::tf("mem/c", "azurerm_subnet.c").0,
            vec!["10.3.0.0/24".into()],
        ),
    ];
    assert_eq!(got, want);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
}

#[test]
fn source_literals_are_found_in_text() {
    let text = "module \"x\" {\n  source   =   \"../m\"\n}\nsource_addresses = [\"a\"]\nresource_source = \"no\"\n  source=\"./n\"\n";
    let got: Vec<&str> = super::source_literals(text).collect();
    assert_eq!(got, ["../m", "./n"]);
}

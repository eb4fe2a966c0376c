//! The network model: plain types for what decides AKS egress, whichever
//! format they were written in. Frontends fill a [`Model`] (one per file or
//! module, merged afterwards); `link` resolves references; `eval` and `checks`
//! read it. Nothing here knows JSON or HCL.
//!
//! Values that frontends cannot resolve are [`Value::Unknown`] with a reason,
//! never guessed. Values that are another resource's attribute (a firewall's
//! private IP, a subnet's prefixes) are [`Value::Ref`] for the linker.
//!
//! Strings are kept as written (protocols `Tcp`/`TCP`, prefixes, tags, port
//! ranges such as `"1000-2000"`); `eval` normalises them, so every frontend
//! stays a thin reader.

use crate::finding::Finding;
use crate::source::{Span, Spanned};

/// Identity of a resource across files and formats.
///
/// Two forms, both lowercase:
/// - `arm:<type>/<name>[/<child type>/<child name>]...`, e.g.
///   `arm:microsoft.network/virtualnetworks/hub/subnets/azurefirewallsubnet`
///   (built from an ARM id, `resourceId()`, or a Terraform resource whose
///   Azure names are known). Subscription and resource group are dropped.
/// - `tf:<module path>:<address>`, e.g. `tf::azurerm_subnet.nodes["a"]` or
///   `tf:module.net:azurerm_firewall.hub`.
///
/// A resource may carry several keys (its Terraform address and its ARM
/// identity); a reference carries one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResKey(pub String);

impl ResKey {
    /// Key from an ARM resource type and its name segments:
    /// `arm("Microsoft.Network/virtualNetworks/subnets", &["hub", "nodes"])`.
    pub fn arm(full_type: &str, names: &[&str]) -> ResKey {
        let mut parts = full_type.split('/');
        let ns = parts.next().unwrap_or("");
        let types: Vec<&str> = parts.collect();
        let mut s = format!("arm:{}", ns.to_ascii_lowercase());
        for (i, t) in types.iter().enumerate() {
            s.push('/');
            s.push_str(&t.to_ascii_lowercase());
            s.push('/');
            s.push_str(&names.get(i).copied().unwrap_or("").to_ascii_lowercase());
        }
        ResKey(s)
    }

    /// Key from a full ARM resource id
    /// (`/subscriptions/../resourceGroups/../providers/Microsoft.Network/virtualNetworks/v/subnets/s`).
    /// `None` when the string is not such an id.
    pub fn from_arm_id(id: &str) -> Option<ResKey> {
        let lower = id.to_ascii_lowercase();
        let idx = lower.rfind("/providers/")?;
        let rest = &id[idx + "/providers/".len()..];
        let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        if segs.len() < 3 || segs.len().is_multiple_of(2) {
            return None;
        }
        let ns = segs[0];
        let mut types = vec![];
        let mut names = vec![];
        for pair in segs[1..].chunks(2) {
            types.push(pair[0]);
            names.push(pair[1]);
        }
        Some(ResKey::arm(&format!("{}/{}", ns, types.join("/")), &names))
    }

    /// Key of a Terraform resource address inside a module path
    /// (`""` for the root module, `"module.net"`, `"module.a.module.b"`).
    pub fn tf(module: &str, address: &str) -> ResKey {
        ResKey(format!("tf:{module}:{address}"))
    }
}

impl std::fmt::Display for ResKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a value is not known.
#[derive(Clone, Debug, PartialEq)]
pub struct Unknown {
    /// One clause, e.g. "variable `fw_ip` has no default and no tfvars value".
    pub reason: String,
    /// What would supply it, e.g. "--var fw_ip=..." or "a parameters file".
    pub hint: Option<String>,
}

impl Unknown {
    pub fn new(reason: impl Into<String>) -> Self {
        Unknown {
            reason: reason.into(),
            hint: None,
        }
    }
    pub fn with_hint(reason: impl Into<String>, hint: impl Into<String>) -> Self {
        Unknown {
            reason: reason.into(),
            hint: Some(hint.into()),
        }
    }
}

/// A symbolic reference to an attribute of another resource, resolved by the
/// linker (e.g. `azurerm_firewall.hub.ip_configuration[0].private_ip_address`
/// or ARM `reference(...).ipConfigurations[0].properties.privateIPAddress`).
#[derive(Clone, Debug, PartialEq)]
pub struct Ref {
    pub target: ResKey,
    /// Normalised attribute: `private_ip`, `address_prefixes`, `id`, `location`,
    /// `name`, or the raw path when it is none of these.
    pub attr: String,
}

/// The rare cases are boxed: a model holds many attributes (a firewall rule
/// has over a dozen), nearly all known, so each stays the size of its value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<T> {
    Known(T),
    Ref(Box<Ref>),
    Unknown(Box<Unknown>),
}

impl<T> Value<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Value::Known(v) => Some(v),
            _ => None,
        }
    }
}

/// A model attribute: a value (maybe unknown) and where it was written.
pub type Attr<T> = Spanned<Value<T>>;

pub fn known<T>(v: T, span: Span) -> Attr<T> {
    Spanned::new(Value::Known(v), span)
}

pub fn unknown<T>(reason: impl Into<String>, span: Span) -> Attr<T> {
    Spanned::new(Value::Unknown(Box::new(Unknown::new(reason))), span)
}

/// Every resource has a declaration span (the whole block or object) and keys.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Decl {
    pub keys: Vec<ResKey>,
    /// The resource's Azure name, if known.
    pub name: Option<Spanned<String>>,
    /// The whole declaration (Terraform block, ARM resource object).
    pub span: Span,
    /// How the user refers to it in messages: `azurerm_firewall.hub`,
    /// `Microsoft.Network/azureFirewalls 'fw-hub'`.
    pub label: String,
    /// `Some(reason)` when the resource is conditional on something unknown
    /// (Terraform `count = var.x ? 1 : 0`, ARM `condition`).
    pub condition: Option<Box<Unknown>>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Model {
    pub clusters: Vec<Cluster>,
    /// Node pools declared as separate resources (`azurerm_kubernetes_cluster_node_pool`,
    /// `managedClusters/agentPools`); inline pools live in their cluster.
    pub node_pools: Vec<NodePool>,
    pub vnets: Vec<VirtualNetwork>,
    pub subnets: Vec<Subnet>,
    pub nsgs: Vec<Nsg>,
    /// Security rules declared as separate resources.
    pub nsg_rules: Vec<SecurityRule>,
    pub route_tables: Vec<RouteTable>,
    /// Routes declared as separate resources.
    pub routes: Vec<Route>,
    /// Separate association resources (subnet ↔ NSG, subnet ↔ route table).
    pub associations: Vec<Association>,
    pub firewalls: Vec<Firewall>,
    pub policies: Vec<FirewallPolicy>,
    pub rule_collection_groups: Vec<RuleCollectionGroup>,
    /// Classic rule collections declared as separate resources
    /// (`azurerm_firewall_*_rule_collection`).
    pub fw_collections: Vec<RuleCollection>,
    pub ip_groups: Vec<IpGroup>,
    /// `azurerm_ip_group_cidr` entries.
    pub ip_group_cidrs: Vec<IpGroupCidr>,
    /// Kubernetes Services of type LoadBalancer and other public-inbound evidence.
    pub public_inbound: Vec<PublicInbound>,
    /// AEL000 / AEL008 findings raised while reading.
    pub findings: Vec<Finding>,
}

impl Model {
    /// Append another fragment.
    pub fn merge(&mut self, other: Model) {
        let Model {
            clusters,
            node_pools,
            vnets,
            subnets,
            nsgs,
            nsg_rules,
            route_tables,
            routes,
            associations,
            firewalls,
            policies,
            rule_collection_groups,
            fw_collections,
            ip_groups,
            ip_group_cidrs,
            public_inbound,
            findings,
        } = other;
        self.clusters.extend(clusters);
        self.node_pools.extend(node_pools);
        self.vnets.extend(vnets);
        self.subnets.extend(subnets);
        self.nsgs.extend(nsgs);
        self.nsg_rules.extend(nsg_rules);
        self.route_tables.extend(route_tables);
        self.routes.extend(routes);
        self.associations.extend(associations);
        self.firewalls.extend(firewalls);
        self.policies.extend(policies);
        self.rule_collection_groups.extend(rule_collection_groups);
        self.fw_collections.extend(fw_collections);
        self.ip_groups.extend(ip_groups);
        self.ip_group_cidrs.extend(ip_group_cidrs);
        self.public_inbound.extend(public_inbound);
        self.findings.extend(findings);
    }

    /// Give back the spare capacity of every list, nested ones included. A
    /// list grown by pushes holds up to twice its length, and firewall rules
    /// are large: a frontend calls this on each fragment it finishes.
    pub fn shrink_to_fit(&mut self) {
        fn collections(v: &mut Vec<RuleCollection>) {
            for c in v.iter_mut() {
                c.rules.shrink_to_fit();
            }
            v.shrink_to_fit();
        }
        for c in &mut self.clusters {
            c.node_pools.shrink_to_fit();
            c.features.shrink_to_fit();
        }
        for n in &mut self.nsgs {
            n.rules.shrink_to_fit();
            n.subnets.shrink_to_fit();
        }
        for r in &mut self.route_tables {
            r.routes.shrink_to_fit();
        }
        for f in &mut self.firewalls {
            collections(&mut f.collections);
        }
        for g in &mut self.rule_collection_groups {
            collections(&mut g.collections);
        }
        collections(&mut self.fw_collections);
        self.clusters.shrink_to_fit();
        self.node_pools.shrink_to_fit();
        self.vnets.shrink_to_fit();
        self.subnets.shrink_to_fit();
        self.nsgs.shrink_to_fit();
        self.nsg_rules.shrink_to_fit();
        self.route_tables.shrink_to_fit();
        self.routes.shrink_to_fit();
        self.associations.shrink_to_fit();
        self.firewalls.shrink_to_fit();
        self.policies.shrink_to_fit();
        self.rule_collection_groups.shrink_to_fit();
        self.ip_groups.shrink_to_fit();
        self.ip_group_cidrs.shrink_to_fit();
        self.public_inbound.shrink_to_fit();
        self.findings.shrink_to_fit();
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub decl: Decl,
    pub location: Option<Attr<String>>,
    /// `loadBalancer` when absent.
    pub outbound_type: Option<Attr<String>>,
    pub network_plugin: Option<Attr<String>>,
    /// `overlay` for Azure CNI overlay.
    pub network_plugin_mode: Option<Attr<String>>,
    pub pod_cidrs: Option<Attr<Vec<String>>>,
    pub service_cidrs: Option<Attr<Vec<String>>>,
    pub private_cluster: Option<Attr<bool>>,
    pub api_server_vnet_integration: Option<Attr<bool>>,
    pub api_server_subnet: Option<Attr<ResKey>>,
    /// `http_proxy_config` / `httpProxyConfig` is present.
    pub http_proxy: Option<Span>,
    /// `bootstrap_profile.artifact_source` / `bootstrapProfile.artifactSource`.
    pub artifact_source: Option<Attr<String>>,
    /// Add-ons and features that bring endpoint requirements, with the
    /// attribute that enables them. Names: `monitoring`, `policy`, `defender`,
    /// `keyvault`, `workload-identity`, `cost-analysis`, `web-app-routing`,
    /// `service-mesh`, `extensions`.
    pub features: Vec<(String, Attr<bool>)>,
    pub node_pools: Vec<NodePool>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodePool {
    pub decl: Decl,
    /// For separate pool resources: the cluster they belong to.
    pub cluster: Option<Attr<ResKey>>,
    /// `None`: the pool uses an AKS-managed VNet.
    pub subnet: Option<Attr<ResKey>>,
    pub pod_subnet: Option<Attr<ResKey>>,
    pub vm_size: Option<Attr<String>>,
    /// `Linux` or `Windows` as written.
    pub os_type: Option<Attr<String>>,
    pub os_sku: Option<Attr<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VirtualNetwork {
    pub decl: Decl,
    pub address_space: Attr<Vec<String>>,
    /// Custom DNS servers (`dns_servers`, `dhcpOptions.dnsServers`); `None` = Azure DNS.
    pub dns_servers: Option<Attr<Vec<String>>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Subnet {
    pub decl: Decl,
    pub vnet: Option<ResKey>,
    pub address_prefixes: Attr<Vec<String>>,
    /// Inline association (`security_group`, `networkSecurityGroup.id`).
    pub nsg: Option<Attr<ResKey>>,
    pub route_table: Option<Attr<ResKey>>,
    pub nat_gateway: Option<Attr<ResKey>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AssociationKind {
    Nsg,
    RouteTable,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Association {
    pub decl: Decl,
    pub kind: AssociationKind,
    pub subnet: Attr<ResKey>,
    pub target: Attr<ResKey>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Nsg {
    pub decl: Decl,
    pub rules: Vec<SecurityRule>,
    /// Subnets this NSG names as attached (NSG exports list them).
    pub subnets: Vec<Attr<ResKey>>,
    /// Read from an `az network nsg` export or portal export, not a template.
    pub from_export: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SecurityRule {
    pub decl: Decl,
    /// For separate rule resources: the NSG they belong to.
    pub nsg: Option<Attr<ResKey>>,
    pub priority: Attr<u32>,
    /// `Inbound` / `Outbound` as written.
    pub direction: Attr<String>,
    /// `Allow` / `Deny` as written.
    pub access: Attr<String>,
    /// `Tcp`, `Udp`, `Icmp`, `Esp`, `Ah`, `*` as written.
    pub protocol: Attr<String>,
    /// Prefixes, addresses, service tags or `*` (singular and plural forms merged).
    pub source_addresses: Attr<Vec<String>>,
    pub destination_addresses: Attr<Vec<String>>,
    /// `*`, `443`, `1000-2000` (singular and plural forms merged).
    pub source_ports: Attr<Vec<String>>,
    pub destination_ports: Attr<Vec<String>>,
    /// Application security groups: membership cannot be known statically.
    pub source_asgs: Vec<Attr<ResKey>>,
    pub destination_asgs: Vec<Attr<ResKey>>,
    /// A default rule of Azure (from an export's `defaultSecurityRules`).
    pub is_default: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RouteTable {
    pub decl: Decl,
    pub routes: Vec<Route>,
    pub disable_bgp_route_propagation: Option<Attr<bool>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub decl: Decl,
    /// For separate route resources: their route table.
    pub route_table: Option<Attr<ResKey>>,
    /// CIDR or service tag.
    pub address_prefix: Attr<String>,
    /// `VirtualAppliance`, `Internet`, `None`, `VnetLocal`, `VirtualNetworkGateway` as written.
    pub next_hop_type: Attr<String>,
    /// An address, or `Value::Ref` to a firewall's `private_ip`.
    pub next_hop_ip: Option<Attr<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Firewall {
    pub decl: Decl,
    /// `Basic`, `Standard`, `Premium`.
    pub sku_tier: Option<Attr<String>>,
    pub policy: Option<Attr<ResKey>>,
    /// Classic DNS proxy (`dns_proxy_enabled`, non-empty `dns_servers`,
    /// `Network.DNS.EnableProxy`).
    pub dns_proxy: Option<Attr<bool>>,
    /// Private IP if written (`privateIPAddress`); usually computed by Azure.
    pub private_ip: Option<Attr<String>>,
    /// The `AzureFirewallSubnet` of its IP configuration.
    pub subnet: Option<Attr<ResKey>>,
    /// Inline classic collections (ARM `applicationRuleCollections` etc.).
    pub collections: Vec<RuleCollection>,
    pub threat_intel_mode: Option<Attr<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FirewallPolicy {
    pub decl: Decl,
    pub base_policy: Option<Attr<ResKey>>,
    pub dns_proxy: Option<Attr<bool>>,
    pub sku_tier: Option<Attr<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleCollectionGroup {
    pub decl: Decl,
    pub policy: Attr<ResKey>,
    pub priority: Attr<u32>,
    pub collections: Vec<RuleCollection>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    Application,
    Network,
    Nat,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleCollection {
    pub decl: Decl,
    /// For separate classic collections: the firewall they belong to.
    pub firewall: Option<Attr<ResKey>>,
    pub kind: RuleKind,
    pub priority: Attr<u32>,
    /// `Allow`, `Deny`, `Dnat`, `Snat` as written.
    pub action: Attr<String>,
    pub rules: Vec<FirewallRule>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppProtocol {
    /// `Http`, `Https`, `Mssql` as written.
    pub kind: String,
    pub port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FirewallRule {
    // Attributes most rules leave out are boxed: a scan holds many rules.
    pub decl: Decl,
    pub source_addresses: Option<Attr<Vec<String>>>,
    pub source_ip_groups: Option<Box<Attr<Vec<ResKey>>>>,
    /// Network rules: `TCP`, `UDP`, `ICMP`, `Any` as written.
    pub protocols: Option<Attr<Vec<String>>>,
    /// Application rules.
    pub app_protocols: Option<Attr<Vec<AppProtocol>>>,
    /// Network and NAT rules: addresses, CIDRs, ranges, `*`, service tags.
    pub destination_addresses: Option<Attr<Vec<String>>>,
    pub destination_ip_groups: Option<Box<Attr<Vec<ResKey>>>>,
    /// Network rules: FQDNs (need DNS proxy).
    pub destination_fqdns: Option<Box<Attr<Vec<String>>>>,
    pub destination_ports: Option<Attr<Vec<String>>>,
    /// Application rules: `targetFqdns` / `destination_fqdns` / `target_fqdns`.
    pub target_fqdns: Option<Attr<Vec<String>>>,
    pub fqdn_tags: Option<Box<Attr<Vec<String>>>>,
    pub target_urls: Option<Box<Attr<Vec<String>>>>,
    pub web_categories: Option<Box<Attr<Vec<String>>>>,
    pub terminate_tls: Option<Box<Attr<bool>>>,
    /// NAT rules: translated address and port.
    pub translated_address: Option<Box<Attr<String>>>,
    pub translated_port: Option<Box<Attr<String>>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IpGroup {
    pub decl: Decl,
    pub cidrs: Attr<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IpGroupCidr {
    pub decl: Decl,
    pub ip_group: Attr<ResKey>,
    pub cidr: Attr<String>,
}

/// Evidence that a cluster takes public inbound traffic through a load balancer.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicInbound {
    pub decl: Decl,
    /// e.g. "Service `web` of type LoadBalancer without the internal annotation".
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_keys() {
        let a = ResKey::from_arm_id(
            "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/Hub/subnets/AzureFirewallSubnet",
        )
        .unwrap();
        assert_eq!(
            a,
            ResKey::arm(
                "Microsoft.Network/virtualNetworks/subnets",
                &["hub", "azurefirewallsubnet"]
            )
        );
        assert_eq!(
            a.0,
            "arm:microsoft.network/virtualnetworks/hub/subnets/azurefirewallsubnet"
        );
        assert_eq!(ResKey::from_arm_id("not an id"), None);
        assert_eq!(
            ResKey::tf("module.net", "azurerm_subnet.a").0,
            "tf:module.net:azurerm_subnet.a"
        );
    }
}

//! Test helpers: a small catalog built in code, model builders whose spans
//! point into real scenario text, and a plain-text rendering of findings
//! for snapshots.
#![allow(dead_code)]

use aks_egress_lint::catalog::*;
use aks_egress_lint::finding::Finding;
use aks_egress_lint::model::*;
use aks_egress_lint::source::{FileId, Sources, Span, Spanned};

// ---------------------------------------------------------------- catalog

#[allow(clippy::too_many_arguments)]
fn entry(
    id: &str,
    dest: Destination,
    protocol: Protocol,
    ports: &[u16],
    level: Level,
    clouds: &[Cloud],
    when: Option<&str>,
    unless: &[&str],
    rule: &str,
) -> Entry {
    Entry {
        id: id.into(),
        group: id.split('.').next().unwrap_or("aks").into(),
        destination: dest,
        protocol,
        ports: ports.to_vec(),
        level,
        clouds: clouds.to_vec(),
        when: when.map(String::from),
        unless: unless.iter().map(|s| s.to_string()).collect(),
        rule: rule.into(),
        reason: "test".into(),
        source: "test catalog".into(),
        note: None,
    }
}

/// A small catalog shaped like today's document.
pub fn catalog() -> Catalog {
    use Cloud::*;
    use Destination::*;
    use Level::*;
    use Protocol::*;
    let all = [AzureCloud, AzureChinaCloud, AzureUSGovernment];
    let pubgov = [AzureCloud, AzureUSGovernment];
    let p = [AzureCloud];
    let fq = |s: &str| Fqdn(s.into());
    let mut entries = vec![
        entry(
            "aks.tunnel-udp",
            ServiceTag("AzureCloud.{location}".into()),
            Udp,
            &[1194],
            Required,
            &all,
            None,
            &["private-cluster"],
            "network",
        ),
        entry(
            "aks.tunnel-tcp",
            ServiceTag("AzureCloud.{location}".into()),
            Tcp,
            &[9000],
            Required,
            &all,
            None,
            &["private-cluster"],
            "network",
        ),
        entry(
            "aks.ntp",
            fq("ntp.ubuntu.com"),
            Udp,
            &[123],
            Recommended,
            &all,
            None,
            &[],
            "network",
        ),
        entry(
            "aks.custom-dns",
            Placeholder("CustomDNSIP".into()),
            Udp,
            &[53],
            Required,
            &all,
            Some("custom-dns"),
            &[],
            "network",
        ),
        entry(
            "aks.apiserver-ip",
            Placeholder("APIServerPublicIP".into()),
            Tcp,
            &[443],
            Required,
            &all,
            None,
            &["private-cluster"],
            "network",
        ),
        entry(
            "aks.hcp",
            fq("*.hcp.{location}.azmk8s.io"),
            Https,
            &[443],
            Required,
            &p,
            None,
            &["private-cluster"],
            "application",
        ),
        entry(
            "aks.mcr",
            fq("mcr.microsoft.com"),
            Https,
            &[443],
            Required,
            &all,
            None,
            &[],
            "application",
        ),
        entry(
            "aks.mcr-data",
            fq("*.data.mcr.microsoft.com"),
            Https,
            &[443],
            Required,
            &all,
            None,
            &[],
            "application",
        ),
        entry(
            "aks.management",
            fq("management.azure.com"),
            Https,
            &[443],
            Required,
            &p,
            None,
            &[],
            "application",
        ),
        entry(
            "aks.login",
            fq("login.microsoftonline.com"),
            Https,
            &[443],
            Required,
            &p,
            None,
            &[],
            "application",
        ),
        entry(
            "aks.packages",
            fq("packages.microsoft.com"),
            Https,
            &[443],
            Required,
            &all,
            None,
            &[],
            "application",
        ),
        entry(
            "aks.acs-mirror",
            fq("acs-mirror.azureedge.net"),
            Https,
            &[443],
            Required,
            &pubgov,
            None,
            &[],
            "application",
        ),
        entry(
            "monitoring.ods",
            fq("*.ods.opinsights.azure.com"),
            Https,
            &[443],
            Required,
            &p,
            Some("monitoring"),
            &[],
            "application",
        ),
        entry(
            "gpu.nvidia",
            fq("nvidia.github.io"),
            Https,
            &[443],
            Required,
            &p,
            Some("gpu"),
            &[],
            "application",
        ),
        // China
        entry(
            "cn.hcp",
            fq("*.hcp.{location}.cx.prod.service.azk8s.cn"),
            Https,
            &[443],
            Required,
            &[AzureChinaCloud],
            None,
            &[],
            "application",
        ),
        entry(
            "cn.ssh",
            ServiceTag("AzureCloud.{location}".into()),
            Tcp,
            &[22],
            Required,
            &[AzureChinaCloud],
            None,
            &[],
            "network",
        ),
        entry(
            "cn.management",
            fq("management.chinacloudapi.cn"),
            Https,
            &[443],
            Required,
            &[AzureChinaCloud],
            None,
            &[],
            "application",
        ),
        entry(
            "cn.login",
            fq("login.chinacloudapi.cn"),
            Https,
            &[443],
            Required,
            &[AzureChinaCloud],
            None,
            &[],
            "application",
        ),
        entry(
            "cn.mcr",
            fq("mcr.azure.cn"),
            Https,
            &[443],
            Required,
            &[AzureChinaCloud],
            None,
            &[],
            "application",
        ),
        // Government
        entry(
            "gov.hcp",
            fq("*.hcp.{location}.cx.aks.containerservice.azure.us"),
            Https,
            &[443],
            Required,
            &[AzureUSGovernment],
            None,
            &["private-cluster"],
            "application",
        ),
        entry(
            "gov.management",
            fq("management.usgovcloudapi.net"),
            Https,
            &[443],
            Required,
            &[AzureUSGovernment],
            None,
            &[],
            "application",
        ),
        entry(
            "gov.login",
            fq("login.microsoftonline.us"),
            Https,
            &[443],
            Required,
            &[AzureUSGovernment],
            None,
            &[],
            "application",
        ),
    ];
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    entries.dedup_by(|a, b| a.id == b.id);
    Catalog {
        revision: "test".into(),
        tags: vec![FqdnTag {
            name: "AzureKubernetesService".into(),
            covers: [
                "aks.hcp",
                "aks.mcr",
                "aks.mcr-data",
                "aks.management",
                "aks.login",
                "aks.packages",
                "aks.acs-mirror",
                "cn.hcp",
                "cn.management",
                "cn.login",
                "cn.mcr",
                "gov.hcp",
                "gov.management",
                "gov.login",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            protocols: vec![Http, Https],
            source: "test".into(),
        }],
        regions: vec![
            Region {
                name: "westeurope".into(),
                display: "West Europe".into(),
                cloud: AzureCloud,
                service_tag: None,
            },
            Region {
                name: "francecentral".into(),
                display: "France Central".into(),
                cloud: AzureCloud,
                service_tag: Some("centralfrance".into()),
            },
            Region {
                name: "chinaeast2".into(),
                display: "China East 2".into(),
                cloud: AzureChinaCloud,
                service_tag: None,
            },
            Region {
                name: "usgovvirginia".into(),
                display: "US Gov Virginia".into(),
                cloud: AzureUSGovernment,
                service_tag: None,
            },
        ],
        entries,
    }
}

// ---------------------------------------------------------------- sources

/// One scenario file, with spans found by the text they cover.
pub struct Src {
    pub sources: Sources,
    pub file: FileId,
    pub text: String,
}

impl Src {
    /// Read `testdata/<scenario>/<file>`; shown as that path.
    pub fn load(scenario: &str, file: &str) -> Src {
        let path = format!("testdata/{scenario}/{file}");
        let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
        let mut sources = Sources::new();
        let file = sources.add_named(&path, text.clone());
        Src {
            sources,
            file,
            text,
        }
    }

    /// Add another file of the same scenario to the same source store.
    pub fn add(&mut self, scenario: &str, file: &str) -> Src2 {
        let path = format!("testdata/{scenario}/{file}");
        let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
        let id = self.sources.add_named(&path, text.clone());
        Src2 { file: id, text }
    }

    fn find(&self, needle: &str) -> usize {
        self.text
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` not in scenario text"))
    }

    /// The needle itself.
    pub fn at(&self, needle: &str) -> Span {
        let s = self.find(needle);
        Span::new(self.file, s..s + needle.len())
    }

    /// From the needle to the brace that closes the first brace after it.
    pub fn block(&self, needle: &str) -> Span {
        block_in(&self.text, self.file, self.find(needle))
    }

    /// A Terraform resource: key `tf::<address>`, Azure name, block span.
    pub fn res(&self, address: &str, name: &str) -> Decl {
        let (ty, n) = address.split_once('.').expect("type.name");
        let needle = format!("resource \"{ty}\" \"{n}\"");
        self.decl_at(&format!("tf::{address}"), name, &needle, address)
    }

    /// A nested block found by its needle.
    pub fn nested(&self, needle: &str, name: &str) -> Decl {
        self.decl_at(&format!("tf::nested.{name}"), name, needle, name)
    }

    fn decl_at(&self, key: &str, name: &str, needle: &str, label: &str) -> Decl {
        let span = self.block(needle);
        let quoted = format!("\"{name}\"");
        let name_span = self.text[span.range.clone()]
            .find(&quoted)
            .map(|i| {
                Span::new(
                    self.file,
                    span.range.start + i..span.range.start + i + quoted.len(),
                )
            })
            .unwrap_or_else(|| span.clone());
        Decl {
            keys: vec![ResKey(key.into())],
            name: Some(Spanned::new(name.into(), name_span)),
            span,
            label: label.into(),
            condition: None,
        }
    }
}

/// A second file of a scenario.
pub struct Src2 {
    pub file: FileId,
    pub text: String,
}

impl Src2 {
    pub fn block(&self, needle: &str) -> Span {
        let s = self
            .text
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` missing"));
        block_in(&self.text, self.file, s)
    }
    pub fn decl(&self, key: &str, name: &str, needle: &str) -> Decl {
        Decl {
            keys: vec![ResKey(key.into())],
            name: Some(Spanned::new(name.into(), self.block(needle))),
            span: self.block(needle),
            label: name.into(),
            condition: None,
        }
    }
}

fn block_in(text: &str, file: FileId, start: usize) -> Span {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    let mut opened = false;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' if !opened || depth > 0 => {
                // JSON objects may open with `{` or `[`; HCL blocks with `{`.
                depth += 1;
                opened = true;
            }
            b'}' | b']' if opened => {
                depth -= 1;
                if depth == 0 {
                    return Span::new(file, start..i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced block");
}

// ---------------------------------------------------------------- model

pub fn k(key: &str) -> Attr<ResKey> {
    known(ResKey(format!("tf::{key}")), Span::default())
}

pub fn kv<T>(v: T, d: &Decl) -> Attr<T> {
    known(v, d.span.clone())
}

pub fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub fn vnet(d: Decl, space: &[&str], dns: Option<&[&str]>) -> VirtualNetwork {
    VirtualNetwork {
        address_space: kv(strs(space), &d),
        dns_servers: dns.map(|x| kv(strs(x), &d)),
        decl: d,
    }
}

pub fn subnet(d: Decl, vnet_key: &str, prefixes: &[&str]) -> Subnet {
    Subnet {
        vnet: Some(ResKey(format!("tf::{vnet_key}"))),
        address_prefixes: kv(strs(prefixes), &d),
        nsg: None,
        route_table: None,
        nat_gateway: None,
        decl: d,
    }
}

pub fn route(d: Decl, prefix: &str, hop: &str, ip: Option<&str>) -> Route {
    Route {
        route_table: None,
        address_prefix: kv(prefix.into(), &d),
        next_hop_type: kv(hop.into(), &d),
        next_hop_ip: ip.map(|i| kv(i.into(), &d)),
        decl: d,
    }
}

pub fn route_table(d: Decl, routes: Vec<Route>) -> RouteTable {
    RouteTable {
        decl: d,
        routes,
        disable_bgp_route_propagation: None,
    }
}

pub fn assoc(d: Decl, kind: AssociationKind, subnet_key: &str, target_key: &str) -> Association {
    Association {
        kind,
        subnet: k(subnet_key),
        target: k(target_key),
        decl: d,
    }
}

pub fn nsg(d: Decl, rules: Vec<SecurityRule>) -> Nsg {
    Nsg {
        decl: d,
        rules,
        subnets: vec![],
        from_export: false,
    }
}

pub fn nsg_rule(
    d: Decl,
    prio: u32,
    access: &str,
    proto: &str,
    dst: &[&str],
    ports: &[&str],
) -> SecurityRule {
    SecurityRule {
        nsg: None,
        priority: kv(prio, &d),
        direction: kv("Outbound".into(), &d),
        access: kv(access.into(), &d),
        protocol: kv(proto.into(), &d),
        source_addresses: kv(strs(&["*"]), &d),
        destination_addresses: kv(strs(dst), &d),
        source_ports: kv(strs(&["*"]), &d),
        destination_ports: kv(strs(ports), &d),
        source_asgs: vec![],
        destination_asgs: vec![],
        is_default: false,
        decl: d,
    }
}

pub fn policy(d: Decl, base: Option<&str>, dns: Option<bool>) -> FirewallPolicy {
    FirewallPolicy {
        base_policy: base.map(k),
        dns_proxy: dns.map(|b| kv(b, &d)),
        sku_tier: None,
        decl: d,
    }
}

pub fn firewall(d: Decl, policy: Option<&str>, subnet: Option<&str>, ip: Option<&str>) -> Firewall {
    Firewall {
        sku_tier: None,
        policy: policy.map(k),
        dns_proxy: None,
        private_ip: ip.map(|i| kv(i.into(), &d)),
        subnet: subnet.map(k),
        collections: vec![],
        threat_intel_mode: None,
        decl: d,
    }
}

pub fn rcg(
    d: Decl,
    policy_key: &str,
    prio: u32,
    collections: Vec<RuleCollection>,
) -> RuleCollectionGroup {
    RuleCollectionGroup {
        policy: k(policy_key),
        priority: kv(prio, &d),
        collections,
        decl: d,
    }
}

pub fn coll(
    d: Decl,
    kind: RuleKind,
    prio: u32,
    action: &str,
    rules: Vec<FirewallRule>,
) -> RuleCollection {
    RuleCollection {
        firewall: None,
        kind,
        priority: kv(prio, &d),
        action: kv(action.into(), &d),
        rules,
        decl: d,
    }
}

pub fn empty_rule(d: Decl) -> FirewallRule {
    FirewallRule {
        source_addresses: None,
        source_ip_groups: None,
        protocols: None,
        app_protocols: None,
        destination_addresses: None,
        destination_ip_groups: None,
        destination_fqdns: None,
        destination_ports: None,
        target_fqdns: None,
        fqdn_tags: None,
        target_urls: None,
        web_categories: None,
        terminate_tls: None,
        translated_address: None,
        translated_port: None,
        decl: d,
    }
}

pub fn app_rule(
    d: Decl,
    src: &[&str],
    fqdns: &[&str],
    tags: &[&str],
    protos: &[(&str, u16)],
) -> FirewallRule {
    let mut r = empty_rule(d.clone());
    r.source_addresses = Some(kv(strs(src), &d));
    if !fqdns.is_empty() {
        r.target_fqdns = Some(kv(strs(fqdns), &d));
    }
    if !tags.is_empty() {
        r.fqdn_tags = Some(Box::new(kv(strs(tags), &d)));
    }
    r.app_protocols = Some(kv(
        protos
            .iter()
            .map(|(k, p)| AppProtocol {
                kind: k.to_string(),
                port: Some(*p),
            })
            .collect(),
        &d,
    ));
    r
}

pub fn net_rule(
    d: Decl,
    protos: &[&str],
    src: &[&str],
    addrs: &[&str],
    fqdns: &[&str],
    ports: &[&str],
) -> FirewallRule {
    let mut r = empty_rule(d.clone());
    r.source_addresses = Some(kv(strs(src), &d));
    r.protocols = Some(kv(strs(protos), &d));
    if !addrs.is_empty() {
        r.destination_addresses = Some(kv(strs(addrs), &d));
    }
    if !fqdns.is_empty() {
        r.destination_fqdns = Some(Box::new(kv(strs(fqdns), &d)));
    }
    r.destination_ports = Some(kv(strs(ports), &d));
    r
}

pub fn pool(d: Decl, subnet_key: Option<&str>, vm_size: &str, os: &str) -> NodePool {
    NodePool {
        cluster: None,
        subnet: subnet_key.map(k),
        pod_subnet: None,
        vm_size: Some(kv(vm_size.into(), &d)),
        os_type: Some(kv(os.into(), &d)),
        os_sku: None,
        decl: d,
    }
}

pub fn cluster(d: Decl, location: &str, outbound: Option<&str>, pools: Vec<NodePool>) -> Cluster {
    Cluster {
        location: Some(kv(location.into(), &d)),
        outbound_type: outbound.map(|o| kv(o.into(), &d)),
        network_plugin: None,
        network_plugin_mode: None,
        pod_cidrs: None,
        service_cidrs: None,
        private_cluster: None,
        api_server_vnet_integration: None,
        api_server_subnet: None,
        http_proxy: None,
        artifact_source: None,
        features: vec![],
        node_pools: pools,
        decl: d,
    }
}

// ---------------------------------------------------------------- output

/// Findings as plain text, sorted like the report.
pub fn render(findings: &[Finding], sources: &Sources) -> String {
    let mut fs: Vec<&Finding> = findings.iter().collect();
    fs.sort_by_key(|f| f.sort_key());
    let mut out = String::new();
    for f in fs {
        let p = f.primary();
        let (l, c, _, _) = sources.span_lines(&p.span);
        out.push_str(&format!(
            "{} {} {}:{l}:{c}: {}\n",
            f.code,
            f.severity.as_str(),
            sources.get(p.span.file).display,
            f.message
        ));
        out.push_str(&format!("  primary: {}\n", p.message));
        for r in f.labels.iter().filter(|l| !l.primary) {
            let (l, c, _, _) = sources.span_lines(&r.span);
            out.push_str(&format!(
                "  related {}:{l}:{c}: {}\n",
                sources.get(r.span.file).display,
                r.message
            ));
        }
        if let Some(e) = &f.endpoint {
            out.push_str(&format!(
                "  endpoint: {} {} {}\n",
                e.destination, e.protocol, e.port
            ));
        }
        if let Some(h) = &f.help {
            out.push_str("  help: ");
            out.push_str(&h.replace('\n', "\n        "));
            out.push('\n');
        }
    }
    out
}

/// Line and column of a finding's primary label.
pub fn pos(f: &Finding, sources: &Sources) -> (String, usize, usize) {
    let p = f.primary();
    let (l, c, _, _) = sources.span_lines(&p.span);
    (sources.get(p.span.file).display.clone(), l, c)
}
pub mod tf;

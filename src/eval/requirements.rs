//! The requirements of each cluster: its cloud and region, the features the
//! code shows, the catalog rows that apply, and the flows that stand for
//! them, from every node and pod subnet.

use super::addr::{Transport, norm_fqdn};
use super::flow::{Outbound, SourcePath};
use super::{AppProto, Dest, Flow};
use crate::catalog::{Catalog, Cloud, Destination, Entry, Protocol, Region};
use crate::checks::Overrides;
use crate::finding::{Code, Endpoint, Finding};
use crate::link::{Link, Linked, Unresolved, decl_name};
use crate::model::{Cluster, Subnet, Value};
use crate::source::Span;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// What the tool checks for a cluster.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// Required endpoints are checked against the path.
    Checked,
    /// No `vnet_subnet_id`: AKS manages the VNet and its egress.
    ManagedVnet,
    /// Egress goes through an HTTP proxy the code does not show.
    HttpProxy,
    /// Outbound type `none` / `block`: network-isolated.
    Isolated(String),
}

/// One catalog row × port: the endpoint and the flows that stand for it.
#[derive(Clone, Debug)]
pub struct Requirement {
    /// Shared by every cluster that needs the row.
    pub entry: Arc<Entry>,
    pub endpoint: Endpoint,
    /// Usually one; `CustomDNSIP` gives one per DNS server.
    pub flows: Vec<Flow>,
}

#[derive(Clone, Debug)]
pub struct ClusterPlan<'m> {
    /// `None` for an NSG export standing for a node subnet.
    pub cluster: Option<&'m Cluster>,
    pub name: String,
    pub span: Span,
    pub cloud: Cloud,
    pub region: Option<Region>,
    pub location: Option<String>,
    pub conditions: BTreeSet<String>,
    pub mode: Mode,
    pub outbound: Outbound,
    pub sources: Vec<SourcePath<'m>>,
    /// Shared by every cluster with the same cloud, region, features and
    /// DNS servers.
    pub requirements: Arc<Vec<Requirement>>,
    /// AEL008 notes and mode notes raised while planning.
    pub notes: Vec<Finding>,
}

/// Service tags an endpoint's addresses certainly lie in. The API server's
/// address is in `AzureCloud.<region>` (MicrosoftDocs/azure-docs#54123);
/// the rest follow the purpose of each Microsoft service tag.
pub fn tags_of_fqdn(name: &str, region_tag: Option<&str>) -> Vec<String> {
    let n = norm_fqdn(name);
    let api = (n.starts_with("*.hcp.") || n.starts_with("*.tun."))
        && (n.ends_with(".azmk8s.io")
            || n.ends_with(".azk8s.cn")
            || n.ends_with(".containerservice.azure.us"));
    if api {
        return vec![match region_tag {
            Some(r) => format!("AzureCloud.{r}"),
            None => "AzureCloud".into(),
        }];
    }
    match n.as_str() {
        "mcr.microsoft.com" => vec!["MicrosoftContainerRegistry".into()],
        "login.microsoftonline.com" | "login.microsoftonline.us" | "login.chinacloudapi.cn" => {
            vec!["AzureActiveDirectory".into()]
        }
        "management.azure.com" | "management.usgovcloudapi.net" | "management.chinacloudapi.cn" => {
            vec!["AzureResourceManager".into()]
        }
        // Azure Monitor's endpoints (Log Analytics ingestion, metrics,
        // Application Insights, data collection handlers) are the hosts of the
        // `AzureMonitor` service tag, which the AKS outbound-rules document
        // offers as the network-rule form of the same requirement
        // (outbound-rules-control-egress.md, Azure Monitor section;
        // service-tags-overview.md, `AzureMonitor`).
        _ if is_azure_monitor_host(&n) => vec!["AzureMonitor".into()],
        _ => vec![],
    }
}

fn is_azure_monitor_host(n: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        ".ods.opinsights.azure.com",
        ".oms.opinsights.azure.com",
        ".monitoring.azure.com",
        ".ingest.monitor.azure.com",
        ".handler.control.monitor.azure.com",
        ".in.applicationinsights.azure.com",
    ];
    n == "dc.services.visualstudio.com" || SUFFIXES.iter().any(|s| n.ends_with(s))
}

fn note(message: String, span: Span, label: &str, u: Option<&Unresolved>) -> Finding {
    let mut f = Finding::new(Code::AEL008, message, span, label.to_string());
    if let Some(h) = u.and_then(|u| u.hint.clone()) {
        f = f.help(h);
    }
    f
}

/// The catalog's rows, each allocated once for every cluster's
/// requirements, and the requirement lists clusters have in common.
pub struct SharedEntries {
    entries: HashMap<usize, Arc<Entry>>,
    /// (cloud, region, conditions, DNS servers) → the requirements.
    lists: Mutex<HashMap<String, Arc<Vec<Requirement>>>>,
}

impl SharedEntries {
    pub fn new(catalog: &Catalog) -> Self {
        SharedEntries {
            entries: catalog
                .entries
                .iter()
                .map(|e| (e as *const Entry as usize, Arc::new(e.clone())))
                .collect(),
            lists: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, e: &Entry) -> Arc<Entry> {
        self.entries
            .get(&(e as *const Entry as usize))
            .cloned()
            .unwrap_or_else(|| Arc::new(e.clone()))
    }

    /// The list under `key`, made by `make` the first time.
    fn list(&self, key: String, make: impl FnOnce() -> Vec<Requirement>) -> Arc<Vec<Requirement>> {
        if let Some(l) = self.lists.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return l;
        }
        let l = Arc::new(make());
        if let Ok(mut m) = self.lists.lock() {
            return Arc::clone(m.entry(key).or_insert(l));
        }
        l
    }
}

/// Build the flows of one catalog row for a region (or none known).
pub fn requirement_flows(
    e: &Entry,
    region: Option<&Region>,
    dns: &Result<Vec<String>, Unresolved>,
) -> Vec<Requirement> {
    shared_requirement_flows(&Arc::new(e.clone()), region, dns)
}

/// [`requirement_flows`] of a shared row.
pub fn shared_requirement_flows(
    e: &Arc<Entry>,
    region: Option<&Region>,
    dns: &Result<Vec<String>, Unresolved>,
) -> Vec<Requirement> {
    let dest_s = e.destination_for(region);
    let region_tag = region.map(|r| r.service_tag.clone().unwrap_or_else(|| r.name.clone()));
    let transport = match e.protocol.transport() {
        "udp" => Transport::Udp,
        _ => Transport::Tcp,
    };
    let mut out = vec![];
    for &port in &e.ports {
        let app = match e.protocol {
            Protocol::Http => Some(AppProto::Http),
            Protocol::Https => Some(AppProto::Https),
            Protocol::Tcp
                if port == 443
                    && matches!(e.destination, Destination::Fqdn(_))
                    && e.rule == "application" =>
            {
                Some(AppProto::Https)
            }
            _ => None,
        };
        let endpoint = Endpoint {
            destination: dest_s.clone(),
            protocol: transport.as_str().into(),
            port,
        };
        let mk = |dest: Dest, shown: &str| Flow {
            dest,
            transport,
            port,
            app,
            entry: Some(e.id.clone()),
            display: format!("{shown}:{port}/{}", transport.as_str()),
        };
        let flows = match &e.destination {
            Destination::Fqdn(_) => vec![mk(
                Dest::Fqdn {
                    name: dest_s.clone(),
                    in_tags: tags_of_fqdn(&dest_s, region_tag.as_deref()),
                },
                &dest_s,
            )],
            Destination::ServiceTag(_) => {
                let t = if dest_s.contains("{location}") {
                    dest_s.split('.').next().unwrap_or(&dest_s).to_string()
                } else {
                    dest_s.clone()
                };
                vec![mk(Dest::Tag(t), &dest_s)]
            }
            Destination::Address(a) => match a.trim().parse() {
                Ok(ip) => vec![mk(Dest::Ip(ip), &dest_s)],
                Err(_) => vec![mk(Dest::Tag(a.clone()), &dest_s)],
            },
            Destination::Placeholder(p) if p.eq_ignore_ascii_case("CustomDNSIP") => match dns {
                Ok(servers) => servers
                    .iter()
                    .map(|s| match s.trim().parse() {
                        Ok(ip) => mk(Dest::Ip(ip), &format!("{p} `{s}`")),
                        Err(_) => mk(Dest::Tag(s.clone()), &format!("{p} `{s}`")),
                    })
                    .collect(),
                Err(u) => vec![mk(Dest::Unknown(u.clone()), p)],
            },
            // The API server's public address lies in AzureCloud.<region>.
            Destination::Placeholder(p) => vec![mk(
                Dest::Tag(match &region_tag {
                    Some(r) => format!("AzureCloud.{r}"),
                    None => "AzureCloud".into(),
                }),
                p,
            )],
        };
        out.push(Requirement {
            entry: Arc::clone(e),
            endpoint,
            flows,
        });
    }
    out
}

/// Plan one cluster.
pub fn plan_cluster<'m>(
    l: &Linked<'m>,
    catalog: &Catalog,
    ov: &Overrides,
    c: &'m Cluster,
) -> ClusterPlan<'m> {
    plan_cluster_shared(l, catalog, &SharedEntries::new(catalog), ov, c)
}

/// [`plan_cluster`] with the catalog's rows shared between clusters.
pub fn plan_cluster_shared<'m>(
    l: &Linked<'m>,
    catalog: &Catalog,
    shared: &SharedEntries,
    ov: &Overrides,
    c: &'m Cluster,
) -> ClusterPlan<'m> {
    let name = decl_name(&c.decl);
    let ov = &ov.for_cluster(&name);
    let mut notes = vec![];
    let cspan = c.decl.span.clone();
    // Location: `--location` wins over the code.
    let location = match (&ov.location, &c.location) {
        (Some(l), _) => Some(l.clone()),
        (None, Some(a)) => match &a.value {
            Value::Known(s) => Some(s.clone()),
            _ if ov.default_location.is_some() => ov.default_location.clone(),
            _ => {
                let u = super::unresolved_of(a);
                notes.push(note(
                    format!(
                        "the location of cluster `{name}` is not known ({}): region-specific endpoints are checked as patterns",
                        u.as_ref().map(|u| u.reason.as_str()).unwrap_or("computed")
                    ),
                    a.span.clone(),
                    "location",
                    u.as_ref(),
                ).help("pass `--location REGION` or set `location` in the config"));
                None
            }
        },
        (None, None) => ov.default_location.clone(),
    };
    let region = location.as_deref().and_then(|l| catalog.region(l)).cloned();
    if let (Some(loc), None) = (&location, &region) {
        let span = c
            .location
            .as_ref()
            .map(|a| a.span.clone())
            .unwrap_or_else(|| cspan.clone());
        notes.push(
            note(
                format!("region `{loc}` of cluster `{name}` is not in the catalog: its cloud is assumed from `--cloud` or taken as AzureCloud"),
                span,
                "unknown region",
                None,
            )
            .help("pass `--cloud` and a known `--location`"),
        );
    }
    let cloud = ov
        .cloud
        .or(region.as_ref().map(|r| r.cloud))
        .or(ov.default_cloud)
        .unwrap_or(Cloud::AzureCloud);
    let outbound = Outbound::of(c);

    // Sources: node and pod subnets of every pool.
    let pools = l.pools(c);
    let mut sources: Vec<SourcePath<'m>> = vec![];
    let mut seen: Vec<*const Subnet> = vec![];
    let mut managed = pools.is_empty();
    let mut first_vnet = None;
    for p in &pools {
        for (a, role) in [(&p.subnet, "node"), (&p.pod_subnet, "pod")] {
            let Some(a) = a else {
                if role == "node" {
                    managed = true;
                }
                continue;
            };
            match l.subnet(a) {
                Link::Found(s) => {
                    if first_vnet.is_none() {
                        first_vnet = l.vnet_of(s);
                    }
                    if seen.contains(&(s as *const _)) {
                        continue;
                    }
                    seen.push(s);
                    let mut sp = SourcePath::of_subnet(l, s, role, outbound.clone());
                    sp.ref_span = Some(a.span.clone());
                    sources.push(sp);
                }
                Link::Absent => {}
                Link::Unknown(u) => notes.push(note(
                    format!(
                        "the {role} subnet of `{}` is not known ({}): its egress is not checked",
                        p.decl.label, u.reason
                    ),
                    u.span.clone(),
                    "subnet reference",
                    Some(&u),
                )),
            }
        }
    }
    if sources.is_empty() && !pools.iter().any(|p| p.subnet.is_some()) {
        managed = true;
    }

    // Conditions.
    let mut conditions: BTreeSet<String> = BTreeSet::new();
    for (feat, a) in &c.features {
        match &a.value {
            Value::Known(true) => {
                conditions.insert(feat.clone());
            }
            Value::Known(false) => {}
            _ => {
                let u = super::unresolved_of(a);
                notes.push(note(
                    format!(
                        "whether `{feat}` is enabled on cluster `{name}` is not known ({}): its endpoints are not checked",
                        u.as_ref().map(|u| u.reason.as_str()).unwrap_or("computed")
                    ),
                    a.span.clone(),
                    "feature flag",
                    u.as_ref(),
                ).help(format!("pass `--features {feat}` if it is on")));
            }
        }
    }
    for p in &pools {
        if p.vm_size
            .as_ref()
            .and_then(|a| a.value.known())
            .is_some_and(|s| crate::catalog::is_gpu_vm_size(s))
        {
            conditions.insert("gpu".into());
        }
        if p.os_type
            .as_ref()
            .and_then(|a| a.value.known())
            .is_some_and(|s| s.eq_ignore_ascii_case("windows"))
        {
            conditions.insert("windows".into());
        }
    }
    if c.private_cluster
        .as_ref()
        .is_some_and(|a| a.value == Value::Known(true))
    {
        conditions.insert("private-cluster".into());
    }
    if c.api_server_vnet_integration
        .as_ref()
        .is_some_and(|a| a.value == Value::Known(true))
    {
        conditions.insert("api-server-vnet-integration".into());
    }
    let dns: Result<Vec<String>, Unresolved> = match first_vnet.and_then(|v| v.dns_servers.as_ref())
    {
        None => Ok(vec![]),
        Some(a) => match &a.value {
            Value::Known(v) => Ok(v.clone()),
            _ => Err(super::unresolved_of(a).unwrap_or_else(|| Unresolved {
                reason: "DNS servers not known".into(),
                hint: None,
                span: a.span.clone(),
            })),
        },
    };
    if !matches!(&dns, Ok(v) if v.is_empty()) {
        conditions.insert("custom-dns".into());
    }
    conditions.extend(ov.features.iter().cloned());

    let mode = if c.http_proxy.is_some() {
        Mode::HttpProxy
    } else if let Outbound::Isolated(t) = &outbound {
        Mode::Isolated(t.clone())
    } else if managed && sources.is_empty() {
        Mode::ManagedVnet
    } else {
        Mode::Checked
    };
    match &mode {
        Mode::ManagedVnet => notes.push(Finding::new(
            Code::AEL008,
            format!("cluster `{name}` has no `vnet_subnet_id`: AKS manages its virtual network and egress, so required endpoints are not checked"),
            cspan.clone(),
            "AKS-managed virtual network",
        )),
        Mode::HttpProxy => notes.push(Finding::new(
            Code::AEL008,
            format!("cluster `{name}` sends egress through an HTTP proxy the scanned files do not show: the proxy decides its endpoints, so they are not checked; internal traffic, routes to the cluster's own subnets and firewall DNS proxy settings are"),
            c.http_proxy.clone().unwrap_or_else(|| cspan.clone()),
            "HTTP proxy",
        )),
        Mode::Isolated(t) => notes.push(Finding::new(
            Code::AEL008,
            format!("cluster `{name}` uses outbound type `{t}` (network-isolated): it needs no egress to bootstrap, so required endpoints are not checked"),
            c.outbound_type.as_ref().map(|a| a.span.clone()).unwrap_or_else(|| cspan.clone()),
            "outbound type",
        )),
        Mode::Checked => {}
    }

    let make = || {
        catalog
            .select(cloud, &conditions)
            .into_iter()
            .flat_map(|e| shared_requirement_flows(&shared.get(e), region.as_ref(), &dns))
            .collect()
    };
    let requirements = match &dns {
        // Flows to unknown DNS servers carry where they were written.
        Err(_) => Arc::new(make()),
        Ok(servers) => shared.list(
            format!("{cloud:?}|{region:?}|{conditions:?}|{servers:?}"),
            make,
        ),
    };
    ClusterPlan {
        cluster: Some(c),
        name,
        span: cspan,
        cloud,
        region,
        location,
        conditions,
        mode,
        outbound,
        sources,
        requirements,
        notes,
    }
}

/// Plan an NSG that stands for an AKS node subnet (a folder of NSG exports
/// and no cluster): checked alone, against the core requirements.
pub fn plan_nsg<'m>(
    l: &Linked<'m>,
    catalog: &Catalog,
    ov: &Overrides,
    n: &'m crate::model::Nsg,
) -> ClusterPlan<'m> {
    plan_nsg_shared(l, catalog, &SharedEntries::new(catalog), ov, n)
}

/// [`plan_nsg`] with the catalog's rows shared between NSGs.
pub fn plan_nsg_shared<'m>(
    l: &Linked<'m>,
    catalog: &Catalog,
    shared: &SharedEntries,
    ov: &Overrides,
    n: &'m crate::model::Nsg,
) -> ClusterPlan<'m> {
    let region = ov
        .location
        .as_deref()
        .and_then(|x| catalog.region(x))
        .cloned();
    let cloud = ov
        .cloud
        .or(region.as_ref().map(|r| r.cloud))
        .unwrap_or(Cloud::AzureCloud);
    let conditions: BTreeSet<String> = ov.features.iter().cloned().collect();
    let requirements = shared.list(format!("nsg|{cloud:?}|{region:?}|{conditions:?}"), || {
        catalog
            .select(cloud, &conditions)
            .into_iter()
            .filter(|e| !matches!(&e.destination, Destination::Placeholder(p) if p.eq_ignore_ascii_case("CustomDNSIP")))
            .flat_map(|e| shared_requirement_flows(&shared.get(e), region.as_ref(), &Ok(vec![])))
            .collect()
    });
    ClusterPlan {
        cluster: None,
        name: decl_name(&n.decl),
        span: n.decl.span.clone(),
        cloud,
        region,
        location: ov.location.clone(),
        conditions,
        mode: Mode::Checked,
        outbound: Outbound::Direct,
        sources: vec![SourcePath::of_nsg(l, n)],
        requirements,
        notes: vec![],
    }
}

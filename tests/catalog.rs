//! The endpoint catalog: the 2020-01 revision against the seed document,
//! entry by entry; validation errors with file and line; regions.

use aks_egress_lint::catalog::{
    self, Catalog, Cloud, Destination, Level, Protocol, REVISIONS, is_gpu_vm_size, load, load_dir,
};
use std::collections::BTreeSet;

const G: &[Cloud] = &[Cloud::AzureCloud];
const C: &[Cloud] = &[Cloud::AzureChinaCloud];
const U: &[Cloud] = &[Cloud::AzureUSGovernment];
const ALL: &[Cloud] = &[
    Cloud::AzureCloud,
    Cloud::AzureChinaCloud,
    Cloud::AzureUSGovernment,
];

use Level::{Recommended as Rec, Required as Req};
use Protocol::{Http, Https, Tcp, Udp};

/// (id, destination, protocol, port, level, clouds, when)
type Row = (
    &'static str,
    &'static str,
    Protocol,
    u16,
    Level,
    &'static [Cloud],
    Option<&'static str>,
);

/// The seed's required network rules (a bulleted list, not a table).
const NETWORK: &[Row] = &[
    (
        "net.apiserver.443",
        "APIServerPublicIP",
        Tcp,
        443,
        Req,
        ALL,
        None,
    ),
    (
        "net.apiserver-ip.443",
        "APIServerPublicIP",
        Tcp,
        443,
        Req,
        ALL,
        None,
    ),
    (
        "net.tunnel.9000",
        "APIServerPublicIP",
        Tcp,
        9000,
        Req,
        ALL,
        None,
    ),
    (
        "net.tunnel.22",
        "APIServerPublicIP",
        Tcp,
        22,
        Req,
        ALL,
        None,
    ),
    ("net.ntp", "*", Udp, 123, Req, ALL, None),
    ("net.dns", "*", Udp, 53, Req, ALL, None),
];

/// Each inner slice is one row of a table of the seed.
const GLOBAL: &[&[Row]] = &[
    &[
        (
            "aks.hcp.443",
            "*.hcp.{location}.azmk8s.io",
            Https,
            443,
            Req,
            G,
            None,
        ),
        (
            "aks.hcp.22",
            "*.hcp.{location}.azmk8s.io",
            Tcp,
            22,
            Req,
            G,
            None,
        ),
        (
            "aks.hcp.9000",
            "*.hcp.{location}.azmk8s.io",
            Tcp,
            9000,
            Req,
            G,
            None,
        ),
    ],
    &[
        (
            "aks.tun.443",
            "*.tun.{location}.azmk8s.io",
            Https,
            443,
            Req,
            G,
            None,
        ),
        (
            "aks.tun.22",
            "*.tun.{location}.azmk8s.io",
            Tcp,
            22,
            Req,
            G,
            None,
        ),
        (
            "aks.tun.9000",
            "*.tun.{location}.azmk8s.io",
            Tcp,
            9000,
            Req,
            G,
            None,
        ),
    ],
    &[(
        "aks.aksrepos",
        "aksrepos.azurecr.io",
        Https,
        443,
        Req,
        G,
        None,
    )],
    &[(
        "aks.blob",
        "*.blob.core.windows.net",
        Https,
        443,
        Req,
        G,
        None,
    )],
    &[("aks.mcr", "mcr.microsoft.com", Https, 443, Req, G, None)],
    &[("aks.mcr-cdn", "*.cdn.mscr.io", Https, 443, Req, G, None)],
    &[("aks.arm", "management.azure.com", Https, 443, Req, G, None)],
    &[(
        "aks.aad",
        "login.microsoftonline.com",
        Https,
        443,
        Req,
        G,
        None,
    )],
    &[("aks.ntp", "ntp.ubuntu.com", Udp, 123, Req, G, None)],
    &[(
        "aks.packages",
        "packages.microsoft.com",
        Https,
        443,
        Req,
        G,
        None,
    )],
    &[(
        "aks.acs-mirror",
        "acs-mirror.azureedge.net",
        Https,
        443,
        Req,
        G,
        None,
    )],
];

const CHINA: &[&[Row]] = &[
    &[
        (
            "china.hcp.443",
            "*.hcp.{location}.cx.prod.service.azk8s.cn",
            Https,
            443,
            Req,
            C,
            None,
        ),
        (
            "china.hcp.22",
            "*.hcp.{location}.cx.prod.service.azk8s.cn",
            Tcp,
            22,
            Req,
            C,
            None,
        ),
        (
            "china.hcp.9000",
            "*.hcp.{location}.cx.prod.service.azk8s.cn",
            Tcp,
            9000,
            Req,
            C,
            None,
        ),
    ],
    &[
        (
            "china.tun.443",
            "*.tun.{location}.cx.prod.service.azk8s.cn",
            Https,
            443,
            Req,
            C,
            None,
        ),
        (
            "china.tun.22",
            "*.tun.{location}.cx.prod.service.azk8s.cn",
            Tcp,
            22,
            Req,
            C,
            None,
        ),
        (
            "china.tun.9000",
            "*.tun.{location}.cx.prod.service.azk8s.cn",
            Tcp,
            9000,
            Req,
            C,
            None,
        ),
    ],
    &[("china.azk8s", "*.azk8s.cn", Https, 443, Req, C, None)],
    &[("china.mcr", "mcr.microsoft.com", Https, 443, Req, C, None)],
    &[("china.mcr-cdn", "*.cdn.mscr.io", Https, 443, Req, C, None)],
    &[(
        "china.arm",
        "management.chinacloudapi.cn",
        Https,
        443,
        Req,
        C,
        None,
    )],
    // `.chinacloudapi.cn` in the seed: read as login.chinacloudapi.cn.
    &[(
        "china.aad",
        "login.chinacloudapi.cn",
        Https,
        443,
        Req,
        C,
        None,
    )],
    &[("china.ntp", "ntp.ubuntu.com", Udp, 123, Req, C, None)],
    &[(
        "china.packages",
        "packages.microsoft.com",
        Https,
        443,
        Req,
        C,
        None,
    )],
];

const GOV: &[&[Row]] = &[
    &[
        (
            "gov.hcp.443",
            "*.hcp.{location}.cx.aks.containerservice.azure.us",
            Https,
            443,
            Req,
            U,
            None,
        ),
        (
            "gov.hcp.22",
            "*.hcp.{location}.cx.aks.containerservice.azure.us",
            Tcp,
            22,
            Req,
            U,
            None,
        ),
        (
            "gov.hcp.9000",
            "*.hcp.{location}.cx.aks.containerservice.azure.us",
            Tcp,
            9000,
            Req,
            U,
            None,
        ),
    ],
    &[
        (
            "gov.tun.443",
            "*.tun.{location}.cx.aks.containerservice.azure.us",
            Https,
            443,
            Req,
            U,
            None,
        ),
        (
            "gov.tun.22",
            "*.tun.{location}.cx.aks.containerservice.azure.us",
            Tcp,
            22,
            Req,
            U,
            None,
        ),
        (
            "gov.tun.9000",
            "*.tun.{location}.cx.aks.containerservice.azure.us",
            Tcp,
            9000,
            Req,
            U,
            None,
        ),
    ],
    &[(
        "gov.aksrepos",
        "aksrepos.azurecr.io",
        Https,
        443,
        Req,
        U,
        None,
    )],
    &[(
        "gov.blob",
        "*.blob.core.windows.net",
        Https,
        443,
        Req,
        U,
        None,
    )],
    &[("gov.mcr", "mcr.microsoft.com", Https, 443, Req, U, None)],
    &[("gov.mcr-cdn", "*.cdn.mscr.io", Https, 443, Req, U, None)],
    &[(
        "gov.arm",
        "management.usgovcloudapi.net",
        Https,
        443,
        Req,
        U,
        None,
    )],
    &[(
        "gov.aad",
        "login.microsoftonline.us",
        Https,
        443,
        Req,
        U,
        None,
    )],
    &[("gov.ntp", "ntp.ubuntu.com", Udp, 123, Req, U, None)],
    &[(
        "gov.packages",
        "packages.microsoft.com",
        Https,
        443,
        Req,
        U,
        None,
    )],
    &[(
        "gov.acs-mirror",
        "acs-mirror.azureedge.net",
        Https,
        443,
        Req,
        U,
        None,
    )],
];

const OPTIONAL: &[&[Row]] = &[&[
    (
        "optional.ubuntu-security",
        "security.ubuntu.com",
        Http,
        80,
        Rec,
        ALL,
        None,
    ),
    (
        "optional.ubuntu-archive",
        "azure.archive.ubuntu.com",
        Http,
        80,
        Rec,
        ALL,
        None,
    ),
    (
        "optional.ubuntu-changelogs",
        "changelogs.ubuntu.com",
        Http,
        80,
        Rec,
        ALL,
        None,
    ),
]];

const GPU: &[&[Row]] = &[
    &[(
        "gpu.nvidia-github",
        "nvidia.github.io",
        Https,
        443,
        Req,
        ALL,
        Some("gpu"),
    )],
    &[(
        "gpu.nvidia-download",
        "us.download.nvidia.com",
        Https,
        443,
        Req,
        ALL,
        Some("gpu"),
    )],
    &[(
        "gpu.dockerproject",
        "apt.dockerproject.org",
        Https,
        443,
        Req,
        ALL,
        Some("gpu"),
    )],
];

const MONITOR: &[&[Row]] = &[
    &[(
        "monitor.dc",
        "dc.services.visualstudio.com",
        Https,
        443,
        Req,
        ALL,
        Some("monitoring"),
    )],
    &[(
        "monitor.ods",
        "*.ods.opinsights.azure.com",
        Https,
        443,
        Req,
        ALL,
        Some("monitoring"),
    )],
    &[(
        "monitor.oms",
        "*.oms.opinsights.azure.com",
        Https,
        443,
        Req,
        ALL,
        Some("monitoring"),
    )],
    &[(
        "monitor.aad",
        "*.microsoftonline.com",
        Https,
        443,
        Req,
        ALL,
        Some("monitoring"),
    )],
    &[(
        "monitor.metrics",
        "*.monitoring.azure.com",
        Https,
        443,
        Req,
        ALL,
        Some("monitoring"),
    )],
];

const DEV_SPACES: &[&[Row]] = &[
    &[(
        "devspaces.cloudflare",
        "cloudflare.docker.com",
        Https,
        443,
        Req,
        ALL,
        Some("dev-spaces"),
    )],
    // `HTTP:443` in the seed: read as HTTPS 443.
    &[(
        "devspaces.gcr",
        "gcr.io",
        Https,
        443,
        Req,
        ALL,
        Some("dev-spaces"),
    )],
    &[(
        "devspaces.gcs",
        "storage.googleapis.com",
        Https,
        443,
        Req,
        ALL,
        Some("dev-spaces"),
    )],
    // `azds-<guid>.<location>.azds.io` in the seed.
    &[(
        "devspaces.azds",
        "*.{location}.azds.io",
        Https,
        443,
        Req,
        ALL,
        Some("dev-spaces"),
    )],
];

const POLICY: &[&[Row]] = &[
    &[(
        "policy.data",
        "gov-prod-policy-data.trafficmanager.net",
        Https,
        443,
        Req,
        ALL,
        Some("policy"),
    )],
    &[(
        "policy.github",
        "raw.githubusercontent.com",
        Https,
        443,
        Req,
        ALL,
        Some("policy"),
    )],
    &[(
        "policy.gk",
        "*.gk.{location}.azmk8s.io",
        Https,
        443,
        Req,
        ALL,
        Some("policy"),
    )],
    &[(
        "policy.dc",
        "dc.services.visualstudio.com",
        Https,
        443,
        Req,
        ALL,
        Some("policy"),
    )],
];

const WINDOWS: &[&[Row]] = &[
    &[
        (
            "windows.onegetcdn",
            "onegetcdn.azureedge.net",
            Https,
            443,
            Req,
            ALL,
            Some("windows"),
        ),
        (
            "windows.winlayers-blob",
            "winlayers.blob.core.windows.net",
            Https,
            443,
            Req,
            ALL,
            Some("windows"),
        ),
        (
            "windows.winlayers-cdn",
            "winlayers.cdn.mscr.io",
            Https,
            443,
            Req,
            ALL,
            Some("windows"),
        ),
        (
            "windows.go",
            "go.microsoft.com",
            Https,
            443,
            Req,
            ALL,
            Some("windows"),
        ),
    ],
    &[
        (
            "windows.mp",
            "mp.microsoft.com",
            Http,
            80,
            Req,
            ALL,
            Some("windows"),
        ),
        (
            "windows.msftconnecttest",
            "www.msftconnecttest.com",
            Http,
            80,
            Req,
            ALL,
            Some("windows"),
        ),
        (
            "windows.ctldl",
            "ctldl.windowsupdate.com",
            Http,
            80,
            Req,
            ALL,
            Some("windows"),
        ),
    ],
    &[(
        "windows.kms",
        "kms.core.windows.net",
        Tcp,
        1688,
        Req,
        ALL,
        Some("windows"),
    )],
];

fn check_row(cat: &Catalog, row: &Row, group: &str) {
    let (id, dest, proto, port, level, clouds, when) = *row;
    let e = cat
        .entries
        .iter()
        .find(|e| e.id == id)
        .unwrap_or_else(|| panic!("2020-01 has no entry `{id}`"));
    assert_eq!(e.destination.raw(), dest, "{id}: destination");
    assert_eq!(e.protocol, proto, "{id}: protocol");
    assert_eq!(e.ports, vec![port], "{id}: ports");
    assert_eq!(e.level, level, "{id}: level");
    assert_eq!(e.clouds, clouds, "{id}: clouds");
    assert_eq!(e.when.as_deref(), when, "{id}: when");
    assert_eq!(e.group, group, "{id}: group");
    assert!(e.unless.is_empty(), "{id}: 2020-01 has no exemptions");
    assert!(e.source.contains("2020-01-21"), "{id}: source");
    // Application rules only for HTTP(S); the seed's TCP/UDP rows on FQDN
    // tables are network rules.
    let want_rule = if matches!(proto, Http | Https) {
        "application"
    } else {
        "network"
    };
    assert_eq!(e.rule, want_rule, "{id}: rule");
}

#[test]
fn seed_2020_01_every_row_entry_by_entry() {
    let cat = load("2020-01").unwrap();
    let tables: &[(&str, &[&[Row]], usize)] = &[
        ("fqdn", GLOBAL, 11),
        ("fqdn", CHINA, 9),
        ("fqdn", GOV, 11),
        ("optional", OPTIONAL, 1),
        ("gpu", GPU, 3),
        ("monitoring", MONITOR, 5),
        ("dev-spaces", DEV_SPACES, 4),
        ("policy", POLICY, 4),
        ("windows", WINDOWS, 3),
    ];
    let mut expected_ids = BTreeSet::new();
    for row in NETWORK {
        check_row(&cat, row, "network");
        expected_ids.insert(row.0);
    }
    for (group, rows, count) in tables {
        assert_eq!(rows.len(), *count, "rows of table {group}");
        for row in rows.iter().flat_map(|r| r.iter()) {
            check_row(&cat, row, group);
            assert!(expected_ids.insert(row.0), "{} listed twice", row.0);
        }
    }
    // The optional table is one row of three FQDNs.
    assert_eq!(OPTIONAL[0].len(), 3);
    // Nothing in the revision that the seed does not have.
    let actual: BTreeSet<&str> = cat.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(actual, expected_ids);
}

#[test]
fn quirks_are_recorded() {
    let cat = load("2020-01").unwrap();
    let note = |id: &str| {
        cat.entries
            .iter()
            .find(|e| e.id == id)
            .and_then(|e| e.note.clone())
            .unwrap_or_default()
    };
    assert!(note("china.aad").contains("'.chinacloudapi.cn'"));
    assert!(note("devspaces.gcr").contains("HTTP:443"));
    assert!(note("devspaces.azds").contains("azds-<guid>.<location>.azds.io"));
    assert!(note("windows.msftconnecttest").contains("<span></span>"));
    assert!(note("windows.mp").contains("*.mp.microsoft.com"));
    assert!(note("aks.hcp.22").contains("TCP:22"));
    assert!(note("gov.tun.9000").contains("TCP:9000"));
    assert!(note("aks.ntp").contains("UDP:123"));
}

#[test]
fn current_conditional_rows() {
    let cat = load("current").unwrap();
    let get = |id: &str| cat.entry(id).unwrap();
    assert!(cat.entry("aks.nope").is_none());
    for id in ["net.tunnel.1194", "net.tunnel.9000"] {
        let e = get(id);
        assert_eq!(
            e.destination,
            Destination::ServiceTag("AzureCloud.{location}".into())
        );
        assert_eq!(e.level, Rec);
        assert_eq!(e.unless, vec!["private-cluster".to_string()]);
    }
    let ntp = get("net.ntp");
    assert_eq!(
        (ntp.protocol, ntp.level, ntp.rule.as_str()),
        (Udp, Rec, "network")
    );
    assert_eq!(ntp.destination.raw(), "ntp.ubuntu.com");
    let api = get("net.apiserver-ip");
    assert_eq!(
        api.destination,
        Destination::Placeholder("APIServerPublicIP".into())
    );
    assert_eq!((api.level, api.ports.as_slice()), (Rec, &[443u16][..]));
    assert_eq!(api.unless, vec!["private-cluster".to_string()]);
    let dns = get("net.custom-dns");
    assert_eq!(
        dns.destination,
        Destination::Placeholder("CustomDNSIP".into())
    );
    assert_eq!((dns.level, dns.when.as_deref()), (Req, Some("custom-dns")));
    let hcp = get("aks.hcp");
    assert_eq!(hcp.destination.raw(), "*.hcp.{location}.azmk8s.io");
    assert_eq!((hcp.level, hcp.unless.len()), (Req, 1));
    let tag = get("monitor.tag");
    assert_eq!(
        tag.destination,
        Destination::ServiceTag("AzureMonitor".into())
    );
    assert_eq!(
        (tag.rule.as_str(), tag.when.as_deref()),
        ("network", Some("monitoring"))
    );
    // China: TCP 22 too and no private exemption.
    let ssh = get("china.net.tunnel.22");
    assert_eq!(
        (ssh.protocol, ssh.ports.as_slice(), ssh.level),
        (Tcp, &[22u16][..], Req)
    );
    assert!(
        cat.entries
            .iter()
            .filter(|e| e.clouds.contains(&Cloud::AzureChinaCloud))
            .all(|e| e.unless.is_empty())
    );
    // A private cluster drops the tunnel, the API address and hcp rows.
    let private: BTreeSet<String> = ["private-cluster".to_string()].into();
    let ids: BTreeSet<&str> = cat
        .select(Cloud::AzureCloud, &private)
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    for gone in [
        "net.tunnel.1194",
        "net.tunnel.9000",
        "net.apiserver-ip",
        "aks.hcp",
    ] {
        assert!(!ids.contains(gone), "{gone}");
    }
    assert!(ids.contains("aks.mcr"));
    // Every feature named in the issue has rows.
    for f in [
        "gpu",
        "windows",
        "monitoring",
        "policy",
        "defender",
        "keyvault",
        "workload-identity",
        "cost-analysis",
        "extensions",
        "custom-dns",
    ] {
        assert!(
            cat.entries.iter().any(|e| e.when.as_deref() == Some(f)),
            "no row for {f}"
        );
    }
}

#[test]
fn every_revision_loads_with_unique_ids_and_sources() {
    for rev in REVISIONS {
        let cat = load(rev).unwrap();
        assert_eq!(cat.revision, *rev);
        let mut ids = BTreeSet::new();
        for e in &cat.entries {
            assert!(ids.insert(e.id.as_str()), "{rev}: duplicate {}", e.id);
            assert!(
                !e.reason.is_empty() && e.reason.is_ascii(),
                "{rev}: {} reason",
                e.id
            );
            assert!(!e.source.is_empty(), "{rev}: {} source", e.id);
        }
    }
    assert!(
        load("2019-12")
            .unwrap_err()
            .message
            .contains("unknown catalog revision")
    );
}

#[test]
fn fqdn_tag_covers_core_fqdns_only() {
    for rev in REVISIONS {
        let cat = load(rev).unwrap();
        let aks = cat.tag("azurekubernetesservice").unwrap();
        assert_eq!(aks.protocols, vec![Http, Https]);
        assert!(aks.covers.iter().any(|id| id.ends_with("mcr")), "{rev}");
        for id in &aks.covers {
            let e = cat.entries.iter().find(|e| &e.id == id).unwrap();
            assert_eq!(e.group, "fqdn", "{rev}: {id}");
            assert_eq!(e.rule, "application", "{rev}: {id}");
            assert!(e.when.is_none(), "{rev}: {id}");
        }
        // Every core application-rule FQDN is covered; no network rule is.
        for e in &cat.entries {
            let core_app = e.group == "fqdn" && e.rule == "application";
            assert_eq!(aks.covers.contains(&e.id), core_app, "{rev}: {}", e.id);
        }
        let wu = cat.tag("WindowsUpdate").unwrap();
        assert!(wu.covers.is_empty());
        for e in &cat.entries {
            assert_eq!(
                aks.covers_entry(e),
                aks.covers.contains(&e.id),
                "{rev}: {}",
                e.id
            );
            assert!(!wu.covers_entry(e));
        }
    }
}

#[test]
fn region_cloud_mapping_for_every_region() {
    let cat = load("current").unwrap();
    let cloud_of = |n: &str| cat.region(n).map(|r| r.cloud);
    for r in &cat.regions {
        let want = if r.name.starts_with("china") {
            Cloud::AzureChinaCloud
        } else if r.name.starts_with("usgov") || r.name.starts_with("usdod") {
            Cloud::AzureUSGovernment
        } else {
            Cloud::AzureCloud
        };
        assert_eq!(r.cloud, want, "{}", r.name);
        // The ARM name, the display name and an upper-cased spaced form all resolve.
        assert_eq!(cloud_of(&r.name), Some(want), "{}", r.name);
        assert_eq!(cloud_of(&r.display), Some(want), "{}", r.display);
        assert_eq!(
            cloud_of(&r.display.to_uppercase()),
            Some(want),
            "{}",
            r.display
        );
    }
    for name in [
        "chinaeast",
        "chinaeast2",
        "chinaeast3",
        "chinanorth",
        "chinanorth2",
        "chinanorth3",
    ] {
        assert_eq!(cloud_of(name), Some(Cloud::AzureChinaCloud), "{name}");
    }
    for name in [
        "usgovvirginia",
        "usgovtexas",
        "usgovarizona",
        "usgoviowa",
        "usdodeast",
        "usdodcentral",
    ] {
        assert_eq!(cloud_of(name), Some(Cloud::AzureUSGovernment), "{name}");
    }
    assert_eq!(cat.region("West Europe"), cat.region("westeurope"));
    assert_eq!(cat.region("spain central").unwrap().name, "spaincentral");
    assert_eq!(cat.region(" Spain  Central ").unwrap().name, "spaincentral");
    assert!(cat.region("westeurope2").is_none());
    // Irregular service-tag spellings.
    let tag = |n: &str| cat.region(n).and_then(|r| r.service_tag.clone());
    assert_eq!(tag("francecentral").as_deref(), Some("centralfrance"));
    assert_eq!(tag("germanywestcentral").as_deref(), Some("germanywc"));
    assert_eq!(tag("switzerlandwest").as_deref(), Some("switzerlandw"));
    assert_eq!(tag("westeurope"), None);
    let tunnel = cat
        .entries
        .iter()
        .find(|e| e.id == "net.tunnel.1194")
        .unwrap();
    assert_eq!(
        tunnel.destination_for(cat.region("France Central")),
        "AzureCloud.centralfrance"
    );
    let hcp = cat.entries.iter().find(|e| e.id == "aks.hcp").unwrap();
    assert_eq!(
        hcp.destination_for(cat.region("France Central")),
        "*.hcp.francecentral.azmk8s.io"
    );
}

#[test]
fn close_regions_for_every_region() {
    let cat = load("current").unwrap();
    for r in &cat.regions {
        let name = &r.name;
        // Drop one character in the middle, and swap two.
        let mid = name.len() / 2;
        let dropped = format!("{}{}", &name[..mid], &name[mid + 1..]);
        let mut swapped: Vec<char> = name.chars().collect();
        swapped.swap(mid - 1, mid);
        let swapped: String = swapped.into_iter().collect();
        for typo in [dropped, swapped] {
            if cat.region(&typo).is_some() {
                continue;
            }
            let close = cat.close_regions(&typo);
            assert!(
                close.contains(&name.as_str()),
                "{typo} -> {close:?}, want {name}"
            );
        }
    }
    assert_eq!(cat.close_regions("westeurop").first(), Some(&"westeurope"));
    assert_eq!(
        cat.close_regions("West Eurpoe").first(),
        Some(&"westeurope")
    );
    assert!(cat.close_regions("nowhere-at-all-xyz").is_empty());
    assert!(cat.close_regions("").is_empty());
}

#[test]
fn gpu_vm_sizes() {
    for s in [
        "Standard_NC6s_v3",
        "Standard_ND96asr_v4",
        "Standard_NV36ads_A10_v5",
        "Standard_NC24ads_A100_v4",
        "Standard_NCC40ads_H100_v5",
        "Standard_NG8ads_V620_v1",
        "standard_nc4as_t4_v3",
        "NC6",
    ] {
        assert!(is_gpu_vm_size(s), "{s}");
    }
    for s in [
        "Standard_D4s_v5",
        "Standard_B2s",
        "Standard_E8ds_v5",
        "Standard_NP10s",
        "Standard_",
        "N",
        "",
        "Standard_DC4s_v3",
    ] {
        assert!(!is_gpu_vm_size(s), "{s}");
    }
}

// ---------------------------------------------------------------------------
// `--rules DIR`: broken catalogs give file, line and column.

fn dir_with(revision_text: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("current.yaml"), revision_text).unwrap();
    d
}

const GOOD: &str = "revision: current
entries:
  - id: a.one
    group: fqdn
    destination: !fqdn \"one.example.com\"
    protocol: https
    ports: [443]
    level: required
    clouds: [AzureCloud]
    rule: application
    reason: \"One\"
    source: \"test\"
  - id: a.two
    group: network
    destination: !service-tag \"AzureCloud.{location}\"
    protocol: udp
    ports: [1194]
    level: recommended
    clouds: [AzureCloud]
    unless: [private-cluster]
    rule: network
    reason: \"Two\"
    source: \"test\"
";

#[test]
fn load_dir_reads_a_folder() {
    let d = dir_with(&format!("\u{feff}{GOOD}"));
    let cat = load_dir(d.path(), "current").unwrap();
    assert_eq!(cat.entries.len(), 2);
    // regions.yaml and fqdn-tags.yaml fall back to the built-in ones, whose
    // coverage names ids this folder does not define: the tag covers nothing.
    assert!(cat.region("westeurope").is_some());
    assert!(cat.tag("AzureKubernetesService").is_some());
}

fn broken(text: &str) -> catalog::CatalogError {
    let d = dir_with(text);
    let e = load_dir(d.path(), "current").unwrap_err();
    assert!(e.file.ends_with("current.yaml"), "{}", e.file);
    e
}

#[test]
fn broken_yaml_gives_file_line_column() {
    let e = broken("revision: current\nentries:\n  - id: a.one\n    ports: [443\n");
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.column.is_some());
    let e = broken(&GOOD.replace("protocol: https", "protocol: htps"));
    assert_eq!((e.line, e.column), (Some(6), Some(15)), "{e}");
    assert!(e.message.contains("htps"), "{e}");
    let e = broken(&GOOD.replace(
        "    rule: application\n",
        "    rule: application\n    colour: red\n",
    ));
    assert_eq!(e.line, Some(11), "{e}");
    assert!(e.message.contains("colour"), "{e}");
}

#[test]
fn semantic_errors_point_at_the_entry() {
    let e = broken(&GOOD.replace("a.two", "a.one"));
    assert_eq!((e.line, e.column), (Some(13), Some(5)), "{e}");
    assert!(e.message.contains("duplicate entry id `a.one`"), "{e}");

    let e = broken(&GOOD.replace("ports: [1194]", "ports: []"));
    assert_eq!((e.line, e.column), (Some(17), Some(5)), "{e}");
    assert!(e.message.contains("no port"), "{e}");

    let e = broken(&GOOD.replace(
        "clouds: [AzureCloud]\n    rule: application",
        "clouds: []\n    rule: application",
    ));
    assert_eq!(e.line, Some(9), "{e}");
    assert!(e.message.contains("no cloud"), "{e}");

    let e = broken(&GOOD.replace("unless: [private-cluster]", "when: gpus"));
    assert_eq!(e.line, Some(20), "{e}");
    assert!(e.message.contains("`gpus`"), "{e}");

    let e = broken(&GOOD.replace("unless: [private-cluster]", "unless: [konnectivity]"));
    assert_eq!(e.line, Some(20), "{e}");

    let e = broken(&GOOD.replace("!fqdn \"one.example.com\"", "!placeholder \"{location}.x\""));
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.contains("{location}"), "{e}");

    let e = broken(&GOOD.replace("one.example.com", "{region}.example.com"));
    assert_eq!(e.line, Some(5), "{e}");

    let e = broken(&GOOD.replace("protocol: https", "protocol: udp"));
    assert_eq!(e.line, Some(10), "{e}");
    assert!(e.message.contains("application rules"), "{e}");

    let e = broken(&GOOD.replace("revision: current", "revision: 2020-01"));
    assert_eq!(e.line, Some(1), "{e}");

    let e = broken(&GOOD.replace("id: a.one", "id: single"));
    assert_eq!(e.line, Some(3), "{e}");
    // Display carries file:line:col.
    assert!(e.to_string().contains("current.yaml:3:5: "), "{e}");
}

#[test]
fn ids_inside_multiline_strings_never_panic() {
    // `id: a.two` is first written inside a quoted scalar of `a.one`, on a
    // line that starts with a two-byte character; the error about `a.two`
    // is still reported with a position.
    let text = GOOD
        .replace("reason: \"One\"", "reason: \"One\n\u{e9}id: a.two\"")
        .replace("ports: [1194]", "ports: []");
    let e = broken(&text);
    assert!(e.message.contains("`a.two` lists no port"), "{e}");
    assert!(e.line.is_some());
}

#[test]
fn broken_regions_and_tags_files() {
    let d = dir_with(GOOD);
    std::fs::write(
        d.path().join("regions.yaml"),
        "regions:\n  - {name: westeurope, display: West Europe, cloud: AzureCloud}\n  - {name: westeurope, display: West Europe, cloud: AzureCloud}\n",
    )
    .unwrap();
    let e = load_dir(d.path(), "current").unwrap_err();
    assert!(e.file.ends_with("regions.yaml"), "{e}");
    assert_eq!(e.line, Some(3), "{e}");

    std::fs::write(
        d.path().join("regions.yaml"),
        "regions:\n  - {name: westeurope, display: West Europe, cloud: AzureMoon}\n",
    )
    .unwrap();
    let e = load_dir(d.path(), "current").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");

    std::fs::remove_file(d.path().join("regions.yaml")).unwrap();
    std::fs::write(
        d.path().join("fqdn-tags.yaml"),
        "tags:\n  - name: AzureKubernetesService\n    source: x\n    covers:\n      current:\n        - a.one\n        - a.three\n",
    )
    .unwrap();
    let e = load_dir(d.path(), "current").unwrap_err();
    assert!(e.file.ends_with("fqdn-tags.yaml"), "{e}");
    assert_eq!((e.line, e.column), (Some(7), Some(11)), "{e}");
    assert!(e.message.contains("a.three"), "{e}");
}

#[test]
fn load_dir_rejects_bad_revision_names_and_missing_files() {
    let d = dir_with(GOOD);
    assert!(load_dir(d.path(), "../current").is_err());
    let e = load_dir(d.path(), "2020-01").unwrap_err();
    assert!(
        e.file.ends_with("2020-01.yaml") && e.message.contains("cannot read"),
        "{e}"
    );
}

#[test]
fn location_fills_every_destination_in_every_region() {
    for rev in REVISIONS {
        let cat = load(rev).unwrap();
        for r in &cat.regions {
            for e in cat.entries.iter().filter(|e| e.clouds.contains(&r.cloud)) {
                let d = e.destination_for(Some(r));
                assert!(
                    !d.contains('{') && !d.contains('}'),
                    "{rev} {} {}: {d}",
                    r.name,
                    e.id
                );
                assert!(!d.contains(' '), "{rev} {} {}: {d}", r.name, e.id);
            }
        }
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const PIECES: &[&str] = &[
        "id: a.one",
        "id: a.two",
        "\n",
        "  - ",
        ": ",
        "[",
        "]",
        "{location}",
        "{",
        "}",
        "\"",
        "é",
        "\u{feff}",
        "ports: []",
        "clouds: []",
        "when: gpu",
        "unless: [x]",
        "!fqdn ",
        "!bogus ",
        "&a ",
        "*a",
        "#",
        "\t",
        "---\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn load_dir_never_panics(edits in proptest::collection::vec((0..GOOD.len(), 0..PIECES.len()), 0..6)) {
            let mut text = GOOD.to_string();
            for (at, piece) in edits {
                let at = (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                text.insert_str(at, PIECES[piece]);
            }
            let d = dir_with(&text);
            if let Err(e) = load_dir(d.path(), "current") {
                prop_assert!(!e.message.is_empty());
                if let Some(l) = e.line {
                    prop_assert!(l <= text.lines().count() + 1, "{e}");
                }
            }
        }
    }
}

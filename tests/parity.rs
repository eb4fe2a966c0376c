//! One model, whichever format: every `testdata/parity-*` scenario is the
//! same configuration written three times (`bicep/main.bicep`, `arm/main.json`
//! in the shape `bicep build` emits, `terraform/main.tf`). Each folder is
//! linted on its own through the library, and the findings must match code
//! for code, endpoint for endpoint, cluster for cluster, and point at the
//! same construct (the route, rule, collection or resource of that name).

use aks_egress_lint::finding::{Finding, Report};
use aks_egress_lint::source::Sources;
use aks_egress_lint::{Options, lint};
use std::path::{Path, PathBuf};

const FORMATS: [(&str, &str); 3] = [
    ("bicep", "main.bicep"),
    ("arm", "main.json"),
    ("terraform", "main.tf"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn run(dir: &Path) -> (Report, Sources) {
    let opts = Options {
        paths: vec![dir.to_path_buf()],
        catalog: "current".into(),
        ..Default::default()
    };
    match lint(&opts) {
        Ok(r) => r,
        Err(e) => panic!("{}: {e}", dir.display()),
    }
}

/// The name of the construct a span covers: the first `name` property
/// inside it (`name: 'x'`, `"name": "x"`, `name = "x"`), which is the
/// route, rule, collection or resource the label is about in every format.
fn construct_name(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text.get(from..).and_then(|t| t.find("name")) {
        let at = from + pos;
        from = at + 4;
        let before = at.checked_sub(1).and_then(|i| bytes.get(i)).copied();
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        let rest = text.get(at + 4..)?.trim_start_matches('"').trim_start();
        let Some(rest) = rest.strip_prefix([':', '=']) else {
            continue;
        };
        let rest = rest.trim_start();
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let body = rest.get(1..)?;
        return body
            .find(quote)
            .and_then(|end| body.get(..end))
            .map(String::from);
    }
    None
}

/// What must agree across formats for one finding.
type Key = (
    String,
    String,
    Option<(String, String, u16)>,
    Option<String>,
    Option<String>,
);

fn key(f: &Finding, sources: &Sources) -> Key {
    let p = f.primary();
    let text = sources
        .get(p.span.file)
        .text
        .get(p.span.range.clone())
        .unwrap_or("");
    (
        f.code.as_str().to_string(),
        f.severity.as_str().to_string(),
        f.endpoint
            .as_ref()
            .map(|e| (e.destination.clone(), e.protocol.clone(), e.port)),
        f.cluster.clone(),
        construct_name(text),
    )
}

struct Linted {
    keys: Vec<Key>,
    clusters: usize,
    /// `line:col` of each primary label, in report order.
    positions: Vec<String>,
}

fn lint_format(scenario: &str, format: &str, file: &str) -> Linted {
    let dir = root().join(scenario).join(format);
    assert!(dir.join(file).is_file(), "{}", dir.display());
    let (report, sources) = run(&dir);
    let mut keys = vec![];
    let mut positions = vec![];
    for f in &report.findings {
        let p = f.primary();
        let shown = &sources.get(p.span.file).display;
        assert!(
            shown.ends_with(&format!("{scenario}/{format}/{file}")),
            "{scenario}/{format}: {} points at {shown}",
            f.code.as_str()
        );
        let (l, c, _, _) = sources.span_lines(&p.span);
        positions.push(format!("{l}:{c}"));
        keys.push(key(f, &sources));
    }
    keys.sort();
    Linted {
        keys,
        clusters: report.clusters.len(),
        positions,
    }
}

/// Lint the three formats of a scenario, assert they agree, and return the
/// Bicep findings' keys for the scenario's own expectations.
fn parity(scenario: &str) -> Vec<Key> {
    let mut all: Vec<(&str, Linted)> = FORMATS
        .iter()
        .map(|(format, file)| (*format, lint_format(scenario, format, file)))
        .collect();
    let (first_format, first) = all.remove(0);
    for (format, other) in &all {
        assert_eq!(
            first.keys, other.keys,
            "{scenario}: {first_format} and {format} disagree"
        );
        assert_eq!(
            first.clusters, other.clusters,
            "{scenario}: {first_format} and {format} see different clusters"
        );
    }
    first.keys
}

/// (code, count) of a key list, sorted by code.
fn counts(keys: &[Key]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = vec![];
    for k in keys {
        match out.iter_mut().find(|(c, _)| *c == k.0) {
            Some((_, n)) => *n += 1,
            None => out.push((k.0.clone(), 1)),
        }
    }
    out.sort();
    out
}

fn codes(list: &[(&str, usize)]) -> Vec<(String, usize)> {
    list.iter().map(|(c, n)| (c.to_string(), *n)).collect()
}

fn has(keys: &[Key], code: &str, dest: &str, proto: &str, port: u16, construct: &str) -> bool {
    keys.iter().any(|k| {
        k.0 == code
            && k.2 == Some((dest.into(), proto.into(), port))
            && k.4.as_deref() == Some(construct)
    })
}

#[test]
fn every_parity_scenario_has_three_formats() {
    let mut names: Vec<String> = std::fs::read_dir(root())
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("parity-"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for n in &names {
        parity(n);
    }
}

#[test]
fn complete_allow_list() {
    let keys = parity("parity-complete-allow-list");
    assert_eq!(keys, vec![]);
    // No finding because every path is allowed, not because nothing was read.
    for (format, file) in FORMATS {
        let l = lint_format("parity-complete-allow-list", format, file);
        assert_eq!(l.clusters, 1, "{format}");
    }
}

#[test]
fn fqdn_network_rule_no_dns_proxy() {
    let keys = parity("parity-fqdn-network-rule-no-dns-proxy");
    assert_eq!(
        keys,
        vec![(
            "AEL005".into(),
            "warning".into(),
            None,
            None,
            Some("ntp-fqdn".into())
        )]
    );
}

#[test]
fn nsg_denies_internet() {
    let keys = parity("parity-nsg-denies-internet");
    assert_eq!(counts(&keys), codes(&[("AEL001", 9), ("AEL002", 8)]));
    assert!(
        keys.iter()
            .all(|k| k.4.as_deref() == Some("deny-internet") && k.3.as_deref() == Some("aks-nsg")),
        "{keys:#?}"
    );
    assert!(has(
        &keys,
        "AEL001",
        "mcr.microsoft.com",
        "tcp",
        443,
        "deny-internet"
    ));
    assert!(has(
        &keys,
        "AEL002",
        "ntp.ubuntu.com",
        "udp",
        123,
        "deny-internet"
    ));
    // The rule object in each format.
    let at = |format, file| lint_format("parity-nsg-denies-internet", format, file).positions;
    assert!(at("bicep", "main.bicep").iter().all(|p| p == "10:7"));
    assert!(at("arm", "main.json").iter().all(|p| p == "20:11"));
    assert!(at("terraform", "main.tf").iter().all(|p| p == "15:3"));
}

#[test]
fn route_black_hole() {
    let keys = parity("parity-route-black-hole");
    assert_eq!(
        keys,
        vec![(
            "AEL004".into(),
            "error".into(),
            None,
            Some("aks-blackhole".into()),
            Some("default-drop".into())
        )]
    );
    // The route `default-drop` in each format.
    let at = |format, file| lint_format("parity-route-black-hole", format, file).positions;
    assert_eq!(at("bicep", "main.bicep"), ["10:7"]);
    assert_eq!(at("arm", "main.json"), ["19:11"]);
    assert_eq!(at("terraform", "main.tf"), ["15:3"]);
}

#[test]
fn udr_missing_fqdns() {
    let keys = parity("parity-udr-missing-fqdns");
    assert_eq!(counts(&keys), codes(&[("AEL001", 2), ("AEL002", 5)]));
    let errors: Vec<&Key> = keys.iter().filter(|k| k.0 == "AEL001").collect();
    assert_eq!(errors.len(), 2);
    assert!(has(
        &keys,
        "AEL001",
        "packages.aks.azure.com",
        "tcp",
        443,
        "aks-fqdns"
    ));
    assert!(has(
        &keys,
        "AEL001",
        "acs-mirror.azureedge.net",
        "tcp",
        443,
        "aks-fqdns"
    ));
    // No API server rule: the network rule collection is where it belongs.
    assert!(has(
        &keys,
        "AEL002",
        "APIServerPublicIP",
        "tcp",
        443,
        "aks-network"
    ));
    assert!(keys.iter().all(|k| k.3.as_deref() == Some("aks-parity")));
}

#[test]
fn udr_without_default_route() {
    let keys = parity("parity-udr-without-default-route");
    assert_eq!(
        keys,
        vec![(
            "AEL007".into(),
            "error".into(),
            None,
            Some("aks-udr".into()),
            Some("rt-nodes".into())
        )]
    );
}

/// `main.bicep` committed next to its compiled `main.json`: each finding
/// once, on the Bicep source.
#[test]
fn bicep_with_compiled_json_reports_once_on_the_bicep_file() {
    let dir = root().join("bicep-with-compiled-json");
    assert!(dir.join("main.json").is_file() && dir.join("main.bicep").is_file());
    let (report, sources) = run(&dir);
    for f in &report.findings {
        for l in &f.labels {
            let shown = &sources.get(l.span.file).display;
            assert!(
                shown.ends_with("bicep-with-compiled-json/main.bicep"),
                "{} has a label on {shown}",
                f.code.as_str()
            );
        }
    }
    let mut keys: Vec<Key> = report.findings.iter().map(|f| key(f, &sources)).collect();
    keys.sort();
    let mut unique = keys.clone();
    unique.dedup();
    assert_eq!(keys, unique, "findings are doubled");
    // Exactly what the same configuration gives in one format alone.
    assert_eq!(keys, parity("parity-udr-missing-fqdns"));
    assert_eq!(report.clusters.len(), 1);
}

#[test]
fn construct_names() {
    assert_eq!(construct_name("{\n  name: 'a'\n}"), Some("a".into()));
    assert_eq!(construct_name("{ \"name\": \"b\" }"), Some("b".into()));
    assert_eq!(
        construct_name("x {\n  resource_group_name = \"no\"\n  name = \"c\"\n}"),
        Some("c".into())
    );
    assert_eq!(construct_name("{ dnsPrefix: 'x' }"), None);
}

#[test]
fn classic_firewall_loop() {
    let keys = parity("parity-classic-firewall-loop");
    assert_eq!(counts(&keys), codes(&[("AEL002", 4)]));
    assert!(has(
        &keys,
        "AEL002",
        "ntp.ubuntu.com",
        "udp",
        123,
        "aks-network"
    ));
    for host in [
        "security.ubuntu.com",
        "azure.archive.ubuntu.com",
        "changelogs.ubuntu.com",
    ] {
        assert!(has(&keys, "AEL002", host, "tcp", 80, "aks-fqdns"), "{host}");
    }
    assert!(keys.iter().all(|k| k.3.as_deref() == Some("aks-classic")));
}

//! Scenarios of `testdata/eval-*`: each is read into a model, checked, and
//! its findings compared with a snapshot and with exact primary positions.

mod common;

use aks_egress_lint::checks::{Overrides, run};
use aks_egress_lint::explain::{AllowSetArgs, ExplainArgs, Format, allow_set, explain};
use aks_egress_lint::finding::{ClusterSummary, Code, Finding, Severity};
use aks_egress_lint::model::Model;
use aks_egress_lint::source::Sources;
use common::{catalog, render};

struct Run {
    findings: Vec<Finding>,
    summaries: Vec<ClusterSummary>,
    sources: Sources,
}

fn scenario_with(name: &str, ov: &Overrides) -> Run {
    let dir = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    files.sort();
    let mut sources = Sources::new();
    let mut model = Model::default();
    for p in files {
        let text = std::fs::read_to_string(&p).unwrap();
        let shown = format!(
            "testdata/{name}/{}",
            p.file_name().unwrap().to_string_lossy()
        );
        let id = sources.add_named(&shown, text.clone());
        model.merge(common::tf::read(id, &text));
    }
    // Public LoadBalancer Services, as the Kubernetes frontend reports them.
    for e in std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()) {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let shown = format!(
            "testdata/{name}/{}",
            p.file_name().unwrap().to_string_lossy()
        );
        let id = sources.add_named(&shown, text.clone());
        if text.contains("type: LoadBalancer") && !text.contains("azure-load-balancer-internal") {
            let start = text.find("kind: Service").unwrap();
            model
                .public_inbound
                .push(aks_egress_lint::model::PublicInbound {
                    decl: aks_egress_lint::model::Decl {
                        keys: vec![],
                        name: None,
                        span: aks_egress_lint::source::Span::new(id, start..start + 13),
                        label: "Service web".into(),
                        condition: None,
                    },
                    description:
                        "Service `web` of type LoadBalancer without the internal annotation".into(),
                });
        }
    }
    let (findings, summaries) = run(&model, &sources, &catalog(), ov);
    Run {
        findings,
        summaries,
        sources,
    }
}

fn scenario(name: &str) -> Run {
    scenario_with(name, &Overrides::default())
}

fn codes(r: &Run) -> Vec<Code> {
    let mut c: Vec<Code> = r.findings.iter().map(|f| f.code).collect();
    c.sort();
    c
}

fn errors(r: &Run) -> Vec<&Finding> {
    r.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

fn at(r: &Run, code: Code, dest: &str) -> (String, usize, usize) {
    let f = r
        .findings
        .iter()
        .find(|f| f.code == code && f.endpoint.as_ref().is_some_and(|e| e.destination == dest))
        .unwrap_or_else(|| panic!("no {code} for {dest}:\n{}", render(&r.findings, &r.sources)));
    common::pos(f, &r.sources)
}

#[test]
fn policy_clean_has_no_error() {
    let r = scenario("eval-policy-clean");
    assert!(errors(&r).is_empty(), "{}", render(&r.findings, &r.sources));
    assert_eq!(r.summaries.len(), 1);
}

#[test]
fn policy_missing_mcr() {
    let r = scenario("eval-policy-missing-mcr");
    assert_eq!(
        codes(&r),
        [Code::AEL001, Code::AEL001],
        "{}",
        render(&r.findings, &r.sources)
    );
    // The application collection that lacks it; the network collection that
    // lacks the API server address.
    assert_eq!(
        at(&r, Code::AEL001, "mcr.microsoft.com"),
        ("testdata/eval-policy-missing-mcr/main.tf".into(), 84, 3)
    );
    assert_eq!(
        at(&r, Code::AEL001, "APIServerPublicIP"),
        ("testdata/eval-policy-missing-mcr/main.tf".into(), 57, 3)
    );
    insta::assert_snapshot!(render(&r.findings, &r.sources));
}

/// (scenario, expected codes, sorted)
const TABLE: &[(&str, &[Code])] = &[
    ("eval-policy-clean", &[]),
    ("eval-policy-public-clean", &[]),
    ("eval-classic-fqdn-tag-clean", &[]),
    ("eval-udr-clean", &[]),
    ("eval-china-clean", &[]),
    ("eval-gov-clean", &[]),
    ("eval-nsg-vnet-quirk-clean", &[]),
    ("eval-internal-deny-other-subnet", &[]),
    ("eval-asymmetric-routing-dnat", &[]),
    ("eval-policy-missing-mcr", &[Code::AEL001, Code::AEL001]),
    ("eval-broad-rule-only", &[Code::AEL009]),
    (
        "eval-classic-ntp-without-dns-proxy",
        &[Code::AEL002, Code::AEL005],
    ),
    ("eval-nsg-deny-internet", &[Code::AEL001; 6]),
    ("eval-black-hole-none", &[Code::AEL004]),
    ("eval-black-hole-mistyped-ip", &[Code::AEL004]),
    ("eval-hub-elsewhere", &[Code::AEL008]),
    ("eval-udr-without-default-route", &[Code::AEL007]),
    ("eval-udr-association-unknown", &[Code::AEL008]),
    ("eval-unresolved-next-hop", &[Code::AEL008]),
    ("eval-internal-deny", &[Code::AEL003]),
    ("eval-internal-route", &[Code::AEL003]),
    ("eval-asymmetric-routing", &[Code::AEL006]),
    ("eval-custom-dns-blocked", &[Code::AEL001]),
    ("eval-http-proxy", &[Code::AEL008]),
    ("eval-isolated", &[Code::AEL008]),
    ("eval-policy-parent-deny", &[Code::AEL001]),
    ("eval-managed-vnet", &[Code::AEL008]),
    ("eval-ip-groups-clean", &[]),
    ("eval-orphan-pool", &[Code::AEL008]),
    ("eval-unknown-action", &[Code::AEL008]),
    ("eval-dns-proxy-inherited-clean", &[]),
    ("eval-dns-proxy-overridden", &[Code::AEL002, Code::AEL005]),
    (
        "eval-pod-subnet-not-allowed",
        &[
            Code::AEL001,
            Code::AEL001,
            Code::AEL001,
            Code::AEL001,
            Code::AEL001,
            Code::AEL001,
            Code::AEL002,
        ],
    ),
    ("eval-nsg-only", &[Code::AEL001; 8]),
];

#[test]
fn scenario_table() {
    let mut failures = vec![];
    for (name, want) in TABLE {
        let r = scenario(name);
        if codes(&r) != *want {
            failures.push(format!(
                "{name}: got {:?}\n{}",
                codes(&r),
                render(&r.findings, &r.sources)
            ));
        }
        insta::assert_snapshot!(*name, render(&r.findings, &r.sources));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn load(name: &str) -> (Model, Sources) {
    let dir = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    files.sort();
    let mut sources = Sources::new();
    let mut model = Model::default();
    for p in files {
        let text = std::fs::read_to_string(&p).unwrap();
        let shown = format!(
            "testdata/{name}/{}",
            p.file_name().unwrap().to_string_lossy()
        );
        let id = sources.add_named(&shown, text.clone());
        model.merge(common::tf::read(id, &text));
    }
    (model, sources)
}

fn explain_out(name: &str, cluster: Option<&str>, to: &str, format: Format) -> (i32, String) {
    let (model, sources) = load(name);
    let args = ExplainArgs {
        cluster: cluster.map(String::from),
        to: to.into(),
        format,
    };
    let mut out = vec![];
    let code = explain(
        &model,
        &sources,
        &catalog(),
        &Overrides::default(),
        &args,
        &mut out,
    )
    .unwrap();
    (code, String::from_utf8(out).unwrap())
}

#[test]
fn explain_denied_flow() {
    let (code, out) = explain_out(
        "eval-policy-missing-mcr",
        Some("aks-main"),
        "mcr.microsoft.com",
        Format::Human,
    );
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn explain_allowed_flow_json() {
    let (code, out) = explain_out(
        "eval-policy-public-clean",
        None,
        "AzureCloud.westeurope:1194/udp",
        Format::Json,
    );
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["verdict"], "allowed");
    insta::assert_snapshot!(out);
}

#[test]
fn explain_usage_errors() {
    assert_eq!(
        explain_out(
            "eval-policy-clean",
            Some("nope"),
            "mcr.microsoft.com",
            Format::Human
        )
        .0,
        2
    );
    assert_eq!(
        explain_out(
            "eval-policy-clean",
            None,
            "ntp.ubuntu.com/udp",
            Format::Human
        )
        .0,
        2
    );
}

#[test]
fn allow_set_outputs() {
    let (model, sources) = load("eval-policy-public-clean");
    for format in [Format::Human, Format::Json] {
        let mut out = vec![];
        let args = AllowSetArgs {
            cluster: None,
            format,
        };
        let code = allow_set(
            &model,
            &sources,
            &catalog(),
            &Overrides::default(),
            &args,
            &mut out,
        )
        .unwrap();
        assert_eq!(code, 0);
        let out = String::from_utf8(out).unwrap();
        if format == Format::Json {
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["clusters"][0]["name"], "aks-main");
        }
        insta::assert_snapshot!(format!("allow_set_{format:?}"), out);
    }
    let mut out = vec![];
    let args = AllowSetArgs {
        cluster: Some("other".into()),
        format: Format::Human,
    };
    assert_eq!(
        allow_set(
            &model,
            &sources,
            &catalog(),
            &Overrides::default(),
            &args,
            &mut out
        )
        .unwrap(),
        2
    );
}

#[test]
fn cluster_summary_path_and_verdicts() {
    let r = scenario("eval-policy-missing-mcr");
    let s = &r.summaries[0];
    assert_eq!(s.name, "aks-main");
    assert_eq!(s.source.as_deref(), Some("aks-nodes"));
    let hops: Vec<(&str, &str, bool)> = s
        .path
        .iter()
        .map(|h| (h.kind.as_str(), h.name.as_str(), h.blocking))
        .collect();
    assert_eq!(
        hops,
        [
            ("subnet", "aks-nodes", false),
            ("route-table", "aks-udr", false),
            ("firewall", "fw-hub", false),
            ("firewall-policy", "fw-pol", true),
            ("internet", "Internet", false),
        ]
    );
    let mcr = s
        .verdicts
        .iter()
        .find(|v| v.endpoint.destination == "mcr.microsoft.com")
        .unwrap();
    assert_eq!(mcr.verdict, aks_egress_lint::finding::Verdict::Denied);
    assert_eq!(mcr.level, "required");
    let tunnel = s.verdicts.iter().find(|v| v.endpoint.port == 1194).unwrap();
    assert_eq!(tunnel.verdict, aks_egress_lint::finding::Verdict::Allowed);
    assert!(
        tunnel
            .decided_by
            .as_ref()
            .unwrap()
            .message
            .contains("tunnel-udp")
    );
}

#[test]
fn explain_unknown_flow() {
    let (code, out) = explain_out(
        "eval-broad-rule-only",
        None,
        "mcr.microsoft.com:443/https",
        Format::Human,
    );
    assert_eq!(code, 1);
    assert!(out.contains("overall: unknown"), "{out}");
    insta::assert_snapshot!(out);
}

/// Where each code puts its primary label: the rule, route or collection
/// that decided it.
#[test]
fn primary_positions_per_code() {
    let table: &[(&str, Code, usize, usize, &str)] = &[
        (
            "eval-policy-missing-mcr",
            Code::AEL001,
            57,
            3,
            "network_rule_collection {",
        ),
        (
            "eval-nsg-deny-internet",
            Code::AEL001,
            30,
            3,
            "security_rule {",
        ),
        ("eval-policy-parent-deny", Code::AEL001, 55, 5, "rule {"),
        (
            "eval-classic-ntp-without-dns-proxy",
            Code::AEL002,
            45,
            1,
            "resource \"azurerm_firewall_network_rule_collection\"",
        ),
        ("eval-internal-deny", Code::AEL003, 23, 3, "security_rule {"),
        ("eval-internal-route", Code::AEL003, 42, 3, "route {"),
        ("eval-black-hole-none", Code::AEL004, 22, 3, "route {"),
        (
            "eval-black-hole-mistyped-ip",
            Code::AEL004,
            26,
            5,
            "next_hop_in_ip_address",
        ),
        (
            "eval-classic-ntp-without-dns-proxy",
            Code::AEL005,
            59,
            3,
            "rule {",
        ),
        ("eval-asymmetric-routing", Code::AEL006, 23, 3, "route {"),
        (
            "eval-udr-without-default-route",
            Code::AEL007,
            21,
            1,
            "resource \"azurerm_route_table\"",
        ),
        (
            "eval-unresolved-next-hop",
            Code::AEL008,
            26,
            5,
            "next_hop_in_ip_address",
        ),
        ("eval-broad-rule-only", Code::AEL009, 75, 5, "rule {"),
    ];
    for (name, code, line, col, starts) in table {
        let r = scenario(name);
        let f = r
            .findings
            .iter()
            .filter(|f| f.code == *code)
            .min_by_key(|f| f.primary().span.range.start)
            .unwrap_or_else(|| panic!("{name}: no {code}"));
        let (file, l, c) = common::pos(f, &r.sources);
        assert_eq!(file, format!("testdata/{name}/main.tf"), "{name}");
        assert_eq!((l, c), (*line, *col), "{name} {code}");
        assert!(
            r.sources.slice(&f.primary().span).starts_with(starts),
            "{name} {code}: {}",
            r.sources.slice(&f.primary().span)
        );
    }
}

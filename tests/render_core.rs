//! Human and JSON renderers on hand-built findings.

use aks_egress_lint::finding::{ClusterSummary, Code, Endpoint, Finding, Report};
use aks_egress_lint::render::{human, json};
use aks_egress_lint::source::{Sources, Span};

const FIREWALL: &str = r#"resource "azurerm_firewall_policy_rule_collection_group" "aks" {
  name     = "rcg-aks"
  priority = 200

  application_rule_collection {
    name     = "aks-fqdns"
    priority = 200
    action   = "Allow"
  }
}
"#;

const CLUSTER: &str = r#"resource "azurerm_kubernetes_cluster" "main" {
  name     = "aks-main"
  location = "westeurope"
}
"#;

fn span_of(sources: &Sources, file: aks_egress_lint::source::FileId, needle: &str) -> Span {
    let start = sources
        .text(file)
        .find(needle)
        .expect("needle in test source");
    Span::new(file, start..start + needle.len())
}

fn two_file_report() -> (Report, Sources) {
    let mut sources = Sources::new();
    let fw = sources.add_named("infra/firewall.tf", FIREWALL);
    let aks = sources.add_named("infra/aks.tf", CLUSTER);
    let f = Finding::new(
        Code::AEL001,
        "egress to `mcr.microsoft.com:443/tcp` is not allowed by rule collection `aks-fqdns`",
        span_of(&sources, fw, "application_rule_collection"),
        "no rule here allows `mcr.microsoft.com`",
    )
    .related(
        span_of(
            &sources,
            aks,
            "resource \"azurerm_kubernetes_cluster\" \"main\"",
        ),
        "cluster `aks-main` needs it",
    )
    .help("add `mcr.microsoft.com` to `destination_fqdns`")
    .cluster("aks-main")
    .endpoint(Endpoint {
        destination: "mcr.microsoft.com".into(),
        protocol: "tcp".into(),
        port: 443,
    });
    let summary = ClusterSummary {
        name: "aks-main".into(),
        span: span_of(&sources, aks, "resource"),
        source: None,
        path: vec![],
        verdicts: vec![],
    };
    (
        Report {
            findings: vec![f],
            files: 2,
            clusters: vec![summary],
        },
        sources,
    )
}

#[test]
fn human_two_labels_in_two_files() {
    let (report, sources) = two_file_report();
    let mut out = Vec::new();
    human::write(&mut out, &report, &sources, human::HumanOptions::default()).unwrap();
    let text = String::from_utf8(out).unwrap();
    insta::assert_snapshot!(text);
}

#[test]
fn json_v1_keys_and_positions() {
    let (report, sources) = two_file_report();
    let mut out = Vec::new();
    json::write(&mut out, &report, &sources).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&v), ["findings", "summary", "tool", "version"]);
    assert_eq!(v["version"], 1);
    assert_eq!(v["tool"]["name"], "aks-egress-lint");
    let f = &v["findings"][0];
    assert_eq!(
        keys(f),
        [
            "cluster",
            "code",
            "column",
            "end_column",
            "end_line",
            "endpoint",
            "file",
            "help",
            "line",
            "message",
            "name",
            "related",
            "severity"
        ]
    );
    assert_eq!(f["code"], "AEL001");
    assert_eq!(f["name"], "missing-required-endpoint");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["file"], "infra/firewall.tf");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(5), Some(3))
    );
    assert_eq!(
        (f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(5), Some(30))
    );
    assert_eq!(
        f["endpoint"],
        serde_json::json!({"destination": "mcr.microsoft.com", "protocol": "tcp", "port": 443})
    );
    assert_eq!(f["related"][0]["file"], "infra/aks.tf");
    assert_eq!(
        (
            f["related"][0]["line"].as_u64(),
            f["related"][0]["column"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        v["summary"],
        serde_json::json!({"files": 2, "clusters": 1, "errors": 1, "warnings": 0, "notes": 0})
    );
}

#[test]
fn human_groups_findings_that_differ_only_by_endpoint() {
    let (mut report, _sources) = two_file_report();
    let mut second = report.findings[0].clone();
    second.message = second
        .message
        .replace("mcr.microsoft.com", "packages.aks.azure.com");
    second.endpoint = Some(Endpoint {
        destination: "packages.aks.azure.com".into(),
        protocol: "tcp".into(),
        port: 443,
    });
    report.findings.push(second);
    let grouped = human::group(&report.findings);
    assert_eq!(grouped.len(), 1);
    assert!(
        grouped[0].message.contains("2 endpoints"),
        "{}",
        grouped[0].message
    );
    let help = grouped[0].help.as_deref().unwrap_or("");
    assert!(
        help.contains("`mcr.microsoft.com:443/tcp`")
            && help.contains("`packages.aks.azure.com:443/tcp`"),
        "{help}"
    );
    // A finding without an endpoint is never folded into another.
    let mut plain = report.findings[0].clone();
    plain.endpoint = None;
    report.findings.push(plain);
    assert_eq!(human::group(&report.findings).len(), 2);
}

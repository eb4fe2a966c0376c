//! NSG exports (`az network nsg show|list`, `az network nsg rule list`,
//! portal export) into the model, with exact spans.

use aks_egress_lint::discover::{FileKind, sniff_json};
use aks_egress_lint::frontend::nsg;
use aks_egress_lint::model::*;
use aks_egress_lint::source::{Sources, Span};
use std::path::Path;

fn load(dir: &str) -> (Sources, Model) {
    let mut sources = Sources::new();
    let mut files = vec![];
    let mut entries: Vec<_> = std::fs::read_dir(Path::new("testdata").join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(sniff_json(&text), Some(FileKind::NsgExport), "{p:?}");
        files.push(sources.add(&p, text));
    }
    let m = nsg::load(&sources, &files);
    (sources, m)
}

fn at(s: &Sources, span: &Span) -> (usize, usize, String) {
    let (l, c, _, _) = s.span_lines(span);
    (l, c, s.slice(span).to_string())
}

fn known<T: Clone + std::fmt::Debug>(a: &Attr<T>) -> T {
    match &a.value {
        Value::Known(v) => v.clone(),
        other => panic!("expected a known value, got {other:?}"),
    }
}

#[test]
fn az_nsg_show() {
    let (s, m) = load("nsg-az-show");
    assert!(m.findings.is_empty());
    assert_eq!(m.nsgs.len(), 1);
    let n = &m.nsgs[0];
    assert!(n.from_export);
    assert_eq!(
        n.decl.keys,
        vec![ResKey(
            "arm:microsoft.network/networksecuritygroups/nsg-aks-nodes".into()
        )]
    );
    assert_eq!(
        n.decl.label,
        "Microsoft.Network/networkSecurityGroups 'nsg-aks-nodes'"
    );
    assert_eq!(n.rules.len(), 2);
    let deny = &n.rules[0];
    assert!(!deny.is_default);
    assert_eq!(known(&deny.priority), 200);
    assert_eq!(known(&deny.access), "Deny");
    // The empty plural list does not hide the singular value.
    assert_eq!(known(&deny.destination_addresses), vec!["Internet"]);
    assert_eq!(known(&deny.destination_ports), vec!["80", "443"]);
    assert_eq!(
        at(&s, &deny.destination_ports.span),
        (36, 32, "[\"80\", \"443\"]".into())
    );
    let def = &n.rules[1];
    assert!(def.is_default);
    assert_eq!(known(&def.priority), 65001);
    assert_eq!(at(&s, &def.priority.span), (14, 19, "65001".into()));
    assert_eq!(
        n.subnets.iter().map(known).collect::<Vec<_>>(),
        vec![ResKey(
            "arm:microsoft.network/virtualnetworks/vnet-spoke/subnets/snet-aks-nodes".into()
        )]
    );
}

#[test]
fn az_nsg_list() {
    let (_, m) = load("nsg-az-list");
    assert_eq!(m.nsgs.len(), 2);
    assert_eq!(
        known(&m.nsgs[0].rules[0].destination_addresses),
        vec!["AzureCloud.westeurope"]
    );
    assert!(m.nsgs[1].rules.is_empty());
    assert_eq!(m.nsgs[1].decl.name.as_ref().unwrap().value, "nsg-b");
}

#[test]
fn az_nsg_rule_list_groups_by_nsg() {
    let (s, m) = load("nsg-rule-list");
    assert_eq!(m.nsgs.len(), 1);
    let n = &m.nsgs[0];
    assert_eq!(
        n.decl.keys,
        vec![ResKey(
            "arm:microsoft.network/networksecuritygroups/nsg-locked".into()
        )]
    );
    assert_eq!(n.rules.len(), 2);
    assert_eq!(
        known(&n.rules[1].destination_addresses),
        vec!["10.0.1.4", "10.0.1.5"]
    );
    assert_eq!(at(&s, &n.rules[0].priority.span).0, 9);
    assert_eq!(
        n.rules[0].decl.keys,
        vec![ResKey(
            "arm:microsoft.network/networksecuritygroups/nsg-locked/securityrules/deny-all-out"
                .into()
        )]
    );
}

#[test]
fn portal_export_with_properties() {
    let (s, m) = load("nsg-portal-export");
    let n = &m.nsgs[0];
    assert_eq!(n.rules.len(), 2);
    let r = &n.rules[0];
    assert_eq!(known(&r.protocol), "TCP");
    assert_eq!(known(&r.destination_ports), vec!["443"]);
    assert_eq!(
        at(&s, &r.destination_ports.span),
        (16, 35, "\"443\"".into())
    );
    assert!(n.rules[1].is_default);
    assert_eq!(n.subnets.len(), 1);
}

#[test]
fn broken_export_is_a_parse_error() {
    let mut sources = Sources::new();
    let f = sources.add_named("bad.json", "{\"securityRules\": [\n  {\"name\": }\n]}");
    let m = nsg::load(&sources, &[f]);
    assert_eq!(m.findings.len(), 1);
    let (l, c, _, _) = sources.span_lines(&m.findings[0].primary().span);
    assert_eq!((l, c), (2, 12)); // the `}` where a value belongs
}

#[test]
fn rest_list_and_nsg_without_id() {
    let mut sources = Sources::new();
    let f = sources.add_named(
        "list.json",
        "\u{feff}{\"value\": [{\"name\": \"nsg-x\", \"properties\": {\"securityRules\": [\n  {\"name\": \"r\", \"properties\": {\"priority\": \"150\", \"direction\": \"Outbound\", \"access\": \"Allow\", \"protocol\": \"Udp\", \"sourceAddressPrefix\": \"*\", \"sourcePortRange\": \"*\", \"destinationAddressPrefix\": \"*\", \"destinationPortRange\": \"123\"}}]}}]}",
    );
    let m = nsg::load(&sources, &[f]);
    assert!(m.findings.is_empty(), "{:#?}", m.findings);
    let n = &m.nsgs[0];
    assert_eq!(
        n.decl.keys,
        vec![ResKey(
            "arm:microsoft.network/networksecuritygroups/nsg-x".into()
        )]
    );
    let r = &n.rules[0];
    assert_eq!(known(&r.priority), 150);
    assert_eq!(
        r.decl.keys,
        vec![ResKey(
            "arm:microsoft.network/networksecuritygroups/nsg-x/securityrules/r".into()
        )]
    );
    assert_eq!(at(&sources, &r.priority.span), (2, 44, "\"150\"".into()));
}

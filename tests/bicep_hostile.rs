//! Hostile Bicep: never a panic, a hang or a stack overflow.

use aks_egress_lint::finding::Code;
use aks_egress_lint::frontend::FrontendOptions;
use aks_egress_lint::frontend::bicep;
use aks_egress_lint::model::Model;
use aks_egress_lint::source::Sources;
use proptest::prelude::*;
use std::time::{Duration, Instant};

fn load(files: &[(&str, String)]) -> (Model, Duration) {
    let mut src = Sources::new();
    let (mut b, mut p) = (vec![], vec![]);
    for (name, text) in files {
        let id = src.add_named(name, text.clone());
        if name.ends_with(".bicepparam") {
            p.push(id);
        } else {
            b.push(id);
        }
    }
    let t = Instant::now();
    let m = bicep::load(&src, &b, &p, &FrontendOptions::default());
    (m, t.elapsed())
}

fn codes(m: &Model) -> Vec<Code> {
    m.findings.iter().map(|f| f.code).collect()
}

#[test]
fn deep_nesting_is_a_parse_error() {
    for (open, close) in [("[", "]"), ("{ a: ", "}"), ("(", ")"), ("!", "")] {
        let text = format!("var x = {}1{}\n", open.repeat(50_000), close.repeat(50_000));
        let (m, t) = load(&[("deep.bicep", text)]);
        assert!(codes(&m).contains(&Code::AEL000), "{open}");
        assert!(t < Duration::from_secs(20), "{open}: {t:?}");
    }
}

#[test]
fn binary_and_garbage() {
    let bytes: String = (1u8..=255)
        .map(|b| b as char)
        .cycle()
        .take(100_000)
        .collect();
    let (m, _) = load(&[
        ("bin.bicep", bytes),
        ("bin.bicepparam", "\u{0}param = = =".into()),
    ]);
    assert!(codes(&m).iter().all(|c| *c == Code::AEL000));
    assert!(!m.findings.is_empty());
}

#[test]
fn cycles_and_blowups_end() {
    let mut text = String::from("var a = b\nvar b = a\nvar v0 = [\n  1\n  2\n]\n");
    for i in 1..80 {
        text.push_str(&format!("var v{i} = [\n  v{}\n  v{}\n]\n", i - 1, i - 1));
    }
    text.push_str("func f(x int) int => f(x)\nvar r = f(1)\n");
    text.push_str("var big = [for i in range(0, 1000000000): i]\n");
    text.push_str("var nested = [for i in range(0, 1000): [for j in range(0, 1000): [for k in range(0, 1000): k]]]\n");
    text.push_str(
        "resource rt 'Microsoft.Network/routeTables@2024-05-01' = {\n  name: 'rt'\n  properties: {\n    a: a\n    v: v79\n    r: r\n    big: big\n    nested: nested\n  }\n}\n",
    );
    let (m, t) = load(&[("blowup.bicep", text)]);
    assert_eq!(m.route_tables.len(), 1);
    assert!(t < Duration::from_secs(30), "{t:?}");
}

#[test]
fn deep_module_chain_and_self_module() {
    let mut files = vec![];
    for i in 0..60 {
        files.push((
            format!("m{i}.bicep"),
            format!(
                "module next './m{}.bicep' = {{\n  name: 'n'\n}}\nresource rt 'Microsoft.Network/routeTables@2024-05-01' = {{\n  name: 'rt{i}'\n}}\n",
                i + 1
            ),
        ));
    }
    files.push((
        "self.bicep".into(),
        "module me './self.bicep' = {\n  name: 'me'\n}\n".into(),
    ));
    let refs: Vec<(&str, String)> = files.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let (m, t) = load(&refs);
    assert!(codes(&m).contains(&Code::AEL008));
    assert!(m.route_tables.len() >= 30, "{}", m.route_tables.len());
    assert!(t < Duration::from_secs(20), "{t:?}");
}

#[test]
fn huge_file() {
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!(
            "resource r{i} 'Microsoft.Network/routeTables@2024-05-01' = {{\n  name: 'rt-{i}'\n  properties: {{\n    routes: [\n      {{\n        name: 'default'\n        properties: {{\n          addressPrefix: '0.0.0.0/0'\n          nextHopType: 'Internet'\n        }}\n      }}\n    ]\n  }}\n}}\n"
        ));
    }
    let (m, t) = load(&[("huge.bicep", text)]);
    assert_eq!(m.route_tables.len(), 20_000);
    assert!(t < Duration::from_secs(60), "{t:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn never_panics(text in "(param |var |resource |module |for |if |\\[|\\]|\\{|\\}|\\(|\\)|'|\\$\\{|//|/\\*|\\*/|\\.\\.\\.|\\.|::|:|=|\\?|!|\\n|x|y|1|'a@b'|'\\./x\\.bicep'| )*") {
        let _ = load(&[("p.bicep", text.clone()), ("p.bicepparam", text)]);
    }
}

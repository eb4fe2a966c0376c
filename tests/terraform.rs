//! Terraform frontend scenarios: each `testdata/tf-*` folder read into the
//! model, with assertions on values and exact spans.

use aks_egress_lint::discover::{DiscoverOptions, Discovered, FileKind, discover};
use aks_egress_lint::finding::Code;
use aks_egress_lint::frontend::{FrontendOptions, terraform};
use aks_egress_lint::model::*;
use aks_egress_lint::source::Span;
use std::path::PathBuf;

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn run(name: &str, mut opts: FrontendOptions) -> (Discovered, Model) {
    let root = dir(name);
    let d = discover(std::slice::from_ref(&root), &DiscoverOptions::default()).expect("discover");
    opts.root = root;
    let plans: Vec<_> = d.of_kind(FileKind::TerraformPlan).collect();
    let m = terraform::load(&d.sources, &d.tf_modules, &plans, &opts);
    (d, m)
}

/// `file:line:col` of a span start, and the text it covers.
fn at(d: &Discovered, s: &Span) -> (String, String) {
    let f = d.sources.get(s.file);
    let (l, c) = f.line_col(s.range.start);
    let name = f.path.file_name().unwrap().to_string_lossy().to_string();
    (format!("{name}:{l}:{c}"), d.sources.slice(s).to_string())
}

fn k<T: Clone + std::fmt::Debug>(a: &Attr<T>) -> T {
    match &a.value {
        Value::Known(v) => v.clone(),
        other => panic!("not known: {other:?}"),
    }
}

fn by_label<'m, T>(items: &'m [T], label: &str, decl: impl Fn(&T) -> &Decl) -> &'m T {
    items
        .iter()
        .find(|x| decl(x).label == label)
        .unwrap_or_else(|| {
            panic!(
                "no `{label}` in {:?}",
                items
                    .iter()
                    .map(|x| decl(x).label.clone())
                    .collect::<Vec<_>>()
            )
        })
}

#[test]
fn variables_tfvars_precedence_and_locals() {
    let (d, m) = run("tf-variables", FrontendOptions::default());
    let c = by_label(&m.clusters, "azurerm_kubernetes_cluster.aks", |c| &c.decl);
    // b.auto.tfvars.json wins over a.auto.tfvars, terraform.tfvars(.json) and the default.
    assert_eq!(c.decl.name.as_ref().unwrap().value, "auto-b-aks");
    assert_eq!(k(c.location.as_ref().unwrap()), "westeurope");
    assert_eq!(k(c.outbound_type.as_ref().unwrap()), "userDefinedRouting");
    let feats: Vec<&str> = c.features.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(feats, ["monitoring", "policy"]);
    assert_eq!(
        c.decl.keys,
        vec![
            ResKey::tf("", "azurerm_kubernetes_cluster.aks"),
            ResKey::arm(
                "Microsoft.ContainerService/managedClusters",
                &["auto-b-aks"]
            ),
        ]
    );
    let pool = &c.node_pools[0];
    let subnet = pool.subnet.as_ref().unwrap();
    assert_eq!(k(subnet), ResKey::tf("", "azurerm_subnet.nodes"));
    assert_eq!(
        at(&d, &subnet.span),
        ("main.tf:53:22".into(), "azurerm_subnet.nodes.id".into())
    );

    let s = by_label(&m.subnets, "azurerm_subnet.nodes", |s| &s.decl);
    assert_eq!(k(&s.address_prefixes), vec!["10.99.1.0/24".to_string()]);
    assert_eq!(
        at(&d, &s.address_prefixes.span),
        ("main.tf:23:26".into(), "local.node_prefixes".into())
    );
    assert_eq!(
        s.vnet,
        Some(ResKey::arm(
            "Microsoft.Network/virtualNetworks",
            &["vnet-auto-b-aks"]
        ))
    );
    assert!(s.decl.keys.contains(&ResKey::arm(
        "Microsoft.Network/virtualNetworks/subnets",
        &["vnet-auto-b-aks", "snet-nodes"]
    )));
    let (pos, text) = at(&d, &s.decl.span);
    assert_eq!(pos, "main.tf:19:1");
    assert!(text.starts_with("resource \"azurerm_subnet\" \"nodes\" {") && text.ends_with('}'));

    // `fw_ip` has no value: unknown, with a hint naming the var file present.
    let rt = by_label(&m.route_tables, "azurerm_route_table.egress", |r| &r.decl);
    let hop = rt.routes[0].next_hop_ip.as_ref().unwrap();
    match &hop.value {
        Value::Unknown(u) => {
            assert!(u.reason.contains("variable `fw_ip`"), "{}", u.reason);
            assert!(u.hint.as_deref().unwrap_or("").contains("prod.tfvars"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(at(&d, &hop.span).1, "var.fw_ip");

    let a = &m.associations[0];
    assert_eq!(a.kind, AssociationKind::RouteTable);
    assert_eq!(k(&a.subnet), ResKey::tf("", "azurerm_subnet.nodes"));
    assert_eq!(k(&a.target), ResKey::tf("", "azurerm_route_table.egress"));
    assert!(m.findings.is_empty(), "{:?}", m.findings);
}

#[test]
fn command_line_overrides_files() {
    let opts = FrontendOptions {
        vars: vec![("prefix".into(), "cli".into())],
        var_files: vec![dir("tf-variables").join("prod.tfvars")],
        ..FrontendOptions::default()
    };
    let (_, m) = run("tf-variables", opts);
    assert_eq!(m.clusters[0].decl.name.as_ref().unwrap().value, "cli-aks");
    let hop = m.route_tables[0].routes[0].next_hop_ip.as_ref().unwrap();
    assert_eq!(k(hop), "10.0.1.4");
}

#[test]
fn codes_in_findings_are_frontend_codes() {
    let (_, m) = run("tf-variables", FrontendOptions::default());
    assert!(
        m.findings
            .iter()
            .all(|f| matches!(f.code, Code::AEL000 | Code::AEL008))
    );
}

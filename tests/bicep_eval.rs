//! Bicep lowering: values, spans, loops, conditions, modules.

use aks_egress_lint::finding::Finding;
use aks_egress_lint::frontend::FrontendOptions;
use aks_egress_lint::frontend::bicep::eval::ResInst;
use aks_egress_lint::frontend::bicep::evaluate;
use aks_egress_lint::frontend::bicep::value::{SVal, V};
use aks_egress_lint::source::{FileId, Sources};

struct Run {
    src: Sources,
    res: Vec<ResInst>,
    findings: Vec<Finding>,
}

fn run(files: &[(&str, &str)]) -> Run {
    run_opts(files, FrontendOptions::default())
}

fn run_opts(files: &[(&str, &str)], opts: FrontendOptions) -> Run {
    let mut src = Sources::new();
    let mut b = vec![];
    let mut p = vec![];
    for (name, text) in files {
        let id = src.add_named(name, *text);
        if name.ends_with(".bicepparam") {
            p.push(id);
        } else {
            b.push(id);
        }
    }
    let (res, findings) = evaluate(&src, &b, &p, &opts);
    Run { src, res, findings }
}

impl Run {
    fn res(&self, symbol: &str) -> Vec<&ResInst> {
        self.res.iter().filter(|r| r.symbol == symbol).collect()
    }
    fn one(&self, symbol: &str) -> &ResInst {
        let v = self.res(symbol);
        assert_eq!(v.len(), 1, "{symbol}: {:#?}", self.res);
        v[0]
    }
    /// Text the value's span covers.
    fn text(&self, v: &SVal) -> &str {
        self.src.slice(&v.span)
    }
    fn pos(&self, v: &SVal) -> (String, usize, usize) {
        let (l, c, _, _) = self.src.span_lines(&v.span);
        (self.src.get(v.span.file).display.clone(), l, c)
    }
    fn codes(&self) -> Vec<String> {
        self.findings
            .iter()
            .map(|f| {
                let (l, c, _, _) = self.src.span_lines(&f.primary().span);
                format!(
                    "{} {}:{}:{} {}",
                    f.code,
                    self.src.get(f.primary().span.file).display,
                    l,
                    c,
                    f.message
                )
            })
            .collect()
    }
}

#[allow(dead_code)]
fn s(v: &SVal) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

#[allow(dead_code)]
fn _unused(_: FileId, _: V) {}

#[test]
fn params_vars_interpolation_and_spans() {
    let r = run(&[(
        "main.bicep",
        "param prefix string = 'hub'\nvar fwName = 'fw-${prefix}'\nresource fw 'Microsoft.Network/azureFirewalls@2023-04-01' = {\n  name: fwName\n  location: 'westeurope'\n}\n",
    )]);
    assert_eq!(r.codes(), Vec::<String>::new());
    let fw = r.one("fw");
    assert_eq!(fw.names.as_deref(), Some(&["fw-hub".to_string()][..]));
    assert_eq!(fw.label(), "Microsoft.Network/azureFirewalls 'fw-hub'");
    let name = fw.name.as_ref().unwrap();
    assert_eq!(r.text(name), "'fw-${prefix}'");
    assert_eq!(r.pos(name), ("main.bicep".into(), 2, 14));
}

/// The evaluated `properties.<key>` of resource `symbol`.
fn prop<'a>(r: &'a Run, symbol: &str, key: &str) -> &'a SVal {
    r.one(symbol)
        .body
        .path(&["properties", key])
        .unwrap_or_else(|| panic!("{symbol}.properties.{key}"))
}

const RT: &str =
    "resource rt 'Microsoft.Network/routeTables@2024-05-01' = {\n  name: 'rt'\n  properties: {\n";

fn with_props(decls: &str, props: &str) -> String {
    format!("{decls}\n{RT}{props}\n  }}\n}}\n")
}

#[test]
fn resource_group_location() {
    let text = with_props("", "    loc: resourceGroup().location");
    let r = run(&[("main.bicep", &text)]);
    let v = prop(&r, "rt", "loc");
    assert!(v.unknown_reason().unwrap().contains("--location"), "{v:?}");
    let r = run_opts(
        &[("main.bicep", &text)],
        FrontendOptions {
            location: Some("westeurope".into()),
            ..Default::default()
        },
    );
    assert_eq!(s(prop(&r, "rt", "loc")), "westeurope");
    assert_eq!(r.text(prop(&r, "rt", "loc")), "resourceGroup().location");
}

#[test]
fn library_functions_and_operators() {
    let text = with_props(
        "param p string\nvar list = [\n  'a'\n  'b'\n]",
        "    f: format('{0}-{1}', 'x', 2)\n    l: toLower('ABC')\n    j: join(list, ',')\n    c: concat('a', 'b')\n    n: length(list)\n    i: contains(list, 'b')\n    b: '${true}'\n    t: 1 + 2 * 3\n    u: p == 'x' ? 'same' : 'same'\n    k: p == 'x' ? 'a' : 'b'\n    cidr: cidrSubnet('10.0.0.0/16', 24, 2)\n    q: 'A' =~ 'a'\n    e: empty([])\n    co: null ?? 'd'\n    first: first(list)\n    m: union({ a: 1 }, { b: 2 }).b",
    );
    let r = run(&[("main.bicep", &text)]);
    assert_eq!(s(prop(&r, "rt", "f")), "x-2");
    assert_eq!(s(prop(&r, "rt", "l")), "abc");
    assert_eq!(s(prop(&r, "rt", "j")), "a,b");
    assert_eq!(s(prop(&r, "rt", "c")), "ab");
    assert_eq!(prop(&r, "rt", "n").v, V::Int(2));
    assert_eq!(prop(&r, "rt", "i").v, V::Bool(true));
    assert_eq!(s(prop(&r, "rt", "b")), "True");
    assert_eq!(prop(&r, "rt", "t").v, V::Int(7));
    // Unknown condition, equal branches: the value is known.
    assert_eq!(s(prop(&r, "rt", "u")), "same");
    assert!(prop(&r, "rt", "k").is_unknown());
    assert_eq!(s(prop(&r, "rt", "cidr")), "10.0.2.0/24");
    assert_eq!(prop(&r, "rt", "q").v, V::Bool(true));
    assert_eq!(prop(&r, "rt", "e").v, V::Bool(true));
    assert_eq!(s(prop(&r, "rt", "co")), "d");
    // `first` keeps the element's own span.
    assert_eq!(r.pos(prop(&r, "rt", "first")), ("main.bicep".into(), 3, 3));
    assert_eq!(prop(&r, "rt", "m").v, V::Int(2));
    assert_eq!(r.codes(), Vec::<String>::new());
}

#[test]
fn symbolic_references() {
    let text = "resource fw 'Microsoft.Network/azureFirewalls@2024-05-01' = {\n  name: 'fw-hub'\n  location: 'westeurope'\n}\n\nresource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' existing = {\n  name: 'hub'\n}\n\nresource rt 'Microsoft.Network/routeTables@2024-05-01' = {\n  name: 'rt'\n  properties: {\n    ip: fw.properties.ipConfigurations[0].properties.privateIPAddress\n    id: fw.id\n    name: fw.name\n    loc: fw.location\n    vnetId: vnet.id\n    prefixes: vnet.properties.addressSpace.addressPrefixes\n  }\n}\n";
    let r = run(&[("main.bicep", text)]);
    let ip = prop(&r, "rt", "ip");
    let V::Link(l) = &ip.v else { panic!("{ip:?}") };
    assert_eq!(l.target.0, "arm:microsoft.network/azurefirewalls/fw-hub");
    assert_eq!(
        l.path,
        ["ipConfigurations", "0", "properties", "privateIPAddress"]
    );
    assert_eq!(r.pos(ip), ("main.bicep".into(), 13, 9));
    assert_eq!(
        s(prop(&r, "rt", "id")),
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/azureFirewalls/fw-hub"
    );
    assert_eq!(s(prop(&r, "rt", "name")), "fw-hub");
    assert_eq!(r.pos(prop(&r, "rt", "name")), ("main.bicep".into(), 2, 9));
    assert_eq!(s(prop(&r, "rt", "loc")), "westeurope");
    assert!(s(prop(&r, "rt", "vnetId")).ends_with("/virtualNetworks/hub"));
    assert!(matches!(prop(&r, "rt", "prefixes").v, V::Link(_)));
    // `existing` resources are known by name but not declared.
    assert!(r.one("vnet").existing);
    let mut src = Sources::new();
    let id = src.add_named("main.bicep", text);
    let m = aks_egress_lint::frontend::bicep::load(&src, &[id], &[], &FrontendOptions::default());
    assert_eq!(m.vnets.len(), 0);
    assert_eq!(m.firewalls.len(), 1);
}

#[test]
fn loops_with_index_filter_and_conditions() {
    let text = "param names array = [\n  'a'\n  'b'\n  'c'\n]\nparam on bool\n\nresource rts 'Microsoft.Network/routeTables@2024-05-01' = [for (n, i) in names: if (i != 1) {\n  name: '${n}-${i}'\n}]\n\nresource maybe 'Microsoft.Network/routeTables@2024-05-01' = if (on) {\n  name: 'maybe'\n}\n\nresource never 'Microsoft.Network/routeTables@2024-05-01' = if (false) {\n  name: 'never'\n}\n\nresource rt 'Microsoft.Network/routeTables@2024-05-01' = {\n  name: 'rt'\n  properties: {\n    second: rts[1].name\n    evens: [for (n, i) in names: i % 2 == 0 ? n : 'odd']\n  }\n}\n";
    let r = run(&[("main.bicep", text)]);
    let names: Vec<String> = r
        .res("rts")
        .iter()
        .map(|x| x.names.as_ref().unwrap()[0].clone())
        .collect();
    assert_eq!(names, ["a-0", "c-2"]);
    let maybe = r.one("maybe");
    assert!(
        maybe
            .condition
            .as_ref()
            .unwrap()
            .reason
            .contains("parameter `on` has no default")
    );
    assert!(r.res("never").is_empty());
    // Index 1 of the filtered loop is the second instance.
    assert_eq!(s(prop(&r, "rt", "second")), "c-2");
    let evens: Vec<&str> = prop(&r, "rt", "evens")
        .as_arr()
        .unwrap()
        .iter()
        .map(s)
        .collect();
    assert_eq!(evens, ["a", "odd", "c"]);
}

#[test]
fn modules_inputs_outputs_and_loops() {
    let main = "var spokes = [\n  'one'\n  'two'\n]\n\nmodule spoke './spoke.bicep' = [for (name, i) in spokes: {\n  name: 'spoke-${name}'\n  params: {\n    name: name\n    prefix: '10.${i}.0.0/16'\n  }\n}]\n\nresource rt 'Microsoft.Network/routeTables@2024-05-01' = {\n  name: 'rt'\n  properties: {\n    second: spoke[1].outputs.vnetName\n    prefix: spoke[0].outputs.prefix\n  }\n}\n";
    let spoke = "param name string\nparam prefix string\n\nresource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {\n  name: 'vnet-${name}'\n  properties: {\n    addressSpace: {\n      addressPrefixes: [\n        prefix\n      ]\n    }\n  }\n}\n\noutput vnetName string = vnet.name\noutput prefix string = vnet.properties.addressSpace.addressPrefixes[0]\n";
    let r = run(&[("main.bicep", main), ("spoke.bicep", spoke)]);
    assert_eq!(r.res("vnet").len(), 2);
    assert_eq!(s(prop(&r, "rt", "second")), "vnet-two");
    let p = prop(&r, "rt", "prefix");
    assert_eq!(s(p), "10.0.0.0/16");
    // The value points where it was written: the caller's argument.
    assert_eq!(r.pos(p), ("main.bicep".into(), 10, 13));
    assert_eq!(r.codes(), Vec::<String>::new());
}

#[test]
fn bicepparam_selects_values_and_checks_them() {
    let main = "@allowed([\n  'dev'\n  'prod'\n])\nparam env string = 'dev'\nparam count int = 1\n\nresource rt 'Microsoft.Network/routeTables@2024-05-01' = {\n  name: 'rt-${env}'\n}\n";
    let r = run(&[
        ("infra/main.bicep", main),
        (
            "infra/prod.bicepparam",
            "using './main.bicep'\n\nparam env = 'prod'\n",
        ),
        (
            "infra/bad.bicepparam",
            "using 'main.bicep'\nparam env = 'test'\nparam count = true\n",
        ),
    ]);
    let mut names: Vec<String> = r
        .res("rt")
        .iter()
        .map(|x| x.names.as_ref().unwrap()[0].clone())
        .collect();
    names.sort();
    // No instance with defaults: the template has parameter files.
    assert_eq!(names, ["rt-prod", "rt-test"]);
    assert_eq!(
        r.codes(),
        [
            "AEL008 infra/bad.bicepparam:2:13 value `test` of parameter `env` is not one of its @allowed values ('dev', 'prod')",
            "AEL008 infra/bad.bicepparam:3:15 parameter `count` is declared `int` but is given a bool",
        ]
    );
}

#[test]
fn undeclared_identifiers_are_parse_errors() {
    let text = "var ok = [for x in range(0, 2): x]\nvar f = filter(ok, y => y > 0)\nvar bad = [for x in ok: z]\n";
    let r = run(&[("main.bicep", text)]);
    assert_eq!(r.codes(), ["AEL000 main.bicep:3:25 `z` is not declared"]);
}

#[test]
fn modules_outside_the_root_are_not_followed() {
    let main = "module m '../other/net.bicep' = {\n  name: 'm'\n}\n";
    let r = run_opts(
        &[
            ("/scan/root/main.bicep", main),
            (
                "/scan/other/net.bicep",
                "resource rt 'Microsoft.Network/routeTables@2024-05-01' = {\n  name: 'rt'\n}\n",
            ),
        ],
        FrontendOptions {
            root: "/scan/root".into(),
            ..Default::default()
        },
    );
    assert_eq!(
        r.codes(),
        [
            "AEL008 /scan/root/main.bicep:1:10 module `../other/net.bicep` is outside the scanned folder and is not followed"
        ]
    );
    // net.bicep is not analysed through main.bicep, only on its own.
    assert_eq!(r.res("rt").len(), 1);
}

#[test]
fn spread_and_user_functions() {
    let text = with_props(
        "var base = {\n  a: 1\n  b: 2\n}\nfunc pick(o object, k string) string => '${o[k]}!'",
        "    o: {\n      ...base\n      b: 3\n    }\n    arr: [\n      ...[\n        1\n      ]\n      2\n    ]\n    fn: pick(base, 'a')",
    );
    let r = run(&[("main.bicep", &text)]);
    let o = prop(&r, "rt", "o");
    assert_eq!(o.get("a").unwrap().v, V::Int(1));
    assert_eq!(o.get("b").unwrap().v, V::Int(3));
    assert_eq!(prop(&r, "rt", "arr").as_arr().unwrap().len(), 2);
    assert_eq!(s(prop(&r, "rt", "fn")), "1!");
    assert_eq!(r.codes(), Vec::<String>::new());
}

#[test]
fn references_back_to_a_resource_being_evaluated() {
    let text = "resource a 'Microsoft.Network/routeTables@2024-05-01' = {\n  name: 'rt-a'\n  properties: {\n    fromB: b.properties.idOfA\n  }\n}\n\nresource b 'Microsoft.Network/routeTables@2024-05-01' = {\n  name: 'rt-b'\n  properties: {\n    idOfA: a.id\n    nameOfA: a.name\n    loop: a.properties.fromB\n  }\n}\n";
    let r = run(&[("main.bicep", text)]);
    assert!(s(prop(&r, "a", "fromB")).ends_with("/routeTables/rt-a"));
    assert_eq!(s(prop(&r, "b", "nameOfA")), "rt-a");
    assert!(
        prop(&r, "b", "loop")
            .unknown_reason()
            .unwrap()
            .contains("cycle")
    );
}

#[test]
fn compiled_json_next_to_its_bicep_is_recognised() {
    let mut src = Sources::new();
    let b = src.add_named("infra/main.bicep", "param x string = 'a'\n");
    let compiled = src.add_named(
        "infra/main.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "metadata": {"_generator": {"name": "bicep", "version": "0.30.3"}}, "resources": []}"#,
    );
    let hand = src.add_named(
        "infra/other.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "metadata": {"_generator": {"name": "bicep"}}, "resources": []}"#,
    );
    let same_stem_hand_written = src.add_named(
        "app/main.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "resources": []}"#,
    );
    let _ = same_stem_hand_written;
    assert_eq!(
        aks_egress_lint::frontend::bicep::compiled_from_bicep(
            &src,
            &[b],
            &[compiled, hand, same_stem_hand_written]
        ),
        vec![compiled]
    );
}

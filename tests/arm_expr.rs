//! The template expression language, table-driven: each row is an ARM
//! string and the value ARM would produce (or an error / unknown).

use aks_egress_lint::frontend::arm::expr::{ResRef, Scope, Val, eval_str};
use aks_egress_lint::model::ResKey;

struct TestScope;

impl Scope for TestScope {
    fn parameter(&self, name: &str) -> Val {
        match name.to_ascii_lowercase().as_str() {
            "prefix" => Val::str("dev"),
            "count" => Val::Int(3),
            "rules" => Val::Array(vec![
                Val::Object(vec![
                    ("name".into(), Val::str("a")),
                    ("port".into(), Val::Int(443)),
                ]),
                Val::Object(vec![
                    ("name".into(), Val::str("b")),
                    ("port".into(), Val::Int(80)),
                ]),
            ]),
            "secret" => Val::unknown("parameter `secret` has no value"),
            _ => Val::error(format!("parameter `{name}` is not declared")),
        }
    }
    fn variable(&self, name: &str) -> Val {
        match name {
            "fwName" => Val::str("dev-fw"),
            "obj" => Val::Object(vec![(
                "Inner".into(),
                Val::Object(vec![("x".into(), Val::Int(1))]),
            )]),
            _ => Val::error(format!("variable `{name}` is not declared")),
        }
    }
    fn copy_index(&self, loop_name: Option<&str>) -> Val {
        match loop_name {
            None => Val::Int(2),
            Some("rules") => Val::Int(1),
            Some(n) => Val::error(format!("no loop {n}")),
        }
    }
    fn reference(&self, target: &Val, full: bool) -> Val {
        match target.as_str().and_then(ResKey::from_arm_id) {
            Some(k) if k.0.contains("azurefirewalls") => Val::Ref(ResRef {
                target: k,
                path: vec![],
                full,
            }),
            _ => Val::unknown("not in the template"),
        }
    }
}

fn s(v: &str) -> Val {
    Val::str(v)
}
fn arr(v: Vec<Val>) -> Val {
    Val::Array(v)
}

enum Want {
    V(Val),
    Err(&'static str),
    Unknown(&'static str),
}
use Want::*;

#[test]
fn expression_table() {
    let fw_id = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/azureFirewalls/dev-fw";
    let table: Vec<(&str, Want)> = vec![
        // literals and escapes
        ("plain", V(s("plain"))),
        ("[[notAnExpression]", V(s("[notAnExpression]"))),
        ("[[", V(s("["))),
        ("[]", V(s("[]"))),
        ("['it''s']", V(s("it's"))),
        ("[ 'spaced' ]", V(s("spaced"))),
        ("[42]", V(Val::Int(42))),
        ("[-7]", V(Val::Int(-7))),
        ("[true]", V(Val::Bool(true))),
        ("[null()]", V(Val::Null)),
        // scope
        ("[parameters('prefix')]", V(s("dev"))),
        ("[PARAMETERS('Prefix')]", V(s("dev"))),
        ("[variables('fwName')]", V(s("dev-fw"))),
        ("[variables('obj').inner.x]", V(Val::Int(1))),
        ("[parameters('rules')[1].name]", V(s("b"))),
        (
            "[parameters('rules')[copyIndex('rules')].port]",
            V(Val::Int(80)),
        ),
        ("[copyIndex()]", V(Val::Int(2))),
        ("[copyIndex(10)]", V(Val::Int(12))),
        ("[copyIndex('rules', 1)]", V(Val::Int(2))),
        ("[parameters('missing')]", Err("not declared")),
        ("[parameters('secret')]", Unknown("no value")),
        // strings
        ("[concat('a', 'b', 'c')]", V(s("abc"))),
        ("[concat(parameters('prefix'), '-', 1)]", V(s("dev-1"))),
        ("[format('{0}-{1}', 'aks', 2)]", V(s("aks-2"))),
        ("[format('{{literal}} {0}', 'x')]", V(s("{literal} x"))),
        ("[format('{0:D3}', 7)]", V(s("007"))),
        ("[format('{1}', 'a')]", Err("no argument")),
        ("[string(5)]", V(s("5"))),
        ("[string(true)]", V(s("True"))),
        ("[string(createObject('a', 1))]", V(s("{\"a\":1}"))),
        ("[toLower('AbC')]", V(s("abc"))),
        ("[toUpper('AbC')]", V(s("ABC"))),
        ("[replace('a-b-c', '-', '.')]", V(s("a.b.c"))),
        ("[split('a,b', ',')]", V(arr(vec![s("a"), s("b")]))),
        ("[join(createArray('a', 'b'), '+')]", V(s("a+b"))),
        ("[first('xyz')]", V(s("x"))),
        ("[last(createArray(1, 2, 3))]", V(Val::Int(3))),
        ("[length('héllo')]", V(Val::Int(5))),
        ("[length(parameters('rules'))]", V(Val::Int(2))),
        ("[substring('abcdef', 1, 3)]", V(s("bcd"))),
        ("[substring('abc', 2, 5)]", Err("out of")),
        (
            "[startsWith('AzureFirewallSubnet', 'azure')]",
            V(Val::Bool(true)),
        ),
        ("[indexOf('abcabc', 'c')]", V(Val::Int(2))),
        ("[trim('  x ')]", V(s("x"))),
        ("[padLeft('7', 3, '0')]", V(s("007"))),
        // arrays and objects
        ("[createArray(1, 'a')]", V(arr(vec![Val::Int(1), s("a")]))),
        (
            "[concat(createArray(1), createArray(2))]",
            V(arr(vec![Val::Int(1), Val::Int(2)])),
        ),
        (
            "[union(createObject('a', 1), createObject('b', 2))]",
            V(Val::Object(vec![
                ("a".into(), Val::Int(1)),
                ("b".into(), Val::Int(2)),
            ])),
        ),
        (
            "[union(createArray(1, 2), createArray(2, 3))]",
            V(arr(vec![Val::Int(1), Val::Int(2), Val::Int(3)])),
        ),
        ("[createObject('a')]", Err("pairs")),
        ("[empty('')]", V(Val::Bool(true))),
        ("[empty(createArray(1))]", V(Val::Bool(false))),
        ("[contains(createArray('a', 'b'), 'b')]", V(Val::Bool(true))),
        (
            "[contains(createObject('Key', 1), 'key')]",
            V(Val::Bool(true)),
        ),
        ("[contains('abc', 'd')]", V(Val::Bool(false))),
        (
            "[take(createArray(1, 2, 3), 2)]",
            V(arr(vec![Val::Int(1), Val::Int(2)])),
        ),
        ("[skip('abc', 1)]", V(s("bc"))),
        (
            "[range(1, 3)]",
            V(arr(vec![Val::Int(1), Val::Int(2), Val::Int(3)])),
        ),
        ("[createArray(1, 2)[5]]", Err("out of range")),
        ("[createObject('a', 1).b]", Err("no property")),
        // logic
        ("[if(equals(1, 1), 'yes', 'no')]", V(s("yes"))),
        ("[if(false, parameters('secret'), 'known')]", V(s("known"))),
        ("[if(parameters('secret'), 'a', 'b')]", Unknown("no value")),
        ("[equals('a', 'A')]", V(Val::Bool(false))),
        ("[not(equals(1, 2))]", V(Val::Bool(true))),
        ("[and(true, false)]", V(Val::Bool(false))),
        ("[and(false, parameters('secret'))]", V(Val::Bool(false))),
        ("[or(parameters('secret'), true)]", V(Val::Bool(true))),
        ("[or(false, parameters('secret'))]", Unknown("no value")),
        ("[coalesce(null(), 'x')]", V(s("x"))),
        ("[greater(3, 2)]", V(Val::Bool(true))),
        ("[add(parameters('count'), 1)]", V(Val::Int(4))),
        ("[div(1, 0)]", Err("divides by zero")),
        ("[bool('true')]", V(Val::Bool(true))),
        ("[int('42')]", V(Val::Int(42))),
        // ids and references
        (
            "[resourceId('Microsoft.Network/azureFirewalls', variables('fwName'))]",
            V(s(fw_id)),
        ),
        (
            "[resourceId('rg-hub', 'Microsoft.Network/virtualNetworks/subnets', 'hub', 'AzureFirewallSubnet')]",
            V(s(
                "/subscriptions/{subscriptionId}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/hub/subnets/AzureFirewallSubnet",
            )),
        ),
        (
            "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'hub')]",
            Err("needs 2 name"),
        ),
        (
            "[subscriptionResourceId('Microsoft.Resources/resourceGroups', 'rg')]",
            V(s(
                "/subscriptions/{subscriptionId}/providers/Microsoft.Resources/resourceGroups/rg",
            )),
        ),
        ("[resourceGroup().location]", Unknown("--location")),
        (
            "[reference(resourceId('Microsoft.Network/azureFirewalls', 'dev-fw')).ipConfigurations[0].properties.privateIPAddress]",
            V(Val::Ref(ResRef {
                target: ResKey("arm:microsoft.network/azurefirewalls/dev-fw".into()),
                path: vec![
                    "ipConfigurations".into(),
                    "0".into(),
                    "properties".into(),
                    "privateIPAddress".into(),
                ],
                full: false,
            })),
        ),
        (
            "[concat(reference(resourceId('Microsoft.Network/azureFirewalls', 'dev-fw')).x, '/32')]",
            Unknown("depends on the deployed resource"),
        ),
        (
            "[reference('elsewhere').prop]",
            Unknown("not in the template"),
        ),
        (
            "[listKeys('x', '2020-01-01').keys[0].value]",
            Unknown("reads keys"),
        ),
        ("[newGuid()]", Unknown("computed at deployment")),
        (
            "[equals(uniqueString('a', 'b'), uniqueString('a', 'b'))]",
            V(Val::Bool(true)),
        ),
        (
            "[equals(uniqueString('a'), uniqueString('b'))]",
            V(Val::Bool(false)),
        ),
        ("[json(format('{{\"id\": \"{0}\"}}', 'x')).id]", V(s("x"))),
        ("[json('null')]", V(Val::Null)),
        // CIDR functions
        ("[cidrSubnet('10.0.0.0/16', 24, 3)]", V(s("10.0.3.0/24"))),
        ("[cidrHost('10.0.1.0/24', 3)]", V(s("10.0.1.4"))),
        ("[cidrHost('10.0.1.0/24', 254)]", Err("does not fit")),
        ("[cidrHost('10.0.1.0/31', 1)]", V(s("10.0.1.1"))),
        ("[cidrHost('10.0.1.0/32', 1)]", Err("does not fit")),
        ("[parseCidr('10.1.0.0/22').lastUsable]", V(s("10.1.3.254"))),
        // lambdas
        (
            "[map(parameters('rules'), lambda('r', lambdaVariables('r').name))]",
            V(arr(vec![s("a"), s("b")])),
        ),
        (
            "[length(filter(parameters('rules'), lambda('r', equals(lambdaVariables('r').port, 443))))]",
            V(Val::Int(1)),
        ),
        // errors
        ("[noSuchFunction()]", Err("not supported")),
        ("[concat('a',]", Err("invalid expression")),
        ("[concat('a' 'b')]", Err("invalid expression")),
        ("['unterminated]", Err("unterminated")),
        ("[variables]", Err("not a function call")),
        ("[not(1)]", Err("expects a bool")),
        ("[concat(createArray(1), 'a')]", Err("cannot mix")),
    ];
    assert!(table.len() >= 60, "{}", table.len());
    let mut failures = vec![];
    for (src, want) in &table {
        let got = eval_str(src, &TestScope);
        let ok = match (want, &got) {
            (V(v), g) => v == g,
            (Err(frag), Val::Unknown(w)) => w.error && w.reason.contains(frag),
            (Unknown(frag), Val::Unknown(w)) => !w.error && w.reason.contains(frag),
            _ => false,
        };
        if !ok {
            failures.push(format!("{src}\n    got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn deep_expression_is_an_error_not_a_crash() {
    let deep = format!("[{}'x'{}]", "concat(".repeat(5000), ")".repeat(5000));
    match eval_str(&deep, &TestScope) {
        Val::Unknown(w) => assert!(w.error && w.reason.contains("deeper")),
        other => panic!("{other:?}"),
    }
}

//! Hostile input: every case ends as a finding, quickly, without a panic or
//! a stack overflow.

use aks_egress_lint::discover::{DiscoverOptions, FileKind, discover};
use aks_egress_lint::finding::Code;
use aks_egress_lint::frontend::{FrontendOptions, arm, nsg};
use aks_egress_lint::model::Model;
use aks_egress_lint::source::Sources;
use std::time::{Duration, Instant};

const HEAD: &str = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "#;

fn run(text: String, opts: &FrontendOptions) -> (Sources, Model, Duration) {
    let mut s = Sources::new();
    let f = s.add_named("t.json", text);
    let t = Instant::now();
    let m = arm::load(&s, &[f], &[], opts);
    (s, m, t.elapsed())
}

fn codes(m: &Model) -> Vec<Code> {
    m.findings.iter().map(|f| f.code).collect()
}

#[test]
fn ten_thousand_deep_nesting() {
    let text = format!(
        "{HEAD}\"variables\": {{\"x\": {}{}}}, \"resources\": []}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let (s, m, dt) = run(text.clone(), &FrontendOptions::default());
    assert_eq!(codes(&m), vec![Code::AEL000]);
    assert!(m.findings[0].message.contains("nesting deeper than 128"));
    let (l, c, _, _) = s.span_lines(&m.findings[0].primary().span);
    assert_eq!(l, 1);
    assert!(c > 100);
    assert!(dt < Duration::from_secs(5));
    // The NSG frontend has the same guard.
    let mut s = Sources::new();
    let f = s.add_named(
        "n.json",
        format!("{{\"securityRules\": {}", "[".repeat(10_000)),
    );
    let m = nsg::load(&s, &[f]);
    assert_eq!(codes(&m), vec![Code::AEL000]);
}

#[test]
fn variable_cycle_and_long_chain() {
    let text = format!(
        "{HEAD}\"variables\": {{\"a\": \"[variables('a')]\"}}, \"resources\": [{{\"type\": \"Microsoft.Network/routeTables\", \"name\": \"[variables('a')]\", \"properties\": {{}}}}]}}"
    );
    let (_, m, _) = run(text, &FrontendOptions::default());
    assert_eq!(codes(&m), vec![Code::AEL000]);
    assert_eq!(m.findings[0].message, "variable `a` refers to itself");

    // 10,000 variables, each naming the next: bounded by the depth limit.
    let mut vars = String::new();
    for i in 0..10_000 {
        vars.push_str(&format!(
            "\"v{i}\": \"[concat(variables('v{}'), '')]\",",
            i + 1
        ));
    }
    vars.push_str("\"v10000\": \"end\"");
    let text = format!(
        "{HEAD}\"variables\": {{{vars}}}, \"resources\": [{{\"type\": \"Microsoft.Network/routeTables\", \"name\": \"[variables('v0')]\", \"properties\": {{}}}}]}}"
    );
    let (_, m, dt) = run(text, &FrontendOptions::default());
    assert!(codes(&m).contains(&Code::AEL008), "{:?}", m.findings);
    assert!(dt < Duration::from_secs(10));
}

#[test]
fn copy_count_of_a_billion_is_bounded() {
    let text = format!(
        "{HEAD}\"resources\": [{{\"copy\": {{\"name\": \"many\", \"count\": 1000000000}}, \"type\": \"Microsoft.Network/routeTables\", \"name\": \"[format('rt-{{0}}', copyIndex())]\", \"properties\": {{\"routes\": []}}}}]}}"
    );
    let opts = FrontendOptions::default();
    let (_, m, dt) = run(text, &opts);
    assert_eq!(m.route_tables.len(), opts.limits.max_expansion);
    assert_eq!(codes(&m), vec![Code::AEL008]);
    assert!(m.findings[0].message.contains("1000000000 copies"));
    assert!(dt < Duration::from_secs(20), "{dt:?}");

    // Property copy and variable copy too.
    let text = format!(
        "{HEAD}\"variables\": {{\"copy\": [{{\"name\": \"v\", \"count\": 1000000000, \"input\": \"x\"}}]}}, \"resources\": [{{\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": \"[concat('n', length(variables('v')))]\", \"properties\": {{\"copy\": [{{\"name\": \"securityRules\", \"count\": 1000000000, \"input\": {{\"name\": \"[string(copyIndex('securityRules'))]\", \"properties\": {{}}}}}}]}}}}]}}"
    );
    let (_, m, dt) = run(text, &opts);
    assert_eq!(m.nsgs.len(), 1);
    assert_eq!(m.nsgs[0].rules.len(), 1000);
    assert_eq!(m.nsgs[0].decl.name.as_ref().unwrap().value, "n1000");
    assert!(codes(&m).iter().all(|c| *c == Code::AEL008));
    assert!(dt < Duration::from_secs(20), "{dt:?}");
}

#[test]
fn fifty_megabyte_template() {
    let mut text = String::from(HEAD);
    text.push_str("\"resources\": [");
    let one =
        r#"{"type": "Microsoft.Network/routeTables", "name": "rt", "properties": {"routes": []}},"#;
    while text.len() < 50 * 1024 * 1024 {
        text.push_str(one);
    }
    text.push_str("{}]}");
    let (_, m, dt) = run(text, &FrontendOptions::default());
    assert_eq!(codes(&m), vec![Code::AEL000]);
    assert!(m.findings[0].message.contains("over the"));
    assert!(dt < Duration::from_secs(5));
}

#[test]
fn invalid_utf8_is_reported_by_discovery_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = HEAD.as_bytes().to_vec();
    bytes.extend_from_slice(b"\"resources\": [\"\xff\xfe\"]}");
    std::fs::write(dir.path().join("azuredeploy.json"), bytes).unwrap();
    let d = discover(&[dir.path().to_path_buf()], &DiscoverOptions::default()).unwrap();
    assert_eq!(d.findings.len(), 1);
    assert_eq!(d.findings[0].code, Code::AEL000);
    let templates: Vec<_> = d.of_kind(FileKind::ArmTemplate).collect();
    let all: Vec<_> = d.sources.iter().map(|(id, _)| id).collect();
    // Whatever the lead passes in, the frontend does not panic on the truncated text.
    let m = arm::load(&d.sources, &all, &[], &FrontendOptions::default());
    assert!(templates.is_empty());
    assert!(m.findings.len() <= 1);
}

#[test]
fn deep_expression_in_a_template() {
    let text = format!(
        "{HEAD}\"resources\": [{{\"type\": \"Microsoft.Network/routeTables\", \"name\": \"[{}'x'{}]\"}}]}}",
        "concat(".repeat(20_000),
        ")".repeat(20_000)
    );
    let (_, m, dt) = run(text, &FrontendOptions::default());
    assert_eq!(codes(&m), vec![Code::AEL000]);
    assert!(m.findings[0].message.contains("deeper than"));
    assert!(dt < Duration::from_secs(5));
}

#[test]
fn long_chain_of_deep_expressions() {
    // Worst case for the stack: every level of a reference chain sits inside
    // an expression nested to the limit.
    let mut vars = String::new();
    for i in 0..200 {
        vars.push_str(&format!(
            "\"v{i}\": \"[{}variables('v{}'){}]\",",
            "concat('a', ".repeat(60),
            i + 1,
            ")".repeat(60)
        ));
    }
    vars.push_str("\"v200\": \"end\"");
    let text = format!(
        "{HEAD}\"variables\": {{{vars}}}, \"resources\": [{{\"type\": \"Microsoft.Network/routeTables\", \"name\": \"[variables('v0')]\", \"properties\": {{}}}}]}}"
    );
    let (_, m, dt) = run(text, &FrontendOptions::default());
    assert!(codes(&m).contains(&Code::AEL008), "{:?}", m.findings);
    assert!(dt < Duration::from_secs(20), "{dt:?}");
}

mod fuzz {
    use aks_egress_lint::frontend::arm::expr::{EmptyScope, eval_str};
    use aks_egress_lint::frontend::{FrontendOptions, arm, nsg};
    use aks_egress_lint::source::Sources;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn expressions_never_panic(s in "\\[[a-zA-Z(),.'\\[\\] 0-9{}-]{0,60}\\]") {
            let _ = eval_str(&s, &EmptyScope);
        }

        #[test]
        fn function_calls_never_panic(
            f in prop::sample::select(vec![
                "concat", "format", "substring", "padLeft", "range", "cidrSubnet", "cidrHost",
                "parseCidr", "take", "skip", "split", "replace", "union", "createObject",
                "copyIndex", "resourceId", "indexOf", "json", "items", "min", "div", "mod",
            ]),
            args in prop::collection::vec(
                prop::sample::select(vec![
                    "''", "'a'", "-1", "0", "2", "9223372036854775807", "-9223372036854775808",
                    "createArray()", "createObject()", "'10.0.0.0/8'", "'{0}'", "null()", "'{'",
                    "'10.0.0.0/33'", "33", "'Microsoft.Network/x'",
                ]),
                0..4,
            ),
        ) {
            let _ = eval_str(&format!("[{f}({})]", args.join(", ")), &EmptyScope);
        }

        #[test]
        fn templates_never_panic(body in "[\\[\\]{}:,\"a-z0-9 \\n/*]{0,200}") {
            let mut s = Sources::new();
            let f = s.add_named("t.json", format!(
                "{{\"$schema\": \"deploymentTemplate.json\", \"resources\": [{{\"type\": \"Microsoft.Network/networkSecurityGroups\", \"name\": \"n\", \"properties\": {body}}}]}}"
            ));
            let _ = arm::load(&s, &[f], &[], &FrontendOptions::default());
            let _ = nsg::load(&s, &[f]);
        }
    }
}

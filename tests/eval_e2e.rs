//! The `testdata/eval-*` scenarios end to end: discovery, the Terraform
//! frontend, the embedded catalog and every check. Clean configurations
//! (classic and policy, FQDN tag and explicit FQDNs, public, China,
//! Government) must produce no error; the others exactly their errors.

use aks_egress_lint::finding::{Code, Severity};
use aks_egress_lint::{Options, lint};
use std::path::PathBuf;

fn errors_and_codes(name: &str) -> (Vec<Code>, Vec<Code>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    let opts = Options {
        paths: vec![dir],
        catalog: "current".into(),
        ..Default::default()
    };
    let (report, _) = lint(&opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut errors: Vec<Code> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.code)
        .collect();
    errors.sort();
    let mut all: Vec<Code> = report.findings.iter().map(|f| f.code).collect();
    all.sort();
    all.dedup();
    (errors, all)
}

#[test]
fn clean_configurations_have_no_error() {
    for name in [
        "eval-policy-clean",
        "eval-arm-policy-clean",
        "eval-policy-public-clean",
        "eval-classic-fqdn-tag-clean",
        "eval-udr-clean",
        "eval-ip-groups-clean",
        "eval-orphan-pool",
        "eval-unknown-action",
        "eval-dns-proxy-inherited-clean",
        "eval-china-clean",
        "eval-gov-clean",
        "eval-nsg-vnet-quirk-clean",
        "eval-internal-deny-other-subnet",
        "eval-asymmetric-routing-dnat",
        "eval-http-proxy",
        "eval-isolated",
        "eval-managed-vnet",
        "eval-hub-elsewhere",
        "eval-udr-association-unknown",
        "eval-unresolved-next-hop",
    ] {
        let (errors, all) = errors_and_codes(name);
        assert!(errors.is_empty(), "{name}: {errors:?}");
        // Only warnings for the optional Ubuntu rows and notes may remain.
        assert!(
            all.iter().all(|c| matches!(c, Code::AEL002 | Code::AEL008)),
            "{name}: {all:?}"
        );
    }
}

#[test]
fn failing_configurations_report_their_codes() {
    use Code::*;
    let table: &[(&str, &[Code], Code)] = &[
        ("eval-policy-missing-mcr", &[AEL001], AEL001),
        ("eval-arm-missing-mcr", &[AEL001], AEL001),
        ("eval-policy-parent-deny", &[AEL001], AEL001),
        ("eval-custom-dns-blocked", &[AEL001], AEL001),
        ("eval-black-hole-none", &[AEL004], AEL004),
        ("eval-black-hole-mistyped-ip", &[AEL004], AEL004),
        ("eval-udr-without-default-route", &[AEL007], AEL007),
        ("eval-internal-deny", &[AEL003], AEL003),
        ("eval-internal-route", &[AEL003], AEL003),
        ("eval-broad-rule-only", &[], AEL009),
        ("eval-pod-subnet-not-allowed", &[AEL001], AEL001),
        ("eval-dns-proxy-overridden", &[], AEL005),
        ("eval-classic-ntp-without-dns-proxy", &[], AEL005),
        ("eval-asymmetric-routing", &[], AEL006),
    ];
    for (name, want_errors, must_have) in table {
        let (errors, all) = errors_and_codes(name);
        let mut e = errors.clone();
        e.dedup();
        assert_eq!(&e, want_errors, "{name}");
        assert!(all.contains(must_have), "{name}: {all:?}");
    }
}

/// The fix is written in the language of the file the primary label is in.
#[test]
fn fixes_in_the_files_own_language() {
    for (name, file, line, column, needle) in [
        (
            "eval-arm-missing-mcr",
            "azuredeploy.json",
            88,
            11,
            "\"ruleType\": \"ApplicationRule\"",
        ),
        (
            "eval-policy-missing-mcr",
            "main.tf",
            84,
            3,
            "destination_fqdns = [\"mcr.microsoft.com\"]",
        ),
    ] {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name);
        let opts = Options {
            paths: vec![dir],
            catalog: "current".into(),
            ..Default::default()
        };
        let (report, sources) = lint(&opts).unwrap();
        let f = report
            .findings
            .iter()
            .find(|f| f.code == Code::AEL001)
            .unwrap_or_else(|| panic!("{name}: no AEL001"));
        let p = f.primary();
        let (l, c, _, _) = sources.span_lines(&p.span);
        assert!(sources.get(p.span.file).display.ends_with(file), "{name}");
        assert_eq!((l, c), (line, column), "{name}");
        let help = f.help.as_deref().unwrap_or("");
        assert!(help.contains(needle), "{name}: {help}");
        assert_eq!(
            f.endpoint.as_ref().map(|e| e.destination.as_str()),
            Some("mcr.microsoft.com")
        );
    }
}

#[test]
fn nsg_fix_follows_separate_rule_resources() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join("field-tf-nsg-separate-rules");
    let opts = Options {
        paths: vec![dir],
        catalog: "current".into(),
        ..Default::default()
    };
    let (report, sources) = lint(&opts).unwrap();
    let f = report
        .findings
        .iter()
        .find(|f| {
            f.code == Code::AEL001
                && f.endpoint.as_ref().map(|e| e.destination.as_str()) == Some("mcr.microsoft.com")
        })
        .expect("AEL001 for mcr.microsoft.com");
    let (l, c, _, _) = sources.span_lines(&f.primary().span);
    assert_eq!((l, c), (25, 1));
    let help = f.help.as_deref().unwrap_or("");
    assert!(
        help.contains(
            "resource \"azurerm_network_security_rule\" \"allow_mcr_microsoft_com_443\" {"
        ),
        "{help}"
    );
    assert!(
        help.contains("  priority                    = 3999\n"),
        "{help}"
    );
    assert!(
        help.contains("  resource_group_name         = \"rg-net\"\n"),
        "{help}"
    );
    assert!(
        help.contains(
            "  network_security_group_name = azurerm_network_security_group.nodes.name\n"
        ),
        "{help}"
    );
    assert!(!help.contains("security_rule {"), "{help}");
}

//! The command line: help, version, exit codes, formats.

use assert_cmd::Command;

fn bin() -> Command {
    let mut c = Command::cargo_bin("aks-egress-lint").expect("binary is built");
    c.env_remove("NO_COLOR").env_remove("GITHUB_STEP_SUMMARY");
    c
}

#[test]
fn help_has_examples_and_exit_codes() {
    let out = bin()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("Examples:"), "{text}");
    assert!(text.contains("Exit codes:"), "{text}");
    assert!(text.contains("--fail-on"), "{text}");
}

#[test]
fn version() {
    let out = bin()
        .arg("--version")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(out).unwrap().trim(),
        format!("aks-egress-lint {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    bin().arg("--no-such-flag").assert().code(2);
    bin().args(["--format", "yaml"]).assert().code(2);
    bin().args(["--cloud", "Mars"]).assert().code(2);
    let out = bin()
        .arg("/definitely/not/here")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("no such file or directory")
    );
}

#[test]
fn an_endpoint_that_several_rows_need_is_reported_once() {
    let out = bin()
        .args(["testdata/e2e-repeated-rows", "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let login: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["endpoint"]["destination"] == "login.microsoftonline.com")
        .collect();
    assert_eq!(login.len(), 1, "{login:#?}");
    assert_eq!(login[0]["code"], "AEL001");
}

#[test]
fn subcommands_run() {
    bin()
        .args(["endpoints", "--location", "westeurope"])
        .assert()
        .success();
    bin()
        .args(["endpoints", "--location", "westeurop"])
        .assert()
        .code(2);
    let out = bin()
        .args([
            "explain",
            "examples/terraform-hub-spoke",
            "--to",
            "mcr.microsoft.com:443/https",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("overall: allowed"), "{text}");
    let out = bin()
        .args([
            "allow-set",
            "examples/terraform-hub-spoke",
            "--format",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["version"], 1);
}

#[test]
fn init_writes_a_config_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".aks-egress-lint.yaml");
    bin().args(["init"]).arg(&path).assert().success();
    bin().args(["init"]).arg(&path).assert().code(2);
    bin()
        .arg(dir.path())
        .arg("--config")
        .arg(&path)
        .assert()
        .success();
}

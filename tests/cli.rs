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

#[test]
fn compiled_json_stands_in_for_a_bicep_file_that_does_not_parse() {
    let out = bin()
        .args([
            "testdata/bicep-broken-with-compiled-json",
            "--format",
            "json",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["summary"]["clusters"], 1);
    let findings = v["findings"].as_array().unwrap();
    let on = |code: &str, file: &str| {
        findings
            .iter()
            .any(|f| f["code"] == code && f["file"].as_str().unwrap_or("").ends_with(file))
    };
    assert!(on("AEL000", "main.bicep"), "{findings:#?}");
    assert!(on("AEL001", "main.json"), "{findings:#?}");
}

#[test]
fn timings_go_to_stderr_and_leave_the_report_alone() {
    let run = |timings: bool| {
        let mut c = bin();
        c.args(["testdata/eval-internal-deny", "--format", "json"]);
        if timings {
            c.env("AKS_EGRESS_LINT_TIMINGS", "1");
        } else {
            c.env_remove("AKS_EGRESS_LINT_TIMINGS");
        }
        c.output().expect("runs")
    };
    let (plain, timed) = (run(false), run(true));
    assert_eq!(plain.stdout, timed.stdout);
    assert_eq!(plain.status.code(), timed.status.code());
    let err = String::from_utf8_lossy(&timed.stderr);
    for stage in [
        "discover",
        "terraform",
        "arm",
        "checks",
        "render",
        "peak rss",
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("timing: {stage}"))),
            "no `{stage}` line in:\n{err}"
        );
    }
    assert!(!String::from_utf8_lossy(&plain.stderr).contains("timing:"));
}

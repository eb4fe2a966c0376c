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

//! The malformed-input corpus: each `testdata/malformed-*` folder is linted
//! together with `testdata/malformed-neighbour`, a valid stack. Each case
//! asserts the findings of the broken files (code, file, line, column) and
//! that the neighbour is still analysed (its AEL001 about MCR appears).

mod hostile_support;

use hostile_support::{F, Run, bin, repo};
use std::path::Path;

fn lint_with_neighbour(dir: &Path, folder: &str) -> Run {
    let out = bin()
        .current_dir(dir)
        .args(["--format", "json", folder, "malformed-neighbour"])
        .output()
        .expect("run");
    let status = out.status.code().unwrap_or(-1);
    assert!(
        status == 0 || status == 1,
        "{folder}: exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let json = serde_json::from_slice(&out.stdout).expect("JSON report");
    Run {
        status,
        json,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn neighbour_analysed(run: &Run) {
    assert!(
        run.findings().iter().any(|f| f.code == "AEL001"
            && f.file == "malformed-neighbour/main.tf"
            && (f.line, f.column) == (72, 3)
            && f.message.contains("`mcr.microsoft.com:443/tcp`")),
        "the neighbour stack was not analysed: {:#?}",
        run.findings()
    );
}

/// `CODE file:line:col` of the findings outside the neighbour.
fn broken(run: &Run, skip_codes: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = run
        .findings()
        .into_iter()
        .filter(|f: &F| {
            !f.file.starts_with("malformed-neighbour/") && !skip_codes.contains(&f.code.as_str())
        })
        .map(|f| format!("{} {}:{}:{}", f.code, f.file, f.line, f.column))
        .collect();
    v.sort();
    v.dedup();
    v
}

fn case(folder: &str, skip_codes: &[&str], want: &[&str]) -> Run {
    let run = lint_with_neighbour(&repo().join("testdata"), folder);
    neighbour_analysed(&run);
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(broken(&run, skip_codes), want, "{folder}");
    run
}

#[test]
fn truncated_files() {
    let run = case(
        "malformed-truncated",
        &[],
        &[
            // The grammar recovers at the next statement it knows.
            "AEL000 malformed-truncated/main.bicep:3:1",
            "AEL000 malformed-truncated/main.tf:3:37",
            "AEL000 malformed-truncated/nsg-export.json:4:5",
            "AEL000 malformed-truncated/service.yaml:8:1",
            "AEL000 malformed-truncated/template.json:10:41",
        ],
    );
    let m: Vec<String> = run.findings().into_iter().map(|f| f.message).collect();
    assert!(
        m.iter().any(|m| m == "HCL parse error: expected `]`"),
        "{m:#?}"
    );
    assert!(
        m.iter().any(|m| m == "invalid JSON: unterminated object"),
        "{m:#?}"
    );
}

#[test]
fn wrong_types() {
    // A priority written as a word on the node subnet's NSG leaves the
    // verdicts it decides unknown, pointing at the value; the other wrong
    // types (an array for `properties`, an object for `securityRules`,
    // `ports: 443`) are off every cluster's path and end without a finding.
    let run = case(
        "malformed-wrong-types",
        &["AEL001", "AEL002", "AEL006"],
        &["AEL008 malformed-wrong-types/tf/main.tf:106:34"],
    );
    let note = run
        .findings()
        .into_iter()
        .find(|f| f.code == "AEL008")
        .expect("note");
    assert!(
        note.message.contains("expected a number, found string"),
        "{}",
        note.message
    );
}

#[test]
fn duplicate_keys() {
    // Terraform and YAML refuse duplicate keys; ARM JSON does not say.
    case(
        "malformed-duplicate-keys",
        &[],
        &[
            "AEL000 malformed-duplicate-keys/main.tf:3:3",
            "AEL000 malformed-duplicate-keys/service.yaml:4:3",
        ],
    );
}

#[test]
fn empty_files() {
    let run = case("malformed-empty", &[], &[]);
    assert_eq!(run.files(), 4, "{:#?}", run.json["summary"]);
}

#[test]
fn encodings() {
    // Invalid UTF-8 is reported at the first bad byte; a UTF-8 byte order
    // mark before a template is accepted.
    case(
        "malformed-encoding",
        &[],
        &[
            "AEL000 malformed-encoding/binary.tf:1:25",
            "AEL000 malformed-encoding/latin1.tf:2:14",
        ],
    );
}

/// Entries that cannot be read: a FIFO (reading would block), a dangling
/// symlink, and a file without read permission (checked as an unprivileged
/// user when the tests run as root, since root reads mode-000 files).
#[cfg(unix)]
#[test]
fn unreadable_entries() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let nb = root.join("malformed-neighbour");
    std::fs::create_dir_all(&nb).expect("mkdir");
    std::fs::copy(
        repo().join("testdata/malformed-neighbour/main.tf"),
        nb.join("main.tf"),
    )
    .expect("copy");
    let bad = root.join("malformed-unreadable");
    std::fs::create_dir_all(&bad).expect("mkdir");
    symlink(bad.join("gone.tf"), bad.join("dangling.tf")).expect("symlink");
    let fifo = bad.join("pipe.tf");
    let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
    let made = unsafe { libc::mkfifo(c.as_ptr(), 0o644) } == 0;
    std::fs::write(bad.join("secret.tf"), "locals {}\n").expect("write");
    std::fs::set_permissions(
        bad.join("secret.tf"),
        std::fs::Permissions::from_mode(0o000),
    )
    .expect("chmod");
    for p in [&nb, &bad] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let _ = std::fs::set_permissions(nb.join("main.tf"), std::fs::Permissions::from_mode(0o644));

    // SAFETY: geteuid has no preconditions.
    let root_user = unsafe { libc::geteuid() } == 0;
    let exe = assert_cmd::cargo::cargo_bin("aks-egress-lint");
    let mut cmd = if root_user {
        let probe = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
            .output();
        if !probe.is_ok_and(|o| o.status.success()) {
            eprintln!("skipped: running as root and `setpriv` cannot drop privileges here");
            return;
        }
        // The binary must be reachable by the unprivileged user.
        let copy = root.join("aks-egress-lint");
        std::fs::copy(&exe, &copy).expect("copy binary");
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(copy);
        c
    } else {
        std::process::Command::new(exe)
    };
    let out = cmd
        .current_dir(root)
        .args([
            "--format",
            "json",
            "malformed-unreadable",
            "malformed-neighbour",
        ])
        .output()
        .expect("run");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Run {
        status: out.status.code().unwrap_or(-1),
        json: serde_json::from_slice(&out.stdout).expect("JSON"),
        stderr: String::new(),
    };
    neighbour_analysed(&run);
    // Links and FIFOs are not files: never opened. The unreadable file is an AEL000.
    assert_eq!(
        broken(&run, &[]),
        vec!["AEL000 malformed-unreadable/secret.tf:1:1".to_string()],
        "fifo made: {made}"
    );
    let f = run.one("AEL000", "malformed-unreadable/secret.tf");
    assert!(f.message.starts_with("cannot read file:"), "{}", f.message);
}

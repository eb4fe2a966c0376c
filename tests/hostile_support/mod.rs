//! Helpers for the hostile-input and malformed-input tests: run the real
//! binary (its real thread stacks) on a folder and read its JSON report.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub fn bin() -> Command {
    let mut c = Command::cargo_bin("aks-egress-lint").expect("binary is built");
    c.env_remove("NO_COLOR").env_remove("GITHUB_STEP_SUMMARY");
    c
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Debug, Clone, PartialEq)]
pub struct F {
    pub code: String,
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub json: serde_json::Value,
    pub stderr: String,
}

impl Run {
    pub fn findings(&self) -> Vec<F> {
        self.json["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| F {
                        code: f["code"].as_str().unwrap_or("").to_string(),
                        file: f["file"].as_str().unwrap_or("").to_string(),
                        line: f["line"].as_u64().unwrap_or(0),
                        column: f["column"].as_u64().unwrap_or(0),
                        message: f["message"].as_str().unwrap_or("").to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Findings of one file.
    pub fn of(&self, file: &str) -> Vec<F> {
        self.findings()
            .into_iter()
            .filter(|f| f.file == file)
            .collect()
    }

    pub fn files(&self) -> u64 {
        self.json["summary"]["files"].as_u64().unwrap_or(0)
    }

    pub fn clusters(&self) -> u64 {
        self.json["summary"]["clusters"].as_u64().unwrap_or(0)
    }

    /// The one finding of `code` in `file`, with its position.
    pub fn one(&self, code: &str, file: &str) -> F {
        let all: Vec<F> = self
            .of(file)
            .into_iter()
            .filter(|f| f.code == code)
            .collect();
        assert_eq!(
            all.len(),
            1,
            "want one {code} in {file}, got {all:#?}\nall: {:#?}",
            self.findings()
        );
        all[0].clone()
    }

    /// The valid stack written by [`good_stack`] at `dir` was analysed:
    /// its cluster is counted and its missing endpoint reported.
    pub fn assert_good(&self, dir: &str) {
        let file = format!("{dir}/main.tf");
        let f = self.of(&file);
        assert!(
            f.iter()
                .any(|f| f.code == "AEL001" && f.message.contains("mcr.microsoft.com")),
            "the valid stack {file} was not analysed: {:#?}",
            self.findings()
        );
        assert!(self.clusters() >= 1, "{:#?}", self.json["summary"]);
    }
}

/// `aks-egress-lint --format json [args] .` in `dir`.
pub fn lint(dir: &Path, args: &[&str]) -> Run {
    let out = bin()
        .current_dir(dir)
        .args(["--format", "json", "--no-color"])
        .args(args)
        .arg(".")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("run the binary");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let status = out.status.code().unwrap_or(-1);
    assert!(
        status == 0 || status == 1,
        "exit status {:?} (a crash or a tool error)\nstderr: {stderr}",
        out.status
    );
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    Run {
        status,
        json,
        stderr,
    }
}

/// A valid Terraform stack whose firewall policy misses MCR: one cluster
/// and an AEL001 about `mcr.microsoft.com`, proof it was analysed.
pub fn good_stack(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::copy(
        repo().join("testdata/eval-policy-missing-mcr/main.tf"),
        dir.join("main.tf"),
    )
    .expect("copy the valid stack");
}

pub fn write(path: &Path, text: impl AsRef<[u8]>) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

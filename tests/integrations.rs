//! Goldens for every output format on two hand-built reports, and the
//! external validators: SARIF multitool (GitHub's ingestion rules and the
//! SARIF rules), the Mermaid parser, the GitHub Actions and Azure Pipelines
//! schemas, and zizmor. A validator that is not installed skips its test with
//! a message, except under `CI=true`, where it fails: `.ci/install-tools.sh`
//! installs them all.

mod common;

use aks_egress_lint::finding::Report;
use aks_egress_lint::render;
use aks_egress_lint::source::Sources;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Versions and absolute paths out, so goldens survive releases and machines.
fn redact(s: &str) -> String {
    s.replace(env!("CARGO_PKG_VERSION"), "[version]")
        .replace(&root().display().to_string(), "[root]")
}

fn render(
    f: fn(&mut dyn std::io::Write, &Report, &Sources) -> std::io::Result<()>,
    (s, r): &(Sources, Report),
) -> String {
    let mut buf = vec![];
    f(&mut buf, r, s).expect("render");
    redact(&String::from_utf8(buf).expect("utf-8"))
}

fn azure(exit: i32) -> impl Fn(&mut dyn std::io::Write, &Report, &Sources) -> std::io::Result<()> {
    move |w, r, s| render::azure_devops::write(w, r, s, exit)
}

fn render_with(
    f: impl Fn(&mut dyn std::io::Write, &Report, &Sources) -> std::io::Result<()>,
    (s, r): &(Sources, Report),
) -> String {
    let mut buf = vec![];
    f(&mut buf, r, s).expect("render");
    redact(&String::from_utf8(buf).expect("utf-8"))
}

#[test]
fn golden_sarif() {
    insta::assert_snapshot!(
        "sarif_clean",
        render(render::sarif::write, &common::clean())
    );
    insta::assert_snapshot!(
        "sarif_findings",
        render(render::sarif::write, &common::with_findings())
    );
}

#[test]
fn golden_github() {
    insta::assert_snapshot!(
        "github_clean",
        render(render::github::write, &common::clean())
    );
    insta::assert_snapshot!(
        "github_findings",
        render(render::github::write, &common::with_findings())
    );
}

#[test]
fn golden_azure_devops() {
    insta::assert_snapshot!(
        "azure_devops_clean",
        render_with(azure(0), &common::clean())
    );
    insta::assert_snapshot!(
        "azure_devops_findings",
        render_with(azure(1), &common::with_findings())
    );
    let below = render_with(azure(0), &common::with_findings());
    assert!(below.ends_with("##vso[task.complete result=SucceededWithIssues;]aks-egress-lint: 4 error(s), 2 warning(s), 1 note(s)\n"), "{below}");
}

#[test]
fn golden_markdown() {
    insta::assert_snapshot!(
        "markdown_clean",
        render(render::markdown::write, &common::clean())
    );
    insta::assert_snapshot!(
        "markdown_findings",
        render(render::markdown::write, &common::with_findings())
    );
}

#[test]
fn golden_junit() {
    insta::assert_snapshot!(
        "junit_clean",
        render(render::junit::write, &common::clean())
    );
    insta::assert_snapshot!(
        "junit_findings",
        render(render::junit::write, &common::with_findings())
    );
}

#[test]
fn step_summary_appends_with_commit_links() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("summary.md");
    std::fs::write(&path, "earlier step\n").expect("write");
    let (s, r) = common::with_findings();
    render::github::append_summary(
        &path,
        &r,
        &s,
        Some("https://github.com/o/r/blob/0123abc/".into()),
    )
    .expect("append");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(
        text.starts_with("earlier step\n## aks-egress-lint\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "[infra/firewall.tf:1](https://github.com/o/r/blob/0123abc/infra/firewall.tf#L1)"
        ),
        "{text}"
    );
}

// ---------------------------------------------------------------- validators

/// Find an external tool: the given candidates, then `PATH`. Absent: `None`
/// with a message, or a failure under `CI=true`.
fn tool(name: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if let Some(found) = candidates
        .iter()
        .chain(on_path.iter())
        .find(|p| p.is_file())
    {
        return Some(found.clone());
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{name} is not installed; CI must run .ci/install-tools.sh first");
    }
    eprintln!("skipping: {name} is not installed (run .ci/install-tools.sh)");
    None
}

fn node_modules() -> PathBuf {
    root().join("tools/node_modules")
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Validate with `sarif-multitool validate --rule-kind "Gh;Sarif"` and return
/// the validator's results as (level, rule id, message).
fn multitool(sarif_file: &Path) -> Option<Vec<(String, String, String)>> {
    let bin = tool(
        "sarif-multitool",
        &[node_modules().join(".bin/sarif-multitool")],
    )?;
    let out = sarif_file.with_extension("validation.sarif");
    // The npm wrapper runs its arguments through a shell: escape the `;`.
    let (_, text) = run(Command::new(bin)
        .arg("validate")
        .arg("--rule-kind")
        .arg("Gh\\;Sarif")
        .arg("--log")
        .arg("ForceOverwrite")
        .arg("-o")
        .arg(&out)
        .arg(sarif_file));
    let log: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("no validation log: {e}\n{text}")),
    )
    .expect("validation log is JSON");
    let mut found = vec![];
    for run in log["runs"].as_array().into_iter().flatten() {
        for r in run["results"].as_array().into_iter().flatten() {
            let level = r["level"].as_str().unwrap_or("warning").to_string();
            let msg = r["message"].to_string();
            found.push((level, r["ruleId"].as_str().unwrap_or("").to_string(), msg));
        }
        // A tool error (bad input it could not read) is a failure too.
        for n in run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .into_iter()
            .flatten()
        {
            found.push(("error".into(), "tool".into(), n["message"].to_string()));
        }
    }
    Some(found)
}

#[test]
fn sarif_passes_multitool_github_and_sarif_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, scenario) in [
        ("clean", common::clean()),
        ("findings", common::with_findings()),
    ] {
        let path = dir.path().join(format!("{name}.sarif"));
        // Unredacted: the validator wants a real version number.
        let mut raw = vec![];
        render::sarif::write(&mut raw, &scenario.1, &scenario.0).expect("render");
        std::fs::write(&path, raw).expect("write");
        let Some(results) = multitool(&path) else {
            return;
        };
        let bad: Vec<_> = results
            .iter()
            .filter(|(level, _, _)| level == "error" || level == "warning")
            .collect();
        assert!(bad.is_empty(), "{name}: multitool reports {bad:#?}");
    }
}

#[test]
fn markdown_mermaid_parses() {
    let Some(node) = tool("node", &[]) else {
        return;
    };
    if !node_modules().join("mermaid").is_dir() || !node_modules().join("jsdom").is_dir() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("mermaid and jsdom are not installed; CI must run .ci/install-tools.sh first");
        }
        eprintln!("skipping: mermaid/jsdom are not installed (run .ci/install-tools.sh)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, scenario) in [
        ("clean", common::clean()),
        ("findings", common::with_findings()),
    ] {
        let path = dir.path().join(format!("{name}.md"));
        std::fs::write(&path, render(render::markdown::write, &scenario)).expect("write");
        let (ok, text) = run(Command::new(&node)
            .arg(root().join("tools/mermaid-parse.mjs"))
            .arg(&path));
        assert!(ok, "{name}: {text}");
        assert!(text.contains("1 blocks, 0 failed"), "{name}: {text}");
    }
    // The checker itself rejects a broken diagram.
    let bad = dir.path().join("bad.md");
    std::fs::write(
        &bad,
        "```mermaid\nflowchart LR\n  h0[\"a\"] --> h1[\"b\n```\n",
    )
    .expect("write");
    let (ok, text) = run(Command::new(&node)
        .arg(root().join("tools/mermaid-parse.mjs"))
        .arg(&bad));
    assert!(!ok, "a broken diagram parsed: {text}");
}

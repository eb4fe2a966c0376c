//! Goldens for every output format on two hand-built reports, and the
//! external validators: SARIF multitool (GitHub's ingestion rules and the
//! SARIF rules), the Mermaid parser, the GitHub Actions and Azure Pipelines
//! schemas, and zizmor. A validator that is not installed skips its test with
//! a message, except under `CI=true`, where it fails: `.ci/install-tools.sh`
//! installs them all.

mod reports;

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
        render(render::sarif::write, &reports::clean())
    );
    insta::assert_snapshot!(
        "sarif_findings",
        render(render::sarif::write, &reports::with_findings())
    );
}

#[test]
fn golden_github() {
    insta::assert_snapshot!(
        "github_clean",
        render(render::github::write, &reports::clean())
    );
    insta::assert_snapshot!(
        "github_findings",
        render(render::github::write, &reports::with_findings())
    );
}

#[test]
fn golden_azure_devops() {
    insta::assert_snapshot!(
        "azure_devops_clean",
        render_with(azure(0), &reports::clean())
    );
    insta::assert_snapshot!(
        "azure_devops_findings",
        render_with(azure(1), &reports::with_findings())
    );
    let below = render_with(azure(0), &reports::with_findings());
    assert!(below.ends_with("##vso[task.complete result=SucceededWithIssues;]aks-egress-lint: 4 error(s), 2 warning(s), 1 note(s)\n"), "{below}");
}

#[test]
fn golden_markdown() {
    insta::assert_snapshot!(
        "markdown_clean",
        render(render::markdown::write, &reports::clean())
    );
    insta::assert_snapshot!(
        "markdown_findings",
        render(render::markdown::write, &reports::with_findings())
    );
}

#[test]
fn golden_junit() {
    insta::assert_snapshot!(
        "junit_clean",
        render(render::junit::write, &reports::clean())
    );
    insta::assert_snapshot!(
        "junit_findings",
        render(render::junit::write, &reports::with_findings())
    );
}

#[test]
fn step_summary_appends_with_commit_links() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("summary.md");
    std::fs::write(&path, "earlier step\n").expect("write");
    let (s, r) = reports::with_findings();
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
fn multitool(sarif_files: &[PathBuf]) -> Option<Vec<(String, String, String)>> {
    let bin = tool(
        "sarif-multitool",
        &[node_modules().join(".bin/sarif-multitool")],
    )?;
    let first = sarif_files.first().expect("a file to validate");
    let out = first.with_extension("validation.sarif");
    // The npm wrapper runs its arguments through a shell: escape the `;`.
    let (_, text) = run(Command::new(bin)
        .arg("validate")
        .arg("--rule-kind")
        .arg("Gh\\;Sarif")
        .arg("--log")
        .arg("ForceOverwrite")
        .arg("-o")
        .arg(&out)
        .args(sarif_files));
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
        ("clean", reports::clean()),
        ("findings", reports::with_findings()),
    ] {
        let path = dir.path().join(format!("{name}.sarif"));
        // Unredacted: the validator wants a real version number.
        let mut raw = vec![];
        render::sarif::write(&mut raw, &scenario.1, &scenario.0).expect("render");
        std::fs::write(&path, raw).expect("write");
        let Some(results) = multitool(std::slice::from_ref(&path)) else {
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
        ("clean", reports::clean()),
        ("findings", reports::with_findings()),
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

// ------------------------------------------------------------------ action

/// Stands in for the linter until the CLI takes `--output FORMAT=FILE`: it
/// follows the same contract (exit 0 clean, 1 findings; SARIF to the
/// `--output sarif=` file; annotations on stdout; the job summary appended)
/// and logs its arguments so the test can check what the action passed.
const FAKE_LINTER: &str = r#"#!/usr/bin/env bash
set -euo pipefail
if [ "${1:-}" = "--version" ]; then echo "aks-egress-lint 0.0.0-fake"; exit 0; fi
printf '%s\n' "$@" > "$FAKE_ARGS_LOG"
sarif=""; junit=""; paths=()
while [ $# -gt 0 ]; do
  case "$1" in
    --output)
      case "$2" in
        sarif=*) sarif="${2#sarif=}" ;;
        junit=*) junit="${2#junit=}" ;;
      esac
      shift 2 ;;
    --) shift ;;
    --*) shift 2 ;;
    *) paths+=("$1"); shift ;;
  esac
done
results="[]"; code=0
if grep -rqs userDefinedRouting "${paths[@]}"; then
  echo "::error file=aks.tf,line=17,col=1,title=AEL001 missing-required-endpoint::denied"
  results='[{"ruleId":"AEL001","level":"error","message":{"text":"Denied."},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"aks.tf"},"region":{"startLine":17}}}]}]'
  code=1
fi
if [ -n "$sarif" ]; then
  printf '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"aks-egress-lint"}},"results":%s}]}\n' "$results" > "$sarif"
fi
if [ -n "$junit" ]; then
  printf '<testsuites name="aks-egress-lint" tests="1" failures="%s"/>\n' "$code" > "$junit"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  printf '## aks-egress-lint\n' >> "$GITHUB_STEP_SUMMARY"
fi
exit "$code"
"#;

/// The real binary once its CLI has `--output`; the fake before.
fn linter_for_action(dir: &Path) -> (PathBuf, bool) {
    let real = PathBuf::from(env!("CARGO_BIN_EXE_aks-egress-lint"));
    let help = Command::new(&real).arg("--help").output();
    let catalog_ok = Command::new(&real)
        .arg(root().join("testdata/action-clean"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.code() == Some(0));
    if help.is_ok_and(|h| String::from_utf8_lossy(&h.stdout).contains("--output")) && catalog_ok {
        return (real, true);
    }
    (fake_linter(&dir.join("fake-aks-egress-lint")), false)
}

fn fake_linter(path: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, FAKE_LINTER).expect("write fake");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.to_path_buf()
}

struct Step {
    code: Option<i32>,
    stdout: String,
    outputs: std::collections::BTreeMap<String, String>,
}

/// Run `scripts/action.sh STEP` as a composite-action step would: inputs as
/// `INPUT_*` variables, fresh `GITHUB_OUTPUT`, shared `GITHUB_STEP_SUMMARY`.
fn action_step(dir: &Path, step: &str, env: &[(&str, &str)]) -> Step {
    let output = dir.join(format!("output-{step}"));
    std::fs::write(&output, "").expect("output file");
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/action.sh"))
        .arg(step)
        .current_dir(root())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_ACTION_PATH", root())
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"))
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TOOL_CACHE", dir.join("toolcache"))
        .env("FAKE_ARGS_LOG", dir.join("args.log"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run action.sh");
    let outputs = std::fs::read_to_string(&output)
        .expect("read outputs")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Step {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr),
        outputs,
    }
}

#[test]
fn action_script_clean_and_failing_repositories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (bin, real) = linter_for_action(dir.path());
    let bin = bin.to_string_lossy().into_owned();
    if !real {
        eprintln!("note: driving the action with a stand-in linter (the CLI has no --output yet)");
    }

    let prep = action_step(dir.path(), "prepare", &[]);
    assert_eq!(prep.code, Some(0), "{}", prep.stdout);
    assert!(prep.outputs["cache-key"].starts_with("aks-egress-lint-Linux-X64-build-"));
    let again = action_step(dir.path(), "prepare", &[]);
    assert_eq!(
        again.outputs["cache-key"], prep.outputs["cache-key"],
        "key is stable"
    );
    let bad_version = action_step(dir.path(), "prepare", &[("INPUT_VERSION", "1.0; rm -rf /")]);
    assert_eq!(bad_version.code, Some(2), "{}", bad_version.stdout);

    let install = action_step(dir.path(), "install", &[("AKS_EGRESS_LINT_BIN", &bin)]);
    assert_eq!(install.code, Some(0), "{}", install.stdout);
    assert_eq!(install.outputs["bin"], bin);

    for (repo, want_exit) in [
        ("testdata/action-clean", "0"),
        ("testdata/action-failing", "1"),
    ] {
        let sarif = dir.path().join(format!("{want_exit}.sarif"));
        let sarif_s = sarif.to_string_lossy().into_owned();
        let run = action_step(
            dir.path(),
            "run",
            &[
                ("AEL_BIN", &bin),
                ("INPUT_PATH", repo),
                ("INPUT_FAIL_ON", "error"),
                ("INPUT_FORMAT", "github"),
                ("INPUT_SARIF_FILE", &sarif_s),
            ],
        );
        // Findings never fail this step: the SARIF upload comes after it.
        assert_eq!(run.code, Some(0), "{repo}: {}", run.stdout);
        assert_eq!(
            run.outputs["exit-code"], want_exit,
            "{repo}: {}",
            run.stdout
        );
        assert_eq!(run.outputs["sarif-file"], sarif_s, "{repo}");
        let log: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&sarif).expect("sarif")).expect("json");
        let results = log["runs"][0]["results"].as_array().map_or(0, Vec::len);
        assert_eq!(results > 0, want_exit == "1", "{repo}: {log}");
        if want_exit == "1" {
            assert!(
                run.stdout.contains("::error file="),
                "{repo}: {}",
                run.stdout
            );
        }
        if !real {
            let args = std::fs::read_to_string(dir.path().join("args.log")).expect("args");
            assert_eq!(
                args,
                format!(
                    "--fail-on\nerror\n--format\ngithub\n--output\nsarif={sarif_s}\n--\n{repo}\n"
                )
            );
        }

        let check = action_step(
            dir.path(),
            "check",
            &[("AEL_EXIT_CODE", want_exit), ("INPUT_FAIL_ON", "error")],
        );
        assert_eq!(
            check.code,
            Some(if want_exit == "1" { 1 } else { 0 }),
            "{}",
            check.stdout
        );
        let never = action_step(
            dir.path(),
            "check",
            &[("AEL_EXIT_CODE", want_exit), ("INPUT_FAIL_ON", "never")],
        );
        assert_eq!(never.code, Some(0), "{}", never.stdout);
    }
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(summary.contains("aks-egress-lint"), "{summary}");

    // Bad inputs stop the run with an annotation, before the linter runs.
    let bad = action_step(
        dir.path(),
        "run",
        &[("AEL_BIN", &bin), ("INPUT_FAIL_ON", "sometimes")],
    );
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stdout
            .contains("::error title=aks-egress-lint::fail-on must be"),
        "{}",
        bad.stdout
    );
    // A tool error (exit 2) fails the job whatever fail-on says.
    let broken = action_step(
        dir.path(),
        "check",
        &[("AEL_EXIT_CODE", "2"), ("INPUT_FAIL_ON", "never")],
    );
    assert_eq!(broken.code, Some(2));
}

// ---------------------------------------------- action and pipeline schemas

#[test]
fn action_and_workflow_match_the_github_schemas() {
    let Some(bin) = tool("check-jsonschema", &[]) else {
        return;
    };
    for (schema, file) in [
        ("vendor.github-actions", "action.yml"),
        ("vendor.github-workflows", "examples/github-workflow.yml"),
        (
            "custom.github-workflows-require-timeout",
            "examples/github-workflow.yml",
        ),
    ] {
        let (ok, text) = run(Command::new(&bin)
            .arg("--builtin-schema")
            .arg(schema)
            .arg(root().join(file)));
        assert!(ok, "{file}: {text}");
    }
}

#[test]
fn pipeline_template_matches_the_azure_pipelines_schema() {
    let Some(bin) = tool("check-jsonschema", &[]) else {
        return;
    };
    for file in [
        "templates/aks-egress-lint.yml",
        "examples/azure-pipelines.yml",
    ] {
        // The vendored schema has a pattern that only the non-Unicode regex
        // engine compiles.
        let (ok, text) = run(Command::new(&bin)
            .arg("--regex-variant")
            .arg("nonunicode")
            .arg("--builtin-schema")
            .arg("vendor.azure-pipelines")
            .arg(root().join(file)));
        assert!(ok, "{file}: {text}");
    }
}

#[test]
fn zizmor_finds_nothing_in_the_action() {
    let Some(bin) = tool("zizmor", &[]) else {
        return;
    };
    let (ok, text) = run(Command::new(&bin)
        .arg("--offline")
        .arg("--format")
        .arg("plain")
        .arg(root().join("action.yml")));
    assert!(ok && text.contains("No findings to report"), "{text}");

    // The example workflow: the only finding allowed is the reference to this
    // action by tag, which users replace with the SHA of the release they use.
    let out = Command::new(&bin)
        .arg("--offline")
        .arg("--format")
        .arg("json")
        .arg(root().join("examples/github-workflow.yml"))
        .output()
        .expect("run zizmor");
    let text = String::from_utf8_lossy(&out.stdout);
    let findings: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("zizmor JSON: {e}\n{text}"));
    let idents: Vec<&str> = findings
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["ident"].as_str())
        .collect();
    assert_eq!(idents, ["unpinned-uses"], "{text}");
}

#[test]
fn every_code_has_its_documentation_page() {
    use aks_egress_lint::finding::Code;
    for code in Code::ALL {
        let path = root().join(format!("docs/codes/{}.md", code.as_str()));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            text.starts_with(&format!("# {} `{}`\n", code.as_str(), code.name())),
            "{}",
            path.display()
        );
        for section in ["## What it finds", "## Example", "## Fix", "## Suppress"] {
            assert!(text.contains(section), "{} lacks {section}", path.display());
        }
        assert!(
            code.help_uri()
                .ends_with(&format!("docs/codes/{}.md", code.as_str())),
            "{}",
            code.help_uri()
        );
    }
}

/// Every scenario under `testdata/` through the real pipeline, rendered as
/// SARIF and Markdown: real spans (ends of files, long blocks, odd names)
/// must satisfy the validators as the hand-built reports do.
#[test]
fn real_scenarios_render_valid_sarif_and_mermaid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sarifs = vec![];
    let mut markdowns = vec![];
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root().join("testdata"))
        .expect("testdata")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    scenarios.sort();
    for scenario in &scenarios {
        let opts = aks_egress_lint::Options {
            paths: vec![scenario.clone()],
            catalog: "current".into(),
            ..Default::default()
        };
        let Ok((report, sources)) = aks_egress_lint::lint(&opts) else {
            continue; // A tool error is the CLI tests' business.
        };
        let name = scenario
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut buf = vec![];
        render::sarif::write(&mut buf, &report, &sources).expect("sarif");
        sarifs.push(serde_json::from_slice::<serde_json::Value>(&buf).expect("SARIF is JSON"));
        let mut md = vec![];
        render::markdown::write(&mut md, &report, &sources).expect("markdown");
        let path = dir.path().join(format!("{name}.md"));
        std::fs::write(&path, &md).expect("write");
        markdowns.push(path);
        // The other renderers must not fail either.
        for f in [render::github::write, render::junit::write] {
            f(&mut std::io::sink(), &report, &sources).expect("render");
        }
        render::azure_devops::write(&mut std::io::sink(), &report, &sources, 1).expect("render");
    }
    // One log holding every scenario's results: the validator's start-up
    // dominates, so one file is much faster than one per scenario.
    let mut merged = sarifs.first().cloned().expect("a scenario");
    let all: Vec<serde_json::Value> = sarifs
        .iter()
        .flat_map(|l| {
            l["runs"][0]["results"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    assert!(!all.is_empty(), "no scenario has a finding");
    merged["runs"][0]["results"] = serde_json::Value::Array(all);
    let path = dir.path().join("all-scenarios.sarif");
    std::fs::write(&path, serde_json::to_vec_pretty(&merged).expect("json")).expect("write");
    if let Some(results) = multitool(&[path]) {
        let bad: Vec<_> = results
            .iter()
            .filter(|(level, _, _)| level == "error" || level == "warning")
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
    }
    if let Some(node) = tool("node", &[]) {
        if node_modules().join("mermaid").is_dir() {
            let (ok, text) = run(Command::new(&node)
                .arg(root().join("tools/mermaid-parse.mjs"))
                .args(&markdowns));
            assert!(ok, "{text}");
        }
    }
}

// ------------------------------------------------------- pipeline template

/// The bash of the template's step `name`, with Azure DevOps macros
/// (`$(Agent.ToolsDirectory)`) replaced as the agent would.
fn template_step(name: &str, macros: &[(&str, &str)]) -> String {
    let text =
        std::fs::read_to_string(root().join("templates/aks-egress-lint.yml")).expect("template");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
    let steps = doc["steps"].as_sequence().expect("steps");
    let step = steps
        .iter()
        .find(|s| s["displayName"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no step {name}"));
    let mut bash = step["bash"].as_str().expect("bash step").to_string();
    for (k, v) in macros {
        bash = bash.replace(&format!("$({k})"), v);
    }
    bash
}

fn run_bash(script: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(script).current_dir(root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn pipeline_template_steps_run_and_gate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tools = dir.path().join("tools");
    let tools_s = tools.to_string_lossy().into_owned();
    let args_log = dir.path().join("args.log");
    let args_log_s = args_log.to_string_lossy().into_owned();

    // Install: a cached release build is used as is; a bad version stops.
    let bin = fake_linter(&tools.join("aks-egress-lint/v0.1.0/bin/aks-egress-lint"));
    let install = template_step(
        "Install aks-egress-lint",
        &[("Agent.ToolsDirectory", &tools_s)],
    );
    let (code, out) = run_bash(
        &install,
        &[("AEL_VERSION", "v0.1.0"), ("AEL_REPOSITORY", "unused")],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "##vso[task.setvariable variable=AKS_EGRESS_LINT_BIN]{}",
            bin.display()
        )),
        "{out}"
    );
    let (code, out) = run_bash(
        &install,
        &[("AEL_VERSION", "main; curl evil"), ("AEL_REPOSITORY", "x")],
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("##vso[task.logissue type=error]"), "{out}");

    // Lint: exit code per failOn; JUnit and SARIF written where asked.
    let lint = template_step("Lint AKS egress", &[]);
    // The real linter when its CLI is complete; the stand-in before.
    let (bin, real) = linter_for_action(dir.path());
    let bin_s = bin.to_string_lossy().into_owned();
    let junit = dir.path().join("r.junit.xml");
    let junit_s = junit.to_string_lossy().into_owned();
    let sarif_s = dir.path().join("r.sarif").to_string_lossy().into_owned();
    for (path, fail_on, want) in [
        ("testdata/action-clean", "error", 0),
        ("testdata/action-failing", "error", 1),
        ("testdata/action-failing", "never", 0),
    ] {
        let (code, out) = run_bash(
            &lint,
            &[
                ("AKS_EGRESS_LINT_BIN", &bin_s),
                ("FAKE_ARGS_LOG", &args_log_s),
                ("AEL_PATH", path),
                ("AEL_FAIL_ON", fail_on),
                ("AEL_CONFIG", ""),
                ("AEL_CATALOG", "2020-01"),
                ("AEL_JUNIT", &junit_s),
                ("AEL_SARIF", &sarif_s),
            ],
        );
        assert_eq!(code, Some(want), "{path} {fail_on}: {out}");
        let xml = std::fs::read_to_string(&junit).expect("junit");
        assert!(xml.contains("<testsuites"), "{xml}");
        if real {
            let failing = path.ends_with("failing");
            assert_eq!(
                out.contains("##vso[task.logissue type=error"),
                failing,
                "{out}"
            );
            assert_eq!(xml.contains("<failure"), failing, "{xml}");
            continue;
        }
        let args = std::fs::read_to_string(&args_log).expect("args");
        assert_eq!(
            args,
            format!(
                "--fail-on\nerror\n--format\nazure-devops\n--output\njunit={junit_s}\n--output\nsarif={sarif_s}\n--catalog\n2020-01\n--\n{path}\n"
            )
        );
    }
}

#[test]
fn pre_commit_hook_runs_the_binary_on_the_repository() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).expect("hooks");
    let hooks: Vec<serde_yaml::Value> = serde_yaml::from_str(&text).expect("yaml list");
    assert_eq!(hooks.len(), 1);
    let h = &hooks[0];
    for key in ["id", "name", "entry", "language"] {
        assert!(
            h[key].as_str().is_some_and(|v| !v.is_empty()),
            "missing {key}"
        );
    }
    assert_eq!(h["entry"].as_str(), Some(env!("CARGO_PKG_NAME")));
    assert_eq!(h["language"].as_str(), Some("rust"));
    // An egress path spans files: the hook lints the repository, not the
    // changed files one by one.
    assert_eq!(h["pass_filenames"].as_bool(), Some(false));
}

//! Discovery: what is read, what is skipped, how files are classified.

use aks_egress_lint::discover::{DiscoverOptions, FileKind, discover};
use std::fs;
use std::path::Path;

fn write(root: &Path, rel: &str, text: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn kinds(root: &Path, opts: &DiscoverOptions) -> Vec<(String, FileKind)> {
    let d = discover(&[root.to_path_buf()], opts).unwrap();
    let mut v: Vec<(String, FileKind)> = d
        .files
        .iter()
        .map(|(id, k)| {
            let p = &d.sources.get(*id).path;
            (
                p.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
                *k,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn classifies_by_content_and_skips_noise() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(
        r,
        "infra/main.tf",
        b"resource \"azurerm_subnet\" \"a\" {}\n",
    );
    write(r, "infra/terraform.tfvars", b"location = \"westeurope\"\n");
    write(r, "infra/prod.tfvars.json", b"{}\n");
    write(r, "infra/.terraform/modules/x/main.tf", b"broken {{{\n");
    write(r, "node_modules/pkg/azuredeploy.json", b"{}");
    write(r, ".git/config.tf", b"x");
    write(
        r,
        "arm/azuredeploy.json",
        br#"{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "resources": [] }"#,
    );
    write(
        r,
        "arm/azuredeploy.parameters.json",
        br#"{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "parameters": {} }"#,
    );
    write(
        r,
        "exports/nsg.json",
        br#"{ "name": "nsg-aks", "securityRules": [] }"#,
    );
    write(
        r,
        "plan.json",
        br#"{"format_version":"1.2","terraform_version":"1.9.5","planned_values":{}}"#,
    );
    write(r, "package.json", br#"{"name":"x"}"#);
    write(
        r,
        "k8s/svc.yaml",
        b"apiVersion: v1\nkind: Service\nspec:\n  type: LoadBalancer\n",
    );
    write(r, ".github/workflows/ci.yml", b"on: push\njobs: {}\n");
    write(r, "bicep/main.bicep", b"param location string\n");
    write(r, "bicep/main.bicepparam", b"using './main.bicep'\n");
    write(r, "ignored/main.tf", b"x");
    write(r, ".gitignore", b"ignored/\n");

    let got = kinds(r, &DiscoverOptions::default());
    let want: Vec<(String, FileKind)> = vec![
        ("arm/azuredeploy.json".into(), FileKind::ArmTemplate),
        (
            "arm/azuredeploy.parameters.json".into(),
            FileKind::ArmParameters,
        ),
        ("bicep/main.bicep".into(), FileKind::Bicep),
        ("bicep/main.bicepparam".into(), FileKind::BicepParam),
        ("exports/nsg.json".into(), FileKind::NsgExport),
        ("infra/main.tf".into(), FileKind::Terraform),
        ("infra/prod.tfvars.json".into(), FileKind::TfVarsJson),
        ("infra/terraform.tfvars".into(), FileKind::TfVars),
        ("k8s/svc.yaml".into(), FileKind::K8sManifest),
        ("plan.json".into(), FileKind::TerraformPlan),
    ];
    assert_eq!(got, want);

    let d = discover(&[r.to_path_buf()], &DiscoverOptions::default()).unwrap();
    assert_eq!(d.tf_modules.len(), 1);
    assert_eq!(d.tf_modules[0].files.len(), 1);
    assert_eq!(d.tf_modules[0].tfvars.len(), 2);
}

#[test]
fn exclude_globs() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "a/main.tf", b"");
    write(r, "b/main.tf", b"");
    write(r, "c/d/main.tf", b"");
    let opts = DiscoverOptions {
        exclude: vec!["b".into(), "c/**/*.tf".into()],
        ..Default::default()
    };
    let got: Vec<String> = kinds(r, &opts).into_iter().map(|(p, _)| p).collect();
    assert_eq!(got, ["a/main.tf"]);
}

#[test]
fn bad_files_are_findings_not_aborts() {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, "ok.tf", b"locals {}\n");
    write(r, "latin1.tf", b"locals {\n  x = \"caf\xe9\"\n}\n");
    write(r, "big.tf", &vec![b'#'; 2048]);
    let opts = DiscoverOptions {
        max_file_size: 1024,
        ..Default::default()
    };
    let d = discover(&[r.to_path_buf()], &opts).unwrap();
    let mut msgs: Vec<(String, usize, usize, String)> = d
        .findings
        .iter()
        .map(|f| {
            let p = f.primary();
            let (l, c, _, _) = d.sources.span_lines(&p.span);
            let name = d
                .sources
                .get(p.span.file)
                .path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, l, c, f.code.to_string())
        })
        .collect();
    msgs.sort();
    assert_eq!(
        msgs,
        [
            ("big.tf".to_string(), 1, 1, "AEL000".to_string()),
            ("latin1.tf".to_string(), 2, 11, "AEL000".to_string())
        ]
    );
    assert!(
        d.findings
            .iter()
            .any(|f| f.message.contains("not valid UTF-8"))
    );
    assert!(
        d.findings
            .iter()
            .any(|f| f.message.contains("over the 1024-byte limit"))
    );
    // The good file is still there.
    assert_eq!(d.files.len(), 1);
}

#[test]
fn missing_path_is_a_tool_error() {
    let err = discover(
        &[Path::new("/definitely/not/here").to_path_buf()],
        &DiscoverOptions::default(),
    )
    .unwrap_err();
    assert!(err.contains("no such file or directory"), "{err}");
}

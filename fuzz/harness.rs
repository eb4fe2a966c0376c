//! The fuzz entry points, shared by the `cargo fuzz` targets (`fuzz/fuzz_targets/`)
//! and the regression suite (`tests/hostile_fuzz_regressions.rs`), so a saved
//! crash input is replayed through exactly the code that found it.
//!
//! Each entry point turns the fuzzer's bytes into in-memory files, runs the
//! frontend's public load function on them, and then the checks on the model
//! it produced (odd models must not break linking and evaluation either).
//! A NUL byte splits the input into several files (a template and its
//! parameter file, a module and its caller), so seeds from `testdata/` are
//! used unchanged as the first file.

#![allow(dead_code)]

use aks_egress_lint::catalog::{self, Catalog};
use aks_egress_lint::checks::{self, Overrides};
use aks_egress_lint::config;
use aks_egress_lint::discover::TfModule;
use aks_egress_lint::finding::Finding;
use aks_egress_lint::frontend::arm::expr::{EmptyScope, eval_str};
use aks_egress_lint::frontend::{FrontendOptions, arm, bicep, nsg, terraform};
use aks_egress_lint::model::Model;
use aks_egress_lint::source::Sources;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What one run produced: the frontend's model (its findings included) and
/// the findings of the checks.
pub struct Outcome {
    pub sources: Sources,
    pub model: Model,
    pub checks: Vec<Finding>,
}

impl Outcome {
    /// Every finding: the frontend's, then the checks'.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.model.findings.iter().chain(self.checks.iter())
    }
}

const ROOT: &str = "/fuzz";

fn catalog() -> Option<&'static Catalog> {
    static CATALOG: OnceLock<Option<Catalog>> = OnceLock::new();
    CATALOG
        .get_or_init(|| catalog::load("current").ok())
        .as_ref()
}

/// Up to `n` files: the input split at NUL bytes, each decoded as UTF-8
/// with invalid bytes replaced (discovery hands frontends valid UTF-8 only).
fn parts(data: &[u8], n: usize) -> Vec<String> {
    data.splitn(n, |b| *b == 0)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

fn opts() -> FrontendOptions {
    FrontendOptions {
        root: PathBuf::from(ROOT),
        ..FrontendOptions::default()
    }
}

fn finish(sources: Sources, model: Model) -> Outcome {
    let checks = match catalog() {
        Some(c) => checks::run(&model, &sources, c, &Overrides::default()).0,
        None => vec![],
    };
    Outcome {
        sources,
        model,
        checks,
    }
}

/// `main.tf`, then `terraform.tfvars`, then `modules/m/main.tf` (a local
/// module the first file may call with `source = "./modules/m"`).
pub fn terraform(data: &[u8]) -> Outcome {
    let p = parts(data, 3);
    let mut s = Sources::new();
    let mut root = TfModule {
        dir: PathBuf::from(ROOT),
        files: vec![],
        tfvars: vec![],
    };
    let mut modules = vec![];
    for (i, text) in p.into_iter().enumerate() {
        match i {
            0 => root.files.push(s.add_named("/fuzz/main.tf", text)),
            1 => root
                .tfvars
                .push(s.add_named("/fuzz/terraform.tfvars", text)),
            _ => modules.push(TfModule {
                dir: PathBuf::from("/fuzz/modules/m"),
                files: vec![s.add_named("/fuzz/modules/m/main.tf", text)],
                tfvars: vec![],
            }),
        }
    }
    modules.insert(0, root);
    let model = terraform::load(&s, &modules, &[], &opts());
    finish(s, model)
}

/// `azuredeploy.json`, then `azuredeploy.parameters.json`, then
/// `linked/linked.json` (reachable by `templateLink.relativePath`).
pub fn arm(data: &[u8]) -> Outcome {
    let p = parts(data, 3);
    let mut s = Sources::new();
    let (mut templates, mut params) = (vec![], vec![]);
    for (i, text) in p.into_iter().enumerate() {
        match i {
            0 => templates.push(s.add_named("/fuzz/azuredeploy.json", text)),
            1 => params.push(s.add_named("/fuzz/azuredeploy.parameters.json", text)),
            _ => templates.push(s.add_named("/fuzz/linked/linked.json", text)),
        }
    }
    let model = arm::load(&s, &templates, &params, &opts());
    finish(s, model)
}

/// One ARM expression: evaluated alone, then inside a template where it is
/// a variable used by a resource's name, a rule's property and a copy count.
pub fn arm_expr(data: &[u8]) -> Outcome {
    let e = String::from_utf8_lossy(data).into_owned();
    let _ = eval_str(&e, &EmptyScope);
    if !e.starts_with('[') {
        let _ = eval_str(&format!("[{e}]"), &EmptyScope);
    }
    let v = json_string(&e);
    let template = format!(
        r#"{{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {{ "p": {{ "type": "string", "defaultValue": {v} }} }},
  "variables": {{ "v": {v}, "w": "[variables('v')]" }},
  "resources": [
    {{
      "type": "Microsoft.Network/networkSecurityGroups",
      "apiVersion": "2024-05-01",
      "name": {v},
      "location": "[parameters('p')]",
      "properties": {{
        "securityRules": [
          {{ "name": "r", "properties": {{ "priority": {v}, "direction": "Outbound", "access": "Deny",
             "protocol": "*", "sourcePortRange": "*", "destinationPortRange": {v},
             "sourceAddressPrefix": "*", "destinationAddressPrefix": "[variables('w')]" }} }}
        ]
      }}
    }},
    {{
      "type": "Microsoft.Network/routeTables",
      "apiVersion": "2024-05-01",
      "name": "[concat('rt', copyIndex())]",
      "copy": {{ "name": "rts", "count": "[length(string(variables('v')))]" }},
      "properties": {{ "routes": [ {{ "name": "d", "properties": {{ "addressPrefix": {v}, "nextHopType": "Internet" }} }} ] }}
    }}
  ],
  "outputs": {{ "o": {{ "type": "string", "value": {v} }} }}
}}"#
    );
    let mut s = Sources::new();
    let t = s.add_named("/fuzz/azuredeploy.json", template);
    let model = arm::load(&s, &[t], &[], &opts());
    finish(s, model)
}

/// One NSG export (`az network nsg show|list`, `nsg rule list`, portal).
pub fn nsg(data: &[u8]) -> Outcome {
    let mut s = Sources::new();
    let f = s.add_named("/fuzz/nsg.json", String::from_utf8_lossy(data).into_owned());
    let model = nsg::load(&s, &[f]);
    finish(s, model)
}

/// `.aks-egress-lint.yaml`: parsed, then applied to findings and clusters.
pub fn config(data: &[u8]) -> Result<config::Config, config::ConfigError> {
    let text = String::from_utf8_lossy(data);
    let cfg = config::parse(&text, ".aks-egress-lint.yaml", Path::new(ROOT))?;
    let mut s = Sources::new();
    let f = s.add_named("/fuzz/infra/main.tf", "resource \"x\" \"y\" {}\n");
    let mut findings = vec![
        Finding::new(
            aks_egress_lint::finding::Code::AEL001,
            "missing",
            aks_egress_lint::source::Span::new(f, 0..8),
            "here",
        ),
        Finding::new(
            aks_egress_lint::finding::Code::AEL009,
            "broad",
            aks_egress_lint::source::Span::new(f, 9..12),
            "here",
        ),
    ];
    cfg.apply(&mut findings, &s);
    let _ = cfg.overrides_for("aks-prod", &Overrides::default());
    let _ = cfg.cluster("aks-prod");
    Ok(cfg)
}

/// `main.bicep`, then `main.bicepparam`, then `modules/m.bicep` (reachable
/// by `module m 'modules/m.bicep'`).
pub fn bicep(data: &[u8]) -> Outcome {
    let p = parts(data, 3);
    let mut s = Sources::new();
    let (mut files, mut params) = (vec![], vec![]);
    for (i, text) in p.into_iter().enumerate() {
        match i {
            0 => files.push(s.add_named("/fuzz/main.bicep", text)),
            1 => params.push(s.add_named("/fuzz/main.bicepparam", text)),
            _ => files.push(s.add_named("/fuzz/modules/m.bicep", text)),
        }
    }
    let model = bicep::load(&s, &files, &params, &opts());
    finish(s, model)
}

/// A JSON string literal holding `s`.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

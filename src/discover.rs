//! Discovery: walk the given paths, read the files that may matter, and
//! classify each by content as well as by extension.

use crate::finding::{Code, Finding};
use crate::source::{FileId, Sources, Span};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    Terraform,
    /// `*.tfvars`
    TfVars,
    /// `*.tfvars.json`
    TfVarsJson,
    /// `terraform show -json` output.
    TerraformPlan,
    ArmTemplate,
    ArmParameters,
    /// `az network nsg show|list`, `az network nsg rule list`, portal export.
    NsgExport,
    Bicep,
    BicepParam,
    /// YAML with `apiVersion` and `kind` (or Helm values that configure a load balancer).
    K8sManifest,
}

/// A Terraform module: every `.tf` file of one folder, with its variable files.
#[derive(Clone, Debug, PartialEq)]
pub struct TfModule {
    pub dir: PathBuf,
    pub files: Vec<FileId>,
    /// `*.tfvars` and `*.tfvars.json` of the folder (the frontend decides
    /// which ones Terraform would load automatically).
    pub tfvars: Vec<FileId>,
}

#[derive(Debug, Default)]
pub struct Discovered {
    pub sources: Sources,
    pub files: Vec<(FileId, FileKind)>,
    pub tf_modules: Vec<TfModule>,
    /// Files that could not be read or decoded.
    pub findings: Vec<Finding>,
}

impl Discovered {
    pub fn of_kind(&self, kind: FileKind) -> impl Iterator<Item = FileId> + '_ {
        self.files
            .iter()
            .filter(move |(_, k)| *k == kind)
            .map(|(id, _)| *id)
    }
}

#[derive(Clone, Debug, Default)]
pub struct DiscoverOptions {
    pub exclude: Vec<String>,
    pub max_file_size: u64,
}

/// How many bytes of a JSON or YAML file are looked at to classify it.
const SNIFF: usize = 8 * 1024;

/// Candidate kind by name alone; JSON and YAML need a look at the content.
enum ByName {
    Known(FileKind),
    Json,
    Yaml,
}

fn by_name(path: &Path) -> Option<ByName> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name.ends_with(".tfvars.json") {
        return Some(ByName::Known(FileKind::TfVarsJson));
    }
    if name == ".aks-egress-lint.yaml" || name == ".aks-egress-lint.yml" {
        return None;
    }
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "tf" => ByName::Known(FileKind::Terraform),
        "tfvars" => ByName::Known(FileKind::TfVars),
        "bicep" => ByName::Known(FileKind::Bicep),
        "bicepparam" => ByName::Known(FileKind::BicepParam),
        "json" | "jsonc" => ByName::Json,
        "yaml" | "yml" => ByName::Yaml,
        _ => return None,
    })
}

/// Classify JSON by its first bytes: no full parse here.
pub fn sniff_json(head: &str) -> Option<FileKind> {
    let lower = head.to_ascii_lowercase();
    if lower.contains("deploymenttemplate.json") {
        return Some(FileKind::ArmTemplate);
    }
    if lower.contains("deploymentparameters.json") {
        return Some(FileKind::ArmParameters);
    }
    if lower.contains("\"format_version\"")
        && (lower.contains("\"planned_values\"") || lower.contains("\"terraform_version\""))
    {
        return Some(FileKind::TerraformPlan);
    }
    if lower.contains("\"securityrules\"")
        || lower.contains("\"defaultsecurityrules\"")
        || lower.contains("microsoft.network/networksecuritygroups")
        || (lower.contains("\"direction\"")
            && lower.contains("\"access\"")
            && lower.contains("\"priority\""))
    {
        return Some(FileKind::NsgExport);
    }
    None
}

/// Kubernetes manifests (`apiVersion` + `kind`) and Helm values that ask for a
/// load balancer are read by the Kubernetes frontend; other YAML is ignored.
pub fn sniff_yaml(head: &str) -> Option<FileKind> {
    let has_line = |key: &str| head.lines().any(|l| l.trim_start().starts_with(key));
    if (has_line("apiVersion:") && has_line("kind:")) || head.contains("LoadBalancer") {
        Some(FileKind::K8sManifest)
    } else {
        None
    }
}

fn build_globs(patterns: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = Glob::new(p).map_err(|e| format!("bad --exclude pattern `{p}`: {e}"))?;
        b.add(g);
        // `dir` and `dir/` also exclude everything below.
        let trimmed = p.trim_end_matches('/');
        if !trimmed.contains('*') {
            if let Ok(g) = Glob::new(&format!("{trimmed}/**")) {
                b.add(g);
            }
        }
    }
    b.build().map_err(|e| e.to_string())
}

enum Read_ {
    Text(String),
    TooLarge(u64),
    NotUtf8 { valid: String, at: usize },
    Error(String),
}

fn read_file(path: &Path, max: u64) -> Read_ {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return Read_::Error(e.to_string()),
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > max {
        return Read_::TooLarge(len);
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // Read one byte past the limit to catch files that grow while read.
    if let Err(e) = (&mut f).take(max + 1).read_to_end(&mut bytes) {
        return Read_::Error(e.to_string());
    }
    if bytes.len() as u64 > max {
        return Read_::TooLarge(bytes.len() as u64);
    }
    match String::from_utf8(bytes) {
        Ok(s) => Read_::Text(s),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let valid = String::from_utf8_lossy(&bytes[..at]).into_owned();
            Read_::NotUtf8 { valid, at }
        }
    }
}

/// Walk `paths` (files or folders), honouring `.gitignore`, skipping `.git`,
/// `.terraform` and `node_modules`, and applying `--exclude` globs.
pub fn discover(paths: &[PathBuf], opts: &DiscoverOptions) -> Result<Discovered, String> {
    let globs = build_globs(&opts.exclude)?;
    let max = if opts.max_file_size == 0 {
        10 * 1024 * 1024
    } else {
        opts.max_file_size
    };
    let found: Mutex<Vec<(PathBuf, Option<FileKind>, Read_)>> = Mutex::new(Vec::new());
    let mut missing = vec![];

    for root in paths {
        if !root.exists() {
            missing.push(root.clone());
            continue;
        }
        let mut wb = ignore::WalkBuilder::new(root);
        wb.hidden(false)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .require_git(false)
            .follow_links(false)
            .filter_entry(|e| {
                let n = e.file_name().to_string_lossy();
                !(e.depth() > 0
                    && matches!(
                        n.as_ref(),
                        ".git" | ".terraform" | "node_modules" | "target"
                    ))
            });
        let root_c = root.clone();
        wb.build_parallel().run(|| {
            let found = &found;
            let globs = &globs;
            let root = root_c.clone();
            Box::new(move |entry| {
                let Ok(entry) = entry else {
                    return ignore::WalkState::Continue;
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return ignore::WalkState::Continue;
                }
                let path = entry.path();
                let rel = path.strip_prefix(&root).unwrap_or(path);
                if !globs.is_empty() && (globs.is_match(rel) || globs.is_match(path)) {
                    return ignore::WalkState::Continue;
                }
                let Some(by) = by_name(path) else {
                    return ignore::WalkState::Continue;
                };
                let read = read_file(path, max);
                let kind = match (&by, &read) {
                    (ByName::Known(k), _) => Some(*k),
                    (ByName::Json, Read_::Text(t)) => sniff_json(head(t)),
                    // A Helm values file may ask for a load balancer far below
                    // its first lines: look for that word in the whole text.
                    (ByName::Yaml, Read_::Text(t)) => sniff_yaml(head(t))
                        .or_else(|| t.contains("LoadBalancer").then_some(FileKind::K8sManifest)),
                    // Unreadable JSON/YAML is reported only if its name is telling.
                    (_, _) => None,
                };
                let telling = matches!(by, ByName::Known(_));
                if kind.is_some() || (telling && !matches!(read, Read_::Text(_))) {
                    found
                        .lock()
                        .map(|mut v| v.push((path.to_path_buf(), kind, read)))
                        .ok();
                } else if !matches!(read, Read_::Text(_)) && matches!(by, ByName::Json) {
                    // A .json that cannot be read may still be a template.
                    found
                        .lock()
                        .map(|mut v| v.push((path.to_path_buf(), None, read)))
                        .ok();
                }
                ignore::WalkState::Continue
            })
        });
    }
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("no such file or directory: {}", list.join(", ")));
    }

    let mut found = found.into_inner().unwrap_or_default();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.dedup_by(|a, b| a.0 == b.0);

    let mut out = Discovered::default();
    for (path, kind, read) in found {
        let (text, problem) = match read {
            Read_::Text(t) => (t, None),
            Read_::TooLarge(n) => (
                String::new(),
                Some((
                    0,
                    format!(
                        "file is {n} bytes, over the {max}-byte limit; it was not analysed (raise `max-file-size` in the config)"
                    ),
                )),
            ),
            Read_::NotUtf8 { valid, at } => {
                let off = valid.len();
                (
                    valid,
                    Some((
                        off,
                        format!(
                            "file is not valid UTF-8 (invalid byte at offset {at}); it was not analysed"
                        ),
                    )),
                )
            }
            Read_::Error(e) => (String::new(), Some((0, format!("cannot read file: {e}")))),
        };
        let id = out.sources.add(path, text);
        match problem {
            Some((off, msg)) => {
                out.findings.push(Finding::new(
                    Code::AEL000,
                    msg,
                    Span::new(id, off..off),
                    "here",
                ));
            }
            None => {
                if let Some(k) = kind {
                    out.files.push((id, k));
                }
            }
        }
    }

    // Group Terraform files by folder.
    let mut modules: BTreeMap<PathBuf, TfModule> = BTreeMap::new();
    for &(id, kind) in &out.files {
        if !matches!(
            kind,
            FileKind::Terraform | FileKind::TfVars | FileKind::TfVarsJson
        ) {
            continue;
        }
        let dir = out
            .sources
            .get(id)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let m = modules.entry(dir.clone()).or_insert_with(|| TfModule {
            dir,
            files: vec![],
            tfvars: vec![],
        });
        if kind == FileKind::Terraform {
            m.files.push(id);
        } else {
            m.tfvars.push(id);
        }
    }
    out.tf_modules = modules
        .into_values()
        .filter(|m| !m.files.is_empty())
        .collect();
    Ok(out)
}

fn head(t: &str) -> &str {
    let mut end = t.len().min(SNIFF);
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    &t[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs() {
        assert_eq!(
            sniff_json(
                r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#","#
            ),
            Some(FileKind::ArmTemplate)
        );
        assert_eq!(
            sniff_json(
                r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#""#
            ),
            Some(FileKind::ArmParameters)
        );
        assert_eq!(
            sniff_json(
                r#"{"format_version":"1.2","terraform_version":"1.9.0","planned_values":{}}"#
            ),
            Some(FileKind::TerraformPlan)
        );
        assert_eq!(
            sniff_json(r#"{"name":"nsg","securityRules":[]}"#),
            Some(FileKind::NsgExport)
        );
        assert_eq!(sniff_json(r#"{"name":"package","version":"1.0.0"}"#), None);
        assert_eq!(
            sniff_yaml("apiVersion: v1\nkind: Service\n"),
            Some(FileKind::K8sManifest)
        );
        assert_eq!(sniff_yaml("name: ci\non: push\n"), None);
    }
}

//! Module references: `module x './net.bicep'`, `using './main.bicep'`.
//!
//! Only relative paths inside the scan root are followed, and only to files
//! that discovery read (the tool never reads a file the user did not ask it
//! to scan). Registry (`br:`, `br/alias:`) and template-spec (`ts:`,
//! `ts/alias:`) modules are never fetched: no network at run time.

use super::eval::Loader;
use crate::source::{FileId, Span, normalize};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq)]
pub enum ModuleTarget {
    File(FileId),
    /// Why it is not followed (already reported as a note).
    NotFollowed(String),
}

/// Is this a registry or template-spec reference rather than a path?
pub fn is_remote(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.starts_with("br:") || p.starts_with("br/") || p.starts_with("ts:") || p.starts_with("ts/")
}

/// The path a relative reference points to (lexically normalised).
pub fn target_path(from: &Path, rel: &str) -> PathBuf {
    let dir = from.parent().unwrap_or(Path::new(""));
    normalize(&dir.join(rel.replace('\\', "/")))
}

/// Find the file a module or `using` path refers to, with a note when it
/// cannot be followed.
pub fn resolve(ld: &mut Loader, from: FileId, rel: &str, span: &Span) -> ModuleTarget {
    if is_remote(rel) {
        let kind = if rel.to_ascii_lowercase().starts_with("ts") {
            "a template spec"
        } else {
            "in a registry"
        };
        let msg = format!(
            "module `{rel}` is {kind} and is not fetched: what it deploys is not analysed and its outputs are unknown"
        );
        // Only modules that may deploy part of the egress path get a note;
        // the outputs of any other are unknown with the module named.
        if network_related(rel) {
            let help = "vendor the module with a relative path to have it analysed";
            ld.note(span, msg, "registry module not fetched", Some(help));
        }
        return ModuleTarget::NotFollowed(format!(
            "the outputs of registry module `{rel}` are not fetched"
        ));
    }
    let from_path = ld.sources.get(from).path.clone();
    let want = target_path(&from_path, rel);
    if !inside_root(&want, &ld.opts.root) {
        ld.note(
            span,
            format!("module `{rel}` is outside the scanned folder and is not followed"),
            "module not followed",
            Some("scan a folder that contains both files"),
        );
        return ModuleTarget::NotFollowed(format!("module `{rel}` is outside the scanned folder"));
    }
    if let Some(id) = find(ld, &want) {
        return ModuleTarget::File(id);
    }
    let lower = want.to_string_lossy().to_lowercase();
    let case_match = ld
        .sources
        .iter()
        .find(|(_, f)| normalize(&f.path).to_string_lossy().to_lowercase() == lower)
        .map(|(_, f)| f.display.clone());
    let msg = match case_match {
        Some(d) => format!(
            "module path `{rel}` differs only in case from `{d}`: it fails on case-sensitive file systems"
        ),
        None => format!("module file `{rel}` was not found among the scanned files"),
    };
    ld.note(span, msg, "module not followed", None);
    ModuleTarget::NotFollowed(format!("module `{rel}` was not found"))
}

fn find(ld: &Loader, want: &Path) -> Option<FileId> {
    ld.sources
        .iter()
        .find(|(_, f)| normalize(&f.path) == want)
        .map(|(id, _)| id)
}

/// Whether `p` lies inside `root` (an empty root means no restriction).
pub fn inside_root(p: &Path, root: &Path) -> bool {
    if root.as_os_str().is_empty() {
        return true;
    }
    let abs = |x: &Path| -> PathBuf {
        if x.is_absolute() {
            normalize(x)
        } else {
            std::env::current_dir()
                .map(|c| normalize(&c.join(x)))
                .unwrap_or_else(|_| normalize(x))
        }
    };
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| abs(root));
    let p = abs(p);
    let p = std::fs::canonicalize(&p).unwrap_or(p);
    p.starts_with(&root)
}

/// Whether a registry or template-spec reference looks like it deploys
/// networking or a cluster (AVM names such as `avm/res/network/...`,
/// `avm/res/container-service/managed-cluster`, or a custom alias).
pub fn network_related(reference: &str) -> bool {
    let r = reference.to_ascii_lowercase();
    [
        "virtual-network",
        "network-security-group",
        "route-table",
        "firewall",
        "managed-cluster",
        "kubernetes",
        "ip-group",
        "hub-networking",
        "vnet",
        "subnet",
        "nsg",
        "route",
        "egress",
        "aks",
        "spoke",
    ]
    .iter()
    .any(|k| r.contains(k))
}

/// Resource types this tool maps into the network model (so a loop over
/// them that cannot be expanded deserves a note).
pub fn relevant_type(type_ref: &str) -> bool {
    let t = type_ref.to_ascii_lowercase();
    [
        "microsoft.containerservice/managedclusters",
        "microsoft.network/virtualnetworks",
        "microsoft.network/networksecuritygroups",
        "microsoft.network/routetables",
        "microsoft.network/azurefirewalls",
        "microsoft.network/firewallpolicies",
        "microsoft.network/ipgroups",
        "subnets",
        "routes",
        "securityrules",
        "rulecollectiongroups",
        "agentpools",
    ]
    .iter()
    .any(|p| t.starts_with(p))
}

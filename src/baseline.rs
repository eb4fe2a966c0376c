//! Baseline: `--write-baseline FILE` records today's findings; `--baseline
//! FILE` reports only the ones that are not in it.
//!
//! Findings are matched by the same fingerprint SARIF uses
//! ([`crate::render::sarif::fingerprint`]): code, file, cluster, requirement,
//! endpoint and the text of the flagged code, not its line. Moving a block,
//! or editing other parts of a file, keeps its findings matched; editing the
//! flagged block itself makes them new. Identical fingerprints are counted,
//! so a second copy of an accepted problem is still reported.
//!
//! The file is JSON, sorted, with the location and message of each entry
//! for people reading diffs of it; only `fingerprint` is used to match.

use crate::finding::Finding;
use crate::render::sarif::fingerprint;
use crate::source::Sources;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

const VERSION: u32 = 1;
/// Baselines larger than this are refused rather than read into memory.
const MAX_SIZE: u64 = 256 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
struct Entry {
    file: String,
    line: usize,
    code: String,
    message: String,
    fingerprint: String,
}

/// A baseline that cannot be read or written.
#[derive(Debug)]
pub struct BaselineError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for BaselineError {}

/// Record `findings` as the accepted baseline.
pub fn write(path: &Path, findings: &[Finding], sources: &Sources) -> Result<(), BaselineError> {
    let mut entries: Vec<Entry> = findings
        .iter()
        .map(|f| {
            let p = f.primary();
            let (line, _, _, _) = sources.span_lines(&p.span);
            Entry {
                file: sources.get(p.span.file).display.clone(),
                line,
                code: f.code.as_str().to_string(),
                message: f.message.clone(),
                fingerprint: fingerprint(f, sources),
            }
        })
        .collect();
    entries.sort();
    let mut text = serde_json::to_string_pretty(&File {
        version: VERSION,
        findings: entries,
    })
    .map_err(|e| BaselineError {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| BaselineError {
        path: path.to_path_buf(),
        message: format!("cannot write: {e}"),
    })
}

/// The findings that are not in the baseline at `path`.
pub fn filter(
    path: &Path,
    findings: Vec<Finding>,
    sources: &Sources,
) -> Result<Vec<Finding>, BaselineError> {
    let err = |message: String| BaselineError {
        path: path.to_path_buf(),
        message,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| err(format!("cannot read: {e}")))?
        .len();
    if size > MAX_SIZE {
        return Err(err(format!("{size} bytes is too large for a baseline")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let file: File = serde_json::from_str(&text).map_err(|e| {
        let (line, col) = (e.line(), e.column());
        let msg = e.to_string();
        let msg = msg
            .strip_suffix(&format!(" at line {line} column {col}"))
            .unwrap_or(&msg);
        err(format!("line {line}, column {col}: not a baseline: {msg}"))
    })?;
    if file.version != VERSION {
        return Err(err(format!(
            "baseline version {} is not supported (expected {VERSION})",
            file.version
        )));
    }
    let mut budget: HashMap<String, usize> = HashMap::new();
    for e in file.findings {
        *budget.entry(e.fingerprint).or_insert(0) += 1;
    }
    Ok(findings
        .into_iter()
        .filter(|f| match budget.get_mut(&fingerprint(f, sources)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Code, Endpoint};
    use crate::source::Span;

    const BEFORE: &str = "resource \"azurerm_firewall_policy_rule_collection_group\" \"aks\" {\n  priority = 200\n}\n\nresource \"azurerm_route_table\" \"rt\" {\n  name = \"rt\"\n}\n";

    fn findings(s: &Sources, file: crate::source::FileId) -> Vec<Finding> {
        let text = s.text(file);
        // From the needle to the end of its block.
        let at = |needle: &str| {
            let a = text.find(needle).unwrap_or(0);
            let b = text[a..].find('}').map_or(text.len(), |p| a + p + 1);
            Span::new(file, a..b)
        };
        vec![
            Finding::new(
                Code::AEL001,
                "egress to `mcr.microsoft.com:443/tcp` is not allowed",
                at("resource \"azurerm_firewall_policy_rule_collection_group\""),
                "here",
            )
            .cluster("aks")
            .requirement("aks.mcr")
            .endpoint(Endpoint {
                destination: "mcr.microsoft.com".into(),
                protocol: "tcp".into(),
                port: 443,
            }),
            Finding::new(
                Code::AEL007,
                "no default route",
                at("resource \"azurerm_route_table\" \"rt\""),
                "here",
            ),
        ]
    }

    #[test]
    fn round_trip_survives_moved_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("baseline.json");
        let mut s = Sources::new();
        let id = s.add_named("infra/fw.tf", BEFORE);
        write(&path, &findings(&s, id), &s).expect("write");

        // Same findings, eight lines further down and re-indented: none new.
        let moved = format!(
            "# header\n\n\n\n\n\n\n\n{}",
            BEFORE.replace("  priority", "    priority")
        );
        let mut s2 = Sources::new();
        let id2 = s2.add_named("infra/fw.tf", moved);
        let now = findings(&s2, id2);
        assert_eq!(s2.span_lines(&now[0].primary().span).0, 9);
        assert_eq!(filter(&path, now.clone(), &s2).expect("filter"), vec![]);

        // A new finding, and a second copy of an accepted one, are reported.
        let mut more = now.clone();
        more.push(now[1].clone());
        more.push(now[0].clone().requirement("aks.arm"));
        let left = filter(&path, more, &s2).expect("filter");
        assert_eq!(left.len(), 2);
        assert_eq!(left[0].code, Code::AEL007);
        assert_eq!(left[1].requirement.as_deref(), Some("aks.arm"));

        // Editing the flagged block makes its finding new.
        let edited = BEFORE.replace("priority = 200", "priority = 250");
        let mut s3 = Sources::new();
        let id3 = s3.add_named("infra/fw.tf", edited);
        let left = filter(&path, findings(&s3, id3), &s3).expect("filter");
        assert_eq!(
            left.iter().map(|f| f.code).collect::<Vec<_>>(),
            [Code::AEL001]
        );
    }

    #[test]
    fn file_is_readable_and_errors_are_clear() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("b.json");
        let mut s = Sources::new();
        let id = s.add_named("infra/fw.tf", BEFORE);
        write(&path, &findings(&s, id), &s).expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("{\n  \"version\": 1,\n  \"findings\": [\n    {\n      \"file\": \"infra/fw.tf\",\n      \"line\": 1,\n      \"code\": \"AEL001\","), "{text}");

        std::fs::write(&path, "{\"version\": 2, \"findings\": []}").expect("write");
        let e = filter(&path, vec![], &s).expect_err("version");
        assert!(
            e.to_string()
                .ends_with("baseline version 2 is not supported (expected 1)"),
            "{e}"
        );
        std::fs::write(&path, "{\"version\": 1, \"findings\": [{}]}").expect("write");
        let e = filter(&path, vec![], &s).expect_err("shape");
        assert!(
            e.to_string()
                .contains("line 1, column 30: not a baseline: missing field `file`"),
            "{e}"
        );
        let e = filter(&dir.path().join("missing.json"), vec![], &s).expect_err("missing");
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}

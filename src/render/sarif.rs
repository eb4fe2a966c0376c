//! SARIF 2.1.0 output for GitHub code scanning and other SARIF consumers.
//!
//! Only the subset of SARIF this tool emits is modelled: one run, one rule per
//! finding code (every code, so `ruleIndex` is stable), and per finding a
//! result with its primary location, the other labels as `relatedLocations`,
//! the cluster's egress path as a `codeFlow`, and a `partialFingerprints`
//! entry that survives unrelated edits (see [`fingerprint`]).
//!
//! Paths are relative, with `/` separators, against the `%SRCROOT%` base: on
//! GitHub that is the checkout, which is where the linter runs.
//!
//! No `automationDetails.id` is written: upload-sarif's `category` input
//! only applies when the file has none (github/codeql-action#463), and two
//! runs on different folders of one repository need different categories.

use crate::finding::{ClusterSummary, Code, Finding, Label, Report, Severity};
use crate::source::{Sources, Span};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

/// Key of our entry in `partialFingerprints`; the `/v1` moves with the recipe.
pub const FINGERPRINT_KEY: &str = "aksEgressLint/v1";

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
const TOOL_URI: &str = "https://github.com/aks-egress-lint/aks-egress-lint";

/// A fingerprint of a finding that does not depend on where it sits in the
/// file: the code, the file, the cluster, the catalog requirement and
/// endpoint, and the text of the primary span with its whitespace folded.
/// Moving a block down a file, or editing another block, keeps it; editing
/// the flagged block itself or renaming the file changes it.
///
/// 32 hex digits of FNV-1a/128: stable across Rust versions and platforms,
/// which `std`'s hasher does not promise.
pub fn fingerprint(f: &Finding, sources: &Sources) -> String {
    let p = f.primary();
    let mut h = Fnv128::new();
    h.field(f.code.as_str());
    h.field(&sources.get(p.span.file).display);
    h.field(f.cluster.as_deref().unwrap_or(""));
    h.field(f.requirement.as_deref().unwrap_or(""));
    match &f.endpoint {
        Some(e) => {
            h.field(&e.destination);
            h.field(&e.protocol);
            h.field(&e.port.to_string());
        }
        None => h.field(""),
    }
    let text = sources.slice(&p.span);
    let folded: Vec<&str> = text.split_whitespace().collect();
    h.field(&folded.join(" "));
    format!("{:032x}", h.0)
}

struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;

    fn new() -> Self {
        Fnv128(Self::OFFSET)
    }

    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u128::from(x);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// Length-prefixed so that field boundaries cannot shift.
    fn field(&mut self, s: &str) {
        self.bytes(&(s.len() as u64).to_le_bytes());
        self.bytes(s.as_bytes());
    }
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
    precision: &'static str,
    #[serde(rename = "problem.severity")]
    problem_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_flows: Vec<CodeFlow<'a>>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "ResultProperties::is_empty")]
    properties: ResultProperties<'a>,
}

#[derive(Serialize, Default)]
struct ResultProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requirement: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<EndpointProp<'a>>,
}

impl ResultProperties<'_> {
    fn is_empty(&self) -> bool {
        self.cluster.is_none() && self.requirement.is_none() && self.endpoint.is_none()
    }
}

#[derive(Serialize)]
struct EndpointProp<'a> {
    destination: &'a str,
    protocol: &'a str,
    port: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation<'a> {
    artifact_location: ArtifactLocation<'a>,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation<'a> {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'a str>,
}

/// Relative paths go against `%SRCROOT%`; a file outside the current folder
/// (shown with an absolute path) becomes an absolute `file:` URI.
fn artifact(display: &str) -> ArtifactLocation<'static> {
    let bytes = display.as_bytes();
    let windows_drive = bytes.len() > 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic();
    if display.starts_with('/') {
        ArtifactLocation {
            uri: format!("file://{}", uri_path(display)),
            uri_base_id: None,
        }
    } else if windows_drive {
        ArtifactLocation {
            uri: format!("file:///{}", uri_path(display)),
            uri_base_id: None,
        }
    } else {
        ArtifactLocation {
            uri: uri_path(display),
            uri_base_id: Some(SRCROOT),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow<'a> {
    message: Text,
    thread_flows: Vec<ThreadFlow<'a>>,
}

#[derive(Serialize)]
struct ThreadFlow<'a> {
    locations: Vec<ThreadFlowLocation<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ThreadFlowLocation<'a> {
    location: Location<'a>,
    importance: &'static str,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// GitHub's own `problem.severity` vocabulary.
fn problem_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "recommendation",
    }
}

/// Sentence for SARIF consumers: capitalised and ending with a period,
/// unless it ends with a code snippet (a fix spanning several lines).
fn sentence(s: &str) -> String {
    let s = s.trim();
    let mut out = String::with_capacity(s.len() + 1);
    let mut chars = s.chars();
    if let Some(c) = chars.next() {
        out.extend(c.to_uppercase());
        out.push_str(chars.as_str());
    }
    if !out.ends_with(['.', '!', '?']) && !out.contains('\n') {
        out.push('.');
    }
    out
}

/// Percent-encode what a relative URI reference cannot hold as is.
pub(crate) fn uri_path(display: &str) -> String {
    let mut out = String::with_capacity(display.len());
    for b in display.bytes() {
        let c = b as char;
        if c.is_ascii_alphanumeric() || "-._~/!$&'()*+,;=:@".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location<'a>(
    sources: &Sources,
    span: &Span,
    id: Option<usize>,
    message: Option<&str>,
) -> Location<'a> {
    let (l1, c1, l2, c2) = sources.span_lines(span);
    // A reversed span would make an invalid region; point at its start.
    let (l2, c2) = if (l2, c2) < (l1, c1) {
        (l1, c1)
    } else {
        (l2, c2)
    };
    Location {
        id,
        physical_location: PhysicalLocation {
            artifact_location: artifact(&sources.get(span.file).display),
            region: Region {
                start_line: l1,
                start_column: c1,
                end_line: l2,
                end_column: c2,
            },
        },
        message: message.map(|m| Text { text: sentence(m) }),
    }
}

fn rule(code: Code) -> Rule {
    let sev = code.default_severity();
    let uri = code.help_uri();
    Rule {
        id: code.as_str(),
        name: code.name().to_string(),
        short_description: Text {
            text: sentence(code.description()),
        },
        full_description: Text {
            text: format!(
                "{} ({}, default severity {}).",
                code.description(),
                code.name(),
                sev.as_str()
            ),
        },
        help: Help {
            text: format!("{} See {uri}", sentence(code.description())),
            markdown: format!(
                "{} See [{}]({uri}) for an example and its fix.",
                sentence(code.description()),
                code.as_str()
            ),
        },
        help_uri: uri,
        default_configuration: Configuration { level: level(sev) },
        properties: RuleProperties {
            tags: vec!["aks", "egress", "network"],
            precision: "high",
            problem_severity: problem_severity(sev),
        },
    }
}

/// The trace of a finding as a code flow: the hops of its cluster's egress
/// path that have a place in the code, or else its own labels, related ones
/// first and the primary last. One location alone is not a flow.
fn code_flow<'a>(
    f: &'a Finding,
    clusters: &HashMap<&str, &'a ClusterSummary>,
    sources: &Sources,
) -> Option<CodeFlow<'a>> {
    let primary = &f.primary().span;
    let from_path: Vec<ThreadFlowLocation> = f
        .cluster
        .as_deref()
        .and_then(|c| clusters.get(c))
        .map(|c| {
            c.path
                .iter()
                .filter_map(|hop| {
                    let span = hop.span.as_ref()?;
                    let mut msg = format!("{} `{}`", hop.kind, hop.name);
                    if hop.blocking {
                        msg.push_str(" blocks a required endpoint");
                    }
                    let decisive = hop.blocking || span == primary;
                    Some(ThreadFlowLocation {
                        location: location(sources, span, None, Some(&msg)),
                        importance: if decisive { "essential" } else { "important" },
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let locations = if from_path.len() >= 2 {
        from_path
    } else {
        let mut labels: Vec<&Label> = f.labels.iter().filter(|l| !l.primary).collect();
        labels.push(f.primary());
        labels
            .into_iter()
            .map(|l| ThreadFlowLocation {
                location: location(sources, &l.span, None, Some(&l.message)),
                importance: if l.primary { "essential" } else { "important" },
            })
            .collect()
    };
    if locations.len() < 2 {
        return None;
    }
    let what = match &f.cluster {
        Some(c) => format!("Egress path of cluster `{c}`."),
        None => "Path that leads to the finding.".to_string(),
    };
    Some(CodeFlow {
        message: Text { text: what },
        thread_flows: vec![ThreadFlow { locations }],
    })
}

fn result<'a>(
    f: &'a Finding,
    clusters: &HashMap<&str, &'a ClusterSummary>,
    sources: &Sources,
    fingerprint: String,
) -> SarifResult<'a> {
    let primary = f.primary();
    let mut text = sentence(&f.message);
    if let Some(h) = &f.help {
        text.push_str(" Fix: ");
        text.push_str(&sentence(h));
    }
    let related_locations = f
        .labels
        .iter()
        .filter(|l| !l.primary)
        .enumerate()
        .map(|(i, l)| location(sources, &l.span, Some(i + 1), Some(&l.message)))
        .collect();
    let rule_index = Code::ALL.iter().position(|c| *c == f.code).unwrap_or(0);
    SarifResult {
        rule_id: f.code.as_str(),
        rule_index,
        level: level(f.severity),
        message: Text { text },
        locations: vec![location(
            sources,
            &primary.span,
            None,
            Some(&primary.message),
        )],
        related_locations,
        code_flows: code_flow(f, clusters, sources).into_iter().collect(),
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint)]),
        properties: ResultProperties {
            cluster: f.cluster.as_deref(),
            requirement: f.requirement.as_deref(),
            endpoint: f.endpoint.as_ref().map(|e| EndpointProp {
                destination: &e.destination,
                protocol: &e.protocol,
                port: e.port,
            }),
        },
    }
}

/// Write the report as one SARIF 2.1.0 log.
pub fn write(w: &mut dyn Write, report: &Report, sources: &Sources) -> io::Result<()> {
    let clusters: HashMap<&str, &ClusterSummary> = report
        .clusters
        .iter()
        .map(|c| (c.name.as_str(), c))
        .collect();
    // Identical fingerprints (two copies of one block) get an occurrence
    // suffix, as GitHub does for its own line hashes, so alerts stay apart.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let results = report
        .findings
        .iter()
        .map(|f| {
            let fp = fingerprint(f, sources);
            let n = seen.entry(fp.clone()).or_insert(0);
            *n += 1;
            result(f, &clusters, sources, format!("{fp}:{n}"))
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "aks-egress-lint",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: TOOL_URI,
                    rules: Code::ALL.iter().map(|c| rule(*c)).collect(),
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *w, &log).map_err(io::Error::other)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Endpoint;

    fn sources() -> (Sources, crate::source::FileId) {
        let mut s = Sources::new();
        let id = s.add_named("infra/fw.tf", "resource \"a\" \"b\" {\n  x = 1\n}\n");
        (s, id)
    }

    #[test]
    fn fingerprint_ignores_position_and_whitespace() {
        let (s, id) = sources();
        let mut s2 = Sources::new();
        let id2 = s2.add_named(
            "infra/fw.tf",
            "\n\n# moved\nresource  \"a\" \"b\" {\n    x = 1\n}\n",
        );
        let block = |s: &Sources, id| {
            let t = s.text(id);
            let a = t.find("resource").unwrap_or(0);
            Span::new(id, a..t.len() - 1)
        };
        let f1 = Finding::new(Code::AEL001, "m", block(&s, id), "here").endpoint(Endpoint {
            destination: "mcr.microsoft.com".into(),
            protocol: "tcp".into(),
            port: 443,
        });
        let mut f2 = f1.clone();
        f2.labels[0].span = block(&s2, id2);
        assert_eq!(s2.slice(&f2.labels[0].span).split_whitespace().count(), 8);
        assert_eq!(fingerprint(&f1, &s), fingerprint(&f2, &s2));
        let mut f3 = f1.clone();
        if let Some(e) = f3.endpoint.as_mut() {
            e.port = 80;
        }
        assert_ne!(fingerprint(&f1, &s), fingerprint(&f3, &s));
        assert_eq!(fingerprint(&f1, &s).len(), 32);
    }

    #[test]
    fn sentences_and_uris() {
        assert_eq!(
            sentence("egress to `x` is denied"),
            "Egress to `x` is denied."
        );
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence("add:\nrule {\n}"), "Add:\nrule {\n}");
        assert_eq!(uri_path("a b/c#d.tf"), "a%20b/c%23d.tf");
        let a = artifact("/tmp/x y.tf");
        assert_eq!(
            (a.uri.as_str(), a.uri_base_id),
            ("file:///tmp/x%20y.tf", None)
        );
        let a = artifact("C:/src/main.tf");
        assert_eq!(
            (a.uri.as_str(), a.uri_base_id),
            ("file:///C:/src/main.tf", None)
        );
        let a = artifact("infra/main.tf");
        assert_eq!(
            (a.uri.as_str(), a.uri_base_id),
            ("infra/main.tf", Some(SRCROOT))
        );
    }
}

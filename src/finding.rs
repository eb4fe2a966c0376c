//! Findings: what the tool reports. Checks build them with spans; renderers
//! turn them into text. Codes are stable: users suppress and configure by them.

use crate::source::Span;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Code {
    AEL000,
    AEL001,
    AEL002,
    AEL003,
    AEL004,
    AEL005,
    AEL006,
    AEL007,
    AEL008,
    AEL009,
    AEL010,
}

impl Code {
    /// Every code, in order. New codes are appended, never renumbered.
    pub const ALL: &'static [Code] = &[
        Code::AEL000,
        Code::AEL001,
        Code::AEL002,
        Code::AEL003,
        Code::AEL004,
        Code::AEL005,
        Code::AEL006,
        Code::AEL007,
        Code::AEL008,
        Code::AEL009,
        Code::AEL010,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::AEL000 => "AEL000",
            Code::AEL001 => "AEL001",
            Code::AEL002 => "AEL002",
            Code::AEL003 => "AEL003",
            Code::AEL004 => "AEL004",
            Code::AEL005 => "AEL005",
            Code::AEL006 => "AEL006",
            Code::AEL007 => "AEL007",
            Code::AEL008 => "AEL008",
            Code::AEL009 => "AEL009",
            Code::AEL010 => "AEL010",
        }
    }

    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Code::AEL000 => "parse-error",
            Code::AEL001 => "missing-required-endpoint",
            Code::AEL002 => "missing-recommended-endpoint",
            Code::AEL003 => "internal-traffic-blocked",
            Code::AEL004 => "egress-black-holed",
            Code::AEL005 => "fqdn-network-rule-without-dns-proxy",
            Code::AEL006 => "asymmetric-routing",
            Code::AEL007 => "udr-without-default-route",
            Code::AEL008 => "unresolved-value",
            Code::AEL009 => "broad-rule-only",
            Code::AEL010 => "unused-suppression",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Code::AEL000 => "A file could not be read or parsed",
            Code::AEL001 => "An endpoint that AKS nodes require is not allowed by the egress path",
            Code::AEL002 => {
                "An endpoint that AKS recommends, or that a feature in use needs, is not allowed by the egress path"
            }
            Code::AEL003 => {
                "Traffic inside the cluster's own subnets or virtual network is blocked, which AKS does not support"
            }
            Code::AEL004 => "Egress is routed to a next hop that drops it",
            Code::AEL005 => {
                "A firewall network rule names FQDNs while DNS proxy is off, so it never matches"
            }
            Code::AEL006 => {
                "A default route through the firewall breaks public inbound load balancing"
            }
            Code::AEL007 => {
                "outboundType userDefinedRouting without a 0.0.0.0/0 route on the node subnet"
            }
            Code::AEL008 => "A value that decides a verdict cannot be determined statically",
            Code::AEL009 => {
                "A required endpoint passes only through a broad address or service-tag rule"
            }
            Code::AEL010 => {
                "A suppression comment that suppresses nothing: no reason, an unknown code, or no finding to cover"
            }
        }
    }

    pub fn default_severity(self) -> Severity {
        match self {
            Code::AEL000 | Code::AEL001 | Code::AEL003 | Code::AEL004 | Code::AEL007 => {
                Severity::Error
            }
            Code::AEL002 | Code::AEL005 | Code::AEL006 | Code::AEL009 | Code::AEL010 => {
                Severity::Warning
            }
            Code::AEL008 => Severity::Note,
        }
    }

    /// Documentation page of the code, derived, never written by hand.
    pub fn help_uri(self) -> String {
        format!(
            "https://github.com/aks-egress-lint/aks-egress-lint/blob/main/docs/codes/{}.md",
            self.as_str()
        )
    }

    /// Parse `AEL001` or `missing-required-endpoint`.
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(s) || c.name() == s)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

/// The flow a finding is about: one destination, one protocol, one port.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Catalog destination with placeholders filled in.
    pub destination: String,
    /// Transport protocol: `tcp` or `udp`.
    pub protocol: String,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Exactly one primary label; the others trace the path.
    pub labels: Vec<Label>,
    /// The fix, in the file's own language where possible.
    pub help: Option<String>,
    pub cluster: Option<String>,
    pub endpoint: Option<Endpoint>,
    /// Catalog id behind the finding, if any.
    pub requirement: Option<String>,
}

impl Finding {
    /// Start a finding at its primary location, with the code's default severity.
    pub fn new(
        code: Code,
        message: impl Into<String>,
        primary: Span,
        label: impl Into<String>,
    ) -> Self {
        Finding {
            code,
            severity: code.default_severity(),
            message: message.into(),
            labels: vec![Label {
                span: primary,
                message: label.into(),
                primary: true,
            }],
            help: None,
            cluster: None,
            endpoint: None,
            requirement: None,
        }
    }

    pub fn related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn cluster(mut self, name: impl Into<String>) -> Self {
        self.cluster = Some(name.into());
        self
    }

    pub fn endpoint(mut self, e: Endpoint) -> Self {
        self.endpoint = Some(e);
        self
    }

    pub fn requirement(mut self, id: impl Into<String>) -> Self {
        self.requirement = Some(id.into());
        self
    }

    pub fn primary(&self) -> &Label {
        // `new` always creates the primary label first and nothing removes it.
        self.labels
            .iter()
            .find(|l| l.primary)
            .unwrap_or(&self.labels[0])
    }

    /// Stable ordering key: file, start offset, code.
    pub fn sort_key(&self) -> (u32, usize, Code, String) {
        let p = self.primary();
        (
            p.span.file.0,
            p.span.range.start,
            self.code,
            self.message.clone(),
        )
    }
}

/// Verdict of one flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allowed,
    Denied,
    Unknown,
}

/// One hop of a cluster's egress path, for reports meant for people.
#[derive(Clone, Debug, PartialEq)]
pub struct Hop {
    /// `subnet`, `nsg`, `route-table`, `firewall`, `firewall-policy`, `appliance`, `internet`.
    pub kind: String,
    pub name: String,
    pub span: Option<Span>,
    /// This hop blocks at least one required endpoint.
    pub blocking: bool,
}

/// What a cluster's path does with one catalog requirement.
#[derive(Clone, Debug, PartialEq)]
pub struct RequirementVerdict {
    pub requirement: String,
    pub endpoint: Endpoint,
    /// `required` or `recommended`.
    pub level: String,
    pub verdict: Verdict,
    /// The rule or resource that decided it, and why.
    pub decided_by: Option<Label>,
    pub source: Option<String>,
}

/// Per-cluster evaluation summary: the effective allow-set and the path.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSummary {
    pub name: String,
    pub span: Span,
    /// Node subnet (or pod subnet) the flows start from.
    pub source: Option<String>,
    pub path: Vec<Hop>,
    pub verdicts: Vec<RequirementVerdict>,
}

/// The result of one lint run.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub files: usize,
    pub clusters: Vec<ClusterSummary>,
}

impl Report {
    pub fn count(&self, sev: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == sev).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_unique() {
        let ids: HashSet<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        let names: HashSet<_> = Code::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(ids.len(), Code::ALL.len());
        assert_eq!(names.len(), Code::ALL.len());
        for c in Code::ALL {
            assert_eq!(Code::parse(c.as_str()), Some(*c));
            assert_eq!(Code::parse(c.name()), Some(*c));
        }
    }
}

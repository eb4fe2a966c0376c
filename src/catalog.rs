//! The endpoint catalog: what AKS nodes must reach, as data (`rules/*.yaml`),
//! embedded at build time and selectable by revision.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Cloud {
    AzureCloud,
    AzureChinaCloud,
    AzureUSGovernment,
}

impl Cloud {
    pub const ALL: &'static [Cloud] = &[
        Cloud::AzureCloud,
        Cloud::AzureChinaCloud,
        Cloud::AzureUSGovernment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::AzureCloud => "AzureCloud",
            Cloud::AzureChinaCloud => "AzureChinaCloud",
            Cloud::AzureUSGovernment => "AzureUSGovernment",
        }
    }

    pub fn parse(s: &str) -> Option<Cloud> {
        Cloud::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

/// Where a requirement points.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Destination {
    /// FQDN or wildcard pattern; may hold `{location}`.
    Fqdn(String),
    /// Service tag, e.g. `AzureCloud.{location}`.
    ServiceTag(String),
    /// Literal address or CIDR.
    Address(String),
    /// An address Microsoft writes as a placeholder: `APIServerPublicIP`, `CustomDNSIP`.
    Placeholder(String),
}

impl Destination {
    pub fn raw(&self) -> &str {
        match self {
            Destination::Fqdn(s)
            | Destination::ServiceTag(s)
            | Destination::Address(s)
            | Destination::Placeholder(s) => s,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Http,
    Https,
}

impl Protocol {
    /// Transport protocol of the flow.
    pub fn transport(self) -> &'static str {
        match self {
            Protocol::Udp => "udp",
            _ => "tcp",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Http => "http",
            Protocol::Https => "https",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Required,
    Recommended,
}

/// One catalog row: one destination, one protocol, one or more ports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Dotted, unique within a revision: `aks.mcr`, `monitor.ods`.
    pub id: String,
    /// Display group: `network`, `fqdn`, `optional`, `gpu`, `windows`, `monitoring`, ...
    pub group: String,
    pub destination: Destination,
    pub protocol: Protocol,
    pub ports: Vec<u16>,
    pub level: Level,
    /// Clouds the row applies to.
    pub clouds: Vec<Cloud>,
    /// Feature that makes the row apply (`gpu`, `windows`, `monitoring`,
    /// `policy`, `defender`, `keyvault`, `workload-identity`, `cost-analysis`,
    /// `extensions`, `dev-spaces`, `custom-dns`); `None` = always.
    #[serde(default)]
    pub when: Option<String>,
    /// Conditions that make the row unnecessary (`private-cluster`, ...).
    #[serde(default)]
    pub unless: Vec<String>,
    /// Kind of firewall rule the document asks for: `network` or `application`.
    pub rule: String,
    /// Why it is needed, in English.
    pub reason: String,
    /// Source document and its date.
    pub source: String,
    /// How a quirk of the document was interpreted.
    #[serde(default)]
    pub note: Option<String>,
}

/// What a Microsoft-managed FQDN tag covers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FqdnTag {
    pub name: String,
    /// Catalog entry ids (of any revision) the tag covers.
    #[serde(default)]
    pub covers: Vec<String>,
    /// Application protocols it applies to, e.g. `["http", "https"]`.
    #[serde(default)]
    pub protocols: Vec<Protocol>,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// ARM name, lowercase: `westeurope`.
    pub name: String,
    /// Display name: `West Europe`.
    pub display: String,
    pub cloud: Cloud,
    /// Suffix used in regional service tags when it differs (`centralfrance`).
    #[serde(default)]
    pub service_tag: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Catalog {
    pub revision: String,
    pub entries: Vec<Entry>,
    pub tags: Vec<FqdnTag>,
    pub regions: Vec<Region>,
}

impl Catalog {
    /// Normalise a region the way Azure accepts it: case and spaces do not matter.
    pub fn region(&self, name: &str) -> Option<&Region> {
        let want: String = name
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        self.regions.iter().find(|r| r.name == want)
    }
}

/// Why a catalog could not be loaded: the file and line at fault.
#[derive(Clone, Debug, PartialEq)]
pub struct CatalogError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message),
            (Some(l), None) => write!(f, "{}:{}: {}", self.file, l, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl Catalog {
    /// Rows that apply to a cluster in `cloud` with the given features and
    /// conditions (`gpu`, `monitoring`, `private-cluster`, `custom-dns`, ...):
    /// `when` absent or present in `conditions`, and no `unless` present.
    pub fn select(
        &self,
        cloud: Cloud,
        conditions: &std::collections::BTreeSet<String>,
    ) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| e.clouds.contains(&cloud))
            .filter(|e| e.when.as_ref().is_none_or(|w| conditions.contains(w)))
            .filter(|e| !e.unless.iter().any(|u| conditions.contains(u)))
            .collect()
    }

    /// The FQDN tag of that name (case-insensitive).
    pub fn tag(&self, name: &str) -> Option<&FqdnTag> {
        self.tags.iter().find(|t| t.name.eq_ignore_ascii_case(name))
    }
}

impl Entry {
    /// Destination with `{location}` filled in: the ARM region name for
    /// FQDNs, the service-tag spelling for service tags. Left as written when
    /// the region is not known.
    pub fn destination_for(&self, region: Option<&Region>) -> String {
        let raw = self.destination.raw();
        let Some(r) = region else {
            return raw.to_string();
        };
        let loc = match &self.destination {
            Destination::ServiceTag(_) => r.service_tag.as_deref().unwrap_or(&r.name),
            _ => &r.name,
        };
        raw.replace("{location}", loc)
    }
}

/// Load an embedded catalog revision.
pub fn load(revision: &str) -> Result<Catalog, CatalogError> {
    Err(CatalogError {
        file: format!("rules/{revision}.yaml"),
        line: None,
        column: None,
        message: "not yet available".into(),
    })
}

/// Load a catalog revision from a folder (`--rules DIR`).
pub fn load_dir(dir: &std::path::Path, revision: &str) -> Result<Catalog, CatalogError> {
    let _ = dir;
    load(revision)
}

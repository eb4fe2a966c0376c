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

// ---------------------------------------------------------------------------
// Loading and validation.

/// Catalog revisions shipped with the tool, oldest first.
pub const REVISIONS: &[&str] = &["2020-01", "current"];

/// Revision used when none is asked for.
pub const DEFAULT_REVISION: &str = "current";

/// Names a row may be conditional on with `when:`: features a cluster enables
/// (`gpu`, `windows`, ...) and conditions the code shows (`custom-dns`).
pub const FEATURES: &[&str] = &[
    "gpu",
    "windows",
    "monitoring",
    "policy",
    "defender",
    "keyvault",
    "workload-identity",
    "cost-analysis",
    "extensions",
    "dev-spaces",
    "custom-dns",
];

/// Names a row may be exempted by with `unless:`.
pub const EXEMPTIONS: &[&str] = &["private-cluster"];

const REGIONS_FILE: &str = "regions.yaml";
const TAGS_FILE: &str = "fqdn-tags.yaml";

/// The catalog files built into the binary: (file name, text).
const EMBEDDED: &[(&str, &str)] = &[
    ("2020-01.yaml", include_str!("../rules/2020-01.yaml")),
    ("current.yaml", include_str!("../rules/current.yaml")),
    (REGIONS_FILE, include_str!("../rules/regions.yaml")),
    (TAGS_FILE, include_str!("../rules/fqdn-tags.yaml")),
];

fn embedded(name: &str) -> Option<&'static str> {
    EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevisionFile {
    revision: String,
    /// Default source, referenced from the entries with a YAML alias.
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionsFile {
    regions: Vec<Region>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsFile {
    tags: Vec<RawTag>,
}

/// On disk a tag lists what it covers per revision; a loaded [`Catalog`]
/// keeps the list of its own revision.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTag {
    name: String,
    #[serde(default)]
    protocols: Vec<Protocol>,
    source: String,
    #[serde(default)]
    covers: std::collections::BTreeMap<String, Vec<String>>,
}

/// A catalog file being read: its name as shown in errors and its text.
struct CatalogFile<'a> {
    name: String,
    text: &'a str,
}

impl CatalogFile<'_> {
    fn error(&self, at: Option<(usize, usize)>, message: impl Into<String>) -> CatalogError {
        CatalogError {
            file: self.name.clone(),
            line: at.map(|(l, _)| l),
            column: at.map(|(_, c)| c),
            message: message.into(),
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, CatalogError> {
        serde_yaml::from_str(self.text).map_err(|e| {
            let at = e.location().map(|l| (l.line(), l.column()));
            // The message of yaml_serde repeats the position; keep the text only.
            let msg = e.to_string();
            let msg = match msg.find(" at line ") {
                Some(i) => msg[..i].to_string(),
                None => msg,
            };
            self.error(at, msg)
        })
    }

    /// Line and column of the `nth` (0-based) place where `key: value` is
    /// written, quoted or not, in block or flow style. Semantic errors point
    /// there, since YAML values carry no positions once deserialised.
    fn locate(&self, key: &str, value: &str, nth: usize) -> Option<(usize, usize)> {
        let bytes = self.text.as_bytes();
        let mut seen = 0;
        let mut from = 0;
        while let Some(i) = self.text[from..].find(key).map(|i| i + from) {
            from = i + key.len();
            let before_ok = i == 0 || !is_name_byte(bytes[i - 1]);
            let rest = &self.text[from..];
            let Some(after_colon) = rest.strip_prefix(':') else {
                continue;
            };
            let v = after_colon.trim_start_matches([' ', '\t']);
            let v = v.trim_start_matches(['"', '\'']);
            let matches =
                v.starts_with(value) && !v[value.len()..].bytes().next().is_some_and(is_name_byte);
            if before_ok && matches {
                if seen == nth {
                    return Some(line_col(self.text, i));
                }
                seen += 1;
            }
        }
        None
    }

    /// Position of the first place `word` is written as a whole name.
    fn locate_word(&self, word: &str) -> Option<(usize, usize)> {
        let bytes = self.text.as_bytes();
        self.text.match_indices(word).map(|(i, _)| i).find_map(|i| {
            let before = i.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(i + word.len()).copied();
            let free = |b: Option<u8>| !b.is_some_and(is_name_byte);
            (free(before) && free(after)).then(|| line_col(self.text, i))
        })
    }

    /// Position of `field:` inside the entry whose `id:` line is at `at`,
    /// falling back to the id line.
    fn locate_field(&self, at: Option<(usize, usize)>, field: &str) -> Option<(usize, usize)> {
        let (line, _) = at?;
        let start = offset_of_line(self.text, line);
        let rest = &self.text[start..];
        // The entry ends where the next list item starts.
        let first = rest.chars().next().map_or(0, char::len_utf8);
        let end = rest[first..]
            .find("\n  - ")
            .map(|i| i + first)
            .unwrap_or(rest.len());
        let needle = format!("{field}:");
        match rest[..end].find(&needle) {
            Some(i) => Some(line_col(self.text, start + i)),
            None => at,
        }
    }
}

fn without_bom(text: String) -> String {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_'
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

fn offset_of_line(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 2)
        .map(|(i, _)| i + 1)
        .unwrap_or(text.len())
}

/// A revision name that can be used as a file name: letters, digits, `-`, `_`, `.`.
fn valid_revision_name(revision: &str) -> bool {
    !revision.is_empty() && !revision.starts_with('.') && revision.bytes().all(is_name_byte)
}

/// Load a revision of the catalog built into the binary (`2020-01`, `current`).
pub fn load(revision: &str) -> Result<Catalog, CatalogError> {
    let file_name = format!("{revision}.yaml");
    let text = REVISIONS
        .contains(&revision)
        .then(|| embedded(&file_name))
        .flatten()
        .ok_or_else(|| CatalogError {
            file: "--catalog".into(),
            line: None,
            column: None,
            message: format!(
                "unknown catalog revision `{revision}` (known: {})",
                REVISIONS.join(", ")
            ),
        })?;
    let rules = |name: &str| format!("rules/{name}");
    build(
        revision,
        CatalogFile {
            name: rules(&file_name),
            text,
        },
        CatalogFile {
            name: rules(REGIONS_FILE),
            text: embedded(REGIONS_FILE).unwrap_or(""),
        },
        CatalogFile {
            name: rules(TAGS_FILE),
            text: embedded(TAGS_FILE).unwrap_or(""),
        },
        true,
    )
}

/// Load a revision from a folder (`--rules DIR`) holding files named like
/// `rules/`: `<revision>.yaml`, and optionally `regions.yaml` and
/// `fqdn-tags.yaml` (the built-in ones are used when absent).
pub fn load_dir(dir: &std::path::Path, revision: &str) -> Result<Catalog, CatalogError> {
    let shown = |p: &std::path::Path| crate::source::display_path(p);
    if !valid_revision_name(revision) {
        return Err(CatalogError {
            file: "--catalog".into(),
            line: None,
            column: None,
            message: format!("invalid catalog revision name `{revision}`"),
        });
    }
    let rev_path = dir.join(format!("{revision}.yaml"));
    let rev_text = std::fs::read_to_string(&rev_path).map_err(|e| CatalogError {
        file: shown(&rev_path),
        line: None,
        column: None,
        message: format!("cannot read catalog revision `{revision}`: {e}"),
    })?;
    // Editors on Windows may save a byte-order mark, which YAML does not want.
    let rev_text = without_bom(rev_text);
    // (shown name, text, read from the folder)
    type Read = (String, std::borrow::Cow<'static, str>, bool);
    let optional = |name: &str| -> Result<Read, CatalogError> {
        let p = dir.join(name);
        match std::fs::read_to_string(&p) {
            Ok(t) => Ok((shown(&p), without_bom(t).into(), true)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((
                format!("rules/{name}"),
                embedded(name).unwrap_or("").into(),
                false,
            )),
            Err(e) => Err(CatalogError {
                file: shown(&p),
                line: None,
                column: None,
                message: format!("cannot read: {e}"),
            }),
        }
    };
    let (regions_name, regions_text, _) = optional(REGIONS_FILE)?;
    let (tags_name, tags_text, tags_from_dir) = optional(TAGS_FILE)?;
    build(
        revision,
        CatalogFile {
            name: shown(&rev_path),
            text: &rev_text,
        },
        CatalogFile {
            name: regions_name,
            text: &regions_text,
        },
        CatalogFile {
            name: tags_name,
            text: &tags_text,
        },
        tags_from_dir,
    )
}

/// `tags_checked`: the tag file belongs with the revision file, so a covered
/// id the revision lacks is an error rather than skipped.
fn build(
    revision: &str,
    rev: CatalogFile<'_>,
    regions: CatalogFile<'_>,
    tags: CatalogFile<'_>,
    tags_checked: bool,
) -> Result<Catalog, CatalogError> {
    let file: RevisionFile = rev.parse()?;
    if file.revision != revision {
        return Err(rev.error(
            rev.locate("revision", &file.revision, 0),
            format!(
                "file declares revision `{}` but is loaded as `{revision}`",
                file.revision
            ),
        ));
    }
    validate_entries(&rev, &file.entries)?;

    let region_file: RegionsFile = regions.parse()?;
    validate_regions(&regions, &region_file.regions)?;

    let tag_file: TagsFile = tags.parse()?;
    let mut out_tags = Vec::with_capacity(tag_file.tags.len());
    let mut tag_names = std::collections::BTreeSet::new();
    for t in tag_file.tags {
        if !tag_names.insert(t.name.to_ascii_lowercase()) {
            return Err(tags.error(
                tags.locate("name", &t.name, 1),
                format!("FQDN tag `{}` is defined twice", t.name),
            ));
        }
        let mut covers = t.covers.get(revision).cloned().unwrap_or_default();
        if !tags_checked {
            // Built-in tag data over a revision from `--rules DIR`: cover
            // only the ids that revision defines.
            covers.retain(|id| file.entries.iter().any(|e| &e.id == id));
        }
        for id in &covers {
            if !file.entries.iter().any(|e| &e.id == id) {
                return Err(tags.error(
                    tags.locate_word(id),
                    format!(
                        "FQDN tag `{}` covers `{id}`, which revision `{revision}` does not define",
                        t.name
                    ),
                ));
            }
        }
        out_tags.push(FqdnTag {
            name: t.name,
            covers,
            protocols: t.protocols,
            source: t.source,
        });
    }

    Ok(Catalog {
        revision: revision.to_string(),
        entries: file.entries,
        tags: out_tags,
        regions: region_file.regions,
    })
}

fn validate_entries(f: &CatalogFile<'_>, entries: &[Entry]) -> Result<(), CatalogError> {
    let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
    for e in entries {
        let count = seen.entry(e.id.as_str()).or_insert(0);
        let at = f.locate("id", &e.id, *count);
        *count += 1;
        if *count > 1 {
            return Err(f.error(at, format!("duplicate entry id `{}`", e.id)));
        }
        let fail = |field: &str, msg: String| Err(f.error(f.locate_field(at, field), msg));
        let id_ok = e.id.split('.').count() >= 2
            && e.id.split('.').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            });
        if !id_ok {
            return fail(
                "id",
                format!(
                    "entry id `{}` must be dotted lowercase words, e.g. `aks.mcr`",
                    e.id
                ),
            );
        }
        if e.group.trim().is_empty() {
            return fail("group", format!("entry `{}` has an empty group", e.id));
        }
        if e.ports.is_empty() {
            return fail("ports", format!("entry `{}` lists no port", e.id));
        }
        if e.ports.contains(&0) {
            return fail("ports", format!("entry `{}` lists port 0", e.id));
        }
        if e.clouds.is_empty() {
            return fail("clouds", format!("entry `{}` lists no cloud", e.id));
        }
        if let Some(w) = e.when.as_ref().filter(|w| !FEATURES.contains(&w.as_str())) {
            return fail(
                "when",
                format!(
                    "entry `{}`: unknown `when` condition `{w}` (known: {})",
                    e.id,
                    FEATURES.join(", ")
                ),
            );
        }
        if let Some(u) = e.unless.iter().find(|u| !EXEMPTIONS.contains(&u.as_str())) {
            return fail(
                "unless",
                format!(
                    "entry `{}`: unknown `unless` condition `{u}` (known: {})",
                    e.id,
                    EXEMPTIONS.join(", ")
                ),
            );
        }
        let raw = e.destination.raw();
        if raw.trim().is_empty() {
            return fail(
                "destination",
                format!("entry `{}` has an empty destination", e.id),
            );
        }
        let placeholder_ok = matches!(
            e.destination,
            Destination::Fqdn(_) | Destination::ServiceTag(_)
        );
        let stripped = raw.replace("{location}", "");
        if stripped.contains('{') || stripped.contains('}') {
            return fail(
                "destination",
                format!(
                    "entry `{}`: `{raw}` holds a placeholder other than `{{location}}`",
                    e.id
                ),
            );
        }
        if raw.contains("{location}") && !placeholder_ok {
            return fail(
                "destination",
                format!(
                    "entry `{}`: `{{location}}` is allowed only in FQDN and service-tag destinations",
                    e.id
                ),
            );
        }
        match e.rule.as_str() {
            "application" if !matches!(e.protocol, Protocol::Http | Protocol::Https) => {
                return fail(
                    "rule",
                    format!(
                        "entry `{}`: application rules carry only http or https, not {}",
                        e.id,
                        e.protocol.as_str()
                    ),
                );
            }
            "application" if !matches!(e.destination, Destination::Fqdn(_)) => {
                return fail(
                    "rule",
                    format!(
                        "entry `{}`: application rules need an FQDN destination",
                        e.id
                    ),
                );
            }
            "network" if !matches!(e.protocol, Protocol::Tcp | Protocol::Udp) => {
                return fail(
                    "rule",
                    format!(
                        "entry `{}`: network rules carry tcp or udp, not {}",
                        e.id,
                        e.protocol.as_str()
                    ),
                );
            }
            "application" | "network" => {}
            other => {
                return fail(
                    "rule",
                    format!(
                        "entry `{}`: rule must be `network` or `application`, not `{other}`",
                        e.id
                    ),
                );
            }
        }
        if e.reason.trim().is_empty() {
            return fail("reason", format!("entry `{}` gives no reason", e.id));
        }
        if e.source.trim().is_empty() {
            return fail("source", format!("entry `{}` names no source", e.id));
        }
    }
    Ok(())
}

fn validate_regions(f: &CatalogFile<'_>, regions: &[Region]) -> Result<(), CatalogError> {
    let mut seen = std::collections::BTreeSet::new();
    for r in regions {
        let at = f.locate("name", &r.name, 0);
        if r.name.is_empty()
            || !r
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(f.error(
                at,
                format!(
                    "region name `{}` must be the lowercase ARM name, without spaces",
                    r.name
                ),
            ));
        }
        if !seen.insert(r.name.as_str()) {
            return Err(f.error(
                f.locate("name", &r.name, 1),
                format!("region `{}` is listed twice", r.name),
            ));
        }
        if r.display.trim().is_empty() {
            return Err(f.error(at, format!("region `{}` has no display name", r.name)));
        }
    }
    Ok(())
}

/// Check `--features` names (lowercased, blanks dropped) against
/// [`FEATURES`] and [`EXEMPTIONS`]; the error names the closest known name.
pub fn parse_conditions(names: &[String]) -> Result<std::collections::BTreeSet<String>, String> {
    let known = || FEATURES.iter().chain(EXEMPTIONS).copied();
    let mut out = std::collections::BTreeSet::new();
    for n in names {
        let n = n.trim().to_ascii_lowercase();
        if n.is_empty() {
            continue;
        }
        if !known().any(|k| k == n) {
            let close = known()
                .map(|k| (strsim::damerau_levenshtein(&n, k), k))
                .filter(|(d, _)| *d <= 2)
                .min();
            let hint = match close {
                Some((_, k)) => format!("; did you mean `{k}`?"),
                None => String::new(),
            };
            let all: Vec<&str> = known().collect();
            return Err(format!(
                "unknown feature `{n}`{hint} (known: {})",
                all.join(", ")
            ));
        }
        out.insert(n);
    }
    Ok(out)
}

/// Region names compared the way Azure accepts them: case and spaces do not matter.
pub fn normalize_region(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

impl Catalog {
    /// The entry with this id.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Regions whose name is close to `name` (a typo), closest first, at most five.
    pub fn close_regions(&self, name: &str) -> Vec<&str> {
        let want = normalize_region(name);
        if want.is_empty() {
            return vec![];
        }
        // Up to a third of the name may differ, and at least two edits.
        let limit = (want.chars().count() / 3).max(2);
        let mut scored: Vec<(usize, &str)> = self
            .regions
            .iter()
            .map(|r| (strsim::damerau_levenshtein(&want, &r.name), r.name.as_str()))
            .filter(|(d, _)| *d <= limit)
            .collect();
        scored.sort();
        scored.into_iter().take(5).map(|(_, n)| n).collect()
    }
}

impl FqdnTag {
    /// Whether an application rule naming this tag allows `entry`: the tag
    /// covers the entry's id in the loaded revision and carries its protocol.
    pub fn covers_entry(&self, entry: &Entry) -> bool {
        self.covers.contains(&entry.id) && self.protocols.contains(&entry.protocol)
    }
}

/// Whether an Azure VM size is GPU-accelerated: the N-series families NC,
/// ND, NG and NV (`Standard_NC6s_v3`, `Standard_ND96asr_v4`,
/// `Standard_NV36ads_A10_v5`, `Standard_NG8ads_V620_v1`). Family letters
/// follow MicrosoftDocs/azure-compute-docs
/// articles/virtual-machines/sizes/overview.md (naming conventions, 2026-03)
/// and articles/virtual-machines/sizes/gpu-accelerated/{nc,nd,ng,nv}-family.md;
/// NP (FPGA) is not a GPU family.
pub fn is_gpu_vm_size(size: &str) -> bool {
    let s = size.trim();
    let s = match s.get(..9) {
        Some(p) if p.eq_ignore_ascii_case("standard_") => &s[9..],
        _ => s,
    };
    let mut b = s.bytes();
    let (Some(n), Some(fam), Some(next)) = (b.next(), b.next(), b.next()) else {
        return false;
    };
    n.eq_ignore_ascii_case(&b'N')
        && matches!(fam.to_ascii_uppercase(), b'C' | b'D' | b'G' | b'V')
        // A size number or sub-family letter follows (`NC6`, `NCC40ads`).
        && next.is_ascii_alphanumeric()
}

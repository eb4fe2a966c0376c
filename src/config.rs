//! Configuration file `.aks-egress-lint.yaml`.
//!
//! Found from the scanned root upward ([`find`]) or given with `--config`.
//! Every key is optional; unknown keys and bad values are errors that point
//! at the file, line and column ([`ConfigError`]).
//!
//! ```yaml
//! catalog: current                 # catalog revision
//! defaults:                        # for every cluster, when the code does not say
//!   cloud: AzureCloud
//!   location: westeurope
//!   features: [monitoring]
//! clusters:                        # per cluster, by name; wins over `defaults`
//!   aks-prod:
//!     location: northeurope
//!     features: [gpu]              # added to the defaults' features
//! severity:                        # per code (or name): off | note | warning | error
//!   AEL002: error
//!   broad-rule-only: off
//! exclude: ["legacy/**"]           # paths not read at all
//! ignore:                          # findings dropped per path
//!   - path: "exports/*.json"
//!     codes: [AEL003]
//!     reason: NSG exports of the shared hub, owned by the network team
//! max-file-size: 10MiB             # larger files are skipped (AEL000)
//! ```
//!
//! Suppressions written next to the code live in [`crate::suppress`]; the baseline
//! of accepted findings in [`crate::baseline`].

use crate::catalog::Cloud;
use crate::checks::Overrides;
use crate::finding::{Code, Finding, Severity};
use crate::source::{Sources, normalize};
use crate::{baseline, suppress};
use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;
use serde::de::{self, Deserializer};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// File names looked for, in order.
pub const FILE_NAMES: &[&str] = &[".aks-egress-lint.yaml", ".aks-egress-lint.yml"];

/// Config files larger than this are refused: a config is a few lines.
const MAX_CONFIG_SIZE: u64 = 1024 * 1024;

/// Severity a code is reported at, or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Off,
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Off => None,
            Level::Note => Some(Severity::Note),
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }
}

/// What the config says about a cluster when its code does not.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    #[serde(default, deserialize_with = "cloud")]
    pub cloud: Option<Cloud>,
    #[serde(default, deserialize_with = "non_empty_opt")]
    pub location: Option<String>,
    #[serde(default, deserialize_with = "features")]
    pub features: Vec<String>,
}

/// Findings of `codes` in files matching `path` are dropped, for `reason`.
#[derive(Clone, Debug)]
pub struct Ignore {
    pub path: String,
    pub codes: Vec<Code>,
    pub reason: String,
    matcher: GlobMatcher,
}

impl Ignore {
    pub fn matches(&self, rel_path: &str) -> bool {
        self.matcher.is_match(rel_path)
    }
}

impl<'de> Deserialize<'de> for Ignore {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(deserialize_with = "glob")]
            path: (String, GlobMatcher),
            #[serde(deserialize_with = "codes")]
            codes: Vec<Code>,
            #[serde(deserialize_with = "non_empty")]
            reason: String,
        }
        let r = Raw::deserialize(d)?;
        Ok(Ignore {
            path: r.path.0,
            codes: r.codes,
            reason: r.reason,
            matcher: r.path.1,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    #[serde(default, deserialize_with = "non_empty_opt")]
    catalog: Option<String>,
    #[serde(default)]
    defaults: ClusterSettings,
    #[serde(default)]
    clusters: BTreeMap<String, ClusterSettings>,
    #[serde(default, deserialize_with = "severity_map")]
    severity: BTreeMap<Code, Level>,
    #[serde(default, deserialize_with = "globs")]
    exclude: Vec<String>,
    #[serde(default)]
    ignore: Vec<Ignore>,
    #[serde(default, deserialize_with = "size")]
    max_file_size: Option<u64>,
}

/// A loaded configuration. `Config::default()` is what no file means.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file it was read from.
    pub path: Option<PathBuf>,
    /// Folder of the file: `ignore` paths are relative to it.
    pub base_dir: PathBuf,
    /// Catalog revision (`current`, `2020-01`).
    pub catalog: Option<String>,
    pub defaults: ClusterSettings,
    pub clusters: BTreeMap<String, ClusterSettings>,
    pub severity: BTreeMap<Code, Level>,
    /// Globs handed to discovery as `--exclude`: these paths are not read at
    /// all. Discovery matches them against paths relative to the scanned folder.
    pub exclude: Vec<String>,
    pub ignore: Vec<Ignore>,
    pub max_file_size: Option<u64>,
    text: String,
}

/// A config that cannot be used: where and why. Displays as
/// `file:line:col: message`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The config file for a scan rooted at `start`: the first
/// `.aks-egress-lint.yaml` (or `.yml`) in `start` or a folder above it.
pub fn find(start: &Path) -> Option<PathBuf> {
    let abs = if start.is_absolute() {
        start.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(start)
    };
    let abs = normalize(&abs);
    let mut dir = if abs.is_file() {
        abs.parent()?.to_path_buf()
    } else {
        abs
    };
    loop {
        for name in FILE_NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// The config of a run: `--config FILE` when given; else the first config
/// found from the first scanned path upward; else the defaults.
pub fn for_run(explicit: Option<&Path>, paths: &[PathBuf]) -> Result<Config, ConfigError> {
    if let Some(p) = explicit {
        return load(p);
    }
    let start = paths
        .first()
        .map(PathBuf::as_path)
        .unwrap_or(Path::new("."));
    match find(start) {
        Some(p) => load(&p),
        None => Ok(Config::default()),
    }
}

/// Read and check a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let display = crate::source::display_path(path);
    let err = |message: String| ConfigError {
        file: display.clone(),
        line: None,
        column: None,
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
    if meta.len() > MAX_CONFIG_SIZE {
        return Err(err(format!(
            "{} bytes is too large for a config file (limit {MAX_CONFIG_SIZE})",
            meta.len()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let base = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."));
    let mut cfg = parse(&text, &display, &base)?;
    cfg.path = Some(path.to_path_buf());
    Ok(cfg)
}

/// Parse config text; `file` names it in errors, `base_dir` anchors paths.
pub fn parse(text: &str, file: &str, base_dir: &Path) -> Result<Config, ConfigError> {
    // A file of comments only (the `init` template) is an empty config.
    let raw: Option<Raw> = serde_yaml::from_str(text).map_err(|e| {
        let loc = e.location();
        let mut message = e.to_string();
        // The position goes in front, as `file:line:col:`; drop the copy.
        if let Some(l) = &loc {
            let tail = format!(" at line {} column {}", l.line(), l.column());
            if let Some(m) = message.strip_suffix(&tail) {
                message = m.to_string();
            }
        }
        ConfigError {
            file: file.to_string(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message,
        }
    })?;
    let raw = raw.unwrap_or_default();
    let base_dir = if base_dir.is_absolute() {
        base_dir.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(base_dir))
            .unwrap_or_else(|_| base_dir.to_path_buf())
    };
    Ok(Config {
        path: None,
        base_dir: normalize(&base_dir),
        catalog: raw.catalog,
        defaults: raw.defaults,
        clusters: raw.clusters,
        severity: raw.severity,
        exclude: raw.exclude,
        ignore: raw.ignore,
        max_file_size: raw.max_file_size,
        text: text.to_string(),
    })
}

/// Everything that filters a run's findings, in the order that keeps each
/// step honest: inline suppressions first (so a suppression of a code the
/// config turns off still counts as used), then the config's severities and
/// path ignores, then the baseline (which matches what would be reported).
/// Sort the result afterwards.
pub fn filter_findings(
    findings: Vec<Finding>,
    sources: &Sources,
    config: &Config,
    baseline_file: Option<&Path>,
) -> Result<Vec<Finding>, baseline::BaselineError> {
    let mut findings = suppress::apply(findings, sources);
    config.apply(&mut findings, sources);
    match baseline_file {
        Some(b) => baseline::filter(b, findings, sources),
        None => Ok(findings),
    }
}

impl Config {
    /// Severity overrides (`off` removes the finding), then path ignores.
    /// Run it after inline suppressions, so that a suppression of a code the
    /// config turns off still counts as used.
    pub fn apply(&self, findings: &mut Vec<Finding>, sources: &Sources) {
        findings.retain_mut(|f| {
            if let Some(level) = self.severity.get(&f.code) {
                match level.severity() {
                    Some(s) => f.severity = s,
                    None => return false,
                }
            }
            if self.ignore.is_empty() {
                return true;
            }
            let file = f.primary().span.file;
            let rel = self.relative(sources, file);
            let display = &sources.get(file).display;
            !self
                .ignore
                .iter()
                .any(|i| i.codes.contains(&f.code) && (i.matches(&rel) || i.matches(display)))
        });
    }

    /// Path of a source file relative to the config's folder, `/`-separated;
    /// the display path when the file is elsewhere.
    fn relative(&self, sources: &Sources, file: crate::source::FileId) -> String {
        let f = sources.get(file);
        let abs = if f.path.is_absolute() {
            f.path.clone()
        } else {
            match std::env::current_dir() {
                Ok(cwd) => cwd.join(&f.path),
                Err(_) => return f.display.clone(),
            }
        };
        match normalize(&abs).strip_prefix(&self.base_dir) {
            Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
            Err(_) => f.display.clone(),
        }
    }

    /// Settings for a cluster: its own entry over `defaults`, features of both.
    pub fn cluster(&self, name: &str) -> ClusterSettings {
        let mut s = self.defaults.clone();
        if let Some(c) = self.clusters.get(name) {
            if c.cloud.is_some() {
                s.cloud = c.cloud;
            }
            if c.location.is_some() {
                s.location.clone_from(&c.location);
            }
            for f in &c.features {
                if !s.features.contains(f) {
                    s.features.push(f.clone());
                }
            }
        }
        s
    }

    /// Overrides for one cluster: the command line's `cloud` and `location`
    /// (which win over the code), the config's as defaults (used when the
    /// code does not say), and the features of both.
    pub fn overrides_for(&self, cluster: &str, cli: &Overrides) -> Overrides {
        let s = self.cluster(cluster);
        let mut features = s.features;
        for f in &cli.features {
            if !features.contains(f) {
                features.push(f.clone());
            }
        }
        Overrides {
            cloud: cli.cloud,
            location: cli.location.clone(),
            features,
            default_cloud: s.cloud,
            default_location: s.location,
            ..Default::default()
        }
    }

    /// Line and column (1-based) of a key given by its path of block-style
    /// mapping keys, e.g. `["catalog"]` or `["clusters", "aks-prod", "location"]`,
    /// to point at a value the loader cannot check itself (an unknown
    /// catalog revision, a cluster name that matches nothing).
    pub fn locate(&self, keys: &[&str]) -> Option<(usize, usize)> {
        locate(&self.text, keys)
    }

    /// An error at a key of this config (see [`Config::locate`]).
    pub fn error_at(&self, keys: &[&str], message: impl Into<String>) -> ConfigError {
        let at = self.locate(keys);
        ConfigError {
            file: self
                .path
                .as_deref()
                .map(crate::source::display_path)
                .unwrap_or_else(|| FILE_NAMES[0].to_string()),
            line: at.map(|a| a.0),
            column: at.map(|a| a.1),
            message: message.into(),
        }
    }
}

/// Find `keys` in block-style YAML by indentation. Flow style and anchors
/// are not followed: the answer is then `None`, never a wrong place.
fn locate(text: &str, keys: &[&str]) -> Option<(usize, usize)> {
    let mut want = keys.iter();
    let mut key = want.next()?;
    let mut min_indent = 0usize;
    let mut found = None;
    for (n, line) in text.lines().enumerate() {
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if found.is_some() && indent <= min_indent.saturating_sub(1) {
            // Left the parent mapping before finding the child.
            return None;
        }
        if indent < min_indent {
            continue;
        }
        let name = body.split(':').next().unwrap_or("").trim();
        let name = name.trim_matches(|c| c == '"' || c == '\'');
        if body.contains(':') && name == *key {
            found = Some((n + 1, indent + 1));
            match want.next() {
                Some(k) => {
                    key = k;
                    min_indent = indent + 1;
                }
                None => return found,
            }
        }
    }
    None
}

// ------------------------------------------------------------ deserializers
// Each raises its error inside the deserializer, so the YAML loader attaches
// the line and column of the offending value.

fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Err(de::Error::custom("must not be empty"));
    }
    Ok(s)
}

fn non_empty_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    non_empty(d).map(Some)
}

fn cloud<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cloud>, D::Error> {
    let s = String::deserialize(d)?;
    Cloud::parse(&s).map(Some).ok_or_else(|| {
        de::Error::custom(format!(
            "unknown cloud `{s}`, expected AzureCloud, AzureChinaCloud or AzureUSGovernment"
        ))
    })
}

fn features<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    let mut out = Vec::with_capacity(v.len());
    for f in v {
        let f = f.trim().to_ascii_lowercase();
        if f.is_empty() || !f.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(de::Error::custom(format!(
                "feature `{f}` is not a feature name (letters, digits and `-`, e.g. `gpu`, `monitoring`)"
            )));
        }
        out.push(f);
    }
    Ok(out)
}

fn parse_code<E: de::Error>(s: &str) -> Result<Code, E> {
    Code::parse(s.trim()).ok_or_else(|| {
        E::custom(format!(
            "unknown code `{s}`, expected AEL000 … AEL{:03} or a code name such as `missing-required-endpoint`",
            Code::ALL.len() - 1
        ))
    })
}

fn codes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Code>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    if v.is_empty() {
        return Err(de::Error::custom("list at least one code"));
    }
    v.iter().map(|s| parse_code(s)).collect()
}

fn severity_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Code, Level>, D::Error> {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    struct Key(Code);
    impl<'de> Deserialize<'de> for Key {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = String::deserialize(d)?;
            parse_code(&s).map(Key)
        }
    }
    let m = BTreeMap::<Key, Level>::deserialize(d)?;
    Ok(m.into_iter().map(|(k, v)| (k.0, v)).collect())
}

fn compile(p: &str) -> Result<GlobMatcher, String> {
    // A pattern without `/` matches the file name at any depth, as in
    // `.gitignore`; `*` stays within one folder, `**` crosses folders.
    let full = if p.contains('/') {
        p.trim_start_matches("./").to_string()
    } else {
        format!("**/{p}")
    };
    GlobBuilder::new(&full)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("bad glob `{p}`: {e}"))
}

fn glob<'de, D: Deserializer<'de>>(d: D) -> Result<(String, GlobMatcher), D::Error> {
    let s = non_empty(d)?;
    let m = compile(&s).map_err(de::Error::custom)?;
    Ok((s, m))
}

fn globs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    for p in &v {
        if p.trim().is_empty() {
            return Err(de::Error::custom("empty glob"));
        }
        compile(p).map_err(de::Error::custom)?;
    }
    Ok(v)
}

/// `10485760`, `10MiB`, `512KiB`, `5MB`, `1 GiB`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" | "k" => 1024,
        "mb" => 1000 * 1000,
        "mib" | "m" => 1024 * 1024,
        "gb" => 1000 * 1000 * 1000,
        "gib" | "g" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mult).filter(|v| *v > 0)
}

fn size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a size in bytes, or with a unit such as `10MiB` or `512KiB`")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            if v == 0 {
                return Err(E::custom("the size must be positive"));
            }
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v)
                .map_err(|_| E::custom("the size must be positive"))
                .and_then(|v| self.visit_u64(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            parse_size(v).ok_or_else(|| {
                E::custom(format!(
                    "`{v}` is not a size (e.g. `10MiB`, `512KiB`, `1048576`)"
                ))
            })
        }
    }
    d.deserialize_any(V).map(Some)
}

/// Starting file written by `aks-egress-lint init`. Every line is a comment,
/// so as written it changes nothing.
pub const INIT_TEMPLATE: &str = r#"# aks-egress-lint configuration.
# Every key is optional; remove the `#` of what you need.
# Keys: https://github.com/aks-egress-lint/aks-egress-lint/blob/main/docs/integrations.md#configuration

# Endpoint catalog revision: `current`, or `2020-01` for the January 2020 document.
# catalog: current

# Cloud, region and features for every cluster, used when the code does not
# say (a region from a variable without a default, add-ons enabled elsewhere).
# Features: gpu, windows, monitoring, policy, defender, keyvault,
# workload-identity, cost-analysis, extensions, custom-dns, ...
# defaults:
#   cloud: AzureCloud            # AzureCloud | AzureChinaCloud | AzureUSGovernment
#   location: westeurope
#   features: [monitoring]

# The same per cluster, by name; wins over `defaults` (features add up).
# clusters:
#   aks-prod:
#     location: northeurope
#     features: [gpu]

# Severity per code or code name: off | note | warning | error.
# The exit code is decided by --fail-on alone.
# severity:
#   AEL002: error
#   broad-rule-only: off

# Paths not read at all: globs as for --exclude, matched against paths
# relative to the scanned folder; a pattern without `*` also excludes what is
# below it.
# exclude:
#   - "legacy/**"

# Findings to drop in some files, with the reason (required).
# Prefer an inline `# aks-egress-lint: ignore[AEL001] reason` next to the
# resource; use this for files that cannot hold comments, such as NSG exports.
# ignore:
#   - path: "exports/*.json"
#     codes: [AEL003]
#     reason: NSG exports of the shared hub, owned by the network team

# Larger files are skipped and reported (AEL000).
# max-file-size: 10MiB
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10MiB"), Some(10 * 1024 * 1024));
        assert_eq!(parse_size("1 GiB"), Some(1 << 30));
        assert_eq!(parse_size("5MB"), Some(5_000_000));
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_size("10 parsecs"), None);
        assert_eq!(parse_size("99999999999999999999GiB"), None);
    }

    #[test]
    fn locate_block_keys() {
        let t = "catalog: current\nclusters:\n  a:\n    location: x\n  b:\n    location: y\n";
        assert_eq!(locate(t, &["catalog"]), Some((1, 1)));
        assert_eq!(locate(t, &["clusters", "b", "location"]), Some((6, 5)));
        assert_eq!(locate(t, &["clusters", "c"]), None);
    }
}

#[cfg(test)]
mod load_tests {
    use super::*;
    use crate::finding::Finding;
    use crate::source::Span;

    fn err(text: &str) -> String {
        match parse(text, "cfg.yaml", Path::new("/repo")) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    const EVERY_KEY: &str = r#"
catalog: 2020-01
defaults:
  cloud: AzureUSGovernment
  location: usgovvirginia
  features: [Monitoring, policy]
clusters:
  aks-prod:
    location: usgovtexas
    features: [gpu, policy]
  aks-cn:
    cloud: azurechinacloud
severity:
  AEL002: error
  broad-rule-only: off
  AEL008: warning
  AEL005: note
exclude:
  - "legacy/**"
  - "*.bak.json"
ignore:
  - path: "exports/*.json"
    codes: [AEL003, asymmetric-routing]
    reason: NSG exports of the shared hub
max-file-size: 2MiB
"#;

    #[test]
    fn every_key() {
        let c = parse(EVERY_KEY, "cfg.yaml", Path::new("/repo")).expect("valid");
        assert_eq!(c.catalog.as_deref(), Some("2020-01"));
        assert_eq!(c.defaults.cloud, Some(Cloud::AzureUSGovernment));
        assert_eq!(c.defaults.location.as_deref(), Some("usgovvirginia"));
        assert_eq!(c.defaults.features, ["monitoring", "policy"]);
        let prod = c.cluster("aks-prod");
        assert_eq!(prod.cloud, Some(Cloud::AzureUSGovernment));
        assert_eq!(prod.location.as_deref(), Some("usgovtexas"));
        assert_eq!(prod.features, ["monitoring", "policy", "gpu"]);
        assert_eq!(c.cluster("aks-cn").cloud, Some(Cloud::AzureChinaCloud));
        assert_eq!(c.cluster("other"), c.defaults);
        assert_eq!(
            c.severity.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            [
                (Code::AEL002, Level::Error),
                (Code::AEL005, Level::Note),
                (Code::AEL008, Level::Warning),
                (Code::AEL009, Level::Off),
            ]
        );
        assert_eq!(c.exclude, ["legacy/**", "*.bak.json"]);
        assert_eq!(c.ignore.len(), 1);
        assert_eq!(c.ignore[0].codes, [Code::AEL003, Code::AEL006]);
        assert_eq!(c.ignore[0].reason, "NSG exports of the shared hub");
        assert!(c.ignore[0].matches("exports/nsg.json"));
        assert!(!c.ignore[0].matches("exports/deep/nsg.json"));
        assert_eq!(c.max_file_size, Some(2 * 1024 * 1024));
        assert_eq!(c.locate(&["clusters", "aks-cn", "cloud"]), Some((12, 5)));
        assert_eq!(
            c.error_at(&["catalog"], "unknown revision").to_string(),
            ".aks-egress-lint.yaml:2:1: unknown revision"
        );

        let cli = Overrides {
            cloud: None,
            location: Some("usgovarizona".into()),
            features: vec!["windows".into()],
            ..Default::default()
        };
        let o = c.overrides_for("aks-prod", &cli);
        assert_eq!(o.cloud, None);
        assert_eq!(o.default_cloud, Some(Cloud::AzureUSGovernment));
        assert_eq!(o.location.as_deref(), Some("usgovarizona"));
        assert_eq!(o.default_location.as_deref(), Some("usgovtexas"));
        assert_eq!(o.features, ["monitoring", "policy", "gpu", "windows"]);
    }

    #[test]
    fn empty_and_template_are_defaults() {
        for t in ["", "# only a comment\n", INIT_TEMPLATE] {
            let c = parse(t, "cfg.yaml", Path::new("/repo")).expect("valid");
            assert!(c.catalog.is_none() && c.severity.is_empty() && c.ignore.is_empty());
            assert!(c.exclude.is_empty() && c.clusters.is_empty() && c.max_file_size.is_none());
        }
    }

    #[test]
    fn template_examples_are_valid() {
        // Uncomment every example of the template: it must load.
        let uncommented: String = INIT_TEMPLATE
            .lines()
            .filter(|l| l.starts_with("# ") && !l.starts_with("#  ") || l.starts_with("#   "))
            .map(|l| &l[2..])
            .filter(|l| {
                let key = l.trim_start().split(':').next().unwrap_or("");
                let prose = l.starts_with(|c: char| c.is_ascii_uppercase());
                !prose
                    && (l.contains(':') && !key.contains(' ') || l.trim_start().starts_with("- "))
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = parse(&uncommented, "t", Path::new("/"))
            .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
        assert_eq!(c.catalog.as_deref(), Some("current"));
        assert_eq!(c.ignore.len(), 1);
        assert_eq!(c.max_file_size, Some(10 * 1024 * 1024));
    }

    #[test]
    fn bad_keys_and_values_point_at_the_line() {
        assert_eq!(
            err("catalog: current\nbogus: 1\n"),
            "cfg.yaml:2:1: unknown field `bogus`, expected one of `catalog`, `defaults`, `clusters`, `severity`, `exclude`, `ignore`, `max-file-size`"
        );
        assert_eq!(
            err("clusters:\n  a:\n    locaton: x\n"),
            "cfg.yaml:3:5: clusters.a: unknown field `locaton`, expected one of `cloud`, `location`, `features`"
        );
        assert_eq!(
            err("severity:\n  AEL001: fatal\n"),
            "cfg.yaml:2:11: severity.AEL001: unknown variant `fatal`, expected one of `off`, `note`, `warning`, `error`"
        );
        assert!(
            err("severity:\n  AEL042: off\n")
                .starts_with("cfg.yaml:2:3: severity: unknown code `AEL042`")
        );
        assert!(
            err("defaults:\n  cloud: Mars\n")
                .starts_with("cfg.yaml:2:3: defaults: unknown cloud `Mars`")
        );
        assert!(
            err("ignore:\n  - path: \"a/[\"\n    codes: [AEL001]\n    reason: x\n")
                .starts_with("cfg.yaml:2:5: ignore[0]: bad glob `a/[`")
        );
        assert_eq!(
            err("ignore:\n  - path: x\n    codes: [AEL001]\n"),
            "cfg.yaml:2:5: ignore[0]: missing field `reason`"
        );
        assert_eq!(
            err("ignore:\n  - path: x\n    codes: [AEL001]\n    reason: \"  \"\n"),
            "cfg.yaml:2:5: ignore[0]: must not be empty"
        );
        assert!(
            err("max-file-size: 10 parsecs\n")
                .starts_with("cfg.yaml:1:16: max-file-size: `10 parsecs` is not a size")
        );
        assert!(
            err("max-file-size: -1\n")
                .starts_with("cfg.yaml:1:16: max-file-size: the size must be positive")
        );
        assert!(err("exclude: legacy\n").starts_with("cfg.yaml:1:10: exclude: invalid type"));
        assert_eq!(
            err("catalog: [\n"),
            "cfg.yaml:1:10: catalog: invalid type: sequence, expected a string"
        );
        assert_eq!(
            err("catalog: a: b\n"),
            "cfg.yaml:1:11: mapping values are not allowed in this context"
        );
    }

    #[test]
    fn apply_overrides_severity_and_ignores_paths() {
        let mut s = Sources::new();
        let nsg = s.add_named("exports/nsg.json", "{}");
        let tf = s.add_named("infra/main.tf", "x");
        let c = parse(EVERY_KEY, "cfg.yaml", Path::new("/elsewhere")).expect("valid");
        let f = |code, file| Finding::new(code, "m", Span::new(file, 0..1), "l");
        let mut findings = vec![
            f(Code::AEL002, tf),  // warning -> error
            f(Code::AEL009, tf),  // off -> removed
            f(Code::AEL003, nsg), // ignored by path
            f(Code::AEL003, tf),  // other path: kept
            f(Code::AEL001, nsg), // other code: kept
        ];
        c.apply(&mut findings, &s);
        let got: Vec<_> = findings
            .iter()
            .map(|f| {
                (
                    f.code,
                    f.severity,
                    s.get(f.primary().span.file).display.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Code::AEL002, Severity::Error, "infra/main.tf"),
                (Code::AEL003, Severity::Error, "infra/main.tf"),
                (Code::AEL001, Severity::Error, "exports/nsg.json"),
            ]
        );
    }

    #[test]
    fn for_run_prefers_the_flag() {
        let dir = tempfile::tempdir().expect("tempdir");
        let found = dir.path().join(".aks-egress-lint.yaml");
        std::fs::write(&found, "catalog: current\n").expect("write");
        let other = dir.path().join("other.yaml");
        std::fs::write(&other, "catalog: 2020-01\n").expect("write");
        let paths = [dir.path().to_path_buf()];
        let c = for_run(None, &paths).expect("found");
        assert_eq!(c.catalog.as_deref(), Some("current"));
        let c = for_run(Some(&other), &paths).expect("explicit");
        assert_eq!(c.catalog.as_deref(), Some("2020-01"));
        let e = for_run(Some(&dir.path().join("missing.yaml")), &paths).expect_err("missing");
        assert!(e.to_string().contains("cannot read"), "{e}");
    }

    #[test]
    fn filter_findings_runs_every_step() {
        let mut s = Sources::new();
        let tf = s.add_named(
            "main.tf",
            "# aks-egress-lint: ignore[AEL001] proxied\nresource \"a\" \"b\" {}\nresource \"c\" \"d\" {}\n",
        );
        let at = |needle: &str| {
            let a = s.text(tf).find(needle).unwrap_or(0);
            Span::new(tf, a..a + needle.len())
        };
        let findings = vec![
            Finding::new(Code::AEL001, "suppressed inline", at("resource \"a\""), "l"),
            Finding::new(Code::AEL009, "turned off", at("resource \"c\""), "l"),
            Finding::new(Code::AEL002, "in the baseline", at("resource \"c\""), "l"),
            Finding::new(Code::AEL004, "new", at("resource \"c\""), "l"),
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        let b = dir.path().join("baseline.json");
        baseline::write(&b, &findings[2..3], &s).expect("baseline");
        let cfg = parse("severity:\n  AEL009: off\n", "c", Path::new("/")).expect("cfg");
        let out = filter_findings(findings, &s, &cfg, Some(&b)).expect("filter");
        let msgs: Vec<&str> = out.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(msgs, ["new"]);
    }

    #[test]
    fn find_walks_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let deep = dir.path().join("a/b");
        std::fs::create_dir_all(&deep).expect("mkdir");
        assert_eq!(find(&deep).filter(|p| p.starts_with(dir.path())), None);
        std::fs::write(
            dir.path().join("a/.aks-egress-lint.yml"),
            "catalog: current\n",
        )
        .expect("write");
        assert_eq!(
            find(&deep),
            Some(normalize(&dir.path().join("a/.aks-egress-lint.yml")))
        );
        let cfg = load(&dir.path().join("a/.aks-egress-lint.yml")).expect("load");
        assert_eq!(cfg.catalog.as_deref(), Some("current"));
        assert_eq!(cfg.base_dir, normalize(&dir.path().join("a")));
    }
}

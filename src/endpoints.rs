//! `aks-egress-lint endpoints`: what a cluster needs, offline.
//!
//! Prints every endpoint of the catalog that applies to a cluster in a region
//! with a set of features, grouped the way a firewall is written (network
//! rules, FQDN/application rules, optional rows, then one group per feature),
//! or, with `--compare`, what changed between two catalog revisions.

use crate::catalog::{self, Catalog, CatalogError, Cloud, Entry, Level, Region};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

/// Output format of `endpoints`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EndpointsFormat {
    Human,
    Json,
}

/// Arguments of `aks-egress-lint endpoints`.
#[derive(Clone, Debug, clap::Args)]
#[command(after_help = "Examples:
  aks-egress-lint endpoints --location westeurope
  aks-egress-lint endpoints --location 'West Europe' --features gpu,monitoring --format json
  aks-egress-lint endpoints --location chinaeast2 --catalog 2020-01
  aks-egress-lint endpoints --location westeurope --compare 2020-01")]
pub struct EndpointsArgs {
    /// Region of the cluster (`westeurope`, `West Europe`): selects the cloud
    /// and fills `{location}`. Optional with `--compare`.
    #[arg(long, value_name = "REGION", required_unless_present = "compare")]
    pub location: Option<String>,

    /// Cloud of the cluster; by default the cloud of `--location`, else AzureCloud.
    #[arg(long, value_name = "CLOUD", value_parser = parse_cloud)]
    pub cloud: Option<Cloud>,

    /// Features in use, comma-separated: gpu, windows, monitoring, policy,
    /// defender, keyvault, workload-identity, cost-analysis, extensions,
    /// dev-spaces, custom-dns; also private-cluster.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub features: Vec<String>,

    /// Catalog revision to print: `current` or `2020-01`.
    #[arg(long, value_name = "REVISION", default_value = catalog::DEFAULT_REVISION)]
    pub catalog: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = EndpointsFormat::Human)]
    pub format: EndpointsFormat,

    /// Show what changed from this revision to `--catalog`: added, removed,
    /// and changed ports or protocols.
    #[arg(long, value_name = "REVISION")]
    pub compare: Option<String>,

    /// Read the catalog from this folder instead of the built-in one
    /// (`<revision>.yaml`, optionally `regions.yaml` and `fqdn-tags.yaml`).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

impl EndpointsArgs {
    /// Arguments for one region with the defaults of the command line.
    pub fn new(location: &str) -> Self {
        EndpointsArgs {
            location: Some(location.to_string()),
            cloud: None,
            features: vec![],
            catalog: catalog::DEFAULT_REVISION.to_string(),
            format: EndpointsFormat::Human,
            compare: None,
            rules: None,
        }
    }
}

fn parse_cloud(s: &str) -> Result<Cloud, String> {
    Cloud::parse(s).ok_or_else(|| {
        let known: Vec<&str> = Cloud::ALL.iter().map(|c| c.as_str()).collect();
        format!("unknown cloud `{s}` (known: {})", known.join(", "))
    })
}

/// Why `endpoints` could not answer. Every variant is a usage or I/O error
/// of the tool: exit code 2.
#[derive(Debug)]
pub enum EndpointsError {
    /// Bad arguments: unknown region, feature or cloud mismatch.
    Usage(String),
    /// The catalog could not be loaded.
    Catalog(CatalogError),
    /// Writing the output failed.
    Io(std::io::Error),
}

impl EndpointsError {
    pub fn exit_code(&self) -> i32 {
        2
    }
}

impl std::fmt::Display for EndpointsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndpointsError::Usage(m) => f.write_str(m),
            EndpointsError::Catalog(e) => write!(f, "invalid catalog: {e}"),
            EndpointsError::Io(e) => write!(f, "cannot write output: {e}"),
        }
    }
}

impl std::error::Error for EndpointsError {}

impl From<CatalogError> for EndpointsError {
    fn from(e: CatalogError) -> Self {
        EndpointsError::Catalog(e)
    }
}

impl From<std::io::Error> for EndpointsError {
    fn from(e: std::io::Error) -> Self {
        EndpointsError::Io(e)
    }
}

/// Run `endpoints`; returns the exit code (0) or an error whose
/// [`exit_code`](EndpointsError::exit_code) is 2.
pub fn run(args: &EndpointsArgs, out: &mut dyn Write) -> Result<i32, EndpointsError> {
    let cat = load(args, &args.catalog)?;
    let region = match &args.location {
        Some(loc) => Some(
            cat.region(loc)
                .ok_or_else(|| unknown_region(&cat, loc))?
                .clone(),
        ),
        None => None,
    };
    let cloud = match (args.cloud, &region) {
        (Some(c), Some(r)) if c != r.cloud => {
            return Err(EndpointsError::Usage(format!(
                "region `{}` is in {}, not {}",
                r.name,
                r.cloud.as_str(),
                c.as_str()
            )));
        }
        (Some(c), _) => c,
        (None, Some(r)) => r.cloud,
        (None, None) => Cloud::AzureCloud,
    };
    let conditions = conditions(&args.features)?;
    let ctx = Context {
        cloud,
        region: region.as_ref(),
        conditions: &conditions,
    };
    match &args.compare {
        Some(old_rev) => {
            let old = load(args, old_rev)?;
            let diff = compare(&old, &cat, &ctx);
            match args.format {
                EndpointsFormat::Human => write_compare_human(out, &old, &cat, &ctx, &diff)?,
                EndpointsFormat::Json => write_json(out, &compare_json(&old, &cat, &ctx, &diff))?,
            }
        }
        None => {
            let rows = rows(&cat, &ctx);
            match args.format {
                EndpointsFormat::Human => write_human(out, &cat, &ctx, &rows)?,
                EndpointsFormat::Json => write_json(out, &list_json(&cat, &ctx, &rows))?,
            }
        }
    }
    Ok(0)
}

fn load(args: &EndpointsArgs, revision: &str) -> Result<Catalog, EndpointsError> {
    match &args.rules {
        Some(dir) => Ok(catalog::load_dir(dir, revision)?),
        None if !catalog::REVISIONS.contains(&revision) => Err(EndpointsError::Usage(format!(
            "unknown catalog revision `{revision}` (known: {})",
            catalog::REVISIONS.join(", ")
        ))),
        None => Ok(catalog::load(revision)?),
    }
}

fn unknown_region(cat: &Catalog, name: &str) -> EndpointsError {
    let close = cat.close_regions(name);
    let hint = if close.is_empty() {
        "; regions are written like `westeurope` or `West Europe`".to_string()
    } else {
        let list: Vec<String> = close.iter().map(|n| format!("`{n}`")).collect();
        format!("; did you mean {}?", list.join(", "))
    };
    EndpointsError::Usage(format!("unknown region `{name}`{hint}"))
}

fn conditions(features: &[String]) -> Result<BTreeSet<String>, EndpointsError> {
    catalog::parse_conditions(features).map_err(EndpointsError::Usage)
}

struct Context<'a> {
    cloud: Cloud,
    region: Option<&'a Region>,
    conditions: &'a BTreeSet<String>,
}

/// One line of output: one entry, one port.
struct Row<'a> {
    entry: &'a Entry,
    destination: String,
    port: u16,
}

fn rows<'a>(cat: &'a Catalog, ctx: &Context<'_>) -> Vec<Row<'a>> {
    let mut rows: Vec<Row<'a>> = cat
        .select(ctx.cloud, ctx.conditions)
        .into_iter()
        .flat_map(|e| {
            let destination = e.destination_for(ctx.region);
            e.ports.iter().map(move |&port| Row {
                entry: e,
                destination: destination.clone(),
                port,
            })
        })
        .collect();
    // Catalog order within a group; groups in display order (stable sort).
    rows.sort_by_key(|r| group_rank(&r.entry.group));
    rows
}

/// Display order of groups: network, FQDN, optional, then features in the
/// order of [`catalog::FEATURES`], then anything else.
fn group_rank(group: &str) -> usize {
    match group {
        "network" => 0,
        "fqdn" => 1,
        "optional" => 2,
        g => {
            3 + catalog::FEATURES
                .iter()
                .position(|f| *f == g)
                .unwrap_or(catalog::FEATURES.len())
        }
    }
}

fn group_title(group: &str) -> String {
    match group {
        "network" => "Network rules".into(),
        "fqdn" => "FQDN / application rules".into(),
        "optional" => "Optional, recommended".into(),
        g => format!("Feature `{g}`"),
    }
}

fn proto_port(e: &Entry, port: u16) -> String {
    format!("{} {port}", e.protocol.as_str().to_ascii_uppercase())
}

fn level_str(l: Level) -> &'static str {
    match l {
        Level::Required => "required",
        Level::Recommended => "recommended",
    }
}

fn conditions_suffix(e: &Entry) -> String {
    let mut s = String::new();
    // Rows grouped under their feature need no reminder; others (custom DNS
    // in the network rules) do.
    if let Some(w) = e.when.as_deref().filter(|w| *w != e.group) {
        s.push_str(&format!(" (with {w})"));
    }
    if !e.unless.is_empty() {
        s.push_str(&format!(" (not needed: {})", e.unless.join(", ")));
    }
    // A TCP/UDP row outside the network group (the 2020 tables put TCP 22
    // and UDP 123 on FQDN rows) cannot be an application rule.
    if e.group != "network" && e.rule == "network" {
        s.push_str(" (network rule)");
    }
    s
}

fn header(cat: &Catalog, ctx: &Context<'_>) -> String {
    let place = match ctx.region {
        Some(r) => format!("{} ({}, {})", r.name, r.display, ctx.cloud.as_str()),
        None => ctx.cloud.as_str().to_string(),
    };
    let feats = if ctx.conditions.is_empty() {
        "no features".to_string()
    } else {
        let f: Vec<&str> = ctx.conditions.iter().map(String::as_str).collect();
        format!("features: {}", f.join(", "))
    };
    format!("catalog {}, {place}, {feats}", cat.revision)
}

fn write_table(
    out: &mut dyn Write,
    rows: &[(String, String, &str, String)],
) -> std::io::Result<()> {
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0);
    for (a, b, c, d) in rows {
        writeln!(out, "  {a:<w0$}  {b:<w1$}  {c:<w2$}  {d}")?;
    }
    Ok(())
}

fn write_human(
    out: &mut dyn Write,
    cat: &Catalog,
    ctx: &Context<'_>,
    rows: &[Row<'_>],
) -> std::io::Result<()> {
    writeln!(out, "Endpoints an AKS cluster needs: {}", header(cat, ctx))?;
    let mut group: Option<&str> = None;
    let mut table = vec![];
    for r in rows {
        if group != Some(r.entry.group.as_str()) {
            write_table(out, &table)?;
            table.clear();
            group = Some(&r.entry.group);
            writeln!(out)?;
            writeln!(out, "{}", group_title(&r.entry.group))?;
        }
        table.push((
            proto_port(r.entry, r.port),
            r.destination.clone(),
            level_str(r.entry.level),
            format!("{}{}", r.entry.reason, conditions_suffix(r.entry)),
        ));
    }
    write_table(out, &table)?;
    // Features asked for that bring nothing in this cloud: say so rather
    // than print nothing.
    for f in ctx.conditions {
        let listed = rows
            .iter()
            .any(|r| r.entry.when.as_deref() == Some(f.as_str()));
        if catalog::FEATURES.contains(&f.as_str()) && !listed {
            writeln!(out)?;
            writeln!(
                out,
                "{}: no rows in catalog {} for {}",
                group_title(f),
                cat.revision,
                ctx.cloud.as_str()
            )?;
        }
    }
    let unused: Vec<&str> = catalog::FEATURES
        .iter()
        .copied()
        .filter(|f| !ctx.conditions.contains(*f))
        .filter(|f| {
            cat.entries
                .iter()
                .any(|e| e.when.as_deref() == Some(*f) && e.clouds.contains(&ctx.cloud))
        })
        .collect();
    if !unused.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Not shown (add with --features): {}",
            unused.join(", ")
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

const TOOL: Tool = Tool {
    name: "aks-egress-lint",
    version: env!("CARGO_PKG_VERSION"),
};

/// One endpoint of the JSON output: one destination, one protocol, one port.
#[derive(Serialize)]
struct JsonEndpoint<'a> {
    id: &'a str,
    group: &'a str,
    destination: String,
    /// Catalog protocol: `tcp`, `udp`, `http`, `https`.
    protocol: &'static str,
    /// Transport protocol: `tcp` or `udp`.
    transport: &'static str,
    port: u16,
    level: &'static str,
    /// `network` or `application`.
    rule: &'a str,
    when: Option<&'a str>,
    unless: &'a [String],
    reason: &'a str,
    source: &'a str,
    /// How a quirk of the source document was read, if any.
    note: Option<&'a str>,
}

impl<'a> JsonEndpoint<'a> {
    fn new(e: &'a Entry, destination: String, port: u16) -> Self {
        JsonEndpoint {
            id: &e.id,
            group: &e.group,
            destination,
            protocol: e.protocol.as_str(),
            transport: e.protocol.transport(),
            port,
            level: level_str(e.level),
            rule: &e.rule,
            when: e.when.as_deref(),
            unless: &e.unless,
            reason: &e.reason,
            source: &e.source,
            note: e.note.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct ListJson<'a> {
    version: u32,
    tool: Tool,
    catalog: &'a str,
    cloud: &'static str,
    location: Option<&'a str>,
    features: Vec<&'a str>,
    endpoints: Vec<JsonEndpoint<'a>>,
}

fn list_json<'a>(cat: &'a Catalog, ctx: &Context<'a>, rows: &[Row<'a>]) -> ListJson<'a> {
    ListJson {
        version: 1,
        tool: TOOL,
        catalog: &cat.revision,
        cloud: ctx.cloud.as_str(),
        location: ctx.region.map(|r| r.name.as_str()),
        features: ctx.conditions.iter().map(String::as_str).collect(),
        endpoints: rows
            .iter()
            .map(|r| JsonEndpoint::new(r.entry, r.destination.clone(), r.port))
            .collect(),
    }
}

fn write_json(out: &mut dyn Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
    writeln!(out)
}

// ---------------------------------------------------------------------------
// --compare

/// What one destination asks for in one revision: (protocol, port, level),
/// merged over the entries that name it.
type Flows = BTreeSet<(&'static str, u16, &'static str)>;

struct Diff<'a> {
    added: Vec<Row<'a>>,
    removed: Vec<Row<'a>>,
    /// Destination, what the old revision asked, what the new one asks.
    changed: Vec<(String, Flows, Flows)>,
}

fn flows(rows: &[Row<'_>]) -> BTreeMap<String, Flows> {
    let mut m: BTreeMap<String, Flows> = BTreeMap::new();
    for r in rows {
        m.entry(r.destination.clone()).or_default().insert((
            r.entry.protocol.as_str(),
            r.port,
            level_str(r.entry.level),
        ));
    }
    m
}

/// Compare at the level of filled-in destinations: a destination only in
/// `new` is added, only in `old` removed, in both with other protocols,
/// ports or levels changed.
fn compare<'a>(old: &'a Catalog, new: &'a Catalog, ctx: &Context<'_>) -> Diff<'a> {
    let old_rows = rows(old, ctx);
    let new_rows = rows(new, ctx);
    let old_flows = flows(&old_rows);
    let new_flows = flows(&new_rows);
    let mut seen = BTreeSet::new();
    let mut added = vec![];
    for r in new_rows {
        if !old_flows.contains_key(&r.destination)
            && seen.insert((r.destination.clone(), r.port, r.entry.protocol))
        {
            added.push(r);
        }
    }
    let mut seen = BTreeSet::new();
    let mut removed = vec![];
    for r in old_rows {
        if !new_flows.contains_key(&r.destination)
            && seen.insert((r.destination.clone(), r.port, r.entry.protocol))
        {
            removed.push(r);
        }
    }
    let changed = new_flows
        .iter()
        .filter_map(|(dest, nf)| {
            let of = old_flows.get(dest)?;
            (of != nf).then(|| (dest.clone(), of.clone(), nf.clone()))
        })
        .collect();
    Diff {
        added,
        removed,
        changed,
    }
}

fn flows_str(f: &Flows) -> String {
    let parts: Vec<String> = f
        .iter()
        .map(|(p, port, level)| format!("{} {port} {level}", p.to_ascii_uppercase()))
        .collect();
    parts.join(", ")
}

fn write_compare_human(
    out: &mut dyn Write,
    old: &Catalog,
    new: &Catalog,
    ctx: &Context<'_>,
    diff: &Diff<'_>,
) -> std::io::Result<()> {
    writeln!(
        out,
        "Changes from catalog {} to {}",
        old.revision,
        header(new, ctx)
    )?;
    let table = |rows: &[Row<'_>]| -> Vec<(String, String, &'static str, String)> {
        rows.iter()
            .map(|r| {
                (
                    proto_port(r.entry, r.port),
                    r.destination.clone(),
                    level_str(r.entry.level),
                    format!(
                        "{} [{}]{}",
                        r.entry.reason,
                        r.entry.id,
                        conditions_suffix(r.entry)
                    ),
                )
            })
            .collect()
    };
    writeln!(out)?;
    writeln!(
        out,
        "Added in {} ({}): allow these",
        new.revision,
        diff.added.len()
    )?;
    write_table(out, &table(&diff.added))?;
    writeln!(out)?;
    writeln!(
        out,
        "Removed since {} ({}): no longer needed",
        old.revision,
        diff.removed.len()
    )?;
    write_table(out, &table(&diff.removed))?;
    writeln!(out)?;
    writeln!(
        out,
        "Changed protocol, port or level ({})",
        diff.changed.len()
    )?;
    for (dest, of, nf) in &diff.changed {
        writeln!(out, "  {dest}")?;
        writeln!(out, "    {}: {}", old.revision, flows_str(of))?;
        writeln!(out, "    {}: {}", new.revision, flows_str(nf))?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonFlow {
    protocol: &'static str,
    port: u16,
    level: &'static str,
}

#[derive(Serialize)]
struct JsonChange {
    destination: String,
    before: Vec<JsonFlow>,
    after: Vec<JsonFlow>,
}

#[derive(Serialize)]
struct CompareJson<'a> {
    version: u32,
    tool: Tool,
    /// Revision compared from.
    from: &'a str,
    /// Revision compared to (`--catalog`).
    catalog: &'a str,
    cloud: &'static str,
    location: Option<&'a str>,
    features: Vec<&'a str>,
    added: Vec<JsonEndpoint<'a>>,
    removed: Vec<JsonEndpoint<'a>>,
    changed: Vec<JsonChange>,
}

fn compare_json<'a>(
    old: &'a Catalog,
    new: &'a Catalog,
    ctx: &Context<'a>,
    diff: &Diff<'a>,
) -> CompareJson<'a> {
    let ep = |rows: &[Row<'a>]| -> Vec<JsonEndpoint<'a>> {
        rows.iter()
            .map(|r| JsonEndpoint::new(r.entry, r.destination.clone(), r.port))
            .collect()
    };
    let fl = |f: &Flows| -> Vec<JsonFlow> {
        f.iter()
            .map(|&(protocol, port, level)| JsonFlow {
                protocol,
                port,
                level,
            })
            .collect()
    };
    CompareJson {
        version: 1,
        tool: TOOL,
        from: &old.revision,
        catalog: &new.revision,
        cloud: ctx.cloud.as_str(),
        location: ctx.region.map(|r| r.name.as_str()),
        features: ctx.conditions.iter().map(String::as_str).collect(),
        added: ep(&diff.added),
        removed: ep(&diff.removed),
        changed: diff
            .changed
            .iter()
            .map(|(d, o, n)| JsonChange {
                destination: d.clone(),
                before: fl(o),
                after: fl(n),
            })
            .collect(),
    }
}

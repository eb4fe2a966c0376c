//! Command line: clap → library → exit code. Nothing else lives here.

use aks_egress_lint::catalog::Cloud;
use aks_egress_lint::checks::Overrides;
use aks_egress_lint::config::{self, Config};
use aks_egress_lint::finding::Severity;
use aks_egress_lint::frontend::FrontendOptions;
use aks_egress_lint::render::{self, Format, RenderOptions};
use aks_egress_lint::{Options, ToolError};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

// Parsing and evaluation allocate many small short-lived nodes on several
// threads; mimalloc handles that pattern far better than the system allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXAMPLES: &str = "\
Examples:
  aks-egress-lint .                                 lint the current folder
  aks-egress-lint infra/ --format json              machine-readable findings
  aks-egress-lint . --location westeurope --features gpu,monitoring
  aks-egress-lint . --catalog 2020-01               check against the January 2020 document
  aks-egress-lint endpoints --location westeurope   what must my firewall allow?
  aks-egress-lint endpoints --location westeurope --compare 2020-01
  aks-egress-lint . --format sarif > results.sarif
  aks-egress-lint . --output sarif=results.sarif --output junit=results.xml
  aks-egress-lint explain . --to mcr.microsoft.com:443/https   why is this flow allowed or denied?
  aks-egress-lint allow-set .                       what does my firewall really allow?
  aks-egress-lint init                              write a commented .aks-egress-lint.yaml

Exit codes:
  0  no finding at or above --fail-on
  1  findings at or above --fail-on
  2  usage or I/O error of the tool itself";

#[derive(Parser, Debug)]
#[command(
    name = "aks-egress-lint",
    version,
    about = "Find the AKS egress endpoints your firewall, routes and NSGs forget, before deploy time",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    lint: LintArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lint files and folders (the default command).
    Lint(LintArgs),
    /// Print every endpoint a cluster needs, offline: what must my firewall allow?
    Endpoints(aks_egress_lint::endpoints::EndpointsArgs),
    /// Show hop by hop what happens to one flow, with source snippets.
    Explain(ExplainCmd),
    /// Print each cluster's effective egress: every requirement's verdict and what else the path allows.
    AllowSet(AllowSetCmd),
    /// Write a commented starting configuration file.
    Init(InitArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  aks-egress-lint explain infra/ --cluster aks-main --to mcr.microsoft.com:443/https"
)]
struct ExplainCmd {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    args: aks_egress_lint::explain::ExplainArgs,
}

#[derive(Args, Debug)]
#[command(after_help = "Example:\n  aks-egress-lint allow-set infra/ --format json")]
struct AllowSetCmd {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    args: aks_egress_lint::explain::AllowSetArgs,
}

#[derive(Args, Debug)]
struct InitArgs {
    /// Where to write it.
    #[arg(default_value = config::FILE_NAMES[0])]
    path: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Note,
}

/// Options shared by every command that reads a repository.
#[derive(Args, Debug, Clone)]
struct InputArgs {
    /// Files or folders to read.
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,
    /// Endpoint catalog revision: `current` (default) or `2020-01`.
    #[arg(long, value_name = "REVISION")]
    catalog: Option<String>,
    /// Configuration file (default: `.aks-egress-lint.yaml` in the scanned folder or above).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Load the catalog from this folder instead of the embedded one.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Cloud of every cluster, overriding what the code says.
    #[arg(long, value_name = "CLOUD", value_parser = parse_cloud)]
    cloud: Option<Cloud>,
    /// Region of every cluster, overriding what the code says.
    #[arg(long, value_name = "REGION")]
    location: Option<String>,
    /// Features the code does not show (gpu, windows, monitoring, policy, defender, keyvault, ...).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    features: Vec<String>,
    /// Skip paths matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Set a Terraform variable (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Read Terraform variables from this file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// ARM parameter file that overrides template defaults (repeatable).
    #[arg(long = "parameters", value_name = "FILE")]
    parameters: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone)]
struct LintArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Also write a report to a file, e.g. `sarif=results.sarif` (repeatable).
    #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_output)]
    output: Vec<(Format, PathBuf)>,
    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record today's findings in this baseline file.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: FailOn,
    /// Disable colours (also when NO_COLOR is set).
    #[arg(long)]
    no_color: bool,
    /// Print nothing but findings (no summary line).
    #[arg(long, short)]
    quiet: bool,
}

fn parse_cloud(s: &str) -> Result<Cloud, String> {
    Cloud::parse(s).ok_or_else(|| {
        format!("unknown cloud `{s}` (expected AzureCloud, AzureChinaCloud or AzureUSGovernment)")
    })
}

fn parse_output(s: &str) -> Result<(Format, PathBuf), String> {
    let (f, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=FILE, got `{s}`"))?;
    let format = Format::parse(f).ok_or_else(|| format!("unknown format `{f}`"))?;
    if path.is_empty() {
        return Err(format!("no file given for `{f}`"));
    }
    Ok((format, PathBuf::from(path)))
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("expected NAME=VALUE, got `{s}`"))
}

/// Load the config named by `--config`, or found from the first path upward.
fn load_config(input: &InputArgs) -> Result<Config, ToolError> {
    let path = match &input.config {
        Some(p) => Some(p.clone()),
        None => input.paths.first().and_then(|p| config::find(p)),
    };
    match path {
        Some(p) => config::load(&p).map_err(|e| ToolError(format!("config: {e}"))),
        None => Ok(Config::default()),
    }
}

fn options(input: &InputArgs) -> Result<Options, ToolError> {
    let config = load_config(input)?;
    let cli = Overrides {
        cloud: input.cloud,
        location: input.location.clone(),
        features: input
            .features
            .iter()
            .map(|f| f.trim().to_ascii_lowercase())
            .filter(|f| !f.is_empty())
            .collect(),
        ..Default::default()
    };
    let mut overrides = cli.clone();
    overrides.default_cloud = config.defaults.cloud;
    overrides.default_location = config.defaults.location.clone();
    for f in &config.defaults.features {
        if !overrides.features.contains(f) {
            overrides.features.push(f.clone());
        }
    }
    for (name, c) in &config.clusters {
        let o = Overrides {
            default_cloud: c.cloud,
            default_location: c.location.clone(),
            features: c.features.clone(),
            ..Default::default()
        };
        overrides.clusters.insert(name.clone(), o);
    }
    let mut exclude = config.exclude.clone();
    exclude.extend(input.exclude.iter().cloned());
    let mut frontend = FrontendOptions {
        location: input.location.clone().or(config.defaults.location.clone()),
        vars: input.vars.clone(),
        var_files: input.var_files.clone(),
        parameters: input.parameters.clone(),
        ..Default::default()
    };
    if let Some(max) = config.max_file_size {
        frontend.limits.max_file_size = max;
    }
    Ok(Options {
        paths: input.paths.clone(),
        catalog: input
            .catalog
            .clone()
            .or(config.catalog.clone())
            .unwrap_or_else(|| "current".into()),
        rules_dir: input.rules.clone(),
        overrides,
        exclude,
        frontend,
        config,
    })
}

fn color_enabled(no_color: bool) -> bool {
    use std::io::IsTerminal;
    !no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}

fn run_lint(args: &LintArgs) -> Result<i32, ToolError> {
    let opts = options(&args.input)?;
    let (mut report, sources) = aks_egress_lint::lint(&opts)?;
    if let Some(path) = &args.write_baseline {
        aks_egress_lint::baseline::write(path, &report.findings, &sources)
            .map_err(|e| ToolError(e.to_string()))?;
    }
    if let Some(path) = &args.baseline {
        let all = std::mem::take(&mut report.findings);
        report.findings = aks_egress_lint::baseline::filter(path, all, &sources)
            .map_err(|e| ToolError(e.to_string()))?;
    }
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Note => Severity::Note,
    };
    let code = if report.findings.iter().any(|f| f.severity >= threshold) {
        1
    } else {
        0
    };
    let ropts = RenderOptions {
        human: render::human::HumanOptions {
            color: color_enabled(args.no_color),
            ..Default::default()
        },
        exit_code: code,
        quiet: args.quiet,
    };
    let io = |what: &str, e: std::io::Error| ToolError(format!("cannot write {what}: {e}"));
    for (format, path) in &args.output {
        let mut buf = Vec::new();
        let file_opts = RenderOptions {
            human: render::human::HumanOptions {
                color: false,
                ..ropts.human
            },
            ..ropts
        };
        render::write(*format, &mut buf, &report, &sources, file_opts)
            .map_err(|e| io("the report", e))?;
        std::fs::write(path, buf).map_err(|e| io(&path.display().to_string(), e))?;
    }
    // Buffered: stdout alone flushes at every line of a large report.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    aks_egress_lint::timing::phase("render", || {
        render::write(args.format, &mut out, &report, &sources, ropts)
    })
    .map_err(|e| io("the report", e))?;
    out.flush().map_err(|e| io("the report", e))?;
    if args.format == Format::Github {
        render::github::write_step_summary(&report, &sources)
            .map_err(|e| io("the step summary", e))?;
    }
    // The process ends here: the OS takes the memory back faster than
    // freeing every finding and source text one by one.
    std::mem::forget(report);
    std::mem::forget(sources);
    aks_egress_lint::timing::peak();
    Ok(code)
}

/// Read the repository, then run `f` on it with stdout: `explain` and `allow-set`.
fn on_analysis(
    input: &InputArgs,
    f: impl FnOnce(&aks_egress_lint::Analysis, &Options, &mut dyn Write) -> std::io::Result<i32>,
) -> Result<i32, ToolError> {
    let o = options(input)?;
    let a = aks_egress_lint::analyse(&o)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let code = f(&a, &o, &mut out).and_then(|c| out.flush().map(|_| c));
    code.map_err(|e| ToolError(format!("cannot write: {e}")))
}

fn run_init(args: &InitArgs) -> Result<i32, ToolError> {
    if args.path.exists() && !args.force {
        return Err(ToolError(format!(
            "{} already exists (use --force to overwrite)",
            args.path.display()
        )));
    }
    std::fs::write(&args.path, config::INIT_TEMPLATE)
        .map_err(|e| ToolError(format!("cannot write {}: {e}", args.path.display())))?;
    eprintln!("wrote {}", args.path.display());
    Ok(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        None => run_lint(&cli.lint),
        Some(Command::Lint(a)) => run_lint(a),
        Some(Command::Endpoints(a)) => {
            let mut out = std::io::stdout().lock();
            aks_egress_lint::endpoints::run(a, &mut out).map_err(|e| ToolError(e.to_string()))
        }
        Some(Command::Init(a)) => run_init(a),
        Some(Command::Explain(c)) => on_analysis(&c.input, |a, o, out| {
            aks_egress_lint::explain::explain(
                &a.model,
                &a.sources,
                &a.catalog,
                &o.overrides,
                &c.args,
                out,
            )
        }),
        Some(Command::AllowSet(c)) => on_analysis(&c.input, |a, o, out| {
            aks_egress_lint::explain::allow_set(
                &a.model,
                &a.sources,
                &a.catalog,
                &o.overrides,
                &c.args,
                out,
            )
        }),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("aks-egress-lint: error: {e}");
            ExitCode::from(2)
        }
    }
}

//! Command line: clap → library → exit code. Nothing else lives here.

use aks_egress_lint::catalog::Cloud;
use aks_egress_lint::checks::Overrides;
use aks_egress_lint::finding::Severity;
use aks_egress_lint::frontend::FrontendOptions;
use aks_egress_lint::render::{self, Format};
use aks_egress_lint::{Options, ToolError};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "\
Examples:
  aks-egress-lint .                                 lint the current folder
  aks-egress-lint infra/ --format json              machine-readable findings
  aks-egress-lint . --location westeurope --features gpu,monitoring
  aks-egress-lint . --catalog 2020-01               check against the January 2020 document
  aks-egress-lint endpoints --location westeurope   what must my firewall allow?
  aks-egress-lint endpoints --location westeurope --compare 2020-01

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
    /// Endpoint catalog revision: `current` or `2020-01`.
    #[arg(long, value_name = "REVISION", default_value = "current")]
    catalog: String,
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
    /// Report format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
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

fn parse_var(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("expected NAME=VALUE, got `{s}`"))
}

fn options(input: &InputArgs) -> Options {
    Options {
        paths: input.paths.clone(),
        catalog: input.catalog.clone(),
        rules_dir: input.rules.clone(),
        overrides: Overrides {
            cloud: input.cloud,
            location: input.location.clone(),
            features: input
                .features
                .iter()
                .map(|f| f.trim().to_ascii_lowercase())
                .filter(|f| !f.is_empty())
                .collect(),
        },
        exclude: input.exclude.clone(),
        frontend: FrontendOptions {
            location: input.location.clone(),
            vars: input.vars.clone(),
            var_files: input.var_files.clone(),
            parameters: input.parameters.clone(),
            ..Default::default()
        },
    }
}

fn color_enabled(no_color: bool) -> bool {
    use std::io::IsTerminal;
    !no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}

fn run_lint(args: &LintArgs) -> Result<i32, ToolError> {
    let opts = options(&args.input);
    let (report, sources) = aks_egress_lint::lint(&opts)?;
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| ToolError(format!("cannot write the report: {e}"));
    match args.format {
        Format::Human => {
            let h = render::human::HumanOptions {
                color: color_enabled(args.no_color),
                ..Default::default()
            };
            if args.quiet {
                for f in &report.findings {
                    write!(out, "{}", render::human::render_finding(f, &sources, h)).map_err(io)?;
                }
            } else {
                render::human::write(&mut out, &report, &sources, h).map_err(io)?;
            }
        }
        Format::Json => render::json::write(&mut out, &report, &sources).map_err(io)?,
    }
    out.flush().map_err(io)?;
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Note => Severity::Note,
    };
    Ok(if report.findings.iter().any(|f| f.severity >= threshold) {
        1
    } else {
        0
    })
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
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("aks-egress-lint: error: {e}");
            ExitCode::from(2)
        }
    }
}

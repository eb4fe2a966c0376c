//! `aks-egress-lint endpoints`: snapshots per region, revision, features and
//! format; compare; usage errors.

use aks_egress_lint::endpoints::{EndpointsArgs, EndpointsError, EndpointsFormat, run};
use clap::Parser;

/// Stand-in for the binary's command line, to test the arguments as clap parses them.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: EndpointsArgs,
}

fn parse(argv: &[&str]) -> Result<EndpointsArgs, clap::Error> {
    Cli::try_parse_from(std::iter::once("endpoints").chain(argv.iter().copied())).map(|c| c.args)
}

fn output(args: &EndpointsArgs) -> String {
    let mut out = vec![];
    let code = run(args, &mut out).unwrap();
    assert_eq!(code, 0);
    String::from_utf8(out)
        .unwrap()
        .replace(env!("CARGO_PKG_VERSION"), "[version]")
}

const ALL_FEATURES: &str = "gpu,windows,monitoring,policy,defender,keyvault,workload-identity,cost-analysis,extensions,dev-spaces,custom-dns";

#[test]
fn snapshots_per_region_revision_features_format() {
    for location in ["westeurope", "chinaeast2", "usgovvirginia"] {
        for revision in ["current", "2020-01"] {
            for (fname, features) in [("none", ""), ("all", ALL_FEATURES)] {
                for (format, ext) in [("human", "txt"), ("json", "json")] {
                    let mut argv = vec![
                        "--location",
                        location,
                        "--catalog",
                        revision,
                        "--format",
                        format,
                    ];
                    if !features.is_empty() {
                        argv.extend(["--features", features]);
                    }
                    let args = parse(&argv).unwrap();
                    let out = output(&args);
                    if format == "json" {
                        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                        assert_eq!(v["version"], 1);
                        assert_eq!(v["catalog"], revision);
                        assert_eq!(v["location"], location);
                        for e in v["endpoints"].as_array().unwrap() {
                            assert!(e["port"].is_u64(), "{e}");
                            assert!(
                                !e["destination"].as_str().unwrap().contains("{location}"),
                                "{e}"
                            );
                        }
                    }
                    insta::assert_snapshot!(format!("{location}_{revision}_{fname}_{ext}"), out);
                }
            }
        }
    }
}

#[test]
fn compare_snapshots() {
    for location in ["westeurope", "chinaeast2", "usgovvirginia"] {
        for format in ["human", "json"] {
            let args = parse(&[
                "--location",
                location,
                "--compare",
                "2020-01",
                "--format",
                format,
            ])
            .unwrap();
            insta::assert_snapshot!(
                format!("compare_2020-01_current_{location}_{format}"),
                output(&args)
            );
        }
    }
}

#[test]
fn compare_reports_the_known_changes() {
    let args = parse(&[
        "--location",
        "westeurope",
        "--compare",
        "2020-01",
        "--format",
        "json",
    ])
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&output(&args)).unwrap();
    let dests = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|e| e["destination"].as_str().unwrap().to_string())
            .collect()
    };
    let added = dests("added");
    let removed = dests("removed");
    assert!(added.contains(&"mcr-0001.mcr-msedge.net".to_string()));
    assert!(added.contains(&"packages.aks.azure.com".to_string()));
    assert!(added.contains(&"AzureCloud.westeurope".to_string()));
    assert!(removed.contains(&"*.cdn.mscr.io".to_string()));
    assert!(removed.contains(&"aksrepos.azurecr.io".to_string()));
    assert!(removed.contains(&"*.tun.westeurope.azmk8s.io".to_string()));
    let changed = v["changed"].as_array().unwrap();
    let hcp = changed
        .iter()
        .find(|c| c["destination"] == "*.hcp.westeurope.azmk8s.io")
        .unwrap();
    assert_eq!(hcp["before"].as_array().unwrap().len(), 3);
    assert_eq!(hcp["after"].as_array().unwrap().len(), 1);
    // ntp.ubuntu.com kept UDP 123 but became recommended.
    assert!(changed.iter().any(|c| c["destination"] == "ntp.ubuntu.com"));
}

#[test]
fn location_is_normalised_and_features_select_rows() {
    let a = output(&parse(&["--location", "West Europe"]).unwrap());
    let b = output(&parse(&["--location", "westeurope"]).unwrap());
    assert_eq!(a, b);
    let with_gpu = output(&parse(&["--location", "westeurope", "--features", "gpu"]).unwrap());
    assert!(with_gpu.contains("nvidia.github.io"));
    assert!(!b.contains("nvidia.github.io"));
    // Private cluster: no tunnel, no hcp.
    let private =
        output(&parse(&["--location", "westeurope", "--features", "private-cluster"]).unwrap());
    assert!(!private.contains("*.hcp.westeurope.azmk8s.io"));
    assert!(!private.contains("UDP 1194"));
    assert!(b.contains("*.hcp.westeurope.azmk8s.io"));
    // Service tags use the region's service-tag spelling.
    let fr = output(&parse(&["--location", "francecentral"]).unwrap());
    assert!(fr.contains("AzureCloud.centralfrance"));
}

fn usage_error(argv: &[&str]) -> String {
    let args = parse(argv).unwrap();
    let mut out = vec![];
    match run(&args, &mut out) {
        Err(e @ EndpointsError::Usage(_)) => {
            assert_eq!(e.exit_code(), 2);
            assert!(out.is_empty());
            e.to_string()
        }
        other => panic!("expected a usage error, got {other:?}"),
    }
}

#[test]
fn unknown_region_is_a_usage_error_naming_close_matches() {
    let m = usage_error(&["--location", "westeurop"]);
    assert_eq!(m, "unknown region `westeurop`; did you mean `westeurope`?");
    let m = usage_error(&["--location", "china east 4"]);
    assert!(
        m.starts_with("unknown region `china east 4`; did you mean `chinaeast`"),
        "{m}"
    );
    assert!(m.contains("`chinaeast2`"), "{m}");
    let m = usage_error(&["--location", "mars"]);
    assert!(m.contains("`westeurope` or `West Europe`"), "{m}");
}

#[test]
fn other_usage_errors() {
    let m = usage_error(&["--location", "westeurope", "--cloud", "AzureChinaCloud"]);
    assert_eq!(
        m,
        "region `westeurope` is in AzureCloud, not AzureChinaCloud"
    );
    let m = usage_error(&["--location", "westeurope", "--features", "gpus"]);
    assert!(
        m.starts_with("unknown feature `gpus`; did you mean `gpu`? (known: gpu, windows,"),
        "{m}"
    );
    let m = usage_error(&["--location", "westeurope", "--catalog", "2019"]);
    assert!(m.starts_with("unknown catalog revision `2019`"), "{m}");
    // --location is required unless --compare.
    assert!(parse(&[]).is_err());
    assert!(parse(&["--compare", "2020-01"]).is_ok());
    assert!(parse(&["--location", "westeurope", "--cloud", "Moon"]).is_err());
}

#[test]
fn compare_without_location_keeps_placeholders() {
    let args = parse(&["--compare", "2020-01", "--cloud", "AzureUSGovernment"]).unwrap();
    let out = output(&args);
    assert!(out.contains("AzureUSGovernment"));
    assert!(out.contains("{location}"));
}

#[test]
fn broken_rules_dir_is_an_error_with_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("current.yaml"),
        "revision: current\nentries: [\n",
    )
    .unwrap();
    let mut args = EndpointsArgs::new("westeurope");
    args.rules = Some(d.path().to_path_buf());
    args.format = EndpointsFormat::Json;
    let err = run(&args, &mut vec![]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let m = err.to_string();
    assert!(m.contains("current.yaml:3:"), "{m}");
}

#[test]
fn help_as_a_subcommand_shows_examples() {
    #[derive(Parser)]
    struct Top {
        #[command(subcommand)]
        cmd: Cmd,
    }
    #[derive(clap::Subcommand)]
    enum Cmd {
        /// What must my firewall allow?
        Endpoints(EndpointsArgs),
    }
    use clap::CommandFactory;
    let mut cmd = Top::command();
    let sub = cmd.find_subcommand_mut("endpoints").unwrap();
    let help = sub.render_long_help().to_string();
    assert!(help.contains("--compare <REVISION>"), "{help}");
    assert!(
        help.contains("aks-egress-lint endpoints --location westeurope --compare 2020-01"),
        "{help}"
    );
    let top = Top::try_parse_from([
        "x",
        "endpoints",
        "--location",
        "westeurope",
        "--features",
        "gpu,windows",
    ])
    .unwrap();
    let Cmd::Endpoints(a) = top.cmd;
    assert_eq!(a.features, vec!["gpu".to_string(), "windows".to_string()]);
}

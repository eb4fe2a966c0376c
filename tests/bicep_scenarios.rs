//! Bicep scenarios under `testdata/bicep-*` and `testdata/parity-*`: every
//! `.bicep` and `.bicepparam` file of a folder is loaded by the Bicep
//! frontend, and the resulting model and findings are snapshotted with each
//! span written as `file:line:col-line:col`.

use aks_egress_lint::frontend::FrontendOptions;
use aks_egress_lint::frontend::bicep;
use aks_egress_lint::model::Model;
use aks_egress_lint::source::Sources;
use std::path::{Path, PathBuf};

fn files_of(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_of(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("bicep" | "bicepparam")
        ) {
            out.push(p);
        }
    }
}

pub fn load_dir(dir: &Path, opts: &FrontendOptions) -> (Sources, Model) {
    let mut paths = vec![];
    files_of(dir, &mut paths);
    let mut src = Sources::new();
    let (mut b, mut p) = (vec![], vec![]);
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let rel = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&path);
        let name = rel
            .to_string_lossy()
            .replace('\\', "/")
            .trim_start_matches('/')
            .to_string();
        let id = src.add_named(&name, text);
        if name.ends_with(".bicepparam") {
            p.push(id);
        } else {
            b.push(id);
        }
    }
    let model = bicep::load(&src, &b, &p, opts);
    (src, model)
}

/// `{:#?}` of the model with every `Span { .. }` collapsed to a position.
pub fn dump(src: &Sources, model: &Model) -> String {
    let text = format!("{model:#?}");
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim_end().ends_with("Span {") {
            let indent = &line[..line.len() - line.trim_start().len()];
            let head = line.trim_start().trim_end_matches("Span {");
            let mut file = 0u32;
            let mut range = (0usize, 0usize);
            for l in lines.by_ref() {
                let t = l.trim();
                if let Ok(n) = t.trim_end_matches(',').parse::<u32>() {
                    file = n;
                }
                if let Some(r) = t.strip_prefix("range: ") {
                    let r = r.trim_end_matches(',');
                    if let Some((a, b)) = r.split_once("..") {
                        range = (a.parse().unwrap_or(0), b.parse().unwrap_or(0));
                    }
                }
                if t == "}," || t == "}" {
                    break;
                }
            }
            let id = aks_egress_lint::source::FileId(file);
            if (file as usize) < src.len() {
                let span = aks_egress_lint::source::Span::new(id, range.0..range.1);
                let (l1, c1, l2, c2) = src.span_lines(&span);
                let name = src
                    .get(id)
                    .display
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string();
                out.push_str(&format!("{indent}{head}@{name}:{l1}:{c1}-{l2}:{c2},\n"));
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn scenario(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    let (src, model) = load_dir(&dir, &FrontendOptions::default());
    dump(&src, &model)
}

#[test]
fn hub_spoke_modules() {
    insta::assert_snapshot!(scenario("bicep-hub-spoke-modules"));
}

#[test]
fn params_loops() {
    insta::assert_snapshot!(scenario("bicep-params-loops"));
}

#[test]
fn children_existing() {
    insta::assert_snapshot!(scenario("bicep-children-existing"));
}

#[test]
fn modules_not_followed() {
    insta::assert_snapshot!(scenario("bicep-modules-not-followed"));
}

#[test]
fn module_cycle() {
    insta::assert_snapshot!(scenario("bicep-module-cycle"));
}

#[test]
fn bad_input() {
    insta::assert_snapshot!(scenario("bicep-bad-input"));
}

#[test]
fn grammar_gaps() {
    insta::assert_snapshot!(scenario("bicep-grammar-gaps"));
}

#[test]
fn bicepparam() {
    insta::assert_snapshot!(scenario("bicep-bicepparam"));
}

/// The Bicep side of the parity scenarios (the same configurations are
/// written as ARM JSON and Terraform in the same folders).
#[test]
fn parity_models() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut dirs: Vec<String> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("parity-"))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    assert!(dirs.len() >= 5, "{dirs:?}");
    for d in dirs {
        if !root.join(&d).join("main.bicep").exists() {
            continue;
        }
        let dump = scenario(&d);
        assert!(!dump.contains("AEL000"), "{d}");
        insta::assert_snapshot!(d.clone(), dump);
    }
}

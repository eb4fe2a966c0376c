//! Bounded resources, end to end through the binary: file sizes, nesting in
//! every parser and evaluator, loop expansion, symlinks, references that
//! leave the repository, and a run without a network. Every case keeps a
//! valid stack beside the hostile file and checks it is still analysed.

mod hostile_support;

use hostile_support::{Run, good_stack, lint, repo, write};
use std::path::Path;

const ARM_HEAD: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
"#;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// The hostile file reported once with `code`, and the valid stack analysed.
fn hostile(files: &[(&str, String)], code: &str) -> (Run, Vec<hostile_support::F>) {
    let dir = tmp();
    good_stack(&dir.path().join("good"));
    for (name, text) in files {
        write(&dir.path().join(name), text);
    }
    let run = lint(dir.path(), &[]);
    run.assert_good("good");
    let name = files[0].0;
    let got: Vec<_> = run
        .of(name)
        .into_iter()
        .filter(|f| f.code == code)
        .collect();
    assert!(
        !got.is_empty(),
        "no {code} in {name}: {:#?}",
        run.findings()
    );
    (run, got)
}

// ------------------------------------------------------------ file size

fn filler_tf(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 100);
    s.push_str("# filler\n");
    while s.len() < bytes {
        s.push_str("# 0123456789012345678901234567890123456789012345678901234567890123456789\n");
    }
    s
}

#[test]
fn files_over_ten_mebibytes_are_reported_and_skipped() {
    let big = filler_tf(10 * 1024 * 1024 + 1);
    let mut arm = String::from(ARM_HEAD);
    arm.push_str("  \"resources\": [],\n  \"variables\": {\n");
    let mut i = 0;
    while arm.len() < 11 * 1024 * 1024 {
        arm.push_str(&format!(
            "    \"v{i}\": \"0123456789012345678901234567890123456789\",\n"
        ));
        i += 1;
    }
    arm.push_str("    \"end\": 1\n  }\n}\n");
    let (run, f) = hostile(
        &[("big.tf", big.clone()), ("big.json", arm.clone())],
        "AEL000",
    );
    assert_eq!((f[0].line, f[0].column), (1, 1));
    assert!(
        f[0].message.contains(&format!(
            "file is {} bytes, over the 10485760-byte limit",
            big.len()
        )),
        "{}",
        f[0].message
    );
    let j = run.one("AEL000", "big.json");
    assert_eq!((j.line, j.column), (1, 1));
    assert!(j.message.contains(&format!("file is {} bytes", arm.len())));
    // Exactly at the limit is read.
    let (run, _) = hostile(
        &[
            ("marker.tf", "locals {\n".into()),
            (
                "edge.tf",
                filler_tf(10 * 1024 * 1024)[..10 * 1024 * 1024].to_string(),
            ),
        ],
        "AEL000",
    );
    assert!(run.of("edge.tf").is_empty(), "{:#?}", run.findings());
}

#[test]
fn the_limit_comes_from_the_config() {
    let dir = tmp();
    good_stack(&dir.path().join("good"));
    write(
        &dir.path().join(".aks-egress-lint.yaml"),
        "max-file-size: 4KiB\n",
    );
    write(&dir.path().join("big/main.tf"), filler_tf(5000));
    write(&dir.path().join("big/nsg.json"), {
        let mut s = String::from("{\"name\": \"n\", \"securityRules\": [],\n\"pad\": \"");
        s.push_str(&"x".repeat(5000));
        s.push_str("\"}\n");
        s
    });
    let run = lint(dir.path(), &[]);
    run.assert_good("good"); // 3 KiB, under the limit
    let f = run.one("AEL000", "big/main.tf");
    assert_eq!((f.line, f.column), (1, 1));
    assert!(
        f.message.contains("over the 4096-byte limit"),
        "{}",
        f.message
    );
    assert!(f.message.contains("max-file-size"), "{}", f.message);
    run.one("AEL000", "big/nsg.json");
}

// ------------------------------------------------------------ nesting

const DEEP: usize = 100_000;

fn nest(open: &str, inner: &str, close: &str, n: usize) -> String {
    let mut s = String::with_capacity((open.len() + close.len()) * n + inner.len());
    for _ in 0..n {
        s.push_str(open);
    }
    s.push_str(inner);
    for _ in 0..n {
        s.push_str(close);
    }
    s
}

#[test]
fn deep_json_in_every_json_format() {
    let arrays = nest("[", "1", "]", DEEP);
    let objects = nest("{\"a\":", "1", "}", DEEP);
    for deep in [&arrays, &objects] {
        let arm =
            format!("{ARM_HEAD}  \"resources\": [],\n  \"variables\": {{ \"x\": {deep} }}\n}}\n");
        let (_, f) = hostile(&[("deep.json", arm)], "AEL000");
        assert_eq!(f[0].line, 5, "{f:#?}");
        let params = format!(
            "{{\n  \"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#\",\n  \"parameters\": {{ \"p\": {{ \"value\": {deep} }} }}\n}}\n"
        );
        let t = format!(
            "{ARM_HEAD}  \"parameters\": {{ \"p\": {{ \"type\": \"array\" }} }},\n  \"resources\": []\n}}\n"
        );
        hostile(
            &[("deep.parameters.json", params), ("deep.json", t)],
            "AEL000",
        );
        let nsg = format!("{{\n  \"name\": \"n\",\n  \"securityRules\": {deep}\n}}\n");
        let (_, f) = hostile(&[("nsg.json", nsg)], "AEL000");
        assert_eq!(f[0].line, 3, "{f:#?}");
        let plan = format!(
            "{{\"format_version\": \"1.2\", \"terraform_version\": \"1.9.0\",\n\"planned_values\": {deep}}}\n"
        );
        hostile(&[("plan.json", plan)], "AEL000");
        let tfvars = format!("{{\"x\": {deep}}}\n");
        hostile(
            &[
                ("vars/terraform.tfvars.json", tfvars),
                ("vars/main.tf", "variable \"x\" {}\n".into()),
            ],
            "AEL000",
        );
    }
}

#[test]
fn deep_hcl() {
    for (open, close) in [("[", "]"), ("{", "}"), ("(", ")")] {
        let tf = format!("locals {{\n  x = {}\n}}\n", nest(open, "1", close, DEEP));
        let (_, f) = hostile(&[("deep/main.tf", tf)], "AEL000");
        assert_eq!(f[0].line, 2, "{f:#?}");
    }
    // Long operator chains and accessor chains parse flat but build deep trees.
    let plus = format!("locals {{\n  x = 1{}\n}}\n", " + 1".repeat(DEEP));
    let not = format!("locals {{\n  x = {}true\n}}\n", "!".repeat(DEEP));
    let index = format!(
        "locals {{\n  x = local.y{}\n  y = [1]\n}}\n",
        "[0]".repeat(DEEP)
    );
    let cond = format!("locals {{\n  x = {}1\n}}\n", "true ? 1 : ".repeat(DEEP));
    for tf in [plus, not, index, cond] {
        let dir = tmp();
        good_stack(&dir.path().join("good"));
        write(&dir.path().join("deep/main.tf"), &tf);
        lint(dir.path(), &[]).assert_good("good");
    }
    // Deep blocks.
    let blocks = format!(
        "resource \"x\" \"y\" {{\n{}\n}}\n",
        nest("a {\n", "", "}\n", DEEP)
    );
    let dir = tmp();
    good_stack(&dir.path().join("good"));
    write(&dir.path().join("deep/main.tf"), &blocks);
    lint(dir.path(), &[]).assert_good("good");
}

#[test]
fn deep_arm_expressions() {
    let calls = format!("[{}]", nest("concat(", "'a'", ")", DEEP));
    let arrays = format!("[{}]", nest("createArray(", "1", ")", DEEP));
    let index = format!("[variables('a'){}]", "[0]".repeat(DEEP));
    let props = format!("[variables('o'){}]", ".a".repeat(DEEP));
    for e in [calls, arrays, index, props] {
        let arm = format!(
            "{ARM_HEAD}  \"variables\": {{ \"a\": [1], \"o\": {{}}, \"x\": \"{e}\" }},\n  \"resources\": [\n    {{ \"type\": \"Microsoft.Network/networkSecurityGroups\", \"apiVersion\": \"2024-05-01\", \"name\": \"[variables('x')]\", \"properties\": {{}} }}\n  ]\n}}\n"
        );
        let dir = tmp();
        good_stack(&dir.path().join("good"));
        write(&dir.path().join("deep.json"), &arm);
        lint(dir.path(), &[]).assert_good("good");
    }
}

#[test]
fn deep_bicep() {
    let arrays = format!("var x = {}\n", nest("[", "1", "]", DEEP));
    let parens = format!("var x = {}\n", nest("(", "1", ")", DEEP));
    let objects = format!("var x = {}\n", nest("{\na: ", "1", "\n}", DEEP));
    let calls = format!("var x = {}\n", nest("concat(", "'a'", ")", DEEP));
    let plus = format!("var x = 1{}\n", " + 1".repeat(DEEP));
    let not = format!("var x = {}true\n", "!".repeat(DEEP));
    let member = format!("var o = {{}}\nvar x = o{}\n", ".a".repeat(DEEP));
    let index = format!("var a = [1]\nvar x = a{}\n", "[0]".repeat(DEEP));
    let cond = format!("var x = {}1\n", "true ? 1 : ".repeat(DEEP));
    let interp = format!("var x = '{}'\n", nest("${'", "a", "'}", DEEP / 10));
    for b in [
        arrays, parens, objects, calls, plus, not, member, index, cond, interp,
    ] {
        let dir = tmp();
        good_stack(&dir.path().join("good"));
        write(&dir.path().join("deep.bicep"), &b);
        let run = lint(dir.path(), &[]);
        run.assert_good("good");
    }
}

#[test]
fn deep_yaml() {
    let y = format!(
        "apiVersion: v1\nkind: Service\nspec:\n  x: {}\n",
        nest("[", "1", "]", DEEP)
    );
    let (_, f) = hostile(&[("svc.yaml", y)], "AEL000");
    assert_eq!((f[0].line, f[0].column), (4, 262), "{f:#?}");
    // Deep block nesting ends at the parser's own limit.
    let mut block = String::from("apiVersion: v1\nkind: Service\nspec:\n");
    for i in 0..2000 {
        block.push_str(&" ".repeat(2 * (i + 1)));
        block.push_str("a:\n");
    }
    let (_, f) = hostile(&[("svc.yaml", block)], "AEL000");
    assert!(f[0].message.contains("recursion limit"), "{f:#?}");
    // The same in the config file: an error with its position.
    let cfg = format!("exclude: {}\n", nest("[", "'a'", "]", DEEP));
    let e = aks_egress_lint::config::parse(&cfg, "cfg.yaml", Path::new(".")).expect_err("too deep");
    assert_eq!((e.line, e.column), (Some(1), Some(266)), "{e:?}");
}

#[test]
fn flow_depth_counts_outside_quotes_and_comments() {
    use aks_egress_lint::frontend::k8s::flow_too_deep;
    let brackets = "[".repeat(300);
    assert_eq!(flow_too_deep(&brackets, 256), Some(256));
    for quoted in [
        format!("a: \"{brackets}\"\n"),
        format!("a: '{brackets}'\n"),
        format!("a: 'it''s {brackets}'\n"),
        format!("a: \"\\\" {brackets}\"\n"),
        format!("# {brackets}\n"),
        format!("a: 1 # {brackets}\n"),
    ] {
        assert_eq!(flow_too_deep(&quoted, 256), None, "{quoted}");
    }
    // A quote inside a plain scalar does not start a string.
    assert_eq!(
        flow_too_deep(&format!("a: don't\nb: {brackets}"), 256),
        Some("a: don't\nb: ".len() + 256)
    );
}

#[test]
fn long_reference_chains() {
    const N: usize = 10_000;
    // ARM variables, each naming the one before.
    let mut vars = String::from("\"v0\": \"10.0.0.0/24\"");
    for i in 1..N {
        vars.push_str(&format!(", \"v{i}\": \"[variables('v{}')]\"", i - 1));
    }
    let arm = format!(
        "{ARM_HEAD}  \"variables\": {{ {vars} }},\n  \"resources\": [\n    {{ \"type\": \"Microsoft.Network/routeTables\", \"apiVersion\": \"2024-05-01\", \"name\": \"rt\", \"properties\": {{ \"routes\": [ {{ \"name\": \"r\", \"properties\": {{ \"addressPrefix\": \"[variables('v{}')]\", \"nextHopType\": \"Internet\" }} }} ] }} }}\n  ]\n}}\n",
        N - 1
    );
    // Bicep variables.
    let mut bicep = String::from("var v0 = '10.0.0.0/24'\n");
    for i in 1..N {
        bicep.push_str(&format!("var v{i} = v{}\n", i - 1));
    }
    bicep.push_str(&format!(
        "resource rt 'Microsoft.Network/routeTables@2024-05-01' = {{\n  name: 'rt'\n  properties: {{\n    routes: [\n      {{\n        name: 'r'\n        properties: {{\n          addressPrefix: v{}\n          nextHopType: 'Internet'\n        }}\n      }}\n    ]\n  }}\n}}\n",
        N - 1
    ));
    // Terraform locals.
    let mut tf = String::from("locals {\n  v0 = \"10.0.0.0/24\"\n");
    for i in 1..N {
        tf.push_str(&format!("  v{i} = local.v{}\n", i - 1));
    }
    tf.push_str("}\n");
    let dir = tmp();
    good_stack(&dir.path().join("good"));
    write(&dir.path().join("chain.json"), &arm);
    write(&dir.path().join("chain.bicep"), &bicep);
    write(&dir.path().join("chain/main.tf"), &tf);
    let run = lint(dir.path(), &[]);
    run.assert_good("good");
}

// ------------------------------------------------------------ expansion

fn timed(dir: &Path) -> (Run, std::time::Duration) {
    let t = std::time::Instant::now();
    let run = lint(dir, &[]);
    (run, t.elapsed())
}

fn arm_loops(outer: u64, inner: u64) -> String {
    format!(
        "{ARM_HEAD}  \"resources\": [\n    {{ \"type\": \"Microsoft.Network/routeTables\", \"apiVersion\": \"2024-05-01\",\n      \"name\": \"[concat('rt', copyIndex())]\",\n      \"copy\": {{ \"name\": \"rts\", \"count\": {outer} }},\n      \"properties\": {{\n        \"copy\": [ {{ \"name\": \"routes\", \"count\": {inner}, \"input\": {{ \"name\": \"[concat('r', copyIndex('routes'))]\", \"properties\": {{ \"addressPrefix\": \"0.0.0.0/0\", \"nextHopType\": \"Internet\" }} }} }} ]\n      }}\n    }}\n  ]\n}}\n"
    )
}

fn bicep_loops(outer: u64, inner: u64) -> String {
    format!(
        "resource rts 'Microsoft.Network/routeTables@2024-05-01' = [for i in range(0, {outer}): {{\n  name: 'rt${{i}}'\n  properties: {{\n    routes: [for j in range(0, {inner}): {{\n      name: 'r${{j}}'\n      properties: {{\n        addressPrefix: '0.0.0.0/0'\n        nextHopType: 'Internet'\n      }}\n    }}]\n  }}\n}}]\n"
    )
}

fn tf_loops(outer: u64, inner: u64) -> String {
    format!(
        "resource \"azurerm_route_table\" \"rt\" {{\n  count = {outer}\n  name = \"rt${{count.index}}\"\n  location = \"westeurope\"\n  resource_group_name = \"rg\"\n  dynamic \"route\" {{\n    for_each = range({inner})\n    content {{\n      name = \"r${{route.value}}\"\n      address_prefix = \"0.0.0.0/0\"\n      next_hop_type = \"Internet\"\n    }}\n  }}\n}}\n"
    )
}

/// A loop of a billion is cut to the expansion limit with a note; loops of
/// a thousand inside loops of a thousand (each under the limit) stay bounded
/// too, because the loops of one file share a budget.
#[test]
fn loops_are_bounded() {
    for (name, text, note) in [
        ("loop.json", arm_loops(1_000_000_000, 2), Some((7, 41))),
        ("loop.bicep", bicep_loops(1_000_000_000, 2), Some((1, 69))),
        ("loop/main.tf", tf_loops(1_000_000_000, 2), Some((2, 11))),
        // The inner loop of the eleventh copy is cut short.
        ("nested.json", arm_loops(1000, 1000), Some((9, 48))),
        // Not analysed: route tables of no subnet, so no note either.
        ("nested.bicep", bicep_loops(1000, 1000), None),
        // The dynamic block of the twenty-first instance is left unknown.
        ("nested/main.tf", tf_loops(1000, 1000), Some((6, 3))),
    ] {
        let dir = tmp();
        good_stack(&dir.path().join("good"));
        write(&dir.path().join(name), &text);
        let (run, took) = timed(dir.path());
        run.assert_good("good");
        let notes: Vec<_> = run
            .of(name)
            .into_iter()
            .filter(|f| f.code == "AEL008")
            .collect();
        if let Some(at) = note {
            assert!(
                !notes.is_empty(),
                "{name}: no AEL008: {:#?}",
                run.findings()
            );
            assert!(
                notes.iter().any(|n| (n.line, n.column) == at),
                "{name}: no note at {at:?}: {notes:#?}"
            );
        }
        eprintln!("{name}: {took:?}, {notes:?}");
    }
}

// ------------------------------------------------------------ leaving the root

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_root_are_not_read() {
    use std::os::unix::fs::symlink;
    let base = tmp();
    let outside = base.path().join("outside");
    // A cluster with a missing endpoint outside the scanned folder.
    good_stack(&outside);
    write(
        &outside.join("nsg.json"),
        "{\"name\": \"outside\", \"securityRules\": []}\n",
    );
    let root = base.path().join("repo");
    good_stack(&root.join("good"));
    symlink(&outside, root.join("linked-dir")).expect("symlink");
    symlink(outside.join("main.tf"), root.join("linked.tf")).expect("symlink");
    symlink(outside.join("nsg.json"), root.join("linked-nsg.json")).expect("symlink");
    symlink("/dev/zero", root.join("zero.tf")).expect("symlink");
    let run = lint(&root, &[]);
    run.assert_good("good");
    assert_eq!(run.files(), 1, "{:#?}", run.json["summary"]);
    assert_eq!(run.clusters(), 1);
    for f in run.findings() {
        assert!(f.file.starts_with("good/"), "{f:?}");
    }
}

#[test]
fn references_out_of_the_root_are_notes() {
    let base = tmp();
    let root = base.path().join("repo");
    good_stack(&root.join("good"));
    // What they point at exists, but outside the scanned folder.
    write(
        &base.path().join("shared/main.tf"),
        "output \"x\" { value = 1 }\n",
    );
    write(
        &base.path().join("shared/linked.json"),
        format!("{ARM_HEAD}  \"resources\": []\n}}\n"),
    );
    write(&base.path().join("shared/m.bicep"), "output x int = 1\n");
    write(
        &root.join("tf/main.tf"),
        "module \"shared\" {\n  source = \"../../shared\"\n}\n",
    );
    write(
        &root.join("arm/main.json"),
        format!(
            "{ARM_HEAD}  \"resources\": [\n    {{\n      \"type\": \"Microsoft.Resources/deployments\",\n      \"apiVersion\": \"2022-09-01\",\n      \"name\": \"linked\",\n      \"properties\": {{ \"mode\": \"Incremental\", \"templateLink\": {{ \"relativePath\": \"../../shared/linked.json\" }} }}\n    }}\n  ]\n}}\n"
        ),
    );
    write(
        &root.join("bicep/main.bicep"),
        "module m '../../shared/m.bicep' = {\n  name: 'm'\n}\n",
    );
    let run = lint(&root, &[]);
    run.assert_good("good");
    let tf = run.one("AEL008", "tf/main.tf");
    assert_eq!((tf.line, tf.column), (1, 1), "{tf:?}");
    assert!(tf.message.contains("outside"), "{}", tf.message);
    let arm = run.one("AEL008", "arm/main.json");
    assert_eq!((arm.line, arm.column), (9, 62), "{arm:?}");
    assert!(arm.message.contains("outside"), "{}", arm.message);
    let bicep = run.one("AEL008", "bicep/main.bicep");
    assert_eq!((bicep.line, bicep.column), (1, 10), "{bicep:?}");
    assert!(bicep.message.contains("outside"), "{}", bicep.message);
}

// ------------------------------------------------------------ no network

#[test]
fn runs_without_a_network() {
    let probe = std::process::Command::new("unshare")
        .args(["-n", "--", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: `unshare -n` is not available or not permitted here");
        return;
    }
    let exe = assert_cmd::cargo::cargo_bin("aks-egress-lint");
    let dir = repo().join("testdata");
    let run = |isolated: bool| {
        let mut c = if isolated {
            let mut c = std::process::Command::new("unshare");
            c.args(["-n", "--"]).arg(&exe);
            c
        } else {
            std::process::Command::new(&exe)
        };
        c.current_dir(&dir)
            .args(["--format", "json", "."])
            .output()
            .expect("run")
    };
    let (with, without) = (run(false), run(true));
    assert_eq!(without.status.code(), with.status.code());
    assert!(!without.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&without.stdout),
        String::from_utf8_lossy(&with.stdout)
    );
}

//! Hostile Terraform input: each case ends as AEL000 (or a bounded
//! expansion with a note), quickly, without a panic or a stack overflow.

use aks_egress_lint::discover::{DiscoverOptions, Discovered, discover};
use aks_egress_lint::finding::Code;
use aks_egress_lint::frontend::{FrontendOptions, Limits, terraform};
use aks_egress_lint::model::Model;
use std::time::{Duration, Instant};

fn run_files(files: &[(&str, Vec<u8>)], max_size: u64) -> (Discovered, Model, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    let d = discover(
        &[dir.path().to_path_buf()],
        &DiscoverOptions {
            exclude: vec![],
            max_file_size: max_size,
        },
    )
    .expect("discover");
    let opts = FrontendOptions {
        root: dir.path().to_path_buf(),
        limits: Limits {
            max_file_size: max_size,
            ..Limits::default()
        },
        ..FrontendOptions::default()
    };
    let t = Instant::now();
    let m = terraform::load(&d.sources, &d.tf_modules, &[], &opts);
    (d, m, t.elapsed())
}

const TEN_MB: u64 = 10 * 1024 * 1024;

#[test]
fn fifty_thousand_nested_brackets() {
    for (open, close) in [("[", "]"), ("{", "}"), ("(", ")")] {
        let mut s = String::from("locals {\n  x = ");
        s.push_str(&open.repeat(50_000));
        s.push_str(&close.repeat(50_000));
        s.push_str("\n}\n");
        let (_, m, t) = run_files(&[("main.tf", s.into_bytes())], TEN_MB);
        assert_eq!(m.findings.len(), 1, "{:?}", m.findings);
        assert_eq!(m.findings[0].code, Code::AEL000);
        assert!(t < Duration::from_secs(5), "{t:?}");
    }
}

#[test]
fn twenty_megabyte_file() {
    let mut s = String::from("locals {\n");
    let mut i = 0;
    while s.len() < 20 * 1024 * 1024 {
        s.push_str(&format!(
            "  l{i} = \"0123456789012345678901234567890123456789012345678901234567890123456789\"\n"
        ));
        i += 1;
    }
    s.push_str("}\n");
    // Over the default limit: discovery reports it, the frontend never sees it.
    let (d, m, t) = run_files(&[("big.tf", s.clone().into_bytes())], TEN_MB);
    assert!(m.findings.is_empty());
    assert_eq!(d.findings.len(), 1);
    assert_eq!(d.findings[0].code, Code::AEL000);
    assert!(t < Duration::from_secs(5), "{t:?}");
    // With a raised limit it is parsed, in seconds.
    let (_, m, t) = run_files(&[("big.tf", s.into_bytes())], 64 * 1024 * 1024);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    assert!(t < Duration::from_secs(60), "{t:?}");
}

#[test]
fn not_utf8_and_binary_files() {
    let mut latin1 = b"resource \"azurerm_subnet\" \"s\" {\n  name = \"caf".to_vec();
    latin1.push(0xe9);
    latin1.extend_from_slice(b"\"\n}\n");
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 256) as u8).collect();
    let nul_text = b"\x7fELF\x02\x01\x01\x00\x00\x00 resource".to_vec();
    let ok = b"resource \"azurerm_subnet\" \"ok\" {\n  name = \"ok\"\n  address_prefixes = [\"10.0.0.0/24\"]\n}\n".to_vec();
    let (d, m, _) = run_files(
        &[
            ("latin1.tf", latin1),
            ("binary.tf", binary),
            ("elf.tf", nul_text),
            ("ok.tf", ok),
        ],
        TEN_MB,
    );
    let all: Vec<_> = d.findings.iter().chain(m.findings.iter()).collect();
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.iter().all(|f| f.code == Code::AEL000));
    // The valid file of the same folder is still read.
    assert_eq!(m.subnets.len(), 1);
}

#[test]
fn count_of_a_billion_is_bounded() {
    let tf = b"resource \"azurerm_subnet\" \"s\" {\n  count = 1000000000\n  name = \"s${count.index}\"\n  address_prefixes = [cidrsubnet(\"10.0.0.0/8\", 16, count.index)]\n}\n".to_vec();
    let (_, m, t) = run_files(&[("main.tf", tf)], TEN_MB);
    assert_eq!(m.subnets.len(), Limits::default().max_expansion);
    assert_eq!(m.findings.len(), 1);
    assert_eq!(m.findings[0].code, Code::AEL008);
    assert!(
        m.findings[0].message.contains("1000000000"),
        "{}",
        m.findings[0].message
    );
    assert!(t < Duration::from_secs(20), "{t:?}");
}

#[test]
fn runaway_evaluation_is_bounded() {
    // A long chain of locals, nested `for` expressions over big ranges, and
    // a self-reference: all end as unknowns, quickly.
    let mut s = String::from("locals {\n  l0 = \"x\"\n");
    for i in 1..5000 {
        s.push_str(&format!("  l{i} = \"${{local.l{}}}y\"\n", i - 1));
    }
    s.push_str(
        "  big = [for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]]\n",
    );
    s.push_str("  me = local.me\n");
    // Doubling chains: lists and strings that would reach 2^60 elements.
    s.push_str("  d0 = [1, 2]\n  s0 = \"ab\"\n");
    for i in 1..60 {
        s.push_str(&format!(
            "  d{i} = concat(local.d{p}, local.d{p})\n  s{i} = format(\"%s%s\", local.s{p}, local.s{p})\n  j{i} = join(local.s{p}, [local.s{p}, local.s{p}])\n",
            p = i - 1
        ));
    }
    s.push_str("  r = replace(local.s19, \"a\", local.s19)\n}\n");
    s.push_str("resource \"azurerm_subnet\" \"s\" {\n  name = local.l4999\n  address_prefixes = [length(local.big), local.me, length(local.d59), local.s59, local.j59, local.r]\n}\n");
    let (_, m, t) = run_files(&[("main.tf", s.into_bytes())], TEN_MB);
    assert_eq!(m.subnets.len(), 1);
    assert!(m.subnets[0].decl.name.is_none());
    assert!(m.subnets[0].address_prefixes.value.known().is_none());
    assert!(t < Duration::from_secs(30), "{t:?}");
}

mod fuzz {
    use super::*;
    use aks_egress_lint::discover::TfModule;
    use aks_egress_lint::source::Sources;
    use proptest::prelude::*;

    fn load_text(text: &str) -> Model {
        let mut sources = Sources::new();
        let id = sources.add_named("fuzz/main.tf", text);
        let mods = vec![TfModule {
            dir: "fuzz".into(),
            files: vec![id],
            tfvars: vec![],
        }];
        let m = terraform::load(&sources, &mods, &[], &FrontendOptions::default());
        // `load` turns a panic into an "internal error" finding: none here.
        assert!(
            !m.findings
                .iter()
                .any(|f| f.message.starts_with("internal error")),
            "{text}"
        );
        m
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Arbitrary HCL-ish text never panics.
        #[test]
        fn arbitrary_text(s in "[a-z_{}\\[\\]()=\"$ .,:?*!<>+%0-9\n#/-]{0,300}") {
            let _ = load_text(&s);
        }

        /// Resources with arbitrary expressions evaluate without panicking.
        #[test]
        fn arbitrary_expressions(
            e in prop::sample::select(vec![
                "var.x", "local.l", "each.key", "count.index", "azurerm_subnet.s.id",
                "azurerm_subnet.s[0]", "module.m.o", "data.azurerm_subnet.d.id",
                "[for x in local.l : x]", "{ for k, v in local.m : k => v }",
                "cidrsubnet(\"10.0.0.0/8\", 8, 300)", "element([], 0)", "local.l[*].id",
                "try(local.nope, \"x\")", "format(\"%999999999d\", 1)", "range(-5)",
                "\"${local.l}\"", "1 / 0", "-\"x\"", "!1", "null.x", "true ? var.x : 1",
                "jsondecode(\"[[[[[[\")", "merge(local.l, null)", "lookup(local.m, 1)",
                "toset(local.m)", "flatten(local.m)", "setproduct(local.l, local.l, local.l)",
            ]),
            f in "(count|for_each|name|address_prefixes|security_rule)",
        ) {
            let text = format!(
                "locals {{\n  l = [1, \"a\", {{ id = 2 }}]\n  m = {{ a = 1, b = [2] }}\n}}\n\
                 resource \"azurerm_subnet\" \"s\" {{\n  {f} = {e}\n  name = \"n\"\n}}\n\
                 resource \"azurerm_network_security_group\" \"n\" {{\n  {f} = {e}\n  dynamic \"security_rule\" {{\n    for_each = {e}\n    content {{\n      priority = {e}\n    }}\n  }}\n}}\n"
            );
            let _ = load_text(&text);
        }
    }
}

#[test]
fn long_reference_chains_do_not_overflow_the_stack() {
    // Resources that each read the previous one, through nested blocks,
    // dynamic blocks and for expressions: every level is a deeper recursion.
    let mut s = String::new();
    // Declared last-first, so the first resource read pulls the whole chain.
    for i in (0..3000).rev() {
        let prev = if i == 0 {
            "\"10.0.0.0/24\"".to_string()
        } else {
            format!(
                "[for x in azurerm_route_table.r{}.route : x.address_prefix][0]",
                i - 1
            )
        };
        s.push_str(&format!(
            "resource \"azurerm_route_table\" \"r{i}\" {{\n  name = \"r{i}\"\n  dynamic \"route\" {{\n    for_each = [1]\n    content {{\n      name = \"x\"\n      address_prefix = {prev}\n      next_hop_type = \"None\"\n    }}\n  }}\n}}\n"
        ));
    }
    let (_, m, t) = run_files(&[("main.tf", s.into_bytes())], TEN_MB);
    assert_eq!(m.route_tables.len(), 3000);
    assert!(t < Duration::from_secs(60), "{t:?}");
    // Early links resolve; past the depth limit values are unknown, not guessed.
    let prefix = |i: usize| {
        m.route_tables
            .iter()
            .find(|r| r.decl.label == format!("azurerm_route_table.r{i}"))
            .map(|r| r.routes[0].address_prefix.value.known().is_some())
    };
    assert_eq!(prefix(1), Some(true));
    assert_eq!(prefix(2999), Some(false));
}

//! Bicep lowering: values, spans, loops, conditions, modules.

use aks_egress_lint::finding::Finding;
use aks_egress_lint::frontend::FrontendOptions;
use aks_egress_lint::frontend::bicep::eval::ResInst;
use aks_egress_lint::frontend::bicep::evaluate;
use aks_egress_lint::frontend::bicep::value::{SVal, V};
use aks_egress_lint::source::{FileId, Sources};

struct Run {
    src: Sources,
    res: Vec<ResInst>,
    findings: Vec<Finding>,
}

fn run(files: &[(&str, &str)]) -> Run {
    run_opts(files, FrontendOptions::default())
}

fn run_opts(files: &[(&str, &str)], opts: FrontendOptions) -> Run {
    let mut src = Sources::new();
    let mut b = vec![];
    let mut p = vec![];
    for (name, text) in files {
        let id = src.add_named(name, *text);
        if name.ends_with(".bicepparam") {
            p.push(id);
        } else {
            b.push(id);
        }
    }
    let (res, findings) = evaluate(&src, &b, &p, &opts);
    Run { src, res, findings }
}

impl Run {
    fn res(&self, symbol: &str) -> Vec<&ResInst> {
        self.res.iter().filter(|r| r.symbol == symbol).collect()
    }
    fn one(&self, symbol: &str) -> &ResInst {
        let v = self.res(symbol);
        assert_eq!(v.len(), 1, "{symbol}: {:#?}", self.res);
        v[0]
    }
    /// Text the value's span covers.
    fn text(&self, v: &SVal) -> &str {
        self.src.slice(&v.span)
    }
    fn pos(&self, v: &SVal) -> (String, usize, usize) {
        let (l, c, _, _) = self.src.span_lines(&v.span);
        (self.src.get(v.span.file).display.clone(), l, c)
    }
    fn codes(&self) -> Vec<String> {
        self.findings
            .iter()
            .map(|f| {
                let (l, c, _, _) = self.src.span_lines(&f.primary().span);
                format!(
                    "{} {}:{}:{} {}",
                    f.code,
                    self.src.get(f.primary().span.file).display,
                    l,
                    c,
                    f.message
                )
            })
            .collect()
    }
}

#[allow(dead_code)]
fn s(v: &SVal) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

#[allow(dead_code)]
fn _unused(_: FileId, _: V) {}

#[test]
fn params_vars_interpolation_and_spans() {
    let r = run(&[(
        "main.bicep",
        "param prefix string = 'hub'\nvar fwName = 'fw-${prefix}'\nresource fw 'Microsoft.Network/azureFirewalls@2023-04-01' = {\n  name: fwName\n  location: 'westeurope'\n}\n",
    )]);
    assert_eq!(r.codes(), Vec::<String>::new());
    let fw = r.one("fw");
    assert_eq!(fw.names.as_deref(), Some(&["fw-hub".to_string()][..]));
    assert_eq!(fw.label(), "Microsoft.Network/azureFirewalls 'fw-hub'");
    let name = fw.name.as_ref().unwrap();
    assert_eq!(r.text(name), "'fw-${prefix}'");
    assert_eq!(r.pos(name), ("main.bicep".into(), 2, 14));
}

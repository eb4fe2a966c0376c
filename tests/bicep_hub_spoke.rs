//! The hub-spoke layout over modules, through the whole pipeline: the
//! finding's primary and related labels point into the Bicep files where
//! the firewall policy, the route table and the cluster are written.

use aks_egress_lint::{Options, lint};

#[test]
fn finding_labels_point_into_each_module() {
    let opts = Options {
        paths: vec!["testdata/bicep-hub-spoke-modules".into()],
        catalog: "current".into(),
        ..Default::default()
    };
    let (report, sources) = lint(&opts).expect("lint");
    let f = report
        .findings
        .iter()
        .find(|f| f.message.contains("packages.aks.azure.com"))
        .expect("the missing endpoint is reported");
    let labels: Vec<String> = f
        .labels
        .iter()
        .map(|l| {
            let (l1, c1, l2, c2) = sources.span_lines(&l.span);
            let file = sources.get(l.span.file).display.clone();
            let file = file
                .rsplit("bicep-hub-spoke-modules/")
                .next()
                .unwrap_or("")
                .to_string();
            format!(
                "{}{file}:{l1}:{c1}-{l2}:{c2} {}",
                if l.primary { "* " } else { "  " },
                l.message.lines().next().unwrap_or("")
            )
        })
        .collect();
    insta::assert_snapshot!(labels.join("\n"));
}

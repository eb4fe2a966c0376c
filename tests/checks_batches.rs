//! Clusters are checked a batch at a time to bound memory: the findings and
//! summaries must not depend on the batch size.

use aks_egress_lint::{Options, analyse, checks};

#[test]
fn findings_do_not_depend_on_the_batch_size() {
    // Every scenario at once: well over a hundred clusters, with findings of
    // every code, NSGs, firewalls and routes shared between some of them.
    let opts = Options {
        paths: vec!["testdata".into()],
        catalog: "current".into(),
        ..Default::default()
    };
    let a = analyse(&opts).expect("testdata is readable");
    let ov = checks::Overrides::default();
    let whole = checks::run_batched(&a.model, &a.sources, &a.catalog, &ov, usize::MAX);
    assert!(whole.1.len() > 20, "only {} clusters", whole.1.len());
    assert!(whole.0.len() > 100, "only {} findings", whole.0.len());
    for batch in [1, 2, 7] {
        let part = checks::run_batched(&a.model, &a.sources, &a.catalog, &ov, batch);
        assert_eq!(
            format!("{:?}", part.0),
            format!("{:?}", whole.0),
            "findings with batches of {batch}"
        );
        assert_eq!(
            format!("{:?}", part.1),
            format!("{:?}", whole.1),
            "summaries with batches of {batch}"
        );
    }
}

//! Kubernetes frontend: public LoadBalancer Services and Helm values, with
//! exact spans; internal and non-LB Services give nothing; broken YAML is
//! AEL000 in manifests and quiet in Helm templates.

use aks_egress_lint::finding::Code;
use aks_egress_lint::frontend::k8s;
use aks_egress_lint::model::Model;
use aks_egress_lint::source::{FileId, Sources, Span};

fn read(paths: &[&str]) -> (Sources, Vec<FileId>) {
    let mut sources = Sources::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let ids = paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(format!("{root}/{p}")).unwrap();
            sources.add_named(p, text)
        })
        .collect();
    (sources, ids)
}

fn load(paths: &[&str]) -> (Sources, Model) {
    let (sources, ids) = read(paths);
    let model = k8s::load(&sources, &ids);
    (sources, model)
}

/// (start line, start column, end line, end column, text)
fn at(sources: &Sources, span: &Span) -> (usize, usize, usize, usize, String) {
    let (l1, c1, l2, c2) = sources.span_lines(span);
    (l1, c1, l2, c2, sources.slice(span).to_string())
}

#[test]
fn public_load_balancer_service() {
    let (s, m) = load(&["testdata/k8s-public-lb/app.yaml"]);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    assert_eq!(m.public_inbound.len(), 1);
    let p = &m.public_inbound[0];
    assert_eq!(
        at(&s, &p.decl.span),
        (18, 3, 18, 21, "type: LoadBalancer".into())
    );
    let name = p.decl.name.as_ref().unwrap();
    assert_eq!(name.value, "web");
    assert_eq!(at(&s, &name.span), (13, 9, 13, 12, "web".into()));
    assert_eq!(p.decl.label, "Service `shop/web`");
    assert_eq!(
        p.description,
        "Service `shop/web` of type LoadBalancer without the internal annotation"
    );
}

#[test]
fn internal_nodeport_and_clusterip_give_nothing() {
    let (_, m) = load(&["testdata/k8s-internal-lb/services.yaml"]);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    assert!(m.public_inbound.is_empty(), "{:?}", m.public_inbound);
}

#[test]
fn helm_values_ask_for_a_public_load_balancer() {
    let (s, m) = load(&[
        "testdata/k8s-helm-values/values.yaml",
        "testdata/k8s-helm-values-internal/values.yaml",
    ]);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    assert_eq!(m.public_inbound.len(), 2, "{:?}", m.public_inbound);
    let p = &m.public_inbound[0];
    assert_eq!(p.decl.span.file, FileId(0));
    assert_eq!(
        at(&s, &p.decl.span),
        (6, 5, 6, 23, "type: LoadBalancer".into())
    );
    assert_eq!(p.decl.label, "Helm value `controller.service.type`");
    let name = p.decl.name.as_ref().unwrap();
    assert_eq!(at(&s, &name.span), (4, 3, 4, 11, "service:".into()));
    assert_eq!(name.value, "controller.service");
    // A flattened `serviceType`, in a file whose `{{ }}` is only a value.
    let p = &m.public_inbound[1];
    assert_eq!(p.decl.span.file, FileId(0));
    assert_eq!(
        at(&s, &p.decl.span),
        (16, 3, 16, 28, "serviceType: LoadBalancer".into())
    );
    assert_eq!(p.decl.label, "Helm value `storeFront.serviceType`");
}

#[test]
fn helm_templates_are_read_when_plain_and_never_a_parse_error() {
    let (s, m) = load(&[
        "testdata/k8s-helm-chart/values.yaml",
        "testdata/k8s-helm-chart/templates/service.yaml",
        "testdata/k8s-helm-chart/templates/public.yaml",
        "testdata/k8s-helm-chart/templates/broken.yaml",
    ]);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    assert_eq!(m.public_inbound.len(), 1, "{:?}", m.public_inbound);
    let p = &m.public_inbound[0];
    assert_eq!(p.decl.span.file, FileId(2));
    assert_eq!(
        at(&s, &p.decl.span),
        (9, 3, 9, 21, "type: LoadBalancer".into())
    );
    let name = p.decl.name.as_ref().unwrap();
    assert_eq!(name.value, "{{ .Release.Name }}-public");
    assert_eq!(
        at(&s, &name.span),
        (5, 9, 5, 35, "{{ .Release.Name }}-public".into())
    );
    assert_eq!(p.decl.label, "Service `{{ .Release.Name }}-public`");
}

#[test]
fn malformed_manifest_is_ael000_with_position() {
    let (s, m) = load(&["testdata/k8s-malformed/bad.yaml"]);
    assert!(m.public_inbound.is_empty());
    assert_eq!(m.findings.len(), 1, "{:?}", m.findings);
    let f = &m.findings[0];
    assert_eq!(f.code, Code::AEL000);
    assert!(
        f.message
            .starts_with("invalid YAML in Kubernetes manifest: "),
        "{}",
        f.message
    );
    let (l, c, _, _, _) = at(&s, &f.primary().span);
    // The flow sequence opened on line 9 is never closed; libyaml notices on line 10.
    assert_eq!((l, c), (10, 5), "{}", f.message);
}

#[test]
fn parse_error_positions_count_bytes_of_wide_characters() {
    let mut sources = Sources::new();
    let a = sources.add_named(
        "a.yaml",
        "kind: Service\napiVersion: v1\nmetadata:\n  name: café\n  x: [\n",
    );
    let b = sources.add_named(
        "b.yaml",
        "\u{feff}kind: Service\napiVersion: v1\nmetadata: {\n",
    );
    let m = k8s::load(&sources, &[a, b]);
    let got: Vec<_> = m
        .findings
        .iter()
        .map(|f| {
            let (l, c, _, _) = sources.span_lines(&f.primary().span);
            (f.primary().span.file, l, c)
        })
        .collect();
    assert_eq!(got, vec![(a, 6, 1), (b, 4, 1)]);
    // A valid manifest after a byte-order mark is read.
    let mut sources = Sources::new();
    let c = sources.add_named(
        "c.yaml",
        "\u{feff}apiVersion: v1\nkind: Service\nmetadata:\n  name: bom\nspec:\n  type: LoadBalancer\n",
    );
    let m = k8s::load(&sources, &[c]);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    assert_eq!(m.public_inbound.len(), 1);
    assert_eq!(
        sources.slice(&m.public_inbound[0].decl.span),
        "type: LoadBalancer"
    );
}

#[test]
fn list_objects() {
    let (s, m) = load(&["testdata/k8s-list/list.yaml"]);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    let got: Vec<_> = m
        .public_inbound
        .iter()
        .map(|p| (p.decl.label.clone(), at(&s, &p.decl.span)))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "Service `a`".to_string(),
                (10, 7, 10, 25, "type: LoadBalancer".to_string())
            ),
            (
                "Service `c`".to_string(),
                (23, 19, 23, 31, "LoadBalancer".to_string())
            ),
        ]
    );
}

#[test]
fn in_memory_edge_cases() {
    let mut sources = Sources::new();
    let texts = [
        // Flow-style Service: found, span on the word.
        "apiVersion: v1\nkind: Service\nmetadata: {name: f}\nspec: {type: LoadBalancer}\n",
        // Empty, comments only, directives.
        "",
        "# nothing\n",
        "%YAML 1.2\n---\n...\n",
        // Not Kubernetes, no service map.
        "type: LoadBalancer\n",
        // Boolean annotation true counts as internal.
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  annotations:\n    service.beta.kubernetes.io/azure-load-balancer-internal: true\nspec:\n  type: LoadBalancer\n",
        // Quoted keys, CRLF line ends.
        "apiVersion: v1\r\nkind: Service\r\nmetadata:\r\n  \"name\": q\r\nspec:\r\n  'type': \"LoadBalancer\"\r\n",
    ];
    let ids: Vec<FileId> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| sources.add_named(&format!("m{i}.yaml"), *t))
        .collect();
    let m = k8s::load(&sources, &ids);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    let got: Vec<_> = m
        .public_inbound
        .iter()
        .map(|p| (p.decl.span.file.0, sources.slice(&p.decl.span).to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "LoadBalancer".to_string()),
            (6, "'type': \"LoadBalancer\"".to_string()),
        ]
    );
}

#[test]
fn hostile_input_never_panics() {
    let mut sources = Sources::new();
    let mut texts = vec![
        "a: &a [*a]\n".to_string(),
        "a: *nope\n".to_string(),
        format!("{}1{}\n", "[".repeat(10_000), "]".repeat(10_000)),
        format!("{}x: 1\n", "- ".repeat(5_000)),
        "apiVersion: v1\nkind: Service\nspec: [1, 2]\n".to_string(),
        "apiVersion: v1\nkind: List\nitems: 3\n".to_string(),
        "apiVersion: v1\nkind: Service\nmetadata: 7\nspec:\n  type: LoadBalancer\n".to_string(),
        "{{ }}}}{{\n---\n{{".to_string(),
        "\u{feff}apiVersion: v1\nkind: Service\n".to_string(),
        "--- |\n  text\n--- >\n".to_string(),
        "key: \"unterminated\n".to_string(),
        "\t- tab\n".to_string(),
        "service:\n  type: LoadBalancer\n  annotations: 5\n".to_string(),
    ];
    // Billion laughs: aliases that expand exponentially.
    let mut laughs = String::from("a0: &a0 [x, x]\n");
    for i in 1..30 {
        laughs.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}]\n", p = i - 1));
    }
    texts.push(laughs);
    let ids: Vec<FileId> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| sources.add_named(&format!("h{i}.yaml"), t.clone()))
        .collect();
    let m = k8s::load(&sources, &ids);
    // The Service with `metadata: 7` is still a public LB.
    assert!(m.public_inbound.iter().any(|p| p.decl.span.file == ids[6]));
    for f in &m.findings {
        assert_eq!(f.code, Code::AEL000);
        let span = &f.primary().span;
        assert!(span.range.end <= sources.text(span.file).len());
    }
}

#[test]
fn helm_environment_values_override_the_chart_defaults() {
    let (s, m) = load(&[
        "testdata/k8s-helm-env-override/values.yaml",
        "testdata/k8s-helm-env-override/env/prod/values.yaml",
    ]);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    let got: Vec<_> = m
        .public_inbound
        .iter()
        .map(|p| (p.decl.label.clone(), at(&s, &p.decl.span)))
        .collect();
    assert_eq!(
        got,
        vec![(
            "Helm value `api.service.type`".to_string(),
            (11, 5, 11, 23, "type: LoadBalancer".to_string())
        )]
    );
    // Without the override, all three are public.
    let (_, m) = load(&["testdata/k8s-helm-env-override/values.yaml"]);
    assert_eq!(m.public_inbound.len(), 3);
}

#[test]
fn kustomize_patch_overrides_the_base_service() {
    let (s, m) = load(&[
        "testdata/k8s-kustomize-override/base/service.yaml",
        "testdata/k8s-kustomize-override/overlays/prod/internal-patch.yaml",
    ]);
    assert!(m.findings.is_empty(), "{:?}", m.findings);
    let got: Vec<_> = m
        .public_inbound
        .iter()
        .map(|p| (p.decl.label.clone(), at(&s, &p.decl.span)))
        .collect();
    assert_eq!(
        got,
        vec![(
            "Service `admin`".to_string(),
            (17, 3, 17, 21, "type: LoadBalancer".to_string())
        )]
    );
    let (_, m) = load(&["testdata/k8s-kustomize-override/base/service.yaml"]);
    assert_eq!(m.public_inbound.len(), 2);
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Fragments that make YAML and templates interesting when shuffled.
    const PIECES: &[&str] = &[
        "apiVersion: v1\n",
        "kind: Service\n",
        "kind: List\n",
        "items:\n",
        "  - ",
        "metadata:\n",
        "  name: web\n",
        "  annotations:\n",
        "    service.beta.kubernetes.io/azure-load-balancer-internal: \"true\"\n",
        "spec:\n",
        "  type: LoadBalancer\n",
        "type: LoadBalancer\n",
        "service:\n",
        "serviceType: LoadBalancer\n",
        "---\n",
        "...\n",
        "{{ .Values.x }}",
        "{{- if .x }}\n",
        "}}",
        "{{",
        "[",
        "]",
        "{",
        "}",
        ": ",
        "- ",
        "&a ",
        "*a ",
        "!tag ",
        "\"",
        "'",
        "#",
        "\t",
        "\r\n",
        "\n",
        "  ",
        "é",
        "\u{feff}",
        "|\n",
        ">-\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn never_panics(picks in proptest::collection::vec(0..PIECES.len(), 0..40), in_templates: bool) {
            let text: String = picks.iter().map(|&i| PIECES[i]).collect();
            let mut sources = Sources::new();
            let name = if in_templates { "chart/templates/x.yaml" } else { "x.yaml" };
            let id = sources.add_named(name, text.clone());
            let m = k8s::load(&sources, &[id]);
            for f in &m.findings {
                prop_assert!(f.primary().span.range.end <= text.len());
            }
            for p in &m.public_inbound {
                prop_assert!(p.decl.span.range.end <= text.len());
                prop_assert!(text.is_char_boundary(p.decl.span.range.start));
                prop_assert!(text.is_char_boundary(p.decl.span.range.end));
            }
        }
    }
}

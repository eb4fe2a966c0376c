//! Kubernetes frontend: reads manifests and Helm values for one thing that
//! matters to egress: public inbound load balancers. A `Service` of type
//! `LoadBalancer` without the Azure internal annotation takes traffic on a
//! public IP; with a default route through a firewall its replies are routed
//! asymmetrically (AEL006).
//!
//! - Manifests (`apiVersion` + `kind`, several documents per file, `List`
//!   objects): every public `LoadBalancer` Service. Invalid YAML is an AEL000
//!   finding at the error's line and column.
//! - Helm values (YAML without `apiVersion`/`kind`): a `service` map with
//!   `type: LoadBalancer` (ingress-nginx `controller.service`, most charts'
//!   `service`), unless annotated internal or disabled.
//! - Helm templates (documents with `{{ }}` under `templates/`, or that
//!   `{{ }}` makes invalid YAML elsewhere): read when the document is plain
//!   YAML once `{{ }}` values are blanked and no template line can add
//!   annotations; skipped quietly otherwise, never a parse error.
//!
//! `yaml_serde` gives no positions, so spans come from a small indentation
//! scanner over the document's text ([`locate`]). The span of each
//! [`PublicInbound`] is the `type: LoadBalancer` line, the evidence a finding
//! points at; `decl.name` is the span of `metadata.name`.

use crate::finding::{Code, Finding};
use crate::model::{Decl, Model, PublicInbound};
use crate::source::{FileId, Sources, Span, Spanned, normalize};
use serde_yaml::Value;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The annotation that makes an Azure load balancer internal.
pub const INTERNAL_ANNOTATION: &str = "service.beta.kubernetes.io/azure-load-balancer-internal";

/// Deepest nesting walked in Helm values.
const MAX_DEPTH: usize = 64;

/// Read every file; never fails, never panics on input.
pub fn load(sources: &Sources, files: &[FileId]) -> Model {
    let mut r = Reader::default();
    for &file in files {
        load_file(sources, file, &mut r);
    }
    let Reader {
        mut model,
        found,
        overrides,
    } = r;
    model.public_inbound = found
        .into_iter()
        .filter(|(key, _)| !overrides.iter().any(|o| o.overrides(key)))
        .map(|(_, p)| p)
        .collect();
    model
}

/// What a scan collects: public load balancers with the key another file can
/// override them by, and the overrides seen. A Service found public in one
/// file and made internal (or another type) by a kustomize patch or an
/// environment's Helm values in another is not reported: the tool cannot tell
/// which wins, and never raises a false alarm.
#[derive(Default)]
struct Reader {
    model: Model,
    found: Vec<(Key, PublicInbound)>,
    overrides: Vec<Key>,
}

#[derive(Clone, Debug, PartialEq)]
enum Key {
    /// A Service by name, from the file it is in.
    Service { file: FileId, name: String },
    /// A Helm values path (`controller.service.type`; `owner.*` for every
    /// flattened type of a map), from the folder of the file.
    Value { dir: PathBuf, path: String },
}

impl Key {
    /// Whether this override, seen somewhere, cancels `found`.
    fn overrides(&self, found: &Key) -> bool {
        match (self, found) {
            (Key::Service { file: a, name: n }, Key::Service { file: b, name: m }) => {
                a != b && n == m
            }
            (Key::Value { dir: d, path: p }, Key::Value { dir: e, path: q }) => {
                // Same chart folder, or one inside the other (env overrides).
                let related = d.starts_with(e) || e.starts_with(d);
                let owner_all = p
                    .strip_suffix(".*")
                    .is_some_and(|o| q.rsplit_once('.').is_some_and(|(qo, _)| qo == o));
                related && (p == q || owner_all)
            }
            _ => false,
        }
    }
}

fn load_file(sources: &Sources, file: FileId, r: &mut Reader) {
    let src = sources.get(file);
    let text = src.text.as_str();
    let in_templates = is_helm_template(&src.path);
    let dir = src.path.parent().map(normalize).unwrap_or_default();
    for doc in documents(text) {
        let body = &text[doc.clone()];
        let templated = body.contains("{{");
        if in_templates && templated {
            read_template(file, text, doc, r);
            continue;
        }
        match serde_yaml::from_str::<Value>(body) {
            Ok(v) => read_document(file, &dir, text, doc, &v, r),
            // Go templates outside `templates/` (other chart layouts,
            // kustomize-less generators): read what blanking makes plain.
            Err(_) if templated => read_template(file, text, doc, r),
            Err(_) if in_templates => {}
            Err(e) => r.model.findings.push(parse_error(file, text, doc, &e)),
        }
    }
}

/// A chart's `templates/` folder holds Go templates, not YAML.
fn is_helm_template(path: &std::path::Path) -> bool {
    path.components()
        .any(|c| c.as_os_str().eq_ignore_ascii_case("templates"))
}

fn parse_error(file: FileId, text: &str, doc: Range<usize>, e: &serde_yaml::Error) -> Finding {
    let at = e
        .location()
        .map(|l| doc.start + l.index())
        .unwrap_or(doc.start)
        .min(text.len());
    // Never split a character, whatever the parser counted.
    let at = (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    // One character wide, or empty at the end of the file.
    let end = text[at..]
        .chars()
        .next()
        .map(|c| at + c.len_utf8())
        .unwrap_or(at);
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    Finding::new(
        Code::AEL000,
        format!("invalid YAML in Kubernetes manifest: {msg}"),
        Span::new(file, at..end),
        "YAML parse error here",
    )
}

/// Byte ranges of the YAML documents of a file: split at `---` and `...`
/// lines, which always start a document at column 0.
fn documents(text: &str) -> Vec<Range<usize>> {
    let mut docs = vec![];
    // A byte-order mark is not content (the parser would see two documents).
    let mut start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut offset = start;
    for line in text[start..].split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker = |m: &str| {
            bare.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        };
        if marker("---") || marker("...") {
            docs.push(start..offset);
            // Content after `--- ` on the same line belongs to the next document.
            start = offset + 3;
        }
        offset += line.len();
    }
    docs.push(start..text.len());
    docs.retain(|d| has_content(&text[d.clone()]));
    docs
}

/// A document with something besides comments, blank lines and directives.
fn has_content(s: &str) -> bool {
    s.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && !l.starts_with('%')
    })
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn read_document(
    file: FileId,
    dir: &Path,
    text: &str,
    doc: Range<usize>,
    v: &Value,
    r: &mut Reader,
) {
    let is_manifest = v.get("apiVersion").is_some() && v.get("kind").is_some();
    if !is_manifest {
        read_values(file, dir, text, doc, v, r);
        return;
    }
    match str_of(v, "kind") {
        Some("Service") => read_service(file, text, doc, v, None, r),
        // `kubectl get -o yaml` wraps objects in a List.
        Some(k) if k.ends_with("List") => {
            let items = v.get("items").and_then(Value::as_sequence);
            let services = items
                .into_iter()
                .flatten()
                .filter(|i| str_of(i, "kind") == Some("Service"));
            let mut nth = 0;
            for item in services {
                let lb = item.get("spec").and_then(|s| str_of(s, "type")) == Some("LoadBalancer");
                read_service(file, text, doc.clone(), item, Some(nth), r);
                nth += usize::from(lb);
            }
        }
        _ => {}
    }
}

/// A core `v1` Service: public load balancer, or a patch that overrides one.
fn read_service(
    file: FileId,
    text: &str,
    doc: Range<usize>,
    v: &Value,
    in_list: Option<usize>,
    r: &mut Reader,
) {
    // Knative and others also have a `kind: Service`.
    if str_of(v, "apiVersion") != Some("v1") {
        return;
    }
    let name = v
        .get("metadata")
        .and_then(|m| str_of(m, "name"))
        .unwrap_or("")
        .to_string();
    if let Some(p) = service(file, text, doc, v, in_list) {
        r.found.push((Key::Service { file, name }, p));
        return;
    }
    // A kustomize patch (no ports) that makes a Service internal or changes
    // its type.
    let spec = v.get("spec");
    let is_patch = spec.and_then(|s| s.get("ports")).is_none();
    let internal = is_internal(v.get("metadata").and_then(|m| m.get("annotations")));
    let other_type = spec
        .and_then(|s| str_of(s, "type"))
        .is_some_and(|t| t != "LoadBalancer");
    if is_patch && !name.is_empty() && (internal || other_type) {
        r.overrides.push(Key::Service { file, name });
    }
}

fn is_internal(annotations: Option<&Value>) -> bool {
    match annotations.and_then(|a| a.get(INTERNAL_ANNOTATION)) {
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        Some(Value::Bool(b)) => *b,
        _ => false,
    }
}

/// A public LoadBalancer Service, if `v` is one. `in_list`: which
/// LoadBalancer Service of a `List` document it is, to find its text.
fn service(
    file: FileId,
    text: &str,
    doc: Range<usize>,
    v: &Value,
    in_list: Option<usize>,
) -> Option<PublicInbound> {
    let spec = v.get("spec")?;
    if str_of(spec, "type") != Some("LoadBalancer") {
        return None;
    }
    let metadata = v.get("metadata");
    if is_internal(metadata.and_then(|m| m.get("annotations"))) {
        return None;
    }
    let name = metadata.and_then(|m| str_of(m, "name")).unwrap_or("");
    let namespace = metadata.and_then(|m| str_of(m, "namespace"));
    let body = &text[doc.clone()];
    let (type_span, name_span) = match in_list {
        None => (
            locate(body, &["spec", "type"]),
            locate_value(body, &["metadata", "name"]),
        ),
        Some(_) => (None, None),
    };
    // In a List, or if the path scan fails (flow style), find the nth
    // `type: LoadBalancer` of the document.
    let type_span = type_span
        .or_else(|| find_scalar_line(body, "type", "LoadBalancer", in_list.unwrap_or(0)))
        .or_else(|| find_word(body, "LoadBalancer", in_list.unwrap_or(0)))
        .map(|r| shift(r, doc.start))
        .unwrap_or_else(|| doc.clone());
    let name_span = name_span.map(|r| shift(r, doc.start));
    let full = match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    };
    Some(PublicInbound {
        decl: Decl {
            keys: vec![],
            name: name_span.map(|r| Spanned::new(name.to_string(), Span::new(file, r))),
            span: Span::new(file, type_span),
            label: format!("Service `{full}`"),
            condition: None,
        },
        description: format!(
            "Service `{full}` of type LoadBalancer without the internal annotation"
        ),
    })
}

fn shift(r: Range<usize>, by: usize) -> Range<usize> {
    r.start + by..r.end + by
}

// ---------------------------------------------------------------------------
// Helm values

fn read_values(file: FileId, dir: &Path, text: &str, doc: Range<usize>, v: &Value, r: &mut Reader) {
    let mut found = vec![];
    let mut overrides = vec![];
    walk_values(v, &mut vec![], 0, &mut found, &mut overrides);
    r.overrides
        .extend(overrides.into_iter().map(|path| Key::Value {
            dir: dir.to_path_buf(),
            path,
        }));
    let body = &text[doc.clone()];
    for type_path in found {
        let full: Vec<&str> = type_path.iter().map(String::as_str).collect();
        let dotted = full.join(".");
        let span = locate(body, &full)
            .map(|r| shift(r, doc.start))
            .unwrap_or_else(|| doc.clone());
        let owner = &full[..full.len().saturating_sub(1)];
        let name = locate(body, owner).map(|r| {
            let r = shift(r, doc.start);
            Spanned::new(owner.join("."), Span::new(file, r))
        });
        let p = PublicInbound {
            decl: Decl {
                keys: vec![],
                name,
                span: Span::new(file, span),
                label: format!("Helm value `{dotted}`"),
                condition: None,
            },
            description: format!(
                "Helm value `{dotted}` asks for a LoadBalancer without the internal annotation"
            ),
        };
        let key = Key::Value {
            dir: dir.to_path_buf(),
            path: dotted,
        };
        r.found.push((key, p));
    }
}

/// Collect the key paths of values that ask for a public load balancer
/// (`<...service>.type` maps and `<...>.serviceType` keys) into `found`, and
/// the paths a values file makes internal, disabled or another type into
/// `overrides` (`owner.*`: every flattened type of that map).
fn walk_values(
    v: &Value,
    path: &mut Vec<String>,
    depth: usize,
    found: &mut Vec<Vec<String>>,
    overrides: &mut Vec<String>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(map) = v.as_mapping() else {
        return;
    };
    let dotted = |extra: &str| {
        let mut p = path.clone();
        p.push(extra.to_string());
        p
    };
    let here_is_service = path
        .last()
        .is_some_and(|k| k.to_ascii_lowercase().contains("service"));
    if here_is_service {
        if public_lb_values(v) {
            found.push(dotted("type"));
        } else if str_of(v, "type").is_some_and(|t| t != "LoadBalancer")
            || is_internal(v.get("annotations"))
            || disabled(Some(v))
            || disabled(v.get("external"))
        {
            overrides.push(dotted("type").join("."));
        }
    }
    // Charts that flatten the service: `serviceType: LoadBalancer` next to
    // `serviceAnnotations: {...}`.
    let internal = flat_internal(v);
    if internal {
        overrides.push(dotted("*").join("."));
    }
    for (k, child) in map {
        let Some(k) = k.as_str() else {
            continue;
        };
        let lower = k.to_ascii_lowercase();
        if !(lower.contains("service") && lower.ends_with("type") && lower != "type") {
            continue;
        }
        match child.as_str() {
            Some("LoadBalancer") if !internal => found.push(dotted(k)),
            Some(t) if t != "LoadBalancer" => overrides.push(dotted(k).join(".")),
            _ => {}
        }
    }
    for (k, child) in map {
        let Some(k) = k.as_str() else {
            continue;
        };
        path.push(k.to_string());
        walk_values(child, path, depth + 1, found, overrides);
        path.pop();
    }
}

fn disabled(m: Option<&Value>) -> bool {
    m.and_then(|m| m.get("enabled"))
        .is_some_and(|e| matches!(e, Value::Bool(false)))
}

/// A map with a flattened service type: internal when one of its
/// `*annotations` maps says so, or disabled.
fn flat_internal(map: &Value) -> bool {
    let Some(m) = map.as_mapping() else {
        return false;
    };
    let annotated = m.iter().any(|(k, v)| {
        k.as_str()
            .is_some_and(|k| k.to_ascii_lowercase().contains("annotations"))
            && is_internal(Some(v))
    });
    annotated || matches!(map.get("enabled"), Some(Value::Bool(false)))
}

/// A values `service` map that makes a public load balancer.
fn public_lb_values(svc: &Value) -> bool {
    str_of(svc, "type") == Some("LoadBalancer")
        && !disabled(Some(svc))
        // ingress-nginx: `external.enabled: false` leaves only the internal one.
        && !disabled(svc.get("external"))
        && !is_internal(svc.get("annotations"))
}

// ---------------------------------------------------------------------------
// Helm templates

/// A template document: blank `{{ }}` values and read it if that leaves plain
/// YAML and no template line could add annotations or change the type.
fn read_template(file: FileId, text: &str, doc: Range<usize>, r: &mut Reader) {
    let body = &text[doc.clone()];
    let mut blanked = String::with_capacity(body.len());
    for line in body.split_inclusive('\n') {
        if line.trim_start().starts_with("{{") {
            // A control or include line (`{{- with .Values.annotations }}`,
            // `{{- toYaml . | nindent 4 }}`) may add anything: give up.
            return;
        }
        blanked.push_str(&blank_actions(line));
    }
    // Same length as `body`, so positions found in it hold for the original.
    debug_assert_eq!(blanked.len(), body.len());
    let Ok(v) = serde_yaml::from_str::<Value>(&blanked) else {
        return;
    };
    if str_of(&v, "apiVersion") != Some("v1") || str_of(&v, "kind") != Some("Service") {
        return;
    }
    let Some(mut p) = service(
        file,
        &blanked_text(text, &doc, &blanked),
        doc.clone(),
        &v,
        None,
    ) else {
        return;
    };
    // Name the Service as the template writes it (`{{ .Release.Name }}-web`).
    let body = &text[doc.clone()];
    let written = |key: &str| {
        locate_value(body, &["metadata", key])
            .and_then(|r| body.get(r))
            .map(|w| w.trim_matches(['"', '\'']).to_string())
    };
    if let Some(name) = written("name").filter(|n| n.contains("{{")) {
        let full = match written("namespace") {
            Some(ns) => format!("{ns}/{name}"),
            None => name.clone(),
        };
        p.decl.label = format!("Service `{full}`");
        p.description =
            format!("Service `{full}` of type LoadBalancer without the internal annotation");
        if let Some(n) = &mut p.decl.name {
            n.value = name;
        }
    }
    let key = Key::Service {
        file,
        name: p
            .decl
            .name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_default(),
    };
    r.found.push((key, p));
}

/// `text` with the document replaced by its blanked form (same length).
fn blanked_text(text: &str, doc: &Range<usize>, blanked: &str) -> String {
    let mut s = String::with_capacity(text.len());
    s.push_str(&text[..doc.start]);
    s.push_str(blanked);
    s.push_str(&text[doc.end..]);
    s
}

/// Replace each `{{ ... }}` by `x` padded with spaces to the same byte length,
/// so that `name: {{ .Release.Name }}` stays a plain scalar.
fn blank_actions(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(j) = after.find("}}") else {
            // Unclosed: blank to the end of the line, keeping the newline.
            let keep_nl = after.ends_with('\n');
            let n = after.len() - usize::from(keep_nl);
            out.push('x');
            out.push_str(&" ".repeat(n.saturating_sub(1)));
            if keep_nl {
                out.push('\n');
            }
            return out;
        };
        let n = j + 2;
        out.push('x');
        out.push_str(&" ".repeat(n - 1));
        rest = &after[n..];
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------
// Positions in block YAML

/// Byte range of the `key: value` line at `path` in a block-style YAML
/// document, from the key to the end of the value (comments excluded).
/// `None` for flow style or anything the scan cannot follow.
pub fn locate(doc: &str, path: &[&str]) -> Option<Range<usize>> {
    locate_entry(doc, path).map(|(line, _)| line)
}

/// Byte range of the value alone at `path` (empty at the key's end when the
/// value is on the next lines).
pub fn locate_value(doc: &str, path: &[&str]) -> Option<Range<usize>> {
    locate_entry(doc, path).map(|(_, value)| value)
}

fn locate_entry(doc: &str, path: &[&str]) -> Option<(Range<usize>, Range<usize>)> {
    if path.is_empty() {
        return None;
    }
    // (indent, key) of the enclosing keys.
    let mut stack: Vec<(usize, String)> = vec![];
    let mut offset = 0;
    for line in doc.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let bare = line.trim_end_matches(['\n', '\r']);
        let trimmed = bare.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut indent = bare.len() - trimmed.len();
        let mut content = trimmed;
        // `- key: v` opens a mapping inside a sequence item.
        while let Some(rest) = content.strip_prefix("- ") {
            let rest_trim = rest.trim_start_matches(' ');
            indent += content.len() - rest_trim.len();
            content = rest_trim;
        }
        let Some((key, value_at)) = split_key(content) else {
            continue;
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key.to_string()));
        if stack.len() == path.len() && stack.iter().zip(path).all(|((_, k), p)| k == p) {
            let key_start = line_start + (bare.len() - content.len());
            let value = strip_comment(&content[value_at..]);
            let end = line_start + (bare.len() - content.len()) + value_at + value.len();
            let value_start = end - value.len();
            let end = if value.is_empty() {
                key_start + key_len(content)
            } else {
                end
            };
            return Some((key_start..end, value_start..end.max(value_start)));
        }
    }
    None
}

/// Split `key: value` into the key and the byte index where the value starts
/// (after `: `). Keys may be quoted.
fn split_key(content: &str) -> Option<(&str, usize)> {
    let (key, after_key) = if let Some(q @ ('"' | '\'')) = content.chars().next() {
        let close = content[1..].find(q)? + 1;
        (&content[1..close], close + 1)
    } else {
        let colon = find_key_colon(content)?;
        (content[..colon].trim_end(), colon)
    };
    let rest = &content[after_key..];
    let rest = rest.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let value_at = after_key + 1 + (rest.len() - rest.trim_start().len());
    Some((key, value_at))
}

/// Index of the `:` that ends a plain key (followed by a space or the end).
fn find_key_colon(content: &str) -> Option<usize> {
    let b = content.as_bytes();
    (0..b.len())
        .find(|&i| b[i] == b':' && (i + 1 == b.len() || b[i + 1] == b' ' || b[i + 1] == b'\t'))
}

fn key_len(content: &str) -> usize {
    split_key(content)
        .map(|(_, v)| content[..v].trim_end().len())
        .unwrap_or(content.len())
}

/// A value without its trailing `# comment` (outside quotes) and spaces.
fn strip_comment(v: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev_space = true;
    for (i, c) in v.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if i == 0 => quote = Some(c),
            (None, '#') if prev_space => return v[..i].trim_end(),
            _ => {}
        }
        prev_space = c == ' ' || c == '\t';
    }
    v.trim_end()
}

/// The `nth` line of a document that reads `key: value` (any indentation,
/// optionally quoted value), as a range from key to value.
fn find_scalar_line(doc: &str, key: &str, value: &str, nth: usize) -> Option<Range<usize>> {
    let mut offset = 0;
    let mut seen = 0;
    for line in doc.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let bare = line.trim_end_matches(['\n', '\r']);
        let trimmed = bare.trim_start_matches([' ', '-']);
        let Some((k, at)) = split_key(trimmed) else {
            continue;
        };
        let v = strip_comment(&trimmed[at..]).trim_matches(['"', '\'']);
        if k == key && v == value {
            if seen == nth {
                let key_start = start + (bare.len() - trimmed.len());
                let end =
                    start + (bare.len() - trimmed.len()) + at + strip_comment(&trimmed[at..]).len();
                return Some(key_start..end);
            }
            seen += 1;
        }
    }
    None
}

/// The `nth` occurrence of `word` outside comment lines (flow style:
/// `spec: {type: LoadBalancer}`).
fn find_word(doc: &str, word: &str, nth: usize) -> Option<Range<usize>> {
    let mut offset = 0;
    let mut seen = 0;
    for line in doc.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if line.trim_start().starts_with('#') {
            continue;
        }
        for (i, _) in line.match_indices(word) {
            if seen == nth {
                return Some(start + i..start + i + word.len());
            }
            seen += 1;
        }
    }
    None
}

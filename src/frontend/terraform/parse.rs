//! Parsing `.tf` files with hcl-edit (which keeps byte spans) and indexing a
//! module folder's top-level blocks.

use crate::finding::{Code, Finding};
use crate::source::{FileId, Sources, Span};
use hcl_edit::Span as _;
use hcl_edit::structure::{Attribute, Block, Body};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A top-level block: index of the file in [`ModSrc::files`] and of the block
/// in that file's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BRef {
    pub file: usize,
    pub idx: usize,
}

#[derive(Debug)]
pub struct ResDecl {
    /// `managed` or `data`.
    pub data: bool,
    pub rtype: String,
    pub name: String,
    pub at: BRef,
}

impl ResDecl {
    /// `azurerm_subnet.nodes` or `data.azurerm_subnet.nodes`.
    pub fn addr(&self) -> String {
        if self.data {
            format!("data.{}.{}", self.rtype, self.name)
        } else {
            format!("{}.{}", self.rtype, self.name)
        }
    }
}

/// One module folder, parsed.
#[derive(Debug, Default)]
pub struct ModSrc {
    pub dir: PathBuf,
    pub files: Vec<(FileId, Body)>,
    pub tfvars: Vec<FileId>,
    pub vars: BTreeMap<String, BRef>,
    /// `locals` attributes: (file index, block index, attribute key).
    pub locals: BTreeMap<String, (usize, usize)>,
    pub resources: Vec<ResDecl>,
    pub res_index: BTreeMap<String, usize>,
    pub calls: BTreeMap<String, BRef>,
    pub outputs: BTreeMap<String, BRef>,
}

impl ModSrc {
    pub fn block(&self, r: BRef) -> Option<&Block> {
        self.files
            .get(r.file)?
            .1
            .get(r.idx)
            .and_then(|s| s.as_block())
    }

    pub fn file_id(&self, r: BRef) -> FileId {
        self.files.get(r.file).map(|f| f.0).unwrap_or_default()
    }

    pub fn local(&self, name: &str) -> Option<(FileId, &Attribute)> {
        let &(f, b) = self.locals.get(name)?;
        let (fid, body) = self.files.get(f)?;
        let block = body.get(b)?.as_block()?;
        Some((*fid, block.body.get_attribute(name)?))
    }
}

pub fn span_of(file: FileId, r: Option<std::ops::Range<usize>>) -> Span {
    Span::new(file, r.unwrap_or(0..0))
}

/// Parse every `.tf` file of a module; files that do not parse give an
/// AEL000 finding and are left out.
pub fn parse_module(
    sources: &Sources,
    dir: PathBuf,
    files: &[FileId],
    tfvars: &[FileId],
    max_size: u64,
    findings: &mut Vec<Finding>,
) -> ModSrc {
    let mut m = ModSrc {
        dir,
        tfvars: tfvars.to_vec(),
        ..ModSrc::default()
    };
    for &fid in files {
        if let Some(body) = parse_file(sources, fid, max_size, findings) {
            m.files.push((fid, body));
        }
    }
    index(&mut m);
    m
}

pub fn parse_file(
    sources: &Sources,
    fid: FileId,
    max_size: u64,
    findings: &mut Vec<Finding>,
) -> Option<Body> {
    let text = sources.text(fid);
    if max_size > 0 && text.len() as u64 > max_size {
        findings.push(Finding::new(
            Code::AEL000,
            format!(
                "file is {} bytes, over the {max_size}-byte limit; it was not analysed",
                text.len()
            ),
            Span::new(fid, 0..0),
            "here",
        ));
        return None;
    }
    if text.contains('\0') {
        let at = text.find('\0').unwrap_or(0);
        findings.push(Finding::new(
            Code::AEL000,
            "file is not HCL text (it contains NUL bytes); it was not analysed",
            Span::new(fid, at..at),
            "binary content",
        ));
        return None;
    }
    match parse_body_lenient(text) {
        Ok(b) => Some(b),
        Err(e) => {
            let off = e.location().offset().min(text.len());
            let msg = e.message().lines().next().unwrap_or("invalid HCL").trim();
            findings.push(
                Finding::new(
                    Code::AEL000,
                    format!("HCL parse error: {msg}"),
                    Span::new(fid, off..off),
                    "here",
                )
                .help("fix the syntax; the other files of the module are still analysed"),
            );
            None
        }
    }
}

/// Most object-key repeats one file may hold before it is reported as unparsable.
const MAX_REPEATED_KEYS: usize = 256;

/// [`hcl_edit::parser::parse_body`], but accepting object constructors that
/// repeat a key. Terraform accepts them and keeps the later item
/// (hashicorp/terraform#28727: HCL relaxed the check for compatibility with
/// Terraform 0.11); hcl-edit rejects them. The repeated keys are renamed in a
/// copy of the text to unique names of the same byte length, so every span
/// still points into the original text, and the renames are then moved onto
/// the earlier items so the last one wins as in Terraform.
pub(crate) fn parse_body_lenient(text: &str) -> Result<Body, hcl_edit::parser::Error> {
    let mut err = match hcl_edit::parser::parse_body(text) {
        Ok(b) => return Ok(b),
        Err(e) => e,
    };
    let mut buf = text.as_bytes().to_vec();
    let mut renamed = 0usize;
    while renamed < MAX_REPEATED_KEYS && err.message().contains("redefined object key") {
        let Some(r) = key_name_range(&buf, err.location().offset()) else {
            break;
        };
        rename_key(&mut buf, r, renamed);
        renamed += 1;
        let Ok(copy) = std::str::from_utf8(&buf) else {
            break;
        };
        match hcl_edit::parser::parse_body(copy) {
            Ok(first_wins) => {
                return Ok(last_item_wins(text, &first_wins).unwrap_or(first_wins));
            }
            Err(e) => err = e,
        }
    }
    Err(err)
}

/// Byte range of the name of the object key starting at `at`: an identifier,
/// or the inside of a quoted string.
fn key_name_range(buf: &[u8], at: usize) -> Option<std::ops::Range<usize>> {
    let rest = buf.get(at..)?;
    if rest.first() == Some(&b'"') {
        let mut i = 1;
        while let Some(&c) = rest.get(i) {
            match c {
                b'\\' | b'$' | b'%' => return None,
                b'"' => return (i > 1).then(|| at + 1..at + i),
                _ => i += 1,
            }
        }
        return None;
    }
    let len = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
        .count();
    (len > 0).then(|| at..at + len)
}

/// Overwrites `buf[r]` with a name no configuration writes (`_`, then the
/// rename counter in base 36, left-padded with `_`).
fn rename_key(buf: &mut [u8], r: std::ops::Range<usize>, n: usize) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let Some(slot) = buf.get_mut(r) else { return };
    slot.fill(b'_');
    let mut n = n;
    for b in slot.iter_mut().skip(1).rev() {
        if let Some(&d) = DIGITS.get(n % 36) {
            *b = d;
        }
        n /= 36;
        if n == 0 {
            break;
        }
    }
}

/// Re-parses `text` with every repeated key but the last of each object
/// renamed, given a parse of the text in which the later repeats were renamed.
fn last_item_wins(text: &str, first_wins: &Body) -> Option<Body> {
    use hcl_edit::expr::Object;
    use hcl_edit::visit::{Visit, visit_object};
    struct Repeats<'t> {
        text: &'t str,
        earlier: Vec<std::ops::Range<usize>>,
    }
    impl Visit for Repeats<'_> {
        fn visit_object(&mut self, node: &Object) {
            // Key spans index the original text: the renamed keys read back
            // under their original names.
            let keys: Vec<(&str, std::ops::Range<usize>)> = node
                .iter()
                .filter_map(|(k, _)| {
                    let span = k.span()?;
                    let name = self.text.get(span.clone())?;
                    Some((name, span))
                })
                .collect();
            for (i, (name, span)) in keys.iter().enumerate() {
                if keys.iter().skip(i + 1).any(|(later, _)| later == name) {
                    self.earlier.push(span.clone());
                }
            }
            visit_object(self, node);
        }
    }
    let mut v = Repeats {
        text,
        earlier: Vec::new(),
    };
    v.visit_body(first_wins);
    let mut buf = text.as_bytes().to_vec();
    for (n, span) in v.earlier.into_iter().enumerate() {
        let r = key_name_range(&buf, span.start)?;
        rename_key(&mut buf, r, n);
    }
    hcl_edit::parser::parse_body(std::str::from_utf8(&buf).ok()?).ok()
}

fn label(b: &Block, i: usize) -> Option<&str> {
    b.labels.get(i).map(|l| l.as_str())
}

fn index(m: &mut ModSrc) {
    for (fi, (_, body)) in m.files.iter().enumerate() {
        for (bi, s) in body.iter().enumerate() {
            let Some(b) = s.as_block() else { continue };
            let at = BRef { file: fi, idx: bi };
            match b.ident.as_str() {
                "variable" => {
                    if let Some(n) = label(b, 0) {
                        m.vars.entry(n.to_string()).or_insert(at);
                    }
                }
                "locals" => {
                    for a in b.body.attributes() {
                        m.locals
                            .entry(a.key.as_str().to_string())
                            .or_insert((fi, bi));
                    }
                }
                "resource" | "data" => {
                    if let (Some(t), Some(n)) = (label(b, 0), label(b, 1)) {
                        let d = ResDecl {
                            data: b.ident.as_str() == "data",
                            rtype: t.to_string(),
                            name: n.to_string(),
                            at,
                        };
                        let addr = d.addr();
                        if !m.res_index.contains_key(&addr) {
                            m.res_index.insert(addr, m.resources.len());
                            m.resources.push(d);
                        }
                    }
                }
                "module" => {
                    if let Some(n) = label(b, 0) {
                        m.calls.entry(n.to_string()).or_insert(at);
                    }
                }
                "output" => {
                    if let Some(n) = label(b, 0) {
                        m.outputs.entry(n.to_string()).or_insert(at);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Span of a block (whole block).
pub fn block_span(file: FileId, b: &Block) -> Span {
    span_of(file, b.span())
}

#[cfg(test)]
mod lenient_tests {
    use super::parse_body_lenient;
    use hcl_edit::Span as _;
    use hcl_edit::expr::Expression;

    fn object_value(body: &hcl_edit::structure::Body, attr: &str) -> Vec<(String, String)> {
        let Some(a) = body.get_attribute(attr) else {
            panic!("no {attr}")
        };
        let Expression::Object(o) = &a.value else {
            panic!("not an object")
        };
        o.iter()
            .map(|(k, v)| {
                let key = match k {
                    hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                    hcl_edit::expr::ObjectKey::Expression(e) => e.to_string(),
                };
                (
                    key.trim().to_string(),
                    v.expr().to_string().trim().to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn repeated_object_keys_keep_the_last_item_and_the_spans() {
        let text = "x = {\n  a = 1\n  \"b\" = 2\n  a = 3\n  b = 4\n  \"b\" = 5\n  c = { d = 6, d = 7 }\n}\n";
        let body = parse_body_lenient(text).expect("parses");
        let items = object_value(&body, "x");
        let kept: Vec<_> = items
            .iter()
            .filter(|(k, _)| !k.starts_with('_') && !k.starts_with("\"_"))
            .cloned()
            .collect();
        assert_eq!(
            kept,
            [
                ("a".to_string(), "3".to_string()),
                ("b".to_string(), "4".to_string()),
                ("\"b\"".to_string(), "5".to_string()),
                ("c".to_string(), "{ _ = 6, d = 7 }".to_string()),
            ]
        );
        let a = body.get_attribute("x").expect("x");
        assert_eq!(a.value.span(), Some(4..text.len() - 1));
    }

    #[test]
    fn endless_repeats_and_real_errors_still_fail_at_their_place() {
        let many = format!("x = {{\n{}}}\n", "a = 1\n".repeat(400));
        assert!(parse_body_lenient(&many).is_err());
        let text = "x = {\n  a = 1\n  a = 2\n}\ny = = 3\n";
        let err = parse_body_lenient(text).expect_err("syntax error");
        assert_eq!(err.location().line(), 5);
    }
}

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
    match parse_lenient(text) {
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

/// Parse a body. Terraform accepts a key written twice in an object
/// constructor (the later one wins) where hcl-edit stops with "redefined
/// object key": each such duplicate is renamed in a copy of the text, to a
/// name of the same length so every span still points into the original, and
/// the text is parsed again.
pub(crate) fn parse_lenient(text: &str) -> Result<Body, hcl_edit::parser::Error> {
    let mut patched: Option<String> = None;
    // Each retry parses the whole text again: few for large files.
    let tries = if text.len() > 1 << 20 { 4 } else { 64 };
    for n in 0..tries {
        let cur = patched.as_deref().unwrap_or(text);
        match hcl_edit::parser::parse_body(cur) {
            Ok(b) => return Ok(b),
            Err(e) if e.message().contains("redefined object key") => {
                let off = e.location().offset();
                match rename_key_at(cur, off, n) {
                    Some(next) => patched = Some(next),
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    hcl_edit::parser::parse_body(patched.as_deref().unwrap_or(text))
}

/// Replace the identifier (or quoted key) at `off` by a unique name of the
/// same byte length.
fn rename_key_at(text: &str, off: usize, n: usize) -> Option<String> {
    let rest = text.get(off..)?;
    let (start, len) = if let Some(q) = rest.strip_prefix('"') {
        let end = q.find('"')?;
        (off + 1, end)
    } else {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        (off, end)
    };
    let tag = format!("_dup{n}_");
    if len < tag.len() {
        return None;
    }
    let name = format!("{tag}{}", "x".repeat(len - tag.len()));
    if text.contains(&name) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(text.get(..start)?);
    out.push_str(&name);
    out.push_str(text.get(start + len..)?);
    Some(out)
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

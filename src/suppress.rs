//! Inline suppressions, written next to the resource or rule that causes a
//! finding, each with a required reason:
//!
//! - a comment `aks-egress-lint: ignore[AEL001] reason` (codes or code names,
//!   comma-separated) in any comment form of the file: `#` and `//` and
//!   `/* */` in Terraform, `//` and `/* */` in Bicep and JSON with comments,
//!   `#` in YAML;
//! - in ARM JSON, a `metadata` entry on a resource or rule object:
//!   `"metadata": {"aks-egress-lint": {"ignore": [{"code": "AEL001", "reason": "…"}]}}`.
//!
//! A comment covers the findings whose primary location starts on its own
//! line (a trailing comment) or in the block or line that follows it (a
//! comment on a line of its own): up to the bracket that closes what that
//! line opens, or, in YAML, the lines indented below it. A `metadata` entry
//! covers the object that holds it.
//!
//! A suppression without a reason, with an unknown code or of an unknown
//! kind suppresses nothing and is reported; a suppression that matches no
//! finding is reported too, except in files that failed to parse.

use crate::finding::{Code, Finding, Severity};
use crate::source::{FileId, Sources, Span};
use std::ops::Range;

/// Code proposed for suppression problems (`unused-suppression`), appended
/// after AEL009. Until `Code` has it, they are reported as [`REPORT_CODE`].
pub const PROPOSED_CODE: &str = "AEL010";
pub const PROPOSED_NAME: &str = "unused-suppression";
/// The code suppression problems are reported under today.
pub const REPORT_CODE: Code = Code::AEL008;

const MARKER: &str = "aks-egress-lint:";
/// Deepest JSON nesting walked for `metadata` entries.
const MAX_DEPTH: usize = 256;
/// Suppressions honoured per file; far above any real file, and a bound on
/// the work a hostile one causes. The rest are reported, not applied.
pub const MAX_PER_FILE: usize = 1000;
/// Reports of invalid suppressions per file, for the same reason.
const MAX_INVALID_PER_FILE: usize = 100;

/// One suppression as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Suppression {
    /// The comment or `metadata` entry.
    pub span: Span,
    pub codes: Vec<Code>,
    pub reason: Option<String>,
    /// Byte range of the file whose findings it covers (by primary start).
    pub scope: Range<usize>,
}

/// A suppression that cannot apply, with why.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    pub span: Span,
    pub message: String,
}

/// Apply every suppression of every file: drop the findings they cover and
/// add findings for suppressions that are invalid or unused. The result is
/// not sorted: sort it with the rest.
pub fn apply(findings: Vec<Finding>, sources: &Sources) -> Vec<Finding> {
    let mut sups = vec![];
    let mut extra = vec![];
    for (id, _) in sources.iter() {
        let (s, bad) = scan(sources, id);
        sups.extend(s);
        for b in bad {
            extra.push(
                Finding::new(
                    REPORT_CODE,
                    format!("suppression does not apply: {}", b.message),
                    b.span,
                    "this suppression",
                )
                .help("write `aks-egress-lint: ignore[AEL001] why this is acceptable`"),
            );
        }
    }
    for f in &mut extra {
        f.severity = Severity::Warning;
    }
    // used[i][j]: suppression i's code j matched a finding.
    let mut used: Vec<Vec<bool>> = sups.iter().map(|s| vec![false; s.codes.len()]).collect();
    let mut by_file: std::collections::HashMap<FileId, Vec<usize>> = Default::default();
    for (i, s) in sups.iter().enumerate() {
        by_file.entry(s.span.file).or_default().push(i);
    }
    let mut kept = Vec::with_capacity(findings.len());
    for f in findings {
        let p = &f.primary().span;
        let mut hit = false;
        for &i in by_file.get(&p.file).map(Vec::as_slice).unwrap_or(&[]) {
            let Some(s) = sups.get(i) else { continue };
            if !s.scope.contains(&p.range.start) {
                continue;
            }
            if let Some(j) = s.codes.iter().position(|c| *c == f.code) {
                if let Some(u) = used.get_mut(i).and_then(|u| u.get_mut(j)) {
                    *u = true;
                }
                hit = true;
            }
        }
        if !hit {
            kept.push(f);
        }
    }
    // A file that failed to parse produced no findings to match.
    let broken: Vec<FileId> = kept
        .iter()
        .filter(|f| f.code == Code::AEL000)
        .map(|f| f.primary().span.file)
        .collect();
    for (s, u) in sups.iter().zip(&used) {
        if broken.contains(&s.span.file) {
            continue;
        }
        let unused: Vec<&str> = s
            .codes
            .iter()
            .zip(u)
            .filter(|(_, used)| !**used)
            .map(|(c, _)| c.as_str())
            .collect();
        if unused.is_empty() {
            continue;
        }
        let mut f = Finding::new(
            REPORT_CODE,
            format!(
                "unused suppression: no {} finding here to ignore",
                unused.join(", ")
            ),
            s.span.clone(),
            "suppresses nothing",
        )
        .help("remove the suppression, or move it onto the line or block the finding points at");
        f.severity = Severity::Note;
        extra.push(f);
    }
    kept.extend(extra);
    kept
}

/// The suppressions of one file, and the ones that cannot apply.
pub fn scan(sources: &Sources, file: FileId) -> (Vec<Suppression>, Vec<Invalid>) {
    let text = sources.text(file);
    let mut sups = vec![];
    let mut bad = vec![];
    if !text.contains("aks-egress-lint") {
        return (sups, bad);
    }
    let lang = Lang::of(&sources.get(file).path.to_string_lossy());
    let index = Index::new(text, lang);
    for c in &index.comments {
        let body = text.get(c.body.clone()).unwrap_or("");
        let Some(directive) = body.trim_start().strip_prefix(MARKER) else {
            continue;
        };
        let span = Span::new(file, c.range.clone());
        match parse_directive(directive) {
            Ok((codes, reason)) => {
                let scope = index.scope(text, c.range.start);
                match reason {
                    Some(reason) => sups.push(Suppression {
                        span,
                        codes,
                        reason: Some(reason),
                        scope,
                    }),
                    None => bad.push(Invalid {
                        span,
                        message: "it gives no reason".into(),
                    }),
                }
            }
            Err(message) => bad.push(Invalid { span, message }),
        }
    }
    if lang == Lang::Json && text.contains("\"aks-egress-lint\"") {
        metadata(text, file, &mut sups, &mut bad);
    }
    if sups.len() > MAX_PER_FILE {
        let first_ignored = sups[MAX_PER_FILE].span.clone();
        bad.push(Invalid {
            span: first_ignored,
            message: format!(
                "the file has {} suppressions; only the first {MAX_PER_FILE} apply",
                sups.len()
            ),
        });
        sups.truncate(MAX_PER_FILE);
    }
    if bad.len() > MAX_INVALID_PER_FILE {
        let n = bad.len();
        bad.truncate(MAX_INVALID_PER_FILE);
        if let Some(last) = bad.last_mut() {
            last.message = format!(
                "{} (and {} more problems in this file)",
                last.message,
                n - MAX_INVALID_PER_FILE
            );
        }
    }
    (sups, bad)
}

/// `ignore[AEL001, AEL002] reason` → codes and reason.
fn parse_directive(d: &str) -> Result<(Vec<Code>, Option<String>), String> {
    let d = d.trim_start();
    let Some(rest) = d.strip_prefix("ignore[") else {
        let word: String = d.chars().take_while(|c| !c.is_whitespace()).collect();
        return Err(format!(
            "`{word}` is not a directive; write `aks-egress-lint: ignore[CODE] reason`"
        ));
    };
    let Some((list, reason)) = rest.split_once(']') else {
        return Err("`ignore[` is not closed by `]`".into());
    };
    let mut codes = vec![];
    for c in list.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        match Code::parse(c) {
            Some(code) => codes.push(code),
            None => return Err(format!("unknown code `{c}`")),
        }
    }
    if codes.is_empty() {
        return Err("`ignore[]` names no code".into());
    }
    let reason = reason
        .trim()
        .trim_start_matches([':', '-', '—'])
        .trim()
        .to_string();
    Ok((codes, (!reason.is_empty()).then_some(reason)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lang {
    /// Terraform / HCL: `#`, `//`, `/* */`; `"` strings.
    Hcl,
    /// Bicep: `//`, `/* */`; `'` and `'''` strings.
    Bicep,
    /// JSON with comments: `//`, `/* */`; `"` strings.
    Json,
    /// YAML: `#`; scope by indentation.
    Yaml,
}

impl Lang {
    fn of(path: &str) -> Lang {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".bicep") || lower.ends_with(".bicepparam") {
            Lang::Bicep
        } else if lower.ends_with(".json") || lower.ends_with(".jsonc") {
            Lang::Json
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Lang::Yaml
        } else {
            Lang::Hcl
        }
    }
}

struct Comment {
    /// The whole comment, opener included.
    range: Range<usize>,
    /// Its text, without `#`, `//`, `/*` and `*/`.
    body: Range<usize>,
}

/// What a lexer pass over the file sees at each byte: code, string or
/// comment. Linear, no recursion.
struct Lexer<'a> {
    b: &'a [u8],
    lang: Lang,
}

enum Tok {
    Comment(Comment),
    Open,
    Close,
    Newline,
}

impl<'a> Lexer<'a> {
    /// Walk from `i`, calling `f` for comments, brackets and newlines outside
    /// strings; `f` returns false to stop.
    fn walk(&self, mut i: usize, mut f: impl FnMut(usize, Tok) -> bool) {
        let b = self.b;
        let n = b.len();
        while i < n {
            let c = b[i];
            let next = b.get(i + 1).copied();
            let line_comment = (c == b'#' && matches!(self.lang, Lang::Hcl | Lang::Yaml))
                || (c == b'/' && next == Some(b'/') && self.lang != Lang::Yaml);
            // YAML: `#` starts a comment only at line start or after a space.
            let yaml_hash_ok =
                self.lang != Lang::Yaml || i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n');
            if line_comment && yaml_hash_ok {
                let end = b[i..].iter().position(|x| *x == b'\n').map_or(n, |p| i + p);
                let open = if c == b'#' { 1 } else { 2 };
                let body_end = if end > 0 && b[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                let tok = Tok::Comment(Comment {
                    range: i..body_end,
                    body: (i + open).min(body_end)..body_end,
                });
                if !f(i, tok) {
                    return;
                }
                i = end;
                continue;
            }
            if c == b'/' && next == Some(b'*') && self.lang != Lang::Yaml {
                let close = find(b, i + 2, b"*/");
                let end = close.map_or(n, |p| p + 2);
                let tok = Tok::Comment(Comment {
                    range: i..end,
                    body: i + 2..close.unwrap_or(n),
                });
                if !f(i, tok) {
                    return;
                }
                i = end;
                continue;
            }
            match (self.lang, c) {
                (Lang::Yaml, _) => {}
                (Lang::Bicep, b'\'') if b[i..].starts_with(b"'''") => {
                    i = find(b, i + 3, b"'''").map_or(n, |p| p + 3);
                    continue;
                }
                (Lang::Bicep, b'\'') | (Lang::Hcl | Lang::Json, b'"') => {
                    i = skip_string(b, i, c);
                    continue;
                }
                (Lang::Hcl, b'<') if b[i..].starts_with(b"<<") => {
                    if let Some(end) = skip_heredoc(b, i) {
                        i = end;
                        continue;
                    }
                }
                _ => {}
            }
            let tok = match c {
                b'{' | b'[' | b'(' if self.lang != Lang::Yaml => Some(Tok::Open),
                b'}' | b']' | b')' if self.lang != Lang::Yaml => Some(Tok::Close),
                _ => None,
            };
            if let Some(t) = tok {
                if !f(i, t) {
                    return;
                }
            }
            if c == b'\n' && !f(i, Tok::Newline) {
                return;
            }
            i += 1;
        }
    }
}

/// HCL heredoc `<<EOT` / `<<-EOT` starting at `i`: the index of the
/// newline that ends its closing line (the whole body is text), or `None`
/// when `<<` starts no heredoc.
fn skip_heredoc(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 2;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    let start = j;
    while b
        .get(j)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        j += 1;
    }
    let marker = b.get(start..j).filter(|m| !m.is_empty())?;
    // The marker ends its line; the body starts on the next one.
    let mut line = b[j..].iter().position(|c| *c == b'\n').map(|p| j + p + 1)?;
    while line < b.len() {
        let end = b[line..]
            .iter()
            .position(|c| *c == b'\n')
            .map_or(b.len(), |p| line + p);
        let text = &b[line..end];
        let trimmed = text.trim_ascii();
        if trimmed == marker {
            return Some(end);
        }
        line = end + 1;
    }
    Some(b.len())
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Index after the string starting at `i` (a string ends at its quote or,
/// unterminated, at the end of the line).
fn skip_string(b: &[u8], i: usize, quote: u8) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'\n' => return j,
            x if x == quote => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// What scopes are computed from, built in one pass over the file so that
/// any number of suppressions costs a lookup each, not a scan each.
struct Index {
    comments: Vec<Comment>,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    /// Per line: the next line (after it) that holds code.
    next_code: Vec<Option<usize>>,
    /// Per line: where the construct that starts on it ends (byte offset).
    block_end: Vec<usize>,
}

impl Index {
    fn new(text: &str, lang: Lang) -> Index {
        let b = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(
            b.iter()
                .enumerate()
                .filter(|(_, c)| **c == b'\n')
                .map(|(i, _)| i + 1),
        );
        let n_lines = line_starts.len();
        let line_of = |pos: usize| line_starts.partition_point(|s| *s <= pos).saturating_sub(1);
        let line_end = |l: usize| {
            line_starts
                .get(l + 1)
                .map_or(text.len(), |next| next.saturating_sub(1))
        };

        let mut comments = vec![];
        // Per line: furthest close bracket of what an open bracket on it opens.
        let mut reach: Vec<usize> = (0..n_lines).map(line_end).collect();
        let mut stack: Vec<usize> = vec![];
        Lexer { b, lang }.walk(0, |i, t| {
            match t {
                Tok::Comment(c) => comments.push(c),
                Tok::Open => stack.push(i),
                Tok::Close => {
                    if let Some(open) = stack.pop() {
                        if let Some(r) = reach.get_mut(line_of(open)) {
                            *r = (*r).max(i + 1);
                        }
                    }
                }
                Tok::Newline => {}
            }
            true
        });
        // Still open at the end of the file: the rest of it.
        for open in stack {
            if let Some(r) = reach.get_mut(line_of(open)) {
                *r = text.len();
            }
        }

        // A line holds code when some non-blank byte is outside comments.
        let mut is_code = vec![false; n_lines];
        let mut ci = 0;
        for (l, flag) in is_code.iter_mut().enumerate() {
            let (start, end) = (line_starts[l], line_end(l));
            let mut pos = start;
            while pos < end {
                while ci < comments.len() && comments[ci].range.end <= pos {
                    ci += 1;
                }
                if let Some(c) = comments.get(ci).filter(|c| c.range.start <= pos) {
                    pos = c.range.end;
                    continue;
                }
                if !b[pos].is_ascii_whitespace() {
                    *flag = true;
                    break;
                }
                pos += 1;
            }
        }
        let mut next_code = vec![None; n_lines];
        let mut next = None;
        for l in (0..n_lines).rev() {
            next_code[l] = next;
            if is_code[l] {
                next = Some(l);
            }
        }

        let block_end = if lang == Lang::Yaml {
            yaml_block_ends(text, &line_starts, &is_code, line_end)
        } else {
            reach
        };
        Index {
            comments,
            line_starts,
            next_code,
            block_end,
        }
    }

    fn line_of(&self, pos: usize) -> usize {
        self.line_starts
            .partition_point(|s| *s <= pos)
            .saturating_sub(1)
    }

    /// The bytes a comment at `at` covers: its own line, and the construct
    /// that starts on it (a trailing comment) or on the next line of code.
    fn scope(&self, text: &str, at: usize) -> Range<usize> {
        let line = self.line_of(at);
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let own_end = line_end_at(text, at);
        let before = text.get(start..at).unwrap_or("").trim();
        let target = if before.is_empty() {
            match self.next_code.get(line).copied().flatten() {
                Some(l) => l,
                None => return start..own_end,
            }
        } else {
            line
        };
        start..self.block_end_of(target).max(own_end)
    }

    fn block_end_of(&self, line: usize) -> usize {
        self.block_end.get(line).copied().unwrap_or(usize::MAX)
    }
}

fn line_end_at(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |p| at + p)
}

/// YAML: a code line's node ends at the last code line before the next code
/// line indented as much or less. One pass with a stack of open nodes.
fn yaml_block_ends(
    text: &str,
    line_starts: &[usize],
    is_code: &[bool],
    line_end: impl Fn(usize) -> usize,
) -> Vec<usize> {
    let mut ends: Vec<usize> = (0..line_starts.len()).map(&line_end).collect();
    let indent = |l: usize| {
        let line = text.get(line_starts[l]..line_end(l)).unwrap_or("");
        line.len() - line.trim_start().len()
    };
    let mut open: Vec<(usize, usize)> = vec![]; // (indent, line)
    let mut last_code_end = 0;
    for (l, _) in is_code.iter().enumerate().filter(|(_, code)| **code) {
        let i = indent(l);
        while let Some(&(oi, ol)) = open.last() {
            if oi < i {
                break;
            }
            ends[ol] = last_code_end.max(line_end(ol));
            open.pop();
        }
        open.push((i, l));
        last_code_end = line_end(l);
    }
    for (_, ol) in open {
        ends[ol] = last_code_end.max(line_end(ol));
    }
    ends
}

/// `metadata` entries of ARM JSON objects. ARM ignores `metadata` on a
/// resource ("effectively ignored by ARM", Azure/bicep#223); deeper objects
/// reach the resource provider, so the docs steer users to comments there,
/// but an entry is honoured on any object.
fn metadata(text: &str, file: FileId, sups: &mut Vec<Suppression>, bad: &mut Vec<Invalid>) {
    use jsonc_parser::ast::Value;
    let Ok(parsed) = jsonc_parser::parse_to_ast(
        text,
        &Default::default(),
        &jsonc_parser::ParseOptions::default(),
    ) else {
        return; // The frontend reports the parse error.
    };
    let Some(root) = parsed.value else {
        return;
    };
    let mut stack: Vec<(&Value, usize)> = vec![(&root, 0)];
    while let Some((v, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            continue;
        }
        match v {
            Value::Object(o) => {
                for p in &o.properties {
                    if p.name.as_str() == "metadata" {
                        if let Value::Object(m) = &p.value {
                            for e in &m.properties {
                                if e.name.as_str() == "aks-egress-lint" {
                                    let span = Span::new(file, e.range.start..e.range.end);
                                    let scope = o.range.start..o.range.end;
                                    entry(&e.value, span, scope, sups, bad);
                                }
                            }
                        }
                    }
                    stack.push((&p.value, depth + 1));
                }
            }
            Value::Array(a) => {
                for e in &a.elements {
                    stack.push((e, depth + 1));
                }
            }
            _ => {}
        }
    }
}

/// `{"ignore": [{"code": "AEL001", "reason": "…"}]}`
fn entry(
    v: &jsonc_parser::ast::Value,
    span: Span,
    scope: Range<usize>,
    sups: &mut Vec<Suppression>,
    bad: &mut Vec<Invalid>,
) {
    use jsonc_parser::ast::Value;
    let invalid = |bad: &mut Vec<Invalid>, span: Span, m: &str| {
        bad.push(Invalid {
            span,
            message: m.to_string(),
        })
    };
    let Value::Object(o) = v else {
        return invalid(
            bad,
            span,
            "`aks-egress-lint` metadata must be an object with `ignore`",
        );
    };
    let mut saw_ignore = false;
    for p in &o.properties {
        if p.name.as_str() != "ignore" {
            invalid(
                bad,
                Span::new(span.file, p.range.start..p.range.end),
                &format!("unknown key `{}`; expected `ignore`", p.name.as_str()),
            );
            continue;
        }
        saw_ignore = true;
        let Value::Array(items) = &p.value else {
            invalid(
                bad,
                span.clone(),
                "`ignore` must be a list of {code, reason}",
            );
            continue;
        };
        for item in &items.elements {
            let item_span = match item {
                Value::Object(io) => Span::new(span.file, io.range.start..io.range.end),
                _ => span.clone(),
            };
            let Value::Object(io) = item else {
                invalid(
                    bad,
                    item_span,
                    "each `ignore` entry is {\"code\": …, \"reason\": …}",
                );
                continue;
            };
            let get = |k: &str| {
                io.properties
                    .iter()
                    .find(|p| p.name.as_str() == k)
                    .and_then(|p| p.value.as_string_lit())
                    .map(|s| s.value.trim().to_string())
            };
            let Some(code_s) = get("code") else {
                invalid(bad, item_span, "the entry names no `code`");
                continue;
            };
            let Some(code) = Code::parse(&code_s) else {
                invalid(bad, item_span, &format!("unknown code `{code_s}`"));
                continue;
            };
            match get("reason").filter(|r| !r.is_empty()) {
                Some(reason) => sups.push(Suppression {
                    span: item_span,
                    codes: vec![code],
                    reason: Some(reason),
                    scope: scope.clone(),
                }),
                None => invalid(bad, item_span, "it gives no reason"),
            }
        }
    }
    if !saw_ignore && o.properties.is_empty() {
        invalid(bad, span, "`aks-egress-lint` metadata has no `ignore` list");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding whose primary span starts at the first occurrence of `at`.
    fn at(s: &Sources, file: FileId, code: Code, needle: &str) -> Finding {
        let start = s
            .text(file)
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}"));
        Finding::new(
            code,
            format!("at {needle}"),
            Span::new(file, start..start + 1),
            "x",
        )
    }

    fn run(name: &str, text: &str, findings: &[(Code, &str)]) -> Vec<String> {
        let mut s = Sources::new();
        let id = s.add_named(name, text);
        let fs = findings.iter().map(|(c, n)| at(&s, id, *c, n)).collect();
        apply(fs, &s)
            .iter()
            .map(|f| {
                let (l, c, _, _) = s.span_lines(&f.primary().span);
                format!("{l}:{c} {} {} {}", f.code, f.severity.as_str(), f.message)
            })
            .collect()
    }

    const TF: &str = r#"# aks-egress-lint: ignore[AEL001] the hub firewall allows MCR upstream
resource "azurerm_firewall_policy_rule_collection_group" "aks" {
  priority = 200 # NOT OK but covered by the comment above
  rule {
    name = "x"
  }
}

resource "azurerm_route_table" "rt" { # aks-egress-lint: ignore[udr-without-default-route, AEL004] - routes come from BGP
  name = "rt"
}

resource "azurerm_subnet" "s" {
  name = "s" // aks-egress-lint: ignore[AEL008]
}
/* aks-egress-lint: ignore[AEL006] reviewed with the network team */
resource "azurerm_lb" "pub" {}
resource "azurerm_lb" "after" {}
"#;

    #[test]
    fn hcl_comments() {
        let got = run(
            "main.tf",
            TF,
            &[
                (Code::AEL001, "resource \"azurerm_firewall_policy"),
                (Code::AEL001, "name = \"x\""), // in the block: suppressed
                (Code::AEL002, "priority"),     // other code: kept
                (Code::AEL001, "resource \"azurerm_route_table\""), // after the block: kept
                (Code::AEL007, "name = \"rt\""), // trailing comment's block
                (Code::AEL008, "name = \"s\""), // no reason: kept
                (Code::AEL006, "resource \"azurerm_lb\" \"pub\""),
                (Code::AEL006, "resource \"azurerm_lb\" \"after\""), // next line: kept
            ],
        );
        assert_eq!(
            got,
            [
                "3:3 AEL002 warning at priority",
                "9:1 AEL001 error at resource \"azurerm_route_table\"",
                "14:3 AEL008 note at name = \"s\"",
                "18:1 AEL006 warning at resource \"azurerm_lb\" \"after\"",
                "14:14 AEL008 warning suppression does not apply: it gives no reason",
                "9:39 AEL008 note unused suppression: no AEL004 finding here to ignore",
            ]
        );
    }

    #[test]
    fn heredocs_are_text() {
        let tf = "# aks-egress-lint: ignore[AEL003] lab\nresource \"x\" \"y\" {\n  policy = <<-EOT\n    { \"a\": [\n    # aks-egress-lint: ignore[AEL001] not a comment\n  EOT\n  name = \"n\"\n}\nresource \"z\" \"w\" {}\n";
        assert_eq!(
            run(
                "h.tf",
                tf,
                &[
                    (Code::AEL003, "name = \"n\""),
                    (Code::AEL003, "resource \"z\"")
                ]
            ),
            ["9:1 AEL003 error at resource \"z\""]
        );
    }

    #[test]
    fn bicep_and_jsonc_comments() {
        let bicep = "// aks-egress-lint: ignore[AEL005] DNS proxy is set by policy\nresource fw 'Microsoft.Network/azureFirewalls@2024-05-01' = {\n  name: 'fw // not a comment'\n}\n# not a comment in Bicep\n";
        assert_eq!(
            run(
                "fw.bicep",
                bicep,
                &[(Code::AEL005, "name:"), (Code::AEL005, "# not")]
            ),
            ["5:1 AEL005 warning at # not"]
        );
        let json = "{\n  \"resources\": [\n    // aks-egress-lint: ignore[AEL003] lab subscription\n    {\n      \"name\": \"nsg\",\n      \"x\": \"// aks-egress-lint: ignore[AEL001] in a string\"\n    },\n    { \"name\": \"other\" }\n  ]\n}\n";
        assert_eq!(
            run(
                "t.json",
                json,
                &[
                    (Code::AEL003, "\"name\": \"nsg\""),
                    (Code::AEL003, "\"name\": \"other\""),
                    (Code::AEL001, "\"x\"")
                ]
            ),
            [
                "8:7 AEL003 error at \"name\": \"other\"",
                "6:7 AEL001 error at \"x\"",
            ]
        );
    }

    #[test]
    fn arm_metadata() {
        let json = r#"{
  "resources": [
    {
      "type": "Microsoft.Network/networkSecurityGroups",
      "metadata": {
        "aks-egress-lint": {
          "ignore": [
            {"code": "AEL003", "reason": "isolated test cluster"},
            {"code": "AEL006"},
            {"code": "AEL042", "reason": "typo"},
            {"code": "AEL009", "reason": "nothing to match"}
          ]
        }
      },
      "properties": {"securityRules": [{"name": "deny-vnet"}]}
    },
    {"name": "outside"}
  ]
}
"#;
        assert_eq!(
            run(
                "azuredeploy.json",
                json,
                &[
                    (Code::AEL003, "{\"name\": \"deny-vnet\"}"),
                    (Code::AEL003, "{\"name\": \"outside\"}")
                ]
            ),
            [
                "17:5 AEL003 error at {\"name\": \"outside\"}",
                "9:13 AEL008 warning suppression does not apply: it gives no reason",
                "10:13 AEL008 warning suppression does not apply: unknown code `AEL042`",
                "11:13 AEL008 note unused suppression: no AEL009 finding here to ignore",
            ]
        );
    }

    #[test]
    fn yaml_indentation_scope() {
        let y = "apiVersion: v1\nkind: Service\n# aks-egress-lint: ignore[AEL006] inbound goes through the firewall DNAT\nspec:\n  type: LoadBalancer\n  ports:\n    - port: 443\nstatus: {}\n";
        assert_eq!(
            run(
                "svc.yaml",
                y,
                &[
                    (Code::AEL006, "type: LoadBalancer"),
                    (Code::AEL006, "status")
                ]
            ),
            ["8:1 AEL006 warning at status"]
        );
    }

    #[test]
    fn bad_directives_and_parse_errors() {
        let t = "# aks-egress-lint: disable AEL001\n# aks-egress-lint: ignore[AEL001 oops\n# aks-egress-lint: ignore[] why\n# aks-egress-lint: ignore[AEL001] fine\nx = 1\n";
        assert_eq!(
            run("a.tf", t, &[]),
            [
                "1:1 AEL008 warning suppression does not apply: `disable` is not a directive; write `aks-egress-lint: ignore[CODE] reason`",
                "2:1 AEL008 warning suppression does not apply: `ignore[` is not closed by `]`",
                "3:1 AEL008 warning suppression does not apply: `ignore[]` names no code",
                "4:1 AEL008 note unused suppression: no AEL001 finding here to ignore",
            ]
        );
        // In a file that failed to parse, nothing is called unused.
        assert_eq!(
            run(
                "b.tf",
                "# aks-egress-lint: ignore[AEL001] why\nx = {\n",
                &[(Code::AEL000, "x =")]
            ),
            ["2:1 AEL000 error at x ="]
        );
    }

    #[test]
    fn many_suppressions_stay_linear() {
        // 50k suppression lines, 50k findings: one pass each, bounded work.
        let mut text = String::new();
        for i in 0..50_000 {
            text.push_str(&format!(
                "# aks-egress-lint: ignore[AEL001] r{i}\nx{i} = {{\n"
            ));
        }
        let mut s = Sources::new();
        let id = s.add_named("big.tf", text);
        let fs: Vec<Finding> = (0..50_000)
            .map(|i| {
                let needle = format!("x{i} =");
                at(&s, id, Code::AEL001, &needle)
            })
            .take(2_000)
            .collect();
        let t = std::time::Instant::now();
        let out = apply(fs, &s);
        assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
        // Everything is one unclosed block per line, so the first 1000
        // suppressions cover every finding; the rest are reported once.
        assert_eq!(
            out.iter()
                .filter(|f| f.message.contains("only the first 1000 apply"))
                .count(),
            1
        );
        assert!(out.iter().all(|f| f.code != Code::AEL001));
    }

    #[test]
    fn hostile_input_terminates() {
        let deep = format!(
            "// aks-egress-lint: ignore[AEL001] x\n{}",
            "[".repeat(100_000)
        );
        assert_eq!(
            run("d.json", &deep, &[(Code::AEL001, "[[")]),
            Vec::<String>::new()
        );
        let unterminated = "/* aks-egress-lint: ignore[AEL001] x\n\"abc";
        assert_eq!(run("u.tf", unterminated, &[]).len(), 1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        #[test]
        fn any_text_scans_without_panic(
            text in "(aks-egress-lint: ignore\\[AEL00[0-9], ?\\]? ?r?|[#/*{}\\[\\]()\"'\n :a-z-]){0,80}",
            ext in proptest::sample::select(vec!["tf", "bicep", "json", "yaml"]),
        ) {
            let mut s = Sources::new();
            let id = s.add_named(&format!("f.{ext}"), text.clone());
            let len = text.len();
            let findings = (0..len.min(5))
                .map(|i| Finding::new(Code::AEL001, "m", Span::new(id, i..i), "l"))
                .collect();
            let out = apply(findings, &s);
            for f in &out {
                let r = &f.primary().span.range;
                proptest::prop_assert!(r.start <= r.end && r.end <= len);
            }
        }
    }
}

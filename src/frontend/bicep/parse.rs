//! Parse Bicep with tree-sitter-bicep, around the grammar's known gaps, into
//! the spanned [`syntax`](super::syntax) tree.
//!
//! The 1.1 grammar gets a few valid forms wrong. Rather than report valid
//! Bicep as a syntax error, [`prepare`] rewrites the text before parsing,
//! ASCII byte for ASCII byte, so every offset of the rewritten text is the
//! offset of the original; names and string contents are then read from the
//! original text:
//!
//! - a `/` inside string content becomes `_`, because the grammar lexes a
//!   string whose content starts with `//` or `/*` (`'//x'`, `'${a}/*'`) as a
//!   comment that swallows the rest of the file;
//! - in `.bicepparam` files, the untyped `param name = value` is not in the
//!   grammar: `param` becomes `var  ` and the statement is read back as a
//!   parameter value;
//! - the spread operator `...x` (Bicep 0.27) is not in the grammar: inside an
//!   object it becomes `_: x`, inside an array three spaces, and the offsets
//!   are remembered;
//! - `extension name` lines (the successor of `provider`) are blanked: they
//!   declare no value this tool reads;
//! - the type of a typed variable (`var x string[] = ...`) is blanked.

use super::syntax::*;
use std::collections::HashSet;
use std::ops::{ControlFlow, Range};
use std::time::{Duration, Instant};
use tree_sitter::{Node, Parser};

/// The text handed to tree-sitter and what the rewrite changed.
#[derive(Debug, Default)]
pub struct Prepared {
    pub text: String,
    /// Offsets where a spread's expression starts (array elements) or where
    /// the `_` key of a rewritten object spread sits.
    pub spreads: HashSet<usize>,
    /// Offsets of `param` keywords rewritten to `var` (`.bicepparam`).
    pub params: HashSet<usize>,
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Brace,
    Bracket,
    Paren,
    Interp,
}

/// Rewrite the grammar's blind spots away, keeping every byte offset.
pub fn prepare(src: &str, bicepparam: bool) -> Prepared {
    let mut out = src.as_bytes().to_vec();
    let b = src.as_bytes();
    let mut spreads = HashSet::new();
    let mut params = HashSet::new();
    let mut stack: Vec<Ctx> = Vec::new();
    let mut in_string = false;
    let mut line_start = true;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'\'' => in_string = false,
                b'$' if b.get(i + 1) == Some(&b'{') => {
                    stack.push(Ctx::Interp);
                    in_string = false;
                    i += 1;
                }
                b'/' => out[i] = b'_',
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'\n' => {
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let at_line_start = std::mem::replace(&mut line_start, false);
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i += 2;
            continue;
        }
        if b[i..].starts_with(b"'''") {
            i += 3;
            while i < b.len() && !b[i..].starts_with(b"'''") {
                if b[i] == b'/' {
                    out[i] = b'_';
                }
                i += 1;
            }
            i += 3;
            continue;
        }
        if at_line_start && stack.is_empty() {
            if let Some(end) = keyword_at(b, i, b"extension") {
                // Only the one-line form; a config object would span lines.
                let eol = b[i..]
                    .iter()
                    .position(|&x| x == b'\n')
                    .map_or(b.len(), |p| i + p);
                if !b[end..eol].contains(&b'{') {
                    for o in &mut out[i..eol] {
                        *o = b' ';
                    }
                    i = eol;
                    continue;
                }
            }
            if let Some(end) = keyword_at(b, i, b"var") {
                blank_var_type(b, &mut out, end);
            }
            if bicepparam && keyword_at(b, i, b"param").is_some() {
                out[i..i + 5].copy_from_slice(b"var  ");
                params.insert(i);
                i += 5;
                continue;
            }
        }
        match c {
            b'\'' => in_string = true,
            b'{' => stack.push(Ctx::Brace),
            b'[' => stack.push(Ctx::Bracket),
            b'(' => stack.push(Ctx::Paren),
            // The guard pops for every `}`; only an interpolation resumes the string.
            b'}' if stack.pop() == Some(Ctx::Interp) => in_string = true,
            b']' | b')' => {
                stack.pop();
            }
            b'.' if b[i..].starts_with(b"...") => {
                match stack.last() {
                    Some(Ctx::Brace) => {
                        out[i..i + 3].copy_from_slice(b"_: ");
                        spreads.insert(i);
                    }
                    Some(Ctx::Bracket) => {
                        out[i..i + 3].copy_from_slice(b"   ");
                        let mut j = i + 3;
                        while j < b.len() && b[j].is_ascii_whitespace() {
                            j += 1;
                        }
                        spreads.insert(j);
                    }
                    _ => {}
                }
                i += 3;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // Only ASCII bytes were replaced by ASCII bytes: still valid UTF-8.
    let text = String::from_utf8(out).unwrap_or_else(|_| src.to_string());
    Prepared {
        text,
        spreads,
        params,
    }
}

/// Typed variables (`var x string[] = ...`, Bicep 0.30) are not in the
/// grammar: blank the type, which no value depends on. Only a type written
/// on the `var` line is handled.
fn blank_var_type(b: &[u8], out: &mut [u8], mut j: usize) {
    while j < b.len() && matches!(b[j], b' ' | b'\t') {
        j += 1;
    }
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    let type_start = j;
    let eol = b[j..]
        .iter()
        .position(|&x| x == b'\n')
        .map_or(b.len(), |p| j + p);
    let Some(eq) = b[j..eol].iter().position(|&x| x == b'=').map(|p| j + p) else {
        return;
    };
    if b[type_start..eq].iter().any(|x| !x.is_ascii_whitespace()) {
        for o in &mut out[type_start..eq] {
            if !o.is_ascii_whitespace() {
                *o = b' ';
            }
        }
    }
}

/// `Some(end)` when `kw` starts at `i` as a whole word followed by a space.
fn keyword_at(b: &[u8], i: usize, kw: &[u8]) -> Option<usize> {
    let end = i + kw.len();
    (b[i..].starts_with(kw) && matches!(b.get(end), Some(b' ' | b'\t'))).then_some(end)
}

/// Parse a `.bicep` or `.bicepparam` text. Never panics; nesting deeper
/// than `max_depth` is a syntax error.
pub fn parse(src: &str, bicepparam: bool, max_depth: usize) -> File {
    let prepared = prepare(src, bicepparam);
    let mut parser = Parser::new();
    let mut file = File::default();
    if parser
        .set_language(&tree_sitter_bicep::LANGUAGE.into())
        .is_err()
    {
        file.errors.push(SyntaxError {
            message: "the Bicep grammar could not be loaded".into(),
            range: 0..0,
        });
        return file;
    }
    if let Some(nul) = src.find('\0') {
        file.errors.push(SyntaxError {
            message: "not a text file (NUL byte)".into(),
            range: nul..nul + 1,
        });
        return file;
    }
    // tree-sitter's error recovery can be slow on garbage: bound it in time
    // (2 s, plus 1 s per MB) and report a file that needs more.
    let started = Instant::now();
    let budget = Duration::from_secs(2) + Duration::from_millis(src.len() as u64 / 1000);
    let mut progress = |_: &tree_sitter::ParseState| {
        if started.elapsed() > budget {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let bytes = prepared.text.as_bytes();
    let tree = parser.parse_with_options(
        &mut |i, _| bytes.get(i..).unwrap_or(&[]),
        None,
        Some(tree_sitter::ParseOptions::new().progress_callback(&mut progress)),
    );
    let Some(tree) = tree else {
        file.errors.push(SyntaxError {
            message: "the file is too irregular to parse in reasonable time".into(),
            range: 0..0,
        });
        return file;
    };
    let root = tree.root_node();
    if let Some(e) = first_error(root, &prepared.text) {
        file.errors.push(e);
    }
    let mut cx = Conv {
        src,
        prep: &prepared,
        max_depth,
        errors: Vec::new(),
    };
    let mut decorators = Vec::new();
    let mut cur = root.walk();
    for n in root.named_children(&mut cur) {
        if matches!(n.kind(), "comment" | "diagnostic_comment") {
            continue;
        }
        if n.kind() == "decorators" {
            decorators.extend(cx.decorators(n, 0));
            continue;
        }
        if n.kind() == "import_functionality" {
            let mut c = n.walk();
            let ids: Vec<Node> = n
                .named_children(&mut c)
                .filter(|x| x.kind() == "identifier")
                .collect();
            // `{a as b, c}`: the local names are the last of each pair; we
            // cannot tell pairs apart from the flat list, so keep them all.
            for id in ids {
                file.imports.push(cx.text(id.byte_range()).to_string());
            }
            continue;
        }
        if let Some(mut st) = cx.stmt(n) {
            st.decorators = std::mem::take(&mut decorators);
            file.stmts.push(st);
        } else {
            decorators.clear();
        }
    }
    if file.errors.is_empty() {
        file.errors.extend(cx.errors.into_iter().take(1));
    }
    file
}

/// The parenthesized expression or array at the start of a postfix chain.
fn leftmost_root(n: Node) -> Option<Node> {
    let mut cur = n;
    for _ in 0..10_000 {
        match cur.kind() {
            "parenthesized_expression" | "array" => return Some(cur),
            "member_expression" | "subscript_expression" | "resource_expression" => {
                cur = cur.child_by_field_name("object")?;
            }
            _ => return None,
        }
    }
    None
}

/// The first ERROR or MISSING node, in document order (iterative walk).
fn first_error(root: Node, text: &str) -> Option<SyntaxError> {
    if !root.has_error() {
        return None;
    }
    let mut cur = root.walk();
    loop {
        let n = cur.node();
        if n.is_missing() {
            let r = n.start_byte()..n.start_byte();
            return Some(SyntaxError {
                message: format!("syntax error: missing `{}`", n.kind()),
                range: r,
            });
        }
        if n.is_error() {
            // Point at the token the grammar could not place: within one
            // line that is the last one (`foo: )`), across lines the first
            // (a keyword it does not know).
            let one_line = n.start_position().row == n.end_position().row;
            let mut leaf = n;
            loop {
                let next = if one_line {
                    leaf.child(leaf.child_count().saturating_sub(1))
                } else {
                    leaf.child(0)
                };
                match next {
                    Some(c) => leaf = c,
                    None => break,
                }
            }
            let r = leaf.byte_range();
            let tok: String = text.get(r.clone()).unwrap_or("").chars().take(30).collect();
            let message = if tok.is_empty() {
                "syntax error".to_string()
            } else {
                format!("syntax error: unexpected `{tok}`")
            };
            return Some(SyntaxError { message, range: r });
        }
        if n.has_error() && cur.goto_first_child() {
            continue;
        }
        loop {
            if cur.goto_next_sibling() {
                break;
            }
            if !cur.goto_parent() {
                return Some(SyntaxError {
                    message: "syntax error".into(),
                    range: 0..0,
                });
            }
        }
    }
}

struct Conv<'a> {
    /// The original text: names and strings are read from it.
    src: &'a str,
    prep: &'a Prepared,
    max_depth: usize,
    errors: Vec<SyntaxError>,
}

fn named(n: Node) -> Vec<Node> {
    let mut c = n.walk();
    n.named_children(&mut c)
        .filter(|x| !matches!(x.kind(), "comment" | "diagnostic_comment"))
        .collect()
}

impl<'a> Conv<'a> {
    fn text(&self, r: Range<usize>) -> &'a str {
        self.src.get(r).unwrap_or("")
    }

    fn unsupported(&self, n: Node) -> Expr {
        Expr {
            kind: ExprKind::Unsupported(self.text(n.byte_range()).chars().take(60).collect()),
            range: n.byte_range(),
        }
    }

    fn decorators(&mut self, n: Node, depth: usize) -> Vec<Decorator> {
        let mut out = Vec::new();
        for d in named(n) {
            let Some(call) = named(d).into_iter().find(|c| c.kind() == "call_expression") else {
                continue;
            };
            if let ExprKind::Call { name, args, .. } = self.expr(call, depth + 1).kind {
                out.push(Decorator {
                    name,
                    args,
                    range: d.byte_range(),
                });
            }
        }
        out
    }

    fn stmt(&mut self, n: Node) -> Option<Stmt> {
        let kids = named(n);
        let ident = kids.iter().find(|k| k.kind() == "identifier").copied();
        let (name, name_range) = match ident {
            Some(i) => (self.text(i.byte_range()).to_string(), i.byte_range()),
            None => (String::new(), n.start_byte()..n.start_byte()),
        };
        let last_expr = |s: &mut Self| kids.last().map(|l| s.expr(*l, 0));
        let kind = match n.kind() {
            "parameter_declaration" => {
                let ty = kids
                    .iter()
                    .find(|k| k.kind() == "type")
                    .map(|t| self.text(t.byte_range()).to_string())
                    .unwrap_or_default();
                let default = if kids.len() >= 3 {
                    last_expr(self)
                } else {
                    None
                };
                StmtKind::Param { ty, default }
            }
            "variable_declaration" => {
                let value = last_expr(self)?;
                if self.prep.params.contains(&n.start_byte()) {
                    StmtKind::Param {
                        ty: String::new(),
                        default: Some(value),
                    }
                } else {
                    StmtKind::Var { value }
                }
            }
            "resource_declaration" => StmtKind::Resource(self.resource(n, 0)?),
            "module_declaration" => {
                let path = kids.iter().find(|k| k.kind() == "string")?;
                let (p, _) = self.plain_string(*path);
                StmtKind::Module {
                    path: p,
                    path_range: path.byte_range(),
                    body: last_expr(self)?,
                }
            }
            "output_declaration" => StmtKind::Output {
                value: last_expr(self)?,
            },
            "user_defined_function" => {
                let name_node = n.child_by_field_name("name")?;
                let params = kids
                    .iter()
                    .find(|k| k.kind() == "parameters")
                    .map(|ps| {
                        named(*ps)
                            .into_iter()
                            .filter_map(|p| named(p).into_iter().next())
                            .map(|i| self.text(i.byte_range()).to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                return Some(Stmt {
                    name: self.text(name_node.byte_range()).to_string(),
                    name_range: name_node.byte_range(),
                    decorators: vec![],
                    kind: StmtKind::Func {
                        params,
                        body: last_expr(self)?,
                    },
                    range: n.byte_range(),
                });
            }
            "type_declaration" => StmtKind::Type,
            "using_statement" => {
                let s = kids.iter().find(|k| k.kind() == "string")?;
                let (path, _) = self.plain_string(*s);
                StmtKind::Using {
                    path,
                    path_range: s.byte_range(),
                }
            }
            "ERROR" => return None,
            _ => StmtKind::Other,
        };
        Some(Stmt {
            name,
            name_range,
            decorators: vec![],
            kind,
            range: n.byte_range(),
        })
    }

    fn resource(&mut self, n: Node, depth: usize) -> Option<ResourceDecl> {
        let kids = named(n);
        let id = kids.iter().find(|k| k.kind() == "identifier")?;
        let ty = kids.iter().find(|k| k.kind() == "string")?;
        let body = kids.last()?;
        let mut cur = n.walk();
        let existing = n.children(&mut cur).any(|c| c.kind() == "existing");
        let (type_ref, _) = self.plain_string(*ty);
        Some(ResourceDecl {
            name: self.text(id.byte_range()).to_string(),
            name_range: id.byte_range(),
            type_ref,
            type_range: ty.byte_range(),
            existing,
            body: self.expr(*body, depth + 1),
            range: n.byte_range(),
        })
    }

    /// A string without interpolation (paths, types); `false` if it had one.
    fn plain_string(&mut self, n: Node) -> (String, bool) {
        match self.expr(n, 0).kind {
            ExprKind::Str(parts) => {
                let mut s = String::new();
                let mut plain = true;
                for p in parts {
                    match p {
                        StrPart::Lit(l) => s.push_str(&l),
                        StrPart::Interp(_) => plain = false,
                    }
                }
                (s, plain)
            }
            _ => (String::new(), false),
        }
    }

    fn expr(&mut self, n: Node, depth: usize) -> Expr {
        let range = n.byte_range();
        if depth > self.max_depth {
            if self.errors.is_empty() {
                self.errors.push(SyntaxError {
                    message: format!("expression nested deeper than {} levels", self.max_depth),
                    range: range.clone(),
                });
            }
            return self.unsupported(n);
        }
        let d = depth + 1;
        let kids = named(n);
        let field = |f: &str| n.child_by_field_name(f);
        let kind = match n.kind() {
            "number" => match self.text(range.clone()).parse::<i64>() {
                Ok(v) => ExprKind::Int(v),
                Err(_) => ExprKind::Unsupported(self.text(range.clone()).to_string()),
            },
            "boolean" => ExprKind::Bool(self.text(range.clone()) == "true"),
            "null" => ExprKind::Null,
            "string" => ExprKind::Str(self.string_parts(n, d)),
            "identifier" | "property_identifier" => {
                ExprKind::Ident(self.text(range.clone()).to_string())
            }
            "array" => {
                let kids: Vec<Node> = kids
                    .into_iter()
                    .filter(|k| k.kind() != "decorators")
                    .collect();
                let mut els = Vec::new();
                let mut i = 0;
                while let Some(&k) = kids.get(i) {
                    let spread = self.prep.spreads.contains(&k.start_byte());
                    let mut value = self.expr(k, d);
                    let mut end = k.end_byte();
                    i += 1;
                    // Inside arrays the grammar splits `f(x)`, `f().y` and
                    // `a[0]` into two elements (`f` and `(x)`, `a` and
                    // `[0]`); elements are never adjacent in valid Bicep, so
                    // glue them back.
                    while let Some(&next) = kids.get(i)
                        && next.start_byte() == end
                        && let Some(root) = leftmost_root(next)
                        && root.start_byte() == end
                    {
                        let glued = if root.kind() == "array" {
                            let inner = named(root);
                            let [idx] = inner.as_slice() else { break };
                            let index = self.expr(*idx, d);
                            Expr {
                                range: value.range.start..root.end_byte(),
                                kind: ExprKind::Index {
                                    obj: Box::new(value.clone()),
                                    index: Box::new(index),
                                },
                            }
                        } else if matches!(value.kind, ExprKind::Ident(_) | ExprKind::Member { .. })
                        {
                            self.call_on(value.clone(), root, d)
                        } else {
                            break;
                        };
                        value = self.with_root(next, root.id(), &glued, d);
                        end = next.end_byte();
                        i += 1;
                    }
                    els.push(Element { spread, value });
                }
                ExprKind::Array(els)
            }
            "object" => {
                let mut props = Vec::new();
                for p in kids {
                    if p.kind() != "object_property" {
                        continue;
                    }
                    let pk = named(p);
                    if let Some(r) = pk.iter().find(|x| x.kind() == "resource_declaration") {
                        if let Some(rd) = self.resource(*r, d) {
                            props.push(Prop::Resource(Box::new(rd)));
                        }
                        continue;
                    }
                    let Some(value) = pk.last() else { continue };
                    let value = self.expr(*value, d);
                    if self.prep.spreads.contains(&p.start_byte()) {
                        props.push(Prop::Spread(value));
                        continue;
                    }
                    let Some(key) = p.child(0) else { continue };
                    let key_range = key.byte_range();
                    let key_name = match key.kind() {
                        "string" => self.plain_string(key).0,
                        _ => self
                            .text(key_range.clone())
                            .trim_end_matches('?')
                            .to_string(),
                    };
                    props.push(Prop::KeyValue {
                        key: key_name,
                        key_range,
                        value,
                    });
                }
                ExprKind::Object(props)
            }
            // The grammar gives `.x`, `[i]` and `::c` the lowest precedence,
            // so `!a.b` arrives as `(!a).b` and `1 + a.b` as `(1 + a).b`:
            // `postfix` moves the access back onto the operand it belongs to.
            "member_expression" => match (field("object"), field("property")) {
                (Some(o), Some(p)) => {
                    let obj = self.expr(o, d);
                    let name = self.text(p.byte_range()).to_string();
                    let name_range = p.byte_range();
                    let mut c = n.walk();
                    let safe = n.children(&mut c).any(|t| t.kind() == ".?");
                    return postfix(obj, range.end, &mut |obj| {
                        if safe {
                            // `a.?b` is null when `b` is missing: ARM's tryGet.
                            let key = Expr {
                                kind: ExprKind::Str(vec![StrPart::Lit(name.clone())]),
                                range: name_range.clone(),
                            };
                            return ExprKind::Call {
                                ns: Some("sys".into()),
                                name: "tryGet".into(),
                                name_range: name_range.clone(),
                                args: vec![obj, key],
                            };
                        }
                        ExprKind::Member {
                            obj: Box::new(obj),
                            name: name.clone(),
                            name_range: name_range.clone(),
                        }
                    });
                }
                _ => ExprKind::Unsupported(String::new()),
            },
            "subscript_expression" => match (field("object"), field("index")) {
                (Some(o), Some(i)) => {
                    let obj = self.expr(o, d);
                    let index = self.expr(i, d);
                    return postfix(obj, range.end, &mut |obj| ExprKind::Index {
                        obj: Box::new(obj),
                        index: Box::new(index.clone()),
                    });
                }
                _ => ExprKind::Unsupported(String::new()),
            },
            "resource_expression" => match (field("object"), field("resource")) {
                (Some(o), Some(r)) => {
                    let obj = self.expr(o, d);
                    let name = self.text(r.byte_range()).to_string();
                    return postfix(obj, range.end, &mut |obj| ExprKind::ChildAccess {
                        obj: Box::new(obj),
                        name: name.clone(),
                    });
                }
                _ => ExprKind::Unsupported(String::new()),
            },
            "call_expression" => {
                let args = field("arguments")
                    .map(|a| named(a).into_iter().map(|x| self.expr(x, d)).collect())
                    .unwrap_or_default();
                match field("function") {
                    Some(f) if f.kind() == "identifier" => ExprKind::Call {
                        ns: None,
                        name: self.text(f.byte_range()).to_string(),
                        name_range: f.byte_range(),
                        args,
                    },
                    Some(f) => {
                        let callee = self.expr(f, d);
                        match callee.kind {
                            ExprKind::Member {
                                obj,
                                name,
                                name_range,
                            } if matches!(&obj.kind, ExprKind::Ident(ns) if ns == "sys" || ns == "az") =>
                            {
                                let ExprKind::Ident(ns) = obj.kind else {
                                    unreachable!("matched above")
                                };
                                ExprKind::Call {
                                    ns: Some(ns),
                                    name,
                                    name_range,
                                    args,
                                }
                            }
                            _ => ExprKind::CallExpr {
                                callee: Box::new(callee),
                                args,
                            },
                        }
                    }
                    None => ExprKind::Unsupported(String::new()),
                }
            }
            "parenthesized_expression" => {
                if kids.len() == 1 {
                    ExprKind::Paren(Box::new(self.expr(kids[0], d)))
                } else {
                    ExprKind::Unsupported(self.text(range.clone()).chars().take(60).collect())
                }
            }
            "unary_expression" => {
                let op = field("operator").map(|o| o.kind()).unwrap_or("");
                let arg = field("argument").map(|a| Box::new(self.expr(a, d)));
                match (op, arg) {
                    ("!", Some(a)) => ExprKind::Not(a),
                    ("-", Some(a)) => ExprKind::Neg(a),
                    _ => ExprKind::Unsupported(String::new()),
                }
            }
            "binary_expression" => {
                let op = match field("operator").map(|o| o.kind()).unwrap_or("") {
                    "+" => Some(BinOp::Add),
                    "-" => Some(BinOp::Sub),
                    "*" => Some(BinOp::Mul),
                    "/" => Some(BinOp::Div),
                    "%" => Some(BinOp::Mod),
                    "||" => Some(BinOp::Or),
                    "&&" => Some(BinOp::And),
                    "==" => Some(BinOp::Eq),
                    "!=" => Some(BinOp::Ne),
                    "=~" => Some(BinOp::EqI),
                    "!~" => Some(BinOp::NeI),
                    ">" => Some(BinOp::Gt),
                    ">=" => Some(BinOp::Ge),
                    "<" => Some(BinOp::Lt),
                    "<=" => Some(BinOp::Le),
                    "??" => Some(BinOp::Coalesce),
                    _ => None,
                };
                match (op, field("left"), field("right")) {
                    (Some(op), Some(l), Some(r)) => ExprKind::Binary {
                        op,
                        left: Box::new(self.expr(l, d)),
                        right: Box::new(self.expr(r, d)),
                    },
                    _ => ExprKind::Unsupported(self.text(range.clone()).chars().take(60).collect()),
                }
            }
            "ternary_expression" => {
                match (
                    field("condition"),
                    field("consequence"),
                    field("alternative"),
                ) {
                    (Some(c), Some(t), Some(o)) => ExprKind::Ternary {
                        cond: Box::new(self.expr(c, d)),
                        then: Box::new(self.expr(t, d)),
                        other: Box::new(self.expr(o, d)),
                    },
                    _ => ExprKind::Unsupported(String::new()),
                }
            }
            "for_statement" => self.for_expr(n, d),
            "if_statement" => {
                let cond = kids.iter().find(|k| k.kind() == "parenthesized_expression");
                let body = kids.iter().rfind(|k| k.kind() == "object");
                match (cond, body) {
                    (Some(c), Some(b)) => ExprKind::If {
                        cond: Box::new(self.expr(*c, d)),
                        body: Box::new(self.expr(*b, d)),
                    },
                    _ => ExprKind::Unsupported(String::new()),
                }
            }
            "lambda_expression" => {
                let (Some(l), Some(b)) = (kids.first(), kids.last()) else {
                    return self.unsupported(n);
                };
                let params = if l.kind() == "identifier" {
                    vec![self.text(l.byte_range()).to_string()]
                } else {
                    named(*l)
                        .into_iter()
                        .map(|p| self.text(p.byte_range()).to_string())
                        .collect()
                };
                ExprKind::Lambda {
                    params,
                    body: Box::new(self.expr(*b, d)),
                }
            }
            _ => ExprKind::Unsupported(self.text(range.clone()).chars().take(60).collect()),
        };
        Expr { kind, range }
    }

    /// A converted callee + `(args)` as one call expression.
    fn call_on(&mut self, callee: Expr, paren: Node, d: usize) -> Expr {
        let args: Vec<Expr> = named(paren).into_iter().map(|a| self.expr(a, d)).collect();
        let range = callee.range.start..paren.end_byte();
        let kind = match callee.kind {
            ExprKind::Ident(name) => ExprKind::Call {
                ns: None,
                name,
                name_range: callee.range.clone(),
                args,
            },
            ExprKind::Member {
                obj,
                name,
                name_range,
            } if matches!(&obj.kind, ExprKind::Ident(ns) if ns == "sys" || ns == "az") => {
                let ns = match obj.kind {
                    ExprKind::Ident(ns) => ns,
                    _ => String::new(),
                };
                ExprKind::Call {
                    ns: Some(ns),
                    name,
                    name_range,
                    args,
                }
            }
            other => ExprKind::CallExpr {
                callee: Box::new(Expr {
                    kind: other,
                    range: callee.range,
                }),
                args,
            },
        };
        Expr { kind, range }
    }

    /// Convert `n`, with its descendant `root` replaced by `replacement`
    /// (the node's range grows to cover the replacement).
    fn with_root(&mut self, n: Node, root: usize, replacement: &Expr, d: usize) -> Expr {
        if n.id() == root || d > self.max_depth {
            return replacement.clone();
        }
        let Some(obj) = n.child_by_field_name("object") else {
            return self.expr(n, d);
        };
        let base = self.with_root(obj, root, replacement, d + 1);
        let end = n.end_byte();
        let field = |f: &str| n.child_by_field_name(f);
        match n.kind() {
            "member_expression" => {
                let Some(p) = field("property") else {
                    return base;
                };
                let name = self.text(p.byte_range()).to_string();
                let name_range = p.byte_range();
                postfix(base, end, &mut |obj| ExprKind::Member {
                    obj: Box::new(obj),
                    name: name.clone(),
                    name_range: name_range.clone(),
                })
            }
            "subscript_expression" => {
                let Some(i) = field("index") else {
                    return base;
                };
                let index = self.expr(i, d);
                postfix(base, end, &mut |obj| ExprKind::Index {
                    obj: Box::new(obj),
                    index: Box::new(index.clone()),
                })
            }
            "resource_expression" => {
                let Some(r) = field("resource") else {
                    return base;
                };
                let name = self.text(r.byte_range()).to_string();
                postfix(base, end, &mut |obj| ExprKind::ChildAccess {
                    obj: Box::new(obj),
                    name: name.clone(),
                })
            }
            _ => base,
        }
    }

    fn for_expr(&mut self, n: Node, d: usize) -> ExprKind {
        let mut item = None;
        let mut index = None;
        let mut iter = None;
        let mut body = None;
        let mut cur = n.walk();
        let children: Vec<(Node, Option<&str>)> = {
            let mut v = Vec::new();
            if cur.goto_first_child() {
                loop {
                    v.push((cur.node(), cur.field_name()));
                    if !cur.goto_next_sibling() {
                        break;
                    }
                }
            }
            v
        };
        for (c, f) in children {
            if !c.is_named() || matches!(c.kind(), "comment" | "diagnostic_comment") {
                continue;
            }
            match (f, c.kind()) {
                (Some("initializer"), _) => item = Some(self.text(c.byte_range()).to_string()),
                (Some("body"), _) => body = Some(self.expr(c, d)),
                (_, "for_loop_parameters") => {
                    for p in named(c) {
                        let t = self.text(p.byte_range()).to_string();
                        match p.kind() {
                            "loop_variable" => item = Some(t),
                            "loop_enumerator" => index = Some(t),
                            _ => {}
                        }
                    }
                }
                _ => iter = Some(self.expr(c, d)),
            }
        }
        match (iter, body) {
            (Some(iter), Some(body)) => ExprKind::For {
                item,
                index,
                iter: Box::new(iter),
                body: Box::new(body),
            },
            _ => ExprKind::Unsupported(String::new()),
        }
    }

    fn string_parts(&mut self, n: Node, d: usize) -> Vec<StrPart> {
        let raw = self.text(n.byte_range());
        let mut parts: Vec<StrPart> = Vec::new();
        let mut lit = String::new();
        if raw.starts_with("'''") {
            // Multi-line strings have no escapes and no interpolation; a
            // leading newline is dropped, as the Bicep compiler does.
            let inner = raw
                .get(3..raw.len().saturating_sub(3))
                .unwrap_or("")
                .strip_prefix("\r\n")
                .or_else(|| {
                    raw.get(3..raw.len().saturating_sub(3))
                        .map(|s| s.strip_prefix('\n').unwrap_or(s))
                })
                .unwrap_or("");
            return vec![StrPart::Lit(inner.to_string())];
        }
        let mut cur = n.walk();
        // Some escapes (`\$`) are hidden tokens of the grammar: they show
        // up only as gaps between the visible children.
        let mut pos = n.start_byte();
        for c in n.children(&mut cur) {
            if c.start_byte() > pos {
                lit.push_str(&unescape_all(self.text(pos..c.start_byte())));
            }
            pos = c.end_byte();
            let t = self.text(c.byte_range());
            match c.kind() {
                "'" | "comment" | "diagnostic_comment" => {}
                "interpolation" => {
                    if !lit.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut lit)));
                    }
                    if let Some(e) = named(c).first() {
                        parts.push(StrPart::Interp(self.expr(*e, d)));
                    }
                }
                "string_content" => lit.push_str(t),
                _ => lit.push_str(&unescape(t)),
            }
        }
        if !lit.is_empty() || parts.is_empty() {
            parts.push(StrPart::Lit(lit));
        }
        parts
    }
}

/// Apply a postfix access (ending at `end`) to the operand it binds to: the
/// rightmost operand of a unary, binary, ternary or lambda expression that
/// the grammar wrongly put underneath it. Bounded by the expression's depth.
fn postfix(obj: Expr, end: usize, make: &mut dyn FnMut(Expr) -> ExprKind) -> Expr {
    let range = obj.range.start..end.max(obj.range.end);
    let kind = match obj.kind {
        ExprKind::Not(x) => ExprKind::Not(Box::new(postfix(*x, end, make))),
        ExprKind::Neg(x) => ExprKind::Neg(Box::new(postfix(*x, end, make))),
        ExprKind::Binary { op, left, right } => ExprKind::Binary {
            op,
            left,
            right: Box::new(postfix(*right, end, make)),
        },
        ExprKind::Ternary { cond, then, other } => ExprKind::Ternary {
            cond,
            then,
            other: Box::new(postfix(*other, end, make)),
        },
        ExprKind::Lambda { params, body } => ExprKind::Lambda {
            params,
            body: Box::new(postfix(*body, end, make)),
        },
        kind => make(Expr {
            kind,
            range: obj.range,
        }),
    };
    Expr { kind, range }
}

/// Every `\x` escape of a run of text.
fn unescape_all(t: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let len = if tail.starts_with("\\u{") {
            tail.find('}').map_or(tail.len(), |e| e + 1)
        } else {
            1 + tail[1..].chars().next().map_or(0, char::len_utf8)
        };
        out.push_str(&unescape(&tail[..len]));
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

fn unescape(t: &str) -> String {
    let body = t.strip_prefix('\\').unwrap_or(t);
    match body {
        "n" => "\n".into(),
        "r" => "\r".into(),
        "t" => "\t".into(),
        "\\" => "\\".into(),
        "'" => "'".into(),
        "$" => "$".into(),
        _ => {
            if let Some(hex) = body.strip_prefix("u{").and_then(|h| h.strip_suffix('}')) {
                return u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .map(String::from)
                    .unwrap_or_default();
            }
            body.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> File {
        let f = parse(src, false, 128);
        assert_eq!(f.errors, vec![], "{src}");
        f
    }

    fn var_str(f: &File, name: &str) -> Vec<StrPart> {
        let st = f.stmts.iter().find(|s| s.name == name).expect(name);
        match &st.kind {
            StmtKind::Var { value } => match &value.kind {
                ExprKind::Str(p) => p.clone(),
                k => panic!("{k:?}"),
            },
            k => panic!("{k:?}"),
        }
    }

    fn lit(s: &str) -> Vec<StrPart> {
        vec![StrPart::Lit(s.into())]
    }

    #[test]
    fn strings_starting_with_comment_markers() {
        // tree-sitter-bicep 1.1 alone reads these as comments and fails.
        let src = "var a = '//https://example.com'\nvar b = '/*'\nvar c = '*/'\nvar d = 'x' // real comment\nvar e = 'y' /* real */\n";
        let f = ok(src);
        assert_eq!(f.stmts.len(), 5);
        assert_eq!(var_str(&f, "a"), lit("//https://example.com"));
        assert_eq!(var_str(&f, "b"), lit("/*"));
        assert_eq!(var_str(&f, "c"), lit("*/"));
        assert_eq!(var_str(&f, "d"), lit("x"));
        assert_eq!(var_str(&f, "e"), lit("y"));
    }

    #[test]
    fn comment_marker_after_interpolation() {
        let f = ok("var a = 'x'\nvar b = '${a}//${a}/*'\nvar c = 1\n");
        assert_eq!(f.stmts.len(), 3);
        let parts = var_str(&f, "b");
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[1], StrPart::Lit("//".into()));
        assert_eq!(parts[3], StrPart::Lit("/*".into()));
    }

    #[test]
    fn escapes_and_multiline() {
        let f = ok("var a = 'it\\'s \\${x} \\\\ \\u{41}'\nvar b = '''\nline // one\n'''\n");
        assert_eq!(var_str(&f, "a"), lit("it's ${x} \\ A"));
        assert_eq!(var_str(&f, "b"), lit("line // one\n"));
    }

    #[test]
    fn bicepparam_untyped_params() {
        let src = "using './main.bicep'\n\nparam location = 'westeurope'\nparam count = 3\nvar x = 'y'\nparam rules = [\n  'a'\n]\n";
        // The grammar alone rejects the untyped form.
        assert!(!parse(src, false, 128).errors.is_empty());
        let f = parse(src, true, 128);
        assert_eq!(f.errors, vec![]);
        let kinds: Vec<(&str, bool)> = f
            .stmts
            .iter()
            .map(|s| (s.name.as_str(), matches!(s.kind, StmtKind::Param { .. })))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("", false),
                ("location", true),
                ("count", true),
                ("x", false),
                ("rules", true)
            ]
        );
        assert!(matches!(&f.stmts[0].kind, StmtKind::Using { path, .. } if path == "./main.bicep"));
        // Names keep their place in the original text.
        assert_eq!(&src[f.stmts[1].name_range.clone()], "location");
    }

    #[test]
    fn loop_filters_with_and_without_space() {
        for src in [
            "resource r 'a/b@1' = [for (x, i) in xs: if (i > 0) {\n  name: x\n}]\nparam xs array\n",
            "resource r 'a/b@1' = [for x in xs: if(x.on) {\n  name: x.n\n}]\nparam xs array\n",
            "module m './m.bicep' = [for x in xs: if (x.on) {\n  name: x.n\n}]\nparam xs array\n",
        ] {
            let f = ok(src);
            let body = match &f.stmts[0].kind {
                StmtKind::Resource(r) => &r.body,
                StmtKind::Module { body, .. } => body,
                k => panic!("{k:?}"),
            };
            let ExprKind::For { body, .. } = &body.kind else {
                panic!("{body:?}")
            };
            assert!(matches!(body.kind, ExprKind::If { .. }), "{src}");
        }
    }

    #[test]
    fn spread_and_extension() {
        let f = ok(
            "extension microsoftGraph\nvar a = {\n  ...b\n  c: 1\n}\nvar b = { d: 2 }\nvar e = [...f, 3]\nvar f = [1]\n",
        );
        let st = f.stmts.iter().find(|s| s.name == "a").unwrap();
        let StmtKind::Var { value } = &st.kind else {
            panic!()
        };
        let ExprKind::Object(props) = &value.kind else {
            panic!()
        };
        assert!(matches!(&props[0], Prop::Spread(e) if e.kind == ExprKind::Ident("b".into())));
        let st = f.stmts.iter().find(|s| s.name == "e").unwrap();
        let StmtKind::Var { value } = &st.kind else {
            panic!()
        };
        let ExprKind::Array(els) = &value.kind else {
            panic!()
        };
        assert!(els[0].spread && !els[1].spread);
    }

    #[test]
    fn syntax_error_position() {
        let src =
            "var a = 1\nresource r 'x/y@1' = {\n  name: 'n'\n  properties: {\n    foo: )\n  }\n}\n";
        let f = parse(src, false, 128);
        let e = f.errors.first().expect("an error");
        // Line 5, the `)`.
        assert_eq!(&src[e.range.clone()], ")");
        assert_eq!(e.range.start, src.find(')').unwrap());
    }

    #[test]
    fn deep_nesting_and_garbage_do_not_panic() {
        let deep = format!("var a = {}1{}\n", "[".repeat(20_000), "]".repeat(20_000));
        let f = parse(&deep, false, 128);
        assert!(!f.errors.is_empty());
        let f = parse("\u{0}\u{1}\u{fffd}'''", false, 128);
        assert!(!f.errors.is_empty());
        let f = parse(&"(".repeat(50_000), false, 128);
        assert!(!f.errors.is_empty());
    }
}

#[cfg(test)]
mod precedence_tests {
    use super::*;

    /// A compact rendering of an expression tree.
    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Ident(n) => n.clone(),
            ExprKind::Int(i) => i.to_string(),
            ExprKind::Member { obj, name, .. } => format!("{}.{name}", show(obj)),
            ExprKind::Index { obj, index } => format!("{}[{}]", show(obj), show(index)),
            ExprKind::Not(x) => format!("!({})", show(x)),
            ExprKind::Neg(x) => format!("-({})", show(x)),
            ExprKind::Paren(x) => format!("({})", show(x)),
            ExprKind::Binary { left, right, .. } => format!("[{} op {}]", show(left), show(right)),
            ExprKind::Ternary { cond, then, other } => {
                format!("[{} ? {} : {}]", show(cond), show(then), show(other))
            }
            ExprKind::Lambda { params, body } => format!("{} => {}", params.join(","), show(body)),
            ExprKind::Call { name, args, .. } => format!(
                "{name}({})",
                args.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            k => format!("{k:?}"),
        }
    }

    #[test]
    fn member_access_binds_tightest() {
        let cases = [
            ("!s.aks", "!(s.aks)"),
            ("-a.b[0]", "-(a.b[0])"),
            ("1 + a.b", "[1 op a.b]"),
            ("a.x == b.c", "[a.x op b.c]"),
            ("x ? y : z.w", "[x ? y : z.w]"),
            ("(a + b).c", "([a op b]).c"),
            ("!a.b && c.d", "[!(a.b) op c.d]"),
            ("filter(xs, x => x.on)", "filter(xs, x => x.on)"),
            ("a.?b.c", "tryGet(a, Str([Lit(\"b\")])).c"),
        ];
        for (src, want) in cases {
            let f = parse(&format!("var v = {src}\n"), false, 128);
            assert_eq!(f.errors, vec![], "{src}");
            let StmtKind::Var { value } = &f.stmts[0].kind else {
                panic!()
            };
            assert_eq!(show(value), want, "{src}");
            assert_eq!(value.range, 8..8 + src.len(), "{src}");
        }
    }
}

#[cfg(test)]
mod array_call_tests {
    use super::*;

    #[test]
    fn calls_inside_arrays_stay_calls() {
        let src = "var b = 'x'\nvar a = [\n  resourceGroup().id\n  resourceId('a', b)\n  sys.concat('x').y[0]\n  b\n]\n";
        let f = parse(src, false, 128);
        assert_eq!(f.errors, vec![]);
        let StmtKind::Var { value } = &f.stmts[1].kind else {
            panic!()
        };
        let ExprKind::Array(els) = &value.kind else {
            panic!("{value:?}")
        };
        let texts: Vec<&str> = els.iter().map(|e| &src[e.value.range.clone()]).collect();
        assert_eq!(
            texts,
            [
                "resourceGroup().id",
                "resourceId('a', b)",
                "sys.concat('x').y[0]",
                "b"
            ]
        );
        assert!(
            matches!(&els[0].value.kind, ExprKind::Member { obj, name, .. }
            if name == "id" && matches!(&obj.kind, ExprKind::Call { name, args, .. } if name == "resourceGroup" && args.is_empty()))
        );
        assert!(
            matches!(&els[1].value.kind, ExprKind::Call { name, args, .. } if name == "resourceId" && args.len() == 2)
        );
        assert!(matches!(&els[2].value.kind, ExprKind::Index { .. }));
    }
}

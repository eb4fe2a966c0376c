//! Lowering: evaluate one Bicep template instance (a file with its parameter
//! values) the way the Bicep compiler and ARM would, into resource instances
//! whose property trees keep their Bicep spans.
//!
//! Identifiers resolve lazily (parameters, variables, resources, modules,
//! functions) with memoisation; a name that is being evaluated when it is
//! needed again is a cycle and evaluates to `Unknown`. Depth, loop sizes and
//! the total number of evaluation steps are bounded, so hostile input ends
//! as unknown values and notes, never as a hang or a stack overflow.

use super::funcs;
use super::modules::{self, ModuleTarget};
use super::syntax::*;
use super::value::{Link, SVal, V};
use crate::finding::{Code, Finding};
use crate::frontend::FrontendOptions;
use crate::model::{ResKey, Unknown};
use crate::source::{FileId, Sources, Span};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Most evaluation steps for one load, across all templates.
const MAX_STEPS: usize = 2_000_000;
/// Largest parameter or variable value followed, in nodes.
const MAX_VALUE_NODES: usize = 100_000;
/// Most value nodes copied out of parameters and variables in one load.
const MAX_COPIED_NODES: usize = 50_000_000;
/// Deepest module nesting followed.
const MAX_MODULE_DEPTH: usize = 32;

/// Placeholders for what only a deployment knows; `ResKey::from_arm_id`
/// drops both, so keys stay exact.
pub const SUBSCRIPTION: &str = "{subscriptionId}";
pub const RESOURCE_GROUP: &str = "{resourceGroupName}";

/// One deployed resource, as far as the template says.
#[derive(Clone, Debug, PartialEq)]
pub struct ResInst {
    pub file: FileId,
    /// The Bicep symbolic name.
    pub symbol: String,
    /// `Microsoft.Network/virtualNetworks/subnets`.
    pub full_type: String,
    pub api_version: String,
    /// Every name segment (parent names first); `None` when one is unknown.
    pub names: Option<Vec<String>>,
    /// The `name` property as written.
    pub name: Option<SVal>,
    /// The evaluated body (`name`, `location`, `properties`, ...).
    pub body: SVal,
    pub decl_span: Span,
    pub condition: Option<Unknown>,
    pub existing: bool,
}

impl ResInst {
    pub fn key(&self) -> Option<ResKey> {
        let names = self.names.as_ref()?;
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        Some(ResKey::arm(&self.full_type, &refs))
    }

    /// The ARM id, with placeholders for subscription and resource group.
    pub fn id(&self) -> Option<String> {
        let names = self.names.as_ref()?;
        let mut parts = self.full_type.split('/');
        let ns = parts.next()?;
        let mut s =
            format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/{ns}");
        for (t, n) in parts.zip(names.iter()) {
            s.push('/');
            s.push_str(t);
            s.push('/');
            s.push_str(n);
        }
        Some(s)
    }

    /// `Microsoft.Network/azureFirewalls 'fw-hub'`, or the symbolic name.
    pub fn label(&self) -> String {
        match self.names.as_ref().and_then(|n| n.last()) {
            Some(n) => format!("{} '{}'", self.full_type, n),
            None => format!("{} {}", self.full_type, self.symbol),
        }
    }
}

/// Shared state of one `load`: parsed files, output and findings.
pub struct Loader<'f> {
    pub sources: &'f Sources,
    pub opts: &'f FrontendOptions,
    pub parsed: &'f HashMap<FileId, File>,
    pub resources: Vec<ResInst>,
    pub findings: Vec<Finding>,
    noted: HashSet<(FileId, usize, usize, String)>,
    /// Files of the module chain being evaluated (cycle detection).
    pub stack: Vec<FileId>,
    steps: usize,
    copied: usize,
}

impl<'f> Loader<'f> {
    pub fn new(
        sources: &'f Sources,
        opts: &'f FrontendOptions,
        parsed: &'f HashMap<FileId, File>,
    ) -> Self {
        Loader {
            sources,
            opts,
            parsed,
            resources: Vec::new(),
            findings: Vec::new(),
            noted: HashSet::new(),
            stack: Vec::new(),
            steps: 0,
            copied: 0,
        }
    }

    /// An AEL008 note, once per place and message.
    pub fn note(&mut self, span: &Span, message: String, label: &str, help: Option<&str>) {
        let k = (span.file, span.range.start, span.range.end, message.clone());
        if !self.noted.insert(k) {
            return;
        }
        let mut f = Finding::new(Code::AEL008, message, span.clone(), label);
        if let Some(h) = help {
            f = f.help(h);
        }
        self.findings.push(f);
    }

    /// Account for copying a value of `size` nodes; past the budget the
    /// copy is refused and the value is unknown.
    fn charge(&mut self, size: usize, v: SVal) -> SVal {
        self.copied += size;
        if self.copied > MAX_COPIED_NODES {
            return SVal::unknown("evaluation budget exhausted", v.span);
        }
        v
    }

    fn step(&mut self) -> bool {
        self.steps += 1;
        self.steps <= MAX_STEPS
    }
}

#[derive(Clone)]
enum Slot<T> {
    Todo,
    Busy,
    Done(T),
}

#[derive(Clone, Copy)]
enum Sym {
    Param(usize),
    Var(usize),
    Res(usize),
    Mod(usize),
    Func(usize),
    Import,
}

struct ResEntry<'f> {
    decl: &'f ResourceDecl,
    /// The resource this one is declared inside of.
    nested_in: Option<usize>,
    is_loop: bool,
    state: Slot<Rc<Vec<ResInst>>>,
}

#[derive(Clone)]
struct ModInst {
    outputs: Result<HashMap<String, SVal>, String>,
    name: Option<SVal>,
}

struct ModEntry<'f> {
    stmt: &'f Stmt,
    is_loop: bool,
    state: Slot<Rc<Vec<ModInst>>>,
}

/// One template evaluated with one set of parameter values.
pub struct Inst<'f> {
    file: FileId,
    ast: &'f File,
    given: HashMap<String, SVal>,
    syms: HashMap<&'f str, Sym>,
    /// Nested resources, reachable by name inside their parent.
    nested: HashMap<&'f str, usize>,
    /// Parameter and variable values, with their size in nodes.
    values: HashMap<usize, Slot<(SVal, usize)>>,
    entries: Vec<ResEntry<'f>>,
    mods: Vec<ModEntry<'f>>,
    locals: Vec<(String, SVal)>,
    depth: usize,
    cond: Option<Unknown>,
}

fn is_loop_body(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::For { .. })
}

impl<'f> Inst<'f> {
    pub fn new(
        file: FileId,
        ast: &'f File,
        given: HashMap<String, SVal>,
        cond: Option<Unknown>,
    ) -> Self {
        let mut inst = Inst {
            file,
            ast,
            given,
            syms: HashMap::new(),
            nested: HashMap::new(),
            values: HashMap::new(),
            entries: Vec::new(),
            mods: Vec::new(),
            locals: Vec::new(),
            depth: 0,
            cond,
        };
        for (i, st) in ast.stmts.iter().enumerate() {
            let sym = match &st.kind {
                StmtKind::Param { .. } => Sym::Param(i),
                StmtKind::Var { .. } => Sym::Var(i),
                StmtKind::Func { .. } => Sym::Func(i),
                StmtKind::Resource(r) => {
                    let e = inst.add_resource(r, None);
                    Sym::Res(e)
                }
                StmtKind::Module { body, .. } => {
                    inst.mods.push(ModEntry {
                        stmt: st,
                        is_loop: is_loop_body(body),
                        state: Slot::Todo,
                    });
                    Sym::Mod(inst.mods.len() - 1)
                }
                _ => continue,
            };
            inst.syms.insert(st.name.as_str(), sym);
        }
        for name in &ast.imports {
            inst.syms.entry(name.as_str()).or_insert(Sym::Import);
        }
        inst
    }

    fn add_resource(&mut self, r: &'f ResourceDecl, nested_in: Option<usize>) -> usize {
        let idx = self.entries.len();
        self.entries.push(ResEntry {
            decl: r,
            nested_in,
            is_loop: is_loop_body(&r.body),
            state: Slot::Todo,
        });
        if nested_in.is_some() {
            self.nested.insert(r.name.as_str(), idx);
        }
        let mut body = &r.body;
        while let ExprKind::For { body: b, .. } | ExprKind::If { body: b, .. } = &body.kind {
            body = b;
        }
        if let ExprKind::Object(props) = &body.kind {
            for p in props {
                if let Prop::Resource(child) = p {
                    self.add_resource(child, Some(idx));
                }
            }
        }
        idx
    }

    fn span(&self, r: &std::ops::Range<usize>) -> Span {
        Span::new(self.file, r.clone())
    }

    /// Evaluate every resource and module, push the resources to the loader
    /// and return the outputs.
    pub fn run(&mut self, ld: &mut Loader<'f>) -> HashMap<String, SVal> {
        // Every parameter once, so wrong values are noted even if unused.
        for (i, st) in self.ast.stmts.iter().enumerate() {
            if matches!(st.kind, StmtKind::Param { .. }) {
                self.param(ld, i);
            }
        }
        for i in 0..self.entries.len() {
            self.res_instances(ld, i);
        }
        for i in 0..self.mods.len() {
            self.mod_instances(ld, i);
        }
        for e in &self.entries {
            if let Slot::Done(v) = &e.state {
                ld.resources.extend(v.iter().cloned());
            }
        }
        let mut outputs = HashMap::new();
        for st in &self.ast.stmts {
            if let StmtKind::Output { value } = &st.kind {
                let v = self.eval(ld, value);
                outputs.insert(st.name.clone(), v);
            }
        }
        outputs
    }

    /// Values of the `param` statements (used for `.bicepparam` files).
    pub fn param_values(&mut self, ld: &mut Loader<'f>) -> HashMap<String, SVal> {
        let mut out = HashMap::new();
        for (i, st) in self.ast.stmts.iter().enumerate() {
            if let StmtKind::Param { .. } = st.kind {
                out.insert(st.name.clone(), self.param(ld, i));
            }
        }
        out
    }

    // ----- names -----

    fn param(&mut self, ld: &mut Loader<'f>, i: usize) -> SVal {
        let Some(st) = self.ast.stmts.get(i) else {
            return SVal::error("internal: no such parameter", Span::default());
        };
        let StmtKind::Param { ty, default } = &st.kind else {
            return SVal::error("internal: not a parameter", Span::default());
        };
        let span = self.span(&st.name_range);
        if let Some(Slot::Done((v, size))) = self.values.get(&i) {
            let size = *size;
            let v = v.clone();
            return ld.charge(size, v);
        }
        if let Some(v) = self.given.remove(&st.name) {
            self.check_param(ld, st, ty, &v);
            let size = node_count(&v, usize::MAX).unwrap_or(1);
            self.values.insert(i, Slot::Done((v.clone(), size)));
            return v;
        }
        match default {
            Some(d) => self.memo(ld, i, d, &st.name),
            None => {
                let allowed = allowed_values(st);
                let hint = if allowed.is_empty() {
                    String::new()
                } else {
                    format!(" (allowed: {})", allowed.join(", "))
                };
                SVal::unknown(
                    format!(
                        "parameter `{}` has no default and no `.bicepparam` file or module argument sets it{hint}",
                        st.name
                    ),
                    span,
                )
            }
        }
    }

    /// Wrong-type and not-allowed parameter values are notes: ARM would
    /// reject the deployment, so the value cannot be trusted.
    fn check_param(&mut self, ld: &mut Loader<'f>, st: &Stmt, ty: &str, v: &SVal) {
        let want = match ty.trim() {
            "string" | "secureString" => Some("string"),
            "int" => Some("int"),
            "bool" => Some("bool"),
            "array" => Some("array"),
            "object" | "secureObject" => Some("object"),
            t if t.ends_with("[]") => Some("array"),
            _ => None,
        };
        let got = v.type_name();
        if let Some(w) = want
            && matches!(got, "string" | "int" | "bool" | "array" | "object")
            && w != got
        {
            ld.note(
                &v.span,
                format!(
                    "parameter `{}` is declared `{}` but is given a {got}",
                    st.name, ty
                ),
                "value of the wrong type",
                Some("ARM rejects this deployment; pass a value of the declared type"),
            );
            return;
        }
        let allowed = allowed_values(st);
        if let Some(s) = v.as_str()
            && !allowed.is_empty()
            && !allowed.iter().any(|a| a == &format!("'{s}'"))
        {
            ld.note(
                &v.span,
                format!(
                    "value `{s}` of parameter `{}` is not one of its @allowed values ({})",
                    st.name,
                    allowed.join(", ")
                ),
                "value not allowed",
                None,
            );
        }
    }

    fn memo(&mut self, ld: &mut Loader<'f>, i: usize, e: &'f Expr, name: &str) -> SVal {
        match self.values.get(&i) {
            Some(Slot::Done((v, size))) => {
                let size = *size;
                let v = v.clone();
                return ld.charge(size, v);
            }
            Some(Slot::Busy) => {
                return SVal::error(format!("`{name}` depends on itself"), self.span(&e.range));
            }
            _ => {}
        }
        self.values.insert(i, Slot::Busy);
        // Parameters and variables see no loop variables of their user.
        let locals = std::mem::take(&mut self.locals);
        let v = self.eval(ld, e);
        self.locals = locals;
        let (v, size) = match node_count(&v, MAX_VALUE_NODES) {
            Some(n) => (v, n),
            None => (
                SVal::unknown(
                    format!(
                        "`{name}` is larger than {MAX_VALUE_NODES} values, which this tool does not follow"
                    ),
                    v.span,
                ),
                1,
            ),
        };
        self.values.insert(i, Slot::Done((v.clone(), size)));
        v
    }

    fn ident(&mut self, ld: &mut Loader<'f>, name: &str, span: Span) -> SVal {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return v.clone();
        }
        let sym = self
            .syms
            .get(name)
            .copied()
            .or_else(|| self.nested.get(name).map(|&e| Sym::Res(e)));
        match sym {
            Some(Sym::Param(i)) => self.param(ld, i),
            Some(Sym::Var(i)) => match self.ast.stmts.get(i).map(|s| &s.kind) {
                Some(StmtKind::Var { value }) => self.memo(ld, i, value, name),
                _ => SVal::error("internal: not a variable", span),
            },
            Some(Sym::Res(e)) => SVal::new(
                V::Resource {
                    entry: e,
                    index: None,
                },
                span,
            ),
            Some(Sym::Mod(e)) => SVal::new(
                V::Module {
                    entry: e,
                    index: None,
                },
                span,
            ),
            Some(Sym::Func(_)) => SVal::error(format!("function `{name}` used as a value"), span),
            Some(Sym::Import) => SVal::unknown(
                format!("`{name}` is imported from another file, which is not followed"),
                span,
            ),
            None => SVal::error(format!("`{name}` is not declared"), span),
        }
    }

    // ----- expressions -----

    pub fn eval(&mut self, ld: &mut Loader<'f>, e: &'f Expr) -> SVal {
        let span = self.span(&e.range);
        if !ld.step() {
            return SVal::error("evaluation budget exhausted", span);
        }
        if self.depth > ld.opts.limits.max_depth.max(16) {
            return SVal::error("expression nested too deeply to evaluate", span);
        }
        self.depth += 1;
        let v = self.eval_inner(ld, e, span);
        self.depth -= 1;
        v
    }

    fn eval_inner(&mut self, ld: &mut Loader<'f>, e: &'f Expr, span: Span) -> SVal {
        match &e.kind {
            ExprKind::Null => SVal::new(V::Null, span),
            ExprKind::Bool(b) => SVal::new(V::Bool(*b), span),
            ExprKind::Int(i) => SVal::new(V::Int(*i), span),
            ExprKind::Str(parts) => self.interpolate(ld, parts, span),
            ExprKind::Ident(n) => self.ident(ld, n, span),
            ExprKind::Array(els) => {
                let mut out = Vec::new();
                for el in els {
                    let v = self.eval(ld, &el.value);
                    if el.spread {
                        match v.v {
                            V::Arr(a) => out.extend(a),
                            _ => return unknown_from(&v, "spread of an unknown array", span),
                        }
                    } else {
                        out.push(v);
                    }
                }
                SVal::new(V::Arr(out), span)
            }
            ExprKind::Object(props) => {
                let mut out: Vec<(String, SVal)> = Vec::new();
                for p in props {
                    match p {
                        Prop::KeyValue { key, value, .. } => {
                            let v = self.eval(ld, value);
                            set_prop(&mut out, key.clone(), v);
                        }
                        Prop::Spread(x) => {
                            let v = self.eval(ld, x);
                            match v.v {
                                V::Obj(o) => {
                                    for (k, v) in o {
                                        set_prop(&mut out, k, v);
                                    }
                                }
                                _ => {
                                    return unknown_from(&v, "spread of an unknown object", span);
                                }
                            }
                        }
                        Prop::Resource(_) => {}
                    }
                }
                SVal::new(V::Obj(out), span)
            }
            ExprKind::Member { .. } | ExprKind::Index { .. } => self.access_chain(ld, e, span),
            ExprKind::ChildAccess { obj, name } => {
                let base = self.eval(ld, obj);
                match base.v {
                    V::Resource { entry, .. } => {
                        let child = self
                            .entries
                            .iter()
                            .position(|c| c.nested_in == Some(entry) && c.decl.name == *name);
                        match child {
                            Some(c) => SVal::new(
                                V::Resource {
                                    entry: c,
                                    index: None,
                                },
                                span,
                            ),
                            None => SVal::error(
                                format!("resource has no nested resource `{name}`"),
                                span,
                            ),
                        }
                    }
                    _ => unknown_from(&base, "`::` on something that is not a resource", span),
                }
            }
            ExprKind::Call {
                ns,
                name,
                name_range,
                args,
            } => self.call(ld, ns.as_deref(), name, name_range, args, span),
            ExprKind::CallExpr { .. } => {
                SVal::unknown("calls through imported namespaces are not followed", span)
            }
            ExprKind::Paren(x) => self.eval(ld, x),
            ExprKind::Not(x) => {
                let v = self.eval(ld, x);
                match v.v {
                    V::Bool(b) => SVal::new(V::Bool(!b), span),
                    _ => unknown_from(&v, "`!` of a value that is not a bool", span),
                }
            }
            ExprKind::Neg(x) => {
                let v = self.eval(ld, x);
                match v.v {
                    V::Int(i) => SVal::new(V::Int(i.saturating_neg()), span),
                    _ => unknown_from(&v, "`-` of a value that is not an int", span),
                }
            }
            ExprKind::Binary { op, left, right } => self.binary(ld, *op, left, right, span),
            ExprKind::Ternary { cond, then, other } => {
                let c = self.eval(ld, cond);
                match c.v {
                    V::Bool(true) => self.eval(ld, then),
                    V::Bool(false) => self.eval(ld, other),
                    _ => {
                        let a = self.eval(ld, then);
                        let b = self.eval(ld, other);
                        if same_value(&a, &b) {
                            a
                        } else {
                            unknown_from(&c, "the condition of `? :` is not a bool", span)
                        }
                    }
                }
            }
            ExprKind::For {
                item,
                index,
                iter,
                body,
            } => self.for_values(ld, item, index, iter, body, span),
            ExprKind::If { cond, body } => {
                let c = self.eval(ld, cond);
                match c.v {
                    V::Bool(true) => self.eval(ld, body),
                    _ => unknown_from(&c, "`if` outside a loop or resource", span),
                }
            }
            ExprKind::Lambda { .. } => {
                SVal::error("a lambda is only allowed as a function argument", span)
            }
            ExprKind::Unsupported(t) => {
                SVal::error(format!("expression `{t}` is not supported"), span)
            }
        }
    }

    fn interpolate(&mut self, ld: &mut Loader<'f>, parts: &'f [StrPart], span: Span) -> SVal {
        let mut s = String::new();
        for p in parts {
            match p {
                StrPart::Lit(l) => s.push_str(l),
                StrPart::Interp(x) => {
                    let v = self.eval(ld, x);
                    match display(&v) {
                        Some(t) => s.push_str(&t),
                        None => return unknown_from(&v, "interpolates a value", span),
                    }
                }
            }
        }
        SVal::new(V::Str(s), span)
    }

    fn binary(
        &mut self,
        ld: &mut Loader<'f>,
        op: BinOp,
        left: &'f Expr,
        right: &'f Expr,
        span: Span,
    ) -> SVal {
        let l = self.eval(ld, left);
        // Short-circuit as ARM's `and`/`or`/`??` do.
        match (op, &l.v) {
            (BinOp::And, V::Bool(false)) => return SVal::new(V::Bool(false), span),
            (BinOp::Or, V::Bool(true)) => return SVal::new(V::Bool(true), span),
            (BinOp::Coalesce, V::Null) => return self.eval(ld, right),
            (BinOp::Coalesce, V::Unknown { .. }) => return l,
            (BinOp::Coalesce, _) => return l,
            _ => {}
        }
        let r = self.eval(ld, right);
        let b = |x: bool| SVal::new(V::Bool(x), span.clone());
        match op {
            BinOp::And | BinOp::Or => match (&l.v, &r.v) {
                (V::Bool(_), V::Bool(y)) => b(*y),
                (_, V::Bool(false)) if op == BinOp::And => b(false),
                (_, V::Bool(true)) if op == BinOp::Or => b(true),
                _ => unknown_pair(&l, &r, "a logical operator has an unknown side", span),
            },
            BinOp::Eq | BinOp::Ne | BinOp::EqI | BinOp::NeI => {
                if !concrete(&l) || !concrete(&r) {
                    return unknown_pair(&l, &r, "a comparison has an unknown side", span);
                }
                let eq = if matches!(op, BinOp::EqI | BinOp::NeI) {
                    match (&l.v, &r.v) {
                        (V::Str(a), V::Str(c)) => a.eq_ignore_ascii_case(c),
                        _ => same_value(&l, &r),
                    }
                } else {
                    same_value(&l, &r)
                };
                b(if matches!(op, BinOp::Eq | BinOp::EqI) {
                    eq
                } else {
                    !eq
                })
            }
            BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le => {
                let ord = match (&l.v, &r.v) {
                    (V::Int(a), V::Int(c)) => a.cmp(c),
                    (V::Str(a), V::Str(c)) => a.cmp(c),
                    _ => return unknown_pair(&l, &r, "a comparison has an unknown side", span),
                };
                use std::cmp::Ordering::*;
                b(match op {
                    BinOp::Gt => ord == Greater,
                    BinOp::Ge => ord != Less,
                    BinOp::Lt => ord == Less,
                    _ => ord != Greater,
                })
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let (V::Int(a), V::Int(c)) = (&l.v, &r.v) else {
                    return unknown_pair(&l, &r, "arithmetic on a value that is not an int", span);
                };
                let res = match op {
                    BinOp::Add => a.checked_add(*c),
                    BinOp::Sub => a.checked_sub(*c),
                    BinOp::Mul => a.checked_mul(*c),
                    BinOp::Div => a.checked_div(*c),
                    _ => a.checked_rem(*c),
                };
                match res {
                    Some(x) => SVal::new(V::Int(x), span),
                    None => SVal::error("arithmetic overflow or division by zero", span),
                }
            }
            BinOp::Coalesce => l,
        }
    }

    /// Iterate a `for` source: the items, or the unknown that stops it.
    fn loop_items(&mut self, ld: &mut Loader<'f>, iter: &'f Expr) -> Result<Vec<SVal>, SVal> {
        let src = self.eval(ld, iter);
        let items = match src.v {
            V::Arr(a) => a,
            _ => {
                return Err(unknown_from(
                    &src,
                    "a `for` loop over a value that is not an array",
                    src.span.clone(),
                ));
            }
        };
        let max = ld.opts.limits.max_expansion;
        if items.len() > max {
            return Err(SVal::unknown(
                format!(
                    "the loop has {} items, more than the limit of {max}",
                    items.len()
                ),
                src.span,
            ));
        }
        Ok(items)
    }

    fn for_values(
        &mut self,
        ld: &mut Loader<'f>,
        item: &'f Option<String>,
        index: &'f Option<String>,
        iter: &'f Expr,
        body: &'f Expr,
        span: Span,
    ) -> SVal {
        let items = match self.loop_items(ld, iter) {
            Ok(i) => i,
            Err(u) => return SVal::new(u.v, span),
        };
        let mut out = Vec::new();
        for (i, it) in items.into_iter().enumerate() {
            let n = self.bind(item, index, it, i, &span);
            let v = match &body.kind {
                ExprKind::If { cond, body: b } => {
                    let c = self.eval(ld, cond);
                    match c.v {
                        V::Bool(true) => Some(self.eval(ld, b)),
                        V::Bool(false) => None,
                        _ => {
                            self.locals.truncate(n);
                            return unknown_from(&c, "a loop filter is unknown", span);
                        }
                    }
                }
                _ => Some(self.eval(ld, body)),
            };
            self.locals.truncate(n);
            out.extend(v);
        }
        SVal::new(V::Arr(out), span)
    }

    /// Push loop variables; returns the length to truncate back to.
    fn bind(
        &mut self,
        item: &Option<String>,
        index: &Option<String>,
        it: SVal,
        i: usize,
        span: &Span,
    ) -> usize {
        let n = self.locals.len();
        if let Some(name) = item {
            self.locals.push((name.clone(), it));
        }
        if let Some(name) = index {
            self.locals
                .push((name.clone(), SVal::new(V::Int(i as i64), span.clone())));
        }
        n
    }

    /// `a.b[c].d`: evaluated from the root so that a resource's runtime
    /// properties become one [`Link`] with the whole path.
    fn access_chain(&mut self, ld: &mut Loader<'f>, e: &'f Expr, span: Span) -> SVal {
        let mut segs: Vec<&'f Expr> = Vec::new();
        let mut root = e;
        while let ExprKind::Member { obj, .. } | ExprKind::Index { obj, .. } = &root.kind {
            segs.push(root);
            root = obj;
        }
        segs.reverse();
        let mut cur = self.eval(ld, root);
        let mut i = 0;
        while i < segs.len() {
            let seg = segs[i];
            let key = match &seg.kind {
                ExprKind::Member { name, .. } => SVal::new(V::Str(name.clone()), span.clone()),
                ExprKind::Index { index, .. } => self.eval(ld, index),
                _ => break,
            };
            let seg_span = self.span(&seg.range);
            match cur.v {
                V::Resource { entry, index } => {
                    if let (None, V::Int(n)) = (index, &key.v) {
                        cur = SVal::new(
                            V::Resource {
                                entry,
                                index: usize::try_from(*n).ok(),
                            },
                            seg_span,
                        );
                        i += 1;
                        continue;
                    }
                    // Collect the rest of the path for a runtime link.
                    let mut rest = vec![key];
                    for s in &segs[i + 1..] {
                        rest.push(match &s.kind {
                            ExprKind::Member { name, .. } => {
                                SVal::new(V::Str(name.clone()), span.clone())
                            }
                            ExprKind::Index { index, .. } => self.eval(ld, index),
                            _ => break,
                        });
                    }
                    return self.resource_path(ld, entry, index, &rest, span);
                }
                V::Module { entry, index } => {
                    if let (None, V::Int(n)) = (index, &key.v) {
                        cur = SVal::new(
                            V::Module {
                                entry,
                                index: usize::try_from(*n).ok(),
                            },
                            seg_span,
                        );
                        i += 1;
                        continue;
                    }
                    let outputs = key.as_str() == Some("outputs");
                    if outputs {
                        let Some(name) = segs.get(i + 1).and_then(|s| match &s.kind {
                            ExprKind::Member { name, .. } => Some(name.clone()),
                            _ => None,
                        }) else {
                            return SVal::unknown("module outputs as a whole", span);
                        };
                        let out_span = self.span(&segs[i + 1].range);
                        cur = self.module_output(ld, entry, index, &name, out_span);
                        i += 2;
                        continue;
                    }
                    if key.as_str() == Some("name") {
                        cur = self.module_name(ld, entry, index, seg_span);
                        i += 1;
                        continue;
                    }
                    return SVal::unknown(
                        format!(
                            "module property `{}` is not modelled",
                            display(&key).unwrap_or_default()
                        ),
                        span,
                    );
                }
                _ => {
                    cur = step_into(cur, &key, seg_span);
                }
            }
            i += 1;
        }
        cur
    }

    fn resource_path(
        &mut self,
        ld: &mut Loader<'f>,
        entry: usize,
        index: Option<usize>,
        path: &[SVal],
        span: Span,
    ) -> SVal {
        let sym = self
            .entries
            .get(entry)
            .map(|e| e.decl.name.clone())
            .unwrap_or_default();
        if self
            .entries
            .get(entry)
            .is_some_and(|e| matches!(e.state, Slot::Busy))
        {
            // Read while its own body is being evaluated (a chain of
            // references back to it): only its name and id are within reach.
            let key = path.first().and_then(display).unwrap_or_default();
            return match (key.as_str(), path.len()) {
                ("name" | "id", 1) => self.name_only(ld, entry, key == "id", span),
                _ => SVal::error(
                    format!("`{sym}` refers to itself through a cycle of references"),
                    span,
                ),
            };
        }
        let insts = self.res_instances(ld, entry);
        let is_loop = self.entries.get(entry).is_some_and(|e| e.is_loop);
        let inst = match index {
            Some(i) => insts.get(i),
            None if is_loop => {
                return SVal::unknown(
                    format!("`{sym}` is a resource loop; index it to read a property"),
                    span,
                );
            }
            None => insts.first(),
        };
        let Some(inst) = inst else {
            return SVal::unknown(
                format!("resource `{sym}` is not deployed (false condition or empty loop)"),
                span,
            );
        };
        let keys: Vec<String> = path.iter().filter_map(display).collect();
        if keys.len() != path.len() {
            return SVal::unknown(format!("an index into `{sym}` is unknown"), span);
        }
        let first = keys.first().map(String::as_str).unwrap_or("");
        match first {
            "id" if keys.len() == 1 => match inst.id() {
                Some(id) => SVal::new(V::Str(id), span),
                None => SVal::unknown(format!("the name of `{sym}` is unknown"), span),
            },
            "name" if keys.len() == 1 => match &inst.name {
                Some(n) => n.clone(),
                None => SVal::unknown(format!("the name of `{sym}` is unknown"), span),
            },
            "type" if keys.len() == 1 => SVal::new(V::Str(inst.full_type.clone()), span),
            "apiVersion" if keys.len() == 1 => SVal::new(V::Str(inst.api_version.clone()), span),
            "properties" => {
                let rest: Vec<&str> = keys[1..].iter().map(String::as_str).collect();
                if !inst.existing
                    && let Some(v) = inst.body.get("properties").and_then(|p| p.path(&rest))
                {
                    return v.clone();
                }
                // A child's id read from its parent's inline collection
                // (`vnet.properties.subnets[0].id`).
                if let [coll, idx, "id"] = rest.as_slice()
                    && !inst.existing
                    && let Some(child) = inst
                        .body
                        .get("properties")
                        .and_then(|p| p.path(&[coll, idx]))
                    && let (Some(parent_id), Some(name)) =
                        (inst.id(), child.get("name").and_then(SVal::as_str))
                {
                    return SVal::new(V::Str(format!("{parent_id}/{coll}/{name}")), span);
                }
                match inst.key() {
                    Some(target) => SVal::new(
                        V::Link(Link {
                            target,
                            path: rest.iter().map(|s| s.to_string()).collect(),
                        }),
                        span,
                    ),
                    None => SVal::unknown(format!("the name of `{sym}` is unknown"), span),
                }
            }
            _ => {
                let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                match inst.body.path(&refs) {
                    Some(v) if !inst.existing => v.clone(),
                    _ => SVal::unknown(
                        format!("`{sym}.{}` is known only after deployment", keys.join(".")),
                        span,
                    ),
                }
            }
        }
    }

    /// Name or id of a plain resource (no loop, no parent) from its `name`
    /// property alone, without evaluating the rest of its body.
    fn name_only(&mut self, ld: &mut Loader<'f>, entry: usize, id: bool, span: Span) -> SVal {
        let Some(e) = self.entries.get(entry) else {
            return SVal::error("internal: no such resource", span);
        };
        let decl = e.decl;
        let plain = e.nested_in.is_none();
        let props = match &decl.body.kind {
            ExprKind::Object(p) => Some(p),
            ExprKind::If { body, .. } => match &body.kind {
                ExprKind::Object(p) => Some(p),
                _ => None,
            },
            _ => None,
        };
        let prop = |k: &str| {
            props.and_then(|ps| {
                ps.iter().find_map(|p| match p {
                    Prop::KeyValue { key, value, .. } if key == k => Some(value),
                    _ => None,
                })
            })
        };
        let (Some(name_expr), true, None) = (prop("name"), plain, prop("parent")) else {
            return SVal::error(
                format!(
                    "`{}` refers to itself through a cycle of references",
                    decl.name
                ),
                span,
            );
        };
        let name = self.eval(ld, name_expr);
        if !id {
            return name;
        }
        let Some(n) = name.as_str() else {
            return unknown_from(&name, "the resource name", span);
        };
        let ty = decl.type_ref.split('@').next().unwrap_or("");
        let mut parts = ty.split('/');
        let ns = parts.next().unwrap_or("");
        let mut out =
            format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/{ns}");
        for (t, seg) in parts.zip(n.split('/')) {
            out.push('/');
            out.push_str(t);
            out.push('/');
            out.push_str(seg);
        }
        SVal::new(V::Str(out), span)
    }

    // ----- resources -----

    fn res_instances(&mut self, ld: &mut Loader<'f>, entry: usize) -> Rc<Vec<ResInst>> {
        let Some(e) = self.entries.get(entry) else {
            return Rc::default();
        };
        match &e.state {
            Slot::Done(v) => return v.clone(),
            Slot::Busy => return Rc::default(),
            Slot::Todo => {}
        }
        let decl = e.decl;
        let nested_in = e.nested_in;
        if let Some(en) = self.entries.get_mut(entry) {
            en.state = Slot::Busy;
        }
        let parents: Vec<Option<ResInst>> = match nested_in {
            Some(p) => self
                .res_instances(ld, p)
                .iter()
                .cloned()
                .map(Some)
                .collect(),
            None => vec![None],
        };
        let mut out = Vec::new();
        let span = self.span(&decl.range);
        for parent in parents {
            let base_cond = parent.as_ref().and_then(|p| p.condition.clone());
            self.instances_of(
                ld,
                decl,
                &decl.body,
                parent.as_ref(),
                base_cond,
                &span,
                &mut out,
            );
        }
        if let Some(en) = self.entries.get_mut(entry) {
            en.state = Slot::Done(Rc::new(out));
        }
        match self.entries.get(entry).map(|e| &e.state) {
            Some(Slot::Done(v)) => v.clone(),
            _ => Rc::default(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn instances_of(
        &mut self,
        ld: &mut Loader<'f>,
        decl: &'f ResourceDecl,
        body: &'f Expr,
        parent: Option<&ResInst>,
        cond: Option<Unknown>,
        span: &Span,
        out: &mut Vec<ResInst>,
    ) {
        match &body.kind {
            ExprKind::If { cond: c, body: b } => {
                let cv = self.eval(ld, c);
                match cv.v {
                    V::Bool(true) => self.instances_of(ld, decl, b, parent, cond, span, out),
                    V::Bool(false) => {}
                    _ => {
                        let why = Unknown::new(format!(
                            "condition of `{}` is unknown: {}",
                            decl.name,
                            cv.unknown_reason().unwrap_or("not a bool")
                        ));
                        self.instances_of(ld, decl, b, parent, Some(why), span, out);
                    }
                }
            }
            ExprKind::For {
                item,
                index,
                iter,
                body: b,
            } => match self.loop_items(ld, iter) {
                Ok(items) => {
                    for (i, it) in items.into_iter().enumerate() {
                        let n = self.bind(item, index, it, i, span);
                        self.instances_of(ld, decl, b, parent, cond.clone(), span, out);
                        self.locals.truncate(n);
                    }
                }
                Err(u) => {
                    if modules::relevant_type(&decl.type_ref) {
                        ld.note(
                            &self.span(&iter.range),
                            format!(
                                "resource loop `{}` is not expanded: {}",
                                decl.name,
                                u.unknown_reason().unwrap_or("unknown items")
                            ),
                            "loop source not known statically",
                            Some("give the loop's parameters values (defaults or a .bicepparam file)"),
                        );
                    }
                }
            },
            _ => {
                let v = self.eval(ld, body);
                out.push(self.make_inst(ld, decl, v, parent, cond, span));
            }
        }
    }

    fn make_inst(
        &mut self,
        ld: &mut Loader<'f>,
        decl: &'f ResourceDecl,
        body: SVal,
        nested_parent: Option<&ResInst>,
        cond: Option<Unknown>,
        span: &Span,
    ) -> ResInst {
        let (ty, api) = decl
            .type_ref
            .split_once('@')
            .unwrap_or((decl.type_ref.as_str(), ""));
        // `parent:` names the parent explicitly.
        let explicit_parent = match body.get("parent").map(|p| &p.v) {
            Some(V::Resource { entry, index }) => {
                let (entry, index) = (*entry, *index);
                let ps = self.res_instances(ld, entry);
                ps.get(index.unwrap_or(0)).cloned()
            }
            _ => None,
        };
        let parent = explicit_parent.as_ref().or(nested_parent);
        let full_type = match parent {
            Some(p) if !ty.contains('.') => format!("{}/{}", p.full_type, ty),
            _ => ty.to_string(),
        };
        let name = body.get("name").cloned();
        let own = name.as_ref().and_then(|n| n.as_str()).map(str::to_string);
        let names = match (parent, own) {
            (Some(p), Some(n)) => p.names.clone().map(|mut ns| {
                ns.push(n);
                ns
            }),
            (None, Some(n)) => Some(n.split('/').map(str::to_string).collect()),
            (_, None) => None,
        };
        let cond = match (self.cond.clone(), cond) {
            (Some(a), _) => Some(a),
            (None, c) => c,
        };
        ResInst {
            file: self.file,
            symbol: decl.name.clone(),
            full_type,
            api_version: api.to_string(),
            names,
            name,
            body,
            decl_span: span.clone(),
            condition: cond,
            existing: decl.existing,
        }
    }

    // ----- modules -----

    fn mod_instances(&mut self, ld: &mut Loader<'f>, entry: usize) -> Rc<Vec<ModInst>> {
        let Some(m) = self.mods.get(entry) else {
            return Rc::default();
        };
        match &m.state {
            Slot::Done(v) => return v.clone(),
            Slot::Busy => {
                return Rc::new(vec![ModInst {
                    outputs: Err("the module's outputs depend on themselves".into()),
                    name: None,
                }]);
            }
            Slot::Todo => {}
        }
        let stmt = m.stmt;
        if let Some(m) = self.mods.get_mut(entry) {
            m.state = Slot::Busy;
        }
        let mut out = Vec::new();
        if let StmtKind::Module {
            path,
            path_range,
            body,
        } = &stmt.kind
        {
            let path_span = self.span(path_range);
            let target = modules::resolve(ld, self.file, path, &path_span);
            self.module_bodies(ld, &target, &path_span, body, None, &mut out);
        }
        if let Some(m) = self.mods.get_mut(entry) {
            m.state = Slot::Done(Rc::new(out));
        }
        match self.mods.get(entry).map(|m| &m.state) {
            Some(Slot::Done(v)) => v.clone(),
            _ => Rc::default(),
        }
    }

    fn module_bodies(
        &mut self,
        ld: &mut Loader<'f>,
        target: &ModuleTarget,
        path_span: &Span,
        body: &'f Expr,
        cond: Option<Unknown>,
        out: &mut Vec<ModInst>,
    ) {
        match &body.kind {
            ExprKind::If { cond: c, body: b } => {
                let cv = self.eval(ld, c);
                match cv.v {
                    V::Bool(true) => self.module_bodies(ld, target, path_span, b, cond, out),
                    V::Bool(false) => {}
                    _ => {
                        let why = Unknown::new(format!(
                            "module condition is unknown: {}",
                            cv.unknown_reason().unwrap_or("not a bool")
                        ));
                        self.module_bodies(ld, target, path_span, b, Some(why), out);
                    }
                }
            }
            ExprKind::For {
                item,
                index,
                iter,
                body: b,
            } => {
                if let Ok(items) = self.loop_items(ld, iter) {
                    for (i, it) in items.into_iter().enumerate() {
                        let span = self.span(&body.range);
                        let n = self.bind(item, index, it, i, &span);
                        self.module_bodies(ld, target, path_span, b, cond.clone(), out);
                        self.locals.truncate(n);
                    }
                }
            }
            _ => {
                let v = self.eval(ld, body);
                let name = v.get("name").cloned();
                let outputs = match target {
                    ModuleTarget::NotFollowed(reason) => Err(reason.clone()),
                    ModuleTarget::File(f) => self.run_module(ld, *f, &v, path_span, cond),
                };
                out.push(ModInst { outputs, name });
            }
        }
    }

    fn run_module(
        &mut self,
        ld: &mut Loader<'f>,
        child: FileId,
        body: &SVal,
        path_span: &Span,
        cond: Option<Unknown>,
    ) -> Result<HashMap<String, SVal>, String> {
        let display = ld.sources.get(child).display.clone();
        if ld.stack.contains(&child) || child == self.file {
            let mut chain: Vec<String> = ld
                .stack
                .iter()
                .chain([&self.file, &child])
                .map(|f| ld.sources.get(*f).display.clone())
                .collect();
            chain.dedup();
            ld.note(
                path_span,
                format!("module cycle: {}", chain.join(" → ")),
                "this module includes itself",
                Some("Bicep rejects module cycles; break the cycle"),
            );
            return Err(format!("module `{display}` is part of a cycle"));
        }
        if ld.stack.len() >= MAX_MODULE_DEPTH {
            ld.note(
                path_span,
                format!("modules nested deeper than {MAX_MODULE_DEPTH} levels are not followed"),
                "module not followed",
                None,
            );
            return Err("modules nested too deeply".into());
        }
        let Some(ast) = ld.parsed.get(&child) else {
            return Err(format!("module `{display}` was not read"));
        };
        if !ast.errors.is_empty() {
            return Err(format!("module `{display}` has syntax errors"));
        }
        let mut given = HashMap::new();
        match body.get("params").map(|p| &p.v) {
            Some(V::Obj(o)) => {
                for (k, v) in o {
                    given.insert(k.clone(), v.clone());
                }
            }
            Some(V::Unknown { reason, .. }) => {
                return Err(format!("the module's parameters are unknown: {reason}"));
            }
            _ => {}
        }
        let cond = cond.or_else(|| self.cond.clone());
        let mut inst = Inst::new(child, ast, given, cond);
        ld.stack.push(self.file);
        let outputs = inst.run(ld);
        ld.stack.pop();
        Ok(outputs)
    }

    fn module_inst(
        &mut self,
        ld: &mut Loader<'f>,
        entry: usize,
        index: Option<usize>,
    ) -> Result<ModInst, String> {
        let insts = self.mod_instances(ld, entry);
        let is_loop = self.mods.get(entry).is_some_and(|m| m.is_loop);
        let name = self
            .mods
            .get(entry)
            .map(|m| m.stmt.name.clone())
            .unwrap_or_default();
        match index {
            Some(i) => insts.get(i).cloned(),
            None if is_loop => {
                return Err(format!("`{name}` is a module loop; index it"));
            }
            None => insts.first().cloned(),
        }
        .ok_or_else(|| format!("module `{name}` is not deployed (false condition or empty loop)"))
    }

    fn module_output(
        &mut self,
        ld: &mut Loader<'f>,
        entry: usize,
        index: Option<usize>,
        name: &str,
        span: Span,
    ) -> SVal {
        match self.module_inst(ld, entry, index) {
            Ok(m) => match m.outputs {
                Ok(o) => o.get(name).cloned().unwrap_or_else(|| {
                    SVal::error(format!("the module has no output `{name}`"), span)
                }),
                Err(r) => SVal::unknown(r, span),
            },
            Err(r) => SVal::unknown(r, span),
        }
    }

    fn module_name(
        &mut self,
        ld: &mut Loader<'f>,
        entry: usize,
        index: Option<usize>,
        span: Span,
    ) -> SVal {
        match self.module_inst(ld, entry, index) {
            Ok(ModInst { name: Some(n), .. }) => n,
            Ok(_) => SVal::unknown("the module's deployment name is generated", span),
            Err(r) => SVal::unknown(r, span),
        }
    }

    // ----- functions -----

    fn call(
        &mut self,
        ld: &mut Loader<'f>,
        ns: Option<&str>,
        name: &str,
        name_range: &std::ops::Range<usize>,
        args: &'f [Expr],
        span: Span,
    ) -> SVal {
        // User-defined functions (never in the `sys`/`az` namespaces).
        if ns.is_none()
            && let Some(Sym::Func(i)) = self.syms.get(name).copied()
        {
            return self.user_function(ld, i, args, span);
        }
        if ns.is_none() && matches!(self.syms.get(name), Some(Sym::Import)) {
            return SVal::unknown(
                format!("function `{name}` is imported from another file, which is not followed"),
                span,
            );
        }
        let lname = name.to_ascii_lowercase();
        match lname.as_str() {
            "map" | "filter" | "sort" | "reduce" | "tobject" | "toobject" | "groupby"
            | "mapvalues" => return self.lambda_call(ld, &lname, name, args, span),
            "any" if args.len() == 1 => return self.eval(ld, &args[0]),
            "loadtextcontent"
            | "loadjsoncontent"
            | "loadyamlcontent"
            | "loadfileasbase64"
            | "loaddirectoryfileinfo"
            | "readenvironmentvariable"
            | "getsecret"
            | "externalinput" => {
                return SVal::unknown(
                    format!("`{name}()` reads outside the template and is not followed"),
                    span,
                );
            }
            _ => {}
        }
        let vals: Vec<SVal> = args.iter().map(|a| self.eval(ld, a)).collect();
        let out = funcs::call(name, vals, span, ld.opts.location.as_deref());
        if let V::Unknown {
            reason,
            error: true,
        } = &out.v
            && reason.ends_with("is not supported")
        {
            ld.note(
                &self.span(name_range),
                format!("function `{name}` is not implemented by this tool"),
                "its result is unknown",
                None,
            );
        }
        out
    }

    fn user_function(
        &mut self,
        ld: &mut Loader<'f>,
        i: usize,
        args: &'f [Expr],
        span: Span,
    ) -> SVal {
        let Some(StmtKind::Func { params, body }) = self.ast.stmts.get(i).map(|s| &s.kind) else {
            return SVal::error("internal: not a function", span);
        };
        if self.depth > 64 {
            return SVal::error("user-defined functions nested too deeply", span);
        }
        let vals: Vec<SVal> = args.iter().map(|a| self.eval(ld, a)).collect();
        // A function sees only its parameters.
        let saved = std::mem::take(&mut self.locals);
        for (p, v) in params.iter().zip(vals) {
            self.locals.push((p.clone(), v));
        }
        let mut out = self.eval(ld, body);
        self.locals = saved;
        out.span = span;
        out
    }

    fn lambda_call(
        &mut self,
        ld: &mut Loader<'f>,
        lname: &str,
        name: &str,
        args: &'f [Expr],
        span: Span,
    ) -> SVal {
        let (Some(src), Some(lam)) = (args.first(), args.get(1)) else {
            return SVal::error(format!("{name}() expects an array and a lambda"), span);
        };
        let ExprKind::Lambda { params, body } = &lam.kind else {
            return SVal::error(format!("{name}() expects a lambda"), span);
        };
        if !matches!(lname, "map" | "filter") {
            return SVal::unknown(format!("`{name}()` is not evaluated by this tool"), span);
        }
        let items = match self.loop_items(ld, src) {
            Ok(i) => i,
            Err(u) => return SVal::new(u.v, span),
        };
        let mut out = Vec::new();
        for (i, it) in items.into_iter().enumerate() {
            let n = self.locals.len();
            if let Some(p) = params.first() {
                self.locals.push((p.clone(), it.clone()));
            }
            if let Some(p) = params.get(1) {
                self.locals
                    .push((p.clone(), SVal::new(V::Int(i as i64), span.clone())));
            }
            let v = self.eval(ld, body);
            self.locals.truncate(n);
            if lname == "map" {
                out.push(v);
            } else {
                match v.v {
                    V::Bool(true) => out.push(it),
                    V::Bool(false) => {}
                    _ => return unknown_from(&v, "a filter() predicate is unknown", span),
                }
            }
        }
        SVal::new(V::Arr(out), span)
    }
}

/// Number of nodes in a value, or `None` past `max` (iterative).
fn node_count(v: &SVal, max: usize) -> Option<usize> {
    let mut n = 0usize;
    let mut todo = vec![v];
    while let Some(x) = todo.pop() {
        n += 1;
        if n > max {
            return None;
        }
        match &x.v {
            V::Arr(a) => todo.extend(a.iter()),
            V::Obj(o) => todo.extend(o.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    Some(n)
}

/// `@allowed([...])` values as written (`'a'`, `1`).
fn allowed_values(st: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for d in &st.decorators {
        if d.name != "allowed" {
            continue;
        }
        if let Some(ExprKind::Array(els)) = d.args.first().map(|a| &a.kind) {
            for el in els {
                match &el.value.kind {
                    ExprKind::Str(parts) => {
                        if let [StrPart::Lit(s)] = parts.as_slice() {
                            out.push(format!("'{s}'"));
                        }
                    }
                    ExprKind::Int(i) => out.push(i.to_string()),
                    ExprKind::Bool(b) => out.push(b.to_string()),
                    _ => {}
                }
            }
        }
    }
    out
}

fn set_prop(out: &mut Vec<(String, SVal)>, key: String, v: SVal) {
    if let Some(slot) = out.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(&key)) {
        slot.1 = v;
    } else {
        out.push((key, v));
    }
}

/// Keep the reason of an unknown operand; otherwise give ours.
fn unknown_from(v: &SVal, reason: &str, span: Span) -> SVal {
    match &v.v {
        V::Unknown { .. } => SVal::new(v.v.clone(), span),
        V::Link(l) => SVal::unknown(
            format!(
                "{reason} known only after deployment (`{}` of {})",
                l.path.join("."),
                l.target
            ),
            span,
        ),
        _ => SVal::error(format!("{reason} ({} given)", v.type_name()), span),
    }
}

fn unknown_pair(a: &SVal, b: &SVal, reason: &str, span: Span) -> SVal {
    if matches!(a.v, V::Unknown { .. } | V::Link(_)) {
        unknown_from(a, reason, span)
    } else {
        unknown_from(b, reason, span)
    }
}

fn concrete(v: &SVal) -> bool {
    match &v.v {
        V::Unknown { .. } | V::Link(_) | V::Resource { .. } | V::Module { .. } | V::Lambda(_) => {
            false
        }
        V::Arr(a) => a.iter().all(concrete),
        V::Obj(o) => o.iter().all(|(_, v)| concrete(v)),
        _ => true,
    }
}

/// Deep equality, ignoring spans.
pub fn same_value(a: &SVal, b: &SVal) -> bool {
    match (&a.v, &b.v) {
        (V::Arr(x), V::Arr(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (V::Obj(x), V::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_value(v, w)))
        }
        (V::Unknown { .. }, _) | (_, V::Unknown { .. }) => false,
        (x, y) => x == y,
    }
}

/// Text of a scalar in an interpolation (as ARM's `format` prints it);
/// `None` for unknown values.
pub fn display(v: &SVal) -> Option<String> {
    Some(match &v.v {
        V::Str(s) => s.clone(),
        V::Int(i) => i.to_string(),
        V::Bool(true) => "True".into(),
        V::Bool(false) => "False".into(),
        V::Null => String::new(),
        V::Arr(_) | V::Obj(_) if concrete(v) => funcs::to_json_text(v),
        _ => return None,
    })
}

/// One step of `.name` / `[index]` into a plain value.
fn step_into(base: SVal, key: &SVal, span: Span) -> SVal {
    match (&base.v, &key.v) {
        (V::Unknown { .. }, _) => SVal::new(base.v, span),
        (_, V::Unknown { .. }) => SVal::new(key.v.clone(), span),
        (V::Link(l), k) => match display(&SVal::new(k.clone(), span.clone())) {
            Some(seg) => {
                let mut l = l.clone();
                l.path.push(seg);
                SVal::new(V::Link(l), span)
            }
            None => SVal::error("invalid index into a deployed value", span),
        },
        // Parts of a computed value share its span: the access is more precise.
        (V::Obj(_), V::Str(k)) => match base.get(k) {
            Some(v) if v.span == base.span => SVal::new(v.v.clone(), span),
            Some(v) => v.clone(),
            None => SVal::error(format!("the object has no property `{k}`"), span),
        },
        (V::Arr(a), V::Int(i)) => usize::try_from(*i)
            .ok()
            .and_then(|i| a.get(i))
            .map(|v| {
                if v.span == base.span {
                    SVal::new(v.v.clone(), span.clone())
                } else {
                    v.clone()
                }
            })
            .unwrap_or_else(|| {
                SVal::error(
                    format!("index {i} is out of range (array of length {})", a.len()),
                    span,
                )
            }),
        (V::Null, _) => SVal::error("cannot read a property of null", span),
        _ => SVal::error(
            format!(
                "cannot read `{}` of a {}",
                display(key).unwrap_or_default(),
                base.type_name()
            ),
            span,
        ),
    }
}

/// Identifiers used but declared nowhere: AEL000 at their exact place.
pub fn undeclared(file: &File, bicepparam: bool) -> Vec<SyntaxError> {
    let mut top: HashSet<&str> = file.stmts.iter().map(|s| s.name.as_str()).collect();
    top.extend(file.imports.iter().map(String::as_str));
    top.extend(["az", "sys"]);
    let mut nested = Vec::new();
    for s in &file.stmts {
        if let StmtKind::Resource(r) = &s.kind {
            collect_nested(r, &mut nested, 0);
        }
    }
    top.extend(nested.iter().copied());
    let mut out = Vec::new();
    let mut scope: Vec<String> = Vec::new();
    for s in &file.stmts {
        match &s.kind {
            StmtKind::Param {
                default: Some(e), ..
            }
            | StmtKind::Var { value: e }
            | StmtKind::Output { value: e } => walk(e, &top, &mut scope, &mut out, 0),
            StmtKind::Resource(r) => walk_res(r, &top, &mut scope, &mut out),
            StmtKind::Module { body, .. } => walk(body, &top, &mut scope, &mut out, 0),
            StmtKind::Func { params, body } => {
                scope.extend(params.iter().cloned());
                walk(body, &top, &mut scope, &mut out, 0);
                scope.clear();
            }
            _ => {}
        }
        for d in &s.decorators {
            for a in &d.args {
                walk(a, &top, &mut scope, &mut out, 0);
            }
        }
    }
    let _ = bicepparam;
    out
}

fn collect_nested<'a>(r: &'a ResourceDecl, out: &mut Vec<&'a str>, depth: usize) {
    if depth > 64 {
        return;
    }
    let mut body = &r.body;
    while let ExprKind::For { body: b, .. } | ExprKind::If { body: b, .. } = &body.kind {
        body = b;
    }
    if let ExprKind::Object(props) = &body.kind {
        for p in props {
            if let Prop::Resource(c) = p {
                out.push(c.name.as_str());
                collect_nested(c, out, depth + 1);
            }
        }
    }
}

fn walk_res(
    r: &ResourceDecl,
    top: &HashSet<&str>,
    scope: &mut Vec<String>,
    out: &mut Vec<SyntaxError>,
) {
    walk(&r.body, top, scope, out, 0);
}

fn walk(
    e: &Expr,
    top: &HashSet<&str>,
    scope: &mut Vec<String>,
    out: &mut Vec<SyntaxError>,
    depth: usize,
) {
    if depth > 256 || out.len() > 20 {
        return;
    }
    let d = depth + 1;
    let mut w = |x: &Expr, scope: &mut Vec<String>| walk(x, top, scope, out, d);
    match &e.kind {
        ExprKind::Ident(n) => {
            if !top.contains(n.as_str()) && !scope.iter().any(|s| s == n) {
                out.push(SyntaxError {
                    message: format!("`{n}` is not declared"),
                    range: e.range.clone(),
                });
            }
        }
        ExprKind::Str(parts) => {
            for p in parts {
                if let StrPart::Interp(x) = p {
                    w(x, scope);
                }
            }
        }
        ExprKind::Array(els) => els.iter().for_each(|el| w(&el.value, scope)),
        ExprKind::Object(props) => {
            for p in props {
                match p {
                    Prop::KeyValue { value, .. } | Prop::Spread(value) => w(value, scope),
                    Prop::Resource(r) => w(&r.body, scope),
                }
            }
        }
        ExprKind::Member { obj, .. } | ExprKind::ChildAccess { obj, .. } => w(obj, scope),
        ExprKind::Index { obj, index } => {
            w(obj, scope);
            w(index, scope);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| w(a, scope)),
        ExprKind::CallExpr { callee, args } => {
            w(callee, scope);
            args.iter().for_each(|a| w(a, scope));
        }
        ExprKind::Not(x) | ExprKind::Neg(x) | ExprKind::Paren(x) => w(x, scope),
        ExprKind::Binary { left, right, .. } => {
            w(left, scope);
            w(right, scope);
        }
        ExprKind::Ternary { cond, then, other } => {
            w(cond, scope);
            w(then, scope);
            w(other, scope);
        }
        ExprKind::For {
            item,
            index,
            iter,
            body,
        } => {
            w(iter, scope);
            let n = scope.len();
            scope.extend(item.iter().cloned());
            scope.extend(index.iter().cloned());
            w(body, scope);
            scope.truncate(n);
        }
        ExprKind::If { cond, body } => {
            w(cond, scope);
            w(body, scope);
        }
        ExprKind::Lambda { params, body } => {
            let n = scope.len();
            scope.extend(params.iter().cloned());
            w(body, scope);
            scope.truncate(n);
        }
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Unsupported(_) => {}
    }
}

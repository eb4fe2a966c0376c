//! Templates as Azure Resource Manager evaluates them: parameters (with
//! parameter files), variables (with `copy`), user-defined functions,
//! resource `copy` and `condition`, property `copy`, child resources, nested
//! deployments (inline `template` in `inner` or `outer` scope, or a
//! `templateLink` to a file of the repository) and languageVersion 2.0
//! symbolic names.
//!
//! The walk runs twice over each template: first to learn every resource's
//! identity (so `reference()` can tell a resource of the template from
//! anything else), then to evaluate properties. Nested deployments are
//! evaluated before the other resources of their parent so that their
//! `outputs` are known to `reference(...).outputs`.

use super::expr::{self, Expr, Scope, Template, Val, Why};
use super::json::{JKind, Json, JsonError};
use crate::finding::{Code, Finding};
use crate::frontend::FrontendOptions;
use crate::model::{ResKey, Unknown};
use crate::source::{FileId, Sources, Span};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

/// An evaluated JSON value that remembers where it was written. Values that
/// come out of an expression carry the span of the expression string, or of
/// the variable or parameter value they were read from.
#[derive(Clone, Debug, PartialEq)]
pub struct SNode {
    pub v: SV,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SV {
    /// Scalars, `Unknown` and `Ref` (never `Val::Array`/`Val::Object`).
    Val(Val),
    Arr(Vec<SNode>),
    Obj(Vec<(String, SNode)>),
}

impl SNode {
    pub fn from_val(v: Val, span: &Span) -> SNode {
        let v = match v {
            Val::Array(a) => SV::Arr(a.into_iter().map(|x| SNode::from_val(x, span)).collect()),
            Val::Object(o) => SV::Obj(
                o.into_iter()
                    .map(|(k, x)| (k, SNode::from_val(x, span)))
                    .collect(),
            ),
            other => SV::Val(other),
        };
        SNode {
            v,
            span: span.clone(),
        }
    }

    pub fn to_val(&self) -> Val {
        match &self.v {
            SV::Val(v) => v.clone(),
            SV::Arr(a) => Val::Array(a.iter().map(SNode::to_val).collect()),
            SV::Obj(o) => Val::Object(o.iter().map(|(k, v)| (k.clone(), v.to_val())).collect()),
        }
    }

    /// Property of an object (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&SNode> {
        match &self.v {
            SV::Obj(o) => o
                .iter()
                .find(|(k, _)| k == key)
                .or_else(|| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn path(&self, keys: &[&str]) -> Option<&SNode> {
        let mut cur = self;
        for k in keys {
            cur = cur.get(k)?;
        }
        Some(cur)
    }

    pub fn items(&self) -> &[SNode] {
        match &self.v {
            SV::Arr(a) => a,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.v {
            SV::Val(Val::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn val(&self) -> Option<&Val> {
        match &self.v {
            SV::Val(v) => Some(v),
            _ => None,
        }
    }

    /// Known-null or absent-like.
    pub fn is_null(&self) -> bool {
        matches!(self.v, SV::Val(Val::Null))
    }
}

/// A resource after evaluation, ready for mapping to the model.
#[derive(Clone, Debug)]
pub struct EvRes {
    pub file: FileId,
    /// Full type, e.g. `Microsoft.Network/virtualNetworks/subnets`.
    pub ty: String,
    /// Name segments (`["hub", "nodes"]`) or why they are unknown.
    pub names: Result<Vec<String>, String>,
    pub key: Option<ResKey>,
    /// The resource object.
    pub span: Span,
    /// The `name` value.
    pub name_span: Span,
    /// The full name as evaluated (`hub/nodes`), if known.
    pub name: Option<String>,
    pub condition: Option<Unknown>,
    pub properties: Option<SNode>,
    pub sku: Option<SNode>,
    pub location: Option<SNode>,
    /// Inline child resources keep their parent's key here; extension
    /// resources the key of their `scope` (an id, a provider path
    /// `Microsoft.X/y/name`, or a symbolic name).
    pub parent: Option<ResKey>,
}

/// What the first pass ([`Pass::Keys`]) learns from every template: read-only
/// while the second pass runs, so the templates share it across threads.
#[derive(Debug, Default)]
pub struct Known {
    /// Resources declared by the templates (for `reference()`).
    keys: HashSet<ResKey>,
    /// Last name segment → keys, for `reference('name')`.
    by_name: HashMap<String, Vec<ResKey>>,
    /// Files reached through a `templateLink`.
    pub linked: HashSet<FileId>,
}

impl Known {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.by_name.is_empty()
    }

    /// Add what another evaluation learned.
    pub fn merge(&mut self, other: Known) {
        self.keys.extend(other.keys);
        for (name, keys) in other.by_name {
            self.by_name.entry(name).or_default().extend(keys);
        }
        self.linked.extend(other.linked);
    }
}

type Parsed = Result<Arc<Json>, JsonError>;

/// Read-only state of one `load` call, shared by the threads that evaluate
/// its templates.
pub struct Shared<'a> {
    pub sources: &'a Sources,
    pub opts: &'a FrontendOptions,
    /// Templates parsed up front, for the `templateLink`s that name them.
    pub docs: HashMap<FileId, Arc<Json>>,
    /// Other linked files, parsed once on first use.
    parsed: Mutex<HashMap<FileId, Arc<OnceLock<Parsed>>>>,
}

impl<'a> Shared<'a> {
    pub fn new(sources: &'a Sources, opts: &'a FrontendOptions) -> Self {
        Shared {
            sources,
            opts,
            docs: HashMap::new(),
            parsed: Mutex::new(HashMap::new()),
        }
    }

    fn parse(&self, file: FileId) -> Parsed {
        if let Some(d) = self.docs.get(&file) {
            return Ok(d.clone());
        }
        let cell = {
            // A poisoned lock only means another evaluation panicked; the map is intact.
            let mut map = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(file).or_default().clone()
        };
        cell.get_or_init(|| {
            super::json::parse(self.sources.text(file), self.opts.limits.max_depth.max(8))
                .map(Arc::new)
        })
        .clone()
    }
}

/// State of one evaluation of one template instance (one parameter set, in
/// one pass), nested deployments included.
pub struct Ctx<'a> {
    pub sources: &'a Sources,
    pub opts: &'a FrontendOptions,
    shared: &'a Shared<'a>,
    /// What the other templates declare: everything in the second pass; in
    /// the first, what earlier templates declared (possibly nothing yet).
    base: &'a Known,
    /// What this evaluation learned (identities in the first pass, linked
    /// files in both).
    pub learned: RefCell<Known>,
    /// A lookup whose answer more knowledge in `base` could change.
    pub consulted: Cell<bool>,
    pub findings: RefCell<Vec<Finding>>,
    /// Outputs of nested deployments evaluated so far.
    pub outputs: RefCell<HashMap<ResKey, Val>>,
    /// Deployments whose outputs were read before they were known here.
    pub missed_outputs: RefCell<Vec<ResKey>>,
    depth: Cell<usize>,
    /// Nested deployments being walked (templateLink cycles).
    deploy_depth: Cell<usize>,
    pub out: RefCell<Vec<EvRes>>,
    /// Copies made so far by the deployment being walked: nested loops
    /// multiply, so they share one budget (see `take_copies`).
    copies: Cell<usize>,
    /// Unknown conditions of the deployments being walked: their resources
    /// inherit them.
    conditions: RefCell<Vec<Unknown>>,
}

impl<'a> Ctx<'a> {
    pub fn new(shared: &'a Shared<'a>, base: &'a Known) -> Self {
        Ctx {
            sources: shared.sources,
            opts: shared.opts,
            shared,
            base,
            learned: RefCell::new(Known::default()),
            consulted: Cell::new(false),
            findings: RefCell::new(vec![]),
            outputs: RefCell::new(HashMap::new()),
            missed_outputs: RefCell::new(vec![]),
            depth: Cell::new(0),
            deploy_depth: Cell::new(0),
            out: RefCell::new(vec![]),
            copies: Cell::new(0),
            conditions: RefCell::new(vec![]),
        }
    }

    pub fn finding(&self, code: Code, msg: impl Into<String>, span: Span, label: &str) {
        self.findings
            .borrow_mut()
            .push(make_finding(code, msg, span, label));
    }

    fn max_depth(&self) -> usize {
        self.opts.limits.max_depth.max(8)
    }

    /// Nesting of one expression: real templates stay far below this.
    pub fn expr_depth(&self) -> usize {
        self.max_depth().min(64)
    }

    /// Whether a template declares `key`, itself or inline in its parent.
    /// A miss may turn into a hit with more knowledge: it is recorded.
    fn declares(&self, key: &ResKey) -> bool {
        let hit = self.has(key) || self.declares_inline(key);
        if !hit {
            self.consulted.set(true);
        }
        hit
    }

    fn has(&self, key: &ResKey) -> bool {
        self.base.keys.contains(key) || self.learned.borrow().keys.contains(key)
    }

    /// A subnet, security rule or route whose parent is declared: it may be
    /// written inline in the parent's properties, which the first pass does
    /// not evaluate.
    fn declares_inline(&self, key: &ResKey) -> bool {
        let k = &key.0;
        let inline = ["/subnets/", "/securityrules/", "/routes/"];
        inline.iter().any(|seg| {
            k.rfind(seg)
                .is_some_and(|i| self.has(&ResKey(k[..i].to_string())))
        })
    }

    /// The only resource whose last name segment is `name`.
    fn by_name(&self, name: &str) -> Option<ResKey> {
        let learned = self.learned.borrow();
        let (a, b) = (self.base.by_name.get(name), learned.by_name.get(name));
        let n = a.map_or(0, Vec::len) + b.map_or(0, Vec::len);
        // Two or more stay ambiguous whatever else is learned.
        if n < 2 {
            self.consulted.set(true);
        }
        if n == 1 {
            a.into_iter().chain(b).flatten().next().cloned()
        } else {
            None
        }
    }

    fn register(&self, key: &ResKey, last: Option<&String>) {
        let mut l = self.learned.borrow_mut();
        l.keys.insert(key.clone());
        if let Some(last) = last {
            l.by_name
                .entry(last.to_ascii_lowercase())
                .or_default()
                .push(key.clone());
        }
    }

    pub fn link(&self, file: FileId) {
        self.learned.borrow_mut().linked.insert(file);
    }

    /// A file referenced by a `templateLink`, parsed once per `load`.
    pub fn doc(&self, file: FileId) -> Option<Arc<Json>> {
        match self.shared.parse(file) {
            Ok(d) => Some(d),
            Err(e) => {
                // Every evaluation that reaches the file says so; `load`
                // keeps one of the identical findings.
                self.finding(
                    Code::AEL000,
                    format!("invalid JSON: {}", e.message),
                    Span::new(file, e.range.clone()),
                    "here",
                );
                None
            }
        }
    }
}

/// A finding with the fix for its reason, when there is one.
pub fn make_finding(code: Code, msg: impl Into<String>, span: Span, label: &str) -> Finding {
    let msg = msg.into();
    let mut f = Finding::new(code, msg.clone(), span, label);
    if let Some(h) = help_for(&msg) {
        f = f.help(h);
    }
    f
}

/// The fix for a note whose reason the user can supply.
pub fn help_for(reason: &str) -> Option<&'static str> {
    if reason.contains("no value is supplied") {
        Some(
            "give the parameter a value in a parameters file next to the template (`<template>.parameters.json`) or with `--parameters FILE`",
        )
    } else if reason.contains("pass --location") {
        Some("pass `--location <region>` for the region the resource group is in")
    } else if reason.contains("linked template not followed") {
        Some(
            "scan the folder that holds the linked template too; templates outside the scanned files are not read",
        )
    } else {
        None
    }
}

/// A value supplied for a parameter (from a parameter file or a nested
/// deployment's `parameters`).
pub type Supplied = HashMap<String, SNode>;

enum VarDef<'t> {
    Json(&'t Json),
    /// A variable `copy` entry: `{name, count, input}`.
    Copy(&'t Json),
}

/// One instance of a template: its parameters, variables and functions.
pub struct TScope<'t, 'a> {
    pub ctx: &'t Ctx<'a>,
    pub file: FileId,
    pub template: &'t Json,
    params: HashMap<String, (&'t Json, String)>,
    supplied: Supplied,
    vars: HashMap<String, (VarDef<'t>, String)>,
    cache: RefCell<HashMap<String, SNode>>,
    busy: RefCell<Vec<String>>,
    functions: HashMap<String, &'t Json>,
    /// languageVersion 2.0: symbolic name → resource id string.
    symbols: RefCell<HashMap<String, String>>,
    pub symbolic: bool,
    /// `deployment().name`: the file stem for a template deployed on its own
    /// (what `az deployment group create --template-file` names it), the
    /// deployment resource's name for a nested one.
    pub deployment: Option<String>,
}

impl<'t, 'a> TScope<'t, 'a> {
    pub fn new(ctx: &'t Ctx<'a>, file: FileId, template: &'t Json, supplied: Supplied) -> Self {
        let mut params = HashMap::new();
        for m in template
            .get("parameters")
            .and_then(Json::as_object)
            .unwrap_or(&[])
        {
            params.insert(m.key.to_ascii_lowercase(), (&m.value, m.key.clone()));
        }
        let mut vars = HashMap::new();
        for m in template
            .get("variables")
            .and_then(Json::as_object)
            .unwrap_or(&[])
        {
            if m.key.eq_ignore_ascii_case("copy") && m.value.as_array().is_some() {
                for c in m.value.as_array().unwrap_or(&[]) {
                    if let Some(n) = c.get("name").and_then(Json::as_str) {
                        vars.insert(n.to_ascii_lowercase(), (VarDef::Copy(c), n.to_string()));
                    }
                }
            } else {
                vars.insert(
                    m.key.to_ascii_lowercase(),
                    (VarDef::Json(&m.value), m.key.clone()),
                );
            }
        }
        let mut functions = HashMap::new();
        for ns in template
            .get("functions")
            .and_then(Json::as_array)
            .unwrap_or(&[])
        {
            let Some(nsn) = ns.get("namespace").and_then(Json::as_str) else {
                continue;
            };
            for m in ns.get("members").and_then(Json::as_object).unwrap_or(&[]) {
                functions.insert(format!("{nsn}.{}", m.key).to_ascii_lowercase(), &m.value);
            }
        }
        let symbolic = template
            .get("languageVersion")
            .and_then(Json::as_str)
            .is_some_and(|v| !v.starts_with('1'))
            || matches!(
                template.get("resources").map(|r| &r.kind),
                Some(JKind::Obj(_))
            );
        TScope {
            ctx,
            file,
            template,
            params,
            supplied,
            vars,
            cache: RefCell::new(HashMap::new()),
            busy: RefCell::new(vec![]),
            functions,
            symbols: RefCell::new(HashMap::new()),
            symbolic,
            deployment: None,
        }
    }

    fn span(&self, r: &std::ops::Range<usize>) -> Span {
        Span::new(self.file, r.clone())
    }

    pub fn span_of(&self, r: &std::ops::Range<usize>) -> Span {
        self.span(r)
    }

    /// Guard a nested evaluation: cycles and depth are findings.
    fn guarded(&self, what: &str, name: &str, at: &Span, f: impl FnOnce() -> SNode) -> SNode {
        let id = format!("{what}:{name}");
        let busy_at = self
            .busy
            .borrow()
            .iter()
            .position(|b| b.eq_ignore_ascii_case(&id));
        if let Some(pos) = busy_at {
            let chain: Vec<String> = self.busy.borrow()[pos..]
                .iter()
                .map(|b| b.split_once(':').map(|x| x.1).unwrap_or(b).to_string())
                .collect();
            let msg = if chain.len() <= 1 {
                format!("{what} `{name}` refers to itself")
            } else {
                format!(
                    "{what} `{name}` refers to itself through `{}` → `{name}`",
                    chain.join("` → `")
                )
            };
            self.ctx
                .finding(Code::AEL000, msg.clone(), at.clone(), "circular reference");
            return SNode::from_val(Val::error(msg), at);
        }
        let d = self.ctx.depth.get();
        if d >= self.ctx.max_depth() {
            let msg = format!(
                "{what} `{name}` is nested more than {} references deep; not evaluated",
                self.ctx.max_depth()
            );
            self.ctx
                .finding(Code::AEL008, msg.clone(), at.clone(), "too deep");
            return SNode::from_val(Val::error(msg), at);
        }
        self.ctx.depth.set(d + 1);
        self.busy.borrow_mut().push(id);
        let v = f();
        self.busy.borrow_mut().pop();
        self.ctx.depth.set(d);
        v
    }

    /// `parameters('name')` with its span.
    pub fn param_node(&self, name: &str, at: &Span) -> SNode {
        let lname = name.to_ascii_lowercase();
        if let Some(v) = self.cache.borrow().get(&format!("p:{lname}")) {
            return v.clone();
        }
        let Some((def, decl)) = self.params.get(&lname) else {
            return SNode::from_val(
                Val::error(format!("parameter `{name}` is not declared")),
                at,
            );
        };
        let v = if let Some(s) = self.supplied.get(&lname) {
            s.clone()
        } else if let Some(d) = def.get("defaultValue") {
            self.guarded("parameter", decl, &self.span(&d.range), || {
                eval_json(d, &Env::new(self))
            })
        } else {
            let hint = if self.ctx.opts.parameters.is_empty() {
                "a parameters file or --parameters"
            } else {
                "a value in the parameters file"
            };
            SNode::from_val(
                Val::Unknown(Why {
                    reason: format!(
                        "parameter `{decl}` has no default value and no value is supplied ({hint})"
                    ),
                    error: false,
                }),
                &self.span(&def.range),
            )
        };
        self.cache
            .borrow_mut()
            .insert(format!("p:{lname}"), v.clone());
        v
    }

    /// `variables('name')` with its span.
    pub fn var_node(&self, name: &str, at: &Span) -> SNode {
        let lname = name.to_ascii_lowercase();
        if let Some(v) = self.cache.borrow().get(&format!("v:{lname}")) {
            return v.clone();
        }
        let Some((def, decl)) = self.vars.get(&lname) else {
            return SNode::from_val(Val::error(format!("variable `{name}` is not declared")), at);
        };
        let v = match def {
            VarDef::Json(j) => self.guarded("variable", decl, &self.span(&j.range), || {
                eval_json(j, &Env::new(self))
            }),
            VarDef::Copy(c) => self.guarded("variable", decl, &self.span(&c.range), || {
                let env = Env::new(self);
                copy_array(c, decl, &env)
            }),
        };
        self.cache
            .borrow_mut()
            .insert(format!("v:{lname}"), v.clone());
        v
    }

    /// What the walk memoised: the values of parameters and variables read
    /// so far and the symbolic names learned. The second pass of a template
    /// starts from what its first pass left.
    pub fn into_state(self) -> ScopeState {
        ScopeState {
            cache: self.cache.into_inner(),
            symbols: self.symbols.into_inner(),
        }
    }

    pub fn set_state(&mut self, st: ScopeState) {
        self.cache = RefCell::new(st.cache);
        self.symbols = RefCell::new(st.symbols);
    }

    pub fn register_symbol(&self, sym: &str, id: String) {
        self.symbols
            .borrow_mut()
            .insert(sym.to_ascii_lowercase(), id);
    }
}

/// See [`TScope::into_state`].
#[derive(Clone, Debug, Default)]
pub struct ScopeState {
    cache: HashMap<String, SNode>,
    symbols: HashMap<String, String>,
}

/// The expression scope at one point of the walk: a template instance and
/// the copy loops around the value.
pub struct Env<'e, 't, 'a> {
    pub t: &'e TScope<'t, 'a>,
    /// `(loop name, index, is the resource loop)`, innermost last.
    loops: Vec<(String, i64, bool)>,
}

impl<'e, 't, 'a> Env<'e, 't, 'a> {
    pub fn new(t: &'e TScope<'t, 'a>) -> Self {
        Env { t, loops: vec![] }
    }

    fn with_loop(&self, name: &str, i: i64, resource: bool) -> Self {
        let mut loops = self.loops.clone();
        loops.push((name.to_string(), i, resource));
        Env { t: self.t, loops }
    }
}

impl Scope for Env<'_, '_, '_> {
    fn parameter(&self, name: &str) -> Val {
        let at = Span::new(self.t.file, 0..0);
        self.t.param_node(name, &at).to_val()
    }

    fn variable(&self, name: &str) -> Val {
        let at = Span::new(self.t.file, 0..0);
        self.t.var_node(name, &at).to_val()
    }

    fn copy_index(&self, loop_name: Option<&str>) -> Val {
        let hit = match loop_name {
            Some(n) => self
                .loops
                .iter()
                .rev()
                .find(|(l, _, _)| l.eq_ignore_ascii_case(n)),
            None => self
                .loops
                .iter()
                .rev()
                .find(|(_, _, r)| *r)
                .or(self.loops.last()),
        };
        match (hit, loop_name) {
            (Some((_, i, _)), _) => Val::Int(*i),
            (None, Some(n)) => Val::error(format!("copyIndex('{n}') is used outside loop `{n}`")),
            (None, None) => Val::error("copyIndex() is used outside a copy loop"),
        }
    }

    fn location(&self) -> Option<String> {
        self.t.ctx.opts.location.clone()
    }

    fn reference(&self, target: &Val, full: bool) -> Val {
        let Val::Str(s) = target else {
            return Val::unknown("reference() of a value that is not a resource id");
        };
        let key = if s.contains('/') {
            ResKey::from_arm_id(s)
        } else if let Some(id) = self.t.symbols.borrow().get(&s.to_ascii_lowercase()) {
            ResKey::from_arm_id(id)
        } else {
            self.t.ctx.by_name(&s.to_ascii_lowercase())
        };
        let Some(key) = key else {
            return Val::unknown(format!(
                "reference('{s}') names no resource of the template"
            ));
        };
        if key.0.starts_with("arm:microsoft.resources/deployments/") {
            return match self.t.ctx.outputs.borrow().get(&key) {
                Some(o) => Val::Object(vec![("outputs".into(), o.clone())]),
                None => {
                    self.t.ctx.missed_outputs.borrow_mut().push(key);
                    Val::unknown(format!(
                        "outputs of deployment `{s}` are not known at this point"
                    ))
                }
            };
        }
        if self.t.ctx.declares(&key) {
            Val::Ref(expr::ResRef {
                target: key,
                path: vec![],
                full,
            })
        } else {
            Val::unknown(format!(
                "reference() reads `{key}`, which this template does not declare"
            ))
        }
    }

    fn deployment_name(&self) -> Option<String> {
        self.t.deployment.clone()
    }

    fn symbol_id(&self, name: &str) -> Option<String> {
        self.t
            .symbols
            .borrow()
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    fn user_function(&self, name: &str, args: Vec<Val>) -> Val {
        let Some(def) = self.t.functions.get(&name.to_ascii_lowercase()) else {
            return Val::error(format!("function `{name}` is not defined"));
        };
        let Some(out) = def.path(&["output", "value"]) else {
            return Val::error(format!("function `{name}` has no output value"));
        };
        let mut supplied = Supplied::new();
        let at = self.t.span(&out.range);
        for (p, a) in def
            .get("parameters")
            .and_then(Json::as_array)
            .unwrap_or(&[])
            .iter()
            .zip(args)
        {
            if let Some(n) = p.get("name").and_then(Json::as_str) {
                supplied.insert(n.to_ascii_lowercase(), SNode::from_val(a, &at));
            }
        }
        // A function sees only its parameters.
        let mut fscope = TScope::new(self.t.ctx, self.t.file, self.t.template, supplied);
        fscope.vars.clear();
        fscope.params = def
            .get("parameters")
            .and_then(Json::as_array)
            .unwrap_or(&[])
            .iter()
            .filter_map(|p| {
                let n = p.get("name").and_then(Json::as_str)?;
                Some((n.to_ascii_lowercase(), (p, n.to_string())))
            })
            .collect();
        let r = self
            .t
            .guarded("function", name, &at, || eval_json(out, &Env::new(&fscope)));
        r.to_val()
    }

    fn max_depth(&self) -> usize {
        self.t.ctx.expr_depth()
    }
}

/// Evaluate a JSON value: strings as expressions, property `copy` expanded.
pub fn eval_json(j: &Json, env: &Env) -> SNode {
    let span = env.t.span(&j.range);
    let v = match &j.kind {
        JKind::Null => SV::Val(Val::Null),
        JKind::Bool(b) => SV::Val(Val::Bool(*b)),
        JKind::Num(n) => SV::Val(
            n.parse::<i64>()
                .map(Val::Int)
                .unwrap_or_else(|_| Val::Str(n.clone())),
        ),
        JKind::Str(s) => return eval_string(s, &span, env),
        JKind::Arr(a) => SV::Arr(a.iter().map(|x| eval_json(x, env)).collect()),
        JKind::Obj(members) => {
            let mut out: Vec<(String, SNode)> = vec![];
            for m in members {
                if m.key.eq_ignore_ascii_case("copy")
                    && let Some(entries) = m.value.as_array()
                {
                    for c in entries {
                        let Some(n) = c.get("name").and_then(Json::as_str) else {
                            continue;
                        };
                        out.push((n.to_string(), copy_array(c, n, env)));
                    }
                    continue;
                }
                out.push((m.key.clone(), eval_json(&m.value, env)));
            }
            SV::Obj(out)
        }
    };
    SNode { v, span }
}

/// Evaluate `count` of a copy loop, bounded by `max_expansion`.
fn copy_count(c: &Json, what: &str, env: &Env) -> Result<i64, Val> {
    let Some(cj) = c.get("count") else {
        return Err(Val::error(format!("copy `{what}` has no count")));
    };
    let cspan = env.t.span(&cj.range);
    let count = eval_json(cj, env).to_val();
    let n = match count {
        Val::Int(n) => n,
        Val::Str(s) if s.trim().parse::<i64>().is_ok() => s.trim().parse::<i64>().unwrap_or(0),
        Val::Unknown(w) => {
            env.t.ctx.finding(
                Code::AEL008,
                format!("the number of copies of `{what}` is unknown: {}", w.reason),
                cspan,
                "count",
            );
            return Err(Val::unknown(format!(
                "copy `{what}` has an unknown count: {}",
                w.reason
            )));
        }
        other => {
            return Err(Val::error(format!(
                "copy `{what}` count is a {}",
                other.type_name()
            )));
        }
    };
    let max = env.t.ctx.opts.limits.max_expansion as i64;
    if n < 0 {
        return Err(Val::error(format!(
            "copy `{what}` has a negative count {n}"
        )));
    }
    if n > max {
        env.t.ctx.finding(
            Code::AEL008,
            format!(
                "copy `{what}` asks for {n} copies; only the first {max} are analysed (raise the expansion limit)"
            ),
            cspan.clone(),
            "count",
        );
        return take_copies(env, what, max, &cspan);
    }
    take_copies(env, what, n, &cspan)
}

/// Each loop is bounded by `max_expansion`, and all the loops of one
/// deployment (nested deployments included) by ten times that: a loop that
/// would go over is not expanded, its value unknown.
fn take_copies(env: &Env, what: &str, n: i64, span: &Span) -> Result<i64, Val> {
    let budget = env.t.ctx.opts.limits.max_expansion.saturating_mul(10);
    let used = env.t.ctx.copies.get();
    let n = n.max(0) as usize;
    if used.saturating_add(n) > budget {
        let msg = format!(
            "copy `{what}` is not expanded: the copy loops of this deployment make more than {budget} copies (raise the expansion limit)"
        );
        env.t
            .ctx
            .finding(Code::AEL008, msg.clone(), span.clone(), "count");
        return Err(Val::unknown(msg));
    }
    env.t.ctx.copies.set(used + n);
    Ok(n as i64)
}

/// A property or variable `copy` entry → the array it builds.
fn copy_array(c: &Json, name: &str, env: &Env) -> SNode {
    let span = env.t.span(&c.range);
    let Some(input) = c.get("input") else {
        return SNode::from_val(Val::error(format!("copy `{name}` has no input")), &span);
    };
    match copy_count(c, name, env) {
        Ok(n) => SNode {
            v: SV::Arr(
                (0..n)
                    .map(|i| eval_json(input, &env.with_loop(name, i, false)))
                    .collect(),
            ),
            span,
        },
        Err(v) => SNode::from_val(v, &span),
    }
}

/// Evaluate an ARM string at `span`.
pub fn eval_string(s: &str, span: &Span, env: &Env) -> SNode {
    match expr::classify(s) {
        Template::Literal(l) => SNode::from_val(Val::Str(l.into_owned()), span),
        Template::Expr(inner, _) => match expr::parse::parse(inner, env.t.ctx.expr_depth()) {
            Ok(e) => spanned(&e, span, env)
                .unwrap_or_else(|| SNode::from_val(expr::eval_expr(&e, env), span)),
            Err(e) => {
                let msg = format!("invalid template expression: {}", e.message);
                // The exact character when the string is written without
                // escapes (+1 for the opening quote, +1 for `[`); else the string.
                let raw = env.t.ctx.sources.slice(span);
                let at = if raw.len() == s.len() + 2 {
                    let at = (span.range.start + 2 + e.offset).min(span.range.end - 1);
                    Span::new(span.file, at..at + 1)
                } else {
                    span.clone()
                };
                env.t.ctx.finding(Code::AEL000, msg.clone(), at, "here");
                SNode::from_val(Val::error(msg), span)
            }
        },
    }
}

/// `parameters('x')`/`variables('x')` followed by accessors keep the spans of
/// where the value was written.
fn spanned(e: &Expr, at: &Span, env: &Env) -> Option<SNode> {
    match e {
        Expr::Call(n, args) if args.len() == 1 => {
            let Expr::Str(name) = &args[0] else {
                return None;
            };
            if n.eq_ignore_ascii_case("parameters") {
                Some(env.t.param_node(name, at))
            } else if n.eq_ignore_ascii_case("variables") {
                Some(env.t.var_node(name, at))
            } else {
                None
            }
        }
        Expr::Prop(b, name) => {
            let base = spanned(b, at, env)?;
            match &base.v {
                SV::Obj(_) => base.get(name).cloned(),
                _ => None,
            }
        }
        Expr::Index(b, i) => {
            let base = spanned(b, at, env)?;
            let idx = expr::eval_expr(i, env);
            match (&base.v, idx) {
                (SV::Arr(a), Val::Int(i)) => {
                    usize::try_from(i).ok().and_then(|i| a.get(i)).cloned()
                }
                (SV::Obj(_), Val::Str(k)) => base.get(&k).cloned(),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Which pass of the walk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Learn identities only.
    Keys,
    /// Evaluate everything.
    Full,
}

/// Walk one template instance.
pub fn walk_template(t: &TScope, pass: Pass) {
    if t.ctx.deploy_depth.get() == 0 {
        t.ctx.copies.set(0);
    }
    if let Some(res) = t.template.get("resources") {
        walk_resources(res, &Env::new(t), pass);
    }
}

/// Walk a `resources` array (or languageVersion 2.0 object) in `env`.
pub fn walk_resources(res: &Json, env: &Env, pass: Pass) {
    let list: Vec<(Option<&str>, &Json)> = match &res.kind {
        JKind::Arr(a) => a.iter().map(|r| (None, r)).collect(),
        JKind::Obj(m) => m.iter().map(|m| (Some(m.key.as_str()), &m.value)).collect(),
        _ => vec![],
    };
    if pass == Pass::Keys {
        for (sym, r) in &list {
            walk_resource(r, *sym, None, env, Pass::Keys, true);
        }
        return;
    }
    // Nested deployments first, so their outputs are known to the others.
    for deployments_first in [true, false] {
        for (sym, r) in &list {
            let is_dep = r
                .get("type")
                .and_then(Json::as_str)
                .is_some_and(|ty| ty.eq_ignore_ascii_case("Microsoft.Resources/deployments"));
            if is_dep == deployments_first {
                walk_resource(r, *sym, None, env, Pass::Full, true);
            }
        }
    }
}

struct Parent {
    ty: String,
    names: Vec<String>,
    key: ResKey,
}

fn walk_resource(
    r: &Json,
    symbol: Option<&str>,
    parent: Option<&Parent>,
    env: &Env,
    pass: Pass,
    top: bool,
) {
    let t = env.t;
    let span = t.span(&r.range);
    if r.as_object().is_none() {
        return;
    }
    // Resource copy.
    if let Some(c) = r.get("copy").filter(|c| c.as_object().is_some()) {
        let loop_name = c
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or("copy")
            .to_string();
        match copy_count(c, &loop_name, env) {
            Ok(n) => {
                for i in 0..n {
                    let inner = env.with_loop(&loop_name, i, true);
                    walk_one(r, symbol, parent, &inner, pass, top, &span);
                }
            }
            Err(_) if pass == Pass::Keys => {}
            Err(v) => {
                if let Val::Unknown(w) = v
                    && w.error
                {
                    t.ctx.finding(Code::AEL008, w.reason, span, "copy");
                }
            }
        }
        return;
    }
    walk_one(r, symbol, parent, env, pass, top, &span);
}

fn walk_one(
    r: &Json,
    symbol: Option<&str>,
    parent: Option<&Parent>,
    env: &Env,
    pass: Pass,
    top: bool,
    span: &Span,
) {
    let t = env.t;
    let ctx = t.ctx;
    // Condition.
    let mut condition = None;
    if let Some(c) = r.get("condition") {
        match eval_json(c, env).to_val() {
            Val::Bool(false) => return,
            Val::Bool(true) => {}
            Val::Unknown(w) => {
                condition = Some(Unknown::new(format!("condition is unknown: {}", w.reason)))
            }
            Val::Ref(r) => {
                condition = Some(Unknown::new(format!(
                    "condition reads `{}`, known only after deployment",
                    r.target
                )))
            }
            other => {
                condition = Some(Unknown::new(format!(
                    "condition is a {}, not a bool",
                    other.type_name()
                )))
            }
        }
    }
    if condition.is_none() {
        condition = ctx.conditions.borrow().last().cloned();
    }
    let ty_node = r.get("type").map(|j| eval_json(j, env));
    let Some(short_ty) = ty_node.as_ref().and_then(SNode::as_str).map(String::from) else {
        return;
    };
    let name_json = r.get("name");
    let name_span = name_json
        .map(|j| t.span(&j.range))
        .unwrap_or_else(|| span.clone());
    let name_node = name_json.map(|j| eval_json(j, env));
    let name = name_node.as_ref().and_then(SNode::as_str).map(String::from);
    let (ty, names): (String, Result<Vec<String>, String>) = match parent {
        Some(p) if !top => {
            let ty = format!("{}/{}", p.ty, short_ty);
            let names = match &name {
                Some(n) => {
                    let mut v = p.names.clone();
                    // A nested child may repeat its parent's name: `vnet/subnet`.
                    let segs: Vec<&str> = n.split('/').collect();
                    let own = segs.last().copied().unwrap_or("");
                    v.push(own.to_string());
                    Ok(v)
                }
                None => Err(unknown_name(&name_node)),
            };
            (ty, names)
        }
        _ => {
            let names = match &name {
                Some(n) => Ok(n.split('/').map(String::from).collect()),
                None => Err(unknown_name(&name_node)),
            };
            (short_ty.clone(), names)
        }
    };
    let existing = r.get("existing").and_then(Json::as_bool) == Some(true);
    let key = names.as_ref().ok().and_then(|n| {
        let segs: Vec<&str> = n.iter().map(String::as_str).collect();
        (ty.split('/').count() == segs.len() + 1).then(|| ResKey::arm(&ty, &segs))
    });
    let is_deployment = ty.eq_ignore_ascii_case("Microsoft.Resources/deployments");
    if pass == Pass::Keys {
        if let (Some(sym), Some(n)) = (symbol, names.as_ref().ok()) {
            let segs: Vec<&str> = n.iter().map(String::as_str).collect();
            if let Val::Str(id) = expr::call(
                "resourceId",
                std::iter::once(Val::str(&ty))
                    .chain(segs.iter().map(|s| Val::str(*s)))
                    .collect(),
                env,
            ) {
                t.register_symbol(sym, id);
            }
        }
        if let Some(k) = &key
            && !is_deployment
        {
            ctx.register(k, names.as_ref().ok().and_then(|n| n.last()));
        }
    }
    if is_deployment {
        let pushed = condition.is_some();
        if let Some(c) = &condition {
            ctx.conditions.borrow_mut().push(c.clone());
        }
        super::deploy::walk_deployment(r, key.as_ref(), name.as_deref(), &name_span, env, pass);
        if pushed {
            ctx.conditions.borrow_mut().pop();
        }
        return;
    }
    if pass == Pass::Full && !existing {
        // Without a name the resource cannot be linked to what refers to it
        // (a name that is an error was reported as such already).
        let unknown_name = match name_node.as_ref().and_then(SNode::val) {
            Some(Val::Unknown(w)) => !w.error,
            Some(Val::Str(_)) => false,
            _ => true,
        };
        // Children follow their parent's name: the parent's note covers them.
        let top_level = ty.matches('/').count() == 1;
        if names.is_err()
            && unknown_name
            && top_level
            && super::resources::MAPPED.contains(&ty.to_ascii_lowercase().as_str())
            && let Err(why) = &names
        {
            ctx.finding(
                Code::AEL008,
                format!("the {ty} resource's {why}"),
                name_span.clone(),
                "name not evaluated",
            );
        }
        let ev = EvRes {
            file: t.file,
            ty: ty.clone(),
            names: names.clone(),
            key: key.clone(),
            span: span.clone(),
            name_span,
            name: name.clone(),
            condition,
            properties: r.get("properties").map(|j| eval_json(j, env)),
            sku: r.get("sku").map(|j| eval_json(j, env)),
            location: r.get("location").map(|j| eval_json(j, env)),
            parent: parent.map(|p| p.key.clone()).or_else(|| {
                r.get("scope")
                    .and_then(|j| eval_json(j, env).as_str().map(String::from))
                    .and_then(|sc| scope_key(&sc, t))
            }),
        };
        ctx.out.borrow_mut().push(ev);
    }
    // Inline children.
    if let (Some(children), Ok(n), Some(k)) = (
        r.get("resources").and_then(Json::as_array),
        names.as_ref(),
        key.as_ref(),
    ) {
        let p = Parent {
            ty: ty.clone(),
            names: n.clone(),
            key: k.clone(),
        };
        for c in children {
            // A child whose type is already full (`Microsoft.X/y/z`) is top-level style.
            let child_top = c
                .get("type")
                .and_then(Json::as_str)
                .is_some_and(|s| s.contains('/') && s.contains('.'));
            walk_resource(c, None, Some(&p), env, pass, child_top);
        }
    }
}

/// Key of an extension resource's `scope`.
fn scope_key(scope: &str, t: &TScope) -> Option<ResKey> {
    if scope.contains("/providers/") {
        return ResKey::from_arm_id(scope);
    }
    if !scope.contains('/') {
        let id = t
            .symbols
            .borrow()
            .get(&scope.to_ascii_lowercase())
            .cloned()?;
        return ResKey::from_arm_id(&id);
    }
    // `Microsoft.ContainerService/managedClusters/aks`
    ResKey::from_arm_id(&format!("/providers/{}", scope.trim_start_matches('/')))
}

fn unknown_name(n: &Option<SNode>) -> String {
    match n.as_ref().and_then(SNode::val) {
        Some(Val::Unknown(w)) => format!("name is unknown: {}", w.reason),
        Some(v) => format!("name is a {}", v.type_name()),
        None => "name is not a string".into(),
    }
}

/// Evaluate a template's `outputs` (for nested deployments).
pub fn outputs(t: &TScope) -> Val {
    let env = Env::new(t);
    let mut out = vec![];
    for m in t
        .template
        .get("outputs")
        .and_then(Json::as_object)
        .unwrap_or(&[])
    {
        let v = match m.value.get("copy").filter(|c| c.as_object().is_some()) {
            Some(c) => copy_array(c, &m.key, &env).to_val(),
            None => m
                .value
                .get("value")
                .map(|v| eval_json(v, &env).to_val())
                .unwrap_or(Val::Null),
        };
        out.push((m.key.clone(), Val::Object(vec![("value".into(), v)])));
    }
    Val::Object(out)
}

/// Register a deployment's outputs for `reference(...).outputs`.
pub fn set_outputs(ctx: &Ctx, key: ResKey, v: Val) {
    ctx.outputs.borrow_mut().insert(key, v);
}

/// Nested deployments: depth guard shared with `deploy`.
pub fn enter_deployment(ctx: &Ctx) -> bool {
    let d = ctx.deploy_depth.get();
    if d >= 16 {
        return false;
    }
    ctx.deploy_depth.set(d + 1);
    true
}

pub fn leave_deployment(ctx: &Ctx) {
    ctx.deploy_depth
        .set(ctx.deploy_depth.get().saturating_sub(1));
}

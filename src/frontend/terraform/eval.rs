//! Terraform evaluation without running Terraform: variables (with tfvars
//! precedence), locals, resources as values, local modules with inputs and
//! outputs, `count`/`for_each`/`dynamic` over known values.
//!
//! Everything is lazy and memoised per module instance; cycles and runaway
//! input end as unknown values with a reason, never as a panic or a hang:
//! nesting depth, expansion counts and the total number of evaluation steps
//! are all bounded.

use super::funcs;
use super::parse::{BRef, ModSrc, ResDecl, block_span, span_of};
use super::value::{Origin, Unk, V, derived, pending_reason};
use crate::finding::{Code, Finding};
use crate::frontend::FrontendOptions;
use crate::model::ResKey;
use crate::source::{FileId, Sources, Span, normalize};
use hcl_edit::Span as _;
use hcl_edit::expr::{BinaryOperator, Expression, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::{Element, Template};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Local bindings: `count`, `each`, dynamic-block iterators, `for` variables.
pub type Scope = Vec<(String, V)>;

/// Every evaluation step counts against this budget, so no input can keep
/// the evaluator busy for long.
const MAX_STEPS: u64 = 1_000_000;

pub struct Prog {
    pub mods: Vec<ModSrc>,
    pub by_dir: HashMap<PathBuf, usize>,
}

impl Prog {
    pub fn new(mods: Vec<ModSrc>) -> Prog {
        let by_dir = mods
            .iter()
            .enumerate()
            .map(|(i, m)| (normalize(&m.dir), i))
            .collect();
        Prog { mods, by_dir }
    }
}

#[derive(Clone, Debug)]
enum Slot {
    Busy,
    Done(V),
}

/// How the instances of a resource or module call are keyed.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Single,
    Count,
    ForEach,
}

#[derive(Clone, Debug)]
pub struct Expansion {
    pub shape: Shape,
    /// Instance key (number or string) and the bindings it brings.
    pub items: Vec<(Option<V>, Scope)>,
    /// Set when `count`/`for_each` is unknown: one instance stands for them.
    pub condition: Option<Unk>,
}

#[derive(Clone, Debug)]
pub enum Children {
    Local(Expansion, Vec<usize>),
    /// Not followed: the reason.
    External(String),
}

pub struct Inst {
    pub src: usize,
    /// Module path used in keys: `""`, `module.net`, `module.a["x"].module.b`.
    pub path: String,
    pub parent: Option<usize>,
    /// The `module` block in the parent that created this instance.
    pub call: Option<BRef>,
    pub call_scope: Scope,
    pub depth: usize,
    pub condition: Option<Unk>,
    /// Root module only: values from tfvars and the command line.
    pub root_vars: BTreeMap<String, V>,
    var_cache: HashMap<String, Slot>,
    local_cache: HashMap<String, Slot>,
    res_cache: HashMap<String, Slot>,
    out_cache: HashMap<String, Slot>,
    children: HashMap<String, Option<Children>>,
}

impl Inst {
    pub fn new(src: usize, path: String) -> Inst {
        Inst {
            src,
            path,
            parent: None,
            call: None,
            call_scope: vec![],
            depth: 0,
            condition: None,
            root_vars: BTreeMap::new(),
            var_cache: HashMap::new(),
            local_cache: HashMap::new(),
            res_cache: HashMap::new(),
            out_cache: HashMap::new(),
            children: HashMap::new(),
        }
    }
}

/// What the model builder reads: an object body in a scope, possibly
/// overlaid by values from a plan.
#[derive(Clone, Debug)]
pub struct View<'a> {
    pub mi: usize,
    pub file: FileId,
    pub body: Option<&'a Body>,
    pub span: Span,
    pub scope: Scope,
    pub plan: Option<&'a serde_json::Value>,
    /// Plan only: the configuration's expressions of this block and the
    /// `after_unknown` marks, for values the plan leaves null.
    pub cfg: Option<&'a serde_json::Value>,
    pub unk: Option<&'a serde_json::Value>,
    /// Module path of the resource (for references read from a plan).
    pub mpath: String,
    /// A nested block written as an attribute (`security_rule = [{...}]`):
    /// its evaluated object.
    pub obj: Option<Rc<BTreeMap<String, V>>>,
}

pub struct Ev<'a> {
    pub prog: &'a Prog,
    pub sources: &'a Sources,
    pub opts: &'a FrontendOptions,
    pub insts: Vec<Inst>,
    pub findings: Vec<Finding>,
    noted: HashSet<(u32, usize, usize)>,
    depth: usize,
    steps: u64,
    max_depth: usize,
    max_items: usize,
    /// The `configuration.root_module` of the plan read alone, to follow
    /// references through module outputs.
    pub plan_cfg: Option<&'a serde_json::Value>,
}

fn is_skipped_block(name: &str) -> bool {
    matches!(
        name,
        "lifecycle" | "provisioner" | "connection" | "timeouts" | "depends_on"
    )
}

/// Terraform's way of writing an instance key: `[0]`, `["a"]`.
pub fn key_suffix(k: &Option<V>) -> String {
    match k {
        None => String::new(),
        Some(V::Num(n)) => format!("[{}]", *n as i64),
        Some(V::Str(s)) => format!("[{s:?}]"),
        Some(_) => "[?]".into(),
    }
}

pub fn join_path(parent: &str, call: &str, key: &Option<V>) -> String {
    let me = format!("module.{call}{}", key_suffix(key));
    if parent.is_empty() {
        me
    } else {
        format!("{parent}.{me}")
    }
}

impl<'a> Ev<'a> {
    pub fn new(prog: &'a Prog, sources: &'a Sources, opts: &'a FrontendOptions) -> Ev<'a> {
        Ev {
            prog,
            sources,
            opts,
            insts: vec![],
            findings: vec![],
            noted: HashSet::new(),
            depth: 0,
            steps: 0,
            max_depth: opts.limits.max_depth.max(16) * 4,
            max_items: opts.limits.max_expansion.max(1),
            plan_cfg: None,
        }
    }

    pub fn src(&self, mi: usize) -> &'a ModSrc {
        let prog: &'a Prog = self.prog;
        let s = self.insts.get(mi).map(|i| i.src).unwrap_or(0);
        &prog.mods[s.min(prog.mods.len().saturating_sub(1))]
    }

    pub fn note(&mut self, span: Span, msg: String, help: Option<String>) {
        let k = (span.file.0, span.range.start, msg.len());
        if self.noted.insert(k) {
            let mut f = Finding::new(Code::AEL008, msg, span, "here");
            if let Some(h) = help {
                f = f.help(h);
            }
            self.findings.push(f);
        }
    }

    // ---------------------------------------------------------------- roots

    /// Create the root instance of module `src` with variables from tfvars
    /// files and the command line, in Terraform's precedence order.
    pub fn add_root(&mut self, src: usize, planned: BTreeMap<String, V>) -> usize {
        let mi = self.insts.len();
        self.insts.push(Inst::new(src, String::new()));
        // Each root module has its own evaluation budget.
        self.steps = 0;
        let m = &self.prog.mods[src];
        let mut vals: BTreeMap<String, V> = BTreeMap::new();
        // terraform.tfvars < terraform.tfvars.json < *.auto.tfvars(.json) (lexical).
        let mut files: Vec<(u8, String, FileId)> = vec![];
        for &fid in &m.tfvars {
            let name = self
                .sources
                .get(fid)
                .path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let rank = match name.as_str() {
                "terraform.tfvars" => 0,
                "terraform.tfvars.json" => 1,
                n if n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json") => 2,
                _ => continue,
            };
            files.push((rank, name, fid));
        }
        files.sort();
        for (_, name, fid) in files {
            let text = self.sources.text(fid).to_string();
            self.read_var_file(mi, &name, &text, Some(fid), &mut vals);
        }
        for p in &self.opts.var_files {
            let (text, fid) = match self.sources.find(p) {
                Some(fid) => (self.sources.text(fid).to_string(), Some(fid)),
                None => match read_small(p, self.opts.limits.max_file_size) {
                    Some(t) => (t, None),
                    None => continue,
                },
            };
            let name = p.to_string_lossy().to_string();
            self.read_var_file(mi, &name, &text, fid, &mut vals);
        }
        for (k, raw) in &self.opts.vars {
            let primitive = m
                .vars
                .get(k)
                .and_then(|r| m.block(*r))
                .and_then(|b| b.body.get_attribute("type"))
                .map(|a| {
                    matches!(&a.value, Expression::Variable(v)
                        if matches!(v.as_str(), "string" | "number" | "bool"))
                })
                .unwrap_or(true);
            let v = if primitive {
                V::Str(raw.clone())
            } else {
                match hcl_edit::parser::parse_expr(raw) {
                    Ok(e) => const_value(&e, 0, self.max_items),
                    Err(_) => V::Str(raw.clone()),
                }
            };
            vals.insert(k.clone(), v);
        }
        // A plan records the values Terraform used: they win.
        vals.extend(planned);
        if let Some(i) = self.insts.get_mut(mi) {
            i.root_vars = vals;
        }
        mi
    }

    fn read_var_file(
        &mut self,
        _mi: usize,
        name: &str,
        text: &str,
        fid: Option<FileId>,
        vals: &mut BTreeMap<String, V>,
    ) {
        if name.ends_with(".json") {
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(o)) => {
                    for (k, v) in o {
                        vals.insert(k, V::from_json(&v, 0));
                    }
                }
                _ => {
                    if let Some(fid) = fid {
                        self.findings.push(Finding::new(
                            Code::AEL000,
                            format!("`{name}` is not a JSON object of variable values"),
                            Span::new(fid, 0..0),
                            "here",
                        ));
                    }
                }
            }
            return;
        }
        let body = match fid {
            Some(fid) => super::parse::parse_file(self.sources, fid, 0, &mut self.findings),
            None => hcl_edit::parser::parse_body(text).ok(),
        };
        let Some(body) = body else { return };
        for a in body.attributes() {
            let v = const_value(&a.value, 0, self.max_items);
            vals.insert(a.key.as_str().to_string(), v);
        }
    }

    // ------------------------------------------------------------ variables

    pub fn var(&mut self, mi: usize, name: &str) -> V {
        if let Some(s) = self.insts.get(mi).and_then(|i| i.var_cache.get(name)) {
            return match s {
                Slot::Done(v) => v.clone(),
                Slot::Busy => V::error(format!("variable `{name}` refers to itself")),
            };
        }
        self.set_slot(mi, SlotKind::Var, name, Slot::Busy);
        let v = self.var_uncached(mi, name);
        let m = self.src(mi);
        let v = match m
            .vars
            .get(name)
            .and_then(|r| m.block(*r))
            .and_then(|b| b.body.get_attribute("type"))
        {
            Some(t) => apply_type(v, &t.value, 0, self.max_items),
            None => v,
        };
        self.set_slot(mi, SlotKind::Var, name, Slot::Done(v.clone()));
        v
    }

    fn var_uncached(&mut self, mi: usize, name: &str) -> V {
        let m = self.src(mi);
        let Some(inst) = self.insts.get(mi) else {
            return V::error("no module");
        };
        let (parent, call, root_val) = (inst.parent, inst.call, inst.root_vars.get(name).cloned());
        let decl = m.vars.get(name).and_then(|r| m.block(*r));
        // A module input comes from the calling block.
        if let (Some(parent), Some(call)) = (parent, call) {
            let scope = self
                .insts
                .get(mi)
                .map(|i| i.call_scope.clone())
                .unwrap_or_default();
            let pm = self.src(parent);
            if let Some(a) = pm.block(call).and_then(|b| b.body.get_attribute(name)) {
                let v = self.eval(parent, &scope, &a.value);
                if !matches!(v, V::Null) {
                    return v;
                }
            }
        } else if let Some(v) = root_val {
            return v;
        }
        match decl.and_then(|b| b.body.get_attribute("default")) {
            Some(d) => self.eval(mi, &vec![], &d.value),
            None if decl.is_none() => V::error(format!("undeclared variable `{name}`")),
            None => {
                if parent.is_some() {
                    let call = self.call_name(mi);
                    V::unknown_hint(
                        format!(
                            "module input `{name}` is not set by `module.{call}` and has no default"
                        ),
                        format!("set `{name}` in the module block"),
                    )
                } else {
                    let mut hint = format!("--var {name}=... or a tfvars file");
                    let others: Vec<String> = m
                        .tfvars
                        .iter()
                        .map(|f| self.sources.get(*f).display.clone())
                        .filter(|d| !d.ends_with("terraform.tfvars") && !d.contains(".auto."))
                        .collect();
                    if let Some(f) = others.first() {
                        hint = format!("--var-file {f} or --var {name}=...");
                    }
                    V::unknown_hint(
                        format!("variable `{name}` has no default and no value (tfvars or --var)"),
                        hint,
                    )
                }
            }
        }
    }

    fn call_name(&self, mi: usize) -> String {
        let Some(inst) = self.insts.get(mi) else {
            return String::new();
        };
        let (Some(p), Some(c)) = (inst.parent, inst.call) else {
            return String::new();
        };
        self.src(p)
            .block(c)
            .and_then(|b| b.labels.first())
            .map(|l| l.as_str().to_string())
            .unwrap_or_default()
    }

    pub fn local(&mut self, mi: usize, name: &str) -> V {
        if let Some(s) = self.insts.get(mi).and_then(|i| i.local_cache.get(name)) {
            return match s {
                Slot::Done(v) => v.clone(),
                Slot::Busy => V::error(format!("local `{name}` refers to itself")),
            };
        }
        let m = self.src(mi);
        let Some((_, a)) = m.local(name) else {
            return V::error(format!("undeclared local value `{name}`"));
        };
        self.set_slot(mi, SlotKind::Local, name, Slot::Busy);
        let v = self.eval(mi, &vec![], &a.value);
        self.set_slot(mi, SlotKind::Local, name, Slot::Done(v.clone()));
        v
    }

    fn set_slot(&mut self, mi: usize, kind: SlotKind, name: &str, s: Slot) {
        if let Some(i) = self.insts.get_mut(mi) {
            let map = match kind {
                SlotKind::Var => &mut i.var_cache,
                SlotKind::Local => &mut i.local_cache,
                SlotKind::Res => &mut i.res_cache,
                SlotKind::Out => &mut i.out_cache,
            };
            map.insert(name.to_string(), s);
        }
    }

    // ------------------------------------------------------------ expansion

    /// Instances of a block with `count` or `for_each`.
    pub fn expand(&mut self, mi: usize, file: FileId, body: &'a Body, what: &str) -> Expansion {
        let max = self.max_items;
        if let Some(a) = body.get_attribute("count") {
            let v = self.eval(mi, &vec![], &a.value);
            let n = match v.as_num() {
                Some(n) if n >= 0.0 => n,
                _ => {
                    let reason = if v.is_pending() {
                        format!("`count` of {what} is unknown: {}", pending_reason(&v))
                    } else {
                        format!("`count` of {what} is not a number")
                    };
                    let u = Unk {
                        reason,
                        hint: unk_hint(&v),
                        error: false,
                    };
                    return Expansion {
                        shape: Shape::Count,
                        items: vec![(
                            Some(V::Num(0.0)),
                            vec![("count".into(), count_obj(V::Num(0.0)))],
                        )],
                        condition: Some(u),
                    };
                }
            };
            let total = n.floor();
            let take = if total > max as f64 {
                self.note(
                    span_of(file, a.value.span()),
                    format!(
                        "`count = {}` of {what} was expanded to its first {max} instances",
                        super::value::fmt_num(total)
                    ),
                    Some("raise the expansion limit if more instances matter".into()),
                );
                max
            } else {
                total as usize
            };
            let items = (0..take)
                .map(|i| {
                    let k = V::Num(i as f64);
                    (Some(k.clone()), vec![("count".to_string(), count_obj(k))])
                })
                .collect();
            return Expansion {
                shape: Shape::Count,
                items,
                condition: None,
            };
        }
        if let Some(a) = body.get_attribute("for_each") {
            let v = self.eval(mi, &vec![], &a.value);
            let pairs: Vec<(V, V)> = match &v {
                V::Map(m, _) => m
                    .iter()
                    .map(|(k, x)| (V::Str(k.clone()), x.clone()))
                    .collect(),
                V::List(l) => l.iter().map(|x| (x.clone(), x.clone())).collect(),
                other => {
                    let reason = if other.is_pending() {
                        format!("`for_each` of {what} is unknown: {}", pending_reason(other))
                    } else {
                        format!("`for_each` of {what} is a {}", other.type_name())
                    };
                    let u = V::unknown(reason.clone());
                    return Expansion {
                        shape: Shape::ForEach,
                        items: vec![(None, vec![("each".into(), each_obj(u.clone(), u.clone()))])],
                        condition: Some(Unk {
                            reason,
                            hint: unk_hint(other),
                            error: false,
                        }),
                    };
                }
            };
            if pairs.len() > max {
                self.note(
                    span_of(file, a.value.span()),
                    format!(
                        "`for_each` of {what} has {} elements; only the first {max} were expanded",
                        pairs.len()
                    ),
                    None,
                );
            }
            let items = pairs
                .into_iter()
                .take(max)
                .map(|(k, x)| {
                    let key = match &k {
                        V::Str(_) => Some(k.clone()),
                        other => other.as_string().map(V::Str).or(Some(V::Str("?".into()))),
                    };
                    (key, vec![("each".to_string(), each_obj(k, x))])
                })
                .collect();
            return Expansion {
                shape: Shape::ForEach,
                items,
                condition: None,
            };
        }
        Expansion {
            shape: Shape::Single,
            items: vec![(None, vec![])],
            condition: None,
        }
    }

    /// The nested blocks `name` of a body, `dynamic` blocks expanded.
    pub fn nested(
        &mut self,
        mi: usize,
        file: FileId,
        body: &'a Body,
        scope: &Scope,
        name: &str,
    ) -> Vec<(&'a Body, Span, Scope)> {
        let mut out = vec![];
        for b in body.blocks() {
            if b.ident.as_str() == name {
                out.push((&b.body, block_span(file, b), scope.clone()));
            } else if b.ident.as_str() == "dynamic"
                && b.labels.first().map(|l| l.as_str()) == Some(name)
            {
                self.expand_dynamic(mi, file, b, scope, name, &mut out);
            }
        }
        out
    }

    fn expand_dynamic(
        &mut self,
        mi: usize,
        file: FileId,
        b: &'a Block,
        scope: &Scope,
        label: &str,
        out: &mut Vec<(&'a Body, Span, Scope)>,
    ) {
        let Some(content) = b.body.blocks().find(|c| c.ident.as_str() == "content") else {
            return;
        };
        let iter = b
            .body
            .get_attribute("iterator")
            .and_then(|a| match &a.value {
                Expression::Variable(v) => Some(v.as_str().to_string()),
                _ => None,
            })
            .unwrap_or_else(|| label.to_string());
        let span = block_span(file, content);
        let coll = match b.body.get_attribute("for_each") {
            Some(a) => self.eval(mi, scope, &a.value),
            None => V::error("`dynamic` block without `for_each`"),
        };
        let pairs: Vec<(V, V)> = match &coll {
            V::Map(m, _) => m
                .iter()
                .map(|(k, x)| (V::Str(k.clone()), x.clone()))
                .collect(),
            V::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, x)| (V::Num(i as f64), x.clone()))
                .collect(),
            V::Null => vec![],
            other => {
                // One block stands for the unknown ones; its values are unknown.
                let u = V::unknown(format!(
                    "`for_each` of dynamic `{label}` is unknown: {}",
                    pending_reason(other)
                ));
                let mut s = scope.clone();
                s.push((iter, each_obj(u.clone(), u)));
                out.push((&content.body, span, s));
                return;
            }
        };
        if pairs.len() > self.max_items {
            self.note(
                span_of(file, b.span()),
                format!(
                    "dynamic `{label}` has {} elements; only the first {} were expanded",
                    pairs.len(),
                    self.max_items
                ),
                None,
            );
        }
        for (k, x) in pairs.into_iter().take(self.max_items) {
            let mut s = scope.clone();
            s.push((iter.clone(), each_obj(k, x)));
            out.push((&content.body, span.clone(), s));
        }
    }

    // ------------------------------------------------------------ resources

    pub fn res_key(&self, mi: usize, addr: &str) -> ResKey {
        let path = self.insts.get(mi).map(|i| i.path.as_str()).unwrap_or("");
        ResKey::tf(path, addr)
    }

    /// A resource (or data source) as a value: an object, a list (`count`)
    /// or a map (`for_each`) of objects whose unwritten attributes are
    /// references to the resource.
    pub fn resource_value(&mut self, mi: usize, addr: &str) -> V {
        if let Some(s) = self.insts.get(mi).and_then(|i| i.res_cache.get(addr)) {
            return match s {
                Slot::Done(v) => v.clone(),
                Slot::Busy => V::error(format!("`{addr}` refers to itself")),
            };
        }
        let m = self.src(mi);
        let Some(d) = m.res_index.get(addr).and_then(|i| m.resources.get(*i)) else {
            return V::error(format!("reference to undeclared resource `{addr}`"));
        };
        let Some(b) = m.block(d.at) else {
            return V::error("missing block");
        };
        if d.data && d.rtype == "terraform_remote_state" {
            return V::unknown_hint(
                format!("`{addr}` reads another configuration's state, which is not read"),
                "scan that configuration too, or set the value with --var",
            );
        }
        let file = m.file_id(d.at);
        self.set_slot(mi, SlotKind::Res, addr, Slot::Busy);
        let exp = self.expand(mi, file, &b.body, &format!("`{addr}`"));
        let mut objs = vec![];
        for (k, scope) in &exp.items {
            let key = self.inst_key(mi, d, k);
            let origin = Origin {
                key,
                rtype: d.rtype.clone(),
                path: String::new(),
            };
            let mut o = self.materialise(mi, file, &b.body, scope, origin, 0);
            // A data source stands for a resource declared elsewhere: its
            // ARM identity links it across roots and formats.
            if d.data {
                if let V::Map(m, Some(org)) = &mut o {
                    if let Some(k) = data_arm_key(&d.rtype, m) {
                        org.key = k;
                    }
                }
            }
            objs.push((k.clone(), o));
        }
        let v = match exp.shape {
            Shape::Single => objs.into_iter().next().map(|x| x.1).unwrap_or(V::Null),
            _ if exp.condition.is_some() => V::unknown(
                exp.condition
                    .as_ref()
                    .map(|c| c.reason.clone())
                    .unwrap_or_default(),
            ),
            Shape::Count => V::List(objs.into_iter().map(|x| x.1).collect()),
            Shape::ForEach => V::map(
                objs.into_iter()
                    .filter_map(|(k, o)| k.and_then(|k| k.as_string()).map(|k| (k, o)))
                    .collect(),
            ),
        };
        self.set_slot(mi, SlotKind::Res, addr, Slot::Done(v.clone()));
        v
    }

    pub fn inst_key(&self, mi: usize, d: &ResDecl, k: &Option<V>) -> ResKey {
        self.res_key(mi, &format!("{}{}", d.addr(), key_suffix(k)))
    }

    fn materialise(
        &mut self,
        mi: usize,
        file: FileId,
        body: &'a Body,
        scope: &Scope,
        origin: Origin,
        depth: usize,
    ) -> V {
        let mut m: BTreeMap<String, V> = BTreeMap::new();
        if depth > 16 {
            return V::Map(m, Some(Box::new(origin)));
        }
        for a in body.attributes() {
            let k = a.key.as_str();
            if matches!(k, "count" | "for_each" | "depends_on" | "provider") {
                continue;
            }
            let v = self.eval(mi, scope, &a.value);
            m.insert(k.to_string(), v);
        }
        let mut names: Vec<&str> = vec![];
        for b in body.blocks() {
            let n = if b.ident.as_str() == "dynamic" {
                b.labels.first().map(|l| l.as_str()).unwrap_or("")
            } else {
                b.ident.as_str()
            };
            if !n.is_empty() && !is_skipped_block(n) && !names.contains(&n) {
                names.push(n);
            }
        }
        for n in names {
            let mut list = vec![];
            for (i, (nb, _, s)) in self
                .nested(mi, file, body, scope, n)
                .into_iter()
                .enumerate()
            {
                let sub = if origin.rtype == "azurerm_virtual_network" && n == "subnet" {
                    // Inline subnets are resources of their own for references.
                    let name = nb
                        .get_attribute("name")
                        .map(|a| self.eval(mi, &s, &a.value))
                        .and_then(|v| v.as_string());
                    Origin {
                        key: inline_subnet_key(&origin.key, name.as_deref(), i),
                        rtype: "azurerm_subnet".into(),
                        path: String::new(),
                    }
                } else {
                    Origin {
                        key: origin.key.clone(),
                        rtype: origin.rtype.clone(),
                        path: if origin.path.is_empty() {
                            n.to_string()
                        } else {
                            format!("{}.{n}", origin.path)
                        },
                    }
                };
                list.push(self.materialise(mi, file, nb, &s, sub, depth + 1));
            }
            m.insert(n.to_string(), V::List(list));
        }
        V::Map(m, Some(Box::new(origin)))
    }

    // -------------------------------------------------------------- modules

    /// The instances of module call `name` in instance `mi` (created once).
    pub fn children(&mut self, mi: usize, name: &str) -> Children {
        match self.insts.get(mi).and_then(|i| i.children.get(name)) {
            Some(Some(c)) => return c.clone(),
            Some(None) => return Children::External(format!("module `{name}` uses itself")),
            None => {}
        }
        if let Some(i) = self.insts.get_mut(mi) {
            i.children.insert(name.to_string(), None);
        }
        let c = self.children_uncached(mi, name);
        if let Some(i) = self.insts.get_mut(mi) {
            i.children.insert(name.to_string(), Some(c.clone()));
        }
        c
    }

    fn children_uncached(&mut self, mi: usize, name: &str) -> Children {
        let m = self.src(mi);
        let Some(&at) = m.calls.get(name) else {
            return Children::External(format!("no module block `{name}`"));
        };
        let Some(b) = m.block(at) else {
            return Children::External("missing block".into());
        };
        let file = m.file_id(at);
        let source = b
            .body
            .get_attribute("source")
            .and_then(|a| match &a.value {
                Expression::String(s) => Some(s.value().to_string()),
                _ => None,
            })
            .unwrap_or_default();
        let depth = self.insts.get(mi).map(|i| i.depth).unwrap_or(0);
        let parent_path = self
            .insts
            .get(mi)
            .map(|i| i.path.clone())
            .unwrap_or_default();
        let parent_cond = self.insts.get(mi).and_then(|i| i.condition.clone());
        let span = block_span(file, b);
        let reason = if !is_local_source(self.prog, &m.dir, &source) {
            let r = format!(
                "module `{name}` comes from `{source}`, which is not fetched; its outputs are unknown"
            );
            self.note(
                span,
                r.clone(),
                Some(
                    "vendor the module into the repository or lint a `terraform show -json` plan"
                        .into(),
                ),
            );
            r
        } else {
            let dir = normalize(&m.dir.join(&source));
            if !self.inside_root(&dir) {
                let r = format!(
                    "module `{name}` points outside the scanned root (`{source}`); it was not followed"
                );
                self.note(span, r.clone(), None);
                r
            } else if depth >= 32 {
                let r = format!("module `{name}` is nested more than 32 levels deep");
                self.note(span, r.clone(), None);
                r
            } else if let Some(&src) = self.prog.by_dir.get(&dir) {
                let exp = self.expand(mi, file, &b.body, &format!("`module.{name}`"));
                let mut ids = vec![];
                for (k, scope) in &exp.items {
                    if self.insts.len() > 10_000 {
                        break;
                    }
                    let id = self.insts.len();
                    let mut inst = Inst::new(src, join_path(&parent_path, name, k));
                    inst.parent = Some(mi);
                    inst.call = Some(at);
                    inst.call_scope = scope.clone();
                    inst.depth = depth + 1;
                    inst.condition = exp.condition.clone().or(parent_cond.clone());
                    self.insts.push(inst);
                    ids.push(id);
                }
                return Children::Local(exp, ids);
            } else {
                let r = format!(
                    "module `{name}` (`{source}`) has no .tf files in the scanned tree; its outputs are unknown"
                );
                self.note(span, r.clone(), None);
                r
            }
        };
        Children::External(reason)
    }

    fn inside_root(&self, dir: &Path) -> bool {
        let root = &self.opts.root;
        if root.as_os_str().is_empty() {
            return true;
        }
        let abs = |p: &Path| {
            if p.is_absolute() {
                normalize(p)
            } else {
                std::env::current_dir()
                    .map(|c| normalize(&c.join(p)))
                    .unwrap_or_else(|_| normalize(p))
            }
        };
        abs(dir).starts_with(abs(root))
    }

    pub fn output(&mut self, mi: usize, name: &str) -> V {
        if let Some(s) = self.insts.get(mi).and_then(|i| i.out_cache.get(name)) {
            return match s {
                Slot::Done(v) => v.clone(),
                Slot::Busy => V::error(format!("output `{name}` refers to itself")),
            };
        }
        let m = self.src(mi);
        let Some(b) = m.outputs.get(name).and_then(|r| m.block(*r)) else {
            return V::error(format!("module has no output `{name}`"));
        };
        self.set_slot(mi, SlotKind::Out, name, Slot::Busy);
        let v = match b.body.get_attribute("value") {
            Some(a) => self.eval(mi, &vec![], &a.value),
            None => V::Null,
        };
        self.set_slot(mi, SlotKind::Out, name, Slot::Done(v.clone()));
        v
    }

    fn module_object(&mut self, mi: usize) -> V {
        let names: Vec<String> = self.src(mi).outputs.keys().cloned().collect();
        let mut m = BTreeMap::new();
        for n in names {
            let v = self.output(mi, &n);
            m.insert(n, v);
        }
        V::map(m)
    }

    /// `module.<name>` followed by `ops`: returns the value and how many
    /// operators were consumed.
    fn module_ref(
        &mut self,
        mi: usize,
        name: &str,
        next: Option<&TraversalOperator>,
    ) -> (V, usize) {
        match self.children(mi, name) {
            Children::External(r) => (V::unknown(r), 0),
            Children::Local(exp, ids) => {
                if exp.condition.is_some() && exp.shape != Shape::Single {
                    let r = exp.condition.map(|c| c.reason).unwrap_or_default();
                    return (V::unknown(r), 0);
                }
                match exp.shape {
                    Shape::Single => {
                        let Some(&child) = ids.first() else {
                            return (V::Null, 0);
                        };
                        // Evaluate only the output asked for: cheaper, and no
                        // false cycles between a module's inputs and outputs.
                        if let Some(TraversalOperator::GetAttr(o)) = next {
                            return (self.output(child, o.as_str()), 1);
                        }
                        (self.module_object(child), 0)
                    }
                    Shape::Count => (
                        V::List(ids.iter().map(|c| self.module_object(*c)).collect()),
                        0,
                    ),
                    Shape::ForEach => {
                        let mut m = BTreeMap::new();
                        for ((k, _), c) in exp.items.iter().zip(ids.iter()) {
                            if let Some(k) = k.as_ref().and_then(V::as_string) {
                                let o = self.module_object(*c);
                                m.insert(k, o);
                            }
                        }
                        (V::map(m), 0)
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------ model read

    /// An attribute of a view: the plan's value when it has one, otherwise
    /// the expression evaluated; the span is the expression's.
    pub fn attr(&mut self, v: &View<'a>, name: &str) -> Option<(V, Span)> {
        if let Some(o) = &v.obj {
            return o
                .get(name)
                .filter(|x| !matches!(x, V::Null))
                .map(|x| (x.clone(), v.span.clone()));
        }
        let written = v.body.and_then(|b| b.get_attribute(name));
        let span = written
            .map(|a| span_of(v.file, a.value.span()))
            .unwrap_or_else(|| v.span.clone());
        if let Some(p) = v.plan.and_then(|p| p.get(name)) {
            let empty = match p {
                serde_json::Value::Null => true,
                serde_json::Value::String(s) => s.is_empty(),
                serde_json::Value::Array(a) => a.is_empty(),
                _ => false,
            };
            if !empty {
                return Some((V::from_json(p, 0), span));
            }
        }
        if v.body.is_none() {
            return plan_fallback(v, name, span, self.plan_cfg);
        }
        let a = written?;
        let val = self.eval(v.mi, &v.scope, &a.value);
        if matches!(val, V::Null) {
            return None;
        }
        Some((val, span))
    }

    /// Nested blocks of a view (dynamic blocks expanded; from the plan when
    /// the view has plan values).
    pub fn blocks(&mut self, v: &View<'a>, name: &str) -> Vec<View<'a>> {
        // Blocks written as attributes: `security_rule = [{ ... }]`.
        let as_attr = match (&v.obj, v.body) {
            (Some(o), _) => o.get(name).map(|x| (x.clone(), v.span.clone())),
            (None, Some(b)) if v.plan.is_none() => b.get_attribute(name).map(|a| {
                (
                    self.eval(v.mi, &v.scope, &a.value),
                    span_of(v.file, a.value.span()),
                )
            }),
            _ => None,
        };
        if let Some((val, span)) = as_attr {
            let items = match val {
                V::List(l) => l,
                m @ V::Map(..) => vec![m],
                _ => vec![],
            };
            return items
                .into_iter()
                .filter_map(|x| match x {
                    V::Map(m, _) => Some(View {
                        mi: v.mi,
                        file: v.file,
                        body: None,
                        span: span.clone(),
                        scope: v.scope.clone(),
                        plan: None,
                        cfg: None,
                        unk: None,
                        mpath: v.mpath.clone(),
                        obj: Some(Rc::new(m)),
                    }),
                    _ => None,
                })
                .collect();
        }
        let tf: Vec<(&'a Body, Span, Scope)> = match v.body {
            Some(b) => self.nested(v.mi, v.file, b, &v.scope, name),
            None => vec![],
        };
        if let Some(serde_json::Value::Array(items)) = v.plan.and_then(|p| p.get(name)) {
            let nth = |x: Option<&'a serde_json::Value>, i: usize| {
                x.and_then(|c| c.get(name)).and_then(|c| c.get(i))
            };
            return items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let t = tf.get(i);
                    View {
                        mi: v.mi,
                        file: v.file,
                        body: t.map(|t| t.0),
                        span: t.map(|t| t.1.clone()).unwrap_or_else(|| v.span.clone()),
                        scope: t.map(|t| t.2.clone()).unwrap_or_else(|| v.scope.clone()),
                        plan: Some(item),
                        cfg: nth(v.cfg, i),
                        unk: nth(v.unk, i),
                        mpath: v.mpath.clone(),
                        obj: None,
                    }
                })
                .collect();
        }
        tf.into_iter()
            .map(|(body, span, scope)| View {
                mi: v.mi,
                file: v.file,
                body: Some(body),
                span,
                scope,
                plan: None,
                cfg: None,
                unk: None,
                mpath: v.mpath.clone(),
                obj: None,
            })
            .collect()
    }

    // ----------------------------------------------------------- expressions

    pub fn eval(&mut self, mi: usize, scope: &Scope, e: &'a Expression) -> V {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return V::unknown("evaluation step budget exhausted");
        }
        if self.depth >= self.max_depth {
            return V::error("expression nested too deeply");
        }
        self.depth += 1;
        let v = self.eval_inner(mi, scope, e);
        self.depth -= 1;
        v
    }

    fn eval_inner(&mut self, mi: usize, scope: &Scope, e: &'a Expression) -> V {
        match e {
            Expression::Null(_) => V::Null,
            Expression::Bool(b) => V::Bool(*b.value()),
            Expression::Number(n) => V::Num(n.value().as_f64().unwrap_or(0.0)),
            Expression::String(s) => V::Str(s.value().to_string()),
            Expression::Array(a) => {
                let mut out = vec![];
                for x in a.iter() {
                    out.push(self.eval(mi, scope, x));
                }
                V::List(out)
            }
            Expression::Object(o) => {
                let mut m = BTreeMap::new();
                for (k, val) in o.iter() {
                    let key = match k {
                        hcl_edit::expr::ObjectKey::Ident(i) => V::Str(i.as_str().to_string()),
                        hcl_edit::expr::ObjectKey::Expression(x) => self.eval(mi, scope, x),
                    };
                    let v = self.eval(mi, scope, val.expr());
                    match key.as_string() {
                        Some(k) => {
                            m.insert(k, v);
                        }
                        None if key.is_pending() => return V::unknown(pending_reason(&key)),
                        None => return V::error("object key is not a string"),
                    }
                }
                V::map(m)
            }
            Expression::StringTemplate(t) => self.template(mi, scope, t),
            Expression::HeredocTemplate(h) => self.template(mi, scope, &h.template),
            Expression::Parenthesis(p) => self.eval(mi, scope, p.inner()),
            Expression::Variable(v) => {
                let (val, _) = self.root(mi, scope, v.as_str(), &[]);
                val
            }
            Expression::Conditional(c) => {
                let cond = self.eval(mi, scope, &c.cond_expr);
                match cond.as_bool() {
                    Some(true) => self.eval(mi, scope, &c.true_expr),
                    Some(false) => self.eval(mi, scope, &c.false_expr),
                    None => {
                        let t = self.eval(mi, scope, &c.true_expr);
                        let f = self.eval(mi, scope, &c.false_expr);
                        if t == f {
                            t
                        } else if cond.is_pending() {
                            derived(
                                &cond,
                                format!("condition is unknown: {}", pending_reason(&cond)),
                            )
                        } else {
                            V::error("condition is not a bool")
                        }
                    }
                }
            }
            Expression::FuncCall(f) => self.call(mi, scope, f),
            Expression::Traversal(t) => self.traversal(mi, scope, t),
            Expression::UnaryOp(u) => {
                let v = self.eval(mi, scope, &u.expr);
                if v.is_pending() {
                    return v;
                }
                match u.operator.value() {
                    UnaryOperator::Neg => v
                        .as_num()
                        .map(|n| V::Num(-n))
                        .unwrap_or_else(|| V::error("`-` needs a number")),
                    UnaryOperator::Not => v
                        .as_bool()
                        .map(|b| V::Bool(!b))
                        .unwrap_or_else(|| V::error("`!` needs a bool")),
                }
            }
            Expression::BinaryOp(b) => self.binary(mi, scope, b),
            Expression::ForExpr(f) => self.for_expr(mi, scope, f),
        }
    }

    fn template(&mut self, mi: usize, scope: &Scope, t: &'a Template) -> V {
        let elems: Vec<&'a Element> = t.iter().collect();
        // "${x}" is x itself, whatever its type (Terraform 0.11 style).
        if let [Element::Interpolation(i)] = elems.as_slice() {
            return self.eval(mi, scope, &i.expr);
        }
        let mut out = String::new();
        let mut pending: Option<V> = None;
        for el in elems {
            match el {
                Element::Literal(s) => out.push_str(s.value()),
                Element::Interpolation(i) => {
                    let v = self.eval(mi, scope, &i.expr);
                    match v.as_string() {
                        Some(s) => out.push_str(&s),
                        None if v.is_pending() => {
                            out.push('\u{1}');
                            pending.get_or_insert(v);
                        }
                        None => return V::error(format!("cannot interpolate a {}", v.type_name())),
                    }
                }
                Element::Directive(_) => {
                    return V::unknown("template directives (%{...}) are not evaluated");
                }
            }
            if out.len() > 1 << 20 {
                return V::error("string too long");
            }
        }
        match pending {
            None => V::Str(out),
            Some(p) => {
                // An ARM id whose unknown parts are only the subscription and
                // resource group still names the resource.
                if let Some(idx) = out.to_ascii_lowercase().rfind("/providers/") {
                    let tail = out.get(idx..).unwrap_or("");
                    if !tail.contains('\u{1}') {
                        if let Some(k) = ResKey::from_arm_id(&out.replace('\u{1}', "x")) {
                            return V::Ref {
                                key: k,
                                rtype: String::new(),
                                path: "id".into(),
                            };
                        }
                    }
                }
                match p {
                    V::Unknown(_) => p,
                    other => V::unknown(pending_reason(&other)),
                }
            }
        }
    }

    fn call(&mut self, mi: usize, scope: &Scope, f: &'a hcl_edit::expr::FuncCall) -> V {
        let name = f.name.name.as_str();
        if f.name.is_namespaced() {
            return V::unknown(format!("provider function `{name}` is not evaluated"));
        }
        let args: Vec<&'a Expression> = f.args.iter().collect();
        match name {
            "try" => {
                let mut last = V::error("`try`: no argument succeeded");
                for a in args {
                    let v = self.eval(mi, scope, a);
                    if !v.is_error() {
                        return v;
                    }
                    last = v;
                }
                return last;
            }
            "can" => {
                let v = args.first().map(|a| self.eval(mi, scope, a));
                return match v {
                    Some(v) if v.is_error() => V::Bool(false),
                    Some(V::Unknown(u)) => V::Unknown(u),
                    Some(_) => V::Bool(true),
                    None => V::error("`can` needs an argument"),
                };
            }
            _ => {}
        }
        let mut vals = vec![];
        for a in &args {
            vals.push(self.eval(mi, scope, a));
        }
        // `f(list...)` expands the last argument.
        if f.args.expand_final() {
            if let Some(V::List(l)) = vals.pop() {
                vals.extend(l);
            }
        }
        funcs::call(name, vals, self.max_items)
    }

    fn binary(&mut self, mi: usize, scope: &Scope, b: &'a hcl_edit::expr::BinaryOp) -> V {
        let op = *b.operator.value();
        let l = self.eval(mi, scope, &b.lhs_expr);
        if op == BinaryOperator::And && l.as_bool() == Some(false) {
            return V::Bool(false);
        }
        if op == BinaryOperator::Or && l.as_bool() == Some(true) {
            return V::Bool(true);
        }
        let r = self.eval(mi, scope, &b.rhs_expr);
        if let Some(p) = [&l, &r].into_iter().find(|x| x.is_pending()) {
            if matches!(op, BinaryOperator::And) && r.as_bool() == Some(false) {
                return V::Bool(false);
            }
            if matches!(op, BinaryOperator::Or) && r.as_bool() == Some(true) {
                return V::Bool(true);
            }
            return match p {
                V::Unknown(_) => p.clone(),
                other => V::unknown(pending_reason(other)),
            };
        }
        let num = |f: fn(f64, f64) -> f64| match (l.as_num(), r.as_num()) {
            (Some(a), Some(b)) => V::Num(f(a, b)),
            _ => V::error("arithmetic on a non-number"),
        };
        let cmp = |f: fn(f64, f64) -> bool| match (l.as_num(), r.as_num()) {
            (Some(a), Some(b)) => V::Bool(f(a, b)),
            _ => V::error("comparison of non-numbers"),
        };
        match op {
            BinaryOperator::Eq => V::Bool(loose_eq(&l, &r)),
            BinaryOperator::NotEq => V::Bool(!loose_eq(&l, &r)),
            BinaryOperator::Plus => num(|a, b| a + b),
            BinaryOperator::Minus => num(|a, b| a - b),
            BinaryOperator::Mul => num(|a, b| a * b),
            BinaryOperator::Div => num(|a, b| a / b),
            BinaryOperator::Mod => num(|a, b| a % b),
            BinaryOperator::Less => cmp(|a, b| a < b),
            BinaryOperator::LessEq => cmp(|a, b| a <= b),
            BinaryOperator::Greater => cmp(|a, b| a > b),
            BinaryOperator::GreaterEq => cmp(|a, b| a >= b),
            BinaryOperator::And | BinaryOperator::Or => match (l.as_bool(), r.as_bool()) {
                (Some(a), Some(b)) => V::Bool(if op == BinaryOperator::And {
                    a && b
                } else {
                    a || b
                }),
                _ => V::error("logic on a non-bool"),
            },
        }
    }

    fn for_expr(&mut self, mi: usize, scope: &Scope, f: &'a hcl_edit::expr::ForExpr) -> V {
        let coll = self.eval(mi, scope, &f.intro.collection_expr);
        let pairs: Vec<(V, V)> = match &coll {
            V::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, x)| (V::Num(i as f64), x.clone()))
                .collect(),
            V::Map(m, _) => m
                .iter()
                .map(|(k, x)| (V::Str(k.clone()), x.clone()))
                .collect(),
            p if p.is_pending() => {
                return match p {
                    V::Unknown(_) => p.clone(),
                    other => V::unknown(pending_reason(other)),
                };
            }
            other => return V::error(format!("`for` over a {}", other.type_name())),
        };
        let kv = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
        let vv = f.intro.value_var.as_str().to_string();
        let mut list = vec![];
        let mut map: BTreeMap<String, V> = BTreeMap::new();
        for (k, x) in pairs.into_iter().take(self.max_items * 10) {
            let mut s = scope.clone();
            if let Some(kv) = &kv {
                s.push((kv.clone(), k));
            }
            s.push((vv.clone(), x));
            if let Some(c) = &f.cond {
                let keep = self.eval(mi, &s, &c.expr);
                match keep.as_bool() {
                    Some(true) => {}
                    Some(false) => continue,
                    None => {
                        return V::unknown(format!(
                            "`for` filter is unknown: {}",
                            pending_reason(&keep)
                        ));
                    }
                }
            }
            let val = self.eval(mi, &s, &f.value_expr);
            match &f.key_expr {
                None => list.push(val),
                Some(ke) => {
                    let key = self.eval(mi, &s, ke);
                    let Some(key) = key.as_string() else {
                        return V::unknown(format!(
                            "`for` key is unknown: {}",
                            pending_reason(&key)
                        ));
                    };
                    if f.grouping {
                        if let V::List(l) = map.entry(key).or_insert_with(|| V::List(vec![])) {
                            l.push(val);
                        }
                    } else {
                        map.insert(key, val);
                    }
                }
            }
        }
        if self.steps > MAX_STEPS {
            // Drop the partial result: it is not the value.
            return V::unknown("evaluation step budget exhausted");
        }
        if f.key_expr.is_some() {
            V::map(map)
        } else {
            V::List(list)
        }
    }

    fn traversal(&mut self, mi: usize, scope: &Scope, t: &'a hcl_edit::expr::Traversal) -> V {
        let ops: Vec<&'a TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
        let (v, used) = match &t.expr {
            Expression::Variable(id) => self.root(mi, scope, id.as_str(), &ops),
            e => (self.eval(mi, scope, e), 0),
        };
        self.apply_ops(mi, scope, v, ops.get(used..).unwrap_or(&[]))
    }

    fn apply_ops(
        &mut self,
        mi: usize,
        scope: &Scope,
        mut v: V,
        ops: &[&'a TraversalOperator],
    ) -> V {
        let mut i = 0;
        while let Some(op) = ops.get(i) {
            match op {
                TraversalOperator::GetAttr(n) => v = get_attr(v, n.as_str()),
                TraversalOperator::Index(e) => {
                    let k = self.eval(mi, scope, e);
                    v = index(v, &k);
                }
                TraversalOperator::LegacyIndex(n) => v = index(v, &V::Num(*n.value() as f64)),
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let full = matches!(op, TraversalOperator::FullSplat(_));
                    let rest = ops.get(i + 1..).unwrap_or(&[]);
                    // `a.*.b[0]`: the attribute splat takes only the attribute
                    // accesses; the index applies to the resulting list.
                    let n = if full {
                        rest.len()
                    } else {
                        rest.iter()
                            .take_while(|o| matches!(o, TraversalOperator::GetAttr(_)))
                            .count()
                    };
                    let items = match v {
                        V::List(l) => l,
                        V::Null => vec![],
                        p if p.is_pending() => return p,
                        other => vec![other],
                    };
                    let inner = rest.get(..n).unwrap_or(&[]);
                    let mapped: Vec<V> = items
                        .into_iter()
                        .map(|x| self.apply_ops(mi, scope, x, inner))
                        .collect();
                    v = V::List(mapped);
                    i += 1 + n;
                    continue;
                }
            }
            i += 1;
        }
        v
    }

    /// Resolve the root of a traversal; returns the value and how many of
    /// `ops` were consumed.
    fn root(
        &mut self,
        mi: usize,
        scope: &Scope,
        name: &str,
        ops: &[&'a TraversalOperator],
    ) -> (V, usize) {
        if let Some((_, v)) = scope.iter().rev().find(|(n, _)| n == name) {
            return (v.clone(), 0);
        }
        let attr = |i: usize| match ops.get(i) {
            Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
            _ => None,
        };
        match name {
            "var" => match attr(0) {
                Some(n) => (self.var(mi, n), 1),
                None => (V::error("`var` needs a name"), 0),
            },
            "local" => match attr(0) {
                Some(n) => (self.local(mi, n), 1),
                None => (V::error("`local` needs a name"), 0),
            },
            "module" => match attr(0) {
                Some(n) => {
                    let (v, used) = self.module_ref(mi, n, ops.get(1).copied());
                    (v, 1 + used)
                }
                None => (V::error("`module` needs a name"), 0),
            },
            "data" => match (attr(0), attr(1)) {
                (Some(t), Some(n)) => (self.resource_value(mi, &format!("data.{t}.{n}")), 2),
                _ => (V::error("`data` needs a type and a name"), 0),
            },
            "path" => {
                let dir = self.src(mi).dir.to_string_lossy().to_string();
                (V::Str(if dir.is_empty() { ".".into() } else { dir }), 1)
            }
            "terraform" => (V::Str("default".into()), 1),
            "count" | "each" | "self" => (V::error(format!("`{name}` is not available here")), 0),
            _ => match attr(0) {
                Some(n) => {
                    let addr = format!("{name}.{n}");
                    if self.src(mi).res_index.contains_key(&addr) {
                        (self.resource_value(mi, &addr), 1)
                    } else {
                        (
                            V::error(format!("reference to undeclared resource `{addr}`")),
                            1,
                        )
                    }
                }
                None => (V::error(format!("unknown name `{name}`")), 0),
            },
        }
    }
}

enum SlotKind {
    Var,
    Local,
    Res,
    Out,
}

fn unk_hint(v: &V) -> Option<String> {
    match v {
        V::Unknown(u) => u.hint.clone(),
        _ => None,
    }
}

fn count_obj(i: V) -> V {
    V::map(BTreeMap::from([("index".to_string(), i)]))
}

fn each_obj(k: V, v: V) -> V {
    V::map(BTreeMap::from([
        ("key".to_string(), k),
        ("value".to_string(), v),
    ]))
}

/// Key of an inline `subnet` block of `azurerm_virtual_network`: by name
/// when known, by position otherwise.
pub fn inline_subnet_key(vnet: &ResKey, name: Option<&str>, i: usize) -> ResKey {
    match name {
        Some(n) => ResKey(format!("{}.subnet[{n:?}]", vnet.0)),
        None => ResKey(format!("{}.subnet[{i}]", vnet.0)),
    }
}

fn loose_eq(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Num(x), V::Num(y)) => x == y,
        (V::Map(x, _), V::Map(y, _)) => x == y,
        _ => a == b,
    }
}

fn get_attr(v: V, name: &str) -> V {
    match v {
        V::Map(mut m, origin) => match m.remove(name) {
            // An unknown name of a resource is still that resource's name:
            // `virtual_network_name = azurerm_virtual_network.x.name` links.
            Some(V::Unknown(_)) if name == "name" && origin.is_some() => match origin {
                Some(o) => V::Ref {
                    key: o.key,
                    rtype: o.rtype,
                    path: if o.path.is_empty() {
                        name.to_string()
                    } else {
                        format!("{}.{name}", o.path)
                    },
                },
                None => V::error("unreachable"),
            },
            Some(x) => x,
            None => match origin {
                Some(o) => V::Ref {
                    key: o.key,
                    rtype: o.rtype,
                    path: if o.path.is_empty() {
                        name.to_string()
                    } else {
                        format!("{}.{name}", o.path)
                    },
                },
                None => V::error(format!("no attribute `{name}`")),
            },
        },
        V::Ref { key, rtype, path } => V::Ref {
            key,
            rtype,
            path: format!("{path}.{name}"),
        },
        u @ V::Unknown(_) => u,
        other => V::error(format!("cannot read `{name}` of a {}", other.type_name())),
    }
}

fn index(v: V, k: &V) -> V {
    if k.is_pending() {
        if v.is_pending() {
            return v;
        }
        return derived(k, format!("index is unknown: {}", pending_reason(k)));
    }
    match v {
        V::List(mut l) => match k.as_num() {
            Some(n) if n >= 0.0 && (n as usize) < l.len() => l.swap_remove(n as usize),
            _ => V::error(format!(
                "index {} out of range",
                k.as_string().unwrap_or_default()
            )),
        },
        V::Map(..) => match k.as_string() {
            Some(s) => get_attr(v, &s),
            None => V::error("map index is not a string"),
        },
        r @ V::Ref { .. } => r,
        u @ V::Unknown(_) => u,
        other => V::error(format!("cannot index a {}", other.type_name())),
    }
}

fn read_small(p: &Path, max: u64) -> Option<String> {
    let meta = std::fs::metadata(p).ok()?;
    if meta.len() > max {
        return None;
    }
    std::fs::read_to_string(p).ok()
}

/// Values of variable files and `--var`: constants only (Terraform allows
/// no references there), with functions applied.
pub fn const_value(e: &Expression, depth: usize, max: usize) -> V {
    if depth > 64 {
        return V::error("value nested too deeply");
    }
    let d = depth + 1;
    match e {
        Expression::Null(_) => V::Null,
        Expression::Bool(b) => V::Bool(*b.value()),
        Expression::Number(n) => V::Num(n.value().as_f64().unwrap_or(0.0)),
        Expression::String(s) => V::Str(s.value().to_string()),
        Expression::Array(a) => V::List(a.iter().map(|x| const_value(x, d, max)).collect()),
        Expression::Object(o) => {
            let mut m = BTreeMap::new();
            for (k, v) in o.iter() {
                let key = match k {
                    hcl_edit::expr::ObjectKey::Ident(i) => Some(i.as_str().to_string()),
                    hcl_edit::expr::ObjectKey::Expression(x) => const_value(x, d, max).as_string(),
                };
                if let Some(key) = key {
                    m.insert(key, const_value(v.expr(), d, max));
                }
            }
            V::map(m)
        }
        Expression::StringTemplate(t) => {
            let mut out = String::new();
            for el in t.iter() {
                match el {
                    Element::Literal(s) => out.push_str(s.value()),
                    Element::Interpolation(i) => match const_value(&i.expr, d, max).as_string() {
                        Some(s) => out.push_str(&s),
                        None => return V::unknown("variable value refers to other values"),
                    },
                    Element::Directive(_) => {
                        return V::unknown("template directive in a variable value");
                    }
                }
            }
            V::Str(out)
        }
        Expression::Parenthesis(p) => const_value(p.inner(), d, max),
        Expression::UnaryOp(u) if matches!(u.operator.value(), UnaryOperator::Neg) => {
            match const_value(&u.expr, d, max).as_num() {
                Some(n) => V::Num(-n),
                None => V::error("`-` needs a number"),
            }
        }
        Expression::FuncCall(f) => {
            let args = f.args.iter().map(|a| const_value(a, d, max)).collect();
            funcs::call(f.name.name.as_str(), args, max)
        }
        _ => V::unknown("variable value is not a constant"),
    }
}

/// A plan value that is null: a reference in the configuration (kept as a
/// link to the referenced resource), or a value known only after apply.
fn plan_fallback(
    v: &View<'_>,
    name: &str,
    span: Span,
    cfg_root: Option<&serde_json::Value>,
) -> Option<(V, Span)> {
    if let Some(e) = v.cfg.and_then(|c| c.get(name)) {
        if let Some(c) = e.get("constant_value") {
            if !c.is_null() {
                return Some((V::from_json(c, 0), span));
            }
        }
        let refs: Vec<&str> = e
            .get("references")
            .and_then(|r| r.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        if let Some(first) = refs.first() {
            return Some((reference_value(&v.mpath, first, cfg_root, 0), span));
        }
    }
    if v.unk.and_then(|u| u.get(name)).and_then(|x| x.as_bool()) == Some(true) {
        return Some((
            V::unknown(format!("`{name}` is known only after apply")),
            span,
        ));
    }
    None
}

/// `azurerm_subnet.nodes["a"].id` from a plan's `references` list.
pub fn reference_value(
    mpath: &str,
    r: &str,
    cfg_root: Option<&serde_json::Value>,
    depth: usize,
) -> V {
    let head = r.split(['.', '[']).next().unwrap_or("");
    if head == "module" && depth < 16 {
        if let Some(v) = through_module_output(mpath, r, cfg_root, depth) {
            return v;
        }
    }
    match head {
        "var" | "local" | "module" | "each" | "count" | "path" | "terraform" => {
            return V::unknown(format!("`{r}` is not resolved in the plan"));
        }
        _ => {}
    }
    // Split at dots outside brackets: `azurerm_subnet`, `nodes["a"]`, `id`.
    let mut parts: Vec<String> = vec![String::new()];
    let mut depth = 0usize;
    for c in r.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(p) = parts.last_mut() {
            p.push(c);
        }
    }
    let n = if head == "data" { 3 } else { 2 };
    if parts.len() < n {
        return V::unknown(format!("`{r}` is not resolved in the plan"));
    }
    let addr = parts[..n].join(".");
    let rest = parts[n..]
        .iter()
        .map(|p| p.split('[').next().unwrap_or(p).to_string())
        .collect::<Vec<_>>()
        .join(".");
    let path = rest.as_str();
    let rtype = addr
        .trim_start_matches("data.")
        .split('.')
        .next()
        .unwrap_or("")
        .to_string();
    let key = ResKey::tf(mpath, &addr);
    if path.is_empty() {
        return V::Map(
            BTreeMap::new(),
            Some(Box::new(Origin {
                key,
                rtype,
                path: String::new(),
            })),
        );
    }
    V::Ref {
        key,
        rtype,
        path: path.to_string(),
    }
}

/// Convert a variable's value to its declared type the way Terraform does
/// where it matters for evaluation: missing `optional(...)` object
/// attributes become null (or their default), numbers and strings convert.
pub fn apply_type(v: V, t: &Expression, depth: usize, max: usize) -> V {
    if depth > 32 || v.is_pending() || matches!(v, V::Null) {
        return v;
    }
    match t {
        Expression::Variable(n) => match (n.as_str(), &v) {
            ("string", V::Num(_) | V::Bool(_)) => v.as_string().map(V::Str).unwrap_or(v),
            ("number", V::Str(s)) => s.trim().parse::<f64>().map(V::Num).unwrap_or(v),
            ("bool", V::Str(_)) => v.as_bool().map(V::Bool).unwrap_or(v),
            _ => v,
        },
        Expression::FuncCall(f) => {
            let args: Vec<&Expression> = f.args.iter().collect();
            let Some(inner) = args.first() else { return v };
            match (f.name.name.as_str(), v) {
                ("optional", v) => apply_type(v, inner, depth + 1, max),
                ("list" | "set", V::List(l)) => V::List(
                    l.into_iter()
                        .map(|x| apply_type(x, inner, depth + 1, max))
                        .collect(),
                ),
                ("map", V::Map(m, o)) => V::Map(
                    m.into_iter()
                        .map(|(k, x)| (k, apply_type(x, inner, depth + 1, max)))
                        .collect(),
                    o,
                ),
                ("object", V::Map(mut m, o)) => {
                    if let Expression::Object(spec) = inner {
                        for (k, te) in spec.iter() {
                            let key = match k {
                                hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                                hcl_edit::expr::ObjectKey::Expression(x) => {
                                    match const_value(x, 0, max).as_string() {
                                        Some(s) => s,
                                        None => continue,
                                    }
                                }
                            };
                            let te = te.expr();
                            let cur = m.remove(&key).unwrap_or(V::Null);
                            let cur = match (&cur, te) {
                                // `optional(type, default)`.
                                (V::Null, Expression::FuncCall(of))
                                    if of.name.name.as_str() == "optional" =>
                                {
                                    match of.args.iter().nth(1) {
                                        Some(d) => const_value(d, 0, max),
                                        None => V::Null,
                                    }
                                }
                                _ => cur,
                            };
                            m.insert(key, apply_type(cur, te, depth + 1, max));
                        }
                    }
                    V::Map(m, o)
                }
                ("tuple", V::List(l)) => match inner {
                    Expression::Array(ts) => V::List(
                        l.into_iter()
                            .zip(ts.iter().chain(std::iter::repeat(*inner)))
                            .map(|(x, te)| apply_type(x, te, depth + 1, max))
                            .collect(),
                    ),
                    _ => V::List(l),
                },
                (_, v) => v,
            }
        }
        _ => v,
    }
}

/// ARM key of a data source from its lookup arguments.
fn data_arm_key(rtype: &str, m: &BTreeMap<String, V>) -> Option<ResKey> {
    let name = m.get("name").and_then(V::as_string)?;
    let t = match rtype {
        "azurerm_subnet" => {
            let vnet = m.get("virtual_network_name").and_then(V::as_string)?;
            return Some(ResKey::arm(
                "Microsoft.Network/virtualNetworks/subnets",
                &[&vnet, &name],
            ));
        }
        "azurerm_virtual_network" => "Microsoft.Network/virtualNetworks",
        "azurerm_firewall" => "Microsoft.Network/azureFirewalls",
        "azurerm_firewall_policy" => "Microsoft.Network/firewallPolicies",
        "azurerm_route_table" => "Microsoft.Network/routeTables",
        "azurerm_network_security_group" => "Microsoft.Network/networkSecurityGroups",
        "azurerm_kubernetes_cluster" => "Microsoft.ContainerService/managedClusters",
        "azurerm_ip_group" => "Microsoft.Network/ipGroups",
        _ => return None,
    };
    Some(ResKey::arm(t, &[&name]))
}

/// `module.net.subnet_id` in a plan: the output's own reference, inside the
/// module (modules without `count`/`for_each` only).
fn through_module_output(
    mpath: &str,
    r: &str,
    cfg_root: Option<&serde_json::Value>,
    depth: usize,
) -> Option<V> {
    let mut parts = r.split('.');
    let _ = parts.next();
    let call = parts.next()?;
    let out = parts.next()?;
    if call.contains('[') {
        return None;
    }
    let mut m = cfg_root?;
    for seg in mpath.split("module.").filter(|s| !s.is_empty()) {
        let name = seg.trim_end_matches('.');
        m = m.get("module_calls")?.get(name)?.get("module")?;
    }
    let expr = m
        .get("module_calls")?
        .get(call)?
        .get("module")?
        .get("outputs")?
        .get(out)?
        .get("expression")?;
    let inner = if mpath.is_empty() {
        format!("module.{call}")
    } else {
        format!("{mpath}.module.{call}")
    };
    if let Some(c) = expr.get("constant_value") {
        return Some(V::from_json(c, 0));
    }
    let first = expr.get("references")?.as_array()?.first()?.as_str()?;
    Some(reference_value(&inner, first, cfg_root, depth + 1))
}

/// A local module source: `./x`, `../x`, or a bare relative folder name as
/// Terraform 0.11 accepted it (`source = "oms"`) when that folder is scanned.
pub fn is_local_source(prog: &Prog, dir: &Path, source: &str) -> bool {
    if source.starts_with("./") || source.starts_with("../") {
        return true;
    }
    let remote = source.contains("::")
        || source.contains("://")
        || source.starts_with("git@")
        || source.starts_with("github.com/")
        || source.starts_with("bitbucket.org/")
        || matches!(source.split('/').count(), 3 | 4);
    !remote && !source.is_empty() && prog.by_dir.contains_key(&normalize(&dir.join(source)))
}

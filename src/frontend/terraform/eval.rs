//! Terraform evaluation without running Terraform: variables (with tfvars
//! precedence), locals, resources as values, local modules with inputs and
//! outputs, `count`/`for_each`/`dynamic` over known values.
//!
//! Everything is lazy and memoised per module instance; cycles and runaway
//! input end as unknown values with a reason, never as a panic or a hang:
//! nesting depth, expansion counts and the total number of evaluation steps
//! are all bounded.

use super::expr::{apply_type, const_value};
use super::parse::{BRef, ModSrc, ResDecl, block_span, span_of};
use super::value::{Origin, Unk, V, pending_reason};
use crate::finding::{Code, Finding};
use crate::frontend::FrontendOptions;
use crate::model::ResKey;
use crate::source::{FileId, Sources, Span, normalize};
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Local bindings: `count`, `each`, dynamic-block iterators, `for` variables.
pub type Scope = Vec<(String, V)>;

/// Every evaluation step counts against this budget, so no input can keep
/// the evaluator busy for long.
pub(super) const MAX_STEPS: u64 = 1_000_000;

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
pub(super) enum Slot {
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
    /// Qualifies keys when a scan has several root modules, whose Terraform
    /// addresses would otherwise collide (`azurerm_subnet.internal` in two
    /// unrelated configurations): the root folder, or empty.
    pub root_tag: String,
    var_cache: HashMap<String, Slot>,
    local_cache: HashMap<String, Slot>,
    res_cache: HashMap<String, Slot>,
    pub(super) out_cache: HashMap<String, Slot>,
    pub(super) children: HashMap<String, Option<Children>>,
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
            root_tag: String::new(),
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
    noted: HashSet<(u32, usize, String)>,
    /// `dynamic` blocks made so far per file: inside `count` or `for_each`
    /// they multiply, so the file's dynamic blocks share a budget.
    dynamic_items: HashMap<FileId, usize>,
    pub(super) depth: usize,
    pub(super) steps: u64,
    pub(super) max_depth: usize,
    pub(super) max_items: usize,
    /// The `configuration.root_module` of the plan read alone, to follow
    /// references through module outputs.
    pub plan_cfg: Option<&'a serde_json::Value>,
    /// Root tag of the plan read alone (see [`Inst::root_tag`]).
    pub plan_tag: String,
    /// Cluster extensions read: the cluster they name, and where.
    pub extensions: Vec<(ResKey, crate::model::Attr<bool>)>,
    /// `azurerm_virtual_network_dns_servers` read: the VNet they name and
    /// the servers.
    pub dns_servers: Vec<(ResKey, crate::model::Attr<Vec<String>>)>,
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
        Some(V::Str(s)) => format!("[{}]", quote(s)),
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
            dynamic_items: HashMap::new(),
            plan_cfg: None,
            plan_tag: String::new(),
            extensions: vec![],
            dns_servers: vec![],
        }
    }

    pub fn src(&self, mi: usize) -> &'a ModSrc {
        let prog: &'a Prog = self.prog;
        let s = self.insts.get(mi).map(|i| i.src).unwrap_or(0);
        &prog.mods[s.min(prog.mods.len().saturating_sub(1))]
    }

    pub fn note(&mut self, span: Span, msg: String, help: Option<String>) {
        let k = (span.file.0, span.range.start, msg.clone());
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
    pub fn add_root(&mut self, src: usize, planned: BTreeMap<String, V>, tag: String) -> usize {
        let mi = self.insts.len();
        let mut inst = Inst::new(src, String::new());
        inst.root_tag = tag;
        self.insts.push(inst);
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
                Ok(_) => {
                    if let Some(fid) = fid {
                        self.findings.push(Finding::new(
                            Code::AEL000,
                            format!("`{name}` is not a JSON object of variable values"),
                            Span::new(fid, 0..0),
                            "here",
                        ));
                    }
                }
                Err(e) => {
                    if let Some(fid) = fid {
                        let off = self.sources.get(fid).offset_of(e.line(), e.column());
                        self.findings.push(Finding::new(
                            Code::AEL000,
                            format!("variable file is not valid JSON: {e}"),
                            Span::new(fid, off..off),
                            "here",
                        ));
                    }
                }
            }
            return;
        }
        let body = match fid {
            Some(fid) => super::parse::parse_file(self.sources, fid, 0, &mut self.findings),
            None => super::parse::parse_body_lenient(text).ok(),
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

    pub(super) fn set_slot(&mut self, mi: usize, kind: SlotKind, name: &str, s: Slot) {
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
        // Bounded per file too (twenty times the limit: a block may be
        // expanded more than once, as a value and for the model). Over it,
        // one block with unknown values stands for them all.
        let take = pairs.len().min(self.max_items);
        let budget = self.max_items.saturating_mul(20);
        let used = self.dynamic_items.entry(file).or_insert(0);
        if used.saturating_add(take) > budget {
            let reason = format!(
                "dynamic `{label}` is not expanded: the dynamic blocks of this file make more than {budget} blocks"
            );
            self.note(span_of(file, b.span()), reason.clone(), None);
            let u = V::unknown(reason);
            let mut s = scope.clone();
            s.push((iter, each_obj(u.clone(), u)));
            out.push((&content.body, span, s));
            return;
        }
        *used += take;
        for (k, x) in pairs.into_iter().take(self.max_items) {
            let mut s = scope.clone();
            s.push((iter.clone(), each_obj(k, x)));
            out.push((&content.body, span.clone(), s));
        }
    }

    // ------------------------------------------------------------ resources

    pub fn res_key(&self, mi: usize, addr: &str) -> ResKey {
        let (tag, path) = self
            .insts
            .get(mi)
            .map(|i| (i.root_tag.as_str(), i.path.as_str()))
            .unwrap_or(("", ""));
        ResKey::tf(&key_module(tag, path), addr)
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
            if d.data
                && let V::Map(m, Some(org)) = &mut o
                && let Some(k) = data_arm_key(&d.rtype, m)
            {
                org.key = k;
            }
            objs.push((k.clone(), o));
        }
        let v = match exp.shape {
            Shape::Single => objs.into_iter().next().map(|x| x.1).unwrap_or(V::Null),
            // `count = var.enabled ? 1 : 0` unknown: `x[0]` is the one
            // conditional instance the model holds (its `Decl.condition` says
            // why), so references to it still link.
            Shape::ForEach if exp.condition.is_some() => V::unknown(
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

    /// `type.name.attr` of a single-instance resource: the one attribute,
    /// read from the evaluated resource without copying all of it. `None`
    /// when the resource is not a single object (then the caller goes
    /// through [`Ev::resource_value`]).
    pub(super) fn resource_attr(&mut self, mi: usize, addr: &str, name: &str) -> Option<V> {
        let done = |ev: &Self| {
            matches!(
                ev.insts.get(mi).and_then(|i| i.res_cache.get(addr)),
                Some(Slot::Done(V::Map(..)))
            )
        };
        if !done(self) {
            let _ = self.resource_value(mi, addr);
            if !done(self) {
                return None;
            }
        }
        let Some(Slot::Done(V::Map(m, origin))) =
            self.insts.get(mi).and_then(|i| i.res_cache.get(addr))
        else {
            return None;
        };
        // The keys `get_attr` may read: the attribute, and the singular
        // prefix that stands in for a subnet's `address_prefixes`.
        let part: std::collections::BTreeMap<String, V> = [name, "address_prefix"]
            .into_iter()
            .filter_map(|k| m.get(k).map(|v| (k.to_string(), v.clone())))
            .collect();
        Some(super::expr::get_attr(V::Map(part, origin.clone()), name))
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
            return super::plan::plan_fallback(v, name, span, self.plan_cfg, &self.plan_tag);
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
            // Plans list nested blocks in their own order (sets are sorted):
            // pair them with the written blocks by name, by position otherwise.
            let tf_names: Vec<Option<String>> = tf
                .iter()
                .map(|(b, _, sc)| {
                    b.get_attribute("name")
                        .map(|a| self.eval(v.mi, sc, &a.value))
                        .and_then(|x| x.as_string())
                })
                .collect();
            return items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let by_name = item
                        .get("name")
                        .and_then(|n| n.as_str())
                        .and_then(|n| tf_names.iter().position(|t| t.as_deref() == Some(n)));
                    let t = match by_name {
                        Some(j) => tf.get(j),
                        None if tf_names.iter().all(Option::is_none) => tf.get(i),
                        None => None,
                    };
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
}

pub(super) enum SlotKind {
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
        Some(n) => ResKey(format!("{}.subnet[{}]", vnet.0, quote(n))),
        None => ResKey(format!("{}.subnet[{i}]", vnet.0)),
    }
}

fn read_small(p: &Path, max: u64) -> Option<String> {
    let meta = std::fs::metadata(p).ok()?;
    if meta.len() > max {
        return None;
    }
    std::fs::read_to_string(p).ok()
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

/// A string key as Terraform writes it in addresses.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// The module part of a Terraform key: the module path, qualified by the
/// root tag when there is one (`infra/hub`, `infra/hub.module.net`).
pub fn key_module(tag: &str, path: &str) -> String {
    // `:` separates the module from the address in keys.
    let tag = tag.replace(':', "_");
    match (tag.is_empty(), path.is_empty()) {
        (true, _) => path.to_string(),
        (false, true) => tag,
        (false, false) => format!("{tag}.{path}"),
    }
}

//! The ARM template expression language: values, evaluation and the
//! function library. Shared by the ARM frontend and, later, the Bicep
//! frontend (Bicep lowers onto the same functions).
//!
//! - [`Val`]: a value (`null`, bool, int, string, array, object), or
//!   [`Val::Unknown`] with the reason it cannot be known statically, or
//!   [`Val::Ref`]: a symbolic link to a resource of the template produced by
//!   `reference(...)`, with the property path read from it.
//! - [`Scope`]: what an expression can see (`parameters()`, `variables()`,
//!   `copyIndex()`, `reference()`, `--location`).
//! - [`eval_str`] evaluates an ARM string (`"[concat('a', 'b')]"`, or a
//!   literal), [`eval_expr`] a parsed [`Expr`], [`call`] one library function.
//!
//! Evaluation never fails: errors (unknown function, wrong argument, index
//! out of range) are `Val::Unknown` with `error: true`. It is bounded: the
//! parser limits nesting, and scopes count the depth of variable references.

pub mod funcs;
pub mod parse;

pub use funcs::call;
pub use parse::{Expr, SyntaxError, Template, classify};

use crate::frontend::arm::json::{JKind, Json};
use crate::model::ResKey;

/// Why a value is unknown.
#[derive(Clone, Debug, PartialEq)]
pub struct Why {
    pub reason: String,
    /// The expression is wrong (ARM would reject it), not merely unknowable.
    pub error: bool,
}

/// `reference(...)` of a resource of the template, and the property path
/// read from it (`["ipConfigurations", "0", "properties", "privateIPAddress"]`).
/// With `reference(x, api, 'Full')` the path starts at the resource, so it
/// begins with `properties`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResRef {
    pub target: ResKey,
    pub path: Vec<String>,
    pub full: bool,
}

/// A value of the expression language.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Array(Vec<Val>),
    /// Properties in order; names compare case-insensitively.
    Object(Vec<(String, Val)>),
    Unknown(Why),
    Ref(ResRef),
}

impl Val {
    pub fn unknown(reason: impl Into<String>) -> Val {
        Val::Unknown(Why {
            reason: reason.into(),
            error: false,
        })
    }

    pub fn error(reason: impl Into<String>) -> Val {
        Val::Unknown(Why {
            reason: reason.into(),
            error: true,
        })
    }

    pub fn str(s: impl Into<String>) -> Val {
        Val::Str(s.into())
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Val::Unknown(_))
    }

    /// Known, and no unknown or reference anywhere inside.
    pub fn is_fully_known(&self) -> bool {
        match self {
            Val::Unknown(_) | Val::Ref(_) => false,
            Val::Array(a) => a.iter().all(Val::is_fully_known),
            Val::Object(o) => o.iter().all(|(_, v)| v.is_fully_known()),
            _ => true,
        }
    }

    /// Property of an object, case-insensitive as in ARM.
    pub fn get(&self, key: &str) -> Option<&Val> {
        match self {
            Val::Object(o) => o
                .iter()
                .find(|(k, _)| k == key)
                .or_else(|| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Str(_) => "string",
            Val::Array(_) => "array",
            Val::Object(_) => "object",
            Val::Unknown(_) => "unknown",
            Val::Ref(_) => "reference",
        }
    }

    /// The first unknown inside the value (itself, or an element).
    pub fn first_unknown(&self) -> Option<&Why> {
        match self {
            Val::Unknown(w) => Some(w),
            Val::Array(a) => a.iter().find_map(Val::first_unknown),
            Val::Object(o) => o.iter().find_map(|(_, v)| v.first_unknown()),
            _ => None,
        }
    }

    /// A JSON value as a literal (no expression evaluation).
    pub fn from_json(j: &Json) -> Val {
        match &j.kind {
            JKind::Null => Val::Null,
            JKind::Bool(b) => Val::Bool(*b),
            JKind::Num(n) => n
                .parse::<i64>()
                .map(Val::Int)
                .unwrap_or_else(|_| Val::Str(n.clone())),
            JKind::Str(s) => Val::Str(s.clone()),
            JKind::Arr(a) => Val::Array(a.iter().map(Val::from_json).collect()),
            JKind::Obj(m) => Val::Object(
                m.iter()
                    .map(|m| (m.key.clone(), Val::from_json(&m.value)))
                    .collect(),
            ),
        }
    }

    /// Compact JSON text, as `string()` prints objects and arrays.
    pub fn to_json_text(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Val::Null => out.push_str("null"),
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Int(i) => out.push_str(&i.to_string()),
            Val::Str(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
            Val::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out);
                }
                out.push(']');
            }
            Val::Object(o) => {
                out.push('{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
            Val::Unknown(_) | Val::Ref(_) => out.push_str("null"),
        }
    }
}

/// What an expression can see. Implemented by the ARM template walker (and
/// later the Bicep frontend); every method has a sensible default so a test
/// scope implements only what it needs.
pub trait Scope {
    /// `parameters('name')`.
    fn parameter(&self, name: &str) -> Val {
        Val::error(format!("parameter `{name}` is not declared"))
    }
    /// `variables('name')`. Implementations detect cycles and bound depth.
    fn variable(&self, name: &str) -> Val {
        Val::error(format!("variable `{name}` is not declared"))
    }
    /// `copyIndex()` / `copyIndex('loop')`, without the offset.
    fn copy_index(&self, loop_name: Option<&str>) -> Val {
        let _ = loop_name;
        Val::error("copyIndex() is used outside a copy loop")
    }
    /// `--location`, standing for `resourceGroup().location`.
    fn location(&self) -> Option<String> {
        None
    }
    /// `reference(target)`: a [`Val::Ref`] when `target` (an id, a name, or
    /// a symbolic name) is a resource of the template, else `Unknown`.
    fn reference(&self, target: &Val, full: bool) -> Val {
        let _ = (target, full);
        Val::unknown("reference() reads the deployed resource's runtime state")
    }
    /// languageVersion 2.0 symbolic name → the resource's id string.
    fn symbol_id(&self, name: &str) -> Option<String> {
        let _ = name;
        None
    }
    /// `deployment().name`: the deployment the template runs in.
    fn deployment_name(&self) -> Option<String> {
        None
    }
    /// A user-defined function `namespace.name(args)`.
    fn user_function(&self, name: &str, args: Vec<Val>) -> Val {
        let _ = args;
        Val::error(format!("function `{name}` is not defined"))
    }
    /// Deepest expression nesting followed.
    fn max_depth(&self) -> usize {
        64
    }
}

/// A scope with nothing in it (literals and pure functions only).
pub struct EmptyScope;
impl Scope for EmptyScope {}

/// Evaluate an ARM string value: `[...]` is an expression, `[[` an escaped
/// literal, anything else a literal string.
pub fn eval_str(s: &str, scope: &dyn Scope) -> Val {
    match classify(s) {
        Template::Literal(l) => Val::Str(l.into_owned()),
        Template::Expr(inner, _) => match parse::parse(inner, scope.max_depth()) {
            Ok(e) => eval_expr(&e, scope),
            Err(e) => Val::error(format!(
                "invalid expression: {} (at character {})",
                e.message,
                e.offset + 2
            )),
        },
    }
}

/// Evaluate a parsed expression.
pub fn eval_expr(e: &Expr, scope: &dyn Scope) -> Val {
    let mut ev = Evaluator {
        scope,
        lambdas: vec![],
        depth: 0,
    };
    ev.eval(e)
}

struct Evaluator<'s> {
    scope: &'s dyn Scope,
    /// Lambda parameters in scope, innermost last.
    lambdas: Vec<(String, Val)>,
    depth: usize,
}

/// Functions that take a `lambda(...)` argument and so evaluate it here.
const LAMBDA_FUNCS: &[&str] = &[
    "filter",
    "map",
    "reduce",
    "sort",
    "toobject",
    "mapvalues",
    "groupby",
];

impl Evaluator<'_> {
    fn eval(&mut self, e: &Expr) -> Val {
        self.depth += 1;
        let v = if self.depth > self.scope.max_depth() * 4 {
            Val::error("expression evaluation is nested too deeply")
        } else {
            self.eval_inner(e)
        };
        self.depth -= 1;
        v
    }

    fn eval_inner(&mut self, e: &Expr) -> Val {
        match e {
            Expr::Str(s) => Val::Str(s.clone()),
            Expr::Int(i) => Val::Int(*i),
            Expr::Bool(b) => Val::Bool(*b),
            Expr::Null => Val::Null,
            Expr::Prop(base, name) => {
                let b = self.eval(base);
                access(b, &Val::Str(name.clone()), true)
            }
            Expr::Index(base, idx) => {
                let b = self.eval(base);
                let i = self.eval(idx);
                access(b, &i, false)
            }
            Expr::Call(name, args) => {
                let lname = name.to_ascii_lowercase();
                if lname == "lambdavariables" {
                    let v = args.first().map(|a| self.eval(a));
                    return match v {
                        Some(Val::Str(n)) => self
                            .lambdas
                            .iter()
                            .rev()
                            .find(|(k, _)| *k == n)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_else(|| {
                                Val::error(format!("lambda variable `{n}` is not defined"))
                            }),
                        _ => Val::error("lambdaVariables() expects a name"),
                    };
                }
                if lname == "lambda" {
                    return Val::error("lambda() is only allowed as a function argument");
                }
                if LAMBDA_FUNCS.contains(&lname.as_str()) {
                    return self.lambda_call(&lname, args);
                }
                let vals: Vec<Val> = args.iter().map(|a| self.eval(a)).collect();
                if name.contains('.') {
                    return self.scope.user_function(name, vals);
                }
                call(name, vals, self.scope)
            }
        }
    }

    /// Apply a `lambda('a', 'b', body)` to arguments.
    fn apply(&mut self, lambda: &Expr, args: &[Val]) -> Val {
        let Expr::Call(n, parts) = lambda else {
            return Val::error("expected a lambda() argument");
        };
        if !n.eq_ignore_ascii_case("lambda") || parts.is_empty() {
            return Val::error("expected a lambda() argument");
        }
        let (params, body) = parts.split_at(parts.len() - 1);
        let mark = self.lambdas.len();
        for (p, a) in params.iter().zip(args) {
            let Expr::Str(pn) = p else {
                return Val::error("lambda parameter names must be strings");
            };
            self.lambdas.push((pn.clone(), a.clone()));
        }
        let v = self.eval(&body[0]);
        self.lambdas.truncate(mark);
        v
    }

    fn lambda_call(&mut self, name: &str, args: &[Expr]) -> Val {
        let Some(first) = args.first() else {
            return Val::error(format!("{name}() expects arguments"));
        };
        let input = self.eval(first);
        if let Val::Unknown(_) = input {
            return input;
        }
        let items: Vec<Val> = match (&input, name) {
            (Val::Array(a), _) => a.clone(),
            (Val::Object(o), "mapvalues") => o.iter().map(|(_, v)| v.clone()).collect(),
            _ => return Val::error(format!("{name}() expects an array")),
        };
        let lam = |i: usize| args.get(i);
        match name {
            "filter" => {
                let Some(l) = lam(1) else {
                    return Val::error("filter() expects a lambda");
                };
                let mut out = vec![];
                for (i, it) in items.into_iter().enumerate() {
                    match self.apply(l, &[it.clone(), Val::Int(i as i64)]) {
                        Val::Bool(true) => out.push(it),
                        Val::Bool(false) => {}
                        Val::Unknown(w) => return Val::Unknown(w),
                        _ => return Val::error("filter() lambda must return a bool"),
                    }
                }
                Val::Array(out)
            }
            "map" => {
                let Some(l) = lam(1) else {
                    return Val::error("map() expects a lambda");
                };
                Val::Array(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, it)| self.apply(l, &[it, Val::Int(i as i64)]))
                        .collect(),
                )
            }
            "mapvalues" => {
                let (Some(l), Val::Object(o)) = (lam(1), &input) else {
                    return Val::error("mapValues() expects an object and a lambda");
                };
                Val::Object(
                    o.iter()
                        .map(|(k, v)| (k.clone(), self.apply(l, std::slice::from_ref(v))))
                        .collect(),
                )
            }
            "reduce" => {
                let (Some(init), Some(l)) = (lam(1), lam(2)) else {
                    return Val::error("reduce() expects an initial value and a lambda");
                };
                let mut acc = self.eval(init);
                for (i, it) in items.into_iter().enumerate() {
                    acc = self.apply(l, &[acc, it, Val::Int(i as i64)]);
                }
                acc
            }
            "toobject" => {
                let Some(kl) = lam(1) else {
                    return Val::error("toObject() expects a key lambda");
                };
                let mut out: Vec<(String, Val)> = vec![];
                for it in items {
                    let k = self.apply(kl, std::slice::from_ref(&it));
                    let v = match lam(2) {
                        Some(vl) => self.apply(vl, std::slice::from_ref(&it)),
                        None => it,
                    };
                    match k {
                        Val::Str(k) => {
                            out.retain(|(e, _)| !e.eq_ignore_ascii_case(&k));
                            out.push((k, v));
                        }
                        Val::Unknown(w) => return Val::Unknown(w),
                        _ => return Val::error("toObject() keys must be strings"),
                    }
                }
                Val::Object(out)
            }
            "groupby" => {
                let Some(kl) = lam(1) else {
                    return Val::error("groupBy() expects a lambda");
                };
                let mut out: Vec<(String, Val)> = vec![];
                for it in items {
                    match self.apply(kl, std::slice::from_ref(&it)) {
                        Val::Str(k) => {
                            if let Some((_, Val::Array(a))) =
                                out.iter_mut().find(|(e, _)| e.eq_ignore_ascii_case(&k))
                            {
                                a.push(it);
                            } else {
                                out.push((k, Val::Array(vec![it])));
                            }
                        }
                        Val::Unknown(w) => return Val::Unknown(w),
                        _ => return Val::error("groupBy() keys must be strings"),
                    }
                }
                Val::Object(out)
            }
            "sort" => {
                let Some(l) = lam(1) else {
                    return Val::error("sort() expects a lambda");
                };
                // Insertion sort: the comparator is a lambda that may be unknown.
                let mut out: Vec<Val> = vec![];
                for it in items {
                    let mut pos = out.len();
                    for (i, o) in out.iter().enumerate() {
                        match self.apply(l, &[it.clone(), o.clone()]) {
                            Val::Bool(true) => {
                                pos = i;
                                break;
                            }
                            Val::Bool(false) => {}
                            Val::Unknown(w) => return Val::Unknown(w),
                            _ => return Val::error("sort() lambda must return a bool"),
                        }
                    }
                    out.insert(pos, it);
                }
                Val::Array(out)
            }
            _ => Val::error(format!("function `{name}` is not supported")),
        }
    }
}

/// `base.name` (`prop`) or `base[index]`.
pub fn access(base: Val, index: &Val, prop: bool) -> Val {
    match (base, index) {
        (u @ Val::Unknown(_), _) => u,
        (_, Val::Unknown(w)) => Val::Unknown(w.clone()),
        (Val::Ref(mut r), i) => {
            let seg = match i {
                Val::Str(s) => s.clone(),
                Val::Int(n) => n.to_string(),
                _ => return Val::error("invalid index into a reference()"),
            };
            r.path.push(seg);
            Val::Ref(r)
        }
        (Val::Object(o), Val::Str(k)) => {
            let obj = Val::Object(o);
            match obj.get(k) {
                Some(v) => v.clone(),
                None => Val::error(format!("the object has no property `{k}`")),
            }
        }
        (Val::Array(a), Val::Int(i)) => {
            let len = a.len();
            usize::try_from(*i)
                .ok()
                .and_then(|i| a.into_iter().nth(i))
                .unwrap_or_else(|| {
                    Val::error(format!("index {i} is out of range (array of length {len})"))
                })
        }
        (Val::Null, _) => Val::error("cannot read a property of null"),
        (b, i) => Val::error(format!(
            "cannot {} a {} with a {}",
            if prop { "read a property of" } else { "index" },
            b.type_name(),
            i.type_name()
        )),
    }
}

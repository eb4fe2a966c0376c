//! Expression evaluation: templates, functions, operators, `for`
//! expressions, traversals and splats, over [`V`] values in which unknowns
//! and computed attributes flow instead of failing.

use super::eval::{Ev, MAX_STEPS, Scope};
use super::funcs;
use super::value::{Origin, V, derived, pending_reason};
use crate::model::ResKey;
use hcl_edit::expr::{BinaryOperator, Expression, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template};
use std::collections::BTreeMap;

impl<'a> Ev<'a> {
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
        if let Err(v) = self.render(mi, scope, t, &mut out, &mut pending) {
            return v;
        }
        match pending {
            None => V::Str(out),
            Some(p) => {
                // An ARM id whose unknown parts are only the subscription and
                // resource group still names the resource.
                if let Some(idx) = out.to_ascii_lowercase().rfind("/providers/") {
                    let tail = out.get(idx..).unwrap_or("");
                    if !tail.contains('\u{1}')
                        && let Some(k) = ResKey::from_arm_id(&out.replace('\u{1}', "x"))
                    {
                        return V::Ref {
                            key: k,
                            rtype: String::new(),
                            path: "id".into(),
                        };
                    }
                }
                match p {
                    V::Unknown(_) => p,
                    other => V::unknown(pending_reason(&other)),
                }
            }
        }
    }

    /// Render template elements, `%{ if }` and `%{ for }` directives
    /// included (strip markers `~` are not applied). Unknown parts leave a
    /// placeholder and the first unknown value in `pending`.
    fn render(
        &mut self,
        mi: usize,
        scope: &Scope,
        t: &'a Template,
        out: &mut String,
        pending: &mut Option<V>,
    ) -> Result<(), V> {
        for el in t.iter() {
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
                        None if matches!(v, V::Null) => {
                            return Err(V::error("cannot interpolate null"));
                        }
                        None => {
                            return Err(V::error(format!(
                                "cannot interpolate a {}",
                                v.type_name()
                            )));
                        }
                    }
                }
                Element::Directive(d) => match &**d {
                    Directive::If(ifd) => {
                        let c = self.eval(mi, scope, &ifd.if_expr.cond_expr);
                        match c.as_bool() {
                            Some(true) => {
                                self.render(mi, scope, &ifd.if_expr.template, out, pending)?
                            }
                            Some(false) => {
                                if let Some(e) = &ifd.else_expr {
                                    self.render(mi, scope, &e.template, out, pending)?;
                                }
                            }
                            None => {
                                return Err(derived(
                                    &c,
                                    format!(
                                        "template condition is unknown: {}",
                                        pending_reason(&c)
                                    ),
                                ));
                            }
                        }
                    }
                    Directive::For(fd) => {
                        let f = &fd.for_expr;
                        let coll = self.eval(mi, scope, &f.collection_expr);
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
                                return Err(derived(
                                    p,
                                    format!(
                                        "template `for` is over an unknown value: {}",
                                        pending_reason(p)
                                    ),
                                ));
                            }
                            other => {
                                return Err(V::error(format!(
                                    "template `for` over a {}",
                                    other.type_name()
                                )));
                            }
                        };
                        for (k, x) in pairs.into_iter().take(self.max_items * 10) {
                            let mut s = scope.clone();
                            if let Some(kv) = &f.key_var {
                                s.push((kv.as_str().to_string(), k));
                            }
                            s.push((f.value_var.as_str().to_string(), x));
                            self.render(mi, &s, &f.template, out, pending)?;
                            if self.steps > MAX_STEPS || out.len() > 1 << 20 {
                                break;
                            }
                        }
                    }
                },
            }
            if out.len() > 1 << 20 {
                return Err(V::error("string too long"));
            }
        }
        Ok(())
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
        if f.args.expand_final()
            && let Some(V::List(l)) = vals.pop()
        {
            vals.extend(l);
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
                (Some(t), Some(n)) => {
                    let addr = format!("data.{t}.{n}");
                    match attr(2).and_then(|a| self.resource_attr(mi, &addr, a)) {
                        Some(v) => (v, 3),
                        None => (self.resource_value(mi, &addr), 2),
                    }
                }
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
                        match attr(1).and_then(|a| self.resource_attr(mi, &addr, a)) {
                            Some(v) => (v, 2),
                            None => (self.resource_value(mi, &addr), 1),
                        }
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

fn loose_eq(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Num(x), V::Num(y)) => x == y,
        (V::Map(x, _), V::Map(y, _)) => x == y,
        _ => a == b,
    }
}

pub(super) fn get_attr(v: V, name: &str) -> V {
    match v {
        V::Map(mut m, origin) => {
            let found = m.remove(name);
            let Some(o) = origin else {
                return found.unwrap_or_else(|| V::error(format!("no attribute `{name}`")));
            };
            let as_ref = |o: Box<Origin>| V::Ref {
                key: o.key,
                rtype: o.rtype,
                path: if o.path.is_empty() {
                    name.to_string()
                } else {
                    format!("{}.{name}", o.path)
                },
            };
            match found {
                // An unknown name of a resource still names that resource:
                // `virtual_network_name = azurerm_virtual_network.x.name` links.
                Some(V::Unknown(_)) if name == "name" => as_ref(o),
                Some(x) => x,
                None => match subnet_prefixes_from_singular(&o.rtype, name, &mut m) {
                    Some(v) => v,
                    // Not written: computed by Azure.
                    None => as_ref(o),
                },
            }
        }
        V::Ref { key, rtype, path } => V::Ref {
            key,
            rtype,
            path: format!("{path}.{name}"),
        },
        u @ V::Unknown(_) => u,
        other => V::error(format!("cannot read `{name}` of a {}", other.type_name())),
    }
}

/// `address_prefixes` of an `azurerm_subnet` written with the azurerm 2.x
/// `address_prefix`: the provider fills the list with that one prefix when
/// Azure returns only the singular (`subnet_resource.go`, read:
/// `d.Set("address_prefixes", []string{*props.AddressPrefix})`).
fn subnet_prefixes_from_singular(
    rtype: &str,
    name: &str,
    m: &mut std::collections::BTreeMap<String, V>,
) -> Option<V> {
    if rtype != "azurerm_subnet" || name != "address_prefixes" {
        return None;
    }
    match m.remove("address_prefix")? {
        p @ V::Str(_) => Some(V::List(vec![p])),
        u @ V::Unknown(_) => Some(u),
        _ => None,
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

//! The function library of ARM template expressions
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions>).
//!
//! [`call`] takes evaluated arguments. Unknown arguments make the result
//! unknown, except where the function does not need them (`if` with a known
//! condition, `and`/`or` decided by a known argument, `coalesce`, `length`
//! of an array with unknown elements, containers that merely hold them).

use super::{ResRef, Scope, Val, Why};
use std::net::Ipv4Addr;

/// Placeholders for the parts of an ARM id that are only known at deployment;
/// [`crate::model::ResKey::from_arm_id`] drops them, so keys stay exact.
pub const SUBSCRIPTION_PLACEHOLDER: &str = "{subscriptionId}";
pub const RESOURCE_GROUP_PLACEHOLDER: &str = "{resourceGroupName}";

fn arity(name: &str, args: &[Val], min: usize, max: usize) -> Option<Val> {
    if args.len() < min || args.len() > max {
        let want = if min == max {
            format!("{min}")
        } else if max == usize::MAX {
            format!("at least {min}")
        } else {
            format!("{min} to {max}")
        };
        Some(Val::error(format!(
            "{name}() expects {want} argument(s), got {}",
            args.len()
        )))
    } else {
        None
    }
}

/// The first unknown or reference argument, as the unknown result.
fn unknown_arg(name: &str, args: &[Val]) -> Option<Val> {
    for a in args {
        match a {
            Val::Unknown(w) => return Some(Val::Unknown(w.clone())),
            Val::Ref(r) => {
                return Some(Val::unknown(format!(
                    "{name}() of `reference({})` depends on the deployed resource",
                    r.target
                )));
            }
            _ => {}
        }
    }
    None
}

fn want_str<'a>(name: &str, v: &'a Val) -> Result<&'a str, Val> {
    v.as_str()
        .ok_or_else(|| Val::error(format!("{name}() expects a string, got {}", v.type_name())))
}

fn want_int(name: &str, v: &Val) -> Result<i64, Val> {
    match v {
        Val::Int(i) => Ok(*i),
        Val::Str(s) => s
            .trim()
            .parse()
            .map_err(|_| Val::error(format!("{name}() expects an integer, got `{s}`"))),
        _ => Err(Val::error(format!(
            "{name}() expects an integer, got {}",
            v.type_name()
        ))),
    }
}

/// Text of a value in `concat`, `format`, `string`: strings as they are,
/// booleans as .NET prints them, containers as compact JSON.
pub fn display(v: &Val) -> String {
    match v {
        Val::Str(s) => s.clone(),
        Val::Int(i) => i.to_string(),
        Val::Bool(true) => "True".into(),
        Val::Bool(false) => "False".into(),
        Val::Null => String::new(),
        other => other.to_json_text(),
    }
}

/// Deep equality as `equals()` does it: strings case-sensitively, object
/// property names case-insensitively.
pub fn equal(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Array(x), Val::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q))
        }
        (Val::Object(x), Val::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| b.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

fn is_empty(v: &Val) -> bool {
    match v {
        Val::Null => true,
        Val::Str(s) => s.is_empty(),
        Val::Array(a) => a.is_empty(),
        Val::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// .NET composite formatting: `{0}`, `{1,5}`, `{0:N2}`; `{{` and `}}` escape.
fn format_str(fmt: &str, args: &[Val]) -> Val {
    let mut out = String::new();
    let mut chars = fmt.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|x| x.1) == Some('{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek().map(|x| x.1) == Some('}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut spec = String::new();
                let mut closed = false;
                for (_, d) in chars.by_ref() {
                    if d == '}' {
                        closed = true;
                        break;
                    }
                    spec.push(d);
                }
                if !closed {
                    return Val::error("format(): unbalanced `{` in the format string");
                }
                let idx_text = spec.split([',', ':']).next().unwrap_or("").trim();
                let Ok(idx) = idx_text.parse::<usize>() else {
                    return Val::error(format!("format(): invalid placeholder `{{{spec}}}`"));
                };
                let Some(a) = args.get(idx) else {
                    return Val::error(format!("format(): placeholder {{{idx}}} has no argument"));
                };
                if let Some(u) = unknown_arg("format", std::slice::from_ref(a)) {
                    return u;
                }
                let mut text = display(a);
                // `{0:D3}` pads integers; other format specifiers print the value as is.
                if let (Some(f), Val::Int(n)) = (spec.split_once(':').map(|x| x.1), a) {
                    if let Some(w) = f
                        .strip_prefix(['D', 'd'])
                        .and_then(|w| w.parse::<usize>().ok())
                    {
                        text = format!("{n:0w$}");
                    }
                }
                if let Some(w) = spec
                    .split_once(',')
                    .and_then(|x| x.1.split(':').next())
                    .and_then(|w| w.trim().parse::<i64>().ok())
                {
                    let w = w.clamp(-1024, 1024);
                    let pad = (w.unsigned_abs() as usize).saturating_sub(text.chars().count());
                    if w > 0 {
                        text = " ".repeat(pad) + &text;
                    } else {
                        text.push_str(&" ".repeat(pad));
                    }
                }
                out.push_str(&text);
            }
            '}' => return Val::error("format(): unbalanced `}` in the format string"),
            c => out.push(c),
        }
    }
    Val::Str(out)
}

/// Build an ARM id from `[subscriptionId], [resourceGroupName], type, names...`.
fn resource_id(name: &str, args: &[Val], scope_prefix: Option<&str>) -> Val {
    if let Some(u) = unknown_arg(name, args) {
        return u;
    }
    let strs: Vec<&str> = match args.iter().map(|a| want_str(name, a)).collect() {
        Ok(v) => v,
        Err(e) => return e,
    };
    // The type is the first argument that looks like `Namespace.Provider/type`.
    let Some(ti) = strs.iter().position(|s| {
        s.split_once('/')
            .is_some_and(|(ns, _)| ns.contains('.') && !ns.is_empty())
    }) else {
        return Val::error(format!("{name}() has no resource type argument"));
    };
    let ty = strs[ti];
    let mut names: Vec<&str> = vec![];
    for n in &strs[ti + 1..] {
        names.extend(n.split('/'));
    }
    let type_segs: Vec<&str> = ty.split('/').collect();
    if type_segs.len() < 2 || type_segs.len() - 1 != names.len() {
        return Val::error(format!(
            "{name}(): type `{ty}` needs {} name(s), got {}",
            type_segs.len().saturating_sub(1),
            names.len()
        ));
    }
    let mut id = match scope_prefix {
        Some(p) => p.to_string(),
        None => {
            let (sub, rg) = match ti {
                0 => (SUBSCRIPTION_PLACEHOLDER, RESOURCE_GROUP_PLACEHOLDER),
                1 => (SUBSCRIPTION_PLACEHOLDER, strs[0]),
                _ => (strs[ti - 2], strs[ti - 1]),
            };
            format!("/subscriptions/{sub}/resourceGroups/{rg}")
        }
    };
    id.push_str("/providers/");
    id.push_str(type_segs[0]);
    for (t, n) in type_segs[1..].iter().zip(&names) {
        id.push('/');
        id.push_str(t);
        id.push('/');
        id.push_str(n);
    }
    Val::Str(id)
}

fn parse_cidr(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (a, p) = s.split_once('/')?;
    let addr: Ipv4Addr = a.trim().parse().ok()?;
    let p: u8 = p.trim().parse().ok()?;
    (p <= 32).then_some((addr, p))
}

fn mask(p: u8) -> u32 {
    if p == 0 {
        0
    } else {
        u32::MAX << (32 - p as u32)
    }
}

fn obj(pairs: Vec<(&str, Val)>) -> Val {
    Val::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// Call a library function by name (case-insensitive) with evaluated arguments.
pub fn call(name: &str, args: Vec<Val>, scope: &dyn Scope) -> Val {
    let lname = name.to_ascii_lowercase();
    macro_rules! arity {
        ($min:expr, $max:expr) => {
            if let Some(e) = arity(name, &args, $min, $max) {
                return e;
            }
        };
    }
    macro_rules! known {
        () => {
            if let Some(u) = unknown_arg(name, &args) {
                return u;
            }
        };
    }
    macro_rules! tri {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => return e,
            }
        };
    }
    const MAX: usize = usize::MAX;
    match lname.as_str() {
        // --- scope ---
        "parameters" => {
            arity!(1, 1);
            known!();
            scope.parameter(tri!(want_str(name, &args[0])))
        }
        "variables" => {
            arity!(1, 1);
            known!();
            scope.variable(tri!(want_str(name, &args[0])))
        }
        "copyindex" => {
            arity!(0, 2);
            known!();
            let (loop_name, offset) = match args.as_slice() {
                [] => (None, 0),
                [Val::Str(s)] => (Some(s.as_str()), 0),
                [o] => (None, tri!(want_int(name, o))),
                [Val::Str(s), o] => (Some(s.as_str()), tri!(want_int(name, o))),
                _ => return Val::error("copyIndex() expects a loop name and/or an offset"),
            };
            match scope.copy_index(loop_name) {
                Val::Int(i) => i
                    .checked_add(offset)
                    .map(Val::Int)
                    .unwrap_or_else(|| Val::error("copyIndex(): offset overflows")),
                other => other,
            }
        }
        "resourcegroup" => {
            arity!(0, 0);
            let location = match scope.location() {
                Some(l) => Val::Str(l),
                None => Val::Unknown(Why {
                    reason:
                        "resourceGroup().location is known only at deployment (pass --location)"
                            .into(),
                    error: false,
                }),
            };
            obj(vec![
                (
                    "id",
                    Val::Str(format!(
                        "/subscriptions/{SUBSCRIPTION_PLACEHOLDER}/resourceGroups/{RESOURCE_GROUP_PLACEHOLDER}"
                    )),
                ),
                (
                    "name",
                    Val::unknown("resourceGroup().name is known only at deployment"),
                ),
                ("type", Val::str("Microsoft.Resources/resourceGroups")),
                ("location", location),
                (
                    "tags",
                    Val::unknown("resource group tags are known only at deployment"),
                ),
                (
                    "properties",
                    obj(vec![("provisioningState", Val::str("Succeeded"))]),
                ),
            ])
        }
        "subscription" => {
            arity!(0, 0);
            obj(vec![
                (
                    "id",
                    Val::Str(format!("/subscriptions/{SUBSCRIPTION_PLACEHOLDER}")),
                ),
                ("subscriptionId", Val::str(SUBSCRIPTION_PLACEHOLDER)),
                (
                    "tenantId",
                    Val::unknown("subscription().tenantId is known only at deployment"),
                ),
                (
                    "displayName",
                    Val::unknown("subscription().displayName is known only at deployment"),
                ),
            ])
        }
        "deployment" => {
            arity!(0, 0);
            let location = match scope.location() {
                Some(l) => Val::Str(l),
                None => Val::unknown("deployment().location is known only at deployment"),
            };
            let dname = match scope.deployment_name() {
                Some(n) => Val::Str(n),
                None => Val::unknown("deployment().name is known only at deployment"),
            };
            obj(vec![
                ("name", dname),
                ("location", location),
                (
                    "properties",
                    Val::unknown("deployment().properties is known only at deployment"),
                ),
            ])
        }
        "environment" | "tenant" | "managementgroup" => {
            Val::unknown(format!("{name}() is known only at deployment"))
        }
        "reference" => {
            arity!(1, 3);
            if let Val::Unknown(w) = &args[0] {
                return Val::Unknown(w.clone());
            }
            let full = args
                .get(2)
                .and_then(Val::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("full"));
            scope.reference(&args[0], full)
        }
        "resourceinfo" => {
            arity!(1, 1);
            known!();
            let sym = tri!(want_str(name, &args[0]));
            match scope.symbol_id(sym) {
                Some(id) => obj(vec![
                    ("id", Val::Str(id)),
                    ("name", Val::unknown("resourceInfo().name is not evaluated")),
                ]),
                None => Val::error(format!("resourceInfo(): no resource `{sym}`")),
            }
        }
        n if n.starts_with("list") => Val::unknown(format!(
            "{name}() reads keys or settings of a deployed resource"
        )),
        "uniquestring" => {
            arity!(1, MAX);
            known!();
            // ARM hashes the arguments at deployment. A stable stand-in keeps
            // names that embed it consistent between a resource and the ids
            // that refer to it, which is all the analysis needs.
            let mut parts = vec![];
            for a in &args {
                parts.push(tri!(want_str(name, a)).to_string());
            }
            Val::Str(format!(
                "{{uniqueString:{:013x}}}",
                fnv64(&parts.join("-")) >> 12
            ))
        }
        "guid" | "newguid" | "utcnow" | "datetimeadd" | "datetimefromepoch" | "datetimetoepoch"
        | "base64" | "base64tostring" | "base64tojson" | "datauri" | "datauritostring"
        | "urirecomponent" | "pickzones" | "providers" | "getsecret" => {
            known!();
            Val::unknown(format!(
                "{name}() is computed at deployment and not evaluated here"
            ))
        }
        "resourceid" => resource_id(name, &args, None),
        "subscriptionresourceid" => {
            // [subscriptionId], type, names...
            let (prefix, rest) = match args.first() {
                Some(Val::Str(s)) if !s.split_once('/').is_some_and(|(ns, _)| ns.contains('.')) => {
                    (format!("/subscriptions/{s}"), &args[1..])
                }
                _ => (
                    format!("/subscriptions/{SUBSCRIPTION_PLACEHOLDER}"),
                    &args[..],
                ),
            };
            resource_id(name, rest, Some(&prefix))
        }
        "tenantresourceid" => resource_id(name, &args, Some("")),
        "managementgroupresourceid" => {
            known!();
            Val::unknown("managementGroupResourceId() depends on the management group")
        }
        "extensionresourceid" => {
            arity!(3, MAX);
            known!();
            let base = tri!(want_str(name, &args[0])).to_string();
            match resource_id(name, &args[1..], Some("")) {
                Val::Str(rest) => Val::Str(format!("{base}{rest}")),
                other => other,
            }
        }
        // --- logical ---
        "if" => {
            arity!(3, 3);
            match &args[0] {
                Val::Bool(true) => args[1].clone(),
                Val::Bool(false) => args[2].clone(),
                Val::Unknown(w) => Val::Unknown(w.clone()),
                Val::Ref(_) => Val::unknown("if() condition depends on a deployed resource"),
                other => Val::error(format!(
                    "if() expects a bool condition, got {}",
                    other.type_name()
                )),
            }
        }
        "and" | "or" => {
            arity!(1, MAX);
            let decisive = lname == "or";
            let mut unk = None;
            for a in &args {
                match a {
                    Val::Bool(b) if *b == decisive => return Val::Bool(decisive),
                    Val::Bool(_) => {}
                    Val::Unknown(_) | Val::Ref(_) => {
                        unk.get_or_insert_with(|| unknown_arg(name, std::slice::from_ref(a)));
                    }
                    other => {
                        return Val::error(format!(
                            "{name}() expects bools, got {}",
                            other.type_name()
                        ));
                    }
                }
            }
            unk.flatten().unwrap_or(Val::Bool(!decisive))
        }
        "not" => {
            arity!(1, 1);
            known!();
            match &args[0] {
                Val::Bool(b) => Val::Bool(!b),
                other => Val::error(format!("not() expects a bool, got {}", other.type_name())),
            }
        }
        "true" => Val::Bool(true),
        "false" => Val::Bool(false),
        "null" => Val::Null,
        "bool" => {
            arity!(1, 1);
            known!();
            match &args[0] {
                Val::Bool(b) => Val::Bool(*b),
                Val::Int(i) => Val::Bool(*i != 0),
                Val::Str(s) if s.eq_ignore_ascii_case("true") => Val::Bool(true),
                Val::Str(s) if s.eq_ignore_ascii_case("false") => Val::Bool(false),
                other => Val::error(format!("bool(): cannot convert `{}`", display(other))),
            }
        }
        "coalesce" => {
            arity!(1, MAX);
            for a in &args {
                match a {
                    Val::Null => {}
                    Val::Unknown(_) | Val::Ref(_) => {
                        return unknown_arg(name, std::slice::from_ref(a)).unwrap_or(Val::Null);
                    }
                    v => return v.clone(),
                }
            }
            Val::Null
        }
        // --- comparison ---
        "equals" => {
            arity!(2, 2);
            known!();
            Val::Bool(equal(&args[0], &args[1]))
        }
        "less" | "lessorequals" | "greater" | "greaterorequals" => {
            arity!(2, 2);
            known!();
            let ord = match (&args[0], &args[1]) {
                (Val::Int(a), Val::Int(b)) => a.cmp(b),
                (Val::Str(a), Val::Str(b)) => a.cmp(b),
                (a, b) => {
                    return Val::error(format!(
                        "{name}() cannot compare {} with {}",
                        a.type_name(),
                        b.type_name()
                    ));
                }
            };
            use std::cmp::Ordering::*;
            Val::Bool(match lname.as_str() {
                "less" => ord == Less,
                "lessorequals" => ord != Greater,
                "greater" => ord == Greater,
                _ => ord != Less,
            })
        }
        // --- strings and arrays ---
        "concat" => {
            arity!(0, MAX);
            if args.iter().all(|a| matches!(a, Val::Array(_) | Val::Null)) && !args.is_empty() {
                let mut out = vec![];
                for a in args {
                    if let Val::Array(v) = a {
                        out.extend(v);
                    }
                }
                return Val::Array(out);
            }
            known!();
            let mut s = String::new();
            for a in &args {
                if matches!(a, Val::Array(_)) {
                    return Val::error("concat() cannot mix arrays and strings");
                }
                s.push_str(&display(a));
            }
            Val::Str(s)
        }
        "format" => {
            arity!(1, MAX);
            if let Some(u) = unknown_arg(name, &args[..1]) {
                return u;
            }
            format_str(tri!(want_str(name, &args[0])), &args[1..])
        }
        "string" => {
            arity!(1, 1);
            known!();
            Val::Str(display(&args[0]))
        }
        "int" => {
            arity!(1, 1);
            known!();
            Val::Int(tri!(want_int(name, &args[0])))
        }
        "json" => {
            arity!(1, 1);
            known!();
            let s = tri!(want_str(name, &args[0]));
            match crate::frontend::arm::json::parse(s, 64) {
                Ok(j) => Val::from_json(&j),
                Err(e) => Val::error(format!("json(): {}", e.message)),
            }
        }
        "tolower" | "toupper" => {
            arity!(1, 1);
            known!();
            let s = tri!(want_str(name, &args[0]));
            Val::Str(if lname == "tolower" {
                s.to_lowercase()
            } else {
                s.to_uppercase()
            })
        }
        "trim" => {
            arity!(1, 1);
            known!();
            Val::Str(tri!(want_str(name, &args[0])).trim().to_string())
        }
        "replace" => {
            arity!(3, 3);
            known!();
            let s = tri!(want_str(name, &args[0]));
            let from = tri!(want_str(name, &args[1]));
            let to = tri!(want_str(name, &args[2]));
            if from.is_empty() {
                return Val::error("replace(): the old string is empty");
            }
            Val::Str(s.replace(from, to))
        }
        "split" => {
            arity!(2, 2);
            known!();
            let s = tri!(want_str(name, &args[0]));
            let seps: Vec<String> = match &args[1] {
                Val::Str(d) => vec![d.clone()],
                Val::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
                _ => return Val::error("split() expects a delimiter string or array"),
            };
            let mut parts = vec![s.to_string()];
            for sep in seps.iter().filter(|s| !s.is_empty()) {
                parts = parts
                    .iter()
                    .flat_map(|p| p.split(sep.as_str()).map(String::from).collect::<Vec<_>>())
                    .collect();
            }
            Val::Array(parts.into_iter().map(Val::Str).collect())
        }
        "join" => {
            arity!(2, 2);
            known!();
            let Val::Array(a) = &args[0] else {
                return Val::error("join() expects an array");
            };
            let sep = tri!(want_str(name, &args[1]));
            if let Some(w) = args[0].first_unknown() {
                return Val::Unknown(w.clone());
            }
            Val::Str(a.iter().map(display).collect::<Vec<_>>().join(sep))
        }
        "startswith" | "endswith" => {
            arity!(2, 2);
            known!();
            let s = tri!(want_str(name, &args[0])).to_lowercase();
            let p = tri!(want_str(name, &args[1])).to_lowercase();
            Val::Bool(if lname == "startswith" {
                s.starts_with(&p)
            } else {
                s.ends_with(&p)
            })
        }
        "indexof" | "lastindexof" => {
            arity!(2, 2);
            known!();
            match (&args[0], &args[1]) {
                (Val::Str(s), Val::Str(p)) => {
                    let (s, p) = (s.to_lowercase(), p.to_lowercase());
                    let r = if lname == "indexof" {
                        s.find(&p)
                    } else {
                        s.rfind(&p)
                    };
                    Val::Int(r.map(|b| s[..b].chars().count() as i64).unwrap_or(-1))
                }
                (Val::Array(a), v) => {
                    let mut it = a.iter().enumerate();
                    let r = if lname == "indexof" {
                        it.find(|(_, x)| equal(x, v)).map(|x| x.0)
                    } else {
                        it.rev().find(|(_, x)| equal(x, v)).map(|x| x.0)
                    };
                    Val::Int(r.map(|i| i as i64).unwrap_or(-1))
                }
                _ => Val::error(format!("{name}() expects a string or an array")),
            }
        }
        "substring" => {
            arity!(2, 3);
            known!();
            let s: Vec<char> = tri!(want_str(name, &args[0])).chars().collect();
            let start = tri!(want_int(name, &args[1]));
            let len = match args.get(2) {
                Some(l) => tri!(want_int(name, l)),
                None => (s.len() as i64).saturating_sub(start),
            };
            if start < 0 || len < 0 || start.saturating_add(len) > s.len() as i64 {
                return Val::error("substring(): range is out of the string");
            }
            Val::Str(s[start as usize..(start + len) as usize].iter().collect())
        }
        "padleft" => {
            arity!(2, 3);
            known!();
            let s = display(&args[0]);
            let w = tri!(want_int(name, &args[1])).clamp(0, 16384) as usize;
            let pad = args
                .get(2)
                .and_then(Val::as_str)
                .and_then(|p| p.chars().next())
                .unwrap_or(' ');
            let n = w.saturating_sub(s.chars().count());
            Val::Str(std::iter::repeat_n(pad, n).collect::<String>() + &s)
        }
        "uri" => {
            arity!(2, 2);
            known!();
            let base = tri!(want_str(name, &args[0]));
            let rel = tri!(want_str(name, &args[1]));
            let dir = match base.rfind('/') {
                Some(i) => &base[..=i],
                None => base,
            };
            Val::Str(format!("{dir}{}", rel.trim_start_matches('/')))
        }
        "length" => {
            arity!(1, 1);
            match &args[0] {
                Val::Str(s) => Val::Int(s.chars().count() as i64),
                Val::Array(a) => Val::Int(a.len() as i64),
                Val::Object(o) => Val::Int(o.len() as i64),
                Val::Unknown(w) => Val::Unknown(w.clone()),
                other => unknown_arg(name, std::slice::from_ref(other))
                    .unwrap_or_else(|| Val::error(format!("length() of a {}", other.type_name()))),
            }
        }
        "empty" => {
            arity!(1, 1);
            known!();
            Val::Bool(is_empty(&args[0]))
        }
        "contains" => {
            arity!(2, 2);
            known!();
            match (&args[0], &args[1]) {
                (Val::Str(s), v) => Val::Bool(s.contains(&display(v))),
                (Val::Array(a), v) => {
                    if a.iter().any(|x| equal(x, v)) {
                        Val::Bool(true)
                    } else if let Some(w) = args[0].first_unknown() {
                        Val::Unknown(w.clone())
                    } else {
                        Val::Bool(false)
                    }
                }
                (o @ Val::Object(_), Val::Str(k)) => Val::Bool(o.get(k).is_some()),
                (a, _) => Val::error(format!("contains() of a {}", a.type_name())),
            }
        }
        "first" | "last" => {
            arity!(1, 1);
            known!();
            match &args[0] {
                Val::Array(a) => {
                    let v = if lname == "first" {
                        a.first()
                    } else {
                        a.last()
                    };
                    v.cloned().unwrap_or(Val::Null)
                }
                Val::Str(s) => {
                    let c = if lname == "first" {
                        s.chars().next()
                    } else {
                        s.chars().last()
                    };
                    Val::Str(c.map(String::from).unwrap_or_default())
                }
                other => Val::error(format!("{name}() of a {}", other.type_name())),
            }
        }
        "take" | "skip" => {
            arity!(2, 2);
            known!();
            let n = tri!(want_int(name, &args[1])).max(0) as usize;
            match &args[0] {
                Val::Array(a) => {
                    let n = n.min(a.len());
                    Val::Array(if lname == "take" {
                        a[..n].to_vec()
                    } else {
                        a[n..].to_vec()
                    })
                }
                Val::Str(s) => {
                    let c: Vec<char> = s.chars().collect();
                    let n = n.min(c.len());
                    Val::Str(if lname == "take" {
                        c[..n].iter().collect()
                    } else {
                        c[n..].iter().collect()
                    })
                }
                other => Val::error(format!("{name}() of a {}", other.type_name())),
            }
        }
        "createarray" => Val::Array(args),
        "array" => {
            arity!(1, 1);
            match &args[0] {
                Val::Array(_) => args[0].clone(),
                Val::Unknown(w) => Val::Unknown(w.clone()),
                v => Val::Array(vec![v.clone()]),
            }
        }
        "createobject" => {
            if args.len() % 2 != 0 {
                return Val::error("createObject() expects name/value pairs");
            }
            let mut out: Vec<(String, Val)> = vec![];
            for pair in args.chunks(2) {
                match &pair[0] {
                    Val::Str(k) => {
                        out.retain(|(e, _)| !e.eq_ignore_ascii_case(k));
                        out.push((k.clone(), pair[1].clone()));
                    }
                    Val::Unknown(w) => return Val::Unknown(w.clone()),
                    other => {
                        return Val::error(format!(
                            "createObject() names must be strings, got {}",
                            other.type_name()
                        ));
                    }
                }
            }
            Val::Object(out)
        }
        "union" => {
            arity!(1, MAX);
            known!();
            if args.iter().all(|a| matches!(a, Val::Array(_))) {
                let mut out: Vec<Val> = vec![];
                for a in args {
                    if let Val::Array(v) = a {
                        for x in v {
                            if !out.iter().any(|y| equal(y, &x)) {
                                out.push(x);
                            }
                        }
                    }
                }
                Val::Array(out)
            } else if args.iter().all(|a| matches!(a, Val::Object(_) | Val::Null)) {
                let mut out: Vec<(String, Val)> = vec![];
                for a in args {
                    if let Val::Object(o) = a {
                        for (k, v) in &o {
                            merge_prop(&mut out, k, v, false);
                        }
                    }
                }
                Val::Object(out)
            } else {
                Val::error("union() expects all arrays or all objects")
            }
        }
        "shallowmerge" => {
            arity!(1, 1);
            known!();
            let Val::Array(a) = &args[0] else {
                return Val::error("shallowMerge() expects an array of objects");
            };
            let mut out: Vec<(String, Val)> = vec![];
            for o in a {
                match o {
                    Val::Object(o) => {
                        for (k, v) in o {
                            merge_prop(&mut out, k, v, true);
                        }
                    }
                    Val::Unknown(w) => return Val::Unknown(w.clone()),
                    _ => return Val::error("shallowMerge() expects an array of objects"),
                }
            }
            Val::Object(out)
        }
        "intersection" => {
            arity!(2, MAX);
            known!();
            match &args[0] {
                Val::Array(first) => Val::Array(
                    first
                        .iter()
                        .filter(|x| {
                            args[1..].iter().all(|o| match o {
                                Val::Array(b) => b.iter().any(|y| equal(x, y)),
                                _ => false,
                            })
                        })
                        .cloned()
                        .collect(),
                ),
                Val::Object(first) => Val::Object(
                    first
                        .iter()
                        .filter(|(k, v)| {
                            args[1..]
                                .iter()
                                .all(|o| o.get(k).is_some_and(|w| equal(v, w)))
                        })
                        .cloned()
                        .collect(),
                ),
                _ => Val::error("intersection() expects arrays or objects"),
            }
        }
        "flatten" => {
            arity!(1, 1);
            known!();
            let Val::Array(a) = &args[0] else {
                return Val::error("flatten() expects an array of arrays");
            };
            let mut out = vec![];
            for x in a {
                match x {
                    Val::Array(inner) => out.extend(inner.iter().cloned()),
                    Val::Unknown(w) => return Val::Unknown(w.clone()),
                    _ => return Val::error("flatten() expects an array of arrays"),
                }
            }
            Val::Array(out)
        }
        "items" => {
            arity!(1, 1);
            known!();
            let Val::Object(o) = &args[0] else {
                return Val::error("items() expects an object");
            };
            let mut pairs = o.clone();
            // ARM returns the entries sorted by key.
            pairs.sort_by_key(|(k, _)| k.to_lowercase());
            Val::Array(
                pairs
                    .into_iter()
                    .map(|(k, v)| obj(vec![("key", Val::Str(k)), ("value", v)]))
                    .collect(),
            )
        }
        "objectkeys" => {
            arity!(1, 1);
            known!();
            match &args[0] {
                Val::Object(o) => Val::Array(o.iter().map(|(k, _)| Val::Str(k.clone())).collect()),
                _ => Val::error("objectKeys() expects an object"),
            }
        }
        "tryget" => {
            arity!(2, MAX);
            if let Val::Unknown(w) = &args[0] {
                return Val::Unknown(w.clone());
            }
            let mut cur = args[0].clone();
            for k in &args[1..] {
                cur = match (&cur, k) {
                    (Val::Null, _) => return Val::Null,
                    (Val::Object(_), Val::Str(key)) => cur.get(key).cloned().unwrap_or(Val::Null),
                    (Val::Array(a), Val::Int(i)) => usize::try_from(*i)
                        .ok()
                        .and_then(|i| a.get(i).cloned())
                        .unwrap_or(Val::Null),
                    (Val::Unknown(_), _) | (Val::Ref(_), _) => {
                        return super::access(cur.clone(), k, true);
                    }
                    _ => return Val::Null,
                };
            }
            cur
        }
        "range" => {
            arity!(2, 2);
            known!();
            let start = tri!(want_int(name, &args[0]));
            let count = tri!(want_int(name, &args[1]));
            if !(0..=10_000).contains(&count) {
                return Val::error(format!("range(): count {count} is out of bounds"));
            }
            Val::Array(
                (0..count)
                    .map(|i| Val::Int(start.saturating_add(i)))
                    .collect(),
            )
        }
        "min" | "max" => {
            arity!(1, MAX);
            known!();
            let items: Vec<Val> = match args.as_slice() {
                [Val::Array(a)] => a.clone(),
                _ => args.clone(),
            };
            let mut ints = vec![];
            for i in &items {
                ints.push(tri!(want_int(name, i)));
            }
            let r = if lname == "min" {
                ints.iter().min()
            } else {
                ints.iter().max()
            };
            r.map(|v| Val::Int(*v))
                .unwrap_or_else(|| Val::error(format!("{name}() of an empty array")))
        }
        "add" | "sub" | "mul" | "div" | "mod" => {
            arity!(2, 2);
            known!();
            let a = tri!(want_int(name, &args[0]));
            let b = tri!(want_int(name, &args[1]));
            let r = match lname.as_str() {
                "add" => a.checked_add(b),
                "sub" => a.checked_sub(b),
                "mul" => a.checked_mul(b),
                "div" => a.checked_div(b),
                _ => a.checked_rem(b),
            };
            r.map(Val::Int).unwrap_or_else(|| {
                Val::error(format!("{name}({a}, {b}) overflows or divides by zero"))
            })
        }
        // --- CIDR (Bicep's parseCidr / cidrSubnet / cidrHost compile to these) ---
        "parsecidr" => {
            arity!(1, 1);
            known!();
            let s = tri!(want_str(name, &args[0]));
            let Some((a, p)) = parse_cidr(s) else {
                return Val::error(format!("parseCidr(): `{s}` is not an IPv4 CIDR"));
            };
            let net = u32::from(a) & mask(p);
            let bcast = net | !mask(p);
            let (first, last) = if p >= 31 {
                (net, bcast)
            } else {
                (net + 1, bcast - 1)
            };
            obj(vec![
                ("network", Val::Str(Ipv4Addr::from(net).to_string())),
                ("netmask", Val::Str(Ipv4Addr::from(mask(p)).to_string())),
                ("broadcast", Val::Str(Ipv4Addr::from(bcast).to_string())),
                ("firstUsable", Val::Str(Ipv4Addr::from(first).to_string())),
                ("lastUsable", Val::Str(Ipv4Addr::from(last).to_string())),
                ("cidr", Val::Int(p as i64)),
            ])
        }
        "cidrsubnet" => {
            arity!(3, 3);
            known!();
            let s = tri!(want_str(name, &args[0]));
            let Some((a, p)) = parse_cidr(s) else {
                return Val::error(format!("cidrSubnet(): `{s}` is not an IPv4 CIDR"));
            };
            let newp = tri!(want_int(name, &args[1]));
            let idx = tri!(want_int(name, &args[2]));
            if newp < p as i64 || newp > 32 || idx < 0 || (idx >> (newp - p as i64).min(62)) > 0 {
                return Val::error(format!(
                    "cidrSubnet(): subnet {idx} of /{newp} does not fit in `{s}`"
                ));
            }
            let net = (u32::from(a) & mask(p)) as u64 + ((idx as u64) << (32 - newp));
            Val::Str(format!("{}/{newp}", Ipv4Addr::from(net as u32)))
        }
        "cidrhost" => {
            arity!(2, 2);
            known!();
            let s = tri!(want_str(name, &args[0]));
            let Some((a, p)) = parse_cidr(s) else {
                return Val::error(format!("cidrHost(): `{s}` is not an IPv4 CIDR"));
            };
            let idx = tri!(want_int(name, &args[1]));
            let size = 1u64 << (32 - p as u64);
            // The index counts usable hosts: the network address is skipped.
            let usable = if p >= 31 { size } else { size - 2 };
            if idx < 0 || idx as u64 >= usable {
                return Val::error(format!("cidrHost(): host {idx} does not fit in `{s}`"));
            }
            let base = (u32::from(a) & mask(p)) as u64;
            let off = if p >= 31 { idx as u64 } else { idx as u64 + 1 };
            Val::Str(Ipv4Addr::from((base + off) as u32).to_string())
        }
        _ => Val::error(format!("function `{name}` is not supported")),
    }
}

/// FNV-1a: a small, stable hash for [`call`]'s `uniqueString` stand-in.
fn fnv64(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `union()` merges nested objects deeply; `shallowMerge()` does not.
fn merge_prop(out: &mut Vec<(String, Val)>, k: &str, v: &Val, shallow: bool) {
    if let Some(pos) = out.iter().position(|(e, _)| e.eq_ignore_ascii_case(k)) {
        let merged = match (&out[pos].1, v) {
            (Val::Object(a), Val::Object(b)) if !shallow => {
                let mut m = a.clone();
                for (k2, v2) in b {
                    merge_prop(&mut m, k2, v2, false);
                }
                Val::Object(m)
            }
            _ => v.clone(),
        };
        out[pos].1 = merged;
    } else {
        out.push((k.to_string(), v.clone()));
    }
}

/// A [`ResRef`] as the Unknown that string functions see.
pub fn ref_reason(r: &ResRef) -> String {
    format!("`reference({})` is known only after deployment", r.target)
}

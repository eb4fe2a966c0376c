//! Terraform's built-in functions, over the evaluator's [`V`] values.
//!
//! Only functions whose result can be known without running anything:
//! `file`, `templatefile`, `timestamp`, `uuid` and provider functions give an
//! unknown value with a reason. Every result is bounded by `max_items`, so a
//! `range(1e9)` or a nested `setproduct` cannot exhaust memory.

use super::value::{V, fmt_num, pending_reason};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Longest string a function may build: doubling chains of locals
/// (`format("%s%s", local.x, local.x)`) stop here instead of eating memory.
const MAX_STR: usize = 1 << 20;

/// Call `name` on already evaluated arguments (`try` and `can` are handled
/// by the evaluator because they need their arguments unevaluated).
pub fn call(name: &str, args: Vec<V>, max_items: usize) -> V {
    // An unknown argument makes the result unknown, as in Terraform; the
    // functions below that look inside collections handle nested unknowns.
    let lenient = matches!(name, "coalesce" | "lookup" | "length" | "concat" | "tolist");
    if !lenient {
        if let Some(p) = args.iter().find(|a| a.is_pending()) {
            return through(p, name);
        }
    }
    let r = match name {
        "lower" => str1(&args, |s| s.to_lowercase()),
        "upper" => str1(&args, |s| s.to_uppercase()),
        "title" => str1(&args, title),
        "trimspace" => str1(&args, |s| s.trim().to_string()),
        "chomp" => str1(&args, |s| s.trim_end_matches(['\n', '\r']).to_string()),
        "strrev" => str1(&args, |s| s.chars().rev().collect()),
        "tostring" => match args.first() {
            Some(V::Null) => Some(V::Null),
            Some(v) => v.as_string().map(V::Str),
            None => None,
        },
        "tonumber" => args.first().and_then(V::as_num).map(V::Num),
        "tobool" => args.first().and_then(V::as_bool).map(V::Bool),
        "trim" => str2(&args, |s, c| s.trim_matches(|x| c.contains(x)).to_string()),
        "trimprefix" => str2(&args, |s, p| s.strip_prefix(p).unwrap_or(s).to_string()),
        "trimsuffix" => str2(&args, |s, p| s.strip_suffix(p).unwrap_or(s).to_string()),
        "startswith" => strs(&args, 2).map(|a| V::Bool(a[0].starts_with(&a[1]))),
        "endswith" => strs(&args, 2).map(|a| V::Bool(a[0].ends_with(&a[1]))),
        "replace" => strs(&args, 3).map(|a| {
            // Regular-expression replacement (`/re/`) is not reproduced.
            if a[1].len() > 1 && a[1].starts_with('/') && a[1].ends_with('/') {
                V::unknown("`replace` with a regular expression is not evaluated")
            } else if a[1].is_empty() {
                V::Str(a[0].clone())
            } else if a[0]
                .matches(a[1].as_str())
                .count()
                .saturating_mul(a[2].len())
                > MAX_STR
            {
                V::unknown("`replace` result is too long")
            } else {
                V::Str(a[0].replace(&a[1], &a[2]))
            }
        }),
        "substr" => substr(&args),
        "split" => strs(&args, 2).map(|a| {
            if a[1].is_empty() {
                V::List(vec![])
            } else {
                V::List(
                    a[1].split(a[0].as_str())
                        .take(max_items)
                        .map(|s| V::Str(s.into()))
                        .collect(),
                )
            }
        }),
        "join" => join(&args),
        "format" => format_fn(&args),
        "formatlist" => formatlist(&args, max_items),
        "concat" => concat(&args, max_items),
        "length" => length(&args),
        "element" => element(&args),
        "index" => match (args.first(), args.get(1)) {
            (Some(V::List(l)), Some(x)) => l
                .iter()
                .position(|e| e == x)
                .map(|i| V::Num(i as f64))
                .or_else(|| Some(V::error("`index`: value not in list"))),
            _ => None,
        },
        "lookup" => lookup(&args),
        "merge" => merge(&args),
        "keys" => match args.first() {
            Some(V::Map(m, _)) => Some(V::List(m.keys().map(|k| V::Str(k.clone())).collect())),
            _ => None,
        },
        "values" => match args.first() {
            Some(V::Map(m, _)) => Some(V::List(m.values().cloned().collect())),
            _ => None,
        },
        "tolist" => match args.first() {
            Some(V::List(l)) => Some(V::List(l.clone())),
            Some(p) if p.is_pending() => Some(p.clone()),
            _ => None,
        },
        "toset" | "distinct" => match args.first() {
            Some(V::List(l)) => {
                let mut out: Vec<V> = vec![];
                for v in l {
                    if !out.contains(v) {
                        out.push(v.clone());
                    }
                }
                // Sets of strings iterate in lexical order in Terraform.
                if name == "toset" && out.iter().all(|v| matches!(v, V::Str(_))) {
                    out.sort_by_key(V::as_string);
                }
                Some(V::List(out))
            }
            _ => None,
        },
        "tomap" => match args.first() {
            Some(V::Map(m, _)) => Some(V::map(m.clone())),
            _ => None,
        },
        "flatten" => args.first().map(|v| {
            let mut out = vec![];
            flatten(v, &mut out, 0, max_items);
            V::List(out)
        }),
        "contains" => match (args.first(), args.get(1)) {
            (Some(V::List(l)), Some(x)) => Some(V::Bool(l.contains(x))),
            _ => None,
        },
        "coalesce" => coalesce(&args),
        "coalescelist" => args
            .iter()
            .find(|a| matches!(a, V::List(l) if !l.is_empty()))
            .cloned()
            .or(Some(V::List(vec![]))),
        "compact" => match args.first() {
            Some(V::List(l)) => Some(V::List(
                l.iter()
                    .filter(|v| !matches!(v, V::Null) && !matches!(v, V::Str(s) if s.is_empty()))
                    .cloned()
                    .collect(),
            )),
            _ => None,
        },
        "one" => match args.first() {
            Some(V::List(l)) if l.is_empty() => Some(V::Null),
            Some(V::List(l)) if l.len() == 1 => l.first().cloned(),
            _ => None,
        },
        "reverse" => match args.first() {
            Some(V::List(l)) => Some(V::List(l.iter().rev().cloned().collect())),
            _ => None,
        },
        "sort" => match args.first() {
            Some(V::List(l)) => {
                let mut s: Vec<String> = l.iter().filter_map(V::as_string).collect();
                s.sort();
                Some(V::List(s.into_iter().map(V::Str).collect()))
            }
            _ => None,
        },
        "slice" => match (
            args.first(),
            args.get(1).and_then(V::as_num),
            args.get(2).and_then(V::as_num),
        ) {
            (Some(V::List(l)), Some(a), Some(b)) if a >= 0.0 && b >= a => l
                .get(a as usize..b as usize)
                .map(|s| V::List(s.to_vec()))
                .or_else(|| Some(V::error("`slice`: index out of range"))),
            _ => None,
        },
        "zipmap" => match (args.first(), args.get(1)) {
            (Some(V::List(k)), Some(V::List(v))) => Some(V::map(
                k.iter()
                    .zip(v.iter())
                    .filter_map(|(k, v)| k.as_string().map(|k| (k, v.clone())))
                    .collect(),
            )),
            _ => None,
        },
        "range" => range(&args, max_items),
        "min" | "max" => {
            let nums: Option<Vec<f64>> = args.iter().map(V::as_num).collect();
            nums.filter(|n| !n.is_empty()).map(|n| {
                V::Num(if name == "min" {
                    n.into_iter().fold(f64::INFINITY, f64::min)
                } else {
                    n.into_iter().fold(f64::NEG_INFINITY, f64::max)
                })
            })
        }
        "sum" => match args.first() {
            Some(V::List(l)) => l
                .iter()
                .map(V::as_num)
                .collect::<Option<Vec<f64>>>()
                .map(|n| V::Num(n.iter().sum())),
            _ => None,
        },
        "abs" => args.first().and_then(V::as_num).map(|n| V::Num(n.abs())),
        "ceil" => args.first().and_then(V::as_num).map(|n| V::Num(n.ceil())),
        "floor" => args.first().and_then(V::as_num).map(|n| V::Num(n.floor())),
        "alltrue" | "anytrue" => match args.first() {
            Some(V::List(l)) => {
                let b: Option<Vec<bool>> = l.iter().map(V::as_bool).collect();
                b.map(|b| {
                    V::Bool(if name == "alltrue" {
                        b.iter().all(|x| *x)
                    } else {
                        b.iter().any(|x| *x)
                    })
                })
            }
            _ => None,
        },
        "setunion" => {
            let mut out: Vec<V> = vec![];
            for a in &args {
                if let V::List(l) = a {
                    for v in l {
                        if !out.contains(v) && out.len() < max_items {
                            out.push(v.clone());
                        }
                    }
                }
            }
            Some(V::List(out))
        }
        "setproduct" => setproduct(&args, max_items),
        "chunklist" => match (args.first(), args.get(1).and_then(V::as_num)) {
            (Some(V::List(l)), Some(n)) if n >= 1.0 => Some(V::List(
                l.chunks(n as usize).map(|c| V::List(c.to_vec())).collect(),
            )),
            _ => None,
        },
        "cidrsubnet" => cidrsubnet(&args),
        "cidrsubnets" => cidrsubnets(&args, max_items),
        "cidrhost" => cidrhost(&args),
        "cidrnetmask" => strs(&args, 1).and_then(|a| {
            let net: ipnet::Ipv4Net = a[0].parse().ok()?;
            Some(V::Str(net.netmask().to_string()))
        }),
        "jsondecode" => strs(&args, 1).map(|a| match serde_json::from_str(&a[0]) {
            Ok(j) => V::from_json(&j, 0),
            Err(e) => V::error(format!("`jsondecode`: {e}")),
        }),
        "jsonencode" => args
            .first()
            .and_then(|v| to_json(v, 0))
            .map(|j| V::Str(j.to_string())),
        "file" | "templatefile" | "filebase64" | "fileexists" | "fileset" => Some(V::unknown(
            format!("`{name}` reads files at plan time and is not evaluated"),
        )),
        "timestamp" | "uuid" | "bcrypt" | "timeadd" | "plantimestamp" => Some(V::unknown(format!(
            "`{name}` is only known when Terraform runs"
        ))),
        _ => {
            return V::unknown(format!("function `{name}` is not evaluated"));
        }
    };
    r.unwrap_or_else(|| V::error(format!("`{name}`: unexpected arguments")))
}

/// The result of a function applied to a pending argument.
fn through(p: &V, name: &str) -> V {
    match p {
        V::Unknown(_) => p.clone(),
        // Conversions keep the reference itself.
        _ if matches!(name, "tostring" | "lower" | "upper" | "trimspace") => p.clone(),
        _ => V::unknown(pending_reason(p)),
    }
}

fn str1(a: &[V], f: impl Fn(&str) -> String) -> Option<V> {
    a.first()?.as_string().map(|s| V::Str(f(&s)))
}

fn str2(a: &[V], f: impl Fn(&str, &str) -> String) -> Option<V> {
    let s = strs(a, 2)?;
    Some(V::Str(f(&s[0], &s[1])))
}

fn strs(a: &[V], n: usize) -> Option<Vec<String>> {
    if a.len() < n {
        return None;
    }
    a.iter().take(n).map(V::as_string).collect()
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    out
}

fn substr(a: &[V]) -> Option<V> {
    let s = a.first()?.as_string()?;
    let off = a.get(1)?.as_num()?;
    let len = a.get(2)?.as_num()?;
    let chars: Vec<char> = s.chars().collect();
    let start = if off < 0.0 {
        chars.len().saturating_sub((-off) as usize)
    } else {
        (off as usize).min(chars.len())
    };
    let end = if len < 0.0 {
        chars.len()
    } else {
        start.saturating_add(len as usize).min(chars.len())
    };
    Some(V::Str(chars.get(start..end)?.iter().collect()))
}

fn join(a: &[V]) -> Option<V> {
    let sep = a.first()?.as_string()?;
    let mut parts = vec![];
    for l in a.get(1..)? {
        let V::List(items) = l else { return None };
        for i in items {
            if i.is_pending() {
                return Some(through(i, "join"));
            }
            parts.push(i.as_string()?);
        }
    }
    let total: usize = parts.iter().map(|p| p.len() + sep.len()).sum();
    if total > MAX_STR {
        return Some(V::unknown("`join` result is too long"));
    }
    Some(V::Str(parts.join(&sep)))
}

fn concat(a: &[V], max: usize) -> Option<V> {
    let mut out = vec![];
    for l in a {
        match l {
            V::List(items) if out.len() + items.len() > max.saturating_mul(100) => {
                return Some(V::unknown("`concat` result is too long"));
            }
            V::List(items) => out.extend(items.iter().cloned()),
            p if p.is_pending() => return Some(p.clone()),
            _ => return None,
        }
    }
    Some(V::List(out))
}

fn length(a: &[V]) -> Option<V> {
    match a.first()? {
        V::List(l) => Some(V::Num(l.len() as f64)),
        V::Map(m, _) => Some(V::Num(m.len() as f64)),
        V::Str(s) => Some(V::Num(s.chars().count() as f64)),
        p if p.is_pending() => Some(through(p, "length")),
        _ => None,
    }
}

fn element(a: &[V]) -> Option<V> {
    let V::List(l) = a.first()? else { return None };
    let i = a.get(1)?.as_num()?;
    if l.is_empty() {
        return Some(V::error("`element` of an empty list"));
    }
    if i < 0.0 {
        return Some(V::error("`element`: negative index"));
    }
    // element() wraps around.
    l.get(i as usize % l.len()).cloned()
}

fn lookup(a: &[V]) -> Option<V> {
    let m = a.first()?;
    let key = a.get(1)?;
    if m.is_pending() {
        return Some(m.clone());
    }
    if key.is_pending() {
        return Some(through(key, "lookup"));
    }
    let V::Map(m, _) = m else { return None };
    let k = key.as_string()?;
    match m.get(&k) {
        Some(v) => Some(v.clone()),
        None => Some(
            a.get(2)
                .cloned()
                .unwrap_or_else(|| V::error(format!("`lookup`: no key `{k}`"))),
        ),
    }
}

fn merge(a: &[V]) -> Option<V> {
    let mut out = BTreeMap::new();
    for m in a {
        match m {
            V::Map(m, _) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
            V::Null => {}
            _ => return None,
        }
    }
    Some(V::map(out))
}

fn coalesce(a: &[V]) -> Option<V> {
    for v in a {
        match v {
            V::Null => continue,
            V::Str(s) if s.is_empty() => continue,
            p if p.is_pending() => return Some(through(p, "coalesce")),
            v => return Some(v.clone()),
        }
    }
    Some(V::error("`coalesce`: no non-null argument"))
}

fn flatten(v: &V, out: &mut Vec<V>, depth: usize, max: usize) {
    match v {
        V::List(l) if depth < 32 => {
            for e in l {
                if out.len() >= max {
                    return;
                }
                flatten(e, out, depth + 1, max);
            }
        }
        _ if depth == 0 => out.push(V::error("`flatten` of a non-list")),
        other => out.push(other.clone()),
    }
}

fn range(a: &[V], max: usize) -> Option<V> {
    let n: Vec<f64> = a.iter().map(V::as_num).collect::<Option<_>>()?;
    let (start, end, step) = match n.as_slice() {
        [e] => (0.0, *e, 1.0),
        [s, e] => (*s, *e, if e >= s { 1.0 } else { -1.0 }),
        [s, e, st] => (*s, *e, *st),
        _ => return None,
    };
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
        return None;
    }
    let mut out = vec![];
    let mut x = start;
    while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
        if out.len() >= max {
            return Some(V::unknown(format!(
                "`range` would produce more than {max} elements"
            )));
        }
        out.push(V::Num(x));
        x += step;
    }
    Some(V::List(out))
}

fn setproduct(a: &[V], max: usize) -> Option<V> {
    let mut acc: Vec<Vec<V>> = vec![vec![]];
    for l in a {
        let V::List(items) = l else { return None };
        let mut next = vec![];
        for prefix in &acc {
            for i in items {
                if next.len() >= max {
                    return Some(V::unknown(format!(
                        "`setproduct` would produce more than {max} elements"
                    )));
                }
                let mut p = prefix.clone();
                p.push(i.clone());
                next.push(p);
            }
        }
        acc = next;
    }
    Some(V::List(acc.into_iter().map(V::List).collect()))
}

/// `format` verbs: `%s`, `%d`, `%v`, `%q`, `%%`, with optional flags/width
/// (width capped, so `%999999999d` cannot allocate gigabytes).
fn format_fn(a: &[V]) -> Option<V> {
    let fmt = a.first()?.as_string()?;
    let args = a.get(1..).unwrap_or(&[]);
    Some(match format_with(&fmt, args) {
        Ok(s) => V::Str(s),
        Err(e) => V::error(e),
    })
}

fn format_with(fmt: &str, args: &[V]) -> Result<String, String> {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = it.peek() {
            if d.is_ascii_digit() || matches!(d, '-' | '+' | ' ' | '#' | '.') {
                spec.push(d);
                it.next();
            } else {
                break;
            }
        }
        let Some(verb) = it.next() else {
            return Err("`format`: dangling %".into());
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = args
            .get(next)
            .ok_or_else(|| "`format`: not enough arguments".to_string())?;
        next += 1;
        let text = match verb {
            'q' => format!("{:?}", arg.as_string().unwrap_or_default()),
            'd' => match arg.as_num() {
                Some(n) => format!("{}", n as i64),
                None => return Err("`format`: %d needs a number".into()),
            },
            _ => match arg.as_string() {
                Some(s) => s,
                None => return Err(format!("`format`: cannot print a {}", arg.type_name())),
            },
        };
        let width: usize = spec
            .trim_start_matches(['-', '+', ' ', '#', '0'])
            .split('.')
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0)
            .min(256);
        let pad = width.saturating_sub(text.chars().count());
        if spec.starts_with('-') {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            let fill = if spec.starts_with('0') { '0' } else { ' ' };
            out.extend(std::iter::repeat_n(fill, pad));
            out.push_str(&text);
        }
        if out.len() > MAX_STR {
            return Err("`format` result is too long".into());
        }
    }
    Ok(out)
}

fn formatlist(a: &[V], max: usize) -> Option<V> {
    let fmt = a.first()?.as_string()?;
    let args = a.get(1..).unwrap_or(&[]);
    let n = args
        .iter()
        .filter_map(|v| match v {
            V::List(l) => Some(l.len()),
            _ => None,
        })
        .max()
        .unwrap_or(1)
        .min(max);
    let mut out = vec![];
    for i in 0..n {
        let row: Vec<V> = args
            .iter()
            .map(|v| match v {
                V::List(l) => l.get(i).cloned().unwrap_or(V::Null),
                other => other.clone(),
            })
            .collect();
        if let Some(p) = row.iter().find(|v| v.is_pending()) {
            out.push(through(p, "formatlist"));
            continue;
        }
        out.push(match format_with(&fmt, &row) {
            Ok(s) => V::Str(s),
            Err(e) => V::error(e),
        });
    }
    Some(V::List(out))
}

fn to_json(v: &V, depth: usize) -> Option<serde_json::Value> {
    if depth > 64 {
        return None;
    }
    Some(match v {
        V::Null => serde_json::Value::Null,
        V::Bool(b) => serde_json::Value::Bool(*b),
        V::Num(n) => serde_json::Number::from_f64(*n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        V::Str(s) => serde_json::Value::String(s.clone()),
        V::List(l) => serde_json::Value::Array(
            l.iter()
                .map(|x| to_json(x, depth + 1))
                .collect::<Option<_>>()?,
        ),
        V::Map(m, _) => serde_json::Value::Object(
            m.iter()
                .map(|(k, x)| to_json(x, depth + 1).map(|j| (k.clone(), j)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// A network as (base address as u128, prefix length, address bits).
fn parse_net(s: &str) -> Option<(u128, u32, u32)> {
    let net: ipnet::IpNet = s.trim().parse().ok()?;
    let (addr, bits) = match net.addr() {
        IpAddr::V4(a) => (u32::from(a) as u128, 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    let len = net.prefix_len() as u32;
    let host_bits = bits - len;
    let mask = if host_bits >= 128 {
        0
    } else {
        !((1u128 << host_bits) - 1)
    };
    let full = if bits == 32 { mask & 0xffff_ffff } else { mask };
    Some((addr & full, len, bits))
}

fn fmt_addr(a: u128, bits: u32) -> String {
    if bits == 32 {
        Ipv4Addr::from(a as u32).to_string()
    } else {
        Ipv6Addr::from(a).to_string()
    }
}

fn subnet(prefix: &str, newbits: f64, netnum: f64) -> Result<String, String> {
    let (base, len, bits) = parse_net(prefix).ok_or("`cidrsubnet`: invalid prefix")?;
    if newbits < 0.0 || netnum < 0.0 {
        return Err("`cidrsubnet`: negative argument".into());
    }
    if newbits > 64.0 || len + newbits as u32 > bits {
        return Err(format!(
            "`cidrsubnet`: {newbits} extra bits on /{len} is more than {bits}"
        ));
    }
    let new_len = len + newbits as u32;
    let netnum = netnum as u128;
    if newbits < 64.0 && netnum >= (1u128 << newbits as u32) {
        return Err(format!(
            "`cidrsubnet`: network number {netnum} does not fit in {newbits} bits"
        ));
    }
    let shift = bits - new_len;
    let addr = base | netnum.checked_shl(shift).unwrap_or(0);
    Ok(format!("{}/{}", fmt_addr(addr, bits), new_len))
}

fn cidrsubnet(a: &[V]) -> Option<V> {
    let p = a.first()?.as_string()?;
    let nb = a.get(1)?.as_num()?;
    let nn = a.get(2)?.as_num()?;
    Some(match subnet(&p, nb, nn) {
        Ok(s) => V::Str(s),
        Err(e) => V::error(e),
    })
}

fn cidrsubnets(a: &[V], max: usize) -> Option<V> {
    let p = a.first()?.as_string()?;
    let (base, len, bits) = parse_net(&p)?;
    let mut out = vec![];
    let mut next: u128 = base;
    for nb in a.get(1..)?.iter().take(max) {
        let nb = nb.as_num()?;
        if !(0.0..=128.0).contains(&nb) || len + nb as u32 > bits {
            return Some(V::error("`cidrsubnets`: prefix too long"));
        }
        let new_len = len + nb as u32;
        let size = 1u128.checked_shl(bits - new_len).unwrap_or(0);
        if size == 0 {
            return Some(V::error("`cidrsubnets`: prefix too short"));
        }
        // Align to the new block size.
        let Some(aligned) = next.div_ceil(size).checked_mul(size) else {
            return Some(V::error("`cidrsubnets`: address space exhausted"));
        };
        out.push(V::Str(format!("{}/{}", fmt_addr(aligned, bits), new_len)));
        let Some(n) = aligned.checked_add(size) else {
            return Some(V::error("`cidrsubnets`: address space exhausted"));
        };
        next = n;
    }
    Some(V::List(out))
}

fn cidrhost(a: &[V]) -> Option<V> {
    let p = a.first()?.as_string()?;
    let n = a.get(1)?.as_num()?;
    let (base, len, bits) = parse_net(&p)?;
    let host_bits = bits - len;
    let size: u128 = 1u128.checked_shl(host_bits).unwrap_or(u128::MAX);
    let idx = if n < 0.0 {
        size.checked_sub((-n) as u128)
    } else {
        Some(n as u128).filter(|i| *i < size)
    };
    Some(match idx {
        Some(i) => V::Str(fmt_addr(base + i, bits)),
        None => V::error(format!(
            "`cidrhost`: host number {} out of range",
            fmt_num(n)
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> V {
        V::Str(x.into())
    }

    #[test]
    fn cidr_functions() {
        assert_eq!(
            call(
                "cidrsubnet",
                vec![s("10.0.0.0/16"), V::Num(8.0), V::Num(2.0)],
                100
            ),
            s("10.0.2.0/24")
        );
        assert_eq!(
            call("cidrhost", vec![s("10.0.1.0/24"), V::Num(4.0)], 100),
            s("10.0.1.4")
        );
        assert_eq!(
            call("cidrhost", vec![s("10.0.1.0/24"), V::Num(-2.0)], 100),
            s("10.0.1.254")
        );
        assert_eq!(
            call(
                "cidrsubnets",
                vec![s("10.1.0.0/16"), V::Num(4.0), V::Num(4.0), V::Num(8.0)],
                100
            ),
            V::List(vec![s("10.1.0.0/20"), s("10.1.16.0/20"), s("10.1.32.0/24")])
        );
        assert!(
            call(
                "cidrsubnet",
                vec![s("10.0.0.0/30"), V::Num(8.0), V::Num(0.0)],
                9
            )
            .is_error()
        );
    }

    #[test]
    fn strings_and_lists() {
        assert_eq!(
            call("format", vec![s("%s-%03d"), s("fw"), V::Num(7.0)], 10),
            s("fw-007")
        );
        assert_eq!(
            call("join", vec![s(","), V::List(vec![s("a"), s("b")])], 10),
            s("a,b")
        );
        assert_eq!(
            call(
                "element",
                vec![V::List(vec![s("a"), s("b")]), V::Num(3.0)],
                10
            ),
            s("b")
        );
        assert!(matches!(
            call("range", vec![V::Num(1e9)], 1000),
            V::Unknown(_)
        ));
        let u = V::unknown("x");
        assert_eq!(call("upper", vec![u.clone()], 10), u);
    }
}

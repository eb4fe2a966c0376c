//! Bicep's function calls. Bicep compiles its functions to the ARM
//! template functions of the same name, so they are evaluated by the ARM
//! frontend's function library; this module only converts values and keeps
//! spans where the function merely moves values around (`concat` of arrays,
//! `union` of objects, `first`, `last`), so a rule built by `concat` still
//! points at the line that wrote it.

use super::value::{SVal, V};
use crate::source::Span;

/// Call a Bicep function (`sys.` namespace) with evaluated arguments.
/// `location` stands for `resourceGroup().location` (`--location`).
pub fn call(name: &str, args: Vec<SVal>, span: Span, location: Option<&str>) -> SVal {
    let lname = name.to_ascii_lowercase();
    match lname.as_str() {
        "concat" if !args.is_empty() && args.iter().all(|a| matches!(a.v, V::Arr(_))) => {
            let mut out = Vec::new();
            for a in args {
                if let V::Arr(x) = a.v {
                    out.extend(x);
                }
            }
            return SVal::new(V::Arr(out), span);
        }
        "union" if !args.is_empty() && args.iter().all(|a| matches!(a.v, V::Obj(_))) => {
            let mut out: Vec<(String, SVal)> = Vec::new();
            for a in args {
                if let V::Obj(o) = a.v {
                    for (k, v) in o {
                        match out.iter_mut().find(|(x, _)| x.eq_ignore_ascii_case(&k)) {
                            Some(slot) => slot.1 = v,
                            None => out.push((k, v)),
                        }
                    }
                }
            }
            return SVal::new(V::Obj(out), span);
        }
        "first" | "last" if args.len() == 1 => {
            if let V::Arr(a) = &args[0].v {
                let v = if lname == "first" {
                    a.first()
                } else {
                    a.last()
                };
                return v.cloned().unwrap_or_else(|| SVal::new(V::Null, span));
            }
        }
        _ => {}
    }
    arm::call(name, args, span, location)
}

/// Compact JSON text of a known value (as `string()` prints containers).
pub fn to_json_text(v: &SVal) -> String {
    arm::to_json_text(v)
}

mod arm {
    //! Bridge to the ARM frontend's function library.
    use super::super::lower;
    use super::super::value::{SVal, V};
    use crate::frontend::arm::expr::{self, Scope};
    use crate::source::Span;

    pub fn to_json_text(v: &SVal) -> String {
        fn j(v: &SVal, out: &mut String) {
            match &v.v {
                V::Null => out.push_str("null"),
                V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                V::Int(i) => out.push_str(&i.to_string()),
                V::Str(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
                V::Arr(a) => {
                    out.push('[');
                    for (i, x) in a.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        j(x, out);
                    }
                    out.push(']');
                }
                V::Obj(o) => {
                    out.push('{');
                    for (i, (k, x)) in o.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&serde_json::Value::String(k.clone()).to_string());
                        out.push(':');
                        j(x, out);
                    }
                    out.push('}');
                }
                _ => out.push_str("null"),
            }
        }
        let mut s = String::new();
        j(v, &mut s);
        s
    }

    pub fn call(name: &str, args: Vec<SVal>, span: Span, location: Option<&str>) -> SVal {
        let scope = BicepScope {
            location: location.map(str::to_string),
        };
        let vals = args.iter().map(lower::to_val).collect();
        lower::from_val(expr::call(name, vals, &scope), &span)
    }

    /// What a library function can see from Bicep: only `--location`.
    /// Bicep resolves names itself, so `parameters()`, `variables()` and
    /// `reference()` are never reached through here.
    struct BicepScope {
        location: Option<String>,
    }

    impl Scope for BicepScope {
        fn location(&self) -> Option<String> {
            self.location.clone()
        }
    }
}

//! Values of the Terraform evaluator.
//!
//! `hcl::Value` has no notion of "not known yet" or of "an attribute Azure
//! computes", and both are everywhere in real configurations (a subnet id, a
//! firewall's private IP, a variable without a default). So the evaluator works
//! on its own value type: unknowns and symbolic references flow through
//! operators and functions instead of failing the whole expression.

use crate::model::ResKey;
use std::collections::BTreeMap;

/// Where an object came from, when it is a resource (or a nested block of
/// one): attributes that are not written become symbolic references to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Origin {
    pub key: ResKey,
    /// Resource type, e.g. `azurerm_firewall`.
    pub rtype: String,
    /// Path of nested blocks inside the resource, e.g. `ip_configuration`.
    pub path: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Unk {
    pub reason: String,
    pub hint: Option<String>,
    /// The value is unknown because evaluating it failed (missing key, bad
    /// argument), not because an input is unknown: `try`/`can` catch these.
    pub error: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum V {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// Lists, tuples and sets.
    List(Vec<V>),
    /// Maps and objects (keys in lexical order, as Terraform iterates them).
    Map(BTreeMap<String, V>, Option<Box<Origin>>),
    Unknown(Unk),
    /// A computed attribute of a resource: `path` is the raw attribute path
    /// (`id`, `ip_configuration.private_ip_address`).
    Ref {
        key: ResKey,
        rtype: String,
        path: String,
    },
}

impl V {
    pub fn unknown(reason: impl Into<String>) -> V {
        V::Unknown(Unk {
            reason: reason.into(),
            hint: None,
            error: false,
        })
    }
    pub fn unknown_hint(reason: impl Into<String>, hint: impl Into<String>) -> V {
        V::Unknown(Unk {
            reason: reason.into(),
            hint: Some(hint.into()),
            error: false,
        })
    }
    pub fn error(reason: impl Into<String>) -> V {
        V::Unknown(Unk {
            reason: reason.into(),
            hint: None,
            error: true,
        })
    }
    pub fn map(m: BTreeMap<String, V>) -> V {
        V::Map(m, None)
    }
    pub fn is_error(&self) -> bool {
        matches!(self, V::Unknown(Unk { error: true, .. }))
    }
    /// Not a concrete value: unknown or a computed attribute.
    pub fn is_pending(&self) -> bool {
        matches!(self, V::Unknown(_) | V::Ref { .. })
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            V::Null => "null",
            V::Bool(_) => "bool",
            V::Num(_) => "number",
            V::Str(_) => "string",
            V::List(_) => "list",
            V::Map(..) => "object",
            V::Unknown(_) => "unknown",
            V::Ref { .. } => "computed attribute",
        }
    }

    /// The value as a string, if it is a primitive (Terraform converts
    /// numbers and bools to strings silently).
    pub fn as_string(&self) -> Option<String> {
        match self {
            V::Str(s) => Some(s.clone()),
            V::Num(n) => Some(fmt_num(*n)),
            V::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn as_num(&self) -> Option<f64> {
        match self {
            V::Num(n) => Some(*n),
            V::Str(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            V::Bool(b) => Some(*b),
            V::Str(s) if s == "true" => Some(true),
            V::Str(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    pub fn from_json(j: &serde_json::Value, depth: usize) -> V {
        if depth > 128 {
            return V::unknown("value nested too deeply");
        }
        match j {
            serde_json::Value::Null => V::Null,
            serde_json::Value::Bool(b) => V::Bool(*b),
            serde_json::Value::Number(n) => V::Num(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => V::Str(s.clone()),
            serde_json::Value::Array(a) => {
                V::List(a.iter().map(|v| V::from_json(v, depth + 1)).collect())
            }
            serde_json::Value::Object(o) => V::map(
                o.iter()
                    .map(|(k, v)| (k.clone(), V::from_json(v, depth + 1)))
                    .collect(),
            ),
        }
    }
}

/// A new unknown explaining `v`, keeping its hint.
pub fn derived(v: &V, reason: String) -> V {
    V::Unknown(Unk {
        reason,
        hint: match v {
            V::Unknown(u) => u.hint.clone(),
            _ => None,
        },
        error: false,
    })
}

/// Terraform prints whole numbers without a fraction.
pub fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The reason to show for an unknown or computed value.
pub fn pending_reason(v: &V) -> String {
    match v {
        V::Unknown(u) => u.reason.clone(),
        V::Ref { key, path, .. } if path == "name" => {
            format!(
                "the name of `{}` is not known",
                describe_ref(key, "").trim_end_matches('.')
            )
        }
        V::Ref { key, path, .. } => {
            format!("`{}` is computed by Azure", describe_ref(key, path))
        }
        _ => String::new(),
    }
}

pub fn describe_ref(key: &ResKey, path: &str) -> String {
    let addr = key
        .0
        .strip_prefix("tf:")
        .map(|rest| match rest.split_once(':') {
            Some(("", a)) => a.to_string(),
            Some((m, a)) => format!("{m}.{a}"),
            None => rest.to_string(),
        })
        .unwrap_or_else(|| key.0.clone());
    format!("{addr}.{path}")
}

/// Normalised attribute name of a computed-attribute path, as the linker
/// expects it (`private_ip`, `address_prefixes`, `id`, `location`, `name`).
pub fn normalise_attr(rtype: &str, path: &str) -> String {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    match leaf {
        "private_ip_address" | "private_ip" if rtype.contains("firewall") => "private_ip".into(),
        "address_prefixes" | "address_prefix" => "address_prefixes".into(),
        "id" | "location" | "name" => leaf.into(),
        _ => path.to_string(),
    }
}

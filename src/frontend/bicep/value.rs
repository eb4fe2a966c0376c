//! Values of evaluated Bicep, each with the span where it was written: a
//! literal keeps its own span, a parameter's value the span of the argument
//! or `.bicepparam` line that set it, a function's result the span of the
//! call. Findings thus point at the line a person edits.

use crate::model::ResKey;
use crate::source::Span;

/// A symbolic link to a resource attribute known only after deployment
/// (Bicep `fw.properties.ipConfigurations[0].properties.privateIPAddress`,
/// ARM `reference(...)`), with the property path read from the resource's
/// `properties`.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub target: ResKey,
    pub path: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum V {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<SVal>),
    /// Properties in order; names compare case-insensitively.
    Obj(Vec<(String, SVal)>),
    /// Not known statically; `error` when the expression is wrong rather
    /// than merely unknowable.
    Unknown {
        reason: String,
        error: bool,
    },
    Link(Link),
    /// A resource symbol (`entry` of the template instance), one instance
    /// of it (`Some(i)`) or the whole loop (`None`).
    Resource {
        entry: usize,
        index: Option<usize>,
    },
    Module {
        entry: usize,
        index: Option<usize>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct SVal {
    pub v: V,
    pub span: Span,
}

impl SVal {
    pub fn new(v: V, span: Span) -> Self {
        SVal { v, span }
    }

    pub fn unknown(reason: impl Into<String>, span: Span) -> Self {
        SVal::new(
            V::Unknown {
                reason: reason.into(),
                error: false,
            },
            span,
        )
    }

    pub fn error(reason: impl Into<String>, span: Span) -> Self {
        SVal::new(
            V::Unknown {
                reason: reason.into(),
                error: true,
            },
            span,
        )
    }

    /// Property of an object, exact name first, then case-insensitive.
    pub fn get(&self, key: &str) -> Option<&SVal> {
        match &self.v {
            V::Obj(o) => o
                .iter()
                .find(|(k, _)| k == key)
                .or_else(|| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Walk a path of property names (and decimal array indexes).
    pub fn path(&self, keys: &[&str]) -> Option<&SVal> {
        let mut cur = self;
        for k in keys {
            cur = match &cur.v {
                V::Arr(a) => a.get(k.parse::<usize>().ok()?)?,
                _ => cur.get(k)?,
            };
        }
        Some(cur)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.v {
            V::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_arr(&self) -> Option<&[SVal]> {
        match &self.v {
            V::Arr(a) => Some(a),
            _ => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.v, V::Unknown { .. })
    }

    pub fn unknown_reason(&self) -> Option<&str> {
        match &self.v {
            V::Unknown { reason, .. } => Some(reason),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match &self.v {
            V::Null => "null",
            V::Bool(_) => "bool",
            V::Int(_) => "int",
            V::Str(_) => "string",
            V::Arr(_) => "array",
            V::Obj(_) => "object",
            V::Unknown { .. } => "unknown",
            V::Link(_) => "reference",
            V::Resource { .. } => "resource",
            V::Module { .. } => "module",
        }
    }
}

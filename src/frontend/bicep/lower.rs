//! Bicep resource instances → the network model, through the ARM frontend's
//! resource mapping: each Bicep resource becomes the same evaluated property
//! tree an ARM template would hold ([`EvRes`]), with Bicep spans, so both
//! formats read the same properties the same way.

use super::eval::ResInst;
use super::value::{SVal, V};
use crate::frontend::arm::expr::{ResRef, Val, Why};
use crate::frontend::arm::resources;
use crate::frontend::arm::template::{EvRes, SNode, SV};
use crate::model::Model;

/// Map every declared (not `existing`) resource into the model.
pub fn map(resources: &[ResInst], model: &mut Model) {
    let evs: Vec<EvRes> = resources
        .iter()
        .filter(|r| !r.existing)
        .map(to_evres)
        .collect();
    resources::map(&evs, model);
}

pub fn to_evres(r: &ResInst) -> EvRes {
    let get = |k: &str| r.body.get(k).map(to_snode);
    EvRes {
        file: r.file,
        ty: r.full_type.clone(),
        names: r.names.clone().ok_or_else(|| {
            r.name
                .as_ref()
                .and_then(SVal::unknown_reason)
                .unwrap_or("the resource name is unknown")
                .to_string()
        }),
        key: r.key(),
        span: r.decl_span.clone(),
        name_span: r
            .name
            .as_ref()
            .map(|n| n.span.clone())
            .unwrap_or_else(|| r.decl_span.clone()),
        name: r.names.as_ref().map(|n| n.join("/")),
        condition: r.condition.clone(),
        properties: get("properties"),
        sku: get("sku"),
        location: get("location"),
        parent: None,
    }
}

/// The spanned value as the ARM mapping reads it.
pub fn to_snode(v: &SVal) -> SNode {
    let sv = match &v.v {
        V::Arr(a) => SV::Arr(a.iter().map(to_snode).collect()),
        V::Obj(o) => SV::Obj(o.iter().map(|(k, x)| (k.clone(), to_snode(x))).collect()),
        _ => SV::Val(to_val(v)),
    };
    SNode {
        v: sv,
        span: v.span.clone(),
    }
}

/// The value without spans, as the ARM function library takes it.
pub fn to_val(v: &SVal) -> Val {
    match &v.v {
        V::Null => Val::Null,
        V::Bool(b) => Val::Bool(*b),
        V::Int(i) => Val::Int(*i),
        V::Str(s) => Val::Str(s.clone()),
        V::Arr(a) => Val::Array(a.iter().map(to_val).collect()),
        V::Obj(o) => Val::Object(o.iter().map(|(k, x)| (k.clone(), to_val(x))).collect()),
        V::Unknown { reason, error } => Val::Unknown(Why {
            reason: reason.clone(),
            error: *error,
        }),
        V::Link(l) => Val::Ref(ResRef {
            target: l.target.clone(),
            path: l.path.clone(),
            full: false,
        }),
        V::Resource { .. } | V::Module { .. } => Val::Unknown(Why {
            reason: format!("a {} symbol is used as a value", v.type_name()),
            error: false,
        }),
    }
}

/// A library result back into a spanned value (every part gets `span`).
pub fn from_val(v: Val, span: &crate::source::Span) -> SVal {
    let inner = match v {
        Val::Null => V::Null,
        Val::Bool(b) => V::Bool(b),
        Val::Int(i) => V::Int(i),
        Val::Str(s) => V::Str(s),
        Val::Array(a) => V::Arr(a.into_iter().map(|x| from_val(x, span)).collect()),
        Val::Object(o) => V::Obj(o.into_iter().map(|(k, x)| (k, from_val(x, span))).collect()),
        Val::Unknown(w) => V::Unknown {
            reason: w.reason,
            error: w.error,
        },
        Val::Ref(r) => V::Link(super::value::Link {
            target: r.target,
            path: if r.full {
                r.path.into_iter().skip(1).collect()
            } else {
                r.path
            },
        }),
    };
    SVal::new(inner, span.clone())
}

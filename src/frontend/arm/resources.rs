//! Evaluated ARM resources → the network model.
//!
//! Property names follow the ARM REST API (case-insensitive, as ARM reads
//! them). Values stay as written; `eval` normalises. Anything the template
//! does not determine is `Unknown` with its reason, a `reference()` to a
//! resource of the template is a `Ref` for the linker.

use super::expr::{ResRef, Val};
use super::template::{EvRes, SNode, SV};
use crate::model::*;
use crate::source::{Span, Spanned};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

// ---------- value helpers ----------

/// Normalised attribute of a `reference()` path (see [`Ref::attr`]).
pub fn ref_attr(r: &ResRef) -> String {
    let mut path: Vec<String> = r.path.iter().map(|s| s.to_ascii_lowercase()).collect();
    if path.first().is_some_and(|p| p == "properties") && (r.full || path.len() > 1) {
        path.remove(0);
    }
    let joined = path.join(".");
    match joined.as_str() {
        "" => "id".into(),
        "id" => "id".into(),
        "name" => "name".into(),
        "location" => "location".into(),
        "addressprefix" | "addressprefixes" | "addressspace.addressprefixes" => {
            "address_prefixes".into()
        }
        p if p.starts_with("ipconfigurations.") && p.ends_with(".privateipaddress") => {
            "private_ip".into()
        }
        "hubipaddresses.privateipaddress" => "private_ip".into(),
        _ => r.path.join("."),
    }
}

fn reason_of(v: &Val) -> String {
    match v {
        Val::Unknown(w) => w.reason.clone(),
        Val::Ref(r) => format!("`reference({})` is known only after deployment", r.target),
        other => format!(
            "expected a different kind of value, got {}",
            other.type_name()
        ),
    }
}

fn unknown_attr<T>(reason: impl Into<String>, span: &Span) -> Attr<T> {
    Spanned::new(Value::Unknown(Box::new(Unknown::new(reason))), span.clone())
}

/// A string attribute (numbers and booleans as written).
pub fn attr_str(n: &SNode) -> Attr<String> {
    let v = match &n.v {
        SV::Val(Val::Str(s)) => Value::Known(s.clone()),
        SV::Val(Val::Int(i)) => Value::Known(i.to_string()),
        SV::Val(Val::Bool(b)) => Value::Known(b.to_string()),
        SV::Val(Val::Ref(r)) => Value::Ref(Box::new(Ref {
            target: r.target.clone(),
            attr: ref_attr(r),
        })),
        SV::Val(v) => Value::Unknown(Box::new(Unknown::new(reason_of(v)))),
        SV::Arr(_) => Value::Unknown(Box::new(Unknown::new("expected a string, got an array"))),
        SV::Obj(_) => Value::Unknown(Box::new(Unknown::new("expected a string, got an object"))),
    };
    Spanned::new(v, n.span.clone())
}

/// A list of strings; a single string is a one-element list.
pub fn attr_strs(n: &SNode) -> Attr<Vec<String>> {
    let v = match &n.v {
        SV::Arr(items) => {
            let mut out = vec![];
            let mut bad = None;
            for it in items {
                match &it.v {
                    SV::Val(Val::Str(s)) => out.push(s.clone()),
                    SV::Val(Val::Int(i)) => out.push(i.to_string()),
                    SV::Val(v) => {
                        bad.get_or_insert_with(|| reason_of(v));
                    }
                    _ => {
                        bad.get_or_insert_with(|| "expected a list of strings".to_string());
                    }
                }
            }
            match bad {
                Some(r) => Value::Unknown(Box::new(Unknown::new(r))),
                None => Value::Known(out),
            }
        }
        SV::Val(Val::Str(s)) => Value::Known(vec![s.clone()]),
        SV::Val(Val::Ref(r)) => Value::Ref(Box::new(Ref {
            target: r.target.clone(),
            attr: ref_attr(r),
        })),
        SV::Val(Val::Null) => Value::Known(vec![]),
        SV::Val(v) => Value::Unknown(Box::new(Unknown::new(reason_of(v)))),
        SV::Obj(_) => Value::Unknown(Box::new(Unknown::new("expected a list, got an object"))),
    };
    Spanned::new(v, n.span.clone())
}

pub fn attr_bool(n: &SNode) -> Attr<bool> {
    let v = match &n.v {
        SV::Val(Val::Bool(b)) => Value::Known(*b),
        SV::Val(Val::Str(s)) if s.eq_ignore_ascii_case("true") => Value::Known(true),
        SV::Val(Val::Str(s)) if s.eq_ignore_ascii_case("false") => Value::Known(false),
        SV::Val(v) => Value::Unknown(Box::new(Unknown::new(reason_of(v)))),
        _ => Value::Unknown(Box::new(Unknown::new("expected a bool"))),
    };
    Spanned::new(v, n.span.clone())
}

pub fn attr_u32(n: &SNode) -> Attr<u32> {
    let v = match &n.v {
        SV::Val(Val::Int(i)) => match u32::try_from(*i) {
            Ok(u) => Value::Known(u),
            Err(_) => Value::Unknown(Box::new(Unknown::new(format!(
                "{i} is not a valid number here"
            )))),
        },
        SV::Val(Val::Str(s)) => match s.trim().parse::<u32>() {
            Ok(u) => Value::Known(u),
            Err(_) => Value::Unknown(Box::new(Unknown::new(format!("`{s}` is not a number")))),
        },
        SV::Val(v) => Value::Unknown(Box::new(Unknown::new(reason_of(v)))),
        _ => Value::Unknown(Box::new(Unknown::new("expected a number"))),
    };
    Spanned::new(v, n.span.clone())
}

/// A resource id (a string, or an object with `id`) → its key.
pub fn attr_key(n: &SNode) -> Attr<ResKey> {
    let node = match &n.v {
        SV::Obj(_) => match n.get("id") {
            Some(id) => id,
            None => return unknown_attr("the object has no `id`", &n.span),
        },
        _ => n,
    };
    let v = match &node.v {
        SV::Val(Val::Str(s)) => match ResKey::from_arm_id(s) {
            Some(k) => Value::Known(k),
            None => Value::Unknown(Box::new(Unknown::new(format!(
                "`{s}` is not a resource id"
            )))),
        },
        SV::Val(Val::Ref(r)) => {
            if ref_attr(r) == "id" {
                Value::Known(r.target.clone())
            } else {
                Value::Unknown(Box::new(Unknown::new(format!(
                    "`reference({})` is not a resource id",
                    r.target
                ))))
            }
        }
        SV::Val(v) => Value::Unknown(Box::new(Unknown::new(reason_of(v)))),
        _ => Value::Unknown(Box::new(Unknown::new("expected a resource id"))),
    };
    Spanned::new(v, node.span.clone())
}

/// A list of resource ids (strings or `{id}` objects).
fn attr_keys(n: &SNode) -> Attr<Vec<ResKey>> {
    let v = match &n.v {
        SV::Arr(items) => {
            let mut out = vec![];
            let mut bad = None;
            for it in items {
                match attr_key(it).value {
                    Value::Known(k) => out.push(k),
                    Value::Unknown(u) => {
                        bad.get_or_insert(u);
                    }
                    Value::Ref(_) => {
                        bad.get_or_insert(Box::new(Unknown::new("expected a resource id")));
                    }
                }
            }
            match bad {
                Some(u) => Value::Unknown(u),
                None => Value::Known(out),
            }
        }
        SV::Val(Val::Null) => Value::Known(vec![]),
        SV::Val(v) => Value::Unknown(Box::new(Unknown::new(reason_of(v)))),
        SV::Obj(_) => Value::Unknown(Box::new(Unknown::new("expected a list of ids"))),
    };
    Spanned::new(v, n.span.clone())
}

fn non_null(n: Option<&SNode>) -> Option<&SNode> {
    n.filter(|n| !n.is_null())
}

fn opt<T>(n: Option<&SNode>, f: impl Fn(&SNode) -> Attr<T>) -> Option<Attr<T>> {
    non_null(n).map(f)
}

/// Singular and plural forms merged (`sourceAddressPrefix` + `sourceAddressPrefixes`).
fn merged(props: &SNode, singular: &str, plural: &str) -> Attr<Vec<String>> {
    let s = non_null(props.get(singular));
    let p = non_null(props.get(plural)).filter(|p| !matches!(&p.v, SV::Arr(a) if a.is_empty()));
    match (s, p) {
        (Some(s), None) => attr_strs(s),
        (None, Some(p)) => attr_strs(p),
        (Some(s), Some(p)) => {
            let (a, b) = (attr_strs(s), attr_strs(p));
            match (a.value, b.value) {
                (Value::Known(mut x), Value::Known(y)) => {
                    x.extend(y);
                    Spanned::new(Value::Known(x), p.span.clone())
                }
                (Value::Known(_), other) => Spanned::new(other, p.span.clone()),
                (other, _) => Spanned::new(other, s.span.clone()),
            }
        }
        (None, None) => Spanned::new(Value::Known(vec![]), props.span.clone()),
    }
}

// ---------- declarations ----------

fn last(names: &[String]) -> Option<&str> {
    names.last().map(String::as_str)
}

fn decl_of(ev: &EvRes) -> Decl {
    let short = ev
        .names
        .as_ref()
        .ok()
        .and_then(|n| last(n))
        .map(String::from);
    let label_name = match (&ev.names, &ev.name) {
        (Ok(n), _) => n.join("/"),
        (Err(_), Some(n)) => n.clone(),
        (Err(_), None) => "<unknown name>".into(),
    };
    Decl {
        keys: ev.key.iter().cloned().collect(),
        name: short.map(|s| Spanned::new(s, ev.name_span.clone())),
        span: ev.span.clone(),
        label: format!("{} '{}'", ev.ty, label_name),
        condition: ev.condition.clone().map(Box::new),
    }
}

/// Declaration of an inline child (a subnet in a VNet, a rule in an NSG).
fn child_decl(parent: &Decl, child_ty: &str, parent_ty: &str, node: &SNode) -> Decl {
    let name = node.get("name");
    let name_str = name.and_then(SNode::as_str);
    let parent_names: Option<Vec<String>> = parent.keys.first().map(|k| {
        k.0.trim_start_matches("arm:")
            .split('/')
            .skip(2)
            .step_by(2)
            .map(String::from)
            .collect()
    });
    let key = match (parent_names, name_str) {
        (Some(mut p), Some(n)) => {
            p.push(n.to_string());
            let segs: Vec<&str> = p.iter().map(String::as_str).collect();
            Some(ResKey::arm(&format!("{parent_ty}/{child_ty}"), &segs))
        }
        _ => None,
    };
    let pname = parent
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_else(|| "?".into());
    Decl {
        keys: key.into_iter().collect(),
        name: name_str.map(|s| {
            Spanned::new(
                s.to_string(),
                name.map(|n| n.span.clone()).unwrap_or_default(),
            )
        }),
        span: node.span.clone(),
        label: format!(
            "{parent_ty}/{child_ty} '{pname}/{}'",
            name_str.unwrap_or("<unknown name>")
        ),
        condition: parent.condition.clone(),
    }
}

/// Decl of an element without its own ARM identity (a rule in a collection).
fn element_decl(node: &SNode, kind: &str, parent: &Decl) -> Decl {
    let name = node.get("name");
    let name_str = name.and_then(SNode::as_str);
    Decl {
        keys: vec![],
        name: name_str.map(|s| {
            Spanned::new(
                s.to_string(),
                name.map(|n| n.span.clone()).unwrap_or_default(),
            )
        }),
        span: node.span.clone(),
        label: format!("{kind} '{}'", name_str.unwrap_or("<unnamed>")),
        condition: parent.condition.clone(),
    }
}

/// Key of the parent of a top-level child (`policy/group` → the policy).
fn parent_key(ev: &EvRes) -> Option<Attr<ResKey>> {
    if let Some(p) = &ev.parent {
        return Some(Spanned::new(Value::Known(p.clone()), ev.name_span.clone()));
    }
    let names = ev.names.as_ref().ok()?;
    let (ty, _) = ev.ty.rsplit_once('/')?;
    let segs: Vec<&str> = names[..names.len().checked_sub(1)?]
        .iter()
        .map(String::as_str)
        .collect();
    if segs.is_empty() {
        return None;
    }
    Some(Spanned::new(
        Value::Known(ResKey::arm(ty, &segs)),
        ev.name_span.clone(),
    ))
}

fn props_or_empty(ev: &EvRes) -> Cow<'_, SNode> {
    match &ev.properties {
        Some(p) => Cow::Borrowed(p),
        None => Cow::Owned(SNode {
            v: SV::Obj(vec![]),
            span: ev.span.clone(),
        }),
    }
}

// ---------- mapping ----------

/// Resource types read into the model.
pub const MAPPED: &[&str] = &[
    "microsoft.containerservice/managedclusters",
    "microsoft.containerservice/managedclusters/agentpools",
    "microsoft.network/virtualnetworks",
    "microsoft.network/virtualnetworks/subnets",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/networksecuritygroups/securityrules",
    "microsoft.network/routetables",
    "microsoft.network/routetables/routes",
    "microsoft.network/azurefirewalls",
    "microsoft.network/firewallpolicies",
    "microsoft.network/firewallpolicies/rulecollectiongroups",
    "microsoft.network/ipgroups",
];

/// Lists inside `properties` whose loss would hide rules, routes or pools.
const LISTS: &[&str] = &[
    "securityRules",
    "routes",
    "subnets",
    "agentPoolProfiles",
    "ruleCollections",
    "applicationRuleCollections",
    "networkRuleCollections",
    "natRuleCollections",
    "addressSpace",
    "networkProfile",
    "addonProfiles",
];

/// A note for every part of a mapped resource that could not be evaluated
/// as a whole: the model would otherwise read it as absent.
fn unresolved_notes(ev: &EvRes, model: &mut Model) {
    let mut note = |what: String, n: &SNode| {
        if let SV::Val(v @ (Val::Unknown(_) | Val::Ref(_))) = &n.v {
            let reason = reason_of(v);
            let mut f = crate::finding::Finding::new(
                crate::finding::Code::AEL008,
                format!(
                    "{what} of {} cannot be determined: {reason}",
                    decl_of(ev).label
                ),
                n.span.clone(),
                "not evaluated",
            );
            if let Some(h) = super::template::help_for(&reason) {
                f = f.help(h);
            }
            model.findings.push(f);
        }
    };
    if let Some(p) = &ev.properties {
        note("`properties`".into(), p);
        if let SV::Obj(members) = &p.v {
            for (k, v) in members {
                if LISTS.iter().any(|l| l.eq_ignore_ascii_case(k)) {
                    note(format!("`properties.{k}`"), v);
                }
            }
        }
    }
}

/// Cluster extensions (`Microsoft.KubernetesConfiguration/extensions`, Flux
/// configurations) scoped to a cluster of `model` turn on its `extensions`
/// feature.
struct Extension {
    target: ResKey,
    span: Span,
    condition: Option<Unknown>,
}

fn extension_of(ev: &EvRes) -> Option<Extension> {
    let t = ev.ty.to_ascii_lowercase();
    if t != "microsoft.kubernetesconfiguration/extensions"
        && t != "microsoft.kubernetesconfiguration/fluxconfigurations"
    {
        return None;
    }
    Some(Extension {
        target: ev.parent.clone()?,
        span: ev.span.clone(),
        condition: ev.condition.clone(),
    })
}

fn attach_extensions(extensions: &[Extension], model: &mut Model) {
    for ext in extensions {
        for c in model
            .clusters
            .iter_mut()
            .filter(|c| c.decl.keys.contains(&ext.target))
        {
            let enabled = match &ext.condition {
                Some(u) => Spanned::new(Value::Unknown(Box::new(u.clone())), ext.span.clone()),
                None => Spanned::new(Value::Known(true), ext.span.clone()),
            };
            c.features.push(("extensions".into(), enabled));
        }
    }
}

/// Map evaluated resources into `model`.
pub fn map(resources: &[EvRes], model: &mut Model) {
    Plan::new(resources).apply(resources.iter().map(Cow::Borrowed), model);
}

/// [`map`], in parallel on the current rayon pool, dropping each resource
/// as soon as it is mapped. The model is the same, in the same order.
pub fn map_owned(resources: Vec<EvRes>, model: &mut Model) {
    use rayon::prelude::*;
    let plan = Plan::new(&resources);
    let before = plan.start(model);
    let size = resources
        .len()
        .div_ceil(rayon::current_num_threads() * 4)
        .max(1);
    let parts: Vec<Model> = resources
        .into_par_iter()
        .chunks(size)
        .map(|chunk| {
            let mut m = Model::default();
            for ev in chunk {
                map_resource(&plan.link_children(Cow::Owned(ev)), &mut m);
            }
            m
        })
        .collect();
    for p in parts {
        model.merge(p);
    }
    plan.finish(model, before);
}

/// What mapping one resource needs to know of the others.
struct Plan {
    /// `reference(parent).subnets[i].id` → the inline child it names.
    children: HashMap<(ResKey, String, usize), ResKey>,
    /// Keys of subnets, routes and security rules declared as separate
    /// resources, and the spans of the separate subnets.
    separate: [HashSet<ResKey>; 3],
    separate_spans: HashSet<Span>,
    extensions: Vec<Extension>,
}

impl Plan {
    fn new(resources: &[EvRes]) -> Plan {
        let mut separate: [HashSet<ResKey>; 3] = Default::default();
        let mut separate_spans = HashSet::new();
        let mut extensions = vec![];
        // The first resource with each key is the parent a reference reads.
        let mut first: HashMap<&ResKey, &EvRes> = HashMap::new();
        for ev in resources {
            let t = ev.ty.to_ascii_lowercase();
            for (i, suffix) in ["/subnets", "/routes", "/securityrules"].iter().enumerate() {
                if t.ends_with(suffix)
                    && let Some(k) = &ev.key
                {
                    separate[i].insert(k.clone());
                }
            }
            if t.ends_with("/subnets") {
                separate_spans.insert(ev.span.clone());
            }
            extensions.extend(extension_of(ev));
            if let Some(k) = &ev.key {
                first.entry(k).or_insert(ev);
            }
        }
        let mut children = HashMap::new();
        for ev in resources {
            if let Some(p) = &ev.properties {
                find_child_refs(p, &first, &mut children);
            }
        }
        Plan {
            children,
            separate,
            separate_spans,
            extensions,
        }
    }

    fn apply<'r>(&self, each: impl Iterator<Item = Cow<'r, EvRes>>, model: &mut Model) {
        let before = self.start(model);
        for ev in each {
            map_resource(&self.link_children(ev), model);
        }
        self.finish(model, before);
    }

    /// Where the resources mapped now start in `model`.
    fn start(&self, model: &Model) -> (usize, usize, usize) {
        (
            model.subnets.len(),
            model.route_tables.len(),
            model.nsgs.len(),
        )
    }

    fn finish(&self, model: &mut Model, before: (usize, usize, usize)) {
        self.drop_inline_duplicates(model, before);
        attach_extensions(&self.extensions, model);
    }

    /// `reference(vnet).subnets[0].id` is what Bicep compiles
    /// `vnet.properties.subnets[0].id` to: the id of the child the template
    /// declares inline at that index, which ARM returns from the deployed
    /// parent. Such references become links to the child.
    fn link_children<'r>(&self, mut ev: Cow<'r, EvRes>) -> Cow<'r, EvRes> {
        fn walk(n: &mut SNode, plan: &Plan) {
            match &mut n.v {
                SV::Val(Val::Ref(r)) => {
                    if let Some(target) = child_query(r).and_then(|q| plan.children.get(&q)) {
                        *r = ResRef {
                            target: target.clone(),
                            path: vec![],
                            full: false,
                        };
                    }
                }
                SV::Val(_) => {}
                SV::Arr(items) => items.iter_mut().for_each(|i| walk(i, plan)),
                SV::Obj(props) => props.iter_mut().for_each(|(_, v)| walk(v, plan)),
            }
        }
        let names_child =
            |r: &ResRef| child_query(r).is_some_and(|q| self.children.contains_key(&q));
        let hit = !self.children.is_empty()
            && ev
                .properties
                .as_ref()
                .is_some_and(|p| has_ref(p, &names_child));
        if hit && let Some(p) = ev.to_mut().properties.as_mut() {
            walk(p, self);
        }
        ev
    }

    /// A subnet, route or security rule declared both inline in its parent
    /// and as a separate child resource (what the portal's "Export template"
    /// writes) is one object: the separate resource, deployed after its
    /// parent, wins.
    fn drop_inline_duplicates(&self, model: &mut Model, before: (usize, usize, usize)) {
        let [subnets, routes, rules] = &self.separate;
        let dup = |d: &Decl, keys: &HashSet<ResKey>| d.keys.iter().any(|k| keys.contains(k));
        let mut i = 0;
        model.subnets.retain(|s| {
            i += 1;
            i <= before.0 || !dup(&s.decl, subnets) || self.separate_spans.contains(&s.decl.span)
        });
        for rt in model.route_tables.iter_mut().skip(before.1) {
            rt.routes.retain(|r| !dup(&r.decl, routes));
        }
        for nsg in model.nsgs.iter_mut().skip(before.2) {
            nsg.rules.retain(|r| !dup(&r.decl, rules));
        }
    }
}

/// `(parent, collection, index)` of a reference to the id of an inline
/// child: `reference(p).subnets[0].id`, `reference(p, v, 'Full').properties.subnets[0].id`.
fn child_query(r: &ResRef) -> Option<(ResKey, String, usize)> {
    let path: Vec<String> = r.path.iter().map(|s| s.to_ascii_lowercase()).collect();
    let rest = match path.as_slice() {
        [p, rest @ ..] if p == "properties" => rest,
        rest if !r.full => rest,
        _ => return None,
    };
    let [coll, idx, id] = rest else {
        return None;
    };
    if id != "id" {
        return None;
    }
    let idx: usize = idx.parse().ok()?;
    Some((r.target.clone(), coll.clone(), idx))
}

fn has_ref(n: &SNode, f: &dyn Fn(&ResRef) -> bool) -> bool {
    match &n.v {
        SV::Val(Val::Ref(r)) => f(r),
        SV::Val(_) => false,
        SV::Arr(items) => items.iter().any(|i| has_ref(i, f)),
        SV::Obj(props) => props.iter().any(|(_, v)| has_ref(v, f)),
    }
}

/// Record the inline children that references in `n` name.
fn find_child_refs(
    n: &SNode,
    first: &HashMap<&ResKey, &EvRes>,
    out: &mut HashMap<(ResKey, String, usize), ResKey>,
) {
    match &n.v {
        SV::Val(Val::Ref(r)) => {
            let Some(q) = child_query(r) else {
                return;
            };
            if out.contains_key(&q) {
                return;
            }
            let (target, coll, idx) = &q;
            let name = first
                .get(target)
                .and_then(|p| p.properties.as_ref())
                .and_then(|p| p.get(coll))
                .and_then(|c| c.items().get(*idx))
                .and_then(|c| c.get("name"));
            if let Some(SNode {
                v: SV::Val(Val::Str(name)),
                ..
            }) = name
            {
                let child = ResKey(format!("{}/{coll}/{}", target.0, name.to_ascii_lowercase()));
                out.insert(q, child);
            }
        }
        SV::Val(_) => {}
        SV::Arr(items) => items.iter().for_each(|i| find_child_refs(i, first, out)),
        SV::Obj(props) => props
            .iter()
            .for_each(|(_, v)| find_child_refs(v, first, out)),
    }
}

fn map_resource(ev: &EvRes, model: &mut Model) {
    {
        let t = ev.ty.to_ascii_lowercase();
        if MAPPED.contains(&t.as_str()) {
            unresolved_notes(ev, model);
        }
        match t.as_str() {
            "microsoft.containerservice/managedclusters" => model.clusters.push(cluster(ev)),
            "microsoft.containerservice/managedclusters/agentpools" => {
                let p = props_or_empty(ev);
                let mut np = node_pool_from(&p, decl_of(ev));
                np.cluster = parent_key(ev);
                model.node_pools.push(np);
            }
            "microsoft.network/virtualnetworks" => vnet(ev, model),
            "microsoft.network/virtualnetworks/subnets" => {
                let p = props_or_empty(ev);
                let vnet_key = parent_key(ev).and_then(|k| k.value.known().cloned());
                model.subnets.push(subnet_from(&p, decl_of(ev), vnet_key));
            }
            "microsoft.network/networksecuritygroups" => {
                let d = decl_of(ev);
                let p = props_or_empty(ev);
                let rules = p
                    .get("securityRules")
                    .map(SNode::items)
                    .unwrap_or(&[])
                    .iter()
                    .map(|r| {
                        let rp = r.get("properties").unwrap_or(r);
                        security_rule(rp, child_decl(&d, "securityRules", &ev.ty, r), None, false)
                    })
                    .collect();
                let subnets = p
                    .get("subnets")
                    .map(SNode::items)
                    .unwrap_or(&[])
                    .iter()
                    .map(attr_key)
                    .collect();
                model.nsgs.push(Nsg {
                    decl: d,
                    rules,
                    subnets,
                    from_export: false,
                });
            }
            "microsoft.network/networksecuritygroups/securityrules" => {
                let p = props_or_empty(ev);
                model
                    .nsg_rules
                    .push(security_rule(&p, decl_of(ev), parent_key(ev), false));
            }
            "microsoft.network/routetables" => {
                let d = decl_of(ev);
                let p = props_or_empty(ev);
                let routes = p
                    .get("routes")
                    .map(SNode::items)
                    .unwrap_or(&[])
                    .iter()
                    .map(|r| {
                        let rp = r.get("properties").unwrap_or(r);
                        route(rp, child_decl(&d, "routes", &ev.ty, r), None)
                    })
                    .collect();
                model.route_tables.push(RouteTable {
                    decl: d,
                    routes,
                    disable_bgp_route_propagation: opt(
                        p.get("disableBgpRoutePropagation"),
                        attr_bool,
                    ),
                });
            }
            "microsoft.network/routetables/routes" => {
                let p = props_or_empty(ev);
                model.routes.push(route(&p, decl_of(ev), parent_key(ev)));
            }
            "microsoft.network/azurefirewalls" => model.firewalls.push(firewall(ev)),
            "microsoft.network/firewallpolicies" => {
                let p = props_or_empty(ev);
                model.policies.push(FirewallPolicy {
                    decl: decl_of(ev),
                    base_policy: opt(p.get("basePolicy"), attr_key),
                    dns_proxy: opt(p.path(&["dnsSettings", "enableProxy"]), attr_bool),
                    sku_tier: opt(p.path(&["sku", "tier"]), attr_str),
                });
            }
            "microsoft.network/firewallpolicies/rulecollectiongroups" => {
                let p = props_or_empty(ev);
                let d = decl_of(ev);
                let collections = p
                    .get("ruleCollections")
                    .map(SNode::items)
                    .unwrap_or(&[])
                    .iter()
                    .map(|c| policy_collection(c, &d))
                    .collect();
                let policy = parent_key(ev).unwrap_or_else(|| {
                    unknown_attr(
                        "the rule collection group's policy is unknown",
                        &ev.name_span,
                    )
                });
                model.rule_collection_groups.push(RuleCollectionGroup {
                    decl: d,
                    policy,
                    priority: p
                        .get("priority")
                        .map(attr_u32)
                        .unwrap_or_else(|| unknown_attr("no priority", &ev.span)),
                    collections,
                });
            }
            "microsoft.network/ipgroups" => {
                let p = props_or_empty(ev);
                model.ip_groups.push(IpGroup {
                    decl: decl_of(ev),
                    cidrs: p
                        .get("ipAddresses")
                        .map(attr_strs)
                        .unwrap_or_else(|| Spanned::new(Value::Known(vec![]), p.span.clone())),
                });
            }
            _ => {}
        }
    }
}

fn cluster(ev: &EvRes) -> Cluster {
    let p = props_or_empty(ev);
    // Properties that are unknown as a whole leave every field unknown, not absent.
    let whole = match ev.properties.as_ref().and_then(SNode::val) {
        Some(v @ (Val::Unknown(_) | Val::Ref(_))) => Some(reason_of(v)),
        _ => None,
    };
    let np_whole = whole
        .clone()
        .or_else(|| match p.get("networkProfile").and_then(SNode::val) {
            Some(v @ (Val::Unknown(_) | Val::Ref(_))) => Some(reason_of(v)),
            _ => None,
        });
    let d = decl_of(ev);
    let cluster_names = ev.names.as_ref().ok().cloned();
    let np = p.get("networkProfile");
    let npget = |k: &str| np.and_then(|n| non_null(n.get(k)));
    let cidrs = |single: &str, plural: &str| -> Option<Attr<Vec<String>>> {
        match (npget(plural), npget(single)) {
            (Some(p), _) => Some(attr_strs(p)),
            (None, Some(s)) => Some(attr_strs(s)),
            _ => None,
        }
    };
    let mut features: Vec<(String, Attr<bool>)> = vec![];
    if let Some(SV::Obj(addons)) = p.get("addonProfiles").map(|a| &a.v) {
        for (name, a) in addons {
            let feature = match name.to_ascii_lowercase().as_str() {
                "omsagent" | "omsagentprofile" => "monitoring",
                "azurepolicy" => "policy",
                "azurekeyvaultsecretsprovider" => "keyvault",
                _ => continue,
            };
            let enabled = a
                .get("enabled")
                .map(attr_bool)
                .unwrap_or_else(|| Spanned::new(Value::Known(false), a.span.clone()));
            features.push((feature.into(), enabled));
        }
    }
    let mut feature = |name: &str, path: &[&str]| {
        if let Some(n) = non_null(p.path(path)) {
            features.push((name.into(), attr_bool(n)));
        }
    };
    feature("monitoring", &["azureMonitorProfile", "metrics", "enabled"]);
    feature(
        "defender",
        &[
            "securityProfile",
            "defender",
            "securityMonitoring",
            "enabled",
        ],
    );
    feature(
        "workload-identity",
        &["securityProfile", "workloadIdentity", "enabled"],
    );
    feature(
        "web-app-routing",
        &["ingressProfile", "webAppRouting", "enabled"],
    );
    feature(
        "cost-analysis",
        &["metricsProfile", "costAnalysis", "enabled"],
    );
    if let Some(mode) = non_null(p.path(&["serviceMeshProfile", "mode"])) {
        let v = match &mode.v {
            SV::Val(Val::Str(s)) => Value::Known(!s.eq_ignore_ascii_case("disabled")),
            SV::Val(v) => Value::Unknown(Box::new(Unknown::new(reason_of(v)))),
            _ => Value::Unknown(Box::new(Unknown::new("expected a string"))),
        };
        features.push(("service-mesh".into(), Spanned::new(v, mode.span.clone())));
    }
    let node_pools = p
        .get("agentPoolProfiles")
        .map(SNode::items)
        .unwrap_or(&[])
        .iter()
        .map(|pool| {
            let name = pool.get("name").and_then(SNode::as_str);
            let key = match (&cluster_names, name) {
                (Some(c), Some(n)) if c.len() == 1 => Some(ResKey::arm(
                    "Microsoft.ContainerService/managedClusters/agentPools",
                    &[c[0].as_str(), n],
                )),
                _ => None,
            };
            let pd = Decl {
                keys: key.into_iter().collect(),
                name: name.map(|n| {
                    Spanned::new(
                        n.to_string(),
                        pool.get("name").map(|x| x.span.clone()).unwrap_or_default(),
                    )
                }),
                span: pool.span.clone(),
                label: format!(
                    "{} '{}' pool '{}'",
                    ev.ty,
                    ev.name.as_deref().unwrap_or("?"),
                    name.unwrap_or("?")
                ),
                condition: d.condition.clone(),
            };
            node_pool_from(pool, pd)
        })
        .collect();
    let unknown_np = |k: &str| -> Option<Attr<String>> {
        match (&np_whole, npget(k)) {
            (_, Some(n)) => Some(attr_str(n)),
            (Some(r), None) => Some(unknown_attr(
                r.clone(),
                &p.get("networkProfile")
                    .map(|n| n.span.clone())
                    .unwrap_or(p.span.clone()),
            )),
            (None, None) => None,
        }
    };
    let whole_bool = |path: &[&str]| -> Option<Attr<bool>> {
        match (&whole, p.path(path)) {
            (_, Some(n)) if !n.is_null() => Some(attr_bool(n)),
            (Some(r), _) => Some(unknown_attr(r.clone(), &p.span)),
            _ => None,
        }
    };
    Cluster {
        location: opt(ev.location.as_ref(), attr_str),
        outbound_type: unknown_np("outboundType"),
        network_plugin: unknown_np("networkPlugin"),
        network_plugin_mode: npget("networkPluginMode").map(attr_str),
        pod_cidrs: cidrs("podCidr", "podCidrs"),
        service_cidrs: cidrs("serviceCidr", "serviceCidrs"),
        private_cluster: whole_bool(&["apiServerAccessProfile", "enablePrivateCluster"]),
        api_server_vnet_integration: opt(
            p.path(&["apiServerAccessProfile", "enableVnetIntegration"]),
            attr_bool,
        ),
        api_server_subnet: opt(p.path(&["apiServerAccessProfile", "subnetId"]), attr_key),
        http_proxy: non_null(p.get("httpProxyConfig")).map(|h| h.span.clone()),
        artifact_source: opt(p.path(&["bootstrapProfile", "artifactSource"]), attr_str),
        features,
        node_pools,
        decl: d,
    }
}

fn node_pool_from(p: &SNode, decl: Decl) -> NodePool {
    NodePool {
        decl,
        cluster: None,
        subnet: opt(p.get("vnetSubnetID"), attr_key),
        pod_subnet: opt(p.get("podSubnetID"), attr_key),
        vm_size: opt(p.get("vmSize"), attr_str),
        os_type: opt(p.get("osType"), attr_str),
        os_sku: opt(p.get("osSKU"), attr_str),
    }
}

fn vnet(ev: &EvRes, model: &mut Model) {
    let p = props_or_empty(ev);
    let d = decl_of(ev);
    let vnet_key = ev.key.clone();
    for s in p.get("subnets").map(SNode::items).unwrap_or(&[]) {
        let sp = s.get("properties").cloned().unwrap_or_else(|| SNode {
            v: SV::Obj(vec![]),
            span: s.span.clone(),
        });
        let sd = child_decl(&d, "subnets", &ev.ty, s);
        model.subnets.push(subnet_from(&sp, sd, vnet_key.clone()));
    }
    model.vnets.push(VirtualNetwork {
        address_space: p
            .path(&["addressSpace", "addressPrefixes"])
            .map(attr_strs)
            .unwrap_or_else(|| unknown_attr("no addressSpace.addressPrefixes", &p.span)),
        dns_servers: opt(p.path(&["dhcpOptions", "dnsServers"]), attr_strs)
            .filter(|a| !matches!(&a.value, Value::Known(v) if v.is_empty())),
        decl: d,
    });
}

fn subnet_from(p: &SNode, decl: Decl, vnet: Option<ResKey>) -> Subnet {
    Subnet {
        decl,
        vnet,
        address_prefixes: merged(p, "addressPrefix", "addressPrefixes"),
        nsg: opt(p.get("networkSecurityGroup"), attr_key),
        route_table: opt(p.get("routeTable"), attr_key),
        nat_gateway: opt(p.get("natGateway"), attr_key),
    }
}

/// A security rule's properties (template rules under `properties`, export
/// rules flat). Shared with the NSG export frontend.
pub fn security_rule(
    p: &SNode,
    decl: Decl,
    nsg: Option<Attr<ResKey>>,
    is_default: bool,
) -> SecurityRule {
    let req = |k: &str| -> Attr<String> {
        p.get(k)
            .map(attr_str)
            .unwrap_or_else(|| unknown_attr(format!("the rule has no `{k}`"), &p.span))
    };
    let asgs = |k: &str| -> Vec<Attr<ResKey>> {
        p.get(k)
            .map(SNode::items)
            .unwrap_or(&[])
            .iter()
            .map(attr_key)
            .collect()
    };
    SecurityRule {
        decl,
        nsg,
        priority: p
            .get("priority")
            .map(attr_u32)
            .unwrap_or_else(|| unknown_attr("the rule has no `priority`", &p.span)),
        direction: req("direction"),
        access: req("access"),
        protocol: req("protocol"),
        source_addresses: merged(p, "sourceAddressPrefix", "sourceAddressPrefixes"),
        destination_addresses: merged(p, "destinationAddressPrefix", "destinationAddressPrefixes"),
        source_ports: merged(p, "sourcePortRange", "sourcePortRanges"),
        destination_ports: merged(p, "destinationPortRange", "destinationPortRanges"),
        source_asgs: asgs("sourceApplicationSecurityGroups"),
        destination_asgs: asgs("destinationApplicationSecurityGroups"),
        is_default,
    }
}

fn route(p: &SNode, decl: Decl, table: Option<Attr<ResKey>>) -> Route {
    Route {
        decl,
        route_table: table,
        address_prefix: p
            .get("addressPrefix")
            .map(attr_str)
            .unwrap_or_else(|| unknown_attr("the route has no `addressPrefix`", &p.span)),
        next_hop_type: p
            .get("nextHopType")
            .map(attr_str)
            .unwrap_or_else(|| unknown_attr("the route has no `nextHopType`", &p.span)),
        next_hop_ip: opt(p.get("nextHopIpAddress"), attr_str),
    }
}

fn firewall(ev: &EvRes) -> Firewall {
    let p = props_or_empty(ev);
    let d = decl_of(ev);
    let ipc = p.get("ipConfigurations").map(SNode::items).unwrap_or(&[]);
    // The configuration that names the subnet (others only add public IPs).
    let props_of =
        |c: &'_ SNode| -> SNode { c.get("properties").cloned().unwrap_or_else(|| c.clone()) };
    let first = ipc
        .iter()
        .map(props_of)
        .find(|c| non_null(c.get("subnet")).is_some())
        .or_else(|| ipc.first().map(props_of));
    let first = first.as_ref();
    // Classic DNS proxy lives in `additionalProperties` as strings.
    let dns_proxy = p
        .get("additionalProperties")
        .and_then(|a| a.get("Network.DNS.EnableProxy"))
        .map(attr_bool);
    let mut collections = vec![];
    for (key, kind) in [
        ("applicationRuleCollections", RuleKind::Application),
        ("networkRuleCollections", RuleKind::Network),
        ("natRuleCollections", RuleKind::Nat),
    ] {
        for c in p.get(key).map(SNode::items).unwrap_or(&[]) {
            collections.push(classic_collection(c, kind, &d));
        }
    }
    Firewall {
        sku_tier: opt(p.path(&["sku", "tier"]), attr_str),
        policy: opt(p.get("firewallPolicy"), attr_key),
        dns_proxy,
        private_ip: first
            .and_then(|f| opt(f.get("privateIPAddress"), attr_str))
            // Secured virtual hubs give the address here.
            .or_else(|| opt(p.path(&["hubIPAddresses", "privateIPAddress"]), attr_str)),
        subnet: first.and_then(|f| opt(f.get("subnet"), attr_key)),
        collections,
        threat_intel_mode: opt(p.get("threatIntelMode"), attr_str),
        decl: d,
    }
}

fn action(n: &SNode, span: &Span) -> Attr<String> {
    match n.get("action") {
        Some(a) => match &a.v {
            SV::Obj(_) => a
                .get("type")
                .map(attr_str)
                .unwrap_or_else(|| unknown_attr("the action has no type", &a.span)),
            _ => attr_str(a),
        },
        None => unknown_attr("the collection has no action", span),
    }
}

fn classic_collection(c: &SNode, kind: RuleKind, fw: &Decl) -> RuleCollection {
    let p = c.get("properties").unwrap_or(c);
    let decl = element_decl(
        c,
        match kind {
            RuleKind::Application => "application rule collection",
            RuleKind::Network => "network rule collection",
            RuleKind::Nat => "NAT rule collection",
        },
        fw,
    );
    let rules = p
        .get("rules")
        .map(SNode::items)
        .unwrap_or(&[])
        .iter()
        .map(|r| fw_rule(r, kind, &decl))
        .collect();
    RuleCollection {
        firewall: None,
        kind,
        priority: p
            .get("priority")
            .map(attr_u32)
            .unwrap_or_else(|| unknown_attr("no priority", &c.span)),
        action: action(p, &c.span),
        rules,
        decl,
    }
}

fn policy_collection(c: &SNode, group: &Decl) -> RuleCollection {
    let ctype = c
        .get("ruleCollectionType")
        .and_then(SNode::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let rules_node = c.get("rules").map(SNode::items).unwrap_or(&[]);
    let rule_kind = |r: &SNode| -> RuleKind {
        match r
            .get("ruleType")
            .and_then(SNode::as_str)
            .unwrap_or("")
            .to_ascii_lowercase()
            .as_str()
        {
            "applicationrule" => RuleKind::Application,
            "natrule" => RuleKind::Nat,
            _ => RuleKind::Network,
        }
    };
    let kind = if ctype.contains("nat") {
        RuleKind::Nat
    } else {
        rules_node
            .first()
            .map(rule_kind)
            .unwrap_or(RuleKind::Network)
    };
    let decl = element_decl(c, "rule collection", group);
    let rules = rules_node
        .iter()
        .map(|r| fw_rule(r, rule_kind(r), &decl))
        .collect();
    RuleCollection {
        firewall: None,
        kind,
        priority: c
            .get("priority")
            .map(attr_u32)
            .unwrap_or_else(|| unknown_attr("no priority", &c.span)),
        action: action(c, &c.span),
        rules,
        decl,
    }
}

fn app_protocols(n: &SNode) -> Attr<Vec<AppProtocol>> {
    let v = match &n.v {
        SV::Arr(items) => {
            let mut out = vec![];
            let mut bad = None;
            for it in items {
                let kind = it
                    .get("protocolType")
                    .or_else(|| it.get("type"))
                    .and_then(SNode::as_str);
                let port = match it.get("port").map(|p| &p.v) {
                    Some(SV::Val(Val::Int(i))) => u16::try_from(*i).ok(),
                    Some(SV::Val(Val::Str(s))) => s.parse().ok(),
                    _ => None,
                };
                match (kind, it.get("port").map(|p| p.val())) {
                    (Some(k), Some(Some(Val::Unknown(w)))) => {
                        bad.get_or_insert_with(|| format!("port of `{k}`: {}", w.reason));
                    }
                    (Some(k), _) => out.push(AppProtocol {
                        kind: k.to_string(),
                        port,
                    }),
                    (None, _) => {
                        bad.get_or_insert_with(|| "a protocol without a type".to_string());
                    }
                }
            }
            match bad {
                Some(b) => Value::Unknown(Box::new(Unknown::new(b))),
                None => Value::Known(out),
            }
        }
        SV::Val(v) => Value::Unknown(Box::new(Unknown::new(reason_of(v)))),
        SV::Obj(_) => Value::Unknown(Box::new(Unknown::new("expected a list of protocols"))),
    };
    Spanned::new(v, n.span.clone())
}

fn fw_rule(r: &SNode, kind: RuleKind, coll: &Decl) -> FirewallRule {
    let label = match kind {
        RuleKind::Application => "application rule",
        RuleKind::Network => "network rule",
        RuleKind::Nat => "NAT rule",
    };
    let g = |k: &str| non_null(r.get(k));
    let protocols = match kind {
        RuleKind::Application => None,
        // Policy network and NAT rules say `ipProtocols`; classic ones `protocols`.
        _ => g("ipProtocols").or_else(|| g("protocols")).map(attr_strs),
    };
    FirewallRule {
        decl: element_decl(r, label, coll),
        source_addresses: g("sourceAddresses").map(attr_strs),
        source_ip_groups: g("sourceIpGroups").map(attr_keys).map(Box::new),
        protocols,
        app_protocols: match kind {
            RuleKind::Application => g("protocols").map(app_protocols),
            _ => None,
        },
        destination_addresses: g("destinationAddresses").map(attr_strs),
        destination_ip_groups: g("destinationIpGroups").map(attr_keys).map(Box::new),
        destination_fqdns: g("destinationFqdns").map(attr_strs).map(Box::new),
        destination_ports: g("destinationPorts").map(attr_strs),
        target_fqdns: g("targetFqdns").map(attr_strs),
        fqdn_tags: g("fqdnTags").map(attr_strs).map(Box::new),
        target_urls: g("targetUrls").map(attr_strs).map(Box::new),
        web_categories: g("webCategories").map(attr_strs).map(Box::new),
        terminate_tls: g("terminateTLS").map(attr_bool).map(Box::new),
        translated_address: g("translatedAddress")
            .or_else(|| g("translatedFqdn"))
            .map(attr_str)
            .map(Box::new),
        translated_port: g("translatedPort").map(attr_str).map(Box::new),
    }
}

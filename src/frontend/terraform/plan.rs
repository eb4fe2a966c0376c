//! `terraform show -json` plans (and state files): every value resolved,
//! addressed like the configuration.

use super::eval::View;
use super::value::{Origin, V};
use crate::finding::{Code, Finding};
use crate::model::ResKey;
use crate::source::{FileId, Sources, Span};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::PathBuf;

pub struct PlanRes<'a> {
    /// Module path: `""`, `module.net`, `module.a["x"].module.b`.
    pub module: String,
    /// `type.name` or `data.type.name`.
    pub addr: String,
    pub rtype: String,
    pub data: bool,
    /// The full address with module and instance key.
    pub full: String,
    pub index: Option<&'a Json>,
    pub values: &'a Json,
    /// The configuration's `expressions` of the resource block.
    pub cfg: Option<&'a Json>,
    /// `resource_changes[].change.after_unknown`.
    pub unk: Option<&'a Json>,
}

pub struct Plan<'a> {
    pub file: FileId,
    pub dir: PathBuf,
    pub res: Vec<PlanRes<'a>>,
    /// `type.name` of the configuration's root module resources, and
    /// `module.<name>` of its module calls.
    pub root_addrs: Vec<String>,
    /// (module path, addr) → indexes into `res`.
    pub by_addr: HashMap<(String, String), Vec<usize>>,
    /// Root variable values Terraform used.
    pub variables: Vec<(String, &'a Json)>,
    /// `configuration.root_module`.
    pub cfg_root: Option<&'a Json>,
}

/// Parse a plan file; a file that is not JSON gives an AEL000 finding.
pub fn parse_json(sources: &Sources, fid: FileId, findings: &mut Vec<Finding>) -> Option<Json> {
    let text = sources.text(fid);
    match serde_json::from_str::<Json>(text) {
        Ok(j) => Some(j),
        Err(e) => {
            let f = sources.get(fid);
            let off = f.offset_of(e.line(), e.column());
            findings.push(Finding::new(
                Code::AEL000,
                format!("Terraform plan is not valid JSON: {e}"),
                Span::new(fid, off..off),
                "here",
            ));
            None
        }
    }
}

pub fn index<'a>(sources: &Sources, fid: FileId, j: &'a Json) -> Plan<'a> {
    let mut plan = Plan {
        file: fid,
        dir: sources
            .get(fid)
            .path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default(),
        res: vec![],
        root_addrs: vec![],
        by_addr: HashMap::new(),
        variables: vec![],
        cfg_root: None,
    };
    if let Some(vars) = j.get("variables").and_then(|v| v.as_object()) {
        plan.variables = vars
            .iter()
            .filter_map(|(k, v)| v.get("value").map(|x| (k.clone(), x)))
            .collect();
    }
    let root = j
        .get("planned_values")
        .or_else(|| j.get("values"))
        .and_then(|v| v.get("root_module"));
    let cfg_root = j.get("configuration").and_then(|c| c.get("root_module"));
    plan.cfg_root = cfg_root;
    if let Some(rs) = cfg_root
        .and_then(|c| c.get("resources"))
        .and_then(|r| r.as_array())
    {
        plan.root_addrs = rs
            .iter()
            .filter_map(|r| r.get("address").and_then(|a| a.as_str()).map(String::from))
            .collect();
    }
    // Module calls identify the root as well: `module.<name>`.
    if let Some(calls) = cfg_root
        .and_then(|c| c.get("module_calls"))
        .and_then(|m| m.as_object())
    {
        plan.root_addrs
            .extend(calls.keys().map(|k| format!("module.{k}")));
    }
    let mut unk: HashMap<&str, &Json> = HashMap::new();
    if let Some(rc) = j.get("resource_changes").and_then(|r| r.as_array()) {
        for c in rc {
            if let (Some(a), Some(u)) = (
                c.get("address").and_then(|a| a.as_str()),
                c.get("change").and_then(|c| c.get("after_unknown")),
            ) {
                unk.insert(a, u);
            }
        }
    }
    if let Some(root) = root {
        walk(root, cfg_root, &unk, &mut plan, 0);
    }
    if plan.root_addrs.is_empty() {
        plan.root_addrs = plan
            .res
            .iter()
            .filter(|r| r.module.is_empty() && !r.data)
            .map(|r| r.addr.clone())
            .collect();
    }
    for (i, r) in plan.res.iter().enumerate() {
        plan.by_addr
            .entry((r.module.clone(), r.addr.clone()))
            .or_default()
            .push(i);
    }
    plan
}

/// The configuration module of a module path (`module.a["x"].module.b`).
fn cfg_module<'a>(cfg_root: Option<&'a Json>, path: &str) -> Option<&'a Json> {
    let mut m = cfg_root?;
    if path.is_empty() {
        return Some(m);
    }
    for seg in path.split("module.").filter(|s| !s.is_empty()) {
        let name = seg.trim_end_matches('.').split('[').next().unwrap_or(seg);
        m = m.get("module_calls")?.get(name)?.get("module")?;
    }
    Some(m)
}

fn walk<'a>(
    m: &'a Json,
    cfg_root: Option<&'a Json>,
    unk: &HashMap<&str, &'a Json>,
    plan: &mut Plan<'a>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    let module = m
        .get("address")
        .and_then(|a| a.as_str())
        .unwrap_or("")
        .to_string();
    let cfg = cfg_module(cfg_root, &module);
    for r in m
        .get("resources")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
    {
        let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let (rtype, name, mode) = (s("type"), s("name"), s("mode"));
        let data = mode == "data";
        let addr = if data {
            format!("data.{rtype}.{name}")
        } else {
            format!("{rtype}.{name}")
        };
        let full = s("address");
        let exprs = cfg
            .and_then(|c| c.get("resources"))
            .and_then(|r| r.as_array())
            .and_then(|rs| {
                rs.iter()
                    .find(|x| x.get("address").and_then(|a| a.as_str()) == Some(addr.as_str()))
            })
            .and_then(|x| x.get("expressions"));
        let Some(values) = r.get("values") else {
            continue;
        };
        plan.res.push(PlanRes {
            module: module.clone(),
            unk: unk.get(full.as_str()).copied(),
            addr,
            rtype,
            data,
            full,
            index: r.get("index"),
            values,
            cfg: exprs,
        });
    }
    for c in m
        .get("child_modules")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
    {
        walk(c, cfg_root, unk, plan, depth + 1);
    }
}

/// Span of a resource in the plan file: its address string, first seen.
pub fn address_span(sources: &Sources, fid: FileId, full: &str) -> Span {
    let text = sources.text(fid);
    let lit = serde_json::to_string(full).unwrap_or_default();
    match text.find(&lit) {
        Some(i) => Span::new(fid, i..i + lit.len()),
        None => Span::new(fid, 0..0),
    }
}

/// A plan value that is null: a reference in the configuration (kept as a
/// link to the referenced resource), or a value known only after apply.
pub fn plan_fallback(
    v: &View<'_>,
    name: &str,
    span: Span,
    cfg_root: Option<&serde_json::Value>,
    tag: &str,
) -> Option<(V, Span)> {
    if let Some(e) = v.cfg.and_then(|c| c.get(name)) {
        if let Some(c) = e.get("constant_value") {
            if !c.is_null() {
                return Some((V::from_json(c, 0), span));
            }
        }
        let refs: Vec<&str> = e
            .get("references")
            .and_then(|r| r.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        if let Some(first) = refs.first() {
            return Some((reference_value(&v.mpath, first, cfg_root, 0, tag), span));
        }
    }
    if v.unk.and_then(|u| u.get(name)).and_then(|x| x.as_bool()) == Some(true) {
        return Some((
            V::unknown(format!("`{name}` is known only after apply")),
            span,
        ));
    }
    None
}

/// `azurerm_subnet.nodes["a"].id` from a plan's `references` list.
pub fn reference_value(
    mpath: &str,
    r: &str,
    cfg_root: Option<&serde_json::Value>,
    depth: usize,
    tag: &str,
) -> V {
    let head = r.split(['.', '[']).next().unwrap_or("");
    if head == "module" && depth < 16 {
        if let Some(v) = through_module_output(mpath, r, cfg_root, depth, tag) {
            return v;
        }
    }
    match head {
        "var" | "local" | "module" | "each" | "count" | "path" | "terraform" => {
            return V::unknown(format!("`{r}` is not resolved in the plan"));
        }
        _ => {}
    }
    // Split at dots outside brackets: `azurerm_subnet`, `nodes["a"]`, `id`.
    let mut parts: Vec<String> = vec![String::new()];
    let mut depth = 0usize;
    for c in r.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(p) = parts.last_mut() {
            p.push(c);
        }
    }
    let n = if head == "data" { 3 } else { 2 };
    if parts.len() < n {
        return V::unknown(format!("`{r}` is not resolved in the plan"));
    }
    let addr = parts[..n].join(".");
    let rest = parts[n..]
        .iter()
        .map(|p| p.split('[').next().unwrap_or(p).to_string())
        .collect::<Vec<_>>()
        .join(".");
    let path = rest.as_str();
    let rtype = addr
        .trim_start_matches("data.")
        .split('.')
        .next()
        .unwrap_or("")
        .to_string();
    let key = ResKey::tf(&super::eval::key_module(tag, mpath), &addr);
    if path.is_empty() {
        return V::Map(
            BTreeMap::new(),
            Some(Box::new(Origin {
                key,
                rtype,
                path: String::new(),
            })),
        );
    }
    V::Ref {
        key,
        rtype,
        path: path.to_string(),
    }
}

/// `module.net.subnet_id` in a plan: the output's own reference, inside the
/// module (modules without `count`/`for_each` only).
fn through_module_output(
    mpath: &str,
    r: &str,
    cfg_root: Option<&serde_json::Value>,
    depth: usize,
    tag: &str,
) -> Option<V> {
    let mut parts = r.split('.');
    let _ = parts.next();
    let call = parts.next()?;
    let out = parts.next()?;
    if call.contains('[') {
        return None;
    }
    let mut m = cfg_root?;
    for seg in mpath.split("module.").filter(|s| !s.is_empty()) {
        let name = seg.trim_end_matches('.');
        m = m.get("module_calls")?.get(name)?.get("module")?;
    }
    let expr = m
        .get("module_calls")?
        .get(call)?
        .get("module")?
        .get("outputs")?
        .get(out)?
        .get("expression")?;
    let inner = if mpath.is_empty() {
        format!("module.{call}")
    } else {
        format!("{mpath}.module.{call}")
    };
    if let Some(c) = expr.get("constant_value") {
        return Some(V::from_json(c, 0));
    }
    let first = expr.get("references")?.as_array()?.first()?.as_str()?;
    Some(reference_value(&inner, first, cfg_root, depth + 1, tag))
}

//! NSG definitions outside templates: what `az network nsg show` and
//! `az network nsg list` print (rules flat, without the `properties`
//! wrapper, plus `defaultSecurityRules` and `subnets` with ids), what
//! `az network nsg rule list` prints (an array of rules), a single NSG
//! resource as the portal or the REST API returns it (with `properties`),
//! and REST list results (`{"value": [...]}`).
//!
//! Each NSG becomes an [`Nsg`] with `from_export: true`; its key comes from
//! its `id` (or its name), its rules keep their spans, Azure's default rules
//! are marked `is_default`. The subnets it names are kept for the linker.

use crate::finding::{Code, Finding};
use crate::frontend::arm::deploy::literal;
use crate::frontend::arm::json::{self, Json};
use crate::frontend::arm::resources::{attr_key, security_rule};
use crate::frontend::arm::template::SNode;
use crate::model::{Decl, Model, Nsg, ResKey};
use crate::source::{FileId, Sources, Span, Spanned};

const NSG_TYPE: &str = "Microsoft.Network/networkSecurityGroups";

/// Read NSG exports into the model.
pub fn load(sources: &Sources, files: &[FileId]) -> Model {
    use rayon::prelude::*;
    // Exports are independent: read them in parallel, merge in input order.
    let parts: Vec<Model> = files
        .par_iter()
        .map(|&file| {
            let mut model = Model::default();
            let text = sources.text(file);
            if text.is_empty() {
                return model; // discovery reported why
            }
            match json::parse(text, 128) {
                Ok(doc) => load_doc(&doc, file, &mut model),
                Err(e) => model.findings.push(Finding::new(
                    Code::AEL000,
                    format!("invalid JSON: {}", e.message),
                    Span::new(file, e.range.clone()),
                    "here",
                )),
            }
            model.shrink_to_fit();
            model
        })
        .collect();
    let mut model = Model::default();
    for m in parts {
        model.merge(m);
    }
    model
}

fn is_rule(j: &Json) -> bool {
    let p = j.get("properties").unwrap_or(j);
    p.get("direction").is_some() && p.get("access").is_some()
}

fn is_nsg(j: &Json) -> bool {
    let p = j.get("properties").unwrap_or(j);
    p.get("securityRules").is_some()
        || p.get("defaultSecurityRules").is_some()
        || j.get("type")
            .and_then(Json::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(NSG_TYPE))
}

fn load_doc(doc: &Json, file: FileId, model: &mut Model) {
    let items: Vec<&Json> = match doc.as_array() {
        Some(a) => a.iter().collect(),
        None => match doc.get("value").and_then(Json::as_array) {
            Some(a) => a.iter().collect(),
            None => vec![doc],
        },
    };
    let mut loose_rules: Vec<&Json> = vec![];
    for it in items {
        if is_nsg(it) {
            model.nsgs.push(nsg(it, file));
        } else if is_rule(it) {
            loose_rules.push(it);
        }
    }
    if loose_rules.is_empty() {
        return;
    }
    // `az network nsg rule list`: group the rules by the NSG their id names.
    let mut groups: Vec<(Option<ResKey>, Option<String>, Vec<&Json>)> = vec![];
    for r in loose_rules {
        let id = r.get("id").and_then(Json::as_str).unwrap_or("");
        let parent = id
            .to_ascii_lowercase()
            .find("/securityrules/")
            .or_else(|| id.to_ascii_lowercase().find("/defaultsecurityrules/"))
            .map(|i| id[..i].to_string());
        let key = parent.as_deref().and_then(ResKey::from_arm_id);
        let name = parent
            .as_deref()
            .and_then(|p| p.rsplit('/').next())
            .map(String::from);
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.2.push(r),
            None => groups.push((key, name, vec![r])),
        }
    }
    for (key, name, rules) in groups {
        let first = rules[0];
        let last = rules[rules.len() - 1];
        let span = Span::new(file, first.range.start..last.range.end);
        let label = format!(
            "{NSG_TYPE} '{}'",
            name.as_deref().unwrap_or("<from rule list>")
        );
        let decl = Decl {
            keys: key.iter().cloned().collect(),
            name: name.map(|n| Spanned::new(n, span.clone())),
            span,
            label,
            condition: None,
        };
        let rules = rules
            .iter()
            .map(|r| rule(r, file, &decl, is_default_rule(r)))
            .collect();
        model.nsgs.push(Nsg {
            decl,
            rules,
            subnets: vec![],
            from_export: true,
        });
    }
}

fn is_default_rule(r: &Json) -> bool {
    r.get("type")
        .and_then(Json::as_str)
        .is_some_and(|t| t.to_ascii_lowercase().ends_with("/defaultsecurityrules"))
        || r.get("id")
            .and_then(Json::as_str)
            .is_some_and(|i| i.to_ascii_lowercase().contains("/defaultsecurityrules/"))
}

fn nsg(j: &Json, file: FileId) -> Nsg {
    let node = literal(j, file);
    let name_node = node.get("name");
    let name = name_node.and_then(SNode::as_str).map(String::from);
    let key = node
        .get("id")
        .and_then(SNode::as_str)
        .and_then(ResKey::from_arm_id)
        .or_else(|| name.as_deref().map(|n| ResKey::arm(NSG_TYPE, &[n])));
    let decl = Decl {
        keys: key.into_iter().collect(),
        name: name
            .clone()
            .map(|n| Spanned::new(n, name_node.map(|x| x.span.clone()).unwrap_or_default())),
        span: Span::new(file, j.range.clone()),
        label: format!("{NSG_TYPE} '{}'", name.as_deref().unwrap_or("<unnamed>")),
        condition: None,
    };
    let props = j.get("properties").unwrap_or(j);
    let mut rules = vec![];
    for (k, default) in [("securityRules", false), ("defaultSecurityRules", true)] {
        for r in props.get(k).and_then(Json::as_array).unwrap_or(&[]) {
            rules.push(rule(r, file, &decl, default));
        }
    }
    let subnets = props
        .get("subnets")
        .and_then(Json::as_array)
        .unwrap_or(&[])
        .iter()
        .map(|s| attr_key(&literal(s, file)))
        .collect();
    Nsg {
        decl,
        rules,
        subnets,
        from_export: true,
    }
}

fn rule(r: &Json, file: FileId, nsg: &Decl, is_default: bool) -> crate::model::SecurityRule {
    let node = literal(r, file);
    let props = node
        .get("properties")
        .cloned()
        .unwrap_or_else(|| node.clone());
    let name_node = node.get("name");
    let name = name_node.and_then(SNode::as_str);
    let key = node
        .get("id")
        .and_then(SNode::as_str)
        .and_then(ResKey::from_arm_id)
        .or_else(|| {
            let n = name?;
            let parent = nsg.keys.first()?;
            Some(ResKey(format!(
                "{}/{}/{}",
                parent.0,
                if is_default {
                    "defaultsecurityrules"
                } else {
                    "securityrules"
                },
                n.to_ascii_lowercase()
            )))
        });
    let nsg_name = nsg.name.as_ref().map(|n| n.value.as_str()).unwrap_or("?");
    let decl = Decl {
        keys: key.into_iter().collect(),
        name: name.map(|n| {
            Spanned::new(
                n.to_string(),
                name_node.map(|x| x.span.clone()).unwrap_or_default(),
            )
        }),
        span: node.span.clone(),
        label: format!(
            "{NSG_TYPE}/{} '{nsg_name}/{}'",
            if is_default {
                "defaultSecurityRules"
            } else {
                "securityRules"
            },
            name.unwrap_or("<unnamed>")
        ),
        condition: None,
    };
    security_rule(&props, decl, None, is_default)
}

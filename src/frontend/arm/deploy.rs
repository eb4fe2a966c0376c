//! Nested deployments (`Microsoft.Resources/deployments`): an inline
//! `template` evaluated in `outer` scope (the parent's parameters and
//! variables) or `inner` scope (its own, with the `parameters` passed in),
//! or a `templateLink` to a file of the repository. Other links are not
//! followed: the note says so.

use super::expr::Val;
use super::json::Json;
use super::template::{
    Env, Pass, SNode, Supplied, TScope, enter_deployment, eval_json, leave_deployment, outputs,
    set_outputs, walk_resources, walk_template,
};
use crate::finding::Code;
use crate::model::ResKey;
use crate::source::{FileId, Span};
use std::path::Path;

pub fn walk_deployment(
    r: &Json,
    key: Option<&ResKey>,
    name: Option<&str>,
    at: &Span,
    env: &Env,
    pass: Pass,
) {
    let t = env.t;
    let ctx = t.ctx;
    let Some(props) = r.get("properties") else {
        return;
    };
    let inner = props
        .path(&["expressionEvaluationOptions", "scope"])
        .and_then(Json::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
    if !enter_deployment(ctx) {
        if pass == Pass::Full {
            ctx.finding(
                Code::AEL008,
                "nested deployments are nested too deeply; this one is not analysed",
                at.clone(),
                "deployment",
            );
        }
        return;
    }
    if let Some(tpl) = props.get("template") {
        if inner {
            let supplied = passed_parameters(props, env);
            let mut scope = TScope::new(ctx, t.file, tpl, supplied);
            scope.deployment = name.map(String::from);
            run(&scope, key, pass);
        } else if let Some(res) = tpl.get("resources") {
            // Outer scope: the nested resources see the parent's parameters and variables.
            walk_resources(res, env, pass);
        }
    } else if let Some(link) = props.get("templateLink") {
        match linked_file(link, env) {
            Ok(file) => {
                if let Some(doc) = ctx.doc(file) {
                    let mut supplied = Supplied::new();
                    if let Some(pl) = props.get("parametersLink")
                        && let Ok(pf) = linked_file(pl, env)
                        && let Some(pdoc) = ctx.doc(pf)
                    {
                        supplied = parameter_file_values(&pdoc, pf);
                    }
                    supplied.extend(passed_parameters(props, env));
                    let mut scope = TScope::new(ctx, file, &doc, supplied);
                    scope.deployment = name.map(String::from);
                    run(&scope, key, pass);
                }
            }
            Err(why) => {
                if pass == Pass::Full {
                    ctx.finding(
                        Code::AEL008,
                        format!("linked template not followed: {why}"),
                        t.span_of(&link.range),
                        "templateLink",
                    );
                }
            }
        }
    }
    leave_deployment(ctx);
}

fn run(scope: &TScope, key: Option<&ResKey>, pass: Pass) {
    walk_template(scope, pass);
    if pass == Pass::Full
        && let Some(k) = key
    {
        set_outputs(scope.ctx, k.clone(), outputs(scope));
    }
}

/// `properties.parameters` of a deployment, evaluated in the parent.
fn passed_parameters(props: &Json, env: &Env) -> Supplied {
    let mut out = Supplied::new();
    for m in props
        .get("parameters")
        .and_then(Json::as_object)
        .unwrap_or(&[])
    {
        let v = if let Some(v) = m.value.get("value") {
            eval_json(v, env)
        } else {
            SNode::from_val(
                Val::unknown(format!(
                    "parameter `{}` is read from a Key Vault reference",
                    m.key
                )),
                &env.t.span_of(&m.value.range),
            )
        };
        out.insert(m.key.to_ascii_lowercase(), v);
    }
    out
}

/// The repository file a `templateLink` (or `parametersLink`) points at.
fn linked_file(link: &Json, env: &Env) -> Result<FileId, String> {
    let t = env.t;
    let ctx = t.ctx;
    let rel = link
        .get("relativePath")
        .or_else(|| link.get("uri"))
        .map(|j| eval_json(j, env).to_val());
    let rel = match rel {
        Some(Val::Str(s)) => s,
        Some(Val::Unknown(w)) => return Err(format!("its location is unknown: {}", w.reason)),
        Some(_) | None => return Err("it names no file".into()),
    };
    if rel.contains("://") || link.get("id").is_some() {
        return Err(format!("`{rel}` is not a file of the repository"));
    }
    let base = ctx
        .sources
        .get(t.file)
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = base.join(&rel);
    // Relative file paths against an absolute root compare as absolute paths.
    if !crate::frontend::bicep::modules::inside_root(&path, &ctx.opts.root) {
        return Err(format!("`{rel}` is outside the scanned folder"));
    }
    let file = ctx
        .sources
        .find(&path)
        .ok_or_else(|| format!("`{rel}` was not found among the scanned files"))?;
    ctx.link(file);
    Ok(file)
}

/// Values of a parameter file (`{"parameters": {"x": {"value": ...}}}`),
/// literal as ARM reads them, with their spans.
pub fn parameter_file_values(doc: &Json, file: FileId) -> Supplied {
    let mut out = Supplied::new();
    let params = doc.get("parameters").unwrap_or(doc);
    for m in params.as_object().unwrap_or(&[]) {
        if m.key.starts_with('$') {
            continue;
        }
        let v = if let Some(v) = m.value.get("value") {
            literal(v, file)
        } else if m.value.get("reference").is_some() {
            SNode::from_val(
                Val::unknown(format!("parameter `{}` is read from Key Vault", m.key)),
                &Span::new(file, m.value.range.clone()),
            )
        } else {
            continue;
        };
        out.insert(m.key.to_ascii_lowercase(), v);
    }
    out
}

/// A JSON value as a literal node (no expression evaluation), spans kept.
pub fn literal(j: &Json, file: FileId) -> SNode {
    use super::json::JKind;
    use super::template::SV;
    let span = Span::new(file, j.range.clone());
    let v = match &j.kind {
        JKind::Arr(a) => SV::Arr(a.iter().map(|x| literal(x, file)).collect()),
        JKind::Obj(m) => SV::Obj(
            m.iter()
                .map(|m| (m.key.clone(), literal(&m.value, file)))
                .collect(),
        ),
        _ => SV::Val(Val::from_json(j)),
    };
    SNode { v, span }
}

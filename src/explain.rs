//! `explain` (the hop-by-hop trace of one flow) and `allow-set` (each
//! cluster's effective egress): how users answer "why?" and "what does my
//! firewall really allow?".

use crate::catalog::{Catalog, Level};
use crate::checks::{Ctx, Evaluated, Overrides, analyse, decider_text};
use crate::eval::flow::{Evaluator, SourcePath};
use crate::eval::requirements::{ClusterPlan, Mode, tags_of_fqdn};
use crate::eval::{AppProto, Dest, Doubt, Effect, Flow, Outcome, Transport, Verdict};
use crate::link::Linked;
use crate::model::Model;
use crate::source::{Sources, Span};
use serde_json::{Value as J, json};
use std::io::Write;

/// Output format of `explain` and `allow-set`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
}

/// `aks-egress-lint explain [PATH] --cluster NAME --to DEST[:PORT][/PROTO]`
#[derive(Clone, Debug, clap::Args)]
pub struct ExplainArgs {
    /// The cluster (its Azure name or its Terraform/ARM label); may be left
    /// out when the scan holds one cluster.
    #[arg(long)]
    pub cluster: Option<String>,
    /// The destination: an FQDN, an address or a service tag, with an
    /// optional `:PORT` and `/PROTO` (`tcp`, `udp`, `http`, `https`), e.g.
    /// `mcr.microsoft.com:443/https` or `AzureCloud.westeurope:1194/udp`.
    #[arg(long)]
    pub to: String,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `aks-egress-lint allow-set [PATH] [--cluster NAME] [--format human|json]`
#[derive(Clone, Debug, clap::Args)]
pub struct AllowSetArgs {
    /// Only this cluster.
    #[arg(long)]
    pub cluster: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// A parsed `--to`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub dest: String,
    pub port: u16,
    pub transport: Transport,
    pub app: Option<AppProto>,
}

const TAG_BASES: &[&str] = &[
    "azurecloud",
    "azuremonitor",
    "storage",
    "azurecontainerregistry",
    "microsoftcontainerregistry",
    "azureactivedirectory",
    "azureresourcemanager",
    "azurekeyvault",
    "azurefrontdoor",
    "eventhub",
    "servicebus",
    "sql",
];

/// Parse `DEST[:PORT][/PROTO]`. IPv6 addresses take brackets with a port.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let s = s.trim();
    let (rest, proto) = match s.rsplit_once('/') {
        Some((a, p))
            if ["tcp", "udp", "http", "https"].contains(&p.to_ascii_lowercase().as_str()) =>
        {
            (a, Some(p.to_ascii_lowercase()))
        }
        _ => (s, None),
    };
    let (dest, port) = if let Some(inner) = rest.strip_prefix('[') {
        let (addr, after) = inner
            .split_once(']')
            .ok_or_else(|| format!("`{s}`: missing `]`"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| format!("`{p}` is not a port"))?,
            ),
            None => None,
        };
        (addr.to_string(), port)
    } else if rest.matches(':').count() == 1 {
        let (d, p) = rest.split_once(':').unwrap_or((rest, ""));
        (
            d.to_string(),
            Some(
                p.parse::<u16>()
                    .map_err(|_| format!("`{p}` is not a port"))?,
            ),
        )
    } else {
        (rest.to_string(), None)
    };
    if dest.is_empty() {
        return Err("the destination is empty".into());
    }
    let looks_fqdn =
        dest.contains('.') && dest.parse::<std::net::IpAddr>().is_err() && !is_tag(&dest);
    let (transport, app, port) = match (proto.as_deref(), port) {
        (Some("udp"), Some(p)) => (Transport::Udp, None, p),
        (Some("udp"), None) => return Err("a UDP destination needs a port".into()),
        (Some("tcp"), Some(p)) => (Transport::Tcp, None, p),
        (Some("tcp"), None) => return Err("a TCP destination needs a port".into()),
        (Some("http"), p) => (Transport::Tcp, Some(AppProto::Http), p.unwrap_or(80)),
        (Some("https"), p) => (Transport::Tcp, Some(AppProto::Https), p.unwrap_or(443)),
        (_, p) => {
            let p = p.unwrap_or(443);
            let app = match (looks_fqdn, p) {
                (true, 443) => Some(AppProto::Https),
                (true, 80) => Some(AppProto::Http),
                _ => None,
            };
            (Transport::Tcp, app, p)
        }
    };
    Ok(Target {
        dest,
        port,
        transport,
        app,
    })
}

fn is_tag(s: &str) -> bool {
    let base = s.split('.').next().unwrap_or(s).to_ascii_lowercase();
    !s.contains('.') || TAG_BASES.contains(&base.as_str())
}

/// The flows that stand for a target in a cluster's context.
fn target_flows(plan: &ClusterPlan, t: &Target) -> Vec<Flow> {
    let region_tag = plan
        .region
        .as_ref()
        .map(|r| r.service_tag.clone().unwrap_or_else(|| r.name.clone()));
    let display = format!("{}:{}/{}", t.dest, t.port, t.transport.as_str());
    // A catalog row with this destination lends its id (FQDN tags cover ids).
    let req = plan.requirements.iter().find(|r| {
        r.endpoint.destination.eq_ignore_ascii_case(&t.dest)
            && r.endpoint.port == t.port
            && r.endpoint.protocol == t.transport.as_str()
    });
    if let Some(r) = req {
        let mut flows = r.flows.clone();
        for f in &mut flows {
            if t.app.is_some() {
                f.app = t.app;
            }
        }
        return flows;
    }
    let mk = |dest: Dest| Flow {
        dest,
        transport: t.transport,
        port: t.port,
        app: t.app,
        entry: None,
        display: display.clone(),
    };
    if let Ok(ip) = t.dest.parse() {
        return vec![mk(Dest::Ip(ip))];
    }
    if t.dest.eq_ignore_ascii_case("APIServerPublicIP") {
        return vec![mk(Dest::Tag(match &region_tag {
            Some(r) => format!("AzureCloud.{r}"),
            None => "AzureCloud".into(),
        }))];
    }
    if is_tag(&t.dest) {
        return vec![mk(Dest::Tag(t.dest.clone()))];
    }
    vec![mk(Dest::Fqdn {
        name: t.dest.clone(),
        in_tags: tags_of_fqdn(&t.dest, region_tag.as_deref()),
    })]
}

fn loc(sources: &Sources, span: &Span) -> Option<(String, usize, usize)> {
    if span.file.0 as usize >= sources.len() {
        return None;
    }
    let (l, c, _, _) = sources.span_lines(span);
    Some((sources.get(span.file).display.clone(), l, c))
}

fn loc_json(sources: &Sources, span: Option<&Span>, message: &str) -> J {
    match span.and_then(|s| loc(sources, s)) {
        Some((f, l, c)) => json!({"file": f, "line": l, "column": c, "message": message}),
        None => json!({"file": J::Null, "line": J::Null, "column": J::Null, "message": message}),
    }
}

/// First line of a span's text, trimmed, for a snippet.
fn snippet(sources: &Sources, span: &Span) -> Option<String> {
    if span.file.0 as usize >= sources.len() {
        return None;
    }
    let text = sources.text(span.file);
    let start = span.range.start.min(text.len());
    let line_start = text.get(..start)?.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text
        .get(start..)?
        .find('\n')
        .map(|i| start + i)
        .unwrap_or(text.len());
    text.get(line_start..line_end)
        .map(|s| s.trim_end().to_string())
}

fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::Allowed => "allowed",
        Verdict::Denied => "denied",
        Verdict::Unknown => "unknown",
    }
}

fn effect_str(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "allow",
        Effect::Deny => "deny",
        Effect::Pass => "pass",
        Effect::Maybe => "maybe",
    }
}

fn doubt_text(d: &Doubt) -> (String, Option<Span>, Option<String>) {
    match d {
        Doubt::Value(u) => (u.reason.clone(), Some(u.span.clone()), u.hint.clone()),
        Doubt::Broad {
            span,
            rule,
            pattern,
        } => (
            format!("{rule} names `{pattern}`, which may or may not contain the destination"),
            Some(span.clone()),
            None,
        ),
        Doubt::Other { span, reason } => (reason.clone(), Some(span.clone()), None),
    }
}

/// Select plans by `--cluster` (Azure name or label, case-insensitive).
fn select<'p, 'm>(
    plans: &'p [ClusterPlan<'m>],
    name: Option<&str>,
) -> Vec<(usize, &'p ClusterPlan<'m>)> {
    plans
        .iter()
        .enumerate()
        .filter(|(_, p)| match name {
            None => true,
            Some(n) => {
                p.name.eq_ignore_ascii_case(n)
                    || p.cluster
                        .is_some_and(|c| c.decl.label.eq_ignore_ascii_case(n))
            }
        })
        .collect()
}

fn plan_header(p: &ClusterPlan) -> String {
    let loc = p
        .location
        .clone()
        .unwrap_or_else(|| "location unknown".into());
    let conds = if p.conditions.is_empty() {
        String::new()
    } else {
        format!(
            "; {}",
            p.conditions.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    };
    let what = if p.cluster.is_some() {
        "cluster"
    } else {
        "NSG"
    };
    format!("{what} `{}` ({loc}, {}{conds})", p.name, p.cloud.as_str())
}

fn source_text(s: &SourcePath) -> String {
    let prefixes = s
        .ranges
        .as_ref()
        .and_then(|_| {
            s.subnet
                .and_then(|x| x.address_prefixes.value.known().cloned())
        })
        .map(|v| format!(" ({})", v.join(", ")))
        .unwrap_or_default();
    if s.nsg_only {
        format!("a node subnet guarded by NSG `{}`", s.name)
    } else {
        format!("{} subnet `{}`{prefixes}", s.role, s.name)
    }
}

fn mode_note(p: &ClusterPlan) -> Option<&'static str> {
    match p.mode {
        Mode::Checked => None,
        Mode::ManagedVnet => {
            Some("AKS manages this cluster's virtual network: its egress is not in the code")
        }
        Mode::HttpProxy => {
            Some("this cluster egresses through an HTTP proxy the code does not show")
        }
        Mode::Isolated(_) => Some("this cluster is network-isolated (outbound type none/block)"),
    }
}

/// Print the hop-by-hop trace of one flow. Exit code: 0 when allowed from
/// every source, 1 when denied or unknown from one, 2 on a usage error.
pub fn explain(
    model: &Model,
    sources: &Sources,
    catalog: &Catalog,
    overrides: &Overrides,
    args: &ExplainArgs,
    out: &mut dyn Write,
) -> std::io::Result<i32> {
    let target = match parse_target(&args.to) {
        Ok(t) => t,
        Err(e) => {
            writeln!(out, "error: --to: {e}")?;
            return Ok(2);
        }
    };
    let linked = Linked::new(model);
    let eval = Evaluator::new(&linked, catalog);
    let ctx = analyse(model, sources, catalog, overrides, &linked, &eval);
    let chosen = select(&ctx.plans, args.cluster.as_deref());
    let plan = match (chosen.as_slice(), &args.cluster) {
        ([(_, p)], _) => *p,
        ([], Some(n)) => {
            writeln!(out, "error: no cluster named `{n}` in the scanned files")?;
            return Ok(2);
        }
        ([], None) => {
            writeln!(out, "error: the scanned files hold no cluster")?;
            return Ok(2);
        }
        (_, _) => {
            let names: Vec<String> = chosen
                .iter()
                .map(|(_, p)| format!("`{}`", p.name))
                .collect();
            writeln!(
                out,
                "error: several clusters match; pick one with --cluster: {}",
                names.join(", ")
            )?;
            return Ok(2);
        }
    };
    let flows = target_flows(plan, &target);
    let mut worst = Verdict::Allowed;
    let mut per_source: Vec<(&SourcePath, Vec<Outcome>)> = vec![];
    for s in &plan.sources {
        let outs: Vec<Outcome> = flows.iter().map(|f| eval.eval(s, f)).collect();
        for o in &outs {
            worst = match (worst, o.verdict) {
                (Verdict::Denied, _) | (_, Verdict::Denied) => Verdict::Denied,
                (Verdict::Unknown, _) | (_, Verdict::Unknown) => Verdict::Unknown,
                _ => Verdict::Allowed,
            };
        }
        per_source.push((s, outs));
    }
    if plan.sources.is_empty() {
        worst = Verdict::Unknown;
    }
    let display = format!(
        "{}:{}/{}",
        target.dest,
        target.port,
        target.transport.as_str()
    );
    match args.format {
        Format::Json => {
            let srcs: Vec<J> = per_source
                .iter()
                .map(|(s, outs)| {
                    json!({
                        "role": s.role,
                        "subnet": s.name,
                        "flows": outs.iter().zip(&flows).map(|(o, f)| json!({
                            "flow": f.display,
                            "verdict": verdict_str(o.verdict),
                            "decided_by": loc_json(sources, o.decider.span().as_ref(), &decider_text(&o.decider)),
                            "steps": o.steps.iter().map(|st| {
                                let mut j = loc_json(sources, st.span.as_ref(), &st.text);
                                j["hop"] = json!(st.hop);
                                j["effect"] = json!(effect_str(st.effect));
                                j
                            }).collect::<Vec<_>>(),
                            "unknowns": o.doubts.iter().map(|d| {
                                let (reason, span, hint) = doubt_text(d);
                                let mut j = loc_json(sources, span.as_ref(), &reason);
                                j["hint"] = json!(hint);
                                j
                            }).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let doc = json!({
                "version": 1,
                "cluster": plan.name,
                "destination": target.dest,
                "protocol": target.transport.as_str(),
                "application_protocol": target.app.map(|a| a.as_str().to_ascii_lowercase()),
                "port": target.port,
                "verdict": verdict_str(worst),
                "note": mode_note(plan),
                "sources": srcs,
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )?;
        }
        Format::Human => {
            writeln!(out, "{}", plan_header(plan))?;
            writeln!(out, "flow to `{display}`")?;
            if let Some(n) = mode_note(plan) {
                writeln!(out, "note: {n}")?;
            }
            for (s, outs) in &per_source {
                writeln!(out)?;
                writeln!(out, "from {}:", source_text(s))?;
                for (o, f) in outs.iter().zip(&flows) {
                    if flows.len() > 1 {
                        writeln!(out, "  to {}:", f.display)?;
                    }
                    for (i, st) in o.steps.iter().enumerate() {
                        let at = st
                            .span
                            .as_ref()
                            .and_then(|sp| loc(sources, sp))
                            .map(|(f, l, c)| format!("{f}:{l}:{c}"))
                            .unwrap_or_else(|| "-".into());
                        writeln!(
                            out,
                            "  {:>2}. [{:<5}] {}  ({at})",
                            i + 1,
                            effect_str(st.effect),
                            st.text
                        )?;
                        if let Some(line) = st.span.as_ref().and_then(|sp| snippet(sources, sp)) {
                            writeln!(out, "        | {}", line.trim())?;
                        }
                    }
                    writeln!(
                        out,
                        "  verdict: {} ({})",
                        verdict_str(o.verdict),
                        decider_text(&o.decider)
                    )?;
                    for d in &o.doubts {
                        let (reason, span, hint) = doubt_text(d);
                        let at = span
                            .as_ref()
                            .and_then(|sp| loc(sources, sp))
                            .map(|(f, l, c)| format!(" ({f}:{l}:{c})"))
                            .unwrap_or_default();
                        writeln!(out, "  unknown: {reason}{at}")?;
                        if let Some(h) = hint {
                            writeln!(out, "    supply it with: {h}")?;
                        }
                    }
                }
            }
            if plan.sources.is_empty() {
                writeln!(out, "no node subnet of this cluster could be linked")?;
            }
            writeln!(out)?;
            writeln!(out, "overall: {}", verdict_str(worst))?;
        }
    }
    Ok(if worst == Verdict::Allowed { 0 } else { 1 })
}

/// Probes for what a path allows beyond the catalog: an arbitrary public
/// host on common ports.
fn probes() -> Vec<(String, Flow)> {
    let any = |port: u16, t: Transport, app: Option<AppProto>| Flow {
        dest: Dest::Fqdn {
            name: "any-public-host.example".into(),
            in_tags: vec![],
        },
        transport: t,
        port,
        app,
        entry: None,
        display: format!("any public host:{port}/{}", t.as_str()),
    };
    vec![
        (
            "any public host on 443/tcp (https)".into(),
            any(443, Transport::Tcp, Some(AppProto::Https)),
        ),
        (
            "any public host on 80/tcp (http)".into(),
            any(80, Transport::Tcp, Some(AppProto::Http)),
        ),
        (
            "any public host on 22/tcp".into(),
            any(22, Transport::Tcp, None),
        ),
        (
            "any public host on 53/udp".into(),
            any(53, Transport::Udp, None),
        ),
        (
            "any public host on 123/udp".into(),
            any(123, Transport::Udp, None),
        ),
    ]
}

fn req_rows<'a, 'm>(ctx: &'a Ctx<'_, 'm>, pi: usize) -> Vec<(usize, &'a Evaluated<'m>)> {
    let Some(results) = ctx.results.get(pi) else {
        return vec![];
    };
    let Some(plan) = ctx.plans.get(pi) else {
        return vec![];
    };
    // One row per requirement: its worst source.
    (0..plan.requirements.len())
        .filter_map(|ri| {
            let evs: Vec<&Evaluated> = results.iter().filter(|e| e.req == ri).collect();
            evs.iter()
                .find(|e| e.verdict() == Verdict::Denied)
                .or_else(|| evs.iter().find(|e| e.verdict() == Verdict::Unknown))
                .or_else(|| evs.first())
                .map(|e| (ri, *e))
        })
        .collect()
}

/// Print each cluster's effective egress: every catalog requirement with
/// its verdict and the rule that decided it, and what the path allows
/// beyond the catalog. Exit code 0, or 2 when `--cluster` matches nothing.
pub fn allow_set(
    model: &Model,
    sources: &Sources,
    catalog: &Catalog,
    overrides: &Overrides,
    args: &AllowSetArgs,
    out: &mut dyn Write,
) -> std::io::Result<i32> {
    let linked = Linked::new(model);
    let eval = Evaluator::new(&linked, catalog);
    let ctx = analyse(model, sources, catalog, overrides, &linked, &eval);
    let chosen = select(&ctx.plans, args.cluster.as_deref());
    if chosen.is_empty() {
        if let Some(n) = &args.cluster {
            writeln!(out, "error: no cluster named `{n}` in the scanned files")?;
            return Ok(2);
        }
    }
    let mut docs = vec![];
    for (pi, plan) in &chosen {
        let rows = req_rows(&ctx, *pi);
        let beyond: Vec<(String, Vec<(String, Outcome)>)> = probes()
            .into_iter()
            .map(|(label, f)| {
                (
                    label,
                    plan.sources
                        .iter()
                        .map(|s| (s.name.clone(), eval.eval(s, &f)))
                        .collect(),
                )
            })
            .collect();
        match args.format {
            Format::Json => {
                let reqs: Vec<J> = rows
                    .iter()
                    .filter_map(|(ri, ev)| {
                        let r = plan.requirements.get(*ri)?;
                        let o = ev.worst()?;
                        Some(json!({
                            "id": r.entry.id,
                            "level": match r.entry.level { Level::Required => "required", Level::Recommended => "recommended" },
                            "destination": r.endpoint.destination,
                            "protocol": r.endpoint.protocol,
                            "port": r.endpoint.port,
                            "verdict": verdict_str(o.verdict),
                            "source": plan.sources.get(ev.source).map(|s| s.name.clone()),
                            "decided_by": loc_json(sources, o.decider.span().as_ref(), &decider_text(&o.decider)),
                        }))
                    })
                    .collect();
                let beyond_j: Vec<J> = beyond
                    .iter()
                    .flat_map(|(label, per)| {
                        per.iter().map(move |(src, o)| {
                            json!({
                                "probe": label,
                                "source": src,
                                "verdict": verdict_str(o.verdict),
                                "decided_by": loc_json(sources, o.decider.span().as_ref(), &decider_text(&o.decider)),
                            })
                        })
                    })
                    .collect();
                docs.push(json!({
                    "name": plan.name,
                    "kind": if plan.cluster.is_some() { "cluster" } else { "nsg" },
                    "location": plan.location,
                    "cloud": plan.cloud.as_str(),
                    "conditions": plan.conditions.iter().collect::<Vec<_>>(),
                    "note": mode_note(plan),
                    "sources": plan.sources.iter().map(|s| json!({"role": s.role, "subnet": s.name})).collect::<Vec<_>>(),
                    "requirements": reqs,
                    "beyond_catalog": beyond_j,
                }));
            }
            Format::Human => {
                writeln!(out, "{}", plan_header(plan))?;
                if let Some(n) = mode_note(plan) {
                    writeln!(out, "  note: {n}")?;
                }
                for s in &plan.sources {
                    writeln!(out, "  from {}", source_text(s))?;
                }
                for (level, title) in [
                    (Level::Required, "required"),
                    (Level::Recommended, "recommended"),
                ] {
                    let mine: Vec<_> = rows
                        .iter()
                        .filter(|(ri, _)| {
                            plan.requirements
                                .get(*ri)
                                .is_some_and(|r| r.entry.level == level)
                        })
                        .collect();
                    if mine.is_empty() {
                        continue;
                    }
                    writeln!(out, "  {title}:")?;
                    for (ri, ev) in mine {
                        let (Some(r), Some(o)) = (plan.requirements.get(*ri), ev.worst()) else {
                            continue;
                        };
                        let at = o
                            .decider
                            .span()
                            .and_then(|sp| loc(sources, &sp))
                            .map(|(f, l, c)| format!(" ({f}:{l}:{c})"))
                            .unwrap_or_default();
                        writeln!(
                            out,
                            "    {:<8} {:<48} {}{at}",
                            verdict_str(o.verdict),
                            format!(
                                "{}:{}/{}",
                                r.endpoint.destination, r.endpoint.port, r.endpoint.protocol
                            ),
                            decider_text(&o.decider)
                        )?;
                    }
                }
                if plan.mode == Mode::Checked && !plan.sources.is_empty() {
                    writeln!(out, "  beyond the catalog:")?;
                    for (label, per) in &beyond {
                        for (src, o) in per {
                            let from = if plan.sources.len() > 1 {
                                format!(" from `{src}`")
                            } else {
                                String::new()
                            };
                            writeln!(
                                out,
                                "    {:<8} {label}{from}: {}",
                                verdict_str(o.verdict),
                                decider_text(&o.decider)
                            )?;
                        }
                    }
                }
                writeln!(out)?;
            }
        }
    }
    if args.format == Format::Json {
        let doc = json!({"version": 1, "clusters": docs});
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        )?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = parse_target("mcr.microsoft.com").unwrap();
        assert_eq!(
            (t.port, t.transport, t.app),
            (443, Transport::Tcp, Some(AppProto::Https))
        );
        let t = parse_target("AzureCloud.westeurope:1194/udp").unwrap();
        assert_eq!(
            (t.dest.as_str(), t.port, t.transport, t.app),
            ("AzureCloud.westeurope", 1194, Transport::Udp, None)
        );
        let t = parse_target("security.ubuntu.com/http").unwrap();
        assert_eq!((t.port, t.app), (80, Some(AppProto::Http)));
        let t = parse_target("10.0.0.4:53/udp").unwrap();
        assert_eq!((t.dest.as_str(), t.port), ("10.0.0.4", 53));
        let t = parse_target("[2001:db8::1]:443/tcp").unwrap();
        assert_eq!((t.dest.as_str(), t.port, t.app), ("2001:db8::1", 443, None));
        assert!(parse_target("ntp.ubuntu.com/udp").is_err());
        assert!(parse_target("x:notaport").is_err());
        assert!(parse_target("").is_err());
    }
}

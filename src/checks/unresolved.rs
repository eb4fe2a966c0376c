//! AEL008 `unresolved-value`.
//!
//! ## What it does
//! Reports, as a note, each value that leaves a cluster's egress verdicts
//! `Unknown`: a variable without a default, a module output, an ARM
//! `reference()`, a next hop outside the scanned files. One note per value
//! and cluster, naming the endpoints it leaves undecided and, where known,
//! the flag or config key that would supply it.
//!
//! ## Why is this bad?
//! An unknown value is never treated as allowed nor as denied, so the
//! endpoints it decides are not checked at all. Supplying the value (or
//! scanning the folder that declares it) turns the note into a verdict.
//!
//! ## Example
//! ```hcl
//! route {
//!   name                   = "default"
//!   address_prefix         = "0.0.0.0/0"
//!   next_hop_type          = "VirtualAppliance"
//!   next_hop_in_ip_address = var.firewall_ip   # no default, no tfvars
//! }
//! ```
//! Use instead: pass `--var firewall_ip=10.0.8.4`, or add a `.tfvars` file.

use super::Ctx;
use super::missing_endpoint::endpoint_text;
use crate::eval::{Doubt, Verdict};
use crate::finding::{Code, Finding};
use crate::source::Span;

pub fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    super::per_plan(ctx, out, |pi, plan| {
        let mut out = vec![];
        let Some(results) = ctx.results.get(pi) else {
            return out;
        };
        // (span, reason) → hint, endpoints
        let mut groups: Vec<(Span, String, Option<String>, Vec<String>)> = vec![];
        for ev in results {
            if ev.verdict() != Verdict::Unknown {
                continue;
            }
            let Some(req) = plan.requirements.get(ev.req) else {
                continue;
            };
            let Some(o) = ev.worst() else { continue };
            let ep = endpoint_text(&req.endpoint);
            for d in &o.doubts {
                let (span, reason, hint) = match d {
                    Doubt::Value(u) => (u.span.clone(), u.reason.clone(), u.hint.clone()),
                    Doubt::Other { span, reason } => (span.clone(), reason.clone(), None),
                    // Broad rules are AEL009's.
                    Doubt::Broad { .. } => continue,
                };
                match groups.iter_mut().find(|g| g.0 == span && g.1 == reason) {
                    Some(g) => {
                        if !g.3.contains(&ep) {
                            g.3.push(ep.clone());
                        }
                    }
                    None => groups.push((span, reason, hint, vec![ep.clone()])),
                }
            }
        }
        for (span, reason, hint, eps) in groups {
            let shown: Vec<String> = eps.iter().take(3).map(|e| format!("`{e}`")).collect();
            let more = if eps.len() > 3 {
                format!(" and {} more", eps.len() - 3)
            } else {
                String::new()
            };
            let who = match plan.cluster {
                Some(_) => format!("cluster `{}`", plan.name),
                None => format!("NSG `{}`", plan.name),
            };
            let mut f = Finding::new(
                Code::AEL008,
                format!(
                    "egress of {who} to {}{more} is left unknown: {reason}",
                    shown.join(", ")
                ),
                span,
                "this value decides it",
            );
            if let Some(h) = hint {
                f = f.help(h);
            }
            if plan.cluster.is_some() {
                f = f.cluster(plan.name.clone());
            }
            out.push(f);
        }
        out
    })
}

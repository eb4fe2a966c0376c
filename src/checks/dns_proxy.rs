//! AEL005 `fqdn-network-rule-without-dns-proxy`.
//!
//! ## What it does
//! Finds firewall network rules that name FQDNs (`destination_fqdns`,
//! `destinationFqdns`) while the firewall (classic) or its policy, including
//! what a child inherits from its parent, has DNS proxy off.
//!
//! ## Why is this bad?
//! Azure Firewall matches network-rule FQDNs on the addresses its own DNS
//! proxy resolved; without the proxy such a rule never matches, and the
//! endpoint it was written for (often `ntp.ubuntu.com` on UDP 123) stays
//! blocked.
//!
//! ## Example
//! ```hcl
//! resource "azurerm_firewall_policy" "pol" {
//!   name = "fw-pol"                # no dns { proxy_enabled = true }
//! }
//! ```
//! Use instead: enable DNS proxy, and point the VNet's DNS servers at the
//! firewall's private IP.

use super::fix::{Lang, lang_of};
use crate::eval::firewall::{FwSetup, setup};
use crate::finding::{Code, Finding};
use crate::link::{Linked, decl_name};
use crate::model::Value;
use crate::source::Sources;

pub fn check(linked: &Linked, sources: &Sources, out: &mut Vec<Finding>) {
    use rayon::prelude::*;
    // Each firewall's rules are read for this check alone and dropped after
    // it, rather than every firewall's kept at once.
    let found: Vec<Vec<Finding>> = linked
        .model
        .firewalls
        .par_iter()
        .map(|fw| {
            let mut out = vec![];
            firewall(sources, &setup(linked, fw), &mut out);
            out
        })
        .collect();
    out.extend(found.into_iter().flatten());
}

fn firewall(sources: &Sources, s: &FwSetup, out: &mut Vec<Finding>) {
    if s.dns_proxy != Ok(false) {
        return;
    }
    for e in &s.network {
        if e.unordered.is_some() {
            continue;
        }
        let Some(a) = &e.rule.destination_fqdns else {
            continue;
        };
        let Value::Known(fqdns) = &a.value else {
            continue;
        };
        if fqdns.is_empty() {
            continue;
        }
        let shown: Vec<String> = fqdns.iter().take(3).map(|x| format!("`{x}`")).collect();
        let what = s.describe();
        let lang = lang_of(sources, &s.dns_span);
        let help = match (lang, s.is_policy()) {
            (Lang::Hcl, true) => {
                "enable DNS proxy on the policy:\ndns {\n  proxy_enabled = true\n}"
            }
            (Lang::Hcl, false) => "enable DNS proxy on the firewall:\ndns_proxy_enabled = true",
            (Lang::Json, true) => {
                "enable DNS proxy on the policy:\n\"dnsSettings\": { \"enableProxy\": true }"
            }
            (Lang::Json, false) => {
                "enable DNS proxy on the firewall:\n\"additionalProperties\": { \"Network.DNS.EnableProxy\": \"true\" }"
            }
        };
        out.push(
            Finding::new(
                Code::AEL005,
                format!(
                    "network rule `{}` names {} but DNS proxy is off on {what}",
                    decl_name(&e.rule.decl),
                    shown.join(", ")
                ),
                e.rule.decl.span.clone(),
                "these FQDNs never match without DNS proxy",
            )
            .related(s.dns_span.clone(), format!("DNS proxy is off on {what}"))
            .help(format!(
                "{help}\nand set the virtual network's DNS servers to the firewall's private IP"
            )),
        );
    }
}

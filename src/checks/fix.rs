//! Fixes written in the file's own language: an HCL block for Terraform
//! (`.tf`), an ARM JSON object for templates and exports (`.json`), ready to
//! paste where the primary label points.

use crate::eval::{AppProto, Dest, Flow};
use crate::source::{Sources, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Hcl,
    Json,
}

/// The language of the file a span lies in.
pub fn lang_of(sources: &Sources, span: &Span) -> Lang {
    if (span.file.0 as usize) < sources.len() {
        let p = &sources.get(span.file).path;
        if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("tf")) {
            return Lang::Hcl;
        }
    }
    Lang::Json
}

/// HCL attributes, one a line, `=` aligned.
fn hcl_attrs(pairs: &[(&str, String)], indent: &str) -> String {
    let w = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("{indent}{k:<w$} = {v}\n"))
        .collect()
}

/// `allow-mcr-microsoft-com-443`.
pub fn rule_name(flow_dest: &str, port: u16) -> String {
    let mut s = String::from("allow-");
    let mut dash = false;
    for c in flow_dest.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash && c != '*' {
            s.push('-');
            dash = true;
        }
    }
    let s = s.trim_end_matches('-').replace("allow--", "allow-");
    format!("{s}-{port}")
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// What the firewall rule must name.
pub enum FwTarget {
    /// Application rule to an FQDN.
    App { fqdn: String, proto: AppProto },
    /// Network rule to addresses or service tags.
    NetAddr(String),
    /// Network rule to an FQDN (needs DNS proxy).
    NetFqdn(String),
}

/// The firewall target that allows a flow (endpoint destination as shown).
/// A network-rule FQDN needs the firewall's DNS proxy; without it the rule
/// names every address (`*`), as the AKS document allows for NTP.
pub fn fw_target(flow: &Flow, endpoint_dest: &str, dns_proxy: bool) -> FwTarget {
    match (&flow.dest, flow.app) {
        (Dest::Fqdn { name, .. }, Some(proto)) => FwTarget::App {
            fqdn: name.clone(),
            proto,
        },
        (Dest::Fqdn { name, .. }, None) if dns_proxy => FwTarget::NetFqdn(name.clone()),
        (Dest::Fqdn { .. }, None) => FwTarget::NetAddr("*".into()),
        (Dest::Ip(ip), _) => FwTarget::NetAddr(ip.to_string()),
        (Dest::Tag(t), _) => FwTarget::NetAddr(t.clone()),
        (Dest::Unknown(_), _) => FwTarget::NetAddr(endpoint_dest.to_string()),
    }
}

/// A firewall rule allowing the flow. `policy`: Firewall Policy syntax
/// (`azurerm_firewall_policy_rule_collection_group` / ARM
/// `ruleCollectionGroups`) rather than classic collections.
pub fn firewall_rule(
    lang: Lang,
    policy: bool,
    flow: &Flow,
    endpoint_dest: &str,
    sources: &[String],
    dns_proxy: bool,
) -> String {
    let name = rule_name(endpoint_dest, flow.port);
    let proto = flow.transport.as_str().to_ascii_uppercase();
    let port = flow.port;
    match (lang, fw_target(flow, endpoint_dest, dns_proxy)) {
        (Lang::Hcl, FwTarget::App { fqdn, proto: p }) => {
            let (fq, pr) = if policy {
                ("destination_fqdns", "protocols")
            } else {
                ("target_fqdns", "protocol")
            };
            format!(
                "rule {{\n{}  {pr} {{\n{}  }}\n}}",
                hcl_attrs(
                    &[
                        ("name", q(&name)),
                        ("source_addresses", list(sources)),
                        (fq, list(&[fqdn])),
                    ],
                    "  "
                ),
                hcl_attrs(
                    &[("type", q(p.as_str())), ("port", port.to_string())],
                    "    "
                )
            )
        }
        (Lang::Hcl, t) => {
            let (key, val) = match t {
                FwTarget::NetFqdn(f) => ("destination_fqdns", f),
                FwTarget::NetAddr(a) => ("destination_addresses", a),
                FwTarget::App { fqdn, .. } => ("destination_fqdns", fqdn),
            };
            format!(
                "rule {{\n{}}}",
                hcl_attrs(
                    &[
                        ("name", q(&name)),
                        ("protocols", list(&[proto])),
                        ("source_addresses", list(sources)),
                        (key, list(&[val])),
                        ("destination_ports", list(&[port.to_string()])),
                    ],
                    "  "
                )
            )
        }
        (Lang::Json, FwTarget::App { fqdn, proto: p }) => {
            let kind = if policy {
                "\n  \"ruleType\": \"ApplicationRule\","
            } else {
                ""
            };
            format!(
                "{{{kind}\n  \"name\": {},\n  \"sourceAddresses\": {},\n  \"targetFqdns\": {},\n  \"protocols\": [{{ \"protocolType\": {}, \"port\": {port} }}]\n}}",
                q(&name),
                list(sources),
                list(&[fqdn]),
                q(p.as_str())
            )
        }
        (Lang::Json, t) => {
            let (key, val) = match t {
                FwTarget::NetFqdn(f) => ("destinationFqdns", f),
                FwTarget::NetAddr(a) => ("destinationAddresses", a),
                FwTarget::App { fqdn, .. } => ("destinationFqdns", fqdn),
            };
            let (kind, pkey) = if policy {
                ("\n  \"ruleType\": \"NetworkRule\",", "ipProtocols")
            } else {
                ("", "protocols")
            };
            format!(
                "{{{kind}\n  \"name\": {},\n  \"{pkey}\": {},\n  \"sourceAddresses\": {},\n  \"{key}\": {},\n  \"destinationPorts\": {}\n}}",
                q(&name),
                list(&[proto]),
                list(sources),
                list(&[val]),
                list(&[port.to_string()])
            )
        }
    }
}

/// The NSG destination that stands for a flow: an address or service tag;
/// NSGs cannot name FQDNs, so those become the tag the facts tie them to, or
/// `Internet`.
pub fn nsg_destination(flow: &Flow) -> String {
    match &flow.dest {
        Dest::Ip(ip) => ip.to_string(),
        Dest::Tag(t) => t.clone(),
        Dest::Fqdn { in_tags, .. } => in_tags
            .first()
            .cloned()
            .unwrap_or_else(|| "Internet".into()),
        Dest::Unknown(_) => "Internet".into(),
    }
}

/// An outbound NSG rule allowing the flow, at `priority`.
pub fn nsg_rule(
    lang: Lang,
    flow: &Flow,
    endpoint_dest: &str,
    priority: u32,
    source: &str,
) -> String {
    let name = rule_name(endpoint_dest, flow.port);
    let proto = match flow.transport {
        crate::eval::Transport::Tcp => "Tcp",
        crate::eval::Transport::Udp => "Udp",
    };
    let dest = nsg_destination(flow);
    match lang {
        Lang::Hcl => format!(
            "security_rule {{\n{}}}",
            hcl_attrs(
                &[
                    ("name", q(&name)),
                    ("priority", priority.to_string()),
                    ("direction", q("Outbound")),
                    ("access", q("Allow")),
                    ("protocol", q(proto)),
                    ("source_port_range", q("*")),
                    ("destination_port_range", q(&flow.port.to_string())),
                    ("source_address_prefix", q(source)),
                    ("destination_address_prefix", q(&dest)),
                ],
                "  "
            )
        ),
        Lang::Json => format!(
            "{{\n  \"name\": {},\n  \"properties\": {{\n    \"priority\": {priority},\n    \"direction\": \"Outbound\",\n    \"access\": \"Allow\",\n    \"protocol\": {},\n    \"sourcePortRange\": \"*\",\n    \"destinationPortRange\": {},\n    \"sourceAddressPrefix\": {},\n    \"destinationAddressPrefix\": {}\n  }}\n}}",
            q(&name),
            q(proto),
            q(&flow.port.to_string()),
            q(source),
            q(&dest)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            rule_name("mcr.microsoft.com", 443),
            "allow-mcr-microsoft-com-443"
        );
        assert_eq!(
            rule_name("*.hcp.westeurope.azmk8s.io", 443),
            "allow-hcp-westeurope-azmk8s-io-443"
        );
        assert_eq!(
            rule_name("AzureCloud.westeurope", 1194),
            "allow-azurecloud-westeurope-1194"
        );
    }
}

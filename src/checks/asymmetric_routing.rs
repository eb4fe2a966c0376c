//! AEL006 `asymmetric-routing`.
//!
//! ## What it does
//! Finds clusters whose node subnet sends `0.0.0.0/0` to a firewall while
//! the repository shows public inbound traffic through a load balancer (a
//! Kubernetes `Service` of type `LoadBalancer` without the
//! `service.beta.kubernetes.io/azure-load-balancer-internal: "true"`
//! annotation, an ingress controller asking for a public load balancer, an
//! add-on that creates one), and the firewall has no DNAT rule for it.
//!
//! ## Why is this bad?
//! Requests arrive on the load balancer's public IP, but replies follow the
//! default route to the stateful firewall, which never saw the connection
//! and drops them (AKS egress-udr / limit-egress-traffic docs).
//!
//! ## Example
//! ```yaml
//! apiVersion: v1
//! kind: Service
//! spec:
//!   type: LoadBalancer   # public, while 0.0.0.0/0 goes to the firewall
//! ```
//! Use instead: an internal load balancer behind a firewall DNAT rule, and a
//! route `<firewall public IP>/32 → Internet`.

use super::Ctx;
use crate::eval::requirements::Mode;
use crate::finding::{Code, Finding};
use crate::link::{ApplianceLink, decl_name};

pub fn check(ctx: &Ctx, out: &mut Vec<Finding>) {
    let Some(evidence) = ctx.model.public_inbound.first() else {
        return;
    };
    for plan in &ctx.plans {
        let Some(c) = plan.cluster else { continue };
        if matches!(plan.mode, Mode::Isolated(_) | Mode::ManagedVnet) {
            continue;
        }
        'src: for s in plan.sources.iter().filter(|s| s.role == "node") {
            for m in s.routes.iter().filter(|m| m.certain) {
                let r = m.item;
                let default = r
                    .address_prefix
                    .value
                    .known()
                    .is_some_and(|p| crate::eval::route::is_default_prefix(p));
                if !default {
                    continue;
                }
                let ApplianceLink::Firewall(hop) = ctx.linked.appliance(r) else {
                    continue;
                };
                let has_dnat = ctx
                    .eval
                    .setup_of(hop.firewall)
                    .is_some_and(|st| !st.nat.is_empty());
                if has_dnat {
                    continue;
                }
                let fw = decl_name(&hop.firewall.decl);
                out.push(
                    Finding::new(
                        Code::AEL006,
                        format!(
                            "route `{}` sends `0.0.0.0/0` of cluster `{}` to firewall `{fw}`, but public inbound traffic arrives through a load balancer ({}): the firewall drops the replies",
                            decl_name(&r.decl),
                            plan.name,
                            evidence.description
                        ),
                        r.decl.span.clone(),
                        "replies to public inbound traffic follow this route",
                    )
                    .related(evidence.decl.span.clone(), "public inbound traffic arrives here")
                    .related(hop.firewall.decl.span.clone(), format!("firewall `{fw}` has no DNAT rule"))
                    .related(c.decl.span.clone(), format!("cluster `{}`", plan.name))
                    .help("make the Service internal (annotation `service.beta.kubernetes.io/azure-load-balancer-internal: \"true\"`), publish it with a DNAT rule on the firewall, and route `<firewall public IP>/32` to `Internet`")
                    .cluster(plan.name.clone()),
                );
                break 'src;
            }
        }
    }
}

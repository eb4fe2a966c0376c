//! Matching primitives: addresses (CIDRs, ranges, service tags), FQDN
//! patterns, ports and protocols. Each answers with a [`Tri`]: a rule
//! certainly covers a flow, certainly does not, or may.

use ipnet::IpNet;
use std::net::IpAddr;
use std::str::FromStr;

/// Three-valued match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tri {
    Yes,
    No,
    Maybe,
}

impl Tri {
    pub fn from_bool(b: bool) -> Tri {
        if b { Tri::Yes } else { Tri::No }
    }

    /// Both must hold.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Maybe,
        }
    }

    /// Either holds.
    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::No, Tri::No) => Tri::No,
            _ => Tri::Maybe,
        }
    }

    /// OR over a list; an empty list matches nothing.
    pub fn any(items: impl IntoIterator<Item = Tri>) -> Tri {
        items.into_iter().fold(Tri::No, Tri::or)
    }
}

/// An inclusive address interval of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    pub v6: bool,
    pub lo: u128,
    pub hi: u128,
}

impl IpRange {
    pub fn from_net(net: IpNet) -> IpRange {
        let net = net.trunc();
        match net {
            IpNet::V4(n) => IpRange {
                v6: false,
                lo: u32::from(n.network()) as u128,
                hi: u32::from(n.broadcast()) as u128,
            },
            IpNet::V6(n) => IpRange {
                v6: true,
                lo: u128::from(n.network()),
                hi: u128::from(n.broadcast()),
            },
        }
    }

    pub fn from_ip(ip: IpAddr) -> IpRange {
        let (v6, x) = ip_num(ip);
        IpRange { v6, lo: x, hi: x }
    }

    pub fn contains_ip(&self, ip: IpAddr) -> bool {
        let (v6, x) = ip_num(ip);
        v6 == self.v6 && self.lo <= x && x <= self.hi
    }

    pub fn contains(&self, other: &IpRange) -> bool {
        self.v6 == other.v6 && self.lo <= other.lo && other.hi <= self.hi
    }

    pub fn overlaps(&self, other: &IpRange) -> bool {
        self.v6 == other.v6 && self.lo <= other.hi && other.lo <= self.hi
    }

    /// The whole IPv4 space.
    pub fn is_all_v4(&self) -> bool {
        !self.v6 && self.lo == 0 && self.hi == u32::MAX as u128
    }

    /// Entirely inside address space that is never a public Internet
    /// endpoint (RFC 1918, shared 100.64/10, loopback, link-local, ...).
    pub fn is_non_public(&self) -> bool {
        non_public_ranges().iter().any(|r| r.contains(self))
    }
}

fn ip_num(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u32::from(a) as u128),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

fn non_public_ranges() -> &'static [IpRange] {
    static RANGES: std::sync::OnceLock<Vec<IpRange>> = std::sync::OnceLock::new();
    RANGES.get_or_init(|| {
        [
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "224.0.0.0/3",
            "fc00::/7",
            "fe80::/10",
            "::1/128",
        ]
        .iter()
        .filter_map(|s| IpNet::from_str(s).ok())
        .map(IpRange::from_net)
        .collect()
    })
}

/// Whether an address is private (never a public endpoint).
pub fn is_non_public_ip(ip: IpAddr) -> bool {
    IpRange::from_ip(ip).is_non_public()
}

/// An address pattern as written in a rule or route.
#[derive(Clone, Debug, PartialEq)]
pub enum AddrPat {
    /// `*`, `Any`.
    Any,
    Range(IpRange),
    /// A service tag, as written.
    Tag(String),
}

/// `s.trim()`, without the character walk for the usual string that
/// starts and ends with a visible ASCII character.
fn trim(s: &str) -> &str {
    let solid = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_graphic());
    if solid(s.as_bytes().first()) && solid(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// Parse `*`, an address, a CIDR (host bits allowed), a range `a-b`, or a
/// service tag (anything else that looks like a name).
pub fn parse_addr(s: &str) -> Option<AddrPat> {
    let s = trim(s);
    if s.is_empty() {
        return None;
    }
    if s == "*" || s.eq_ignore_ascii_case("any") {
        return Some(AddrPat::Any);
    }
    if let Ok(ip) = IpAddr::from_str(s) {
        return Some(AddrPat::Range(IpRange::from_ip(ip)));
    }
    if let Ok(net) = IpNet::from_str(s) {
        return Some(AddrPat::Range(IpRange::from_net(net)));
    }
    if let Some((a, b)) = s.split_once('-')
        && let (Ok(a), Ok(b)) = (IpAddr::from_str(a.trim()), IpAddr::from_str(b.trim()))
    {
        let (ra, rb) = (IpRange::from_ip(a), IpRange::from_ip(b));
        if ra.v6 == rb.v6 && ra.lo <= rb.lo {
            return Some(AddrPat::Range(IpRange {
                v6: ra.v6,
                lo: ra.lo,
                hi: rb.lo,
            }));
        }
        return None;
    }
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
    {
        return Some(AddrPat::Tag(s.to_string()));
    }
    None
}

/// Parse a CIDR or address into an interval (no tags).
pub fn parse_range(s: &str) -> Option<IpRange> {
    match parse_addr(s)? {
        AddrPat::Range(r) => Some(r),
        AddrPat::Any => IpNet::from_str("0.0.0.0/0").ok().map(IpRange::from_net),
        AddrPat::Tag(_) => None,
    }
}

/// Where the pattern is evaluated: tags such as `Internet` and
/// `VirtualNetwork` exist only in NSGs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Nsg,
    Firewall,
    Route,
}

/// The destination of a flow, for address matching.
#[derive(Clone, Debug, PartialEq)]
pub enum DestAddr {
    Ip(IpAddr),
    /// A public address not known statically (an FQDN's, or some address
    /// inside a service tag), with the service tags it certainly lies in.
    Public {
        in_tags: Vec<String>,
    },
}

/// What `VirtualNetwork` contains for the subnet a flow leaves from.
#[derive(Clone, Debug, Default)]
pub struct VnetScope {
    /// The VNet's address space; `None` when not known.
    pub space: Option<Vec<IpRange>>,
    /// UDR prefixes on the subnet (they join `VirtualNetwork`, see
    /// MicrosoftDocs/azure-docs#22178): CIDRs, and tags as written.
    pub udr_prefixes: Vec<String>,
}

/// Does service tag `pat` contain every address of tag `member`?
/// `AzureCloud` ⊇ `AzureCloud.westeurope`; regional tags of one base are
/// disjoint; anything else may or may not overlap.
pub fn tag_covers(pat: &str, member: &str) -> Tri {
    let (p, m) = (trim(pat), trim(member));
    if p.eq_ignore_ascii_case(m) {
        return Tri::Yes;
    }
    let (pb, pr) = split_tag(p);
    let (mb, mr) = split_tag(m);
    if pb.eq_ignore_ascii_case(mb) {
        return match (pr, mr) {
            (None, Some(_)) => Tri::Yes,
            (Some(_), Some(_)) => Tri::No,
            _ => Tri::Maybe,
        };
    }
    Tri::Maybe
}

fn split_tag(t: &str) -> (&str, Option<&str>) {
    match t.split_once('.') {
        Some((b, r)) => (b, Some(r)),
        None => (t, None),
    }
}

/// The tags whose meaning the evaluation knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TagKind {
    Internet,
    VirtualNetwork,
    AzureLoadBalancer,
    Other,
}

fn tag_kind(t: &str) -> TagKind {
    let t = trim(t);
    if t.eq_ignore_ascii_case("internet") {
        TagKind::Internet
    } else if t.eq_ignore_ascii_case("virtualnetwork") {
        TagKind::VirtualNetwork
    } else if t.eq_ignore_ascii_case("azureloadbalancer") {
        TagKind::AzureLoadBalancer
    } else {
        TagKind::Other
    }
}

fn is_nsg_only_tag(t: &str) -> bool {
    const PLATFORM: &str = "azureplatform";
    tag_kind(t) != TagKind::Other
        || trim(t)
            .get(..PLATFORM.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(PLATFORM))
}

/// Azure's virtual public address (AzureLoadBalancer's probes, DNS, IMDS).
const AZURE_LB: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(168, 63, 129, 16));

/// Does an address pattern contain the destination?
pub fn addr_covers(pat: &AddrPat, dest: &DestAddr, place: Place, vnet: &VnetScope) -> Tri {
    addr_covers_depth(pat, dest, place, vnet, 0)
}

fn addr_covers_depth(
    pat: &AddrPat,
    dest: &DestAddr,
    place: Place,
    vnet: &VnetScope,
    depth: u8,
) -> Tri {
    match pat {
        AddrPat::Any => Tri::Yes,
        AddrPat::Range(r) => match dest {
            DestAddr::Ip(ip) => Tri::from_bool(r.contains_ip(*ip)),
            DestAddr::Public { .. } => {
                if r.is_all_v4() {
                    Tri::Yes
                } else if r.is_non_public() {
                    Tri::No
                } else {
                    Tri::Maybe
                }
            }
        },
        AddrPat::Tag(t) => {
            if place != Place::Nsg && is_nsg_only_tag(t) {
                // Not valid outside NSGs: Azure rejects it, so it matches nothing.
                return Tri::No;
            }
            match (tag_kind(t), dest) {
                (TagKind::Internet, DestAddr::Ip(ip)) => Tri::from_bool(!is_non_public_ip(*ip)),
                (TagKind::Internet, DestAddr::Public { .. }) => Tri::Yes,
                (TagKind::VirtualNetwork, _) => virtual_network_covers(dest, vnet, depth),
                (TagKind::AzureLoadBalancer, DestAddr::Ip(ip)) => Tri::from_bool(*ip == AZURE_LB),
                (TagKind::AzureLoadBalancer, DestAddr::Public { .. }) => Tri::No,
                (TagKind::Other, DestAddr::Ip(ip)) => {
                    if is_non_public_ip(*ip) {
                        Tri::No
                    } else {
                        Tri::Maybe
                    }
                }
                (TagKind::Other, DestAddr::Public { in_tags }) => {
                    // Yes when one member tag is covered; No when every one
                    // (and at least one) is disjoint; else Maybe.
                    let mut all_no = !in_tags.is_empty();
                    for m in in_tags {
                        match tag_covers(t, m) {
                            Tri::Yes => return Tri::Yes,
                            Tri::No => {}
                            Tri::Maybe => all_no = false,
                        }
                    }
                    if all_no { Tri::No } else { Tri::Maybe }
                }
            }
        }
    }
}

fn virtual_network_covers(dest: &DestAddr, vnet: &VnetScope, depth: u8) -> Tri {
    let mut acc = Tri::No;
    if let DestAddr::Ip(ip) = dest {
        match &vnet.space {
            Some(space) if space.iter().any(|r| r.contains_ip(*ip)) => return Tri::Yes,
            // Peered and on-premises spaces are part of `VirtualNetwork` too.
            Some(_) if is_non_public_ip(*ip) => acc = Tri::Maybe,
            None => acc = Tri::Maybe,
            _ => {}
        }
    }
    if depth == 0 {
        for p in &vnet.udr_prefixes {
            if let Some(pat) = parse_addr(p) {
                if matches!(&pat, AddrPat::Tag(t) if is_nsg_only_tag(t)) {
                    continue;
                }
                acc = acc.or(addr_covers_depth(&pat, dest, Place::Route, vnet, depth + 1));
            }
        }
    }
    acc
}

/// Normalise an FQDN: lowercase, no trailing dot.
pub fn norm_fqdn(s: &str) -> String {
    trim(s).trim_end_matches('.').to_ascii_lowercase()
}

/// Azure Firewall FQDN pattern validity: `*`, `*.x`, `*x` or a plain name.
/// `www.contoso.*`, `*.contoso.*` and `a*.x` are rejected by Azure.
pub fn fqdn_pattern_valid(p: &str) -> bool {
    norm_pattern_valid(&norm_fqdn(p))
}

/// [`fqdn_pattern_valid`] of a pattern already through [`norm_fqdn`].
pub(crate) fn norm_pattern_valid(p: &str) -> bool {
    if p.is_empty() {
        return false;
    }
    match p.strip_prefix('*') {
        Some(rest) => !rest.contains('*'),
        None => !p.contains('*'),
    }
}

/// A firewall FQDN pattern read once: normalised, or `None` when Azure
/// rejects it (it then matches nothing).
pub fn fqdn_pattern(pattern: &str) -> Option<String> {
    let p = norm_fqdn(pattern);
    norm_pattern_valid(&p).then_some(p)
}

/// Does a firewall FQDN pattern (`targetFqdns`) match the destination name?
/// The destination is an exact name or `*.d` (every subdomain of `d`, as the
/// catalog writes endpoints whose host part varies).
///
/// Semantics from Azure Firewall rule processing: `*.contoso.com` matches
/// subdomains at any depth but not `contoso.com`; `*contoso.com` matches the
/// apex, subdomains and also `anycontoso.com`.
pub fn fqdn_covers(pattern: &str, dest: &str) -> Tri {
    match fqdn_pattern(pattern) {
        Some(p) => fqdn_covers_norm(&p, &norm_fqdn(dest)),
        None => Tri::No,
    }
}

/// [`fqdn_covers`] of a valid pattern from [`fqdn_pattern`] and a
/// destination through [`norm_fqdn`].
pub fn fqdn_covers_norm(p: &str, d: &str) -> Tri {
    if p == "*" {
        return Tri::Yes;
    }
    match d.strip_prefix('*').filter(|rest| rest.starts_with('.')) {
        None => {
            // Exact destination name.
            if d.contains('*') {
                return Tri::Maybe;
            }
            match p.strip_prefix('*') {
                None => Tri::from_bool(p == d),
                // A name never starts with a dot, so `*.x` cannot match `x`.
                Some(suffix) => Tri::from_bool(d.ends_with(suffix)),
            }
        }
        Some(dotted) => {
            // Destination `*.base` is every name `<x>.base`, x non-empty,
            // any depth; `dotted` is `.base`.
            match p.strip_prefix('*') {
                None => {
                    // One exact name may be one member of the set.
                    Tri::from_bool(p.ends_with(dotted) && p.len() > dotted.len()).and(Tri::Maybe)
                }
                Some(suffix) => {
                    if dotted.ends_with(suffix) {
                        Tri::Yes
                    } else if suffix.ends_with(dotted) {
                        Tri::Maybe
                    } else {
                        Tri::No
                    }
                }
            }
        }
    }
}

/// A port spec: `*`, `443`, `1000-2000`. `None` when it cannot be read.
pub fn port_covers(spec: &str, port: u16) -> Option<bool> {
    port_range(spec).map(|(a, b)| a <= port && port <= b)
}

/// A port spec as an inclusive range (`*` is every port).
fn port_range(spec: &str) -> Option<(u16, u16)> {
    let s = trim(spec);
    if s == "*" || s.eq_ignore_ascii_case("any") {
        return Some((0, u16::MAX));
    }
    if let Some((a, b)) = s.split_once('-') {
        let a: u16 = a.trim().parse().ok()?;
        let b: u16 = b.trim().parse().ok()?;
        return Some((a, b));
    }
    let p: u16 = s.parse().ok()?;
    Some((p, p))
}

/// OR over a list of port specs; unreadable specs make it uncertain.
pub fn ports_cover(specs: &[String], port: u16) -> Tri {
    Tri::any(
        specs
            .iter()
            .flat_map(|s| s.split(','))
            .map(|s| match port_covers(s, port) {
                Some(b) => Tri::from_bool(b),
                None => Tri::Maybe,
            }),
    )
}

/// A list of port specs read once: [`ports_cover`] without the parsing.
/// Each spec is an inclusive range, `None` when unreadable; a list of one
/// (the usual case) needs no allocation.
#[derive(Clone, Debug, PartialEq)]
pub enum Ports {
    One(Option<(u16, u16)>),
    Many(Vec<Option<(u16, u16)>>),
}

impl Ports {
    pub fn parse(specs: &[String]) -> Ports {
        let mut it = specs.iter().flat_map(|s| s.split(','));
        match (it.next(), it.next()) {
            (Some(one), None) => Ports::One(port_range(one)),
            _ => Ports::Many(
                specs
                    .iter()
                    .flat_map(|s| s.split(','))
                    .map(port_range)
                    .collect(),
            ),
        }
    }

    pub fn cover(&self, port: u16) -> Tri {
        let one = |r: &Option<(u16, u16)>| match r {
            Some((a, b)) => Tri::from_bool(*a <= port && port <= *b),
            None => Tri::Maybe,
        };
        match self {
            Ports::One(r) => one(r),
            Ports::Many(l) => Tri::any(l.iter().map(one)),
        }
    }
}

/// Transport protocol of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// NSG protocol (`Tcp`, `Udp`, `Icmp`, `Esp`, `Ah`, `*`) or firewall network
/// rule protocol (`TCP`, `UDP`, `ICMP`, `Any`) against a transport.
pub fn protocol_covers(p: &str, t: Transport) -> Tri {
    let p = trim(p);
    let is = |s: &str| p.eq_ignore_ascii_case(s);
    if p == "*" || is("any") {
        Tri::Yes
    } else if is("tcp") {
        Tri::from_bool(t == Transport::Tcp)
    } else if is("udp") {
        Tri::from_bool(t == Transport::Udp)
    } else if is("icmp") || is("esp") || is("ah") || is("icmpv6") {
        Tri::No
    } else {
        Tri::Maybe
    }
}

/// A protocol read once: its [`protocol_covers`] for each transport.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProtoMatch([Tri; 2]);

impl ProtoMatch {
    pub fn parse(p: &str) -> ProtoMatch {
        ProtoMatch([
            protocol_covers(p, Transport::Tcp),
            protocol_covers(p, Transport::Udp),
        ])
    }

    /// OR over a list of protocols.
    pub fn any<'a>(list: impl IntoIterator<Item = &'a String>) -> ProtoMatch {
        list.into_iter()
            .map(|p| ProtoMatch::parse(p))
            .fold(ProtoMatch([Tri::No; 2]), |a, b| {
                ProtoMatch([a.0[0].or(b.0[0]), a.0[1].or(b.0[1])])
            })
    }

    pub fn covers(self, t: Transport) -> Tri {
        match t {
            Transport::Tcp => self.0[0],
            Transport::Udp => self.0[1],
        }
    }
}

/// The source of a flow against a source pattern. `src` holds the source
/// subnet's prefixes, `None` when they are not known.
pub fn source_covers(pat: &AddrPat, src: Option<&[IpRange]>, place: Place) -> Tri {
    match pat {
        AddrPat::Any => Tri::Yes,
        AddrPat::Tag(t) => {
            if place == Place::Nsg && tag_kind(t) == TagKind::VirtualNetwork {
                // The node subnet is inside its own VNet.
                Tri::Yes
            } else {
                // Private node addresses are in no public service tag.
                Tri::No
            }
        }
        AddrPat::Range(r) => match src {
            None => Tri::Maybe,
            Some([]) => Tri::Maybe,
            Some(prefixes) => {
                if prefixes.iter().all(|p| r.contains(p)) {
                    Tri::Yes
                } else if prefixes.iter().all(|p| !r.overlaps(p)) {
                    Tri::No
                } else {
                    Tri::Maybe
                }
            }
        },
    }
}

/// First assignable address of a subnet: Azure reserves the network address
/// and the next three, so it is network + 4 (`10.0.1.0/26` → `10.0.1.4`).
pub fn first_assignable(prefix: &str) -> Option<IpAddr> {
    let net = IpNet::from_str(prefix.trim()).ok()?.trunc();
    match net {
        IpNet::V4(n) => {
            let base = u32::from(n.network());
            let ip = base.checked_add(4)?;
            let addr = std::net::Ipv4Addr::from(ip);
            n.contains(&addr).then_some(IpAddr::V4(addr))
        }
        IpNet::V6(n) => {
            let base = u128::from(n.network());
            let addr = std::net::Ipv6Addr::from(base.checked_add(4)?);
            n.contains(&addr).then_some(IpAddr::V6(addr))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(tags: &[&str]) -> DestAddr {
        DestAddr::Public {
            in_tags: tags.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn ip(s: &str) -> DestAddr {
        DestAddr::Ip(s.parse().unwrap())
    }

    #[test]
    fn fqdn_table() {
        use Tri::*;
        let cases = [
            // (pattern, destination, expected)
            ("mcr.microsoft.com", "mcr.microsoft.com", Yes),
            ("MCR.Microsoft.com.", "mcr.microsoft.com", Yes),
            ("mcr.microsoft.com", "mcr2.microsoft.com", No),
            ("*.microsoft.com", "mcr.microsoft.com", Yes),
            ("*.microsoft.com", "a.b.microsoft.com", Yes),
            ("*.microsoft.com", "microsoft.com", No),
            ("*microsoft.com", "microsoft.com", Yes),
            ("*microsoft.com", "notmicrosoft.com", Yes),
            ("*.microsoft.com", "notmicrosoft.com", No),
            ("*", "anything.example", Yes),
            ("www.contoso.*", "www.contoso.com", No),
            ("*.contoso.*", "a.contoso.com", No),
            ("a*.contoso.com", "ab.contoso.com", No),
            // Wildcard destinations: every subdomain of the base.
            ("*.data.mcr.microsoft.com", "*.data.mcr.microsoft.com", Yes),
            ("*.mcr.microsoft.com", "*.data.mcr.microsoft.com", Yes),
            ("*mcr.microsoft.com", "*.data.mcr.microsoft.com", Yes),
            ("mcr.microsoft.com", "*.data.mcr.microsoft.com", No),
            ("data.mcr.microsoft.com", "*.data.mcr.microsoft.com", No),
            (
                "x.data.mcr.microsoft.com",
                "*.data.mcr.microsoft.com",
                Maybe,
            ),
            (
                "*.a.data.mcr.microsoft.com",
                "*.data.mcr.microsoft.com",
                Maybe,
            ),
            ("*.hcp.westeurope.azmk8s.io", "*.hcp.eastus.azmk8s.io", No),
            ("*.azmk8s.io", "*.hcp.eastus.azmk8s.io", Yes),
        ];
        for (p, d, want) in cases {
            assert_eq!(fqdn_covers(p, d), want, "{p} vs {d}");
        }
    }

    #[test]
    fn cidr_table() {
        use Tri::*;
        let v = VnetScope::default();
        let cases = [
            ("10.0.0.0/8", ip("10.1.2.3"), Yes),
            ("10.0.0.0/8", ip("11.1.2.3"), No),
            ("10.1.2.0/24", ip("10.1.3.1"), No),
            ("10.1.2.5/24", ip("10.1.2.200"), Yes), // host bits ignored
            ("10.0.0.1-10.0.0.9", ip("10.0.0.9"), Yes),
            ("10.0.0.1-10.0.0.9", ip("10.0.0.10"), No),
            ("0.0.0.0/0", public(&[]), Yes),
            ("*", public(&[]), Yes),
            ("10.0.0.0/8", public(&[]), No),
            ("192.168.0.0/16", public(&[]), No),
            ("20.0.0.0/8", public(&[]), Maybe),
            ("20.0.0.0/8", public(&["AzureCloud.westeurope"]), Maybe),
            ("2001:db8::/32", ip("10.0.0.1"), No),
        ];
        for (p, d, want) in cases {
            let pat = parse_addr(p).unwrap();
            assert_eq!(
                addr_covers(&pat, &d, Place::Firewall, &v),
                want,
                "{p} vs {d:?}"
            );
        }
        let a = parse_range("10.0.0.0/16").unwrap();
        let b = parse_range("10.0.1.0/24").unwrap();
        let c = parse_range("10.1.0.0/16").unwrap();
        assert!(a.contains(&b) && !b.contains(&a) && a.overlaps(&b) && !a.overlaps(&c));
        assert_eq!(parse_addr("10.0.0.9-10.0.0.1"), None);
        assert_eq!(parse_addr(""), None);
    }

    #[test]
    fn tag_table() {
        use Tri::*;
        let v = VnetScope::default();
        let cases = [
            (
                "AzureCloud.westeurope",
                public(&["AzureCloud.westeurope"]),
                Place::Firewall,
                Yes,
            ),
            (
                "azurecloud.WestEurope",
                public(&["AzureCloud.westeurope"]),
                Place::Firewall,
                Yes,
            ),
            (
                "AzureCloud",
                public(&["AzureCloud.westeurope"]),
                Place::Firewall,
                Yes,
            ),
            (
                "AzureCloud.eastus",
                public(&["AzureCloud.westeurope"]),
                Place::Firewall,
                No,
            ),
            (
                "AzureCloud.westeurope",
                public(&["AzureCloud"]),
                Place::Firewall,
                Maybe,
            ),
            ("AzureCloud.westeurope", public(&[]), Place::Firewall, Maybe),
            (
                "MicrosoftContainerRegistry",
                public(&["MicrosoftContainerRegistry"]),
                Place::Nsg,
                Yes,
            ),
            (
                "Storage",
                public(&["AzureCloud.westeurope"]),
                Place::Nsg,
                Maybe,
            ),
            ("Internet", public(&[]), Place::Nsg, Yes),
            ("Internet", public(&[]), Place::Firewall, No),
            ("Internet", ip("10.0.0.4"), Place::Nsg, No),
            ("Internet", ip("20.1.1.1"), Place::Nsg, Yes),
            ("VirtualNetwork", public(&[]), Place::Nsg, No),
            ("VirtualNetwork", ip("10.9.9.9"), Place::Nsg, Maybe),
            ("AzureLoadBalancer", public(&[]), Place::Nsg, No),
            ("AzureCloud", ip("10.0.0.4"), Place::Firewall, No),
        ];
        for (p, d, place, want) in cases {
            let pat = parse_addr(p).unwrap();
            assert_eq!(addr_covers(&pat, &d, place, &v), want, "{p} vs {d:?}");
        }
    }

    #[test]
    fn virtual_network_with_udr() {
        let pat = parse_addr("VirtualNetwork").unwrap();
        let mut v = VnetScope {
            space: Some(vec![parse_range("10.0.0.0/16").unwrap()]),
            udr_prefixes: vec![],
        };
        assert_eq!(addr_covers(&pat, &ip("10.0.3.4"), Place::Nsg, &v), Tri::Yes);
        assert_eq!(addr_covers(&pat, &ip("20.0.3.4"), Place::Nsg, &v), Tri::No);
        assert_eq!(addr_covers(&pat, &public(&[]), Place::Nsg, &v), Tri::No);
        // A 0.0.0.0/0 UDR makes VirtualNetwork everything (azure-docs#22178).
        v.udr_prefixes.push("0.0.0.0/0".into());
        assert_eq!(addr_covers(&pat, &public(&[]), Place::Nsg, &v), Tri::Yes);
        assert_eq!(addr_covers(&pat, &ip("20.0.3.4"), Place::Nsg, &v), Tri::Yes);
        v.udr_prefixes = vec!["AzureCloud.westeurope".into()];
        assert_eq!(
            addr_covers(&pat, &public(&["AzureCloud.westeurope"]), Place::Nsg, &v),
            Tri::Yes
        );
    }

    #[test]
    fn ports_and_protocols() {
        assert_eq!(port_covers("*", 443), Some(true));
        assert_eq!(port_covers("443", 443), Some(true));
        assert_eq!(port_covers("80", 443), Some(false));
        assert_eq!(port_covers("400-500", 443), Some(true));
        assert_eq!(port_covers("444-500", 443), Some(false));
        assert_eq!(port_covers("https", 443), None);
        let specs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(ports_cover(&specs(&["80", "443"]), 443), Tri::Yes);
        assert_eq!(ports_cover(&specs(&["80,443"]), 443), Tri::Yes);
        assert_eq!(ports_cover(&specs(&["80", "x"]), 443), Tri::Maybe);
        assert_eq!(ports_cover(&specs(&[]), 443), Tri::No);
        assert_eq!(protocol_covers("Tcp", Transport::Tcp), Tri::Yes);
        assert_eq!(protocol_covers("TCP", Transport::Udp), Tri::No);
        assert_eq!(protocol_covers("*", Transport::Udp), Tri::Yes);
        assert_eq!(protocol_covers("Any", Transport::Udp), Tri::Yes);
        assert_eq!(protocol_covers("Icmp", Transport::Tcp), Tri::No);
        assert_eq!(protocol_covers("Weird", Transport::Tcp), Tri::Maybe);
    }

    #[test]
    fn sources_and_firewall_address() {
        let sub = [parse_range("10.0.1.0/24").unwrap()];
        let p = |s: &str| parse_addr(s).unwrap();
        assert_eq!(
            source_covers(&p("10.0.0.0/16"), Some(&sub), Place::Firewall),
            Tri::Yes
        );
        assert_eq!(
            source_covers(&p("10.1.0.0/16"), Some(&sub), Place::Firewall),
            Tri::No
        );
        assert_eq!(
            source_covers(&p("10.0.1.0/25"), Some(&sub), Place::Firewall),
            Tri::Maybe
        );
        assert_eq!(
            source_covers(&p("10.0.1.0/25"), None, Place::Firewall),
            Tri::Maybe
        );
        assert_eq!(
            source_covers(&p("VirtualNetwork"), None, Place::Nsg),
            Tri::Yes
        );
        assert_eq!(source_covers(&p("*"), None, Place::Nsg), Tri::Yes);
        assert_eq!(
            first_assignable("10.0.1.0/26").unwrap().to_string(),
            "10.0.1.4"
        );
        assert_eq!(
            first_assignable("10.0.1.7/26").unwrap().to_string(),
            "10.0.1.4"
        );
        assert_eq!(first_assignable("10.0.1.0/31"), None);
        assert_eq!(first_assignable("nonsense"), None);
    }

    /// The allocating definitions these primitives had, kept to pin the
    /// rewritten ones to them.
    mod before {
        use super::super::{Transport, Tri};

        fn tag_norm(t: &str) -> String {
            t.trim().to_ascii_lowercase()
        }

        pub fn tag_covers(pat: &str, member: &str) -> Tri {
            let (p, m) = (tag_norm(pat), tag_norm(member));
            if p == m {
                return Tri::Yes;
            }
            let split = |t: &str| -> (String, bool) {
                match t.split_once('.') {
                    Some((b, _)) => (b.to_string(), true),
                    None => (t.to_string(), false),
                }
            };
            let ((pb, pr), (mb, mr)) = (split(&p), split(&m));
            if pb == mb {
                return match (pr, mr) {
                    (false, true) => Tri::Yes,
                    (true, true) => Tri::No,
                    _ => Tri::Maybe,
                };
            }
            Tri::Maybe
        }

        pub fn is_nsg_only_tag(t: &str) -> bool {
            let t = tag_norm(t);
            t == "internet"
                || t == "virtualnetwork"
                || t == "azureloadbalancer"
                || t.starts_with("azureplatform")
        }

        pub fn protocol_covers(p: &str, t: Transport) -> Tri {
            match p.trim().to_ascii_lowercase().as_str() {
                "*" | "any" => Tri::Yes,
                "tcp" => Tri::from_bool(t == Transport::Tcp),
                "udp" => Tri::from_bool(t == Transport::Udp),
                "icmp" | "esp" | "ah" | "icmpv6" => Tri::No,
                _ => Tri::Maybe,
            }
        }

        fn norm_fqdn(s: &str) -> String {
            s.trim().trim_end_matches('.').to_ascii_lowercase()
        }

        pub fn fqdn_pattern_valid(p: &str) -> bool {
            let p = norm_fqdn(p);
            if p.is_empty() {
                return false;
            }
            match p.strip_prefix('*') {
                Some(rest) => !rest.contains('*'),
                None => !p.contains('*'),
            }
        }

        pub fn fqdn_covers(pattern: &str, dest: &str) -> Tri {
            if !fqdn_pattern_valid(pattern) {
                return Tri::No;
            }
            let p = norm_fqdn(pattern);
            let d = norm_fqdn(dest);
            if p == "*" {
                return Tri::Yes;
            }
            match d.strip_prefix("*.") {
                None => {
                    if d.contains('*') {
                        return Tri::Maybe;
                    }
                    match p.strip_prefix('*') {
                        None => Tri::from_bool(p == d),
                        Some(suffix) => Tri::from_bool(d.ends_with(suffix)),
                    }
                }
                Some(base) => {
                    let dotted = format!(".{base}");
                    match p.strip_prefix('*') {
                        None => Tri::from_bool(p.ends_with(&dotted) && p.len() > dotted.len())
                            .and(Tri::Maybe),
                        Some(suffix) => {
                            if dotted.ends_with(suffix) {
                                Tri::Yes
                            } else if suffix.ends_with(&dotted) {
                                Tri::Maybe
                            } else {
                                Tri::No
                            }
                        }
                    }
                }
            }
        }

        pub fn port_covers(spec: &str, port: u16) -> Option<bool> {
            let s = spec.trim();
            if s == "*" || s.eq_ignore_ascii_case("any") {
                return Some(true);
            }
            if let Some((a, b)) = s.split_once('-') {
                let a: u16 = a.trim().parse().ok()?;
                let b: u16 = b.trim().parse().ok()?;
                return Some(a <= port && port <= b);
            }
            let p: u16 = s.parse().ok()?;
            Some(p == port)
        }
    }

    fn word() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof![
            proptest::sample::select(vec![
                "AzureCloud",
                "azurecloud.WestEurope",
                " AzureCloud.westeurope ",
                "AzureCloud.eastus",
                "Internet",
                "VIRTUALNETWORK",
                "AzureLoadBalancer",
                "AzurePlatformDNS",
                "azureplatform",
                "azureplat",
                "Storage",
                "Storage.westeurope.x",
                "",
                ".",
                "tcp",
                " UDP ",
                "Any",
                "*",
                "icmpv6",
                "Ah",
                "443",
                "1-1000",
                " 80 - 90 ",
                "70000",
            ])
            .prop_map(String::from),
            "[ a-zA-Z.*0-9-]{0,14}",
        ]
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn rewritten_primitives_answer_as_before(a in word(), b in word(), port in 0u16..2000) {
            prop_assert_eq!(tag_covers(&a, &b), before::tag_covers(&a, &b));
            prop_assert_eq!(is_nsg_only_tag(&a), before::is_nsg_only_tag(&a));
            for t in [Transport::Tcp, Transport::Udp] {
                prop_assert_eq!(protocol_covers(&a, t), before::protocol_covers(&a, t));
                prop_assert_eq!(ProtoMatch::parse(&a).covers(t), protocol_covers(&a, t));
            }
            prop_assert_eq!(port_covers(&a, port), before::port_covers(&a, port));
            let specs = vec![a.clone(), b.clone()];
            prop_assert_eq!(Ports::parse(&specs).cover(port), ports_cover(&specs, port));
            for ip in ["168.63.129.16", "168.63.129.17", "::ffff:168.63.129.16", "10.0.0.1"] {
                let ip: IpAddr = ip.parse().unwrap();
                let t = addr_covers(&AddrPat::Tag(a.clone()), &DestAddr::Ip(ip), Place::Nsg, &VnetScope::default());
                if a.trim().eq_ignore_ascii_case("azureloadbalancer") {
                    prop_assert_eq!(t, Tri::from_bool(ip.to_string() == "168.63.129.16"));
                }
            }
        }

        #[test]
        fn trimming_is_str_trim(s in "[ \t\n\u{b}\u{c}\r\u{a0}\u{2003}a.*é-]{0,8}") {
            prop_assert_eq!(trim(&s), s.trim());
        }

        #[test]
        fn fqdn_matching_answers_as_before(p in word(), d in word()) {
            prop_assert_eq!(fqdn_covers(&p, &d), before::fqdn_covers(&p, &d));
            prop_assert_eq!(fqdn_pattern(&p).is_some(), before::fqdn_pattern_valid(&p));
            prop_assert_eq!(fqdn_pattern_valid(&p), before::fqdn_pattern_valid(&p));
            let wild = format!("*.{d}");
            prop_assert_eq!(fqdn_covers(&p, &wild), before::fqdn_covers(&p, &wild));
        }
    }
}

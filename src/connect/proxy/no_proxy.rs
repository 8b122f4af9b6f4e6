//! [`NoProxy`]: the targets that bypass the proxy.

use std::net::IpAddr;

/// Targets that bypass the proxy, as `NO_PROXY` lists them: comma- or space-separated
/// host names (`example.com` also matches its subdomains, with or without a leading
/// dot), IP addresses, CIDR ranges (`10.0.0.0/8`, `fd00::/8`), any of them with a
/// `:port` to match that port only, and `*` for everything. Case does not matter.
///
/// ```
/// use nexus_async_net::connect::NoProxy;
///
/// let no = NoProxy::parse("localhost, .corp.example, 192.168.0.0/16, ::1, feed.io:9443");
/// assert!(no.matches("localhost", 80));
/// assert!(no.matches("api.corp.example", 443) && no.matches("corp.example", 443));
/// assert!(!no.matches("notcorp.example", 443));
/// assert!(no.matches("192.168.7.7", 80) && no.matches("[::1]", 80));
/// assert!(no.matches("feed.io", 9443) && !no.matches("feed.io", 443));
/// assert!(NoProxy::parse("*").matches("anything", 1));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    everything: bool,
    pub(super) rules: Vec<(Rule, Option<u16>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Rule {
    /// A domain and its subdomains (lower case, no leading dot).
    Domain(String),
    /// An address, or a range with a prefix length.
    Net(IpAddr, u8),
}

impl NoProxy {
    /// Parses a `NO_PROXY` value; entries that cannot be understood are skipped.
    pub fn parse(list: &str) -> Self {
        let mut no = Self::default();
        for entry in list
            .split([',', ' ', '\t'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if entry == "*" {
                no.everything = true;
                continue;
            }
            if let Some(rule) = Self::parse_entry(&entry.to_ascii_lowercase()) {
                no.rules.push(rule);
            }
        }
        no
    }

    fn parse_entry(entry: &str) -> Option<(Rule, Option<u16>)> {
        // CIDR first: "fd00::/8" holds colons that are not a port.
        if let Some((addr, bits)) = entry.split_once('/') {
            let ip: IpAddr = addr.trim_matches(['[', ']']).parse().ok()?;
            let bits: u8 = bits.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            return (bits <= max).then_some((Rule::Net(ip, bits), None));
        }
        if let Ok(ip) = entry.parse::<IpAddr>() {
            return Some((Rule::Net(ip, full(ip)), None));
        }
        // "[::1]:443", "host:443", "[::1]".
        let (host, port) = match entry.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => (h, Some(p.parse().ok()?)),
            _ => (entry, None),
        };
        let host = host.trim_matches(['[', ']']);
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Some((Rule::Net(ip, full(ip)), port));
        }
        let domain = host.trim_start_matches("*.").trim_start_matches('.');
        (!domain.is_empty()).then(|| (Rule::Domain(domain.to_owned()), port))
    }

    /// Whether a connection to `host:port` bypasses the proxy.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.everything {
            return true;
        }
        let host = host
            .trim_matches(['[', ']'])
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.rules.iter().any(|(rule, rule_port)| {
            rule_port.is_none_or(|p| p == port)
                && match (rule, ip) {
                    (Rule::Net(net, bits), Some(ip)) => in_net(ip, *net, *bits),
                    (Rule::Domain(d), None) => {
                        host == *d
                            || host
                                .strip_suffix(d.as_str())
                                .is_some_and(|rest| rest.ends_with('.'))
                    }
                    _ => false,
                }
        })
    }
}

fn full(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    shift >= width || (ip >> shift) == (net >> shift)
}

//! The client's IP address, for rate limits and the audit log. It is the TCP peer, unless
//! the peer is a configured trusted proxy (an address or a CIDR range): then the right-most
//! address that is not itself a trusted proxy in the one header the proxies are said to
//! write (`X-Forwarded-For` unless `Forwarded`, RFC 7239, is configured). A client cannot
//! spoof its way past a limit by sending the headers itself: from an untrusted peer they are
//! ignored, and so is the header the proxy does not write (most proxies append to
//! `X-Forwarded-For` and pass a client's own `Forwarded` through untouched).

use std::net::{IpAddr, Ipv4Addr};

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use ipnet::IpNet;

/// The proxies (addresses or CIDR ranges) whose forwarding header is believed
/// (`APP_TRUSTED_PROXIES`) and which header that is (`APP_FORWARDED_HEADER`), as app data
/// for the `ClientIp` extractor.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    pub nets: Vec<IpNet>,
    pub header: ForwardedHeader,
}

/// The header trusted proxies write the client's address into.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1`: what nginx, HAProxy, Envoy, Traefik and the cloud
    /// load balancers append to.
    #[default]
    #[value(name = "x-forwarded-for")]
    XForwardedFor,
    /// `Forwarded: for=client` (RFC 7239).
    Forwarded,
}

/// The client's address as a handler argument. Without `TrustedProxies` in the app data,
/// no proxy is trusted and the client is the TCP peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The key of this client's rate-limit budgets (see `network_key`).
    pub fn network_key(self) -> String {
        network_key(self.0)
    }

    /// This client's wider network (see `wide_network_key`).
    pub fn wide_network_key(self) -> String {
        wide_network_key(self.0)
    }
}

impl From<ClientIp> for IpAddr {
    fn from(ip: ClientIp) -> IpAddr {
        ip.0
    }
}

impl FromRequest for ClientIp {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ClientIp::of(req)))
    }
}

impl ClientIp {
    /// The client of `req`, behind the proxies in the app data (none trusted without them).
    pub fn of(req: &HttpRequest) -> ClientIp {
        let none = TrustedProxies::default();
        let trusted = req
            .app_data::<web::Data<TrustedProxies>>()
            .map_or(&none, |proxies| proxies.get_ref());
        ClientIp(client_ip(req, trusted))
    }
}

pub fn client_ip(req: &HttpRequest, proxies: &TrustedProxies) -> IpAddr {
    // A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`: compared as IPv4.
    let unmapped = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let trusted = |ip: &IpAddr| proxies.nets.iter().any(|net| net.contains(&unmapped(*ip)));
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip());
    if !trusted(&peer) {
        return peer;
    }
    let headers = req.headers();
    let values = |name: &str| {
        headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::to_owned)
            .collect::<Vec<String>>()
    };
    let hops: Vec<Option<IpAddr>> = match proxies.header {
        ForwardedHeader::Forwarded => values("forwarded")
            .iter()
            .filter(|element| !element.trim().is_empty())
            .map(|element| forwarded_for(element))
            .collect(),
        ForwardedHeader::XForwardedFor => values("x-forwarded-for")
            .iter()
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| hop_address(entry))
            .collect(),
    };
    // Right to left, past our own proxies: the first address they did not write is the
    // client. An entry that names no address (`unknown`, an obfuscated node, garbage) ends
    // the walk at the proxy that wrote it: what lies to its left came from the client.
    let mut nearest = peer;
    for hop in hops.into_iter().rev() {
        match hop {
            Some(ip) if trusted(&ip) => nearest = ip,
            Some(ip) => return ip,
            None => return nearest,
        }
    }
    peer
}

/// One hop as proxies write it: `192.0.2.43`, `192.0.2.43:80`, `2001:db8::17`,
/// `[2001:db8::17]` or `[2001:db8::17]:4711` (quoted or not); `None` for anything else.
fn hop_address(raw: &str) -> Option<IpAddr> {
    let value = raw.trim().trim_matches('"');
    let is_port = |p: &str| p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok();
    if let Some(rest) = value.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return port_ok
            .then(|| inside.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6))
            .flatten();
    }
    if let Ok(ip) = value.parse() {
        return Some(ip);
    }
    let (host, port) = value.rsplit_once(':')?;
    is_port(port)
        .then(|| host.parse::<Ipv4Addr>().ok().map(IpAddr::V4))
        .flatten()
}

/// The address in one `Forwarded` element's `for=` parameter: `for=192.0.2.43`,
/// `for="[2001:db8::17]:4711"`, `for="192.0.2.43:80"`; `None` for an obfuscated or
/// `unknown` node, or an element without `for=`.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let value = element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))?
        .1;
    hop_address(value)
}

/// The key a client's rate-limit budgets are kept under: an IPv4 address as it is, an IPv6
/// address by its /64 (one subscriber's usual allocation, so rotating addresses inside it
/// buys nothing).
pub fn network_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let segments = v6.segments();
                format!(
                    "{:x}:{:x}:{:x}:{:x}::/64",
                    segments[0], segments[1], segments[2], segments[3]
                )
            }
        },
    }
}

/// A client's wider network, for telling independent clients apart: an IPv4 /24, an IPv6
/// /56 (what a provider commonly delegates to one home or office: its /64s are one
/// subscriber's). Three reports from one office's addresses are one reporter.
pub fn wide_network_key(ip: IpAddr) -> String {
    let v4 = match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    match v4 {
        Some(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        None => match ip {
            IpAddr::V6(v6) => {
                let mut octets = v6.octets();
                octets[7..].fill(0);
                format!("{}/56", std::net::Ipv6Addr::from(octets))
            }
            IpAddr::V4(_) => network_key(ip),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// Trust in `nets`, read from `header`.
    fn trusting(nets: &[&str], header: ForwardedHeader) -> TrustedProxies {
        let net = |s: &&str| {
            s.parse()
                .unwrap_or_else(|_| IpNet::from(s.parse::<IpAddr>().unwrap()))
        };
        TrustedProxies {
            nets: nets.iter().map(net).collect(),
            header,
        }
    }

    fn xff(nets: &[&str]) -> TrustedProxies {
        trusting(nets, ForwardedHeader::XForwardedFor)
    }

    #[test]
    fn untrusted_peers_cannot_spoof() {
        let req = TestRequest::default()
            .peer_addr("203.0.113.9:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "1.2.3.4"))
            .insert_header(("forwarded", "for=1.2.3.4"))
            .to_http_request();
        assert_eq!(client_ip(&req, &xff(&[])), ip("203.0.113.9"));
        assert_eq!(client_ip(&req, &xff(&["10.0.0.1"])), ip("203.0.113.9"));
        let forwarded = trusting(&["10.0.0.1"], ForwardedHeader::Forwarded);
        assert_eq!(client_ip(&req, &forwarded), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_proxies_are_skipped_from_the_right() {
        let req = TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.2"))
            .to_http_request();
        assert_eq!(
            client_ip(&req, &xff(&["10.0.0.1", "10.0.0.2"])),
            ip("198.51.100.7")
        );
        assert_eq!(client_ip(&req, &xff(&["10.0.0.0/8"])), ip("198.51.100.7"));
    }

    #[test]
    fn only_the_configured_header_is_read() {
        // The proxy appended the client to X-Forwarded-For and passed the client's own
        // Forwarded through.
        let req = TestRequest::default()
            .peer_addr("10.1.2.3:5000".parse().unwrap())
            .insert_header((
                "forwarded",
                "for=6.6.6.6, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.0.0.2",
            ))
            .insert_header(("x-forwarded-for", "7.7.7.7"))
            .to_http_request();
        assert_eq!(client_ip(&req, &xff(&["10.0.0.0/8"])), ip("7.7.7.7"));
        let forwarded = trusting(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        assert_eq!(client_ip(&req, &forwarded), ip("2001:db8:cafe::17"));
        assert_eq!(
            forwarded_for("for=\"192.0.2.43:80\""),
            Some(ip("192.0.2.43"))
        );
        assert_eq!(forwarded_for("for=unknown"), None);
        assert_eq!(forwarded_for("by=10.0.0.1"), None);
    }

    #[test]
    fn an_entry_naming_no_address_ends_the_walk_at_the_proxy_that_wrote_it() {
        let ask = |xff_value: &str| {
            let req = TestRequest::default()
                .peer_addr("10.0.0.1:5000".parse().unwrap())
                .insert_header(("x-forwarded-for", xff_value))
                .to_http_request();
            client_ip(&req, &xff(&["10.0.0.0/8"]))
        };
        // Proxies that write ports and brackets: the address is read, not skipped.
        assert_eq!(ask("6.6.6.6, 198.51.100.7:5123"), ip("198.51.100.7"));
        assert_eq!(ask("6.6.6.6, [2001:db8::17]:4711"), ip("2001:db8::17"));
        assert_eq!(
            ask("6.6.6.6, [2001:db8::17], 10.0.0.2:80"),
            ip("2001:db8::17")
        );
        // Nothing the client wrote to the left of an unreadable entry is taken.
        assert_eq!(ask("6.6.6.6, unknown"), ip("10.0.0.1"));
        assert_eq!(ask("6.6.6.6, _hidden, 10.0.0.2"), ip("10.0.0.2"));
        assert_eq!(ask("6.6.6.6, 198.51.100.7:99999"), ip("10.0.0.1"));
        assert_eq!(ask("6.6.6.6, [2001:db8::17]x"), ip("10.0.0.1"));
        let forwarded = |value: &str| {
            let req = TestRequest::default()
                .peer_addr("10.0.0.1:5000".parse().unwrap())
                .insert_header(("forwarded", value))
                .to_http_request();
            client_ip(&req, &trusting(&["10.0.0.0/8"], ForwardedHeader::Forwarded))
        };
        assert_eq!(forwarded("for=6.6.6.6, for=_x"), ip("10.0.0.1"));
        assert_eq!(
            forwarded("for=6.6.6.6, for=unknown, for=10.0.0.2"),
            ip("10.0.0.2")
        );
        assert_eq!(forwarded("for=6.6.6.6, proto=https"), ip("10.0.0.1"));
    }

    #[test]
    fn a_dual_stack_listener_still_knows_its_ipv4_proxy() {
        let req = TestRequest::default()
            .peer_addr("[::ffff:10.1.2.3]:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "198.51.100.7"))
            .to_http_request();
        assert_eq!(client_ip(&req, &xff(&["10.0.0.0/8"])), ip("198.51.100.7"));
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(
            network_key(ip("2001:db8:1:2:aaaa::1")),
            network_key(ip("2001:db8:1:2:ffff:1:2:3"))
        );
        assert_ne!(
            network_key(ip("2001:db8:1:2::1")),
            network_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(network_key(ip("198.51.100.7")), "198.51.100.7");
        assert_eq!(network_key(ip("::ffff:198.51.100.7")), "198.51.100.7");
        assert_eq!(wide_network_key(ip("198.51.100.7")), "198.51.100.0/24");
        assert_eq!(
            wide_network_key(ip("198.51.100.9")),
            wide_network_key(ip("198.51.100.7"))
        );
        // One subscriber's /56: every /64 inside it is one reporter, the next /56 another.
        assert_eq!(wide_network_key(ip("2001:db8:1:2::9")), "2001:db8:1::/56");
        assert_eq!(
            wide_network_key(ip("2001:db8:1:ff:1::9")),
            wide_network_key(ip("2001:db8:1:2::1"))
        );
        assert_ne!(
            wide_network_key(ip("2001:db8:1:100::1")),
            wide_network_key(ip("2001:db8:1:2::1"))
        );
    }
}

//! The client's IP address, for rate limits and the audit log. It is the TCP peer, unless
//! the peer is a configured trusted proxy: then the right-most `X-Forwarded-For` entry that
//! is not itself a trusted proxy. A client cannot spoof its way past a limit by sending the
//! header itself: from an untrusted peer the header is ignored.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::HttpRequest;

pub fn client_ip(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip());
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|entry| entry.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted_proxies.contains(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_cannot_spoof() {
        let req = TestRequest::default()
            .peer_addr("203.0.113.9:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "1.2.3.4"))
            .to_http_request();
        assert_eq!(client_ip(&req, &[]), ip("203.0.113.9"));
        assert_eq!(client_ip(&req, &[ip("10.0.0.1")]), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_proxies_are_skipped_from_the_right() {
        let req = TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.2"))
            .to_http_request();
        assert_eq!(
            client_ip(&req, &[ip("10.0.0.1"), ip("10.0.0.2")]),
            ip("198.51.100.7")
        );
    }
}

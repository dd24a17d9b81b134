//! The `Host` check. A DNS-rebinding page points its own name (`evil.example`) at 127.0.0.1, so
//! the browser treats the emulator as same-origin with the page and CORS never comes into play;
//! only the `Host` header tells. Requests that name anything but the addresses and names the
//! emulator serves (`--host`, `--hub-hostname`, `localhost`, the loopback addresses, on the
//! ports it bound) are refused with 421 before any route runs, WebSocket upgrades included.

use crate::dps::error_body;
use crate::http::json_response;
use crate::state::State;
use axum::{
    extract::{Request, State as AxState},
    http::header,
    middleware::Next,
    response::Response,
};
use std::net::IpAddr;
use std::sync::Arc;

/// The log and error code of a refused `Host` (`{status}*1000+n`, protocol.md §1.6).
pub const REFUSED: u32 = 421001;

#[derive(Debug, Clone)]
pub struct Hosts {
    /// Lower case, IPv6 without brackets.
    names: Vec<String>,
    /// The HTTP listeners' bound ports (MQTT over TLS carries no `Host`).
    ports: Vec<u16>,
    /// Bound to 0.0.0.0 or `::`: every local address is served, so any IP literal is; a
    /// rebinding attack always arrives under a name, never under an address.
    any_ip: bool,
}

impl Hosts {
    pub fn new(bind: IpAddr, hub_hostname: &str, ports: &[u16]) -> Hosts {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
        names.push(bind.to_string());
        names.push(hub_hostname.to_ascii_lowercase());
        names.sort();
        names.dedup();
        Hosts { names, ports: ports.to_vec(), any_ip: bind.is_unspecified() }
    }

    fn serves(&self, name: &str, port: Option<u16>) -> bool {
        let named = self.names.iter().any(|n| n == name) || (self.any_ip && name.parse::<IpAddr>().is_ok());
        named && port.is_none_or(|p| self.ports.contains(&p))
    }

    /// A `Host` header. Its port may be absent: clients of the SDK-compatible port 443 leave it out.
    pub fn allows_host(&self, host: &str) -> bool {
        split_authority(host).is_some_and(|(name, port)| self.serves(&name, port))
    }

    /// An `Origin` that is the emulator itself (paho sends one on its WebSocket handshake); the
    /// scheme's default port stands in for an absent one. The emulator serves no pages, so no
    /// script runs on such an origin.
    pub fn is_own_origin(&self, origin: &str) -> bool {
        let Some((scheme, authority)) = origin.split_once("://") else { return false };
        let default = match scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => 80,
            "https" | "wss" => 443,
            _ => return false,
        };
        split_authority(authority).is_some_and(|(name, port)| self.serves(&name, Some(port.unwrap_or(default))))
    }
}

/// `name[:port]` or `[v6][:port]` → (lower-case name without brackets, port).
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let a = authority.to_ascii_lowercase();
    let (name, port) = match a.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']')?;
            (v6, if after.is_empty() { None } else { Some(after.strip_prefix(':')?) })
        }
        None => match a.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (a.as_str(), None),
        },
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    (!name.is_empty()).then(|| (name.to_string(), port))
}

pub async fn layer(AxState(state): AxState<Arc<State>>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).map(|v| v.to_str().unwrap_or("(not ASCII)"));
    if host.is_some_and(|h| state.guard.hosts.allows_host(h)) {
        return next.run(req).await;
    }
    let shown: String = host.unwrap_or("(none)").chars().take(100).collect();
    state.log(REFUSED, "-", &format!("request for Host '{shown}' refused (421): not an address or name this emulator serves"));
    json_response(421, &error_body(REFUSED, "Misdirected request: this emulator does not serve that host name."), &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn hosts() -> Hosts {
        Hosts::new(IpAddr::V4(Ipv4Addr::new(127, 20, 0, 1)), "Hub.Local", &[8080, 443])
    }

    #[test]
    fn served_names_and_addresses_pass_on_bound_ports_or_none() {
        let h = hosts();
        for ok in ["localhost:8080", "127.0.0.1:8080", "127.20.0.1", "hub.local:443", "[::1]:8080", "LOCALHOST"] {
            assert!(h.allows_host(ok), "{ok}");
        }
    }

    #[test]
    fn foreign_names_other_ports_and_junk_are_refused() {
        let h = hosts();
        for bad in ["evil.example", "evil.example:8080", "localhost:9999", "127.0.0.2:8080", "", ":8080", "localhost:x", "[::1"] {
            assert!(!h.allows_host(bad), "{bad}");
        }
    }

    #[test]
    fn an_unspecified_bind_serves_any_address_but_no_foreign_name() {
        let h = Hosts::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), "localhost", &[8080]);
        assert!(h.allows_host("192.168.1.5:8080"));
        assert!(!h.allows_host("evil.example:8080"));
    }

    #[test]
    fn own_origins_use_the_scheme_default_port() {
        let h = hosts();
        assert!(h.is_own_origin("https://127.20.0.1:443"));
        assert!(h.is_own_origin("https://hub.local"));
        assert!(!h.is_own_origin("http://hub.local"));
        assert!(!h.is_own_origin("http://evil.example:8080"));
        assert!(!h.is_own_origin("null"));
    }
}

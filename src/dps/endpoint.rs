//! The DPS endpoint the caller points at: `https://global.azure-devices-provisioning.net` by
//! default, or any `http(s)://host[:port][/prefix]` (the emulator, a CORS proxy). A bare host
//! means https. From it come the REST base URL and the MQTT-over-WebSocket URL (protocol §3:
//! `wss://{host}:443/$iothub/websocket`; `ws://` for an `http://` endpoint).

use super::DpsError;

pub const DEFAULT_ENDPOINT: &str = "https://global.azure-devices-provisioning.net";

/// The path of MQTT over WebSocket on DPS and IoT Hub (protocol §3, §5.1).
pub const WEBSOCKET_PATH: &str = "/$iothub/websocket";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https`/`wss` when true, `http`/`ws` otherwise.
    pub secure: bool,
    /// `host` or `host:port`, as given (lower-cased).
    pub authority: String,
    /// `""` or a prefix such as `/dps` (no trailing slash), for proxies.
    pub base_path: String,
}

impl Endpoint {
    pub fn parse(input: &str) -> Result<Endpoint, DpsError> {
        let bad = |why: &str| DpsError::InvalidArgument(format!("endpoint {why}"));
        let s = input.trim();
        let (secure, rest) = match crate::text::split_once(s, "://") {
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "https" => (true, rest),
                "http" => (false, rest),
                _ => return Err(bad("must start with http:// or https://")),
            },
            None => (true, s),
        };
        if rest.contains(['?', '#']) {
            return Err(bad("must not carry a query or fragment"));
        }
        // The path keeps its leading '/'.
        let (authority, path) = match rest.find('/') {
            Some(i) => (rest.get(..i).unwrap_or(rest), rest.get(i..).unwrap_or("")),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(bad("has no host"));
        }
        if !authority.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_'))
        {
            return Err(bad("host holds characters that are not allowed"));
        }
        // A port, when present, follows the last ':' outside an IPv6 literal's brackets.
        if let Some((host, port)) = authority.rsplit_once(':').filter(|(_, port)| !port.contains(']')) {
            if host.is_empty() || (!authority.starts_with('[') && host.contains(':')) {
                return Err(bad("host is not valid"));
            }
            match port.parse::<u32>() {
                Ok(p) if (1..=65535).contains(&p) && port.bytes().all(|b| b.is_ascii_digit()) => {}
                _ => return Err(bad("port must be a number in 1..65535")),
            }
        }
        if path.bytes().any(|b| b.is_ascii_whitespace() || b == b'%' || !b.is_ascii()) {
            return Err(bad("path holds characters that are not allowed"));
        }
        Ok(Endpoint {
            secure,
            authority: authority.to_ascii_lowercase(),
            base_path: path.trim_end_matches('/').to_string(),
        })
    }

    /// `https://host[:port][/prefix]`, without a trailing slash.
    pub fn rest_base(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.base_path)
    }

    /// `wss://host[:port]/$iothub/websocket` (`ws://` for an `http://` endpoint). The prefix is
    /// kept, so a proxy that forwards under a path works for both transports.
    pub fn websocket_url(&self) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        format!("{scheme}://{}{}{WEBSOCKET_PATH}", self.authority, self.base_path)
    }
}

impl Default for Endpoint {
    fn default() -> Endpoint {
        Endpoint {
            secure: true,
            authority: "global.azure-devices-provisioning.net".to_string(),
            base_path: String::new(),
        }
    }
}

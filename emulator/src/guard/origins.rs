//! Browser origins the emulator allows (`--cors ORIGIN`, repeated or comma-separated) and the
//! CORS layer that answers them. A request from any other origin gets no `Access-Control-*`
//! header at all, so the browser keeps the response from the page; the allowed value is always
//! the configured one, never a copy of whatever `Origin` a request brings.

use crate::state::State;
use axum::{
    extract::{Request, State as AxState},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::sync::Arc;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    /// Normalized `scheme://host[:port]`, as browsers serialize an `Origin` header.
    named: Vec<String>,
    /// `--cors '*'`: any origin, answered with a literal `*` (which browsers never combine with
    /// credentials; the emulator sends no `Access-Control-Allow-Credentials` either way).
    any: bool,
}

impl Origins {
    /// Each value may hold several origins separated by commas.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<Origins, String> {
        let mut o = Origins::default();
        for item in values.iter().flat_map(|v| v.as_ref().split(',')).map(str::trim).filter(|s| !s.is_empty()) {
            if item == "*" {
                o.any = true;
                continue;
            }
            let n = normalize(item)?;
            if !o.named.contains(&n) {
                o.named.push(n);
            }
        }
        Ok(o)
    }

    pub fn is_empty(&self) -> bool {
        !self.any && self.named.is_empty()
    }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if it is allowed.
    pub fn allow_value(&self, origin: &str) -> Option<&str> {
        if self.any {
            return Some("*");
        }
        self.named.iter().find(|n| n.as_str() == origin).map(String::as_str)
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.allow_value(origin).is_some()
    }

    /// For `/service/info` and the start banner.
    pub fn describe(&self) -> Vec<String> {
        let mut v = self.named.clone();
        if self.any {
            v.insert(0, "*".into());
        }
        v
    }
}

/// `Http://LocalHost:80/` → `http://localhost`: lower case, no path, no default port — the form
/// a browser sends (RFC 6454 §6.1), so that a plain string comparison decides.
fn normalize(origin: &str) -> Result<String, String> {
    let bad = |why: &str| format!("--cors '{origin}': {why} (an origin is scheme://host[:port])");
    let lower = origin.to_ascii_lowercase();
    let (scheme, rest) = lower.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return Err(bad("invalid scheme"));
    }
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
        return Err(bad("it must not have a path, query or user"));
    }
    let authority = match (scheme, authority.rsplit_once(':')) {
        ("http", Some((h, "80"))) | ("https", Some((h, "443"))) => h,
        _ => authority,
    };
    Ok(format!("{scheme}://{authority}"))
}

/// Answers preflights from allowed origins and adds the CORS headers to their responses; DPS
/// needs `Retry-After` and `Location` exposed (protocol.md §4.1, §7 item 5). Real DPS is not
/// known to answer CORS at all: this serves the demo page only.
pub async fn layer(AxState(state): AxState<Arc<State>>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let Some(allow) = origin.and_then(|o| state.guard.origins.allow_value(o)).and_then(|a| HeaderValue::from_str(a).ok()) else {
        return next.run(req).await;
    };
    let preflight = req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = if preflight { StatusCode::NO_CONTENT.into_response() } else { next.run(req).await };
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    h.append(header::VARY, HeaderValue::from_static("origin"));
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, PUT, POST, PATCH, DELETE, OPTIONS"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type, accept, request-id, content-encoding"));
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("retry-after, location, x-ms-request-id, x-ms-error-code, iothub-errorcode"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_to_what_browsers_send() {
        let o = Origins::parse(&["Http://LocalHost:80/, https://a.example:443", "http://127.0.0.1:8000"]).unwrap();
        assert_eq!(o.describe(), ["http://localhost", "https://a.example", "http://127.0.0.1:8000"]);
        assert!(o.allows("http://127.0.0.1:8000"));
        assert!(!o.allows("http://127.0.0.1:8001"));
        assert!(!o.allows("http://evil.example"));
    }

    #[test]
    fn a_star_answers_star_and_never_the_request_origin() {
        let o = Origins::parse(&["*"]).unwrap();
        assert_eq!(o.allow_value("http://evil.example"), Some("*"));
    }

    #[test]
    fn paths_missing_schemes_and_the_null_origin_are_refused() {
        for bad in ["localhost:8000", "http://localhost:8000/demo", "http://user@localhost", "null"] {
            assert!(Origins::parse(&[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_values_means_no_cross_origin_access() {
        assert!(Origins::parse::<&str>(&[]).unwrap().is_empty());
        assert!(Origins::parse(&[""]).unwrap().is_empty());
    }
}

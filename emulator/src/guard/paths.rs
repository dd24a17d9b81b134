//! The path check. Route parameters are percent-decoded (axum), so `/service/devices/a%2Fb`
//! would name a device `a/b`, whose identity key is the one of module `b` of device `a`
//! (hub::identity_key), and `%2E%2E` would name `..`. No DPS, hub or service id may hold a
//! slash, a backslash or a control character, or be `.` or `..`, so a path with such a segment,
//! raw or encoded, is refused with 400 before any route (and before the service key) runs.

use crate::dps::error_body;
use crate::http::json_response;
use crate::state::State;
use axum::{
    extract::{Request, State as AxState},
    middleware::Next,
    response::Response,
};
use percent_encoding::percent_decode_str;
use std::sync::Arc;

/// The log and error code of a refused path (`{status}*1000+n`, protocol.md §1.6).
pub const REFUSED: u32 = 400005;

/// Why a raw request path (before decoding) may name nothing, or None when it may.
pub fn refusal(raw_path: &str) -> Option<&'static str> {
    for seg in raw_path.split('/') {
        let Ok(decoded) = percent_decode_str(seg).decode_utf8() else { return Some("a segment that is not UTF-8 once decoded") };
        if decoded == "." || decoded == ".." {
            return Some("a '.' or '..' segment");
        }
        if decoded.contains(['/', '\\']) {
            return Some("an encoded slash or backslash");
        }
        if decoded.chars().any(char::is_control) {
            return Some("a control character");
        }
    }
    None
}

pub async fn layer(AxState(state): AxState<Arc<State>>, req: Request, next: Next) -> Response {
    let Some(why) = refusal(req.uri().path()) else { return next.run(req).await };
    let shown: String = req.uri().path().chars().take(200).collect();
    state.log(REFUSED, "-", &format!("request path '{shown}' refused (400): {why}"));
    json_response(400, &error_body(REFUSED, "Bad request: a path segment is '.' or '..' or holds a slash, backslash or control character."), &[])
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn ordinary_paths_pass_and_dot_segments_and_encoded_separators_do_not() {
        for ok in ["/service/devices/emu-device-001", "/0ne00000A0A/registrations/reg-1/register", "/$iothub/websocket", "/a%3Ab", "/", "/x..y"] {
            assert_eq!(refusal(ok), None, "{ok}");
        }
        for bad in ["/service/devices/..", "/service/./log", "/service/devices/%2e%2E", "/service/devices/a%2Fb", "/service/devices/a%2fb", "/x/a%5Cb", "/x/%00", "/x/%FF"] {
            assert!(refusal(bad).is_some(), "{bad}");
        }
    }
}

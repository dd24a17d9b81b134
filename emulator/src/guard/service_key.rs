//! The credential every `/service/*` request must carry. The service key is the primary key of
//! the hub's `iothubowner` policy (policies.rs), random per start unless the config or
//! `--service-key` fixes it. Accepted as `Authorization: Bearer {key}`, or the way IoT Hub's own
//! service API is called: `SharedAccessSignature sr={hub}&sig=…&se=…&skn={policy}` signed with a
//! key of any hub policy that grants ServiceConnect (`iothubowner`, `service`; sas.rs's rules,
//! protocol.md §2.1–2.3). Only the event stream also takes the key in the query.

use super::policies::{self, Policies, Right};
use crate::dps::error_body;
use crate::http::json_response;
use crate::{clock, state::State};
use axum::{
    extract::{Request, State as AxState},
    http::header,
    middleware::Next,
    response::Response,
};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The route that cannot send headers (see `require`).
const EVENTS_PATH: &str = "/service/events";

/// IoT Hub's code for a refused service credential (the DPS one, protocol.md §1.6, is the same).
const UNAUTHORIZED: u32 = 401002;

#[derive(Clone)]
pub struct ServiceKey(String);

// Never print the key by accident (Debug on a config or state).
impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceKey(…)")
    }
}

impl ServiceKey {
    /// 32 random bytes, base64 (the size of an IoT Hub policy key).
    pub fn generate() -> Result<ServiceKey, String> {
        policies::random_key().map(ServiceKey)
    }

    /// A configured key: base64 of at least 16 bytes, since it also signs SAS tokens.
    pub fn given(key: &str) -> Result<ServiceKey, String> {
        policies::checked_key(key, "the service key").map(ServiceKey)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn is(&self, candidate: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(candidate.as_bytes()))
    }

    /// Checks an `Authorization` value against the key and the hub's policies; the reason on
    /// refusal never quotes the credential.
    pub fn check(&self, authorization: &str, policies: &Policies, hub_hostname: &str, now: u64) -> Result<(), String> {
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        if let Some(bearer) = authorization.get(..7).filter(|s| s.eq_ignore_ascii_case("bearer ")).map(|_| &authorization[7..]) {
            return if self.is(bearer.trim()) { Ok(()) } else { Err("bearer token is not the service key".into()) };
        }
        policies.authorize(authorization, hub_hostname, Right::ServiceConnect, now).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// `access_token={key}` from a raw query (RFC 6750 §2.3's name for a bearer token in a URI).
fn query_token(query: Option<&str>) -> Option<String> {
    let value = query?.split('&').find_map(|p| p.strip_prefix("access_token="))?;
    Some(percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned())
}

/// Route layer of the service API: 401 in the emulator's error shape unless the key is shown.
pub async fn require(AxState(state): AxState<Arc<State>>, req: Request, next: Next) -> Response {
    let key = &state.guard.service_key;
    let auth = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut verdict = key.check(auth, &state.guard.hub_policies, &state.hub_hostname, clock::now_unix_secs());
    // A browser's EventSource cannot send headers, so the SSE route alone also accepts the key
    // as a query parameter. It still needs CORS for a cross-origin page to read it, and the
    // stream only reads.
    if verdict.is_err() && auth.is_empty() && req.uri().path() == EVENTS_PATH {
        if let Some(t) = query_token(req.uri().query()) {
            verdict = if key.is(&t) { Ok(()) } else { Err("access_token is not the service key".into()) };
        }
    }
    match verdict {
        Ok(()) => next.run(req).await,
        Err(why) => {
            state.log(UNAUTHORIZED, "service", &format!("service API request refused (401): {why}"));
            let msg = "Unauthorized: the service API needs the emulator's service key (Authorization: Bearer <key>), or a SharedAccessSignature of a policy with ServiceConnect (skn=iothubowner or service).";
            json_response(401, &error_body(UNAUTHORIZED, msg), &[("www-authenticate", "Bearer realm=\"iot-emulator\"".into())])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{engine::general_purpose::STANDARD, Engine};

    #[test]
    fn generated_keys_are_32_random_bytes() {
        let (a, b) = (ServiceKey::generate().unwrap(), ServiceKey::generate().unwrap());
        assert_eq!(STANDARD.decode(a.as_str()).unwrap().len(), 32);
        assert_ne!(a.as_str(), b.as_str());
    }

    #[test]
    fn a_configured_key_must_be_base64_of_16_bytes_or_more() {
        assert!(ServiceKey::given("c2hvcnQ=").is_err());
        assert!(ServiceKey::given("not base64!").is_err());
        assert!(ServiceKey::given(&STANDARD.encode([7u8; 16])).is_ok());
    }

    #[test]
    fn the_bearer_form_matches_the_key_exactly() {
        let k = ServiceKey::given(&STANDARD.encode([7u8; 32])).unwrap();
        let p = Policies::hub(&[], k.as_str()).unwrap();
        assert_eq!(k.check(&format!("Bearer {}", k.as_str()), &p, "localhost", 1), Ok(()));
        assert!(k.check("Bearer AAAA", &p, "localhost", 1).is_err());
        assert!(k.check("", &p, "localhost", 1).is_err());
        assert!(!format!("{k:?}").contains(k.as_str()));
    }

    #[test]
    fn the_query_token_is_percent_decoded() {
        assert_eq!(query_token(Some("x=1&access_token=a%2Bb%3D")).as_deref(), Some("a+b="));
        assert_eq!(query_token(Some("x=1")), None);
    }
}

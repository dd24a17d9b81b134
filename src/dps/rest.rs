//! DPS REST requests (protocol §1.1, §1.3), built as plain data for any HTTP client:
//!
//! ```text
//! PUT {base}/{idScope}/registrations/{registrationId}/register?api-version=2021-06-01
//! GET {base}/{idScope}/registrations/{registrationId}/operations/{operationId}?api-version=2021-06-01
//! Authorization: SharedAccessSignature sr=...&sig=...&se=...&skn=registration
//! Accept: application/json
//! Content-Type: application/json; charset=utf-8        (PUT only, body {"registrationId":...})
//! ```
//! `Content-Encoding: utf-8` from the docs' curl examples is not sent (§1.3: not a valid
//! content-coding), nor `User-Agent` (a browser forbids setting it).

use super::{Endpoint, Registration};
use crate::auth::percent_encode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

fn registration_base(endpoint: &Endpoint, reg: &Registration) -> String {
    format!(
        "{}/{}/registrations/{}",
        endpoint.rest_base(),
        percent_encode(&reg.id_scope),
        percent_encode(&reg.registration_id)
    )
}

/// `PUT .../register`: starts (or restarts) a registration.
pub fn register_request(
    endpoint: &Endpoint,
    reg: &Registration,
    api_version: &str,
    authorization: &str,
) -> HttpRequest {
    HttpRequest {
        method: "PUT",
        url: format!("{}/register?api-version={}", registration_base(endpoint, reg), percent_encode(api_version)),
        headers: vec![
            ("Accept", "application/json".into()),
            ("Content-Type", "application/json; charset=utf-8".into()),
            ("Authorization", authorization.into()),
        ],
        body: Some(reg.body()),
    }
}

/// `GET .../operations/{operationId}`: polls a registration that is still `assigning`.
pub fn operation_status_request(
    endpoint: &Endpoint,
    reg: &Registration,
    operation_id: &str,
    api_version: &str,
    authorization: &str,
) -> HttpRequest {
    HttpRequest {
        method: "GET",
        url: format!(
            "{}/operations/{}?api-version={}",
            registration_base(endpoint, reg),
            percent_encode(operation_id),
            percent_encode(api_version)
        ),
        headers: vec![("Accept", "application/json".into()), ("Authorization", authorization.into())],
        body: None,
    }
}

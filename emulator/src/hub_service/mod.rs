//! IoT Hub's service REST API (api-version 2021-04-12, what `azure-iothub` and `azure-iot-hub`
//! call): the identity registry (registry.rs), twins, direct methods and queries (twins.rs), on
//! the same state as the devices and `/service/*`. Every call needs an `api-version` and a
//! service SAS token of a hub policy with the route's right (guard/policies.rs); refusals have
//! IoT Hub's HTTP error shape (hub_rest::hub_error).

mod registry;
mod twins;

use crate::guard::policies::Right;
use crate::hub::registry::{IfMatch, ServiceError};
use crate::{clock, hub_rest::hub_error, state::State};
use axum::{
    http::{header, HeaderMap},
    response::Response,
    Router,
};
use std::sync::Arc;

type St = Arc<State>;

/// Log code of a refused service credential (IoT Hub's 401002, as on the device side).
const UNAUTHORIZED: u32 = 401002;

pub fn routes() -> Router<St> {
    registry::routes().merge(twins::routes())
}

pub(crate) fn error(e: ServiceError) -> Response {
    hub_error(e.0, e.1, &e.2)
}

/// An `api-version`, then a token whose policy grants `right`.
#[allow(clippy::result_large_err)]
pub(crate) fn gate(st: &State, query: Option<&str>, h: &HeaderMap, right: Right) -> Result<(), Response> {
    if !query.unwrap_or("").split('&').any(|p| p.starts_with("api-version=")) {
        return Err(hub_error(400, "InvalidProtocolVersion", "api-version query parameter is required"));
    }
    let auth = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    match st.guard.hub_policies.authorize(auth, &st.hub_hostname, right, clock::now_unix_secs()) {
        Ok(_) => Ok(()),
        Err(why) => {
            st.log(UNAUTHORIZED, "service", &format!("IoT Hub service API call refused (401): {why}"));
            Err(hub_error(401, "IotHubUnauthorizedAccess", "Unauthorized"))
        }
    }
}

pub(crate) fn if_match(h: &HeaderMap) -> IfMatch {
    IfMatch::parse(h.get(header::IF_MATCH).and_then(|v| v.to_str().ok()))
}

//! DPS's service REST API (api-version 2021-10-01, what `azure-iot-provisioning-service` calls)
//! on the host DPS devices register with: `PUT/GET/DELETE /enrollments/{id}`,
//! `/enrollmentGroups/{id}` (and the lower-case `/enrollmentgroups/…` the SDK uses for
//! attestation), `POST …/{id}/attestationmechanism`, `POST /enrollments/query`,
//! `POST /enrollmentGroups/query`, `GET/DELETE /registrations/{id}`,
//! `POST /registrations/{groupId}/query`. Routes start with a literal segment, so they never
//! meet a device's `/{idScope}/registrations/…`. Every call needs an `api-version` and a SAS
//! token of a DPS policy with the route's right (`provisioningserviceowner` has them all), and
//! acts on the records `/service/enrollments*` and registration use; errors have DPS's shape.

use crate::dps::records::{self, DpsError};
use crate::guard::policies::Right;
use crate::http::json_response;
use crate::hub::registry::IfMatch;
use crate::{clock, state::State};
use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State as AxState},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Router,
};
use serde_json::Value;
use std::sync::Arc;

type St = Arc<State>;

pub fn routes() -> Router<St> {
    let mut r = Router::new()
        .route("/enrollments/query", post(query_enrollments))
        .route("/enrollments/{id}", put(put_enrollment).get(get_enrollment).delete(delete_enrollment))
        .route("/enrollments/{id}/attestationmechanism", post(enrollment_attestation))
        .route("/registrations/{id}", get(get_registration).delete(delete_registration))
        .route("/registrations/{id}/query", post(query_registrations));
    // The SDK writes `/enrollmentGroups/` for records and `/enrollmentgroups/` for attestation.
    for prefix in ["/enrollmentGroups", "/enrollmentgroups"] {
        r = r
            .route(&format!("{prefix}/query"), post(query_groups))
            .route(&format!("{prefix}/{{id}}"), put(put_group).get(get_group).delete(delete_group))
            .route(&format!("{prefix}/{{id}}/attestationmechanism"), post(group_attestation));
    }
    r
}

fn error(e: DpsError) -> Response {
    json_response(e.0, &crate::dps::error_body(e.1, &e.2), &[("x-ms-error-code", e.1.to_string())])
}

#[allow(clippy::result_large_err)]
fn gate(st: &State, q: Option<&str>, h: &HeaderMap, right: Right) -> Result<(), Response> {
    if !q.unwrap_or("").split('&').any(|p| p.starts_with("api-version=")) {
        return Err(error(DpsError(400, 400003, "api-version query parameter is required.".into())));
    }
    let auth = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    st.guard.dps_policies.authorize(auth, &st.hub_hostname, right, clock::now_unix_secs()).map(|_| ()).map_err(|why| {
        st.log(401002, "dps-service", &format!("DPS service API call refused (401): {why}"));
        error(DpsError(401, 401002, "Unauthorized".into()))
    })
}

fn if_match(h: &HeaderMap) -> IfMatch {
    IfMatch::parse(h.get(header::IF_MATCH).and_then(|v| v.to_str().ok()))
}

fn precondition(m: &IfMatch, current: Option<String>, what: &str) -> Result<(), DpsError> {
    m.check(current.as_deref(), what).map_err(|e| DpsError(412, 412001, e.2))
}

fn ok(v: Value) -> Response {
    json_response(200, &v, &[])
}

fn not_found_enrollment(id: &str) -> DpsError {
    DpsError(404, 404201, format!("Enrollment '{id}' not found."))
}

fn not_found_group(id: &str) -> DpsError {
    DpsError(404, 404202, format!("Enrollment group '{id}' not found."))
}

fn enrollment_view(st: &State, id: &str) -> Option<Value> {
    let e = st.dps.enrollments.get(id)?;
    Some(records::enrollment_json(&e, st.dps.enrollments.meta(id).as_ref(), st.dps.registration(id), &st.hub_hostname))
}

fn group_view(st: &State, id: &str) -> Option<Value> {
    let g = st.dps.enrollments.get_group(id)?;
    Some(records::group_json(&g, st.dps.enrollments.group_meta(id).as_ref(), &st.hub_hostname))
}

async fn get_enrollment(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentRead) {
        return r;
    }
    enrollment_view(&st, &id).map(ok).unwrap_or_else(|| error(not_found_enrollment(&id)))
}

async fn put_enrollment(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentWrite) {
        return r;
    }
    let old = st.dps.enrollments.get(&id);
    let written = precondition(&if_match(&h), st.dps.enrollments.meta(&id).map(|m| m.etag_text()), &format!("enrollment '{id}'"))
        .and_then(|()| records::enrollment_from(&b, &id, old.as_ref()));
    match written {
        Ok(e) => {
            st.dps.enrollments.put(e);
            st.info(&id, "DPS: enrollment written through the service API");
            enrollment_view(&st, &id).map(ok).unwrap_or_else(|| error(not_found_enrollment(&id)))
        }
        Err(e) => error(e),
    }
}

async fn delete_enrollment(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentWrite) {
        return r;
    }
    let Some(meta) = st.dps.enrollments.meta(&id).filter(|_| st.dps.enrollments.get(&id).is_some()) else { return error(not_found_enrollment(&id)) };
    if let Err(e) = precondition(&if_match(&h), Some(meta.etag_text()), &format!("enrollment '{id}'")) {
        return error(e);
    }
    st.dps.enrollments.delete(&id);
    StatusCode::NO_CONTENT.into_response()
}

async fn enrollment_attestation(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentRead) {
        return r;
    }
    match st.dps.enrollments.get(&id) {
        Some(e) => ok(records::attestation_json(&e.primary_key, e.secondary_key.as_deref())),
        None => error(not_found_enrollment(&id)),
    }
}

async fn get_group(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentRead) {
        return r;
    }
    group_view(&st, &id).map(ok).unwrap_or_else(|| error(not_found_group(&id)))
}

async fn put_group(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentWrite) {
        return r;
    }
    let old = st.dps.enrollments.get_group(&id);
    let written = precondition(&if_match(&h), st.dps.enrollments.group_meta(&id).map(|m| m.etag_text()), &format!("enrollment group '{id}'"))
        .and_then(|()| records::group_from(&b, &id, old.as_ref()));
    match written {
        Ok(g) => {
            st.dps.enrollments.put_group(g);
            st.info(&id, "DPS: enrollment group written through the service API");
            group_view(&st, &id).map(ok).unwrap_or_else(|| error(not_found_group(&id)))
        }
        Err(e) => error(e),
    }
}

async fn delete_group(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentWrite) {
        return r;
    }
    let Some(meta) = st.dps.enrollments.group_meta(&id).filter(|_| st.dps.enrollments.get_group(&id).is_some()) else { return error(not_found_group(&id)) };
    if let Err(e) = precondition(&if_match(&h), Some(meta.etag_text()), &format!("enrollment group '{id}'")) {
        return error(e);
    }
    st.dps.enrollments.delete_group(&id);
    StatusCode::NO_CONTENT.into_response()
}

async fn group_attestation(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentRead) {
        return r;
    }
    match st.dps.enrollments.get_group(&id) {
        Some(g) => ok(records::attestation_json(&g.primary_key, g.secondary_key.as_deref())),
        None => error(not_found_group(&id)),
    }
}

/// A `QuerySpecification` body: `{"query":"SELECT * FROM enrollments"}`. DPS's query language
/// selects whole records only, so every record is answered, in one page.
#[allow(clippy::result_large_err)]
fn query_body(b: &Bytes) -> Result<(), Response> {
    match serde_json::from_slice::<Value>(b) {
        Ok(v) if v["query"].is_string() => Ok(()),
        _ => Err(error(DpsError(400, 400004, "the body must be a QuerySpecification: {\"query\":\"SELECT * FROM …\"}".into()))),
    }
}

fn page(items: Vec<Value>, kind: &str) -> Response {
    json_response(200, &Value::Array(items), &[("x-ms-item-type", kind.to_string())])
}

async fn query_enrollments(AxState(st): AxState<St>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentRead).and_then(|()| query_body(&b)) {
        return r;
    }
    let items = st.dps.enrollments.list().iter().filter_map(|e| enrollment_view(&st, &e.registration_id)).collect();
    page(items, "enrollment")
}

async fn query_groups(AxState(st): AxState<St>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentRead).and_then(|()| query_body(&b)) {
        return r;
    }
    let items = st.dps.enrollments.list_groups().iter().filter_map(|g| group_view(&st, &g.enrollment_group_id)).collect();
    page(items, "enrollmentGroup")
}

async fn get_registration(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::RegistrationStatusRead) {
        return r;
    }
    st.dps.registration(&id).map(ok).unwrap_or_else(|| error(DpsError(404, 404203, format!("Registration '{id}' not found."))))
}

async fn delete_registration(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::RegistrationStatusWrite) {
        return r;
    }
    if st.dps.remove_registration(&id) { StatusCode::NO_CONTENT.into_response() } else { error(DpsError(404, 404203, format!("Registration '{id}' not found."))) }
}

/// The registration states of one enrollment group's devices.
async fn query_registrations(AxState(st): AxState<St>, Path(group): Path<String>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::RegistrationStatusRead).and_then(|()| query_body(&b)) {
        return r;
    }
    let items = st.dps.registrations().into_iter().filter(|r| r["symmetricKey"]["enrollmentGroupId"] == group.as_str()).collect();
    page(items, "deviceRegistration")
}

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
        .route("/enrollments/{id}", put(put_record::<E>).get(get_record::<E>).delete(delete_record::<E>))
        .route("/enrollments/{id}/attestationmechanism", post(attestation::<E>))
        .route("/registrations/{id}", get(get_registration).delete(delete_registration))
        .route("/registrations/{id}/query", post(query_registrations));
    // The SDK writes `/enrollmentGroups/` for records and `/enrollmentgroups/` for attestation.
    for prefix in ["/enrollmentGroups", "/enrollmentgroups"] {
        r = r
            .route(&format!("{prefix}/query"), post(query_groups))
            .route(&format!("{prefix}/{{id}}"), put(put_record::<G>).get(get_record::<G>).delete(delete_record::<G>))
            .route(&format!("{prefix}/{{id}}/attestationmechanism"), post(attestation::<G>));
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

fn precondition(m: &IfMatch, current: Option<String>, id: &str) -> Result<(), DpsError> {
    m.check(current.as_deref(), &format!("record '{id}'")).map_err(|e| DpsError(412, 412001, e.2))
}

fn ok(v: Value) -> Response {
    json_response(200, &v, &[])
}

/// The two kinds of enrollment record, which DPS's API treats alike.
#[derive(Clone, Copy)]
enum Kind {
    Enrollment,
    Group,
}

impl Kind {
    fn not_found(self, id: &str) -> DpsError {
        match self {
            Kind::Enrollment => DpsError(404, 404201, format!("Enrollment '{id}' not found.")),
            Kind::Group => DpsError(404, 404202, format!("Enrollment group '{id}' not found.")),
        }
    }

    fn etag(self, st: &State, id: &str) -> Option<String> {
        let e = &st.dps.enrollments;
        match self {
            Kind::Enrollment => e.get(id).and(e.meta(id)),
            Kind::Group => e.get_group(id).and(e.group_meta(id)),
        }
        .map(|m| m.etag_text())
    }

    fn view(self, st: &State, id: &str) -> Option<Value> {
        let e = &st.dps.enrollments;
        match self {
            Kind::Enrollment => e.get(id).map(|r| records::enrollment_json(&r, e.meta(id).as_ref(), st.dps.registration(id), &st.hub_hostname)),
            Kind::Group => e.get_group(id).map(|g| records::group_json(&g, e.group_meta(id).as_ref(), &st.hub_hostname)),
        }
    }

    /// Checks `If-Match`, builds the record over the stored one and stores it.
    fn write(self, st: &State, id: &str, body: &[u8], m: &IfMatch) -> Result<(), DpsError> {
        precondition(m, self.etag(st, id), id)?;
        let e = &st.dps.enrollments;
        match self {
            Kind::Enrollment => e.put(records::enrollment_from(body, id, e.get(id).as_ref())?),
            Kind::Group => e.put_group(records::group_from(body, id, e.get_group(id).as_ref())?),
        }
        Ok(())
    }

    fn delete(self, st: &State, id: &str, m: &IfMatch) -> Result<(), DpsError> {
        let current = self.etag(st, id).ok_or_else(|| self.not_found(id))?;
        precondition(m, Some(current), id)?;
        match self {
            Kind::Enrollment => st.dps.enrollments.delete(id),
            Kind::Group => st.dps.enrollments.delete_group(id),
        };
        Ok(())
    }

    fn attestation(self, st: &State, id: &str) -> Option<Value> {
        let keys = match self {
            Kind::Enrollment => st.dps.enrollments.get(id).map(|e| (e.primary_key, e.secondary_key)),
            Kind::Group => st.dps.enrollments.get_group(id).map(|g| (g.primary_key, g.secondary_key)),
        };
        keys.map(|(p, s)| records::attestation_json(&p, s.as_deref()))
    }
}

// Each handler is one generic function, instantiated per kind (`E` enrollments, `G` groups).
const E: bool = false;
const G: bool = true;

fn kind<const GROUP: bool>() -> Kind {
    if GROUP { Kind::Group } else { Kind::Enrollment }
}

async fn get_record<const GROUP: bool>(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentRead) {
        return r;
    }
    let k = kind::<GROUP>();
    k.view(&st, &id).map(ok).unwrap_or_else(|| error(k.not_found(&id)))
}

async fn put_record<const GROUP: bool>(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentWrite) {
        return r;
    }
    let k = kind::<GROUP>();
    match k.write(&st, &id, &b, &if_match(&h)) {
        Ok(()) => {
            st.info(&id, "DPS: enrollment record written through the service API");
            k.view(&st, &id).map(ok).unwrap_or_else(|| error(k.not_found(&id)))
        }
        Err(e) => error(e),
    }
}

async fn delete_record<const GROUP: bool>(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentWrite) {
        return r;
    }
    match kind::<GROUP>().delete(&st, &id, &if_match(&h)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(e),
    }
}

async fn attestation<const GROUP: bool>(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentRead) {
        return r;
    }
    let k = kind::<GROUP>();
    k.attestation(&st, &id).map(ok).unwrap_or_else(|| error(k.not_found(&id)))
}

/// A `QuerySpecification` body: `{"query":"SELECT * FROM enrollments"}`. DPS's query language
/// selects whole records only, so every record is answered, in one page.
/// The refusal of a body that is not one, else None.
fn query_body(b: &Bytes) -> Option<Response> {
    match serde_json::from_slice::<Value>(b) {
        Ok(v) if v["query"].is_string() => None,
        _ => Some(error(DpsError(400, 400004, "the body must be a QuerySpecification: {\"query\":\"SELECT * FROM …\"}".into()))),
    }
}

fn page(items: Vec<Value>, kind: &str) -> Response {
    json_response(200, &Value::Array(items), &[("x-ms-item-type", kind.to_string())])
}

async fn query_enrollments(AxState(st): AxState<St>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    if let Some(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentRead).err().or_else(|| query_body(&b)) {
        return r;
    }
    let items = st.dps.enrollments.list().iter().filter_map(|e| Kind::Enrollment.view(&st, &e.registration_id)).collect();
    page(items, "enrollment")
}

async fn query_groups(AxState(st): AxState<St>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    if let Some(r) = gate(&st, q.as_deref(), &h, Right::EnrollmentRead).err().or_else(|| query_body(&b)) {
        return r;
    }
    let items = st.dps.enrollments.list_groups().iter().filter_map(|g| Kind::Group.view(&st, &g.enrollment_group_id)).collect();
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
    if let Some(r) = gate(&st, q.as_deref(), &h, Right::RegistrationStatusRead).err().or_else(|| query_body(&b)) {
        return r;
    }
    let items = st.dps.registrations().into_iter().filter(|r| r["symmetricKey"]["enrollmentGroupId"] == group.as_str()).collect();
    page(items, "deviceRegistration")
}

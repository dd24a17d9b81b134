//! Service API (the cloud side, JSON under `/service/`): devices, telemetry, twins, methods,
//! C2D, enrollments, faults, the refusal log, file upload notifications and an SSE event stream. Documented in README.md.
//! Every route needs the service key; http.rs wraps them in guard/service_key.rs's `require`.

use crate::config::{DeviceIdentity, Enrollment, EnrollmentGroup, PubackMode};
use crate::http::json_response;
use crate::hub::cloud::{self, CloudError};
use axum::{
    body::Bytes,
    extract::{Path, Query, State as AxState},
    response::{sse::{Event, KeepAlive, Sse}, IntoResponse, Response},
    routing::{get, post, put},
    Router,
};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

type St = Arc<crate::state::State>;

pub fn routes() -> Router<St> {
    Router::new()
        .route("/service/info", get(info))
        .route("/service/devices", get(devices))
        .route("/service/devices/{id}", put(put_device).get(get_device).delete(delete_device))
        .route("/service/devices/{id}/methods", post(method))
        .route("/service/devices/{id}/modules/{m}/methods", post(module_method))
        .route("/service/devices/{id}/messages", post(send_c2d).get(list_c2d))
        .route("/service/telemetry", get(telemetry))
        .route("/service/twins/{id}", get(get_twin))
        .route("/service/twins/{id}/desired", axum::routing::patch(patch_desired))
        .route("/service/twins/{id}/modules/{m}", get(get_module_twin))
        .route("/service/twins/{id}/modules/{m}/desired", axum::routing::patch(patch_module_desired))
        .route("/service/enrollments", get(list_enrollments))
        .route("/service/enrollments/{id}", put(put_enrollment).get(get_enrollment).delete(delete_enrollment))
        .route("/service/enrollmentGroups", get(list_groups))
        .route("/service/enrollmentGroups/{id}", put(put_group).get(get_group).delete(delete_group))
        .route("/service/registrations", get(registrations))
        .route("/service/faults", post(faults).get(get_faults))
        .route("/service/log", get(log))
        .route("/service/fileNotifications", get(file_notifications))
        .route("/service/events", get(events))
}

fn ok(v: Value) -> Response {
    json_response(200, &v, &[])
}

/// 200 with any serializable registry record (they always serialize; `null` if not).
fn ok_json<T: serde::Serialize>(v: &T) -> Response {
    ok(serde_json::to_value(v).unwrap_or(Value::Null))
}

/// The one error shape of the whole emulator (DPS's, protocol.md §1.6).
fn err(e: CloudError) -> Response {
    json_response(e.0, &crate::dps::error_body(e.1, &e.2), &[])
}

fn bad(msg: impl Into<String>) -> Response {
    err(CloudError(400, 400004, msg.into()))
}

// The error is the ready HTTP answer; handlers return it as is, so its size is not a concern.
#[allow(clippy::result_large_err)]
fn parse<T: for<'de> Deserialize<'de>>(b: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(b).map_err(|e| bad(format!("malformed JSON body: {e}")))
}

/// A registry body whose id field (`deviceId`, `registrationId`, `enrollmentGroupId`) may be left
/// out: the path names the record. A body naming another id is refused, not renamed, because a
/// caller who wrote it meant that record and would otherwise update a different one unawares.
#[allow(clippy::result_large_err)]
fn parse_named<T: for<'de> Deserialize<'de>>(b: &Bytes, field: &str, id: &str) -> Result<T, Response> {
    let mut v: Value = parse(b)?;
    let Some(o) = v.as_object_mut() else { return Err(bad("the body must be a JSON object")) };
    match o.get(field) {
        None | Some(Value::Null) => {
            o.insert(field.into(), json!(id));
        }
        Some(Value::String(named)) if named == id => {}
        Some(other) => return Err(bad(format!("the body's {field} {other} is not the path's '{id}'"))),
    }
    serde_json::from_value(v).map_err(|e| bad(format!("invalid body: {e}")))
}

async fn info(AxState(s): AxState<St>) -> Response {
    ok(json!({"idScope": s.id_scope, "hubHostname": s.hub_hostname, "retryAfter": s.retry_after, "cors": s.guard.origins.describe(),
        "retention": s.hub.telemetry.retention(), "fileUpload": s.files.storage.as_ref().map(|f| f.describe())}))
}

async fn devices(AxState(s): AxState<St>) -> Response {
    ok(Value::Array(s.hub.devices_json()))
}

async fn get_device(AxState(s): AxState<St>, Path(id): Path<String>) -> Response {
    match s.hub.devices_json().into_iter().find(|d| d["deviceId"] == id.as_str()) {
        Some(mut d) => {
            if let (Some(o), Some(reg)) = (d.as_object_mut(), s.hub.devices.get(&id)) {
                o.insert("authentication".into(), json!({"primaryKey": reg.primary_key, "secondaryKey": reg.secondary_key}));
            }
            ok(d)
        }
        None => err(CloudError(404, 404001, format!("device '{id}' not found"))),
    }
}

async fn put_device(AxState(s): AxState<St>, Path(id): Path<String>, b: Bytes) -> Response {
    let d: DeviceIdentity = match parse_named(&b, "deviceId", &id) {
        Ok(d) => d,
        Err(r) => return r,
    };
    s.hub.upsert_device(d.clone(), None);
    ok_json(&d)
}

async fn delete_device(AxState(s): AxState<St>, Path(id): Path<String>) -> Response {
    match s.hub.remove_device(&id) {
        Some(_) => ok(json!({})),
        None => err(CloudError(404, 404001, format!("device '{id}' not found"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MethodReq {
    method_name: String,
    #[serde(default)]
    payload: Value,
    #[serde(default)]
    response_timeout_in_seconds: Option<u64>,
}

async fn invoke(s: St, id: String, m: Option<String>, b: Bytes) -> Response {
    let r: MethodReq = match parse(&b) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match cloud::invoke_method(&s, &id, m.as_deref(), &r.method_name, &r.payload, r.response_timeout_in_seconds.unwrap_or(30), 0).await {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

async fn method(AxState(s): AxState<St>, Path(id): Path<String>, b: Bytes) -> Response {
    invoke(s, id, None, b).await
}

async fn module_method(AxState(s): AxState<St>, Path((id, m)): Path<(String, String)>, b: Bytes) -> Response {
    invoke(s, id, Some(m), b).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct C2dReq {
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    body_base64: Option<String>,
    #[serde(default)]
    properties: HashMap<String, String>,
    #[serde(default)]
    message_id: Option<String>,
}

async fn send_c2d(AxState(s): AxState<St>, Path(id): Path<String>, b: Bytes) -> Response {
    use base64::Engine;
    let r: C2dReq = match parse(&b) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let body = match (r.body_base64, r.body) {
        (Some(b64), _) => match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(v) => v,
            Err(_) => return bad("bodyBase64 is not base64"),
        },
        (None, Some(Value::String(t))) => t.into_bytes(),
        (None, Some(v)) => serde_json::to_vec(&v).unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    let mut props: Vec<(String, String)> = r.properties.into_iter().collect();
    props.sort();
    match cloud::send_c2d(&s, &id, body, props, r.message_id) {
        Ok(mid) => ok(json!({"messageId": mid})),
        Err(e) => err(e),
    }
}

async fn list_c2d(AxState(s): AxState<St>, Path(id): Path<String>) -> Response {
    ok(Value::Array(cloud::c2d_messages(&s, &id)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TelemetryQ {
    device_id: Option<String>,
    since: Option<u64>,
    limit: Option<usize>,
}

async fn telemetry(AxState(s): AxState<St>, Query(q): Query<TelemetryQ>) -> Response {
    let msgs = s.hub.telemetry.query(q.device_id.as_deref(), q.since.unwrap_or(0), q.limit.unwrap_or(1000));
    ok(Value::Array(msgs.iter().map(|m| m.to_json()).collect()))
}

async fn get_twin(AxState(s): AxState<St>, Path(id): Path<String>) -> Response {
    cloud::twin(&s, &id, None).map(ok).unwrap_or_else(|| err(CloudError(404, 404001, format!("twin '{id}' not found"))))
}

async fn get_module_twin(AxState(s): AxState<St>, Path((id, m)): Path<(String, String)>) -> Response {
    cloud::twin(&s, &id, Some(&m)).map(ok).unwrap_or_else(|| err(CloudError(404, 404001, format!("twin '{id}/{m}' not found"))))
}

async fn patch_desired(AxState(s): AxState<St>, Path(id): Path<String>, b: Bytes) -> Response {
    match parse::<Value>(&b) {
        Ok(p) => cloud::patch_desired(&s, &id, None, &p).map(ok).unwrap_or_else(err),
        Err(r) => r,
    }
}

async fn patch_module_desired(AxState(s): AxState<St>, Path((id, m)): Path<(String, String)>, b: Bytes) -> Response {
    match parse::<Value>(&b) {
        Ok(p) => cloud::patch_desired(&s, &id, Some(&m), &p).map(ok).unwrap_or_else(err),
        Err(r) => r,
    }
}

async fn list_enrollments(AxState(s): AxState<St>) -> Response {
    ok_json(&s.dps.enrollments.list())
}

async fn get_enrollment(AxState(s): AxState<St>, Path(id): Path<String>) -> Response {
    match s.dps.enrollments.get(&id) {
        Some(e) => ok_json(&e),
        None => err(CloudError(404, 404201, format!("enrollment '{id}' not found"))),
    }
}

async fn put_enrollment(AxState(s): AxState<St>, Path(id): Path<String>, b: Bytes) -> Response {
    let e: Enrollment = match parse_named(&b, "registrationId", &id) {
        Ok(e) => e,
        Err(r) => return r,
    };
    s.dps.enrollments.put(e.clone());
    ok_json(&e)
}

async fn delete_enrollment(AxState(s): AxState<St>, Path(id): Path<String>) -> Response {
    if s.dps.enrollments.delete(&id) { ok(json!({})) } else { err(CloudError(404, 404201, format!("enrollment '{id}' not found"))) }
}

async fn list_groups(AxState(s): AxState<St>) -> Response {
    ok_json(&s.dps.enrollments.list_groups())
}

async fn get_group(AxState(s): AxState<St>, Path(id): Path<String>) -> Response {
    match s.dps.enrollments.get_group(&id) {
        Some(g) => ok_json(&g),
        None => err(CloudError(404, 404202, format!("enrollment group '{id}' not found"))),
    }
}

async fn put_group(AxState(s): AxState<St>, Path(id): Path<String>, b: Bytes) -> Response {
    let g: EnrollmentGroup = match parse_named(&b, "enrollmentGroupId", &id) {
        Ok(g) => g,
        Err(r) => return r,
    };
    s.dps.enrollments.put_group(g.clone());
    ok_json(&g)
}

async fn delete_group(AxState(s): AxState<St>, Path(id): Path<String>) -> Response {
    if s.dps.enrollments.delete_group(&id) { ok(json!({})) } else { err(CloudError(404, 404202, format!("enrollment group '{id}' not found"))) }
}

async fn registrations(AxState(s): AxState<St>) -> Response {
    ok(Value::Array(s.dps.registrations()))
}

/// `{"kind":"drop","deviceId","moduleId"?}` | `{"kind":"dps","status":429|503,"count","retryAfter"?}` |
/// `{"kind":"puback","mode":"normal"|"withhold"|"delay"|"release","delayMs"?}` |
/// `{"kind":"tokenTtl","seconds":N|null}`
async fn faults(AxState(s): AxState<St>, b: Bytes) -> Response {
    let v: Value = match parse(&b) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let f = &s.faults;
    match v["kind"].as_str() {
        Some("drop") => {
            let Some(d) = v["deviceId"].as_str() else { return bad("deviceId required") };
            if !cloud::drop_connection(&s, d, v["moduleId"].as_str()) {
                return err(CloudError(404, 404103, format!("'{d}' is not connected")));
            }
        }
        Some("dps") => {
            let status = v["status"].as_u64().unwrap_or(503);
            if status != 429 && !(500..600).contains(&status) {
                return bad("status must be 429 or 5xx");
            }
            f.dps_status.store(status as u32, Ordering::Relaxed);
            f.dps_retry_after.store(v["retryAfter"].as_u64().unwrap_or(s.retry_after as u64) as u32, Ordering::Relaxed);
            f.dps_count.store(v["count"].as_u64().unwrap_or(1) as u32, Ordering::Relaxed);
        }
        Some("puback") => match v["mode"].as_str() {
            Some("normal") => {
                f.set_puback(PubackMode::Normal);
                s.release_pubacks();
            }
            Some("withhold") => f.set_puback(PubackMode::Withhold),
            Some("delay") => f.set_puback(PubackMode::Delay { ms: v["delayMs"].as_u64().unwrap_or(1000) }),
            // Release ends a withhold as well: left on, the next message would be held again and
            // a client waiting on it would time out after the operator meant to let it through.
            // A delay mode stays (it holds nothing indefinitely); its pending PUBACKs go now.
            Some("release") => {
                if f.puback() == PubackMode::Withhold {
                    f.set_puback(PubackMode::Normal);
                }
                s.release_pubacks();
            }
            _ => return bad("mode must be normal, withhold, delay or release"),
        },
        Some("tokenTtl") => f.max_token_ttl_secs.store(v["seconds"].as_u64().unwrap_or(0), Ordering::Relaxed),
        _ => return bad("kind must be drop, dps, puback or tokenTtl"),
    }
    ok(f.to_json())
}

async fn get_faults(AxState(s): AxState<St>) -> Response {
    ok(s.faults.to_json())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceQ {
    device_id: Option<String>,
}

/// What devices reported through `POST /devices/{id}/files/notifications` (hub_rest.rs), oldest first.
async fn file_notifications(AxState(s): AxState<St>, Query(q): Query<DeviceQ>) -> Response {
    ok(Value::Array(s.files.notifications(q.device_id.as_deref())))
}

async fn log(AxState(s): AxState<St>) -> Response {
    ok(Value::Array(s.log_entries()))
}

/// Server-sent events: one `data:` JSON line per telemetry/connection/twin/… event.
async fn events(AxState(s): AxState<St>) -> impl IntoResponse {
    let rx = s.events.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(v) => {
                    let ev = Event::default().event(v["type"].as_str().unwrap_or("message")).data(v.to_string());
                    return Some((Ok::<_, std::convert::Infallible>(ev), rx));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

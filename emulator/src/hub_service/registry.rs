//! The identity registry routes: `GET /devices[/][?top=N]`, `GET/PUT/DELETE /devices/{id}`,
//! `GET /devices/{id}/modules`, `GET/PUT/DELETE /devices/{id}/modules/{mid}` (RegistryRead to
//! read, RegistryWrite to write) and `DELETE /devices/{id}/commands` (ServiceConnect: purge the
//! C2D queue). The If-Match rules and JSON shapes are hub/registry.rs's.

use super::{error, gate, if_match, St};
use crate::guard::policies::Right;
use crate::http::json_response;
use crate::hub::registry::{device_not_found, module_not_found, unquote};
use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State as AxState},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, get},
    Router,
};
use serde_json::Value;

pub fn routes() -> Router<St> {
    Router::new()
        .route("/devices", get(list))
        // azure-iothub's Registry.list asks for `/devices/` (its devicePath of an empty id).
        .route("/devices/", get(list))
        .route("/devices/{id}", get(get_device).put(put_device).delete(delete_device))
        .route("/devices/{id}/modules", get(list_modules))
        .route("/devices/{id}/modules/{mid}", get(get_module).put(put_module).delete(delete_module))
        .route("/devices/{id}/commands", delete(purge))
}

/// 200 with the record and its ETag as a header too (`ETag: "…"`), as IoT Hub answers.
fn record(v: Value) -> Response {
    let etag = v["etag"].as_str().map(|t| format!("\"{}\"", unquote(t)));
    json_response(200, &v, &etag.map(|t| vec![("etag", t)]).unwrap_or_default())
}

async fn list(AxState(st): AxState<St>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::RegistryRead) {
        return r;
    }
    let top = q.as_deref().unwrap_or("").split('&').find_map(|p| p.strip_prefix("top=")).and_then(|n| n.parse().ok());
    json_response(200, &Value::Array(st.hub.list_devices_json(top)), &[])
}

async fn get_device(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::RegistryRead) {
        return r;
    }
    st.hub.device_json(&id).map(record).unwrap_or_else(|| error(device_not_found(&id)))
}

async fn put_device(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::RegistryWrite) {
        return r;
    }
    match st.hub.put_device(&id, &body, &if_match(&h)) {
        Ok(v) => {
            st.info(&id, "registry: device written through the service API");
            record(v)
        }
        Err(e) => error(e),
    }
}

async fn delete_device(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::RegistryWrite) {
        return r;
    }
    match st.hub.delete_device(&id, &if_match(&h)) {
        Ok(()) => {
            st.info(&id, "registry: device deleted through the service API");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(e),
    }
}

async fn list_modules(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::RegistryRead) {
        return r;
    }
    match st.hub.modules_json(&id) {
        Some(list) => json_response(200, &Value::Array(list), &[]),
        None => error(device_not_found(&id)),
    }
}

async fn get_module(AxState(st): AxState<St>, Path((id, m)): Path<(String, String)>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::RegistryRead) {
        return r;
    }
    match st.hub.module_json(&id, &m) {
        Some(v) => record(v),
        None if st.hub.devices.contains_key(&id) => error(module_not_found(&id, &m)),
        None => error(device_not_found(&id)),
    }
}

async fn put_module(AxState(st): AxState<St>, Path((id, m)): Path<(String, String)>, RawQuery(q): RawQuery, h: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::RegistryWrite) {
        return r;
    }
    st.hub.put_module(&id, &m, &body, &if_match(&h)).map(record).unwrap_or_else(error)
}

async fn delete_module(AxState(st): AxState<St>, Path((id, m)): Path<(String, String)>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::RegistryWrite) {
        return r;
    }
    match st.hub.delete_module(&id, &m, &if_match(&h)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(e),
    }
}

async fn purge(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::ServiceConnect) {
        return r;
    }
    st.hub.purge_c2d(&id).map(|v| json_response(200, &v, &[])).unwrap_or_else(error)
}

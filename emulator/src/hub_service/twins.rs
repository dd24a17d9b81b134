//! Twin, direct method and query routes, all ServiceConnect ("access twins to update tags and
//! desired properties, retrieve reported properties, and run queries"): `GET/PATCH/PUT
//! /twins/{id}` and `/twins/{id}/modules/{mid}`, `POST /twins/{id}[/modules/{mid}]/methods`,
//! `POST /devices/query`. Methods answer `{status, payload}`, or IoT Hub's 404 `DeviceNotOnline`
//! (404103) and 504 `GatewayTimeout` (504101).

use super::{error, gate, if_match, St};
use crate::guard::policies::Right;
use crate::http::json_response;
use crate::hub::cloud::{self, CloudError};
use crate::hub::registry::{device_not_found, module_not_found, ServiceError};
use crate::hub::{query, twin_service};
use crate::state::State;
use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State as AxState},
    http::HeaderMap,
    response::Response,
    routing::{get, post},
    Router,
};
use serde::Deserialize;
use serde_json::Value;

pub fn routes() -> Router<St> {
    Router::new()
        .route("/twins/{id}", get(get_twin).patch(patch_twin).put(put_twin))
        .route("/twins/{id}/modules/{mid}", get(get_module_twin).patch(patch_module_twin).put(put_module_twin))
        .route("/twins/{id}/methods", post(method))
        .route("/twins/{id}/modules/{mid}/methods", post(module_method))
        .route("/devices/query", post(run_query))
}

fn twin_answer(r: Result<Value, ServiceError>) -> Response {
    match r {
        Ok(v) => {
            let etag = v["etag"].as_str().map(|t| vec![("etag", format!("\"{t}\""))]).unwrap_or_default();
            json_response(200, &v, &etag)
        }
        Err(e) => error(e),
    }
}

async fn twin_call(st: St, id: String, m: Option<String>, q: Option<String>, h: HeaderMap, write: Option<(Bytes, bool)>) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::ServiceConnect) {
        return r;
    }
    match write {
        None => twin_answer(twin_service::get(&st, &id, m.as_deref())),
        Some((body, replace)) => twin_answer(twin_service::write(&st, &id, m.as_deref(), &body, &if_match(&h), replace)),
    }
}

async fn get_twin(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    twin_call(st, id, None, q, h, None).await
}

async fn patch_twin(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    twin_call(st, id, None, q, h, Some((b, false))).await
}

async fn put_twin(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    twin_call(st, id, None, q, h, Some((b, true))).await
}

async fn get_module_twin(AxState(st): AxState<St>, Path((id, m)): Path<(String, String)>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    twin_call(st, id, Some(m), q, h, None).await
}

async fn patch_module_twin(AxState(st): AxState<St>, Path((id, m)): Path<(String, String)>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    twin_call(st, id, Some(m), q, h, Some((b, false))).await
}

async fn put_module_twin(AxState(st): AxState<St>, Path((id, m)): Path<(String, String)>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    twin_call(st, id, Some(m), q, h, Some((b, true))).await
}

/// `CloudToDeviceMethod`: the SDKs send all four fields (Node: timeouts 30 and 0 by default).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MethodCall {
    method_name: String,
    #[serde(default)]
    payload: Value,
    response_timeout_in_seconds: Option<u64>,
    connect_timeout_in_seconds: Option<u64>,
}

async fn invoke(st: &State, id: &str, m: Option<&str>, body: &[u8]) -> Result<Value, ServiceError> {
    let call: MethodCall = serde_json::from_slice(body).map_err(|e| ServiceError::invalid(format!("the body is not a CloudToDeviceMethod: {e}")))?;
    if call.method_name.is_empty() {
        return Err(ServiceError::invalid("methodName must not be empty"));
    }
    let d = st.hub.devices.get(id).map(|d| d.modules.iter().any(|x| Some(x.module_id.as_str()) == m)).ok_or_else(|| device_not_found(id))?;
    if let (Some(mid), false) = (m, d) {
        return Err(module_not_found(id, mid));
    }
    let response = call.response_timeout_in_seconds.unwrap_or(30);
    let connect = call.connect_timeout_in_seconds.unwrap_or(0);
    cloud::invoke_method(st, id, m, &call.method_name, &call.payload, response, connect).await.map_err(|CloudError(status, code, text)| {
        let name = match code {
            404103 => "DeviceNotOnline",
            504101 => "GatewayTimeout",
            _ => "ArgumentInvalid",
        };
        ServiceError(status, name, format!("{text} (errorCode {code})"))
    })
}

async fn method(AxState(st): AxState<St>, Path(id): Path<String>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::ServiceConnect) {
        return r;
    }
    invoke(&st, &id, None, &b).await.map(|v| json_response(200, &v, &[])).unwrap_or_else(error)
}

async fn module_method(AxState(st): AxState<St>, Path((id, m)): Path<(String, String)>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::ServiceConnect) {
        return r;
    }
    invoke(&st, &id, Some(&m), &b).await.map(|v| json_response(200, &v, &[])).unwrap_or_else(error)
}

#[derive(Deserialize)]
struct QueryBody {
    query: String,
}

/// `POST /devices/query` `{"query":"SELECT * FROM devices …"}` → the matching twins in one page
/// (no `x-ms-continuation`), `x-ms-item-type: twin`.
async fn run_query(AxState(st): AxState<St>, RawQuery(q): RawQuery, h: HeaderMap, b: Bytes) -> Response {
    if let Err(r) = gate(&st, q.as_deref(), &h, Right::ServiceConnect) {
        return r;
    }
    let parsed = serde_json::from_slice::<QueryBody>(&b)
        .map_err(|e| ServiceError::invalid(format!("the body is not a QuerySpecification: {e}")))
        .and_then(|body| query::parse(&body.query));
    match parsed {
        Ok(query) => {
            let items: Vec<Value> = twin_service::all(&st, query.modules).into_iter().filter(|t| query.matches(t)).collect();
            json_response(200, &Value::Array(items), &[("x-ms-item-type", "twin".into())])
        }
        Err(e) => error(e),
    }
}

//! IoT Hub's device-facing REST routes, the ones the device SDKs call over HTTPS: file upload
//! (docs/file-upload.md): `POST /devices/{id}/files` and
//! `POST /devices/{id}/files/notifications[/{correlationId}]`, authorized by the device's own SAS
//! token as on the MQTT side, refused in IoT Hub's HTTP error shape (§4).

use crate::hub::{blob_props, files::FileError};
use crate::{clock, http::json_response, sas, state::State};
use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State as AxState},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use serde_json::{json, Value};
use std::sync::Arc;

type St = Arc<State>;

/// Log code of a refused file upload call when no storage is configured (the emulator's own
/// `{status}*1000+n`; 401002/401003/403006 are IoT Hub's).
pub const NOT_CONFIGURED: u32 = 400030;

pub fn routes() -> Router<St> {
    Router::new()
        .route("/devices/{id}/files", post(create_upload))
        .route("/devices/{id}/files/notifications", post(notify))
        .route("/devices/{id}/files/notifications/{correlation}", post(notify_with_id))
}

/// `{"Message":"ErrorCode:{name};{text}","ExceptionMessage":"Tracking ID:…-TimeStamp:…"}` with
/// `iothub-errorcode: {name}` (error-shape in docs/file-upload.md §4).
pub fn hub_error(status: u16, name: &str, text: &str) -> Response {
    let iso = clock::now_iso(); // 2022-09-14T01:30:26.123Z → 09/14/2022 01:30:26
    let stamp = format!("{}/{}/{} {}", &iso[5..7], &iso[8..10], &iso[0..4], &iso[11..19]);
    let tracking = uuid::Uuid::new_v4().simple().to_string();
    let body = json!({"Message": format!("ErrorCode:{name};{text}"), "ExceptionMessage": format!("Tracking ID:{tracking}-G:0-TimeStamp:{stamp}")});
    json_response(status, &body, &[("iothub-errorcode", name.to_string()), ("x-ms-request-id", uuid::Uuid::new_v4().to_string())])
}

fn file_error(e: &FileError) -> Response {
    hub_error(e.status(), e.name(), &e.text())
}

/// The checks every route makes before its own: an `api-version`, then the device's SAS token
/// for `{hub}/devices/{id}` (sas.rs, the same verification as the hub's MQTT CONNECT).
#[allow(clippy::result_large_err)]
fn admit(st: &State, device: &str, query: Option<&str>, h: &HeaderMap) -> Result<(), Response> {
    if !query.unwrap_or("").split('&').any(|p| p.starts_with("api-version=")) {
        return Err(hub_error(400, "InvalidProtocolVersion", "api-version query parameter is required"));
    }
    let refuse = |code: u32, why: String| {
        st.log(code, device, &format!("file upload call refused (401): {why}"));
        hub_error(401, "IotHubUnauthorizedAccess", "Unauthorized")
    };
    let Some(keys) = st.hub.keys_for(device, None) else {
        return Err(refuse(401002, "device is not registered in the hub or is disabled".into()));
    };
    let auth = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    let tok = sas::parse(auth).map_err(|e| refuse(401002, e.to_string()))?;
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    sas::verify_hub(&tok, &format!("{}/devices/{device}", st.hub_hostname), &key_refs, clock::now_unix_secs()).map_err(|e| match e {
        sas::SasError::Expired { .. } => refuse(401003, e.to_string()),
        _ => refuse(401002, e.to_string()),
    })
}

async fn create_upload(AxState(st): AxState<St>, Path(device): Path<String>, RawQuery(q): RawQuery, h: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = admit(&st, &device, q.as_deref(), &h) {
        return r;
    }
    let answer = crate::hub::files::parse_blob_name(&body).and_then(|name| st.files.start(&device, &name, clock::now_unix_secs()));
    match answer {
        Ok(v) => {
            st.info(&device, &format!("file upload started: {}", v["blobName"].as_str().unwrap_or("")));
            json_response(200, &v, &[])
        }
        Err(e) => {
            match e {
                FileError::NotConfigured => st.log(NOT_CONFIGURED, &device, "file upload refused (400): no --blob-endpoint configured"),
                FileError::TooMany => st.log(403006, &device, "file upload refused (403): 10 uploads already open"),
                _ => {}
            }
            file_error(&e)
        }
    }
}

async fn notify(AxState(st): AxState<St>, Path(device): Path<String>, RawQuery(q): RawQuery, h: HeaderMap, body: Bytes) -> Response {
    complete(st, device, None, q, h, body).await
}

async fn notify_with_id(AxState(st): AxState<St>, Path((device, id)): Path<(String, String)>, RawQuery(q): RawQuery, h: HeaderMap, body: Bytes) -> Response {
    complete(st, device, Some(id), q, h, body).await
}

async fn complete(st: St, device: String, path_id: Option<String>, q: Option<String>, h: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = admit(&st, &device, q.as_deref(), &h) {
        return r;
    }
    let now = clock::now_unix_secs();
    let done = crate::hub::files::parse_completion(&body, path_id.as_deref()).and_then(|c| st.files.finish(&device, &c.correlation_id, now).map(|u| (c, u)));
    let (c, upload) = match done {
        Ok(x) => x,
        Err(e) => return file_error(&e),
    };
    let Some(storage) = st.files.storage.as_ref() else { return file_error(&FileError::NotConfigured) };
    let props = match c.is_success {
        true => blob_props::fetch(storage, st.files.lookup_tls.as_ref(), &upload.blob_name, &upload.sas_token).await,
        false => None,
    };
    let record = json!({
        "deviceId": device,
        "blobName": upload.blob_name,
        "blobUri": storage.blob_url(&upload.blob_name),
        "correlationId": c.correlation_id,
        "isSuccess": c.is_success,
        "statusCode": c.status_code,
        "statusDescription": c.status_description,
        "enqueuedTimeUtc": clock::now_iso(),
        "lastUpdatedTime": props.as_ref().map(|p| Value::from(p.last_modified.clone())),
        "blobSizeInBytes": props.as_ref().map(|p| p.size),
    });
    st.info(&device, &format!("file upload notified: {} ({})", upload.blob_name, if c.is_success { "success" } else { "failure" }));
    st.files.record(record.clone());
    st.emit("fileUpload", record);
    StatusCode::NO_CONTENT.into_response()
}

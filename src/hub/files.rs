//! IoT Hub file upload, sans-I/O (docs/file-upload.md): the hub's two REST calls, the blob URL
//! built from the SAS answer, the Put Block plan, and reading the errors of hub and storage.
//!
//! Flow (docs/file-upload.md §1–§3): `POST /devices/{id}/files` → `{correlationId, hostName,
//! containerName, blobName, sasToken}`; the device writes the blob straight to storage with that
//! SAS (one Put Blob, or Put Block per block then Put Block List); then `POST
//! /devices/{id}/files/notifications` with the outcome, failure included.

use crate::auth::percent_encode;
use crate::json::{Map, Value};

use super::{HubError, Identity};

/// The api-version the Node SDK sends (docs/file-upload.md §1).
pub const FILE_UPLOAD_API_VERSION: &str = "2021-04-12";
/// The Node SDK's block size (docs/file-upload.md §2), and the bounds a caller may pick within:
/// storage takes blocks of up to 4000 MiB and at most 50,000 of them per blob.
pub const DEFAULT_BLOCK_SIZE: usize = 4 * 1024 * 1024;
pub const MIN_BLOCK_SIZE: usize = 64 * 1024;
pub const MAX_BLOCK_SIZE: usize = 100 * 1024 * 1024;
pub const MAX_BLOCKS: usize = 50_000;

/// One REST call to the hub: method POST, `path` under the hub's REST base, JSON `body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubRequest {
    pub path: String,
    pub body: String,
}

/// The hub's answer to the SAS request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSas {
    pub correlation_id: String,
    pub host_name: String,
    pub container_name: String,
    pub blob_name: String,
    pub sas_token: String,
}

fn object(members: &[(&str, Value)]) -> String {
    let mut m = Map::new();
    for (k, v) in members {
        m.insert((*k).into(), v.clone());
    }
    Value::Object(m).to_string()
}

fn devices_path(id: &Identity, rest: &str) -> Result<String, HubError> {
    if id.module_id.is_some() {
        // The hub grants file upload to devices only: a module token is refused (401).
        return Err(HubError::InvalidArgument("file upload is for devices, not modules"));
    }
    Ok(format!("/devices/{}/files{rest}?api-version={FILE_UPLOAD_API_VERSION}", percent_encode(&id.device_id)))
}

/// `POST /devices/{id}/files` with `{"blobName": name}`.
pub fn sas_request(id: &Identity, blob_name: &str) -> Result<HubRequest, HubError> {
    if blob_name.is_empty() || blob_name.len() > 1024 || blob_name.chars().any(char::is_control) {
        return Err(HubError::InvalidArgument("blobName must be 1 to 1024 characters, none a control character"));
    }
    Ok(HubRequest { path: devices_path(id, "")?, body: object(&[("blobName", blob_name.into())]) })
}

/// `POST /devices/{id}/files/notifications` with the outcome: `status` is storage's answer
/// (`-1` when there was none, as the Node SDK sends).
pub fn notification_request(id: &Identity, correlation_id: &str, ok: bool, status: i64, description: &str) -> Result<HubRequest, HubError> {
    let body = object(&[
        ("correlationId", correlation_id.into()),
        ("isSuccess", Value::Bool(ok)),
        ("statusCode", Value::from(status)),
        ("statusDescription", description.into()),
    ]);
    Ok(HubRequest { path: devices_path(id, "/notifications")?, body })
}

/// The hub's error: its status, the `iothub-errorcode` name (header, else the `ErrorCode:` of
/// the body's `Message`) and the tracking id of `ExceptionMessage` (docs/file-upload.md §4).
pub fn hub_error(status: u16, errorcode_header: Option<&str>, body: &[u8]) -> HubError {
    let doc = Value::parse(body);
    let message = doc.as_ref().and_then(|d| d.get("Message")).and_then(Value::as_str).unwrap_or("");
    let name = errorcode_header
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .or_else(|| message.strip_prefix("ErrorCode:").and_then(|m| m.split(';').next()).map(str::to_string));
    let tracking_id = doc
        .as_ref()
        .and_then(|d| d.get("ExceptionMessage"))
        .and_then(Value::as_str)
        .and_then(|m| m.strip_prefix("Tracking ID:"))
        .map(|t| t.split('-').next().unwrap_or(t).to_string());
    HubError::FileUploadFailed { status, error_name: name, tracking_id }
}

/// The SAS answer (`200`), or the hub's error for any other status.
pub fn parse_sas_response(status: u16, errorcode_header: Option<&str>, body: &[u8]) -> Result<UploadSas, HubError> {
    if status != 200 {
        return Err(hub_error(status, errorcode_header, body));
    }
    let doc = Value::parse(body).ok_or(HubError::InvalidArgument("the hub's file upload answer is not JSON"))?;
    let field = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
    match (field("correlationId"), field("hostName"), field("containerName"), field("blobName"), field("sasToken")) {
        (Some(correlation_id), Some(host_name), Some(container_name), Some(blob_name), Some(sas_token)) => {
            Ok(UploadSas { correlation_id, host_name, container_name, blob_name, sas_token })
        }
        _ => Err(HubError::InvalidArgument("the hub's file upload answer lacks a field")),
    }
}

/// `{scheme}://{hostName}/{containerName}/{blobName}{sasToken}`, each segment of the blob name
/// percent-encoded (storage decodes it before checking the SAS, docs/file-upload.md §1). The
/// scheme is https, except for a hub reached over plain http (a local emulator): then its
/// storage is plain http too.
pub fn blob_url(sas: &UploadSas, secure: bool) -> String {
    let name: Vec<String> = sas.blob_name.split('/').map(percent_encode).collect();
    let scheme = if secure { "https" } else { "http" };
    let sep = if sas.sas_token.starts_with('?') { "" } else { "?" };
    format!("{scheme}://{}/{}/{}{sep}{}", sas.host_name, percent_encode(&sas.container_name), name.join("/"), sas.sas_token)
}

/// The id of block `index`: base64 of a fixed-width number, since every block id of a blob
/// must have the same length (Put Block).
pub fn block_id(index: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("block-{index:06}"))
}

/// `&comp=block&blockid=…` for block `index` (the id percent-encoded: base64 has `+`, `/`, `=`).
pub fn block_query(index: usize) -> String {
    format!("&comp=block&blockid={}", percent_encode(&block_id(index)))
}

/// Put Block List's body for blocks `0..count`, in order.
pub fn block_list_xml(count: usize) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for i in 0..count {
        s.push_str("<Latest>");
        s.push_str(&block_id(i));
        s.push_str("</Latest>");
    }
    s.push_str("</BlockList>");
    s
}

/// Whether `size` bytes go in one Put Blob: when the size is known and fits one block.
pub fn single_put(size: Option<usize>, block_size: usize) -> bool {
    size.is_some_and(|n| n <= block_size)
}

/// Storage's refusal: its status and `x-ms-error-code`.
pub fn storage_error(status: u16, error_code: Option<&str>) -> HubError {
    HubError::StorageFailed { status, error_name: error_code.filter(|c| !c.is_empty()).map(str::to_string) }
}

/// The hub REST base for a client whose MQTT WebSocket URL is `ws_url`: the same host (and
/// port), `https` for `wss` and `http` for `ws` (a local emulator serves both on one port).
pub fn rest_base(ws_url: &str) -> Option<String> {
    let (secure, rest) = if let Some(r) = ws_url.strip_prefix("wss://") {
        (true, r)
    } else {
        (false, ws_url.strip_prefix("ws://")?)
    };
    let authority = rest.split(['/', '?']).next().filter(|a| !a.is_empty())?;
    Some(format!("{}://{authority}", if secure { "https" } else { "http" }))
}

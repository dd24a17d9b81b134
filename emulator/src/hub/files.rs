//! IoT Hub file upload (docs/file-upload.md): the storage the hub hands SAS URIs for, the uploads
//! each device has open (correlation id → blob, until notified or the SAS expires; at most 10 per
//! device, §1), and the notifications devices sent, kept for the service API (§5).
//! Transport-neutral and clock-free: `now` comes in; hub_rest.rs turns results into HTTP.

use crate::blob_sas;
use crate::config::FileUploadConfig;
use base64::{engine::general_purpose::URL_SAFE, Engine};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

/// "each device is limited to ten concurrent file uploads at a time" (devguide; error 403006).
pub const MAX_ACTIVE_PER_DEVICE: usize = 10;
/// Notifications kept for `GET /service/fileNotifications`, oldest dropped first.
pub const NOTIFICATIONS_KEPT: usize = 1000;
/// Azure blob names are at most 1024 characters; the device prefix counts.
pub const MAX_BLOB_NAME: usize = 1024;
pub const DEFAULT_CONTAINER: &str = "fileuploads";
/// IoT Hub's default `sasTtlAsIso8601` is one hour.
pub const DEFAULT_SAS_TTL_SECS: u64 = 3600;
pub const DEVSTORE_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's (and the Azure storage emulator's) published development key: public, not a secret.
pub const DEVSTORE_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A configured blob endpoint, split the ways its users need it.
#[derive(Debug, Clone)]
pub struct Storage {
    /// `http` or `https`: only for the emulator's own lookups and `blobUri`; a device picks its own.
    pub scheme: String,
    /// What TCP connects to (an IPv6 literal without brackets) and the port.
    pub connect_host: String,
    pub port: u16,
    /// `host[:port]`, the `Host` header of the emulator's lookups.
    pub authority: String,
    /// The endpoint's path, `` or `/devstoreaccount1` (path-style, as Azurite serves).
    pub path: String,
    pub account: String,
    key: Vec<u8>,
    pub container: String,
    pub ttl_secs: u64,
}

impl Storage {
    /// `None` when no endpoint is configured (file upload then answers IoT Hub's 400).
    pub fn from_config(c: &FileUploadConfig) -> Result<Option<Storage>, String> {
        let Some(url) = c.blob_endpoint.as_deref().map(str::trim).filter(|u| !u.is_empty()) else { return Ok(None) };
        let bad = |why: &str| format!("--blob-endpoint '{url}': {why}");
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("not scheme://host[:port][/account]"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(bad("the scheme must be http or https")),
        };
        if rest.contains(['?', '#']) {
            return Err(bad("no query or fragment: the emulator signs its own SAS"));
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = path.trim_end_matches('/').to_string();
        let (connect_host, port) = split_authority(authority).ok_or_else(|| bad("bad host or port"))?;
        let port = port.unwrap_or(default_port);
        let account = match &c.account_name {
            Some(a) => a.clone(),
            None => path.trim_start_matches('/').split('/').next().filter(|s| !s.is_empty()).map(str::to_string).unwrap_or_else(|| {
                let first = connect_host.split('.').next().unwrap_or("");
                if first.parse::<u8>().is_ok() || connect_host.contains(':') { DEVSTORE_ACCOUNT.into() } else { first.into() }
            }),
        };
        let key_b64 = c.account_key.as_deref().unwrap_or(DEVSTORE_KEY);
        let key = base64::engine::general_purpose::STANDARD.decode(key_b64.trim()).map_err(|_| "--blob-key is not base64".to_string())?;
        let container = c.container.clone().unwrap_or_else(|| DEFAULT_CONTAINER.into());
        let ttl_secs = c.sas_ttl_seconds.unwrap_or(DEFAULT_SAS_TTL_SECS).max(1);
        Ok(Some(Storage { scheme, connect_host, port, authority: authority.to_string(), path, account, key, container, ttl_secs }))
    }

    /// The answer's `hostName`: the endpoint without its scheme. A client builds
    /// `https://{hostName}/{containerName}/{blobName}{sasToken}`, so a path-style endpoint's
    /// account path has to be part of it.
    pub fn host_name(&self) -> String {
        format!("{}{}", self.authority, self.path)
    }

    /// The blob's URL without credentials (the notification's `blobUri`).
    pub fn blob_url(&self, blob: &str) -> String {
        format!("{}://{}/{}/{}", self.scheme, self.host_name(), self.container, blob_sas::encode_blob_path(blob))
    }

    pub fn describe(&self) -> Value {
        json!({"blobEndpoint": format!("{}://{}", self.scheme, self.host_name()), "accountName": self.account,
               "container": self.container, "sasTtlSeconds": self.ttl_secs})
    }
}

/// `host[:port]` or `[v6][:port]` → (host to connect to, port).
fn split_authority(a: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        (h, after.strip_prefix(':'))
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        }
    };
    if host.is_empty() || host.contains(['@', ' ']) {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((host.to_string(), port))
}

/// An open upload: what its notification needs.
#[derive(Debug, Clone)]
pub struct Upload {
    pub device_id: String,
    pub blob_name: String,
    pub sas_token: String,
    pub expires: u64,
}

/// Why a file upload call is refused; `name` is IoT Hub's error code name (error-names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    NotConfigured,
    BadRequest(String),
    TooMany,
    BadStatus(String),
    UnknownCorrelation,
    ExpiredCorrelation,
}

impl FileError {
    pub fn status(&self) -> u16 {
        if *self == FileError::TooMany { 403 } else { 400 }
    }

    pub fn name(&self) -> &'static str {
        match self {
            FileError::NotConfigured => "DefaultStorageEndpointNotConfigured",
            FileError::BadRequest(_) => "ArgumentInvalid",
            FileError::TooMany => "DeviceMaximumActiveFileUploadLimitExceeded",
            FileError::BadStatus(_) => "InvalidFileUploadCompletionStatus",
            FileError::UnknownCorrelation => "InvalidFileUploadCorrelationId",
            FileError::ExpiredCorrelation => "ExpiredFileUploadCorrelationId",
        }
    }

    pub fn text(&self) -> String {
        match self {
            FileError::NotConfigured => "File upload is not configured: no storage endpoint is associated with this hub (start the emulator with --blob-endpoint)".into(),
            FileError::BadRequest(why) | FileError::BadStatus(why) => why.clone(),
            FileError::TooMany => format!("Number of active file upload requests cannot exceed {MAX_ACTIVE_PER_DEVICE}"),
            FileError::UnknownCorrelation => "The correlation id is unknown, already notified, or not this device's".into(),
            FileError::ExpiredCorrelation => "The correlation id's SAS has expired".into(),
        }
    }
}

/// `{"blobName":"…"}` (§1) → the name as requested.
pub fn parse_blob_name(body: &[u8]) -> Result<String, FileError> {
    let bad = |why: &str| FileError::BadRequest(why.to_string());
    let v: Value = serde_json::from_slice(body).map_err(|_| bad("The request body is not JSON"))?;
    match v.get("blobName") {
        Some(Value::String(n)) if n.is_empty() => Err(bad("blobName is empty")),
        Some(Value::String(n)) if n.chars().any(char::is_control) => Err(bad("blobName holds a control character")),
        Some(Value::String(n)) => Ok(n.clone()),
        Some(_) => Err(bad("blobName must be a string")),
        None => Err(bad("blobName is required")),
    }
}

/// A device's completion notice (§3).
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub correlation_id: String,
    pub is_success: bool,
    pub status_code: Option<i64>,
    pub status_description: Option<String>,
}

/// The body of either notification form; `path_id` is the Node SDK's `…/notifications/{id}`.
pub fn parse_completion(body: &[u8], path_id: Option<&str>) -> Result<Completion, FileError> {
    let bad = |why: &str| FileError::BadStatus(why.to_string());
    let v: Value = serde_json::from_slice(body).map_err(|_| bad("The request body is not JSON"))?;
    let Some(o) = v.as_object() else { return Err(bad("The request body must be a JSON object")) };
    let body_id = match o.get("correlationId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(bad("correlationId must be a string")),
    };
    let correlation_id = match (path_id, body_id) {
        (Some(p), Some(b)) if p != b => return Err(bad("The path and the body name different correlation ids")),
        (Some(id), _) | (None, Some(id)) => id.to_string(),
        (None, None) => return Err(bad("correlationId is required")),
    };
    let Some(is_success) = o.get("isSuccess").and_then(Value::as_bool) else { return Err(bad("isSuccess (a boolean) is required")) };
    let status_code = match o.get("statusCode") {
        None | Some(Value::Null) => None,
        Some(n) => Some(n.as_i64().filter(|n| i32::try_from(*n).is_ok()).ok_or_else(|| bad("statusCode must be an int32"))?),
    };
    let status_description = match o.get("statusDescription") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(bad("statusDescription must be a string")),
    };
    Ok(Completion { correlation_id, is_success, status_code, status_description })
}

pub struct Files {
    pub storage: Option<Storage>,
    /// Trust for the blob lookup over HTTPS (hub/blob_props.rs): the emulator's own CA.
    pub lookup_tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    open: Mutex<HashMap<String, Upload>>,
    notifications: Mutex<VecDeque<Value>>,
}

impl Files {
    pub fn new(storage: Option<Storage>, lookup_tls: Option<std::sync::Arc<rustls::ClientConfig>>) -> Files {
        Files { storage, lookup_tls, open: Mutex::new(HashMap::new()), notifications: Mutex::new(VecDeque::new()) }
    }

    /// Opens an upload of `{device}/{requested}` and returns the answer of §1.
    pub fn start(&self, device: &str, requested: &str, now: u64) -> Result<Value, FileError> {
        let st = self.storage.as_ref().ok_or(FileError::NotConfigured)?;
        let blob_name = format!("{device}/{requested}");
        if blob_name.chars().count() > MAX_BLOB_NAME {
            return Err(FileError::BadRequest(format!("The blob name with its device prefix is over {MAX_BLOB_NAME} characters")));
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        // An upload whose SAS has expired no longer counts (devguide: the hub keeps its
        // resources "until the SAS URI time-to-live (TTL) expires").
        open.retain(|_, u| u.expires > now);
        if open.values().filter(|u| u.device_id == device).count() >= MAX_ACTIVE_PER_DEVICE {
            return Err(FileError::TooMany);
        }
        let expires = now + st.ttl_secs;
        let sas_token = blob_sas::blob_sas_token(&st.account, &st.key, &st.container, &blob_name, expires);
        // Opaque base64 like IoT Hub's (whose decoded ids read `{yyyyMMddHHmm}_{guid}_…_ver2.0`),
        // in the URL-safe alphabet: the Node SDK puts the id in a path segment, where a `/` would
        // arrive as `%2F`, which the path guard refuses (guard/paths.rs).
        let stamp: String = crate::clock::iso_utc(now * 1000).chars().filter(char::is_ascii_digit).take(12).collect();
        let correlation_id = URL_SAFE.encode(format!("{stamp}_{}_ver2.0", uuid::Uuid::new_v4()));
        open.insert(correlation_id.clone(), Upload { device_id: device.into(), blob_name: blob_name.clone(), sas_token: sas_token.clone(), expires });
        Ok(json!({"correlationId": correlation_id, "hostName": st.host_name(), "containerName": st.container,
                  "blobName": blob_name, "sasToken": sas_token}))
    }

    /// Closes the device's upload `correlation_id`; another device's id is as unknown as a made-up one.
    pub fn finish(&self, device: &str, correlation_id: &str, now: u64) -> Result<Upload, FileError> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        match open.get(correlation_id) {
            Some(u) if u.device_id != device => Err(FileError::UnknownCorrelation),
            Some(u) if u.expires <= now => {
                open.remove(correlation_id);
                Err(FileError::ExpiredCorrelation)
            }
            Some(_) => open.remove(correlation_id).ok_or(FileError::UnknownCorrelation),
            None => Err(FileError::UnknownCorrelation),
        }
    }

    pub fn record(&self, notification: Value) {
        let mut n = self.notifications.lock().unwrap_or_else(PoisonError::into_inner);
        if n.len() >= NOTIFICATIONS_KEPT {
            n.pop_front();
        }
        n.push_back(notification);
    }

    /// Oldest first, one device's or everyone's.
    pub fn notifications(&self, device: Option<&str>) -> Vec<Value> {
        let n = self.notifications.lock().unwrap_or_else(PoisonError::into_inner);
        n.iter().filter(|v| device.is_none_or(|d| v["deviceId"] == d)).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(url: &str) -> Storage {
        Storage::from_config(&FileUploadConfig { blob_endpoint: Some(url.into()), ..Default::default() }).unwrap().unwrap()
    }

    #[test]
    fn a_path_style_endpoint_names_its_account_and_keeps_the_path_in_the_host_name() {
        let s = storage("http://127.0.0.1:10000/devstoreaccount1/");
        assert_eq!((s.connect_host.as_str(), s.port, s.account.as_str()), ("127.0.0.1", 10000, "devstoreaccount1"));
        assert_eq!(s.host_name(), "127.0.0.1:10000/devstoreaccount1");
        assert_eq!(s.blob_url("d/a b"), "http://127.0.0.1:10000/devstoreaccount1/fileuploads/d/a%20b");
    }

    #[test]
    fn an_azure_style_endpoint_takes_the_account_from_its_host() {
        let s = storage("https://contoso.blob.core.windows.net");
        assert_eq!((s.account.as_str(), s.port, s.host_name().as_str()), ("contoso", 443, "contoso.blob.core.windows.net"));
        assert!(Storage::from_config(&FileUploadConfig { blob_endpoint: Some("ftp://x".into()), ..Default::default() }).is_err());
        assert!(Storage::from_config(&FileUploadConfig::default()).unwrap().is_none());
    }

    #[test]
    fn the_eleventh_open_upload_of_a_device_is_refused_and_a_notified_one_frees_a_slot() {
        let f = Files::new(Some(storage("http://127.0.0.1:10000/devstoreaccount1")), None);
        let ids: Vec<String> = (0..10).map(|i| f.start("d", &format!("f{i}"), 100).unwrap()["correlationId"].as_str().unwrap().to_string()).collect();
        assert_eq!(f.start("d", "f10", 100), Err(FileError::TooMany));
        assert!(f.start("other", "f", 100).is_ok());
        assert!(f.finish("d", &ids[0], 100).is_ok());
        assert_eq!(f.finish("d", &ids[0], 100).unwrap_err(), FileError::UnknownCorrelation);
        assert!(f.start("d", "f11", 100).is_ok());
        // After the TTL every one of them has lapsed.
        assert!(f.start("d", "late", 100 + DEFAULT_SAS_TTL_SECS).is_ok());
        assert_eq!(f.finish("other", &ids[1], 100).unwrap_err(), FileError::UnknownCorrelation);
    }

    #[test]
    fn completions_take_the_id_from_the_path_or_the_body_and_check_the_types() {
        let c = parse_completion(br#"{"isSuccess":true,"statusCode":201,"statusDescription":"ok"}"#, Some("abc")).unwrap();
        assert_eq!((c.correlation_id.as_str(), c.is_success, c.status_code), ("abc", true, Some(201)));
        assert!(parse_completion(br#"{"correlationId":"x","isSuccess":false}"#, None).is_ok());
        for bad in [&br#"{"correlationId":"x"}"#[..], br#"{"correlationId":"x","isSuccess":"yes"}"#, br#"{"isSuccess":true}"#, b"nope",
                    br#"{"correlationId":"x","isSuccess":true,"statusCode":"201"}"#] {
            assert!(matches!(parse_completion(bad, None), Err(FileError::BadStatus(_))), "{}", String::from_utf8_lossy(bad));
        }
        assert!(parse_completion(br#"{"correlationId":"x","isSuccess":true}"#, Some("y")).is_err());
    }
}

//! JS errors with a stable `code`.
//!
//! Every failure the library reports to JS is an `Error` whose `code` is a stable upper-case
//! string (`INVALID_KEY`, `DPS_UNAUTHORIZED`, ...). Where a service answered, the error also
//! carries its `status` (HTTP or MQTT-topic status), `errorCode` and `trackingId`.

use wasm_bindgen::JsValue;


/// What a service said about a failure, copied onto the JS error.
#[derive(Debug, Clone, Default)]
pub struct ServiceDetails {
    pub status: Option<u16>,
    pub error_code: Option<i64>,
    pub tracking_id: Option<String>,
    /// An error name instead of a number (IoT Hub REST's `iothub-errorcode`, storage's
    /// `x-ms-error-code`), set as `errorCode`.
    pub error_name: Option<String>,
}

/// `obj[key] = value`. Written here rather than taken from `js`, which words its own argument
/// errors with `js_error`: one direction of use between the two.
fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str(key), value);
}

/// A JS `Error` with `code` set.
pub fn js_error(code: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    set(&err, "code", &JsValue::from_str(code));
    err.into()
}

/// A JS `Error` with `code` and the service's details.
pub fn js_service_error(code: &str, message: &str, details: &ServiceDetails) -> JsValue {
    let err = js_error(code, message);
    if let Some(s) = details.status {
        set(&err, "status", &JsValue::from_f64(s as f64));
    }
    if let Some(c) = details.error_code {
        set(&err, "errorCode", &JsValue::from_f64(c as f64));
    }
    if let Some(n) = &details.error_name {
        set(&err, "errorCode", &JsValue::from_str(n));
    }
    if let Some(t) = &details.tracking_id {
        set(&err, "trackingId", &JsValue::from_str(t));
    }
    err
}

/// What every core error tells JS: a stable code, a message, and what the service said.
/// `to_js` is the one mapping from a core error to a JS `Error`.
pub trait Coded: core::fmt::Display {
    fn code(&self) -> &'static str;
    fn details(&self) -> ServiceDetails {
        ServiceDetails::default()
    }
}

/// A core error as a JS `Error` with `code`, and `status`, `errorCode`, `trackingId` when the
/// service gave them.
pub fn to_js(e: &impl Coded) -> JsValue {
    js_service_error(e.code(), &e.to_string(), &e.details())
}

impl Coded for crate::auth::AuthError {
    fn code(&self) -> &'static str {
        crate::auth::AuthError::code(self)
    }
}

impl Coded for crate::mqtt::MqttError {
    fn code(&self) -> &'static str {
        crate::mqtt::MqttError::code(self)
    }
    fn details(&self) -> ServiceDetails {
        ServiceDetails { status: self.status(), ..Default::default() }
    }
}

impl Coded for crate::hub::HubError {
    fn code(&self) -> &'static str {
        crate::hub::HubError::code(self)
    }
    fn details(&self) -> ServiceDetails {
        ServiceDetails {
            status: self.status(),
            error_code: self.error_code(),
            tracking_id: self.tracking_id().map(str::to_string),
            error_name: self.error_name().map(str::to_string),
        }
    }
}

impl Coded for crate::dps::DpsError {
    fn code(&self) -> &'static str {
        crate::dps::DpsError::code(self)
    }
    fn details(&self) -> ServiceDetails {
        match self.service() {
            Some(s) => ServiceDetails { status: s.status, error_code: s.error_code, tracking_id: s.tracking_id.clone(), error_name: None },
            None => ServiceDetails::default(),
        }
    }
}

impl From<crate::auth::AuthError> for JsValue {
    fn from(e: crate::auth::AuthError) -> JsValue {
        to_js(&e)
    }
}

impl From<crate::mqtt::MqttError> for JsValue {
    fn from(e: crate::mqtt::MqttError) -> JsValue {
        to_js(&e)
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_ERRORS: &'static str = r#"
/** Every `code` an error thrown or rejected by this library can carry. */
export type AzureIotErrorCode =
  | 'INVALID_ARGUMENT' | 'INVALID_KEY' | 'INVALID_REGISTRATION_ID' | 'INVALID_RESOURCE_URI' | 'INVALID_EXPIRY'
  | 'INVALID_CONNECTION_STRING' | 'INVALID_PROPERTY' | 'INVALID_TOPIC' | 'INVALID_TWIN_PAYLOAD'
  | 'TOKEN_PROVIDER_FAILED' | 'TOKEN_RENEWAL'
  | 'DPS_BAD_REQUEST' | 'DPS_UNAUTHORIZED' | 'DPS_NOT_FOUND' | 'DPS_REQUEST_FAILED' | 'DPS_THROTTLED_GAVE_UP'
  | 'DPS_SERVER_ERROR' | 'DPS_ASSIGNMENT_FAILED' | 'DPS_DISABLED' | 'DPS_BAD_RESPONSE'
  | 'NETWORK' | 'TIMEOUT' | 'ABORTED' | 'CLOSED' | 'BUSY' | 'SOCKET_ERROR' | 'CONNECTION_LOST' | 'CONNECTION_REFUSED'
  | 'CONNECT_TIMEOUT' | 'KEEPALIVE_TIMEOUT' | 'PROTOCOL_ERROR' | 'PACKET_TOO_LARGE' | 'NOT_CONNECTED'
  | 'NOT_AUTHORIZED' | 'HUB_UNAUTHORIZED' | 'THROTTLED' | 'MESSAGE_TOO_LARGE' | 'QUEUE_FULL'
  | 'TWIN_REQUEST_FAILED' | 'HANDLER_ERROR' | 'STORE_FAILED' | 'FILE_UPLOAD_FAILED' | 'STORAGE_FAILED';

/** The shape of every error this library throws or rejects with. */
export interface AzureIotError extends Error {
  code: AzureIotErrorCode;
  /** HTTP status, or the status in an MQTT response topic, when a service answered. */
  status?: number;
  /** The service's error code, when it sent one: DPS's and the twin's 6-digit number (e.g.
   * 401002), or the name IoT Hub's REST API and storage answer with (e.g.
   * `DefaultStorageEndpointNotConfigured`, `AuthenticationFailed`). */
  errorCode?: number | string;
  /** The service's tracking id, when it sent one. */
  trackingId?: string;
}
"#;

//! JS errors with a stable `code`.
//!
//! Every failure the library reports to JS is an `Error` whose `code` is a stable upper-case
//! string (`INVALID_KEY`, `DPS_UNAUTHORIZED`, ...). Where a service answered, the error also
//! carries its `status` (HTTP or MQTT-topic status), `errorCode` and `trackingId`.

use wasm_bindgen::JsValue;

use super::js::set;

/// What a service said about a failure, copied onto the JS error.
#[derive(Debug, Clone, Default)]
pub struct ServiceDetails {
    pub status: Option<u16>,
    pub error_code: Option<i64>,
    pub tracking_id: Option<String>,
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
    if let Some(t) = &details.tracking_id {
        set(&err, "trackingId", &JsValue::from_str(t));
    }
    err
}

impl From<crate::auth::AuthError> for JsValue {
    fn from(e: crate::auth::AuthError) -> JsValue {
        js_error(e.code(), &e.to_string())
    }
}

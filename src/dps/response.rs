//! DPS responses, REST and MQTT alike (protocol §1.5, §1.6, §3: the MQTT payload is the same
//! JSON). Parsing is tolerant of extra fields and strict only about what the next step needs.
//!
//! ```text
//! {"operationId":"5.316aac5bdc130deb.b1e0…","status":"assigning"}
//! {"operationId":"…","status":"assigned","registrationState":{"registrationId":…,"assignedHub":…,"deviceId":…,…}}
//! {"operationId":"…","status":"failed","registrationState":{…,"status":"failed","errorCode":400207,"errorMessage":…}}
//! {"operationId":"","status":"disabled","registrationState":{"registrationId":…,"status":"disabled"}}
//! {"errorCode":401002,"trackingId":"8ad0…","message":"Invalid certificate.","timestampUtc":…}
//! ```

use crate::json::{Map, Value};

use super::{DpsError, ServiceError};

/// `DeviceRegistrationResult` (protocol §1.5); `payload` is what a custom-allocation webhook returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegistrationState {
    pub registration_id: Option<String>,
    pub device_id: Option<String>,
    pub assigned_hub: Option<String>,
    pub status: Option<String>,
    pub substatus: Option<String>,
    pub created_date_time_utc: Option<String>,
    pub last_updated_date_time_utc: Option<String>,
    pub etag: Option<String>,
    pub payload: Option<Value>,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
}

/// `EnrollmentStatus` (protocol §1.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperationStatus {
    Unassigned,
    Assigning,
    Assigned,
    Failed,
    Disabled,
    /// A status this client does not know; kept for the error message.
    Other(String),
}

impl OperationStatus {
    fn parse(s: &str) -> OperationStatus {
        match s.to_ascii_lowercase().as_str() {
            "unassigned" => OperationStatus::Unassigned,
            "assigning" => OperationStatus::Assigning,
            "assigned" => OperationStatus::Assigned,
            "failed" => OperationStatus::Failed,
            "disabled" => OperationStatus::Disabled,
            _ => OperationStatus::Other(s.into()),
        }
    }
}

/// `RegistrationOperationStatus` (protocol §1.5).
#[derive(Debug, Clone, PartialEq)]
pub struct OperationResponse {
    /// Absent or empty for `disabled` (§1.5 shows `"operationId":""`).
    pub operation_id: Option<String>,
    pub status: OperationStatus,
    pub registration_state: Option<RegistrationState>,
}

fn string(m: &Map, k: &str) -> Option<String> {
    m.get(k).and_then(Value::as_str).map(str::to_string)
}

/// An `int32` per the swagger; a numeric string is accepted too.
fn integer(m: &Map, k: &str) -> Option<i64> {
    match m.get(k)? {
        n @ Value::Number(_) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn registration_state(m: &Map) -> RegistrationState {
    RegistrationState {
        registration_id: string(m, "registrationId"),
        device_id: string(m, "deviceId"),
        assigned_hub: string(m, "assignedHub"),
        status: string(m, "status"),
        substatus: string(m, "substatus"),
        created_date_time_utc: string(m, "createdDateTimeUtc"),
        last_updated_date_time_utc: string(m, "lastUpdatedDateTimeUtc"),
        etag: string(m, "etag"),
        payload: m.get("payload").filter(|v| !v.is_null()).cloned(),
        error_code: integer(m, "errorCode"),
        error_message: string(m, "errorMessage"),
    }
}

/// Parses a 2xx body. A bare `DeviceRegistrationResult` (what the status-lookup `POST` returns,
/// §1.1) is read as a completed operation with that state.
pub fn parse_operation(body: &[u8]) -> Result<OperationResponse, DpsError> {
    let v = Value::parse(body).ok_or_else(|| DpsError::BadResponse("body is not JSON".into()))?;
    let m = v.as_object().ok_or_else(|| DpsError::BadResponse("body is not a JSON object".into()))?;
    let state = m.get("registrationState").and_then(Value::as_object).map(registration_state);
    if !m.contains_key("operationId") && state.is_none() && m.contains_key("assignedHub") {
        let s = registration_state(m);
        let status = OperationStatus::parse(s.status.as_deref().unwrap_or("assigned"));
        return Ok(OperationResponse { operation_id: None, status, registration_state: Some(s) });
    }
    let status = string(m, "status")
        .map(|s| OperationStatus::parse(&s))
        .ok_or_else(|| DpsError::BadResponse("body has no status".into()))?;
    Ok(OperationResponse {
        operation_id: string(m, "operationId").filter(|s| !s.is_empty()),
        status,
        registration_state: state,
    })
}

/// Reads an error body (`ProvisioningServiceErrorDetails`, §1.6). Any body is accepted: one
/// that is not that JSON (a proxy's HTML page, nothing at all) still yields the status.
pub fn parse_error(status: u16, body: &[u8]) -> ServiceError {
    let mut e = ServiceError { status: Some(status), ..ServiceError::default() };
    if let Some(Value::Object(m)) = Value::parse(body) {
        e.error_code = integer(&m, "errorCode");
        e.tracking_id = string(&m, "trackingId");
        e.message = string(&m, "message").or_else(|| string(&m, "Message"));
    }
    e
}

/// `Retry-After` as milliseconds: whole or fractional seconds (§1.7: `Retry-After: 3`, MQTT
/// `retry-after=3`). The HTTP-date form and anything unreadable give `None` (the caller's
/// default applies), as in azure-iot-sdk-c.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    // Integer arithmetic, not `str::parse::<f64>`: float parsing pulls ~10 KB of tables into the
    // wasm (bench/size.md), and it is exact (`1.001` is 1001 ms, not 1000.999…).
    let (whole, frac) = value.trim().split_once('.').unwrap_or((value.trim(), ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) {
        return None;
    }
    let cap = u64::from(u32::MAX);
    // Saturating: an absurd number of seconds is the cap, as is anything above it.
    let secs = whole.bytes().fold(0u64, |n, b| n.saturating_mul(10).saturating_add(u64::from(b - b'0')));
    // Milliseconds from the first three fractional digits; finer digits are dropped.
    let ms = frac.bytes().chain(*b"000").take(3).fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
    Some(secs.saturating_mul(1000).saturating_add(ms).min(cap))
}

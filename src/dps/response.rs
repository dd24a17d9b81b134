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

use serde_json::{Map, Value};

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

fn string(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k).and_then(Value::as_str).map(str::to_string)
}

/// An `int32` per the swagger; a numeric string is accepted too.
fn integer(m: &Map<String, Value>, k: &str) -> Option<i64> {
    match m.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn registration_state(m: &Map<String, Value>) -> RegistrationState {
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
    let v: Value = serde_json::from_slice(body).map_err(|_| DpsError::BadResponse("body is not JSON".into()))?;
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
    if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) {
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
    let s = value.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let secs: f64 = s.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).min(u32::MAX as f64) as u64)
}

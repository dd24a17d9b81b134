//! The provisioning layer's error type. Each variant has a stable code that the JS facade puts
//! on the thrown `Error` as `code`; where the service answered, its HTTP (or MQTT topic) status,
//! `errorCode` and `trackingId` travel along in [`ServiceError`].

use core::fmt;

use crate::auth::AuthError;

/// What the service said about a failure (protocol §1.6 `ProvisioningServiceErrorDetails`, or
/// the `registrationState` of a `failed` operation, §1.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceError {
    /// HTTP status, or the `{status}` of an MQTT response topic.
    pub status: Option<u16>,
    /// The 6-digit extended code, e.g. `401002`.
    pub error_code: Option<i64>,
    pub tracking_id: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpsError {
    /// A key, token or registration id that cannot be used.
    Auth(AuthError),
    /// An option the caller gave cannot be used; the string says which.
    InvalidArgument(String),
    /// 400: the service found the request invalid.
    BadRequest(ServiceError),
    /// 401 or 403: the token was refused (wrong key, expired, wrong scope).
    Unauthorized(ServiceError),
    /// 404: unknown ID scope, enrollment or operation.
    NotFound(ServiceError),
    /// Any other terminal status (405, 409, 412, 415, ...).
    Rejected(ServiceError),
    /// Still throttled (429) when the retries or the deadline ran out.
    ThrottledGaveUp(ServiceError),
    /// Still failing with 5xx when the retries or the deadline ran out.
    ServerErrorGaveUp(ServiceError),
    /// The operation completed with `status: failed` (e.g. `400207` custom allocation failed).
    AssignmentFailed(ServiceError),
    /// The operation completed with `status: disabled`: the enrollment is disabled.
    Disabled(ServiceError),
    /// The service answered something this client cannot read.
    BadResponse(String),
    /// The request could not be carried (DNS, TLS, reset, CORS) when retries or the deadline ran out.
    Network(String),
    /// The overall deadline passed while the registration was still being assigned.
    Timeout,
    /// The caller aborted.
    Aborted,
}

impl DpsError {
    /// Stable, documented code for programs to match on.
    pub fn code(&self) -> &'static str {
        match self {
            DpsError::Auth(e) => e.code(),
            DpsError::InvalidArgument(_) => "INVALID_ARGUMENT",
            DpsError::BadRequest(_) => "DPS_BAD_REQUEST",
            DpsError::Unauthorized(_) => "DPS_UNAUTHORIZED",
            DpsError::NotFound(_) => "DPS_NOT_FOUND",
            DpsError::Rejected(_) => "DPS_REQUEST_FAILED",
            DpsError::ThrottledGaveUp(_) => "DPS_THROTTLED_GAVE_UP",
            DpsError::ServerErrorGaveUp(_) => "DPS_SERVER_ERROR",
            DpsError::AssignmentFailed(_) => "DPS_ASSIGNMENT_FAILED",
            DpsError::Disabled(_) => "DPS_DISABLED",
            DpsError::BadResponse(_) => "DPS_BAD_RESPONSE",
            DpsError::Network(_) => "NETWORK",
            DpsError::Timeout => "TIMEOUT",
            DpsError::Aborted => "ABORTED",
        }
    }

    /// The service's details, when the failure came from an answer.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            DpsError::BadRequest(s)
            | DpsError::Unauthorized(s)
            | DpsError::NotFound(s)
            | DpsError::Rejected(s)
            | DpsError::ThrottledGaveUp(s)
            | DpsError::ServerErrorGaveUp(s)
            | DpsError::AssignmentFailed(s)
            | DpsError::Disabled(s) => Some(s),
            _ => None,
        }
    }
}

impl From<AuthError> for DpsError {
    fn from(e: AuthError) -> DpsError {
        DpsError::Auth(e)
    }
}

fn service_suffix(f: &mut fmt::Formatter<'_>, s: &ServiceError) -> fmt::Result {
    if let Some(status) = s.status {
        write!(f, " (status {status}")?;
        if let Some(code) = s.error_code {
            write!(f, ", errorCode {code}")?;
        }
        f.write_str(")")?;
    }
    if let Some(m) = &s.message {
        write!(f, ": {m}")?;
    }
    Ok(())
}

impl fmt::Display for DpsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, s) = match self {
            DpsError::Auth(e) => return fmt::Display::fmt(e, f),
            DpsError::InvalidArgument(m) => return f.write_str(m),
            DpsError::BadResponse(m) => return write!(f, "unreadable response from DPS: {m}"),
            DpsError::Network(m) => return write!(f, "network error: {m}"),
            DpsError::Timeout => return f.write_str("provisioning did not finish before the deadline"),
            DpsError::Aborted => return f.write_str("provisioning was aborted"),
            DpsError::BadRequest(s) => ("DPS rejected the request as invalid", s),
            DpsError::Unauthorized(s) => ("DPS refused the credentials", s),
            DpsError::NotFound(s) => ("DPS does not know this ID scope, enrollment or operation", s),
            DpsError::Rejected(s) => ("DPS rejected the request", s),
            DpsError::ThrottledGaveUp(s) => ("DPS kept throttling; gave up", s),
            DpsError::ServerErrorGaveUp(s) => ("DPS kept failing; gave up", s),
            DpsError::AssignmentFailed(s) => ("DPS could not assign the device", s),
            DpsError::Disabled(s) => ("the enrollment is disabled", s),
        };
        f.write_str(what)?;
        service_suffix(f, s)
    }
}

impl std::error::Error for DpsError {}

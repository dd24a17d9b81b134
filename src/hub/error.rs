//! The IoT Hub layer's error type. Each variant has a stable upper-case `code()` that the JS
//! facade puts on the thrown `Error`.

use core::fmt;

use crate::auth::AuthError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubError {
    /// The connection string is malformed; the string says what is wrong.
    InvalidConnectionString(&'static str),
    /// A required option (host name, device id, ...) is missing or empty.
    InvalidArgument(&'static str),
    /// Body plus properties, counted as the hub counts them, exceed 256 KB (protocol §5.4).
    MessageTooLarge {
        size: usize,
        limit: usize,
    },
    /// An application property name is empty or uses the reserved `$.` prefix.
    InvalidProperty,
    /// The offline queue is full.
    QueueFull {
        capacity: usize,
    },
    /// The durable store holds as many records or bytes as it may (store.rs).
    StoreFull {
        capacity: usize,
        bytes: usize,
    },
    /// The service answered a twin request with an error status (protocol §5.6), and, when
    /// its body said, why (`message`) and its 6-digit `errorCode`.
    TwinRequestFailed {
        status: u16,
        reason: Option<String>,
        error_code: Option<i64>,
    },
    /// The service is throttling (status 429).
    Throttled,
    /// A twin payload was not the JSON the protocol describes.
    InvalidTwinPayload,
    /// A request got no answer in time.
    Timeout,
    /// The client was closed while the operation was pending.
    Closed,
    /// The service refused the credentials (CONNACK 4 or 5) too often to keep trying.
    Unauthorized,
    /// A fixed `sasToken` has expired: nothing can renew it, so reconnecting is pointless.
    TokenExpired,
    /// The hub refused a file-upload call (files.rs): its status, `iothub-errorcode` name and
    /// tracking id.
    FileUploadFailed {
        status: u16,
        error_name: Option<String>,
        tracking_id: Option<String>,
    },
    /// Storage refused a blob write: its status and `x-ms-error-code`.
    StorageFailed {
        status: u16,
        error_name: Option<String>,
    },
    Auth(AuthError),
}

impl HubError {
    /// Stable, documented code for programs to match on.
    pub fn code(&self) -> &'static str {
        match self {
            HubError::InvalidConnectionString(_) => "INVALID_CONNECTION_STRING",
            HubError::InvalidArgument(_) => "INVALID_ARGUMENT",
            HubError::MessageTooLarge { .. } => "MESSAGE_TOO_LARGE",
            HubError::InvalidProperty => "INVALID_PROPERTY",
            HubError::QueueFull { .. } | HubError::StoreFull { .. } => "QUEUE_FULL",
            HubError::TwinRequestFailed { .. } => "TWIN_REQUEST_FAILED",
            HubError::Throttled => "THROTTLED",
            HubError::InvalidTwinPayload => "INVALID_TWIN_PAYLOAD",
            HubError::Timeout => "TIMEOUT",
            HubError::Closed => "CLOSED",
            HubError::Unauthorized | HubError::TokenExpired => "HUB_UNAUTHORIZED",
            HubError::FileUploadFailed { .. } => "FILE_UPLOAD_FAILED",
            HubError::StorageFailed { .. } => "STORAGE_FAILED",
            HubError::Auth(e) => e.code(),
        }
    }

    /// The status the service answered with, when there was one.
    /// The service's 6-digit error code, when its answer carried one.
    pub fn error_code(&self) -> Option<i64> {
        match self {
            HubError::TwinRequestFailed { error_code, .. } => *error_code,
            _ => None,
        }
    }

    /// The service's error name (`iothub-errorcode`, `x-ms-error-code`), when it gave one.
    pub fn error_name(&self) -> Option<&str> {
        match self {
            HubError::FileUploadFailed { error_name, .. } | HubError::StorageFailed { error_name, .. } => error_name.as_deref(),
            _ => None,
        }
    }

    /// The service's tracking id, when it gave one.
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            HubError::FileUploadFailed { tracking_id, .. } => tracking_id.as_deref(),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            HubError::TwinRequestFailed { status, .. } => Some(*status),
            HubError::Throttled => Some(429),
            HubError::FileUploadFailed { status, .. } | HubError::StorageFailed { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<AuthError> for HubError {
    fn from(e: AuthError) -> Self {
        HubError::Auth(e)
    }
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HubError::InvalidConnectionString(why) => write!(f, "connection string {why}"),
            HubError::InvalidArgument(why) => f.write_str(why),
            HubError::MessageTooLarge { size, limit } => {
                write!(f, "message is {size} bytes as the hub counts it; the limit is {limit}")
            }
            HubError::InvalidProperty => f.write_str("property names must be non-empty and must not start with \"$.\""),
            HubError::QueueFull { capacity } => write!(f, "offline queue is full ({capacity} messages)"),
            HubError::StoreFull { capacity, bytes } => {
                write!(f, "the store is full ({capacity} messages or {bytes} bytes not yet acknowledged)")
            }
            HubError::TwinRequestFailed { status, reason: Some(r), .. } => {
                write!(f, "twin request failed with status {status}: {r}")
            }
            HubError::TwinRequestFailed { status, .. } => write!(f, "twin request failed with status {status}"),
            HubError::Throttled => f.write_str("the hub is throttling requests (429)"),
            HubError::InvalidTwinPayload => f.write_str("twin payload is not valid JSON"),
            HubError::Timeout => f.write_str("no answer in time"),
            HubError::Closed => f.write_str("client closed"),
            HubError::Unauthorized => f.write_str("the hub refused the credentials"),
            HubError::TokenExpired => f.write_str("the sasToken has expired and cannot be renewed: give symmetricKey or getToken"),
            HubError::FileUploadFailed { status, error_name, .. } => {
                write!(f, "the hub refused the file upload call with status {status}")?;
                error_name.as_ref().map_or(Ok(()), |n| write!(f, " ({n})"))
            }
            HubError::StorageFailed { status, error_name } => {
                write!(f, "storage refused the blob write with status {status}")?;
                error_name.as_ref().map_or(Ok(()), |n| write!(f, " ({n})"))
            }
            HubError::Auth(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for HubError {}

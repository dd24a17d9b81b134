//! The authentication layer's error type. Each variant has a stable code that the JS facade
//! puts on the thrown `Error` as `code`.

use core::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    EmptyKey,
    InvalidKey,
    EmptyRegistrationId,
    /// The registration id breaks the DPS rules of protocol §1.4; the string says which.
    InvalidRegistrationId(&'static str),
    EmptyResourceUri,
    InvalidExpiry,
}

impl AuthError {
    /// Stable, documented code for programs to match on.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::EmptyKey | AuthError::InvalidKey => "INVALID_KEY",
            AuthError::EmptyRegistrationId | AuthError::InvalidRegistrationId(_) => {
                "INVALID_REGISTRATION_ID"
            }
            AuthError::EmptyResourceUri => "INVALID_RESOURCE_URI",
            AuthError::InvalidExpiry => "INVALID_EXPIRY",
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::EmptyKey => f.write_str("key is empty"),
            AuthError::InvalidKey => f.write_str("key is not valid base64"),
            AuthError::EmptyRegistrationId => f.write_str("registration id is empty"),
            AuthError::InvalidRegistrationId(why) => write!(f, "registration id {why}"),
            AuthError::EmptyResourceUri => f.write_str("resource uri is empty"),
            AuthError::InvalidExpiry => f.write_str("expiry must be a positive integer of unix seconds"),
        }
    }
}

impl std::error::Error for AuthError {}

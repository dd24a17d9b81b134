//! Authentication core: enrollment-group key derivation and SAS tokens for DPS and IoT Hub.
//!
//! Wire contract: `shared/docs/protocol.md` §2. Nothing here reads the clock; callers pass the
//! expiry (unix seconds).

mod derive;
mod encode;
mod error;
mod registration_id;
mod resource;
mod sas;

pub use derive::derive_device_key;
pub use encode::{percent_decode, percent_encode};
pub use error::AuthError;
pub use registration_id::validate_registration_id;
pub use resource::{dps_resource_uri, hub_resource_uri};
pub use sas::{hmac_sha256_b64, sas_expiry, sas_token, string_to_sign};

use base64::Engine as _;

/// Decodes a base64 symmetric key (standard alphabet, padded), as Azure prints them.
pub(crate) fn decode_key(key_b64: &str) -> Result<Vec<u8>, AuthError> {
    let trimmed = key_b64.trim();
    if trimmed.is_empty() {
        return Err(AuthError::EmptyKey);
    }
    match base64::engine::general_purpose::STANDARD.decode(trimmed) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(AuthError::InvalidKey),
    }
}

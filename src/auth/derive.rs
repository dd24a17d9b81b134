//! Enrollment-group key derivation (protocol §2.4):
//! `derivedKey = base64(HMAC-SHA256(key = base64decode(groupKey), message = utf8(registrationId)))`.

use super::registration_id::validate_registration_id;
use super::sas::hmac_b64;
use super::{decode_key, AuthError};

/// Derives a device's symmetric key from its enrollment group's key.
pub fn derive_device_key(group_key_b64: &str, registration_id: &str) -> Result<String, AuthError> {
    validate_registration_id(registration_id)?;
    let key = decode_key(group_key_b64)?;
    Ok(hmac_b64(&key, registration_id.as_bytes()))
}

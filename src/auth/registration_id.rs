//! DPS registration-id rules (protocol §1.4): at most 128 characters of `A-Z a-z 0-9 : . _ -`,
//! no special character at the start. The sources disagree on the last character (the swagger
//! says alphanumeric, the docs say alphanumeric or dash), so the looser rule is applied and the
//! service has the last word.

use super::AuthError;

pub fn validate_registration_id(id: &str) -> Result<(), AuthError> {
    let bytes = id.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Err(AuthError::EmptyRegistrationId);
    };
    if id.len() > 128 {
        return Err(AuthError::InvalidRegistrationId("is longer than 128 characters"));
    }
    if !bytes.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-')) {
        return Err(AuthError::InvalidRegistrationId(
            "may hold only letters, digits and : . _ -",
        ));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(AuthError::InvalidRegistrationId("must start with a letter or digit"));
    }
    if !(last.is_ascii_alphanumeric() || last == b'-') {
        return Err(AuthError::InvalidRegistrationId("must end with a letter, digit or dash"));
    }
    Ok(())
}

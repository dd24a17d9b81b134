//! SAS tokens (protocol §2.1, §2.3): building them, and reading back the expiry of one.
//!
//! `SharedAccessSignature sr={enc(uri)}&sig={enc(b64 hmac)}&se={expiry}[&skn={policy}]`, where the
//! HMAC-SHA256 is over `{sr exactly as placed in the token}\n{se}`. `sr` is the strictly
//! percent-encoded resource URI, case preserved: what the docs, Python and JS samples send.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{decode_key, percent_encode, AuthError};

pub(crate) fn hmac_b64(key: &[u8], message: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; the fallback keeps the
    // function total without a panic path.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// HMAC-SHA256 of `message` keyed by the base64-decoded `key_b64`, in base64.
pub fn hmac_sha256_b64(key_b64: &str, message: &str) -> Result<String, AuthError> {
    Ok(hmac_b64(&decode_key(key_b64)?, message.as_bytes()))
}

/// `{percent-encoded resource uri}\n{expiry}`
pub fn string_to_sign(resource_uri: &str, expiry: u64) -> String {
    format!("{}\n{}", percent_encode(resource_uri), expiry)
}

/// Builds a SAS token. `expiry` is in unix seconds and must be positive; `policy` becomes `skn`
/// (DPS wants `registration`, device-key hub tokens omit it).
pub fn sas_token(
    resource_uri: &str,
    key_b64: &str,
    expiry: u64,
    policy: Option<&str>,
) -> Result<String, AuthError> {
    if resource_uri.is_empty() {
        return Err(AuthError::EmptyResourceUri);
    }
    if expiry == 0 {
        return Err(AuthError::InvalidExpiry);
    }
    let key = decode_key(key_b64)?;
    let sr = percent_encode(resource_uri);
    let sig = hmac_b64(&key, format!("{sr}\n{expiry}").as_bytes());
    let mut token = format!(
        "SharedAccessSignature sr={sr}&sig={}&se={expiry}",
        percent_encode(&sig)
    );
    if let Some(p) = policy.filter(|p| !p.is_empty()) {
        token.push_str("&skn=");
        token.push_str(&percent_encode(p));
    }
    Ok(token)
}

/// The `se` (unix seconds) of a SAS token, so a token from a caller's `getToken` is renewed by
/// when it really expires, not by when it was asked to (protocol §2.5). `None` for anything
/// that is not `SharedAccessSignature ...&se={digits}...`.
pub fn sas_expiry(token: &str) -> Option<u64> {
    let fields = token.trim().strip_prefix("SharedAccessSignature")?.trim_start();
    crate::query::query_value(fields, "se")?.parse::<u64>().ok()
}

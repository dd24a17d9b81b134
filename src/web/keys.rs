//! JS exports of the authentication core: `deriveDeviceKey` and `generateSasToken`.
//! The clock is read here, at the facade (`Date.now()`), never in the core.

use wasm_bindgen::prelude::*;

use crate::web::io::error::js_error;
use crate::web::io::js::{arg_str, get, get_str, now_ms, positive_integer};
use crate::auth;

#[wasm_bindgen(typescript_custom_section)]
const TS_AUTH: &'static str = r#"
/** Options of `generateSasToken`. Give `expiresAt` or `ttlSeconds` (default 3600). */
export interface SasTokenOptions {
  /** The resource the token grants, e.g. `{idScope}/registrations/{registrationId}` or `{host}/devices/{deviceId}`. */
  resourceUri: string;
  /** The symmetric key, base64. */
  key: string;
  /** Expiry, unix seconds (a positive integer). */
  expiresAt?: number;
  /** Lifetime from now, seconds (a positive integer). */
  ttlSeconds?: number;
  /** `skn`: `registration` for DPS; omit for device keys on IoT Hub. */
  policyName?: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "SasTokenOptions")]
    pub type SasTokenOptions;
}

/// Derives a device's key from its enrollment group's key:
/// `base64(HMAC-SHA256(base64decode(groupKey), registrationId))`.
/// Throws an `Error` with `code` `INVALID_KEY`, `INVALID_REGISTRATION_ID` or (a non-string
/// argument) `INVALID_ARGUMENT`.
#[wasm_bindgen(js_name = deriveDeviceKey)]
#[allow(non_snake_case)] // the parameter names are what the generated .d.ts shows
pub fn derive_device_key(
    #[wasm_bindgen(unchecked_param_type = "string")] groupKey: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] registrationId: JsValue,
) -> Result<String, JsValue> {
    let (key, id) = (arg_str(&groupKey, "groupKey")?, arg_str(&registrationId, "registrationId")?);
    Ok(auth::derive_device_key(&key, &id)?)
}

/// Makes a SAS token `SharedAccessSignature sr=...&sig=...&se=...[&skn=...]`.
/// Throws an `Error` with `code` `INVALID_KEY`, `INVALID_EXPIRY`, `INVALID_RESOURCE_URI` or
/// `INVALID_ARGUMENT`.
#[wasm_bindgen(js_name = generateSasToken)]
pub fn generate_sas_token(options: &SasTokenOptions) -> Result<String, JsValue> {
    let o: &JsValue = options.as_ref();
    if !o.is_object() {
        return Err(js_error("INVALID_ARGUMENT", "options must be an object"));
    }
    let resource_uri = get_str(o, "resourceUri")
        .ok_or_else(|| js_error("INVALID_RESOURCE_URI", "resourceUri must be a string"))?;
    let key = get_str(o, "key").ok_or_else(|| js_error("INVALID_KEY", "key must be a string"))?;
    let expiry = expiry_from_options(o, now_ms())?;
    let policy = match get(o, "policyName") {
        v if v.is_undefined() || v.is_null() => None,
        // An empty `skn=` would be a different token than the caller asked for: say so.
        v => Some(v.as_string().filter(|p| !p.is_empty()).ok_or_else(|| {
            js_error("INVALID_ARGUMENT", "policyName must be a non-empty string")
        })?),
    };
    Ok(auth::sas_token(&resource_uri, &key, expiry, policy.as_deref())?)
}

/// `expiresAt` (unix seconds), or now + `ttlSeconds` (default 3600); both at once is an error,
/// since one of them would be silently ignored.
pub(crate) fn expiry_from_options(o: &JsValue, now_ms: f64) -> Result<u64, JsValue> {
    let bad = || js_error("INVALID_EXPIRY", "expiresAt and ttlSeconds must be positive integers of seconds");
    let given = |v: &JsValue| !v.is_undefined() && !v.is_null();
    let (expires_at, ttl) = (get(o, "expiresAt"), get(o, "ttlSeconds"));
    if given(&expires_at) && given(&ttl) {
        return Err(js_error("INVALID_EXPIRY", "give expiresAt or ttlSeconds, not both"));
    }
    if given(&expires_at) {
        return expires_at.as_f64().and_then(positive_integer).ok_or_else(bad);
    }
    let ttl = if ttl.is_undefined() || ttl.is_null() {
        3600
    } else {
        ttl.as_f64().and_then(positive_integer).ok_or_else(bad)?
    };
    Ok((now_ms / 1000.0).floor() as u64 + ttl)
}

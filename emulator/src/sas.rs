//! SAS token verification for DPS and IoT Hub, written independently of the device library.
//!
//! protocol.md §2.3: the service checks `HMAC-SHA256(b64decode(key), rawSr + "\n" + rawSe)`
//! against `sig` exactly as `sr` appears in the token (so `%2F`, `%2f` and raw `/` all verify),
//! and separately matches the *decoded* `sr`, case-insensitively, against the target resource.

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// A token split into its fields, raw (still percent-encoded) as the signature covers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SasToken {
    pub raw_sr: String,
    pub raw_sig: String,
    pub raw_se: String,
    pub skn: Option<String>,
    pub expiry: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SasError {
    Malformed(&'static str),
    WrongResource { got: String, expected: String },
    WrongPolicy(String),
    Expired { se: u64, now: u64 },
    BadSignature,
    BadKey,
}

impl std::fmt::Display for SasError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SasError::Malformed(why) => write!(f, "malformed token: {why}"),
            SasError::WrongResource { got, expected } => {
                write!(f, "token sr '{got}' does not grant '{expected}'")
            }
            SasError::WrongPolicy(p) => write!(f, "token skn '{p}' is not accepted here"),
            SasError::Expired { se, now } => write!(f, "token expired (se={se}, now={now})"),
            SasError::BadSignature => write!(f, "signature does not match the key"),
            SasError::BadKey => write!(f, "configured key is not valid base64"),
        }
    }
}

/// Parses `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]` (field order free, §2.1).
pub fn parse(token: &str) -> Result<SasToken, SasError> {
    let rest = token
        .strip_prefix("SharedAccessSignature ")
        .ok_or(SasError::Malformed("missing 'SharedAccessSignature ' prefix"))?;
    let (mut sr, mut sig, mut se, mut skn) = (None, None, None, None);
    for pair in rest.split('&') {
        let (k, v) = pair.split_once('=').ok_or(SasError::Malformed("field without '='"))?;
        match k {
            "sr" => sr = Some(v.to_string()),
            "sig" => sig = Some(v.to_string()),
            "se" => se = Some(v.to_string()),
            "skn" => skn = Some(v.to_string()),
            _ => return Err(SasError::Malformed("unknown field")),
        }
    }
    let raw_sr = sr.ok_or(SasError::Malformed("missing sr"))?;
    let raw_sig = sig.ok_or(SasError::Malformed("missing sig"))?;
    let raw_se = se.ok_or(SasError::Malformed("missing se"))?;
    let expiry = raw_se.parse::<u64>().map_err(|_| SasError::Malformed("se is not an integer"))?;
    Ok(SasToken { raw_sr, raw_sig, raw_se, skn, expiry })
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

impl SasToken {
    pub fn decoded_sr(&self) -> String {
        decode(&self.raw_sr)
    }

    /// Constant-time check of `sig` against one base64 key.
    pub fn signature_matches(&self, key_b64: &str) -> Result<bool, SasError> {
        let key = STANDARD.decode(key_b64.trim()).map_err(|_| SasError::BadKey)?;
        let given = STANDARD.decode(decode(&self.raw_sig)).unwrap_or_default();
        let mut mac = HmacSha256::new_from_slice(&key).map_err(|_| SasError::BadKey)?;
        mac.update(self.raw_sr.as_bytes());
        mac.update(b"\n");
        mac.update(self.raw_se.as_bytes());
        let expected = mac.finalize().into_bytes();
        Ok(given.len() == expected.len() && bool::from(expected.as_slice().ct_eq(&given)))
    }
}

/// DPS: `sr` must decode to `{scope}/registrations/{regId}` (case-insensitive), `skn` absent or
/// `registration` (§2.2), not expired, and signed by one of `keys`.
pub fn verify_dps(token: &SasToken, scope: &str, reg_id: &str, keys: &[&str], now: u64) -> Result<(), SasError> {
    let expected = format!("{scope}/registrations/{reg_id}");
    let got = token.decoded_sr();
    if !got.eq_ignore_ascii_case(&expected) {
        return Err(SasError::WrongResource { got, expected });
    }
    if let Some(skn) = &token.skn {
        if !skn.eq_ignore_ascii_case("registration") {
            return Err(SasError::WrongPolicy(skn.clone()));
        }
    }
    check_expiry_and_keys(token, keys, now)
}

/// IoT Hub device/module key: decoded `sr` must be the resource or a segment prefix of it
/// ("computed by segment and not by character", §2.3); device-key tokens carry no `skn` (§2.2).
pub fn verify_hub(token: &SasToken, resource: &str, keys: &[&str], now: u64) -> Result<(), SasError> {
    let got = token.decoded_sr();
    let got_l = got.trim_end_matches('/').to_ascii_lowercase();
    let want_l = resource.to_ascii_lowercase();
    let prefix_ok = want_l == got_l
        || (want_l.starts_with(&got_l) && want_l.as_bytes().get(got_l.len()) == Some(&b'/') && got_l.contains("/devices/"));
    if !prefix_ok {
        return Err(SasError::WrongResource { got, expected: resource.to_string() });
    }
    if let Some(skn) = &token.skn {
        return Err(SasError::WrongPolicy(skn.clone()));
    }
    check_expiry_and_keys(token, keys, now)
}

/// IoT Hub service-side token (what a connection string's `SharedAccessKeyName` signs): decoded
/// `sr` is the hub host name itself, `skn` names one of the hub's shared access `policies`.
pub fn verify_service(token: &SasToken, hub_hostname: &str, policies: &[&str], key: &str, now: u64) -> Result<(), SasError> {
    let got = token.decoded_sr();
    if !got.trim_end_matches('/').eq_ignore_ascii_case(hub_hostname) {
        return Err(SasError::WrongResource { got, expected: hub_hostname.to_string() });
    }
    match &token.skn {
        Some(skn) if policies.iter().any(|p| p.eq_ignore_ascii_case(skn)) => {}
        Some(skn) => return Err(SasError::WrongPolicy(skn.clone())),
        None => return Err(SasError::Malformed("missing skn (a hub policy name such as iothubowner)")),
    }
    check_expiry_and_keys(token, &[key], now)
}

fn check_expiry_and_keys(token: &SasToken, keys: &[&str], now: u64) -> Result<(), SasError> {
    if token.expiry <= now {
        return Err(SasError::Expired { se: token.expiry, now });
    }
    for k in keys {
        if token.signature_matches(k)? {
            return Ok(());
        }
    }
    Err(SasError::BadSignature)
}

/// Group enrollment device key: `base64(HMAC-SHA256(b64decode(groupKey), regId))` (§2.4).
pub fn derive_device_key(group_key_b64: &str, reg_id: &str) -> Option<String> {
    let key = STANDARD.decode(group_key_b64.trim()).ok()?;
    let mut mac = HmacSha256::new_from_slice(&key).ok()?;
    mac.update(reg_id.as_bytes());
    Some(STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const V3_GROUP: &str = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
    const V3_REG: &str = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6";

    #[test]
    fn derived_key_matches_the_docs_vector() {
        assert_eq!(derive_device_key(V3_GROUP, V3_REG).unwrap(), "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=");
    }

    #[test]
    fn dps_accepts_all_three_sr_spellings_of_the_computed_chain() {
        let key = derive_device_key(V3_GROUP, V3_REG).unwrap();
        let sigs = [
            ("0ne00000A0A%2Fregistrations%2F", "t6%2F8JHWQuQgM9mXdYf%2FuIqa3dKECOEk9Rr4WrFV19q0%3D"),
            ("0ne00000A0A%2fregistrations%2f", "d0v1ROtrJfDl1lL%2B6Gm6mCyZUBsvFsT3HgNEOWfYmE0%3D"),
            ("0ne00000A0A/registrations/", "hUOH8hSLSay%2BbfE5WjQhRmpIvWZdSog5Tlv8EyKqBg4%3D"),
        ];
        for (prefix, sig) in sigs {
            for skn in ["&skn=registration", ""] {
                let t = format!("SharedAccessSignature sr={prefix}{V3_REG}&sig={sig}&se=1700000000{skn}");
                let tok = parse(&t).unwrap();
                assert_eq!(verify_dps(&tok, "0ne00000A0A", V3_REG, &[&key], 1_600_000_000), Ok(()), "{t}");
            }
        }
    }

    #[test]
    fn dps_rejects_expired_wrong_registration_and_wrong_key() {
        let key = derive_device_key(V3_GROUP, V3_REG).unwrap();
        let t = format!("SharedAccessSignature sr=0ne00000A0A%2Fregistrations%2F{V3_REG}&sig=t6%2F8JHWQuQgM9mXdYf%2FuIqa3dKECOEk9Rr4WrFV19q0%3D&se=1700000000&skn=registration");
        let tok = parse(&t).unwrap();
        assert!(matches!(verify_dps(&tok, "0ne00000A0A", V3_REG, &[&key], 1_700_000_000), Err(SasError::Expired { .. })));
        assert!(matches!(verify_dps(&tok, "0ne00000A0A", "other", &[&key], 1), Err(SasError::WrongResource { .. })));
        assert_eq!(verify_dps(&tok, "0ne00000A0A", V3_REG, &[V3_GROUP], 1), Err(SasError::BadSignature));
    }

    #[test]
    fn hub_accepts_the_docs_device_token_and_rejects_another_device() {
        let key = "18RQk/hOPJR9EbsJlk2j8WA6vWaj/yi+oaYg7zmxfQNdOyMSu+SJ8O7TSlZhDJCYmn4rzEiVKIzNiVAWjLxrGA==";
        let t = "SharedAccessSignature sr=MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device&sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D&se=1663119026";
        let tok = parse(t).unwrap();
        assert_eq!(verify_hub(&tok, "myexamplehub.azure-devices.net/devices/my-symkey-device", &[key], 1), Ok(()));
        assert!(matches!(verify_hub(&tok, "MyExampleHub.azure-devices.net/devices/other", &[key], 1), Err(SasError::WrongResource { .. })));
    }
}

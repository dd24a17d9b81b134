//! When a DPS SAS token is reused (protocol §2.5): until a minute before its own `se`.

use azure_iot_wasm::auth::sas_token;
use azure_iot_wasm::dps::tokens::{TokenCache, TOKEN_RENEW_MARGIN_SECS, TOKEN_TTL_SECS};

const KEY: &str = "cGFzc3dvcmQ=";

#[test]
fn a_token_is_reused_until_a_minute_before_its_own_expiry() {
    let mut c = TokenCache::new();
    assert_eq!(c.get(1000), None);
    let se = TokenCache::expiry_for(1000);
    assert_eq!(se, 1000 + TOKEN_TTL_SECS);
    let t = sas_token("s/registrations/r", KEY, se, Some("registration")).unwrap();
    c.store(&t);
    assert_eq!(c.get(1000), Some(t.as_str()));
    assert_eq!(c.get(se - TOKEN_RENEW_MARGIN_SECS - 1), Some(t.as_str()));
    assert_eq!(c.get(se - TOKEN_RENEW_MARGIN_SECS), None);
}

#[test]
fn a_provider_token_shorter_than_asked_is_kept_by_its_own_se() {
    let mut c = TokenCache::new();
    // Asked for an hour; the provider gave 90 s.
    let t = sas_token("s/registrations/r", KEY, 1090, Some("registration")).unwrap();
    c.store(&t);
    assert_eq!(c.get(1000), Some(t.as_str()));
    assert_eq!(c.get(1030), None);
}

#[test]
fn a_token_without_a_readable_se_is_not_reused() {
    let mut c = TokenCache::new();
    c.store("SharedAccessSignature sr=s%2Fregistrations%2Fr&sig=abc");
    assert_eq!(c.get(0), None);
    c.store("not a token");
    assert_eq!(c.get(0), None);
}

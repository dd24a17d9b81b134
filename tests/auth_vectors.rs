//! Every vector of tests/vectors/sas.json (a verbatim copy of the public vectors file), checked
//! natively with exact string comparison.
#![cfg(not(target_arch = "wasm32"))]

use azure_iot_wasm::auth::*;
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/sas.json")).expect("vectors file is JSON")
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("vector field {k} is a string"))
}

#[test]
fn hmac_vectors_match_the_official_sdks() {
    let v = vectors();
    let cases = v["hmac"].as_array().unwrap();
    assert!(!cases.is_empty());
    for c in cases {
        assert_eq!(hmac_sha256_b64(s(c, "key_b64"), s(c, "message")).unwrap(), s(c, "sig_b64"), "{}", s(c, "name"));
    }
}

#[test]
fn derived_keys_match_the_docs_example() {
    let v = vectors();
    for c in v["derived_keys"].as_array().unwrap() {
        assert_eq!(
            derive_device_key(s(c, "group_key_b64"), s(c, "registration_id")).unwrap(),
            s(c, "device_key_b64")
        );
    }
}

#[test]
fn sas_tokens_match_string_to_sign_and_token_of_every_vector() {
    let v = vectors();
    for c in v["sas_tokens"].as_array().unwrap() {
        let uri = c.get("resource_uri").or(c.get("resource_uri_as_signed")).and_then(Value::as_str).unwrap();
        let expiry = c["expiry"].as_u64().unwrap();
        assert_eq!(string_to_sign(uri, expiry), s(c, "string_to_sign"), "{}", s(c, "name"));
        let policy = c.get("policy").and_then(Value::as_str);
        let token = sas_token(uri, s(c, "key_b64"), expiry, policy).unwrap();
        if let Some(expected) = c.get("token").and_then(Value::as_str) {
            assert_eq!(token, expected, "{}", s(c, "name"));
        }
        if let Some(sig) = c.get("sig_urlencoded").and_then(Value::as_str) {
            assert!(token.contains(&format!("&sig={sig}&")), "{token} carries sig {sig}");
        }
        if let Some(sig) = c.get("sig_b64").and_then(Value::as_str) {
            assert_eq!(hmac_sha256_b64(s(c, "key_b64"), s(c, "string_to_sign")).unwrap(), sig);
        }
    }
}

#[test]
fn chain_from_group_key_gives_the_dps_and_hub_tokens() {
    let v = vectors();
    let chain = &v["chain"];
    let group = &v["derived_keys"][0];
    let device_key = derive_device_key(s(group, "group_key_b64"), s(chain, "registration_id")).unwrap();
    assert_eq!(device_key, s(chain, "device_key_b64"));
    let expiry = chain["expiry"].as_u64().unwrap();
    let dps_uri = dps_resource_uri(s(chain, "id_scope"), s(chain, "registration_id"));
    // Our client sends the first spelling (uppercase %2F); the others are for the emulator.
    assert_eq!(
        sas_token(&dps_uri, &device_key, expiry, Some("registration")).unwrap(),
        chain["dps_tokens"][0].as_str().unwrap()
    );
    let hub_uri = hub_resource_uri(s(chain, "hub"), s(chain, "registration_id"), None);
    assert_eq!(sas_token(&hub_uri, &device_key, expiry, None).unwrap(), s(chain, "hub_token"));
}

#[test]
fn bad_input_is_a_typed_error_not_a_panic() {
    assert_eq!(derive_device_key("not base64!!", "dev-1").unwrap_err().code(), "INVALID_KEY");
    assert_eq!(derive_device_key("", "dev-1").unwrap_err(), AuthError::EmptyKey);
    assert_eq!(derive_device_key("cGFzc3dvcmQ=", "").unwrap_err(), AuthError::EmptyRegistrationId);
    for bad in ["has space", "slash/id", "ünicode", "-leading", "trailing.", &"x".repeat(129)] {
        assert_eq!(derive_device_key("cGFzc3dvcmQ=", bad).unwrap_err().code(), "INVALID_REGISTRATION_ID", "{bad}");
    }
    assert_eq!(sas_token("uri", "cGFzc3dvcmQ=", 0, None).unwrap_err(), AuthError::InvalidExpiry);
    assert_eq!(sas_token("", "cGFzc3dvcmQ=", 1, None).unwrap_err().code(), "INVALID_RESOURCE_URI");
    assert_eq!(sas_token("uri", "%%%", 1, None).unwrap_err().code(), "INVALID_KEY");
}

#[test]
fn registration_ids_that_dps_allows_pass() {
    for ok in ["a", "symm-key-python-device-008", "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6", "A:b.c_d-", &"x".repeat(128)] {
        assert!(validate_registration_id(ok).is_ok(), "{ok}");
    }
}

#[test]
fn module_resource_uri_has_the_modules_segment() {
    assert_eq!(hub_resource_uri("h.net", "d", Some("m")), "h.net/devices/d/modules/m");
    assert_eq!(dps_resource_uri("0ne1", "r"), "0ne1/registrations/r");
}

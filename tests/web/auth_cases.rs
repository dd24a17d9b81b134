// Shared by web_auth_browser.rs and web_auth_node.rs (included, so each runtime runs the same
// cases): every vector of tests/vectors/sas.json through the JS facade, and bad input.

use azure_iot_wasm::web::keys::{generate_sas_token, SasTokenOptions};
use js_sys::{Object, Reflect};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

fn vectors() -> Value {
    serde_json::from_str(include_str!("../vectors/sas.json")).unwrap()
}

fn opts(pairs: &[(&str, JsValue)]) -> SasTokenOptions {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.unchecked_into()
}

/// `deriveDeviceKey` as JS calls it: any JS values.
fn derive_device_key(key: impl Into<JsValue>, id: impl Into<JsValue>) -> Result<String, JsValue> {
    azure_iot_wasm::web::keys::derive_device_key(key.into(), id.into())
}

fn code_of(err: JsValue) -> String {
    assert!(err.is_instance_of::<js_sys::Error>(), "thrown value is an Error");
    Reflect::get(&err, &"code".into()).unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
fn derived_keys_match_the_vectors() {
    let v = vectors();
    for c in v["derived_keys"].as_array().unwrap() {
        let got = derive_device_key(c["group_key_b64"].as_str().unwrap(), c["registration_id"].as_str().unwrap()).unwrap();
        assert_eq!(got, c["device_key_b64"].as_str().unwrap());
    }
}

#[wasm_bindgen_test]
fn sas_tokens_match_the_vectors() {
    let v = vectors();
    for c in v["sas_tokens"].as_array().unwrap() {
        let Some(expected) = c["token"].as_str() else { continue };
        let mut pairs = vec![
            ("resourceUri", JsValue::from_str(c["resource_uri"].as_str().unwrap())),
            ("key", JsValue::from_str(c["key_b64"].as_str().unwrap())),
            ("expiresAt", JsValue::from_f64(c["expiry"].as_f64().unwrap())),
        ];
        if let Some(p) = c["policy"].as_str() {
            pairs.push(("policyName", JsValue::from_str(p)));
        }
        assert_eq!(generate_sas_token(&opts(&pairs)).unwrap(), expected);
    }
}

#[wasm_bindgen_test]
fn chain_vectors_hold_in_the_js_facade() {
    let v = vectors();
    let chain = &v["chain"];
    let key = derive_device_key(v["derived_keys"][0]["group_key_b64"].as_str().unwrap(), chain["registration_id"].as_str().unwrap()).unwrap();
    let uri = format!("{}/devices/{}", chain["hub"].as_str().unwrap(), chain["registration_id"].as_str().unwrap());
    let token = generate_sas_token(&opts(&[
        ("resourceUri", uri.into()),
        ("key", key.into()),
        ("expiresAt", JsValue::from_f64(chain["expiry"].as_f64().unwrap())),
    ]))
    .unwrap();
    assert_eq!(token, chain["hub_token"].as_str().unwrap());
}

#[wasm_bindgen_test]
fn bad_input_throws_coded_errors_and_the_instance_keeps_working() {
    let good_key = "cGFzc3dvcmQ=";
    assert_eq!(code_of(derive_device_key("not base64!!", "dev").unwrap_err()), "INVALID_KEY");
    assert_eq!(code_of(derive_device_key("", "dev").unwrap_err()), "INVALID_KEY");
    assert_eq!(code_of(derive_device_key(good_key, "").unwrap_err()), "INVALID_REGISTRATION_ID");
    assert_eq!(code_of(derive_device_key(good_key, "bad/id").unwrap_err()), "INVALID_REGISTRATION_ID");
    for bad in [JsValue::from_f64(0.0), JsValue::from_f64(-5.0), JsValue::from_f64(1.5), JsValue::from_f64(f64::NAN), JsValue::from_str("123")] {
        let err = generate_sas_token(&opts(&[("resourceUri", "u".into()), ("key", good_key.into()), ("expiresAt", bad)])).unwrap_err();
        assert_eq!(code_of(err), "INVALID_EXPIRY");
    }
    let err = generate_sas_token(&opts(&[("resourceUri", "u".into()), ("key", good_key.into()), ("ttlSeconds", JsValue::from_f64(-1.0))])).unwrap_err();
    assert_eq!(code_of(err), "INVALID_EXPIRY");
    assert_eq!(code_of(generate_sas_token(&JsValue::NULL.unchecked_into()).unwrap_err()), "INVALID_ARGUMENT");
    assert_eq!(code_of(generate_sas_token(&opts(&[("key", good_key.into())])).unwrap_err()), "INVALID_RESOURCE_URI");
    // After every failure above the same instance still answers correctly.
    let v = vectors();
    let c = &v["derived_keys"][0];
    assert_eq!(
        derive_device_key(c["group_key_b64"].as_str().unwrap(), c["registration_id"].as_str().unwrap()).unwrap(),
        c["device_key_b64"].as_str().unwrap()
    );
}

#[wasm_bindgen_test]
fn ttl_seconds_counts_from_the_js_clock() {
    let token = generate_sas_token(&opts(&[("resourceUri", "u".into()), ("key", "cGFzc3dvcmQ=".into()), ("ttlSeconds", JsValue::from_f64(60.0))])).unwrap();
    let se: f64 = token.split("&se=").nth(1).unwrap().parse().unwrap();
    let now = (js_sys::Date::now() / 1000.0).floor();
    assert!(se >= now + 59.0 && se <= now + 61.0, "se {se} is about now+60 ({now})");
}

#[wasm_bindgen_test]
fn a_non_string_argument_is_invalid_argument_not_a_trap() {
    assert_eq!(code_of(derive_device_key(12345.0, "dev").unwrap_err()), "INVALID_ARGUMENT");
    assert_eq!(code_of(derive_device_key(JsValue::UNDEFINED, "dev").unwrap_err()), "INVALID_ARGUMENT");
    assert_eq!(code_of(derive_device_key("cGFzc3dvcmQ=", JsValue::NULL).unwrap_err()), "INVALID_ARGUMENT");
    assert!(derive_device_key("cGFzc3dvcmQ=", "dev").is_ok());
}

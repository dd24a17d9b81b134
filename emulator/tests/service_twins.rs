#![cfg(not(target_arch = "wasm32"))]
//! IoT Hub's service REST API, twin and method part: a twin patch needs the twin's current ETag
//! (412 otherwise) and reaches the connected device as a desired notification; a replace tells
//! the device the difference; methods answer `{status, payload}`, 404 DeviceNotOnline (404103)
//! for an offline device, after `connectTimeoutInSeconds` for one that comes online late, and
//! 504 GatewayTimeout (504101) when the device does not answer; queries read the same twins.

mod common;
use common::*;
use mqtt_protocol_core::mqtt::packet::Qos;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(5);

async fn call(emu: &iot_emulator::Emulator, method: &str, path: &str, if_match: Option<&str>, body: &str) -> (u16, Vec<(String, String)>, Value) {
    let auth = policy_sas(emu, "service");
    let mut h = vec![("authorization", auth.as_str()), ("content-type", "application/json; charset=utf-8")];
    if let Some(m) = if_match {
        h.push(("if-match", m));
    }
    http(emu, method, &format!("{path}?api-version=2021-04-12"), &h, body).await
}

/// The next PUBLISH the device gets: (topic, JSON payload).
async fn next_publish(c: &mut Client) -> (String, Value) {
    loop {
        match c.next(T).await {
            Some(Packet::V3_1_1Publish(p)) => return (p.topic_name().to_string(), serde_json::from_slice(p.payload().as_slice()).unwrap_or(Value::Null)),
            Some(_) => continue,
            None => panic!("no PUBLISH"),
        }
    }
}

#[tokio::test]
async fn a_twin_patch_needs_the_current_etag_and_reaches_the_connected_device() {
    let emu = start().await;
    let mut c = connected(&emu).await;
    c.subscribe("$iothub/twin/PATCH/properties/desired/#").await;
    let (st, hs, twin) = call(&emu, "GET", &format!("/twins/{DEV}"), None, "").await;
    assert_eq!(st, 200, "{twin}");
    assert_eq!(twin["etag"], "AAAAAAAAAAE=");
    assert_eq!(header(&hs, "etag"), Some("\"AAAAAAAAAAE=\""));
    assert_eq!((twin["deviceId"].clone(), twin["connectionState"].clone(), twin["properties"]["desired"].clone()), (json!(DEV), json!("Connected"), json!({"$version": 1})));

    let patch = r#"{"tags":{"site":"north"},"properties":{"desired":{"interval":10}}}"#;
    let (st, hs, v) = call(&emu, "PATCH", &format!("/twins/{DEV}"), Some("\"AAAAAAAAAAI=\""), patch).await;
    assert_eq!((st, header(&hs, "iothub-errorcode")), (412, Some("PreconditionFailed")), "{v}");
    let (st, _, patched) = call(&emu, "PATCH", &format!("/twins/{DEV}"), Some("\"AAAAAAAAAAE=\""), patch).await;
    assert_eq!(st, 200, "{patched}");
    assert_eq!(patched["tags"], json!({"site": "north"}));
    assert_eq!(patched["properties"]["desired"], json!({"interval": 10, "$version": 2}));
    assert_ne!(patched["etag"], twin["etag"]);
    let (topic, body) = next_publish(&mut c).await;
    assert_eq!(topic, "$iothub/twin/PATCH/properties/desired/?$version=2");
    assert_eq!(body, json!({"interval": 10, "$version": 2}));
    let (_, _, own) = http(&emu, "GET", &format!("/service/twins/{DEV}"), &[("authorization", &service_auth(&emu))], "").await;
    assert_eq!(own["properties"]["desired"], json!({"interval": 10, "$version": 2}), "the emulator's own API sees the same twin");

    let (st, _, replaced) = call(&emu, "PUT", &format!("/twins/{DEV}"), Some("*"), r#"{"properties":{"desired":{"mode":"eco"}}}"#).await;
    assert_eq!(st, 200, "{replaced}");
    assert_eq!((replaced["tags"].clone(), replaced["properties"]["desired"].clone()), (json!({}), json!({"mode": "eco", "$version": 3})));
    let (_, body) = next_publish(&mut c).await;
    assert_eq!(body, json!({"interval": null, "mode": "eco", "$version": 3}));

    let (st, _, v) = call(&emu, "PATCH", &format!("/twins/{DEV}"), Some("*"), r#"{"properties":{"reported":{"fw":"2"}}}"#).await;
    assert_eq!((st, v["properties"]["reported"].clone()), (200, json!({"$version": 1})), "reported is the device's to write: ignored");
    let (st, hs, _) = call(&emu, "PATCH", &format!("/twins/{DEV}"), Some("*"), r#"{"properties":{"desired":[1]}}"#).await;
    assert_eq!((st, header(&hs, "iothub-errorcode")), (400, Some("ArgumentInvalid")));
    let (st, hs, _) = call(&emu, "GET", "/twins/nobody", None, "").await;
    assert_eq!((st, header(&hs, "iothub-errorcode")), (404, Some("DeviceNotFound")));
}

#[tokio::test]
async fn a_module_twin_is_read_and_patched_on_its_own() {
    let emu = start().await;
    let (st, _, t) = call(&emu, "PATCH", &format!("/twins/{DEV}/modules/emu-module-1"), Some("*"), r#"{"properties":{"desired":{"m":1}}}"#).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!((t["moduleId"].clone(), t["properties"]["desired"]["m"].clone()), (json!("emu-module-1"), json!(1)));
    let (_, _, device) = call(&emu, "GET", &format!("/twins/{DEV}"), None, "").await;
    assert_eq!(device["properties"]["desired"], json!({"$version": 1}));
    let (st, hs, _) = call(&emu, "GET", &format!("/twins/{DEV}/modules/none"), None, "").await;
    assert_eq!((st, header(&hs, "iothub-errorcode")), (404, Some("ModuleNotFound")));
}

#[tokio::test]
async fn a_method_is_answered_by_the_device_with_status_and_payload() {
    let emu = start().await;
    let mut c = connected(&emu).await;
    c.subscribe("$iothub/methods/POST/#").await;
    assert!(matches!(c.next(T).await, Some(Packet::V3_1_1Suback(_))));
    let call_task = {
        let path = format!("/twins/{DEV}/methods");
        let emu_ref = &emu;
        async move { call(emu_ref, "POST", &path, None, r#"{"methodName":"reboot","payload":{"delay":1},"responseTimeoutInSeconds":10,"connectTimeoutInSeconds":0}"#).await }
    };
    let device = async {
        let (topic, body) = next_publish(&mut c).await;
        assert!(topic.starts_with("$iothub/methods/POST/reboot/?$rid="), "{topic}");
        assert_eq!(body, json!({"delay": 1}));
        let rid = topic.split("$rid=").nth(1).unwrap().to_string();
        c.publish(&format!("$iothub/methods/res/201/?$rid={rid}"), br#"{"rebooted":true}"#, Qos::AtMostOnce).await;
    };
    let ((st, _, v), ()) = tokio::join!(call_task, device);
    assert_eq!((st, v), (200, json!({"status": 201, "payload": {"rebooted": true}})));
}

#[tokio::test]
async fn a_method_on_an_offline_device_is_404_device_not_online_unless_it_connects_in_time() {
    let emu = start().await;
    let (st, hs, v) = call(&emu, "POST", &format!("/twins/{DEV}/methods"), None, r#"{"methodName":"reboot","responseTimeoutInSeconds":5,"connectTimeoutInSeconds":0}"#).await;
    assert_eq!((st, header(&hs, "iothub-errorcode")), (404, Some("DeviceNotOnline")), "{v}");
    assert!(v["Message"].as_str().unwrap().contains("404103"), "{v}");
    let (st, hs, _) = call(&emu, "POST", "/twins/nobody/methods", None, r#"{"methodName":"reboot"}"#).await;
    assert_eq!((st, header(&hs, "iothub-errorcode")), (404, Some("DeviceNotFound")));

    let late = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut c = connected(&emu).await;
        c.subscribe("$iothub/methods/POST/#").await;
        let (topic, _) = next_publish(&mut c).await;
        let rid = topic.split("$rid=").nth(1).unwrap().to_string();
        c.publish(&format!("$iothub/methods/res/200/?$rid={rid}"), b"{}", Qos::AtMostOnce).await;
        c
    };
    let path = format!("/twins/{DEV}/methods");
    let early = call(&emu, "POST", &path, None, r#"{"methodName":"wake","responseTimeoutInSeconds":5,"connectTimeoutInSeconds":5}"#);
    let ((st, _, v), _c) = tokio::join!(early, late);
    assert_eq!((st, v), (200, json!({"status": 200, "payload": {}})));
}

#[tokio::test]
async fn a_method_the_device_does_not_answer_is_504_gateway_timeout_after_its_response_timeout() {
    let emu = start().await;
    let mut c = connected(&emu).await;
    c.subscribe("$iothub/methods/POST/#").await;
    assert!(matches!(c.next(T).await, Some(Packet::V3_1_1Suback(_))));
    let started = Instant::now();
    let (st, hs, v) = call(&emu, "POST", &format!("/twins/{DEV}/methods"), None, r#"{"methodName":"silent","responseTimeoutInSeconds":5}"#).await;
    assert_eq!((st, header(&hs, "iothub-errorcode")), (504, Some("GatewayTimeout")), "{v}");
    assert!(v["Message"].as_str().unwrap().contains("504101"), "{v}");
    assert!(started.elapsed() >= Duration::from_secs(5));
    assert!(wait_for_log(&emu, 504101).await.contains("silent"));
}

#[tokio::test]
async fn the_query_api_selects_twins_by_id_tags_and_properties() {
    let emu = start().await;
    let owner = policy_sas(&emu, "iothubowner");
    let (st, _, _) = http(&emu, "PUT", "/devices/south-dev?api-version=2021-04-12", &[("authorization", &owner)], "{}").await;
    assert_eq!(st, 200);
    let (st, _, _) = call(&emu, "PATCH", &format!("/twins/{DEV}"), Some("*"), r#"{"tags":{"site":"north"}}"#).await;
    assert_eq!(st, 200);
    let (st, hs, all) = call(&emu, "POST", "/devices/query", None, r#"{"query":"SELECT * FROM devices"}"#).await;
    assert_eq!((st, header(&hs, "x-ms-item-type")), (200, Some("twin")));
    assert_eq!(all.as_array().unwrap().iter().map(|t| t["deviceId"].as_str().unwrap()).collect::<Vec<_>>(), [DEV, "south-dev"]);
    let (_, _, north) = call(&emu, "POST", "/devices/query", None, r#"{"query":"SELECT * FROM devices WHERE tags.site = 'north'"}"#).await;
    assert_eq!(north.as_array().unwrap().iter().map(|t| t["deviceId"].as_str().unwrap()).collect::<Vec<_>>(), [DEV]);
    let (_, _, modules) = call(&emu, "POST", "/devices/query", None, &format!(r#"{{"query":"SELECT * FROM devices.modules WHERE deviceId = '{DEV}'"}}"#)).await;
    assert_eq!(modules[0]["moduleId"], "emu-module-1");
    let (st, hs, _) = call(&emu, "POST", "/devices/query", None, r#"{"query":"SELECT COUNT() FROM devices"}"#).await;
    assert_eq!((st, header(&hs, "iothub-errorcode")), (400, Some("ArgumentInvalid")));
}

#[tokio::test]
async fn a_module_method_reaches_the_module_connection_only() {
    let emu = start().await;
    const MODULE_KEY: &str = "piD6Ep/UBsR+kJxBdEO/fZUOtbe4pJ00MspT543kIME3yR76J4sUqo3vT/61BH0bRJxmMGM+lsnR+qUdJu0TTw==";
    let id = format!("{DEV}/emu-module-1");
    let user = format!("{}/{id}/?api-version=2021-04-12", emu.hub_hostname);
    let pass = token(&format!("{}/devices/{DEV}/modules/emu-module-1", emu.hub_hostname), MODULE_KEY, now() + 600, None);
    let (mut c, rc) = Client::connect(&emu, &id, &user, &pass, 60).await;
    assert_eq!(rc, 0);
    c.subscribe("$iothub/methods/POST/#").await;
    assert!(matches!(c.next(T).await, Some(Packet::V3_1_1Suback(_))));
    let path = format!("/twins/{DEV}/modules/emu-module-1/methods");
    let invoke = call(&emu, "POST", &path, None, r#"{"methodName":"ping","payload":"hi","responseTimeoutInSeconds":5}"#);
    let module = async {
        let (topic, body) = next_publish(&mut c).await;
        assert_eq!(body, json!("hi"));
        let rid = topic.split("$rid=").nth(1).unwrap().to_string();
        c.publish(&format!("$iothub/methods/res/200/?$rid={rid}"), b"\"pong\"", Qos::AtMostOnce).await;
    };
    let ((st, _, v), ()) = tokio::join!(invoke, module);
    assert_eq!((st, v), (200, json!({"status": 200, "payload": "pong"})));
    let (st, hs, _) = call(&emu, "POST", &format!("/twins/{DEV}/methods"), None, r#"{"methodName":"ping","responseTimeoutInSeconds":5}"#).await;
    assert_eq!((st, header(&hs, "iothub-errorcode")), (404, Some("DeviceNotOnline")), "the device itself is not connected");
    let (st, hs, _) = call(&emu, "POST", &format!("/twins/{DEV}/modules/none/methods"), None, r#"{"methodName":"ping"}"#).await;
    assert_eq!((st, header(&hs, "iothub-errorcode")), (404, Some("ModuleNotFound")));
}

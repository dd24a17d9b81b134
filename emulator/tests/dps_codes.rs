#![cfg(not(target_arch = "wasm32"))]
//! DPS REST refusals with their exact codes (400002, 404002; protocol.md §1.6), the
//! status lookup `POST /{idScope}/registrations/{regId}` (a bare DeviceRegistrationResult, §1.1)
//! and an enrollment's `initialTwin` becoming the assigned device's desired properties.

mod common;
use common::*;
use iot_emulator::config::{Config, Enrollment};

fn auth(reg: &str, key: &str) -> String {
    token(&format!("{SCOPE}/registrations/{reg}"), key, now() + 3600, Some("registration"))
}

async fn register(emu: &iot_emulator::Emulator, reg: &str, key: &str, body: &str) -> (u16, Vec<(String, String)>, serde_json::Value) {
    http(emu, "PUT", &format!("/{SCOPE}/registrations/{reg}/register?api-version=2021-06-01"), &[("authorization", &auth(reg, key)), ("content-type", "application/json")], body).await
}

fn header<'a>(hs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    hs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_body_registration_id_that_differs_from_the_path_is_refused_400_with_400002() {
    let emu = start().await;
    let (st, hs, v) = register(&emu, REG, REG_KEY, r#"{"registrationId":"someone-else"}"#).await;
    assert_eq!(st, 400);
    assert_eq!(v["errorCode"], 400002);
    assert_eq!(header(&hs, "x-ms-error-code"), Some("400002"));
}

#[tokio::test]
async fn a_path_registration_id_outside_the_allowed_characters_is_refused_400_with_400002() {
    let emu = start().await;
    let (st, _, v) = register(&emu, "-starts-with-a-dash", REG_KEY, "{}").await;
    assert_eq!(st, 400);
    assert_eq!(v["errorCode"], 400002);
}

async fn operation(emu: &iot_emulator::Emulator, reg: &str, key: &str, op: &str) -> (u16, serde_json::Value) {
    let (st, _, v) = http(emu, "GET", &format!("/{SCOPE}/registrations/{reg}/operations/{op}?api-version=2021-06-01"), &[("authorization", &auth(reg, key))], "").await;
    (st, v)
}

#[tokio::test]
async fn an_unknown_operation_id_is_answered_404_with_404002() {
    let emu = start().await;
    let (st, v) = operation(&emu, REG, REG_KEY, "4.0000000000000000.00000000-0000-0000-0000-000000000000").await;
    assert_eq!(st, 404);
    assert_eq!(v["errorCode"], 404002);
}

#[tokio::test]
async fn another_registrations_operation_id_is_answered_404_with_404002() {
    let emu = start().await;
    let group_key = emu.state.dps.enrollments.list_groups()[0].primary_key.clone();
    let other = "other-member-1";
    let other_key = iot_emulator::sas::derive_device_key(&group_key, other).unwrap();
    let (st, _, v) = register(&emu, other, &other_key, "{}").await;
    assert_eq!(st, 202);
    let op = v["operationId"].as_str().unwrap().to_string();
    let (st, v) = operation(&emu, REG, REG_KEY, &op).await;
    assert_eq!(st, 404);
    assert_eq!(v["errorCode"], 404002);
    let (st, _) = operation(&emu, other, &other_key, &op).await;
    assert_eq!(st, 200, "the operation itself exists for its own registration");
}

#[tokio::test]
async fn the_status_lookup_post_answers_404001_before_and_the_bare_result_after_assignment() {
    let emu = start().await;
    let path = format!("/{SCOPE}/registrations/{REG}?api-version=2021-06-01");
    let body = format!(r#"{{"registrationId":"{REG}"}}"#);
    let (st, _, v) = http(&emu, "POST", &path, &[("authorization", &auth(REG, REG_KEY))], &body).await;
    assert_eq!(st, 404);
    assert_eq!(v["errorCode"], 404001);

    let (_, _, v) = register(&emu, REG, REG_KEY, "{}").await;
    let op = v["operationId"].as_str().unwrap().to_string();
    let (st, assigned) = operation(&emu, REG, REG_KEY, &op).await;
    assert_eq!(st, 200);

    let (st, _, v) = http(&emu, "POST", &path, &[("authorization", &auth(REG, REG_KEY))], &body).await;
    assert_eq!(st, 200);
    assert_eq!(v, assigned["registrationState"], "bare DeviceRegistrationResult, no operationId wrapper");
    assert!(v.get("operationId").is_none());
    assert_eq!(v["deviceId"], "python-device-008");

    let (st, _, _) = http(&emu, "POST", &path, &[("authorization", &auth(REG, DEV_KEY))], &body).await;
    assert_eq!(st, 401, "the lookup needs the registration's credential too");
}

#[tokio::test]
async fn an_enrollments_initial_twin_is_the_assigned_devices_desired_properties() {
    let mut cfg = Config::ephemeral();
    let reg = "twin-seeded-device";
    cfg.file.enrollments.push(Enrollment {
        registration_id: reg.into(),
        device_id: None,
        primary_key: REG_KEY.into(),
        secondary_key: None,
        status: "enabled".into(),
        allocation: None,
        initial_twin: Some(serde_json::json!({"interval": 5, "mode": {"eco": true}})),
    });
    let emu = start_with(cfg).await;
    let (_, _, v) = register(&emu, reg, REG_KEY, "{}").await;
    let op = v["operationId"].as_str().unwrap().to_string();
    let (st, v) = operation(&emu, reg, REG_KEY, &op).await;
    assert_eq!(st, 200);
    assert_eq!(v["registrationState"]["deviceId"], reg, "deviceId defaults to the registration id");
    let twin = iot_emulator::hub::cloud::twin(&emu.state, reg, None).expect("the assigned device has a twin");
    assert_eq!(twin["properties"]["desired"], serde_json::json!({"interval": 5, "mode": {"eco": true}, "$version": 2}));

    // The device sees it too, over MQTT (§5.6).
    let (mut c, rc) = Client::connect(&emu, reg, &hub_user(&emu, reg), &hub_token(&emu, reg, REG_KEY, now() + 3600), 60).await;
    assert_eq!(rc, 0);
    c.subscribe("$iothub/twin/res/#").await;
    assert!(matches!(c.next(std::time::Duration::from_secs(5)).await, Some(Packet::V3_1_1Suback(_))));
    c.publish("$iothub/twin/GET/?$rid=1", b"", mqtt_protocol_core::mqtt::packet::Qos::AtMostOnce).await;
    match c.next(std::time::Duration::from_secs(5)).await {
        Some(Packet::V3_1_1Publish(p)) => {
            let v: serde_json::Value = serde_json::from_slice(p.payload().as_slice()).unwrap();
            assert_eq!(v["desired"]["interval"], 5);
        }
        other => panic!("{other:?}"),
    }
}

#![cfg(not(target_arch = "wasm32"))]
//! The hub's documented refusal codes that need a device or the service API to provoke, each
//! with its exact answer: 413001 (telemetry over 256 KB closes the socket, protocol.md §5.4 and
//! §6), 404103 (a method for an offline or unsubscribed device) and 504101 (a method the device
//! never answers), both answered by the service API in the DPS error shape (§1.6).

mod common;
use common::*;
use mqtt_protocol_core::mqtt::packet::Qos;
use std::time::Duration;

const T: Duration = Duration::from_secs(5);
const LIMIT: usize = 256 * 1024;

fn telemetry_topic() -> String {
    format!("devices/{DEV}/messages/events/")
}

#[tokio::test]
async fn telemetry_of_exactly_256_kb_is_pubacked_and_stored() {
    let emu = start().await;
    let mut c = connected(&emu).await;
    c.publish(&telemetry_topic(), &vec![b'a'; LIMIT], Qos::AtLeastOnce).await;
    assert!(matches!(c.next(T).await, Some(Packet::V3_1_1Puback(_))));
    let stored = emu.state.hub.telemetry.query(Some(DEV), 0, 10);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body.len(), LIMIT);
}

#[tokio::test]
async fn telemetry_one_byte_over_256_kb_closes_the_socket_logged_413001_and_is_not_stored() {
    let emu = start().await;
    let mut c = connected(&emu).await;
    c.publish(&telemetry_topic(), &vec![b'a'; LIMIT + 1], Qos::AtLeastOnce).await;
    // No PUBACK comes first: the next thing the device sees is the close.
    assert_eq!(c.next_or_close(T).await.err(), Some(true), "the socket is closed, nothing is answered");
    let reason = wait_for_log(&emu, 413001).await;
    assert!(reason.contains(&format!("{} bytes", LIMIT + 1)), "{reason}");
    assert!(emu.state.hub.telemetry.query(Some(DEV), 0, 10).is_empty());
}

/// POST /service/devices/{DEV}/methods with the service key; (status, body).
async fn invoke(emu: &iot_emulator::Emulator, method: &str, timeout_s: u64) -> (u16, serde_json::Value) {
    let body = format!("{{\"methodName\":\"{method}\",\"payload\":{{\"n\":1}},\"responseTimeoutInSeconds\":{timeout_s}}}");
    let auth = service_auth(emu);
    let (status, _, v) = http(emu, "POST", &format!("/service/devices/{DEV}/methods"), &[("authorization", &auth), ("content-type", "application/json")], &body).await;
    (status, v)
}

fn assert_error_shape(v: &serde_json::Value, code: u64) {
    assert_eq!(v["errorCode"], code, "{v}");
    assert!(v["trackingId"].as_str().is_some_and(|t| t.len() == 36), "{v}");
    assert!(v["message"].is_string() && v["timestampUtc"].is_string(), "{v}");
}

#[tokio::test]
async fn a_method_for_a_device_that_is_not_connected_is_answered_404_with_404103() {
    let emu = start().await;
    let (status, v) = invoke(&emu, "reboot", 5).await;
    assert_eq!(status, 404);
    assert_error_shape(&v, 404103);
    assert!(v["message"].as_str().unwrap().contains("DeviceNotOnline"), "{v}");
}

#[tokio::test]
async fn a_method_for_a_connected_device_not_subscribed_to_methods_is_answered_404_with_404103() {
    let emu = start().await;
    let _c = connected(&emu).await;
    let (status, v) = invoke(&emu, "reboot", 5).await;
    assert_eq!(status, 404);
    assert_error_shape(&v, 404103);
}

#[tokio::test]
async fn a_method_the_device_never_answers_is_answered_504_with_504101_and_logged() {
    let emu = std::sync::Arc::new(start().await);
    let mut c = connected(&emu).await;
    c.subscribe("$iothub/methods/POST/#").await;
    assert!(matches!(c.next(T).await, Some(Packet::V3_1_1Suback(_))));
    // 5 s is the shortest timeout the hub honours (§5.7); the device receives and stays silent.
    let call = tokio::spawn({
        let emu = emu.clone();
        async move { invoke(&emu, "reboot", 5).await }
    });
    match c.next(T).await {
        Some(Packet::V3_1_1Publish(p)) => assert!(p.topic_name().starts_with("$iothub/methods/POST/reboot/?$rid="), "{}", p.topic_name()),
        other => panic!("no method request: {other:?}"),
    }
    let (status, v) = call.await.unwrap();
    assert_eq!(status, 504);
    assert_error_shape(&v, 504101);
    assert!(wait_for_log(&emu, 504101).await.contains("'reboot' not answered within 5 s"));
}

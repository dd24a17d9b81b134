#![cfg(not(target_arch = "wasm32"))]
//! The telemetry PUBACK faults through the service API: `delay` stores the message at once and
//! PUBACKs it no sooner than MS later; `withhold` holds every PUBACK; `release` sends the held
//! and delayed ones at once and ends a withhold; `normal` ends any fault.

mod common;
use common::*;
use mqtt_protocol_core::mqtt::packet::Qos;
use std::time::{Duration, Instant};

async fn fault(emu: &iot_emulator::Emulator, body: &str) {
    let auth = service_auth(emu);
    let (st, _, v) = http(emu, "POST", "/service/faults", &[("authorization", &auth), ("content-type", "application/json")], body).await;
    assert_eq!(st, 200, "{v}");
}

async fn faults(emu: &iot_emulator::Emulator) -> serde_json::Value {
    let auth = service_auth(emu);
    http(emu, "GET", "/service/faults", &[("authorization", &auth)], "").await.2
}

async fn publish_one(c: &mut Client) -> Instant {
    c.publish(&format!("devices/{DEV}/messages/events/"), b"x", Qos::AtLeastOnce).await;
    Instant::now()
}

#[tokio::test]
async fn a_delay_fault_holds_each_puback_for_delay_ms_while_the_message_is_stored_at_once() {
    let emu = start().await;
    fault(&emu, r#"{"kind":"puback","mode":"delay","delayMs":1500}"#).await;
    assert_eq!(faults(&emu).await["puback"], serde_json::json!({"mode": "delay", "ms": 1500}));
    let mut c = connected(&emu).await;
    let sent = publish_one(&mut c).await;
    // Nothing within the first second; the message is already stored.
    assert_eq!(c.next_or_close(Duration::from_millis(1000)).await.err(), Some(false), "no PUBACK before the delay");
    assert_eq!(emu.state.hub.telemetry.query(Some(DEV), 0, 10).len(), 1);
    assert!(matches!(c.next(Duration::from_secs(5)).await, Some(Packet::V3_1_1Puback(_))));
    assert!(sent.elapsed() >= Duration::from_millis(1500), "PUBACK after {:?}", sent.elapsed());
}

#[tokio::test]
async fn release_sends_a_delayed_puback_at_once_and_normal_ends_the_fault() {
    let emu = start().await;
    fault(&emu, r#"{"kind":"puback","mode":"delay","delayMs":600000}"#).await;
    let mut c = connected(&emu).await;
    publish_one(&mut c).await;
    assert_eq!(c.next_or_close(Duration::from_millis(300)).await.err(), Some(false));
    fault(&emu, r#"{"kind":"puback","mode":"release"}"#).await;
    assert!(matches!(c.next(Duration::from_secs(5)).await, Some(Packet::V3_1_1Puback(_))), "released, not after 10 minutes");
    fault(&emu, r#"{"kind":"puback","mode":"normal"}"#).await;
    assert_eq!(faults(&emu).await["puback"], serde_json::json!({"mode": "normal"}));
    publish_one(&mut c).await;
    assert!(matches!(c.next(Duration::from_secs(5)).await, Some(Packet::V3_1_1Puback(_))));
}

#[tokio::test]
async fn release_after_withhold_sends_the_held_pubacks_and_the_next_message_is_pubacked_at_once() {
    let emu = start().await;
    fault(&emu, r#"{"kind":"puback","mode":"withhold"}"#).await;
    let mut c = connected(&emu).await;
    publish_one(&mut c).await;
    publish_one(&mut c).await;
    assert_eq!(c.next_or_close(Duration::from_millis(300)).await.err(), Some(false), "both PUBACKs are held");
    fault(&emu, r#"{"kind":"puback","mode":"release"}"#).await;
    for _ in 0..2 {
        assert!(matches!(c.next(Duration::from_secs(5)).await, Some(Packet::V3_1_1Puback(_))), "a held PUBACK is released");
    }
    assert_eq!(faults(&emu).await["puback"], serde_json::json!({"mode": "normal"}), "release ends the withhold");
    publish_one(&mut c).await;
    assert!(matches!(c.next(Duration::from_secs(2)).await, Some(Packet::V3_1_1Puback(_))), "a message after release is not held");
}

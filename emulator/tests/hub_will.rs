#![cfg(not(target_arch = "wasm32"))]
//! Will messages (protocol.md §5.3): on an ungraceful close the hub stores the CONNECT's will as
//! telemetry with `iothub-MessageType=Will` added to its property bag; after a DISCONNECT it
//! does not.

mod common;
use common::*;
use mqtt_protocol_core::mqtt::packet::v3_1_1;
use std::time::Duration;

async fn with_will(emu: &iot_emulator::Emulator, topic: &str, payload: &[u8]) -> Client {
    let p = connect_packet(DEV, &hub_user(emu, DEV), &hub_token(emu, DEV, DEV_KEY, now() + 3600), 60, Some((topic, payload)));
    let (c, rc) = Client::connect_with(emu, p).await;
    assert_eq!(rc, 0);
    c
}

/// Waits for the hub's `connection` event saying the device is gone: it is emitted after the
/// will (if any) is stored, so what is stored then is all there will be.
async fn until_disconnected(events: &mut tokio::sync::broadcast::Receiver<serde_json::Value>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let e = tokio::time::timeout_at(deadline, events.recv()).await.expect("no disconnected event").unwrap();
        if e["type"] == "connection" && e["data"]["state"] == "disconnected" && e["data"]["deviceId"] == DEV {
            return;
        }
    }
}

#[tokio::test]
async fn an_ungraceful_close_stores_the_will_as_telemetry_marked_iothub_message_type_will() {
    let emu = start().await;
    let mut events = emu.state.events.subscribe();
    let c = with_will(&emu, &format!("devices/{DEV}/messages/events/%24.ct=text%2Fplain&reason=gone"), b"device lost").await;
    drop(c); // the socket goes away without a DISCONNECT
    until_disconnected(&mut events).await;
    let stored = emu.state.hub.telemetry.query(Some(DEV), 0, 10);
    assert_eq!(stored.len(), 1, "exactly the will");
    assert_eq!(stored[0].body, b"device lost");
    assert_eq!(stored[0].properties["iothub-MessageType"], "Will");
    assert_eq!(stored[0].properties["reason"], "gone");
    assert_eq!(stored[0].system_properties["content-type"], "text/plain");
}

#[tokio::test]
async fn a_will_without_a_property_bag_gets_iothub_message_type_will_alone() {
    let emu = start().await;
    let mut events = emu.state.events.subscribe();
    drop(with_will(&emu, &format!("devices/{DEV}/messages/events/"), b"bye").await);
    until_disconnected(&mut events).await;
    let stored = emu.state.hub.telemetry.query(Some(DEV), 0, 10);
    assert_eq!(stored.len(), 1);
    assert_eq!(serde_json::Value::Object(stored[0].properties.clone()), serde_json::json!({"iothub-MessageType": "Will"}));
}

#[tokio::test]
async fn a_graceful_disconnect_does_not_send_the_will() {
    let emu = start().await;
    let mut events = emu.state.events.subscribe();
    let mut c = with_will(&emu, &format!("devices/{DEV}/messages/events/"), b"should not appear").await;
    c.send(v3_1_1::Disconnect::builder().build().unwrap().into()).await;
    assert!(c.closed_within(Duration::from_secs(5)).await);
    until_disconnected(&mut events).await;
    assert!(emu.state.hub.telemetry.query(Some(DEV), 0, 10).is_empty());
}

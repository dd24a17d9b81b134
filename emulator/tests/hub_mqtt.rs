#![cfg(not(target_arch = "wasm32"))]
//! IoT Hub over MQTT/WebSocket against the in-process emulator: the happy path, and each
//! refusal with the exact answer (CONNACK 5 or socket close) and the logged Azure-like code.

mod common;
use common::*;
use iot_emulator::config::Config;
use mqtt_protocol_core::mqtt::packet::Qos;
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

#[tokio::test]
async fn telemetry_is_pubacked_and_stored_with_its_property_bag_decoded() {
    let emu = start().await;
    let (mut c, rc) = Client::connect(&emu, DEV, &hub_user(&emu, DEV), &hub_token(&emu, DEV, DEV_KEY, now() + 3600), 60).await;
    assert_eq!(rc, 0);
    c.publish(&format!("devices/{DEV}/messages/events/%24.ct=application%2Fjson&%24.mid=m1&alert=true"), b"{\"t\":1}", Qos::AtLeastOnce).await;
    assert!(matches!(c.next(T).await, Some(Packet::V3_1_1Puback(_))));
    let stored = emu.state.hub.telemetry.query(Some(DEV), 0, 10);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body, b"{\"t\":1}");
    assert_eq!(stored[0].system_properties["content-type"], "application/json");
    assert_eq!(stored[0].system_properties["message-id"], "m1");
    assert_eq!(stored[0].properties["alert"], "true");
}

#[tokio::test]
async fn a_wrong_key_gets_connack_5_and_is_logged_401002() {
    let emu = start().await;
    let (_c, rc) = Client::connect(&emu, DEV, &hub_user(&emu, DEV), &hub_token(&emu, DEV, REG_KEY, now() + 3600), 60).await;
    assert_eq!(rc, 5);
    assert!(wait_for_log(&emu, 401002).await.contains("signature does not match"));
}

#[tokio::test]
async fn an_expired_token_gets_connack_5_and_is_logged_401003() {
    let emu = start().await;
    let (_c, rc) = Client::connect(&emu, DEV, &hub_user(&emu, DEV), &hub_token(&emu, DEV, DEV_KEY, now() - 1), 60).await;
    assert_eq!(rc, 5);
    assert!(wait_for_log(&emu, 401003).await.contains("expired"));
}

#[tokio::test]
async fn a_token_whose_sr_names_another_device_gets_connack_5() {
    let emu = start().await;
    let (_c, rc) = Client::connect(&emu, DEV, &hub_user(&emu, DEV), &hub_token(&emu, "other-device", DEV_KEY, now() + 3600), 60).await;
    assert_eq!(rc, 5);
    assert!(wait_for_log(&emu, 401002).await.contains("does not grant"));
}

#[tokio::test]
async fn a_client_id_that_differs_from_the_username_gets_connack_5() {
    let emu = start().await;
    let (_c, rc) = Client::connect(&emu, "someone-else", &hub_user(&emu, DEV), &hub_token(&emu, DEV, DEV_KEY, now() + 3600), 60).await;
    assert_eq!(rc, 5);
}

#[tokio::test]
async fn publishing_to_another_devices_topic_closes_the_socket() {
    let emu = start().await;
    let mut c = connected(&emu).await;
    c.publish("devices/other-device/messages/events/", b"x", Qos::AtLeastOnce).await;
    assert!(c.closed_within(T).await);
    assert!(wait_for_log(&emu, 401002).await.contains("another identity's topic"));
}

#[tokio::test]
async fn a_qos_2_publish_closes_the_socket() {
    let emu = start().await;
    let mut c = connected(&emu).await;
    c.publish(&format!("devices/{DEV}/messages/events/"), b"x", Qos::ExactlyOnce).await;
    assert!(c.closed_within(T).await);
    assert!(wait_for_log(&emu, 400004).await.contains("QoS 2"));
    assert!(emu.state.hub.telemetry.query(Some(DEV), 0, 10).is_empty());
}

#[tokio::test]
async fn a_publish_to_an_unknown_topic_closes_the_socket() {
    let emu = start().await;
    let mut c = connected(&emu).await;
    c.publish("some/random/topic", b"x", Qos::AtMostOnce).await;
    assert!(c.closed_within(T).await);
    assert!(wait_for_log(&emu, 400004).await.contains("unsupported topic"));
}

#[tokio::test]
async fn a_second_connection_for_the_same_device_kicks_the_first() {
    let emu = start().await;
    let mut first = connected(&emu).await;
    let _second = connected(&emu).await;
    assert!(first.closed_within(T).await);
    assert!(wait_for_log(&emu, 400027).await.contains("ConnectionForcefullyClosedOnNewConnection"));
    assert_eq!(emu.state.hub.devices_json()[0]["connectionState"], "Connected");
}

#[tokio::test]
async fn a_missed_keep_alive_closes_the_socket_after_one_and_a_half_intervals() {
    let emu = start().await;
    let (mut c, rc) = Client::connect(&emu, DEV, &hub_user(&emu, DEV), &hub_token(&emu, DEV, DEV_KEY, now() + 3600), 1).await;
    assert_eq!(rc, 0);
    let t0 = std::time::Instant::now();
    assert!(c.closed_within(Duration::from_secs(4)).await);
    assert!(t0.elapsed() >= Duration::from_millis(1400), "closed too early: {:?}", t0.elapsed());
    assert!(wait_for_log(&emu, 404104).await.contains("keep-alive"));
}

#[tokio::test]
async fn the_connection_closes_when_the_capped_token_lifetime_ends() {
    let mut cfg = Config::ephemeral();
    cfg.max_token_ttl_secs = Some(1);
    let emu = start_with(cfg).await;
    let mut c = connected(&emu).await;
    assert!(c.closed_within(Duration::from_secs(4)).await);
    assert!(wait_for_log(&emu, 401003).await.contains("cap"));
}

#[tokio::test]
async fn twin_get_and_reported_patch_answer_with_rid_and_version() {
    let emu = start().await;
    let mut c = connected(&emu).await;
    c.subscribe("$iothub/twin/res/#").await;
    assert!(matches!(c.next(T).await, Some(Packet::V3_1_1Suback(_))));
    c.publish("$iothub/twin/PATCH/properties/reported/?$rid=7", b"{\"fw\":\"1.0\"}", Qos::AtMostOnce).await;
    match c.next(T).await {
        Some(Packet::V3_1_1Publish(p)) => assert_eq!(p.topic_name(), "$iothub/twin/res/204/?$rid=7&$version=2"),
        other => panic!("{other:?}"),
    }
    c.publish("$iothub/twin/PATCH/properties/reported/?$rid=8", b"{not json", Qos::AtMostOnce).await;
    match c.next(T).await {
        Some(Packet::V3_1_1Publish(p)) => assert_eq!(p.topic_name(), "$iothub/twin/res/400/?$rid=8"),
        other => panic!("{other:?}"),
    }
    c.publish("$iothub/twin/GET/?$rid=9", b"", Qos::AtMostOnce).await;
    match c.next(T).await {
        Some(Packet::V3_1_1Publish(p)) => {
            assert_eq!(p.topic_name(), "$iothub/twin/res/200/?$rid=9");
            let v: serde_json::Value = serde_json::from_slice(p.payload().as_slice()).unwrap();
            assert_eq!(v["reported"], serde_json::json!({"fw": "1.0", "$version": 2}));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn c2d_over_the_queue_limit_of_50_is_refused_with_403004() {
    let emu = start().await;
    for i in 0..50 {
        iot_emulator::hub::cloud::send_c2d(&emu.state, DEV, vec![i], vec![], None).unwrap();
    }
    let e = iot_emulator::hub::cloud::send_c2d(&emu.state, DEV, vec![], vec![], None).unwrap_err();
    assert_eq!((e.0, e.1), (403, 403004));
}

#[tokio::test]
async fn c2d_is_delivered_qos_1_with_mid_and_to_and_completed_by_puback() {
    let emu = start().await;
    let mid = iot_emulator::hub::cloud::send_c2d(&emu.state, DEV, b"hi".to_vec(), vec![("k".into(), "v w".into())], Some("m-1".into())).unwrap();
    let mut c = connected(&emu).await;
    c.subscribe(&format!("devices/{DEV}/messages/devicebound/#")).await;
    let mut got = None;
    for _ in 0..3 {
        if let Some(Packet::V3_1_1Publish(p)) = c.next(T).await {
            got = Some(p);
            break;
        }
    }
    let p = got.expect("c2d publish");
    assert_eq!(p.qos(), Qos::AtLeastOnce);
    assert_eq!(p.topic_name(), format!("devices/{DEV}/messages/devicebound/%24.mid={mid}&%24.to=%2Fdevices%2F{DEV}%2Fmessages%2FdeviceBound&k=v%20w"));
    let ack = mqtt_protocol_core::mqtt::packet::v3_1_1::Puback::builder().packet_id(p.packet_id().unwrap()).build().unwrap();
    c.send(ack.into()).await;
    for _ in 0..50 {
        if iot_emulator::hub::cloud::c2d_messages(&emu.state, DEV).iter().any(|m| m["state"] == "completed") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("c2d not completed");
}

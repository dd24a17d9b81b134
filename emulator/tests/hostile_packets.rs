#![cfg(not(target_arch = "wasm32"))]
//! Hostile packets: a Remaining Length of 256 MB (refused from the fixed header, 413002, with
//! nothing near that allocated), a WebSocket frame announcing 256 MB (refused from its header,
//! 400004), topics and filters that are not UTF-8 (400004, MQTT 3.1.1 §1.5.3), and subscriptions
//! to `#` (400004: not an IoT Hub topic, protocol.md §5.3) or to another device's topics
//! (401002). Each closes only the offending socket; a bystander device is served throughout.

mod bystander;
mod common;
mod raw;
use bystander::{assert_rss_within, measuring, rss_kib, Bystander, BYSTANDER};
use common::*;
use iot_emulator::Emulator;
use raw::*;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const T: Duration = Duration::from_secs(5);
const MB_256: usize = 256 * 1024 * 1024;

/// The first new log entry after `before` entries: (code, identity, reason).
async fn logged_after(emu: &Emulator, before: usize) -> (u64, String, String) {
    for _ in 0..100 {
        if let Some(e) = emu.state.log_entries().get(before) {
            return (e["code"].as_u64().unwrap(), e["identity"].as_str().unwrap().into(), e["reason"].as_str().unwrap().into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing logged after entry {before}: {:?}", emu.state.log_entries());
}

/// 64 KB of what would be the body, sent 64 times over: 4 MB, enough that buffering it would
/// show, far short of 256 MB.
static JUNK: [u8; 64 * 1024] = [0x5a; 64 * 1024];
const JUNK_TIMES: usize = 64;

/// One oversized send, watched: alone in the process (memory is measured), with a bystander.
struct Watched {
    _alone: tokio::sync::MutexGuard<'static, ()>,
    emu: Emulator,
    by: Bystander,
    rss: u64,
    before: usize,
}

async fn watched() -> Watched {
    let _alone = measuring().await;
    let emu = start().await;
    let by = Bystander::start(&emu).await;
    let (rss, before) = (rss_kib(), emu.state.log_entries().len());
    Watched { _alone, emu, by, rss, before }
}

impl Watched {
    /// Asserts the first entry logged since is `code` for `who`, that memory grew by less than
    /// 32 MB and that the bystander was served; returns the reason.
    async fn refused(self, what: &str, code: u64, who: &str) -> String {
        let (got, got_who, why) = logged_after(&self.emu, self.before).await;
        assert_eq!((got, got_who.as_str()), (code, who), "{what}: {why}");
        assert_rss_within(what, self.rss, 32);
        self.by.assert_served(&self.emu, 5).await;
        why
    }
}

/// A CONNECT's fixed header announcing 256 MB.
fn connect_header_of_256_mb() -> Vec<u8> {
    [vec![0x10], remaining_length(MB_256 - 1)].concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_announcing_256_mb_over_websocket_is_refused_413002_from_its_header() {
    let w = watched().await;
    let mut s = upgraded(&w.emu).await;
    s.write_all(&binary_frame(&connect_header_of_256_mb())).await.unwrap();
    pump(&mut s, &binary_frame(&JUNK), JUNK_TIMES).await;
    assert!(closed_within(&mut s, T).await, "the socket is closed");
    let why = w.refused("256 MB CONNECT over WebSocket", 413002, "-").await;
    assert!(why.contains("refused from its header") && why.contains("websocket"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_announcing_256_mb_over_mqtt_tls_is_refused_413002_from_its_header() {
    let w = watched().await;
    let mut s = tls(&w.emu, w.emu.mqtts_port).await;
    s.write_all(&connect_header_of_256_mb()).await.unwrap();
    pump(&mut s, &JUNK, JUNK_TIMES).await;
    assert!(closed_within(&mut s, T).await, "the socket is closed");
    let why = w.refused("256 MB CONNECT over MQTT/TLS", 413002, "-").await;
    assert!(why.contains("mqtts"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_announcing_256_mb_closes_only_that_devices_connection_with_413002() {
    let w = watched().await;
    let mut conn = connected(&w.emu).await;
    // Only what follows the device's own CONNECT counts.
    let w = Watched { before: w.emu.state.log_entries().len(), ..w };
    conn.send_raw([vec![0x32], remaining_length(MB_256 - 1)].concat()).await;
    for _ in 0..JUNK_TIMES {
        conn.send_raw(JUNK.to_vec()).await;
    }
    assert!(conn.closed_within(T).await, "the device's socket is closed");
    assert!(w.emu.state.hub.telemetry.query(Some(DEV), 0, 10).is_empty(), "nothing of it is stored");
    w.refused("256 MB PUBLISH", 413002, DEV).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_frame_announcing_256_mb_is_refused_400004_from_its_header() {
    let w = watched().await;
    let mut s = upgraded(&w.emu).await;
    s.write_all(&binary_frame_header(MB_256 as u64)).await.unwrap();
    pump(&mut s, &JUNK, JUNK_TIMES).await;
    assert!(closed_within(&mut s, T).await, "the socket is closed");
    let why = w.refused("256 MB WebSocket frame", 400004, "-").await;
    assert!(why.contains("WebSocket error"), "{why}");
}

#[tokio::test]
async fn a_websocket_frame_of_3_mb_is_refused_although_the_libraries_default_would_read_16_mb() {
    let emu = start().await;
    let before = emu.state.log_entries().len();
    let mut s = upgraded(&emu).await;
    s.write_all(&binary_frame_header(3 * 1024 * 1024)).await.unwrap();
    assert!(closed_within(&mut s, T).await, "refused from the header, before the 3 MB arrive");
    assert_eq!(logged_after(&emu, before).await.0, 400004);
}

/// Connects DEV, sends `bytes` raw, asserts the socket closes and 400004 is logged for DEV.
async fn closes_with_400004(emu: &Emulator, bytes: Vec<u8>, why: &str) {
    let mut c = connected(emu).await;
    let before = emu.state.log_entries().len();
    c.send_raw(bytes).await;
    assert!(c.closed_within(T).await, "{why}: the socket is closed");
    let (code, who, reason) = logged_after(emu, before).await;
    assert_eq!((code, who.as_str()), (400004, DEV), "{why}: {reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_and_filters_that_are_not_utf8_close_the_socket_400004_and_store_nothing() {
    let emu = start().await;
    let by = Bystander::start(&emu).await;
    let prefix = format!("devices/{DEV}/messages/events/");
    // A lone continuation byte, a truncated sequence, an overlong '/' and a UTF-16 surrogate.
    for bad in [&[0x80][..], &[0xC3], &[0xC0, 0xAF], &[0xED, 0xA0, 0x80]] {
        let topic: Vec<u8> = prefix.bytes().chain(bad.iter().copied()).collect();
        // QoS 0, then QoS 1 with packet id 1.
        closes_with_400004(&emu, packet(0x30, &[mqtt_str(&topic), b"x".to_vec()].concat()), "QoS 0 publish").await;
        closes_with_400004(&emu, packet(0x32, &[mqtt_str(&topic), vec![0, 1], b"x".to_vec()].concat()), "QoS 1 publish").await;
        let filter: Vec<u8> = format!("devices/{DEV}/messages/devicebound/").bytes().chain(bad.iter().copied()).collect();
        closes_with_400004(&emu, packet(0x82, &[vec![0, 1], mqtt_str(&filter), vec![1]].concat()), "subscribe").await;
    }
    // MQTT 3.1.1 §1.5.3 also forbids U+0000 in any string.
    let nul: Vec<u8> = prefix.bytes().chain([b'a', 0, b'b']).collect();
    closes_with_400004(&emu, packet(0x30, &[mqtt_str(&nul), b"x".to_vec()].concat()), "U+0000 in a topic").await;
    let nul_filter: Vec<u8> = format!("devices/{DEV}/messages/devicebound/#").bytes().chain([0]).collect();
    closes_with_400004(&emu, packet(0x82, &[vec![0, 1], mqtt_str(&nul_filter), vec![1]].concat()), "U+0000 in a filter").await;
    assert!(emu.state.hub.telemetry.query(Some(DEV), 0, 10).is_empty(), "nothing was stored");
    by.assert_served(&emu, 5).await;
}

#[tokio::test]
async fn a_connect_whose_client_id_is_not_utf8_or_holds_u0000_is_refused_400004_before_any_identity() {
    let emu = start().await;
    for client_id in [&[0xFF, 0xFE][..], DEV.as_bytes().iter().copied().chain([0]).collect::<Vec<u8>>().as_slice()] {
        let before = emu.state.log_entries().len();
        let mut s = upgraded(&emu).await;
        // Protocol name MQTT, level 4, flags: clean session + user name + password, keep-alive 60.
        let user = hub_user(&emu, DEV);
        let body = [mqtt_str(b"MQTT"), vec![4, 0xC2, 0, 60], mqtt_str(client_id), mqtt_str(user.as_bytes()), mqtt_str(b"p")].concat();
        s.write_all(&binary_frame(&packet(0x10, &body))).await.unwrap();
        assert!(closed_within(&mut s, T).await);
        let (code, who, why) = logged_after(&emu, before).await;
        assert_eq!((code, who.as_str()), (400004, "-"), "{why}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_to_wildcards_are_refused_400004_and_to_another_devices_topics_401002() {
    let emu = start().await;
    let by = Bystander::start(&emu).await;
    // A C2D message waiting for the bystander, which no refused subscriber may receive.
    cloud_c2d(&emu, BYSTANDER).await;
    let filters = [
        ("#", 400004),
        ("+/#", 400004),
        ("$iothub/#", 400004),
        (&format!("devices/{DEV}/#") as &str, 400004),
        (&format!("devices/{BYSTANDER}/messages/devicebound/#"), 401002),
        (&format!("devices/{BYSTANDER}/messages/events/#"), 401002),
        ("devices/#", 401002),
        ("devices/+/+/#", 401002),
        ("devices/+/messages/events/#", 401002),
    ];
    for (filter, code) in filters {
        let mut c = connected(&emu).await;
        let before = emu.state.log_entries().len();
        c.subscribe(filter).await;
        match c.next_or_close(T).await {
            Err(true) => {}
            other => panic!("'{filter}': expected the socket closed with nothing sent, got {other:?}"),
        }
        let (got, who, why) = logged_after(&emu, before).await;
        assert_eq!((got, who.as_str()), (code, DEV), "'{filter}': {why}");
        assert!(why.contains(filter), "the reason names the filter: {why}");
    }
    let pending = emu.state.hub.identities.get(BYSTANDER).map(|e| e.c2d.iter().filter(|m| m.in_flight.is_none()).count());
    assert_eq!(pending, Some(1), "the bystander's C2D message is still waiting for it");
    by.assert_served(&emu, 5).await;
}

async fn cloud_c2d(emu: &Emulator, device: &str) {
    let auth = service_auth(emu);
    let (st, _, v) = http(emu, "POST", &format!("/service/devices/{device}/messages"), &[("authorization", &auth), ("content-type", "application/json")], r#"{"body":"for the bystander only"}"#).await;
    assert_eq!(st, 200, "{v}");
}

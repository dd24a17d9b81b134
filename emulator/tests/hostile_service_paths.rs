#![cfg(not(target_arch = "wasm32"))]
//! Hostile request paths: `.` and `..` segments, raw or percent-encoded, and encoded slashes,
//! backslashes and control characters (`%2F`, `%5C`, `%00`). Route parameters are decoded, so
//! `devices/a%2Fb` would name the identity key of module `b` of device `a`. Each is answered 400
//! `{"errorCode":400005,…}` before any route or the service key check, logged once, and changes
//! nothing; a literal `%` (sent as `%25`) is only a character. A bystander is served throughout.

mod bystander;
mod common;
use bystander::{assert_rss_within, measuring, rss_kib, Bystander};
use common::*;
use iot_emulator::Emulator;

fn count(emu: &Emulator, code: u64) -> usize {
    emu.state.log_entries().iter().filter(|e| e["code"] == code).count()
}

async fn call(emu: &Emulator, method: &str, path: &str, with_key: bool) -> (u16, serde_json::Value) {
    let auth = service_auth(emu);
    let mut headers = vec![("content-type", "application/json")];
    if with_key {
        headers.push(("authorization", &auth));
    }
    let body = if method == "PUT" { format!(r#"{{"primaryKey":"{DEV_KEY}"}}"#) } else { String::new() };
    let (st, _, v) = http(emu, method, path, &headers, &body).await;
    (st, v)
}

const HOSTILE: [(&str, &str); 14] = [
    ("GET", "/service/devices/.."),
    ("GET", "/service/devices/%2E%2E"),
    ("GET", "/service/devices/.%2e"),
    ("GET", "/service/./log"),
    ("GET", "/service/devices/x/../../log"),
    ("GET", "/service/devices/..%2Flog"),
    ("GET", "/service/twins/emu-device-001%2Fmodules%2Femu-module-1"),
    ("PUT", "/service/devices/emu-device-001%2Femu-module-1"),
    ("PUT", "/service/devices/emu-device-001%2femu-module-1"),
    ("PUT", "/service/devices/a%5Cb"),
    ("PUT", "/service/devices/a%00b"),
    ("DELETE", "/service/devices/.."),
    ("DELETE", "/service/enrollments/%2E%2E%2F%2E%2E"),
    ("PUT", "/0ne00000A0A/registrations/..%2F..%2Fservice%2Flog/register?api-version=2021-06-01"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_and_encoded_separators_are_refused_400005_with_or_without_the_key_and_change_nothing() {
    let _alone = measuring().await;
    let emu = start().await;
    let by = Bystander::start(&emu).await;
    let devices_before = emu.state.hub.devices.len();
    let rss = rss_kib();
    let mut refusals = 0;
    for round in 0..10 {
        for (method, path) in HOSTILE {
            for with_key in [true, false] {
                let (st, v) = call(&emu, method, path, with_key).await;
                assert_eq!((st, v["errorCode"].as_u64()), (400, Some(400005)), "{method} {path} (key: {with_key}): {v}");
                assert!(v["trackingId"].is_string() && v["message"].is_string() && v["timestampUtc"].is_string(), "{v}");
                refusals += 1;
            }
        }
        if round == 0 {
            assert_eq!(count(&emu, 400005), refusals, "each refusal is logged once");
            assert_eq!(count(&emu, 401002), 0, "refused before the service key is even checked");
        }
    }
    assert_eq!(emu.state.hub.devices.len(), devices_before, "no device was added or removed");
    assert!(emu.state.hub.devices.contains_key(DEV));
    assert!(emu.state.dps.enrollments.get(REG).is_some());
    let reason = emu.state.log_entries().iter().find(|e| e["code"] == 400005).unwrap()["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("/service/devices/..") && !reason.contains(&emu.service_key), "{reason}");
    assert_rss_within("hostile service paths", rss, 16);
    by.assert_served(&emu, 5).await;
}

#[tokio::test]
async fn a_percent_sent_as_25_is_only_a_character_of_the_device_id() {
    let emu = start().await;
    let (st, v) = call(&emu, "PUT", "/service/devices/a%252Fb", true).await;
    assert_eq!((st, v["deviceId"].as_str()), (200, Some("a%2Fb")), "{v}");
    assert!(emu.state.hub.devices.contains_key("a%2Fb") && !emu.state.hub.identities.contains_key("a/b"));
    let (st, v) = call(&emu, "GET", "/service/devices/a%252Fb", true).await;
    assert_eq!((st, v["deviceId"].as_str()), (200, Some("a%2Fb")), "{v}");
}

#[tokio::test]
async fn ordinary_ids_with_dots_inside_are_served() {
    let emu = start().await;
    let (st, v) = call(&emu, "PUT", "/service/devices/sensor.v2..x", true).await;
    assert_eq!((st, v["deviceId"].as_str()), (200, Some("sensor.v2..x")), "{v}");
    assert_eq!(count(&emu, 400005), 0);
}

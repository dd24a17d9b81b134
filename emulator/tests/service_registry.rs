#![cfg(not(target_arch = "wasm32"))]
//! Registry writes of the service API (`PUT /service/devices/{id}`, `/service/enrollments/{id}`,
//! `/service/enrollmentGroups/{id}`): the path names the record, so the body's id field may be
//! left out; a body naming another id is a 400 in the emulator's error shape and changes nothing.

mod common;
use common::*;

const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAA==";

async fn put(emu: &iot_emulator::Emulator, path: &str, body: &str) -> (u16, serde_json::Value) {
    let auth = service_auth(emu);
    let (st, _, v) = http(emu, "PUT", path, &[("authorization", &auth), ("content-type", "application/json")], body).await;
    (st, v)
}

fn assert_refused(st: u16, v: &serde_json::Value, field: &str) {
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["errorCode"], 400004, "{v}");
    assert!(v["trackingId"].is_string() && v["timestampUtc"].is_string(), "{v}");
    assert!(v["message"].as_str().unwrap().contains(field), "{v}");
}

#[tokio::test]
async fn a_device_put_without_device_id_in_the_body_registers_the_path_id_and_it_can_connect() {
    let emu = start().await;
    let (st, v) = put(&emu, "/service/devices/path-named", &format!(r#"{{"primaryKey":"{DEV_KEY}"}}"#)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["deviceId"], "path-named");
    let user = hub_user(&emu, "path-named");
    let (_c, rc) = Client::connect(&emu, "path-named", &user, &hub_token(&emu, "path-named", DEV_KEY, now() + 600), 60).await;
    assert_eq!(rc, 0, "the registered device connects with its key");
}

#[tokio::test]
async fn a_device_put_whose_body_names_the_same_device_id_is_accepted() {
    let emu = start().await;
    let (st, v) = put(&emu, "/service/devices/same", &format!(r#"{{"deviceId":"same","primaryKey":"{KEY}"}}"#)).await;
    assert_eq!(st, 200, "{v}");
    assert!(emu.state.hub.devices.contains_key("same"));
}

#[tokio::test]
async fn a_device_put_whose_body_names_another_device_id_is_a_400_and_registers_neither() {
    let emu = start().await;
    let (st, v) = put(&emu, "/service/devices/path-id", &format!(r#"{{"deviceId":"body-id","primaryKey":"{KEY}"}}"#)).await;
    assert_refused(st, &v, "deviceId");
    assert!(!emu.state.hub.devices.contains_key("path-id") && !emu.state.hub.devices.contains_key("body-id"));
    let (st, v) = put(&emu, "/service/devices/path-id", &format!(r#"{{"deviceId":7,"primaryKey":"{KEY}"}}"#)).await;
    assert_refused(st, &v, "deviceId");
}

#[tokio::test]
async fn a_device_put_whose_body_is_not_an_object_is_a_400() {
    let emu = start().await;
    let (st, v) = put(&emu, "/service/devices/d", "[1]").await;
    assert_eq!((st, v["errorCode"].as_u64()), (400, Some(400004)), "{v}");
}

#[tokio::test]
async fn enrollment_and_group_puts_take_their_id_from_the_path_and_refuse_another() {
    let emu = start().await;
    let (st, v) = put(&emu, "/service/enrollments/reg-from-path", &format!(r#"{{"primaryKey":"{KEY}"}}"#)).await;
    assert_eq!((st, v["registrationId"].as_str()), (200, Some("reg-from-path")), "{v}");
    let (st, v) = put(&emu, "/service/enrollments/reg-a", &format!(r#"{{"registrationId":"reg-b","primaryKey":"{KEY}"}}"#)).await;
    assert_refused(st, &v, "registrationId");
    assert!(emu.state.dps.enrollments.get("reg-a").is_none() && emu.state.dps.enrollments.get("reg-b").is_none());

    let (st, v) = put(&emu, "/service/enrollmentGroups/group-from-path", &format!(r#"{{"primaryKey":"{KEY}"}}"#)).await;
    assert_eq!((st, v["enrollmentGroupId"].as_str()), (200, Some("group-from-path")), "{v}");
    let (st, v) = put(&emu, "/service/enrollmentGroups/g-a", &format!(r#"{{"enrollmentGroupId":"g-b","primaryKey":"{KEY}"}}"#)).await;
    assert_refused(st, &v, "enrollmentGroupId");
    assert!(emu.state.dps.enrollments.get_group("g-a").is_none());
}

#![cfg(not(target_arch = "wasm32"))]
//! DPS's service REST API on the DPS host: enrollment groups and enrollments written under their
//! ETags (412 on a stale one), read, queried and deleted with `provisioningserviceowner`'s token
//! (401 with a hub policy's), beside the device registration routes on the same host, and on the
//! same records `/service/enrollment*` and registration use.

mod common;
use common::*;
use serde_json::{json, Value};

const V: &str = "api-version=2021-10-01";

async fn call(emu: &iot_emulator::Emulator, method: &str, path: &str, if_match: Option<&str>, body: &str) -> (u16, Vec<(String, String)>, Value) {
    let auth = dps_sas(emu);
    let mut h = vec![("authorization", auth.as_str()), ("content-type", "application/json; charset=utf-8")];
    if let Some(m) = if_match {
        h.push(("if-match", m));
    }
    http(emu, method, &format!("{path}?{V}"), &h, body).await
}

fn derived(group_key: &str, reg: &str) -> String {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&STANDARD.decode(group_key).unwrap()).unwrap();
    mac.update(reg.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_group_written_through_the_service_api_provisions_its_devices_and_keeps_its_etag() {
    let emu = start().await;
    let body = r#"{"enrollmentGroupId":"svc-group","attestation":{"type":"symmetricKey","symmetricKey":{"primaryKey":"","secondaryKey":""}},"provisioningStatus":"enabled","initialTwin":{"properties":{"desired":{"interval":5}}}}"#;
    let (st, _, g) = call(&emu, "PUT", "/enrollmentGroups/svc-group", None, body).await;
    assert_eq!(st, 200, "{g}");
    let etag = g["etag"].as_str().unwrap().to_string();
    let key = g["attestation"]["symmetricKey"]["primaryKey"].as_str().unwrap().to_string();
    assert_eq!((g["provisioningStatus"].clone(), g["initialTwin"]["properties"]["desired"].clone()), (json!("enabled"), json!({"interval": 5})));

    let (st, hs, v) = call(&emu, "PUT", "/enrollmentGroups/svc-group", Some("\"stale\""), r#"{"provisioningStatus":"disabled"}"#).await;
    assert_eq!((st, v["errorCode"].clone(), header(&hs, "x-ms-error-code")), (412, json!(412001), Some("412001")), "{v}");
    let (st, _, g2) = call(&emu, "PUT", "/enrollmentGroups/svc-group", Some(&etag), r#"{"enrollmentGroupId":"svc-group","provisioningStatus":"enabled"}"#).await;
    assert_eq!(st, 200, "{g2}");
    assert_ne!(g2["etag"], g["etag"]);
    assert_eq!(g2["attestation"]["symmetricKey"]["primaryKey"], key.as_str(), "keys left out are kept");

    let reg = "svc-group-device-1";
    let a = token(&format!("{SCOPE}/registrations/{reg}"), &derived(&key, reg), now() + 600, Some("registration"));
    let (st, _, r) = http(&emu, "PUT", &format!("/{SCOPE}/registrations/{reg}/register?api-version=2021-06-01"), &[("authorization", &a), ("content-type", "application/json")], &format!(r#"{{"registrationId":"{reg}"}}"#)).await;
    assert_eq!(st, 202, "{r}");
    let op = r["operationId"].as_str().unwrap();
    let (st, _, r) = http(&emu, "GET", &format!("/{SCOPE}/registrations/{reg}/operations/{op}?api-version=2021-06-01"), &[("authorization", &a)], "").await;
    assert_eq!((st, r["status"].clone()), (200, json!("assigned")));
    assert_eq!(emu.state.hub.identities.get(reg).map(|e| e.twin.device_view()["desired"].clone()), Some(json!({"interval": 5, "$version": 2})), "the group's initial twin");

    let (st, _, state) = call(&emu, "GET", &format!("/registrations/{reg}"), None, "").await;
    assert_eq!((st, state["deviceId"].clone(), state["symmetricKey"]["enrollmentGroupId"].clone()), (200, json!(reg), json!("svc-group")));
    let (st, hs, list) = call(&emu, "POST", "/registrations/svc-group/query", None, r#"{"query":"SELECT *"}"#).await;
    assert_eq!((st, header(&hs, "x-ms-item-type"), list.as_array().map(Vec::len)), (200, Some("deviceRegistration"), Some(1)));

    let (_, _, own) = http(&emu, "GET", "/service/enrollmentGroups/svc-group", &[("authorization", &service_auth(&emu))], "").await;
    assert_eq!(own["primaryKey"], key.as_str(), "the emulator's own API sees the same group");
    let (st, hs, groups) = call(&emu, "POST", "/enrollmentGroups/query", None, r#"{"query":"SELECT * FROM enrollmentGroups"}"#).await;
    assert_eq!((st, header(&hs, "x-ms-item-type")), (200, Some("enrollmentGroup")));
    assert!(groups.as_array().unwrap().iter().any(|g| g["enrollmentGroupId"] == "svc-group"));
    let (st, _, att) = call(&emu, "POST", "/enrollmentgroups/svc-group/attestationmechanism", None, "").await;
    assert_eq!((st, att["symmetricKey"]["primaryKey"].as_str()), (200, Some(key.as_str())));

    let (st, _, _) = call(&emu, "DELETE", "/enrollmentGroups/svc-group", Some(&etag), "").await;
    assert_eq!(st, 412, "the first ETag is stale now");
    let (st, _, _) = call(&emu, "DELETE", "/enrollmentGroups/svc-group", Some(g2["etag"].as_str().unwrap()), "").await;
    assert_eq!(st, 204);
    let (st, _, v) = call(&emu, "GET", "/enrollmentGroups/svc-group", None, "").await;
    assert_eq!((st, v["errorCode"].clone()), (404, json!(404202)));
}

#[tokio::test]
async fn an_individual_enrollment_is_written_read_queried_and_deleted() {
    let emu = start().await;
    let (st, _, e) = call(&emu, "PUT", "/enrollments/svc-individual", None, &format!(r#"{{"registrationId":"svc-individual","deviceId":"svc-dev","attestation":{{"type":"symmetricKey","symmetricKey":{{"primaryKey":"{DEV_KEY}"}}}}}}"#)).await;
    assert_eq!(st, 200, "{e}");
    assert_eq!((e["deviceId"].clone(), e["attestation"]["symmetricKey"]["primaryKey"].clone()), (json!("svc-dev"), json!(DEV_KEY)));
    let (st, _, got) = call(&emu, "GET", "/enrollments/svc-individual", None, "").await;
    assert_eq!((st, got["etag"].clone()), (200, e["etag"].clone()));
    let (st, _, all) = call(&emu, "POST", "/enrollments/query", None, r#"{"query":"SELECT * FROM enrollments"}"#).await;
    assert_eq!(st, 200);
    assert!(all.as_array().unwrap().iter().any(|x| x["registrationId"] == REG), "the config's enrollments are there too");
    let (st, _, v) = call(&emu, "PUT", "/enrollments/svc-tpm", None, r#"{"attestation":{"type":"tpm","tpm":{"endorsementKey":"x"}}}"#).await;
    assert_eq!((st, v["errorCode"].clone()), (400, json!(400004)));
    let (st, _, _) = call(&emu, "DELETE", "/enrollments/svc-individual", Some("*"), "").await;
    assert_eq!(st, 204);
    assert!(emu.state.dps.enrollments.get("svc-individual").is_none());
}

#[tokio::test]
async fn the_dps_api_needs_a_dps_policy_token_and_an_api_version() {
    let emu = start().await;
    for auth in [policy_sas(&emu, "iothubowner"), format!("Bearer {}", emu.service_key), String::new()] {
        let (st, _, v) = http(&emu, "GET", &format!("/enrollments/{REG}?{V}"), &[("authorization", &auth)], "").await;
        assert_eq!((st, v["errorCode"].clone()), (401, json!(401002)), "{auth}");
    }
    let (st, _, v) = http(&emu, "GET", &format!("/enrollments/{REG}"), &[("authorization", &dps_sas(&emu))], "").await;
    assert_eq!((st, v["errorCode"].clone()), (400, json!(400003)));
    assert!(log_codes(&emu).iter().any(|(c, r)| *c == 401002 && r.contains("DPS service API call refused")));
}

#![cfg(not(target_arch = "wasm32"))]
//! DPS REST against the in-process emulator: register → assigning (202 + Retry-After) →
//! assigned, and the refusals with their exact status and errorCode.

mod common;
use common::*;

fn auth(reg: &str, key: &str, se: u64) -> String {
    token(&format!("{SCOPE}/registrations/{reg}"), key, se, Some("registration"))
}

fn register_path(reg: &str) -> String {
    format!("/{SCOPE}/registrations/{reg}/register?api-version=2021-06-01")
}

#[tokio::test]
async fn register_then_poll_assigns_the_quickstart_device() {
    let emu = start().await;
    let a = auth(REG, REG_KEY, now() + 3600);
    let body = format!("{{\"registrationId\":\"{REG}\",\"payload\":{{\"modelId\":\"dtmi:x;1\"}}}}");
    let (st, hs, v) = http(&emu, "PUT", &register_path(REG), &[("authorization", &a), ("content-type", "application/json")], &body).await;
    assert_eq!(st, 202);
    assert!(hs.iter().any(|(k, v)| k == "retry-after" && v == "1"));
    assert_eq!(v["status"], "assigning");
    let op = v["operationId"].as_str().unwrap().to_string();
    let (st, _, v) = http(&emu, "GET", &format!("/{SCOPE}/registrations/{REG}/operations/{op}?api-version=2021-06-01"), &[("authorization", &a)], "").await;
    assert_eq!(st, 200);
    assert_eq!(v["status"], "assigned");
    assert_eq!(v["registrationState"]["deviceId"], "python-device-008");
    assert_eq!(v["registrationState"]["assignedHub"], "localhost");
    assert_eq!(v["registrationState"]["payload"]["modelId"], "dtmi:x;1");
    assert!(emu.state.hub.devices.contains_key("python-device-008"));
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_401002() {
    let emu = start().await;
    let (st, hs, v) = http(&emu, "PUT", &register_path(REG), &[("authorization", &auth(REG, DEV_KEY, now() + 3600))], "{}").await;
    assert_eq!(st, 401);
    assert_eq!(v["errorCode"], 401002);
    assert!(v["trackingId"].is_string() && v["timestampUtc"].is_string() && v["message"].is_string());
    assert!(hs.iter().any(|(k, _)| k == "x-ms-error-code"));
}

#[tokio::test]
async fn an_expired_token_is_refused_with_401() {
    let emu = start().await;
    let (st, _, v) = http(&emu, "PUT", &register_path(REG), &[("authorization", &auth(REG, REG_KEY, now() - 5))], "{}").await;
    assert_eq!(st, 401);
    assert_eq!(v["errorCode"], 401002);
    assert!(wait_for_log(&emu, 401002).await.contains("expired"));
}

#[tokio::test]
async fn a_token_for_another_registration_is_refused_with_401() {
    let emu = start().await;
    let other = auth("another-registration", REG_KEY, now() + 3600);
    let (st, _, _) = http(&emu, "PUT", &register_path(REG), &[("authorization", &other)], "{}").await;
    assert_eq!(st, 401);
    assert!(wait_for_log(&emu, 401002).await.contains("does not grant"));
}

#[tokio::test]
async fn a_disabled_enrollment_answers_status_disabled_at_once() {
    let emu = start().await;
    let reg = "disabled-device-001";
    let (st, _, v) = http(&emu, "PUT", &register_path(reg), &[("authorization", &auth(reg, REG_KEY, now() + 3600))], "{}").await;
    assert_eq!(st, 200);
    assert_eq!(v["status"], "disabled");
    assert_eq!(v["operationId"], "");
}

#[tokio::test]
async fn a_failing_allocation_ends_failed_with_400207() {
    let emu = start().await;
    let reg = "failing-device-001";
    let a = auth(reg, REG_KEY, now() + 3600);
    let (_, _, v) = http(&emu, "PUT", &register_path(reg), &[("authorization", &a)], "{}").await;
    let op = v["operationId"].as_str().unwrap().to_string();
    let (st, _, v) = http(&emu, "GET", &format!("/{SCOPE}/registrations/{reg}/operations/{op}?api-version=2019-03-31"), &[("authorization", &a)], "").await;
    assert_eq!(st, 200);
    assert_eq!(v["status"], "failed");
    assert_eq!(v["registrationState"]["errorCode"], 400207);
}

#[tokio::test]
async fn a_malformed_body_is_refused_with_400001() {
    let emu = start().await;
    let (st, _, v) = http(&emu, "PUT", &register_path(REG), &[("authorization", &auth(REG, REG_KEY, now() + 3600))], "{not json").await;
    assert_eq!(st, 400);
    assert_eq!(v["errorCode"], 400001);
}

#[tokio::test]
async fn a_missing_api_version_is_refused_400_with_400003() {
    let emu = start().await;
    let (st, hs, v) = http(&emu, "PUT", &format!("/{SCOPE}/registrations/{REG}/register"), &[("authorization", &auth(REG, REG_KEY, now() + 3600))], "{}").await;
    assert_eq!(st, 400);
    assert_eq!(v["errorCode"], 400003);
    assert!(hs.iter().any(|(k, v)| k == "x-ms-error-code" && v == "400003"));
}

#[tokio::test]
async fn injected_faults_answer_the_next_calls_with_503_and_retry_after() {
    let mut cfg = iot_emulator::config::Config::ephemeral();
    cfg.dps_fault_count = 2;
    cfg.dps_fault_status = 503;
    let emu = start_with(cfg).await;
    let a = auth(REG, REG_KEY, now() + 3600);
    for _ in 0..2 {
        let (st, hs, v) = http(&emu, "PUT", &register_path(REG), &[("authorization", &a)], "{}").await;
        assert_eq!(st, 503);
        assert_eq!(v["errorCode"], 503001);
        assert!(hs.iter().any(|(k, _)| k == "retry-after"));
    }
    let (st, _, _) = http(&emu, "PUT", &register_path(REG), &[("authorization", &a)], "{}").await;
    assert_eq!(st, 202);
}

#[tokio::test]
async fn a_group_device_registers_with_its_derived_key() {
    let emu = start().await;
    let group_key = emu.state.dps.enrollments.list_groups()[0].primary_key.clone();
    let reg = "group-member-1";
    let derived = iot_emulator::sas::derive_device_key(&group_key, reg).unwrap();
    let (st, _, _) = http(&emu, "PUT", &register_path(reg), &[("authorization", &auth(reg, &derived, now() + 3600))], "{}").await;
    assert_eq!(st, 202);
    let (st, _, _) = http(&emu, "PUT", &register_path(reg), &[("authorization", &auth(reg, &group_key, now() + 3600))], "{}").await;
    assert_eq!(st, 401, "the group key itself is not a device key");
}

#![cfg(not(target_arch = "wasm32"))]
//! The service API's key: without it every `/service/*` route answers 401 in the emulator's
//! error shape; with it (bearer, or an IoT Hub service SAS token) 200. Only the event stream
//! takes it as `access_token`, and no refusal logs a credential.

mod common;
use common::*;
use iot_emulator::config::Config;

fn service_sas(emu: &iot_emulator::Emulator, key: &str, se: u64, skn: Option<&str>) -> String {
    token(&emu.hub_hostname, key, se, skn)
}

fn policy_key(emu: &iot_emulator::Emulator, name: &str) -> String {
    emu.state.guard.hub_policies.get(name).unwrap().primary_key().to_string()
}

fn assert_unauthorized(st: u16, v: &serde_json::Value) {
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["errorCode"], 401002);
    assert!(v["trackingId"].is_string() && v["message"].is_string() && v["timestampUtc"].is_string(), "{v}");
}

#[tokio::test]
async fn service_enrollments_without_the_key_is_refused_with_401() {
    let emu = start().await;
    let (st, hs, v) = http(&emu, "GET", "/service/enrollments", &[], "").await;
    assert_unauthorized(st, &v);
    assert!(hs.iter().any(|(k, v)| k == "www-authenticate" && v.starts_with("Bearer")));
    assert!(wait_for_log(&emu, 401002).await.contains("no Authorization header"));
}

#[tokio::test]
async fn service_enrollments_with_the_bearer_key_answers_200() {
    let emu = start().await;
    let (st, _, v) = http(&emu, "GET", "/service/enrollments", &[("authorization", &service_auth(&emu))], "").await;
    assert_eq!(st, 200);
    assert!(v.as_array().unwrap().iter().any(|e| e["registrationId"] == REG));
}

#[tokio::test]
async fn writes_faults_and_methods_need_the_key_too() {
    let emu = start().await;
    let calls = [
        ("PUT", "/service/devices/x", r#"{"primaryKey":"AAAAAAAAAAAAAAAAAAAAAA=="}"#),
        ("PUT", "/service/enrollments/x", r#"{"primaryKey":"AAAAAAAAAAAAAAAAAAAAAA=="}"#),
        ("POST", "/service/faults", r#"{"kind":"dps","status":503,"count":5}"#),
        ("POST", "/service/devices/emu-device-001/methods", r#"{"methodName":"reboot"}"#),
        ("GET", "/service/telemetry", ""),
        ("GET", "/service/devices", ""),
    ];
    for (method, path, body) in calls {
        let (st, _, v) = http(&emu, method, path, &[("authorization", "Bearer not-the-key"), ("content-type", "application/json")], body).await;
        assert_unauthorized(st, &v);
    }
    assert!(!emu.state.hub.devices.contains_key("x"));
    assert!(emu.state.faults.take_dps_fault().is_none());
}

#[tokio::test]
async fn a_service_sas_token_of_iothubowner_or_service_on_the_hub_host_answers_200() {
    let emu = start().await;
    for skn in ["iothubowner", "service"] {
        let key = policy_key(&emu, skn);
        let t = service_sas(&emu, &key, now() + 600, Some(skn));
        let (st, _, _) = http(&emu, "GET", "/service/devices", &[("authorization", &t)], "").await;
        assert_eq!(st, 200, "{skn}");
    }
}

#[tokio::test]
async fn expired_misaddressed_unnamed_or_wrongly_signed_sas_tokens_are_refused() {
    let emu = start().await;
    let key = emu.service_key.clone();
    let cases = [
        (service_sas(&emu, &key, now() - 1, Some("iothubowner")), "expired"),
        (token("other-hub.example", &key, now() + 600, Some("iothubowner")), "does not grant"),
        (token(&format!("{}/devices/{DEV}", emu.hub_hostname), DEV_KEY, now() + 600, None), "missing skn"),
        (service_sas(&emu, &key, now() + 600, None), "missing skn"),
        (service_sas(&emu, &policy_key(&emu, "registryRead"), now() + 600, Some("registryRead")), "does not grant ServiceConnect"),
        (service_sas(&emu, &key, now() + 600, Some("service")), "signature"),
        (service_sas(&emu, &key, now() + 600, Some("nobody")), "not a shared access policy"),
        (service_sas(&emu, DEV_KEY, now() + 600, Some("iothubowner")), "signature"),
    ];
    for (t, why) in cases {
        let (st, _, v) = http(&emu, "GET", "/service/enrollments", &[("authorization", &t)], "").await;
        assert_unauthorized(st, &v);
        let reasons: Vec<String> = log_codes(&emu).into_iter().map(|(_, r)| r).collect();
        assert!(reasons.last().is_some_and(|r| r.contains(why)), "{why}: {reasons:?}");
    }
}

#[tokio::test]
async fn the_event_stream_alone_takes_the_key_as_access_token() {
    let emu = start().await;
    let q = percent_encoding::utf8_percent_encode(&emu.service_key, percent_encoding::NON_ALPHANUMERIC).to_string();
    let (st, hs) = http_head(&emu, &format!("/service/events?access_token={q}"), &[]).await;
    assert_eq!(st, 200);
    assert!(hs.iter().any(|(k, v)| k == "content-type" && v.starts_with("text/event-stream")));
    let (st, _) = http_head(&emu, "/service/events?access_token=wrong", &[]).await;
    assert_eq!(st, 401);
    let (st, _) = http_head(&emu, "/service/events", &[]).await;
    assert_eq!(st, 401);
    let (st, _, v) = http(&emu, "GET", &format!("/service/enrollments?access_token={q}"), &[], "").await;
    assert_unauthorized(st, &v);
}

#[tokio::test]
async fn no_refusal_in_the_log_quotes_a_credential() {
    let emu = start().await;
    let near_miss = format!("Bearer {}x", emu.service_key);
    let sas = service_sas(&emu, DEV_KEY, now() + 600, Some("iothubowner"));
    for auth in [near_miss.as_str(), sas.as_str()] {
        let _ = http(&emu, "GET", "/service/log", &[("authorization", auth)], "").await;
    }
    let sig = sas.split("sig=").nth(1).and_then(|s| s.split('&').next()).unwrap().to_string();
    for (_, reason) in log_codes(&emu) {
        assert!(!reason.contains(&emu.service_key) && !reason.contains(&sig), "{reason}");
    }
}

#[tokio::test]
async fn a_key_from_the_config_file_or_the_command_line_is_the_one_required() {
    let from_file = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    let mut cfg = Config::ephemeral();
    cfg.file.service_key = Some(from_file.into());
    let emu = start_with(cfg.clone()).await;
    assert_eq!(emu.service_key, from_file);
    let (st, _, _) = http(&emu, "GET", "/service/info", &[("authorization", &format!("Bearer {from_file}"))], "").await;
    assert_eq!(st, 200);
    let flag = "ICAgICAgICAgICAgICAgICAgICA=";
    cfg.service_key = Some(flag.into());
    assert_eq!(start_with(cfg.clone()).await.service_key, flag, "the command line wins over the file");
    cfg.service_key = Some("short".into());
    assert!(iot_emulator::Emulator::start(cfg).await.is_err(), "a key that is not base64 of 16+ bytes is refused");
}

#[tokio::test]
async fn each_start_makes_a_new_random_key_and_the_ready_line_carries_it() {
    let (a, b) = (start().await, start().await);
    assert_ne!(a.service_key, b.service_key);
    let line: serde_json::Value = serde_json::from_str(a.ready_line().strip_prefix("EMULATOR_READY ").unwrap()).unwrap();
    assert_eq!(line["serviceKey"], a.service_key.as_str());
    let owner = format!("HostName={};SharedAccessKeyName=iothubowner;SharedAccessKey={}", a.hub_hostname, a.service_key);
    assert_eq!(line["serviceConnectionString"], owner.as_str(), "iothubowner's key is the service key");
    assert!(line["dpsServiceConnectionString"].as_str().unwrap().contains(";SharedAccessKeyName=provisioningserviceowner;SharedAccessKey="));
}

#![cfg(not(target_arch = "wasm32"))]
//! IoT Hub's service REST API, registry part: each shared access policy gets exactly its rights
//! (401 in IoT Hub's error shape otherwise), devices and modules are created, updated and
//! deleted under their ETags (409, 404, 412 as IoT Hub answers), and a record written through
//! this API is the one `/service/*` and the devices see.

mod common;
use common::*;
use serde_json::{json, Value};

const V: &str = "api-version=2021-04-12";

async fn call(emu: &iot_emulator::Emulator, method: &str, path: &str, auth: &str, if_match: Option<&str>, body: &str) -> (u16, Vec<(String, String)>, Value) {
    let mut h = vec![("authorization", auth), ("content-type", "application/json; charset=utf-8")];
    if let Some(m) = if_match {
        h.push(("if-match", m));
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    http(emu, method, &format!("{path}{sep}{V}"), &h, body).await
}

fn assert_hub_error(st: u16, hs: &[(String, String)], v: &Value, status: u16, name: &str) {
    assert_eq!(st, status, "{v}");
    assert_eq!(header(hs, "iothub-errorcode"), Some(name), "{v}");
    assert!(v["Message"].as_str().unwrap().starts_with(&format!("ErrorCode:{name};")), "{v}");
    assert!(v["ExceptionMessage"].as_str().unwrap().starts_with("Tracking ID:"), "{v}");
}

#[tokio::test]
async fn each_policy_gets_exactly_its_rights_on_registry_reads_writes_and_twins() {
    let emu = start().await;
    // (policy, registry read, registry write, service connect)
    let matrix = [("iothubowner", true, true, true), ("service", false, false, true), ("registryRead", true, false, false), ("registryReadWrite", true, true, false)];
    for (policy, read, write, connect) in matrix {
        let auth = policy_sas(&emu, policy);
        let (st, hs, v) = call(&emu, "GET", "/devices", &auth, None, "").await;
        if read { assert_eq!(st, 200, "{policy} read: {v}") } else { assert_hub_error(st, &hs, &v, 401, "IotHubUnauthorizedAccess") }
        let (st, hs, v) = call(&emu, "PUT", &format!("/devices/by-{policy}"), &auth, None, "{}").await;
        if write { assert_eq!(st, 200, "{policy} write: {v}") } else { assert_hub_error(st, &hs, &v, 401, "IotHubUnauthorizedAccess") }
        let (st, hs, v) = call(&emu, "GET", &format!("/twins/{DEV}"), &auth, None, "").await;
        if connect { assert_eq!(st, 200, "{policy} twin: {v}") } else { assert_hub_error(st, &hs, &v, 401, "IotHubUnauthorizedAccess") }
    }
    assert!(log_codes(&emu).iter().any(|(c, r)| *c == 401002 && r.contains("policy 'registryRead' does not grant ServiceConnect")));
}

#[tokio::test]
async fn a_missing_forged_or_bearer_credential_and_a_missing_api_version_are_refused() {
    let emu = start().await;
    for auth in ["", "Bearer x", &token(&emu.hub_hostname, DEV_KEY, now() + 600, Some("iothubowner")), &format!("Bearer {}", emu.service_key)] {
        let (st, hs, v) = call(&emu, "GET", "/devices", auth, None, "").await;
        assert_hub_error(st, &hs, &v, 401, "IotHubUnauthorizedAccess");
    }
    let (st, hs, v) = http(&emu, "GET", "/devices", &[("authorization", &policy_sas(&emu, "iothubowner"))], "").await;
    assert_hub_error(st, &hs, &v, 400, "InvalidProtocolVersion");
    let sig = policy_sas(&emu, "iothubowner");
    let sig = sig.split("sig=").nth(1).unwrap().split('&').next().unwrap();
    for (_, reason) in log_codes(&emu) {
        assert!(!reason.contains(sig) && !reason.contains(&emu.service_key), "{reason}");
    }
}

#[tokio::test]
async fn a_device_is_created_once_then_updated_and_deleted_only_under_its_current_etag() {
    let emu = start().await;
    let auth = policy_sas(&emu, "registryReadWrite");
    let (st, hs, created) = call(&emu, "PUT", "/devices/etag-dev", &auth, None, r#"{"deviceId":"etag-dev","authentication":{"type":"sas","symmetricKey":{"primaryKey":"","secondaryKey":""}}}"#).await;
    assert_eq!(st, 200, "{created}");
    let etag = created["etag"].as_str().unwrap().to_string();
    assert_eq!(header(&hs, "etag"), Some(format!("\"{etag}\"").as_str()));
    assert_eq!((created["status"].clone(), created["connectionState"].clone()), (json!("enabled"), json!("Disconnected")));
    let key = created["authentication"]["symmetricKey"]["primaryKey"].as_str().unwrap().to_string();
    assert_eq!(base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &key).unwrap().len(), 32, "an empty key is generated");

    let (st, hs, v) = call(&emu, "PUT", "/devices/etag-dev", &auth, None, "{}").await;
    assert_hub_error(st, &hs, &v, 409, "DeviceAlreadyExists");
    let (st, hs, v) = call(&emu, "PUT", "/devices/etag-dev", &auth, Some("\"c3RhbGU=\""), r#"{"status":"disabled"}"#).await;
    assert_hub_error(st, &hs, &v, 412, "PreconditionFailed");
    let (st, _, updated) = call(&emu, "PUT", "/devices/etag-dev", &auth, Some(&format!("\"{etag}\"")), r#"{"deviceId":"etag-dev","status":"disabled"}"#).await;
    assert_eq!(st, 200, "{updated}");
    assert_eq!(updated["status"], "disabled");
    assert_eq!(updated["generationId"], created["generationId"]);
    assert_eq!(updated["authentication"]["symmetricKey"]["primaryKey"], key.as_str(), "keys left out are kept");
    assert_ne!(updated["etag"], created["etag"]);
    let (st, _, _) = call(&emu, "PUT", "/devices/etag-dev", &auth, Some("*"), r#"{"status":"enabled"}"#).await;
    assert_eq!(st, 200);
    let (st, hs, v) = call(&emu, "PUT", "/devices/nobody", &auth, Some("*"), "{}").await;
    assert_hub_error(st, &hs, &v, 404, "DeviceNotFound");
    let (st, hs, v) = call(&emu, "PUT", "/devices/etag-dev", &auth, Some("*"), r#"{"deviceId":"other"}"#).await;
    assert_hub_error(st, &hs, &v, 400, "ArgumentInvalid");
    let (st, hs, v) = call(&emu, "PUT", "/devices/x509-dev", &auth, None, r#"{"authentication":{"type":"selfSigned"}}"#).await;
    assert_hub_error(st, &hs, &v, 400, "ArgumentInvalid");
    let (st, hs, v) = call(&emu, "PUT", "/devices/bad-json", &auth, None, "{not json").await;
    assert_hub_error(st, &hs, &v, 400, "ArgumentInvalid");

    let (st, hs, v) = call(&emu, "DELETE", "/devices/etag-dev", &auth, Some(&format!("\"{etag}\"")), "").await;
    assert_hub_error(st, &hs, &v, 412, "PreconditionFailed");
    let (st, _, _) = call(&emu, "DELETE", "/devices/etag-dev", &auth, Some("*"), "").await;
    assert_eq!(st, 204);
    let (st, hs, v) = call(&emu, "GET", "/devices/etag-dev", &auth, None, "").await;
    assert_hub_error(st, &hs, &v, 404, "DeviceNotFound");
}

#[tokio::test]
async fn modules_are_created_listed_updated_and_deleted_under_their_own_etags() {
    let emu = start().await;
    let auth = policy_sas(&emu, "iothubowner");
    let (st, _, m) = call(&emu, "PUT", &format!("/devices/{DEV}/modules/m2"), &auth, None, &format!(r#"{{"deviceId":"{DEV}","moduleId":"m2"}}"#)).await;
    assert_eq!(st, 200, "{m}");
    assert_eq!((m["moduleId"].clone(), m["deviceId"].clone()), (json!("m2"), json!(DEV)));
    let (st, hs, v) = call(&emu, "PUT", &format!("/devices/{DEV}/modules/m2"), &auth, None, "{}").await;
    assert_hub_error(st, &hs, &v, 409, "ModuleAlreadyExistsOnDevice");
    let (st, hs, v) = call(&emu, "PUT", "/devices/nobody/modules/m2", &auth, None, "{}").await;
    assert_hub_error(st, &hs, &v, 404, "DeviceNotFound");
    let (st, _, list) = call(&emu, "GET", &format!("/devices/{DEV}/modules"), &auth, None, "").await;
    assert_eq!(st, 200);
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|m| m["moduleId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["emu-module-1", "m2"]);
    let (st, hs, v) = call(&emu, "DELETE", &format!("/devices/{DEV}/modules/m2"), &auth, Some("\"c3RhbGU=\""), "").await;
    assert_hub_error(st, &hs, &v, 412, "PreconditionFailed");
    let etag = m["etag"].as_str().unwrap();
    let (st, _, _) = call(&emu, "DELETE", &format!("/devices/{DEV}/modules/m2"), &auth, Some(&format!("\"{etag}\"")), "").await;
    assert_eq!(st, 204);
    let (st, hs, v) = call(&emu, "GET", &format!("/devices/{DEV}/modules/m2"), &auth, None, "").await;
    assert_hub_error(st, &hs, &v, 404, "ModuleNotFound");
}

#[tokio::test]
async fn a_device_written_through_either_api_is_the_one_record_the_other_and_the_hub_see() {
    let emu = start().await;
    let auth = policy_sas(&emu, "iothubowner");
    let body = format!(r#"{{"authentication":{{"symmetricKey":{{"primaryKey":"{DEV_KEY}","secondaryKey":""}}}}}}"#);
    let (st, _, _) = call(&emu, "PUT", "/devices/both-apis", &auth, None, &body).await;
    assert_eq!(st, 200);
    let (st, _, own) = http(&emu, "GET", "/service/devices/both-apis", &[("authorization", &service_auth(&emu))], "").await;
    assert_eq!((st, own["authentication"]["primaryKey"].as_str()), (200, Some(DEV_KEY)));
    let (c, rc) = Client::connect(&emu, "both-apis", &hub_user(&emu, "both-apis"), &hub_token(&emu, "both-apis", DEV_KEY, now() + 600), 60).await;
    assert_eq!(rc, 0, "the hub accepts the key written through the REST API");
    drop(c);
    let (_, _, listed) = call(&emu, "GET", "/devices?top=1000", &auth, None, "").await;
    assert!(listed.as_array().unwrap().iter().any(|d| d["deviceId"] == "both-apis"));
    let (st, _, slashed) = call(&emu, "GET", "/devices/", &auth, None, "").await;
    assert_eq!((st, slashed), (200, listed), "azure-iothub lists at /devices/");
    let (st, _, _) = http(&emu, "DELETE", "/service/devices/both-apis", &[("authorization", &service_auth(&emu))], "").await;
    assert_eq!(st, 200);
    let (st, hs, v) = call(&emu, "GET", "/devices/both-apis", &auth, None, "").await;
    assert_hub_error(st, &hs, &v, 404, "DeviceNotFound");
}

#[tokio::test]
async fn disabling_a_device_closes_its_connection() {
    let emu = start().await;
    let mut c = connected(&emu).await;
    let auth = policy_sas(&emu, "registryReadWrite");
    let (st, _, _) = call(&emu, "PUT", &format!("/devices/{DEV}"), &auth, Some("*"), r#"{"status":"disabled"}"#).await;
    assert_eq!(st, 200);
    assert!(c.closed_within(std::time::Duration::from_secs(5)).await);
    let (_, rc) = Client::connect(&emu, DEV, &hub_user(&emu, DEV), &hub_token(&emu, DEV, DEV_KEY, now() + 600), 60).await;
    assert_eq!(rc, 5, "a disabled device cannot connect");
}

#[tokio::test]
async fn policies_from_the_config_file_replace_the_defaults_and_add_their_own_rights() {
    let owner = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    let backend = "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICA=";
    let mut cfg = iot_emulator::config::Config::ephemeral();
    let policy = |name: &str, key: &str, rights: Option<&str>| iot_emulator::config::PolicyConfig {
        key_name: name.into(), primary_key: Some(key.into()), secondary_key: None, rights: rights.map(String::from),
    };
    cfg.file.shared_access_policies = vec![policy("iothubowner", owner, None), policy("backend", backend, Some("RegistryRead, ServiceConnect"))];
    let emu = start_with(cfg).await;
    assert_eq!(emu.service_key, owner, "the config's iothubowner key is the service key");
    assert!(emu.service_connection_string.ends_with(&format!("SharedAccessKey={owner}")));
    let auth = token(&emu.hub_hostname, backend, now() + 600, Some("backend"));
    let (st, _, _) = call(&emu, "GET", "/devices", &auth, None, "").await;
    assert_eq!(st, 200);
    let (st, _, _) = call(&emu, "GET", &format!("/twins/{DEV}"), &auth, None, "").await;
    assert_eq!(st, 200);
    let (st, hs, v) = call(&emu, "PUT", "/devices/from-backend", &auth, None, "{}").await;
    assert_hub_error(st, &hs, &v, 401, "IotHubUnauthorizedAccess");
}

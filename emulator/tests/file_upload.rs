#![cfg(not(target_arch = "wasm32"))]
//! IoT Hub file upload on the emulator (docs/file-upload.md): the SAS URI answer and its storage
//! SAS, the completion notice in both forms, IoT Hub's error shape for every refusal, and the
//! record the service API keeps. A fake blob endpoint stands in for Azurite (tests/sdk/ runs
//! the real one with the official Node SDK).

mod common;
use base64::{engine::general_purpose::STANDARD, Engine};
use common::*;
use hmac::{Hmac, Mac};
use iot_emulator::config::{Config, FileUploadConfig};
use iot_emulator::Emulator;
use serde_json::Value;
use sha2::Sha256;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DEVSTORE_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const OTHER: &str = "file-upload-other";
const OTHER_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAA==";
const API: &str = "api-version=2021-04-12";

async fn start_for(endpoint: &str) -> Emulator {
    let cfg = Config {
        file_upload: FileUploadConfig { blob_endpoint: Some(endpoint.into()), sas_ttl_seconds: Some(600), ..Default::default() },
        ..Config::ephemeral()
    };
    let emu = start_with(cfg).await;
    let body = format!(r#"{{"primaryKey":"{OTHER_KEY}"}}"#);
    let auth = service_auth(&emu);
    let (st, _, _) = http(&emu, "PUT", &format!("/service/devices/{OTHER}"), &[("authorization", &auth)], &body).await;
    assert_eq!(st, 200);
    emu
}

fn dev_token(emu: &Emulator) -> String {
    hub_token(emu, DEV, DEV_KEY, now() + 600)
}

async fn post(emu: &Emulator, path: &str, auth: &str, body: &str) -> (u16, Vec<(String, String)>, Value) {
    http(emu, "POST", path, &[("authorization", auth), ("content-type", "application/json")], body).await
}

async fn sas_uri(emu: &Emulator, name: &str) -> Value {
    let (st, _, v) = post(emu, &format!("/devices/{DEV}/files?{API}"), &dev_token(emu), &format!(r#"{{"blobName":"{name}"}}"#)).await;
    assert_eq!(st, 200, "{v}");
    v
}

/// IoT Hub's HTTP error: the status, `iothub-errorcode` and `Message` = `ErrorCode:{name};…`.
fn assert_hub_error(got: (u16, Vec<(String, String)>, Value), status: u16, name: &str) {
    let (st, hs, v) = got;
    assert_eq!(st, status, "{v}");
    assert!(hs.contains(&("iothub-errorcode".into(), name.into())), "{hs:?}");
    assert!(v["Message"].as_str().unwrap().starts_with(&format!("ErrorCode:{name};")), "{v}");
    assert!(v["ExceptionMessage"].as_str().unwrap().starts_with("Tracking ID:"), "{v}");
}

fn query<'a>(sas: &'a str, k: &str) -> &'a str {
    sas.trim_start_matches('?').split('&').find_map(|p| p.strip_prefix(&format!("{k}="))).unwrap_or("")
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// A blob endpoint that answers every request with Get Blob Properties' headers and reports
/// each request line it saw.
async fn fake_blob_endpoint() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk).await {
                    Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => break,
                }
            }
            let _ = tx.send(String::from_utf8_lossy(&buf).lines().next().unwrap_or("").to_string());
            let res = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nLast-Modified: Wed, 01 Jun 2016 21:22:41 GMT\r\nx-ms-blob-type: BlockBlob\r\n\r\n";
            let _ = s.write_all(res.as_bytes()).await;
        }
    });
    (format!("http://127.0.0.1:{port}/devstoreaccount1"), rx)
}

#[tokio::test]
async fn the_sas_uri_answer_names_the_blob_under_the_device_and_carries_a_storage_sas_signed_with_the_account_key() {
    let emu = start_for("http://127.0.0.1:10000/devstoreaccount1").await;
    let v = sas_uri(&emu, "dir/hello world.txt").await;
    assert_eq!(v["hostName"], "127.0.0.1:10000/devstoreaccount1");
    assert_eq!(v["containerName"], "fileuploads");
    assert_eq!(v["blobName"], format!("{DEV}/dir/hello world.txt"));
    let cid = v["correlationId"].as_str().unwrap();
    assert!(!cid.is_empty() && !cid.contains('/'), "opaque and safe in a path segment: {cid}");

    let sas = v["sasToken"].as_str().unwrap();
    let keys: Vec<&str> = sas.trim_start_matches('?').split('&').map(|p| p.split('=').next().unwrap()).collect();
    assert!(sas.starts_with('?'), "{sas}");
    assert_eq!(keys, ["sv", "sr", "sig", "se", "sp"], "the docs' field order: {sas}");
    assert_eq!((query(sas, "sv"), query(sas, "sr"), query(sas, "sp")), ("2018-03-28", "b", "rw"));
    let se = decode(query(sas, "se"));
    let ttl_from = |s: u64| iot_emulator::blob_sas::sas_time(now() + s);
    assert!(se.len() == 20 && se >= ttl_from(590) && se <= ttl_from(610), "the configured 600 s from now: {se}");

    // The service SAS string-to-sign of signed version 2018-03-28, computed here independently.
    let to_sign = format!("rw\n\n{se}\n/blob/devstoreaccount1/fileuploads/{DEV}/dir/hello world.txt\n\n\n\n2018-03-28\n\n\n\n\n");
    let mut mac = Hmac::<Sha256>::new_from_slice(&STANDARD.decode(DEVSTORE_KEY).unwrap()).unwrap();
    mac.update(to_sign.as_bytes());
    assert_eq!(decode(query(sas, "sig")), STANDARD.encode(mac.finalize().into_bytes()));
}

#[tokio::test]
async fn a_notification_in_the_body_form_is_recorded_for_the_service_with_the_blob_properties_and_streamed() {
    let (endpoint, mut seen) = fake_blob_endpoint().await;
    let emu = start_for(&endpoint).await;
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let mut sse = tokio::net::TcpStream::connect(("127.0.0.1", emu.http_port)).await.unwrap();
    let req = format!("GET /service/events?access_token={} HTTP/1.1\r\nHost: localhost:{}\r\n\r\n", emu.service_key, emu.http_port);
    sse.write_all(req.as_bytes()).await.unwrap();
    tokio::spawn(async move {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = sse.read(&mut chunk).await {
            if n == 0 || events_tx.send(String::from_utf8_lossy(&chunk[..n]).to_string()).is_err() {
                break;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let v = sas_uri(&emu, "report.json").await;
    let cid = v["correlationId"].as_str().unwrap();
    let body = format!(r#"{{"correlationId":"{cid}","isSuccess":true,"statusCode":201,"statusDescription":"uploaded"}}"#);
    let (st, _, _) = post(&emu, &format!("/devices/{DEV}/files/notifications?{API}"), &dev_token(&emu), &body).await;
    assert_eq!(st, 204);

    let head = seen.recv().await.unwrap();
    assert!(head.starts_with(&format!("HEAD /devstoreaccount1/fileuploads/{DEV}/report.json?sv=2018-03-28&sr=b&sig=")), "{head}");
    let auth = service_auth(&emu);
    let (st, _, list) = http(&emu, "GET", &format!("/service/fileNotifications?deviceId={DEV}"), &[("authorization", &auth)], "").await;
    assert_eq!(st, 200);
    let n = &list[0];
    assert_eq!(n["deviceId"], DEV);
    assert_eq!(n["blobName"], format!("{DEV}/report.json"));
    assert_eq!(n["blobUri"], format!("{endpoint}/fileuploads/{DEV}/report.json"));
    assert_eq!((n["correlationId"].as_str(), n["isSuccess"].as_bool(), n["statusCode"].as_i64()), (Some(cid), Some(true), Some(201)));
    assert_eq!(n["statusDescription"], "uploaded");
    assert_eq!((n["blobSizeInBytes"].as_u64(), n["lastUpdatedTime"].as_str()), (Some(11), Some("2016-06-01T21:22:41+00:00")));
    assert!(n["enqueuedTimeUtc"].as_str().unwrap().ends_with('Z'));

    let mut stream = String::new();
    while !stream.contains("event: fileUpload") {
        let got = tokio::time::timeout(Duration::from_secs(5), events.recv()).await.expect("a fileUpload event").unwrap();
        stream.push_str(&got);
    }
    assert!(stream.contains(cid), "{stream}");
}

#[tokio::test]
async fn the_node_sdk_form_takes_the_correlation_id_from_the_path_and_a_spent_id_is_refused() {
    let emu = start_for("http://127.0.0.1:9/devstoreaccount1").await;
    let cid = sas_uri(&emu, "a.bin").await["correlationId"].as_str().unwrap().to_string();
    let path = format!("/devices/{DEV}/files/notifications/{cid}?{API}");
    let failed = r#"{"isSuccess":false,"statusCode":-1,"statusDescription":"Failed to upload to blob"}"#;
    assert_eq!(post(&emu, &path, &dev_token(&emu), failed).await.0, 204);
    let recorded = emu.state.files.notifications(Some(DEV));
    assert_eq!((recorded[0]["isSuccess"].as_bool(), recorded[0]["blobSizeInBytes"].is_null()), (Some(false), true));
    assert_hub_error(post(&emu, &path, &dev_token(&emu), failed).await, 400, "InvalidFileUploadCorrelationId");
    let made_up = format!("/devices/{DEV}/files/notifications?{API}");
    assert_hub_error(post(&emu, &made_up, &dev_token(&emu), r#"{"correlationId":"bm9wZQ==","isSuccess":true}"#).await, 400, "InvalidFileUploadCorrelationId");
}

#[tokio::test]
async fn another_devices_correlation_id_is_unknown_to_this_device_and_stays_open_for_its_owner() {
    let emu = start_for("http://127.0.0.1:9/devstoreaccount1").await;
    let cid = sas_uri(&emu, "x").await["correlationId"].as_str().unwrap().to_string();
    let other_token = hub_token(&emu, OTHER, OTHER_KEY, now() + 600);
    let body = format!(r#"{{"correlationId":"{cid}","isSuccess":true}}"#);
    assert_hub_error(post(&emu, &format!("/devices/{OTHER}/files/notifications?{API}"), &other_token, &body).await, 400, "InvalidFileUploadCorrelationId");
    assert_eq!(post(&emu, &format!("/devices/{DEV}/files/notifications?{API}"), &dev_token(&emu), &body).await.0, 204);
}

#[tokio::test]
async fn calls_without_a_valid_token_for_the_path_device_are_unauthorized_with_one_answer_for_every_cause() {
    let emu = start_for("http://127.0.0.1:9/devstoreaccount1").await;
    let path = format!("/devices/{DEV}/files?{API}");
    let body = r#"{"blobName":"a"}"#;
    let another_device = hub_token(&emu, OTHER, OTHER_KEY, now() + 600);
    let module = token(&format!("{}/devices/{DEV}/modules/emu-module-1", emu.hub_hostname), DEV_KEY, now() + 600, None);
    let wrong_key = hub_token(&emu, DEV, OTHER_KEY, now() + 600);
    for auth in ["", "SharedAccessSignature sr=x", &another_device, &module, &wrong_key] {
        assert_hub_error(post(&emu, &path, auth, body).await, 401, "IotHubUnauthorizedAccess");
    }
    let expired = hub_token(&emu, DEV, DEV_KEY, now() - 5);
    assert_hub_error(post(&emu, &path, &expired, body).await, 401, "IotHubUnauthorizedAccess");
    assert!(wait_for_log(&emu, 401003).await.contains("expired"));
    let unknown = format!("/devices/no-such-device/files?{API}");
    assert_hub_error(post(&emu, &unknown, &dev_token(&emu), body).await, 401, "IotHubUnauthorizedAccess");
    let notify = format!("/devices/{DEV}/files/notifications?{API}");
    assert_hub_error(post(&emu, &notify, &another_device, r#"{"correlationId":"x","isSuccess":true}"#).await, 401, "IotHubUnauthorizedAccess");
    for (_, reason) in log_codes(&emu) {
        assert!(!reason.contains("sig="), "no signature in the log: {reason}");
    }
}

#[tokio::test]
async fn a_missing_api_version_a_bad_body_and_a_bad_completion_status_are_refused_with_their_error_codes() {
    let emu = start_for("http://127.0.0.1:9/devstoreaccount1").await;
    let t = dev_token(&emu);
    assert_hub_error(post(&emu, &format!("/devices/{DEV}/files"), &t, r#"{"blobName":"a"}"#).await, 400, "InvalidProtocolVersion");
    let path = format!("/devices/{DEV}/files?{API}");
    for body in ["not json", "{}", r#"{"blobName":7}"#, r#"{"blobName":""}"#, r#"{"blobName":"a\nb"}"#] {
        assert_hub_error(post(&emu, &path, &t, body).await, 400, "ArgumentInvalid");
    }
    let long = format!(r#"{{"blobName":"{}"}}"#, "n".repeat(1024));
    assert_hub_error(post(&emu, &path, &t, &long).await, 400, "ArgumentInvalid");
    let notify = format!("/devices/{DEV}/files/notifications?{API}");
    for body in ["[]", r#"{"correlationId":"x"}"#, r#"{"correlationId":"x","isSuccess":1}"#, r#"{"isSuccess":true}"#, r#"{"correlationId":"x","isSuccess":true,"statusDescription":5}"#] {
        assert_hub_error(post(&emu, &notify, &t, body).await, 400, "InvalidFileUploadCompletionStatus");
    }
}

#[tokio::test]
async fn a_hub_without_a_blob_endpoint_answers_that_file_upload_is_not_configured() {
    let emu = start().await;
    let got = post(&emu, &format!("/devices/{DEV}/files?{API}"), &dev_token(&emu), r#"{"blobName":"a"}"#).await;
    assert_hub_error(got, 400, "DefaultStorageEndpointNotConfigured");
    assert!(wait_for_log(&emu, 400030).await.contains("--blob-endpoint"));
    let auth = service_auth(&emu);
    let (_, _, info) = http(&emu, "GET", "/service/info", &[("authorization", &auth)], "").await;
    assert!(info["fileUpload"].is_null(), "{info}");
}

#[tokio::test]
async fn the_eleventh_open_upload_of_a_device_is_forbidden_until_one_is_notified() {
    let emu = start_for("http://127.0.0.1:9/devstoreaccount1").await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(sas_uri(&emu, &format!("f{i}")).await["correlationId"].as_str().unwrap().to_string());
    }
    let path = format!("/devices/{DEV}/files?{API}");
    let (st, hs, v) = post(&emu, &path, &dev_token(&emu), r#"{"blobName":"f10"}"#).await;
    assert!(v["Message"].as_str().unwrap().contains("cannot exceed 10"), "{v}");
    assert_hub_error((st, hs, v), 403, "DeviceMaximumActiveFileUploadLimitExceeded");
    wait_for_log(&emu, 403006).await;
    let notify = format!("/devices/{DEV}/files/notifications/{}?{API}", ids[0]);
    assert_eq!(post(&emu, &notify, &dev_token(&emu), r#"{"isSuccess":true}"#).await.0, 204);
    sas_uri(&emu, "f10").await;
}

#[tokio::test]
async fn the_service_info_names_the_storage_without_its_key() {
    let emu = start_for("http://127.0.0.1:10000/devstoreaccount1").await;
    let auth = service_auth(&emu);
    let (_, _, info) = http(&emu, "GET", "/service/info", &[("authorization", &auth)], "").await;
    let f = &info["fileUpload"];
    assert_eq!((f["blobEndpoint"].as_str(), f["container"].as_str(), f["sasTtlSeconds"].as_u64()), (Some("http://127.0.0.1:10000/devstoreaccount1"), Some("fileuploads"), Some(600)));
    assert!(!info.to_string().contains(DEVSTORE_KEY));
    assert!(emu.ready_line().contains("\"fileUpload\":{"));
}

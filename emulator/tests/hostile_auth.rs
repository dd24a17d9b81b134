#![cfg(not(target_arch = "wasm32"))]
//! Hostile credentials: forged signatures, expired tokens, another identity's token, `skn` on a
//! device token and `sr` naming a parent of the device's resource (protocol.md §2.2, §2.3,
//! §2.5). Each CONNECT is answered CONNACK 5 and logged with its code (401002, or 401003 for an
//! expired token) and a reason that quotes neither key nor signature; the device's own live
//! connection, and a bystander device, are served throughout; nothing is kept per refusal.

mod bystander;
mod common;
use bystander::{assert_rss_within, measuring, rss_kib, Bystander, BYSTANDER};
use common::*;
use iot_emulator::Emulator;
use mqtt_protocol_core::mqtt::packet::Qos;
use std::time::Duration;

/// Another 64-byte key, valid base64, that no identity has.
const STRANGER_KEY: &str = "l0IHjKmzjmQjVuYmQVN+Ms7vWgk30EjiMOQVLF+mk6v7XiNDg50tVYQwIOig9/E53oRrEmttTM2iuvo3aG+Mbg==";

fn dev_sr(emu: &Emulator) -> String {
    format!("{}/devices/{DEV}", emu.hub_hostname)
}

/// The token with its `sig` value replaced.
fn with_sig(token: &str, sig: &str) -> String {
    let (head, rest) = token.split_once("&sig=").unwrap();
    let tail = rest.split_once('&').map(|(_, t)| format!("&{t}")).unwrap_or_default();
    format!("{head}&sig={sig}{tail}")
}

fn sig_of(token: &str) -> String {
    token.split("&sig=").nth(1).unwrap().split('&').next().unwrap().to_string()
}

/// CONNECTs as DEV with `password`; asserts CONNACK 5, the socket closed and one new log entry
/// with `code` whose reason contains `why`.
async fn refused(emu: &Emulator, password: &str, code: u64, why: &str) {
    let before = emu.state.log_entries().len();
    let (mut c, rc) = Client::connect(emu, DEV, &hub_user(emu, DEV), password, 60).await;
    assert_eq!(rc, 5, "CONNACK 5 for {password}");
    assert!(c.closed_within(Duration::from_secs(5)).await, "the socket is closed after CONNACK 5");
    let entries = emu.state.log_entries();
    let new: Vec<_> = entries.iter().skip(before).collect();
    assert_eq!(new.len(), 1, "one log entry per refusal: {new:?}");
    assert_eq!(new[0]["code"], code, "{}", new[0]);
    assert!(new[0]["reason"].as_str().unwrap().contains(why), "reason names the cause '{why}': {}", new[0]);
}

/// Every log entry so far, as text, holds none of `secrets` in any spelling a token uses.
fn assert_log_quotes_none_of(emu: &Emulator, secrets: &[String]) {
    let log = serde_json::to_string(&emu.state.log_entries()).unwrap();
    for s in secrets {
        let decoded = percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        assert!(!log.contains(s.as_str()) && !log.contains(&decoded), "the log quotes a secret: {log}");
    }
}

/// The device's own connection, opened before the attack: still answered after it.
async fn assert_still_serves(c: &mut Client) {
    c.publish(&format!("devices/{DEV}/messages/events/"), b"still here", Qos::AtLeastOnce).await;
    assert!(matches!(c.next(Duration::from_secs(5)).await, Some(Packet::V3_1_1Puback(_))), "the device's live connection survives refused CONNECTs for it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_signatures_are_refused_401002_and_the_log_quotes_no_signature() {
    let _alone = measuring().await;
    let emu = start().await;
    let by = Bystander::start(&emu).await;
    let mut own = connected(&emu).await;
    let rss = rss_kib();
    let se = now() + 3600;
    let genuine = hub_token(&emu, DEV, DEV_KEY, se);
    let wrong_key = token(&dev_sr(&emu), STRANGER_KEY, se, None);
    let flipped = with_sig(&genuine, &sig_of(&genuine).replacen(|c: char| c.is_ascii_alphabetic(), "A", 1).replacen('A', "B", 1));
    let forged = [wrong_key.clone(), flipped.clone(), with_sig(&genuine, ""), with_sig(&genuine, "not%20base64%21"), with_sig(&genuine, "AAAA")];
    for f in &forged {
        refused(&emu, f, 401002, "signature does not match").await;
    }
    // A valid signature over another expiry: se is part of what is signed.
    refused(&emu, &genuine.replace(&format!("se={se}"), &format!("se={}", se + 1)), 401002, "signature does not match").await;
    assert_still_serves(&mut own).await;
    assert_log_quotes_none_of(&emu, &[sig_of(&genuine), sig_of(&wrong_key), sig_of(&flipped), DEV_KEY.into(), STRANGER_KEY.into()]);
    assert_rss_within("forged signatures", rss, 32);
    by.assert_served(&emu, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_are_refused_401003_and_an_expiry_that_is_no_integer_401002() {
    let emu = start().await;
    let by = Bystander::start(&emu).await;
    let mut own = connected(&emu).await;
    for se in [now() - 1, now() - 86_400, 0, 1] {
        refused(&emu, &hub_token(&emu, DEV, DEV_KEY, se), 401003, "token expired").await;
    }
    // One past u64, and a negative one: not integers of seconds (§2.1), whatever they sign.
    for se in ["18446744073709551616", "-1", "1e12"] {
        let t = hub_token(&emu, DEV, DEV_KEY, 1).replace("se=1", &format!("se={se}"));
        refused(&emu, &t, 401002, "se is not an integer").await;
    }
    assert_still_serves(&mut own).await;
    assert_log_quotes_none_of(&emu, &[sig_of(&hub_token(&emu, DEV, DEV_KEY, 1)), DEV_KEY.into()]);
    by.assert_served(&emu, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_devices_token_is_refused_401002_whether_it_names_that_device_or_this_one() {
    let emu = start().await;
    let by = Bystander::start(&emu).await;
    let mut own = connected(&emu).await;
    let se = now() + 3600;
    // The bystander's genuine token (its own sr, its own key) presented as DEV.
    let theirs = hub_token(&emu, BYSTANDER, DEV_KEY, se);
    refused(&emu, &theirs, 401002, "does not grant").await;
    // DEV's resource signed with a key that is not DEV's.
    refused(&emu, &token(&dev_sr(&emu), STRANGER_KEY, se, None), 401002, "signature does not match").await;
    // A module's resource under DEV, and another device whose id extends DEV's.
    refused(&emu, &token(&format!("{}/modules/emu-module-1", dev_sr(&emu)), DEV_KEY, se, None), 401002, "does not grant").await;
    refused(&emu, &token(&format!("{}x", dev_sr(&emu)), DEV_KEY, se, None), 401002, "does not grant").await;
    // Another hub's resource for the same device id.
    refused(&emu, &token(&format!("other.azure-devices.net/devices/{DEV}"), DEV_KEY, se, None), 401002, "does not grant").await;
    assert_still_serves(&mut own).await;
    by.assert_served(&emu, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_token_that_carries_an_skn_is_refused_401002() {
    let emu = start().await;
    let by = Bystander::start(&emu).await;
    let se = now() + 3600;
    // skn is not signed, so these carry DEV's genuine signature: only the policy name is wrong.
    for skn in ["iothubowner", "device", "registration", ""] {
        refused(&emu, &token(&dev_sr(&emu), DEV_KEY, se, Some(skn)), 401002, "skn").await;
    }
    // The service key's own token shape (sr = hub, skn = a policy) signed with a device key.
    refused(&emu, &token(&emu.hub_hostname, DEV_KEY, se, Some("iothubowner")), 401002, "does not grant").await;
    by.assert_served(&emu, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sr_naming_a_parent_of_the_device_is_refused_401002_even_when_signed_with_its_key() {
    let emu = start().await;
    let by = Bystander::start(&emu).await;
    let hub = emu.hub_hostname.clone();
    let se = now() + 3600;
    let parents = [hub.clone(), format!("{hub}/"), format!("{hub}/devices"), format!("{hub}/devices/"), format!("{hub}/devices/{BYSTANDER}/../{DEV}"), format!("{hub}/devices/./{DEV}"), String::new()];
    for sr in &parents {
        refused(&emu, &token(sr, DEV_KEY, se, None), 401002, "does not grant").await;
    }
    // The same parents with the device's segments spelled out in raw `/`: still refused.
    refused(&emu, &format!("SharedAccessSignature sr={hub}/devices&sig=AAAA&se={se}"), 401002, "does not grant").await;
    by.assert_served(&emu, 5).await;
}

/// DPS REST register with `authorization`; (status, errorCode).
async fn dps_register(emu: &Emulator, reg: &str, authorization: &str) -> (u16, serde_json::Value) {
    let path = format!("/{SCOPE}/registrations/{reg}/register?api-version=2021-06-01");
    let (st, _, v) = http(emu, "PUT", &path, &[("authorization", authorization), ("content-type", "application/json")], &format!("{{\"registrationId\":\"{reg}\"}}")).await;
    (st, v["errorCode"].clone())
}

#[tokio::test]
async fn dps_refuses_forged_expired_and_another_registrations_tokens_401002_and_assigns_nothing() {
    let emu = start().await;
    let se = now() + 3600;
    let dps_sr = |reg: &str| format!("{SCOPE}/registrations/{reg}");
    let genuine = token(&dps_sr(REG), REG_KEY, se, Some("registration"));
    let cases = [
        (with_sig(&genuine, "AAAA"), "signature does not match"),
        (token(&dps_sr(REG), REG_KEY, now() - 1, Some("registration")), "token expired"),
        (token(&dps_sr("disabled-device-001"), REG_KEY, se, Some("registration")), "does not grant"),
        (token(&dps_sr(REG), REG_KEY, se, Some("iothubowner")), "skn"),
        (token(SCOPE, REG_KEY, se, Some("registration")), "does not grant"),
    ];
    for (auth, why) in &cases {
        let before = emu.state.log_entries().len();
        assert_eq!(dps_register(&emu, REG, auth).await, (401, serde_json::json!(401002)), "{auth}");
        let entries = emu.state.log_entries();
        assert_eq!(entries.len(), before + 1);
        assert!(entries[before]["reason"].as_str().unwrap().contains(why), "{why}: {}", entries[before]);
    }
    assert!(!emu.state.hub.devices.contains_key("python-device-008"), "no refused registration assigned the device");
    assert_log_quotes_none_of(&emu, &[sig_of(&genuine), REG_KEY.into()]);
}

#[tokio::test]
async fn the_refusals_are_in_get_service_log_with_their_codes() {
    let emu = start().await;
    refused(&emu, &hub_token(&emu, DEV, STRANGER_KEY, now() + 60), 401002, "signature does not match").await;
    refused(&emu, &hub_token(&emu, DEV, DEV_KEY, now() - 60), 401003, "token expired").await;
    let (st, _, log) = http(&emu, "GET", "/service/log", &[("authorization", &service_auth(&emu))], "").await;
    assert_eq!(st, 200);
    let codes: Vec<_> = log.as_array().unwrap().iter().map(|e| (e["code"].as_u64().unwrap(), e["identity"].as_str().unwrap().to_string())).collect();
    assert_eq!(codes, [(401002, DEV.to_string()), (401003, DEV.to_string())]);
}

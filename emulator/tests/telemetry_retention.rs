#![cfg(not(target_arch = "wasm32"))]
//! How many telemetry messages the emulator keeps per device: the last N (default 10,000), set by
//! `Config::retention`, by the config file's `retention` or by `--retention N` (which wins), and
//! shown in `GET /service/info`. The oldest go first; other devices keep their own N.

mod common;
use common::*;
use iot_emulator::config::Config;
use mqtt_protocol_core::mqtt::packet::Qos;
use std::io::{BufRead, Read, Write};
use std::time::Duration;

async fn send(c: &mut Client, device: &str, n: usize) {
    for i in 0..n {
        c.publish(&format!("devices/{device}/messages/events/"), format!("m{i}").as_bytes(), Qos::AtLeastOnce).await;
        assert!(matches!(c.next(Duration::from_secs(5)).await, Some(Packet::V3_1_1Puback(_))));
    }
}

fn bodies(emu: &iot_emulator::Emulator, device: &str) -> Vec<String> {
    emu.state.hub.telemetry.query(Some(device), 0, 100).iter().map(|m| String::from_utf8_lossy(&m.body).into_owned()).collect()
}

#[tokio::test]
async fn with_retention_3_a_device_keeps_its_last_3_messages_and_info_says_3() {
    let emu = start_with(Config { retention: Some(3), ..Config::ephemeral() }).await;
    let mut c = connected(&emu).await;
    send(&mut c, DEV, 5).await;
    assert_eq!(bodies(&emu, DEV), ["m2", "m3", "m4"]);
    let (st, _, info) = http(&emu, "GET", "/service/info", &[("authorization", &service_auth(&emu))], "").await;
    assert_eq!((st, info["retention"].as_u64()), (200, Some(3)), "{info}");
}

#[tokio::test]
async fn the_retention_limit_is_per_device() {
    let emu = start_with(Config { retention: Some(2), ..Config::ephemeral() }).await;
    emu.state.hub.upsert_device(iot_emulator::config::DeviceIdentity {
        device_id: "second".into(),
        primary_key: DEV_KEY.into(),
        secondary_key: None,
        status: "enabled".into(),
        modules: vec![],
    }, None);
    let mut a = connected(&emu).await;
    let (mut b, rc) = Client::connect(&emu, "second", &hub_user(&emu, "second"), &hub_token(&emu, "second", DEV_KEY, now() + 600), 60).await;
    assert_eq!(rc, 0);
    send(&mut b, "second", 2).await;
    send(&mut a, DEV, 4).await;
    assert_eq!(bodies(&emu, "second"), ["m0", "m1"], "another device's traffic does not evict these");
    assert_eq!(bodies(&emu, DEV), ["m2", "m3"]);
}

#[tokio::test]
async fn the_config_files_retention_applies_and_the_config_option_overrides_it() {
    let mut file = iot_emulator::config::default_file();
    file.retention = Some(4);
    let emu = start_with(Config { file: file.clone(), ..Config::ephemeral() }).await;
    assert_eq!(emu.state.hub.telemetry.retention(), 4);
    let emu = start_with(Config { file, retention: Some(6), ..Config::ephemeral() }).await;
    assert_eq!(emu.state.hub.telemetry.retention(), 6);
    assert_eq!(start().await.state.hub.telemetry.retention(), 10_000, "the documented default");
}

/// The emulator binary on free ports; killed when dropped. A kill skips its own clean-up, so the
/// CA file it writes is named here and removed here.
struct Binary(std::process::Child, std::path::PathBuf);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_file(&self.1);
    }
}

fn ca_file(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("telemetry-retention-{name}-{}.pem", std::process::id()))
}

fn spawn(extra: &[&str], ca: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_iot-emulator"));
    cmd.args(["--host", "127.0.0.1", "--http-port", "0", "--https-port", "0", "--mqtts-port", "0", "--quiet"]).args(extra);
    cmd.arg("--ca-out").arg(ca);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    cmd
}

#[test]
fn the_retention_flag_sets_the_limit_info_reports() {
    let ca = ca_file("flag");
    let mut child = Binary(spawn(&["--retention", "2"], &ca).spawn().expect("the emulator binary starts"), ca);
    let stdout = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let ready = stdout.lines().map_while(Result::ok).find_map(|l| l.strip_prefix("EMULATOR_READY ").map(str::to_string)).expect("EMULATOR_READY");
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    let port = ready["httpPort"].as_u64().unwrap();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port as u16)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let key = ready["serviceKey"].as_str().unwrap();
    write!(s, "GET /service/info HTTP/1.1\r\nHost: localhost:{port}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body: serde_json::Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap();
    assert_eq!(body["retention"], 2, "{text}");
}

#[test]
fn a_retention_of_0_is_refused_at_the_command_line() {
    let out = spawn(&["--retention", "0"], &ca_file("zero")).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--retention"));
}

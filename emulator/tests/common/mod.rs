//! Test helpers: an in-process emulator, an independent SAS signer, a raw MQTT 3.1.1 client
//! (mqtt-protocol-core, client role) over WebSocket, and raw HTTP/1.1 request helpers.
#![allow(dead_code)]

use base64::{engine::general_purpose::STANDARD, Engine};
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use iot_emulator::{config::Config, Emulator};
use mqtt_protocol_core::mqtt::{self, common::Cursor, connection::Event, packet::GenericPacketTrait};
use sha2::Sha256;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

pub const SCOPE: &str = "0ne00000A0A";
pub const REG: &str = "symm-key-python-device-008";
pub const REG_KEY: &str = "uzs1Yu1su+NN1biDeUzB6VJZFOolDWt5Yo2hSXjRCIOq8Ek9iJ0HecGRCshskV2Yoxkgn41S1c4wwaEivRdHjg==";
pub const DEV: &str = "emu-device-001";
pub const DEV_KEY: &str = "3VmD8iPEuwNJJU8Wf648iZTZH5kYASe/TmAP5hCH5LaQZbfHvkrg+hRYCWfkLq0QUqf6sz78XeLrp7rv76zcfA==";

pub async fn start() -> Emulator {
    start_with(Config::ephemeral()).await
}

pub async fn start_with(cfg: Config) -> Emulator {
    Emulator::start(cfg).await.expect("emulator starts")
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `SharedAccessSignature sr={enc(uri)}&sig={enc(b64 hmac)}&se={se}[&skn=…]`
pub fn token(uri: &str, key: &str, se: u64, skn: Option<&str>) -> String {
    let sr = enc(uri);
    let mut mac = Hmac::<Sha256>::new_from_slice(&STANDARD.decode(key).unwrap()).unwrap();
    mac.update(format!("{sr}\n{se}").as_bytes());
    let sig = enc(&STANDARD.encode(mac.finalize().into_bytes()));
    let mut t = format!("SharedAccessSignature sr={sr}&sig={sig}&se={se}");
    if let Some(k) = skn {
        t.push_str(&format!("&skn={k}"));
    }
    t
}

pub fn hub_token(emu: &Emulator, device: &str, key: &str, se: u64) -> String {
    token(&format!("{}/devices/{device}", emu.hub_hostname), key, se, None)
}

pub fn hub_user(emu: &Emulator, device: &str) -> String {
    format!("{}/{device}/?api-version=2021-04-12", emu.hub_hostname)
}

pub type Packet = mqtt::packet::GenericPacket<u16>;

/// A clean-session CONNECT with these credentials and, if given, a will (topic, payload).
pub fn connect_packet(client_id: &str, user: &str, password: &str, keep_alive: u16, will: Option<(&str, &[u8])>) -> mqtt::packet::v3_1_1::Connect {
    let mut b = mqtt::packet::v3_1_1::Connect::builder()
        .client_id(client_id).unwrap()
        .user_name(user).unwrap()
        .password(password.as_bytes().to_vec()).unwrap()
        .keep_alive(keep_alive)
        .clean_session(true);
    if let Some((topic, payload)) = will {
        b = b.will_message(topic, payload.to_vec(), mqtt::packet::Qos::AtLeastOnce, false).unwrap();
    }
    b.build().unwrap()
}

#[derive(Debug, PartialEq)]
pub enum Next {
    Packet(String),
    Closed,
    Timeout,
}

pub struct Client {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    pub conn: mqtt::Connection<mqtt::role::Client>,
    pub received: Vec<Packet>,
}

impl Client {
    pub async fn open(emu: &Emulator) -> Client {
        let mut req = format!("ws://127.0.0.1:{}/$iothub/websocket?iothub-no-client-cert=true", emu.http_port).into_client_request().unwrap();
        req.headers_mut().insert("sec-websocket-protocol", "mqtt".parse().unwrap());
        // A small read buffer (the default is 128 KiB, allocated up front) keeps the hostile
        // tests' thousand clients from drowning the emulator's share of this process's memory.
        let cfg = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(16 * 1024);
        let (ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(cfg), false).await.expect("ws connects");
        Client { ws, conn: mqtt::Connection::new(mqtt::Version::V3_1_1), received: Vec::new() }
    }

    /// Opens and sends CONNECT; returns the CONNACK return code.
    pub async fn connect(emu: &Emulator, client_id: &str, user: &str, password: &str, keep_alive: u16) -> (Client, u8) {
        Client::connect_with(emu, connect_packet(client_id, user, password, keep_alive, None)).await
    }

    /// Opens and sends the given CONNECT (e.g. one with a will); returns the CONNACK return code.
    pub async fn connect_with(emu: &Emulator, p: mqtt::packet::v3_1_1::Connect) -> (Client, u8) {
        let mut c = Client::open(emu).await;
        c.send(p.into()).await;
        let rc = loop {
            match c.next(Duration::from_secs(5)).await {
                Some(Packet::V3_1_1Connack(a)) => break a.return_code() as u8,
                Some(_) => continue,
                None => panic!("no CONNACK"),
            }
        };
        (c, rc)
    }

    pub async fn send(&mut self, p: Packet) {
        for ev in self.conn.send(p) {
            if let Event::RequestSendPacket { packet, .. } = ev {
                let _ = self.ws.send(Message::Binary(packet.to_continuous_buffer().into())).await;
            }
        }
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        let _ = self.ws.send(Message::Binary(bytes.into())).await;
    }

    /// The next packet, or None on close/timeout.
    pub async fn next(&mut self, t: Duration) -> Option<Packet> {
        self.next_or_close(t).await.ok()
    }

    /// Err(true) when the server closed the socket, Err(false) on timeout.
    pub async fn next_or_close(&mut self, t: Duration) -> Result<Packet, bool> {
        if !self.received.is_empty() {
            return Ok(self.received.remove(0));
        }
        let deadline = tokio::time::Instant::now() + t;
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err(false),
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return Err(true),
                Ok(Some(Ok(m))) => m,
            };
            if let Message::Binary(b) = msg {
                let mut cur = Cursor::new(&b[..]);
                while (cur.position() as usize) < b.len() {
                    let before = cur.position();
                    for ev in self.conn.recv(&mut cur) {
                        if let Event::NotifyPacketReceived(p) = ev {
                            self.received.push(p);
                        }
                    }
                    if cur.position() == before {
                        break;
                    }
                }
                if !self.received.is_empty() {
                    return Ok(self.received.remove(0));
                }
            }
        }
    }

    /// Waits until the server closes the socket (ignoring packets); false on timeout.
    pub async fn closed_within(&mut self, t: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + t;
        loop {
            match self.next_or_close(deadline.saturating_duration_since(tokio::time::Instant::now())).await {
                Ok(_) => continue,
                Err(closed) => return closed,
            }
        }
    }

    pub async fn publish(&mut self, topic: &str, payload: &[u8], qos: mqtt::packet::Qos) {
        let mut b = mqtt::packet::v3_1_1::Publish::builder().topic_name(topic).unwrap().qos(qos).payload(payload.to_vec());
        if qos != mqtt::packet::Qos::AtMostOnce {
            b = b.packet_id(self.conn.acquire_packet_id().unwrap());
        }
        self.send(b.build().unwrap().into()).await;
    }

    pub async fn subscribe(&mut self, filter: &str) {
        let pid = self.conn.acquire_packet_id().unwrap();
        let e = mqtt::packet::SubEntry::new(filter, mqtt::packet::SubOpts::new().set_qos(mqtt::packet::Qos::AtLeastOnce)).unwrap();
        let p = mqtt::packet::v3_1_1::Subscribe::builder().packet_id(pid).entries(vec![e]).build().unwrap();
        self.send(p.into()).await;
    }
}

/// `emu-device-001` connected with a valid token (CONNACK 0 asserted).
pub async fn connected(emu: &Emulator) -> Client {
    let (c, rc) = Client::connect(emu, DEV, &hub_user(emu, DEV), &hub_token(emu, DEV, DEV_KEY, now() + 3600), 60).await;
    assert_eq!(rc, 0);
    c
}

/// The log codes recorded so far, with their reasons.
pub fn log_codes(emu: &Emulator) -> Vec<(u64, String)> {
    emu.state.log_entries().iter().map(|e| (e["code"].as_u64().unwrap_or(0), e["reason"].as_str().unwrap_or("").to_string())).collect()
}

pub async fn wait_for_log(emu: &Emulator, code: u64) -> String {
    for _ in 0..100 {
        if let Some((_, r)) = log_codes(emu).into_iter().find(|(c, _)| *c == code) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no log entry with code {code}: {:?}", log_codes(emu));
}

/// `Authorization` value that the service API accepts (the emulator's bearer form).
pub fn service_auth(emu: &Emulator) -> String {
    format!("Bearer {}", emu.service_key)
}

/// Sends a raw HTTP/1.1 request on the plain port (`Host: localhost:{port}` unless `headers`
/// names a host) and returns the open stream.
async fn send_request(emu: &Emulator, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", emu.http_port)).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: localhost:{}\r\n", emu.http_port));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    s
}

/// (status, headers lowercased) of a response head.
fn parse_head(head: &str) -> (u16, Vec<(String, String)>) {
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let hs = lines.filter_map(|l| l.split_once(": ")).map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())).collect();
    (status, hs)
}

/// A raw HTTP/1.1 request on the plain port; returns (status, headers lowercased, body JSON).
pub async fn http(emu: &Emulator, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, Vec<(String, String)>, serde_json::Value) {
    let mut s = send_request(emu, method, path, headers, body).await;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let (status, hs) = parse_head(head);
    (status, hs, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

/// Only the head of a GET's response, for streams that never end (the SSE route).
pub async fn http_head(emu: &Emulator, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>) {
    let mut s = send_request(emu, "GET", path, headers, "").await;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    parse_head(text.split("\r\n\r\n").next().unwrap_or(""))
}

/// A service SAS token of the hub policy `name` (sr = the hub host name), signed with its key:
/// what `azure-iothub` sends from a connection string.
pub fn policy_sas(emu: &Emulator, name: &str) -> String {
    let key = emu.state.guard.hub_policies.get(name).expect("policy exists").primary_key().to_string();
    token(&emu.hub_hostname, &key, now() + 600, Some(name))
}

/// A DPS service SAS token of `provisioningserviceowner` (sr = the DPS host, the hub's here).
pub fn dps_sas(emu: &Emulator) -> String {
    let key = emu.state.guard.dps_policies.get("provisioningserviceowner").expect("policy exists").primary_key().to_string();
    token(&emu.hub_hostname, &key, now() + 600, Some("provisioningserviceowner"))
}

/// The header value of `name` in a response's (lowercased) headers.
pub fn header<'a>(hs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    hs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

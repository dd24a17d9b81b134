//! A scripted in-memory IoT Hub for the engine tests, under simulated time: it decodes what the
//! client writes just enough for assertions and builds the hub's answers as bytes. Shared by
//! `hub_engine.rs` and `hub_engine_deadlines.rs` (each test binary uses part of it).
#![allow(dead_code)]

use azure_iot_wasm::hub::*;
use serde_json::json;

/// One packet the client wrote, decoded just enough for assertions.
#[derive(Debug, Clone)]
pub enum Out {
    Connect {
        password: String,
    },
    Publish {
        topic: String,
        payload: Vec<u8>,
        pkid: Option<u16>,
        dup: bool,
    },
    Subscribe {
        pkid: u16,
        filters: Vec<String>,
    },
    PubAck(u16),
    Disconnect,
    Other,
}

pub fn take_str(b: &[u8], i: &mut usize) -> String {
    let n = usize::from(u16::from_be_bytes([b[*i], b[*i + 1]]));
    let s = String::from_utf8(b[*i + 2..*i + 2 + n].to_vec()).unwrap();
    *i += 2 + n;
    s
}

pub fn parse(bytes: &[u8]) -> Vec<Out> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let h = bytes[i];
        let (mut len, mut mult, mut j) = (0usize, 1usize, i + 1);
        loop {
            let b = bytes[j];
            len += usize::from(b & 0x7f) * mult;
            mult *= 128;
            j += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        let body = &bytes[j..j + len];
        let mut k = 0;
        out.push(match h >> 4 {
            1 => {
                take_str(body, &mut k); // "MQTT"
                let flags = body[k + 1];
                k += 4;
                take_str(body, &mut k); // client id
                if flags & 0x80 != 0 {
                    take_str(body, &mut k);
                }
                let password = if flags & 0x40 != 0 {
                    take_str(body, &mut k)
                } else {
                    String::new()
                };
                Out::Connect { password }
            }
            3 => {
                let topic = take_str(body, &mut k);
                let pkid = if (h >> 1) & 3 == 1 {
                    k += 2;
                    Some(u16::from_be_bytes([body[k - 2], body[k - 1]]))
                } else {
                    None
                };
                Out::Publish {
                    topic,
                    payload: body[k..].to_vec(),
                    pkid,
                    dup: h & 0x08 != 0,
                }
            }
            4 => Out::PubAck(u16::from_be_bytes([body[0], body[1]])),
            8 => {
                let pkid = u16::from_be_bytes([body[0], body[1]]);
                k = 2;
                let mut filters = Vec::new();
                while k < body.len() {
                    filters.push(take_str(body, &mut k));
                    k += 1;
                }
                Out::Subscribe { pkid, filters }
            }
            14 => Out::Disconnect,
            _ => Out::Other,
        });
        i = j + len;
    }
    out
}

pub fn server_publish(topic: &str, payload: &[u8], pkid: Option<u16>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    body.extend_from_slice(topic.as_bytes());
    if let Some(id) = pkid {
        body.extend_from_slice(&id.to_be_bytes());
    }
    body.extend_from_slice(payload);
    let mut p = vec![if pkid.is_some() { 0x32 } else { 0x30 }];
    let mut n = body.len();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        p.push(b);
        if n == 0 {
            break;
        }
    }
    p.extend(body);
    p
}

/// The engine plus what it has written, events and whether it asked for a socket.
pub struct Rig {
    pub e: HubEngine,
    pub now: u64,
    pub sent: Vec<Out>,
    pub events: Vec<HubEvent>,
    pub open_requests: usize,
    pub close_requests: usize,
}

impl Rig {
    /// An engine whose application listens to everything (C2D, desired, any method); a test
    /// of what happens before a handler exists uses `unheard`.
    pub fn new(opts: EngineOptions) -> Rig {
        let mut r = Rig::unheard(opts);
        r.e.listen_messages();
        r.e.listen_desired();
        r.e.listen_method("*");
        r
    }

    pub fn unheard(opts: EngineOptions) -> Rig {
        let mut r = Rig {
            e: HubEngine::new(opts),
            now: 1_000_000,
            sent: vec![],
            events: vec![],
            open_requests: 0,
            close_requests: 0,
        };
        r.e.start(r.now);
        r.pump();
        r
    }

    pub fn device() -> Rig {
        Rig::new(EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap()))
    }

    pub fn pump(&mut self) {
        while let Some(a) = self.e.poll_action() {
            match a {
                Action::Open => self.open_requests += 1,
                Action::Transmit(b) => self.sent.extend(parse(&b)),
                Action::CloseSocket => self.close_requests += 1,
            }
        }
        while let Some(ev) = self.e.poll_event() {
            self.events.push(ev);
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.e.handle_bytes(self.now, 0.5, bytes);
        self.pump();
    }

    pub fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        while let Some(t) = self.e.poll_timeout().filter(|&t| t <= end) {
            self.now = t.max(self.now);
            self.e.handle_timeout(self.now, 0.5);
            self.pump();
        }
        self.now = end;
    }

    /// Advances until the engine asks for another socket (a backoff ended).
    pub fn advance_to_open(&mut self) {
        let before = self.open_requests;
        while self.open_requests == before {
            let t = self.e.poll_timeout().expect("a timer while waiting to reopen");
            self.now = t.max(self.now);
            self.e.handle_timeout(self.now, 0.5);
            self.pump();
        }
    }

    /// Opens the socket with a token expiring in `ttl_s`, answers CONNACK and SUBACK, and the
    /// resync GET with `desired`.
    pub fn connect_with(&mut self, ttl_s: u64, desired: serde_json::Value) {
        self.connect_with_twin(ttl_s, json!({"desired": desired, "reported": {"$version": 1}}));
    }

    /// `connect_with`, the resync GET answered with the whole `twin` document.
    pub fn connect_with_twin(&mut self, ttl_s: u64, twin: serde_json::Value) {
        let se = self.now / 1000 + ttl_s;
        self.e
            .handle_opened(self.now, 0.5, format!("SharedAccessSignature sr=x&sig=y&se={se}"));
        self.pump();
        self.feed(&[0x20, 0x02, 0x00, 0x00]);
        let sub = self.sent.iter().rev().find_map(|o| match o {
            Out::Subscribe { pkid, .. } => Some(*pkid),
            _ => None,
        });
        let pkid = sub.unwrap();
        self.feed(&[0x90, 0x06, (pkid >> 8) as u8, pkid as u8, 1, 0, 0, 0]);
        let rid = self.last_get_rid();
        let body = twin.to_string();
        self.feed(&server_publish(
            &format!("$iothub/twin/res/200/?$rid={rid}"),
            body.as_bytes(),
            None,
        ));
    }

    /// The reported patches the client sent, as JSON, oldest first.
    pub fn reported_patches(&self) -> Vec<serde_json::Value> {
        self.sent
            .iter()
            .filter_map(|o| match o {
                Out::Publish { topic, payload, .. } if topic.starts_with("$iothub/twin/PATCH/properties/reported/") => {
                    serde_json::from_slice(payload).ok()
                }
                _ => None,
            })
            .collect()
    }

    /// Answers the latest reported PATCH with `status`.
    pub fn answer_patch(&mut self, status: u16) {
        let rid = self
            .sent
            .iter()
            .rev()
            .find_map(|o| match o {
                Out::Publish { topic, .. } => topic.strip_prefix("$iothub/twin/PATCH/properties/reported/?$rid=").map(str::to_string),
                _ => None,
            })
            .unwrap();
        self.feed(&server_publish(&format!("$iothub/twin/res/{status}/?$rid={rid}&$version=7"), b"", None));
    }

    pub fn connect(&mut self) {
        self.connect_with(3600, json!({"$version": 1}));
    }

    pub fn last_get_rid(&self) -> String {
        self.sent
            .iter()
            .rev()
            .find_map(|o| match o {
                Out::Publish { topic, .. } => topic.strip_prefix("$iothub/twin/GET/?$rid=").map(str::to_string),
                _ => None,
            })
            .unwrap()
    }

    pub fn telemetry(&self) -> Vec<(u16, bool)> {
        self.sent
            .iter()
            .filter_map(|o| match o {
                Out::Publish {
                    topic,
                    pkid: Some(id),
                    dup,
                    ..
                } if topic.contains("/messages/events/") => Some((*id, *dup)),
                _ => None,
            })
            .collect()
    }

    pub fn sends_done(&self) -> Vec<(u64, Result<(), HubError>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                HubEvent::SendDone { op, result } => Some((*op, result.clone())),
                _ => None,
            })
            .collect()
    }
}

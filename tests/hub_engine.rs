//! The hub engine against a scripted in-memory hub under simulated time: connect, subscribe,
//! telemetry with many in flight, C2D ack after the handler, twin round trips, desired patches
//! across reconnects, methods, DUP re-send after a drop, token renewal and close.
#![cfg(not(target_arch = "wasm32"))]

use azure_iot_wasm::hub::*;
use serde_json::json;

/// One packet the client wrote, decoded just enough for assertions.
#[derive(Debug, Clone)]
enum Out {
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

fn take_str(b: &[u8], i: &mut usize) -> String {
    let n = usize::from(u16::from_be_bytes([b[*i], b[*i + 1]]));
    let s = String::from_utf8(b[*i + 2..*i + 2 + n].to_vec()).unwrap();
    *i += 2 + n;
    s
}

fn parse(bytes: &[u8]) -> Vec<Out> {
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

fn server_publish(topic: &str, payload: &[u8], pkid: Option<u16>) -> Vec<u8> {
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
struct Rig {
    e: HubEngine,
    now: u64,
    sent: Vec<Out>,
    events: Vec<HubEvent>,
    open_requests: usize,
    close_requests: usize,
}

impl Rig {
    fn new(opts: EngineOptions) -> Rig {
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

    fn device() -> Rig {
        Rig::new(EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap()))
    }

    fn pump(&mut self) {
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

    fn feed(&mut self, bytes: &[u8]) {
        self.e.handle_bytes(self.now, bytes);
        self.pump();
    }

    fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        while let Some(t) = self.e.poll_timeout().filter(|&t| t <= end) {
            self.now = t.max(self.now);
            self.e.handle_timeout(self.now);
            self.pump();
        }
        self.now = end;
    }

    /// Advances until the engine asks for another socket (a backoff ended).
    fn advance_to_open(&mut self) {
        let before = self.open_requests;
        while self.open_requests == before {
            let t = self.e.poll_timeout().expect("a timer while waiting to reopen");
            self.now = t.max(self.now);
            self.e.handle_timeout(self.now);
            self.pump();
        }
    }

    /// Opens the socket with a token expiring in `ttl_s`, answers CONNACK and SUBACK, and the
    /// resync GET with `desired`.
    fn connect_with(&mut self, ttl_s: u64, desired: serde_json::Value) {
        let se = self.now / 1000 + ttl_s;
        self.e
            .handle_opened(self.now, format!("SharedAccessSignature sr=x&sig=y&se={se}"));
        self.pump();
        self.feed(&[0x20, 0x02, 0x00, 0x00]);
        let sub = self.sent.iter().rev().find_map(|o| match o {
            Out::Subscribe { pkid, .. } => Some(*pkid),
            _ => None,
        });
        let pkid = sub.unwrap();
        self.feed(&[0x90, 0x06, (pkid >> 8) as u8, pkid as u8, 1, 0, 0, 0]);
        let rid = self.last_get_rid();
        let body = json!({"desired": desired, "reported": {"$version": 1}}).to_string();
        self.feed(&server_publish(
            &format!("$iothub/twin/res/200/?$rid={rid}"),
            body.as_bytes(),
            None,
        ));
    }

    fn connect(&mut self) {
        self.connect_with(3600, json!({"$version": 1}));
    }

    fn last_get_rid(&self) -> String {
        self.sent
            .iter()
            .rev()
            .find_map(|o| match o {
                Out::Publish { topic, .. } => topic.strip_prefix("$iothub/twin/GET/?$rid=").map(str::to_string),
                _ => None,
            })
            .unwrap()
    }

    fn telemetry(&self) -> Vec<(u16, bool)> {
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

    fn sends_done(&self) -> Vec<(u64, Result<(), HubError>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                HubEvent::SendDone { op, result } => Some((*op, result.clone())),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn connect_sends_the_token_subscribes_four_filters_and_reads_the_twin() {
    let mut r = Rig::device();
    assert_eq!(r.open_requests, 1);
    r.connect();
    assert!(matches!(&r.sent[0], Out::Connect { password } if password.starts_with("SharedAccessSignature")));
    assert!(matches!(&r.sent[1], Out::Subscribe { filters, .. } if filters.len() == 4));
    assert!(r.events.contains(&HubEvent::Connected));
    assert!(r.e.is_connected());
}

#[test]
fn telemetry_resolves_on_puback_with_many_in_flight() {
    let mut r = Rig::device();
    r.connect();
    let ops: Vec<u64> = (0..10)
        .map(|i| r.e.send(r.now, &Message::new(format!("m{i}"))).unwrap())
        .collect();
    r.pump();
    let sent = r.telemetry();
    assert_eq!(sent.len(), 10, "all ten are in flight before any PUBACK");
    for (id, _) in sent.iter().rev() {
        r.feed(&[0x40, 0x02, (id >> 8) as u8, *id as u8]);
    }
    let mut done: Vec<u64> = r
        .sends_done()
        .into_iter()
        .map(|(op, res)| {
            assert!(res.is_ok());
            op
        })
        .collect();
    done.sort();
    assert_eq!(done, ops);
}

#[test]
fn sends_while_offline_wait_in_the_bounded_queue_and_go_out_after_connect() {
    let mut opts = EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap());
    opts.offline_queue = 2;
    let mut r = Rig::new(opts);
    r.e.send(r.now, &Message::new("a")).unwrap();
    r.e.send(r.now, &Message::new("b")).unwrap();
    assert_eq!(r.e.send(r.now, &Message::new("c")).unwrap_err().code(), "QUEUE_FULL");
    assert!(r.telemetry().is_empty());
    r.connect();
    assert_eq!(r.telemetry().len(), 2);
}

#[test]
fn an_oversize_message_is_refused_before_it_is_queued() {
    let mut r = Rig::device();
    let e = r.e.send(r.now, &Message::new(vec![0u8; 300_000])).unwrap_err();
    assert_eq!(e.code(), "MESSAGE_TOO_LARGE");
}

#[test]
fn unacked_telemetry_is_resent_with_dup_after_a_drop_and_resolves_once() {
    let mut r = Rig::device();
    r.connect();
    let op = r.e.send(r.now, &Message::new("x")).unwrap();
    r.pump();
    r.e.handle_closed(
        r.now,
        azure_iot_wasm::mqtt::MqttError::ConnectionLost {
            code: Some(1006),
            reason: String::new(),
        },
    );
    r.pump();
    assert!(r.events.iter().any(|e| matches!(
        e,
        HubEvent::Disconnected {
            reason: "CONNECTION_LOST",
            ..
        }
    )));
    let delay = r.events.iter().find_map(|e| match e {
        HubEvent::Reconnecting { attempt: 1, delay_ms } => Some(*delay_ms),
        _ => None,
    });
    assert!(delay.unwrap() >= 500);
    r.advance_to_open();
    assert_eq!(r.open_requests, 2);
    r.connect();
    let t = r.telemetry();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].0, t[1].0, "same packet id");
    assert!(!t[0].1 && t[1].1, "second copy has DUP set");
    r.feed(&[0x40, 0x02, 0, t[1].0 as u8]);
    assert_eq!(r.sends_done(), vec![(op, Ok(()))]);
}

#[test]
fn c2d_is_reported_with_its_properties_and_acked_only_when_the_driver_says_so() {
    let mut r = Rig::device();
    r.connect();
    r.feed(&server_publish(
        "devices/dev1/messages/devicebound/%24.mid=m1&color=red",
        b"hello",
        Some(7),
    ));
    let (pkid, msg) = r
        .events
        .iter()
        .find_map(|e| match e {
            HubEvent::Message { pkid, message, payload } => Some((*pkid, (message.clone(), payload.clone()))),
            _ => None,
        })
        .unwrap();
    assert_eq!(pkid, Some(7));
    assert_eq!(msg.0.get("color"), Some("red"));
    assert_eq!(msg.1, b"hello");
    assert!(!r.sent.iter().any(|o| matches!(o, Out::PubAck(7))));
    r.e.ack_message(r.now, 7);
    r.pump();
    assert!(r.sent.iter().any(|o| matches!(o, Out::PubAck(7))));
}

#[test]
fn reported_patch_resolves_with_the_new_version_and_get_twin_with_the_document() {
    let mut r = Rig::device();
    r.connect();
    let op = r.e.update_reported(r.now, br#"{"fw":"1.2"}"#.to_vec()).unwrap();
    r.pump();
    let rid = r
        .sent
        .iter()
        .rev()
        .find_map(|o| match o {
            Out::Publish { topic, payload, .. } if payload == br#"{"fw":"1.2"}"# => topic
                .strip_prefix("$iothub/twin/PATCH/properties/reported/?$rid=")
                .map(str::to_string),
            _ => None,
        })
        .unwrap();
    r.feed(&server_publish(
        &format!("$iothub/twin/res/204/?$rid={rid}&$version=9"),
        b"",
        None,
    ));
    assert!(r.events.contains(&HubEvent::TwinDone {
        op,
        outcome: TwinOutcome::ReportedVersion(9)
    }));

    let op = r.e.get_twin(r.now).unwrap();
    r.pump();
    let rid = r.last_get_rid();
    r.feed(&server_publish(
        &format!("$iothub/twin/res/200/?$rid={rid}"),
        br#"{"desired":{"$version":1},"reported":{"$version":9}}"#,
        None,
    ));
    assert!(r
        .events
        .iter()
        .any(|e| matches!(e, HubEvent::TwinDone { op: o, outcome: TwinOutcome::Twin(_) } if *o == op)));
}

#[test]
fn a_twin_request_without_an_answer_times_out() {
    let mut r = Rig::device();
    r.connect();
    let op = r.e.get_twin(r.now).unwrap();
    r.pump();
    r.advance(61_000);
    assert!(r.events.contains(&HubEvent::TwinDone {
        op,
        outcome: TwinOutcome::Failed(HubError::Timeout)
    }));
}

#[test]
fn a_desired_patch_made_while_offline_is_delivered_after_the_reconnect() {
    let mut r = Rig::device();
    r.connect_with(3600, json!({"interval": 5, "$version": 3}));
    r.feed(&server_publish(
        "$iothub/twin/PATCH/properties/desired/?$version=4",
        br#"{"interval":6,"$version":4}"#,
        None,
    ));
    r.e.handle_closed(
        r.now,
        azure_iot_wasm::mqtt::MqttError::ConnectionLost {
            code: None,
            reason: String::new(),
        },
    );
    r.pump();
    r.advance(60_000);
    r.connect_with(3600, json!({"interval": 10, "mode": "eco", "$version": 6}));
    let desired: Vec<String> = r
        .events
        .iter()
        .filter_map(|e| match e {
            HubEvent::Desired(u) => Some(u.patch.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        desired,
        vec![
            r#"{"interval":6,"$version":4}"#,
            r#"{"interval":10,"mode":"eco","$version":6}"#
        ]
    );
}

#[test]
fn a_method_call_is_reported_and_the_answer_goes_to_the_res_topic() {
    let mut r = Rig::device();
    r.connect();
    r.feed(&server_publish(
        "$iothub/methods/POST/reboot/?$rid=42",
        br#"{"delay":1}"#,
        None,
    ));
    assert!(r.events.contains(&HubEvent::Method {
        name: "reboot".into(),
        rid: "42".into(),
        payload: br#"{"delay":1}"#.to_vec()
    }));
    r.e.respond_method(r.now, "42", 200, br#"{"ok":true}"#);
    r.pump();
    assert!(r
        .sent
        .iter()
        .any(|o| matches!(o, Out::Publish { topic, .. } if topic == "$iothub/methods/res/200/?$rid=42")));
}

#[test]
fn the_token_is_renewed_at_80_percent_by_a_clean_reconnect_without_losing_sends() {
    let mut opts = EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap());
    // What the driver picks for a 10 s TTL: min(60 s, 80% of the TTL).
    opts.min_renew_interval_ms = 8_000;
    let mut r = Rig::new(opts);
    r.connect_with(10, json!({"$version": 1}));
    let op = r.e.send(r.now, &Message::new("before")).unwrap();
    r.pump();
    r.advance(8_000);
    // The in-flight publish holds the renewal back until its PUBACK (or the drain deadline).
    assert_eq!(r.close_requests, 0);
    let late = r.e.send(r.now, &Message::new("during")).unwrap();
    r.pump();
    assert_eq!(r.telemetry().len(), 1, "new sends wait while the renewal drains");
    let id = r.telemetry()[0].0;
    r.feed(&[0x40, 0x02, 0, id as u8]);
    assert!(matches!(r.sent.last(), Some(Out::Disconnect)));
    assert_eq!(r.close_requests, 1);
    r.e.handle_closed(r.now, azure_iot_wasm::mqtt::MqttError::Closed);
    r.pump();
    assert_eq!(r.open_requests, 2, "reopened at once, no backoff");
    assert!(r.events.iter().any(|e| matches!(
        e,
        HubEvent::Disconnected {
            reason: "TOKEN_RENEWAL",
            ..
        }
    )));
    r.connect_with(10, json!({"$version": 1}));
    let t = r.telemetry();
    assert_eq!(t.len(), 2);
    r.feed(&[0x40, 0x02, 0, t[1].0 as u8]);
    assert_eq!(r.sends_done(), vec![(op, Ok(())), (late, Ok(()))]);
}

#[test]
fn refused_credentials_back_off_and_finally_close_with_hub_unauthorized() {
    let mut r = Rig::device();
    for _ in 0..3 {
        r.e.handle_opened(r.now, "SharedAccessSignature se=1".into());
        r.pump();
        r.feed(&[0x20, 0x02, 0x00, 0x05]);
        r.e.handle_closed(r.now, azure_iot_wasm::mqtt::MqttError::Closed);
        r.pump();
        if !r.e.is_closed() {
            r.advance_to_open();
        }
    }
    assert!(r
        .events
        .iter()
        .any(|e| matches!(e, HubEvent::Error(HubError::Unauthorized))));
    assert!(r.events.contains(&HubEvent::Closed));
    assert_eq!(r.open_requests, 3);
}

#[test]
fn close_fails_every_pending_operation_with_closed() {
    let mut r = Rig::device();
    r.connect();
    let a = r.e.send(r.now, &Message::new("a")).unwrap();
    let t = r.e.get_twin(r.now).unwrap();
    r.pump();
    r.e.close(r.now);
    r.pump();
    assert!(matches!(r.sent.last(), Some(Out::Disconnect)));
    assert_eq!(r.sends_done(), vec![(a, Err(HubError::Closed))]);
    assert!(r.events.contains(&HubEvent::TwinDone {
        op: t,
        outcome: TwinOutcome::Failed(HubError::Closed)
    }));
    assert_eq!(r.e.send(r.now, &Message::new("b")).unwrap_err().code(), "CLOSED");
}

fn disconnect_codes(r: &Rig) -> Vec<&'static str> {
    r.events
        .iter()
        .filter_map(|e| match e {
            HubEvent::Disconnected { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

#[test]
fn an_open_that_never_gets_a_token_or_socket_times_out_and_backs_off() {
    let mut r = Rig::device();
    // The driver is still waiting on getToken or the socket factory: the engine keeps a deadline.
    assert_eq!(r.e.poll_timeout(), Some(r.now + 30_000));
    r.advance(30_000);
    assert_eq!(disconnect_codes(&r), vec!["CONNECT_TIMEOUT"]);
    assert_eq!(r.close_requests, 1, "the driver drops whatever it was opening");
    assert!(r.events.iter().any(|e| matches!(e, HubEvent::Reconnecting { attempt: 1, .. })));
    r.advance_to_open();
    assert_eq!(r.open_requests, 2);
}

#[test]
fn a_failed_token_provider_drops_the_open_with_token_provider_failed_and_backs_off() {
    let mut r = Rig::device();
    r.e.handle_token_failed(r.now, "no token server");
    r.pump();
    assert_eq!(disconnect_codes(&r), vec!["TOKEN_PROVIDER_FAILED"]);
    assert!(r.events.iter().any(|e| matches!(e,
        HubEvent::Disconnected { message, .. } if message == "getToken failed: no token server")));
    assert!(r.events.iter().any(|e| matches!(e, HubEvent::Reconnecting { attempt: 1, .. })));
}

#[test]
fn a_hub_that_never_sends_suback_fails_the_connection_at_the_connect_timeout() {
    let mut r = Rig::device();
    r.e.handle_opened(r.now, "SharedAccessSignature sr=x&sig=y&se=99999999999".into());
    r.pump();
    r.feed(&[0x20, 0x02, 0x00, 0x00]);
    assert!(r.sent.iter().any(|o| matches!(o, Out::Subscribe { .. })));
    r.advance(29_000);
    assert!(disconnect_codes(&r).is_empty());
    r.advance(1_000);
    assert_eq!(disconnect_codes(&r), vec!["CONNECT_TIMEOUT"]);
    assert_eq!(r.close_requests, 1);
}

#[test]
fn with_a_send_timeout_queued_and_in_flight_sends_fail_with_timeout() {
    let mut opts = EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap());
    opts.send_timeout_ms = Some(5_000);
    let mut r = Rig::new(opts);
    let offline = r.e.send(r.now, &Message::new("offline")).unwrap();
    r.pump();
    r.advance(5_000);
    assert_eq!(r.sends_done(), vec![(offline, Err(HubError::Timeout))]);

    let mut opts = EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap());
    opts.send_timeout_ms = Some(5_000);
    let mut r = Rig::new(opts);
    r.connect();
    let in_flight = r.e.send(r.now, &Message::new("no puback")).unwrap();
    r.pump();
    assert_eq!(r.telemetry().len(), 1);
    r.advance(4_999);
    assert!(r.sends_done().is_empty());
    r.advance(1);
    assert_eq!(r.sends_done(), vec![(in_flight, Err(HubError::Timeout))]);
    // A late PUBACK does not settle it twice.
    let id = r.telemetry()[0].0;
    r.feed(&[0x40, 0x02, (id >> 8) as u8, id as u8]);
    assert_eq!(r.sends_done().len(), 1);
}

#[test]
fn a_short_lived_token_is_not_renewed_before_the_minimum_interval() {
    let mut r = Rig::device();
    // A token provider handing out 1 s tokens: the old rule renewed after 1 s, ~1 reconnect/s.
    r.connect_with(1, json!({"$version": 1}));
    r.advance(59_000);
    assert_eq!(r.close_requests, 0, "no renewal in the first minute");
    assert_eq!(r.open_requests, 1);
}

#[test]
fn a_fixed_token_is_never_renewed_and_once_expired_ends_the_client_with_hub_unauthorized() {
    let mut opts = EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap());
    opts.renew_tokens = false;
    let mut r = Rig::new(opts);
    // 50 s keeps the test inside the first keep-alive period (no PINGRESP is scripted).
    r.connect_with(50, json!({"$version": 1}));
    r.advance(49_000);
    assert_eq!(r.close_requests, 0, "no renewal reconnect for a token nothing can renew");
    // The hub ends the connection at the expiry; the reconnect presents the same, expired token.
    r.now += 2_000;
    r.e.handle_closed(r.now, azure_iot_wasm::mqtt::MqttError::ConnectionLost { code: None, reason: String::new() });
    r.pump();
    r.advance_to_open();
    let se = (r.now - 2_000) / 1000 - 1;
    r.e.handle_opened(r.now, format!("SharedAccessSignature sr=x&sig=y&se={se}"));
    r.pump();
    assert!(r.events.contains(&HubEvent::Error(HubError::TokenExpired)));
    assert!(r.events.contains(&HubEvent::Closed));
    assert_eq!(disconnect_codes(&r).last(), Some(&"HUB_UNAUTHORIZED"));
    assert!(r.e.is_closed());
}

//! The plain MQTT client's connection lifecycle (`mqtt::client::ClientEngine`) under simulated
//! time, with no I/O: what `MqttClient` and DPS over MQTT do, decided natively. Transports are
//! numbered by epoch; the server's packets are written out as bytes.

mod hub_rig;

use azure_iot_wasm::mqtt::client::{Action, ClientEngine, ClientEvent, Outcome};
use azure_iot_wasm::mqtt::{MqttError, QoS, SessionOptions};
use hub_rig::{parse, Out};

const CONNACK: [u8; 4] = [0x20, 2, 0, 0];

fn puback(id: u16) -> Vec<u8> {
    let b = id.to_be_bytes();
    vec![0x40, 2, b[0], b[1]]
}

/// The engine, simulated time, and everything it asked for.
struct Client {
    e: ClientEngine,
    now: u64,
    opens: Vec<u32>,
    closes: usize,
    sent: Vec<Out>,
    events: Vec<ClientEvent>,
}

impl Client {
    fn new(opts: SessionOptions) -> Client {
        Client { e: ClientEngine::new(opts), now: 1_000, opens: vec![], closes: 0, sent: vec![], events: vec![] }
    }

    fn default() -> Client {
        Client::new(SessionOptions { client_id: "c1".into(), connect_timeout_ms: 5_000, ..Default::default() })
    }

    fn pump(&mut self) {
        while let Some(a) = self.e.poll_action() {
            match a {
                Action::Open { epoch } => self.opens.push(epoch),
                Action::Transmit(b) => self.sent.extend(parse(&b)),
                Action::Close => self.closes += 1,
            }
        }
        while let Some(ev) = self.e.poll_event() {
            self.events.push(ev);
        }
    }

    /// `connect`, a transport that opens, CONNACK 0: returns the connect op and the epoch.
    fn connect(&mut self) -> (u64, u32) {
        let op = self.e.connect(self.now);
        self.pump();
        let epoch = *self.opens.last().unwrap();
        assert!(self.e.handle_attached(self.now, epoch, false));
        self.e.handle_opened(self.now, epoch);
        self.e.handle_bytes(self.now, epoch, &CONNACK);
        self.pump();
        (op, epoch)
    }

    fn outcome(&self, op: u64) -> Option<&Outcome> {
        self.events.iter().find_map(|e| match e {
            ClientEvent::Finished { op: o, outcome } if *o == op => Some(outcome),
            _ => None,
        })
    }

    fn publishes(&self) -> Vec<(u16, bool)> {
        self.sent
            .iter()
            .filter_map(|o| match o {
                Out::Publish { pkid: Some(id), dup, .. } => Some((*id, *dup)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn connect_opens_a_transport_sends_connect_once_it_is_open_and_finishes_on_connack() {
    let mut c = Client::default();
    let (op, epoch) = c.connect();
    assert_eq!(epoch, 1);
    assert!(matches!(c.sent[0], Out::Connect { .. }));
    assert_eq!(c.outcome(op), Some(&Outcome::Connected(false)));
    assert!(c.e.is_connected());
    // A second connect while connected is refused at once.
    let again = c.e.connect(c.now);
    c.pump();
    assert!(matches!(c.outcome(again), Some(Outcome::Failed(MqttError::InvalidArgument(_)))));
}

#[test]
fn a_transport_that_never_comes_fails_the_connect_at_the_open_deadline_and_a_late_one_is_refused() {
    let mut c = Client::default();
    let op = c.e.connect(c.now);
    c.pump();
    assert_eq!(c.e.poll_timeout(), Some(c.now + 5_000));
    assert_eq!(c.e.open_deadline(), Some(c.now + 5_000), "the bound a driver puts on a socket factory too");
    c.now += 5_000;
    c.e.handle_timeout(c.now);
    c.pump();
    assert_eq!(c.outcome(op), Some(&Outcome::Failed(MqttError::ConnectTimeout)));
    assert!(!c.e.handle_attached(c.now, 1, true), "the late transport of epoch 1 must be dropped");
    assert!(!c.events.iter().any(|e| matches!(e, ClientEvent::Disconnected(_))));
}

#[test]
fn a_socket_that_closes_before_it_opened_fails_the_connect_with_its_close_code() {
    let mut c = Client::default();
    let op = c.e.connect(c.now);
    c.pump();
    assert!(c.e.handle_attached(c.now, 1, false));
    c.e.handle_closed(c.now, 1, Some(1006), String::new());
    c.pump();
    let Some(Outcome::Failed(MqttError::SocketError(m))) = c.outcome(op) else { panic!("{:?}", c.events) };
    assert_eq!(m, "websocket closed before it opened (close code 1006)");
}

#[test]
fn a_qos1_publish_survives_a_drop_and_is_resent_with_dup_on_the_next_connection() {
    let mut c = Client::default();
    let (_, epoch) = c.connect();
    let op = c.e.publish(c.now, "t", b"x", QoS::AtLeastOnce, false);
    c.pump();
    assert_eq!(c.publishes(), vec![(1, false)]);
    c.e.handle_closed(c.now, epoch, Some(1006), "gone".into());
    c.pump();
    assert!(c.events.contains(&ClientEvent::Disconnected(MqttError::ConnectionLost { code: Some(1006), reason: "gone".into() })));
    assert_eq!(c.outcome(op), None, "still waiting for its PUBACK");
    let (_, epoch2) = c.connect();
    assert_eq!(epoch2, 3, "every connection and every loss is a new epoch");
    assert_eq!(c.publishes(), vec![(1, false), (1, true)]);
    // Bytes from the old transport are not this connection's.
    c.e.handle_bytes(c.now, epoch, &puback(1));
    c.pump();
    assert_eq!(c.outcome(op), None);
    c.e.handle_bytes(c.now, epoch2, &puback(1));
    c.pump();
    assert_eq!(c.outcome(op), Some(&Outcome::Done));
}

#[test]
fn without_resend_a_publish_left_unacknowledged_fails_with_the_loss() {
    let mut c = Client::new(SessionOptions { client_id: "dps".into(), resend_on_reconnect: false, ..Default::default() });
    let (_, epoch) = c.connect();
    let op = c.e.publish(c.now, "t", b"x", QoS::AtLeastOnce, false);
    c.pump();
    c.e.handle_closed(c.now, epoch, None, String::new());
    c.pump();
    assert_eq!(c.outcome(op), Some(&Outcome::Failed(MqttError::ConnectionLost { code: None, reason: String::new() })));
}

#[test]
fn a_subscribe_belongs_to_its_connection_and_fails_when_it_drops() {
    let mut c = Client::default();
    let (_, epoch) = c.connect();
    let op = c.e.subscribe(c.now, &[("a/#", QoS::AtLeastOnce)]);
    c.pump();
    c.e.handle_failed(c.now, epoch, MqttError::Protocol("non-binary websocket message"));
    c.pump();
    assert_eq!(c.outcome(op), Some(&Outcome::Failed(MqttError::Protocol("non-binary websocket message"))));
}

#[test]
fn close_sends_disconnect_and_fails_every_publish_with_closed() {
    let mut c = Client::default();
    c.connect();
    let op = c.e.publish(c.now, "t", b"x", QoS::AtLeastOnce, false);
    c.pump();
    c.e.close(c.now);
    c.pump();
    assert!(matches!(c.sent.last(), Some(Out::Disconnect)));
    assert_eq!(c.closes, 1);
    assert_eq!(c.outcome(op), Some(&Outcome::Failed(MqttError::Closed)));
    assert!(c.events.contains(&ClientEvent::Disconnected(MqttError::Closed)));
}

#[test]
fn close_with_no_transport_reports_no_disconnect() {
    let mut c = Client::default();
    let op = c.e.publish(c.now, "t", b"x", QoS::AtLeastOnce, false);
    c.e.close(c.now);
    c.pump();
    assert_eq!(c.outcome(op), Some(&Outcome::Failed(MqttError::Closed)));
    assert!(!c.events.iter().any(|e| matches!(e, ClientEvent::Disconnected(_))));
}

#[test]
fn connack_refused_fails_the_connect_with_its_return_code_and_no_disconnect() {
    let mut c = Client::default();
    let op = c.e.connect(c.now);
    c.pump();
    assert!(c.e.handle_attached(c.now, 1, true));
    c.e.handle_bytes(c.now, 1, &[0x20, 2, 0, 5]);
    c.pump();
    assert_eq!(c.outcome(op), Some(&Outcome::Failed(MqttError::ConnectionRefused(5))));
    assert!(!c.events.iter().any(|e| matches!(e, ClientEvent::Disconnected(_))));
    assert_eq!(c.closes, 1, "the refused transport is closed");
}

#[test]
fn disconnect_sends_disconnect_and_keeps_unacknowledged_publishes_for_the_next_connection() {
    let mut c = Client::default();
    c.connect();
    let op = c.e.publish(c.now, "t", b"kept", QoS::AtLeastOnce, false);
    c.pump();
    assert_eq!(c.e.unacked(), 1);
    c.e.disconnect(c.now);
    c.pump();
    assert!(matches!(c.sent.last(), Some(Out::Disconnect)));
    assert_eq!(c.closes, 1);
    assert!(!c.events.iter().any(|e| matches!(e, ClientEvent::Disconnected(_))), "the caller ended it: no Disconnected");
    assert!(!c.events.iter().any(|e| matches!(e, ClientEvent::Finished { op: o, .. } if *o == op)), "the publish is still pending");
    let (_, _) = c.connect();
    let resent: Vec<bool> = c.sent.iter().filter_map(|o| match o { Out::Publish { dup, .. } => Some(*dup), _ => None }).collect();
    assert_eq!(resent, vec![false, true], "re-sent with DUP on the next connection");
    let id = c.sent.iter().rev().find_map(|o| match o { Out::Publish { pkid, .. } => *pkid, _ => None }).unwrap();
    c.e.handle_bytes(c.now, *c.opens.last().unwrap(), &puback(id));
    c.pump();
    assert!(c.events.contains(&ClientEvent::Finished { op, outcome: Outcome::Done }));
}

#[test]
fn try_publish_refuses_at_once_and_a_qos0_publish_reports_nothing() {
    let mut c = Client::new(SessionOptions { client_id: "c1".into(), max_inflight: 1, max_queued: 1, ..Default::default() });
    c.connect();
    c.events.clear();
    assert_eq!(c.e.try_publish(c.now, "t", b"0", QoS::AtMostOnce, false), Ok(None));
    assert!(matches!(c.e.try_publish(c.now, "t", b"1", QoS::AtLeastOnce, false), Ok(Some(_))));
    assert!(matches!(c.e.try_publish(c.now, "t", b"2", QoS::AtLeastOnce, false), Ok(Some(_))));
    assert_eq!(c.e.try_publish(c.now, "t", b"3", QoS::AtLeastOnce, false), Err(MqttError::QueueFull));
    c.pump();
    assert!(!c.events.iter().any(|e| matches!(e, ClientEvent::Finished { .. })), "{:?}", c.events);
}

#[test]
fn abort_ends_an_attempt_the_caller_gave_up_on_and_is_a_no_op_without_one() {
    let mut c = Client::default();
    c.e.abort(c.now, MqttError::ConnectTimeout);
    c.pump();
    assert!(c.events.is_empty() && c.closes == 0);
    let op = c.e.connect(c.now);
    c.pump();
    c.e.abort(c.now, MqttError::ConnectTimeout);
    c.pump();
    assert_eq!(c.closes, 1);
    assert!(c.events.contains(&ClientEvent::Finished { op, outcome: Outcome::Failed(MqttError::ConnectTimeout) }));
    assert!(c.e.is_idle());
}

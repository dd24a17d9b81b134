#![cfg(not(target_arch = "wasm32"))]
//! The session under simulated time: handshake, keep-alive, in-flight window, packet-id
//! wrap, re-send after reconnect (or, with `resend_on_reconnect` off, discard), inbound acks,
//! and death on protocol errors.

use azure_iot_wasm::mqtt::codec::{decode, encode_puback};
use azure_iot_wasm::mqtt::{Event, MqttError, QoS, Session, SessionOptions, State};

/// A fake server's view of what the client sent: decoded by hand (the codec decodes only
/// server packets), as (packet type, packet id or 0, dup flag).
fn sent(bytes: &[u8]) -> Vec<(u8, u16, bool)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let first = bytes[i];
        let (mut len, mut shift, mut j) = (0usize, 0, i + 1);
        loop {
            len |= ((bytes[j] & 0x7f) as usize) << shift;
            shift += 7;
            j += 1;
            if bytes[j - 1] & 0x80 == 0 {
                break;
            }
        }
        let body = &bytes[j..j + len];
        let kind = first >> 4;
        let pkid = match kind {
            3 if first & 0x06 != 0 => {
                let tl = u16::from_be_bytes([body[0], body[1]]) as usize;
                u16::from_be_bytes([body[2 + tl], body[3 + tl]])
            }
            4 | 8 | 10 => u16::from_be_bytes([body[0], body[1]]),
            _ => 0,
        };
        out.push((kind, pkid, first & 0x08 != 0));
        i = j + len;
    }
    out
}

const CONNECT: u8 = 1;
const PUBLISH: u8 = 3;
const PUBACK: u8 = 4;
const SUBSCRIBE: u8 = 8;
const PINGREQ: u8 = 12;
const DISCONNECT: u8 = 14;

fn options() -> SessionOptions {
    SessionOptions { client_id: "dev".into(), keep_alive_secs: 10, max_inflight: 2, ..Default::default() }
}

fn connected(opts: SessionOptions) -> Session {
    let mut s = Session::new(opts);
    s.handle_connected(0);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(CONNECT, 0, false)]);
    s.handle_bytes(0, &[0x20, 0x02, 0x00, 0x00]);
    assert_eq!(s.poll_event(), Some(Event::Connected { session_present: false }));
    s
}

fn puback(id: u16) -> Vec<u8> {
    let mut b = Vec::new();
    // PUBACK has the same shape in both directions: 40 02 <id>.
    encode_puback(&mut b, id);
    assert!(decode(&b, 100).is_ok());
    b
}

fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

#[test]
fn connack_refused_with_5_kills_the_connection_with_not_authorized() {
    let mut s = Session::new(options());
    s.handle_connected(0);
    s.poll_transmit();
    s.handle_bytes(3, &[0x20, 0x02, 0x00, 0x05]);
    let ev = s.poll_event();
    assert_eq!(ev, Some(Event::Dead(MqttError::ConnectionRefused(5))));
    if let Some(Event::Dead(e)) = ev {
        assert_eq!(e.code(), "NOT_AUTHORIZED");
        assert_eq!(e.status(), Some(5));
    }
    assert_eq!(s.state(), State::Disconnected);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn a_missing_connack_times_out_after_connect_timeout() {
    let mut s = Session::new(SessionOptions { connect_timeout_ms: 5000, ..options() });
    s.handle_connected(1000);
    assert_eq!(s.poll_timeout(), Some(6000));
    s.handle_timeout(5999);
    assert_eq!(s.poll_event(), None);
    s.handle_timeout(6000);
    assert_eq!(s.poll_event(), Some(Event::Dead(MqttError::ConnectTimeout)));
}

#[test]
fn a_packet_before_connack_is_a_protocol_error() {
    let mut s = Session::new(options());
    s.handle_connected(0);
    s.handle_bytes(0, &[0xd0, 0x00]);
    assert!(matches!(s.poll_event(), Some(Event::Dead(MqttError::Protocol(_)))));
}

#[test]
fn keep_alive_sends_pingreq_when_idle_and_pingresp_keeps_the_connection() {
    let mut s = connected(options());
    assert_eq!(s.poll_timeout(), Some(10_000));
    s.handle_timeout(10_000);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PINGREQ, 0, false)]);
    // Waiting for PINGRESP: up to the keep-alive period.
    assert_eq!(s.poll_timeout(), Some(20_000));
    s.handle_bytes(10_050, &[0xd0, 0x00]);
    assert_eq!(s.poll_timeout(), Some(20_000), "next ping 10 s after the last packet sent");
    for k in 2..6u64 {
        s.handle_timeout(k * 10_000);
        assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PINGREQ, 0, false)], "period {k}");
        s.handle_bytes(k * 10_000 + 5, &[0xd0, 0x00]);
    }
    assert_eq!(s.poll_event(), None);
    assert!(s.is_connected());
}

#[test]
fn traffic_postpones_the_ping() {
    let mut s = connected(options());
    s.publish(7000, "t", b"", QoS::AtMostOnce, false).unwrap();
    s.poll_transmit();
    assert_eq!(s.poll_timeout(), Some(17_000));
    s.handle_timeout(10_000);
    assert_eq!(s.poll_transmit(), None);
}

#[test]
fn no_pingresp_in_time_declares_the_connection_dead() {
    let mut s = connected(SessionOptions { ping_timeout_ms: 3000, ..options() });
    s.handle_timeout(10_000);
    s.poll_transmit();
    assert_eq!(s.poll_timeout(), Some(13_000));
    s.handle_timeout(12_999);
    assert_eq!(s.poll_event(), None);
    s.handle_timeout(13_000);
    let dead = s.poll_event();
    assert_eq!(dead, Some(Event::Dead(MqttError::KeepAliveTimeout)));
    assert_eq!(s.state(), State::Disconnected);
}

#[test]
fn keep_alive_zero_arms_no_timer() {
    let s = connected(SessionOptions { keep_alive_secs: 0, ..options() });
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn one_turn_of_publishes_is_coalesced_into_one_buffer() {
    let mut s = connected(SessionOptions { max_inflight: 10, ..options() });
    for _ in 0..3 {
        s.publish(1, "t", b"x", QoS::AtLeastOnce, false).unwrap();
    }
    s.publish(1, "t", b"x", QoS::AtMostOnce, false).unwrap();
    let out = s.poll_transmit().unwrap();
    assert_eq!(sent(&out), vec![(PUBLISH, 1, false), (PUBLISH, 2, false), (PUBLISH, 3, false), (PUBLISH, 0, false)]);
    assert_eq!(s.poll_transmit(), None);
}

#[test]
fn the_window_holds_max_inflight_and_pubacks_release_queued_publishes_in_order() {
    let mut s = connected(options());
    let ids: Vec<u16> = (0..5).map(|_| s.publish(1, "t", b"x", QoS::AtLeastOnce, false).unwrap().unwrap()).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PUBLISH, 1, false), (PUBLISH, 2, false)]);
    s.handle_bytes(2, &puback(2));
    assert_eq!(events(&mut s), vec![Event::PubAck(2)]);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PUBLISH, 3, false)]);
    // Both acks in one frame free two slots.
    let mut two = puback(1);
    two.extend(puback(3));
    s.handle_bytes(3, &two);
    assert_eq!(events(&mut s), vec![Event::PubAck(1), Event::PubAck(3)]);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PUBLISH, 4, false), (PUBLISH, 5, false)]);
    assert_eq!(s.unacked(), 2);
    // A duplicate ack is ignored.
    s.handle_bytes(4, &puback(2));
    assert_eq!(events(&mut s), vec![]);
}

#[test]
fn a_full_queue_refuses_more_publishes() {
    let mut s = connected(SessionOptions { max_inflight: 1, max_queued: 2, ..options() });
    for _ in 0..3 {
        s.publish(1, "t", b"x", QoS::AtLeastOnce, false).unwrap();
    }
    assert_eq!(s.publish(1, "t", b"x", QoS::AtLeastOnce, false), Err(MqttError::QueueFull));
}

#[test]
fn packet_ids_wrap_from_65535_to_1_and_skip_ids_still_in_flight() {
    let mut s = connected(SessionOptions { max_inflight: 10, ..options() });
    assert_eq!(s.publish(1, "t", b"", QoS::AtLeastOnce, false).unwrap(), Some(1));
    assert_eq!(s.publish(1, "t", b"", QoS::AtLeastOnce, false).unwrap(), Some(2));
    s.handle_bytes(1, &puback(2));
    s.debug_set_next_packet_id(65_534);
    let ids: Vec<u16> = (0..4).map(|_| s.publish(1, "t", b"", QoS::AtLeastOnce, false).unwrap().unwrap()).collect();
    // 1 is still in flight, 2 was freed by its PUBACK.
    assert_eq!(ids, vec![65_534, 65_535, 2, 3]);
    let subscribe = s.subscribe(2, &[("a", QoS::AtMostOnce)]).unwrap();
    assert_eq!(subscribe, 4);
}

#[test]
fn qos0_publish_needs_a_connection_but_qos1_is_queued_until_connack() {
    let mut s = Session::new(options());
    assert_eq!(s.publish(0, "t", b"", QoS::AtMostOnce, false), Err(MqttError::NotConnected));
    assert_eq!(s.publish(0, "t", b"", QoS::AtLeastOnce, false), Ok(Some(1)));
    assert_eq!(s.poll_transmit(), None);
    s.handle_connected(0);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(CONNECT, 0, false)]);
    s.handle_bytes(1, &[0x20, 0x02, 0x00, 0x00]);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PUBLISH, 1, false)]);
}

#[test]
fn unacked_publishes_are_resent_with_dup_after_reconnect_before_queued_ones() {
    let mut s = connected(options());
    for _ in 0..3 {
        s.publish(1, "t", b"x", QoS::AtLeastOnce, false).unwrap();
    }
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PUBLISH, 1, false), (PUBLISH, 2, false)]);
    s.handle_disconnected(5);
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(s.unacked(), 3);
    s.publish(6, "t", b"x", QoS::AtLeastOnce, false).unwrap();
    s.handle_connected(100);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(CONNECT, 0, false)]);
    s.handle_bytes(101, &[0x20, 0x02, 0x01, 0x00]);
    assert_eq!(s.poll_event(), Some(Event::Connected { session_present: true }));
    // The two in flight again with DUP, in order; the window is full so 3 and 4 wait.
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PUBLISH, 1, true), (PUBLISH, 2, true)]);
    s.handle_bytes(102, &puback(1));
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PUBLISH, 3, false)]);
}

#[test]
fn pending_subscribes_are_forgotten_on_disconnect_and_their_ids_freed() {
    let mut s = connected(options());
    assert_eq!(s.subscribe(1, &[("a/#", QoS::AtLeastOnce)]), Ok(1));
    s.handle_disconnected(2);
    assert_eq!(s.subscribe(2, &[("a/#", QoS::AtLeastOnce)]), Err(MqttError::NotConnected));
    s.handle_connected(3);
    s.handle_bytes(3, &[0x20, 0x02, 0x00, 0x00]);
    s.poll_transmit();
    s.debug_set_next_packet_id(1);
    assert_eq!(s.subscribe(4, &[("a/#", QoS::AtLeastOnce)]), Ok(1));
    // A SUBACK for the forgotten id of the old connection... arrives for the new one: fine.
    s.handle_bytes(5, &[0x90, 0x03, 0x00, 0x01, 0x01]);
    assert_eq!(events(&mut s), vec![Event::Connected { session_present: false }, Event::SubAck { pkid: 1, results: vec![Some(1)] }]);
}

#[test]
fn suback_reports_each_filter_including_failures() {
    let mut s = connected(options());
    let id = s.subscribe(1, &[("a", QoS::AtLeastOnce), ("b", QoS::AtMostOnce)]).unwrap();
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(SUBSCRIBE, id, false)]);
    s.handle_bytes(2, &[0x90, 0x04, 0x00, id as u8, 0x01, 0x80]);
    assert_eq!(s.poll_event(), Some(Event::SubAck { pkid: id, results: vec![Some(1), None] }));
}

#[test]
fn a_suback_with_the_wrong_number_of_codes_is_a_protocol_error() {
    let mut s = connected(options());
    let id = s.subscribe(1, &[("a", QoS::AtLeastOnce), ("b", QoS::AtMostOnce)]).unwrap();
    s.handle_bytes(2, &[0x90, 0x03, 0x00, id as u8, 0x01]);
    assert!(matches!(s.poll_event(), Some(Event::Dead(MqttError::Protocol(_)))));
}

#[test]
fn unsubscribe_completes_on_unsuback() {
    let mut s = connected(options());
    let id = s.unsubscribe(1, &["a"]).unwrap();
    s.handle_bytes(2, &[0xb0, 0x02, 0x00, id as u8]);
    assert_eq!(s.poll_event(), Some(Event::UnsubAck(id)));
}

#[test]
fn inbound_qos1_is_acked_only_when_the_caller_says_and_only_once() {
    let mut s = connected(options());
    s.handle_bytes(1, &[0x32, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x09]);
    let Some(Event::Publish(p)) = s.poll_event() else { panic!("publish") };
    assert_eq!(p.pkid, Some(9));
    assert_eq!(s.poll_transmit(), None, "no automatic PUBACK");
    s.ack(2, 9);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PUBACK, 9, false)]);
    s.ack(3, 9);
    assert_eq!(s.poll_transmit(), None);
}

#[test]
fn an_ack_for_a_message_of_an_earlier_connection_is_not_sent() {
    let mut s = connected(options());
    s.handle_bytes(1, &[0x32, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x09]);
    s.handle_disconnected(2);
    s.handle_connected(3);
    s.handle_bytes(3, &[0x20, 0x02, 0x00, 0x00]);
    s.poll_transmit();
    s.ack(4, 9);
    assert_eq!(s.poll_transmit(), None);
}

#[test]
fn inbound_qos2_kills_the_connection() {
    let mut s = connected(options());
    s.handle_bytes(1, &[0x34, 0x07, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x09]);
    assert_eq!(s.poll_event(), Some(Event::Dead(MqttError::UnsupportedQos)));
    // Further bytes are ignored until a new connection.
    s.handle_bytes(2, &[0xd0, 0x00]);
    assert_eq!(s.poll_event(), None);
}

#[test]
fn disconnect_sends_disconnect_and_keeps_unacked_publishes() {
    let mut s = connected(options());
    s.publish(1, "t", b"x", QoS::AtLeastOnce, false).unwrap();
    s.disconnect(2);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PUBLISH, 1, false), (DISCONNECT, 0, false)]);
    assert_eq!(s.state(), State::Disconnected);
    assert_eq!(s.unacked(), 1);
}

#[test]
fn a_renewed_password_goes_in_the_next_connect() {
    let mut s = Session::new(SessionOptions { password: Some("old".into()), ..options() });
    s.set_password(Some("new-token".into()));
    s.handle_connected(0);
    let out = s.poll_transmit().unwrap();
    assert!(out.ends_with(b"\x00\x09new-token"));
}

fn no_resend() -> SessionOptions {
    SessionOptions { resend_on_reconnect: false, ..options() }
}

fn discarded(s: &mut Session) -> Vec<u16> {
    std::iter::from_fn(|| s.poll_discarded()).collect()
}

/// Reconnects at `now` and returns what went out after the CONNACK.
fn reconnect(s: &mut Session, now: u64) -> Vec<(u8, u16, bool)> {
    s.handle_connected(now);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(CONNECT, 0, false)]);
    s.handle_bytes(now + 1, &[0x20, 0x02, 0x00, 0x00]);
    s.poll_transmit().map(|b| sent(&b)).unwrap_or_default()
}

#[test]
fn with_resend_off_a_closed_connection_drops_its_unacked_publishes_and_reports_them() {
    // MQTT 3.1.1 §3.1.2.4: a CleanSession=1 client discards its session state; DPS must not see
    // an old register/poll (old `$rid`) again with DUP after a close (protocol §3, §1.7).
    let mut s = connected(no_resend());
    for _ in 0..3 {
        s.publish(1, "t", b"x", QoS::AtLeastOnce, false).unwrap();
    }
    s.disconnect(2);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PUBLISH, 1, false), (PUBLISH, 2, false), (DISCONNECT, 0, false)]);
    assert_eq!(s.unacked(), 0);
    assert_eq!(discarded(&mut s), vec![1, 2, 3], "in flight then queued, oldest first");
    assert_eq!(reconnect(&mut s, 1_000), vec![], "nothing is re-sent");
    // A late PUBACK of the old connection settles nothing.
    s.handle_bytes(1_002, &puback(1));
    assert_eq!(events(&mut s), vec![Event::Connected { session_present: false }]);
}

#[test]
fn with_resend_off_a_dead_connection_drops_its_publishes_but_one_made_while_offline_is_sent() {
    let mut s = connected(no_resend());
    s.publish(1, "t", b"x", QoS::AtLeastOnce, false).unwrap();
    s.poll_transmit();
    s.handle_timeout(10_001);
    assert_eq!(sent(&s.poll_transmit().unwrap()), vec![(PINGREQ, 0, false)]);
    s.handle_timeout(20_001);
    assert_eq!(s.poll_event(), Some(Event::Dead(MqttError::KeepAliveTimeout)));
    assert_eq!(discarded(&mut s), vec![1]);
    s.handle_disconnected(20_002);
    let id = s.publish(20_003, "t", b"y", QoS::AtLeastOnce, false).unwrap().unwrap();
    assert_eq!(reconnect(&mut s, 21_000), vec![(PUBLISH, id, false)], "sent fresh, not as a DUP");
    assert_eq!(discarded(&mut s), vec![]);
}

#[test]
fn by_default_unacked_publishes_survive_a_close_for_the_next_connection() {
    // The hub client connects with CleanSession=0 and counts on the DUP re-send (§5.3).
    let mut s = connected(options());
    s.publish(1, "t", b"x", QoS::AtLeastOnce, false).unwrap();
    s.disconnect(2);
    s.poll_transmit();
    assert_eq!(discarded(&mut s), vec![]);
    assert_eq!(reconnect(&mut s, 100), vec![(PUBLISH, 1, true)]);
}

#[test]
fn discard_pending_drops_every_unacked_publish_and_frees_its_id() {
    let mut s = connected(options());
    for _ in 0..3 {
        s.publish(1, "t", b"x", QoS::AtLeastOnce, false).unwrap();
    }
    s.handle_disconnected(2);
    assert_eq!(s.discard_pending(), 3);
    assert_eq!((s.unacked(), discarded(&mut s)), (0, vec![1, 2, 3]));
    assert_eq!(s.discard_pending(), 0);
    assert_eq!(reconnect(&mut s, 100), vec![]);
    s.debug_set_next_packet_id(1);
    assert_eq!(s.publish(200, "t", b"x", QoS::AtLeastOnce, false), Ok(Some(1)), "id 1 is free again");
}

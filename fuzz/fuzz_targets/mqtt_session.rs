//! The session driven by arbitrary server bytes interleaved with arbitrary caller actions
//! and clock jumps: it must never panic, whatever the server sends.
#![no_main]

use azure_iot_wasm::mqtt::{Event, QoS, Session, SessionOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut s = Session::new(SessionOptions {
        client_id: "fuzz".into(),
        keep_alive_secs: 2,
        max_inflight: 3,
        max_queued: 5,
        max_packet_size: 4096,
        ..Default::default()
    });
    let mut now = 0u64;
    s.handle_connected(now);
    let mut input = data;
    // Script: an op byte, then (for "bytes") a length byte and that many server bytes.
    while let Some((&op, rest)) = input.split_first() {
        input = rest;
        match op % 12 {
            0..=4 => {
                let n = input.first().map_or(0, |&n| usize::from(n)).min(input.len().saturating_sub(1));
                let chunk = input.get(1..1 + n).unwrap_or_default();
                s.handle_bytes(now, chunk);
                input = input.get(1 + n..).unwrap_or_default();
            }
            5 => {
                let _ = s.publish(now, "devices/d/messages/events/", &[op], QoS::AtLeastOnce, false);
            }
            6 => {
                let _ = s.publish(now, "t", b"", QoS::AtMostOnce, op & 0x10 != 0);
            }
            7 => {
                let _ = s.subscribe(now, &[("a/#", QoS::AtLeastOnce), ("b", QoS::AtMostOnce)]);
            }
            8 => {
                let _ = s.unsubscribe(now, &["a/#"]);
            }
            9 => s.ack(now, u16::from(op) << 4 | u16::from(op & 0x0f)),
            10 => {
                now += u64::from(op) * 37;
                s.handle_timeout(now);
            }
            _ => {
                if op & 0x80 != 0 {
                    s.handle_disconnected(now);
                    s.handle_connected(now);
                } else {
                    s.disconnect(now);
                }
            }
        }
        let _ = s.poll_transmit();
        while let Some(ev) = s.poll_event() {
            if let Event::Dead(_) = ev {
                s.handle_disconnected(now);
                s.handle_connected(now);
            }
        }
        if let Some(t) = s.poll_timeout() {
            if t <= now {
                s.handle_timeout(now);
            }
        }
    }
});

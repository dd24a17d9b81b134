#![cfg(not(target_arch = "wasm32"))]
//! The streaming decoder over packets split across, and coalesced within, transport frames
//! (MQTT 3.1.1 §6: WebSocket frame boundaries need not match packet boundaries).

use azure_iot_wasm::mqtt::codec::Decoder;
use azure_iot_wasm::mqtt::{Incoming, MqttError};

fn stream() -> (Vec<u8>, Vec<Incoming>) {
    let mut bytes = vec![0x20, 0x02, 0x00, 0x00, 0x90, 0x03, 0x00, 0x01, 0x01];
    let mut publish = vec![0x32, 0x80, 0x01, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07];
    publish.extend(std::iter::repeat_n(b'z', 128 - 7));
    bytes.extend(&publish);
    bytes.extend([0xd0, 0x00, 0x40, 0x02, 0x00, 0x05]);
    let mut d = Decoder::new(1 << 20);
    d.push(&bytes);
    let mut packets = Vec::new();
    while let Some(p) = d.next_packet().unwrap() {
        packets.push(p);
    }
    assert_eq!(packets.len(), 5);
    assert_eq!(d.buffered(), 0);
    (bytes, packets)
}

fn decode_in_chunks(bytes: &[u8], sizes: impl Fn(usize) -> usize) -> Vec<Incoming> {
    let mut d = Decoder::new(1 << 20);
    let mut out = Vec::new();
    let mut i = 0;
    let mut n = 0;
    while i < bytes.len() {
        let end = (i + sizes(n).max(1)).min(bytes.len());
        d.push(&bytes[i..end]);
        while let Some(p) = d.next_packet().unwrap() {
            out.push(p);
        }
        i = end;
        n += 1;
    }
    assert_eq!(d.buffered(), 0);
    out
}

#[test]
fn coalesced_packets_in_one_frame_all_decode_in_order() {
    let (_, packets) = stream();
    assert!(matches!(packets[0], Incoming::ConnAck { .. }));
    assert!(matches!(packets[1], Incoming::SubAck { pkid: 1, .. }));
    assert!(matches!(&packets[2], Incoming::Publish(p) if p.payload.len() == 121 && p.pkid == Some(7)));
    assert_eq!(packets[3], Incoming::PingResp);
    assert_eq!(packets[4], Incoming::PubAck(5));
}

#[test]
fn one_byte_frames_give_the_same_packets() {
    let (bytes, expected) = stream();
    assert_eq!(decode_in_chunks(&bytes, |_| 1), expected);
}

#[test]
fn every_split_point_gives_the_same_packets() {
    let (bytes, expected) = stream();
    for cut in 0..bytes.len() {
        assert_eq!(decode_in_chunks(&bytes, |n| if n == 0 { cut } else { bytes.len() }), expected, "cut {cut}");
    }
}

#[test]
fn irregular_frames_that_split_the_remaining_length_varint_give_the_same_packets() {
    let (bytes, expected) = stream();
    for seed in 1..40usize {
        assert_eq!(decode_in_chunks(&bytes, |n| (n * 7 + seed) % 13 + 1), expected, "seed {seed}");
    }
}

#[test]
fn an_oversized_packet_is_refused_before_its_body_arrives() {
    let mut d = Decoder::new(100);
    d.push(&[0x30, 0xe8, 0x07]); // remaining length 1000
    assert_eq!(d.next_packet(), Err(MqttError::PacketTooLarge));
}

#[test]
fn clear_forgets_a_partial_packet() {
    let mut d = Decoder::new(100);
    d.push(&[0x20, 0x02, 0x00]);
    assert_eq!(d.next_packet(), Ok(None));
    d.clear();
    d.push(&[0xd0, 0x00]);
    assert_eq!(d.next_packet(), Ok(Some(Incoming::PingResp)));
}

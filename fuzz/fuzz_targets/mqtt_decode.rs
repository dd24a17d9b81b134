//! The MQTT decoder on arbitrary bytes: never panics, never reports using more bytes than
//! it was given, and decodes the same packets whether the bytes come at once or in pieces.
#![no_main]

use azure_iot_wasm::mqtt::codec::{decode, Decoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks a chunk size for the streaming pass; a small limit exercises
    // PacketTooLarge.
    let Some((&chunk, data)) = data.split_first() else { return };
    let limit = 64 + usize::from(chunk) * 16;

    let mut whole = Vec::new();
    let mut rest = data;
    let whole_err = loop {
        match decode(rest, limit) {
            Ok(Some((p, used))) => {
                assert!(used > 0 && used <= rest.len());
                whole.push(p);
                rest = &rest[used..];
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };

    let mut d = Decoder::new(limit);
    let mut pieces = Vec::new();
    let mut piece_err = None;
    'outer: for part in data.chunks(usize::from(chunk % 17) + 1) {
        d.push(part);
        loop {
            match d.next_packet() {
                Ok(Some(p)) => pieces.push(p),
                Ok(None) => break,
                Err(e) => {
                    piece_err = Some(e);
                    break 'outer;
                }
            }
        }
    }
    assert_eq!(whole, pieces);
    assert_eq!(whole_err, piece_err);
});

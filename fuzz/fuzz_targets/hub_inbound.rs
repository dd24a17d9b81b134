//! Hub topic classification and property bags on arbitrary text: `classify` (C2D, methods,
//! twin answers, desired notifications) and `decode_bag` never panic, and a bag the encoder
//! wrote decodes to the same names and values.
#![no_main]

use azure_iot_wasm::hub::{classify, decode_bag, encode_bag};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = classify(&text);
    let _ = decode_bag(&text);
    // Round trip: names and values split from the input, encoded, then decoded.
    let pairs: Vec<(String, Option<String>)> = text
        .split('\u{1}')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('\u{2}') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (p.to_string(), None),
        })
        .collect();
    let bag = encode_bag(pairs.iter().map(|(k, v)| (k.as_str(), v.as_deref())));
    assert_eq!(decode_bag(&bag), pairs, "bag {bag}");
});

//! `crate::json` on arbitrary bytes: `Value::parse` never panics, and what it accepts prints
//! as JSON that parses back to the same value and prints the same again.
#![no_main]

use azure_iot_wasm::json::Value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(v) = Value::parse(data) {
        let text = v.to_string();
        let again = Value::parse(text.as_bytes()).expect("printed JSON parses");
        assert_eq!(again.to_string(), text);
    }
});

//! The core's own JSON (`azure_iot_wasm::json`), checked against serde_json as the reference.
#![cfg(not(target_arch = "wasm32"))]

use azure_iot_wasm::json::{Map, Value};

fn parse(s: &str) -> Option<Value> {
    Value::parse(s.as_bytes())
}

#[test]
fn a_document_reads_back_with_members_in_order_and_numbers_as_written() {
    let v = parse(r#" {"b": [1, -2.50, 3e+2, true, null], "a": {"x": "y"}, "n": -0} "#).unwrap();
    assert_eq!(v.to_string(), r#"{"b":[1,-2.50,3e+2,true,null],"a":{"x":"y"},"n":-0}"#);
    assert_eq!(v.get("a").and_then(|a| a.get("x")).and_then(Value::as_str), Some("y"));
    assert_eq!(parse("42").and_then(|n| n.as_i64()), Some(42));
    assert_eq!(parse("4.0").and_then(|n| n.as_i64()), None);
    assert_eq!(parse("99999999999999999999").and_then(|n| n.as_i64()), None);
}

#[test]
fn escapes_decode_and_strings_are_written_back_escaped() {
    let v = parse(r#""q\" b\\ s\/ \b\f\n\r\t \u00e9 \ud83d\ude00 \u0001""#).unwrap();
    assert_eq!(v.as_str(), Some("q\" b\\ s/ \u{8}\u{c}\n\r\t é 😀 \u{1}"));
    assert_eq!(v.to_string(), r#""q\" b\\ s/ \b\f\n\r\t é 😀 \u0001""#);
}

#[test]
fn malformed_text_is_refused_not_a_panic() {
    for bad in [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\"}", "{a:1}", "01", "1.", ".5", "-", "1e", "+1",
        "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"a\u{1}b\"", "[1] [2]", "1 2", "NaN", "Infinity",
    ] {
        assert_eq!(parse(bad), None, "{bad:?}");
    }
    assert_eq!(Value::parse(&[b'"', 0xff, b'"']), None);
}

#[test]
fn nesting_is_capped_so_a_deep_document_cannot_overflow_the_stack() {
    let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
    assert!(parse(&ok).is_some());
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(parse(&deep), None);
    let deep_obj = "{\"a\":".repeat(100_000);
    assert_eq!(parse(&deep_obj), None);
}

#[test]
fn objects_compare_without_regard_to_member_order_and_a_repeated_name_reads_as_the_last() {
    assert_eq!(parse(r#"{"a":1,"b":[2]}"#), parse(r#"{"b":[2],"a":1}"#));
    assert_ne!(parse(r#"{"a":1}"#), parse(r#"{"a":1,"b":2}"#));
    assert_ne!(parse("[1,2]"), parse("[2,1]"));
    let dup = parse(r#"{"a":1,"a":2}"#).unwrap();
    assert_eq!(dup.get("a").and_then(Value::as_i64), Some(2));
    let mut m = Map::new();
    m.insert("k".into(), Value::from(1));
    m.insert("k".into(), Value::from("v"));
    assert_eq!(Value::Object(m).to_string(), r#"{"k":"v"}"#);
}

/// xorshift, so the generated cases are the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn generated_texts_are_accepted_exactly_when_serde_json_accepts_them_and_mean_the_same() {
    const PIECES: &[&str] = &[
        "{", "}", "[", "]", ",", ":", " ", "\"k\"", "\"\\u00e9\"", "\"\\n\"", "1", "-0", "2.5", "1e3", "0.1E-2",
        "true", "false", "null", "\"", "\\", "01", "-", ".", "e",
    ];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut accepted = 0;
    for _ in 0..50_000 {
        let n = rng.next() % 10;
        let text: String = (0..n).map(|_| PIECES[(rng.next() % PIECES.len() as u64) as usize]).collect();
        let ours = parse(&text);
        let reference = match serde_json::from_str::<serde_json::Value>(&text) {
            // Numbers stay text here, so `1e400` is kept where serde_json gives up on it.
            Err(e) if e.to_string().starts_with("number out of range") => continue,
            r => r.ok(),
        };
        assert_eq!(ours.is_some(), reference.is_some(), "{text:?}");
        if let (Some(ours), Some(reference)) = (ours, reference) {
            accepted += 1;
            let back: serde_json::Value = serde_json::from_str(&ours.to_string()).unwrap();
            assert_eq!(back, reference, "{text:?}");
        }
    }
    assert!(accepted > 1_000, "only {accepted} generated texts were JSON");
}

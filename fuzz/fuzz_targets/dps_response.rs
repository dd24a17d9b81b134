//! The DPS response readers on arbitrary input: the operation body, the error body, the
//! `Retry-After` value and the MQTT response topic never panic, and a whole `Provisioning`
//! fed the input as its answer keeps answering `poll_step`.
#![no_main]

use azure_iot_wasm::dps::mqtt_topics::parse_response_topic;
use azure_iot_wasm::dps::{parse_error, parse_operation, parse_retry_after, Policy, Provisioning, Response, Step};
use azure_iot_wasm::retry::Jitter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&status, body)) = data.split_first() else { return };
    let _ = parse_operation(body);
    let _ = parse_error(200 + u16::from(status), body);
    let text = String::from_utf8_lossy(body);
    let _ = parse_retry_after(&text);
    let _ = parse_response_topic(&text);

    let mut p = Provisioning::new(Policy::default());
    if let Step::Send { .. } = p.poll_step(0) {
        let retry_after = text.split('\n').next();
        p.handle_response(1, Jitter::Fraction(0.5), Response { status: 100 + u16::from(status) * 2, retry_after, body });
        let _ = p.poll_step(2);
        while p.poll_event().is_some() {}
    }
});

//! The DPS core never panics: arbitrary bytes through every parser, and arbitrary response
//! sequences through the state machine, which must always end (done or failed) before the
//! deadline. A small deterministic generator stands in for a fuzzer.
#![cfg(not(target_arch = "wasm32"))]

use azure_iot_wasm::dps::mqtt_topics::parse_response_topic;
use azure_iot_wasm::dps::*;
use azure_iot_wasm::retry::Jitter;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
    fn bytes(&mut self, alphabet: &[u8], max: usize) -> Vec<u8> {
        let n = (self.next() as usize) % (max + 1);
        (0..n).map(|_| alphabet[(self.next() as usize) % alphabet.len()]).collect()
    }
}

const PIECES: &[&str] = &[
    "{",
    "}",
    "\"",
    ":",
    ",",
    "[",
    "]",
    "operationId",
    "status",
    "assigning",
    "assigned",
    "failed",
    "disabled",
    "registrationState",
    "errorCode",
    "deviceId",
    "assignedHub",
    "payload",
    "null",
    "1e400",
    "-1",
    "\u{1F600}",
    "\\u0000",
];

#[test]
fn parsers_accept_any_input_without_panicking() {
    let mut g = Lcg(7);
    let alphabet: Vec<u8> = (0u8..=255).collect();
    for _ in 0..20_000 {
        let raw = g.bytes(&alphabet, 64);
        let _ = parse_operation(&raw);
        let _ = parse_error(500, &raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let _ = parse_retry_after(&text);
        let _ = Endpoint::parse(&text);
        let _ = parse_response_topic(&format!("$dps/registrations/res/{text}"));
        let json: String = (0..(g.next() % 12)).map(|_| g.pick(PIECES)).collect();
        let _ = parse_operation(json.as_bytes());
        let _ = Registration::new("0ne00000A0A", "dev").and_then(|r| r.with_payload_json(&json));
    }
}

#[test]
fn any_response_sequence_ends_before_the_deadline() {
    let bodies = [
        r#"{"operationId":"1.a.b","status":"assigning"}"#,
        r#"{"operationId":"1.a.b","status":"assigned","registrationState":{"deviceId":"d","assignedHub":"h"}}"#,
        r#"{"operationId":"","status":"disabled"}"#,
        r#"{"operationId":"1.a.b","status":"failed","registrationState":{"errorCode":400207}}"#,
        r#"{"status":"assigning"}"#,
        "",
        "garbage",
    ];
    let statuses = [200u16, 202, 202, 202, 429, 500, 503, 401, 404, 0, 999];
    let retry_afters = [None, Some("0"), Some("1"), Some("3"), Some("x"), Some("100000")];
    let mut g = Lcg(42);
    for _ in 0..2_000 {
        let policy =
            Policy { timeout_ms: 1 + g.next() % 200_000, max_retries: (g.next() % 12) as u32, ..Policy::default() };
        let mut p = Provisioning::new(policy);
        let mut now = g.next() % 1_000_000;
        let deadline = now + policy.timeout_ms;
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(steps < 10_000, "the machine keeps going");
            match p.poll_step(now) {
                Step::Send { timeout_at_ms, .. } => {
                    assert!(timeout_at_ms <= deadline);
                    let jitter = if g.next().is_multiple_of(2) {
                        Jitter::Fraction((g.next() % 1000) as f64 / 999.0)
                    } else {
                        Jitter::Ms(g.next() % 5000)
                    };
                    match g.next() % 10 {
                        0 => {
                            p.handle_transport_error(timeout_at_ms, jitter, TransportError::Timeout);
                            now = timeout_at_ms;
                        }
                        1 => {
                            p.handle_transport_error(now, jitter, TransportError::Network("x".into()));
                        }
                        2 if g.next().is_multiple_of(4) => p.abort(),
                        _ => {
                            let status = statuses[(g.next() as usize) % statuses.len()];
                            let body = bodies[(g.next() as usize) % bodies.len()];
                            let ra = retry_afters[(g.next() as usize) % retry_afters.len()];
                            p.handle_response(now, jitter, Response { status, retry_after: ra, body: body.as_bytes() });
                        }
                    }
                }
                Step::Wait { until_ms } => {
                    assert!(until_ms > now && until_ms < deadline, "waits end before the deadline");
                    now = until_ms;
                }
                Step::AwaitResponse { .. } => panic!("every send was answered"),
                Step::Done(s) => {
                    assert!(s.device_id.is_some() && s.assigned_hub.is_some());
                    break;
                }
                Step::Failed(e) => {
                    assert!(!e.code().is_empty());
                    break;
                }
            }
        }
        assert!(now <= deadline);
    }
}

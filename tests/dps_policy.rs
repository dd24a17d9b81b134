//! The registration state machine under simulated time: Retry-After honoured and clamped,
//! backoff growth and cap, the deadline, terminal statuses and an abort in the middle.
#![cfg(not(target_arch = "wasm32"))]

use azure_iot_wasm::dps::*;
use azure_iot_wasm::retry::{Backoff, Jitter};

const ASSIGNING: &str =
    r#"{"operationId":"5.316aac5bdc130deb.b1e02da8-c3a0-4ff2-a121-7ea7a6b7f550","status":"assigning"}"#;
const ASSIGNED: &str = r#"{"operationId":"5.316aac5bdc130deb.b1e02da8-c3a0-4ff2-a121-7ea7a6b7f550","status":"assigned","registrationState":{"registrationId":"my-symkey-device","assignedHub":"MyExampleHub.azure-devices.net","deviceId":"my-symkey-device","status":"assigned","substatus":"initialAssignment"}}"#;
const OP: &str = "5.316aac5bdc130deb.b1e02da8-c3a0-4ff2-a121-7ea7a6b7f550";
const J0: Jitter = Jitter::Fraction(0.0);
const J1: Jitter = Jitter::Fraction(1.0);

fn resp<'a>(status: u16, retry_after: Option<&'a str>, body: &'a str) -> Response<'a> {
    Response { status, retry_after, body: body.as_bytes() }
}

fn poll_op() -> Operation {
    Operation::OperationStatus { operation_id: OP.into() }
}

/// Expects `Send` of `op` at `now`.
fn expect_send(p: &mut Provisioning, now: u64, op: Operation) {
    match p.poll_step(now) {
        Step::Send { operation, .. } => assert_eq!(operation, op, "at {now}"),
        other => panic!("at {now} expected Send({op:?}), got {other:?}"),
    }
}

fn expect_wait(p: &mut Provisioning, now: u64, until: u64) {
    assert_eq!(p.poll_step(now), Step::Wait { until_ms: until }, "at {now}");
}

fn failed_code(p: &mut Provisioning, now: u64) -> (String, Option<ServiceError>) {
    match p.poll_step(now) {
        Step::Failed(e) => (e.code().to_string(), e.service().cloned()),
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn register_polls_after_retry_after_then_returns_the_assignment() {
    let mut p = Provisioning::new(Policy::default());
    expect_send(&mut p, 0, Operation::Register);
    assert_eq!(p.poll_step(10), Step::AwaitResponse { timeout_at_ms: 30_000 });
    assert!(p.handle_response(100, J0, resp(202, Some("3"), ASSIGNING)));
    expect_wait(&mut p, 100, 3_100);
    expect_wait(&mut p, 3_099, 3_100);
    expect_send(&mut p, 3_100, poll_op());
    p.handle_response(3_200, J0, resp(200, None, ASSIGNED));
    match p.poll_step(3_200) {
        Step::Done(s) => {
            assert_eq!(s.device_id.as_deref(), Some("my-symkey-device"));
            assert_eq!(s.assigned_hub.as_deref(), Some("MyExampleHub.azure-devices.net"));
            assert_eq!(s.substatus.as_deref(), Some("initialAssignment"));
        }
        other => panic!("{other:?}"),
    }
    let events: Vec<Event> = std::iter::from_fn(|| p.poll_event()).collect();
    assert_eq!(
        events,
        vec![
            Event::Registering { attempt: 1 },
            Event::Assigning { operation_id: OP.into(), poll: 1, next_poll_ms: 3_000 },
            Event::Assigned {
                device_id: "my-symkey-device".into(),
                assigned_hub: "MyExampleHub.azure-devices.net".into()
            },
        ]
    );
}

#[test]
fn without_retry_after_the_poll_interval_is_two_seconds() {
    let mut p = Provisioning::new(Policy::default());
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(202, None, ASSIGNING));
    expect_wait(&mut p, 0, 2_000);
    expect_send(&mut p, 2_000, poll_op());
    // A 202 to the poll without an operationId keeps polling the same operation.
    p.handle_response(2_000, J0, resp(202, None, r#"{"status":"assigning"}"#));
    expect_wait(&mut p, 2_000, 4_000);
    expect_send(&mut p, 4_000, poll_op());
}

#[test]
fn retry_after_is_clamped_to_two_seconds_and_five_minutes() {
    // §1.7: DPS allows 5 polls per 10 s per device, so never sooner than 2 s; 300 s at most.
    let mut p = Provisioning::new(Policy { timeout_ms: 1_000_000, ..Policy::default() });
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(202, Some("0"), ASSIGNING));
    expect_wait(&mut p, 0, 2_000);
    expect_send(&mut p, 2_000, poll_op());
    p.handle_response(2_000, J0, resp(202, Some("1"), ASSIGNING));
    expect_wait(&mut p, 2_000, 4_000);
    expect_send(&mut p, 4_000, poll_op());
    p.handle_response(4_000, J0, resp(202, Some("120"), ASSIGNING));
    expect_wait(&mut p, 4_000, 124_000);
    expect_send(&mut p, 124_000, poll_op());
    p.handle_response(124_000, J0, resp(202, Some("100000"), ASSIGNING));
    expect_wait(&mut p, 124_000, 424_000);
}

#[test]
fn an_http_date_retry_after_is_not_understood_and_the_default_applies() {
    let mut p = Provisioning::new(Policy::default());
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(202, Some("Wed, 21 Oct 2015 07:28:00 GMT"), ASSIGNING));
    expect_wait(&mut p, 0, 2_000);
}

#[test]
fn a_policy_may_lower_the_poll_floor_for_a_local_emulator() {
    let policy = Policy { min_poll_ms: 1_000, ..Policy::default() };
    let mut p = Provisioning::new(policy);
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(202, Some("1"), ASSIGNING));
    expect_wait(&mut p, 0, 1_000);
}

#[test]
fn a_lowered_floor_is_also_the_interval_when_retry_after_is_unreadable() {
    for retry_after in [None, Some("-5"), Some("soon")] {
        let mut p = Provisioning::new(Policy::default().with_min_poll_ms(200));
        expect_send(&mut p, 0, Operation::Register);
        p.handle_response(0, J0, resp(202, retry_after, ASSIGNING));
        expect_wait(&mut p, 0, 200);
    }
    // A raised floor holds too: never polled faster than asked.
    let mut p = Provisioning::new(Policy::default().with_min_poll_ms(5_000));
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(202, Some("1"), ASSIGNING));
    expect_wait(&mut p, 0, 5_000);
}

#[test]
fn server_errors_back_off_exponentially_up_to_the_cap_then_succeed() {
    let policy = Policy { backoff: Backoff::new(1_000, 8_000), max_retries: 20, ..Policy::default() };
    let mut p = Provisioning::new(policy);
    let mut now = 0;
    let mut delays = vec![];
    for _ in 0..6 {
        expect_send(&mut p, now, Operation::Register);
        p.handle_response(now, J1, resp(503, None, ""));
        match p.poll_step(now) {
            Step::Wait { until_ms } => {
                delays.push(until_ms - now);
                now = until_ms;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(delays, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect_send(&mut p, now, Operation::Register);
    p.handle_response(now, J0, resp(200, None, ASSIGNED));
    assert!(matches!(p.poll_step(now), Step::Done(_)));
    let retries: Vec<u32> = std::iter::from_fn(|| p.poll_event())
        .filter_map(|e| match e {
            Event::Retrying { retry, reason: RetryReason::ServerError, status: Some(503), .. } => Some(retry),
            _ => None,
        })
        .collect();
    assert_eq!(retries, [1, 2, 3, 4, 5, 6]);
}

#[test]
fn jitter_shortens_a_retry_but_never_below_the_floor() {
    let policy = Policy { backoff: Backoff::new(4_000, 60_000), retry_floor_ms: 1_000, ..Policy::default() };
    let mut p = Provisioning::new(policy);
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, Jitter::Fraction(0.0), resp(500, None, ""));
    expect_wait(&mut p, 0, 2_000);
    expect_send(&mut p, 2_000, Operation::Register);
    p.handle_transport_error(2_000, Jitter::Ms(300), TransportError::Network("reset".into()));
    expect_wait(&mut p, 2_000, 2_000 + 8_300);
}

#[test]
fn throttling_waits_at_least_the_throttle_floor_and_the_retry_after() {
    let mut p = Provisioning::new(Policy::default());
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(429, None, r#"{"errorCode":429001,"trackingId":"t-1"}"#));
    expect_wait(&mut p, 0, 5_000);
    expect_send(&mut p, 5_000, Operation::Register);
    p.handle_response(5_000, J0, resp(429, Some("9"), ""));
    expect_wait(&mut p, 5_000, 14_000);
    expect_send(&mut p, 14_000, Operation::Register);
    p.handle_response(14_000, J0, resp(202, Some("1"), ASSIGNING));
    expect_wait(&mut p, 14_000, 16_000);
}

#[test]
fn a_throttled_poll_retries_the_poll_not_the_registration() {
    let mut p = Provisioning::new(Policy::default());
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(202, Some("2"), ASSIGNING));
    expect_send(&mut p, 2_000, poll_op());
    p.handle_response(2_000, J0, resp(429, Some("1"), ""));
    expect_send(&mut p, 7_000, poll_op());
}

#[test]
fn a_success_resets_the_retry_count() {
    let policy = Policy { max_retries: 1, ..Policy::default() };
    let mut p = Provisioning::new(policy);
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(503, None, ""));
    expect_send(&mut p, 1_000, Operation::Register);
    p.handle_response(1_000, J0, resp(202, Some("2"), ASSIGNING));
    expect_send(&mut p, 3_000, poll_op());
    p.handle_response(3_000, J0, resp(503, None, ""));
    expect_send(&mut p, 4_000, poll_op());
    p.handle_response(4_000, J0, resp(503, r#"{"trackingId":"z"}"#.into(), ""));
    let (code, service) = failed_code(&mut p, 4_000);
    assert_eq!(code, "DPS_SERVER_ERROR");
    assert_eq!(service.unwrap().status, Some(503));
}

#[test]
fn persistent_throttling_gives_up_at_the_deadline_with_the_service_details() {
    let policy = Policy { timeout_ms: 20_000, ..Policy::default() };
    let mut p = Provisioning::new(policy);
    let mut now = 0;
    loop {
        match p.poll_step(now) {
            Step::Send { .. } => {
                p.handle_response(
                    now,
                    J0,
                    resp(429, Some("1"), r#"{"errorCode":429001,"trackingId":"tr-9","message":"slow down"}"#),
                );
            }
            Step::Wait { until_ms } => now = until_ms,
            Step::Failed(e) => {
                assert_eq!(e.code(), "DPS_THROTTLED_GAVE_UP");
                let s = e.service().unwrap();
                assert_eq!((s.status, s.error_code, s.tracking_id.as_deref()), (Some(429), Some(429001), Some("tr-9")));
                break;
            }
            other => panic!("{other:?}"),
        }
        assert!(now <= 20_000, "never waits past the deadline");
    }
    // 5 s floor, then 5 s, then 5 s: the fourth retry would start after 20 s.
    assert_eq!(now, 15_000);
}

#[test]
fn the_deadline_ends_a_registration_that_stays_assigning_with_timeout() {
    let policy = Policy { timeout_ms: 7_000, ..Policy::default() };
    let mut p = Provisioning::new(policy);
    let mut now = 0;
    let code = loop {
        match p.poll_step(now) {
            Step::Send { .. } => {
                p.handle_response(now, J0, resp(202, Some("2"), ASSIGNING));
            }
            Step::Wait { until_ms } => now = until_ms,
            Step::Failed(e) => break e.code(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(code, "TIMEOUT");
    assert_eq!(now, 6_000);
}

#[test]
fn a_request_timeout_is_retried_and_the_deadline_caps_the_request_timeout() {
    let policy = Policy { timeout_ms: 40_000, ..Policy::default() };
    let mut p = Provisioning::new(policy);
    assert_eq!(p.poll_step(0), Step::Send { operation: Operation::Register, timeout_at_ms: 30_000 });
    p.handle_transport_error(30_000, J0, TransportError::Timeout);
    match p.poll_step(31_000) {
        Step::Send { timeout_at_ms, .. } => assert_eq!(timeout_at_ms, 40_000),
        other => panic!("{other:?}"),
    }
    p.handle_transport_error(40_000, J0, TransportError::Timeout);
    assert_eq!(failed_code(&mut p, 40_000).0, "TIMEOUT");
}

#[test]
fn network_failures_that_never_heal_end_as_network_after_max_retries() {
    let policy = Policy { max_retries: 3, ..Policy::default() };
    let mut p = Provisioning::new(policy);
    let mut now = 0;
    let mut sends = 0;
    let err = loop {
        match p.poll_step(now) {
            Step::Send { .. } => {
                sends += 1;
                p.handle_transport_error(now, J0, TransportError::Network("connection refused".into()));
            }
            Step::Wait { until_ms } => now = until_ms,
            Step::Failed(e) => break e,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(sends, 4);
    assert_eq!(err, DpsError::Network("connection refused".into()));
}

#[test]
fn terminal_statuses_fail_at_once_with_their_codes_and_details() {
    let body =
        r#"{"errorCode":401002,"trackingId":"8ad0463c-6427-4479-9dfa-3e8bb7003e9b","message":"Invalid certificate."}"#;
    for (status, code) in [
        (400, "DPS_BAD_REQUEST"),
        (401, "DPS_UNAUTHORIZED"),
        (403, "DPS_UNAUTHORIZED"),
        (404, "DPS_NOT_FOUND"),
        (409, "DPS_REQUEST_FAILED"),
        (302, "DPS_REQUEST_FAILED"),
    ] {
        let mut p = Provisioning::new(Policy::default());
        expect_send(&mut p, 0, Operation::Register);
        p.handle_response(0, J0, resp(status, None, body));
        let (c, s) = failed_code(&mut p, 0);
        assert_eq!(c, code, "status {status}");
        let s = s.unwrap();
        assert_eq!(s.status, Some(status));
        assert_eq!(s.error_code, Some(401002));
        assert_eq!(s.tracking_id.as_deref(), Some("8ad0463c-6427-4479-9dfa-3e8bb7003e9b"));
    }
}

#[test]
fn a_failed_operation_is_an_assignment_failure_with_the_registration_error_code() {
    let mut p = Provisioning::new(Policy::default());
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(202, None, ASSIGNING));
    expect_send(&mut p, 2_000, poll_op());
    p.handle_response(2_000, J0, resp(200, None, r#"{"operationId":"x","status":"failed","registrationState":{"status":"failed","errorCode":400207,"errorMessage":"Custom allocation failed with status code: 400"}}"#));
    match p.poll_step(2_000) {
        Step::Failed(DpsError::AssignmentFailed(s)) => {
            assert_eq!(s.error_code, Some(400207));
            assert_eq!(s.message.as_deref(), Some("Custom allocation failed with status code: 400"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_disabled_enrollment_fails_with_dps_disabled() {
    let mut p = Provisioning::new(Policy::default());
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(200, None, r#"{"operationId":"","status":"disabled","registrationState":{"registrationId":"myRegistrationId","status":"disabled"}}"#));
    assert_eq!(failed_code(&mut p, 0).0, "DPS_DISABLED");
}

#[test]
fn unreadable_or_incomplete_successes_fail_as_bad_responses() {
    for body in [
        "<html>",
        r#"{"status":"assigning"}"#,
        r#"{"operationId":"x","status":"assigned"}"#,
        r#"{"operationId":"x","status":"odd"}"#,
    ] {
        let mut p = Provisioning::new(Policy::default());
        expect_send(&mut p, 0, Operation::Register);
        p.handle_response(0, J0, resp(200, None, body));
        assert_eq!(failed_code(&mut p, 0).0, "DPS_BAD_RESPONSE", "{body}");
    }
}

#[test]
fn an_abort_while_waiting_ends_it_and_later_responses_are_ignored() {
    let mut p = Provisioning::new(Policy::default());
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(202, Some("3"), ASSIGNING));
    expect_wait(&mut p, 1_000, 3_000);
    p.abort();
    assert_eq!(failed_code(&mut p, 1_000).0, "ABORTED");
    assert!(!p.handle_response(3_000, J0, resp(200, None, ASSIGNED)));
    assert_eq!(failed_code(&mut p, 3_000).0, "ABORTED");
}

#[test]
fn an_abort_after_completion_keeps_the_result() {
    let mut p = Provisioning::new(Policy::default());
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(200, None, ASSIGNED));
    p.abort();
    assert!(matches!(p.poll_step(0), Step::Done(_)));
}

#[test]
fn a_response_without_a_request_in_flight_is_ignored() {
    let mut p = Provisioning::new(Policy::default());
    assert!(!p.handle_response(0, J0, resp(200, None, ASSIGNED)));
    assert!(!p.handle_transport_error(0, J0, TransportError::Timeout));
    expect_send(&mut p, 0, Operation::Register);
    p.handle_response(0, J0, resp(202, None, ASSIGNING));
    assert!(!p.handle_response(1, J0, resp(200, None, ASSIGNED)), "a duplicate while waiting");
    expect_wait(&mut p, 1, 2_000);
}

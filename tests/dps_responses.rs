//! Every DPS response shape of protocol §1.5–§1.6, parsed from the fixtures printed there.
#![cfg(not(target_arch = "wasm32"))]

use azure_iot_wasm::dps::*;

#[test]
fn a_202_assigning_body_from_the_docs_gives_the_operation_id() {
    let body = br#"{"operationId":"5.316aac5bdc130deb.b1e02da8-c3a0-4ff2-a121-7ea7a6b7f550","status":"assigning"}"#;
    let r = parse_operation(body).unwrap();
    assert_eq!(r.operation_id.as_deref(), Some("5.316aac5bdc130deb.b1e02da8-c3a0-4ff2-a121-7ea7a6b7f550"));
    assert_eq!(r.status, OperationStatus::Assigning);
    assert!(r.registration_state.is_none());
}

#[test]
fn an_assigning_body_with_a_minimal_registration_state_parses() {
    let body = br#"{"operationId":"4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d","status":"assigning","registrationState":{"registrationId":"myRegistrationId","status":"assigning"}}"#;
    let r = parse_operation(body).unwrap();
    assert_eq!(r.status, OperationStatus::Assigning);
    let s = r.registration_state.unwrap();
    assert_eq!(s.registration_id.as_deref(), Some("myRegistrationId"));
    assert_eq!(s.status.as_deref(), Some("assigning"));
    assert_eq!(s.device_id, None);
}

#[test]
fn an_assigned_body_from_the_docs_keeps_every_registration_state_field() {
    let body = br#"{"operationId":"5.316aac5bdc130deb.b1e02da8-c3a0-4ff2-a121-7ea7a6b7f550","status":"assigned",
 "registrationState":{"registrationId":"my-symkey-device","createdDateTimeUtc":"2022-08-31T22:02:50.5163352Z",
  "assignedHub":"MyExampleHub.azure-devices.net","deviceId":"my-symkey-device","status":"assigned",
  "substatus":"initialAssignment","lastUpdatedDateTimeUtc":"2022-08-31T22:02:50.7370676Z",
  "etag":"IjY5MDAzNTUyLTAwMDAtMDMwMC0wMDAwLTYzMGZkYThhMDAwMCI="}}"#;
    let r = parse_operation(body).unwrap();
    assert_eq!(r.status, OperationStatus::Assigned);
    let s = r.registration_state.unwrap();
    assert_eq!(s.registration_id.as_deref(), Some("my-symkey-device"));
    assert_eq!(s.device_id.as_deref(), Some("my-symkey-device"));
    assert_eq!(s.assigned_hub.as_deref(), Some("MyExampleHub.azure-devices.net"));
    assert_eq!(s.status.as_deref(), Some("assigned"));
    assert_eq!(s.substatus.as_deref(), Some("initialAssignment"));
    assert_eq!(s.created_date_time_utc.as_deref(), Some("2022-08-31T22:02:50.5163352Z"));
    assert_eq!(s.last_updated_date_time_utc.as_deref(), Some("2022-08-31T22:02:50.7370676Z"));
    assert_eq!(s.etag.as_deref(), Some("IjY5MDAzNTUyLTAwMDAtMDMwMC0wMDAwLTYzMGZkYThhMDAwMCI="));
    assert_eq!(s.payload, None);
}

#[test]
fn an_assigned_body_with_a_custom_payload_keeps_the_payload_as_json() {
    let body = br#"{"operationId":"1.a.b","status":"assigned","registrationState":{"deviceId":"d","assignedHub":"h","payload":{"answer":42,"nested":{"x":[1,2]}}}}"#;
    let s = parse_operation(body).unwrap().registration_state.unwrap();
    assert_eq!(s.payload.unwrap().to_string(), r#"{"answer":42,"nested":{"x":[1,2]}}"#);
}

#[test]
fn a_failed_body_keeps_error_code_and_message() {
    let body = br#"{"operationId":"4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d","status":"failed","registrationState":{"registrationId":"myRegistrationId",
 "createdDateTimeUtc":"2020-04-10T03:11:13.0276997Z","status":"failed","errorCode":400207,
 "errorMessage":"Custom allocation failed with status code: 400","lastUpdatedDateTimeUtc":"2020-04-10T05:24:22.4718526Z",
 "etag":"IjYxMDA4ZDQ2LTAwMDAtMDEwMC0wMDAwLTVlOGZlM2QxMDAwMCI="}}"#;
    let r = parse_operation(body).unwrap();
    assert_eq!(r.status, OperationStatus::Failed);
    let s = r.registration_state.unwrap();
    assert_eq!(s.error_code, Some(400207));
    assert_eq!(s.error_message.as_deref(), Some("Custom allocation failed with status code: 400"));
}

#[test]
fn a_disabled_body_with_an_empty_operation_id_parses_as_disabled_without_an_id() {
    let body = br#"{"operationId":"","status":"disabled","registrationState":{"registrationId":"myRegistrationId","status":"disabled"}}"#;
    let r = parse_operation(body).unwrap();
    assert_eq!(r.status, OperationStatus::Disabled);
    assert_eq!(r.operation_id, None);
}

#[test]
fn a_bare_device_registration_result_reads_as_a_completed_operation() {
    let body = br#"{"registrationId":"r","deviceId":"d","assignedHub":"h.azure-devices.net","status":"assigned"}"#;
    let r = parse_operation(body).unwrap();
    assert_eq!(r.status, OperationStatus::Assigned);
    assert_eq!(r.registration_state.unwrap().assigned_hub.as_deref(), Some("h.azure-devices.net"));
}

#[test]
fn bodies_that_are_not_an_operation_are_bad_responses_not_panics() {
    for body in [&b""[..], b"not json", b"[]", b"{}", b"null", b"{\"status\":3}", &[0xff, 0xfe][..]] {
        assert_eq!(parse_operation(body).unwrap_err().code(), "DPS_BAD_RESPONSE", "{body:?}");
    }
}

#[test]
fn an_unknown_status_is_kept_for_the_message() {
    let r = parse_operation(br#"{"operationId":"x","status":"weird"}"#).unwrap();
    assert_eq!(r.status, OperationStatus::Other("weird".into()));
}

#[test]
fn an_error_body_from_the_sdk_tests_keeps_error_code_and_tracking_id() {
    let body = br#"{"errorCode":401002,"trackingId":"8ad0463c-6427-4479-9dfa-3e8bb7003e9b","message":"Invalid certificate.","timestampUtc":"2020-04-10T05:24:22.4718526Z"}"#;
    let e = parse_error(401, body);
    assert_eq!(e.status, Some(401));
    assert_eq!(e.error_code, Some(401002));
    assert_eq!(e.tracking_id.as_deref(), Some("8ad0463c-6427-4479-9dfa-3e8bb7003e9b"));
    assert_eq!(e.message.as_deref(), Some("Invalid certificate."));
}

#[test]
fn an_error_body_with_a_string_error_code_still_yields_the_number() {
    let e = parse_error(429, br#"{"errorCode":"429001","trackingId":"t"}"#);
    assert_eq!(e.error_code, Some(429001));
}

#[test]
fn an_error_body_that_is_not_json_still_yields_the_status() {
    let e = parse_error(503, b"<html>Service Unavailable</html>");
    assert_eq!(e, ServiceError { status: Some(503), ..ServiceError::default() });
}

#[test]
fn retry_after_reads_seconds_and_ignores_dates_and_junk() {
    assert_eq!(parse_retry_after("3"), Some(3000));
    assert_eq!(parse_retry_after(" 120 "), Some(120_000));
    assert_eq!(parse_retry_after("0.5"), Some(500));
    assert_eq!(parse_retry_after("0"), Some(0));
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    assert_eq!(parse_retry_after("-1"), None);
    assert_eq!(parse_retry_after(""), None);
    assert_eq!(parse_retry_after("1.2.3"), None);
    assert_eq!(parse_retry_after("99999999999999999999999"), Some(u32::MAX as u64));
    assert_eq!(parse_retry_after("1.001"), Some(1001));
    assert_eq!(parse_retry_after(".25"), Some(250));
    assert_eq!(parse_retry_after("2."), Some(2000));
    assert_eq!(parse_retry_after("1.23456"), Some(1234));
    assert_eq!(parse_retry_after("."), None);
    assert_eq!(parse_retry_after("1 .5"), None);
}

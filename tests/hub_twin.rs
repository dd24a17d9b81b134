//! Twin `$rid` correlation and desired-property delivery in `$version` order (protocol §5.6).
#![cfg(not(target_arch = "wasm32"))]

use azure_iot_wasm::hub::*;
use azure_iot_wasm::json::{Map, Value};

/// serde_json's `json!` literal, as the library's own JSON value (through its text).
macro_rules! json {
    ($($t:tt)+) => {
        Value::parse(serde_json::json!($($t)+).to_string().as_bytes()).unwrap()
    };
}

fn res(topic: &str) -> TwinResponse {
    parse_twin_response_topic(topic).unwrap()
}

#[test]
fn get_and_patch_answers_reach_the_request_with_the_same_rid() {
    let mut reqs = TwinRequests::new(1_000);
    let get = reqs.start(TwinRequestKind::Get, vec![], 0, "get");
    let patch = reqs.start(TwinRequestKind::PatchReported, b"{\"a\":1}".to_vec(), 0, "patch");
    assert_eq!(get.topic, "$iothub/twin/GET/?$rid=1");
    assert_eq!(patch.topic, "$iothub/twin/PATCH/properties/reported/?$rid=2");
    assert_eq!(patch.payload, b"{\"a\":1}");

    let (tok, out) = reqs
        .handle_response(&res("$iothub/twin/res/204/?$rid=2&$version=7"), b"")
        .unwrap();
    assert_eq!((tok, out), ("patch", TwinOutcome::ReportedVersion(7)));
    let body = br#"{"desired":{"$version":3},"reported":{"$version":7}}"#;
    let (tok, out) = reqs
        .handle_response(&res("$iothub/twin/res/200/?$rid=1"), body)
        .unwrap();
    assert_eq!(tok, "get");
    assert_eq!(
        out,
        TwinOutcome::Twin(json!({"desired":{"$version":3},"reported":{"$version":7}}))
    );
    assert!(reqs.is_empty());
}

#[test]
fn an_answer_with_an_unknown_rid_is_ignored() {
    let mut reqs: TwinRequests<u32> = TwinRequests::new(1_000);
    reqs.start(TwinRequestKind::Get, vec![], 0, 1);
    assert!(reqs
        .handle_response(&res("$iothub/twin/res/200/?$rid=99"), b"{}")
        .is_none());
    assert_eq!(reqs.len(), 1);
}

#[test]
fn error_statuses_become_typed_errors_and_429_is_throttled() {
    let mut reqs = TwinRequests::new(1_000);
    reqs.start(TwinRequestKind::PatchReported, b"{".to_vec(), 0, ());
    reqs.start(TwinRequestKind::Get, vec![], 0, ());
    let (_, a) = reqs.handle_response(&res("$iothub/twin/res/400/?$rid=1"), b"").unwrap();
    let (_, b) = reqs.handle_response(&res("$iothub/twin/res/429/?$rid=2"), b"").unwrap();
    match (a, b) {
        (TwinOutcome::Failed(a), TwinOutcome::Failed(b)) => {
            assert_eq!((a.code(), a.status()), ("TWIN_REQUEST_FAILED", Some(400)));
            assert_eq!((b.code(), b.status()), ("THROTTLED", Some(429)));
        }
        other => panic!("expected two failures, got {other:?}"),
    }
}

#[test]
fn a_refused_patch_carries_the_hubs_reason_and_error_code() {
    let mut reqs = TwinRequests::new(1_000);
    reqs.start(TwinRequestKind::PatchReported, b"{}".to_vec(), 0, ());
    let body = br#"{"errorCode":400004,"message":"reported properties exceed 32 KB"}"#;
    let (_, out) = reqs.handle_response(&res("$iothub/twin/res/400/?$rid=1"), body).unwrap();
    let TwinOutcome::Failed(e) = out else { panic!("{out:?}") };
    assert_eq!(e.error_code(), Some(400004));
    assert_eq!(e.to_string(), "twin request failed with status 400: reported properties exceed 32 KB");
}

#[test]
fn a_get_answer_that_is_not_a_json_object_is_invalid_twin_payload() {
    let mut reqs = TwinRequests::new(1_000);
    reqs.start(TwinRequestKind::Get, vec![], 0, ());
    let (_, out) = reqs
        .handle_response(&res("$iothub/twin/res/200/?$rid=1"), b"not json")
        .unwrap();
    assert_eq!(out, TwinOutcome::Failed(HubError::InvalidTwinPayload));
}

#[test]
fn pending_requests_are_resent_after_a_reconnect_with_their_original_rids() {
    let mut reqs = TwinRequests::new(1_000);
    reqs.start(TwinRequestKind::Get, vec![], 0, ());
    reqs.start(TwinRequestKind::PatchReported, b"{}".to_vec(), 0, ());
    let again: Vec<String> = reqs.resend_all().into_iter().map(|p| p.topic).collect();
    assert_eq!(
        again,
        vec![
            "$iothub/twin/GET/?$rid=1",
            "$iothub/twin/PATCH/properties/reported/?$rid=2"
        ]
    );
}

#[test]
fn requests_expire_at_their_deadline_and_a_late_answer_matches_nothing() {
    let mut reqs = TwinRequests::new(1_000);
    reqs.start(TwinRequestKind::Get, vec![], 0, "a");
    reqs.start(TwinRequestKind::Get, vec![], 500, "b");
    assert_eq!(reqs.next_deadline(), Some(1_000));
    assert_eq!(reqs.expire(999), Vec::<&str>::new());
    assert_eq!(reqs.expire(1_000), vec!["a"]);
    assert!(reqs
        .handle_response(&res("$iothub/twin/res/200/?$rid=1"), b"{}")
        .is_none());
    assert_eq!(reqs.drain(), vec!["b"]);
}

fn twin(desired: Value) -> Value {
    let mut m = Map::new();
    m.insert("desired".into(), desired);
    m.insert("reported".into(), json!({ "$version": 1 }));
    Value::Object(m)
}

fn patches(updates: Vec<DesiredUpdate>) -> Vec<Value> {
    updates.into_iter().map(|u| u.patch).collect()
}

#[test]
fn the_first_get_sets_the_baseline_without_delivering_it() {
    let mut t = DesiredTracker::new();
    t.begin_resync();
    assert_eq!(t.handle_twin(&twin(json!({"a": 1, "$version": 4}))), vec![]);
    assert_eq!(t.version(), Some(4));
}

#[test]
fn notifications_are_delivered_in_order_and_stale_ones_are_dropped() {
    let mut t = DesiredTracker::new();
    t.begin_resync();
    t.handle_twin(&twin(json!({"a": 1, "$version": 4})));
    assert_eq!(
        patches(t.handle_patch(Some(5), json!({"a": 2, "$version": 5}))),
        vec![json!({"a": 2, "$version": 5})]
    );
    assert_eq!(t.handle_patch(Some(5), json!({"a": 2, "$version": 5})), vec![]);
    assert_eq!(t.handle_patch(Some(3), json!({"a": 0, "$version": 3})), vec![]);
    assert_eq!(t.version(), Some(5));
}

#[test]
fn the_version_comes_from_the_body_when_the_topic_lacks_it() {
    let mut t = DesiredTracker::new();
    t.begin_resync();
    t.handle_twin(&twin(json!({"$version": 1})));
    assert_eq!(t.handle_patch(None, json!({"x": true, "$version": 2})).len(), 1);
    assert_eq!(t.handle_patch(None, json!({"x": true, "$version": 2})).len(), 0);
}

#[test]
fn changes_missed_while_offline_are_delivered_as_one_patch_after_the_reconnect_get() {
    let mut t = DesiredTracker::new();
    t.begin_resync();
    t.handle_twin(&twin(
        json!({"keep": 1, "change": "old", "gone": true, "nested": {"x": 1, "y": 2}, "$version": 10}),
    ));
    // Offline: the service moved to version 13.
    t.begin_resync();
    let out = t.handle_twin(&twin(json!({
        "keep": 1, "change": "new", "added": [1, 2], "nested": {"x": 1, "y": 3}, "$version": 13
    })));
    assert_eq!(
        patches(out),
        vec![json!({"change": "new", "added": [1, 2], "nested": {"y": 3}, "gone": null, "$version": 13})]
    );
    assert_eq!(t.version(), Some(13));
}

#[test]
fn a_reconnect_with_nothing_missed_delivers_nothing() {
    let mut t = DesiredTracker::new();
    t.begin_resync();
    t.handle_twin(&twin(json!({"a": 1, "$version": 2})));
    t.handle_patch(Some(3), json!({"b": 2, "$version": 3}));
    t.begin_resync();
    assert_eq!(t.handle_twin(&twin(json!({"a": 1, "b": 2, "$version": 3}))), vec![]);
}

#[test]
fn notifications_during_the_resync_are_held_and_only_newer_ones_follow_the_get_in_version_order() {
    let mut t = DesiredTracker::new();
    t.begin_resync();
    t.handle_twin(&twin(json!({"a": 1, "$version": 1})));
    t.begin_resync();
    // Arrive before the GET answer, out of order; version 2 is already inside the GET.
    assert_eq!(t.handle_patch(Some(4), json!({"a": 4, "$version": 4})), vec![]);
    assert_eq!(t.handle_patch(Some(2), json!({"a": 2, "$version": 2})), vec![]);
    assert_eq!(t.handle_patch(Some(3), json!({"a": 3, "$version": 3})), vec![]);
    let out = t.handle_twin(&twin(json!({"a": 2, "$version": 2})));
    let versions: Vec<Option<i64>> = out.iter().map(|u| u.version).collect();
    assert_eq!(versions, vec![Some(2), Some(3), Some(4)]);
    assert_eq!(out[0].patch, json!({"a": 2, "$version": 2}));
    assert_eq!(t.version(), Some(4));
}

#[test]
fn an_aborted_resync_releases_the_held_notifications() {
    let mut t = DesiredTracker::new();
    t.begin_resync();
    t.handle_twin(&twin(json!({"$version": 1})));
    t.begin_resync();
    t.handle_patch(Some(2), json!({"a": 2}));
    assert_eq!(t.abort_resync().len(), 1);
    assert!(!t.is_resyncing());
}

#[test]
fn merge_patch_and_merge_diff_are_inverse_on_objects() {
    let old = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
    let new = json!({"a": 1, "b": {"c": 5}, "f": "x"});
    let diff = merge_diff(old.as_object().unwrap(), new.as_object().unwrap());
    assert_eq!(
        Value::Object(diff.clone()),
        json!({"b": {"c": 5, "d": null}, "e": null, "f": "x"})
    );
    let mut doc = old.as_object().unwrap().clone();
    merge_patch(&mut doc, &diff);
    assert_eq!(Value::Object(doc), new);
}

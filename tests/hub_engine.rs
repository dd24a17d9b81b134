//! The hub engine against a scripted in-memory hub under simulated time: connect, subscribe,
//! telemetry with many in flight, C2D ack after the handler, twin round trips, desired patches
//! across reconnects, methods, DUP re-send after a drop, token renewal and close.
#![cfg(not(target_arch = "wasm32"))]

mod hub_rig;

use azure_iot_wasm::hub::*;
use hub_rig::*;
use serde_json::json;

#[test]
fn connect_sends_the_token_subscribes_four_filters_and_reads_the_twin() {
    let mut r = Rig::device();
    assert_eq!(r.open_requests, 1);
    r.connect();
    assert!(matches!(&r.sent[0], Out::Connect { password } if password.starts_with("SharedAccessSignature")));
    assert!(matches!(&r.sent[1], Out::Subscribe { filters, .. } if filters.len() == 4));
    assert!(r.events.contains(&HubEvent::Connected));
    assert!(r.e.is_connected());
}

#[test]
fn telemetry_resolves_on_puback_with_many_in_flight() {
    let mut r = Rig::device();
    r.connect();
    let ops: Vec<u64> = (0..10)
        .map(|i| r.e.send(r.now, &Message::new(format!("m{i}"))).unwrap())
        .collect();
    r.pump();
    let sent = r.telemetry();
    assert_eq!(sent.len(), 10, "all ten are in flight before any PUBACK");
    for (id, _) in sent.iter().rev() {
        r.feed(&[0x40, 0x02, (id >> 8) as u8, *id as u8]);
    }
    let mut done: Vec<u64> = r
        .sends_done()
        .into_iter()
        .map(|(op, res)| {
            assert!(res.is_ok());
            op
        })
        .collect();
    done.sort();
    assert_eq!(done, ops);
}

#[test]
fn sends_while_offline_wait_in_the_bounded_queue_and_go_out_after_connect() {
    let mut opts = EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap());
    opts.offline_queue = 2;
    let mut r = Rig::new(opts);
    r.e.send(r.now, &Message::new("a")).unwrap();
    r.e.send(r.now, &Message::new("b")).unwrap();
    assert_eq!(r.e.send(r.now, &Message::new("c")).unwrap_err().code(), "QUEUE_FULL");
    assert!(r.telemetry().is_empty());
    r.connect();
    assert_eq!(r.telemetry().len(), 2);
}

#[test]
fn an_oversize_message_is_refused_before_it_is_queued() {
    let mut r = Rig::device();
    let e = r.e.send(r.now, &Message::new(vec![0u8; 300_000])).unwrap_err();
    assert_eq!(e.code(), "MESSAGE_TOO_LARGE");
}

#[test]
fn unacked_telemetry_is_resent_with_dup_after_a_drop_and_resolves_once() {
    let mut r = Rig::device();
    r.connect();
    let op = r.e.send(r.now, &Message::new("x")).unwrap();
    r.pump();
    r.e.handle_closed(
        r.now, 0.5,
        azure_iot_wasm::mqtt::MqttError::ConnectionLost {
            code: Some(1006),
            reason: String::new(),
        },
    );
    r.pump();
    assert!(r.events.iter().any(|e| matches!(
        e,
        HubEvent::Disconnected {
            reason: "CONNECTION_LOST",
            ..
        }
    )));
    let delay = r.events.iter().find_map(|e| match e {
        HubEvent::Reconnecting { attempt: 1, delay_ms } => Some(*delay_ms),
        _ => None,
    });
    assert!(delay.unwrap() >= 500);
    r.advance_to_open();
    assert_eq!(r.open_requests, 2);
    r.connect();
    let t = r.telemetry();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].0, t[1].0, "same packet id");
    assert!(!t[0].1 && t[1].1, "second copy has DUP set");
    r.feed(&[0x40, 0x02, 0, t[1].0 as u8]);
    assert_eq!(r.sends_done(), vec![(op, Ok(()))]);
}

#[test]
fn c2d_is_reported_with_its_properties_and_acked_only_when_the_driver_says_so() {
    let mut r = Rig::device();
    r.connect();
    r.feed(&server_publish(
        "devices/dev1/messages/devicebound/%24.mid=m1&color=red",
        b"hello",
        Some(7),
    ));
    let (pkid, msg) = r
        .events
        .iter()
        .find_map(|e| match e {
            HubEvent::Message { pkid, message, payload } => Some((*pkid, (message.clone(), payload.clone()))),
            _ => None,
        })
        .unwrap();
    assert_eq!(pkid, Some(7));
    assert_eq!(msg.0.get("color"), Some("red"));
    assert_eq!(msg.1, b"hello");
    assert!(!r.sent.iter().any(|o| matches!(o, Out::PubAck(7))));
    r.e.ack_message(r.now, 7);
    r.pump();
    assert!(r.sent.iter().any(|o| matches!(o, Out::PubAck(7))));
}

#[test]
fn reported_patch_resolves_with_the_new_version_and_get_twin_with_the_document() {
    let mut r = Rig::device();
    r.connect();
    let op = r.e.update_reported(r.now, br#"{"fw":"1.2"}"#.to_vec()).unwrap();
    r.pump();
    let rid = r
        .sent
        .iter()
        .rev()
        .find_map(|o| match o {
            Out::Publish { topic, payload, .. } if payload == br#"{"fw":"1.2"}"# => topic
                .strip_prefix("$iothub/twin/PATCH/properties/reported/?$rid=")
                .map(str::to_string),
            _ => None,
        })
        .unwrap();
    r.feed(&server_publish(
        &format!("$iothub/twin/res/204/?$rid={rid}&$version=9"),
        b"",
        None,
    ));
    assert!(r.events.contains(&HubEvent::TwinDone {
        op,
        outcome: TwinOutcome::ReportedVersion(9)
    }));

    let op = r.e.get_twin(r.now).unwrap();
    r.pump();
    let rid = r.last_get_rid();
    r.feed(&server_publish(
        &format!("$iothub/twin/res/200/?$rid={rid}"),
        br#"{"desired":{"$version":1},"reported":{"$version":9}}"#,
        None,
    ));
    assert!(r
        .events
        .iter()
        .any(|e| matches!(e, HubEvent::TwinDone { op: o, outcome: TwinOutcome::Twin(_) } if *o == op)));
}

#[test]
fn a_twin_request_without_an_answer_times_out() {
    let mut r = Rig::device();
    r.connect();
    let op = r.e.get_twin(r.now).unwrap();
    r.pump();
    r.advance(61_000);
    assert!(r.events.contains(&HubEvent::TwinDone {
        op,
        outcome: TwinOutcome::Failed(HubError::Timeout)
    }));
}

#[test]
fn a_desired_patch_made_while_offline_is_delivered_after_the_reconnect() {
    let mut r = Rig::device();
    r.connect_with(3600, json!({"interval": 5, "$version": 3}));
    r.feed(&server_publish(
        "$iothub/twin/PATCH/properties/desired/?$version=4",
        br#"{"interval":6,"$version":4}"#,
        None,
    ));
    r.e.handle_closed(
        r.now, 0.5,
        azure_iot_wasm::mqtt::MqttError::ConnectionLost {
            code: None,
            reason: String::new(),
        },
    );
    r.pump();
    r.advance(60_000);
    r.connect_with(3600, json!({"interval": 10, "mode": "eco", "$version": 6}));
    let desired: Vec<String> = r
        .events
        .iter()
        .filter_map(|e| match e {
            HubEvent::Desired(u) => Some(u.patch.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        desired,
        vec![
            r#"{"interval":6,"$version":4}"#,
            r#"{"interval":10,"mode":"eco","$version":6}"#
        ]
    );
}

#[test]
fn a_method_call_is_reported_and_the_answer_goes_to_the_res_topic() {
    let mut r = Rig::device();
    r.connect();
    r.feed(&server_publish(
        "$iothub/methods/POST/reboot/?$rid=42",
        br#"{"delay":1}"#,
        None,
    ));
    assert!(r.events.contains(&HubEvent::Method {
        name: "reboot".into(),
        rid: "42".into(),
        payload: br#"{"delay":1}"#.to_vec()
    }));
    r.e.respond_method(r.now, "42", 200, br#"{"ok":true}"#);
    r.pump();
    assert!(r
        .sent
        .iter()
        .any(|o| matches!(o, Out::Publish { topic, .. } if topic == "$iothub/methods/res/200/?$rid=42")));
}

#[test]
fn the_token_is_renewed_at_80_percent_by_a_clean_reconnect_without_losing_sends() {
    let mut opts = EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap());
    // What the driver picks for a 10 s TTL: min(60 s, 80% of the TTL).
    opts.min_renew_interval_ms = 8_000;
    let mut r = Rig::new(opts);
    r.connect_with(10, json!({"$version": 1}));
    let op = r.e.send(r.now, &Message::new("before")).unwrap();
    r.pump();
    r.advance(8_000);
    // The in-flight publish holds the renewal back until its PUBACK (or the drain deadline).
    assert_eq!(r.close_requests, 0);
    let late = r.e.send(r.now, &Message::new("during")).unwrap();
    r.pump();
    assert_eq!(r.telemetry().len(), 1, "new sends wait while the renewal drains");
    let id = r.telemetry()[0].0;
    r.feed(&[0x40, 0x02, 0, id as u8]);
    assert!(matches!(r.sent.last(), Some(Out::Disconnect)));
    assert_eq!(r.close_requests, 1);
    r.e.handle_closed(r.now, 0.5, azure_iot_wasm::mqtt::MqttError::Closed);
    r.pump();
    assert_eq!(r.open_requests, 2, "reopened at once, no backoff");
    assert!(r.events.iter().any(|e| matches!(
        e,
        HubEvent::Disconnected {
            reason: "TOKEN_RENEWAL",
            ..
        }
    )));
    r.connect_with(10, json!({"$version": 1}));
    let t = r.telemetry();
    assert_eq!(t.len(), 2);
    r.feed(&[0x40, 0x02, 0, t[1].0 as u8]);
    assert_eq!(r.sends_done(), vec![(op, Ok(())), (late, Ok(()))]);
}

#[test]
fn refused_credentials_back_off_and_finally_close_with_hub_unauthorized() {
    let mut r = Rig::device();
    for _ in 0..3 {
        r.e.handle_opened(r.now, 0.5, "SharedAccessSignature se=1".into());
        r.pump();
        r.feed(&[0x20, 0x02, 0x00, 0x05]);
        r.e.handle_closed(r.now, 0.5, azure_iot_wasm::mqtt::MqttError::Closed);
        r.pump();
        if !r.e.is_closed() {
            r.advance_to_open();
        }
    }
    assert!(r
        .events
        .iter()
        .any(|e| matches!(e, HubEvent::Error(HubError::Unauthorized))));
    assert!(r.events.contains(&HubEvent::Closed));
    assert_eq!(r.open_requests, 3);
}

#[test]
fn close_fails_every_pending_operation_with_closed() {
    let mut r = Rig::device();
    r.connect();
    let a = r.e.send(r.now, &Message::new("a")).unwrap();
    let t = r.e.get_twin(r.now).unwrap();
    r.pump();
    r.e.close(r.now);
    r.pump();
    assert!(matches!(r.sent.last(), Some(Out::Disconnect)));
    assert_eq!(r.sends_done(), vec![(a, Err(HubError::Closed))]);
    assert!(r.events.contains(&HubEvent::TwinDone {
        op: t,
        outcome: TwinOutcome::Failed(HubError::Closed)
    }));
    assert_eq!(r.e.send(r.now, &Message::new("b")).unwrap_err().code(), "CLOSED");
}

#[test]
fn a_method_without_a_handler_is_answered_501_by_the_engine_with_the_reason() {
    let mut r = Rig::unheard(EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap()));
    r.connect();
    r.e.listen_method("reboot");
    r.feed(&server_publish("$iothub/methods/POST/dance/?$rid=7", b"{}", None));
    r.feed(&server_publish("$iothub/methods/POST/reboot/?$rid=8", b"{}", None));
    let names: Vec<_> = r.events.iter().filter_map(|e| match e {
        HubEvent::Method { name, .. } => Some(name.clone()),
        _ => None,
    }).collect();
    assert_eq!(names, vec!["reboot".to_string()]);
    let answer = r.sent.iter().find_map(|o| match o {
        Out::Publish { topic, payload, .. } if topic == "$iothub/methods/res/501/?$rid=7" => Some(payload.clone()),
        _ => None,
    });
    assert_eq!(answer.as_deref(), Some(br#"{"message":"no handler for method dance"}"#.as_slice()));
}

#[test]
fn c2d_and_desired_before_their_handlers_are_held_then_delivered_in_order() {
    let mut r = Rig::unheard(EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap()));
    r.connect();
    r.feed(&server_publish("devices/dev1/messages/devicebound/%24.mid=a", b"one", Some(11)));
    r.feed(&server_publish("devices/dev1/messages/devicebound/%24.mid=b", b"two", Some(12)));
    r.feed(&server_publish("$iothub/twin/PATCH/properties/desired/?$version=2", br#"{"x":1,"$version":2}"#, None));
    let delivered = |r: &Rig| r.events.iter().filter(|e| matches!(e, HubEvent::Message { .. } | HubEvent::Desired(_))).count();
    assert_eq!(delivered(&r), 0);
    // Held, so not acknowledged: the hub still owns them.
    assert!(!r.sent.iter().any(|o| matches!(o, Out::PubAck(11 | 12))));
    r.e.listen_messages();
    r.pump();
    let bodies: Vec<_> = r.events.iter().filter_map(|e| match e {
        HubEvent::Message { payload, pkid, .. } => Some((payload.clone(), *pkid)),
        _ => None,
    }).collect();
    assert_eq!(bodies, vec![(b"one".to_vec(), Some(11)), (b"two".to_vec(), Some(12))]);
    assert_eq!(delivered(&r), 2);
    r.e.listen_desired();
    r.pump();
    assert_eq!(delivered(&r), 3);
}

#[test]
fn at_most_max_held_c2d_messages_wait_for_a_handler_and_the_rest_stay_unacknowledged() {
    let mut r = Rig::unheard(EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap()));
    r.connect();
    for i in 0..(MAX_HELD as u16 + 5) {
        r.feed(&server_publish("devices/dev1/messages/devicebound/", b"m", Some(i + 1)));
    }
    r.e.listen_messages();
    r.pump();
    let n = r.events.iter().filter(|e| matches!(e, HubEvent::Message { .. })).count();
    assert_eq!(n, MAX_HELD);
    assert!(!r.sent.iter().any(|o| matches!(o, Out::PubAck(_))));
}

#[test]
fn without_retry_first_connect_a_failed_first_connection_reports_why_and_closes() {
    let mut opts = EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap());
    opts.retry_first_connect = false;
    let mut r = Rig::new(opts);
    r.e.handle_opened(r.now, 0.5, "SharedAccessSignature se=1".into());
    r.pump();
    r.feed(&[0x20, 0x02, 0x00, 0x05]);
    r.e.handle_closed(r.now, 0.5, azure_iot_wasm::mqtt::MqttError::Closed);
    r.pump();
    assert!(r.e.is_closed());
    assert_eq!(r.open_requests, 1);
    let disconnected = r.events.iter().find_map(|e| match e {
        HubEvent::Disconnected { reason, .. } => Some(*reason),
        _ => None,
    });
    assert_eq!(disconnected, Some("NOT_AUTHORIZED"));
    assert!(!r.events.iter().any(|e| matches!(e, HubEvent::Reconnecting { .. })));
    assert_eq!(r.events.last(), Some(&HubEvent::Closed));
}

#[test]
fn a_method_goes_to_its_own_handler_else_to_star() {
    let mut r = Rig::unheard(EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap()));
    assert_eq!(r.e.method_handler("reboot"), None);
    r.e.listen_method("*");
    assert_eq!(r.e.method_handler("reboot"), Some("*"));
    r.e.listen_method("reboot");
    assert_eq!(r.e.method_handler("reboot"), Some("reboot"));
    assert_eq!(r.e.method_handler("dance"), Some("*"));
}

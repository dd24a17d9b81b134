//! The hub engine's deadlines, against the scripted hub of `hub_rig`: opens that never get a
//! token or socket, a hub that never sends SUBACK, send timeouts, and the token-renewal floor.
#![cfg(not(target_arch = "wasm32"))]

mod hub_rig;

use azure_iot_wasm::hub::*;
use hub_rig::*;
use serde_json::json;

fn disconnect_codes(r: &Rig) -> Vec<&'static str> {
    r.events
        .iter()
        .filter_map(|e| match e {
            HubEvent::Disconnected { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

#[test]
fn an_open_that_never_gets_a_token_or_socket_times_out_and_backs_off() {
    let mut r = Rig::device();
    // The driver is still waiting on getToken or the socket factory: the engine keeps a deadline.
    assert_eq!(r.e.poll_timeout(), Some(r.now + 30_000));
    r.advance(30_000);
    assert_eq!(disconnect_codes(&r), vec!["CONNECT_TIMEOUT"]);
    assert_eq!(r.close_requests, 1, "the driver drops whatever it was opening");
    assert!(r.events.iter().any(|e| matches!(e, HubEvent::Reconnecting { attempt: 1, .. })));
    r.advance_to_open();
    assert_eq!(r.open_requests, 2);
}

#[test]
fn a_failed_token_provider_drops_the_open_with_token_provider_failed_and_backs_off() {
    let mut r = Rig::device();
    r.e.handle_token_failed(r.now, 0.5, "no token server");
    r.pump();
    assert_eq!(disconnect_codes(&r), vec!["TOKEN_PROVIDER_FAILED"]);
    assert!(r.events.iter().any(|e| matches!(e,
        HubEvent::Disconnected { message, .. } if message == "getToken failed: no token server")));
    assert!(r.events.iter().any(|e| matches!(e, HubEvent::Reconnecting { attempt: 1, .. })));
}

#[test]
fn a_hub_that_never_sends_suback_fails_the_connection_at_the_connect_timeout() {
    let mut r = Rig::device();
    r.e.handle_opened(r.now, 0.5, "SharedAccessSignature sr=x&sig=y&se=99999999999".into());
    r.pump();
    r.feed(&[0x20, 0x02, 0x00, 0x00]);
    assert!(r.sent.iter().any(|o| matches!(o, Out::Subscribe { .. })));
    r.advance(29_000);
    assert!(disconnect_codes(&r).is_empty());
    r.advance(1_000);
    assert_eq!(disconnect_codes(&r), vec!["CONNECT_TIMEOUT"]);
    assert_eq!(r.close_requests, 1);
}

#[test]
fn with_a_send_timeout_queued_and_in_flight_sends_fail_with_timeout() {
    let mut opts = EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap());
    opts.send_timeout_ms = Some(5_000);
    let mut r = Rig::new(opts);
    let offline = r.e.send(r.now, &Message::new("offline")).unwrap();
    r.pump();
    r.advance(5_000);
    assert_eq!(r.sends_done(), vec![(offline, Err(HubError::Timeout))]);

    let mut opts = EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap());
    opts.send_timeout_ms = Some(5_000);
    let mut r = Rig::new(opts);
    r.connect();
    let in_flight = r.e.send(r.now, &Message::new("no puback")).unwrap();
    r.pump();
    assert_eq!(r.telemetry().len(), 1);
    r.advance(4_999);
    assert!(r.sends_done().is_empty());
    r.advance(1);
    assert_eq!(r.sends_done(), vec![(in_flight, Err(HubError::Timeout))]);
    // A late PUBACK does not settle it twice.
    let id = r.telemetry()[0].0;
    r.feed(&[0x40, 0x02, (id >> 8) as u8, id as u8]);
    assert_eq!(r.sends_done().len(), 1);
}

#[test]
fn a_short_lived_token_is_not_renewed_before_the_minimum_interval() {
    let mut r = Rig::device();
    // A token provider handing out 1 s tokens: the old rule renewed after 1 s, ~1 reconnect/s.
    r.connect_with(1, json!({"$version": 1}));
    r.advance(59_000);
    assert_eq!(r.close_requests, 0, "no renewal in the first minute");
    assert_eq!(r.open_requests, 1);
}

#[test]
fn a_fixed_token_is_never_renewed_and_once_expired_ends_the_client_with_hub_unauthorized() {
    let mut opts = EngineOptions::new(Identity::new("hub.local", "dev1", None).unwrap());
    opts.renew_tokens = false;
    let mut r = Rig::new(opts);
    // 50 s keeps the test inside the first keep-alive period (no PINGRESP is scripted).
    r.connect_with(50, json!({"$version": 1}));
    r.advance(49_000);
    assert_eq!(r.close_requests, 0, "no renewal reconnect for a token nothing can renew");
    // The hub ends the connection at the expiry; the reconnect presents the same, expired token.
    r.now += 2_000;
    r.e.handle_closed(r.now, 0.5, azure_iot_wasm::mqtt::MqttError::ConnectionLost { code: None, reason: String::new() });
    r.pump();
    r.advance_to_open();
    let se = (r.now - 2_000) / 1000 - 1;
    r.e.handle_opened(r.now, 0.5, format!("SharedAccessSignature sr=x&sig=y&se={se}"));
    r.pump();
    assert!(r.events.contains(&HubEvent::Error(HubError::TokenExpired)));
    assert!(r.events.contains(&HubEvent::Closed));
    assert_eq!(disconnect_codes(&r).last(), Some(&"HUB_UNAUTHORIZED"));
    assert!(r.e.is_closed());
}

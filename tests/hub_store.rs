//! The durable-send policy of the hub core (`hub::store`): the ledger's bounds, message ids,
//! the order of restored records, and which stored topics the engine will publish.

mod hub_rig;

use azure_iot_wasm::hub::*;
use hub_rig::*;

fn record(id: &str, seq: u64, topic: &str, body: &[u8]) -> StoredRecord {
    StoredRecord { id: id.into(), seq, topic: topic.into(), body: body.to_vec() }
}

#[test]
fn the_ledger_admits_within_both_bounds_and_gives_room_back_on_release() {
    let mut l = StoreLedger::new(2, 100);
    assert_eq!(l.admit(40), Ok(1));
    assert_eq!(l.admit(40), Ok(2));
    assert!(matches!(l.admit(1), Err(HubError::StoreFull { capacity: 2, .. })), "count bound");
    l.release(40);
    assert!(matches!(l.admit(61), Err(HubError::StoreFull { .. })), "byte bound");
    assert_eq!(l.admit(60), Ok(3));
    assert_eq!(HubError::StoreFull { capacity: 2, bytes: 100 }.code(), "QUEUE_FULL");
}

#[test]
fn restored_records_count_even_past_the_bounds_and_new_ones_are_numbered_after_them() {
    let mut l = StoreLedger::new(1, 1000);
    l.restore(&record("a", 41, "t", b"x"));
    l.restore(&record("b", 7, "t", b"y"));
    assert_eq!(l.len(), 2);
    assert!(l.admit(1).is_err(), "full: the restored ones fill it");
    l.release(2);
    l.release(2);
    assert_eq!(l.admit(1), Ok(42));
}

#[test]
fn a_send_without_a_message_id_gets_one_from_the_seed_and_keeps_a_given_one() {
    let mut m = Message::new("x");
    assert_eq!(stored_message_id(&mut m, 0xabc, 5), "0000000000000abc-5");
    assert_eq!(m.system, vec![("$.mid".to_string(), "0000000000000abc-5".to_string())]);
    let mut given = Message::new("x").with_system("$.mid", "mine");
    assert_eq!(stored_message_id(&mut given, 1, 1), "mine");
    assert_eq!(given.system.len(), 1);
}

#[test]
fn restored_records_go_out_in_seq_order_whatever_order_the_store_lists_them_in() {
    let mut rs = vec![record("c", 3, "t", b""), record("a", 1, "t", b""), record("b", 2, "t", b"")];
    restore_order(&mut rs);
    assert_eq!(rs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
}

#[test]
fn only_this_identitys_telemetry_topics_are_its_own() {
    let dev = Identity::new("hub.local", "dev1", None).unwrap();
    let module = Identity::new("hub.local", "dev1", Some("m1")).unwrap();
    assert!(is_own_telemetry(&dev, "devices/dev1/messages/events/%24.mid=1"));
    assert!(!is_own_telemetry(&dev, "devices/dev10/messages/events/"));
    assert!(!is_own_telemetry(&dev, "devices/dev1/modules/m1/messages/events/"));
    assert!(!is_own_telemetry(&dev, "$iothub/twin/GET/?$rid=1"));
    assert!(is_own_telemetry(&module, "devices/dev1/modules/m1/messages/events/"));
}

#[test]
fn the_engine_publishes_a_stored_record_as_it_was_and_refuses_another_devices() {
    let mut r = Rig::device();
    r.connect();
    let op = r.e.send_stored(r.now, "devices/dev1/messages/events/%24.mid=s-1".into(), b"kept".to_vec()).unwrap();
    r.pump();
    let sent = r.sent.iter().rev().find_map(|o| match o {
        Out::Publish { topic, payload, .. } if topic.contains("/messages/events/") => Some((topic.clone(), payload.clone())),
        _ => None,
    });
    assert_eq!(sent, Some(("devices/dev1/messages/events/%24.mid=s-1".to_string(), b"kept".to_vec())));
    assert!(op > 0);
    assert!(matches!(
        r.e.send_stored(r.now, "devices/other/messages/events/".into(), vec![]),
        Err(HubError::InvalidArgument(_))
    ));
    assert!(matches!(
        r.e.send_stored(r.now, "devices/dev1/messages/events/".into(), vec![0; MAX_MESSAGE_SIZE + 1]),
        Err(HubError::MessageTooLarge { .. })
    ));
}

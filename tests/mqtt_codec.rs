#![cfg(not(target_arch = "wasm32"))]
//! Golden byte vectors for every packet the client sends and receives: the examples of the
//! MQTT 3.1.1 specification (OASIS, 2014) and Azure-shaped CONNECTs.

use azure_iot_wasm::mqtt::codec::*;
use azure_iot_wasm::mqtt::{Connect, Incoming, MqttError, Publish, QoS};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
}

fn one(bytes: &[u8]) -> Result<Incoming, MqttError> {
    let (p, used) = decode(bytes, 1 << 20)?.expect("a whole packet");
    assert_eq!(used, bytes.len());
    Ok(p)
}

#[test]
fn connect_matches_the_spec_variable_header_example_with_username_password_and_clean_session() {
    // Spec §3.1.2.10 example: 00 04 'MQTT' 04 <flags> 00 0a (keep-alive 10). No will here, so
    // flags are C2 (user name, password, clean session) rather than the example's CE.
    let mut out = Vec::new();
    let c = Connect { client_id: "c", username: Some("u"), password: Some("p"), keep_alive_secs: 10, clean_session: true };
    encode_connect(&mut out, &c).unwrap();
    assert_eq!(out, hex("10 13 00 04 4d 51 54 54 04 c2 00 0a 00 01 63 00 01 75 00 01 70"));
}

#[test]
fn connect_with_only_a_client_id_sets_no_flags_but_clean_session() {
    let mut out = Vec::new();
    let c = Connect { client_id: "", username: None, password: None, keep_alive_secs: 0, clean_session: true };
    encode_connect(&mut out, &c).unwrap();
    assert_eq!(out, hex("10 0c 00 04 4d 51 54 54 04 02 00 00 00 00"));
}

#[test]
fn azure_hub_connect_carries_long_username_and_sas_password_with_two_byte_remaining_length() {
    let user = "contoso-hub.azure-devices.net/python-device-008/?api-version=2021-04-12&DeviceClientType=azure-iot-wasm%2F0.1.0";
    let pass = "SharedAccessSignature sr=contoso-hub.azure-devices.net%2Fdevices%2Fpython-device-008&sig=3Y1yP9wYkAXHf2dTg2y1C8mYl0Wj2vV0m1kO0m9aKqE%3D&se=1700003600";
    let c = Connect {
        client_id: "python-device-008",
        username: Some(user),
        password: Some(pass),
        keep_alive_secs: 180,
        clean_session: false,
    };
    let mut out = Vec::new();
    encode_connect(&mut out, &c).unwrap();
    // remaining length 293 = a5 02; flags c0 = user name + password, clean session 0;
    // keep-alive 180 = 00 b4; then client id (17 = 0x11), user name (111 = 0x6f), password
    // (149 = 0x95), each with its 2-byte length.
    let mut expected = hex("10 a5 02 00 04 4d 51 54 54 04 c0 00 b4 00 11");
    expected.extend_from_slice(b"python-device-008");
    expected.extend_from_slice(&[0x00, 0x6f]);
    expected.extend_from_slice(user.as_bytes());
    expected.extend_from_slice(&[0x00, 0x95]);
    expected.extend_from_slice(pass.as_bytes());
    assert_eq!(out, expected);
}

#[test]
fn dps_connect_uses_registration_id_as_client_id() {
    let c = Connect {
        client_id: "r1",
        username: Some("0ne00000A0A/registrations/r1/api-version=2019-03-31"),
        password: Some("SharedAccessSignature sr=x&sig=y&se=1&skn=registration"),
        keep_alive_secs: 60,
        clean_session: true,
    };
    let mut out = Vec::new();
    encode_connect(&mut out, &c).unwrap();
    assert_eq!(&out[..14], &hex("10 7b 00 04 4d 51 54 54 04 c2 00 3c 00 02")[..]);
    assert_eq!(out.len(), 2 + 0x7b);
}

#[test]
fn connect_refuses_a_client_id_with_nul_or_over_65535_bytes() {
    let mut out = Vec::new();
    let c = Connect { client_id: "a\0b", username: None, password: None, keep_alive_secs: 0, clean_session: true };
    assert_eq!(encode_connect(&mut out, &c), Err(MqttError::InvalidArgument("client id")));
    let long = "x".repeat(65_536);
    let c = Connect { client_id: &long, ..c };
    assert!(encode_connect(&mut out, &c).is_err());
    assert!(out.is_empty(), "nothing written on error");
}

#[test]
fn publish_qos1_matches_the_spec_example_topic_a_b_packet_id_10() {
    // Spec §3.3.2.3: topic "a/b", packet id 10 → 00 03 61 2f 62 00 0a.
    let mut out = Vec::new();
    encode_publish(&mut out, "a/b", b"hi", QoS::AtLeastOnce, 10, false, false).unwrap();
    assert_eq!(out, hex("32 09 00 03 61 2f 62 00 0a 68 69"));
}

#[test]
fn publish_qos0_has_no_packet_id_and_flags_encode_dup_and_retain() {
    let mut out = Vec::new();
    encode_publish(&mut out, "a/b", b"", QoS::AtMostOnce, 0, false, true).unwrap();
    assert_eq!(out, hex("31 05 00 03 61 2f 62"));
    out.clear();
    encode_publish(&mut out, "a/b", b"", QoS::AtLeastOnce, 0x1234, true, false).unwrap();
    assert_eq!(out, hex("3a 07 00 03 61 2f 62 12 34"));
    out.clear();
    // DUP is meaningless at QoS 0 and must be 0 (§3.3.1.1).
    encode_publish(&mut out, "t", b"", QoS::AtMostOnce, 0, true, false).unwrap();
    assert_eq!(out[0], 0x30);
}

#[test]
fn publish_refuses_wildcards_and_empty_topics() {
    let mut out = Vec::new();
    assert!(matches!(encode_publish(&mut out, "a/+", b"", QoS::AtMostOnce, 0, false, false), Err(MqttError::InvalidTopic(_))));
    assert!(matches!(encode_publish(&mut out, "#", b"", QoS::AtMostOnce, 0, false, false), Err(MqttError::InvalidTopic(_))));
    assert!(matches!(encode_publish(&mut out, "", b"", QoS::AtMostOnce, 0, false, false), Err(MqttError::InvalidTopic(_))));
}

#[test]
fn publish_of_a_256kb_azure_telemetry_message_uses_a_three_byte_remaining_length() {
    let topic = "devices/python-device-008/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8";
    let payload = vec![b'x'; 256 * 1024];
    let mut out = Vec::new();
    encode_publish(&mut out, topic, &payload, QoS::AtLeastOnce, 1, false, false).unwrap();
    let remaining = 2 + topic.len() + 2 + payload.len();
    assert_eq!(out.len(), 1 + 3 + remaining);
    assert_eq!(publish_len(topic, payload.len(), QoS::AtLeastOnce).unwrap(), out.len());
    assert_eq!(decode(&[0x30, out[1], out[2], out[3]], usize::MAX).unwrap(), None);
}

#[test]
fn puback_pingreq_and_disconnect_are_fixed_strings() {
    let mut out = Vec::new();
    encode_puback(&mut out, 10);
    encode_pingreq(&mut out);
    encode_disconnect(&mut out);
    assert_eq!(out, hex("40 02 00 0a c0 00 e0 00"));
}

#[test]
fn subscribe_matches_the_spec_payload_example() {
    // Spec §3.8.3 example: "a/b" QoS 1, "c/d" QoS 2 — this client asks for at most QoS 1.
    let mut out = Vec::new();
    encode_subscribe(&mut out, 10, &[("a/b", QoS::AtLeastOnce), ("c/d", QoS::AtMostOnce)]).unwrap();
    assert_eq!(out, hex("82 0e 00 0a 00 03 61 2f 62 01 00 03 63 2f 64 00"));
}

#[test]
fn azure_subscriptions_with_wildcards_encode() {
    let mut out = Vec::new();
    encode_subscribe(&mut out, 1, &[("$iothub/twin/res/#", QoS::AtMostOnce)]).unwrap();
    let mut expected = hex("82 17 00 01 00 12");
    expected.extend_from_slice(b"$iothub/twin/res/#");
    expected.push(0);
    assert_eq!(out, expected);
}

#[test]
fn subscribe_refuses_misplaced_wildcards_and_an_empty_list() {
    let mut out = Vec::new();
    for bad in ["a/#/b", "a#", "a/b+", "", "sport+"] {
        assert!(matches!(encode_subscribe(&mut out, 1, &[(bad, QoS::AtMostOnce)]), Err(MqttError::InvalidTopic(_))), "{bad}");
    }
    assert!(encode_subscribe(&mut out, 1, &[]).is_err());
    for good in ["#", "+", "+/+", "a/+/c", "/", "$dps/registrations/res/#"] {
        encode_subscribe(&mut out, 1, &[(good, QoS::AtMostOnce)]).unwrap();
    }
}

#[test]
fn unsubscribe_matches_the_spec_payload_example() {
    // Spec §3.10.3 example: "a/b", "c/d".
    let mut out = Vec::new();
    encode_unsubscribe(&mut out, 10, &["a/b", "c/d"]).unwrap();
    assert_eq!(out, hex("a2 0c 00 0a 00 03 61 2f 62 00 03 63 2f 64"));
}

#[test]
fn connack_decodes_accepted_refused_and_session_present() {
    assert_eq!(one(&hex("20 02 00 00")), Ok(Incoming::ConnAck { session_present: false, code: 0 }));
    assert_eq!(one(&hex("20 02 01 00")), Ok(Incoming::ConnAck { session_present: true, code: 0 }));
    assert_eq!(one(&hex("20 02 00 05")), Ok(Incoming::ConnAck { session_present: false, code: 5 }));
    assert!(matches!(one(&hex("20 02 02 00")), Err(MqttError::Protocol(_))), "reserved ack flag");
    assert!(matches!(one(&hex("20 03 00 00 00")), Err(MqttError::Protocol(_))), "trailing byte");
    assert!(matches!(one(&hex("21 02 00 00")), Err(MqttError::Protocol(_))), "reserved header flag");
}

#[test]
fn publish_decodes_qos0_qos1_retain_and_dup() {
    assert_eq!(
        one(&hex("30 07 00 03 61 2f 62 68 69")),
        Ok(Incoming::Publish(Publish { topic: "a/b".into(), payload: b"hi".to_vec(), qos: QoS::AtMostOnce, retain: false, dup: false, pkid: None }))
    );
    assert_eq!(
        one(&hex("3b 07 00 03 61 2f 62 00 0a")),
        Ok(Incoming::Publish(Publish { topic: "a/b".into(), payload: vec![], qos: QoS::AtLeastOnce, retain: true, dup: true, pkid: Some(10) }))
    );
}

#[test]
fn inbound_qos2_is_unsupported_and_qos3_is_malformed() {
    assert_eq!(one(&hex("34 07 00 03 61 2f 62 00 0a")), Err(MqttError::UnsupportedQos));
    assert!(matches!(one(&hex("36 07 00 03 61 2f 62 00 0a")), Err(MqttError::Protocol(_))));
}

#[test]
fn publish_with_bad_utf8_nul_wildcard_or_packet_id_0_is_a_protocol_error() {
    for bytes in ["30 05 00 03 61 ff 62", "30 05 00 03 61 00 62", "30 05 00 03 61 2f 23", "32 07 00 03 61 2f 62 00 00", "30 02 00 00", "30 03 00 05 61"] {
        assert!(matches!(one(&hex(bytes)), Err(MqttError::Protocol(_))), "{bytes}");
    }
}

#[test]
fn puback_unsuback_and_pingresp_decode() {
    assert_eq!(one(&hex("40 02 00 0a")), Ok(Incoming::PubAck(10)));
    assert_eq!(one(&hex("b0 02 ff ff")), Ok(Incoming::UnsubAck(65535)));
    assert_eq!(one(&hex("d0 00")), Ok(Incoming::PingResp));
    assert!(one(&hex("d0 01 00")).is_err());
    assert!(one(&hex("40 03 00 0a 00")).is_err());
}

#[test]
fn suback_matches_the_spec_example_including_the_0x80_failure() {
    // Spec §3.9.3 example: granted 0, granted 2, failure.
    assert_eq!(one(&hex("90 05 00 0a 00 02 80")), Ok(Incoming::SubAck { pkid: 10, results: vec![Some(0), Some(2), None] }));
    assert!(one(&hex("90 03 00 0a 03")).is_err(), "return code 3 is invalid");
    assert!(one(&hex("90 02 00 0a")).is_err(), "no return codes");
}

#[test]
fn server_must_not_send_client_packet_types() {
    for bytes in ["10 00", "82 00", "a2 00", "c0 00", "e0 00", "50 02 00 01", "f0 00", "00 00"] {
        assert!(matches!(one(&hex(bytes)), Err(MqttError::Protocol(_))), "{bytes}");
    }
}

#[test]
fn remaining_length_matches_the_spec_table_boundaries() {
    // Spec §2.2.3 table: 127 = 7f, 128 = 80 01, 16383 = ff 7f, 16384 = 80 80 01,
    // 2097151 = ff ff 7f, 2097152 = 80 80 80 01, 268435455 = ff ff ff 7f.
    for (len, bytes) in [
        (0usize, "00"),
        (127, "7f"),
        (128, "80 01"),
        (16_383, "ff 7f"),
        (16_384, "80 80 01"),
        (2_097_151, "ff ff 7f"),
        (2_097_152, "80 80 80 01"),
        (268_435_455, "ff ff ff 7f"),
    ] {
        // A QoS 0 publish with a 1-byte topic has remaining length 3 + payload.
        if (3..3_000_000).contains(&len) {
            let mut out = Vec::new();
            encode_publish(&mut out, "t", &vec![0; len - 3], QoS::AtMostOnce, 0, false, false).unwrap();
            assert_eq!(&out[1..1 + bytes.split_whitespace().count()], &hex(bytes)[..], "{len}");
        }
        // The decoder reads the same length from the header and asks for the rest.
        let mut header = vec![0x30];
        header.extend(hex(bytes));
        if len > 0 {
            assert_eq!(decode(&header, usize::MAX), Ok(None), "{len}");
        }
    }
}

#[test]
fn a_fifth_remaining_length_byte_is_malformed() {
    assert!(matches!(decode(&hex("30 ff ff ff ff 01"), usize::MAX), Err(MqttError::Protocol(_))));
}

#[test]
fn a_packet_over_the_size_limit_is_refused_from_its_header_alone() {
    assert_eq!(decode(&hex("30 80 80 01"), 1024), Err(MqttError::PacketTooLarge));
    assert_eq!(decode(&hex("30 ff ff ff 7f"), usize::MAX), Ok(None), "the largest length is legal");
    let too_big = "x".repeat(MAX_REMAINING_LENGTH);
    let mut out = Vec::new();
    assert_eq!(encode_publish(&mut out, "t", too_big.as_bytes(), QoS::AtMostOnce, 0, false, false), Err(MqttError::PacketTooLarge));
}

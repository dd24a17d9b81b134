//! Named vectors for every IoT Hub string the client builds or parses (protocol §5).
#![cfg(not(target_arch = "wasm32"))]

use azure_iot_wasm::hub::*;

fn device() -> Identity {
    Identity::new("myhub.azure-devices.net", "dev-1", None).unwrap()
}

fn module() -> Identity {
    Identity::new("myhub.azure-devices.net", "dev-1", Some("mod-a")).unwrap()
}

#[test]
fn device_connect_fields_follow_section_5_1() {
    let id = device();
    assert_eq!(id.client_id(), "dev-1");
    assert_eq!(
        id.username(Some("azure-iot-wasm/0.1.0"), None),
        "myhub.azure-devices.net/dev-1/?api-version=2021-04-12&DeviceClientType=azure-iot-wasm%2F0.1.0"
    );
    assert_eq!(id.resource_uri(), "myhub.azure-devices.net/devices/dev-1");
    assert_eq!(
        id.websocket_url(),
        "wss://myhub.azure-devices.net/$iothub/websocket?iothub-no-client-cert=true"
    );
}

#[test]
fn model_id_is_url_encoded_in_the_username() {
    assert_eq!(
        device().username(Some("azsdk-c/1.0"), Some("dtmi:YOUR_COMPANY_NAME_HERE:sample_device;1")),
        "myhub.azure-devices.net/dev-1/?api-version=2021-04-12&DeviceClientType=azsdk-c%2F1.0\
         &model-id=dtmi%3AYOUR_COMPANY_NAME_HERE%3Asample_device%3B1"
    );
}

#[test]
fn module_connect_fields_follow_section_5_8() {
    let id = module();
    assert_eq!(id.client_id(), "dev-1/mod-a");
    assert_eq!(
        id.username(Some("x"), None),
        "myhub.azure-devices.net/dev-1/mod-a/?api-version=2021-04-12&DeviceClientType=x"
    );
    assert_eq!(id.resource_uri(), "myhub.azure-devices.net/devices/dev-1/modules/mod-a");
}

#[test]
fn default_client_type_names_this_library() {
    assert!(device()
        .username(None, None)
        .ends_with("&DeviceClientType=azure-iot-wasm%2F0.1.0"));
}

#[test]
fn sas_password_has_no_skn_and_its_expiry_parses_back() {
    let token = device()
        .sas_token("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1_700_000_000)
        .unwrap();
    assert!(token.starts_with("SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev-1&sig="));
    assert!(token.ends_with("&se=1700000000"));
    assert!(!token.contains("skn="));
    assert_eq!(sas_expiry(&token), Some(1_700_000_000));
    assert_eq!(sas_expiry("SharedAccessSignature sig=x&se=42&sr=a"), Some(42));
    assert_eq!(sas_expiry("not a token"), None);
}

#[test]
fn identities_that_would_break_topics_are_refused() {
    assert_eq!(Identity::new("", "d", None).unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(Identity::new("h", "", None).unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(Identity::new("h", "a/b", None).unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(
        Identity::new("h", "d", Some("m#")).unwrap_err().code(),
        "INVALID_ARGUMENT"
    );
}

#[test]
fn device_connection_string_parses_with_padding_in_the_key() {
    let cs = ConnectionString::parse("HostName=h.azure-devices.net;DeviceId=d1;SharedAccessKey=abc=").unwrap();
    assert_eq!(cs.host_name, "h.azure-devices.net");
    assert_eq!(cs.device_id, "d1");
    assert_eq!(cs.module_id, None);
    assert_eq!(cs.shared_access_key.as_deref(), Some("abc="));
}

#[test]
fn module_connection_string_parses_in_any_order_with_a_trailing_semicolon() {
    let cs = ConnectionString::parse("DeviceId=d1;ModuleId=m1;SharedAccessKey=k==;HostName=h;").unwrap();
    assert_eq!(cs.module_id.as_deref(), Some("m1"));
    assert_eq!(cs.host_name, "h");
}

#[test]
fn bad_connection_strings_say_what_is_wrong() {
    let err = |s: &str| ConnectionString::parse(s).unwrap_err();
    assert_eq!(
        err("DeviceId=d;SharedAccessKey=k").to_string(),
        "connection string lacks HostName"
    );
    assert_eq!(
        err("HostName=h;SharedAccessKey=k").to_string(),
        "connection string lacks DeviceId"
    );
    assert_eq!(err("HostName=h;DeviceId=d").code(), "INVALID_CONNECTION_STRING");
    assert_eq!(
        err("HostName=h;HostName=i;DeviceId=d;SharedAccessKey=k").to_string(),
        "connection string repeats a key"
    );
    assert_eq!(
        err("HostName=h;DeviceId;SharedAccessKey=k").code(),
        "INVALID_CONNECTION_STRING"
    );
    assert_eq!(
        err("HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey=k").code(),
        "INVALID_CONNECTION_STRING"
    );
    assert_eq!(err("").code(), "INVALID_CONNECTION_STRING");
}

#[test]
fn telemetry_without_properties_goes_to_the_events_topic_with_its_trailing_slash() {
    assert_eq!(
        telemetry_topic(&device(), &Message::new("hi")).unwrap(),
        "devices/dev-1/messages/events/"
    );
    assert_eq!(
        telemetry_topic(&module(), &Message::new("hi")).unwrap(),
        "devices/dev-1/modules/mod-a/messages/events/"
    );
}

#[test]
fn system_properties_are_sent_as_percent_24_and_come_before_application_properties() {
    let msg = Message::new("{}")
        .with_system("$.mid", "m 1")
        .with_system("$.cid", "c1")
        .with_system("$.ct", "application/json;charset=utf-8")
        .with_system("$.ce", "utf-8")
        .with_property("temperature alert", "true")
        .with_property("path", "/a?b=c&d");
    assert_eq!(
        telemetry_topic(&device(), &msg).unwrap(),
        "devices/dev-1/messages/events/%24.mid=m%201&%24.cid=c1&%24.ct=application%2Fjson%3Bcharset%3Dutf-8\
         &%24.ce=utf-8&temperature%20alert=true&path=%2Fa%3Fb%3Dc%26d"
    );
}

#[test]
fn reserved_or_empty_application_property_names_are_refused() {
    let e = telemetry_topic(&device(), &Message::new("x").with_property("$.mid", "y")).unwrap_err();
    assert_eq!(e.code(), "INVALID_PROPERTY");
    assert!(telemetry_topic(&device(), &Message::new("x").with_property("", "y")).is_err());
}

#[test]
fn message_size_counts_body_system_values_and_property_names_and_values() {
    let msg = Message::new(vec![0u8; 100])
        .with_system("$.mid", "12345")
        .with_property("ab", "cde");
    assert_eq!(msg.hub_size(), 100 + 5 + 2 + 3);
}

#[test]
fn a_message_of_exactly_256_kb_is_sent_and_one_byte_more_is_message_too_large() {
    let exact = Message::new(vec![b'a'; 262_144]);
    assert!(telemetry_topic(&device(), &exact).is_ok());
    let over = Message::new(vec![b'a'; 262_140]).with_property("k", "vvvv");
    let e = telemetry_topic(&device(), &over).unwrap_err();
    assert_eq!(e.code(), "MESSAGE_TOO_LARGE");
    assert_eq!(
        e.to_string(),
        "message is 262145 bytes as the hub counts it; the limit is 262144"
    );
}

#[test]
fn c2d_topic_in_decoded_form_from_azure_sdk_for_c_parses() {
    let m = parse_c2d_topic(
        "devices/useragent_c/messages/devicebound/$.mid=79eadb01-bd0d-472d-bd35-ccb76e70eab8\
         &$.to=/devices/useragent_c/messages/deviceBound&abc=123",
    )
    .unwrap();
    assert_eq!(m.get("$.mid"), Some("79eadb01-bd0d-472d-bd35-ccb76e70eab8"));
    assert_eq!(m.get("$.to"), Some("/devices/useragent_c/messages/deviceBound"));
    assert_eq!(m.get("abc"), Some("123"));
    assert_eq!(m.input_name, None);
}

#[test]
fn c2d_topic_in_encoded_form_decodes_keys_and_values_but_not_plus() {
    let m = parse_c2d_topic(
        "devices/useragent_c/messages/devicebound/%24.to=%2Fdevices%2Fuseragent_c%2Fmessages%2FdeviceBound\
         &abc=123&ghi=%2Fsome%2Fthing&jkl=%2Fsome%2Fthing%2F%3Fbla%3Dbla&plus=a+b",
    )
    .unwrap();
    assert_eq!(m.get("$.to"), Some("/devices/useragent_c/messages/deviceBound"));
    assert_eq!(m.get("jkl"), Some("/some/thing/?bla=bla"));
    assert_eq!(m.get("plus"), Some("a+b"));
}

#[test]
fn c2d_bag_keeps_null_and_empty_values_apart() {
    let m = parse_c2d_topic("devices/d/messages/devicebound/prop1&prop2=&prop3=a%20string").unwrap();
    assert_eq!(
        m.properties,
        vec![
            ("prop1".to_string(), None),
            ("prop2".to_string(), Some(String::new())),
            ("prop3".to_string(), Some("a string".to_string())),
        ]
    );
}

#[test]
fn c2d_topic_without_a_bag_has_no_properties() {
    assert_eq!(
        parse_c2d_topic("devices/d/messages/devicebound/").unwrap().properties,
        vec![]
    );
    assert_eq!(
        parse_c2d_topic("devices/d/messages/devicebound").unwrap().properties,
        vec![]
    );
}

#[test]
fn module_input_topic_names_its_input() {
    let m = parse_c2d_topic("devices/d/modules/m/inputs/input1/%24.mid=x&k=v").unwrap();
    assert_eq!(m.input_name.as_deref(), Some("input1"));
    assert_eq!(m.get("$.mid"), Some("x"));
    assert_eq!(c2d_filter(&module()), "devices/dev-1/modules/mod-a/inputs/#");
    assert_eq!(c2d_filter(&device()), "devices/dev-1/messages/devicebound/#");
}

#[test]
fn topics_that_are_not_c2d_are_none() {
    assert_eq!(parse_c2d_topic("devices/d/messages/events/"), None);
    assert_eq!(parse_c2d_topic("devices/d/messages/deviceboundX"), None);
    assert_eq!(parse_c2d_topic("$iothub/twin/res/200/?$rid=1"), None);
    assert_eq!(parse_c2d_topic("devices/d/inputs/x/"), None);
}

#[test]
fn method_request_from_azure_sdk_for_c_tests_parses() {
    assert_eq!(
        parse_method_topic("$iothub/methods/POST/TestMethod/?$rid=1"),
        Some(MethodRequest {
            name: "TestMethod".into(),
            rid: "1".into()
        })
    );
    assert_eq!(parse_method_topic("$iothub/methods/POST/TestMethod/?x=y"), None);
    assert_eq!(parse_method_topic("$iothub/methods/POST//?$rid=1"), None);
    assert_eq!(parse_method_topic("$iothub/twin/res/200/?$rid=1"), None);
}

#[test]
fn method_response_topic_echoes_status_and_rid() {
    assert_eq!(method_response_topic(200, "1"), "$iothub/methods/res/200/?$rid=1");
    assert_eq!(method_response_topic(65535, "2"), "$iothub/methods/res/65535/?$rid=2");
}

#[test]
fn twin_request_topics_carry_the_rid() {
    assert_eq!(twin_get_topic("7"), "$iothub/twin/GET/?$rid=7");
    assert_eq!(twin_patch_topic("8"), "$iothub/twin/PATCH/properties/reported/?$rid=8");
}

#[test]
fn twin_responses_parse_status_rid_and_version_in_any_order() {
    assert_eq!(
        parse_twin_response_topic("$iothub/twin/res/204/?$rid=1&$version=6"),
        Some(TwinResponse {
            status: 204,
            rid: "1".into(),
            version: Some(6)
        })
    );
    assert_eq!(
        parse_twin_response_topic("$iothub/twin/res/200/?$version=3&$rid=abc"),
        Some(TwinResponse {
            status: 200,
            rid: "abc".into(),
            version: Some(3)
        })
    );
    assert_eq!(
        parse_twin_response_topic("$iothub/twin/res/504/?$rid=2")
            .unwrap()
            .status,
        504
    );
    assert_eq!(parse_twin_response_topic("$iothub/twin/res/abc/?$rid=2"), None);
}

#[test]
fn desired_notification_topic_gives_its_version() {
    assert_eq!(
        parse_desired_topic("$iothub/twin/PATCH/properties/desired/?$version=12"),
        Some(Some(12))
    );
    assert_eq!(
        parse_desired_topic("$iothub/twin/PATCH/properties/desired/"),
        Some(None)
    );
    assert_eq!(
        parse_desired_topic("$iothub/twin/PATCH/properties/reported/?$rid=1"),
        None
    );
}

#[test]
fn classify_routes_each_kind_of_inbound_topic() {
    assert!(matches!(
        classify("$iothub/twin/res/200/?$rid=1"),
        Some(Inbound::TwinResponse(_))
    ));
    assert!(matches!(
        classify("$iothub/twin/PATCH/properties/desired/?$version=2"),
        Some(Inbound::DesiredPatch(Some(2)))
    ));
    assert!(matches!(
        classify("$iothub/methods/POST/reboot/?$rid=9"),
        Some(Inbound::Method(_))
    ));
    assert!(matches!(
        classify("devices/d/messages/devicebound/a=b"),
        Some(Inbound::C2d(_))
    ));
    assert_eq!(classify("something/else"), None);
}

#[test]
fn a_client_subscribes_to_four_filters() {
    assert_eq!(
        subscriptions(&device()),
        vec![
            "devices/dev-1/messages/devicebound/#",
            "$iothub/methods/POST/#",
            "$iothub/twin/res/#",
            "$iothub/twin/PATCH/properties/desired/#"
        ]
    );
}

#[test]
fn a_gateway_host_name_is_where_to_connect_while_the_identity_keeps_the_hub_host_name() {
    let cs = ConnectionString::parse("HostName=h.azure-devices.net;DeviceId=d1;SharedAccessKey=abc=;GatewayHostName=edge.local")
        .unwrap();
    assert_eq!(cs.connect_host(), "edge.local");
    assert_eq!(
        websocket_url(cs.connect_host()),
        "wss://edge.local/$iothub/websocket?iothub-no-client-cert=true"
    );
    let id = Identity::new(&cs.host_name, &cs.device_id, None).unwrap();
    assert_eq!(id.resource_uri(), "h.azure-devices.net/devices/d1");
    let plain = ConnectionString::parse("HostName=h.azure-devices.net;DeviceId=d1;SharedAccessKey=abc=").unwrap();
    assert_eq!(plain.connect_host(), "h.azure-devices.net");
}

#[test]
fn a_method_status_is_usable_only_as_a_whole_number_from_0_to_65535() {
    assert_eq!(method_status(200.0), Some(200));
    assert_eq!(method_status(0.0), Some(0));
    assert_eq!(method_status(65535.0), Some(65535));
    for bad in [-1.0, 65536.0, 200.5, f64::NAN, f64::INFINITY] {
        assert_eq!(method_status(bad), None, "{bad}");
    }
}

//! DPS requests as built for each transport: REST (protocol §1.1, §1.3, §1.4), MQTT (§3), and
//! the endpoint forms the caller may give.
#![cfg(not(target_arch = "wasm32"))]

use azure_iot_wasm::dps::mqtt_topics::*;
use azure_iot_wasm::dps::rest::*;
use azure_iot_wasm::dps::*;

const TOKEN: &str = "SharedAccessSignature sr=0ne00000A0A%2Fregistrations%2Fdev-1&sig=x&se=1&skn=registration";

fn reg() -> Registration {
    Registration::new("0ne00000A0A", "dev-1").unwrap()
}

#[test]
fn the_register_request_is_a_put_with_json_body_and_sas_authorization() {
    let r = register_request(&Endpoint::default(), &reg(), DEFAULT_API_VERSION, TOKEN);
    assert_eq!(r.method, "PUT");
    assert_eq!(
        r.url,
        "https://global.azure-devices-provisioning.net/0ne00000A0A/registrations/dev-1/register?api-version=2021-06-01"
    );
    assert_eq!(
        r.headers,
        vec![
            ("Accept", "application/json".to_string()),
            ("Content-Type", "application/json; charset=utf-8".to_string()),
            ("Authorization", TOKEN.to_string()),
        ]
    );
    assert_eq!(r.body.as_deref(), Some(r#"{"registrationId":"dev-1"}"#));
}

#[test]
fn the_register_body_carries_the_custom_payload_object() {
    let reg = reg().with_payload_json(r#"{"modelId":"dtmi:com:example:Thermostat;1"}"#).unwrap();
    assert_eq!(reg.body(), r#"{"registrationId":"dev-1","payload":{"modelId":"dtmi:com:example:Thermostat;1"}}"#);
}

#[test]
fn a_payload_that_is_not_a_json_object_is_an_invalid_argument() {
    for p in ["[1]", "3", "\"s\"", "null", "{", ""] {
        assert_eq!(reg().with_payload_json(p).unwrap_err().code(), "INVALID_ARGUMENT", "{p}");
    }
}

#[test]
fn the_status_request_is_a_get_without_body_on_the_operation_path() {
    let ep = Endpoint::parse("http://127.0.0.1:8080").unwrap();
    let r = operation_status_request(
        &ep,
        &reg(),
        "4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d",
        "2019-03-31",
        TOKEN,
    );
    assert_eq!(r.method, "GET");
    assert_eq!(
        r.url,
        "http://127.0.0.1:8080/0ne00000A0A/registrations/dev-1/operations/4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d?api-version=2019-03-31"
    );
    assert_eq!(r.body, None);
    assert!(r.headers.contains(&("Authorization", TOKEN.to_string())));
    assert!(!r.headers.iter().any(|(k, _)| *k == "Content-Type"));
}

#[test]
fn an_operation_id_with_reserved_characters_is_percent_encoded_in_the_path() {
    let r = operation_status_request(&Endpoint::default(), &reg(), "a/b?c", DEFAULT_API_VERSION, TOKEN);
    assert!(r.url.contains("/operations/a%2Fb%3Fc?api-version="), "{}", r.url);
}

#[test]
fn bad_scopes_and_registration_ids_are_refused_with_codes() {
    assert_eq!(Registration::new("", "dev").unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(Registration::new("0ne/../x", "dev").unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(Registration::new("0ne00000A0A", "").unwrap_err().code(), "INVALID_REGISTRATION_ID");
    assert_eq!(Registration::new("0ne00000A0A", "has space").unwrap_err().code(), "INVALID_REGISTRATION_ID");
}

#[test]
fn endpoints_parse_with_default_scheme_ports_and_proxy_prefixes() {
    let e = Endpoint::parse("global.azure-devices-provisioning.net").unwrap();
    assert_eq!(e.rest_base(), "https://global.azure-devices-provisioning.net");
    assert_eq!(e.websocket_url(), "wss://global.azure-devices-provisioning.net/$iothub/websocket");
    let e = Endpoint::parse("http://127.0.0.1:41234/").unwrap();
    assert_eq!(e.rest_base(), "http://127.0.0.1:41234");
    assert_eq!(e.websocket_url(), "ws://127.0.0.1:41234/$iothub/websocket");
    let e = Endpoint::parse("HTTPS://Proxy.Example:8443/dps/").unwrap();
    assert_eq!(e.rest_base(), "https://proxy.example:8443/dps");
    assert_eq!(e.websocket_url(), "wss://proxy.example:8443/dps/$iothub/websocket");
    let e = Endpoint::parse("http://[::1]:9000").unwrap();
    assert_eq!(e.rest_base(), "http://[::1]:9000");
}

#[test]
fn malformed_endpoints_are_invalid_arguments() {
    for s in [
        "",
        "ftp://x",
        "https://",
        "https://h:0",
        "https://h:70000",
        "https://h:x",
        "https://u@h",
        "https://h?x=1",
        "https://h/a b",
        "https://h#f",
        "https://a:b:c",
    ] {
        assert_eq!(Endpoint::parse(s).unwrap_err().code(), "INVALID_ARGUMENT", "{s:?}");
    }
}

#[test]
fn the_mqtt_username_has_no_question_mark_and_an_encoded_client_version() {
    assert_eq!(
        username("0ne00000A0A", "dev-1", DEFAULT_MQTT_API_VERSION, Some("azure-iot-wasm/0.1.0")),
        "0ne00000A0A/registrations/dev-1/api-version=2019-03-31&ClientVersion=azure-iot-wasm%2F0.1.0"
    );
    assert_eq!(username("s", "r", "2019-03-31", None), "s/registrations/r/api-version=2019-03-31");
}

#[test]
fn the_mqtt_request_topics_match_the_docs() {
    assert_eq!(RESPONSE_SUBSCRIPTION, "$dps/registrations/res/#");
    assert_eq!(register_topic("1"), "$dps/registrations/PUT/iotdps-register/?$rid=1");
    assert_eq!(
        operation_status_topic("2", "4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d"),
        "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d"
    );
}

#[test]
fn mqtt_response_topics_parse_in_either_property_order() {
    assert_eq!(
        parse_response_topic("$dps/registrations/res/202/?$rid=1&retry-after=3"),
        Some(ResponseTopic { status: 202, rid: Some("1".into()), retry_after: Some("3".into()) })
    );
    assert_eq!(
        parse_response_topic("$dps/registrations/res/202/?retry-after=120&$rid=1"),
        Some(ResponseTopic { status: 202, rid: Some("1".into()), retry_after: Some("120".into()) })
    );
    assert_eq!(
        parse_response_topic("$dps/registrations/res/401/?$rid=1"),
        Some(ResponseTopic { status: 401, rid: Some("1".into()), retry_after: None })
    );
    assert_eq!(parse_response_topic("$dps/registrations/res/200/?%24rid=7").unwrap().rid.as_deref(), Some("7"));
}

#[test]
fn topics_that_are_not_dps_responses_are_none() {
    for t in [
        "",
        "$dps/registrations/res/",
        "$dps/registrations/res/abc/?$rid=1",
        "$dps/registrations/res/999999/",
        "$iothub/twin/res/200/?$rid=1",
        "devices/x/messages/events/",
    ] {
        assert_eq!(parse_response_topic(t), None, "{t:?}");
    }
}

#[test]
fn one_query_parser_reads_topic_properties_and_sas_fields_by_key() {
    use azure_iot_wasm::query::query_value;
    assert_eq!(query_value("retry-after=120&$rid=1", "$rid"), Some("1"));
    assert_eq!(query_value("%24rid=a%2Fb&x", "$rid"), Some("a%2Fb"), "raw, %24 stands for $");
    assert_eq!(query_value("x&$version=3", "x"), Some(""));
    assert_eq!(query_value("rid=1", "$rid"), None);
    assert_eq!(query_value("", "se"), None);
    // The same parser reads a SAS token's `se`, for DPS token providers and the hub alike.
    assert_eq!(azure_iot_wasm::auth::sas_expiry(TOKEN), Some(1));
    assert_eq!(azure_iot_wasm::auth::sas_expiry("SharedAccessSignature sig=x&se=1700000000&sr=a"), Some(1_700_000_000));
    assert_eq!(azure_iot_wasm::auth::sas_expiry("SharedAccessSignature sr=a&se=soon"), None);
    assert_eq!(azure_iot_wasm::auth::sas_expiry("se=1"), None);
}

#[test]
fn response_topic_values_are_percent_decoded() {
    let t = parse_response_topic("$dps/registrations/res/202/?$rid=a%2Fb&retry-after=2").unwrap();
    assert_eq!((t.rid.as_deref(), t.retry_after.as_deref()), (Some("a/b"), Some("2")));
}

//! IoT Plug and Play conventions in the hub core (docs/pnp.md): the wire shapes of component
//! patches, writable-property acknowledgements and command names, and the engine answering each
//! writable change once — live, at start-up, after a late registration and after a reconnect.

mod hub_rig;

use azure_iot_wasm::hub::*;
use azure_iot_wasm::json::Value;
use hub_rig::*;
use serde_json::json;

fn js(v: &Value) -> serde_json::Value {
    serde_json::from_str(&v.to_string()).unwrap()
}

fn val(v: serde_json::Value) -> Value {
    Value::parse(v.to_string().as_bytes()).unwrap()
}

fn key(component: Option<&str>, name: &str) -> WritableKey {
    WritableKey { component: component.map(str::to_string), name: name.into() }
}

fn writables(r: &Rig) -> Vec<WritableChange> {
    r.events
        .iter()
        .filter_map(|e| match e {
            HubEvent::Writable(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_component_patch_carries_the_component_marker_and_a_root_patch_does_not() {
    let Value::Object(patch) = val(json!({"maxTempSinceLastReboot": 30.5})) else { unreachable!() };
    let wrapped = component_patch(Some("thermostat1"), patch.clone());
    assert_eq!(
        js(&Value::Object(wrapped)),
        json!({"thermostat1": {"__t": "c", "maxTempSinceLastReboot": 30.5}})
    );
    assert_eq!(js(&Value::Object(component_patch(None, patch))), json!({"maxTempSinceLastReboot": 30.5}));
}

#[test]
fn a_writable_acknowledgement_has_value_ac_av_and_ad_inside_its_component() {
    let ack = writable_ack(Some("thermostat1"), "targetTemperature", val(json!(21)), 200, 4, Some("ok"));
    assert_eq!(
        js(&Value::Object(ack)),
        json!({"thermostat1": {"__t": "c", "targetTemperature": {"value": 21, "ac": 200, "av": 4, "ad": "ok"}}})
    );
    let root = writable_ack(None, "targetTemperature", val(json!(21)), 400, 5, None);
    assert_eq!(js(&Value::Object(root)), json!({"targetTemperature": {"value": 21, "ac": 400, "av": 5}}));
}

#[test]
fn a_component_command_is_the_method_component_star_command() {
    assert_eq!(command_method_name(Some("thermostat1"), "getMaxMinReport"), "thermostat1*getMaxMinReport");
    assert_eq!(command_method_name(None, "reboot"), "reboot");
    assert_eq!(split_command_name("thermostat1*getMaxMinReport"), (Some("thermostat1"), "getMaxMinReport"));
    assert_eq!(split_command_name("reboot"), (None, "reboot"));
}

#[test]
fn dtdl_names_start_with_a_letter_and_hold_letters_digits_and_underscores() {
    for ok in ["thermostat1", "a", "target_Temperature"] {
        assert!(valid_dtdl_name(ok), "{ok}");
    }
    for bad in ["", "1abc", "a*b", "a-b", "ends_", "x".repeat(65).as_str(), "$version", "__t"] {
        assert!(!valid_dtdl_name(bad), "{bad}");
    }
}

#[test]
fn a_desired_patch_yields_only_the_registered_properties_it_sets() {
    let keys = [key(Some("thermostat1"), "targetTemperature"), key(None, "brightness"), key(Some("thermostat2"), "targetTemperature")];
    let patch = val(json!({"thermostat1": {"__t": "c", "targetTemperature": 21}, "brightness": null, "other": 1, "$version": 9}));
    let changes = patch_changes(&keys, &patch, None);
    assert_eq!(
        changes,
        vec![WritableChange { component: Some("thermostat1".into()), name: "targetTemperature".into(), value: val(json!(21)), version: 9 }]
    );
}

#[test]
fn a_twin_asks_again_for_a_property_acknowledged_for_another_version_with_another_value() {
    let keys = [key(Some("thermostat1"), "targetTemperature"), key(Some("thermostat2"), "targetTemperature"), key(None, "brightness")];
    let Value::Object(desired) = val(json!({
        "thermostat1": {"__t": "c", "targetTemperature": 25},
        "thermostat2": {"__t": "c", "targetTemperature": 18},
        "brightness": 3,
        "$version": 6
    })) else { unreachable!() };
    let Value::Object(reported) = val(json!({
        // answered for this version
        "thermostat1": {"__t": "c", "targetTemperature": {"value": 25, "ac": 200, "av": 6}},
        // answered for an older version with another value: asked again
        "thermostat2": {"__t": "c", "targetTemperature": {"value": 20, "ac": 200, "av": 3}},
        // an older version with the same value, accepted: another property bumped the version
        "brightness": {"value": 3, "ac": 200, "av": 2}
    })) else { unreachable!() };
    let changes = unanswered(&keys, &desired, &reported);
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].component.as_deref(), changes[0].version), (Some("thermostat2"), 6));
    assert_eq!(changes[0].value, val(json!(18)));
}

#[test]
fn a_live_desired_change_is_handed_to_its_handler_and_acknowledged_with_its_version() {
    let mut r = Rig::device();
    r.e.listen_writable(Some("thermostat1"), "targetTemperature").unwrap();
    r.connect();
    r.feed(&server_publish(
        "$iothub/twin/PATCH/properties/desired/?$version=4",
        br#"{"thermostat1":{"__t":"c","targetTemperature":22.5},"$version":4}"#,
        None,
    ));
    let changes = writables(&r);
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].version, &changes[0].value), (4, &val(json!(22.5))));
    // The generic desired handler still hears the patch.
    assert!(r.events.iter().any(|e| matches!(e, HubEvent::Desired(_))));

    r.e.ack_writable(r.now, &changes[0], val(json!(22.5)), 200, Some("done")).unwrap();
    r.pump();
    assert_eq!(
        r.reported_patches(),
        vec![json!({"thermostat1": {"__t": "c", "targetTemperature": {"value": 22.5, "ac": 200, "av": 4, "ad": "done"}}})]
    );
}

#[test]
fn at_start_up_an_unanswered_desired_value_is_handed_over_and_an_answered_one_is_not() {
    let mut r = Rig::device();
    r.e.listen_writable(None, "targetTemperature").unwrap();
    r.e.listen_writable(None, "brightness").unwrap();
    r.connect_with_twin(
        3600,
        json!({
            "desired": {"targetTemperature": 19, "brightness": 5, "$version": 3},
            "reported": {"brightness": {"value": 5, "ac": 200, "av": 3}, "$version": 2}
        }),
    );
    let changes = writables(&r);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!((changes[0].name.as_str(), changes[0].version), ("targetTemperature", 3));
}

#[test]
fn a_handler_registered_after_connecting_gets_the_current_unanswered_value() {
    let mut r = Rig::device();
    r.connect_with_twin(3600, json!({"desired": {"fanSpeed": 2, "$version": 8}, "reported": {"$version": 1}}));
    assert!(writables(&r).is_empty());
    r.e.listen_writable(None, "fanSpeed").unwrap();
    r.pump();
    let changes = writables(&r);
    assert_eq!((changes.len(), changes[0].version), (1, 8));
    // Acknowledged, it is not handed over again when registered again.
    r.e.ack_writable(r.now, &changes[0], val(json!(2)), 200, None).unwrap();
    r.e.listen_writable(None, "fanSpeed").unwrap();
    r.pump();
    assert_eq!(writables(&r).len(), 1);
}

#[test]
fn a_change_made_while_offline_is_handed_over_after_the_reconnect() {
    let mut r = Rig::device();
    r.e.listen_writable(Some("thermostat1"), "targetTemperature").unwrap();
    r.connect_with_twin(3600, json!({"desired": {"$version": 1}, "reported": {"$version": 1}}));
    r.e.handle_closed(r.now, 0.5, azure_iot_wasm::mqtt::MqttError::Closed);
    r.pump();
    r.advance_to_open();
    r.connect_with_twin(
        3600,
        json!({
            "desired": {"thermostat1": {"__t": "c", "targetTemperature": 30}, "$version": 2},
            "reported": {"$version": 1}
        }),
    );
    let changes = writables(&r);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!((changes[0].component.as_deref(), changes[0].version), (Some("thermostat1"), 2));
}

#[test]
fn a_refused_acknowledgement_is_heard_as_an_error_event() {
    let mut r = Rig::device();
    r.e.listen_writable(None, "fanSpeed").unwrap();
    r.connect_with_twin(3600, json!({"desired": {"fanSpeed": 2, "$version": 8}, "reported": {"$version": 1}}));
    let change = writables(&r).remove(0);
    r.e.ack_writable(r.now, &change, val(json!(2)), 200, None).unwrap();
    r.pump();
    r.answer_patch(400);
    assert!(r.events.iter().any(|e| matches!(e, HubEvent::Error(HubError::TwinRequestFailed { status: 400, .. }))), "{:?}", r.events);
}

#[test]
fn reported_properties_of_a_component_are_wrapped_and_bad_input_is_refused() {
    let mut r = Rig::device();
    r.connect();
    r.e.report_properties(r.now, Some("deviceInformation"), br#"{"manufacturer":"Contoso"}"#).unwrap();
    r.pump();
    assert_eq!(
        r.reported_patches(),
        vec![json!({"deviceInformation": {"__t": "c", "manufacturer": "Contoso"}})]
    );
    assert!(matches!(r.e.report_properties(r.now, Some("bad name"), b"{}"), Err(HubError::InvalidArgument(_))));
    assert!(matches!(r.e.report_properties(r.now, None, b"[1]"), Err(HubError::InvalidArgument(_))));
    assert!(matches!(r.e.listen_writable(None, "1x"), Err(HubError::InvalidArgument(_))));
}

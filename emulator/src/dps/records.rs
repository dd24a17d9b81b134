//! Enrollments and enrollment groups as DPS's service REST API writes them (api-version
//! 2021-10-01, what `azure-iot-provisioning-service` sends): `IndividualEnrollment` and
//! `EnrollmentGroup` with symmetric-key attestation, `provisioningStatus`, `initialTwin`, `etag`
//! and their times, mapped onto the emulator's own records (config.rs), which `/service/*` and
//! device registration use. Only symmetric keys exist here: TPM and X.509 are refused with 400.

use super::enrollments::RecordMeta;
use crate::config::{Enrollment, EnrollmentGroup};
use crate::guard::policies::{checked_key, random_key};
use serde::Deserialize;
use serde_json::{json, Value};

/// A refusal of a DPS service call: HTTP status, DPS errorCode (`{status}*1000+n`), message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpsError(pub u16, pub u32, pub String);

fn invalid(msg: impl Into<String>) -> DpsError {
    DpsError(400, 400004, msg.into())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Keys {
    primary_key: Option<String>,
    secondary_key: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Attestation {
    #[serde(rename = "type")]
    kind: Option<String>,
    symmetric_key: Option<Keys>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Body {
    registration_id: Option<String>,
    enrollment_group_id: Option<String>,
    device_id: Option<String>,
    attestation: Option<Attestation>,
    provisioning_status: Option<String>,
    initial_twin: Option<Value>,
}

fn parse(body: &[u8]) -> Result<Body, DpsError> {
    serde_json::from_slice(body).map_err(|e| invalid(format!("the body is not a valid enrollment: {e}")))
}

/// Keys given, or kept from the stored record, or made: DPS generates keys left empty.
fn keys(att: Option<&Attestation>, old: Option<(&str, Option<&str>)>) -> Result<(String, Option<String>), DpsError> {
    match att.and_then(|a| a.kind.as_deref()) {
        Some(k) if k.eq_ignore_ascii_case("symmetricKey") => {}
        None if old.is_some() => {}
        Some(k) => return Err(invalid(format!("attestation type '{k}' is not supported by the emulator: symmetricKey only"))),
        None => return Err(invalid("attestation is required (type symmetricKey)")),
    }
    let given = att.and_then(|a| a.symmetric_key.as_ref());
    let pick = |k: Option<&String>, old: Option<&str>, slot: &str| -> Result<String, DpsError> {
        match k.map(|s| s.trim()).filter(|s| !s.is_empty()) {
            Some(k) => checked_key(k, &format!("attestation.symmetricKey.{slot}")).map_err(invalid),
            None => old.map(|o| Ok(o.to_string())).unwrap_or_else(|| random_key().map_err(|e| DpsError(500, 500001, e))),
        }
    };
    let primary = pick(given.and_then(|g| g.primary_key.as_ref()), old.map(|o| o.0), "primaryKey")?;
    let secondary = pick(given.and_then(|g| g.secondary_key.as_ref()), old.and_then(|o| o.1), "secondaryKey")?;
    Ok((primary, Some(secondary)))
}

fn status(b: &Body, old: Option<&str>) -> Result<String, DpsError> {
    match b.provisioning_status.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(old.unwrap_or("enabled").to_string()),
        Some(s @ ("enabled" | "disabled")) => Ok(s.to_string()),
        Some(other) => Err(invalid(format!("provisioningStatus '{other}' is not enabled or disabled"))),
    }
}

/// `initialTwin.properties.desired`, the part the emulator gives the assigned device's twin.
fn desired(b: &Body, old: Option<&Value>) -> Result<Option<Value>, DpsError> {
    let Some(t) = b.initial_twin.as_ref().filter(|t| !t.is_null()) else { return Ok(old.cloned()) };
    match t.get("properties").and_then(|p| p.get("desired")) {
        None | Some(Value::Null) => Ok(None),
        Some(d @ Value::Object(_)) => Ok(Some(d.clone())),
        Some(_) => Err(invalid("initialTwin.properties.desired must be a JSON object")),
    }
}

fn named(body: Option<&str>, path: &str, field: &str) -> Result<(), DpsError> {
    match body {
        Some(b) if !b.eq_ignore_ascii_case(path) => Err(invalid(format!("the body's {field} '{b}' is not the path's '{path}'"))),
        _ => Ok(()),
    }
}

/// The record a `PUT /enrollments/{id}` asks for, over the stored one if any (the emulator's
/// own `allocation` switch survives an update).
pub fn enrollment_from(body: &[u8], reg_id: &str, old: Option<&Enrollment>) -> Result<Enrollment, DpsError> {
    if !super::valid_registration_id(reg_id) {
        return Err(DpsError(400, 400002, format!("'{reg_id}' is not a valid registration id")));
    }
    let b = parse(body)?;
    named(b.registration_id.as_deref(), reg_id, "registrationId")?;
    let (primary_key, secondary_key) = keys(b.attestation.as_ref(), old.map(|o| (o.primary_key.as_str(), o.secondary_key.as_deref())))?;
    Ok(Enrollment {
        registration_id: old.map(|o| o.registration_id.clone()).unwrap_or_else(|| reg_id.to_string()),
        device_id: b.device_id.clone().filter(|d| !d.is_empty()).or_else(|| old.and_then(|o| o.device_id.clone())),
        primary_key,
        secondary_key,
        status: status(&b, old.map(|o| o.status.as_str()))?,
        allocation: old.and_then(|o| o.allocation.clone()),
        initial_twin: desired(&b, old.and_then(|o| o.initial_twin.as_ref()))?,
    })
}

pub fn group_from(body: &[u8], id: &str, old: Option<&EnrollmentGroup>) -> Result<EnrollmentGroup, DpsError> {
    if !super::valid_registration_id(id) {
        return Err(DpsError(400, 400002, format!("'{id}' is not a valid enrollment group id")));
    }
    let b = parse(body)?;
    named(b.enrollment_group_id.as_deref(), id, "enrollmentGroupId")?;
    let (primary_key, secondary_key) = keys(b.attestation.as_ref(), old.map(|o| (o.primary_key.as_str(), o.secondary_key.as_deref())))?;
    Ok(EnrollmentGroup {
        enrollment_group_id: id.to_string(),
        primary_key,
        secondary_key,
        status: status(&b, old.map(|o| o.status.as_str()))?,
        allocation: old.and_then(|o| o.allocation.clone()),
        initial_twin: desired(&b, old.and_then(|o| o.initial_twin.as_ref()))?,
    })
}

pub fn attestation_json(primary: &str, secondary: Option<&str>) -> Value {
    json!({"type": "symmetricKey", "symmetricKey": {"primaryKey": primary, "secondaryKey": secondary}})
}

/// What DPS answers for both kinds of record, less their id fields.
fn common(primary: &str, secondary: Option<&str>, status: &str, twin: Option<&Value>, meta: Option<&RecordMeta>, hub: &str) -> serde_json::Map<String, Value> {
    let v = json!({
        "attestation": attestation_json(primary, secondary),
        "capabilities": {"iotEdge": false},
        "iotHubHostName": hub,
        "initialTwin": twin.map(|d| json!({"tags": {}, "properties": {"desired": d}})),
        "etag": meta.map(|m| m.etag_text()),
        "provisioningStatus": if status.eq_ignore_ascii_case("enabled") { "enabled" } else { "disabled" },
        "reprovisionPolicy": {"updateHubAssignment": true, "migrateDeviceData": true},
        "createdDateTimeUtc": meta.map(|m| m.created.clone()),
        "lastUpdatedDateTimeUtc": meta.map(|m| m.updated.clone()),
        "allocationPolicy": "hashed",
        "iotHubs": [hub],
    });
    v.as_object().cloned().unwrap_or_default()
}

/// `IndividualEnrollment`, with its `registrationState` once the device has registered.
pub fn enrollment_json(e: &Enrollment, meta: Option<&RecordMeta>, state: Option<Value>, hub: &str) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("registrationId".into(), json!(e.registration_id));
    o.insert("deviceId".into(), json!(e.device_id));
    if let Some(s) = state {
        o.insert("registrationState".into(), s);
    }
    o.extend(common(&e.primary_key, e.secondary_key.as_deref(), &e.status, e.initial_twin.as_ref(), meta, hub));
    Value::Object(o)
}

pub fn group_json(g: &EnrollmentGroup, meta: Option<&RecordMeta>, hub: &str) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("enrollmentGroupId".into(), json!(g.enrollment_group_id));
    o.extend(common(&g.primary_key, g.secondary_key.as_deref(), &g.status, g.initial_twin.as_ref(), meta, hub));
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_body_with_empty_keys_gets_generated_ones_and_its_initial_desired_twin() {
        let body = br#"{"enrollmentGroupId":"g1","attestation":{"type":"symmetricKey","symmetricKey":{"primaryKey":"","secondaryKey":""}},"provisioningStatus":"enabled","initialTwin":{"properties":{"desired":{"interval":5}}}}"#;
        let g = group_from(body, "g1", None).unwrap();
        assert_eq!(g.primary_key.len(), 44);
        assert_eq!(g.initial_twin, Some(json!({"interval": 5})));
        let back = group_json(&g, None, "hub");
        assert_eq!(back["attestation"]["symmetricKey"]["primaryKey"], g.primary_key.as_str());
        assert_eq!(back["initialTwin"]["properties"]["desired"], json!({"interval": 5}));
    }

    #[test]
    fn tpm_and_x509_attestations_and_a_mismatched_id_are_refused() {
        assert_eq!(enrollment_from(br#"{"attestation":{"type":"tpm"}}"#, "r1", None).unwrap_err().0, 400);
        assert_eq!(enrollment_from(br#"{"attestation":{"type":"x509"}}"#, "r1", None).unwrap_err().0, 400);
        assert_eq!(enrollment_from(br#"{"registrationId":"r2","attestation":{"type":"symmetricKey"}}"#, "r1", None).unwrap_err().0, 400);
        assert_eq!(enrollment_from(br#"{"provisioningStatus":"maybe","attestation":{"type":"symmetricKey"}}"#, "r1", None).unwrap_err().0, 400);
    }
}

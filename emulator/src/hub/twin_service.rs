//! Twins as IoT Hub's service REST API sees them: Azure's `Twin` document (tags, desired and
//! reported with their `$version`s, the twin's `version` and ETag, the device's status and
//! connection), `PATCH` (merge tags and desired) and `PUT` (replace them) under `If-Match`. A
//! desired change reaches a subscribed device exactly as a `/service/*` patch does (cloud.rs).

use super::registry::{device_not_found, module_not_found, record_etag, IfMatch, ServiceError, NEVER};
use super::{cloud, identity_key, IdentityState};
use crate::state::State;
use serde_json::{json, Map, Value};

/// The identity must be in the registry: twins live and die with their device or module.
fn registered(state: &State, device: &str, module: Option<&str>) -> Result<(), ServiceError> {
    let d = state.hub.devices.get(device).ok_or_else(|| device_not_found(device))?;
    match module {
        Some(m) if !d.modules.iter().any(|x| x.module_id == m) => Err(module_not_found(device, m)),
        _ => Ok(()),
    }
}

fn document(state: &State, device: &str, module: Option<&str>, e: &IdentityState) -> Value {
    let status = state.hub.devices.get(device).map(|d| d.status.to_ascii_lowercase()).unwrap_or_default();
    let mut desired = e.twin.desired.clone();
    desired.insert("$version".into(), json!(e.twin.desired_version));
    let mut reported = e.twin.reported.clone();
    reported.insert("$version".into(), json!(e.twin.reported_version));
    let mut v = json!({
        "deviceId": device,
        "etag": e.twin.etag(),
        "deviceEtag": state.hub.meta.get(device).map(|m| record_etag(m.etag)),
        "status": status,
        "statusUpdateTime": NEVER,
        "connectionState": if e.conn.is_some() { "Connected" } else { "Disconnected" },
        "lastActivityTime": if e.last_activity.is_empty() { NEVER.to_string() } else { e.last_activity.clone() },
        "cloudToDeviceMessageCount": e.c2d.len(),
        "authenticationType": "sas",
        "x509Thumbprint": {"primaryThumbprint": null, "secondaryThumbprint": null},
        "modelId": e.model_id.clone().unwrap_or_default(),
        "version": e.twin.version,
        "tags": Value::Object(e.twin.tags.clone()),
        "properties": {"desired": desired, "reported": reported},
        "capabilities": {"iotEdge": false},
    });
    if let (Some(m), Some(o)) = (module, v.as_object_mut()) {
        o.insert("moduleId".into(), json!(m));
        o.remove("capabilities");
    }
    v
}

/// `GET /twins/{id}` (`/modules/{mid}`).
pub fn get(state: &State, device: &str, module: Option<&str>) -> Result<Value, ServiceError> {
    registered(state, device, module)?;
    let key = identity_key(device, module);
    let e = state.hub.identities.entry(key).or_default();
    Ok(document(state, device, module, &e))
}

/// What a twin write carries: `tags` and `properties.desired`. The rest (`properties.reported`,
/// `etag`, `status`, …) is read-only and ignored, so that a twin read back and sent whole, as the
/// Python SDK's `replace_twin` samples do, is accepted.
struct Write {
    tags: Option<Value>,
    desired: Option<Value>,
}

fn parse_write(body: &[u8]) -> Result<Write, ServiceError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ServiceError::invalid(format!("the body is not JSON: {e}")))?;
    let Value::Object(o) = v else { return Err(ServiceError::invalid("the twin must be a JSON object")) };
    let tags = o.get("tags").filter(|t| !t.is_null()).cloned();
    if tags.as_ref().is_some_and(|t| !t.is_object()) {
        return Err(ServiceError::invalid("tags must be a JSON object"));
    }
    let props = o.get("properties").filter(|p| !p.is_null());
    if props.is_some_and(|p| !p.is_object()) {
        return Err(ServiceError::invalid("properties must be a JSON object"));
    }
    let desired = props.and_then(|p| p.get("desired")).filter(|d| !d.is_null()).cloned();
    if desired.as_ref().is_some_and(|d| !d.is_object()) {
        return Err(ServiceError::invalid("properties.desired must be a JSON object"));
    }
    Ok(Write { tags, desired })
}

/// `PATCH` (`replace` false: merge) or `PUT` (`replace` true) of a twin's tags and desired
/// properties, all or nothing, under `If-Match` (the twin's ETag, or `*`).
pub fn write(state: &State, device: &str, module: Option<&str>, body: &[u8], if_match: &IfMatch, replace: bool) -> Result<Value, ServiceError> {
    registered(state, device, module)?;
    let w = parse_write(body)?;
    let key = identity_key(device, module);
    let (doc, conn, change) = {
        let mut e = state.hub.identities.entry(key.clone()).or_default();
        if_match.check(Some(&e.twin.etag()), &format!("the twin of '{key}'"))?;
        let mut t = e.twin.clone();
        let bad = |err: super::twin::TwinError| ServiceError::invalid(err.0);
        match (&w.tags, replace) {
            (Some(tags), false) => t.patch_tags(tags).map_err(bad)?,
            (tags, true) => t.replace_tags(tags.as_ref().unwrap_or(&Value::Object(Map::new()))).map_err(bad)?,
            (None, false) => {}
        }
        let change = match (&w.desired, replace) {
            (Some(d), false) => Some(t.patch_desired(d).map_err(bad)?),
            (d, true) => t.replace_desired(d.as_ref().unwrap_or(&Value::Object(Map::new()))).map_err(bad)?,
            (None, false) => None,
        };
        e.twin = t;
        (document(state, device, module, &e), e.conn.clone(), change)
    };
    if let Some((version, body)) = change {
        let patch = w.desired.clone().unwrap_or(Value::Null);
        cloud::notify_desired(state, &key, conn, version, body, &patch);
    }
    Ok(doc)
}

/// Every registered identity's twin, devices first then their modules, by id: what
/// `SELECT * FROM devices` (and `devices.modules`) reads (query.rs).
pub fn all(state: &State, modules: bool) -> Vec<Value> {
    let mut ids: Vec<(String, Vec<String>)> = state.hub.devices.iter().map(|d| (d.device_id.clone(), d.modules.iter().map(|m| m.module_id.clone()).collect())).collect();
    ids.sort();
    let mut out = Vec::new();
    for (d, ms) in ids {
        if modules {
            out.extend(ms.iter().filter_map(|m| get(state, &d, Some(m)).ok()));
        } else if let Ok(t) = get(state, &d, None) {
            out.push(t);
        }
    }
    out
}

//! The identity registry as IoT Hub's service REST API sees it: devices and modules with their
//! `generationId` and ETag, the `If-Match` rules of create/update/delete, and Azure's JSON
//! shapes (`Device`, `Module` in the REST reference, api-version 2021-04-12). It works on the one
//! registry the device side and `/service/*` use (hub/mod.rs), so both APIs see every change.
//!
//! Design: an ETag is a counter per identity (`Hub::meta`), bumped on every write of that
//! record; a device's and a module's are independent, as on Azure.

use super::{identity_key, ConnCmd, Hub, IdentityState};
use crate::config::{DeviceIdentity, ModuleIdentity};
use crate::guard::policies::{checked_key, random_key};
use base64::{engine::general_purpose::STANDARD, Engine};
use serde::Deserialize;
use serde_json::{json, Value};

/// IoT Hub's "never" timestamp, what it reports for a time that has not happened.
pub const NEVER: &str = "0001-01-01T00:00:00Z";

/// A refusal of a service REST call: HTTP status, IoT Hub's error name, text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError(pub u16, pub &'static str, pub String);

impl ServiceError {
    pub fn invalid(text: impl Into<String>) -> ServiceError {
        ServiceError(400, "ArgumentInvalid", text.into())
    }
}

/// Per identity (device or `device/module`): what the registry API versions.
#[derive(Debug, Clone)]
pub struct Meta {
    pub generation_id: String,
    pub etag: u64,
}

/// ETag of a registry record: base64 of the counter's decimal digits (Azure's look, `"MQ=="`).
pub fn record_etag(n: u64) -> String {
    STANDARD.encode(n.to_string())
}

/// An `If-Match` header: absent, `*`, or an ETag with its quotes (and any `W/`) taken off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Absent,
    Any,
    Tag(String),
}

impl IfMatch {
    pub fn parse(header: Option<&str>) -> IfMatch {
        match header.map(str::trim) {
            None | Some("") => IfMatch::Absent,
            Some("*") | Some("\"*\"") => IfMatch::Any,
            Some(t) => IfMatch::Tag(unquote(t).to_string()),
        }
    }

    /// Whether a write may proceed over a record whose ETag is `current` (None: no record).
    pub fn check(&self, current: Option<&str>, what: &str) -> Result<(), ServiceError> {
        match (self, current) {
            (IfMatch::Tag(t), Some(c)) if unquote(t) != unquote(c) => {
                Err(ServiceError(412, "PreconditionFailed", format!("Precondition failed: the ETag of {what} is not '{t}'")))
            }
            _ => Ok(()),
        }
    }
}

pub fn unquote(t: &str) -> &str {
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.strip_prefix('"').and_then(|x| x.strip_suffix('"')).unwrap_or(t)
}

/// Device ids: up to 128 ASCII letters, digits and `- . + % _ # * ? ! ( ) , : = @ $ '` (IoT Hub's
/// identity registry rules); module ids the same.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_alphanumeric() || "-.+%_#*?!(),:=@$'".contains(c))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct KeysBody {
    primary_key: Option<String>,
    secondary_key: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AuthBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    symmetric_key: Option<KeysBody>,
}

/// The fields of a `Device` or `Module` body the emulator acts on; the rest are Azure's own
/// read-only fields and are ignored, as IoT Hub does.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct IdentityBody {
    device_id: Option<String>,
    module_id: Option<String>,
    status: Option<String>,
    authentication: Option<AuthBody>,
}

fn parse_body(body: &[u8]) -> Result<IdentityBody, ServiceError> {
    serde_json::from_slice(body).map_err(|e| ServiceError::invalid(format!("the body is not a valid identity: {e}")))
}

/// The keys a write asks for; each one left empty is generated, as IoT Hub does. Only `sas`
/// authentication exists here (the emulator has no X.509).
fn keys_of(auth: Option<&AuthBody>, old: Option<(&str, Option<&str>)>) -> Result<(String, Option<String>), ServiceError> {
    if let Some(kind) = auth.and_then(|a| a.kind.as_deref()) {
        if !kind.eq_ignore_ascii_case("sas") {
            return Err(ServiceError::invalid(format!("authentication type '{kind}' is not supported by the emulator: symmetric keys (sas) only")));
        }
    }
    let given = auth.and_then(|a| a.symmetric_key.as_ref());
    let pick = |k: Option<&String>, old: Option<&str>, slot: &str| -> Result<String, ServiceError> {
        match k.map(|s| s.trim()).filter(|s| !s.is_empty()) {
            Some(k) => checked_key(k, &format!("authentication.symmetricKey.{slot}")).map_err(ServiceError::invalid),
            None => old.map(str::to_string).map(Ok).unwrap_or_else(|| random_key().map_err(|e| ServiceError(500, "ServerError", e))),
        }
    };
    let primary = pick(given.and_then(|g| g.primary_key.as_ref()), old.map(|o| o.0), "primaryKey")?;
    let secondary = pick(given.and_then(|g| g.secondary_key.as_ref()), old.and_then(|o| o.1), "secondaryKey")?;
    Ok((primary, Some(secondary)))
}

fn named_id(body: Option<&str>, path: &str, field: &str) -> Result<(), ServiceError> {
    match body {
        Some(b) if b != path => Err(ServiceError::invalid(format!("the body's {field} '{b}' is not the path's '{path}'"))),
        _ => Ok(()),
    }
}

impl Hub {
    /// Bumps the ETag of one identity, giving it a generation id the first time.
    pub fn touch(&self, key: &str) {
        self.meta
            .entry(key.to_string())
            .and_modify(|m| m.etag += 1)
            .or_insert_with(|| Meta { generation_id: format!("{}", 638_000_000_000_000_000u64 + self.next_id()), etag: 1 });
    }

    pub fn etag_of(&self, key: &str) -> Option<String> {
        self.meta.get(key).map(|m| record_etag(m.etag))
    }

    /// Removes a device, its modules and their twins and queues, closing their connections:
    /// on Azure a deleted identity's twin goes with it.
    pub fn remove_device(&self, id: &str) -> Option<DeviceIdentity> {
        let (_, d) = self.devices.remove(id)?;
        let keys = std::iter::once(id.to_string()).chain(d.modules.iter().map(|m| identity_key(id, Some(&m.module_id))));
        for k in keys {
            self.forget_identity(&k, "DeviceNotFound: the identity was deleted from the registry");
        }
        Some(d)
    }

    fn forget_identity(&self, key: &str, why: &str) {
        self.meta.remove(key);
        if let Some(mut e) = self.identities.get_mut(key) {
            if let Some(c) = &e.conn {
                let _ = c.tx.send(ConnCmd::Close { code: 401002, reason: why.into() });
            }
            let conn = e.conn.take();
            *e = IdentityState { conn, ..Default::default() };
        }
    }

    fn close(&self, key: &str, why: &str) {
        if let Some(c) = self.connection(key) {
            let _ = c.tx.send(ConnCmd::Close { code: 401002, reason: why.into() });
        }
    }

    /// `PUT /devices/{id}`: no `If-Match` creates (409 if it exists), an `If-Match` updates
    /// (404 if missing, 412 on another ETag). Keys left empty are generated, or kept on update.
    pub fn put_device(&self, id: &str, body: &[u8], if_match: &IfMatch) -> Result<Value, ServiceError> {
        if !valid_id(id) {
            return Err(ServiceError::invalid(format!("'{id}' is not a valid device id")));
        }
        let b = parse_body(body)?;
        named_id(b.device_id.as_deref(), id, "deviceId")?;
        let status = match b.status.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some(s @ ("enabled" | "disabled")) => Some(s.to_string()),
            Some(other) => return Err(ServiceError::invalid(format!("status '{other}' is not enabled or disabled"))),
        };
        let old = self.devices.get(id).map(|d| d.clone());
        match (&old, if_match) {
            (Some(_), IfMatch::Absent) => return Err(ServiceError(409, "DeviceAlreadyExists", format!("A device with ID '{id}' is already registered."))),
            (None, IfMatch::Any | IfMatch::Tag(_)) => return Err(device_not_found(id)),
            _ => {}
        }
        if_match.check(self.etag_of(id).as_deref(), &format!("device '{id}'"))?;
        let (primary_key, secondary_key) = keys_of(b.authentication.as_ref(), old.as_ref().map(|d| (d.primary_key.as_str(), d.secondary_key.as_deref())))?;
        let status = status.or_else(|| old.as_ref().map(|d| d.status.clone())).unwrap_or_else(|| "enabled".into());
        let disabled = status == "disabled";
        let modules = old.map(|d| d.modules).unwrap_or_default();
        let module_keys: Vec<String> = modules.iter().map(|m| identity_key(id, Some(&m.module_id))).collect();
        self.devices.insert(id.to_string(), DeviceIdentity { device_id: id.to_string(), primary_key, secondary_key, status, modules });
        self.identities.entry(id.to_string()).or_default();
        self.touch(id);
        if disabled {
            for k in std::iter::once(id.to_string()).chain(module_keys) {
                self.close(&k, "DeviceDisabled: the device was disabled in the registry");
            }
        }
        self.device_json(id).ok_or_else(|| device_not_found(id))
    }

    /// `PUT /devices/{id}/modules/{mid}`, with the same `If-Match` rules as a device.
    pub fn put_module(&self, device: &str, module: &str, body: &[u8], if_match: &IfMatch) -> Result<Value, ServiceError> {
        if !valid_id(module) {
            return Err(ServiceError::invalid(format!("'{module}' is not a valid module id")));
        }
        let b = parse_body(body)?;
        named_id(b.device_id.as_deref(), device, "deviceId")?;
        named_id(b.module_id.as_deref(), module, "moduleId")?;
        let key = identity_key(device, Some(module));
        {
            let mut d = self.devices.get_mut(device).ok_or_else(|| device_not_found(device))?;
            let old = d.modules.iter().position(|m| m.module_id == module);
            match (old, if_match) {
                (Some(_), IfMatch::Absent) => {
                    return Err(ServiceError(409, "ModuleAlreadyExistsOnDevice", format!("A module with ID '{module}' already exists on device '{device}'.")))
                }
                (None, IfMatch::Any | IfMatch::Tag(_)) => return Err(module_not_found(device, module)),
                _ => {}
            }
            if_match.check(self.etag_of(&key).as_deref(), &format!("module '{key}'"))?;
            let old_keys = old.map(|i| (d.modules[i].primary_key.clone(), d.modules[i].secondary_key.clone()));
            let (primary_key, secondary_key) = keys_of(b.authentication.as_ref(), old_keys.as_ref().map(|(p, s)| (p.as_str(), s.as_deref())))?;
            let m = ModuleIdentity { module_id: module.to_string(), primary_key, secondary_key };
            match old {
                Some(i) => d.modules[i] = m,
                None => d.modules.push(m),
            }
        }
        self.identities.entry(key.clone()).or_default();
        self.touch(&key);
        self.module_json(device, module).ok_or_else(|| module_not_found(device, module))
    }

    /// `DELETE /devices/{id}` (`If-Match` optional: both SDKs send `*` or the ETag).
    pub fn delete_device(&self, id: &str, if_match: &IfMatch) -> Result<(), ServiceError> {
        if !self.devices.contains_key(id) {
            return Err(device_not_found(id));
        }
        if_match.check(self.etag_of(id).as_deref(), &format!("device '{id}'"))?;
        self.remove_device(id).map(|_| ()).ok_or_else(|| device_not_found(id))
    }

    pub fn delete_module(&self, device: &str, module: &str, if_match: &IfMatch) -> Result<(), ServiceError> {
        let key = identity_key(device, Some(module));
        {
            let d = self.devices.get(device).ok_or_else(|| device_not_found(device))?;
            if !d.modules.iter().any(|m| m.module_id == module) {
                return Err(module_not_found(device, module));
            }
        }
        if_match.check(self.etag_of(&key).as_deref(), &format!("module '{key}'"))?;
        if let Some(mut d) = self.devices.get_mut(device) {
            d.modules.retain(|m| m.module_id != module);
        }
        self.forget_identity(&key, "ModuleNotFound: the module was deleted from the registry");
        Ok(())
    }

    fn conn_fields(&self, key: &str) -> (Value, Value, usize) {
        let st = self.identities.get(key);
        let conn = st.as_ref().and_then(|s| s.conn.clone());
        let state = if conn.is_some() { "Connected" } else { "Disconnected" };
        let last = st.as_ref().map(|s| s.last_activity.clone()).filter(|s| !s.is_empty()).unwrap_or_else(|| NEVER.into());
        (json!(state), json!(last), st.map(|s| s.c2d.len()).unwrap_or(0))
    }

    fn auth_json(primary: &str, secondary: Option<&str>) -> Value {
        json!({"symmetricKey": {"primaryKey": primary, "secondaryKey": secondary},
               "x509Thumbprint": {"primaryThumbprint": null, "secondaryThumbprint": null}, "type": "sas"})
    }

    /// Azure's `Device`.
    pub fn device_json(&self, id: &str) -> Option<Value> {
        let d = self.devices.get(id)?.clone();
        let meta = self.meta.get(id).map(|m| m.clone()).unwrap_or(Meta { generation_id: String::new(), etag: 0 });
        let (state, last, c2d) = self.conn_fields(id);
        Some(json!({
            "deviceId": d.device_id, "generationId": meta.generation_id, "etag": record_etag(meta.etag),
            "connectionState": state, "status": if d.status.eq_ignore_ascii_case("enabled") { "enabled" } else { "disabled" },
            "statusReason": null, "connectionStateUpdatedTime": NEVER, "statusUpdatedTime": NEVER,
            "lastActivityTime": last, "cloudToDeviceMessageCount": c2d,
            "authentication": Hub::auth_json(&d.primary_key, d.secondary_key.as_deref()),
            "capabilities": {"iotEdge": false},
        }))
    }

    /// Azure's `Module`.
    pub fn module_json(&self, device: &str, module: &str) -> Option<Value> {
        let m = self.devices.get(device)?.modules.iter().find(|m| m.module_id == module)?.clone();
        let key = identity_key(device, Some(module));
        let meta = self.meta.get(&key).map(|m| m.clone()).unwrap_or(Meta { generation_id: String::new(), etag: 0 });
        let (state, last, c2d) = self.conn_fields(&key);
        Some(json!({
            "moduleId": m.module_id, "deviceId": device, "managedBy": null, "generationId": meta.generation_id,
            "etag": record_etag(meta.etag), "connectionState": state, "connectionStateUpdatedTime": NEVER,
            "lastActivityTime": last, "cloudToDeviceMessageCount": c2d,
            "authentication": Hub::auth_json(&m.primary_key, m.secondary_key.as_deref()),
        }))
    }

    /// `GET /devices?top=N`: at most `top` devices (1–1000, anything else is 1000), by id.
    pub fn list_devices_json(&self, top: Option<usize>) -> Vec<Value> {
        let mut ids: Vec<String> = self.devices.iter().map(|d| d.key().clone()).collect();
        ids.sort();
        let top = top.filter(|n| (1..=1000).contains(n)).unwrap_or(1000);
        ids.iter().take(top).filter_map(|id| self.device_json(id)).collect()
    }

    pub fn modules_json(&self, device: &str) -> Option<Vec<Value>> {
        let names: Vec<String> = self.devices.get(device)?.modules.iter().map(|m| m.module_id.clone()).collect();
        Some(names.iter().filter_map(|m| self.module_json(device, m)).collect())
    }

    /// `DELETE /devices/{id}/commands`: drops the device's pending C2D messages.
    pub fn purge_c2d(&self, device: &str) -> Result<Value, ServiceError> {
        if !self.devices.contains_key(device) {
            return Err(device_not_found(device));
        }
        let n = self.identities.get_mut(device).map(|mut e| {
            let n = e.c2d.iter().filter(|m| m.in_flight.is_none()).count();
            e.c2d.retain(|m| m.in_flight.is_some());
            n
        });
        Ok(json!({"totalMessagesPurged": n.unwrap_or(0), "deviceId": device, "moduleId": null}))
    }
}

pub fn device_not_found(id: &str) -> ServiceError {
    ServiceError(404, "DeviceNotFound", format!("Device '{id}' not found."))
}

pub fn module_not_found(device: &str, module: &str) -> ServiceError {
    ServiceError(404, "ModuleNotFound", format!("Module '{module}' not found on device '{device}'."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_compares_etags_without_their_quotes_and_star_matches_anything() {
        assert_eq!(IfMatch::parse(Some("\"MQ==\"")), IfMatch::Tag("MQ==".into()));
        assert_eq!(IfMatch::parse(Some("*")), IfMatch::Any);
        assert_eq!(IfMatch::parse(None), IfMatch::Absent);
        assert!(IfMatch::Tag("MQ==".into()).check(Some("MQ=="), "x").is_ok());
        assert_eq!(IfMatch::Tag("MQ==".into()).check(Some("Mg=="), "x").unwrap_err().0, 412);
        assert!(IfMatch::Any.check(Some("Mg=="), "x").is_ok());
    }

    #[test]
    fn device_ids_follow_the_registry_character_rules() {
        assert!(valid_id("my-device_1.a:b@c"));
        assert!(!valid_id("with space"));
        assert!(!valid_id(&"a".repeat(129)));
        assert!(!valid_id(""));
    }
}

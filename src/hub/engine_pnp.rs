//! The hub engine's IoT Plug and Play side (docs/pnp.md): which writable properties the
//! application handles, which desired values it must answer, and the acknowledgements and
//! component-wrapped reported patches it sends.
//!
//! Design: a writable property is answered exactly for
//! * every desired notification that sets it, and every change made while the device was
//!   offline (the resync diff after a reconnect, desired.rs) — both come through `desired_update`;
//! * at start-up (the first twin GET) and when its handler is registered later: its desired value,
//!   unless `reported` already acknowledges it (`pnp::unanswered`). The engine keeps the twin's
//!   `reported` section of the latest GET, merged with every reported patch sent since, for that.
//!
//! An acknowledgement is a reported patch the engine sends on its own; if it fails, the
//! application hears an `Error` event (there is no Promise to reject).

use super::engine::{HubEngine, TwinToken};
use super::engine_types::HubEvent;
use super::pnp::{component_patch, patch_changes, unanswered, valid_dtdl_name, writable_ack, WritableChange, WritableKey};
use super::{merge_patch, DesiredUpdate, HubError, TwinRequestKind};
use crate::json::{Map, Value};

fn check_component(component: Option<&str>) -> Result<(), HubError> {
    match component {
        Some(c) if !valid_dtdl_name(c) => Err(HubError::InvalidArgument("component must be a DTDL name")),
        _ => Ok(()),
    }
}

impl HubEngine {
    /// The application now handles writable property `name` (of `component`): changes come as
    /// `HubEvent::Writable`, starting with its current desired value if still unanswered.
    pub fn listen_writable(&mut self, component: Option<&str>, name: &str) -> Result<(), HubError> {
        check_component(component)?;
        if !valid_dtdl_name(name) {
            return Err(HubError::InvalidArgument("name must be a DTDL name"));
        }
        let key = WritableKey { component: component.map(str::to_string), name: name.to_string() };
        if self.writables.keys.contains(&key) {
            return Ok(());
        }
        if let (Some(desired), Some(reported)) = (self.desired.document(), &self.writables.reported) {
            let changes = unanswered(core::slice::from_ref(&key), desired, reported);
            self.events.extend(changes.into_iter().map(HubEvent::Writable));
        }
        self.writables.keys.push(key);
        Ok(())
    }

    /// Acknowledges `change` (docs/pnp.md §3): `value` is what the device now holds, `status` the
    /// `ac` code (200 accepted; 4xx/5xx refused), `description` the optional `ad`.
    pub fn ack_writable(
        &mut self,
        now: u64,
        change: &WritableChange,
        value: Value,
        status: u16,
        description: Option<&str>,
    ) -> Result<(), HubError> {
        if self.is_closed() {
            return Err(HubError::Closed);
        }
        let patch = writable_ack(change.component.as_deref(), &change.name, value, status, change.version, description);
        self.remember_reported(&patch);
        self.twin_send(now, TwinRequestKind::PatchReported, Value::Object(patch).to_string().into_bytes(), TwinToken::Ack);
        Ok(())
    }

    /// `update_reported` for the properties of `component` (`None`: the root), wrapped with the
    /// component marker; `patch` is the JSON text of an object.
    pub fn report_properties(&mut self, now: u64, component: Option<&str>, patch: &[u8]) -> Result<u64, HubError> {
        check_component(component)?;
        let Some(Value::Object(map)) = Value::parse(patch) else {
            return Err(HubError::InvalidArgument("patch must be a JSON object"));
        };
        let wrapped = component_patch(component, map);
        self.remember_reported(&wrapped);
        self.update_reported(now, Value::Object(wrapped).to_string().into_bytes())
    }

    fn remember_reported(&mut self, patch: &Map) {
        if let Some(r) = &mut self.writables.reported {
            merge_patch(r, patch);
        }
    }

    /// A desired update about to be delivered: the registered properties it sets are reported
    /// first, as `Writable` events.
    pub(super) fn desired_update(&mut self, now: u64, u: DesiredUpdate) {
        let changes = patch_changes(&self.writables.keys, &u.patch, u.version);
        self.events.extend(changes.into_iter().map(HubEvent::Writable));
        self.deliver(now, HubEvent::Desired(u));
    }

    /// The resync GET's twin (`first`: the start-up one, which only sets the desired baseline):
    /// keeps its `reported`, and at start-up reports the writable properties still unanswered.
    pub(super) fn writables_on_twin(&mut self, twin: &Value, first: bool) {
        let reported = twin.get("reported").and_then(Value::as_object).cloned().unwrap_or_default();
        if first {
            let desired = twin.get("desired").and_then(Value::as_object).cloned().unwrap_or_default();
            let changes = unanswered(&self.writables.keys, &desired, &reported);
            self.events.extend(changes.into_iter().map(HubEvent::Writable));
        }
        self.writables.reported = Some(reported);
    }
}

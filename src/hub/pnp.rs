//! IoT Plug and Play conventions (docs/pnp.md), as pure functions over JSON: the component
//! wrapper of reported properties, the acknowledgement of a writable property, the method name of
//! a component command, and which registered writable properties a desired patch or a whole twin
//! asks the device to answer.
//!
//! Wire shapes (docs/pnp.md §2–§4):
//! * a property of component `c` is reported as `{"c":{"__t":"c","name":…}}`; root-level ones as
//!   `{"name":…}`;
//! * a writable property is answered `{"name":{"value":…,"ac":200,"av":<desired $version>,"ad":"…"}}`
//!   (inside the component wrapper for a component property);
//! * a desired patch addresses a component property as `{"c":{"__t":"c","name":…}}` (the `__t`
//!   marker may be absent); `$`-prefixed members are metadata;
//! * a command `cmd` of component `c` arrives as the direct method `c*cmd`.

use crate::json::{Map, Value};

/// The marker member of a component object in the twin, and its value.
const COMPONENT_MARKER: (&str, &str) = ("__t", "c");

/// One writable property the application handles: `component` is `None` at the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritableKey {
    pub component: Option<String>,
    pub name: String,
}

/// A desired value for a registered writable property, to be handled and acknowledged with `av`
/// = `version` (the desired document's `$version`; 0 when the hub did not say).
#[derive(Debug, Clone, PartialEq)]
pub struct WritableChange {
    pub component: Option<String>,
    pub name: String,
    pub value: Value,
    pub version: i64,
}

/// DTDL names (components, properties, commands): a letter, then letters, digits or `_`, not
/// ending in `_`, at most 64 characters.
pub fn valid_dtdl_name(s: &str) -> bool {
    let b = s.as_bytes();
    matches!(b.first(), Some(c) if c.is_ascii_alphabetic())
        && b.len() <= 64
        && b.last() != Some(&b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// `patch` as a reported patch of `component`: `{"c":{"__t":"c",…patch}}`, or `patch` at the root.
pub fn component_patch(component: Option<&str>, patch: Map) -> Map {
    let Some(c) = component else { return patch };
    let mut inner = Map::new();
    inner.insert(COMPONENT_MARKER.0.into(), COMPONENT_MARKER.1.into());
    for (k, v) in patch.iter().filter(|(k, _)| k.as_str() != COMPONENT_MARKER.0) {
        inner.insert(k.clone(), v.clone());
    }
    let mut outer = Map::new();
    outer.insert(c.into(), Value::Object(inner));
    outer
}

/// The reported patch acknowledging writable property `name` (docs/pnp.md §3): `value` is what the
/// device applied (or, with an error `status`, the value it keeps), `av` the desired version.
pub fn writable_ack(
    component: Option<&str>,
    name: &str,
    value: Value,
    status: u16,
    version: i64,
    description: Option<&str>,
) -> Map {
    let mut ack = Map::new();
    ack.insert("value".into(), value);
    ack.insert("ac".into(), Value::from(i64::from(status)));
    ack.insert("av".into(), Value::from(version));
    if let Some(d) = description {
        ack.insert("ad".into(), d.into());
    }
    let mut patch = Map::new();
    patch.insert(name.into(), Value::Object(ack));
    component_patch(component, patch)
}

/// The direct-method name of command `command` of `component` (docs/pnp.md §4): `c*cmd`, or the
/// bare name for the root (default component).
pub fn command_method_name(component: Option<&str>, command: &str) -> String {
    match component {
        Some(c) => format!("{c}*{command}"),
        None => command.into(),
    }
}

/// The (component, command) a direct-method name addresses: `c*cmd` → (`Some(c)`, `cmd`); a
/// name without `*` is a command of the root (default component).
pub fn split_command_name(method: &str) -> (Option<&str>, &str) {
    match method.split_once('*') {
        Some((c, cmd)) => (Some(c), cmd),
        None => (None, method),
    }
}

/// The member of `doc` that holds `key`'s value (inside its component object), if any.
fn value_of<'a>(doc: &'a Map, key: &WritableKey) -> Option<&'a Value> {
    match &key.component {
        None => doc.get(&key.name),
        Some(c) => doc.get(c)?.as_object()?.get(&key.name),
    }
}

/// The registered properties a desired patch sets (not those it removes with `null`), in
/// registration order.
pub fn patch_changes(registered: &[WritableKey], patch: &Value, version: Option<i64>) -> Vec<WritableChange> {
    let Some(doc) = patch.as_object() else { return Vec::new() };
    let version = version.or_else(|| doc.get("$version").and_then(Value::as_i64)).unwrap_or(0);
    registered
        .iter()
        .filter_map(|k| {
            let v = value_of(doc, k).filter(|v| !v.is_null())?;
            Some(WritableChange { component: k.component.clone(), name: k.name.clone(), value: v.clone(), version })
        })
        .collect()
}

/// The registered properties a whole twin still asks to be answered (docs/pnp.md §3, at start-up):
/// those present in `desired` whose acknowledgement in `reported` is missing or for another
/// `$version` than the desired document's. An acknowledgement of an older version whose `value`
/// equals the desired one and whose `ac` is 2xx counts as answered: another property's change
/// bumped the version, not this one's.
pub fn unanswered(registered: &[WritableKey], desired: &Map, reported: &Map) -> Vec<WritableChange> {
    let version = desired.get("$version").and_then(Value::as_i64).unwrap_or(0);
    registered
        .iter()
        .filter_map(|k| {
            let want = value_of(desired, k).filter(|v| !v.is_null())?;
            let ack = value_of(reported, k).and_then(Value::as_object);
            let answered = ack.is_some_and(|a| {
                let av = a.get("av").and_then(Value::as_i64);
                let ok = a.get("ac").and_then(Value::as_i64).is_some_and(|s| (200..300).contains(&s));
                av == Some(version) || (av.is_some() && ok && a.get("value") == Some(want))
            });
            (!answered).then(|| WritableChange {
                component: k.component.clone(),
                name: k.name.clone(),
                value: want.clone(),
                version,
            })
        })
        .collect()
}

/// The engine's Plug and Play state (`engine_pnp.rs`): the writable properties the application
/// handles, and the twin's `reported` as last read plus the patches sent since (`None` before a
/// GET), to tell which desired values are still unanswered.
#[derive(Debug, Default)]
pub struct Writables {
    pub(super) keys: Vec<WritableKey>,
    pub(super) reported: Option<Map>,
}

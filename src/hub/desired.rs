//! Desired-property delivery in `$version` order, with no update lost across reconnects
//! (protocol §5.6: "IoT Hub generates change notifications only when devices are connected";
//! reconnect flow: subscribe desired → GET the twin → ignore notifications at or below its
//! `$version`).
//!
//! Design: the tracker keeps the last desired document it knows and its `$version`.
//! * After every (re)connect the caller calls `begin_resync` and sends a twin GET. Until the
//!   answer arrives, notifications are buffered (they may be newer or older than the GET).
//! * The GET answer is compared with the known document: what changed while offline is delivered
//!   as one merge patch (`null` for removed members) carrying the GET's `$version`; then buffered
//!   notifications newer than that version are delivered in version order.
//! * Outside a resync a notification at or below the known version is a duplicate and dropped.
//!
//! The first GET after start only sets the baseline: the application reads it with `getTwin`.

use crate::json::{Map, Value};

/// Notifications kept while a resync GET is outstanding; the oldest go first (the GET's answer
/// covers them anyway).
const MAX_BUFFERED: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredUpdate {
    pub version: Option<i64>,
    /// A JSON merge patch; includes `"$version"` when the version is known.
    pub patch: Value,
}

#[derive(Debug, Default)]
pub struct DesiredTracker {
    known: Option<Map>,
    version: Option<i64>,
    resyncing: bool,
    buffered: Vec<(Option<i64>, Value)>,
}

impl DesiredTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last desired `$version` delivered or read.
    pub fn version(&self) -> Option<i64> {
        self.version
    }

    /// The desired document as last read and patched since; `None` before the first GET.
    pub fn document(&self) -> Option<&Map> {
        self.known.as_ref()
    }

    /// Whether a twin GET has set the baseline yet.
    pub fn has_baseline(&self) -> bool {
        self.known.is_some()
    }

    pub fn is_resyncing(&self) -> bool {
        self.resyncing
    }

    /// Starts buffering notifications until `handle_twin` (call on every connect).
    pub fn begin_resync(&mut self) {
        self.resyncing = true;
    }

    /// Gives up on the resync (the GET failed): buffered notifications go out as they came.
    pub fn abort_resync(&mut self) -> Vec<DesiredUpdate> {
        self.resyncing = false;
        let buffered = core::mem::take(&mut self.buffered);
        buffered.into_iter().filter_map(|(v, p)| self.apply(v, p)).collect()
    }

    /// A desired notification: `version` from the topic, else from the body.
    pub fn handle_patch(&mut self, version: Option<i64>, patch: Value) -> Vec<DesiredUpdate> {
        let version = version.or_else(|| patch.get("$version").and_then(Value::as_i64));
        if self.resyncing {
            if self.buffered.len() >= MAX_BUFFERED {
                self.buffered.remove(0);
            }
            self.buffered.push((version, patch));
            return Vec::new();
        }
        self.apply(version, patch).into_iter().collect()
    }

    /// The answer to the resync GET: the whole twin `{"desired":{…},"reported":{…}}`.
    pub fn handle_twin(&mut self, twin: &Value) -> Vec<DesiredUpdate> {
        let desired = match twin.get("desired").and_then(Value::as_object) {
            Some(d) => d.clone(),
            None => Map::new(),
        };
        let version = desired.get("$version").and_then(Value::as_i64);
        let mut out = Vec::new();
        let newer = match (self.version, version) {
            (Some(old), Some(new)) => new > old,
            (None, _) | (_, None) => true,
        };
        if newer {
            if let Some(known) = &self.known {
                let mut diff = merge_diff(known, &desired);
                if !diff.is_empty() {
                    if let Some(v) = version {
                        diff.insert("$version".into(), Value::from(v));
                    }
                    out.push(DesiredUpdate {
                        version,
                        patch: Value::Object(diff),
                    });
                }
            }
            self.known = Some(desired);
            self.version = version.or(self.version);
        }
        self.resyncing = false;
        let mut buffered = core::mem::take(&mut self.buffered);
        // Stable sort: unversioned patches keep their arrival order, after the versioned ones.
        super::sort_small_by_key(&mut buffered, |(v, _)| v.unwrap_or(i64::MAX));
        out.extend(buffered.into_iter().filter_map(|(v, p)| self.apply(v, p)));
        out
    }

    fn apply(&mut self, version: Option<i64>, patch: Value) -> Option<DesiredUpdate> {
        if let (Some(known), Some(v)) = (self.version, version) {
            if v <= known {
                return None;
            }
        }
        if let (Some(doc), Value::Object(p)) = (&mut self.known, &patch) {
            merge_patch(doc, p);
            if let Some(v) = version {
                doc.insert("$version".into(), Value::from(v));
            }
        }
        if version.is_some() {
            self.version = version;
        }
        Some(DesiredUpdate { version, patch })
    }
}

/// RFC 7386 merge patch: `null` removes a member, objects merge, anything else replaces.
pub fn merge_patch(target: &mut Map, patch: &Map) {
    for (k, v) in patch.iter() {
        match v {
            Value::Null => target.remove(k),
            Value::Object(p) => {
                if !target.get(k).is_some_and(Value::is_object) {
                    target.insert(k.clone(), Value::Object(Map::new()));
                }
                if let Some(Value::Object(t)) = target.get_mut(k) {
                    merge_patch(t, p);
                }
            }
            other => {
                target.insert(k.clone(), other.clone());
            }
        }
    }
}

/// The merge patch that turns `old` into `new`, ignoring `$`-prefixed metadata members.
pub fn merge_diff(old: &Map, new: &Map) -> Map {
    let mut diff = Map::new();
    for (k, nv) in new.iter().filter(|(k, _)| !k.starts_with('$')) {
        match (old.get(k), nv) {
            (Some(ov), nv) if ov == nv => {}
            (Some(Value::Object(o)), Value::Object(n)) => {
                let d = merge_diff(o, n);
                if !d.is_empty() {
                    diff.insert(k.clone(), Value::Object(d));
                }
            }
            _ => {
                diff.insert(k.clone(), nv.clone());
            }
        }
    }
    for k in old.keys().filter(|k| !k.starts_with('$') && !new.contains_key(k)) {
        diff.insert(k.clone(), Value::Null);
    }
    diff
}

//! Device/module twin: desired and reported property sections with their `$version`s, JSON
//! merge-patch semantics (`null` deletes) and the documented limits (protocol.md §5.6, §6):
//! 32 KB per section, depth ≤ 10, keys ≤ 1 KB without `.`, `$` or space, strings ≤ 4 KB.
//! The service side also has tags and the twin's own `version`, which every change bumps and
//! from which its ETag is made.

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Map, Value};

pub const SECTION_LIMIT: usize = 32 * 1024;

#[derive(Debug, Clone)]
pub struct Twin {
    pub desired: Map<String, Value>,
    pub desired_version: u64,
    pub reported: Map<String, Value>,
    pub reported_version: u64,
    pub tags: Map<String, Value>,
    /// The twin's version: +1 on any change of tags, desired or reported.
    pub version: u64,
}

impl Default for Twin {
    fn default() -> Twin {
        Twin::new()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinError(pub String);

fn with_version(m: &Map<String, Value>, v: u64) -> Value {
    let mut m = m.clone();
    m.insert("$version".into(), json!(v));
    Value::Object(m)
}

impl Twin {
    pub fn new() -> Twin {
        Twin { desired: Map::new(), desired_version: 1, reported: Map::new(), reported_version: 1, tags: Map::new(), version: 1 }
    }

    /// The twin's ETag as IoT Hub writes it: base64 of its version as 8 big-endian bytes
    /// (`AAAAAAAAAAE=` for version 1).
    pub fn etag(&self) -> String {
        STANDARD.encode(self.version.to_be_bytes())
    }

    /// Merges a tags patch (`null` deletes), under the same limits as the property sections.
    pub fn patch_tags(&mut self, patch: &Value) -> Result<(), TwinError> {
        self.tags = apply(&self.tags, patch)?;
        self.version += 1;
        Ok(())
    }

    pub fn replace_tags(&mut self, tags: &Value) -> Result<(), TwinError> {
        self.tags = apply(&Map::new(), tags)?;
        self.version += 1;
        Ok(())
    }

    /// Replaces the desired section (a twin `PUT`). The device is told the difference as one
    /// merge patch, so it ends with the same document; None when nothing changed.
    pub fn replace_desired(&mut self, new: &Value) -> Result<Option<(u64, Value)>, TwinError> {
        let Value::Object(n) = new else { return Err(TwinError("desired must be a JSON object".into())) };
        let mut n = n.clone();
        n.remove("$version");
        n.remove("$metadata");
        let patch = diff(&self.desired, &n);
        if patch.is_empty() {
            return Ok(None);
        }
        self.patch_desired(&Value::Object(patch)).map(Some)
    }

    /// What a device sees on `$iothub/twin/res/200` (no tags, no `$metadata`).
    pub fn device_view(&self) -> Value {
        json!({"desired": with_version(&self.desired, self.desired_version),
               "reported": with_version(&self.reported, self.reported_version)})
    }

    pub fn service_view(&self) -> Value {
        json!({"properties": self.device_view()})
    }

    pub fn patch_reported(&mut self, patch: &Value) -> Result<u64, TwinError> {
        let next = apply(&self.reported, patch)?;
        self.reported = next;
        self.reported_version += 1;
        self.version += 1;
        Ok(self.reported_version)
    }

    /// Returns the new version and the notification body (the patch plus `$version`).
    pub fn patch_desired(&mut self, patch: &Value) -> Result<(u64, Value), TwinError> {
        let next = apply(&self.desired, patch)?;
        self.desired = next;
        self.desired_version += 1;
        self.version += 1;
        let mut body = patch.as_object().cloned().unwrap_or_default();
        body.remove("$version");
        body.insert("$version".into(), json!(self.desired_version));
        Ok((self.desired_version, Value::Object(body)))
    }
}

fn apply(section: &Map<String, Value>, patch: &Value) -> Result<Map<String, Value>, TwinError> {
    let Value::Object(p) = patch else {
        return Err(TwinError("patch must be a JSON object".into()));
    };
    let mut p = p.clone();
    p.remove("$version");
    validate(&Value::Object(p.clone()), 1)?;
    let mut out = section.clone();
    merge(&mut out, &p);
    let size = serde_json::to_string(&out).map(|s| s.len()).unwrap_or(usize::MAX);
    if size > SECTION_LIMIT {
        return Err(TwinError(format!("section would be {size} bytes, over the 32 KB limit")));
    }
    Ok(out)
}

/// The merge patch that turns `old` into `new`: removed keys become `null`.
fn diff(old: &Map<String, Value>, new: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        out.insert(k.clone(), Value::Null);
    }
    for (k, v) in new {
        match (old.get(k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => {
                let d = diff(a, b);
                if !d.is_empty() {
                    out.insert(k.clone(), Value::Object(d));
                }
            }
            (Some(a), b) if a == b => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        match v {
            Value::Null => {
                target.remove(k);
            }
            Value::Object(pv) => {
                if let Some(Value::Object(tv)) = target.get_mut(k) {
                    merge(tv, pv);
                } else {
                    let mut fresh = Map::new();
                    merge(&mut fresh, pv);
                    target.insert(k.clone(), Value::Object(fresh));
                }
            }
            _ => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

fn validate(v: &Value, depth: usize) -> Result<(), TwinError> {
    if depth > 10 {
        return Err(TwinError("twin JSON nested deeper than 10 levels".into()));
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k.len() > 1024 || k.is_empty() || k.contains(['.', '$', ' ']) || k.chars().any(char::is_control) {
                    return Err(TwinError(format!("invalid property name '{k}'")));
                }
                validate(child, depth + 1)?;
            }
            Ok(())
        }
        Value::String(s) if s.len() > 4096 => Err(TwinError("string value over 4 KB".into())),
        Value::Array(a) => a.iter().try_for_each(|x| validate(x, depth + 1)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_patch_merges_deletes_with_null_and_bumps_the_version() {
        let mut t = Twin::new();
        assert_eq!(t.patch_reported(&json!({"a": 1, "b": {"c": 2}})), Ok(2));
        assert_eq!(t.patch_reported(&json!({"a": null, "b": {"d": 3}})), Ok(3));
        assert_eq!(t.device_view()["reported"], json!({"b": {"c": 2, "d": 3}, "$version": 3}));
    }

    #[test]
    fn replacing_desired_tells_the_device_a_patch_that_ends_in_the_new_document() {
        let mut t = Twin::new();
        t.patch_desired(&json!({"a": {"x": 1, "y": 2}, "b": 1})).unwrap();
        let (v, body) = t.replace_desired(&json!({"a": {"x": 1}, "c": true, "$version": 9})).unwrap().unwrap();
        assert_eq!(v, 3);
        assert_eq!(body, json!({"a": {"y": null}, "b": null, "c": true, "$version": 3}));
        assert_eq!(Value::Object(t.desired.clone()), json!({"a": {"x": 1}, "c": true}));
        assert_eq!(t.replace_desired(&json!({"a": {"x": 1}, "c": true})).unwrap(), None);
    }

    #[test]
    fn every_change_bumps_the_twin_version_and_its_etag() {
        let mut t = Twin::new();
        assert_eq!(t.etag(), "AAAAAAAAAAE=");
        t.patch_tags(&json!({"site": "a"})).unwrap();
        t.patch_reported(&json!({"r": 1})).unwrap();
        assert_eq!((t.version, t.etag()), (3, "AAAAAAAAAAM=".to_string()));
    }

    #[test]
    fn patches_over_the_limits_are_refused() {
        let mut t = Twin::new();
        assert!(t.patch_reported(&json!({"bad.key": 1})).is_err());
        assert!(t.patch_reported(&json!([1])).is_err());
        let big: String = "x".repeat(4000);
        let mut p = Map::new();
        for i in 0..9 {
            p.insert(format!("k{i}"), json!(big));
        }
        assert!(t.patch_reported(&Value::Object(p)).is_err());
        assert_eq!(t.reported_version, 1);
    }
}

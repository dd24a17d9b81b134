//! Stored device-to-cloud messages with their property bag decoded into system and
//! application properties (protocol.md §5.4), plus the properties the hub stamps.
//! Sharded by device so concurrent senders do not share a lock; a global sequence orders them.

use super::topics::parse_bag;
use crate::clock;
use base64::{engine::general_purpose::STANDARD, Engine};
use dashmap::DashMap;
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

/// Messages kept per device unless `--retention` or the config's `retention` says otherwise; the
/// oldest go first. In memory only, so the bound is what keeps a long run from growing forever.
pub const DEFAULT_RETENTION: usize = 10_000;

#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub seq: u64,
    pub device_id: String,
    pub module_id: Option<String>,
    pub body: Vec<u8>,
    pub properties: Map<String, Value>,
    pub system_properties: Map<String, Value>,
    pub enqueued: String,
}

impl StoredMessage {
    pub fn to_json(&self) -> Value {
        json!({
            "seq": self.seq,
            "deviceId": self.device_id,
            "moduleId": self.module_id,
            "body": String::from_utf8_lossy(&self.body),
            "bodyBase64": STANDARD.encode(&self.body),
            "properties": self.properties,
            "systemProperties": self.system_properties,
            "enqueuedTimeUtc": self.enqueued,
        })
    }
}

/// `$.mid` → `message-id` etc.; unknown `$.x` keep their short name.
fn system_name(short: &str) -> &str {
    match short {
        "mid" => "message-id",
        "cid" => "correlation-id",
        "uid" => "user-id",
        "ct" => "content-type",
        "ce" => "content-encoding",
        "exp" => "absolute-expiry-time",
        "to" => "to",
        "on" => "output-name",
        "sub" => "dt-subject",
        "ctime" => "creation-time",
        "ifid" => "interface-id",
        other => other,
    }
}

/// Splits a decoded bag into (system, application) properties. Keys arrive as `$.ct` or
/// `%24.ct` (§5.4); `parse_bag` has already percent-decoded them.
pub fn split_bag(bag: &str) -> (Map<String, Value>, Map<String, Value>) {
    let (mut sys, mut app) = (Map::new(), Map::new());
    for (k, v) in parse_bag(bag) {
        let v = Value::String(v.unwrap_or_default());
        match k.strip_prefix("$.") {
            Some(short) => {
                sys.insert(system_name(short).to_string(), v);
            }
            None => {
                app.insert(k, v);
            }
        }
    }
    (sys, app)
}

pub struct Store {
    by_device: DashMap<String, VecDeque<StoredMessage>>,
    seq: AtomicU64,
    retention: usize,
}

impl Store {
    /// Keeps the last `retention` messages of each device (at least one).
    pub fn new(retention: usize) -> Store {
        Store { by_device: DashMap::new(), seq: AtomicU64::new(0), retention: retention.max(1) }
    }

    pub fn retention(&self) -> usize {
        self.retention
    }

    pub fn add(&self, device: &str, module: Option<&str>, body: Vec<u8>, bag: &str, model_id: Option<&str>, retain: bool) -> StoredMessage {
        let (mut sys, mut app) = split_bag(bag);
        let now = clock::now_iso();
        sys.insert("iothub-connection-device-id".into(), json!(device));
        if let Some(m) = module {
            sys.insert("iothub-connection-module-id".into(), json!(m));
        }
        sys.insert("iothub-connection-auth-method".into(), json!("{\"scope\":\"device\",\"type\":\"sas\",\"issuer\":\"iothub\"}"));
        sys.insert("iothub-enqueuedtime".into(), json!(now));
        if let Some(mid) = model_id {
            sys.insert("dt-dataschema".into(), json!(mid));
        }
        if retain {
            // §5.3: the hub does not keep retained messages; it marks them instead.
            app.insert("mqtt-retain".into(), json!("true"));
        }
        let msg = StoredMessage {
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            device_id: device.to_string(),
            module_id: module.map(str::to_string),
            body,
            properties: app,
            system_properties: sys,
            enqueued: now,
        };
        let mut q = self.by_device.entry(device.to_string()).or_default();
        while q.len() >= self.retention {
            q.pop_front();
        }
        q.push_back(msg.clone());
        msg
    }

    /// Messages with `seq > since`, oldest first, at most `limit`.
    pub fn query(&self, device: Option<&str>, since: u64, limit: usize) -> Vec<StoredMessage> {
        let mut out: Vec<StoredMessage> = match device {
            Some(d) => self.by_device.get(d).map(|q| q.iter().filter(|m| m.seq > since).cloned().collect()).unwrap_or_default(),
            None => self.by_device.iter().flat_map(|q| q.iter().filter(|m| m.seq > since).cloned().collect::<Vec<_>>()).collect(),
        };
        out.sort_by_key(|m| m.seq);
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bag_splits_encoded_system_keys_from_application_properties() {
        let (sys, app) = super::split_bag("%24.ct=application%2Fjson&%24.ce=utf-8&$.mid=m1&temperatureAlert=true");
        assert_eq!(sys["content-type"], "application/json");
        assert_eq!(sys["content-encoding"], "utf-8");
        assert_eq!(sys["message-id"], "m1");
        assert_eq!(app["temperatureAlert"], "true");
    }
}

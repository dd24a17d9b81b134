//! IoT Hub state: the device registry (symmetric keys, modules), per-identity state (twin, C2D
//! queue, live connection), stored telemetry and pending direct methods.
//!
//! Design: everything per identity lives in sharded concurrent maps (DashMap) keyed by
//! `deviceId` or `deviceId/moduleId`, so connections never contend on one global lock; a
//! connection task owns its socket and is reached through its mailbox (`ConnCmd`).

pub mod blob_props;
pub mod cloud;
pub mod files;
pub mod query;
pub mod registry;
pub mod telemetry;
pub mod topics;
pub mod twin;
pub mod twin_service;

use crate::config::{DeviceIdentity, ModuleIdentity};
use dashmap::DashMap;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// "Maximum pending messages for delivery is 50 per device" (protocol.md §6).
pub const C2D_QUEUE_LIMIT: usize = 50;
pub const C2D_MAX_BYTES: usize = 64 * 1024;

pub const SUB_C2D: u8 = 1;
pub const SUB_TWIN_RES: u8 = 2;
pub const SUB_DESIRED: u8 = 4;
pub const SUB_METHODS: u8 = 8;

/// Messages to a connection task.
#[derive(Debug)]
pub enum ConnCmd {
    C2dAvailable,
    Desired { version: u64, body: Vec<u8> },
    Method { rid: String, name: String, payload: Vec<u8> },
    Close { code: u32, reason: String },
    ReleasePubacks,
}

#[derive(Clone)]
pub struct ConnHandle {
    pub id: u64,
    pub tx: mpsc::UnboundedSender<ConnCmd>,
    pub subs: Arc<AtomicU8>,
    pub transport: &'static str,
    pub since: String,
}

#[derive(Debug, Clone)]
pub struct C2dMessage {
    pub message_id: String,
    pub body: Vec<u8>,
    pub properties: Vec<(String, String)>,
    pub enqueued: String,
    pub state: &'static str,
    /// Set while delivered and not yet PUBACKed, to the connection id that holds it.
    pub in_flight: Option<u64>,
}

impl C2dMessage {
    pub fn to_json(&self) -> Value {
        json!({"messageId": self.message_id, "state": self.state, "enqueuedTimeUtc": self.enqueued,
               "body": String::from_utf8_lossy(&self.body),
               "properties": self.properties.iter().map(|(k, v)| (k.clone(), Value::String(v.clone())))
                   .collect::<serde_json::Map<String, Value>>()})
    }
}

#[derive(Default)]
pub struct IdentityState {
    pub twin: twin::Twin,
    pub c2d: VecDeque<C2dMessage>,
    pub c2d_done: VecDeque<C2dMessage>,
    pub conn: Option<ConnHandle>,
    pub last_activity: String,
    pub model_id: Option<String>,
}

pub struct PendingMethod {
    pub identity: String,
    pub tx: oneshot::Sender<(i64, Vec<u8>)>,
}

pub struct Hub {
    pub hostname: String,
    pub devices: DashMap<String, DeviceIdentity>,
    pub identities: DashMap<String, IdentityState>,
    pub telemetry: telemetry::Store,
    pub methods: DashMap<String, PendingMethod>,
    /// Generation id and ETag counter per identity key, for the service REST API (registry.rs).
    pub meta: DashMap<String, registry::Meta>,
    next_id: AtomicU64,
}

pub fn identity_key(device: &str, module: Option<&str>) -> String {
    match module {
        Some(m) => format!("{device}/{m}"),
        None => device.to_string(),
    }
}

impl Hub {
    pub fn new(hostname: String, devices: Vec<DeviceIdentity>, retention: usize) -> Hub {
        let hub = Hub {
            hostname,
            devices: DashMap::new(),
            identities: DashMap::new(),
            telemetry: telemetry::Store::new(retention),
            methods: DashMap::new(),
            meta: DashMap::new(),
            next_id: AtomicU64::new(1),
        };
        for d in devices {
            hub.upsert_device(d, None);
        }
        hub
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Adds or replaces a registry entry; an initial desired twin applies to new identities only.
    /// Every identity it names gets a new ETag (registry.rs).
    pub fn upsert_device(&self, d: DeviceIdentity, initial_desired: Option<&Value>) {
        let id = d.device_id.clone();
        let mut keys = vec![id.clone()];
        keys.extend(d.modules.iter().map(|m| identity_key(&id, Some(&m.module_id))));
        self.devices.insert(id, d);
        for k in keys {
            self.touch(&k);
            self.identities.entry(k).or_insert_with(|| {
                let mut twin = twin::Twin::new();
                if let Some(p) = initial_desired {
                    let _ = twin.patch_desired(p);
                }
                IdentityState { twin, ..Default::default() }
            });
        }
    }

    /// The keys that may sign a token for this identity, or None if unknown/disabled.
    pub fn keys_for(&self, device: &str, module: Option<&str>) -> Option<Vec<String>> {
        let d = self.devices.get(device)?;
        if !d.status.eq_ignore_ascii_case("enabled") {
            return None;
        }
        let pick = |p: &String, s: &Option<String>| {
            let mut v = vec![p.clone()];
            v.extend(s.clone());
            v
        };
        match module {
            None => Some(pick(&d.primary_key, &d.secondary_key)),
            Some(m) => {
                let ModuleIdentity { primary_key, secondary_key, .. } = d.modules.iter().find(|x| x.module_id == m)?;
                Some(pick(primary_key, secondary_key))
            }
        }
    }

    pub fn connection(&self, identity: &str) -> Option<ConnHandle> {
        self.identities.get(identity).and_then(|s| s.conn.clone())
    }

    pub fn devices_json(&self) -> Vec<Value> {
        let mut out: Vec<Value> = self
            .devices
            .iter()
            .map(|d| {
                let id = d.device_id.clone();
                let st = self.identities.get(&id);
                let conn = st.as_ref().and_then(|s| s.conn.clone());
                json!({
                    "deviceId": id,
                    "status": d.status,
                    "connectionState": if conn.is_some() { "Connected" } else { "Disconnected" },
                    "transport": conn.as_ref().map(|c| c.transport),
                    "subscriptions": conn.as_ref().map(|c| subs_names(c.subs.load(Ordering::Relaxed))).unwrap_or_default(),
                    "connectedSince": conn.as_ref().map(|c| c.since.clone()),
                    "lastActivityTime": st.as_ref().map(|s| s.last_activity.clone()),
                    "modelId": st.as_ref().and_then(|s| s.model_id.clone()),
                    "pendingC2d": st.as_ref().map(|s| s.c2d.len()).unwrap_or(0),
                    "modules": d.modules.iter().map(|m| {
                        let c = self.connection(&identity_key(&id, Some(&m.module_id)));
                        json!({"moduleId": m.module_id, "connectionState": if c.is_some() { "Connected" } else { "Disconnected" }})
                    }).collect::<Vec<_>>(),
                })
            })
            .collect();
        out.sort_by(|a, b| a["deviceId"].as_str().cmp(&b["deviceId"].as_str()));
        out
    }
}


/// Names of the subscription bits, for the service API (`c2d`, `twinResponses`, `desired`, `methods`).
pub fn subs_names(bits: u8) -> Vec<&'static str> {
    [(SUB_C2D, "c2d"), (SUB_TWIN_RES, "twinResponses"), (SUB_DESIRED, "desired"), (SUB_METHODS, "methods")]
        .into_iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n)
        .collect()
}

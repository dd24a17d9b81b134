//! Shared emulator state: DPS, hub, fault switches, the access guard, the refusal/close log and
//! the event stream (SSE) of telemetry, connections and twin changes.

use crate::config::{Config, PubackMode};
use crate::dps::{enrollments::Enrollments, Dps};
use crate::guard::Guard;
use crate::hub::Hub;
use crate::{clock, hub};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use tokio::sync::broadcast;

pub struct Faults {
    pub dps_count: AtomicU32,
    pub dps_status: AtomicU32,
    pub dps_retry_after: AtomicU32,
    /// 0 normal, 1 withhold, 2 delay.
    pub puback_mode: AtomicU8,
    pub puback_delay_ms: AtomicU64,
    /// 0 = no cap.
    pub max_token_ttl_secs: AtomicU64,
}

impl Faults {
    pub fn puback(&self) -> PubackMode {
        match self.puback_mode.load(Ordering::Relaxed) {
            1 => PubackMode::Withhold,
            2 => PubackMode::Delay { ms: self.puback_delay_ms.load(Ordering::Relaxed) },
            _ => PubackMode::Normal,
        }
    }

    pub fn set_puback(&self, m: PubackMode) {
        let (mode, ms) = match m {
            PubackMode::Normal => (0, 0),
            PubackMode::Withhold => (1, 0),
            PubackMode::Delay { ms } => (2, ms),
        };
        self.puback_delay_ms.store(ms, Ordering::Relaxed);
        self.puback_mode.store(mode, Ordering::Relaxed);
    }

    /// Consumes one injected DPS failure if any is armed: (status, retry-after seconds).
    pub fn take_dps_fault(&self) -> Option<(u16, u32)> {
        self.dps_count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .ok()
            .map(|_| (self.dps_status.load(Ordering::Relaxed) as u16, self.dps_retry_after.load(Ordering::Relaxed)))
    }

    pub fn to_json(&self) -> Value {
        json!({
            "dps": {"remaining": self.dps_count.load(Ordering::Relaxed), "status": self.dps_status.load(Ordering::Relaxed),
                    "retryAfter": self.dps_retry_after.load(Ordering::Relaxed)},
            "puback": self.puback(),
            "maxTokenTtlSeconds": match self.max_token_ttl_secs.load(Ordering::Relaxed) { 0 => Value::Null, n => json!(n) },
        })
    }
}

pub struct State {
    pub id_scope: String,
    pub hub_hostname: String,
    pub retry_after: u32,
    pub assign_delay_ms: u64,
    /// Host check, allowed origins and the service key (guard/).
    pub guard: Guard,
    pub log_to_stderr: bool,
    /// Bound on each stage before a device has authenticated (listen.rs, mqtt::serve).
    pub handshake_timeout: std::time::Duration,
    pub dps: Dps,
    pub hub: Hub,
    pub faults: Faults,
    /// File upload: the storage, open uploads and device notifications (hub/files.rs).
    pub files: hub::files::Files,
    pub events: broadcast::Sender<Value>,
    log: Mutex<VecDeque<Value>>,
}

const LOG_LIMIT: usize = 2000;
/// Longest identity and reason kept per entry: both quote what a client sent (a client id, a
/// topic of up to 64 KB), and 2000 entries of that would be a memory lever for any socket.
const LOG_IDENTITY_CHARS: usize = 128;
const LOG_REASON_CHARS: usize = 512;

/// At most `max` characters, with control characters shown as `?` so that a client id holding a
/// newline cannot forge a line of the stderr log.
fn clip(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).map(|c| if c.is_control() { '?' } else { c }).collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

impl State {
    pub fn new(cfg: &Config, guard: Guard, files: hub::files::Files) -> State {
        let f = &cfg.file;
        let (events, _) = broadcast::channel(4096);
        State {
            id_scope: f.id_scope.clone(),
            hub_hostname: cfg.hub_hostname.clone(),
            retry_after: cfg.retry_after_secs,
            assign_delay_ms: cfg.assign_delay_ms,
            guard,
            log_to_stderr: cfg.log,
            handshake_timeout: std::time::Duration::from_secs(cfg.handshake_timeout_secs.max(1)),
            dps: Dps::new(f.id_scope.clone(), Enrollments::new(f.enrollments.clone(), f.enrollment_groups.clone())),
            hub: Hub::new(cfg.hub_hostname.clone(), f.devices.clone(), cfg.retention.or(f.retention).unwrap_or(hub::telemetry::DEFAULT_RETENTION)),
            faults: Faults {
                dps_count: AtomicU32::new(cfg.dps_fault_count),
                dps_status: AtomicU32::new(cfg.dps_fault_status as u32),
                dps_retry_after: AtomicU32::new(cfg.retry_after_secs),
                puback_mode: AtomicU8::new(0),
                puback_delay_ms: AtomicU64::new(0),
                max_token_ttl_secs: AtomicU64::new(cfg.max_token_ttl_secs.unwrap_or(0)),
            },
            files,
            events,
            log: Mutex::new(VecDeque::new()),
        }
        .with_puback(cfg.puback)
    }

    fn with_puback(self, m: PubackMode) -> Self {
        self.faults.set_puback(m);
        self
    }

    /// Publishes an event to SSE listeners (skipped cheaply when nobody listens).
    pub fn emit(&self, kind: &str, data: Value) {
        if self.events.receiver_count() > 0 {
            let _ = self.events.send(json!({"type": kind, "time": clock::now_iso(), "data": data}));
        }
    }

    /// Records a refusal or close with its Azure-like code (e.g. 401003, 400027, 404104).
    pub fn log(&self, code: u32, who: &str, reason: &str) {
        let (who, reason) = (&clip(who, LOG_IDENTITY_CHARS), &clip(reason, LOG_REASON_CHARS));
        let entry = json!({"time": clock::now_iso(), "code": code, "identity": who, "reason": reason});
        if self.log_to_stderr {
            eprintln!("[iot-emulator] {code} {who}: {reason}");
        }
        if let Ok(mut l) = self.log.lock() {
            if l.len() >= LOG_LIMIT {
                l.pop_front();
            }
            l.push_back(entry.clone());
        }
        self.emit("log", entry);
    }

    pub fn info(&self, who: &str, what: &str) {
        if self.log_to_stderr {
            eprintln!("[iot-emulator] {}: {}", clip(who, LOG_IDENTITY_CHARS), clip(what, LOG_REASON_CHARS));
        }
    }

    pub fn log_entries(&self) -> Vec<Value> {
        self.log.lock().map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }

    /// Registers the device DPS just assigned, with its (possibly derived) keys.
    pub fn on_assigned(&self, a: &crate::dps::enrollments::Attested) {
        let existing = self.hub.devices.get(&a.device_id).map(|d| d.clone());
        let modules = existing.map(|d| d.modules).unwrap_or_default();
        self.hub.upsert_device(
            crate::config::DeviceIdentity {
                device_id: a.device_id.clone(),
                primary_key: a.primary_key.clone(),
                secondary_key: a.secondary_key.clone(),
                status: "enabled".into(),
                modules,
            },
            a.initial_twin.as_ref(),
        );
        self.emit("registration", json!({"registrationId": a.registration_id, "deviceId": a.device_id, "assignedHub": self.hub_hostname}));
    }

    pub fn release_pubacks(&self) {
        for e in self.hub.identities.iter() {
            if let Some(c) = &e.conn {
                let _ = c.tx.send(hub::ConnCmd::ReleasePubacks);
            }
        }
    }
}

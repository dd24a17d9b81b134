//! `$rid` correlation for twin GET and reported-PATCH requests (protocol §5.6).
//!
//! Design: twin requests are QoS 0, so one sent before a drop may never be answered. Each
//! pending request keeps its topic and payload; after a reconnect `resend_all` gives them back to
//! be published again (a GET is idempotent, a reported PATCH is a merge patch, so re-applying it
//! is harmless). Every request carries a deadline so none waits forever; `$rid`s are never
//! reused, so a late answer to an expired request matches nothing and is ignored.

use crate::json::Value;

use super::twin::{twin_get_topic, twin_patch_topic, TwinResponse};
use super::HubError;

/// How long a twin request may wait for its answer (the Node SDK waits 4 minutes for a twin
/// response; a minute, across reconnects, is plenty for an interactive API).
pub const DEFAULT_TWIN_TIMEOUT_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwinRequestKind {
    Get,
    PatchReported,
}

/// A publish for the caller to send (QoS 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinPublish {
    pub topic: String,
    pub payload: Vec<u8>,
}

/// What a finished request produced, tagged with the caller's token.
#[derive(Debug, Clone, PartialEq)]
pub enum TwinOutcome {
    /// GET: the whole twin document.
    Twin(Value),
    /// PATCH: the new reported `$version` (0 when the hub did not say).
    ReportedVersion(i64),
    Failed(HubError),
}

#[derive(Debug)]
struct Pending<T> {
    rid: String,
    kind: TwinRequestKind,
    payload: Vec<u8>,
    deadline_ms: u64,
    token: T,
}

/// Pending twin requests, keyed by `$rid`; `T` is the caller's token (e.g. a Promise slot).
#[derive(Debug)]
pub struct TwinRequests<T> {
    next_rid: u64,
    timeout_ms: u64,
    pending: Vec<Pending<T>>,
}

impl<T> TwinRequests<T> {
    pub fn new(timeout_ms: u64) -> Self {
        TwinRequests {
            next_rid: 1,
            timeout_ms,
            pending: Vec::new(),
        }
    }

    /// Registers a request and returns the publish to send.
    pub fn start(&mut self, kind: TwinRequestKind, payload: Vec<u8>, now_ms: u64, token: T) -> TwinPublish {
        let rid = self.next_rid.to_string();
        self.next_rid = self.next_rid.wrapping_add(1).max(1);
        let publish = to_publish(kind, &rid, &payload);
        self.pending.push(Pending {
            rid,
            kind,
            payload,
            deadline_ms: now_ms.saturating_add(self.timeout_ms),
            token,
        });
        publish
    }

    /// Matches an answer (topic already parsed) with its request. `None`: not ours (stale rid).
    pub fn handle_response(&mut self, res: &TwinResponse, body: &[u8]) -> Option<(T, TwinOutcome)> {
        let i = self.pending.iter().position(|p| p.rid == res.rid)?;
        let p = self.pending.remove(i);
        let outcome = match (res.status, p.kind) {
            (429, _) => TwinOutcome::Failed(HubError::Throttled),
            (s, _) if s >= 300 => TwinOutcome::Failed(failed(s, body)),
            (_, TwinRequestKind::Get) => match Value::parse(body) {
                Some(v) if v.is_object() => TwinOutcome::Twin(v),
                _ => TwinOutcome::Failed(HubError::InvalidTwinPayload),
            },
            (_, TwinRequestKind::PatchReported) => TwinOutcome::ReportedVersion(res.version.unwrap_or(0)),
        };
        Some((p.token, outcome))
    }

    /// Publishes to repeat after a reconnect, oldest first.
    pub fn resend_all(&self) -> Vec<TwinPublish> {
        self.pending
            .iter()
            .map(|p| to_publish(p.kind, &p.rid, &p.payload))
            .collect()
    }

    /// Removes and returns the requests whose deadline has passed.
    pub fn expire(&mut self, now_ms: u64) -> Vec<T> {
        let (expired, kept): (Vec<_>, Vec<_>) = core::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.deadline_ms <= now_ms);
        self.pending = kept;
        expired.into_iter().map(|p| p.token).collect()
    }

    /// The earliest deadline, for the caller's timer.
    pub fn next_deadline(&self) -> Option<u64> {
        self.pending.iter().map(|p| p.deadline_ms).min()
    }

    /// Removes everything (on close), for the caller to reject.
    pub fn drain(&mut self) -> Vec<T> {
        self.pending.drain(..).map(|p| p.token).collect()
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

fn to_publish(kind: TwinRequestKind, rid: &str, payload: &[u8]) -> TwinPublish {
    let topic = match kind {
        TwinRequestKind::Get => twin_get_topic(rid),
        TwinRequestKind::PatchReported => twin_patch_topic(rid),
    };
    TwinPublish {
        topic,
        payload: payload.to_vec(),
    }
}

/// A twin error answer, with the hub's reason when its body is the usual error JSON
/// (`{"errorCode":400004,"message":"…",…}`; Azure's REST errors also spell it `Message`).
fn failed(status: u16, body: &[u8]) -> HubError {
    let v = Value::parse(body);
    let field = |k: &str| v.as_ref().and_then(|v| v.get(k));
    let reason = field("message").or_else(|| field("Message")).and_then(Value::as_str).map(str::to_string);
    let error_code = field("errorCode").and_then(Value::as_i64);
    HubError::TwinRequestFailed { status, reason, error_code }
}

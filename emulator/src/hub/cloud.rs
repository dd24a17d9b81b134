//! Cloud-side hub operations used by the service API: C2D send, desired patches, direct
//! method invocation (404103 when offline, 504101 on timeout) and dropping a connection.

use super::{identity_key, twin::Twin, C2dMessage, ConnCmd, IdentityState, PendingMethod, C2D_MAX_BYTES, C2D_QUEUE_LIMIT, SUB_DESIRED, SUB_METHODS};
use crate::{clock, state::State};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use tokio::sync::oneshot;
use tokio::time::{timeout, Duration};

/// A service-API failure: HTTP status, Azure-like errorCode, message.
#[derive(Debug)]
pub struct CloudError(pub u16, pub u32, pub String);

pub fn send_c2d(state: &State, device: &str, body: Vec<u8>, properties: Vec<(String, String)>, message_id: Option<String>) -> Result<String, CloudError> {
    if !state.hub.devices.contains_key(device) {
        return Err(CloudError(404, 404001, format!("device '{device}' not found")));
    }
    if body.len() > C2D_MAX_BYTES {
        return Err(CloudError(400, 400004, "C2D message over the 64 KB limit".into()));
    }
    let mid = message_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let conn = {
        let mut e = state.hub.identities.entry(device.to_string()).or_insert_with(|| IdentityState { twin: Twin::new(), ..Default::default() });
        if e.c2d.len() >= C2D_QUEUE_LIMIT {
            return Err(CloudError(403, 403004, format!("DeviceMaximumQueueDepthExceeded: {C2D_QUEUE_LIMIT} messages pending")));
        }
        e.c2d.push_back(C2dMessage { message_id: mid.clone(), body, properties, enqueued: clock::now_iso(), state: "pending", in_flight: None });
        e.conn.clone()
    };
    if let Some(c) = conn {
        let _ = c.tx.send(ConnCmd::C2dAvailable);
    }
    state.emit("c2d", json!({"deviceId": device, "messageId": mid}));
    Ok(mid)
}

pub fn c2d_messages(state: &State, device: &str) -> Vec<Value> {
    state
        .hub
        .identities
        .get(device)
        .map(|e| e.c2d_done.iter().chain(e.c2d.iter()).map(|m| m.to_json()).collect())
        .unwrap_or_default()
}

pub fn patch_desired(state: &State, device: &str, module: Option<&str>, patch: &Value) -> Result<Value, CloudError> {
    let key = identity_key(device, module);
    if state.hub.keys_for(device, module).is_none() && !state.hub.identities.contains_key(&key) {
        return Err(CloudError(404, 404001, format!("identity '{key}' not found")));
    }
    let (version, body, view, conn) = {
        let mut e = state.hub.identities.entry(key.clone()).or_insert_with(|| IdentityState { twin: Twin::new(), ..Default::default() });
        let (v, body) = e.twin.patch_desired(patch).map_err(|err| CloudError(400, 400004, err.0))?;
        (v, body, e.twin.service_view(), e.conn.clone())
    };
    notify_desired(state, &key, conn, version, body, patch);
    Ok(view)
}

/// Tells a device subscribed to desired changes the patch `body` (with `$version`, §5.6), and the
/// event stream the change. Called after the identity's lock is released.
pub fn notify_desired(state: &State, key: &str, conn: Option<super::ConnHandle>, version: u64, body: Value, patch: &Value) {
    if let Some(c) = conn {
        if c.subs.load(Ordering::Relaxed) & SUB_DESIRED != 0 {
            let _ = c.tx.send(ConnCmd::Desired { version, body: serde_json::to_vec(&body).unwrap_or_default() });
        }
    }
    state.emit("twin", json!({"identity": key, "section": "desired", "version": version, "patch": patch}));
}

pub fn twin(state: &State, device: &str, module: Option<&str>) -> Option<Value> {
    let key = identity_key(device, module);
    state.hub.identities.get(&key).map(|e| {
        let mut v = e.twin.service_view();
        if let Some(o) = v.as_object_mut() {
            o.insert("deviceId".into(), json!(device));
            if let Some(m) = module {
                o.insert("moduleId".into(), json!(m));
            }
            o.insert("connectionState".into(), json!(if e.conn.is_some() { "Connected" } else { "Disconnected" }));
        }
        v
    })
}

/// Direct method: `{methodName, payload, responseTimeoutInSeconds}` → `{status, payload}` (§5.7).
/// An identity that is not connected and subscribed to methods gets `connect_timeout_s` (IoT
/// Hub's `connectTimeoutInSeconds`, at most 300) to become so before the 404103.
pub async fn invoke_method(state: &State, device: &str, module: Option<&str>, name: &str, payload: &Value, timeout_s: u64, connect_timeout_s: u64) -> Result<Value, CloudError> {
    let key = identity_key(device, module);
    let online = || state.hub.connection(&key).filter(|c| c.subs.load(Ordering::Relaxed) & SUB_METHODS != 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(connect_timeout_s.min(300));
    let mut conn = online();
    while conn.is_none() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        conn = online();
    }
    let Some(conn) = conn else {
        return Err(CloudError(404, 404103, format!("DeviceNotOnline: '{key}' is not connected and subscribed to methods")));
    };
    let rid = format!("{:x}", state.hub.next_id());
    let (tx, rx) = oneshot::channel();
    state.hub.methods.insert(rid.clone(), PendingMethod { identity: key.clone(), tx });
    let body = if payload.is_null() { Vec::new() } else { serde_json::to_vec(payload).unwrap_or_default() };
    let _ = conn.tx.send(ConnCmd::Method { rid: rid.clone(), name: name.to_string(), payload: body });
    let secs = timeout_s.clamp(5, 300);
    match timeout(Duration::from_secs(secs), rx).await {
        Ok(Ok((status, body))) => {
            let payload = if body.iter().all(u8::is_ascii_whitespace) {
                Value::Null
            } else {
                serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
            };
            state.emit("method", json!({"identity": key, "methodName": name, "status": status}));
            Ok(json!({"status": status, "payload": payload}))
        }
        _ => {
            state.hub.methods.remove(&rid);
            state.log(504101, &key, &format!("GatewayTimeout: method '{name}' not answered within {secs} s"));
            Err(CloudError(504, 504101, format!("GatewayTimeout: device did not answer '{name}' within {secs} s")))
        }
    }
}

pub fn drop_connection(state: &State, device: &str, module: Option<&str>) -> bool {
    match state.hub.connection(&identity_key(device, module)) {
        Some(c) => c.tx.send(ConnCmd::Close { code: 404104, reason: "connection dropped by fault injection".into() }).is_ok(),
        None => false,
    }
}

//! One IoT Hub device/module connection (protocol.md §5): CONNECT checks (CONNACK 5 on any
//! failure), one connection per identity (400027 kicks the older one), keep-alive 1.5×
//! (404104), close at the token's `se` or the configured TTL cap (401003), close on QoS 2,
//! unknown topics or another identity's topics; telemetry, C2D, twin and direct methods.

use super::driver::{sleep_until_opt, Driver, Packet};
use super::wire::Wire;
use super::{connack, publish0, puback};
use crate::config::PubackMode;
use crate::hub::topics::{self, encode_bag, parse_bag, Inbound, Sub, TopicRefusal};
use crate::hub::{identity_key, twin::Twin, ConnCmd, ConnHandle, IdentityState, SUB_C2D, SUB_DESIRED, SUB_METHODS, SUB_TWIN_RES};
use crate::{clock, sas, state::State};
use mqtt_protocol_core::mqtt::{
    packet::{v3_1_1, Qos},
    result_code::{ConnectReturnCode, SubackReturnCode},
};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant};

/// "256-kb max message size" for D2C (§6).
const D2C_MAX: usize = 256 * 1024;

struct Identity {
    device: String,
    module: Option<String>,
    key: String,
    model_id: Option<String>,
    expiry: u64,
}

/// CONNECT checks of §5.1; Err is (code, reason) for the log, answered with CONNACK 5.
fn check_connect(state: &State, c: &v3_1_1::Connect) -> Result<Identity, (u32, String)> {
    let user = c.user_name().unwrap_or("");
    let (path, query) = user.split_once("/?").ok_or((401002, format!("username '{user}' has no '/?api-version=…'")))?;
    let segs: Vec<&str> = path.split('/').collect();
    let (host, device, module) = match segs.as_slice() {
        [h, d] => (*h, *d, None),
        [h, d, m] => (*h, *d, Some(m.to_string())),
        _ => return Err((401002, format!("username '{user}' is not {{hub}}/{{deviceId}}[/{{moduleId}}]/?…"))),
    };
    if !host.eq_ignore_ascii_case(&state.hub_hostname) {
        return Err((401002, format!("username names hub '{host}', this hub is '{}'", state.hub_hostname)));
    }
    let expected_client = identity_key(device, module.as_deref());
    if c.client_id() != expected_client {
        return Err((401002, format!("clientId '{}' does not match username identity '{expected_client}'", c.client_id())));
    }
    let model_id = parse_bag(query).into_iter().find(|(k, _)| k == "model-id").and_then(|(_, v)| v);
    let keys = state
        .hub
        .keys_for(device, module.as_deref())
        .ok_or((401002, format!("identity '{expected_client}' is not registered in the hub or is disabled")))?;
    let password = c.password().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default();
    let tok = sas::parse(&password).map_err(|e| (401002, e.to_string()))?;
    let resource = match &module {
        Some(m) => format!("{host}/devices/{device}/modules/{m}"),
        None => format!("{host}/devices/{device}"),
    };
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    sas::verify_hub(&tok, &resource, &key_refs, clock::now_unix_secs()).map_err(|e| match e {
        sas::SasError::Expired { .. } => (401003, e.to_string()),
        _ => (401002, e.to_string()),
    })?;
    Ok(Identity { device: device.to_string(), module, key: expected_client, model_id, expiry: tok.expiry })
}

struct Session {
    id: Identity,
    conn_id: u64,
    subs: Arc<AtomicU8>,
    c2d_inflight: HashMap<u16, String>,
    withheld: Vec<u16>,
    delayed: VecDeque<(Instant, u16)>,
    graceful: bool,
}

pub async fn run<W: Wire>(mut d: Driver<W>, state: Arc<State>, connect: v3_1_1::Connect, transport: &'static str) {
    let id = match check_connect(&state, &connect) {
        Ok(i) => i,
        Err((code, why)) => {
            state.log(code, connect.client_id(), &format!("hub CONNECT refused (CONNACK 5): {why}"));
            connack(&mut d, ConnectReturnCode::NotAuthorized).await;
            return d.close().await;
        }
    };
    let now = clock::now_unix_secs();
    let ttl_cap = state.faults.max_token_ttl_secs.load(Ordering::Relaxed);
    let mut life = id.expiry.saturating_sub(now);
    let mut life_reason = "SAS token expired (se reached)";
    if ttl_cap > 0 && ttl_cap < life {
        life = ttl_cap;
        life_reason = "token lifetime cap reached (--max-token-ttl)";
    }
    let token_deadline = Instant::now() + Duration::from_secs(life);

    let (tx, mut rx) = mpsc::unbounded_channel();
    let conn_id = state.hub.next_id();
    let subs = Arc::new(AtomicU8::new(0));
    let handle = ConnHandle { id: conn_id, tx, subs: subs.clone(), transport, since: clock::now_iso() };
    let old = {
        let mut e = state.hub.identities.entry(id.key.clone()).or_insert_with(|| IdentityState { twin: Twin::new(), ..Default::default() });
        e.model_id = id.model_id.clone();
        e.last_activity = clock::now_iso();
        e.conn.replace(handle)
    };
    if let Some(old) = old {
        let _ = old.tx.send(ConnCmd::Close { code: 400027, reason: "ConnectionForcefullyClosedOnNewConnection: a new connection for this identity arrived".into() });
    }
    connack(&mut d, ConnectReturnCode::Accepted).await;
    state.info(&id.key, &format!("hub connected over {transport}"));
    state.emit("connection", json!({"identity": id.key, "deviceId": id.device, "moduleId": id.module, "state": "connected", "transport": transport}));
    let will = connect.will_topic().map(|t| (t.to_string(), connect.will_payload().map(<[u8]>::to_vec).unwrap_or_default()));

    let mut s = Session { id, conn_id, subs, c2d_inflight: HashMap::new(), withheld: Vec::new(), delayed: VecDeque::new(), graceful: false };
    'outer: loop {
        if d.closed {
            break;
        }
        let ka = d.keepalive_deadline;
        let next_delayed = s.delayed.front().map(|x| x.0);
        tokio::select! {
            b = d.recv() => {
                let Some(bytes) = b else { break };
                for p in d.feed(&bytes).await {
                    if !s.packet(&mut d, &state, p).await {
                        break 'outer;
                    }
                }
            }
            cmd = rx.recv() => {
                let Some(cmd) = cmd else { break };
                if !s.command(&mut d, &state, cmd).await {
                    break;
                }
            }
            _ = sleep_until_opt(ka) => {
                state.log(404104, &s.id.key, "DeviceConnectionClosedRemotely: keep-alive expired (no packet within 1.5 × keep-alive)");
                break;
            }
            _ = tokio::time::sleep_until(token_deadline) => {
                state.log(401003, &s.id.key, &format!("IoTHubUnauthorized: {life_reason}; closing"));
                break;
            }
            _ = sleep_until_opt(next_delayed) => {
                while s.delayed.front().is_some_and(|x| x.0 <= Instant::now()) {
                    if let Some((_, pid)) = s.delayed.pop_front() {
                        puback(&mut d, pid).await;
                    }
                }
            }
        }
    }
    d.log_error(&state, &s.id.key, transport);
    d.close().await;
    s.cleanup(&state, will);
}

impl Session {
    fn own(&self) -> (&str, Option<&str>) {
        (&self.id.device, self.id.module.as_deref())
    }

    async fn packet<W: Wire>(&mut self, d: &mut Driver<W>, state: &State, p: Packet) -> bool {
        match p {
            Packet::V3_1_1Publish(p) => {
                if p.qos() == Qos::ExactlyOnce {
                    state.log(400004, &self.id.key, "QoS 2 publish is not supported by IoT Hub; closing (§5.3)");
                    return false;
                }
                let topic = p.topic_name().to_string();
                let (dev, module) = self.own();
                let inbound = match topics::parse_publish(&topic, dev, module) {
                    Ok(i) => i,
                    Err(TopicRefusal::OtherIdentity) => {
                        state.log(401002, &self.id.key, &format!("publish to another identity's topic '{topic}'; closing"));
                        return false;
                    }
                    Err(TopicRefusal::Unknown) => {
                        state.log(400004, &self.id.key, &format!("publish to unsupported topic '{topic}'; closing"));
                        return false;
                    }
                };
                let body = p.payload().as_slice().to_vec();
                let pid = if p.qos() == Qos::AtLeastOnce { p.packet_id() } else { None };
                self.inbound(d, state, inbound, body, p.retain(), pid).await
            }
            Packet::V3_1_1Subscribe(sub) => {
                let mut codes = Vec::new();
                let mut wants_c2d = false;
                for e in sub.entries() {
                    let (dev, module) = self.own();
                    let bit = match topics::parse_subscribe(e.topic_filter(), dev, module) {
                        Ok(Sub::C2d) => {
                            wants_c2d = true;
                            SUB_C2D
                        }
                        Ok(Sub::TwinResponses) => SUB_TWIN_RES,
                        Ok(Sub::DesiredPatches) => SUB_DESIRED,
                        Ok(Sub::Methods) => SUB_METHODS,
                        // Another identity's filter is an authorization failure, as a publish to
                        // its topic is; `#` and other wildcards are simply not IoT Hub topics (§5.3).
                        Err(TopicRefusal::OtherIdentity) => {
                            state.log(401002, &self.id.key, &format!("subscribe to another identity's filter '{}'; closing", e.topic_filter()));
                            return false;
                        }
                        Err(TopicRefusal::Unknown) => {
                            state.log(400004, &self.id.key, &format!("subscribe to unsupported filter '{}'; closing", e.topic_filter()));
                            return false;
                        }
                    };
                    self.subs.fetch_or(bit, Ordering::Relaxed);
                    // "IoT Hub grants maximum QoS level 1 in the SUBACK" (§5.3).
                    codes.push(if e.sub_opts().qos() == Qos::AtMostOnce { SubackReturnCode::SuccessMaximumQos0 } else { SubackReturnCode::SuccessMaximumQos1 });
                }
                if let Ok(ack) = v3_1_1::Suback::builder().packet_id(sub.packet_id()).return_codes(codes).build() {
                    d.send(ack.into()).await;
                }
                if wants_c2d {
                    self.deliver_c2d(d, state).await;
                }
                true
            }
            Packet::V3_1_1Unsubscribe(u) => {
                for f in u.entries() {
                    let (dev, module) = self.own();
                    let bit = match topics::parse_subscribe(f.as_str(), dev, module) {
                        Ok(Sub::C2d) => SUB_C2D,
                        Ok(Sub::TwinResponses) => SUB_TWIN_RES,
                        Ok(Sub::DesiredPatches) => SUB_DESIRED,
                        Ok(Sub::Methods) => SUB_METHODS,
                        Err(_) => 0,
                    };
                    self.subs.fetch_and(!bit, Ordering::Relaxed);
                }
                if let Ok(ack) = v3_1_1::Unsuback::builder().packet_id(u.packet_id()).build() {
                    d.send(ack.into()).await;
                }
                true
            }
            Packet::V3_1_1Puback(a) => {
                if let Some(mid) = self.c2d_inflight.remove(&a.packet_id()) {
                    self.complete_c2d(state, &mid);
                }
                true
            }
            Packet::V3_1_1Disconnect(_) => {
                self.graceful = true;
                false
            }
            Packet::V3_1_1Connect(_) => {
                state.log(400004, &self.id.key, "second CONNECT on one connection; closing");
                false
            }
            _ => true,
        }
    }

    async fn inbound<W: Wire>(&mut self, d: &mut Driver<W>, state: &State, i: Inbound, body: Vec<u8>, retain: bool, pid: Option<u16>) -> bool {
        if let Some(mut e) = state.hub.identities.get_mut(&self.id.key) {
            e.last_activity = clock::now_iso();
        }
        match i {
            Inbound::Telemetry { bag } => {
                if body.len() > D2C_MAX {
                    state.log(413001, &self.id.key, &format!("MessageTooLarge: {} bytes over the 256 KB limit; closing", body.len()));
                    return false;
                }
                let (dev, module) = self.own();
                let msg = state.hub.telemetry.add(dev, module, body, &bag, self.id.model_id.as_deref(), retain);
                state.emit("telemetry", msg.to_json());
                if let Some(pid) = pid {
                    match state.faults.puback() {
                        PubackMode::Normal => puback(d, pid).await,
                        PubackMode::Withhold => self.withheld.push(pid),
                        PubackMode::Delay { ms } => self.delayed.push_back((Instant::now() + Duration::from_millis(ms), pid)),
                    }
                }
                true
            }
            other => {
                if let Some(pid) = pid {
                    puback(d, pid).await;
                }
                self.request(d, state, other, body).await;
                true
            }
        }
    }

    async fn request<W: Wire>(&mut self, d: &mut Driver<W>, state: &State, i: Inbound, body: Vec<u8>) {
        let rid_q = |rid: &str| encode_bag(&[("$rid".to_string(), rid.to_string())]).replace("%24", "$");
        match i {
            Inbound::TwinGet { rid } => {
                let view = state.hub.identities.get(&self.id.key).map(|e| e.twin.device_view()).unwrap_or(Value::Null);
                publish0(d, &format!("$iothub/twin/res/200/?{}", rid_q(&rid)), serde_json::to_vec(&view).unwrap_or_default()).await;
            }
            Inbound::TwinPatchReported { rid } => {
                let result = match serde_json::from_slice::<Value>(&body) {
                    Ok(patch) => state
                        .hub
                        .identities
                        .get_mut(&self.id.key)
                        .map(|mut e| e.twin.patch_reported(&patch).map(|v| (v, patch)))
                        .unwrap_or_else(|| Err(crate::hub::twin::TwinError("no twin".into()))),
                    Err(e) => Err(crate::hub::twin::TwinError(format!("malformed JSON: {e}"))),
                };
                match result {
                    Ok((v, patch)) => {
                        publish0(d, &format!("$iothub/twin/res/204/?{}&$version={v}", rid_q(&rid)), Vec::new()).await;
                        state.emit("twin", json!({"identity": self.id.key, "section": "reported", "version": v, "patch": patch}));
                    }
                    Err(e) => {
                        state.log(400004, &self.id.key, &format!("reported patch refused: {}", e.0));
                        let err = json!({"errorCode": 400004, "message": e.0});
                        publish0(d, &format!("$iothub/twin/res/400/?{}", rid_q(&rid)), serde_json::to_vec(&err).unwrap_or_default()).await;
                    }
                }
            }
            Inbound::MethodResponse { status, rid } => match state.hub.methods.remove(&rid) {
                Some((_, pm)) if pm.identity == self.id.key => {
                    let _ = pm.tx.send((status, body));
                }
                Some((k, pm)) => {
                    state.hub.methods.insert(k, pm);
                    state.log(400004, &self.id.key, &format!("method response for another identity's request {rid}; ignored"));
                }
                None => state.log(404000, &self.id.key, &format!("method response for unknown or timed-out request {rid}; ignored")),
            },
            Inbound::Telemetry { .. } => {}
        }
    }

    async fn command<W: Wire>(&mut self, d: &mut Driver<W>, state: &State, cmd: ConnCmd) -> bool {
        let subs = self.subs.load(Ordering::Relaxed);
        match cmd {
            ConnCmd::C2dAvailable => self.deliver_c2d(d, state).await,
            ConnCmd::Desired { version, body } => {
                // "IoT Hub generates change notifications only when devices are connected" (§5.6).
                if subs & SUB_DESIRED != 0 {
                    publish0(d, &format!("$iothub/twin/PATCH/properties/desired/?$version={version}"), body).await;
                }
            }
            ConnCmd::Method { rid, name, payload } => {
                let t = format!("$iothub/methods/POST/{name}/?$rid={rid}");
                publish0(d, &t, payload).await;
            }
            ConnCmd::Close { code, reason } => {
                state.log(code, &self.id.key, &reason);
                return false;
            }
            ConnCmd::ReleasePubacks => {
                let mut pids: Vec<u16> = std::mem::take(&mut self.withheld);
                pids.extend(self.delayed.drain(..).map(|x| x.1));
                for pid in pids {
                    puback(d, pid).await;
                }
            }
        }
        true
    }

    /// Sends every queued C2D message not yet in flight, QoS 1 with `$.mid` and `$.to` (§5.5).
    async fn deliver_c2d<W: Wire>(&mut self, d: &mut Driver<W>, state: &State) {
        if self.subs.load(Ordering::Relaxed) & SUB_C2D == 0 || self.id.module.is_some() {
            return;
        }
        let batch: Vec<_> = match state.hub.identities.get_mut(&self.id.key) {
            Some(mut e) => e
                .c2d
                .iter_mut()
                .filter(|m| m.in_flight.is_none())
                .map(|m| {
                    m.in_flight = Some(self.conn_id);
                    m.clone()
                })
                .collect(),
            None => return,
        };
        for m in batch {
            let Ok(pid) = d.conn.acquire_packet_id() else { break };
            let mut props = vec![
                ("$.mid".to_string(), m.message_id.clone()),
                ("$.to".to_string(), format!("/devices/{}/messages/deviceBound", self.id.device)),
            ];
            props.extend(m.properties.iter().cloned());
            let topic = format!("devices/{}/messages/devicebound/{}", self.id.device, encode_bag(&props));
            match v3_1_1::Publish::builder().topic_name(topic.as_str()).map(|b| b.qos(Qos::AtLeastOnce).packet_id(pid).payload(m.body.clone()).build()) {
                Ok(Ok(p)) => {
                    self.c2d_inflight.insert(pid, m.message_id.clone());
                    d.send(p.into()).await;
                }
                _ => state.log(500001, &self.id.key, "cannot build C2D publish"),
            }
        }
    }

    fn complete_c2d(&self, state: &State, mid: &str) {
        if let Some(mut e) = state.hub.identities.get_mut(&self.id.key) {
            if let Some(pos) = e.c2d.iter().position(|m| m.message_id == mid) {
                if let Some(mut m) = e.c2d.remove(pos) {
                    m.state = "completed";
                    m.in_flight = None;
                    if e.c2d_done.len() >= 100 {
                        e.c2d_done.pop_front();
                    }
                    e.c2d_done.push_back(m);
                }
            }
        }
        state.emit("c2dCompleted", json!({"deviceId": self.id.device, "messageId": mid}));
    }

    fn cleanup(&self, state: &State, will: Option<(String, Vec<u8>)>) {
        let mut mine = false;
        if let Some(mut e) = state.hub.identities.get_mut(&self.id.key) {
            if e.conn.as_ref().map(|c| c.id) == Some(self.conn_id) {
                e.conn = None;
                mine = true;
            }
            for m in e.c2d.iter_mut() {
                if m.in_flight == Some(self.conn_id) {
                    m.in_flight = None;
                }
            }
        }
        if !self.graceful {
            // §5.3: on an ungraceful close the will is sent as telemetry with iothub-MessageType=Will.
            if let Some((topic, payload)) = will {
                if let Ok(Inbound::Telemetry { bag }) = topics::parse_publish(&topic, &self.id.device, self.id.module.as_deref()) {
                    let bag = if bag.is_empty() { "iothub-MessageType=Will".to_string() } else { format!("{bag}&iothub-MessageType=Will") };
                    let msg = state.hub.telemetry.add(&self.id.device, self.id.module.as_deref(), payload, &bag, self.id.model_id.as_deref(), false);
                    state.emit("telemetry", msg.to_json());
                }
            }
        }
        if mine {
            state.emit("connection", json!({"identity": self.id.key, "deviceId": self.id.device, "moduleId": self.id.module, "state": "disconnected"}));
        }
        state.info(&self.id.key, "hub connection closed");
    }
}

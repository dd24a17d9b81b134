//! A plain MQTT client's connection lifecycle, sans-I/O: one `Session` over a succession of
//! transports, the open deadline, connection epochs, and which operation each packet id
//! answers. `MqttClient` (JS), DPS over MQTT and the IoT Hub engine (`hub::HubEngine`) run on
//! it; the driver only carries bytes.
//!
//! Driving it: `connect(now)` asks for a transport (`Action::Open { epoch }`); report it with
//! `handle_opened` / `handle_open_failed`, then feed `handle_bytes` and end with
//! `handle_closed`, each with the epoch of the transport it is about (news from a replaced
//! transport is ignored). After every call drain `poll_action` and `poll_event`, and arm one
//! timer for `poll_timeout`, calling `handle_timeout` when it fires.
//!
//! Design (what a drop does to work in flight): QoS 1 publishes stay in the session and are
//! re-sent on the next connection (`resend_on_reconnect`), or fail with the drop's error when
//! it is off; SUBSCRIBE and UNSUBSCRIBE belong to one connection and fail with it; a pending
//! `connect` fails instead of a `Disconnected` being reported. `close` fails everything with
//! `Closed`. The open deadline covers the transport and CONNACK together: it starts at
//! `connect`, not when a transport exists, so a transport that never comes fails the connect.

use super::{Event, MqttError, Publish, QoS, Session, SessionOptions, SubAckReturn};

/// QoS 1 publishes a plain client holds behind a full in-flight window unless told otherwise:
/// a burst of 10,000 is taken without a word (mqtt.js and Paho queue without bound).
pub const DEFAULT_MAX_QUEUED: usize = 10_000;

/// What the driver must do; drain with `poll_action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a transport for connection `epoch`, then report it with `handle_opened` (or
    /// `handle_open_failed`) and that epoch.
    Open { epoch: u32 },
    /// Write these bytes to the current transport.
    Transmit(Vec<u8>),
    /// Close and forget the current transport (once this turn's bytes are written).
    Close,
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// CONNACK 0, with its session-present flag.
    Connected(bool),
    /// A QoS 0 publish was written, a QoS 1 one acknowledged, or an UNSUBSCRIBE acknowledged.
    Done,
    /// SUBACK: one entry per filter, `None` = refused.
    Subscribed(Vec<SubAckReturn>),
    Failed(MqttError),
}

/// What happened; drain with `poll_event`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// Operation `op` (from `connect`, `publish`, `subscribe` or `unsubscribe`) ended.
    Finished { op: u64, outcome: Outcome },
    /// A message; for QoS 1 call `ack(pkid)` once handled.
    Message(Publish),
    /// An established connection (or one being opened, with no `connect` waiting) ended.
    Disconnected(MqttError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    None,
    /// `Open` asked for; no transport yet.
    Opening,
    /// A transport exists; `opened` once it reported open.
    Attached { opened: bool },
}

/// The error of a transport that closed before it opened (close code if any).
pub fn closed_before_open(code: Option<u16>) -> MqttError {
    let code = code.map(|c| format!(" (close code {c})")).unwrap_or_default();
    MqttError::SocketError(format!("websocket closed before it opened{code}"))
}

pub struct ClientEngine {
    session: Session,
    connect_timeout_ms: u64,
    link: Link,
    epoch: u32,
    open_deadline: Option<u64>,
    next_op: u64,
    connect_op: Option<u64>,
    // Operations waiting for the server, by packet id. Vecs: they are bounded by the window.
    pubs: Vec<(u16, u64)>,
    subs: Vec<(u16, u64)>,
    unsubs: Vec<(u16, u64)>,
    // Vecs, not VecDeques: short, drained after every call, and 1.2 KB smaller in the .wasm.
    actions: Vec<Action>,
    events: Vec<ClientEvent>,
}

fn take(list: &mut Vec<(u16, u64)>, pkid: u16) -> Option<u64> {
    let i = list.iter().position(|(id, _)| *id == pkid)?;
    Some(list.swap_remove(i).1)
}

impl ClientEngine {
    pub fn new(options: SessionOptions) -> ClientEngine {
        ClientEngine {
            connect_timeout_ms: options.connect_timeout_ms,
            session: Session::new(options),
            link: Link::None,
            epoch: 0,
            open_deadline: None,
            next_op: 1,
            connect_op: None,
            pubs: Vec::new(),
            subs: Vec::new(),
            unsubs: Vec::new(),
            actions: Vec::new(),
            events: Vec::new(),
        }
    }

    pub fn is_connected(&self) -> bool {
        self.session.is_connected()
    }

    /// When the connection being opened fails if its transport and CONNACK have not come: the
    /// bound a driver also puts on a socket factory's Promise.
    pub fn open_deadline(&self) -> Option<u64> {
        self.open_deadline
    }

    /// No connection and none being made: `connect` would start one.
    pub fn is_idle(&self) -> bool {
        self.link == Link::None && self.connect_op.is_none()
    }

    /// The password (SAS token) for the next CONNECT.
    pub fn set_password(&mut self, password: Option<String>) {
        self.session.set_password(password);
    }

    fn op(&mut self) -> u64 {
        self.next_op += 1;
        self.next_op
    }

    fn finish(&mut self, op: u64, outcome: Outcome) {
        self.events.push(ClientEvent::Finished { op, outcome });
    }

    /// Starts a connection; its op finishes `Connected` on CONNACK 0. While a connection
    /// exists or is being made it fails at once with `InvalidArgument`.
    pub fn connect(&mut self, now: u64) -> u64 {
        let op = self.op();
        if self.link != Link::None || self.connect_op.is_some() {
            self.finish(op, Outcome::Failed(MqttError::InvalidArgument("already connected or connecting")));
            return op;
        }
        self.epoch = self.epoch.wrapping_add(1);
        self.connect_op = Some(op);
        self.open_deadline = Some(now.saturating_add(self.connect_timeout_ms));
        self.link = Link::Opening;
        self.actions.push(Action::Open { epoch: self.epoch });
        op
    }

    /// The transport of connection `epoch` exists; `open` when it is already open (a Workers
    /// socket arrives accepted and never fires `open`). False when it is no longer wanted
    /// (closed or timed out meanwhile): the driver then drops it.
    pub fn handle_attached(&mut self, now: u64, epoch: u32, open: bool) -> bool {
        if epoch != self.epoch || self.link != Link::Opening {
            return false;
        }
        self.link = Link::Attached { opened: false };
        if open {
            self.handle_opened(now, epoch);
        }
        true
    }

    /// The transport of connection `epoch` is open: CONNECT goes out.
    pub fn handle_opened(&mut self, now: u64, epoch: u32) {
        if epoch != self.epoch || self.link != (Link::Attached { opened: false }) {
            return;
        }
        self.link = Link::Attached { opened: true };
        self.open_deadline = None;
        self.session.handle_connected(now);
        self.pump(now);
    }

    /// No transport for connection `epoch` (the factory threw, or gave nothing).
    pub fn handle_open_failed(&mut self, now: u64, epoch: u32, err: MqttError) {
        if epoch == self.epoch && self.link == Link::Opening {
            self.fail(now, err);
        }
    }

    pub fn handle_bytes(&mut self, now: u64, epoch: u32, bytes: &[u8]) {
        if epoch == self.epoch && matches!(self.link, Link::Attached { .. }) {
            self.session.handle_bytes(now, bytes);
            self.pump(now);
        }
    }

    /// The transport of connection `epoch` closed, with the WebSocket close code and reason:
    /// `ConnectionLost` for an open one, `closed_before_open` before it opened.
    pub fn handle_closed(&mut self, now: u64, epoch: u32, code: Option<u16>, reason: String) {
        if epoch != self.epoch {
            return;
        }
        match self.link {
            Link::Attached { opened: true } => self.fail(now, MqttError::ConnectionLost { code, reason }),
            Link::Attached { opened: false } => self.fail(now, closed_before_open(code)),
            _ => {}
        }
    }

    /// The transport of connection `epoch` failed a write or carried what MQTT cannot (a text
    /// frame): the connection ends with `err`.
    pub fn handle_failed(&mut self, now: u64, epoch: u32, err: MqttError) {
        if epoch == self.epoch && matches!(self.link, Link::Attached { .. }) {
            self.fail(now, err);
        }
    }

    pub fn handle_timeout(&mut self, now: u64) {
        match self.open_deadline {
            Some(d) if now >= d => self.fail(now, MqttError::ConnectTimeout),
            _ => {
                self.session.handle_timeout(now);
                self.pump(now);
            }
        }
    }

    /// Publishes; the op finishes `Done` when written (QoS 0) or acknowledged (QoS 1). QoS 1
    /// publishes made while disconnected wait in the session for the next connection.
    pub fn publish(&mut self, now: u64, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> u64 {
        match self.try_publish(now, topic, payload, qos, retain) {
            Ok(Some(op)) => op,
            Ok(None) => {
                let op = self.op();
                self.finish(op, Outcome::Done);
                op
            }
            Err(e) => {
                let op = self.op();
                self.finish(op, Outcome::Failed(e));
                op
            }
        }
    }

    /// `publish` for a caller that wants a refusal (queue full, too large) at once: a QoS 1
    /// publish gives its op, which finishes on PUBACK; a QoS 0 one is written (or dropped when
    /// not connected) and reports nothing.
    pub fn try_publish(&mut self, now: u64, topic: &str, payload: &[u8], qos: QoS, retain: bool) -> Result<Option<u64>, MqttError> {
        let r = match self.session.publish(now, topic, payload, qos, retain) {
            Ok(Some(pkid)) => {
                let op = self.op();
                self.pubs.push((pkid, op));
                Ok(Some(op))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        self.pump(now);
        r
    }

    /// Ends the current connection, or the attempt at one, with `err`: the caller's own decision
    /// (a deadline of its own, a token that could not be had). Nothing if there is none.
    pub fn abort(&mut self, now: u64, err: MqttError) {
        if self.link != Link::None || self.connect_op.is_some() {
            self.fail(now, err);
        }
    }

    /// QoS 1 publishes sent and not yet acknowledged.
    pub fn unacked(&self) -> usize {
        self.session.unacked()
    }

    /// Ends the connection with DISCONNECT and closes its transport, but keeps the session's
    /// unacknowledged QoS 1 publishes, and their ops, for the next `connect`: what a token
    /// renewal needs, since MQTT 3.1.1 cannot re-authenticate in-band (protocol §2.5).
    /// SUBSCRIBE, UNSUBSCRIBE and a pending `connect` fail with `Closed`; no `Disconnected`.
    pub fn disconnect(&mut self, now: u64) {
        self.session.disconnect(now);
        self.pump_transmit();
        let before = self.events.len();
        self.fail(now, MqttError::Closed);
        self.forget_disconnected_since(before);
    }

    /// Removes the `Disconnected` events reported since `before`: the caller ended the
    /// connection on purpose.
    fn forget_disconnected_since(&mut self, before: usize) {
        let mut i = before;
        while i < self.events.len() {
            if matches!(self.events[i], ClientEvent::Disconnected(_)) {
                self.events.remove(i);
            } else {
                i += 1;
            }
        }
    }

    pub fn subscribe(&mut self, now: u64, filters: &[(&str, QoS)]) -> u64 {
        let op = self.op();
        match self.session.subscribe(now, filters) {
            Ok(pkid) => self.subs.push((pkid, op)),
            Err(e) => self.finish(op, Outcome::Failed(e)),
        }
        self.pump(now);
        op
    }

    pub fn unsubscribe(&mut self, now: u64, filters: &[&str]) -> u64 {
        let op = self.op();
        match self.session.unsubscribe(now, filters) {
            Ok(pkid) => self.unsubs.push((pkid, op)),
            Err(e) => self.finish(op, Outcome::Failed(e)),
        }
        self.pump(now);
        op
    }

    /// Acknowledges a received QoS 1 message (PUBACK).
    pub fn ack(&mut self, now: u64, pkid: u16) {
        self.session.ack(now, pkid);
        self.pump(now);
    }

    /// DISCONNECT if connected, close the transport, and fail everything pending with
    /// `Closed`. Reports `Disconnected(Closed)` only if a transport existed. The session stays
    /// usable for a new `connect`.
    pub fn close(&mut self, now: u64) {
        let had_transport = matches!(self.link, Link::Attached { .. });
        self.session.disconnect(now);
        self.pump_transmit();
        let before = self.events.len();
        self.fail(now, MqttError::Closed);
        if !had_transport {
            // Nothing was connected, so nothing was lost: no `Disconnected` for this close.
            self.forget_disconnected_since(before);
        }
        for (_, op) in std::mem::take(&mut self.pubs) {
            self.finish(op, Outcome::Failed(MqttError::Closed));
        }
    }

    /// Ends the current connection (or attempt) with `err`: the transport goes, a new epoch
    /// makes its late news moot, and the work that belonged to it fails (see the top).
    fn fail(&mut self, now: u64, err: MqttError) {
        if matches!(self.link, Link::Attached { .. } | Link::Opening) {
            self.actions.push(Action::Close);
        }
        self.link = Link::None;
        self.epoch = self.epoch.wrapping_add(1);
        self.open_deadline = None;
        self.session.handle_disconnected(now);
        self.fail_discarded(&err);
        for (_, op) in std::mem::take(&mut self.subs).into_iter().chain(std::mem::take(&mut self.unsubs)) {
            self.finish(op, Outcome::Failed(err.clone()));
        }
        match self.connect_op.take() {
            Some(op) => self.finish(op, Outcome::Failed(err)),
            None => self.events.push(ClientEvent::Disconnected(err)),
        }
    }

    /// Fails the publishes the session dropped unacknowledged (`resend_on_reconnect` off):
    /// they will get no PUBACK, and their ids are free again, so an op left behind would hang,
    /// or be finished by a later publish's PUBACK on the reused id.
    fn fail_discarded(&mut self, err: &MqttError) {
        while let Some(id) = self.session.poll_discarded() {
            if let Some(op) = take(&mut self.pubs, id) {
                self.finish(op, Outcome::Failed(err.clone()));
            }
        }
    }

    fn pump_transmit(&mut self) {
        if let Some(bytes) = self.session.poll_transmit() {
            if matches!(self.link, Link::Attached { opened: true }) {
                self.actions.push(Action::Transmit(bytes));
            }
        }
    }

    /// Moves the session's output and events into actions and op outcomes until it is quiet.
    fn pump(&mut self, now: u64) {
        loop {
            self.pump_transmit();
            let Some(ev) = self.session.poll_event() else { break };
            match ev {
                Event::Connected { session_present } => {
                    if let Some(op) = self.connect_op.take() {
                        self.finish(op, Outcome::Connected(session_present));
                    }
                }
                Event::Publish(p) => self.events.push(ClientEvent::Message(p)),
                Event::PubAck(id) => {
                    if let Some(op) = take(&mut self.pubs, id) {
                        self.finish(op, Outcome::Done);
                    }
                }
                Event::SubAck { pkid, results } => {
                    if let Some(op) = take(&mut self.subs, pkid) {
                        self.finish(op, Outcome::Subscribed(results));
                    }
                }
                Event::UnsubAck(id) => {
                    if let Some(op) = take(&mut self.unsubs, id) {
                        self.finish(op, Outcome::Done);
                    }
                }
                Event::Dead(e) => self.fail(now, e),
            }
        }
        // Ids the session dropped without reporting a death go with the connection's loss.
        self.fail_discarded(&MqttError::ConnectionLost { code: None, reason: String::new() });
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        (!self.actions.is_empty()).then(|| self.actions.remove(0))
    }

    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        (!self.events.is_empty()).then(|| self.events.remove(0))
    }

    /// When to call `handle_timeout`: the session's timers or the open deadline.
    pub fn poll_timeout(&self) -> Option<u64> {
        match (self.session.poll_timeout(), self.open_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

//! The MQTT 3.1.1 client session as a sans-I/O state machine: connect handshake, packet ids,
//! the QoS 1 in-flight window and its queue, keep-alive, and re-sending after a reconnect.
//!
//! Driving it (the transport owns the socket and the clock):
//! 1. open the transport, then `handle_connected(now)` (queues CONNECT);
//! 2. feed every received chunk to `handle_bytes(now, bytes)`;
//! 3. after every `handle_*` or API call, send `poll_transmit()` (one buffer holding all the
//!    packets of the turn), drain `poll_event()`, and arm one timer for `poll_timeout()`,
//!    calling `handle_timeout(now)` when it fires;
//! 4. on `Event::Dead`, or when the transport closes, close it and `handle_disconnected(now)`.
//!
//! The session outlives connections: unacknowledged QoS 1 publishes survive a disconnect and
//! are re-sent with DUP set after the next CONNACK, unless `resend_on_reconnect` is off; then
//! they are dropped when the connection ends and their ids come out of `poll_discarded()`.

mod ids;
mod options;

use std::collections::VecDeque;

pub use options::{Event, SessionOptions};

use crate::mqtt::codec::{self, Decoder};
use crate::mqtt::{Connect, Incoming, MqttError, QoS};
use ids::PacketIds;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No transport, or the connection died.
    Disconnected,
    /// CONNECT sent, waiting for CONNACK until `deadline` (ms).
    Connecting { deadline: u64 },
    /// CONNACK 0 received.
    Connected,
}

#[derive(Debug)]
struct OutPublish {
    pkid: u16,
    topic: String,
    payload: Vec<u8>,
    retain: bool,
}

#[derive(Debug)]
pub struct Session {
    opts: SessionOptions,
    state: State,
    decoder: Decoder,
    tx: Vec<u8>,
    events: VecDeque<Event>,
    ids: PacketIds,
    // Design: every QoS 1 publish not yet acknowledged is in exactly one of `inflight` (sent
    // on some connection, at most `max_inflight`) or `queued` (never sent), and holds its
    // packet id until its PUBACK. The window is refilled from the queue whenever a PUBACK
    // frees a slot or a connection is accepted, so `queued` is non-empty only when
    // `inflight` is full or the session is not connected.
    inflight: VecDeque<OutPublish>,
    queued: VecDeque<OutPublish>,
    // Ids of QoS 1 publishes dropped unacknowledged (`discard_pending`), until the owner drains
    // them with `poll_discarded`. Not an `Event`: a new variant would break every exhaustive
    // `match` on `Event` in the drivers.
    discarded: VecDeque<u16>,
    // SUBSCRIBE (id, filter count) and UNSUBSCRIBE ids waiting for their ack. They belong to
    // one connection: a disconnect forgets them (the caller re-subscribes).
    pending_subs: Vec<(u16, usize)>,
    pending_unsubs: Vec<u16>,
    // Received QoS 1 publishes of this connection not yet acknowledged by the caller: a
    // PUBACK is only sent for an id the server gave on the current connection.
    inbound_unacked: Vec<u16>,
    // Keep-alive: `last_sent` is when the last packet was written; a PINGREQ goes out after
    // `keep_alive` ms of silence, and `ping_sent` is when, until its PINGRESP.
    last_sent: u64,
    ping_sent: Option<u64>,
}

impl Session {
    pub fn new(opts: SessionOptions) -> Session {
        Session {
            decoder: Decoder::new(opts.max_packet_size),
            opts,
            state: State::Disconnected,
            tx: Vec::new(),
            events: VecDeque::new(),
            ids: PacketIds::new(),
            inflight: VecDeque::new(),
            queued: VecDeque::new(),
            discarded: VecDeque::new(),
            pending_subs: Vec::new(),
            pending_unsubs: Vec::new(),
            inbound_unacked: Vec::new(),
            last_sent: 0,
            ping_sent: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// The token to send in the next CONNECT (SAS renewal: set it, then reconnect).
    pub fn set_password(&mut self, password: Option<String>) {
        self.opts.password = password;
    }

    /// QoS 1 publishes not yet acknowledged (in flight + queued).
    pub fn unacked(&self) -> usize {
        self.inflight.len() + self.queued.len()
    }

    fn keep_alive_ms(&self) -> u64 {
        u64::from(self.opts.keep_alive_secs) * 1000
    }

    fn ping_timeout_ms(&self) -> u64 {
        match self.opts.ping_timeout_ms {
            0 => self.keep_alive_ms().min(30_000),
            t => t,
        }
    }

    // ---- input -------------------------------------------------------------------------

    /// The transport is open: starts a new connection by queueing CONNECT.
    pub fn handle_connected(&mut self, now: u64) {
        if self.state == State::Disconnected {
            self.reset_connection();
        } else {
            self.end_connection();
        }
        let c = Connect {
            client_id: &self.opts.client_id,
            username: self.opts.username.as_deref(),
            password: self.opts.password.as_deref(),
            keep_alive_secs: self.opts.keep_alive_secs,
            clean_session: self.opts.clean_session,
        };
        match codec::encode_connect(&mut self.tx, &c) {
            Ok(()) => {
                self.last_sent = now;
                self.state = State::Connecting { deadline: now.saturating_add(self.opts.connect_timeout_ms) };
            }
            Err(e) => self.die(e),
        }
    }

    /// The transport closed (or the caller closed it after `Event::Dead`). Idempotent.
    pub fn handle_disconnected(&mut self, _now: u64) {
        self.end_connection();
        self.state = State::Disconnected;
    }

    /// A connection ended: forget what belonged to it, and with `resend_on_reconnect` off
    /// its unacknowledged publishes too. Publishes made while disconnected are sent on the
    /// next connection either way: they belonged to no earlier one.
    fn end_connection(&mut self) {
        self.reset_connection();
        if !self.opts.resend_on_reconnect {
            self.discard_pending();
        }
    }

    /// Forgets everything that belongs to one connection; keeps QoS 1 publishes.
    fn reset_connection(&mut self) {
        self.decoder.clear();
        self.tx.clear();
        self.ping_sent = None;
        self.inbound_unacked.clear();
        for (id, _) in std::mem::take(&mut self.pending_subs) {
            self.ids.free(id);
        }
        for id in std::mem::take(&mut self.pending_unsubs) {
            self.ids.free(id);
        }
    }

    fn die(&mut self, err: MqttError) {
        self.end_connection();
        self.state = State::Disconnected;
        self.events.push_back(Event::Dead(err));
    }

    /// Bytes received from the transport, in whatever pieces it delivered them. Errors end
    /// the connection with `Event::Dead`; bytes arriving while disconnected are ignored.
    pub fn handle_bytes(&mut self, now: u64, bytes: &[u8]) {
        if self.state == State::Disconnected {
            return;
        }
        self.decoder.push(bytes);
        loop {
            match self.decoder.next_packet() {
                Ok(Some(packet)) => {
                    if let Err(e) = self.on_packet(now, packet) {
                        self.die(e);
                        return;
                    }
                    if self.state == State::Disconnected {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    self.die(e);
                    return;
                }
            }
        }
    }

    fn on_packet(&mut self, now: u64, packet: Incoming) -> Result<(), MqttError> {
        if let State::Connecting { .. } = self.state {
            // The server's first packet must be CONNACK (§3.2).
            let Incoming::ConnAck { session_present, code } = packet else {
                return Err(MqttError::Protocol("expected connack"));
            };
            if code != 0 {
                self.die(MqttError::ConnectionRefused(code));
                return Ok(());
            }
            self.state = State::Connected;
            self.events.push_back(Event::Connected { session_present });
            self.resend_inflight(now);
            self.fill_window(now);
            return Ok(());
        }
        match packet {
            Incoming::ConnAck { .. } => return Err(MqttError::Protocol("second connack")),
            Incoming::Publish(p) => {
                if let Some(id) = p.pkid {
                    if !self.inbound_unacked.contains(&id) {
                        self.inbound_unacked.push(id);
                    }
                }
                self.events.push_back(Event::Publish(p));
            }
            Incoming::PubAck(id) => {
                // An ack for an id not in flight (a late duplicate) is ignored.
                if let Some(pos) = self.inflight.iter().position(|p| p.pkid == id) {
                    self.inflight.remove(pos);
                    self.ids.free(id);
                    self.events.push_back(Event::PubAck(id));
                    self.fill_window(now);
                }
            }
            Incoming::SubAck { pkid, results } => {
                if let Some(pos) = self.pending_subs.iter().position(|&(id, _)| id == pkid) {
                    let (_, count) = self.pending_subs.swap_remove(pos);
                    if results.len() != count {
                        return Err(MqttError::Protocol("suback return count differs from subscribe"));
                    }
                    self.ids.free(pkid);
                    self.events.push_back(Event::SubAck { pkid, results });
                }
            }
            Incoming::UnsubAck(id) => {
                if let Some(pos) = self.pending_unsubs.iter().position(|&u| u == id) {
                    self.pending_unsubs.swap_remove(pos);
                    self.ids.free(id);
                    self.events.push_back(Event::UnsubAck(id));
                }
            }
            Incoming::PingResp => self.ping_sent = None,
        }
        Ok(())
    }

    /// Call when `poll_timeout()`'s deadline has passed (calling early is harmless).
    pub fn handle_timeout(&mut self, now: u64) {
        match self.state {
            State::Disconnected => {}
            State::Connecting { deadline } => {
                if now >= deadline {
                    self.die(MqttError::ConnectTimeout);
                }
            }
            State::Connected => {
                let ka = self.keep_alive_ms();
                if ka == 0 {
                    return;
                }
                match self.ping_sent {
                    Some(at) if now >= at.saturating_add(self.ping_timeout_ms()) => {
                        self.die(MqttError::KeepAliveTimeout)
                    }
                    Some(_) => {}
                    None if now >= self.last_sent.saturating_add(ka) => {
                        codec::encode_pingreq(&mut self.tx);
                        self.ping_sent = Some(now);
                        self.last_sent = now;
                    }
                    None => {}
                }
            }
        }
    }

    // ---- commands ----------------------------------------------------------------------

    /// Publishes a message. QoS 0 needs a connection and returns `None`. QoS 1 returns the
    /// packet id its `Event::PubAck` will carry; it is sent now if connected and the window
    /// has room, otherwise queued (also while disconnected) and sent later in order.
    pub fn publish(
        &mut self,
        now: u64,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<Option<u16>, MqttError> {
        codec::validate_topic_name(topic)?;
        codec::publish_len(topic, payload.len(), qos)?;
        if qos == QoS::AtMostOnce {
            if self.state != State::Connected {
                return Err(MqttError::NotConnected);
            }
            codec::encode_publish(&mut self.tx, topic, payload, qos, 0, false, retain)?;
            self.last_sent = now;
            return Ok(None);
        }
        if self.unacked() >= self.opts.max_inflight.max(1).saturating_add(self.opts.max_queued) {
            return Err(MqttError::QueueFull);
        }
        let pkid = self.ids.alloc().ok_or(MqttError::QueueFull)?;
        self.queued.push_back(OutPublish { pkid, topic: topic.to_owned(), payload: payload.to_vec(), retain });
        self.fill_window(now);
        Ok(Some(pkid))
    }

    /// Subscribes to topic filters (QoS 0 or 1 each). Returns the packet id that the
    /// `Event::SubAck` will carry. Needs a connection.
    pub fn subscribe(&mut self, now: u64, filters: &[(&str, QoS)]) -> Result<u16, MqttError> {
        if self.state != State::Connected {
            return Err(MqttError::NotConnected);
        }
        let pkid = self.ids.alloc().ok_or(MqttError::QueueFull)?;
        if let Err(e) = codec::encode_subscribe(&mut self.tx, pkid, filters) {
            self.ids.free(pkid);
            return Err(e);
        }
        self.pending_subs.push((pkid, filters.len()));
        self.last_sent = now;
        Ok(pkid)
    }

    /// Unsubscribes; returns the packet id of the coming `Event::UnsubAck`. Needs a connection.
    pub fn unsubscribe(&mut self, now: u64, filters: &[&str]) -> Result<u16, MqttError> {
        if self.state != State::Connected {
            return Err(MqttError::NotConnected);
        }
        let pkid = self.ids.alloc().ok_or(MqttError::QueueFull)?;
        if let Err(e) = codec::encode_unsubscribe(&mut self.tx, pkid, filters) {
            self.ids.free(pkid);
            return Err(e);
        }
        self.pending_unsubs.push(pkid);
        self.last_sent = now;
        Ok(pkid)
    }

    /// Acknowledges a received QoS 1 publish (sends PUBACK). The caller decides when: the
    /// hub client acks a C2D message after the user's handler returns (protocol.md §5.5:
    /// PUBACK = complete). An id not received on the current connection is ignored: the
    /// server re-delivers such a message itself.
    pub fn ack(&mut self, now: u64, pkid: u16) {
        if self.state != State::Connected {
            return;
        }
        if let Some(pos) = self.inbound_unacked.iter().position(|&u| u == pkid) {
            self.inbound_unacked.swap_remove(pos);
            codec::encode_puback(&mut self.tx, pkid);
            self.last_sent = now;
        }
    }

    /// Drops every QoS 1 publish not yet acknowledged, in flight or queued, and frees its id;
    /// the ids come out of `poll_discarded()`, oldest first, for their owners to fail. Returns
    /// how many were dropped. Meant for between connections (`resend_on_reconnect` off calls
    /// it as each one ends): on a live one a late PUBACK could meet a reused id.
    pub fn discard_pending(&mut self) -> usize {
        let n = self.unacked();
        for p in self.inflight.drain(..).chain(self.queued.drain(..)) {
            self.ids.free(p.pkid);
            self.discarded.push_back(p.pkid);
        }
        n
    }

    /// Queues DISCONNECT and ends the connection: send `poll_transmit()`, then close the
    /// transport. QoS 1 publishes not yet acknowledged stay for a later connection, unless
    /// `resend_on_reconnect` is off.
    pub fn disconnect(&mut self, now: u64) {
        if self.state == State::Disconnected {
            return;
        }
        let mut out = std::mem::take(&mut self.tx);
        self.end_connection();
        self.state = State::Disconnected;
        codec::encode_disconnect(&mut out);
        self.tx = out;
        self.last_sent = now;
    }

    /// Re-sends every publish in flight with DUP set (§4.4), oldest first.
    fn resend_inflight(&mut self, now: u64) {
        for p in &self.inflight {
            // Checked when queued; cannot fail now, but stay total.
            let _ = codec::encode_publish(&mut self.tx, &p.topic, &p.payload, QoS::AtLeastOnce, p.pkid, true, p.retain);
            self.last_sent = now;
        }
    }

    fn fill_window(&mut self, now: u64) {
        if self.state != State::Connected {
            return;
        }
        while self.inflight.len() < self.opts.max_inflight.max(1) {
            let Some(p) = self.queued.pop_front() else { break };
            let _ = codec::encode_publish(&mut self.tx, &p.topic, &p.payload, QoS::AtLeastOnce, p.pkid, false, p.retain);
            self.last_sent = now;
            self.inflight.push_back(p);
        }
    }

    // ---- output ------------------------------------------------------------------------

    /// Everything to send, all packets of the turn in one buffer; `None` when there is
    /// nothing. Call after every `handle_*` and command.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.tx.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.tx))
        }
    }

    /// The next event; call until `None` after every `handle_*` and command.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The id of a QoS 1 publish that was dropped unacknowledged and will get no `PubAck`:
    /// fail whatever waits for it. Call until `None` after every `handle_*` and command.
    pub fn poll_discarded(&mut self) -> Option<u16> {
        self.discarded.pop_front()
    }

    /// When (ms, same clock as `now`) `handle_timeout` wants to be called; `None` = no timer.
    /// Changes after every input, so re-read it each turn.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            State::Disconnected => None,
            State::Connecting { deadline } => Some(deadline),
            State::Connected => {
                let ka = self.keep_alive_ms();
                if ka == 0 {
                    return None;
                }
                Some(match self.ping_sent {
                    Some(at) => at.saturating_add(self.ping_timeout_ms()),
                    None => self.last_sent.saturating_add(ka),
                })
            }
        }
    }

    /// For tests: moves the packet-id cursor so the 65535 → 1 wrap is reachable quickly.
    #[doc(hidden)]
    pub fn debug_set_next_packet_id(&mut self, id: u16) {
        self.ids.set_next(id);
    }
}

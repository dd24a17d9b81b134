//! The hub client engine, sans-I/O: IoT Hub's connection policy, twin, desired and method
//! routing on top of the plain MQTT client engine (`mqtt::client::ClientEngine`), whose session
//! outlives its connections and which owns the transport epochs, the open deadline and which
//! operation each packet id answers.
//!
//! Driving it: call `start`; after every call drain `poll_action` (open a socket, write bytes,
//! close the socket) and `poll_event`, and arm one timer for `poll_timeout`, calling
//! `handle_timeout` when it fires. Socket news comes in through `handle_opened`,
//! `handle_open_failed`, `handle_bytes` and `handle_closed`. Each `handle_*` takes `now` and a
//! jitter fraction in `[0, 1]` (drawn by the driver), used if the call leads to a backoff.
//!
//! Design (phases): Idle → Opening → Connecting (CONNECT sent) → Subscribing (CONNACK 0,
//! SUBSCRIBE sent) → Ready (SUBACK; the first connection is announced after its twin GET).
//! Any drop → Backoff → Opening. Opening and Connecting share the client engine's open deadline
//! (token, socket and CONNACK within `connect_timeout_ms`), and Subscribing has its own, so no
//! phase before Ready can last forever whatever the token provider, socket or hub does.
//! Ready → Renewing when the token reaches 80% of its life (never sooner than
//! `min_renew_interval_ms`; never for a fixed token): new sends wait in the offline queue while
//! in-flight PUBACKs drain (bounded by `renew_drain_ms`), then DISCONNECT and reconnect at once
//! with a new token.
//! Telemetry sent before Ready waits in the bounded offline queue; once in the session it stays
//! there until its PUBACK, across reconnects (re-sent with DUP by the session).
//!
//! Split by concern: the application's calls are in `engine_calls.rs`, inbound routing in
//! `engine_inbound.rs`, drops, give-up, send expiry and token renewal in `engine_lifecycle.rs`,
//! what the application listens to in `engine_listening.rs`, Plug and Play in `engine_pnp.rs`,
//! and the option/action/event types in `engine_types.rs`.

use super::engine_types::{Action, EngineOptions, HubEvent, Listening};
use super::pnp::Writables;
use super::policy::{renew_at_ms, DropReason, OfflineQueue, ReconnectPolicy};
use super::{
    sas_expiry, subscriptions, DesiredTracker, HubError, TwinOutcome,
    TwinRequestKind, TwinRequests,
};
use crate::mqtt::client::{Action as ClientAction, ClientEngine, ClientEvent, Outcome};
use crate::mqtt::{MqttError, QoS, SessionOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Idle,
    Opening,
    Connecting,
    Subscribing { deadline: u64 },
    Ready,
    Renewing { deadline: u64 },
    Backoff { until: u64 },
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TwinToken {
    User(u64),
    Resync,
    /// A writable-property acknowledgement the engine sent itself (engine_pnp.rs).
    Ack,
}

pub struct HubEngine {
    pub(super) opts: EngineOptions,
    pub(super) client: ClientEngine,
    /// The client engine's current transport epoch, for the socket news of `handle_*`.
    pub(super) epoch: u32,
    /// The client engine's ops of the connection being made: its CONNECT and its SUBSCRIBE.
    pub(super) connect_op: Option<u64>,
    pub(super) sub_op: Option<u64>,
    pub(super) phase: Phase,
    pub(super) policy: ReconnectPolicy,
    pub(super) next_op: u64,
    /// Telemetry in the session: (client op, op, send deadline), oldest first. A Vec, not a
    /// HashMap: it is bounded by the in-flight window, and hashbrown + SipHash cost ~4 KB of wasm.
    pub(super) in_session: Vec<(u64, u64, u64)>,
    /// (op, send deadline, topic, body); deadlines are `u64::MAX` without `send_timeout_ms`.
    pub(super) offline: OfflineQueue<(u64, u64, String, Vec<u8>)>,
    pub(super) twin: TwinRequests<TwinToken>,
    pub(super) desired: DesiredTracker,
    pub(super) renew_at: Option<u64>,
    /// The first connection is announced once its twin GET set the desired baseline, so a
    /// patch made right after `Connected` is always delivered, never folded into the baseline.
    pub(super) announce_after_resync: bool,
    /// Whether a connection was ever announced: until then a drop ends the client (below).
    pub(super) ever_connected: bool,
    pub(super) listening: Listening,
    pub(super) writables: Writables,
    /// The jitter of the latest `handle_*` call, for a backoff that call leads to: the engine
    /// has no random source, and only socket news and timers end connections.
    pub(super) jitter: f64,
    pub(super) actions: Vec<Action>,
    pub(super) events: Vec<HubEvent>,
}

impl HubEngine {
    pub fn new(opts: EngineOptions) -> HubEngine {
        let id = &opts.identity;
        let client = ClientEngine::new(SessionOptions {
            client_id: id.client_id(),
            username: Some(id.username(opts.client_type.as_deref(), opts.model_id.as_deref())),
            password: None,
            keep_alive_secs: opts.keep_alive_secs,
            // Clean session 0, as the SDKs connect: queued C2D survives a reconnect (§5.3).
            clean_session: false,
            max_inflight: opts.max_inflight.max(1),
            max_queued: opts.max_queued,
            connect_timeout_ms: opts.connect_timeout_ms,
            ..SessionOptions::default()
        });
        HubEngine {
            policy: ReconnectPolicy::new(opts.reconnect),
            offline: OfflineQueue::new(opts.offline_queue),
            twin: TwinRequests::new(opts.twin_timeout_ms),
            client,
            epoch: 0,
            connect_op: None,
            sub_op: None,
            phase: Phase::Idle,
            next_op: 1,
            in_session: Vec::new(),
            desired: DesiredTracker::new(),
            renew_at: None,
            announce_after_resync: false,
            ever_connected: false,
            listening: Listening::new(),
            writables: Writables::default(),
            jitter: 0.5,
            actions: Vec::new(),
            events: Vec::new(),
            opts,
        }
    }

    pub fn identity(&self) -> &super::Identity {
        &self.opts.identity
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.phase, Phase::Ready | Phase::Renewing { .. })
    }

    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Starts the first connection.
    pub fn start(&mut self, now: u64) {
        if self.phase == Phase::Idle {
            self.open(now);
        }
    }

    pub(super) fn open(&mut self, now: u64) {
        self.phase = Phase::Opening;
        self.connect_op = Some(self.client.connect(now));
        self.flush(now);
    }

    // ---- socket news --------------------------------------------------------------------

    /// The socket is open; `token` is the SAS password for this connection.
    pub fn handle_opened(&mut self, now: u64, jitter: f64, token: String) {
        self.jitter = jitter;
        if self.phase != Phase::Opening {
            // Closed or timed out meanwhile: the driver must drop this socket.
            self.actions.push(Action::CloseSocket);
            return;
        }
        let expiry = sas_expiry(&token);
        if !self.opts.renew_tokens && expiry.is_some_and(|se| se.saturating_mul(1000) <= now) {
            self.actions.push(Action::CloseSocket);
            self.give_up(now, HubError::TokenExpired, true);
            return;
        }
        self.renew_at = expiry
            .filter(|_| self.opts.renew_tokens)
            .map(|se| renew_at_ms(now, se, self.opts.min_renew_interval_ms));
        self.client.set_password(Some(token));
        self.phase = Phase::Connecting;
        self.client.handle_attached(now, self.epoch, true);
        self.flush(now);
    }

    /// The socket (or the token) could not be had.
    pub fn handle_open_failed(&mut self, now: u64, jitter: f64, err: MqttError) {
        self.jitter = jitter;
        if self.phase == Phase::Opening {
            self.client.handle_open_failed(now, self.epoch, err);
            self.flush(now);
        }
    }

    /// The application's token provider failed (`why`): like a failed open, with the
    /// provider's own code, the one provisioning uses for the same failure.
    pub fn handle_token_failed(&mut self, now: u64, jitter: f64, why: &str) {
        self.jitter = jitter;
        if self.phase == Phase::Opening {
            self.dropped(now, DropReason::Network, "TOKEN_PROVIDER_FAILED", format!("getToken failed: {why}"));
            self.flush(now);
        }
    }

    pub fn handle_bytes(&mut self, now: u64, jitter: f64, bytes: &[u8]) {
        self.jitter = jitter;
        self.client.handle_bytes(now, self.epoch, bytes);
        self.flush(now);
    }

    /// The socket closed (whoever closed it). `err` says why when known.
    pub fn handle_closed(&mut self, now: u64, jitter: f64, err: MqttError) {
        self.jitter = jitter;
        match self.phase {
            Phase::Closed | Phase::Idle | Phase::Backoff { .. } => {}
            Phase::Renewing { .. } => {
                // Closed during the drain, or after the renewal's DISCONNECT: reopen at once.
                self.client.handle_failed(now, self.epoch, err);
                self.flush(now);
                self.reopen_after_renewal(now);
            }
            _ => self.client.handle_failed(now, self.epoch, err),
        }
        self.flush(now);
    }

    pub fn handle_timeout(&mut self, now: u64, jitter: f64) {
        self.jitter = jitter;
        self.client.handle_timeout(now);
        self.flush(now);
        for token in self.twin.expire(now) {
            self.twin_finished(now, token, TwinOutcome::Failed(HubError::Timeout));
        }
        self.expire_sends(now);
        match self.phase {
            Phase::Backoff { until } if now >= until => self.open(now),
            Phase::Subscribing { deadline } if now >= deadline => {
                let e = MqttError::ConnectTimeout;
                self.dropped(now, DropReason::Network, e.code(), "no SUBACK in time".into());
            }
            Phase::Ready if self.renew_at.is_some_and(|t| now >= t) => {
                self.phase = Phase::Renewing {
                    deadline: now.saturating_add(self.opts.renew_drain_ms),
                };
                self.renew_if_drained(now);
            }
            Phase::Renewing { deadline } if deadline != u64::MAX && now >= deadline => self.close_for_renewal(now),
            _ => {}
        }
        self.flush(now);
    }

    // ---- output -------------------------------------------------------------------------

    pub fn poll_action(&mut self) -> Option<Action> {
        (!self.actions.is_empty()).then(|| self.actions.remove(0))
    }

    pub fn poll_event(&mut self) -> Option<HubEvent> {
        (!self.events.is_empty()).then(|| self.events.remove(0))
    }

    /// When `handle_timeout` wants to run next (ms); re-read after every call.
    pub fn poll_timeout(&self) -> Option<u64> {
        let phase = match self.phase {
            Phase::Backoff { until } => Some(until),
            Phase::Subscribing { deadline } => Some(deadline),
            Phase::Ready => self.renew_at,
            Phase::Renewing { deadline } => Some(deadline),
            _ => None,
        };
        // All sends share one timeout, so the oldest of each list has the earliest deadline.
        let sends = [
            self.in_session.first().map(|s| s.2),
            self.offline.front().map(|s| s.1),
        ];
        [self.client.poll_timeout(), phase, self.twin.next_deadline()]
            .into_iter()
            .chain(sends)
            .flatten()
            .filter(|d| *d != u64::MAX)
            .min()
    }

    // ---- internals ----------------------------------------------------------------------
    pub(super) fn announce_connected(&mut self) {
        self.ever_connected = true;
        self.events.push(HubEvent::Connected);
    }

    fn on_ready(&mut self, now: u64) {
        self.phase = Phase::Ready;
        self.policy.on_connected(now);
        if self.desired.has_baseline() {
            self.announce_connected();
        } else {
            self.announce_after_resync = true;
        }
        for p in self.twin.resend_all() {
            let _ = self.client.try_publish(now, &p.topic, &p.payload, QoS::AtMostOnce, false);
        }
        // Every connect re-reads the twin so desired changes made offline are delivered (§5.6).
        self.desired.begin_resync();
        let p = self
            .twin
            .start(TwinRequestKind::Get, Vec::new(), now, TwinToken::Resync);
        let _ = self.client.try_publish(now, &p.topic, &p.payload, QoS::AtMostOnce, false);
        while let Some((op, deadline, topic, body)) = self.offline.pop() {
            if let Err(e) = self.publish_telemetry(now, op, deadline, &topic, &body) {
                self.events.push(HubEvent::SendDone { op, result: Err(e) });
            }
        }
    }

    /// Drains the client engine's actions and events into the hub's actions and events.
    pub(super) fn flush(&mut self, now: u64) {
        loop {
            while let Some(a) = self.client.poll_action() {
                self.actions.push(match a {
                    ClientAction::Open { epoch } => {
                        self.epoch = epoch;
                        Action::Open
                    }
                    ClientAction::Transmit(bytes) => Action::Transmit(bytes),
                    ClientAction::Close => Action::CloseSocket,
                });
            }
            let Some(ev) = self.client.poll_event() else { break };
            match ev {
                ClientEvent::Finished { op, outcome } => self.finished(now, op, outcome),
                ClientEvent::Message(p) => self.route(now, p.topic, p.payload, p.pkid),
                ClientEvent::Disconnected(err) => self.connection_failed(now, err),
            }
        }
    }

    /// A client engine op ended: the CONNECT, the SUBSCRIBE, or a telemetry publish.
    fn finished(&mut self, now: u64, op: u64, outcome: Outcome) {
        if self.connect_op == Some(op) {
            self.connect_op = None;
            match outcome {
                Outcome::Connected(_) => self.subscribe(now),
                Outcome::Failed(err) => self.connection_failed(now, err),
                _ => {}
            }
        } else if self.sub_op == Some(op) {
            self.sub_op = None;
            // A failed SUBSCRIBE went with its connection, whose `Disconnected` says why.
            if let Outcome::Subscribed(results) = outcome {
                if results.iter().any(Option::is_none) {
                    self.events.push(HubEvent::Error(HubError::InvalidArgument("a subscription was refused")));
                }
                self.on_ready(now);
            }
        } else if let Some(i) = self.in_session.iter().position(|(c, ..)| *c == op) {
            let (_, op, _) = self.in_session.remove(i);
            // With `resend_on_reconnect` a publish fails only when the client engine closes.
            let result = match outcome {
                Outcome::Failed(_) => Err(HubError::Closed),
                _ => Ok(()),
            };
            self.events.push(HubEvent::SendDone { op, result });
            if let Phase::Renewing { deadline } = self.phase {
                if deadline != u64::MAX {
                    self.renew_if_drained(now);
                }
            }
        }
    }

    /// CONNACK 0: SUBSCRIBE to the hub's filters.
    fn subscribe(&mut self, now: u64) {
        let filters = subscriptions(&self.opts.identity);
        // C2D at QoS 1 (PUBACK = complete); twin and methods are QoS 0 (§5.5–5.7).
        let list: Vec<(&str, QoS)> = filters
            .iter()
            .enumerate()
            .map(|(i, f)| (f.as_str(), if i == 0 { QoS::AtLeastOnce } else { QoS::AtMostOnce }))
            .collect();
        self.sub_op = Some(self.client.subscribe(now, &list));
        self.phase = Phase::Subscribing { deadline: now.saturating_add(self.opts.connect_timeout_ms) };
    }

    /// The connection (or the attempt) ended with `err`, as the client engine saw it.
    fn connection_failed(&mut self, now: u64, err: MqttError) {
        match self.phase {
            Phase::Closed | Phase::Idle | Phase::Backoff { .. } => {}
            // Renewing: the driver's close of this socket reopens at once (`handle_closed`).
            Phase::Renewing { .. } => self.phase = Phase::Renewing { deadline: u64::MAX },
            _ => self.dropped(now, reason_of(&err), err.code(), err.to_string()),
        }
    }

    pub(super) fn fail_all(&mut self, err: HubError) {
        let mut ops: Vec<u64> = self.in_session.drain(..).map(|(_, op, _)| op).collect();
        super::sort_small_by_key(&mut ops, |op| *op);
        ops.extend(self.offline.drain().into_iter().map(|(op, _, _, _)| op));
        for op in ops {
            self.events.push(HubEvent::SendDone {
                op,
                result: Err(err.clone()),
            });
        }
        for token in self.twin.drain() {
            match token {
                TwinToken::User(op) => self.events.push(HubEvent::TwinDone {
                    op,
                    outcome: TwinOutcome::Failed(err.clone()),
                }),
                // An acknowledgement nobody awaits: heard as an error, unless the app closed.
                TwinToken::Ack if !matches!(err, HubError::Closed) => self.events.push(HubEvent::Error(err.clone())),
                _ => {}
            }
        }
    }
}

fn reason_of(err: &MqttError) -> DropReason {
    match err {
        MqttError::ConnectionRefused(3) => DropReason::Throttled,
        MqttError::ConnectionRefused(4 | 5) => DropReason::Unauthorized,
        MqttError::KeepAliveTimeout => DropReason::KeepAliveTimeout,
        _ => DropReason::Network,
    }
}

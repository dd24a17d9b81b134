//! Runs a `hub::HubEngine` over the WebSocket of `mqtt_socket` with the JS clock and timers:
//! carries out the engine's actions (sockets are opened in `hub_socket`), keeps one timer, and
//! turns engine events into settled Promises and calls of the application's handlers.
//!
//! Design: `Inner` runs on the `mailbox` turn loop shared with `mqtt_driver`: every input
//! (API call, socket event, timer, opened socket, handler result) is posted and applied in a
//! turn; socket writes and drops, socket opens and every call of application code (resolve/
//! reject, handlers) happen after the state is released, and may post more. Socket listeners,
//! timers and tasks hold a `Weak` and the socket `epoch`, so news from a replaced socket is
//! ignored.

use std::rc::Weak;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::error::{js_error, js_service_error, ServiceDetails};
use super::hub_message::{c2d_to_js, json_to_js};
use super::hub_options::{Credential, HubOptions};
pub(crate) use super::js::now_ms_u64 as now;
use super::js::{get_str, object, set, spawn};
use super::mailbox::{Alarm, Driven, Effects, Mailbox};
use super::mqtt_socket::{Socket, SocketEvent, SocketFactory};
use crate::hub::{method_error_body, Action, HubEngine, HubError, HubEvent, TwinOutcome};
use crate::mqtt::MqttError;

pub(crate) type Waiter = (Function, Function);

/// A JS call to make once the borrow is released.
pub(crate) enum Call {
    Settle(Function, JsValue),
    Invoke(Function, JsValue, JsValue),
    Message(Function, Option<u16>, JsValue),
    Method(Function, String, JsValue),
}

#[derive(Default)]
pub(crate) struct Handlers {
    pub message: Option<Function>,
    pub desired: Option<Function>,
    pub methods: Vec<(String, Function)>,
    pub listeners: Vec<(String, Function)>,
}

pub(crate) struct Inner {
    pub engine: HubEngine,
    pub(crate) credential: Credential,
    pub(crate) url: String,
    pub(crate) factory: SocketFactory,
    pub(crate) token_ttl_secs: u64,
    pub(crate) open_timeout_ms: u64,
    pub(crate) socket: Option<Socket>,
    pub(crate) epoch: u32,
    /// The token of the socket being opened, until its `open` event.
    pub(crate) pending_token: Option<String>,
    alarm: Alarm,
    /// Sockets to drop once the state is released (dropping one calls into its JS object).
    dead: Vec<Socket>,
    /// Calls of application code to make once the state is released.
    pub calls: Vec<Call>,
    /// Pending sends and twin calls by op, oldest first. A Vec, not a HashMap: ops settle
    /// nearly in order, and hashbrown + SipHash cost ~4 KB of wasm (bench/size.md).
    pub waiters: Vec<(u64, Waiter)>,
    pub connect_waiter: Option<Waiter>,
    pub close_waiters: Vec<Function>,
    pub handlers: Handlers,
}

/// The hub client's shared state and inbox.
pub(crate) type Hub = Mailbox<Inner>;

/// A `HubError` as a JS `Error` with `code` (and `status` when the hub gave one).
pub(crate) fn hub_js_error(e: &HubError) -> JsValue {
    match e.status() {
        Some(s) => js_service_error(
            e.code(),
            &e.to_string(),
            &ServiceDetails {
                status: Some(s),
                ..Default::default()
            },
        ),
        None => js_error(e.code(), &e.to_string()),
    }
}

impl Inner {
    pub fn new(o: HubOptions) -> Inner {
        Inner {
            engine: HubEngine::new(o.engine),
            credential: o.credential,
            url: o.url,
            factory: o.factory,
            token_ttl_secs: o.token_ttl_secs,
            open_timeout_ms: o.open_timeout_ms,
            socket: None,
            epoch: 0,
            pending_token: None,
            alarm: Alarm::default(),
            dead: Vec::new(),
            calls: Vec::new(),
            waiters: Vec::new(),
            connect_waiter: None,
            close_waiters: Vec::new(),
            handlers: Handlers::default(),
        }
    }

    /// Forgets the current socket (dropped after the turn) and starts a new epoch, so a late
    /// open or event of the old one is ignored.
    pub(crate) fn drop_socket(&mut self) {
        if let Some(s) = self.socket.take() {
            self.dead.push(s);
        }
        self.pending_token = None;
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// Drops a socket no longer wanted, after the turn.
    pub(crate) fn discard(&mut self, socket: Socket) {
        self.dead.push(socket);
    }

    fn take_waiter(&mut self, op: u64) -> Option<Waiter> {
        let i = self.waiters.iter().position(|(o, _)| *o == op)?;
        Some(self.waiters.remove(i).1)
    }

    pub(crate) fn emit(&mut self, name: &str, arg: JsValue) {
        listener_calls(&self.handlers, name, arg, &mut self.calls);
    }

    fn dispatch(&mut self, ev: HubEvent) {
        match ev {
            HubEvent::Connected => {
                if let Some((resolve, _)) = self.connect_waiter.take() {
                    self.calls.push(Call::Settle(resolve, JsValue::UNDEFINED));
                }
                self.emit("connected", JsValue::UNDEFINED);
            }
            HubEvent::Disconnected { reason, message } => {
                let err = js_error(reason, &message);
                // The first connection failed (the engine closes after it): `connect()` says why.
                if let Some((_, reject)) = self.connect_waiter.take() {
                    self.calls.push(Call::Settle(reject, err.clone()));
                }
                let info = object();
                set(&info, "code", &JsValue::from_str(reason));
                set(&info, "message", &JsValue::from_str(&message));
                set(&info, "error", &err);
                self.emit("disconnected", info);
            }
            HubEvent::Reconnecting { attempt, delay_ms } => {
                let info = object();
                set(&info, "attempt", &JsValue::from_f64(attempt as f64));
                set(&info, "delayMs", &JsValue::from_f64(delay_ms as f64));
                self.emit("reconnecting", info);
            }
            HubEvent::SendDone { op, result } => {
                if let Some((resolve, reject)) = self.take_waiter(op) {
                    self.calls.push(match result {
                        Ok(()) => Call::Settle(resolve, JsValue::UNDEFINED),
                        Err(e) => Call::Settle(reject, hub_js_error(&e)),
                    });
                }
            }
            HubEvent::TwinDone { op, outcome } => {
                if let Some((resolve, reject)) = self.take_waiter(op) {
                    self.calls.push(match outcome {
                        TwinOutcome::Twin(v) => Call::Settle(resolve, json_to_js(&v)),
                        TwinOutcome::ReportedVersion(n) => Call::Settle(resolve, JsValue::from_f64(n as f64)),
                        TwinOutcome::Failed(e) => Call::Settle(reject, hub_js_error(&e)),
                    });
                }
            }
            // The engine reports these only once their handler is set (it holds them until then).
            HubEvent::Message { pkid, message, payload } => {
                if let Some(h) = &self.handlers.message {
                    self.calls.push(Call::Message(h.clone(), pkid, c2d_to_js(&message, &payload)));
                }
            }
            HubEvent::Desired(u) => {
                if let Some(h) = &self.handlers.desired {
                    let version = u.version.map(|v| JsValue::from_f64(v as f64)).unwrap_or(JsValue::NULL);
                    self.calls.push(Call::Invoke(h.clone(), json_to_js(&u.patch), version));
                }
            }
            HubEvent::Method { name, rid, payload } => {
                let handler = self
                    .handlers
                    .methods
                    .iter()
                    .find(|(n, _)| *n == name)
                    .or_else(|| self.handlers.methods.iter().find(|(n, _)| n == "*"))
                    .map(|(_, f)| f.clone());
                // The engine answers a method nobody listens to (501) before it gets here.
                if let Some(h) = handler {
                    let req = object();
                    set(&req, "methodName", &JsValue::from_str(&name));
                    set(&req, "requestId", &JsValue::from_str(&rid));
                    set(&req, "payload", &super::hub_message::payload_to_js(&payload));
                    self.calls.push(Call::Method(h, rid, req));
                }
            }
            HubEvent::Error(e) => self.emit("error", hub_js_error(&e)),
            HubEvent::Closed => {
                self.drop_socket();
                if let Some((_, reject)) = self.connect_waiter.take() {
                    self.calls.push(Call::Settle(
                        reject,
                        js_error("CLOSED", "client closed before it connected"),
                    ));
                }
                for (_, (_, reject)) in self.waiters.drain(..) {
                    self.calls.push(Call::Settle(reject, js_error("CLOSED", "client closed")));
                }
                for f in self.close_waiters.drain(..) {
                    self.calls.push(Call::Settle(f, JsValue::UNDEFINED));
                }
                self.emit("closed", JsValue::UNDEFINED);
            }
        }
    }
}

/// Queues a call of every listener of event `name`.
fn listener_calls(handlers: &Handlers, name: &str, arg: JsValue, calls: &mut Vec<Call>) {
    for (n, f) in &handlers.listeners {
        if n == name {
            calls.push(Call::Invoke(f.clone(), arg.clone(), JsValue::UNDEFINED));
        }
    }
}

/// Dropped with the last handle (the JS object freed): nothing pending is left unsettled.
impl Drop for Inner {
    fn drop(&mut self) {
        let closed = || js_error("CLOSED", "client dropped");
        if let Some((_, reject)) = self.connect_waiter.take() {
            let _ = reject.call1(&JsValue::UNDEFINED, &closed());
        }
        for (_, (_, reject)) in self.waiters.drain(..) {
            let _ = reject.call1(&JsValue::UNDEFINED, &closed());
        }
        for f in self.close_waiters.drain(..) {
            let _ = f.call0(&JsValue::UNDEFINED);
        }
    }
}

impl Driven for Inner {
    /// Carries out the engine's actions and dispatches its events until it is quiet; socket
    /// opens, writes, drops and application calls go to `fx`, for after the borrow.
    fn pump(&mut self, fx: &mut Effects, me: &Weak<Hub>) {
        loop {
            let mut busy = false;
            while let Some(a) = self.engine.poll_action() {
                busy = true;
                match a {
                    Action::Open => {
                        self.drop_socket();
                        let (me, epoch) = (me.clone(), self.epoch);
                        // Superseded by a later `Open` before it runs, it returns at once.
                        fx.later(move || spawn(super::hub_socket::open_socket(me, epoch)));
                    }
                    Action::Transmit(bytes) => {
                        if let Some(s) = &self.socket {
                            fx.send(self.epoch, s, bytes);
                        }
                    }
                    Action::CloseSocket => {
                        // Also while a token or socket is still awaited: the new epoch voids it.
                        let had = self.socket.is_some() || self.pending_token.is_some();
                        self.drop_socket();
                        if had {
                            self.engine.handle_closed(now(), MqttError::Closed);
                        }
                    }
                }
            }
            while let Some(ev) = self.engine.poll_event() {
                busy = true;
                self.dispatch(ev);
            }
            if !busy {
                break;
            }
        }
        for s in self.dead.drain(..) {
            fx.drop_socket(s);
        }
        let calls = std::mem::take(&mut self.calls);
        if !calls.is_empty() {
            let me = me.clone();
            fx.later(move || calls.into_iter().for_each(|c| run(&me, c)));
        }
        self.alarm.set(self.engine.poll_timeout(), me);
    }

    fn socket_event(&mut self, epoch: u32, ev: SocketEvent, _: &mut Effects) {
        super::hub_socket::on_socket_event(self, epoch, ev);
    }

    fn send_failed(&mut self, epoch: u32, err: MqttError, _: &mut Effects) {
        if self.epoch == epoch && self.socket.is_some() {
            self.drop_socket();
            self.engine.handle_closed(now(), err);
        }
    }

    fn timer_fired(&mut self, _: &mut Effects) {
        self.engine.handle_timeout(now());
    }

    fn alarm(&mut self) -> &mut Alarm {
        &mut self.alarm
    }
}

fn run(me: &Weak<Hub>, call: Call) {
    match call {
        Call::Settle(f, v) => {
            let _ = f.call1(&JsValue::UNDEFINED, &v);
        }
        Call::Invoke(f, a, b) => {
            if let Err(e) = f.call2(&JsValue::UNDEFINED, &a, &b) {
                report_handler_error(me, e);
            }
        }
        Call::Message(f, pkid, msg) => {
            let me = me.clone();
            spawn(async move {
                let outcome = handler_result(f.call1(&JsValue::UNDEFINED, &msg)).await;
                if let Err(e) = outcome {
                    report_handler_error(&me, e);
                }
                // PUBACK after the handler returns (§5.5); MQTT cannot reject, so a failed
                // handler completes the message too rather than have it redelivered forever.
                if let (Some(id), Some(rc)) = (pkid, me.upgrade()) {
                    rc.post(move |i, _| i.engine.ack_message(now(), id));
                }
            });
        }
        Call::Method(f, rid, req) => {
            let me = me.clone();
            spawn(async move {
                let (status, payload) = match handler_result(f.call1(&JsValue::UNDEFINED, &req)).await {
                    Ok(v) => {
                        let status = super::js::get_f64(&v, "status")
                            .filter(|s| s.fract() == 0.0 && (0.0..=65535.0).contains(s))
                            .unwrap_or(200.0) as u16;
                        let payload =
                            super::hub_message::js_to_json(&super::js::get(&v, "payload")).unwrap_or_default();
                        (status, payload)
                    }
                    Err(e) => {
                        let msg = get_str(&e, "message")
                            .or_else(|| e.as_string())
                            .unwrap_or_else(|| "handler failed".into());
                        (500, method_error_body(&msg))
                    }
                };
                if let Some(rc) = me.upgrade() {
                    rc.post(move |i, _| i.engine.respond_method(now(), &rid, status, &payload));
                }
            });
        }
    }
}

/// Awaits a handler's result when it is a Promise (or thenable via `Promise.resolve`).
pub(crate) async fn handler_result(r: Result<JsValue, JsValue>) -> Result<JsValue, JsValue> {
    let v = r?;
    JsFuture::from(Promise::resolve(&v)).await
}

/// A handler threw: the application hears it as an `error` event (code `HANDLER_ERROR`).
fn report_handler_error(me: &Weak<Hub>, e: JsValue) {
    let Some(rc) = me.upgrade() else { return };
    let msg = get_str(&e, "message").unwrap_or_else(|| "handler threw".into());
    let err = js_error("HANDLER_ERROR", &msg);
    set(&err, "cause", &e);
    rc.post(move |i, _| i.emit("error", err));
}


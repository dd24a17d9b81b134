//! Runs a `hub::HubEngine` over the WebSocket of `mqtt_socket` with the JS clock and timers:
//! carries out the engine's actions (sockets are opened in `hub_socket`), keeps one timer, and
//! turns engine events into settled Promises and calls of the application's handlers.
//!
//! Design: all state is in `Inner` behind `Rc<RefCell<_>>`; socket listeners, timers and tasks
//! hold a `Weak` and the socket `epoch`, so news from a replaced socket is ignored. Every input
//! ends in one `turn`: actions are carried out and events collected under the borrow, then the
//! borrow is released and JS is called (resolve/reject, handlers), which may call back in.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::error::{js_error, js_service_error, ServiceDetails};
use super::hub_message::{c2d_to_js, json_to_js};
use super::hub_options::{Credential, HubOptions};
use super::js::{get_str, now_ms, object, set};
use super::mqtt_socket::{Socket, SocketFactory};
use super::timer::Timeout;
use crate::hub::{Action, HubEngine, HubError, HubEvent, TwinOutcome};
use crate::mqtt::MqttError;

/// Messages and desired patches held until the application registers a handler.
const MAX_HELD: usize = 1000;

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
    pub(crate) open_timer: Option<Timeout>,
    timer: Option<(u64, Timeout)>,
    /// Pending sends and twin calls by op, oldest first. A Vec, not a HashMap: ops settle
    /// nearly in order, and hashbrown + SipHash cost ~4 KB of wasm (bench/size.md).
    pub waiters: Vec<(u64, Waiter)>,
    pub connect_waiter: Option<Waiter>,
    pub close_waiters: Vec<Function>,
    ever_connected: bool,
    pub handlers: Handlers,
    pub held_messages: VecDeque<(Option<u16>, JsValue)>,
    pub held_desired: VecDeque<(JsValue, JsValue)>,
}

pub(crate) fn now() -> u64 {
    now_ms().max(0.0) as u64
}

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
            open_timer: None,
            timer: None,
            waiters: Vec::new(),
            connect_waiter: None,
            close_waiters: Vec::new(),
            ever_connected: false,
            handlers: Handlers::default(),
            held_messages: VecDeque::new(),
            held_desired: VecDeque::new(),
        }
    }

    pub(crate) fn drop_socket(&mut self) {
        self.socket = None;
        self.pending_token = None;
        self.open_timer = None;
        self.epoch = self.epoch.wrapping_add(1);
    }

    fn take_waiter(&mut self, op: u64) -> Option<Waiter> {
        let i = self.waiters.iter().position(|(o, _)| *o == op)?;
        Some(self.waiters.remove(i).1)
    }

    fn emit(&self, name: &str, arg: JsValue, calls: &mut Vec<Call>) {
        for (n, f) in &self.handlers.listeners {
            if n == name {
                calls.push(Call::Invoke(f.clone(), arg.clone(), JsValue::UNDEFINED));
            }
        }
    }

    fn dispatch(&mut self, ev: HubEvent, calls: &mut Vec<Call>) {
        match ev {
            HubEvent::Connected => {
                self.ever_connected = true;
                if let Some((resolve, _)) = self.connect_waiter.take() {
                    calls.push(Call::Settle(resolve, JsValue::UNDEFINED));
                }
                self.emit("connected", JsValue::UNDEFINED, calls);
            }
            HubEvent::Disconnected { reason, message } => {
                let err = js_error(reason, &message);
                if !self.ever_connected {
                    // The first connection failed: `connect()` rejects with why, no retry loop.
                    if let Some((_, reject)) = self.connect_waiter.take() {
                        calls.push(Call::Settle(reject, err.clone()));
                    }
                    self.engine.close(now());
                }
                let info = object();
                set(&info, "code", &JsValue::from_str(reason));
                set(&info, "message", &JsValue::from_str(&message));
                set(&info, "error", &err);
                self.emit("disconnected", info, calls);
            }
            HubEvent::Reconnecting { attempt, delay_ms } => {
                let info = object();
                set(&info, "attempt", &JsValue::from_f64(attempt as f64));
                set(&info, "delayMs", &JsValue::from_f64(delay_ms as f64));
                self.emit("reconnecting", info, calls);
            }
            HubEvent::SendDone { op, result } => {
                if let Some((resolve, reject)) = self.take_waiter(op) {
                    calls.push(match result {
                        Ok(()) => Call::Settle(resolve, JsValue::UNDEFINED),
                        Err(e) => Call::Settle(reject, hub_js_error(&e)),
                    });
                }
            }
            HubEvent::TwinDone { op, outcome } => {
                if let Some((resolve, reject)) = self.take_waiter(op) {
                    calls.push(match outcome {
                        TwinOutcome::Twin(v) => Call::Settle(resolve, json_to_js(&v)),
                        TwinOutcome::ReportedVersion(n) => Call::Settle(resolve, JsValue::from_f64(n as f64)),
                        TwinOutcome::Failed(e) => Call::Settle(reject, hub_js_error(&e)),
                    });
                }
            }
            HubEvent::Message { pkid, message, payload } => {
                let msg = c2d_to_js(&message, &payload);
                match &self.handlers.message {
                    Some(h) => calls.push(Call::Message(h.clone(), pkid, msg)),
                    // Not acked: if it falls off the end the hub redelivers it after a reconnect.
                    None if self.held_messages.len() < MAX_HELD => self.held_messages.push_back((pkid, msg)),
                    None => {}
                }
            }
            HubEvent::Desired(u) => {
                let version = u.version.map(|v| JsValue::from_f64(v as f64)).unwrap_or(JsValue::NULL);
                let patch = json_to_js(&u.patch);
                match &self.handlers.desired {
                    Some(h) => calls.push(Call::Invoke(h.clone(), patch, version)),
                    None => {
                        if self.held_desired.len() >= MAX_HELD {
                            self.held_desired.pop_front();
                        }
                        self.held_desired.push_back((patch, version));
                    }
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
                match handler {
                    Some(h) => {
                        let req = object();
                        set(&req, "methodName", &JsValue::from_str(&name));
                        set(&req, "requestId", &JsValue::from_str(&rid));
                        set(&req, "payload", &super::hub_message::payload_to_js(&payload));
                        calls.push(Call::Method(h, rid, req));
                    }
                    None => {
                        let body = message_json(&format!("no handler for method {name}"));
                        self.engine.respond_method(now(), &rid, 501, body.as_bytes());
                    }
                }
            }
            HubEvent::Error(e) => self.emit("error", hub_js_error(&e), calls),
            HubEvent::Closed => {
                self.drop_socket();
                self.timer = None;
                if let Some((_, reject)) = self.connect_waiter.take() {
                    calls.push(Call::Settle(
                        reject,
                        js_error("CLOSED", "client closed before it connected"),
                    ));
                }
                for (_, (_, reject)) in self.waiters.drain(..) {
                    calls.push(Call::Settle(reject, js_error("CLOSED", "client closed")));
                }
                for f in self.close_waiters.drain(..) {
                    calls.push(Call::Settle(f, JsValue::UNDEFINED));
                }
                self.emit("closed", JsValue::UNDEFINED, calls);
            }
        }
    }

    fn rearm(&mut self, weak: Weak<RefCell<Inner>>) {
        match self.engine.poll_timeout() {
            None => self.timer = None,
            Some(d) if self.timer.as_ref().map(|(t, _)| *t) == Some(d) => {}
            Some(d) => {
                let delay = d.saturating_sub(now()) as f64;
                self.timer = Some((d, Timeout::new(delay, move || on_timer(&weak))));
            }
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

/// One turn: carry out the engine's actions, collect its events, re-arm the timer; then, with
/// no borrow held, start socket opens and make the JS calls.
pub(crate) fn turn(rc: &Rc<RefCell<Inner>>, mut calls: Vec<Call>) {
    let mut opens = Vec::new();
    {
        let Ok(mut i) = rc.try_borrow_mut() else { return };
        loop {
            let mut busy = false;
            while let Some(a) = i.engine.poll_action() {
                busy = true;
                match a {
                    Action::Open => {
                        i.drop_socket();
                        opens.push(i.epoch);
                    }
                    Action::Transmit(bytes) => {
                        let failed = i.socket.as_ref().map(|s| s.send(&bytes)).and_then(Result::err);
                        if let Some(e) = failed {
                            i.drop_socket();
                            i.engine.handle_closed(now(), e);
                        }
                    }
                    Action::CloseSocket => {
                        if i.socket.is_some() || i.pending_token.is_some() {
                            i.drop_socket();
                            i.engine.handle_closed(now(), MqttError::Closed);
                        }
                    }
                }
            }
            while let Some(ev) = i.engine.poll_event() {
                busy = true;
                i.dispatch(ev, &mut calls);
            }
            if !busy {
                break;
            }
        }
        // An `Open` superseded by a later one in the same turn is not started.
        let epoch = i.epoch;
        opens.retain(|e| *e == epoch);
        i.rearm(Rc::downgrade(rc));
    }
    for epoch in opens {
        spawn_local(super::hub_socket::open_socket(Rc::downgrade(rc), epoch));
    }
    for c in calls {
        run(rc, c);
    }
}

fn run(rc: &Rc<RefCell<Inner>>, call: Call) {
    match call {
        Call::Settle(f, v) => {
            let _ = f.call1(&JsValue::UNDEFINED, &v);
        }
        Call::Invoke(f, a, b) => {
            if let Err(e) = f.call2(&JsValue::UNDEFINED, &a, &b) {
                report_handler_error(rc, e);
            }
        }
        Call::Message(f, pkid, msg) => {
            let weak = Rc::downgrade(rc);
            spawn_local(async move {
                let outcome = settle(f.call1(&JsValue::UNDEFINED, &msg)).await;
                let Some(rc) = weak.upgrade() else { return };
                if let Err(e) = outcome {
                    report_handler_error(&rc, e);
                }
                // PUBACK after the handler returns (§5.5); MQTT cannot reject, so a failed
                // handler completes the message too rather than have it redelivered forever.
                if let Some(id) = pkid {
                    if let Ok(mut i) = rc.try_borrow_mut() {
                        i.engine.ack_message(now(), id);
                    }
                    turn(&rc, Vec::new());
                }
            });
        }
        Call::Method(f, rid, req) => {
            let weak = Rc::downgrade(rc);
            spawn_local(async move {
                let (status, payload) = match settle(f.call1(&JsValue::UNDEFINED, &req)).await {
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
                        (500, message_json(&msg).into_bytes())
                    }
                };
                let Some(rc) = weak.upgrade() else { return };
                if let Ok(mut i) = rc.try_borrow_mut() {
                    i.engine.respond_method(now(), &rid, status, &payload);
                }
                turn(&rc, Vec::new());
            });
        }
    }
}

/// Awaits a handler's result when it is a Promise (or thenable via `Promise.resolve`).
pub(crate) async fn settle(r: Result<JsValue, JsValue>) -> Result<JsValue, JsValue> {
    let v = r?;
    JsFuture::from(Promise::resolve(&v)).await
}

fn report_handler_error(rc: &Rc<RefCell<Inner>>, e: JsValue) {
    let mut calls = Vec::new();
    if let Ok(i) = rc.try_borrow() {
        let msg = get_str(&e, "message").unwrap_or_else(|| "handler threw".into());
        let err = js_error("HANDLER_ERROR", &msg);
        set(&err, "cause", &e);
        i.emit("error", err, &mut calls);
    }
    for c in calls {
        run(rc, c);
    }
}

fn on_timer(weak: &Weak<RefCell<Inner>>) {
    let Some(rc) = weak.upgrade() else { return };
    {
        let Ok(mut i) = rc.try_borrow_mut() else { return };
        i.timer = None;
        i.engine.handle_timeout(now());
    }
    turn(&rc, Vec::new());
}

/// `{"message":"…"}`, the body of a method answer the library writes itself.
fn message_json(msg: &str) -> String {
    let mut m = crate::json::Map::new();
    m.insert("message".into(), msg.into());
    crate::json::Value::Object(m).to_string()
}

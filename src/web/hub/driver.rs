//! Runs a `hub::HubEngine` over the WebSocket of `io::socket` with the JS clock and timers:
//! carries out the engine's actions (sockets are opened in `open`), keeps one timer, and
//! turns engine events into settled Promises and calls of the application's handlers.
//!
//! Design: `Inner` (in `state`) runs on the `mailbox` turn loop shared with `mqtt_driver`: every input
//! (API call, socket event, timer, opened socket, handler result) is posted and applied in a
//! turn; socket writes and drops, socket opens and every call of application code (resolve/
//! reject, handlers) happen after the state is released, and may post more. Socket listeners,
//! timers and tasks hold a `Weak` and the socket `epoch`, so news from a replaced socket is
//! ignored.

use std::rc::Weak;

use wasm_bindgen::prelude::*;

use crate::hub::{split_command_name, Action, HubEvent, TwinOutcome};
use crate::mqtt::MqttError;
use crate::web::hub::calls::run;
use crate::web::hub::message::{c2d_to_js, json_to_js};
use crate::web::hub::state::{Call, Hub, Inner};
use crate::web::io::error::{js_error, to_js};
use crate::web::io::js::{jitter, now_ms_u64 as now, object, set, spawn};
use crate::web::io::mailbox::{Alarm, Driven, Effects};
use crate::web::io::socket::SocketEvent;

impl Inner {
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
                if let Some(delete) = self.store_send_done(op, result.is_ok()) {
                    self.calls.push(delete);
                }
                if let Some((resolve, reject)) = self.take_waiter(op) {
                    self.calls.push(match result {
                        Ok(()) => Call::Settle(resolve, JsValue::UNDEFINED),
                        Err(e) => Call::Settle(reject, to_js(&e)),
                    });
                }
            }
            HubEvent::TwinDone { op, outcome } => {
                if let Some((resolve, reject)) = self.take_waiter(op) {
                    self.calls.push(match outcome {
                        TwinOutcome::Twin(v) => Call::Settle(resolve, json_to_js(&v)),
                        TwinOutcome::ReportedVersion(n) => Call::Settle(resolve, JsValue::from_f64(n as f64)),
                        TwinOutcome::Failed(e) => Call::Settle(reject, to_js(&e)),
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
                // The engine picks the handler (its own name, else `*`) and answers a method
                // nobody listens to (501) before it gets here.
                let key = self.engine.method_handler(&name);
                let handler = self.handlers.methods.iter().find(|(n, ..)| Some(n.as_str()) == key);
                if let Some((_, h, command)) = handler {
                    let req = object();
                    if *command {
                        let (component, command) = split_command_name(&name);
                        if let Some(c) = component {
                            set(&req, "component", &JsValue::from_str(c));
                        }
                        set(&req, "commandName", &JsValue::from_str(command));
                    } else {
                        set(&req, "methodName", &JsValue::from_str(&name));
                    }
                    set(&req, "requestId", &JsValue::from_str(&rid));
                    set(&req, "payload", &crate::web::hub::message::payload_to_js(&payload));
                    self.calls.push(Call::Method(h.clone(), rid, req, *command));
                }
            }
            HubEvent::Writable(c) => {
                let h = self.handlers.writables.iter().find(|(comp, n, _)| *comp == c.component && *n == c.name);
                if let Some((.., h)) = h {
                    self.calls.push(Call::Writable(h.clone(), c));
                }
            }
            HubEvent::Error(e) => self.emit("error", to_js(&e)),
            HubEvent::Closed => {
                self.drop_socket();
                if let Some((_, reject)) = self.connect_waiter.take() {
                    self.calls.push(Call::Settle(
                        reject,
                        js_error("CLOSED", "client closed before it connected"),
                    ));
                }
                let queued = self.store.as_mut().map(|s| s.take_waiters()).unwrap_or_default();
                for (_, reject) in self.waiters.drain(..).map(|(_, w)| w).chain(queued) {
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
                        fx.later(move || spawn(crate::web::hub::open::open_socket(me, epoch)));
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
                            self.engine.handle_closed(now(), jitter(), MqttError::Closed);
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
        crate::web::hub::open::on_socket_event(self, epoch, ev);
    }

    fn send_failed(&mut self, epoch: u32, err: MqttError, _: &mut Effects) {
        if self.epoch == epoch && self.socket.is_some() {
            self.drop_socket();
            self.engine.handle_closed(now(), jitter(), err);
        }
    }

    fn timer_fired(&mut self, _: &mut Effects) {
        self.engine.handle_timeout(now(), jitter());
    }

    fn alarm(&mut self) -> &mut Alarm {
        &mut self.alarm
    }
}


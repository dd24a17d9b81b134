//! Calls of the application's handlers once the hub state is released: settling Promises,
//! listeners, C2D handlers (the message is completed after the handler), method and command
//! handlers (their answer, or 500 with the thrown message, goes back through the engine), and
//! writable-property handlers (their outcome is acknowledged through the engine, docs/pnp.md §3).

use std::rc::Weak;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::hub::{method_error_body, method_status};
use crate::web::hub::state::{Call, Hub};
use crate::web::io::error::js_error;
use crate::json::Value;
use crate::web::hub::message::{js_to_json, json_to_js};
use crate::web::io::js::{get, get_f64, message_of, now_ms_u64 as now, object, set, spawn};

pub(crate) fn run(me: &Weak<Hub>, call: Call) {
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
        Call::Method(f, rid, req, command) => {
            let me = me.clone();
            spawn(async move {
                let (status, payload) = match handler_result(f.call1(&JsValue::UNDEFINED, &req)).await {
                    Ok(v) => match method_answer(&v, command) {
                        Ok(answer) => answer,
                        // Not sent as given, so not sent at all: the caller hears 500 and why,
                        // and the application an `error` event.
                        Err(why) => {
                            report_handler_error(&me, js_sys::Error::new(&why).into());
                            (500, method_error_body(&why))
                        }
                    },
                    Err(e) => (
                        if command { status_of(&e).unwrap_or(500) } else { 500 },
                        method_error_body(&error_text(&e)),
                    ),
                };
                if let Some(rc) = me.upgrade() {
                    rc.post(move |i, _| i.engine.respond_method(now(), &rid, status, &payload));
                }
            });
        }
        Call::Store(c, put) => spawn(crate::web::hub::store_flow::run(c, put, me.clone())),
        Call::Writable(f, change) => {
            let me = me.clone();
            let info = object();
            set(&info, "name", &JsValue::from_str(&change.name));
            if let Some(c) = &change.component {
                set(&info, "component", &JsValue::from_str(c));
            }
            set(&info, "version", &JsValue::from_f64(change.version as f64));
            spawn(async move {
                // Accepted: the returned value (the desired one when nothing is returned).
                // Refused: the thrown `status` (500 if none), its `message` as `ad`, and its
                // `value` (what the device keeps) or else the desired one.
                // A value that cannot be written as JSON is not guessed at: acknowledged 500 with
                // why, and heard as `HANDLER_ERROR`.
                let answer = match handler_result(f.call2(&JsValue::UNDEFINED, &json_to_js(&change.value), &info)).await {
                    Ok(v) => json_or(&v, &change.value).map(|v| (v, 200, None)),
                    Err(e) => json_or(&get(&e, "value"), &change.value)
                        .map(|v| (v, status_of(&e).unwrap_or(500), Some(error_text(&e)))),
                };
                let (value, status, description) = answer.unwrap_or_else(|why| {
                    report_handler_error(&me, js_sys::Error::new(why).into());
                    (change.value.clone(), 500, Some(why.to_string()))
                });
                if let Some(rc) = me.upgrade() {
                    rc.post(move |i, _| {
                        let _ = i.engine.ack_writable(now(), &change, value, status, description.as_deref());
                    });
                }
            });
        }
    }
}

/// What a method or command handler returned, as (status, JSON payload). A method returns
/// `{status?, payload?}` (status 200 when absent); a command returns the payload itself.
fn method_answer(v: &JsValue, command: bool) -> Result<(u16, Vec<u8>), String> {
    let json = |p: &JsValue| js_to_json(p).map_err(|_| "the handler's payload cannot be written as JSON".to_string());
    if command {
        return Ok((200, json(v)?));
    }
    let status = match get(v, "status") {
        s if s.is_undefined() => 200,
        s => s
            .as_f64()
            .and_then(method_status)
            .ok_or_else(|| "the handler's status must be a whole number from 0 to 65535".to_string())?,
    };
    Ok((status, json(&get(v, "payload"))?))
}

/// A whole `status` between 100 and 599 on a returned or thrown object.
fn status_of(v: &JsValue) -> Option<u16> {
    get_f64(v, "status").filter(|s| s.fract() == 0.0 && (100.0..=599.0).contains(s)).map(|s| s as u16)
}

/// The `message` of a thrown value (or the value itself when it is a string).
fn error_text(e: &JsValue) -> String {
    message_of(e, "handler failed")
}

/// `v` as JSON, or `default` when it is `undefined`; an error when it cannot be written as JSON.
fn json_or(v: &JsValue, default: &Value) -> Result<Value, &'static str> {
    if v.is_undefined() {
        return Ok(default.clone());
    }
    js_to_json(v).ok().and_then(|b| Value::parse(&b)).ok_or("the handler's value cannot be written as JSON")
}

/// Awaits a handler's result when it is a Promise (or thenable via `Promise.resolve`).
pub(crate) async fn handler_result(r: Result<JsValue, JsValue>) -> Result<JsValue, JsValue> {
    let v = r?;
    JsFuture::from(Promise::resolve(&v)).await
}

/// A handler threw: the application hears it as an `error` event (code `HANDLER_ERROR`).
fn report_handler_error(me: &Weak<Hub>, e: JsValue) {
    let Some(rc) = me.upgrade() else { return };
    let err = js_error("HANDLER_ERROR", &message_of(&e, "handler threw"));
    set(&err, "cause", &e);
    rc.post(move |i, _| i.emit("error", err));
}


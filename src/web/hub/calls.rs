//! Calls of the application's handlers once the hub state is released: settling Promises,
//! listeners, C2D handlers (the message is completed after the handler), and method handlers
//! (their answer, or 500 with the thrown message, goes back through the engine).

use std::rc::Weak;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::hub::method_error_body;
use crate::web::hub::state::{Call, Hub};
use crate::web::io::error::js_error;
use crate::web::io::js::{get_str, now_ms_u64 as now, set, spawn};

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
        Call::Method(f, rid, req) => {
            let me = me.clone();
            spawn(async move {
                let (status, payload) = match handler_result(f.call1(&JsValue::UNDEFINED, &req)).await {
                    Ok(v) => {
                        let status = crate::web::io::js::get_f64(&v, "status")
                            .filter(|s| s.fract() == 0.0 && (0.0..=65535.0).contains(s))
                            .unwrap_or(200.0) as u16;
                        let payload =
                            crate::web::hub::message::js_to_json(&crate::web::io::js::get(&v, "payload")).unwrap_or_default();
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


//! The I/O under `provision`: the global `fetch` (or `options.fetch`), `AbortSignal`s, an
//! abortable sleep, and `race`, which bounds any awaited JS Promise. Everything is bound as a
//! global or used structurally, never via `window`; timers are `web::timer`'s.
//!
//! Design: every Promise `provision` awaits that user code or the runtime controls (the token
//! provider, `fetch`, `response.text()`) goes through `race` against the request timeout (which
//! `Provisioning` already caps at the overall deadline) and the caller's `signal`: a custom
//! `fetch` or a body read that ignores its `AbortSignal` cannot hang the registration. A
//! request also gets its own `AbortController`, aborted when the race is lost, so a real fetch
//! stops too.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::js::{get, get_bool, get_f64, get_fn, get_str, set};
use super::timer::Timeout;
use crate::dps::rest::HttpRequest;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(url: &str, init: &JsValue) -> Result<JsValue, JsValue>;
    type AbortController;
    #[wasm_bindgen(constructor, catch)]
    fn new() -> Result<AbortController, JsValue>;
}

/// The caller's `AbortSignal`, used structurally (`aborted`, `addEventListener`).
#[derive(Clone)]
pub struct Signal(JsValue);

impl Signal {
    /// `None` for `undefined`/`null`; an error message for a value that is no signal.
    pub fn from_option(v: JsValue) -> Result<Option<Signal>, &'static str> {
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        if get_fn(&v, "addEventListener").is_none() || get_fn(&v, "removeEventListener").is_none() {
            return Err("signal must be an AbortSignal");
        }
        Ok(Some(Signal(v)))
    }

    pub fn aborted(&self) -> bool {
        get_bool(&self.0, "aborted").unwrap_or(false)
    }

    fn listen(&self, f: &Function) {
        call_method(&self.0, "addEventListener", &[JsValue::from_str("abort"), f.into()]);
    }

    fn unlisten(&self, f: &Function) {
        call_method(&self.0, "removeEventListener", &[JsValue::from_str("abort"), f.into()]);
    }
}

/// `obj[name](...args)`, with a missing method or a throw read as `undefined`.
fn call_method(obj: &JsValue, name: &str, args: &[JsValue]) -> JsValue {
    let Some(f) = get_fn(obj, name) else { return JsValue::UNDEFINED };
    let arr: js_sys::Array = args.iter().collect();
    f.apply(obj, &arr).unwrap_or(JsValue::UNDEFINED)
}

/// Removes an abort listener when dropped; the `Timeout` clears itself.
struct Armed<'a> {
    signal: Option<&'a Signal>,
    listener: Function,
    _timer: Timeout,
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.signal {
            s.unlisten(&self.listener);
        }
    }
}

/// Sleeps `ms`, returning early when `signal` aborts. Dropping it cancels the timer.
pub async fn sleep_or_abort(ms: f64, signal: Option<&Signal>) {
    if signal.is_some_and(Signal::aborted) {
        return;
    }
    let mut armed = None;
    let p = Promise::new(&mut |resolve, _| {
        let fire = resolve.clone();
        let timer = Timeout::new(ms, move || {
            let _ = fire.call0(&JsValue::UNDEFINED);
        });
        if let Some(s) = signal {
            s.listen(&resolve);
        }
        armed = Some(Armed { signal, listener: resolve, _timer: timer });
    });
    let _ = JsFuture::from(p).await;
    drop(armed);
}

/// How a `race` ended.
pub enum Raced<T> {
    Done(T),
    Timeout,
    Aborted,
}

/// Runs `fut` until it completes, `timeout_ms` passes or `signal` aborts, whichever is first.
/// A loser is dropped: a JS Promise left behind settles into nothing.
pub async fn race<T>(fut: impl Future<Output = T>, timeout_ms: f64, signal: Option<&Signal>) -> Raced<T> {
    if signal.is_some_and(Signal::aborted) {
        return Raced::Aborted;
    }
    let mut fut = pin!(fut);
    let mut timer = pin!(sleep_or_abort(timeout_ms, signal));
    poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Raced::Done(v));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(if signal.is_some_and(Signal::aborted) { Raced::Aborted } else { Raced::Timeout });
        }
        Poll::Pending
    })
    .await
}

/// A JS value or Promise, awaited.
async fn settle(v: &JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::resolve(v)).await
}

/// Why a request got no response.
pub enum FetchFailure {
    Aborted,
    Timeout,
    Network(String),
}

/// The parts of a response the core reads.
pub struct FetchReply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

/// The message of a thrown value, with its `cause` (Node's fetch hides the reason there:
/// `TypeError: fetch failed`, cause `connect ECONNREFUSED ...`).
pub fn error_message(e: &JsValue) -> String {
    let msg = get_str(e, "message").or_else(|| e.as_string()).unwrap_or_else(|| "request failed".into());
    match get_str(&get(e, "cause"), "message") {
        Some(cause) if !cause.is_empty() => format!("{msg}: {cause}"),
        _ => msg,
    }
}

/// Sends one request with `fetch` and reads the whole response, within `timeout_ms`.
pub async fn fetch_once(
    custom_fetch: Option<&Function>,
    req: &HttpRequest,
    timeout_ms: f64,
    signal: Option<&Signal>,
) -> Result<FetchReply, FetchFailure> {
    if signal.is_some_and(Signal::aborted) {
        return Err(FetchFailure::Aborted);
    }
    let controller =
        AbortController::new().map_err(|_| FetchFailure::Network("AbortController is not available".into()))?;
    let controller: JsValue = controller.into();
    let outcome = race(fetch_and_read(custom_fetch, req, &get(&controller, "signal")), timeout_ms, signal).await;
    let lost = match outcome {
        Raced::Done(r) => return r,
        Raced::Timeout => FetchFailure::Timeout,
        Raced::Aborted => FetchFailure::Aborted,
    };
    // Stop a fetch that honours its signal; one that does not is simply left behind.
    call_method(&controller, "abort", &[]);
    Err(lost)
}

/// `fetch(url, init)` then `response.text()`, with `request_signal` in `init`.
async fn fetch_and_read(
    custom_fetch: Option<&Function>,
    req: &HttpRequest,
    request_signal: &JsValue,
) -> Result<FetchReply, FetchFailure> {
    let init = Object::new();
    set(&init, "method", &JsValue::from_str(req.method));
    let headers = Object::new();
    for (k, v) in &req.headers {
        set(&headers, k, &JsValue::from_str(v));
    }
    set(&init, "headers", &headers);
    if let Some(b) = &req.body {
        set(&init, "body", &JsValue::from_str(b));
    }
    set(&init, "signal", request_signal);

    let failure = |e: &JsValue| FetchFailure::Network(error_message(e));
    let started = match custom_fetch {
        Some(f) => f.call2(&JsValue::UNDEFINED, &JsValue::from_str(&req.url), &init),
        None => global_fetch(&req.url, &init),
    };
    let response = settle(&started.map_err(|e| failure(&e))?).await.map_err(|e| failure(&e))?;
    let status = get_f64(&response, "status")
        .filter(|s| (0.0..=999.0).contains(s))
        .ok_or_else(|| FetchFailure::Network("fetch resolved with no response status".into()))? as u16;
    // Without `Access-Control-Expose-Headers` a browser hides Retry-After: then it reads null
    // and the core's default interval applies.
    let retry_after = call_method(&get(&response, "headers"), "get", &[JsValue::from_str("retry-after")]).as_string();
    let body = settle(&call_method(&response, "text", &[])).await.map_err(|e| failure(&e))?;
    Ok(FetchReply { status, retry_after, body: body.as_string().unwrap_or_default() })
}

//! The I/O under `provision`: the global `fetch` (or `options.fetch`), bounded by
//! `web::timer`'s `race` and abortable sleep. Everything is bound as a global or used
//! structurally, never via `window`.
//!
//! Design: every Promise `provision` awaits that user code or the runtime controls (the token
//! provider, `fetch`, `response.text()`) goes through `race` against the request timeout (which
//! `Provisioning` already caps at the overall deadline) and the caller's `signal`: a custom
//! `fetch` or a body read that ignores its `AbortSignal` cannot hang the registration. A
//! request also gets its own `AbortController`, aborted when the race is lost, so a real fetch
//! stops too.

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::web::io::js::{call_method, get, get_f64, get_str, message_of, set};
use crate::web::io::timer::{race, Raced, Signal};
use crate::dps::rest::HttpRequest;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(url: &str, init: &JsValue) -> Result<JsValue, JsValue>;
    type AbortController;
    #[wasm_bindgen(constructor, catch)]
    fn new() -> Result<AbortController, JsValue>;
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

/// What one request brought back, whichever the transport: the core's own reply shape.
pub use crate::dps::mqtt_exchange::Reply;

/// The message of a thrown value, with its `cause` (Node's fetch hides the reason there:
/// `TypeError: fetch failed`, cause `connect ECONNREFUSED ...`).
pub fn error_message(e: &JsValue) -> String {
    let msg = message_of(e, "request failed");
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
) -> Result<Reply, FetchFailure> {
    let headers: Vec<(&str, &str)> = req.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = req.body.as_deref().map_or(JsValue::UNDEFINED, JsValue::from_str);
    let init = request_init(req.method, &headers, &body);
    let (response, status, body) = fetch_with(custom_fetch, &req.url, &init, timeout_ms, signal).await?;
    // Without `Access-Control-Expose-Headers` a browser hides Retry-After: then it reads null
    // and the core's default interval applies.
    let retry_after = header(&response, "retry-after");
    Ok(Reply { status, retry_after, body: body.into_bytes() })
}

/// `fetch`'s `init`: method, headers, and the body unless it is `undefined` (a string, bytes or
/// a `Blob`, passed as is).
pub fn request_init(method: &str, headers: &[(&str, &str)], body: &JsValue) -> Object {
    let init = Object::new();
    set(&init, "method", &JsValue::from_str(method));
    let h = Object::new();
    for (k, v) in headers {
        set(&h, k, &JsValue::from_str(v));
    }
    set(&init, "headers", &h);
    if !body.is_undefined() {
        set(&init, "body", body);
    }
    init
}

/// A response header, `None` when absent (or hidden from a page by CORS).
pub fn header(response: &JsValue, name: &str) -> Option<String> {
    call_method(&get(response, "headers"), "get", &[JsValue::from_str(name)]).as_string()
}

/// `fetch(url, init)` and the response's body text, within `timeout_ms` and `signal`: the
/// response (for its headers), its status and its text. `init`'s `signal` is set here.
pub async fn fetch_with(
    custom_fetch: Option<&Function>,
    url: &str,
    init: &Object,
    timeout_ms: f64,
    signal: Option<&Signal>,
) -> Result<(JsValue, u16, String), FetchFailure> {
    if signal.is_some_and(Signal::aborted) {
        return Err(FetchFailure::Aborted);
    }
    let controller =
        AbortController::new().map_err(|_| FetchFailure::Network("AbortController is not available".into()))?;
    let controller: JsValue = controller.into();
    set(init, "signal", &get(&controller, "signal"));
    let outcome = race(fetch_and_read(custom_fetch, url, init), timeout_ms, signal).await;
    let lost = match outcome {
        Raced::Done(r) => return r,
        Raced::Timeout => FetchFailure::Timeout,
        Raced::Aborted => FetchFailure::Aborted,
    };
    // Stop a fetch that honours its signal; one that does not is simply left behind.
    call_method(&controller, "abort", &[]);
    Err(lost)
}

/// `fetch(url, init)` then `response.text()`.
async fn fetch_and_read(custom_fetch: Option<&Function>, url: &str, init: &Object) -> Result<(JsValue, u16, String), FetchFailure> {
    let failure = |e: &JsValue| FetchFailure::Network(error_message(e));
    let started = match custom_fetch {
        Some(f) => f.call2(&JsValue::UNDEFINED, &JsValue::from_str(url), init),
        None => global_fetch(url, init),
    };
    let response = settle(&started.map_err(|e| failure(&e))?).await.map_err(|e| failure(&e))?;
    let status = get_f64(&response, "status")
        .filter(|s| (0.0..=999.0).contains(s))
        .ok_or_else(|| FetchFailure::Network("fetch resolved with no response status".into()))? as u16;
    let body = settle(&call_method(&response, "text", &[])).await.map_err(|e| failure(&e))?;
    Ok((response, status, body.as_string().unwrap_or_default()))
}

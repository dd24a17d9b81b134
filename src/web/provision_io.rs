//! The I/O under `provision`: the global `fetch` (or `options.fetch`), `AbortSignal`s, and an
//! abortable sleep. Everything is bound as a global or used structurally, never via `window`,
//! and only JS functions are handed to JS (no Rust closures to leak).
//!
//! One request gets its own `AbortController`: the caller's `signal` and the request timer both
//! abort it, so neither a hung server nor an abort leaves a fetch running.

use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::js::{get, get_bool, get_f64, get_fn, get_str, set};
use crate::dps::rest::HttpRequest;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(url: &str, init: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
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

/// Removes an abort listener and clears a timer when dropped.
struct Armed<'a> {
    signal: Option<&'a Signal>,
    listener: Function,
    timer: JsValue,
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        clear_timeout(&self.timer);
        if let Some(s) = self.signal {
            s.unlisten(&self.listener);
        }
    }
}

/// Sleeps `ms`, returning early when `signal` aborts.
pub async fn sleep_or_abort(ms: f64, signal: Option<&Signal>) {
    if signal.is_some_and(Signal::aborted) {
        return;
    }
    let mut armed = None;
    let p = Promise::new(&mut |resolve, _| {
        let timer = set_timeout(&resolve, ms.max(0.0));
        if let Some(s) = signal {
            s.listen(&resolve);
        }
        armed = Some(Armed { signal, listener: resolve, timer });
    });
    let _ = JsFuture::from(p).await;
    drop(armed);
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
    let abort = get_fn(&controller, "abort")
        .map(|f| f.bind0(&controller))
        .ok_or_else(|| FetchFailure::Network("AbortController has no abort()".into()))?;
    if let Some(s) = signal {
        s.listen(&abort);
    }
    let _armed = Armed { signal, listener: abort.clone(), timer: set_timeout(&abort, timeout_ms.max(0.0)) };

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
    set(&init, "signal", &get(&controller, "signal"));

    let failure = |e: &JsValue| {
        if signal.is_some_and(Signal::aborted) {
            FetchFailure::Aborted
        } else if get_bool(&get(&controller, "signal"), "aborted").unwrap_or(false) {
            FetchFailure::Timeout
        } else {
            FetchFailure::Network(error_message(e))
        }
    };
    let started = match custom_fetch {
        Some(f) => f.call2(&JsValue::UNDEFINED, &JsValue::from_str(&req.url), &init),
        None => global_fetch(&req.url, &init),
    };
    let response = match started {
        Ok(p) => JsFuture::from(Promise::resolve(&p)).await.map_err(|e| failure(&e))?,
        Err(e) => return Err(failure(&e)),
    };
    let status = get_f64(&response, "status")
        .filter(|s| (0.0..=999.0).contains(s))
        .ok_or_else(|| FetchFailure::Network("fetch resolved with no response status".into()))? as u16;
    // Without `Access-Control-Expose-Headers` a browser hides Retry-After: then it reads null
    // and the core's default interval applies.
    let retry_after = call_method(&get(&response, "headers"), "get", &[JsValue::from_str("retry-after")]).as_string();
    let text = call_method(&response, "text", &[]);
    let body = JsFuture::from(Promise::resolve(&text)).await.map_err(|e| failure(&e))?;
    Ok(FetchReply { status, retry_after, body: body.as_string().unwrap_or_default() })
}

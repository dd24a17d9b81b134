//! Timers over the global `setTimeout`/`clearTimeout` (never `window.setTimeout`), and the
//! bounded waits built on them.
//!
//! `Timeout` owns its closure and cancels on drop, so a client that reconnects never leaks a
//! callback (no `forget()`). `race` (and `within`, its Promise form) bounds how long the library
//! awaits anything it did not make (a token provider, a socket factory, `fetch`): a user
//! Promise that never settles must not hang it. `sleep_or_abort` also ends on an AbortSignal.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::web::io::js::{call_method, get_bool, get_fn};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// The longest delay `setTimeout` honours: larger values (and NaN) fire at once in every
/// runtime. Longer deadlines are clamped; the drivers' timers re-arm for the remainder, since
/// their deadlines are absolute times and an early wake-up finds nothing due.
pub const MAX_DELAY_MS: f64 = 2_147_483_647.0;

/// A pending `setTimeout`, cancelled when dropped.
pub struct Timeout {
    id: JsValue,
    _closure: Closure<dyn FnMut()>,
}

impl Timeout {
    pub fn new(ms: f64, f: impl FnOnce() + 'static) -> Timeout {
        Timeout::boxed(ms, Box::new(f))
    }

    /// One `Closure` instantiation (and its wasm-bindgen shims) for every caller of `new`.
    #[inline(never)]
    fn boxed(ms: f64, f: Box<dyn FnOnce()>) -> Timeout {
        let mut f = Some(f);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = f.take() {
                f()
            }
        });
        let ms = if ms.is_nan() { 0.0 } else { ms.clamp(0.0, MAX_DELAY_MS) };
        let id = set_timeout(closure.as_ref().unchecked_ref(), ms);
        Timeout { id, _closure: closure }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// Awaits `p` for at most `ms`: `None` when the time ran out first.
pub async fn within(p: &Promise, ms: f64) -> Option<Result<JsValue, JsValue>> {
    match race(JsFuture::from(p.clone()), ms, None).await {
        Raced::Done(r) => Some(r),
        Raced::Timeout | Raced::Aborted => None,
    }
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

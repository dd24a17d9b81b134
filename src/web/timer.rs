//! Timers over the global `setTimeout`/`clearTimeout` (never `window.setTimeout`).
//!
//! `Timeout` owns its closure and cancels on drop, so a client that reconnects never leaks a
//! callback (no `forget()`). `within` bounds how long the library awaits a Promise it did not
//! make (a token provider, a socket factory): a user Promise that never settles must not hang it.

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

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

/// Awaits `p` for at most `ms`: `None` when the time ran out first. The timer is cleared as
/// soon as this returns, so nothing lingers (Node would otherwise stay alive for it).
pub async fn within(p: &Promise, ms: f64) -> Option<Result<JsValue, JsValue>> {
    // A fresh object only this call holds: the race settled with it means the time ran out.
    let mark: JsValue = Object::new().into();
    let mut timer = None;
    let expired = Promise::new(&mut |resolve, _| {
        let m = mark.clone();
        timer = Some(Timeout::new(ms, move || {
            let _ = resolve.call1(&JsValue::UNDEFINED, &m);
        }));
    });
    let r = JsFuture::from(Promise::race(&Array::of2(p, &expired))).await;
    drop(timer);
    match r {
        Ok(v) if v == mark => None,
        r => Some(r),
    }
}

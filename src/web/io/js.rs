//! Small typed readers and writers over JS objects, so option parsing stays total: a missing
//! or mistyped field is `None`, never a panic. Hand-written instead of serde-wasm-bindgen to
//! keep the bundle small. Also the JS clock and `spawn`, through which the drivers start tasks.

use std::future::Future;
use std::pin::Pin;

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// `obj[key]`, or `undefined` when `obj` is not an object or the getter throws.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

pub fn get_str(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// The message of a thrown JS value: its `message`, or the value itself when it is a string,
/// else `fallback`. One reading for every place that reports what application JS threw.
pub fn message_of(e: &JsValue, fallback: &str) -> String {
    get_str(e, "message").or_else(|| e.as_string()).unwrap_or_else(|| fallback.into())
}

pub fn get_f64(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key).as_f64()
}

pub fn get_bool(obj: &JsValue, key: &str) -> Option<bool> {
    get(obj, key).as_bool()
}

pub fn get_fn(obj: &JsValue, key: &str) -> Option<Function> {
    get(obj, key).dyn_into::<Function>().ok()
}

/// `INVALID_ARGUMENT: {name} must be {what}`: the one wording of a mistyped argument.
pub fn invalid_argument(name: &str, what: &str) -> JsValue {
    let mut m = String::with_capacity(name.len() + what.len() + 9);
    m.push_str(name);
    m.push_str(" must be ");
    m.push_str(what);
    crate::web::io::error::js_error("INVALID_ARGUMENT", &m)
}

/// A string argument. Exports take `JsValue` and check it here: a `&str` parameter lets
/// wasm-bindgen's glue read any JS value as a string, and a number there traps the instance.
pub fn arg_str(v: &JsValue, name: &str) -> Result<String, JsValue> {
    v.as_string().ok_or_else(|| invalid_argument(name, "a string"))
}

/// A function argument (a handler or listener): anything else would be dropped unseen.
pub fn arg_fn(v: &JsValue, name: &str) -> Result<Function, JsValue> {
    v.dyn_ref::<Function>().cloned().ok_or_else(|| invalid_argument(name, "a function"))
}

/// An optional options argument: `undefined` and `null` read as "none", an object as itself,
/// anything else (a string, a number) is an error rather than silently ignored.
pub fn arg_options(v: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    if absent(v) {
        Ok(JsValue::UNDEFINED)
    } else if v.is_object() && !js_sys::Array::is_array(v) {
        Ok(v.clone())
    } else {
        Err(invalid_argument(name, "an object"))
    }
}

/// `obj[key] = value`; a frozen object or a throwing setter is ignored.
pub fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// `obj[name](...args)`, with a missing method or a throw read as `undefined`.
pub fn call_method(obj: &JsValue, name: &str, args: &[JsValue]) -> JsValue {
    let Some(f) = get_fn(obj, name) else { return JsValue::UNDEFINED };
    let arr: js_sys::Array = args.iter().collect();
    f.apply(obj, &arr).unwrap_or(JsValue::UNDEFINED)
}

pub fn object() -> JsValue {
    Object::new().into()
}

/// A whole number in `1..=2^53`, as JS numbers can hold exactly; anything else is `None`.
pub fn positive_integer(v: f64) -> Option<u64> {
    (v.is_finite() && v >= 1.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_992.0).then_some(v as u64)
}

/// Milliseconds since the epoch, from the JS clock (`Date.now()`).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// `now_ms()` as the whole milliseconds the sans-I/O cores take (a clock before 1970 reads 0).
/// The one place the drivers (hub, MQTT, provisioning) read the time from.
pub fn now_ms_u64() -> u64 {
    now_ms().max(0.0) as u64
}

/// A fraction in `[0, 1)` for the cores' backoffs (`Math.random`): the one place the drivers
/// draw randomness; the cores have none.
pub fn jitter() -> f64 {
    js_sys::Math::random()
}

fn absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// An optional string option: absent (`undefined`/`null`) is `None`; any other non-string is
/// `INVALID_ARGUMENT` naming it, never silently ignored.
pub fn opt_str(o: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let v = get(o, key);
    if absent(&v) {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or_else(|| invalid_argument(key, "a string"))
}

/// An optional function option (a handler, a provider, a constructor).
pub fn opt_fn(o: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    let v = get(o, key);
    if absent(&v) {
        return Ok(None);
    }
    v.dyn_into::<Function>().map(Some).map_err(|_| invalid_argument(key, "a function"))
}

/// An optional boolean option.
pub fn opt_bool(o: &JsValue, key: &str) -> Result<Option<bool>, JsValue> {
    let v = get(o, key);
    if absent(&v) {
        return Ok(None);
    }
    v.as_bool().map(Some).ok_or_else(|| invalid_argument(key, "true or false"))
}

/// An optional nested options object (`retry`, `reconnect`, `provisioning`): absent reads as
/// `undefined`, whose fields are all absent.
pub fn opt_object(o: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    arg_options(&get(o, key), key)
}

/// An optional whole-number option within `lo..=hi`: `None` when absent (`undefined`/`null`),
/// an `INVALID_ARGUMENT` error for anything else out of range. Shared by every options reader
/// so they agree on what a number is (no fractions, no NaN) and word the error alike.
pub fn whole_number(o: &JsValue, key: &str, lo: u64, hi: u64) -> Result<Option<u64>, JsValue> {
    let v = get(o, key);
    if absent(&v) {
        return Ok(None);
    }
    // `hi` is at most 2^53 in practice, so the f64 comparisons below are exact.
    v.as_f64()
        .filter(|n| n.is_finite() && n.fract() == 0.0 && *n >= lo as f64 && *n <= hi as f64)
        .map(|n| Some(n as u64))
        .ok_or_else(|| {
            crate::web::io::error::js_error("INVALID_ARGUMENT", &format!("{key} must be a whole number from {lo} to {hi}"))
        })
}

/// A Promise with its settle functions, for a driver to keep until the outcome is known: one
/// `Promise::new` instead of one `future_to_promise` state machine per export.
pub fn deferred() -> (js_sys::Promise, Function, Function) {
    let mut slots: Option<(Function, Function)> = None;
    let p = js_sys::Promise::new(&mut |res, rej| slots = Some((res, rej)));
    // The executor runs synchronously, so the slots are always filled; stay total anyway.
    let (res, rej) = slots.unwrap_or_else(|| (Function::new_no_args(""), Function::new_no_args("")));
    (p, res, rej)
}

/// `spawn_local` through one boxed future type: each distinct future type would otherwise get
/// its own copy of the task machinery (bench/size.md, third pass).
pub fn spawn(f: impl Future<Output = ()> + 'static) {
    spawn_boxed(Box::pin(f));
}

#[inline(never)]
fn spawn_boxed(f: Pin<Box<dyn Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(f);
}

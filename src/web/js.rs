//! Small typed readers and writers over JS objects, so option parsing stays total: a missing
//! or mistyped field is `None`, never a panic. Hand-written instead of serde-wasm-bindgen to
//! keep the bundle small.

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

pub fn get_f64(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key).as_f64()
}

pub fn get_bool(obj: &JsValue, key: &str) -> Option<bool> {
    get(obj, key).as_bool()
}

pub fn get_fn(obj: &JsValue, key: &str) -> Option<Function> {
    get(obj, key).dyn_into::<Function>().ok()
}

/// `obj[key] = value`; a frozen object or a throwing setter is ignored.
pub fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

pub fn object() -> JsValue {
    Object::new().into()
}

/// A whole number in `1..=2^53`, as JS numbers can hold exactly; anything else is `None`.
pub fn positive_integer(v: f64) -> Option<u64> {
    (v.is_finite() && v >= 1.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_992.0).then(|| v as u64)
}

/// Milliseconds since the epoch, from the JS clock (`Date.now()`).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

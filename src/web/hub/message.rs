//! Conversions between JS values and the hub core's messages: `sendEvent`'s body and options
//! into a `Message`, received C2D messages and twin JSON into JS objects.

use js_sys::{ArrayBuffer, Object, Uint8Array, JSON};
use wasm_bindgen::{JsCast, JsValue};

use crate::web::io::error::js_error;
use crate::web::io::js::{get, object, set};
use crate::hub::{device_settable, system_name, C2dMessage, Message};

/// `body`: a string (UTF-8), a Uint8Array / ArrayBuffer / typed array (bytes as given), or any
/// JSON-able value (stringified; content type and encoding then default to JSON, UTF-8).
/// `options`: `properties` (an object of strings) and the system properties by name
/// (`messageId`, `correlationId`, `userId`, `contentType`, `contentEncoding`, `expiryTimeUtc`,
/// `creationTimeUtc`, `componentName`, `outputName`).
pub fn to_message(body: &JsValue, options: &JsValue) -> Result<Message, JsValue> {
    let (bytes, is_json) = if let Some(s) = body.as_string() {
        (s.into_bytes(), false)
    } else if body.is_instance_of::<ArrayBuffer>() || ArrayBuffer::is_view(body) {
        (Uint8Array::new(body).to_vec(), false)
    } else if body.is_undefined() {
        // Most likely a forgotten argument; an empty message is `''` or `new Uint8Array()`.
        return Err(js_error("INVALID_ARGUMENT", "body is undefined: pass '' for an empty message"));
    } else {
        let text = JSON::stringify(body)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| js_error("INVALID_ARGUMENT", "body must be a string, bytes or a JSON-able value"))?;
        (text.into_bytes(), true)
    };
    let mut msg = Message::new(bytes);
    for (key, name) in device_settable() {
        let v = get(options, name);
        if v.is_undefined() || v.is_null() {
            continue;
        }
        let v = v
            .as_string()
            .ok_or_else(|| js_error("INVALID_PROPERTY", &format!("{name} must be a string")))?;
        if *key == "$.mid" && v.chars().count() > MAX_MESSAGE_ID_CHARS {
            return Err(js_error("INVALID_PROPERTY", "messageId is longer than 128 characters"));
        }
        msg = msg.with_system(key, &v);
    }
    if is_json {
        msg = msg.with_json_defaults();
    }
    let props = get(options, "properties");
    if props.is_object() && !plain_object(&props) {
        // A Map, an array or a class instance: `Object.entries` would drop its contents.
        return Err(js_error("INVALID_PROPERTY", "properties must be a plain object of names to values"));
    }
    if props.is_object() {
        let entries = Object::entries(props.unchecked_ref());
        for e in entries.iter() {
            let e: js_sys::Array = e.unchecked_into();
            let k = e.get(0).as_string().unwrap_or_default();
            let v = e.get(1);
            let v = if let Some(s) = v.as_string() {
                s
            } else if v.as_f64().is_some() {
                // JS's own `Number#toString` (what the Node SDK sends): Rust's f64 formatting
                // would add ~15 KB of float-printing code to the wasm (bench/size.md).
                js_sys::Number::to_string_with_radix(v.unchecked_ref(), 10)
                    .map(String::from)
                    .unwrap_or_default()
            } else if let Some(b) = v.as_bool() {
                b.to_string()
            } else {
                return Err(js_error(
                    "INVALID_PROPERTY",
                    &format!("property {k} must be a string, number or boolean"),
                ));
            };
            msg = msg.with_property(&k, &v);
        }
    } else if !props.is_undefined() && !props.is_null() {
        return Err(js_error("INVALID_PROPERTY", "properties must be an object"));
    }
    Ok(msg)
}

/// IoT Hub's limit on `message-id`: "a case-sensitive string (up to 128 characters long)"
/// (`iot-hub-devguide-messages-construct.md`).
const MAX_MESSAGE_ID_CHARS: usize = 128;

/// An object whose prototype is `Object.prototype` or `null`, with no Symbol keys (which
/// `Object.entries` skips, and a property bag cannot carry).
fn plain_object(v: &JsValue) -> bool {
    // `Object.prototype` is the one prototype whose own prototype is null: no new object per
    // send to compare against.
    let proto = Object::get_prototype_of(v);
    let plain = proto.is_null() || Object::get_prototype_of(&proto).is_null();
    plain && Object::get_own_property_symbols(v.unchecked_ref::<Object>()).length() == 0
}

/// `{ body: Uint8Array, text, properties: {name: value|null}, messageId?, correlationId?, …,
/// inputName? }`; `text` is the body decoded as UTF-8 (lossy).
pub fn c2d_to_js(m: &C2dMessage, payload: &[u8]) -> JsValue {
    let o = object();
    set(&o, "body", &Uint8Array::from(payload).into());
    set(&o, "text", &JsValue::from_str(&String::from_utf8_lossy(payload)));
    let props = object();
    for (k, v) in &m.properties {
        let value = v.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL);
        match k.strip_prefix("$.").and(system_name(k)) {
            Some(name) => set(&o, name, &value),
            None => set(&props, k, &value),
        }
    }
    set(&o, "properties", &props);
    if let Some(input) = &m.input_name {
        set(&o, "inputName", &JsValue::from_str(input));
    }
    o
}

/// A JSON value from the core as a JS value (via `JSON.parse`, which the core's output always is).
pub fn json_to_js(v: &crate::json::Value) -> JsValue {
    JSON::parse(&v.to_string()).unwrap_or(JsValue::NULL)
}

/// A method payload: JSON when it parses, the text otherwise, `null` when empty.
pub fn payload_to_js(payload: &[u8]) -> JsValue {
    if payload.is_empty() {
        return JsValue::NULL;
    }
    let text = String::from_utf8_lossy(payload);
    JSON::parse(&text).unwrap_or_else(|_| JsValue::from_str(&text))
}

/// A JS value as JSON text; `undefined` becomes empty.
pub fn js_to_json(v: &JsValue) -> Result<Vec<u8>, JsValue> {
    if v.is_undefined() {
        return Ok(Vec::new());
    }
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .map(String::into_bytes)
        .ok_or_else(|| js_error("INVALID_ARGUMENT", "value is not JSON-able"))
}

//! `MqttClient`: a small low-level MQTT 3.1.1 client for JS, over `MqttDriver`. It is how
//! the transport is tested from Node and browsers, and usable on its own:
//!
//! ```js
//! const c = new MqttClient();
//! c.on('message', (topic, payload, { qos, retain, dup }) => {});  // QoS 1 is acked after it returns
//! c.on('close', (err) => {});                                     // err.code: CONNECTION_LOST, ...
//! await c.connect('ws://127.0.0.1:8080', { clientId: 'a', keepAlive: 2, WebSocket: WS });
//! await c.subscribe('a/#', { qos: 1 });                           // → [1] (granted; 128 = refused)
//! await c.publish('a/b', 'hi', { qos: 1 });                       // resolves on PUBACK
//! await c.end();
//! ```
//! One connection per `connect`: when it is lost, pending promises reject and 'close' fires;
//! reconnecting is the caller's business (the hub client does its own).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::web::io::error::js_error;
use crate::web::io::js::{arg_fn, arg_options, arg_str, get_str, object, opt_bool, opt_str, set, whole_number};
use crate::web::io::mqtt_driver::{DriverEvent, MqttDriver};
use crate::web::io::socket::SocketFactory;
use crate::mqtt::{MqttError, QoS, SessionOptions};

#[wasm_bindgen(typescript_custom_section)]
const TS_MQTT: &'static str = r#"
/** Options of `MqttClient.connect`. */
export interface MqttConnectOptions {
  clientId: string;
  username?: string;
  /** For Azure: a SAS token. */
  password?: string;
  /** Seconds, default 60; 0 turns keep-alive off. */
  keepAlive?: number;
  /** Default true. */
  cleanSession?: boolean;
  /** Ms to wait for the socket (factory, handshake) and CONNACK together, default 30000, at most 3600000. */
  connectTimeout?: number;
  /** Most unacknowledged QoS 1 publishes on the wire, default 32. */
  maxInflight?: number;
  /**
   * Most QoS 1 publishes waiting behind a full in-flight window, default 10000 (at most 65535;
   * in flight plus queued never pass the 65535 MQTT packet ids). Past it `publish` rejects with
   * `QUEUE_FULL` and nothing is sent; earlier publishes are unaffected.
   */
  maxQueued?: number;
  /** A WebSocket constructor, called as `new WebSocket(url, ['mqtt'])` (e.g. the `ws` package). */
  WebSocket?: unknown;
  /** Or a factory returning a WebSocket-like object, or a Promise of one (Cloudflare Workers). */
  createWebSocket?: (url: string, protocols: string[]) => unknown;
}
/** Options of `MqttClient.publish` and `subscribe`. */
export interface MqttQosOptions { qos?: 0 | 1; retain?: boolean }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "MqttQosOptions")]
    pub type MqttQosOptions;
}

struct ClientInner {
    driver: Option<MqttDriver>,
    on_message: Option<Function>,
    on_close: Option<Function>,
}

/// A low-level MQTT 3.1.1 client over WebSocket (QoS 0 and 1).
#[wasm_bindgen]
pub struct MqttClient {
    inner: Rc<RefCell<ClientInner>>,
}

fn bad(msg: &str) -> JsValue {
    js_error("INVALID_ARGUMENT", msg)
}

fn qos_option(options: &JsValue) -> Result<QoS, JsValue> {
    match whole_number(options, "qos", 0, 1)? {
        None | Some(0) => Ok(QoS::AtMostOnce),
        Some(_) => Ok(QoS::AtLeastOnce),
    }
}

fn busy() -> JsValue {
    js_error("BUSY", "client is busy")
}

fn session_options(o: &JsValue) -> Result<SessionOptions, JsValue> {
    if !o.is_object() {
        return Err(bad("options must be an object"));
    }
    let mut s = SessionOptions {
        client_id: get_str(o, "clientId").ok_or_else(|| bad("clientId must be a string"))?,
        username: opt_str(o, "username")?,
        password: opt_str(o, "password")?,
        ..Default::default()
    };
    if let Some(k) = whole_number(o, "keepAlive", 0, 65535)? {
        s.keep_alive_secs = k as u16;
    }
    if let Some(c) = opt_bool(o, "cleanSession")? {
        s.clean_session = c;
    }
    // Bounded well below setTimeout's 2^31-1 ms ceiling: an hour is already generous.
    if let Some(t) = whole_number(o, "connectTimeout", 1, 3_600_000)? {
        s.connect_timeout_ms = t;
    }
    if let Some(m) = whole_number(o, "maxInflight", 0, 65535)? {
        s.max_inflight = (m as usize).max(1);
    }
    // In flight plus queued can never pass the 65,535 packet ids a session has (MQTT 3.1.1
    // §2.3.1), so that is the ceiling; the default takes a burst of 10,000 without a word.
    s.max_queued = whole_number(o, "maxQueued", 0, 65535)?.map_or(crate::mqtt::client::DEFAULT_MAX_QUEUED, |n| n as usize);
    Ok(s)
}

/// A string (sent as UTF-8), Uint8Array or other typed array, or ArrayBuffer.
fn payload_bytes(v: &JsValue) -> Result<Vec<u8>, JsValue> {
    if let Some(s) = v.as_string() {
        Ok(s.into_bytes())
    } else if v.is_undefined() || v.is_null() {
        Ok(Vec::new())
    } else if v.is_instance_of::<ArrayBuffer>() || ArrayBuffer::is_view(v) {
        Ok(Uint8Array::new(v).to_vec())
    } else {
        Err(bad("payload must be a string, Uint8Array or ArrayBuffer"))
    }
}

fn filter_list(v: &JsValue) -> Result<Vec<String>, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(vec![s]);
    }
    if Array::is_array(v) {
        let arr = Array::from(v);
        return arr.iter().map(|f| f.as_string().ok_or_else(|| bad("topic filters must be strings"))).collect();
    }
    Err(bad("topic filter must be a string or an array of strings"))
}

impl MqttClient {
    fn driver(&self) -> Result<MqttDriver, JsValue> {
        let c = self.inner.try_borrow().map_err(|_| busy())?;
        c.driver.clone().ok_or_else(|| MqttError::NotConnected.into())
    }
}

fn on_driver_event(client: &std::rc::Weak<RefCell<ClientInner>>, ev: DriverEvent) {
    let Some(client) = client.upgrade() else { return };
    match ev {
        DriverEvent::Message(p) => {
            let (handler, driver) = match client.try_borrow() {
                Ok(c) => (c.on_message.clone(), c.driver.clone()),
                Err(_) => (None, None),
            };
            if let Some(h) = handler {
                let meta = object();
                set(&meta, "qos", &JsValue::from_f64(p.qos as u8 as f64));
                set(&meta, "retain", &JsValue::from_bool(p.retain));
                set(&meta, "dup", &JsValue::from_bool(p.dup));
                let payload = Uint8Array::from(p.payload.as_slice());
                // A throwing handler still gets its message acknowledged: MQTT has no reject.
                let _ = h.call3(&JsValue::UNDEFINED, &JsValue::from_str(&p.topic), &payload, &meta);
            }
            if let (Some(id), Some(d)) = (p.pkid, driver) {
                d.ack(id);
            }
        }
        DriverEvent::Disconnected(err) => {
            let (handler, driver) = match client.try_borrow_mut() {
                Ok(mut c) => (c.on_close.clone(), c.driver.take()),
                Err(_) => (None, None),
            };
            // One connection per connect(): settle the publishes still waiting for PUBACK.
            if let Some(d) = driver {
                d.close();
            }
            if let Some(h) = handler {
                let _ = h.call1(&JsValue::UNDEFINED, &JsValue::from(err));
            }
        }
    }
}

#[wasm_bindgen]
impl MqttClient {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> MqttClient {
        MqttClient { inner: Rc::new(RefCell::new(ClientInner { driver: None, on_message: None, on_close: None })) }
    }

    /// `on('message', (topic, payload: Uint8Array, {qos, retain, dup}) => …)` or
    /// `on('close', (error) => …)`; a later call replaces the handler.
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "'message' | 'close'")] event: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Function")] handler: JsValue,
    ) -> Result<(), JsValue> {
        let message = match event.as_string().as_deref() {
            Some("message") => true,
            Some("close") => false,
            _ => return Err(bad("event must be 'message' or 'close'")),
        };
        let handler = Some(arg_fn(&handler, "handler")?);
        let mut c = self.inner.try_borrow_mut().map_err(|_| busy())?;
        if message {
            c.on_message = handler;
        } else {
            c.on_close = handler;
        }
        Ok(())
    }

    /// Opens the WebSocket, sends CONNECT, resolves `{ sessionPresent }` on CONNACK 0.
    /// Rejects with `code` `NOT_AUTHORIZED` (CONNACK 4/5, `status` = the return code),
    /// `CONNECTION_REFUSED`, `CONNECT_TIMEOUT`, `SOCKET_ERROR`, `CONNECTION_LOST`, `CLOSED`
    /// or `INVALID_ARGUMENT`.
    #[wasm_bindgen(unchecked_return_type = "Promise<{ sessionPresent: boolean }>")]
    pub fn connect(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] url: JsValue,
        #[wasm_bindgen(unchecked_param_type = "MqttConnectOptions")] options: JsValue,
    ) -> Promise {
        let setup = (|| {
            let url = arg_str(&url, "url")?;
            let opts = session_options(&options)?;
            let mut c = self.inner.try_borrow_mut().map_err(|_| busy())?;
            if c.driver.is_some() {
                return Err(bad("already connected: call end() first"));
            }
            let driver = MqttDriver::new(opts, SocketFactory::from_options(&options)?);
            let weak = Rc::downgrade(&self.inner);
            driver.set_event_handler(move |ev| on_driver_event(&weak, ev));
            c.driver = Some(driver.clone());
            Ok((driver, url))
        })();
        let inner = self.inner.clone();
        let connecting = setup.map(|(driver, url)| driver.connect(&url));
        future_to_promise(async move {
            match connecting?.await {
                Ok(session_present) => {
                    let r = object();
                    set(&r, "sessionPresent", &JsValue::from_bool(session_present));
                    Ok(r)
                }
                Err(e) => {
                    if let Ok(mut c) = inner.try_borrow_mut() {
                        c.driver = None;
                    }
                    Err(e.into())
                }
            }
        })
    }

    /// Publishes `payload` (string, Uint8Array or ArrayBuffer); resolves when written (QoS 0)
    /// or on PUBACK (QoS 1).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn publish(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] topic: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer")] payload: JsValue,
        options: Option<MqttQosOptions>,
    ) -> Promise {
        let started = (|| {
            let options = options.map(JsValue::from).unwrap_or_default();
            let (topic, options) = (arg_str(&topic, "topic")?, arg_options(&options, "options")?);
            let retain = opt_bool(&options, "retain")?.unwrap_or(false);
            let (driver, bytes, qos) = (self.driver()?, payload_bytes(&payload)?, qos_option(&options)?);
            Ok::<_, JsValue>(driver.start_js(move |e, now| e.publish(now, &topic, &bytes, qos, retain)))
        })();
        started.unwrap_or_else(|e| Promise::reject(&e))
    }

    /// Subscribes to one filter or an array of them, all at `options.qos`; resolves with the
    /// granted QoS per filter (128 = refused).
    #[wasm_bindgen(unchecked_return_type = "Promise<number[]>")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | string[]")] filters: JsValue,
        options: Option<MqttQosOptions>,
    ) -> Promise {
        let started = (|| {
            let options = arg_options(&options.map(JsValue::from).unwrap_or_default(), "options")?;
            let (driver, filters, qos) = (self.driver()?, filter_list(&filters)?, qos_option(&options)?);
            Ok::<_, JsValue>(driver.start_js(move |e, now| {
                let list: Vec<(&str, QoS)> = filters.iter().map(|f| (f.as_str(), qos)).collect();
                e.subscribe(now, &list)
            }))
        })();
        started.unwrap_or_else(|e| Promise::reject(&e))
    }

    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn unsubscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | string[]")] filters: JsValue,
    ) -> Promise {
        let started = (|| {
            let (driver, filters) = (self.driver()?, filter_list(&filters)?);
            Ok::<_, JsValue>(driver.start_js(move |e, now| {
                let list: Vec<&str> = filters.iter().map(String::as_str).collect();
                e.unsubscribe(now, &list)
            }))
        })();
        started.unwrap_or_else(|e| Promise::reject(&e))
    }

    /// Sends DISCONNECT and closes; pending promises reject with `CLOSED`. Always resolves.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn end(&self) -> Promise {
        let driver = self.inner.try_borrow().ok().and_then(|c| c.driver.clone());
        if let Some(d) = driver {
            d.close();
        }
        Promise::resolve(&JsValue::UNDEFINED)
    }

    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        self.inner
            .try_borrow()
            .is_ok_and(|c| c.driver.as_ref().is_some_and(MqttDriver::is_connected))
    }
}

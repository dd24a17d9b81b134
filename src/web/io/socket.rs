//! The WebSocket under both drivers (`io::mqtt_driver`, `hub::driver`): opening it through the
//! socket-factory contract, within a deadline, and owning its event listeners (removed on
//! drop; no `forget()`). Its methods call user-supplied JS, so the drivers call them only with
//! no state borrowed (see `mailbox`).
//!
//! Factory contract: the options may carry `WebSocket`, a constructor called as
//! `new C(url, ['mqtt'])` (the browser's, or the `ws` package on Node 20), or
//! `createWebSocket(url, protocols)` returning a WebSocket-like object or a Promise of one
//! (the Cloudflare Workers `fetch(url, {headers: {Upgrade: 'websocket'}})` + `accept()`
//! route). Default: the global `WebSocket`, never through `window`.
//! The socket is used structurally (`send`, `close`, `addEventListener`, `readyState`), so
//! any of these work without an `instanceof` check.

use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::web::io::js::{get, get_f64, get_fn, get_str, message_of, opt_fn, set};
use crate::web::io::timer::within;
use crate::mqtt::MqttError;

#[wasm_bindgen]
extern "C" {
    /// Any WebSocket-like object.
    pub type JsSocket;
    #[wasm_bindgen(method, catch)]
    fn send(this: &JsSocket, data: &Uint8Array) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = close)]
    fn close_with(this: &JsSocket, code: u16) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = addEventListener)]
    fn add_event_listener(this: &JsSocket, kind: &str, f: &Function) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = removeEventListener)]
    fn remove_event_listener(this: &JsSocket, kind: &str, f: &Function) -> Result<(), JsValue>;
}

/// How to get a WebSocket.
#[derive(Clone)]
pub enum SocketFactory {
    Global,
    Constructor(Function),
    Create(Function),
}

impl SocketFactory {
    /// Reads `WebSocket` or `createWebSocket` from JS options; neither means the global. A
    /// present one that is not a function is an error (it would be silently ignored).
    pub fn from_options(options: &JsValue) -> Result<SocketFactory, JsValue> {
        Ok(if let Some(f) = opt_fn(options, "createWebSocket")? {
            SocketFactory::Create(f)
        } else if let Some(c) = opt_fn(options, "WebSocket")? {
            SocketFactory::Constructor(c)
        } else {
            SocketFactory::Global
        })
    }

    /// Starts opening a socket to `url` with subprotocol `mqtt` (protocol.md §5.1). The
    /// socket may still be connecting; `createWebSocket` may give a Promise of one.
    pub fn start(&self, url: &str) -> Result<Opening, MqttError> {
        let protocols = Array::of1(&JsValue::from_str("mqtt"));
        let args = Array::of2(&JsValue::from_str(url), &protocols);
        let socket = match self {
            SocketFactory::Create(f) => {
                let v = f.call2(&JsValue::UNDEFINED, &JsValue::from_str(url), &protocols).map_err(socket_error)?;
                if v.is_instance_of::<Promise>() || get_fn(&v, "then").is_some() {
                    return Ok(Opening::Pending(Promise::resolve(&v)));
                }
                v
            }
            SocketFactory::Constructor(c) => Reflect::construct(c, &args).map_err(socket_error)?,
            SocketFactory::Global => Reflect::construct(&global_websocket()?, &args).map_err(socket_error)?,
        };
        prepare(socket).map(Opening::Ready)
    }

    /// Whether sockets can be had at all: with neither option given, the runtime must have a
    /// global `WebSocket` (Node 20 has none). A missing one is permanent, so callers check it
    /// before they start rather than retry it.
    pub fn check(&self) -> Result<(), MqttError> {
        match self {
            SocketFactory::Global => global_websocket().map(drop),
            _ => Ok(()),
        }
    }

    /// `start`, then waits (at most `ms`) for a `createWebSocket` Promise if there is one.
    pub async fn open(&self, url: &str, ms: f64) -> Result<JsSocket, MqttError> {
        match self.start(url)? {
            Opening::Ready(s) => Ok(s),
            Opening::Pending(p) => resolve_socket(p, ms).await,
        }
    }
}

fn global_websocket() -> Result<Function, MqttError> {
    get_fn(&js_sys::global(), "WebSocket").ok_or_else(|| {
        MqttError::SocketError("no global WebSocket: pass options.WebSocket (e.g. the ws package)".into())
    })
}

/// A socket, or a Promise of one from `createWebSocket`.
pub enum Opening {
    Ready(JsSocket),
    Pending(Promise),
}

/// Waits for a `createWebSocket` Promise, at most `ms` (then `ConnectTimeout`): a factory
/// whose Promise never settles must not hang the connect.
pub async fn resolve_socket(promise: Promise, ms: f64) -> Result<JsSocket, MqttError> {
    match within(&promise, ms).await {
        None => Err(MqttError::ConnectTimeout),
        Some(r) => prepare(r.map_err(socket_error)?),
    }
}

fn prepare(socket: JsValue) -> Result<JsSocket, MqttError> {
    if !socket.is_object() {
        return Err(MqttError::SocketError("socket factory returned no socket".into()));
    }
    // MQTT travels in binary frames; ask for ArrayBuffers rather than Blobs.
    set(&socket, "binaryType", &JsValue::from_str("arraybuffer"));
    Ok(socket.unchecked_into())
}

/// The message of a thrown JS value, for `SocketError`.
fn socket_error(e: JsValue) -> MqttError {
    MqttError::SocketError(message_of(&e, "websocket failed"))
}

/// What the socket reported.
pub enum SocketEvent {
    Open,
    Message(Vec<u8>),
    /// A text frame, or data in a form other than ArrayBuffer/typed array.
    NonBinaryMessage,
    Error,
    Close { code: Option<u16>, reason: String },
}

/// An open (or opening) socket with our listeners attached. Dropping it removes the
/// listeners and closes the socket.
type Listener = (&'static str, Closure<dyn FnMut(JsValue)>);

pub struct Socket {
    raw: JsSocket,
    listeners: Vec<Listener>,
}

impl Socket {
    /// Attaches `open`, `message`, `error` and `close` listeners that call `on_event`.
    pub fn attach(raw: JsSocket, on_event: Rc<dyn Fn(SocketEvent)>) -> Socket {
        let mut listeners = Vec::with_capacity(4);
        for kind in ["open", "message", "error", "close"] {
            let cb = on_event.clone();
            let closure = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| cb(translate(kind, &ev)));
            let _ = raw.add_event_listener(kind, closure.as_ref().unchecked_ref());
            listeners.push((kind, closure));
        }
        Socket { raw, listeners }
    }

    /// `readyState === OPEN`: a Workers socket arrives already accepted and never fires `open`.
    pub fn is_open(&self) -> bool {
        get_f64(&self.raw, "readyState") == Some(1.0)
    }

    /// The JS socket, to write to once the driver's state is released.
    pub fn raw(&self) -> JsSocket {
        JsValue::clone(&self.raw).unchecked_into()
    }
}

/// One WebSocket message carrying `bytes`.
pub fn send_raw(raw: &JsSocket, bytes: &[u8]) -> Result<(), MqttError> {
    raw.send(&Uint8Array::from(bytes)).map_err(|e| MqttError::ConnectionLost {
        code: None,
        reason: message_of(&e, "send failed"),
    })
}

impl Socket {
    /// Closes a socket that was opened but is no longer wanted (never attached).
    pub fn discard(raw: JsSocket) {
        drop(Socket { raw, listeners: Vec::new() });
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        for (kind, closure) in &self.listeners {
            let _ = self.raw.remove_event_listener(kind, closure.as_ref().unchecked_ref());
        }
        // The `ws` package is an EventEmitter: an 'error' emitted with no listener (as closing a
        // still-connecting socket does) would throw and crash Node. A side-effect-free builtin
        // swallows it; it is not a Rust closure, so nothing dangles once we are gone.
        if let Some(noop) = get_fn(&js_sys::global(), "Boolean") {
            let _ = self.raw.add_event_listener("error", &noop);
        }
        // readyState 0 (connecting) or 1 (open): close it; a closed socket needs nothing.
        if matches!(get_f64(&self.raw, "readyState"), Some(r) if r < 2.0) {
            let _ = self.raw.close_with(1000);
        }
    }
}

fn translate(kind: &str, ev: &JsValue) -> SocketEvent {
    match kind {
        "open" => SocketEvent::Open,
        "message" => {
            let data = get(ev, "data");
            if data.is_instance_of::<ArrayBuffer>() || ArrayBuffer::is_view(&data) {
                SocketEvent::Message(Uint8Array::new(&data).to_vec())
            } else {
                SocketEvent::NonBinaryMessage
            }
        }
        "close" => SocketEvent::Close {
            code: get_f64(ev, "code").filter(|c| (0.0..=65535.0).contains(c)).map(|c| c as u16),
            reason: get_str(ev, "reason").unwrap_or_default(),
        },
        _ => SocketEvent::Error,
    }
}

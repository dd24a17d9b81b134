//! The JS class `IotHubClient`: an IoT Hub device (or module) client over MQTT-over-WebSocket.
//! Thin: options in, Promises and events out; the engine (`hub::HubEngine`) decides, the
//! driver (`driver`, opening sockets in `open`, calling handlers in `calls`, over the state in
//! `state`) does the I/O; `options` reads the connect options and `message` converts messages
//! and twin JSON; `pnp` holds the IoT Plug and Play calls, `store` the durable sends and
//! `upload` file upload.

mod calls;
pub mod driver;
pub mod message;
pub mod open;
pub mod options;
mod pnp;
pub mod state;
mod store;
mod store_flow;
mod upload;

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::web::hub::message::{js_to_json, to_message};
use crate::web::hub::state::{Call, Hub, Inner};
use crate::web::io::error::{js_error, to_js};
use crate::web::io::js::{arg_fn, arg_options, arg_str, deferred, invalid_argument, now_ms_u64 as now};

#[wasm_bindgen(typescript_custom_section)]
const TS_HUB: &'static str = r#"
/** Options of `IotHubClient.connect`. Give one identity source and one credential. */
export interface IotHubClientOptions {
  /** `HostName=…;DeviceId=…;[ModuleId=…;]SharedAccessKey=…` */
  connectionString?: string;
  /** A result of `provision()`: its `assignedHub`, `deviceId` and `symmetricKey` are used. */
  provisioning?: { assignedHub?: string; deviceId?: string; symmetricKey?: string };
  hostName?: string;
  deviceId?: string;
  moduleId?: string;
  /** The device's symmetric key, base64: tokens are signed here and renewed before expiry. */
  symmetricKey?: string;
  /** Returns a SAS token for `resourceUri` valid until `expiresAt` (unix s), so no key reaches the page. */
  getToken?: (resourceUri: string, expiresAt: number) => string | Promise<string>;
  /** A ready token; the connection ends at its expiry (it cannot be renewed): the reconnect that follows fails with `HUB_UNAUTHORIZED` and the client closes. */
  sasToken?: string;
  /** Sent as `model-id` in the CONNECT username (IoT Plug and Play). */
  modelId?: string;
  /** MQTT keep-alive, seconds (default 60, at most 1177). */
  keepAlive?: number;
  /** Lifetime of the tokens signed from `symmetricKey` (default 3600 s); renewed at 80%. */
  tokenTtlSeconds?: number;
  /** Default `wss://{hostName}/$iothub/websocket?iothub-no-client-cert=true`; e.g. `ws://127.0.0.1:port/$iothub/websocket` for the emulator. */
  url?: string;
  /** The hub's REST API, for `uploadFile`: default the `url`'s host over https (http for a `ws://`
   * emulator), else `https://{hostName}`. A page reaches Azure's only through a proxy (no CORS). */
  restUrl?: string;
  /** A WebSocket constructor, called as `new WebSocket(url, ['mqtt'])` (e.g. the `ws` package on Node 20). */
  WebSocket?: unknown;
  /** Returns a WebSocket-like object or a Promise of one (e.g. the Cloudflare Workers fetch-upgrade route). */
  createWebSocket?: (url: string, protocols: string[]) => unknown;
  /** Telemetry publishes in flight at once (default 32). */
  maxInflight?: number;
  /** Sends held while offline (default 1000); beyond it `sendEvent` rejects with `QUEUE_FULL`. */
  maxOfflineQueue?: number;
  /** How long a twin request may wait (default 60000 ms). */
  twinTimeoutMs?: number;
  /** How long each step of connecting may take: token plus WebSocket, CONNACK, SUBACK (default 30000 ms, at most 3600000); then `connect()` rejects with `CONNECT_TIMEOUT` or a reconnect is retried. */
  openTimeoutMs?: number;
  /** When set, a `sendEvent` not acknowledged this many ms after the call (queued offline or in flight) rejects with `TIMEOUT`, so every send is bounded. An in-flight one may still reach the hub. Default: no limit (sends wait across reconnects until `close()`). */
  sendTimeoutMs?: number;
  /** Reconnect backoff: first delay (default 1000 ms) and cap (default 60000 ms); jitter is added. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** `DeviceClientType` in the username (default `azure-iot-wasm/{version}`). */
  clientType?: string;
  /** A durable store for sends, so that they survive a page reload (at-least-once): each send is
   * `put` before it is published and deleted on its PUBACK, and `connect` first re-sends, in
   * order, every record `list` returns. A failing store rejects with `STORE_FAILED`.
   * `indexedDbStore()` from `azure-iot-wasm/indexeddb` is one for browsers. */
  store?: MessageStore;
  /** Records the store may hold (default 1000); beyond it `sendEvent` rejects with `QUEUE_FULL`. */
  maxStoredMessages?: number;
  /** Bytes (topic + body) the store may hold (default 8 MiB); beyond it `QUEUE_FULL`. */
  maxStoredBytes?: number;
  /** How long one store call may take (default 30000 ms); a `put` that takes longer fails its send with `STORE_FAILED`. */
  storeTimeoutMs?: number;
}

/** A send as kept in a `MessageStore`: the publish itself, keyed by `id` (its message id). */
export interface StoredMessage { id: string; seq: number; topic: string; body: Uint8Array }

/** Where durable sends are kept: IndexedDB in a page, a Durable Object's storage in a Worker. Each
 * method may return a Promise; `list` returns the records in any order (they are sent by `seq`). */
export interface MessageStore {
  put(record: StoredMessage): void | Promise<void>;
  delete(id: string): void | Promise<void>;
  list(): StoredMessage[] | Promise<StoredMessage[]>;
}

/** `sendEvent` options: application `properties` and system properties by name. */
export interface SendEventOptions {
  properties?: Record<string, string | number | boolean>;
  messageId?: string;
  correlationId?: string;
  userId?: string;
  contentType?: string;
  contentEncoding?: string;
  expiryTimeUtc?: string;
  creationTimeUtc?: string;
  componentName?: string;
  outputName?: string;
}

/** A cloud-to-device message (or a module input message). */
export interface CloudMessage {
  body: Uint8Array;
  /** The body as UTF-8 text. */
  text: string;
  properties: Record<string, string | null>;
  messageId?: string;
  correlationId?: string;
  userId?: string;
  contentType?: string;
  contentEncoding?: string;
  expiryTimeUtc?: string;
  to?: string;
  inputName?: string;
}

export interface MethodRequest { methodName: string; requestId: string; payload: unknown }
export interface MethodResponse { status?: number; payload?: unknown }
export interface Twin { desired: Record<string, unknown>; reported: Record<string, unknown> }
export type IotHubClientEvent = 'connected' | 'disconnected' | 'reconnecting' | 'error' | 'closed';
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "IotHubClientOptions")]
    pub type IotHubClientOptions;
    #[wasm_bindgen(typescript_type = "SendEventOptions")]
    pub type SendEventOptions;
    #[wasm_bindgen(typescript_type = "string | Uint8Array | ArrayBuffer | unknown")]
    pub type EventBody;
    #[wasm_bindgen(typescript_type = "(message: CloudMessage) => void | Promise<void>")]
    pub type MessageHandler;
    #[wasm_bindgen(typescript_type = "(patch: Record<string, unknown>, version: number | null) => void")]
    pub type DesiredHandler;
    #[wasm_bindgen(typescript_type = "(request: MethodRequest) => MethodResponse | Promise<MethodResponse>")]
    pub type MethodHandler;
    #[wasm_bindgen(typescript_type = "IotHubClientEvent")]
    pub type EventName;
    #[wasm_bindgen(typescript_type = "(info?: any) => void")]
    pub type Listener;
    #[wasm_bindgen(typescript_type = "Promise<IotHubClient>")]
    pub type PromiseClient;
    #[wasm_bindgen(typescript_type = "Promise<void>")]
    pub type PromiseVoid;
    #[wasm_bindgen(typescript_type = "Promise<Twin>")]
    pub type PromiseTwin;
    #[wasm_bindgen(typescript_type = "Promise<number>")]
    pub type PromiseNumber;
}

/// An IoT Hub device or module client. Create with `IotHubClient.connect(options)`.
/// Every error is an `Error` with a stable `code`: `MESSAGE_TOO_LARGE`, `QUEUE_FULL`, `CLOSED`,
/// `TIMEOUT`, `THROTTLED`, `TWIN_REQUEST_FAILED` (with `status`), `NOT_AUTHORIZED`, …
#[wasm_bindgen]
pub struct IotHubClient {
    inner: Rc<Hub>,
    /// Whether sends go through the durable store (fixed at connect).
    durable: bool,
}

fn rejected(e: JsValue) -> Promise {
    Promise::reject(&e)
}

#[wasm_bindgen]
impl IotHubClient {
    /// Connects; resolves once connected and subscribed, rejects with the reason the first
    /// attempt failed (later drops are retried with backoff and reported as events).
    pub async fn connect(options: &IotHubClientOptions) -> Result<IotHubClient, JsValue> {
        let opts = options::parse(options.as_ref())?;
        // Records a previous client left in the store go out first (store.rs).
        let restored = match &opts.store {
            Some((js, ..)) => store::restore(js, &opts.engine.identity).await?,
            None => Vec::new(),
        };
        let durable = opts.store.is_some();
        let inner = Hub::new(Inner::new(opts));
        let (p, res, rej) = deferred();
        inner.post(move |i, _| {
            i.connect_waiter = Some((res, rej));
            i.resend_restored(restored);
            i.engine.start(now());
        });
        JsFuture::from(p).await?;
        Ok(IotHubClient { inner, durable })
    }

    /// `connect` from a device connection string plus other options.
    #[wasm_bindgen(js_name = fromConnectionString)]
    pub async fn from_connection_string(
        #[wasm_bindgen(js_name = connectionString, unchecked_param_type = "string")] connection_string: JsValue,
        options: Option<IotHubClientOptions>,
    ) -> Result<IotHubClient, JsValue> {
        let cs = arg_str(&connection_string, "connectionString")?;
        let options = arg_options(&options.map(JsValue::from).unwrap_or_default(), "options")?;
        let o = if options.is_object() {
            js_sys::Object::assign(&js_sys::Object::new(), options.unchecked_ref()).into()
        } else {
            crate::web::io::js::object()
        };
        crate::web::io::js::set(&o, "connectionString", &JsValue::from_str(&cs));
        IotHubClient::connect(o.unchecked_ref()).await
    }

    /// Sends telemetry; resolves on the hub's PUBACK. Sends made while offline wait (bounded).
    #[wasm_bindgen(js_name = sendEvent)]
    pub fn send_event(
        &self,
        body: &EventBody,
        options: Option<SendEventOptions>,
    ) -> PromiseVoid {
        let options = options.map(JsValue::from).unwrap_or_default();
        let msg = match arg_options(&options, "options").and_then(|o| to_message(body.as_ref(), &o)) {
            Ok(m) => m,
            Err(e) => return rejected(e).unchecked_into(),
        };
        if self.durable {
            return store_flow::send(&self.inner, msg).unchecked_into();
        }
        self.start(move |i| i.engine.send(now(), &msg)).unchecked_into()
    }

    /// Reads the whole twin `{desired, reported}`.
    #[wasm_bindgen(js_name = getTwin)]
    pub fn get_twin(&self) -> PromiseTwin {
        self.start(|i| i.engine.get_twin(now())).unchecked_into()
    }

    /// Patches the reported properties (`null` deletes); resolves with the new reported `$version`.
    #[wasm_bindgen(js_name = updateReportedProperties)]
    pub fn update_reported_properties(&self, patch: JsValue) -> PromiseNumber {
        if !patch.is_object() || js_sys::Array::is_array(&patch) {
            return rejected(js_error("INVALID_ARGUMENT", "patch must be an object")).unchecked_into();
        }
        match js_to_json(&patch) {
            Ok(bytes) => self.start(move |i| i.engine.update_reported(now(), bytes)).unchecked_into(),
            Err(e) => rejected(e).unchecked_into(),
        }
    }

    /// Receives C2D messages (module: input messages). The message is completed (PUBACK) when
    /// the handler returns or its Promise settles. Messages that came before are delivered now.
    #[wasm_bindgen(js_name = onMessage)]
    pub fn on_message(&self, handler: &MessageHandler) -> Result<(), JsValue> {
        let f = arg_fn(handler, "handler")?;
        self.inner.post(move |i, _| {
            i.handlers.message = Some(f);
            i.engine.listen_messages();
        });
        Ok(())
    }

    /// Receives desired-property patches in `$version` order, including changes made while the
    /// device was offline (delivered after the reconnect).
    #[wasm_bindgen(js_name = onDesiredPropertiesUpdate)]
    pub fn on_desired_properties_update(&self, handler: &DesiredHandler) -> Result<(), JsValue> {
        let f = arg_fn(handler, "handler")?;
        self.inner.post(move |i, _| {
            i.handlers.desired = Some(f);
            i.engine.listen_desired();
        });
        Ok(())
    }

    /// Handles direct method `name` (`'*'`: any method without its own handler). The handler
    /// returns `{status, payload}` (status defaults to 200); if it throws, the answer is 500
    /// with `{message}`. A status that is not a whole number from 0 to 65535, or a payload that
    /// is not JSON, is answered 500 too and heard as an `error` event (`HANDLER_ERROR`), never
    /// guessed at. Calls with no handler are answered 501.
    #[wasm_bindgen(js_name = onMethod)]
    pub fn on_method(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        handler: &MethodHandler,
    ) -> Result<(), JsValue> {
        let (name, f) = (arg_str(&name, "name")?, arg_fn(handler, "handler")?);
        if name.is_empty() {
            return Err(invalid_argument("name", "a method name or '*'"));
        }
        self.inner.post(move |i, _| {
            i.engine.listen_method(&name);
            i.handlers.methods.retain(|(n, ..)| *n != name);
            i.handlers.methods.push((name, f, false));
        });
        Ok(())
    }

    /// Listens to `connected`, `disconnected` ({code, message, error}), `reconnecting`
    /// ({attempt, delayMs}), `error` (an Error) and `closed`.
    pub fn on(&self, event: &EventName, listener: &Listener) -> Result<(), JsValue> {
        let (name, f) = (event_name(event)?, arg_fn(listener, "listener")?);
        self.inner.post(move |i, _| i.handlers.listeners.push((name, f)));
        Ok(())
    }

    /// Removes a listener added with `on`.
    pub fn off(&self, event: &EventName, listener: &Listener) -> Result<(), JsValue> {
        let (name, f) = (event_name(event)?, arg_fn(listener, "listener")?);
        self.inner.post(move |i, _| i.handlers.listeners.retain(|(n, l)| !(n == &name && *l == f)));
        Ok(())
    }

    /// Whether the client is connected and subscribed right now.
    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        self.inner.peek().is_some_and(|i| i.engine.is_connected())
    }

    /// Disconnects and settles everything pending (rejected with `CLOSED`). Idempotent.
    pub fn close(&self) -> PromiseVoid {
        let (p, res, _) = deferred();
        // Posted, never refused: it resolves once the client is closed, whatever it was doing.
        self.inner.post(move |i, _| {
            if i.engine.is_closed() {
                i.calls.push(Call::Settle(res, JsValue::UNDEFINED));
            } else {
                i.close_waiters.push(res);
                i.engine.close(now());
            }
        });
        p.unchecked_into()
    }
}

/// One of the `IotHubClientEvent` names: a listener for any other name would never be called.
fn event_name(v: &JsValue) -> Result<String, JsValue> {
    match v.as_string() {
        Some(n) if EVENT_NAMES.contains(&n.as_str()) => Ok(n),
        _ => Err(invalid_argument("event", "'connected', 'disconnected', 'reconnecting', 'error' or 'closed'")),
    }
}

const EVENT_NAMES: [&str; 5] = ["connected", "disconnected", "reconnecting", "error", "closed"];

impl IotHubClient {
    /// Starts an engine operation and returns its Promise, settled by the driver.
    fn start(&self, f: impl FnOnce(&mut Inner) -> Result<u64, crate::hub::HubError> + 'static) -> Promise {
        let (p, res, rej) = deferred();
        self.inner.post(move |i, _| match f(i) {
            Ok(op) => i.waiters.push((op, (res, rej))),
            Err(e) => i.calls.push(Call::Settle(rej, to_js(&e))),
        });
        p
    }
}

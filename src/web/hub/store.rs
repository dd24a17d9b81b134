//! The hub client's durable store (opt-in `store` of `IotHubClient.connect`), its JS side: the
//! application's `put`, `delete` and `list`, records to and from JS, and what the client keeps
//! about them. The flow of a send through it is `store_flow.rs`. The policy — what a record is,
//! the bounds, the order after a restart, which records are ours — is the core's (`hub::store`).

use std::collections::VecDeque;

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::hub::{is_own_telemetry, restore_order, stored_message_id, Identity, Message, StoreLedger, StoredRecord, STORE_CALL_TIMEOUT_MS};
use crate::web::io::timer::within;
use crate::web::io::error::js_error;
use crate::web::io::js::{get, get_f64, get_str, invalid_argument, message_of, now_ms_u64 as now, object, set, whole_number};

/// The application's store object and its three methods.
#[derive(Clone)]
pub(crate) struct StoreJs {
    this: JsValue,
    put: Function,
    delete: Function,
    list: Function,
    /// `storeTimeoutMs`: how long each call may take.
    timeout_ms: f64,
}

/// A send's resolve and reject functions.
pub(crate) type Waiter = (Function, Function);

/// A send whose `put` is pending (`done: None`) or settled.
pub(crate) struct Pending {
    pub(crate) record: StoredRecord,
    pub(crate) waiter: Waiter,
    pub(crate) done: Option<Result<(), JsValue>>,
}

/// One call of the store's `put` or `delete`, made once the client's state is released.
pub(crate) struct StoreCall {
    f: Function,
    this: JsValue,
    arg: JsValue,
    timeout_ms: f64,
}

impl StoreCall {
    pub(crate) async fn run(&self) -> Result<(), JsValue> {
        call(&self.f, &self.this, &self.arg, self.timeout_ms).await.map(|_| ())
    }
}

pub(crate) struct Store {
    js: StoreJs,
    pub(crate) ledger: StoreLedger,
    /// Random per client: the prefix of the message ids made for sends without one.
    seed: u64,
    ids: u64,
    pub(crate) queue: VecDeque<Pending>,
    /// Records in the engine: (op, id, size).
    pub(crate) in_engine: Vec<(u64, String, usize)>,
}

/// `options.store` (`{put, delete, list}`) with `maxStoredMessages` and `maxStoredBytes`.
pub(crate) fn parse(o: &JsValue) -> Result<Option<(StoreJs, usize, usize)>, JsValue> {
    // The bounds are checked even without a store: a wrong one is never silently ignored.
    let count = whole_number(o, "maxStoredMessages", 1, 1_000_000)?.map_or(crate::hub::DEFAULT_MAX_STORED, |n| n as usize);
    let bytes = whole_number(o, "maxStoredBytes", 1024, 1 << 40)?.map_or(crate::hub::DEFAULT_MAX_STORED_BYTES, |n| n as usize);
    let timeout_ms = whole_number(o, "storeTimeoutMs", 10, 3_600_000)?.unwrap_or(STORE_CALL_TIMEOUT_MS) as f64;
    let s = get(o, "store");
    if s.is_undefined() || s.is_null() {
        return Ok(None);
    }
    let method = |name: &str| {
        get(&s, name).dyn_into::<Function>().map_err(|_| invalid_argument("store", "an object with put, delete and list functions"))
    };
    let js = StoreJs { put: method("put")?, delete: method("delete")?, list: method("list")?, this: s.clone(), timeout_ms };
    Ok(Some((js, count, bytes)))
}

pub(crate) fn store_failed(what: &str, cause: &JsValue) -> JsValue {
    let e = js_error("STORE_FAILED", &format!("store.{what} failed: {}", message_of(cause, "it threw")));
    set(&e, "cause", cause);
    e
}

/// Calls a store method and awaits its result (a value or a Promise) for at most `timeout_ms`;
/// a throw, a rejection or the timeout is an `Err`.
async fn call(f: &Function, this: &JsValue, arg: &JsValue, timeout_ms: f64) -> Result<JsValue, JsValue> {
    let v = f.call1(this, arg)?;
    within(&Promise::resolve(&v), timeout_ms).await.unwrap_or_else(|| Err(js_error("TIMEOUT", "the store did not answer in time")))
}

/// Reads one listed record: `{id, seq, topic, body}`.
fn record_from_js(v: &JsValue) -> Option<StoredRecord> {
    let body = get(v, "body");
    let body = (body.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(&body))
        .then(|| Uint8Array::new(&body).to_vec())?;
    let seq = get_f64(v, "seq").filter(|s| s.fract() == 0.0 && *s >= 0.0 && *s < 9e15)? as u64;
    Some(StoredRecord { id: get_str(v, "id")?, seq, topic: get_str(v, "topic")?, body })
}

pub(crate) fn record_to_js(r: &StoredRecord) -> JsValue {
    let o = object();
    set(&o, "id", &JsValue::from_str(&r.id));
    set(&o, "seq", &JsValue::from_f64(r.seq as f64));
    set(&o, "topic", &JsValue::from_str(&r.topic));
    set(&o, "body", &Uint8Array::from(r.body.as_slice()));
    o
}

/// `connect()`, before the client starts: the records left by an earlier client, in send order.
/// A record that is unreadable or not this device's telemetry fails the connect (it is left in
/// the store): sending it could close the connection, and skipping it would lose it unheard.
pub(crate) async fn restore(js: &StoreJs, identity: &Identity) -> Result<Vec<StoredRecord>, JsValue> {
    let listed = call(&js.list, &js.this, &JsValue::UNDEFINED, js.timeout_ms).await.map_err(|e| store_failed("list", &e))?;
    if !Array::is_array(&listed) {
        return Err(js_error("STORE_FAILED", "store.list must return an array of records"));
    }
    let mut records = Vec::new();
    for v in Array::from(&listed).iter() {
        match record_from_js(&v) {
            Some(r) if is_own_telemetry(identity, &r.topic) => records.push(r),
            Some(r) => return Err(js_error("STORE_FAILED", &format!("stored message {} is not this client's telemetry", r.id))),
            None => return Err(js_error("STORE_FAILED", "store.list returned a record without id, seq, topic and body")),
        }
    }
    restore_order(&mut records);
    Ok(records)
}


impl Store {
    pub(crate) fn new(js: StoreJs, max_count: usize, max_bytes: usize) -> Store {
        // The driver's random source; the ids only need to differ between clients.
        let seed = (js_sys::Math::random() * 9.007e15) as u64 ^ now();
        Store { js, ledger: StoreLedger::new(max_count, max_bytes), seed, ids: 0, queue: VecDeque::new(), in_engine: Vec::new() }
    }

    /// The message id of a new send (`msg` gets one when it has none).
    pub(crate) fn message_id(&mut self, msg: &mut Message) -> String {
        self.ids += 1;
        stored_message_id(msg, self.seed, self.ids)
    }

    pub(crate) fn put(&self, record: &StoredRecord) -> StoreCall {
        StoreCall { f: self.js.put.clone(), this: self.js.this.clone(), arg: record_to_js(record), timeout_ms: self.js.timeout_ms }
    }

    pub(crate) fn delete(&self, id: &str) -> StoreCall {
        StoreCall { f: self.js.delete.clone(), this: self.js.this.clone(), arg: JsValue::from_str(id), timeout_ms: self.js.timeout_ms }
    }

    /// The delete of the record of engine op `op`, if it is one, after its PUBACK (`acked`); a
    /// record whose send failed otherwise stays for the next `connect`.
    pub(crate) fn on_send_done(&mut self, op: u64, acked: bool) -> Option<StoreCall> {
        let i = self.in_engine.iter().position(|(o, ..)| *o == op)?;
        let (_, id, size) = self.in_engine.remove(i);
        if !acked {
            return None;
        }
        self.ledger.release(size);
        Some(self.delete(&id))
    }

    /// Every send still waiting for its `put`, for rejection when the client ends.
    pub(crate) fn take_waiters(&mut self) -> Vec<Waiter> {
        self.queue.drain(..).map(|p| p.waiter).collect()
    }
}

//! The hub client's durable store (opt-in `store` of `IotHubClient.connect`): calls the
//! application's `put`, `delete` and `list`, keeping the caller's order. The policy — what a
//! record is, the bounds, the order after a restart, which records are ours — is the core's
//! (`hub::store`).
//!
//! Design: `sendEvent` admits a record (ledger), asks the store to `put` it and queues it here;
//! records go to the engine strictly in call order, each once its own `put` has settled, so a
//! slow write never lets a later message overtake it. A failed `put` rejects that send with
//! `STORE_FAILED` and nothing is published. A PUBACK deletes the record; a send that fails
//! otherwise (TIMEOUT, CLOSED) leaves it in the store for the next `connect`, which lists the
//! store and re-sends every record, in `seq` order, before any new message.

use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::hub::{is_own_telemetry, restore_order, stored_message_id, Identity, Message, StoreLedger, StoredRecord};
use crate::web::hub::state::{Call, Hub, Inner, Waiter};
use crate::web::io::error::{js_error, to_js};
use crate::web::io::js::{deferred, get, get_f64, get_str, invalid_argument, now_ms_u64 as now, object, set, whole_number};

/// The application's store object and its three methods.
#[derive(Clone)]
pub(crate) struct StoreJs {
    this: JsValue,
    put: Function,
    delete: Function,
    list: Function,
}

/// A send whose `put` is pending (`done: None`) or settled.
struct Pending {
    record: StoredRecord,
    waiter: Waiter,
    done: Option<Result<(), JsValue>>,
}

pub(crate) struct Store {
    js: StoreJs,
    pub(crate) ledger: StoreLedger,
    /// Random per client: the prefix of the message ids made for sends without one.
    seed: u64,
    ids: u64,
    queue: VecDeque<Pending>,
    /// Records in the engine: (op, id, size).
    in_engine: Vec<(u64, String, usize)>,
}

/// `options.store` (`{put, delete, list}`) with `maxStoredMessages` and `maxStoredBytes`.
pub(crate) fn parse(o: &JsValue) -> Result<Option<(StoreJs, usize, usize)>, JsValue> {
    // The bounds are checked even without a store: a wrong one is never silently ignored.
    let count = whole_number(o, "maxStoredMessages", 1, 1_000_000)?.map_or(crate::hub::DEFAULT_MAX_STORED, |n| n as usize);
    let bytes = whole_number(o, "maxStoredBytes", 1024, 1 << 40)?.map_or(crate::hub::DEFAULT_MAX_STORED_BYTES, |n| n as usize);
    let s = get(o, "store");
    if s.is_undefined() || s.is_null() {
        return Ok(None);
    }
    let method = |name: &str| {
        get(&s, name).dyn_into::<Function>().map_err(|_| invalid_argument("store", "an object with put, delete and list functions"))
    };
    let js = StoreJs { put: method("put")?, delete: method("delete")?, list: method("list")?, this: s.clone() };
    Ok(Some((js, count, bytes)))
}

fn store_failed(what: &str, cause: &JsValue) -> JsValue {
    let msg = get_str(cause, "message").or_else(|| cause.as_string()).unwrap_or_else(|| "it threw".into());
    let e = js_error("STORE_FAILED", &format!("store.{what} failed: {msg}"));
    set(&e, "cause", cause);
    e
}

/// Calls a store method and awaits its result (a value or a Promise); a throw is an `Err`.
async fn call(f: &Function, this: &JsValue, arg: &JsValue) -> Result<JsValue, JsValue> {
    let v = f.call1(this, arg)?;
    JsFuture::from(Promise::resolve(&v)).await
}

/// Reads one listed record: `{id, seq, topic, body}`.
fn record_from_js(v: &JsValue) -> Option<StoredRecord> {
    let body = get(v, "body");
    let body = (body.is_instance_of::<js_sys::ArrayBuffer>() || js_sys::ArrayBuffer::is_view(&body))
        .then(|| Uint8Array::new(&body).to_vec())?;
    let seq = get_f64(v, "seq").filter(|s| s.fract() == 0.0 && *s >= 0.0 && *s < 9e15)? as u64;
    Some(StoredRecord { id: get_str(v, "id")?, seq, topic: get_str(v, "topic")?, body })
}

fn record_to_js(r: &StoredRecord) -> JsValue {
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
    let listed = call(&js.list, &js.this, &JsValue::UNDEFINED).await.map_err(|e| store_failed("list", &e))?;
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

    /// A delete of the record of engine op `op`, if it is one, after its PUBACK (`acked`).
    pub(crate) fn on_send_done(&mut self, op: u64, acked: bool) -> Option<Call> {
        let i = self.in_engine.iter().position(|(o, ..)| *o == op)?;
        let (_, id, size) = self.in_engine.remove(i);
        if !acked {
            return None;
        }
        self.ledger.release(size);
        Some(Call::Store(self.js.delete.clone(), self.js.this.clone(), JsValue::from_str(&id), None))
    }

    /// Every send still waiting for its `put`, for rejection when the client ends.
    pub(crate) fn take_waiters(&mut self) -> Vec<Waiter> {
        self.queue.drain(..).map(|p| p.waiter).collect()
    }
}

impl Inner {
    /// Hands the restored records to the engine, ahead of every new send.
    pub(crate) fn resend_restored(&mut self, records: Vec<StoredRecord>) {
        let Some(st) = &mut self.store else { return };
        for r in records {
            st.ledger.restore(&r);
            let size = r.size();
            // Checked by `restore`; a record that still cannot be sent stays in the store.
            if let Ok(op) = self.engine.send_stored(now(), r.topic, r.body) {
                st.in_engine.push((op, r.id, size));
            }
        }
    }

    /// `put` of `seq` settled: sends every record at the head of the queue whose `put` has.
    pub(crate) fn put_done(&mut self, seq: u64, result: Result<(), JsValue>) {
        let Some(st) = &mut self.store else { return };
        if let Some(p) = st.queue.iter_mut().find(|p| p.record.seq == seq) {
            p.done = Some(result);
        }
        while st.queue.front().is_some_and(|p| p.done.is_some()) {
            let Some(Pending { record, waiter: (res, rej), done: Some(done) }) = st.queue.pop_front() else { break };
            let size = record.size();
            if let Err(e) = done {
                st.ledger.release(size);
                self.calls.push(Call::Settle(rej, store_failed("put", &e)));
                continue;
            }
            match self.engine.send_stored(now(), record.topic, record.body) {
                Ok(op) => {
                    st.in_engine.push((op, record.id, size));
                    self.waiters.push((op, (res, rej)));
                }
                Err(e) => {
                    // Refused by the engine (closed meanwhile): not sent, so not kept either.
                    st.ledger.release(size);
                    self.calls.push(Call::Store(st.js.delete.clone(), st.js.this.clone(), JsValue::from_str(&record.id), None));
                    self.calls.push(Call::Settle(rej, to_js(&e)));
                }
            }
        }
    }
}

/// `sendEvent` with a store: the record is admitted and written before it is sent.
pub(crate) fn send(hub: &Rc<Hub>, mut msg: Message) -> Promise {
    let (p, res, rej) = deferred();
    let me: Weak<Hub> = Rc::downgrade(hub);
    hub.post(move |i, _| {
        let Some(st) = &mut i.store else { return };
        st.ids += 1;
        let id = stored_message_id(&mut msg, st.seed, st.ids);
        let admitted = i.engine.message_topic(&msg).and_then(|topic| {
            let record = StoredRecord { id, seq: 0, topic, body: core::mem::take(&mut msg.body) };
            Ok(StoredRecord { seq: st.ledger.admit(record.size())?, ..record })
        });
        let record = match admitted {
            Ok(r) => r,
            Err(e) => return i.calls.push(Call::Settle(rej, to_js(&e))),
        };
        let (put, this, js, seq) = (st.js.put.clone(), st.js.this.clone(), record_to_js(&record), record.seq);
        st.queue.push_back(Pending { record, waiter: (res, rej), done: None });
        i.calls.push(Call::Store(put, this, js, Some((me, seq))));
    });
    p
}

/// Runs a `Call::Store`: a `put` reports back to `put_done`; a failed `delete` is an `error` event.
pub(crate) async fn run(f: Function, this: JsValue, arg: JsValue, put: Option<(Weak<Hub>, u64)>, me: Weak<Hub>) {
    let r = call(&f, &this, &arg).await.map(|_| ());
    match put {
        Some((hub, seq)) => {
            if let Some(rc) = hub.upgrade() {
                rc.post(move |i, _| i.put_done(seq, r));
            }
        }
        None => {
            if let (Err(e), Some(rc)) = (r, me.upgrade()) {
                let err = store_failed("delete", &e);
                rc.post(move |i, _| i.emit("error", err));
            }
        }
    }
}

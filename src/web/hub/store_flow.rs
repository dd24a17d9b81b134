//! A send's way through the durable store (`store.rs`): admitted and `put` by `sendEvent`, handed
//! to the engine in call order once its `put` settled, deleted after its PUBACK; and the records
//! a previous client left, sent first at `connect`.
//!
//! Design: records go to the engine strictly in call order, each once its own `put` has
//! settled, so a slow write never lets a later message overtake it. A failed `put` rejects that
//! send with `STORE_FAILED` and nothing is published. A send that fails otherwise (TIMEOUT,
//! CLOSED) leaves its record in the store for the next `connect`.

use std::rc::{Rc, Weak};

use js_sys::Promise;
use wasm_bindgen::JsValue;

use crate::hub::{Message, StoredRecord};
use crate::web::hub::state::{Call, Hub, Inner};
use crate::web::hub::store::{store_failed, Pending, StoreCall};
use crate::web::io::error::{js_error, to_js};
use crate::web::io::js::{deferred, now_ms_u64 as now};

impl Inner {
    /// After a send's `SendDone`: the delete of its record, if it is one and was acknowledged.
    pub(crate) fn store_send_done(&mut self, op: u64, acked: bool) -> Option<Call> {
        Some(Call::Store(self.store.as_mut()?.on_send_done(op, acked)?, None))
    }

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
                    self.calls.push(Call::Store(st.delete(&record.id), None));
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
        let Some(st) = &mut i.store else {
            // Not reached (`durable` is fixed at connect), but a Promise must settle either way.
            return i.calls.push(Call::Settle(rej, js_error("CLOSED", "client has no store")));
        };
        let id = st.message_id(&mut msg);
        let admitted = i.engine.message_topic(&msg).and_then(|topic| {
            let record = StoredRecord { id, seq: 0, topic, body: core::mem::take(&mut msg.body) };
            Ok(StoredRecord { seq: st.ledger.admit(record.size())?, ..record })
        });
        let record = match admitted {
            Ok(r) => r,
            Err(e) => return i.calls.push(Call::Settle(rej, to_js(&e))),
        };
        let (put, seq) = (st.put(&record), record.seq);
        st.queue.push_back(Pending { record, waiter: (res, rej), done: None });
        i.calls.push(Call::Store(put, Some((me, seq))));
    });
    p
}

/// Runs a `Call::Store`: a `put` reports back to `put_done`; a failed `delete` is an `error` event.
pub(crate) async fn run(c: StoreCall, put: Option<(Weak<Hub>, u64)>, me: Weak<Hub>) {
    let r = c.run().await;
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

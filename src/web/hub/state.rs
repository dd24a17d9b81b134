//! The hub client's state, shared by its export (`hub`), its driver (`driver`), the socket
//! opener (`open`) and the handler calls (`calls`): the engine, the socket of the current
//! `epoch`, the application's handlers, and the Promises waiting for the engine.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::hub::{HubEngine, WritableChange};
use crate::web::hub::options::{Credential, HubOptions};
use crate::web::hub::store::{Store, StoreCall};
use crate::web::io::error::js_error;
use crate::web::io::mailbox::{Alarm, Mailbox};
use crate::web::io::socket::{Socket, SocketFactory};

pub(crate) type Waiter = (Function, Function);

/// A JS call to make once the borrow is released.
pub(crate) enum Call {
    Settle(Function, JsValue),
    Invoke(Function, JsValue, JsValue),
    Message(Function, Option<u16>, JsValue),
    /// A direct method, or (`true`) a Plug and Play command, whose handler returns the payload.
    Method(Function, String, JsValue, bool),
    Writable(Function, WritableChange),
    /// A call of the durable store (`store_flow.rs`), and for a `put` where to report it.
    Store(StoreCall, Option<(std::rc::Weak<Hub>, u64)>),
}

#[derive(Default)]
pub(crate) struct Handlers {
    pub message: Option<Function>,
    pub desired: Option<Function>,
    /// By method name; `true` for a command handler (`onCommand`).
    pub methods: Vec<(String, Function, bool)>,
    /// Writable-property handlers by (component, name).
    pub writables: Vec<(Option<String>, String, Function)>,
    pub listeners: Vec<(String, Function)>,
}

pub(crate) struct Inner {
    pub engine: HubEngine,
    pub(crate) credential: Credential,
    pub(crate) url: String,
    pub(crate) rest_url: String,
    pub(crate) factory: SocketFactory,
    pub(crate) token_ttl_secs: u64,
    pub(crate) open_timeout_ms: u64,
    pub(crate) socket: Option<Socket>,
    pub(crate) epoch: u32,
    /// The token of the socket being opened, until its `open` event.
    pub(crate) pending_token: Option<String>,
    pub(crate) alarm: Alarm,
    /// Sockets to drop once the state is released (dropping one calls into its JS object).
    pub(crate) dead: Vec<Socket>,
    /// Calls of application code to make once the state is released.
    pub calls: Vec<Call>,
    /// Pending sends and twin calls by op, oldest first. A Vec, not a HashMap: ops settle
    /// nearly in order, and hashbrown + SipHash cost ~4 KB of wasm (bench/size.md).
    pub waiters: Vec<(u64, Waiter)>,
    pub connect_waiter: Option<Waiter>,
    pub close_waiters: Vec<Function>,
    pub handlers: Handlers,
    pub(crate) store: Option<Store>,
}

/// The hub client's shared state and inbox.
pub(crate) type Hub = Mailbox<Inner>;

impl Inner {
    pub fn new(o: HubOptions) -> Inner {
        Inner {
            engine: HubEngine::new(o.engine),
            credential: o.credential,
            url: o.url,
            rest_url: o.rest_url,
            factory: o.factory,
            token_ttl_secs: o.token_ttl_secs,
            open_timeout_ms: o.open_timeout_ms,
            socket: None,
            epoch: 0,
            pending_token: None,
            alarm: Alarm::default(),
            dead: Vec::new(),
            calls: Vec::new(),
            waiters: Vec::new(),
            connect_waiter: None,
            close_waiters: Vec::new(),
            handlers: Handlers::default(),
            store: o.store.map(|(js, count, bytes)| Store::new(js, count, bytes)),
        }
    }

    /// Forgets the current socket (dropped after the turn) and starts a new epoch, so a late
    /// open or event of the old one is ignored.
    pub(crate) fn drop_socket(&mut self) {
        if let Some(s) = self.socket.take() {
            self.dead.push(s);
        }
        self.pending_token = None;
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// Drops a socket no longer wanted, after the turn.
    pub(crate) fn discard(&mut self, socket: Socket) {
        self.dead.push(socket);
    }

    pub(crate) fn take_waiter(&mut self, op: u64) -> Option<Waiter> {
        let i = self.waiters.iter().position(|(o, _)| *o == op)?;
        Some(self.waiters.remove(i).1)
    }

    pub(crate) fn emit(&mut self, name: &str, arg: JsValue) {
        listener_calls(&self.handlers, name, arg, &mut self.calls);
    }
}

/// Queues a call of every listener of event `name`.
fn listener_calls(handlers: &Handlers, name: &str, arg: JsValue, calls: &mut Vec<Call>) {
    for (n, f) in &handlers.listeners {
        if n == name {
            calls.push(Call::Invoke(f.clone(), arg.clone(), JsValue::UNDEFINED));
        }
    }
}

/// Dropped with the last handle (the JS object freed): nothing pending is left unsettled.
impl Drop for Inner {
    fn drop(&mut self) {
        let closed = || js_error("CLOSED", "client dropped");
        if let Some((_, reject)) = self.connect_waiter.take() {
            let _ = reject.call1(&JsValue::UNDEFINED, &closed());
        }
        let queued = self.store.as_mut().map(Store::take_waiters).unwrap_or_default();
        for (_, reject) in self.waiters.drain(..).map(|(_, w)| w).chain(queued) {
            let _ = reject.call1(&JsValue::UNDEFINED, &closed());
        }
        for f in self.close_waiters.drain(..) {
            let _ = f.call0(&JsValue::UNDEFINED);
        }
    }
}


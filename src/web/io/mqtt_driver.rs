//! `MqttDriver`: runs one `mqtt::client::ClientEngine` over a WebSocket, with the JS clock and
//! timers. The Rust API of DPS over MQTT (`provision::mqtt`) and of `MqttClient`; the IoT Hub
//! client has its own driver (`hub::driver`) over `hub::HubEngine`, and shares with this one
//! the socket (`socket`) and the turn loop (`mailbox`). Every decision (open deadline, epochs,
//! what a drop does to pending work) is the engine's; this opens sockets, moves bytes and
//! settles the futures it handed out.
//!
//! ```ignore
//! let driver = MqttDriver::new(SessionOptions { client_id, username, password, ..Default::default() },
//!                              SocketFactory::from_options(&js_options));
//! driver.set_event_handler(move |ev| match ev {
//!     DriverEvent::Message(p) => { /* handle, then */ if let Some(id) = p.pkid { weak_driver.ack(id) } }
//!     DriverEvent::Disconnected(err) => { /* reconnect: set_password + connect again, or close() */ }
//! });
//! let session_present = driver.connect("wss://hub/$iothub/websocket?iothub-no-client-cert=true").await?;
//! driver.subscribe(&[("devices/d/messages/devicebound/#", QoS::AtLeastOnce)]).await?;
//! driver.publish("devices/d/messages/events/", b"{}", QoS::AtLeastOnce, false).await?; // PUBACK
//! driver.close();
//! ```
//!
//! Futures: `connect` settles on CONNACK (or the failure; `connect_timeout_ms` bounds the
//! socket factory, the WebSocket handshake and CONNACK together), QoS 1 `publish` on its PUBACK
//! (kept across a disconnect and re-sent after the next `connect`), `subscribe`/`unsubscribe`
//! on their ack or the loss of the connection. `close()` rejects all that are pending with
//! `MqttError::Closed`; dropping the last handle does the same.
//!
//! Design: every command and socket event is an input to the `mailbox` turn loop, so a command
//! issued from inside the event handler (or by a socket that calls back synchronously) is
//! queued, never refused. Socket listeners and the timer hold a `Weak` and the connection
//! `epoch`, which the engine checks, so events from a replaced socket are ignored.

use std::future::Future;
use std::rc::{Rc, Weak};

use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;

use crate::mqtt::client::{Action, ClientEngine, ClientEvent, Outcome};
use crate::mqtt::{MqttError, Publish, QoS, SessionOptions, SubAckReturn};
use crate::web::io::js::{deferred, now_ms_u64 as now, spawn};
use crate::web::io::mailbox::{socket_listener, Alarm, Driven, Effects, Mailbox};
use crate::web::io::oneshot::{channel, Sender};
use crate::web::io::socket::{resolve_socket, JsSocket, Opening, Socket, SocketEvent, SocketFactory};

/// What the driver tells its owner.
#[derive(Debug)]
pub enum DriverEvent {
    /// A message; for QoS 1 call `ack(pkid)` when handled.
    Message(Publish),
    /// The connection is gone (not reported for a failed `connect`, whose future says why).
    Disconnected(MqttError),
}

type Reply<T> = Sender<Result<T, MqttError>>;

/// A future or JS Promise handed out, waiting for its operation's outcome.
enum Waiter {
    Connect(Reply<bool>),
    Done(Reply<()>),
    Subscribe(Reply<Vec<SubAckReturn>>),
    /// A JS Promise's settle functions: resolved with `undefined` (`Done`) or the granted QoS
    /// per filter (`Subscribed`, 128 = refused), rejected with the coded error.
    Js(Function, Function),
}

impl Waiter {
    fn settle(self, outcome: Outcome) {
        match (self, outcome) {
            (Waiter::Js(_, reject), Outcome::Failed(e)) => {
                let _ = reject.call1(&JsValue::UNDEFINED, &JsValue::from(e));
            }
            (Waiter::Js(resolve, _), outcome) => {
                let value = match outcome {
                    Outcome::Subscribed(granted) => {
                        granted.iter().map(|g| JsValue::from_f64(f64::from(g.unwrap_or(0x80)))).collect::<js_sys::Array>().into()
                    }
                    _ => JsValue::UNDEFINED,
                };
                let _ = resolve.call1(&JsValue::UNDEFINED, &value);
            }
            (Waiter::Connect(w), Outcome::Connected(sp)) => w.send(Ok(sp)),
            (Waiter::Done(w), Outcome::Done) => w.send(Ok(())),
            (Waiter::Subscribe(w), Outcome::Subscribed(r)) => w.send(Ok(r)),
            (Waiter::Connect(w), Outcome::Failed(e)) => w.send(Err(e)),
            (Waiter::Done(w), Outcome::Failed(e)) => w.send(Err(e)),
            (Waiter::Subscribe(w), Outcome::Failed(e)) => w.send(Err(e)),
            // No other pairing is produced; a dropped sender still settles its future.
            _ => {}
        }
    }
}

struct Inner {
    engine: ClientEngine,
    factory: SocketFactory,
    url: String,
    /// The socket of the current connection, with its epoch.
    socket: Option<(u32, Socket)>,
    alarm: Alarm,
    waiters: Vec<(u64, Waiter)>,
    /// Outcomes to hand their waiters once the state is released (a settle may run JS).
    settled: Vec<(Waiter, Outcome)>,
    on_event: Option<Rc<dyn Fn(DriverEvent)>>,
    events: Vec<DriverEvent>,
    /// Sockets to drop once the state is released (dropping one calls into its JS object).
    dead: Vec<Socket>,
}

/// Dropped with the last handle (the JS object freed): every future and Promise still waiting
/// settles with `Closed` (a dropped sender would settle a future, but nothing settles a JS
/// Promise whose functions are dropped).
impl Drop for Inner {
    fn drop(&mut self) {
        for (w, outcome) in self.settled.drain(..) {
            w.settle(outcome);
        }
        for (_, w) in self.waiters.drain(..) {
            w.settle(Outcome::Failed(MqttError::Closed));
        }
    }
}

type Shared = Mailbox<Inner>;

/// A handle on one MQTT session and its current WebSocket. Cheap to clone.
#[derive(Clone)]
pub struct MqttDriver {
    inner: Rc<Shared>,
}

impl MqttDriver {
    pub fn new(options: SessionOptions, factory: SocketFactory) -> MqttDriver {
        MqttDriver {
            inner: Mailbox::new(Inner {
                engine: ClientEngine::new(options),
                factory,
                url: String::new(),
                socket: None,
                alarm: Alarm::default(),
                waiters: Vec::new(),
                settled: Vec::new(),
                on_event: None,
                events: Vec::new(),
                dead: Vec::new(),
            }),
        }
    }

    /// Sets the handler for messages and disconnects. Hold only a `Weak`/`downgrade()`d
    /// driver inside it, or the driver never drops.
    pub fn set_event_handler(&self, f: impl Fn(DriverEvent) + 'static) {
        let f: Rc<dyn Fn(DriverEvent)> = Rc::new(f);
        self.inner.post(move |i, _| i.on_event = Some(f));
    }

    /// A handle that does not keep the driver alive (for use inside the event handler).
    pub fn downgrade(&self) -> WeakMqttDriver {
        WeakMqttDriver(Rc::downgrade(&self.inner))
    }

    /// The password (SAS token) for the next CONNECT.
    pub fn set_password(&self, password: Option<String>) {
        self.inner.post(move |i, _| i.engine.set_password(password));
    }

    pub fn is_connected(&self) -> bool {
        self.inner.peek().is_some_and(|i| i.engine.is_connected())
    }

    /// Opens a WebSocket to `url`, sends CONNECT and resolves with CONNACK's session-present
    /// flag. Fails with `ConnectionRefused(rc)`, `ConnectTimeout`, `SocketError`,
    /// `ConnectionLost` or `Closed`; calling it while a connection exists fails with
    /// `InvalidArgument`.
    ///
    /// Like every command here it acts at once (not when the future is first polled), so a
    /// `close()` right after it, or dropping the future, still settles everything.
    pub fn connect(&self, url: &str) -> impl Future<Output = Result<bool, MqttError>> + 'static {
        let (tx, rx) = channel();
        let url = url.to_string();
        self.inner.post(move |i, _| {
            if i.engine.is_idle() {
                i.url = url;
            }
            let op = i.engine.connect(now());
            i.waiters.push((op, Waiter::Connect(tx)));
        });
        async move { rx.await.unwrap_or(Err(MqttError::Closed)) }
    }

    /// Publishes; resolves when sent (QoS 0) or acknowledged (QoS 1). QoS 1 publishes made
    /// while disconnected are queued and sent after the next `connect`.
    pub fn publish(
        &self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> impl Future<Output = Result<(), MqttError>> + 'static {
        let (tx, rx) = channel();
        let (topic, payload) = (topic.to_string(), payload.to_vec());
        self.inner.post(move |i, _| {
            let op = i.engine.publish(now(), &topic, &payload, qos, retain);
            i.waiters.push((op, Waiter::Done(tx)));
        });
        async move { rx.await.unwrap_or(Err(MqttError::Closed)) }
    }

    /// Subscribes; resolves with one granted QoS per filter (`None` = refused, 0x80).
    pub fn subscribe(&self, filters: &[(&str, QoS)]) -> impl Future<Output = Result<Vec<SubAckReturn>, MqttError>> + 'static {
        let (tx, rx) = channel();
        let filters: Vec<(String, QoS)> = filters.iter().map(|(f, q)| (f.to_string(), *q)).collect();
        self.inner.post(move |i, _| {
            let list: Vec<(&str, QoS)> = filters.iter().map(|(f, q)| (f.as_str(), *q)).collect();
            let op = i.engine.subscribe(now(), &list);
            i.waiters.push((op, Waiter::Subscribe(tx)));
        });
        async move { rx.await.unwrap_or(Err(MqttError::Closed)) }
    }

    pub fn unsubscribe(&self, filters: &[&str]) -> impl Future<Output = Result<(), MqttError>> + 'static {
        let (tx, rx) = channel();
        let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        self.inner.post(move |i, _| {
            let list: Vec<&str> = filters.iter().map(String::as_str).collect();
            let op = i.engine.unsubscribe(now(), &list);
            i.waiters.push((op, Waiter::Done(tx)));
        });
        async move { rx.await.unwrap_or(Err(MqttError::Closed)) }
    }

    /// Starts an operation whose outcome settles a JS Promise, returned here: what `MqttClient`
    /// hands out, with no Rust future in between (bench/size.md, fourth pass).
    pub fn start_js(&self, start: impl FnOnce(&mut ClientEngine, u64) -> u64 + 'static) -> Promise {
        let (p, resolve, reject) = deferred();
        self.inner.post(move |i, _| {
            let op = start(&mut i.engine, now());
            i.waiters.push((op, Waiter::Js(resolve, reject)));
        });
        p
    }

    /// Acknowledges a received QoS 1 message (PUBACK).
    pub fn ack(&self, pkid: u16) {
        self.inner.post(move |i, _| i.engine.ack(now(), pkid));
    }

    /// Sends DISCONNECT if connected, closes the socket, and rejects every pending future
    /// with `Closed`. Emits `Disconnected(Closed)` if a connection was up. The session (and
    /// its unacknowledged publishes, now rejected) stays usable for a new `connect`.
    pub fn close(&self) {
        self.inner.post(|i, _| i.engine.close(now()));
    }
}

/// A `Weak` driver handle for closures the driver itself owns.
#[derive(Clone)]
pub struct WeakMqttDriver(Weak<Shared>);

impl WeakMqttDriver {
    pub fn upgrade(&self) -> Option<MqttDriver> {
        self.0.upgrade().map(|inner| MqttDriver { inner })
    }
}

/// Starts the socket for connection `epoch`, with no state borrowed (the factory is user JS).
fn open(me: Weak<Shared>, epoch: u32, factory: SocketFactory, url: String, deadline: u64) {
    match factory.start(&url) {
        Ok(Opening::Ready(raw)) => attach(me, epoch, Ok(raw)),
        Ok(Opening::Pending(promise)) => spawn(async move {
            let raw = resolve_socket(promise, deadline.saturating_sub(now()) as f64).await;
            attach(me, epoch, raw);
        }),
        Err(e) => attach(me, epoch, Err(e)),
    }
}

/// Attaches our listeners (user JS, so still unborrowed) and hands the socket to the state.
fn attach(me: Weak<Shared>, epoch: u32, raw: Result<JsSocket, MqttError>) {
    let Some(rc) = me.upgrade() else {
        if let Ok(raw) = raw {
            Socket::discard(raw);
        }
        return;
    };
    let socket = raw.map(|raw| {
        let s = Socket::attach(raw, socket_listener(me, epoch));
        let open = s.is_open();
        (s, open)
    });
    rc.post(move |i, _| match socket {
        Ok((s, open)) => {
            // Stored first: an already-open socket gets CONNECT in this same turn.
            let previous = i.socket.replace((epoch, s));
            if !i.engine.handle_attached(now(), epoch, open) {
                if let Some((_, s)) = i.socket.take() {
                    i.dead.push(s);
                }
                i.socket = previous;
            } else if let Some((_, s)) = previous {
                i.dead.push(s);
            }
        }
        Err(e) => i.engine.handle_open_failed(now(), epoch, e),
    });
}

impl Driven for Inner {
    /// Carries out the engine's actions and settles waiters from its events, then hands the
    /// owner its events (called with no borrow held) and re-arms the timer.
    fn pump(&mut self, fx: &mut Effects, me: &Weak<Shared>) {
        while let Some(a) = self.engine.poll_action() {
            match a {
                Action::Open { epoch } => {
                    let deadline = self.engine.open_deadline().unwrap_or_else(now);
                    let (me, factory, url) = (me.clone(), self.factory.clone(), self.url.clone());
                    fx.later(move || open(me, epoch, factory, url, deadline));
                }
                Action::Transmit(bytes) => {
                    if let Some((epoch, s)) = &self.socket {
                        fx.send(*epoch, s, bytes);
                    }
                }
                Action::Close => {
                    if let Some((_, s)) = self.socket.take() {
                        self.dead.push(s);
                    }
                }
            }
        }
        while let Some(ev) = self.engine.poll_event() {
            match ev {
                ClientEvent::Finished { op, outcome } => {
                    if let Some(i) = self.waiters.iter().position(|(o, _)| *o == op) {
                        self.settled.push((self.waiters.swap_remove(i).1, outcome));
                    }
                }
                ClientEvent::Message(p) => self.events.push(DriverEvent::Message(p)),
                ClientEvent::Disconnected(e) => self.events.push(DriverEvent::Disconnected(e)),
            }
        }
        for s in self.dead.drain(..) {
            fx.drop_socket(s);
        }
        let settled = std::mem::take(&mut self.settled);
        if !settled.is_empty() {
            fx.later(move || settled.into_iter().for_each(|(w, o)| w.settle(o)));
        }
        let events = std::mem::take(&mut self.events);
        if let (Some(h), false) = (self.on_event.clone(), events.is_empty()) {
            fx.later(move || events.into_iter().for_each(|ev| h(ev)));
        }
        self.alarm.set(self.engine.poll_timeout(), me);
    }

    fn socket_event(&mut self, epoch: u32, ev: SocketEvent, _: &mut Effects) {
        let t = now();
        match ev {
            SocketEvent::Open => self.engine.handle_opened(t, epoch),
            SocketEvent::Message(bytes) => self.engine.handle_bytes(t, epoch, &bytes),
            SocketEvent::NonBinaryMessage => {
                self.engine.handle_failed(t, epoch, MqttError::Protocol("non-binary websocket message"))
            }
            // A close event always follows; it carries the code.
            SocketEvent::Error => {}
            SocketEvent::Close { code, reason } => self.engine.handle_closed(t, epoch, code, reason),
        }
    }

    fn send_failed(&mut self, epoch: u32, err: MqttError, _: &mut Effects) {
        self.engine.handle_failed(now(), epoch, err);
    }

    fn timer_fired(&mut self, _: &mut Effects) {
        self.engine.handle_timeout(now());
    }

    fn alarm(&mut self) -> &mut Alarm {
        &mut self.alarm
    }
}

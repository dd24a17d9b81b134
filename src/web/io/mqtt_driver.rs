//! `MqttDriver`: runs one `mqtt::Session` over a WebSocket, with the JS clock and timers.
//! The Rust API of the DPS-over-MQTT client (`provision_mqtt`) and of `MqttClient`; the IoT Hub
//! client has its own driver (`hub_driver`) over `hub::HubEngine`, and shares with this one
//! the socket (`mqtt_socket`) and the turn loop (`mailbox`).
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
//! `epoch`, so events from a replaced socket are ignored.

use std::future::Future;
use std::rc::{Rc, Weak};

use crate::web::io::js::{now_ms_u64 as now, spawn};
use crate::web::io::mailbox::{socket_listener, Alarm, Driven, Effects, Mailbox};
use crate::web::io::oneshot::{channel, Sender};
use crate::web::io::socket::{resolve_socket, JsSocket, Opening, Socket, SocketEvent, SocketFactory};
use crate::mqtt::{Event, MqttError, Publish, QoS, Session, SessionOptions, SubAckReturn};

/// What the driver tells its owner.
#[derive(Debug)]
pub enum DriverEvent {
    /// A message; for QoS 1 call `ack(pkid)` when handled.
    Message(Publish),
    /// The connection is gone (not reported for a failed `connect`, whose future says why).
    Disconnected(MqttError),
}

type Reply<T> = Sender<Result<T, MqttError>>;

struct Inner {
    session: Session,
    factory: SocketFactory,
    connect_timeout_ms: u64,
    socket: Option<Socket>,
    epoch: u32,
    opened: bool,
    /// Set when `connect` starts: covers the factory, the handshake (then CONNACK has the
    /// session's own timer).
    open_deadline: Option<u64>,
    alarm: Alarm,
    connect_waiter: Option<Reply<bool>>,
    pub_waiters: Vec<(u16, Reply<()>)>,
    sub_waiters: Vec<(u16, Reply<Vec<SubAckReturn>>)>,
    unsub_waiters: Vec<(u16, Reply<()>)>,
    on_event: Option<Rc<dyn Fn(DriverEvent)>>,
    events: Vec<DriverEvent>,
    /// Sockets to drop once the state is released (dropping one calls into its JS object).
    dead: Vec<Socket>,
}

type Shared = Mailbox<Inner>;

/// A handle on one MQTT session and its current WebSocket. Cheap to clone.
#[derive(Clone)]
pub struct MqttDriver {
    inner: Rc<Shared>,
}

fn take_waiter<T>(list: &mut Vec<(u16, T)>, pkid: u16) -> Option<T> {
    let pos = list.iter().position(|(id, _)| *id == pkid)?;
    Some(list.swap_remove(pos).1)
}

impl MqttDriver {
    pub fn new(options: SessionOptions, factory: SocketFactory) -> MqttDriver {
        let connect_timeout_ms = options.connect_timeout_ms;
        MqttDriver {
            inner: Mailbox::new(Inner {
                session: Session::new(options),
                factory,
                connect_timeout_ms,
                socket: None,
                epoch: 0,
                opened: false,
                open_deadline: None,
                alarm: Alarm::default(),
                connect_waiter: None,
                pub_waiters: Vec::new(),
                sub_waiters: Vec::new(),
                unsub_waiters: Vec::new(),
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
        self.inner.post(move |i, _| i.session.set_password(password));
    }

    pub fn is_connected(&self) -> bool {
        self.inner.peek().is_some_and(|i| i.session.is_connected())
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
        let me = Rc::downgrade(&self.inner);
        self.inner.post(move |i, fx| i.start_connect(url, tx, me, fx));
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
        self.inner.post(move |i, _| match i.session.publish(now(), &topic, &payload, qos, retain) {
            Ok(Some(pkid)) => i.pub_waiters.push((pkid, tx)),
            Ok(None) => tx.send(Ok(())),
            Err(e) => tx.send(Err(e)),
        });
        async move { rx.await.unwrap_or(Err(MqttError::Closed)) }
    }

    /// Subscribes; resolves with one granted QoS per filter (`None` = refused, 0x80).
    pub fn subscribe(&self, filters: &[(&str, QoS)]) -> impl Future<Output = Result<Vec<SubAckReturn>, MqttError>> + 'static {
        let (tx, rx) = channel();
        let filters: Vec<(String, QoS)> = filters.iter().map(|(f, q)| (f.to_string(), *q)).collect();
        self.inner.post(move |i, _| {
            let list: Vec<(&str, QoS)> = filters.iter().map(|(f, q)| (f.as_str(), *q)).collect();
            match i.session.subscribe(now(), &list) {
                Ok(pkid) => i.sub_waiters.push((pkid, tx)),
                Err(e) => tx.send(Err(e)),
            }
        });
        async move { rx.await.unwrap_or(Err(MqttError::Closed)) }
    }

    pub fn unsubscribe(&self, filters: &[&str]) -> impl Future<Output = Result<(), MqttError>> + 'static {
        let (tx, rx) = channel();
        let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        self.inner.post(move |i, _| {
            let list: Vec<&str> = filters.iter().map(String::as_str).collect();
            match i.session.unsubscribe(now(), &list) {
                Ok(pkid) => i.unsub_waiters.push((pkid, tx)),
                Err(e) => tx.send(Err(e)),
            }
        });
        async move { rx.await.unwrap_or(Err(MqttError::Closed)) }
    }

    /// Acknowledges a received QoS 1 message (PUBACK).
    pub fn ack(&self, pkid: u16) {
        self.inner.post(move |i, _| i.session.ack(now(), pkid));
    }

    /// Sends DISCONNECT if connected, closes the socket, and rejects every pending future
    /// with `Closed`. Emits `Disconnected(Closed)` if a connection was up. The session (and
    /// its unacknowledged publishes, now rejected) stays usable for a new `connect`.
    pub fn close(&self) {
        self.inner.post(Inner::close);
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
    rc.post(move |i, _| i.attached(epoch, socket));
}

impl Inner {
    fn start_connect(&mut self, url: String, reply: Reply<bool>, me: Weak<Shared>, fx: &mut Effects) {
        if self.socket.is_some() || self.connect_waiter.is_some() {
            reply.send(Err(MqttError::InvalidArgument("already connected or connecting")));
            return;
        }
        self.epoch = self.epoch.wrapping_add(1);
        self.connect_waiter = Some(reply);
        // The deadline starts now, not when a socket exists: a factory that never answers
        // must fail the connect too.
        let deadline = now().saturating_add(self.connect_timeout_ms);
        self.open_deadline = Some(deadline);
        let (epoch, factory) = (self.epoch, self.factory.clone());
        fx.later(move || open(me, epoch, factory, url, deadline));
    }

    /// The factory's socket (or failure) for connection `epoch`, if still wanted.
    fn attached(&mut self, epoch: u32, socket: Result<(Socket, bool), MqttError>) {
        match socket {
            // close() or the open deadline came first; the waiter is settled.
            Ok((s, _)) if self.epoch != epoch => self.dead.push(s),
            _ if self.epoch != epoch => {}
            Err(e) => {
                self.open_deadline = None;
                if let Some(w) = self.connect_waiter.take() {
                    w.send(Err(e));
                }
            }
            Ok((s, open)) => {
                self.socket = Some(s);
                self.opened = open;
                if open {
                    self.open_deadline = None;
                    self.session.handle_connected(now());
                }
            }
        }
    }

    fn close(&mut self, fx: &mut Effects) {
        let had_socket = self.socket.is_some();
        self.session.disconnect(now());
        if let (Some(bytes), Some(s)) = (self.session.poll_transmit(), &self.socket) {
            fx.send(self.epoch, s, bytes);
        }
        let before = self.events.len();
        self.fail(MqttError::Closed);
        if !had_socket {
            self.events.truncate(before);
        }
        for (_, w) in self.pub_waiters.drain(..) {
            w.send(Err(MqttError::Closed));
        }
    }

    /// Ends the current connection (or connect attempt) with `err`: drops the socket, tells
    /// the session, rejects the waiters that belong to this connection and queues
    /// `Disconnected` for the owner. A new epoch makes a late socket or event from it moot.
    fn fail(&mut self, err: MqttError) {
        if let Some(s) = self.socket.take() {
            self.dead.push(s);
        }
        self.epoch = self.epoch.wrapping_add(1);
        self.opened = false;
        self.open_deadline = None;
        self.session.handle_disconnected(now());
        self.reject_discarded(&err);
        for (_, w) in self.sub_waiters.drain(..) {
            w.send(Err(err.clone()));
        }
        for (_, w) in self.unsub_waiters.drain(..) {
            w.send(Err(err.clone()));
        }
        match self.connect_waiter.take() {
            Some(w) => w.send(Err(err)),
            None => self.events.push(DriverEvent::Disconnected(err)),
        }
    }

    /// Rejects the publishes the session dropped unacknowledged (`resend_on_reconnect` off):
    /// they will get no PUBACK, and their ids are free again, so a waiter left behind would
    /// hang, or be settled by a later publish's PUBACK on the reused id.
    fn reject_discarded(&mut self, err: &MqttError) {
        while let Some(id) = self.session.poll_discarded() {
            if let Some(w) = take_waiter(&mut self.pub_waiters, id) {
                w.send(Err(err.clone()));
            }
        }
    }
}

impl Driven for Inner {
    /// Sends output and settles waiters from session events until the session is quiet, then
    /// hands the owner its events (called with no borrow held) and re-arms the timer.
    fn pump(&mut self, fx: &mut Effects, me: &Weak<Shared>) {
        loop {
            if let Some(bytes) = self.session.poll_transmit() {
                if let Some(s) = &self.socket {
                    fx.send(self.epoch, s, bytes);
                }
                continue;
            }
            let Some(ev) = self.session.poll_event() else { break };
            match ev {
                Event::Connected { session_present } => {
                    if let Some(w) = self.connect_waiter.take() {
                        w.send(Ok(session_present));
                    }
                }
                Event::Publish(p) => self.events.push(DriverEvent::Message(p)),
                Event::PubAck(id) => {
                    if let Some(w) = take_waiter(&mut self.pub_waiters, id) {
                        w.send(Ok(()));
                    }
                }
                Event::SubAck { pkid, results } => {
                    if let Some(w) = take_waiter(&mut self.sub_waiters, pkid) {
                        w.send(Ok(results));
                    }
                }
                Event::UnsubAck(id) => {
                    if let Some(w) = take_waiter(&mut self.unsub_waiters, id) {
                        w.send(Ok(()));
                    }
                }
                Event::Dead(e) => self.fail(e),
            }
        }
        // `fail` drains the discarded ids with its own error; any others (the session
        // dropped them without reporting a death) go with the connection's loss.
        self.reject_discarded(&MqttError::ConnectionLost { code: None, reason: String::new() });
        for s in self.dead.drain(..) {
            fx.drop_socket(s);
        }
        let events = std::mem::take(&mut self.events);
        if let (Some(h), false) = (self.on_event.clone(), events.is_empty()) {
            fx.later(move || events.into_iter().for_each(|ev| h(ev)));
        }
        let deadline = match (self.session.poll_timeout(), self.open_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.alarm.set(deadline, me);
    }

    fn socket_event(&mut self, epoch: u32, ev: SocketEvent, _: &mut Effects) {
        if self.epoch != epoch || self.socket.is_none() {
            return;
        }
        match ev {
            SocketEvent::Open => {
                self.opened = true;
                self.open_deadline = None;
                self.session.handle_connected(now());
            }
            SocketEvent::Message(bytes) => self.session.handle_bytes(now(), &bytes),
            SocketEvent::NonBinaryMessage => self.fail(MqttError::Protocol("non-binary websocket message")),
            // A close event always follows; it carries the code.
            SocketEvent::Error => {}
            SocketEvent::Close { code, reason } => {
                let err = if self.opened {
                    MqttError::ConnectionLost { code, reason }
                } else {
                    crate::web::io::socket::closed_before_open(code)
                };
                self.fail(err);
            }
        }
    }

    fn send_failed(&mut self, epoch: u32, err: MqttError, _: &mut Effects) {
        if self.epoch == epoch && self.socket.is_some() {
            self.fail(err);
        }
    }

    fn timer_fired(&mut self, _: &mut Effects) {
        let t = now();
        match self.open_deadline {
            Some(d) if t >= d => self.fail(MqttError::ConnectTimeout),
            _ => self.session.handle_timeout(t),
        }
    }

    fn alarm(&mut self) -> &mut Alarm {
        &mut self.alarm
    }
}

//! `MqttDriver`: runs one `mqtt::Session` over a WebSocket, with the JS clock and timers.
//! This is the Rust API the DPS-over-MQTT and IoT Hub clients build on.
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
//! Futures: `connect` settles on CONNACK (or the failure), QoS 1 `publish` on its PUBACK
//! (kept across a disconnect and re-sent after the next `connect`), `subscribe`/`unsubscribe`
//! on their ack or the loss of the connection. `close()` rejects all that are pending with
//! `MqttError::Closed`; dropping the last handle does the same.
//!
//! Design: all state is in `Inner` behind `Rc<RefCell<_>>`; socket listeners and the timer
//! hold only a `Weak` (no cycle, no leak) and an `epoch`, so events from a replaced socket are
//! ignored. Every input runs one `turn`: send the session's output in one `send`, settle
//! waiters, re-arm the single timer, then (with no borrow held) call the event handler,
//! which may call back into the driver.

use std::cell::RefCell;
use std::future::Future;
use std::rc::{Rc, Weak};

use wasm_bindgen_futures::spawn_local;

use super::js::now_ms;
use super::mqtt_oneshot::{channel, Sender};
use super::mqtt_socket::{resolve_socket, JsSocket, Opening, Socket, SocketEvent, SocketFactory};
use super::timer::Timeout;
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
    open_deadline: Option<u64>,
    timer: Option<(u64, Timeout)>,
    connect_waiter: Option<Reply<bool>>,
    pub_waiters: Vec<(u16, Reply<()>)>,
    sub_waiters: Vec<(u16, Reply<Vec<SubAckReturn>>)>,
    unsub_waiters: Vec<(u16, Reply<()>)>,
    on_event: Option<Rc<dyn Fn(DriverEvent)>>,
}

/// A handle on one MQTT session and its current WebSocket. Cheap to clone.
#[derive(Clone)]
pub struct MqttDriver {
    inner: Rc<RefCell<Inner>>,
}

fn now() -> u64 {
    now_ms().max(0.0) as u64
}

fn take_waiter<T>(list: &mut Vec<(u16, T)>, pkid: u16) -> Option<T> {
    let pos = list.iter().position(|(id, _)| *id == pkid)?;
    Some(list.swap_remove(pos).1)
}

/// What a command gets if a socket object calls back into the driver synchronously from
/// inside `send`/`addEventListener` (no real WebSocket does); a typed error, not a panic.
const REENTRANT: MqttError = MqttError::InvalidArgument("driver called re-entrantly from a socket method");

impl MqttDriver {
    fn lock(&self) -> Result<std::cell::RefMut<'_, Inner>, MqttError> {
        self.inner.try_borrow_mut().map_err(|_| REENTRANT)
    }

    pub fn new(options: SessionOptions, factory: SocketFactory) -> MqttDriver {
        let connect_timeout_ms = options.connect_timeout_ms;
        MqttDriver {
            inner: Rc::new(RefCell::new(Inner {
                session: Session::new(options),
                factory,
                connect_timeout_ms,
                socket: None,
                epoch: 0,
                opened: false,
                open_deadline: None,
                timer: None,
                connect_waiter: None,
                pub_waiters: Vec::new(),
                sub_waiters: Vec::new(),
                unsub_waiters: Vec::new(),
                on_event: None,
            })),
        }
    }

    /// Sets the handler for messages and disconnects. Hold only a `Weak`/`downgrade()`d
    /// driver inside it, or the driver never drops.
    pub fn set_event_handler(&self, f: impl Fn(DriverEvent) + 'static) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.on_event = Some(Rc::new(f));
        }
    }

    /// A handle that does not keep the driver alive (for use inside the event handler).
    pub fn downgrade(&self) -> WeakMqttDriver {
        WeakMqttDriver(Rc::downgrade(&self.inner))
    }

    /// The password (SAS token) for the next CONNECT.
    pub fn set_password(&self, password: Option<String>) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.session.set_password(password);
        }
    }

    pub fn is_connected(&self) -> bool {
        self.inner.try_borrow().is_ok_and(|inner| inner.session.is_connected())
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
        self.start_connect(url, tx);
        async move { rx.await.unwrap_or(Err(MqttError::Closed)) }
    }

    fn start_connect(&self, url: &str, reply: Reply<bool>) {
        let (epoch, factory) = {
            let Ok(mut inner) = self.lock() else {
                reply.send(Err(REENTRANT));
                return;
            };
            if inner.socket.is_some() || inner.connect_waiter.is_some() {
                reply.send(Err(MqttError::InvalidArgument("already connected or connecting")));
                return;
            }
            inner.epoch = inner.epoch.wrapping_add(1);
            inner.connect_waiter = Some(reply);
            (inner.epoch, inner.factory.clone())
        };
        match factory.start(url) {
            Ok(Opening::Ready(raw)) => self.attach(epoch, Ok(raw)),
            Ok(Opening::Pending(promise)) => {
                let driver = self.clone();
                spawn_local(async move {
                    let raw = resolve_socket(promise).await;
                    driver.attach(epoch, raw);
                });
            }
            Err(e) => self.attach(epoch, Err(e)),
        }
    }

    /// Takes the socket the factory produced for connection `epoch`, if still wanted.
    fn attach(&self, epoch: u32, raw: Result<JsSocket, MqttError>) {
        {
            let Ok(mut inner) = self.lock() else {
                if let Ok(raw) = raw {
                    Socket::discard(raw);
                }
                return;
            };
            if inner.epoch != epoch {
                // close() ran while the factory's promise was pending; the waiter is settled.
                if let Ok(raw) = raw {
                    Socket::discard(raw);
                }
                return;
            }
            match raw {
                Err(e) => {
                    if let Some(w) = inner.connect_waiter.take() {
                        w.send(Err(e));
                    }
                    return;
                }
                Ok(raw) => {
                    let weak = Rc::downgrade(&self.inner);
                    let socket = Socket::attach(raw, Rc::new(move |ev| on_socket_event(&weak, epoch, ev)));
                    let already_open = socket.is_open();
                    inner.socket = Some(socket);
                    inner.opened = already_open;
                    if already_open {
                        inner.session.handle_connected(now());
                    } else {
                        inner.open_deadline = Some(now().saturating_add(inner.connect_timeout_ms));
                    }
                }
            }
        }
        turn(&self.inner, Vec::new());
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
        // Two statements: the session borrow must end before the waiter's borrow begins.
        let result = self.lock().and_then(|mut i| i.session.publish(now(), topic, payload, qos, retain));
        let started = result.map(|pkid| {
            pkid.map(|pkid| {
                let (tx, rx) = channel();
                if let Ok(mut inner) = self.lock() {
                    inner.pub_waiters.push((pkid, tx));
                }
                rx
            })
        });
        turn(&self.inner, Vec::new());
        async move {
            match started? {
                None => Ok(()),
                Some(rx) => rx.await.unwrap_or(Err(MqttError::Closed)),
            }
        }
    }

    /// Subscribes; resolves with one granted QoS per filter (`None` = refused, 0x80).
    pub fn subscribe(&self, filters: &[(&str, QoS)]) -> impl Future<Output = Result<Vec<SubAckReturn>, MqttError>> + 'static {
        let result = self.lock().and_then(|mut i| i.session.subscribe(now(), filters));
        let started = result.map(|pkid| {
            let (tx, rx) = channel();
            if let Ok(mut inner) = self.lock() {
                inner.sub_waiters.push((pkid, tx));
            }
            rx
        });
        turn(&self.inner, Vec::new());
        async move { started?.await.unwrap_or(Err(MqttError::Closed)) }
    }

    pub fn unsubscribe(&self, filters: &[&str]) -> impl Future<Output = Result<(), MqttError>> + 'static {
        let result = self.lock().and_then(|mut i| i.session.unsubscribe(now(), filters));
        let started = result.map(|pkid| {
            let (tx, rx) = channel();
            if let Ok(mut inner) = self.lock() {
                inner.unsub_waiters.push((pkid, tx));
            }
            rx
        });
        turn(&self.inner, Vec::new());
        async move { started?.await.unwrap_or(Err(MqttError::Closed)) }
    }

    /// Acknowledges a received QoS 1 message (PUBACK).
    pub fn ack(&self, pkid: u16) {
        if let Ok(mut inner) = self.lock() {
            inner.session.ack(now(), pkid);
        }
        turn(&self.inner, Vec::new());
    }

    /// Sends DISCONNECT if connected, closes the socket, and rejects every pending future
    /// with `Closed`. Emits `Disconnected(Closed)` if a connection was up. The session (and
    /// its unacknowledged publishes, now rejected) stays usable for a new `connect`.
    pub fn close(&self) {
        let mut events = Vec::new();
        {
            let Ok(mut inner) = self.inner.try_borrow_mut() else { return };
            let had_socket = inner.socket.is_some();
            inner.session.disconnect(now());
            if let (Some(bytes), Some(socket)) = (inner.session.poll_transmit(), inner.socket.as_ref()) {
                let _ = socket.send(&bytes);
            }
            inner.fail(MqttError::Closed, &mut events);
            if !had_socket {
                events.clear();
            }
            inner.epoch = inner.epoch.wrapping_add(1);
            for (_, w) in inner.pub_waiters.drain(..) {
                w.send(Err(MqttError::Closed));
            }
        }
        turn(&self.inner, events);
    }
}

/// A `Weak` driver handle for closures the driver itself owns.
#[derive(Clone)]
pub struct WeakMqttDriver(Weak<RefCell<Inner>>);

impl WeakMqttDriver {
    pub fn upgrade(&self) -> Option<MqttDriver> {
        self.0.upgrade().map(|inner| MqttDriver { inner })
    }
}

impl Inner {
    /// Ends the current connection with `err`: closes the socket, tells the session, rejects
    /// the waiters that belong to this connection and queues `Disconnected` for the owner.
    fn fail(&mut self, err: MqttError, events: &mut Vec<DriverEvent>) {
        self.socket = None;
        self.opened = false;
        self.open_deadline = None;
        self.session.handle_disconnected(now());
        for (_, w) in self.sub_waiters.drain(..) {
            w.send(Err(err.clone()));
        }
        for (_, w) in self.unsub_waiters.drain(..) {
            w.send(Err(err.clone()));
        }
        match self.connect_waiter.take() {
            Some(w) => w.send(Err(err)),
            None => events.push(DriverEvent::Disconnected(err)),
        }
    }

    /// Sends output, settles waiters from session events, until the session is quiet.
    fn pump(&mut self, events: &mut Vec<DriverEvent>) {
        loop {
            if let Some(bytes) = self.session.poll_transmit() {
                let sent = match &self.socket {
                    Some(s) => s.send(&bytes),
                    None => Ok(()),
                };
                if let Err(e) = sent {
                    self.fail(e, events);
                }
                continue;
            }
            let Some(ev) = self.session.poll_event() else { return };
            match ev {
                Event::Connected { session_present } => {
                    if let Some(w) = self.connect_waiter.take() {
                        w.send(Ok(session_present));
                    }
                }
                Event::Publish(p) => events.push(DriverEvent::Message(p)),
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
                Event::Dead(e) => self.fail(e, events),
            }
        }
    }

    /// Keeps exactly one timer, for the earlier of the session's deadline and the open deadline.
    fn rearm(&mut self, weak: Weak<RefCell<Inner>>) {
        let deadline = match (self.session.poll_timeout(), self.open_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match deadline {
            None => self.timer = None,
            Some(d) if self.timer.as_ref().map(|(t, _)| *t) == Some(d) => {}
            Some(d) => {
                let delay = d.saturating_sub(now()) as f64;
                let timeout = Timeout::new(delay, move || on_timer(&weak));
                self.timer = Some((d, timeout));
            }
        }
    }
}

/// One turn: pump the session, re-arm the timer, then deliver events with no borrow held.
fn turn(rc: &Rc<RefCell<Inner>>, mut events: Vec<DriverEvent>) {
    let handler = {
        let Ok(mut inner) = rc.try_borrow_mut() else { return };
        inner.pump(&mut events);
        inner.rearm(Rc::downgrade(rc));
        inner.on_event.clone()
    };
    if let Some(h) = handler {
        for ev in events {
            h(ev);
        }
    }
}

fn on_timer(weak: &Weak<RefCell<Inner>>) {
    let Some(rc) = weak.upgrade() else { return };
    let mut events = Vec::new();
    {
        let Ok(mut inner) = rc.try_borrow_mut() else { return };
        inner.timer = None;
        let t = now();
        match inner.open_deadline {
            Some(d) if t >= d => inner.fail(MqttError::ConnectTimeout, &mut events),
            _ => inner.session.handle_timeout(t),
        }
    }
    turn(&rc, events);
}

fn on_socket_event(weak: &Weak<RefCell<Inner>>, epoch: u32, ev: SocketEvent) {
    let Some(rc) = weak.upgrade() else { return };
    let mut events = Vec::new();
    {
        let Ok(mut inner) = rc.try_borrow_mut() else { return };
        if inner.epoch != epoch || inner.socket.is_none() {
            return;
        }
        match ev {
            SocketEvent::Open => {
                inner.opened = true;
                inner.open_deadline = None;
                inner.session.handle_connected(now());
            }
            SocketEvent::Message(bytes) => inner.session.handle_bytes(now(), &bytes),
            SocketEvent::NonBinaryMessage => {
                inner.fail(MqttError::Protocol("non-binary websocket message"), &mut events)
            }
            // A close event always follows; it carries the code.
            SocketEvent::Error => {}
            SocketEvent::Close { code, reason } => {
                let err = if inner.opened {
                    MqttError::ConnectionLost { code, reason }
                } else {
                    let code = code.map(|c| format!(" (close code {c})")).unwrap_or_default();
                    MqttError::SocketError(format!("websocket closed before it opened{code}"))
                };
                inner.fail(err, &mut events);
            }
        }
    }
    turn(&rc, events);
}

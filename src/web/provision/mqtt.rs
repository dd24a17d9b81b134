//! DPS over MQTT over WebSocket (protocol §3) for `provision`: one connection on `MqttDriver`,
//! opened on the first request and again after a loss. Only I/O and bounded waits live here:
//! the session settings, `$rid` matching and what a refused CONNECT means are the core's
//! (`dps::mqtt_exchange`).

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::web::io::js::now_ms_u64 as now;
use crate::web::io::mqtt_driver::{DriverEvent, MqttDriver};
use crate::web::io::fetch::{FetchFailure, Reply};
use crate::web::provision::options::Options;
use crate::web::io::timer::{race, Raced, Signal};
use crate::dps::mqtt_exchange::MqttExchange;
use crate::dps::Operation;
use crate::mqtt::{MqttError, QoS};

#[derive(Default)]
struct Inbox {
    exchange: MqttExchange,
    reply: Option<Reply>,
    lost: Option<MqttError>,
    waker: Option<Waker>,
}

pub struct MqttChannel {
    driver: MqttDriver,
    url: String,
    inbox: Rc<RefCell<Inbox>>,
    signal: Option<Signal>,
}

impl MqttChannel {
    pub fn new(opts: &Options) -> MqttChannel {
        let session = MqttExchange::session_options(&opts.registration, &opts.api_version);
        let driver = MqttDriver::new(session, opts.sockets.clone());
        let inbox = Rc::new(RefCell::new(Inbox::default()));
        let weak_driver = driver.downgrade();
        let weak_inbox = Rc::downgrade(&inbox);
        driver.set_event_handler(move |ev| {
            let Some(inbox) = weak_inbox.upgrade() else { return };
            let waker = {
                let Ok(mut b) = inbox.try_borrow_mut() else { return };
                match ev {
                    DriverEvent::Message(p) => {
                        if let (Some(id), Some(d)) = (p.pkid, weak_driver.upgrade()) {
                            d.ack(id);
                        }
                        let Some(r) = b.exchange.accept(&p.topic, &p.payload) else { return };
                        b.reply = Some(r);
                    }
                    DriverEvent::Disconnected(e) => b.lost = Some(e),
                }
                b.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        });
        MqttChannel { driver, url: opts.endpoint.websocket_url(), inbox, signal: opts.signal.clone() }
    }

    pub fn close(&mut self) {
        self.driver.close();
    }

    /// Runs `fut` until it completes, `timeout_ms` passes or the caller aborts.
    async fn race<T>(&self, fut: impl Future<Output = T>, timeout_ms: f64) -> Raced<T> {
        race(fut, timeout_ms, self.signal.as_ref()).await
    }

    /// The inbox, unless the event handler holds it (it never does across an await): a busy
    /// `RefCell` must not panic on wasm.
    fn inbox(&self) -> Option<std::cell::RefMut<'_, Inbox>> {
        self.inbox.try_borrow_mut().ok()
    }

    /// Drops the connection after a timeout or an abort, so nothing half-done is reused.
    fn fail<T>(&mut self, r: Raced<T>) -> FetchFailure {
        self.driver.close();
        if let Some(mut b) = self.inbox() {
            b.exchange.forget();
        }
        match r {
            Raced::Aborted => FetchFailure::Aborted,
            _ => FetchFailure::Timeout,
        }
    }

    /// Sends one operation and waits for its response, within `timeout_ms`.
    pub async fn send(
        &mut self,
        opts: &Options,
        op: &Operation,
        token: &str,
        timeout_ms: f64,
    ) -> Result<Reply, FetchFailure> {
        let start = now();
        let left = move || (timeout_ms - now().saturating_sub(start) as f64).max(0.0);
        if !self.driver.is_connected() {
            if let Some(mut b) = self.inbox() {
                b.reply = None;
                b.lost = None;
            }
            self.driver.set_password(Some(token.to_string()));
            match self.race(self.driver.connect(&self.url), left()).await {
                Raced::Done(Ok(_)) => {}
                Raced::Done(Err(e)) => {
                    self.driver.close();
                    let verdict = self.inbox().map(|mut b| b.exchange.connect_failed(&e));
                    return verdict.unwrap_or_else(|| Err(e.to_string())).map_err(FetchFailure::Network);
                }
                r => return Err(self.fail(r)),
            }
            let granted = match self.race(self.driver.subscribe(&MqttExchange::subscription()), left()).await {
                Raced::Done(r) => r.map_err(|e| e.to_string()).and_then(|g| MqttExchange::subscribed(&g)),
                r => return Err(self.fail(r)),
            };
            if let Err(e) = granted {
                self.driver.close();
                return Err(FetchFailure::Network(e));
            }
        }

        let Some((topic, payload)) = self.inbox().map(|mut b| b.exchange.request(op, &opts.registration)) else {
            return Err(FetchFailure::Network("provisioning channel busy".into()));
        };
        // QoS 1, as the Node SDK publishes; the PUBACK is not awaited, the response is.
        let sent = self.driver.publish(&topic, &payload, QoS::AtLeastOnce, false);
        let inbox = self.inbox.clone();
        let reply = async {
            let mut sent = pin!(sent);
            let mut puback_done = false;
            poll_fn(|cx| {
                if !puback_done {
                    if let Poll::Ready(r) = sent.as_mut().poll(cx) {
                        puback_done = true;
                        if let Err(e) = r {
                            return Poll::Ready(Err(FetchFailure::Network(e.to_string())));
                        }
                    }
                }
                let Ok(mut b) = inbox.try_borrow_mut() else {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                };
                if let Some(r) = b.reply.take() {
                    return Poll::Ready(Ok(r));
                }
                if let Some(e) = b.lost.take() {
                    return Poll::Ready(Err(FetchFailure::Network(e.to_string())));
                }
                b.waker = Some(cx.waker().clone());
                Poll::Pending
            })
            .await
        };
        match self.race(reply, left()).await {
            Raced::Done(Ok(r)) => Ok(r),
            Raced::Done(Err(e)) => {
                self.driver.close();
                if let Some(mut b) = self.inbox() {
                    b.exchange.forget();
                }
                Err(e)
            }
            r => Err(self.fail(r)),
        }
    }
}

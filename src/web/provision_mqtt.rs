//! DPS over MQTT over WebSocket (protocol §3) for `provision`: one connection, opened on the
//! first request and again after a loss, on `MqttDriver`.
//!
//! ```text
//! CONNECT  clientId {registrationId}, username {idScope}/registrations/{regId}/api-version=…, password SAS
//! SUBSCRIBE $dps/registrations/res/#
//! PUBLISH  $dps/registrations/PUT/iotdps-register/?$rid={n}                       → res/{status}/?$rid={n}[&retry-after=s]
//! PUBLISH  $dps/registrations/GET/iotdps-get-operationstatus/?$rid={n}&operationId={id}
//! ```
//! A response is matched to its request by `$rid`; one that belongs to an earlier, timed-out
//! request is dropped. A refused CONNECT (return code 4 or 5, what Azure sends on bad
//! credentials) is reported as a 401, so both transports fail the same way: `DPS_UNAUTHORIZED`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::mqtt_driver::{DriverEvent, MqttDriver};
use super::provision::Reply;
use super::provision_io::FetchFailure;
use super::timer::{race, Raced, Signal};
use super::provision_options::Options;
use crate::dps::mqtt_topics::{
    operation_status_topic, parse_response_topic, register_topic, username, RESPONSE_SUBSCRIPTION,
};
use crate::dps::Operation;
use crate::mqtt::{MqttError, QoS, SessionOptions};

/// Sent as `ClientVersion` in the username, as the SDKs do.
const CLIENT_VERSION: &str = concat!("azure-iot-wasm/", env!("CARGO_PKG_VERSION"));

/// A response not yet taken: its `$rid` and what the core reads.
struct Received {
    rid: Option<String>,
    reply: Reply,
}

#[derive(Default)]
struct Inbox {
    replies: VecDeque<Received>,
    lost: Option<MqttError>,
    waker: Option<Waker>,
}

pub struct MqttChannel {
    driver: MqttDriver,
    url: String,
    inbox: Rc<RefCell<Inbox>>,
    next_rid: u64,
    signal: Option<Signal>,
}

impl MqttChannel {
    pub fn new(opts: &Options) -> MqttChannel {
        let reg = &opts.registration;
        let session = SessionOptions {
            client_id: reg.registration_id.clone(),
            username: Some(username(&reg.id_scope, &reg.registration_id, &opts.api_version, Some(CLIENT_VERSION))),
            // §3: DPS treats every session as clean. So a register or poll left unanswered
            // when a connection ends is not re-sent on the next one (MQTT 3.1.1 §3.1.2.4): it
            // carries an old `$rid` and counts against the 5-polls-per-10-s limit (§1.7);
            // `Provisioning` sends a fresh request with a new `$rid` instead.
            clean_session: true,
            resend_on_reconnect: false,
            ..SessionOptions::default()
        };
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
                        let Some(t) = parse_response_topic(&p.topic) else { return };
                        b.replies.push_back(Received {
                            rid: t.rid,
                            reply: Reply { status: t.status, retry_after: t.retry_after, body: p.payload },
                        });
                    }
                    DriverEvent::Disconnected(e) => b.lost = Some(e),
                }
                b.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        });
        MqttChannel { driver, url: opts.endpoint.websocket_url(), inbox, next_rid: 0, signal: opts.signal.clone() }
    }

    pub fn close(&mut self) {
        self.driver.close();
    }

    /// Runs `fut` until it completes, `timeout_ms` passes or the caller aborts.
    async fn race<T>(&self, fut: impl Future<Output = T>, timeout_ms: f64) -> Raced<T> {
        race(fut, timeout_ms, self.signal.as_ref()).await
    }

    /// Drops the connection after a timeout or an abort, so nothing half-done is reused.
    fn fail<T>(&mut self, r: Raced<T>) -> FetchFailure {
        self.driver.close();
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
        let start = js_sys::Date::now();
        let left = move || (timeout_ms - (js_sys::Date::now() - start)).max(0.0);
        if !self.driver.is_connected() {
            {
                let mut b = self.inbox.borrow_mut();
                b.replies.clear();
                b.lost = None;
            }
            self.driver.set_password(Some(token.to_string()));
            match self.race(self.driver.connect(&self.url), left()).await {
                Raced::Done(Ok(_)) => {}
                Raced::Done(Err(MqttError::ConnectionRefused(rc @ (4 | 5)))) => {
                    self.driver.close();
                    let body = format!(r#"{{"message":"CONNECT refused with return code {rc}"}}"#);
                    return Ok(Reply { status: 401, retry_after: None, body: body.into_bytes() });
                }
                Raced::Done(Err(e)) => {
                    self.driver.close();
                    return Err(FetchFailure::Network(e.to_string()));
                }
                r => return Err(self.fail(r)),
            }
            match self.race(self.driver.subscribe(&[(RESPONSE_SUBSCRIPTION, QoS::AtLeastOnce)]), left()).await {
                Raced::Done(Ok(granted)) if granted.first().is_some_and(Option::is_some) => {}
                Raced::Done(Ok(_)) => {
                    self.driver.close();
                    return Err(FetchFailure::Network(format!("subscription to {RESPONSE_SUBSCRIPTION} refused")));
                }
                Raced::Done(Err(e)) => {
                    self.driver.close();
                    return Err(FetchFailure::Network(e.to_string()));
                }
                r => return Err(self.fail(r)),
            }
        }

        self.next_rid += 1;
        let rid = self.next_rid.to_string();
        let (topic, payload) = match op {
            Operation::Register => (register_topic(&rid), opts.registration.body()),
            // §3: the poll payload "should be empty".
            Operation::OperationStatus { operation_id } => (operation_status_topic(&rid, operation_id), String::new()),
        };
        // QoS 1, as the Node SDK publishes; the PUBACK is not awaited, the response is.
        let sent = self.driver.publish(&topic, payload.as_bytes(), QoS::AtLeastOnce, false);
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
                while let Some(r) = b.replies.pop_front() {
                    if r.rid.as_deref() == Some(rid.as_str()) {
                        return Poll::Ready(Ok(r.reply));
                    }
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
                Err(e)
            }
            r => Err(self.fail(r)),
        }
    }
}

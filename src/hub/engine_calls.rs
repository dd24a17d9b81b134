//! The hub engine's application calls: telemetry (including records from a durable store),
//! twin requests, C2D acknowledgement, method answers and `close`; and the publish helpers they
//! share with the connection lifecycle in `engine.rs`.

use super::engine::{HubEngine, Phase, TwinToken};
use super::engine_types::HubEvent;
use super::{method_response_topic, telemetry_topic, HubError, Message, TwinRequestKind};
use crate::mqtt::{MqttError, QoS};

impl HubEngine {
    // ---- application calls --------------------------------------------------------------

    /// Queues telemetry; its `SendDone` comes on PUBACK. Fails at once on an oversize message,
    /// a full queue or a closed client.
    pub fn send(&mut self, now: u64, msg: &Message) -> Result<u64, HubError> {
        let topic = self.message_topic(msg)?;
        self.send_publish(now, topic, msg.body.clone())
    }

    /// The topic `msg` is published on, or why it cannot be sent (too large, a bad property).
    pub fn message_topic(&self, msg: &Message) -> Result<String, HubError> {
        telemetry_topic(&self.opts.identity, msg)
    }

    /// `send` of a publish kept in a durable store (store.rs): refused unless `topic` is this
    /// client's telemetry and the message fits.
    pub fn send_stored(&mut self, now: u64, topic: String, body: Vec<u8>) -> Result<u64, HubError> {
        if !super::store::is_own_telemetry(&self.opts.identity, &topic) {
            return Err(HubError::InvalidArgument("a stored message is not this client's telemetry"));
        }
        if body.len() > super::MAX_MESSAGE_SIZE {
            return Err(HubError::MessageTooLarge { size: body.len(), limit: super::MAX_MESSAGE_SIZE });
        }
        self.send_publish(now, topic, body)
    }

    pub(super) fn send_publish(&mut self, now: u64, topic: String, body: Vec<u8>) -> Result<u64, HubError> {
        if self.phase == Phase::Closed {
            return Err(HubError::Closed);
        }
        let op = self.op();
        let deadline = self.opts.send_timeout_ms.map_or(u64::MAX, |t| now.saturating_add(t));
        if self.phase == Phase::Ready {
            self.publish_telemetry(now, op, deadline, &topic, &body)?;
        } else {
            self.offline.push((op, deadline, topic, body)).map_err(|(_, e)| e)?;
        }
        self.flush(now);
        Ok(op)
    }

    pub fn get_twin(&mut self, now: u64) -> Result<u64, HubError> {
        self.twin_request(now, TwinRequestKind::Get, Vec::new())
    }

    /// `patch` is the JSON text of the reported-properties patch.
    pub fn update_reported(&mut self, now: u64, patch: Vec<u8>) -> Result<u64, HubError> {
        self.twin_request(now, TwinRequestKind::PatchReported, patch)
    }

    /// Acknowledges a C2D message (PUBACK = complete, §5.5).
    pub fn ack_message(&mut self, now: u64, pkid: u16) {
        self.client.ack(now, pkid);
        self.flush(now);
    }

    /// Answers a method call (QoS 0). Dropped when offline: the service has timed it out.
    pub fn respond_method(&mut self, now: u64, rid: &str, status: u16, payload: &[u8]) {
        if self.client.is_connected() {
            let _ = self.client.try_publish(
                now,
                &method_response_topic(status, rid),
                payload,
                QoS::AtMostOnce,
                false,
            );
        }
        self.flush(now);
    }

    /// Ends everything: DISCONNECT if connected, and every pending operation fails `CLOSED`.
    pub fn close(&mut self, now: u64) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        self.connect_op = None;
        self.sub_op = None;
        // DISCONNECT, the socket closed, and the session's publishes failed `Closed` (their
        // `SendDone`s come through `flush`); the rest below.
        self.client.close(now);
        self.flush(now);
        self.fail_all(HubError::Closed);
        self.events.push(HubEvent::Closed);
    }


    pub(super) fn op(&mut self) -> u64 {
        let op = self.next_op;
        self.next_op += 1;
        op
    }

    pub(super) fn publish_telemetry(&mut self, now: u64, op: u64, deadline: u64, topic: &str, body: &[u8]) -> Result<(), HubError> {
        match self.client.try_publish(now, topic, body, QoS::AtLeastOnce, false) {
            Ok(Some(client_op)) => {
                self.in_session.push((client_op, op, deadline));
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(MqttError::QueueFull) => Err(HubError::QueueFull {
                capacity: self.opts.max_queued,
            }),
            Err(MqttError::PacketTooLarge) => Err(HubError::MessageTooLarge {
                size: body.len(),
                limit: super::MAX_MESSAGE_SIZE,
            }),
            Err(_) => Err(HubError::InvalidArgument("the topic or payload cannot be published")),
        }
    }

    pub(super) fn twin_request(&mut self, now: u64, kind: TwinRequestKind, payload: Vec<u8>) -> Result<u64, HubError> {
        if self.phase == Phase::Closed {
            return Err(HubError::Closed);
        }
        let op = self.op();
        self.twin_send(now, kind, payload, TwinToken::User(op));
        Ok(op)
    }

    /// Starts a twin request answered to `token`; sent now if subscribed, else by `on_ready`.
    pub(super) fn twin_send(&mut self, now: u64, kind: TwinRequestKind, payload: Vec<u8>, token: TwinToken) {
        let p = self.twin.start(kind, payload, now, token);
        // Before the SUBACK the answer could be missed; `on_ready` sends every pending request.
        if matches!(self.phase, Phase::Ready | Phase::Renewing { .. }) {
            let _ = self.client.try_publish(now, &p.topic, &p.payload, QoS::AtMostOnce, false);
        }
        self.flush(now);
    }
}

//! DPS over MQTT as a request/response exchange, sans-I/O (protocol §3): the session settings,
//! `$rid` numbering, matching a response to its request, and what a refused CONNECT means.
//! A driver carries the bytes (an `mqtt::Session` over a WebSocket); this decides.
//!
//! ```text
//! CONNECT  clientId {registrationId}, username {idScope}/registrations/{regId}/api-version=…, password SAS
//! SUBSCRIBE $dps/registrations/res/#
//! PUBLISH  $dps/registrations/PUT/iotdps-register/?$rid={n}                       → res/{status}/?$rid={n}[&retry-after=s]
//! PUBLISH  $dps/registrations/GET/iotdps-get-operationstatus/?$rid={n}&operationId={id}
//! ```
//!
//! Design: one request is outstanding at a time (`Provisioning` sends the next only after the
//! previous one's outcome). Each request gets a fresh `$rid`; a response carrying any other
//! `$rid` (an earlier request that timed out, or none) is dropped, never taken as the answer.

use super::mqtt_topics::{operation_status_topic, parse_response_topic, register_topic, username, RESPONSE_SUBSCRIPTION};
use super::{Operation, Registration};
use crate::mqtt::{MqttError, QoS, SessionOptions, SubAckReturn};

/// Sent as `ClientVersion` in the username, as the SDKs do.
pub const CLIENT_VERSION: &str = concat!("azure-iot-wasm/", env!("CARGO_PKG_VERSION"));

/// A response, as `Provisioning::handle_response` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

/// The `$rid` bookkeeping of one DPS-over-MQTT client.
#[derive(Debug, Default)]
pub struct MqttExchange {
    next_rid: u64,
    waiting: Option<String>,
}

impl MqttExchange {
    pub fn new() -> MqttExchange {
        MqttExchange::default()
    }

    /// The session settings for DPS: clientId = registration id, the DPS username, a clean
    /// session, and no re-send of unanswered publishes. §3: DPS treats every session as clean,
    /// so a register or poll left unanswered when a connection ends must not come back on the
    /// next one (MQTT 3.1.1 §3.1.2.4): it carries an old `$rid` and counts against the
    /// 5-polls-per-10-s limit (§1.7); `Provisioning` sends a fresh request instead.
    pub fn session_options(registration: &Registration, api_version: &str) -> SessionOptions {
        SessionOptions {
            client_id: registration.registration_id.clone(),
            username: Some(username(
                &registration.id_scope,
                &registration.registration_id,
                api_version,
                Some(CLIENT_VERSION),
            )),
            clean_session: true,
            resend_on_reconnect: false,
            ..SessionOptions::default()
        }
    }

    /// The one subscription, made after every CONNACK (a clean session keeps none).
    pub fn subscription() -> [(&'static str, QoS); 1] {
        [(RESPONSE_SUBSCRIPTION, QoS::AtLeastOnce)]
    }

    /// The SUBACK's verdict: without the response subscription no answer can arrive.
    pub fn subscribed(granted: &[SubAckReturn]) -> Result<(), String> {
        match granted.first() {
            Some(Some(_)) => Ok(()),
            _ => Err(format!("subscription to {RESPONSE_SUBSCRIPTION} refused")),
        }
    }

    /// The topic and payload of `op` under a new `$rid`, which the answer must then carry.
    /// Publish it at QoS 1, as the Node SDK does; the response, not the PUBACK, ends it.
    pub fn request(&mut self, op: &Operation, registration: &Registration) -> (String, Vec<u8>) {
        self.next_rid += 1;
        let rid = self.next_rid.to_string();
        let out = match op {
            Operation::Register => (register_topic(&rid), registration.body().into_bytes()),
            // §3: the poll payload "should be empty".
            Operation::OperationStatus { operation_id } => (operation_status_topic(&rid, operation_id), Vec::new()),
        };
        self.waiting = Some(rid);
        out
    }

    /// A message the server published. `Some` when it answers the outstanding request (which
    /// is then no longer outstanding); `None` for any other topic or `$rid`.
    pub fn accept(&mut self, topic: &str, payload: &[u8]) -> Option<Reply> {
        let t = parse_response_topic(topic)?;
        if self.waiting.is_none() || t.rid != self.waiting {
            return None;
        }
        self.waiting = None;
        Some(Reply { status: t.status, retry_after: t.retry_after, body: payload.to_vec() })
    }

    /// The outstanding request will get no answer (timed out, aborted, connection lost): a late
    /// response to it is then dropped like any stale one.
    pub fn forget(&mut self) {
        self.waiting = None;
    }

    /// What a connection failure means for the outstanding request. A refused CONNECT with
    /// return code 4 or 5 is what Azure sends on bad credentials: it is answered as a 401, so
    /// both transports fail the same way (`DPS_UNAUTHORIZED`). Anything else is a transport
    /// failure (`Err`), which `Provisioning` retries.
    pub fn connect_failed(&mut self, err: &MqttError) -> Result<Reply, String> {
        self.waiting = None;
        match err {
            MqttError::ConnectionRefused(rc @ (4 | 5)) => Ok(Reply {
                status: 401,
                retry_after: None,
                body: format!(r#"{{"message":"CONNECT refused with return code {rc}"}}"#).into_bytes(),
            }),
            e => Err(e.to_string()),
        }
    }
}

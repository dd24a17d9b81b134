//! The MQTT 3.1.1 packets this client sends and receives, as plain data.
//!
//! Sent: CONNECT, PUBLISH, PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT.
//! Received: CONNACK, PUBLISH, PUBACK, SUBACK, UNSUBACK, PINGRESP. Anything else from a
//! server is a protocol error.

/// Quality of service. QoS 2 is left out on purpose: IoT Hub closes the connection on it
/// (protocol.md §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QoS {
    AtMostOnce = 0,
    AtLeastOnce = 1,
}

impl QoS {
    /// 0 or 1; anything else is `None`.
    pub fn from_u8(v: u8) -> Option<QoS> {
        match v {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            _ => None,
        }
    }
}

/// The CONNECT fields this client uses. No will message: no caller of this crate needs one.
#[derive(Debug, Clone, Copy)]
pub struct Connect<'a> {
    pub client_id: &'a str,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    /// Seconds; 0 turns keep-alive off.
    pub keep_alive_secs: u16,
    pub clean_session: bool,
}

/// A received application message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
    pub dup: bool,
    /// The packet id, present exactly when `qos` is 1. The receiver acknowledges it with
    /// `Session::ack` once it has handled the message.
    pub pkid: Option<u16>,
}

/// One return code of a SUBACK: the granted QoS (0, 1 or 2), or `None` for 0x80 (failure).
pub type SubAckReturn = Option<u8>;

/// A packet received from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    ConnAck { session_present: bool, code: u8 },
    Publish(Publish),
    PubAck(u16),
    SubAck { pkid: u16, results: Vec<SubAckReturn> },
    UnsubAck(u16),
    PingResp,
}

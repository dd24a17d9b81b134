//! Session settings and the events a session reports.

use crate::mqtt::{MqttError, Publish, SubAckReturn};

/// How a `Session` connects and paces itself. `Default` gives IoT Hub-friendly values.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub client_id: String,
    pub username: Option<String>,
    /// For Azure, the SAS token (protocol.md §5.1). Replace it with `Session::set_password`
    /// before reconnecting with a renewed token.
    pub password: Option<String>,
    /// Seconds, 0 = off. IoT Hub accepts at most 1177 (protocol.md §5.2).
    pub keep_alive_secs: u16,
    pub clean_session: bool,
    /// Whether QoS 1 publishes left unacknowledged when a connection ends are re-sent (DUP,
    /// MQTT 3.1.1 §4.4) on the next one. With `false` they are dropped as the connection ends
    /// and reported by `Session::poll_discarded`, so their owners can fail them: what
    /// §3.1.2.4 asks of a CleanSession=1 client, and what DPS needs (an old `$rid` must not
    /// come back, protocol §3). Default `true`: the hub client counts on the re-send.
    pub resend_on_reconnect: bool,
    /// Most QoS 1 publishes sent and not yet acknowledged; later ones wait in a queue.
    pub max_inflight: usize,
    /// Most QoS 1 publishes waiting behind the window; beyond it `publish` says `QueueFull`.
    pub max_queued: usize,
    /// Largest packet accepted from the server, bytes.
    pub max_packet_size: usize,
    /// How long to wait for CONNACK after the transport opened, ms.
    pub connect_timeout_ms: u64,
    /// How long to wait for PINGRESP, ms; 0 = the keep-alive period (at most 30 s).
    pub ping_timeout_ms: u64,
}

impl Default for SessionOptions {
    fn default() -> SessionOptions {
        SessionOptions {
            client_id: String::new(),
            username: None,
            password: None,
            keep_alive_secs: 60,
            clean_session: true,
            resend_on_reconnect: true,
            max_inflight: 32,
            max_queued: 1000,
            // Above IoT Hub's largest message (256 KB telemetry, protocol.md §6) with room for
            // topic and property bag.
            max_packet_size: 1 << 20,
            connect_timeout_ms: 30_000,
            ping_timeout_ms: 0,
        }
    }
}

/// What happened, in order. Drain with `Session::poll_event` after every `handle_*` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// CONNACK 0: the session is up. Unacknowledged QoS 1 publishes have been re-sent.
    Connected { session_present: bool },
    /// A message from the server. For QoS 1 call `Session::ack(pkid)` once it is handled.
    Publish(Publish),
    /// The server acknowledged the QoS 1 publish with this packet id.
    PubAck(u16),
    /// The server answered SUBSCRIBE `pkid`: one entry per filter, `None` = refused (0x80).
    SubAck { pkid: u16, results: Vec<SubAckReturn> },
    UnsubAck(u16),
    /// The connection is over and why: CONNACK refused, protocol error, keep-alive or connect
    /// timeout. Close the transport, then call `handle_disconnected`.
    Dead(MqttError),
}

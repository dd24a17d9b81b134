//! Drives one server-role `mqtt-protocol-core` connection over a `Wire`: feeds received bytes,
//! writes the packets it asks to send, tracks its keep-alive timer (1.5 × the client's
//! keep-alive, protocol.md §5.2, capped at 1767 s) and keeps why it failed, with a log code.

use super::wire::Wire;
use crate::state::State;
use mqtt_protocol_core::mqtt::{
    self,
    common::Cursor,
    connection::{Event, TimerKind},
    packet::{GenericPacket, GenericPacketTrait},
    result_code::MqttError,
};
use tokio::time::{Duration, Instant};

pub type Packet = GenericPacket<u16>;

/// "IoT Hub limits the maximum server-side timeout to 29.45 minutes (1767 seconds)".
const MAX_KEEPALIVE_MS: u64 = 1_767_000;

/// The most the codec reads of one packet. D2C max is 256 KB (§6); somewhat larger packets get
/// through so that the hub session enforces, and logs, the size rule (413001) itself.
pub const MAX_PACKET: u32 = 1024 * 1024;
/// Log code of a packet whose Remaining Length is over `MAX_PACKET`: the codec refuses it from
/// its fixed header, before it allocates or reads the body.
pub const PACKET_TOO_LARGE: u32 = 413002;
/// Log code of a malformed packet or a WebSocket protocol error (frame too large, text frame…).
pub const PROTOCOL_ERROR: u32 = 400004;

pub struct Driver<W: Wire> {
    pub wire: W,
    pub conn: mqtt::Connection<mqtt::role::Server>,
    pub keepalive_deadline: Option<Instant>,
    pub closed: bool,
    /// Why the connection failed, (log code, what), for `log_error` when it closes.
    pub last_error: Option<(u32, String)>,
}

impl<W: Wire> Driver<W> {
    pub fn new(wire: W) -> Self {
        let opts = mqtt::connection::ConnectionOptions::new().maximum_packet_size_recv(MAX_PACKET);
        let mut conn = mqtt::Connection::<mqtt::role::Server>::with_options(mqtt::Version::Undetermined, opts);
        conn.set_auto_ping_response(true);
        conn.set_auto_pub_response(false);
        Driver { wire, conn, keepalive_deadline: None, closed: false, last_error: None }
    }

    /// The next bytes from the wire (cancel-safe, as `Wire::recv`); on None, why the wire ended
    /// if it was an error rather than the peer's close.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        let r = self.wire.recv().await;
        if r.is_none() {
            if let Some(e) = self.wire.take_error() {
                self.last_error.get_or_insert((PROTOCOL_ERROR, e));
            }
        }
        r
    }

    /// Logs why the connection failed, once, if it did.
    pub fn log_error(&mut self, state: &State, who: &str, transport: &str) {
        if let Some((code, what)) = self.last_error.take() {
            state.log(code, who, &format!("{what} on {transport}; closing"));
        }
    }

    /// Feeds bytes; returns the complete packets received, in order.
    pub async fn feed(&mut self, bytes: &[u8]) -> Vec<Packet> {
        let mut out = Vec::new();
        let mut cur = Cursor::new(bytes);
        while (cur.position() as usize) < bytes.len() && !self.closed {
            let before = cur.position();
            let events = self.conn.recv(&mut cur);
            for p in self.handle(events).await {
                // "A UTF-8 encoded string MUST NOT include an encoding of the null character
                // U+0000 … [the receiver] MUST close the Network Connection" (MQTT 3.1.1
                // §1.5.3); the codec checks well-formedness but lets U+0000 through.
                if let Some(field) = nul_in(&p) {
                    self.last_error = Some((PROTOCOL_ERROR, format!("U+0000 in the {field} (MQTT 3.1.1 §1.5.3)")));
                    self.closed = true;
                    return out;
                }
                out.push(p);
            }
            if cur.position() == before {
                break;
            }
        }
        out
    }

    pub async fn send(&mut self, packet: Packet) {
        let events = self.conn.send(packet);
        let _ = self.handle(events).await;
    }

    async fn handle(&mut self, events: Vec<Event>) -> Vec<Packet> {
        let mut received = Vec::new();
        for ev in events {
            match ev {
                Event::RequestSendPacket { packet, .. } => {
                    self.closed |= self.wire.send(packet.to_continuous_buffer()).await.is_err();
                }
                Event::NotifyPacketReceived(p) => received.push(p),
                Event::RequestTimerReset { kind: TimerKind::PingreqRecv, duration_ms } => {
                    self.keepalive_deadline = Some(Instant::now() + Duration::from_millis(duration_ms.min(MAX_KEEPALIVE_MS)));
                }
                Event::RequestTimerCancel(TimerKind::PingreqRecv) => self.keepalive_deadline = None,
                // The codec asks to close before it reports a receive error; errors it reports
                // without closing (about a packet the emulator sends) do not end the connection.
                Event::NotifyError(MqttError::PacketTooLarge) if self.closed => {
                    self.last_error = Some((PACKET_TOO_LARGE, format!("MQTT packet over the {MAX_PACKET} bytes the emulator reads, refused from its header")));
                }
                Event::NotifyError(e) if self.closed => self.last_error = Some((PROTOCOL_ERROR, format!("malformed packet ({e:?})"))),
                Event::RequestClose => self.closed = true,
                _ => {}
            }
        }
        received
    }

    pub async fn close(&mut self) {
        self.closed = true;
        self.wire.close().await;
    }
}

/// The string field of a received packet that holds U+0000, if any.
fn nul_in(p: &Packet) -> Option<&'static str> {
    let nul = |s: &str| s.contains('\0');
    match p {
        Packet::V3_1_1Publish(p) if nul(p.topic_name()) => Some("topic name"),
        Packet::V3_1_1Subscribe(s) if s.entries().iter().any(|e| nul(e.topic_filter())) => Some("topic filter"),
        Packet::V3_1_1Unsubscribe(u) if u.entries().iter().any(|f| nul(f.as_str())) => Some("topic filter"),
        Packet::V3_1_1Connect(c) if nul(c.client_id()) || c.user_name().is_some_and(nul) || c.will_topic().is_some_and(nul) => Some("CONNECT"),
        _ => None,
    }
}

/// Sleeps until `d`, or forever when there is no deadline (for `select!`).
pub async fn sleep_until_opt(d: Option<Instant>) {
    match d {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

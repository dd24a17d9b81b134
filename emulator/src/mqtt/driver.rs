//! Drives one server-role `mqtt-protocol-core` connection over a `Wire`: feeds received bytes,
//! writes the packets it asks to send, and tracks its keep-alive timer (1.5 × the client's
//! keep-alive, protocol.md §5.2, capped at 1767 s).

use super::wire::Wire;
use mqtt_protocol_core::mqtt::{
    self,
    common::Cursor,
    connection::{Event, TimerKind},
    packet::{GenericPacket, GenericPacketTrait},
};
use tokio::time::{Duration, Instant};

pub type Packet = GenericPacket<u16>;

/// "IoT Hub limits the maximum server-side timeout to 29.45 minutes (1767 seconds)".
const MAX_KEEPALIVE_MS: u64 = 1_767_000;

pub struct Driver<W: Wire> {
    pub wire: W,
    pub conn: mqtt::Connection<mqtt::role::Server>,
    pub keepalive_deadline: Option<Instant>,
    pub closed: bool,
    pub last_error: Option<String>,
}

impl<W: Wire> Driver<W> {
    pub fn new(wire: W) -> Self {
        // D2C max is 256 KB (§6); let somewhat larger packets through so the size rule can
        // be enforced, and logged, by the hub session rather than by the codec.
        let opts = mqtt::connection::ConnectionOptions::new().maximum_packet_size_recv(1024 * 1024);
        let mut conn = mqtt::Connection::<mqtt::role::Server>::with_options(mqtt::Version::Undetermined, opts);
        conn.set_auto_ping_response(true);
        conn.set_auto_pub_response(false);
        Driver { wire, conn, keepalive_deadline: None, closed: false, last_error: None }
    }

    /// Feeds bytes; returns the complete packets received, in order.
    pub async fn feed(&mut self, bytes: &[u8]) -> Vec<Packet> {
        let mut out = Vec::new();
        let mut cur = Cursor::new(bytes);
        while (cur.position() as usize) < bytes.len() && !self.closed {
            let before = cur.position();
            let events = self.conn.recv(&mut cur);
            out.extend(self.handle(events).await);
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
                Event::NotifyError(e) => self.last_error = Some(format!("{e:?}")),
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

/// Sleeps until `d`, or forever when there is no deadline (for `select!`).
pub async fn sleep_until_opt(d: Option<Instant>) {
    match d {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

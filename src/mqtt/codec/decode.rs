//! The streaming decoder for what a server sends. Bytes arrive in whatever pieces the
//! transport delivers (MQTT 3.1.1 §6: packets may be split across or coalesced within
//! WebSocket frames); `Decoder` buffers them and yields whole packets.

use super::MAX_REMAINING_LENGTH;
use crate::mqtt::{Incoming, MqttError, Publish, QoS};

/// Reads the fixed header: `(first byte, remaining length, header length)`, `None` when more
/// bytes are needed.
fn fixed_header(buf: &[u8]) -> Result<Option<(u8, usize, usize)>, MqttError> {
    let Some(&first) = buf.first() else { return Ok(None) };
    let mut len = 0usize;
    let mut shift = 0u32;
    // At most four length bytes (§2.2.3); a fifth continuation bit is malformed.
    for i in 1..=4 {
        let Some(&byte) = buf.get(i) else { return Ok(None) };
        len |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(Some((first, len, i + 1)));
        }
        shift += 7;
    }
    Err(MqttError::Protocol("remaining length longer than 4 bytes"))
}

/// A cursor over one packet's body; every read is bounds-checked.
struct Body<'a>(&'a [u8]);

impl<'a> Body<'a> {
    fn u8(&mut self) -> Result<u8, MqttError> {
        let (&b, rest) = self.0.split_first().ok_or(MqttError::Protocol("packet too short"))?;
        self.0 = rest;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, MqttError> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], MqttError> {
        if n > self.0.len() {
            return Err(MqttError::Protocol("packet too short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn string(&mut self) -> Result<&'a str, MqttError> {
        let n = usize::from(self.u16()?);
        let s = core::str::from_utf8(self.take(n)?).map_err(|_| MqttError::Protocol("string is not utf-8"))?;
        if s.contains('\0') {
            return Err(MqttError::Protocol("string contains U+0000"));
        }
        Ok(s)
    }
    fn end(&self) -> Result<(), MqttError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(MqttError::Protocol("trailing bytes in packet"))
        }
    }
}

/// A packet id: never 0 (§2.3.1).
fn pkid(body: &mut Body<'_>) -> Result<u16, MqttError> {
    match body.u16()? {
        0 => Err(MqttError::Protocol("packet id 0")),
        id => Ok(id),
    }
}

fn parse(first: u8, body: &[u8]) -> Result<Incoming, MqttError> {
    let mut b = Body(body);
    let flags = first & 0x0f;
    // Every server-to-client packet but PUBLISH has reserved flags 0 (§2.2.2).
    if first >> 4 != 3 && flags != 0 {
        return Err(MqttError::Protocol("reserved header flags set"));
    }
    let packet = match first >> 4 {
        2 => {
            let ack_flags = b.u8()?;
            if ack_flags & 0xfe != 0 {
                return Err(MqttError::Protocol("reserved connack flags set"));
            }
            Incoming::ConnAck { session_present: ack_flags & 1 == 1, code: b.u8()? }
        }
        3 => {
            let qos = match (flags >> 1) & 3 {
                0 => QoS::AtMostOnce,
                1 => QoS::AtLeastOnce,
                2 => return Err(MqttError::UnsupportedQos),
                _ => return Err(MqttError::Protocol("publish qos 3")),
            };
            let dup = flags & 0x08 != 0;
            if dup && qos == QoS::AtMostOnce {
                return Err(MqttError::Protocol("dup set on a qos 0 publish"));
            }
            let topic = b.string()?;
            if topic.is_empty() || topic.contains(['+', '#']) {
                return Err(MqttError::Protocol("invalid publish topic"));
            }
            let pkid = if qos == QoS::AtLeastOnce { Some(pkid(&mut b)?) } else { None };
            let payload = b.0.to_vec();
            b.0 = &[];
            Incoming::Publish(Publish { topic: topic.to_owned(), payload, qos, retain: flags & 1 == 1, dup, pkid })
        }
        4 => Incoming::PubAck(pkid(&mut b)?),
        9 => {
            let id = pkid(&mut b)?;
            if b.0.is_empty() {
                return Err(MqttError::Protocol("suback without return codes"));
            }
            let mut results = Vec::with_capacity(b.0.len());
            while let Ok(rc) = b.u8() {
                results.push(match rc {
                    0..=2 => Some(rc),
                    0x80 => None,
                    _ => return Err(MqttError::Protocol("invalid suback return code")),
                });
            }
            Incoming::SubAck { pkid: id, results }
        }
        11 => Incoming::UnsubAck(pkid(&mut b)?),
        13 => Incoming::PingResp,
        _ => return Err(MqttError::Protocol("unexpected packet type from server")),
    };
    b.end()?;
    Ok(packet)
}

/// Decodes the packet at the front of `buf`: `Ok(Some((packet, bytes used)))`, or `Ok(None)`
/// when `buf` does not yet hold a whole packet. A packet larger than `max_packet_size` bytes
/// is refused as soon as its header says so, before its body is buffered.
pub fn decode(buf: &[u8], max_packet_size: usize) -> Result<Option<(Incoming, usize)>, MqttError> {
    let Some((first, remaining, header)) = fixed_header(buf)? else { return Ok(None) };
    if remaining > MAX_REMAINING_LENGTH || header + remaining > max_packet_size {
        return Err(MqttError::PacketTooLarge);
    }
    let Some(body) = buf.get(header..header + remaining) else { return Ok(None) };
    Ok(Some((parse(first, body)?, header + remaining)))
}

/// A buffer of received bytes that yields whole packets.
///
/// Design: `buf[start..]` holds the bytes not yet decoded; `start` moves forward as packets
/// are taken and the consumed prefix is dropped on the next `push`, so a burst of small
/// packets costs no copying per packet.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    start: usize,
    max_packet_size: usize,
}

impl Decoder {
    pub fn new(max_packet_size: usize) -> Decoder {
        Decoder { buf: Vec::new(), start: 0, max_packet_size }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start.min(self.buf.len()));
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole packet, `Ok(None)` when more bytes are needed. After an error the
    /// stream is unusable: the connection must be closed.
    pub fn next_packet(&mut self) -> Result<Option<Incoming>, MqttError> {
        let rest = self.buf.get(self.start..).unwrap_or_default();
        match decode(rest, self.max_packet_size)? {
            Some((packet, used)) => {
                self.start += used;
                if self.start >= self.buf.len() {
                    self.buf.clear();
                    self.start = 0;
                }
                Ok(Some(packet))
            }
            None => Ok(None),
        }
    }

    /// Forgets buffered bytes (a new connection starts a new stream).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len().saturating_sub(self.start)
    }
}

//! Encoders for the packets a client sends. Each appends one whole packet to `out`, so a
//! turn's packets coalesce into one buffer (one WebSocket `send`).

use super::topic::{check_string, validate_filter, validate_topic_name};
use super::MAX_REMAINING_LENGTH;
use crate::mqtt::{Connect, MqttError, QoS};

/// The remaining-length varint: 7 bits a byte, low group first, high bit = "more" (§2.2.3).
fn put_remaining_length(out: &mut Vec<u8>, mut len: usize) {
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
}

fn put_header(out: &mut Vec<u8>, first: u8, remaining: usize) -> Result<(), MqttError> {
    if remaining > MAX_REMAINING_LENGTH {
        return Err(MqttError::PacketTooLarge);
    }
    out.reserve(remaining + 5);
    out.push(first);
    put_remaining_length(out, remaining);
    Ok(())
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// A length-prefixed string or binary field. Callers have checked `bytes.len() <= 65535`.
fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u16(out, bytes.len() as u16);
    out.extend_from_slice(bytes);
}

/// CONNECT (§3.1):
/// `10 <len> 00 04 'M' 'Q' 'T' 'T' 04 <flags> <keep-alive:u16> <client id> [<username>] [<password>]`.
/// Flags: 0x80 username, 0x40 password, 0x02 clean session; no will.
pub fn encode_connect(out: &mut Vec<u8>, c: &Connect<'_>) -> Result<(), MqttError> {
    check_string(c.client_id, "client id")?;
    let mut flags = 0u8;
    let mut len = 10 + 2 + c.client_id.len();
    if let Some(u) = c.username {
        check_string(u, "username")?;
        flags |= 0x80;
        len += 2 + u.len();
    }
    if let Some(p) = c.password {
        // The password is binary data in 3.1.1; it only needs to fit its length prefix.
        if p.len() > 65_535 {
            return Err(MqttError::InvalidArgument("password"));
        }
        flags |= 0x40;
        len += 2 + p.len();
    }
    if c.clean_session {
        flags |= 0x02;
    }
    put_header(out, 0x10, len)?;
    put_bytes(out, b"MQTT");
    out.push(4);
    out.push(flags);
    put_u16(out, c.keep_alive_secs);
    put_bytes(out, c.client_id.as_bytes());
    if let Some(u) = c.username {
        put_bytes(out, u.as_bytes());
    }
    if let Some(p) = c.password {
        put_bytes(out, p.as_bytes());
    }
    Ok(())
}

/// The whole size of a PUBLISH on the wire, or `PacketTooLarge`.
pub fn publish_len(topic: &str, payload_len: usize, qos: QoS) -> Result<usize, MqttError> {
    let pkid = if qos == QoS::AtLeastOnce { 2 } else { 0 };
    let remaining = 2usize
        .saturating_add(topic.len())
        .saturating_add(pkid)
        .saturating_add(payload_len);
    if remaining > MAX_REMAINING_LENGTH {
        return Err(MqttError::PacketTooLarge);
    }
    let varint = match remaining {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    };
    Ok(1 + varint + remaining)
}

/// PUBLISH (§3.3): `3<flags> <len> <topic> [<pkid:u16>] <payload>`, flags = DUP<<3 | QoS<<1 |
/// RETAIN. `pkid` is required for QoS 1 and ignored for QoS 0.
pub fn encode_publish(
    out: &mut Vec<u8>,
    topic: &str,
    payload: &[u8],
    qos: QoS,
    pkid: u16,
    dup: bool,
    retain: bool,
) -> Result<(), MqttError> {
    validate_topic_name(topic)?;
    publish_len(topic, payload.len(), qos)?;
    let mut first = 0x30 | ((qos as u8) << 1);
    if dup && qos == QoS::AtLeastOnce {
        first |= 0x08;
    }
    if retain {
        first |= 0x01;
    }
    let pkid_len = if qos == QoS::AtLeastOnce { 2 } else { 0 };
    put_header(out, first, 2 + topic.len() + pkid_len + payload.len())?;
    put_bytes(out, topic.as_bytes());
    if qos == QoS::AtLeastOnce {
        put_u16(out, pkid);
    }
    out.extend_from_slice(payload);
    Ok(())
}

/// PUBACK (§3.4): `40 02 <pkid:u16>`.
pub fn encode_puback(out: &mut Vec<u8>, pkid: u16) {
    out.extend_from_slice(&[0x40, 0x02]);
    put_u16(out, pkid);
}

/// SUBSCRIBE (§3.8): `82 <len> <pkid:u16> (<filter> <qos>)+`.
pub fn encode_subscribe(out: &mut Vec<u8>, pkid: u16, filters: &[(&str, QoS)]) -> Result<(), MqttError> {
    if filters.is_empty() {
        return Err(MqttError::InvalidArgument("no topic filters"));
    }
    let mut len = 2usize;
    for (f, _) in filters {
        validate_filter(f)?;
        len = len.saturating_add(3 + f.len());
    }
    put_header(out, 0x82, len)?;
    put_u16(out, pkid);
    for (f, qos) in filters {
        put_bytes(out, f.as_bytes());
        out.push(*qos as u8);
    }
    Ok(())
}

/// UNSUBSCRIBE (§3.10): `a2 <len> <pkid:u16> <filter>+`.
pub fn encode_unsubscribe(out: &mut Vec<u8>, pkid: u16, filters: &[&str]) -> Result<(), MqttError> {
    if filters.is_empty() {
        return Err(MqttError::InvalidArgument("no topic filters"));
    }
    let mut len = 2usize;
    for f in filters {
        validate_filter(f)?;
        len = len.saturating_add(2 + f.len());
    }
    put_header(out, 0xa2, len)?;
    put_u16(out, pkid);
    for f in filters {
        put_bytes(out, f.as_bytes());
    }
    Ok(())
}

/// PINGREQ (§3.12): `c0 00`.
pub fn encode_pingreq(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0xc0, 0x00]);
}

/// DISCONNECT (§3.14): `e0 00`.
pub fn encode_disconnect(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0xe0, 0x00]);
}

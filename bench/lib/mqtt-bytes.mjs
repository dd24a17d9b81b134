// MQTT 3.1.1 packets as plain bytes, for the benchmarks' no-library references and the load
// generator (browser and Node alike: Uint8Array only): CONNECT, a QoS 1 PUBLISH whose packet id is
// patched in place, DISCONNECT, and a reader that splits a byte stream into packets. Nothing here
// validates; it is the least code that puts correct packets on the wire.
const utf8 = new TextEncoder();

/** MQTT's variable-length "remaining length" (MQTT 3.1.1 §2.2.3) as bytes. */
export function remainingLength(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function field(s) {
  const b = utf8.encode(s);
  return [b.length >> 8, b.length & 0xff, ...b];
}

function packet(type, body) {
  return Uint8Array.from([type, ...remainingLength(body.length), ...body]);
}

/** CONNECT, clean session, with the user name and password when given. */
export function connectPacket({ clientId, username, password, keepAlive = 60 }) {
  let flags = 0x02;
  if (username !== undefined) flags |= 0x80;
  if (password !== undefined) flags |= 0x40;
  const body = [...field('MQTT'), 4, flags, keepAlive >> 8, keepAlive & 0xff, ...field(clientId)];
  if (username !== undefined) body.push(...field(username));
  if (password !== undefined) body.push(...field(password));
  return packet(0x10, body);
}

/** A QoS 1 PUBLISH of `payload` (string or bytes) to `topic`, packet id 1; `setPacketId` changes
 * the id in place (WebSocket.send copies the bytes, so one buffer serves every publish). */
export function publishPacket(topic, payload) {
  const t = field(topic);
  const p = typeof payload === 'string' ? utf8.encode(payload) : payload;
  const head = [0x32, ...remainingLength(t.length + 2 + p.length)];
  const bytes = new Uint8Array(head.length + t.length + 2 + p.length);
  bytes.set(head, 0);
  bytes.set(t, head.length);
  const idOffset = head.length + t.length;
  bytes[idOffset + 1] = 1;
  bytes.set(p, idOffset + 2);
  return {
    bytes,
    setPacketId(id) {
      bytes[idOffset] = id >> 8;
      bytes[idOffset + 1] = id & 0xff;
    },
  };
}

export const DISCONNECT = Uint8Array.of(0xe0, 0);

/** The packet id for the i-th publish: 1..65535, then again from 1. */
export const packetId = (i) => (i % 65535) + 1;

/** Splits received bytes into packets: `push(chunk)` calls `onPacket(type, bytes, start, end)`
 * for each whole one (`type` is the high nibble; body is bytes[start..end)). */
export function packetReader(onPacket) {
  let rest = null;
  return {
    push(chunk) {
      let buf = chunk;
      if (rest) {
        buf = new Uint8Array(rest.length + chunk.length);
        buf.set(rest, 0);
        buf.set(chunk, rest.length);
        rest = null;
      }
      let i = 0;
      while (i + 2 <= buf.length) {
        let len = 0;
        let mul = 1;
        let j = i + 1;
        let done = false;
        while (j < buf.length && j < i + 5) {
          const b = buf[j++];
          len += (b & 0x7f) * mul;
          mul *= 128;
          if (!(b & 0x80)) { done = true; break; }
        }
        if (!done || j + len > buf.length) break;
        onPacket(buf[i] >> 4, buf, j, j + len);
        i = j + len;
      }
      if (i < buf.length) rest = buf.slice(i);
    },
  };
}

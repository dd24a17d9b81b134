// An in-process stand-in for an IoT Hub WebSocket, handed to the client through
// `createWebSocket`: already open (as a Workers socket is), and it answers inside `send()` itself,
// synchronously, which is the hardest case for a client that must not lose re-entrant input.
// Options: `suback: false` never acknowledges SUBSCRIBE; `puback: false` never acknowledges
// telemetry. `sent` records the first byte of every packet the client wrote; `onsend`, when set,
// is called synchronously at the start of every `send()`.

import { remainingLength } from '../../bench/lib/mqtt-bytes.mjs';

const enc = new TextEncoder();

function publish(topic, body) {
  const t = enc.encode(topic);
  const b = enc.encode(body);
  return [0x30, ...remainingLength(2 + t.length + b.length), t.length >> 8, t.length & 0xff, ...t, ...b];
}

export function fakeHubSocket({ suback = true, puback = true } = {}) {
  const listeners = {};
  const sent = [];
  const emit = (kind, ev) => { for (const f of [...(listeners[kind] ?? [])]) f(ev); };
  const reply = (bytes) => emit('message', { data: new Uint8Array(bytes).buffer });
  const socket = {
    readyState: 1,
    binaryType: 'blob',
    sent,
    addEventListener(kind, f) { (listeners[kind] ??= []).push(f); },
    removeEventListener(kind, f) { listeners[kind] = (listeners[kind] ?? []).filter((g) => g !== f); },
    close() {
      if (socket.readyState === 3) return;
      socket.readyState = 3;
      emit('close', { code: 1000, reason: '' });
    },
    onsend: null,
    send(data) {
      socket.onsend?.();
      const b = new Uint8Array(data.buffer ?? data, data.byteOffset ?? 0, data.byteLength);
      let i = 0;
      while (i < b.length) {
        const type = b[i];
        let len = 0; let mult = 1; let j = i + 1;
        for (;;) { const x = b[j++]; len += (x & 0x7f) * mult; mult *= 128; if (!(x & 0x80)) break; }
        const body = b.subarray(j, j + len);
        i = j + len;
        sent.push(type);
        if (type === 0x10) reply([0x20, 0x02, 0x00, 0x00]);
        else if (type === 0x82 && suback) reply([0x90, 0x06, body[0], body[1], 0x01, 0x00, 0x00, 0x00]);
        else if (type === 0xc0) reply([0xd0, 0x00]);
        else if ((type & 0xf0) === 0x30) {
          const tlen = (body[0] << 8) | body[1];
          const topic = new TextDecoder().decode(body.subarray(2, 2 + tlen));
          const rid = topic.match(/^\$iothub\/twin\/GET\/\?\$rid=(.+)$/)?.[1];
          if (rid) reply(publish(`$iothub/twin/res/200/?$rid=${rid}`, '{"desired":{"$version":1},"reported":{"$version":1}}'));
          else if ((type & 0x06) === 0x02 && puback) reply([0x40, 0x02, body[2 + tlen], body[3 + tlen]]);
        }
      }
    },
  };
  return socket;
}

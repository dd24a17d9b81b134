// The worker of the edge benchmark (bench/edge-workerd.mjs), run inside workerd: on each POST it
// connects one client to the emulator's hub through the fetch-upgrade WebSocket route, sends n
// telemetry messages of `size` bytes with at most `outstanding` unacknowledged, closes, and answers
// { ms } for the sends. workerd's clock moves only across I/O, which every PUBACK is.
//   client 'ours':  IotHubClient.sendEvent (the package's workerd entry), `maxInflight` when given
//   client 'nolib': the accepted WebSocket with pre-built CONNECT and PUBLISH bytes
import * as lib from './pkg/workerd.js';
import { connectPacket, publishPacket, packetId, packetReader, DISCONNECT } from './mqtt-bytes.mjs';
import { windowed } from './windowed.mjs';

async function createWebSocket(url, protocols) {
  const resp = await fetch(url.replace(/^ws/, 'http'), {
    headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': protocols.join(', ') },
  });
  const ws = resp.webSocket;
  if (!ws) throw new Error(`upgrade refused: ${resp.status}`);
  ws.accept();
  return ws;
}

async function ours(p, payload) {
  const c = await lib.IotHubClient.connect({
    hostName: p.hubHostname, deviceId: p.deviceId, sasToken: p.password, url: p.url, createWebSocket,
    ...(p.maxInflight ? { maxInflight: p.maxInflight } : {}),
  });
  const t0 = Date.now();
  await windowed(p.n, p.outstanding, (i, ack, fail) => c.sendEvent(payload).then(ack, fail));
  const ms = Date.now() - t0;
  await c.close();
  return ms;
}

async function nolib(p, payload) {
  const ws = await createWebSocket(p.url, ['mqtt']);
  const publish = publishPacket(p.topic, payload);
  let onAck = null;
  await new Promise((resolve, reject) => {
    const reader = packetReader((type) => {
      if (type === 4) onAck();
      else if (type === 2) resolve();
    });
    ws.addEventListener('message', (e) => reader.push(new Uint8Array(e.data)));
    ws.addEventListener('close', () => reject(new Error('closed')));
    ws.send(connectPacket(p));
  });
  const t0 = Date.now();
  await windowed(p.n, p.outstanding, (i, ack) => {
    publish.setPacketId(packetId(i));
    onAck = ack;
    ws.send(publish.bytes);
  });
  const ms = Date.now() - t0;
  ws.send(DISCONNECT);
  ws.close();
  return ms;
}

export default {
  async fetch(request) {
    const p = await request.json();
    const payload = 'x'.repeat(p.size);
    try {
      const ms = await (p.client === 'nolib' ? nolib : ours)(p, payload);
      return Response.json({ ms });
    } catch (e) {
      return Response.json({ error: `${e?.code ?? ''} ${e?.stack ?? e}` }, { status: 500 });
    }
  },
};

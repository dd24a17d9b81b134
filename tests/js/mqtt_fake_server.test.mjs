// The WebSocket transport against scripted servers (the `ws` package's WebSocketServer), for
// what a well-behaved broker never does: answer in one-byte frames or many packets per frame,
// never answer the handshake or CONNECT, ignore PINGREQ, refuse CONNECT, send a text frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import * as lib from 'azure-iot-wasm';

/** A ws server on a free port calling `onClient(socket, firstMessage)`. */
async function server(onClient) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('mqtt') ? 'mqtt' : false) });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => ws.once('message', (data) => onClient(ws, new Uint8Array(data))));
  return { url: `ws://127.0.0.1:${wss.address().port}`, close: () => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(r); }) };
}

const CONNACK_OK = [0x20, 0x02, 0x00, 0x00];

test('CONNACK, SUBACK and a PUBLISH in one-byte frames decode like a single frame', async () => {
  const srv = await server((ws, connect) => {
    assert.equal(connect[0], 0x10);
    ws.on('message', (data) => {
      const b = new Uint8Array(data);
      if (b[0] === 0x82) {
        // SUBACK for its packet id + a QoS 0 PUBLISH "a/b" "hi", all in one frame, then again byte by byte.
        const both = [0x90, 0x03, b[2], b[3], 0x00, 0x30, 0x07, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x68, 0x69];
        ws.send(Buffer.from(both));
        for (const byte of [0x30, 0x07, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x68, 0x69]) ws.send(Buffer.from([byte]));
      }
    });
    for (const byte of CONNACK_OK) ws.send(Buffer.from([byte]));
  });
  const c = new lib.MqttClient();
  const got = [];
  c.on('message', (topic, payload) => got.push(`${topic}:${new TextDecoder().decode(payload)}`));
  await c.connect(srv.url, { clientId: 'x', WebSocket });
  assert.deepEqual(await c.subscribe('a/#', { qos: 0 }), [0]);
  const deadline = Date.now() + 5000;
  while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(got, ['a/b:hi', 'a/b:hi']);
  await c.end();
  await srv.close();
});

test('a server that never answers CONNECT fails connect with CONNECT_TIMEOUT', async () => {
  const srv = await server(() => {});
  const c = new lib.MqttClient();
  const t0 = Date.now();
  await assert.rejects(c.connect(srv.url, { clientId: 'x', WebSocket, connectTimeout: 300 }), (e) => e.code === 'CONNECT_TIMEOUT');
  assert.ok(Date.now() - t0 >= 250);
  await srv.close();
});

test('a TCP server that never completes the WebSocket handshake fails connect with CONNECT_TIMEOUT', async () => {
  const held = [];
  const tcp = createServer((s) => held.push(s));
  await new Promise((r) => tcp.listen(0, '127.0.0.1', r));
  const c = new lib.MqttClient();
  await assert.rejects(
    c.connect(`ws://127.0.0.1:${tcp.address().port}`, { clientId: 'x', WebSocket, connectTimeout: 300 }),
    (e) => e.code === 'CONNECT_TIMEOUT',
  );
  held.forEach((s) => s.destroy());
  await new Promise((r) => tcp.close(r));
});

test('a server that ignores PINGREQ gets the connection closed with KEEPALIVE_TIMEOUT', async () => {
  const srv = await server((ws) => ws.send(Buffer.from(CONNACK_OK)));
  const c = new lib.MqttClient();
  const closed = new Promise((r) => c.on('close', r));
  await c.connect(srv.url, { clientId: 'x', WebSocket, keepAlive: 1 });
  const err = await closed;
  assert.equal(err.code, 'KEEPALIVE_TIMEOUT');
  assert.equal(c.connected, false);
  await srv.close();
});

test('CONNACK 5 rejects connect with NOT_AUTHORIZED and status 5; CONNACK 3 with CONNECTION_REFUSED', async () => {
  for (const [rc, code] of [[5, 'NOT_AUTHORIZED'], [3, 'CONNECTION_REFUSED']]) {
    const srv = await server((ws) => ws.send(Buffer.from([0x20, 0x02, 0x00, rc])));
    await assert.rejects(new lib.MqttClient().connect(srv.url, { clientId: 'x', WebSocket }), (e) => e.code === code && e.status === rc);
    await srv.close();
  }
});

test('an inbound QoS 2 publish or a text frame ends the connection with PROTOCOL_ERROR', async () => {
  for (const bad of [Buffer.from([0x34, 0x07, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x00, 0x01]), 'text']) {
    const srv = await server((ws) => {
      ws.send(Buffer.from(CONNACK_OK));
      setTimeout(() => ws.send(bad), 20);
    });
    const c = new lib.MqttClient();
    const closed = new Promise((r) => c.on('close', r));
    await c.connect(srv.url, { clientId: 'x', WebSocket });
    const pending = c.subscribe('a', { qos: 1 });
    assert.equal((await closed).code, 'PROTOCOL_ERROR');
    await assert.rejects(pending, (e) => e.code === 'PROTOCOL_ERROR');
    await srv.close();
  }
});

test('a createWebSocket Promise that never settles fails connect with CONNECT_TIMEOUT', async () => {
  const c = new lib.MqttClient();
  await assert.rejects(
    c.connect('ws://unused', { clientId: 'x', createWebSocket: () => new Promise(() => {}), connectTimeout: 300 }),
    (e) => e.code === 'CONNECT_TIMEOUT',
  );
  assert.equal(c.connected, false);
});

test('a socket that answers synchronously inside send() loses nothing: connect and subscribe resolve', async () => {
  const listeners = {};
  const emit = (kind, ev) => { for (const f of listeners[kind] ?? []) f(ev); };
  const socket = {
    readyState: 1,
    addEventListener(kind, f) { (listeners[kind] ??= []).push(f); },
    removeEventListener(kind, f) { listeners[kind] = (listeners[kind] ?? []).filter((g) => g !== f); },
    close() { socket.readyState = 3; emit('close', { code: 1000, reason: '' }); },
    send(data) {
      const b = new Uint8Array(data);
      const answer = b[0] === 0x10 ? CONNACK_OK : b[0] === 0x82 ? [0x90, 0x03, b[2], b[3], 0x01] : null;
      if (answer) emit('message', { data: new Uint8Array(answer).buffer });
    },
  };
  const c = new lib.MqttClient();
  await c.connect('ws://unused', { clientId: 'x', createWebSocket: () => socket, connectTimeout: 2000 });
  assert.deepEqual(await c.subscribe('a/#', { qos: 1 }), [1]);
  await c.end();
});

test('connectTimeout beyond an hour is refused rather than overflowing setTimeout', async () => {
  await assert.rejects(
    new lib.MqttClient().connect('ws://unused', { clientId: 'x', connectTimeout: 2 ** 31 }),
    (e) => e.code === 'INVALID_ARGUMENT',
  );
});

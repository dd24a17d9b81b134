// The MQTT client core and WebSocket transport against a real broker (Debian's mosquitto),
// from Node with the `ws` package injected: connect, subscribe, publish QoS 0 and 1 to
// ourselves, keep-alive across several periods, the in-flight window, and typed errors (a
// refused handshake, and a silent loopback server for the connect timeout).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import WebSocket from 'ws';
import * as lib from 'azure-iot-wasm';
import { startMosquitto } from '../support/mosquitto.mjs';

let broker;
before(async () => { broker = await startMosquitto(); });
after(async () => { await broker?.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const uniq = () => Math.random().toString(36).slice(2, 10);

/** A connected client plus a queue of received messages. */
async function client(options = {}) {
  const c = new lib.MqttClient();
  const messages = [];
  const waiters = [];
  c.on('message', (topic, payload, meta) => {
    messages.push({ topic, payload, ...meta });
    for (const w of waiters.splice(0)) w();
  });
  const closes = [];
  c.on('close', (err) => closes.push(err));
  const r = await c.connect(broker.wsUrl, { clientId: `t-${uniq()}`, WebSocket, keepAlive: 30, ...options });
  const waitFor = async (n, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (messages.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${messages.length} of ${n} messages`);
      await new Promise((res) => { waiters.push(res); setTimeout(res, 50); });
    }
    return messages;
  };
  return { c, r, messages, waitFor, closes };
}

test('connects, subscribes and receives its own QoS 0 and QoS 1 publishes', async () => {
  const { c, r, waitFor } = await client();
  assert.deepEqual(r, { sessionPresent: false });
  assert.equal(c.connected, true);
  const base = `t/${uniq()}`;
  assert.deepEqual(await c.subscribe(`${base}/#`, { qos: 1 }), [1]);
  await c.publish(`${base}/zero`, 'hello', { qos: 0 });
  await c.publish(`${base}/one`, new Uint8Array([0, 1, 2, 255]), { qos: 1 });
  const got = await waitFor(2);
  const byTopic = Object.fromEntries(got.map((m) => [m.topic, m]));
  assert.equal(new TextDecoder().decode(byTopic[`${base}/zero`].payload), 'hello');
  assert.equal(byTopic[`${base}/zero`].qos, 0);
  assert.deepEqual([...byTopic[`${base}/one`].payload], [0, 1, 2, 255]);
  assert.equal(byTopic[`${base}/one`].qos, 1);
  await c.unsubscribe(`${base}/#`);
  await c.end();
  assert.equal(c.connected, false);
});

test('stays connected across several keep-alive periods of silence', async () => {
  // keepAlive 3 s: mosquitto drops a client silent for 4.5 s, so surviving 10 s means the
  // PINGREQs went out and the PINGRESPs came back. (1 s was too tight for a loaded machine.)
  const { c, waitFor, closes } = await client({ keepAlive: 3 });
  const topic = `t/${uniq()}`;
  await c.subscribe(topic, { qos: 1 });
  await sleep(10_000);
  assert.equal(c.connected, true);
  assert.deepEqual(closes, []);
  await c.publish(topic, 'still here', { qos: 1 });
  const [m] = await waitFor(1);
  assert.equal(new TextDecoder().decode(m.payload), 'still here');
  await c.end();
});

test('many QoS 1 publishes at once go through the in-flight window and all complete', async () => {
  const { c, waitFor } = await client({ maxInflight: 4 });
  const topic = `t/${uniq()}`;
  await c.subscribe(topic, { qos: 1 });
  const n = 200;
  await Promise.all(Array.from({ length: n }, (_, i) => c.publish(topic, `m${i}`, { qos: 1 })));
  const got = await waitFor(n);
  assert.deepEqual(got.map((m) => new TextDecoder().decode(m.payload)), Array.from({ length: n }, (_, i) => `m${i}`));
  await c.end();
});

test('a large message crosses many WebSocket frames intact', async () => {
  const { c, waitFor } = await client();
  const topic = `t/${uniq()}`;
  await c.subscribe(topic, { qos: 0 });
  const big = new Uint8Array(70_000).map((_, i) => i % 251);
  await c.publish(topic, big, { qos: 1 });
  const [m] = await waitFor(1);
  assert.equal(m.payload.length, big.length);
  assert.ok(m.payload.every((b, i) => b === i % 251));
  await c.end();
});

test('createWebSocket may return a Promise of a socket', async () => {
  const c = new lib.MqttClient();
  await c.connect(broker.wsUrl, {
    clientId: `t-${uniq()}`,
    createWebSocket: async (url, protocols) => {
      assert.deepEqual(protocols, ['mqtt']);
      return new WebSocket(url, protocols);
    },
  });
  await c.publish('t/x', 'x', { qos: 1 });
  await c.end();
});

test('end() rejects a pending QoS 1 publish with CLOSED and calls close handlers', async () => {
  const { c, closes } = await client();
  // Published and immediately ended: the PUBACK cannot have arrived yet.
  const p = c.publish(`t/${uniq()}`, 'x', { qos: 1 });
  await c.end();
  await assert.rejects(p, (e) => e.code === 'CLOSED');
  assert.equal(closes.length, 1);
  assert.equal(closes[0].code, 'CLOSED');
});

test('losing the broker reports CONNECTION_LOST on close', async () => {
  const own = await startMosquitto();
  const c = new lib.MqttClient();
  const closed = new Promise((res) => c.on('close', res));
  await c.connect(own.wsUrl, { clientId: `t-${uniq()}`, WebSocket });
  await own.stop();
  const err = await closed;
  assert.ok(err instanceof Error);
  assert.equal(err.code, 'CONNECTION_LOST');
  await assert.rejects(c.publish('t/x', 'x', { qos: 0 }), (e) => e.code === 'NOT_CONNECTED');
});

test('a closed port fails connect with SOCKET_ERROR', async () => {
  const c = new lib.MqttClient();
  await assert.rejects(
    c.connect('ws://127.0.0.1:1', { clientId: 'x', WebSocket }),
    (e) => e.code === 'SOCKET_ERROR',
  );
  assert.equal(c.connected, false);
});

test("mosquitto's plain-MQTT port closes on the WebSocket handshake: connect fails with SOCKET_ERROR", async () => {
  const c = new lib.MqttClient();
  await assert.rejects(
    c.connect(`ws://127.0.0.1:${broker.mqttPort}`, { clientId: 'x', WebSocket, connectTimeout: 5000 }),
    (e) => e.code === 'SOCKET_ERROR',
  );
  assert.equal(c.connected, false);
});

test('a server that accepts the connection but never answers the WebSocket handshake times out with CONNECT_TIMEOUT', async () => {
  // The one peer for this case is a silent one: it takes the TCP connection and says nothing.
  const held = [];
  const silent = createServer((s) => held.push(s));
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const c = new lib.MqttClient();
    const t0 = Date.now();
    await assert.rejects(
      c.connect(`ws://127.0.0.1:${silent.address().port}`, { clientId: 'x', WebSocket, connectTimeout: 500 }),
      (e) => e.code === 'CONNECT_TIMEOUT',
    );
    assert.ok(Date.now() - t0 >= 450, 'it waited for the timeout, not for an error');
    assert.equal(held.length, 1, 'the TCP connection was made');
  } finally {
    for (const s of held) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});

test('bad arguments are typed errors, not crashes', async () => {
  const { c } = await client();
  await assert.rejects(c.publish('a/+', 'x', { qos: 0 }), (e) => e.code === 'INVALID_TOPIC');
  await assert.rejects(c.publish('a', 'x', { qos: 2 }), (e) => e.code === 'INVALID_ARGUMENT');
  await assert.rejects(c.publish('a', 42, { qos: 0 }), (e) => e.code === 'INVALID_ARGUMENT');
  await assert.rejects(c.subscribe('a/#/b', { qos: 0 }), (e) => e.code === 'INVALID_TOPIC');
  await assert.rejects(c.connect(broker.wsUrl, { clientId: 'y', WebSocket }), (e) => e.code === 'INVALID_ARGUMENT');
  await assert.rejects(new lib.MqttClient().connect(broker.wsUrl, {}), (e) => e.code === 'INVALID_ARGUMENT');
  assert.throws(() => c.on('nope', () => {}), (e) => e.code === 'INVALID_ARGUMENT');
  assert.equal(c.connected, true);
  await c.end();
});

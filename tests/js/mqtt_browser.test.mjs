// The same MQTT client core and WebSocket transport from headless Chromium, with the
// browser's own global WebSocket, against Debian's mosquitto: connect, subscribe, publish
// QoS 0 and 1 to ourselves, receive, and stay alive across several keep-alive periods.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto } from '../support/mosquitto.mjs';
import { openBrowser } from '../support/browser.mjs';

let broker;
let browser;
before(async () => {
  broker = await startMosquitto();
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
  await broker?.stop();
});

const PAGE_CODE = `
import * as lib from '/pkg/index.js';
export default async ({ url, keepAlive, idleMs }) => {
  const c = new lib.MqttClient();
  const got = [];
  const closes = [];
  c.on('message', (topic, payload, meta) => got.push({ topic, text: new TextDecoder().decode(payload), qos: meta.qos }));
  c.on('close', (e) => closes.push(e.code));
  const connack = await c.connect(url, { clientId: 'browser-' + Math.random().toString(36).slice(2), keepAlive });
  const granted = await c.subscribe(['b/zero', 'b/one'], { qos: 1 });
  await c.publish('b/zero', 'qos zero', { qos: 0 });
  await c.publish('b/one', new TextEncoder().encode('qos one'), { qos: 1 });
  const deadline = Date.now() + 5000;
  while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, idleMs));
  const aliveAfterIdle = c.connected;
  await c.publish('b/one', 'after idle', { qos: 1 });
  while (got.length < 3 && Date.now() < deadline + idleMs + 5000) await new Promise((r) => setTimeout(r, 20));
  await c.end();
  let refused = null;
  try {
    await new lib.MqttClient().connect('ws://127.0.0.1:1', { clientId: 'x' });
  } catch (e) {
    refused = { isError: e instanceof Error, code: e.code };
  }
  return { connack, granted, got, aliveAfterIdle, closes, refused };
};
`;

test('Chromium connects with its global WebSocket, round-trips QoS 0 and 1, and survives keep-alive periods', async () => {
  const out = await browser.evaluateModule(PAGE_CODE, { url: broker.wsUrl, keepAlive: 3, idleMs: 10_000 });
  assert.deepEqual(out.connack, { sessionPresent: false });
  assert.deepEqual(out.granted, [1, 1]);
  assert.deepEqual(
    out.got.sort((a, b) => a.text.localeCompare(b.text)),
    [
      { topic: 'b/one', text: 'after idle', qos: 1 },
      { topic: 'b/one', text: 'qos one', qos: 1 },
      { topic: 'b/zero', text: 'qos zero', qos: 0 },
    ],
  );
  assert.equal(out.aliveAfterIdle, true, browser.logs.join('\n'));
  assert.deepEqual(out.closes, ['CLOSED']);
  assert.deepEqual(out.refused, { isError: true, code: 'SOCKET_ERROR' });
});

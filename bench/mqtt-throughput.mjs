#!/usr/bin/env node
// Benchmark: MQTT QoS 1 publish throughput over WebSocket against a real broker (Debian's
// mosquitto on loopback), this library's `MqttClient` (wasm, hand-written codec) versus mqtt.js,
// measured in the same run and reported as a ratio. Each client publishes N messages of S bytes,
// up to 500 outstanding per client, and the clock stops when the last PUBACK is in.
//   node bench/mqtt-throughput.mjs [N=5000] [S=128] [rounds=3]
// Run `npm run build` first. Not part of `npm test`: these machines are noisy, so figures are
// reported, never asserted.
import WebSocket from 'ws';
import mqtt from 'mqtt';
import * as lib from 'azure-iot-wasm';
import { startMosquitto } from '../tests/support/mosquitto.mjs';

const N = Number(process.argv[2] ?? 5000);
const SIZE = Number(process.argv[3] ?? 128);
const ROUNDS = Number(process.argv[4] ?? 3);
const payload = 'x'.repeat(SIZE);
// At most this many publishes outstanding per client (our MqttClient bounds its queue at 1000).
const OUTSTANDING = 500;

/** Runs `fn(i)` for i in 0..n with at most `limit` promises pending. */
async function pump(n, limit, fn) {
  let next = 0;
  const worker = async () => { while (next < n) await fn(next++); };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

async function ours(url) {
  const c = new lib.MqttClient();
  await c.connect(url, { clientId: `ours-${process.pid}`, keepAlive: 60, WebSocket, maxInflight: 100 });
  const t0 = performance.now();
  await pump(N, OUTSTANDING, (i) => c.publish(`bench/ours/${i % 10}`, payload, { qos: 1 }));
  const ms = performance.now() - t0;
  await c.end();
  return ms;
}

async function mqttjs(url) {
  const c = mqtt.connect(url, { clientId: `mqttjs-${process.pid}`, keepalive: 60, protocolVersion: 4, reconnectPeriod: 0 });
  await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
  const t0 = performance.now();
  await pump(N, OUTSTANDING, (i) => c.publishAsync(`bench/mqttjs/${i % 10}`, payload, { qos: 1 }));
  const ms = performance.now() - t0;
  await c.endAsync();
  return ms;
}

const broker = await startMosquitto();
try {
  const url = broker.wsUrl ?? `ws://127.0.0.1:${broker.wsPort}`;
  await ours(url); await mqttjs(url); // warm-up: JIT, wasm tier-up, broker
  const rows = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const a = await ours(url);
    const b = await mqttjs(url);
    rows.push({ a, b });
    console.log(`round ${r}: azure-iot-wasm ${(N / a * 1000).toFixed(0)} msg/s, mqtt.js ${(N / b * 1000).toFixed(0)} msg/s`);
  }
  const med = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const a = med(rows.map((r) => r.a));
  const b = med(rows.map((r) => r.b));
  console.log(`\n${N} QoS 1 publishes of ${SIZE} B over WebSocket to mosquitto (median of ${ROUNDS}):`);
  console.log(`  azure-iot-wasm MqttClient  ${(N / a * 1000).toFixed(0)} msg/s`);
  console.log(`  mqtt.js                    ${(N / b * 1000).toFixed(0)} msg/s`);
  console.log(`  ratio (ours / mqtt.js)     ${(b / a).toFixed(2)}x`);
} finally {
  await broker.stop();
}

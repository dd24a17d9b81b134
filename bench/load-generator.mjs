#!/usr/bin/env node
// Load generator for the capacity benchmark (bench/emulator-capacity.mjs): N concurrent MQTT
// devices over WebSocket (the `ws` package, pre-built MQTT 3.1.1 bytes, so the generator spends as
// little as it can per message), against the emulator's IoT Hub (a SAS user name and password
// per device) or a plain broker. Phases, each bounded in time:
//   1. connect: at most --ramp handshakes at once, until every device has a CONNACK or failed,
//      or --connect-timeout seconds passed;
//   2. load: every connected device publishes QoS 1 telemetry in a closed loop, one message
//      outstanding, the next sent on each PUBACK, for --duration seconds; PUBACK latencies are
//      kept (the first 2 million);
//   3. drain (at most 3 s) and close.
// Between 1 and 2 it prints `LOAD_CONNECTED n` and waits 1 s, between 2 and 3 `LOAD_END` and
// waits 0.5 s (devices idle, connections open), for the caller to read the server's memory.
// Prints one `LOAD_RESULT {json}`: connected, failed (with the first errors), connect time,
// messages acknowledged, msg/s, p50/p99 PUBACK latency (ms), and the generator's own CPU use.
//   node bench/load-generator.mjs --url URL --devices N [--hub HOSTNAME --key BASE64] [--prefix P]
//     [--duration S] [--ramp C] [--connect-timeout S] [--size BYTES]
import WebSocket from 'ws';
import { hubCredentials } from './lib/credentials.mjs';
import { connectPacket, publishPacket, packetId, packetReader, DISCONNECT } from './lib/mqtt-bytes.mjs';
import { parseFlags } from './lib/groups.mjs';
import { cpuSecondsOf } from './lib/proc.mjs';

const f = parseFlags();
const N = Number(f.devices);
const DURATION_MS = Number(f.duration ?? 10) * 1000;
const RAMP = Number(f.ramp ?? 200);
const CONNECT_TIMEOUT_MS = Number(f['connect-timeout'] ?? 60) * 1000;
const SIZE = Number(f.size ?? 256);
const prefix = f.prefix ?? 'cap';
const MAX_SAMPLES = 2_000_000;

setTimeout(() => { console.error('load generator: gave up'); process.exit(3); }, CONNECT_TIMEOUT_MS + DURATION_MS + 30_000).unref();

const latencies = new Float64Array(MAX_SAMPLES);
let samples = 0;
let acked = 0;
let loading = false;
const errors = new Map(); // message → count
const fail = (what) => errors.set(what, (errors.get(what) ?? 0) + 1);
const payload = 'x'.repeat(SIZE);

function device(i) {
  const id = `${prefix}-${i}`;
  const cred = f.hub
    ? hubCredentials(f.hub, id, f.key)
    : { clientId: id, topic: `devices/${id}/messages/events/` };
  const connect = connectPacket({ ...cred, keepAlive: 300 });
  const pub = publishPacket(cred.topic, payload);
  const d = { ws: null, n: 0, sentAt: 0, inflight: false, connected: false };
  d.send = () => {
    pub.setPacketId(packetId(d.n++));
    d.inflight = true;
    d.sentAt = performance.now();
    d.ws.send(pub.bytes);
  };
  d.open = () => new Promise((resolve) => {
    let settled = false;
    const done = (ok, why) => { if (!settled) { settled = true; if (!ok) fail(why); resolve(ok); } };
    const ws = new WebSocket(f.url, ['mqtt'], { perMessageDeflate: false, handshakeTimeout: CONNECT_TIMEOUT_MS });
    d.ws = ws;
    const reader = packetReader((type, bytes, start) => {
      if (type === 2) {
        if (bytes[start + 1] === 0) { d.connected = true; done(true); } else done(false, `CONNACK ${bytes[start + 1]}`);
      } else if (type === 4) {
        d.inflight = false;
        acked += 1;
        if (samples < MAX_SAMPLES) latencies[samples++] = performance.now() - d.sentAt;
        if (loading) d.send();
      }
    });
    ws.on('open', () => ws.send(connect));
    ws.on('message', (data) => reader.push(data));
    ws.on('error', (e) => done(false, e.code ?? e.message));
    ws.on('close', () => { d.connected = false; done(false, 'closed before CONNACK'); });
  });
  return d;
}

const devices = Array.from({ length: N }, (_, i) => device(i));
const cpu0 = cpuSecondsOf();
const t0 = performance.now();
let next = 0;
let connected = 0;
const connectDeadline = t0 + CONNECT_TIMEOUT_MS;
await Promise.all(Array.from({ length: Math.min(RAMP, N) }, async () => {
  while (next < N && performance.now() < connectDeadline) {
    if (await devices[next++].open()) connected += 1;
  }
}));
const connectMs = performance.now() - t0;
const live = devices.filter((d) => d.connected);
console.error(`load generator: ${live.length}/${N} connected in ${(connectMs / 1000).toFixed(1)} s`);
// The caller reads the server's memory with every connection open and idle, then the load starts.
console.log(`LOAD_CONNECTED ${live.length}`);
await new Promise((r) => setTimeout(r, 1000));

const cpu1 = cpuSecondsOf();
loading = true;
const l0 = performance.now();
for (const d of live) d.send();
await new Promise((r) => setTimeout(r, DURATION_MS));
loading = false;
const loadMs = performance.now() - l0;
const ackedInLoad = acked;
const cpu2 = cpuSecondsOf();
console.log('LOAD_END');
await new Promise((r) => setTimeout(r, 500));
const drainEnd = performance.now() + 3000;
while (live.some((d) => d.inflight && d.connected) && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, 50));
const stillConnected = live.filter((d) => d.connected).length;
for (const d of devices) {
  if (d.ws?.readyState === WebSocket.OPEN) d.ws.send(DISCONNECT);
  d.ws?.terminate();
}

const lat = latencies.subarray(0, samples).sort();
const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : null);
console.log(`LOAD_RESULT ${JSON.stringify({
  devices: N, connected: live.length, stillConnected, failed: N - live.length,
  errors: [...errors].slice(0, 5).map(([m, c]) => `${c}× ${m}`),
  connectS: connectMs / 1000, acked: ackedInLoad, msgps: (ackedInLoad / loadMs) * 1000,
  p50: pct(0.5), p99: pct(0.99), generatorCpuPct: ((cpu2 - cpu1) / (loadMs / 1000)) * 100, connectCpuS: cpu1 - cpu0,
})}`);
process.exit(0);

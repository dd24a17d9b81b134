#!/usr/bin/env node
// Benchmark: IoT Hub telemetry over MQTT over WebSocket (TLS) against the local emulator, this
// library's IotHubClient versus the official Node SDK (azure-iot-device + azure-iot-device-mqtt
// MqttWs), in the same run. Each sends N messages concurrently; the clock stops when every send
// has resolved (PUBACK). Also times connect (CONNECT→ready) for each.
//   node bench/hub-telemetry.mjs [N=2000] [rounds=3]
// Needs root (the official SDK dials port 443, so the emulator binds 443 on a loopback address of
// its own) and `npm run build`. Figures are reported, never asserted.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 3);
const KEY = Buffer.alloc(32, 9).toString('base64');

if (!process.env.BENCH_CHILD) {
  const { startEmulator, sdkArgs } = await import('../scripts/lib/emulator.mjs');
  const emu = await startEmulator({ args: [...sdkArgs(), '--quiet'] });
  try {
    for (const id of ['bench-ours', 'bench-sdk']) {
      await emu.service(`/devices/${id}`, {
        method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deviceId: id, primaryKey: KEY }),
      });
    }
    // NODE_EXTRA_CA_CERTS is read only at start-up: both clients run in a child that trusts the CA.
    const code = await new Promise((resolve) => {
      spawn(process.execPath, [fileURLToPath(import.meta.url), String(N), String(ROUNDS)], {
        stdio: 'inherit',
        env: { ...process.env, BENCH_CHILD: '1', NODE_EXTRA_CA_CERTS: emu.caPath, EMU_HOST: emu.hubHostname },
      }).on('exit', resolve);
    });
    process.exitCode = code;
  } finally {
    await emu.stop();
  }
} else {
  const require = createRequire(import.meta.url);
  const { Client, Message } = require('azure-iot-device');
  const { MqttWs } = require('azure-iot-device-mqtt');
  const { default: WebSocket } = await import('ws');
  const lib = await import('azure-iot-wasm');
  const host = process.env.EMU_HOST;

  async function ours() {
    const t0 = performance.now();
    const c = await lib.IotHubClient.connect({ hostName: host, deviceId: 'bench-ours', symmetricKey: KEY, WebSocket, maxInflight: 100 });
    const t1 = performance.now();
    await Promise.all(Array.from({ length: N }, (_, i) => c.sendEvent(`bench ${i}`, { properties: { i } })));
    const t2 = performance.now();
    await c.close();
    return { connect: t1 - t0, send: t2 - t1 };
  }

  async function sdk() {
    const t0 = performance.now();
    const c = Client.fromConnectionString(`HostName=${host};DeviceId=bench-sdk;SharedAccessKey=${KEY}`, MqttWs);
    await c.open();
    const t1 = performance.now();
    await Promise.all(Array.from({ length: N }, (_, i) => {
      const m = new Message(`bench ${i}`);
      m.properties.add('i', String(i));
      return c.sendEvent(m);
    }));
    const t2 = performance.now();
    await c.close();
    return { connect: t1 - t0, send: t2 - t1 };
  }

  await ours(); await sdk(); // warm-up
  const rows = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const a = await ours();
    const b = await sdk();
    rows.push({ a, b });
    console.log(`round ${r}: azure-iot-wasm ${(N / a.send * 1000).toFixed(0)} msg/s (connect ${a.connect.toFixed(0)} ms), official SDK ${(N / b.send * 1000).toFixed(0)} msg/s (connect ${b.connect.toFixed(0)} ms)`);
  }
  const med = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const a = med(rows.map((r) => r.a.send));
  const b = med(rows.map((r) => r.b.send));
  const ac = med(rows.map((r) => r.a.connect));
  const bc = med(rows.map((r) => r.b.connect));
  console.log(`\n${N} concurrent telemetry sends over WSS to the emulator (median of ${ROUNDS}):`);
  console.log(`  azure-iot-wasm IotHubClient   ${(N / a * 1000).toFixed(0)} msg/s, connect ${ac.toFixed(0)} ms`);
  console.log(`  official Node SDK (MqttWs)    ${(N / b * 1000).toFixed(0)} msg/s, connect ${bc.toFixed(0)} ms`);
  console.log(`  throughput ratio (ours / SDK) ${(b / a).toFixed(2)}x; connect ratio ${(bc / ac).toFixed(2)}x`);
  process.exit(0);
}

#!/usr/bin/env node
// `npm start` (after set-up and build): the main job.
//   1. starts the local emulator (DPS + IoT Hub; CORS for the demo page's origin only, and its
//      service key handed to the page through the same-origin /demo-config.json);
//   2. runs the quickstart once in Node against it: the registration result, then 10 sends and acks;
//   3. serves the demo page (www/, with the package under /pkg/ and examples/ under /examples/) on http://localhost;
//   4. ends with a summary: the demo URL, the emulator's endpoints and service key, and how to point
//      the CLI at a real DPS; then serves until Ctrl-C, which stops everything cleanly.
// Ports: PORT (demo, default 8000) and EMULATOR_HTTP_PORT (default 8080); 0 picks free ones, and a
// busy default falls back to a free port.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { startEmulator, quickstartEnrollment } from './lib/emulator.mjs';
import { serveStatic } from './lib/static-server.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// `npm start` (scripts/start.sh) has built it alongside the package; run alone, this builds it.
console.log('build: checking the emulator is up to date (cargo build -q -p iot-emulator)');
const build = spawnSync('cargo', ['build', '-q', '-p', 'iot-emulator'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

async function firstThatStarts(ports, start) {
  let last;
  for (const p of ports) {
    try { return await start(p); } catch (e) { last = e; }
  }
  throw last;
}

// The demo's server starts first: its origin is the only one the emulator lets in. It serves
// /demo-config.json (set below, once the emulator is up) to its own pages only.
const virtual = new Map();
const server = await firstThatStarts([process.env.PORT ?? '8000', '0'], (p) =>
  serveStatic(join(root, 'www'), { host: 'localhost', port: Number(p), virtual, mounts: { '/pkg/': join(root, 'pkg'), '/examples/': join(root, 'examples') } }));
const demoOrigins = [`http://localhost:${server.port}`, `http://127.0.0.1:${server.port}`];

const emuPort = process.env.EMULATOR_HTTP_PORT ?? '8080';
const emulator = await firstThatStarts([emuPort, '0'], (p) => startEmulator({ args: ['--cors', demoOrigins.join(','), '--http-port', String(p)] }));
const service = emulator.serviceUrl;
const individual = await quickstartEnrollment(emulator);
const groups = await (await emulator.service('/enrollmentGroups')).json().catch(() => []);
const group = Array.isArray(groups) ? groups[0] : undefined;

console.log(`\nEmulator: DPS and IoT Hub at ${emulator.httpUrl} (service API ${service})\n`);
console.log('Quickstart in Node against the emulator:\n');
const quickstart = spawnSync(process.execPath, [join(root, 'examples/provision_symmetric_key.mjs')], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PROVISIONING_HOST: emulator.httpUrl,
    PROVISIONING_IDSCOPE: emulator.idScope,
    PROVISIONING_REGISTRATION_ID: individual.registrationId,
    PROVISIONING_SYMMETRIC_KEY: individual.primaryKey,
  },
});
if (quickstart.status !== 0) console.error(`\nThe quickstart failed (exit ${quickstart.status}); the demo still starts.`);

const demoConfig = {
  dpsEndpoint: emulator.httpUrl,
  idScope: emulator.idScope,
  registrationId: individual.registrationId,
  individualKey: individual.primaryKey,
  groupKey: group?.primaryKey,
  groupRegistrationId: 'browser-device-001',
  serviceUrl: service,
  serviceKey: emulator.serviceKey,
};
virtual.set('/demo-config.json', JSON.stringify(demoConfig, null, 2));

// The summary: what runs where, and the way to a real DPS. (The emulator's own start-up lines are
// read by scripts/lib/emulator.mjs, not shown; the page's hint sends readers here for the key.)
const h = emulator.host;
console.log(`
Ready.
  Demo: http://localhost:${server.port}/
  Emulator over plain HTTP: ${emulator.httpUrl}  DPS REST; MQTT over WebSocket (DPS and IoT Hub) at ws://${h}:${emulator.httpPort}/$iothub/websocket
  Emulator over TLS: https://${h}:${emulator.httpsPort} (the same, HTTPS and WSS), MQTT over TLS on ${h}:${emulator.mqttsPort}; CA certificate ${emulator.caPath}
  Emulator service API: ${service}  with Authorization: Bearer ${emulator.serviceKey}
  ID scope ${emulator.idScope}; the quickstart's enrollment ${individual.registrationId}

The CLI against a real DPS, with the four variables of Azure's Python sample (none set: the emulator):
  PROVISIONING_HOST=global.azure-devices-provisioning.net PROVISIONING_IDSCOPE=<ID scope> \\
  PROVISIONING_REGISTRATION_ID=<registration id> PROVISIONING_SYMMETRIC_KEY=<device key> \\
  node examples/provision_symmetric_key.mjs

Ctrl-C stops the demo and the emulator.`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  await server.close();
  await emulator.stop();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

#!/usr/bin/env node
// `npm start` (after set-up and build): the main job.
//   1. starts the local emulator (DPS + IoT Hub; CORS for the demo page's origin only, and its
//      service key handed to the page through the same-origin /demo-config.json), and beside it
//      Azurite's Blob service, the storage its file uploads go to (CORS for the demo's origin too);
//   2. runs the quickstart once in Node against it: the registration result, then 10 sends and acks;
//   3. serves the demo page (www/, with the package under /pkg/ and examples/ under /examples/) on http://localhost;
//   4. ends with a summary: the demo URL, the emulator's endpoints and service key, where uploads are
//      stored, and how to point the CLI at a real DPS; then serves until Ctrl-C, which stops
//      everything cleanly.
// Ports: PORT (demo, default 8000), EMULATOR_HTTP_PORT (default 8080) and AZURITE_BLOB_PORT
// (default 10000, Azurite's own); 0 picks free ones, and a busy default falls back to a free port.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { startEmulator, quickstartEnrollment } from './lib/emulator.mjs';
import { startAzurite, fileUploadArgs, DEVSTORE_ACCOUNT, DEVSTORE_KEY, DEFAULT_CONTAINER } from './lib/azurite.mjs';
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

/** `port` if it can be bound on `host` now, else a free one (0: a free one). */
function freePort(host, port) {
  const tryPort = (p) => new Promise((resolve, reject) => {
    const s = createServer().once('error', reject);
    s.listen(p, host, () => { const bound = s.address().port; s.close(() => resolve(bound)); });
  });
  return tryPort(Number(port)).catch(() => tryPort(0));
}

// The demo's server starts first: its origin is the only one the emulator lets in. It serves
// /demo-config.json (set below, once the emulator is up) to its own pages only.
const virtual = new Map();
const server = await firstThatStarts([process.env.PORT ?? '8000', '0'], (p) =>
  serveStatic(join(root, 'www'), { host: 'localhost', port: Number(p), virtual, mounts: { '/pkg/': join(root, 'pkg'), '/examples/': join(root, 'examples') } }));
const demoOrigins = [`http://localhost:${server.port}`, `http://127.0.0.1:${server.port}`];

// Azurite and the emulator each take about 2 s to start, so they start together. The emulator
// must be given the blob endpoint when it starts, and only calls it once a device reports an
// upload: Azurite's port is chosen first, as tests/sdk/upload_stack.mjs does. Storage is only for
// file upload; if Azurite cannot start, the rest of the demo still runs and the start says why.
const storageHost = '127.0.0.1';
const storagePort = await freePort(storageHost, process.env.AZURITE_BLOB_PORT ?? '10000');
const storagePlan = { blobEndpoint: `http://${storageHost}:${storagePort}/${DEVSTORE_ACCOUNT}`, accountName: DEVSTORE_ACCOUNT, accountKey: DEVSTORE_KEY, container: DEFAULT_CONTAINER };
const emuPort = process.env.EMULATOR_HTTP_PORT ?? '8080';
const [emulatorStart, storageStart] = await Promise.allSettled([
  firstThatStarts([emuPort, '0'], (p) => startEmulator({ args: ['--cors', demoOrigins.join(','), '--http-port', String(p), ...fileUploadArgs(storagePlan)] })),
  startAzurite({ host: storageHost, port: storagePort, cors: demoOrigins }),
]);
if (emulatorStart.status === 'rejected') {
  await storageStart.value?.stop();
  await server.close();
  throw emulatorStart.reason;
}
const emulator = emulatorStart.value;
const storage = storageStart.value ?? null;
const service = emulator.serviceUrl;
const individual = await quickstartEnrollment(emulator);
const groups = await (await emulator.service('/enrollmentGroups')).json().catch(() => []);
const group = Array.isArray(groups) ? groups[0] : undefined;

console.log(`\nEmulator: DPS and IoT Hub at ${emulator.httpUrl} (service API ${service})`);
console.log(storage
  ? `Storage: Azurite's Blob service at ${storage.blobEndpoint}, container ${storage.container} (where the emulator's file uploads go)\n`
  : `Storage: Azurite did not start, so file upload fails at storage; the rest of the demo runs. Its error:\n${String(storageStart.reason?.message ?? storageStart.reason).replace(/^/gm, '  | ')}\n`);
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
  // Where uploads land (the page names it; the tests read uploads back with Azurite's published key).
  storage: storage && { blobEndpoint: storage.blobEndpoint, accountName: storage.accountName, container: storage.container },
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
  Storage for file upload: ${storage ? `Azurite's Blob service at ${storage.blobEndpoint}, container ${storage.container} (account ${storage.accountName}, Azurite's published key); notifications at ${service}/fileNotifications` : 'none (Azurite did not start, see above)'}
  ID scope ${emulator.idScope}; the quickstart's enrollment ${individual.registrationId}

The CLI against a real DPS, with the four variables of Azure's Python sample (none set: the emulator):
  PROVISIONING_HOST=global.azure-devices-provisioning.net PROVISIONING_IDSCOPE=<ID scope> \\
  PROVISIONING_REGISTRATION_ID=<registration id> PROVISIONING_SYMMETRIC_KEY=<device key> \\
  node examples/provision_symmetric_key.mjs

Ctrl-C stops the demo, the emulator and Azurite.`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  await Promise.all([server.close(), emulator.stop(), storage?.stop()]);
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

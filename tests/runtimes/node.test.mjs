// The packed package in Node 20, against the emulator: the quickstart (provision over REST,
// then 10 concurrent sends) with the `ws` package injected, and with Node's own WebSocket
// (`--experimental-websocket`) as the global default, which is what Node ≥ 22 does without a
// flag: over REST and over MQTT-WS, and with a counting WebSocket installed on globalThis to
// show that the global is the one both provisioning and the hub use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { setUp, storedMessages } from './harness.mjs';

let ctx;
before(async () => {
  ctx = await setUp();
  writeFileSync(join(ctx.dir, 'main.mjs'), `
import * as lib from 'azure-iot-wasm';
import { quickstart } from './quickstart.mjs';
const params = JSON.parse(process.argv[2]);
const socket = params.wsModule ? { WebSocket: (await import(params.wsModule)).default } : {};
const out = await quickstart(lib, { ...params, socket }, (line) => console.log(line));
console.log('RESULT ' + JSON.stringify(out));
`);
  // Node 20 has no global WebSocket: install one (the ws package, counting what it opens) the
  // way Node 22 has one, before the package loads; pass none.
  writeFileSync(join(ctx.dir, 'global_ws.mjs'), `
const params = JSON.parse(process.argv[2]);
const { default: WS } = await import(params.wsModule);
const opened = [];
globalThis.WebSocket = class extends WS {
  constructor(url, protocols) { super(url, protocols); opened.push([url, protocols]); }
};
const lib = await import('azure-iot-wasm');
const { quickstart } = await import('./quickstart.mjs');
const out = await quickstart(lib, { ...params, socket: {} });
console.log('RESULT ' + JSON.stringify({ ...out, opened }));
`);
});
after(() => ctx?.emu.stop());

function runQuickstart(nodeArgs, extra, script = 'main.mjs') {
  const out = execFileSync('node', [...nodeArgs, script, JSON.stringify({ ...ctx.params, ...extra })], {
    cwd: ctx.dir, encoding: 'utf8', timeout: 60_000,
  });
  const result = JSON.parse(out.split('\n').find((l) => l.startsWith('RESULT ')).slice(7));
  return { out, result };
}

const wsModule = pathToFileURL(fileURLToPath(new URL('../../node_modules/ws/wrapper.mjs', import.meta.url))).href;

test('node 20 with the ws package injected provisions and sends 10 acknowledged messages', async () => {
  const before = (await storedMessages(ctx.emu, 'python-device-008')).length;
  const { out, result } = runQuickstart([], { wsModule });
  assert.equal(result.deviceId, 'python-device-008');
  for (let i = 1; i <= 10; i++) {
    assert.match(out, new RegExp(`^sending message #${i}$`, 'm'));
    assert.match(out, new RegExp(`^done sending message #${i}$`, 'm'));
  }
  assert.equal((await storedMessages(ctx.emu, 'python-device-008')).length, before + 10);
});

test('node 20 with --experimental-websocket uses the global WebSocket by default', async () => {
  const before = (await storedMessages(ctx.emu, 'python-device-008')).length;
  const { result } = runQuickstart(['--experimental-websocket'], {});
  assert.equal(result.sent, 10);
  assert.equal((await storedMessages(ctx.emu, 'python-device-008')).length, before + 10);
});

test('node 20 with --experimental-websocket provisions over MQTT-WS and connects with the global WebSocket, none passed', async () => {
  const before = (await storedMessages(ctx.emu, 'python-device-008')).length;
  const { result } = runQuickstart(['--experimental-websocket'], { provisioningTransport: 'mqtt-ws' });
  assert.deepEqual(result, { deviceId: 'python-device-008', assignedHub: ctx.emu.hubHostname, status: 'assigned', sent: 10 });
  assert.equal((await storedMessages(ctx.emu, 'python-device-008')).length, before + 10);
});

test('a WebSocket on globalThis is the default for MQTT-WS provisioning and the hub: it opens both connections', async () => {
  const before = (await storedMessages(ctx.emu, 'python-device-008')).length;
  const { result } = runQuickstart([], { wsModule, provisioningTransport: 'mqtt-ws' }, 'global_ws.mjs');
  assert.equal(result.sent, 10);
  const ws = `ws://${ctx.emu.host}:${ctx.emu.httpPort}/$iothub/websocket`;
  assert.deepEqual(result.opened, [[ws, ['mqtt']], [ctx.params.hubUrl, ['mqtt']]]);
  assert.equal((await storedMessages(ctx.emu, 'python-device-008')).length, before + 10);
});

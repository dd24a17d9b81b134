// The packed package in Node 20, against the emulator: the quickstart (provision over REST,
// then 10 concurrent sends) with the `ws` package injected, and with Node's own WebSocket
// (`--experimental-websocket`) as the global default.
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
});
after(() => ctx?.emu.stop());

function runQuickstart(nodeArgs, extra) {
  const out = execFileSync('node', [...nodeArgs, 'main.mjs', JSON.stringify({ ...ctx.params, ...extra })], {
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

// The packed package in Deno (the npm `deno` binary), resolved through the package's `deno`
// export condition, against the emulator with only loopback network access: imported by bare
// name from an npm install, and as `npm:azure-iot-wasm` the way the README shows, fetched by
// Deno itself from a registry (the same tarball, served on 127.0.0.1: NPM_CONFIG_REGISTRY).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setUp, storedMessages } from './harness.mjs';
import { serveRegistry } from '../support/npm_registry.mjs';

const deno = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));
let ctx;
before(async () => { ctx = await setUp(); });
after(() => ctx?.emu.stop());

test('deno provisions and sends 10 acknowledged messages with its global WebSocket', async () => {
  writeFileSync(join(ctx.dir, 'deno_main.mjs'), `
import * as lib from 'azure-iot-wasm';
import { quickstart } from './quickstart.mjs';
const out = await quickstart(lib, JSON.parse(Deno.args[0]), (line) => console.log(line));
console.log('RESULT ' + JSON.stringify(out));
`);
  const out = execFileSync(deno, ['run', '--allow-net=127.0.0.1', '--allow-read=.', 'deno_main.mjs', JSON.stringify(ctx.params)], {
    cwd: ctx.dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  });
  const result = JSON.parse(out.split('\n').find((l) => l.startsWith('RESULT ')).slice(7));
  assert.equal(result.deviceId, 'python-device-008');
  assert.match(out, /^done sending message #10$/m);
  assert.equal((await storedMessages(ctx.emu, 'python-device-008')).length, 10);
});

test("deno imports 'npm:azure-iot-wasm' from a registry, provisions and sends 10 acknowledged messages", async () => {
  const tarball = join(ctx.dir, readdirSync(ctx.dir).find((f) => f.endsWith('.tgz')));
  const registry = await serveRegistry({ tarball, name: 'azure-iot-wasm', version: '0.1.0' });
  // No package.json or node_modules here: the only way to the package is the registry.
  const dir = mkdtempSync(join(tmpdir(), 'deno-npm-'));
  try {
    copyFileSync(join(ctx.dir, 'quickstart.mjs'), join(dir, 'quickstart.mjs'));
    writeFileSync(join(dir, 'main.mjs'), `
import * as lib from 'npm:azure-iot-wasm';
import { quickstart } from './quickstart.mjs';
const out = await quickstart(lib, JSON.parse(Deno.args[0]));
console.log('RESULT ' + JSON.stringify(out));
`);
    const before = (await storedMessages(ctx.emu, 'python-device-008')).length;
    const denoDir = join(dir, 'deno-cache');
    // Not execFileSync: the registry answers from this process's event loop.
    const { stdout: out } = await promisify(execFile)(deno, ['run', '--allow-net=127.0.0.1', `--allow-read=.,${denoDir}`, 'main.mjs', JSON.stringify(ctx.params)], {
      cwd: dir, encoding: 'utf8', timeout: 60_000,
      env: { ...process.env, NPM_CONFIG_REGISTRY: registry.url, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    const result = JSON.parse(out.split('\n').find((l) => l.startsWith('RESULT ')).slice(7));
    assert.deepEqual(result, { deviceId: 'python-device-008', assignedHub: ctx.emu.hubHostname, status: 'assigned', sent: 10 });
    assert.deepEqual(registry.requests, ['/azure-iot-wasm', `/azure-iot-wasm/-/${tarball.split('/').pop()}`]);
    assert.equal((await storedMessages(ctx.emu, 'python-device-008')).length, before + 10);
  } finally {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

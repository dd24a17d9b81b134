// The packed package in Deno (the npm `deno` binary), resolved through the package's `deno`
// export condition, against the emulator with only loopback network access.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setUp, storedMessages } from './harness.mjs';

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

// A web app built with Vite 7 that imports the packed package by name: the build succeeds, and
// the built page runs the quickstart in Chromium against the emulator (CORS for the page's origin), with the
// browser's own WebSocket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setUp, storedMessages, appMainSource, runBuiltApp } from './harness.mjs';

const vite = fileURLToPath(new URL('../../node_modules/.bin/vite', import.meta.url));
let ctx;
before(async () => { ctx = await setUp({ servePage: 'dist' }); });
after(async () => { await ctx?.page.close(); await ctx?.emu.stop(); });

test('a Vite build of an app importing the package works in Chromium and sends 10 messages', { timeout: 120_000 }, async () => {
  writeFileSync(join(ctx.dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>app</title><pre id="out">running</pre><script type="module" src="/main.js"></script>');
  writeFileSync(join(ctx.dir, 'main.js'), appMainSource);
  execFileSync(vite, ['build', '--logLevel', 'warn'], { cwd: ctx.dir, stdio: 'inherit', timeout: 90_000 });
  const assets = readdirSync(join(ctx.dir, 'dist/assets'));
  assert.ok(assets.some((a) => a.endsWith('.wasm')), 'the .wasm is emitted as an asset');

  const text = await runBuiltApp(ctx);
  assert.match(text, /^RESULT /, text);
  assert.equal(JSON.parse(text.slice(7)).deviceId, 'python-device-008');
  assert.equal((await storedMessages(ctx.emu, 'python-device-008')).length, 10);
});

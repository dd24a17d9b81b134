// A web app built with webpack 5 (webpack-cli) that imports the packed package by name: the build
// succeeds, emits the .wasm as an asset, and the built page runs the quickstart in Chromium
// against the emulator (CORS for the page's origin) with the browser's own WebSocket. The Vite
// counterpart is vite.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setUp, storedMessages, appMainSource, runBuiltApp } from './harness.mjs';

const webpack = fileURLToPath(new URL('../../node_modules/.bin/webpack', import.meta.url));
let ctx;
before(async () => { ctx = await setUp({ servePage: 'dist' }); });
after(async () => { await ctx?.page.close(); await ctx?.emu.stop(); });

test('a webpack build of an app importing the package works in Chromium and sends 10 messages', { timeout: 120_000 }, async () => {
  writeFileSync(join(ctx.dir, 'webpack.config.mjs'), `
export default {
  mode: 'production',
  entry: './main.js',
  output: { path: new URL('./dist', import.meta.url).pathname, filename: 'main.js', publicPath: '/', clean: true },
  performance: { hints: false },
};
`);
  writeFileSync(join(ctx.dir, 'main.js'), appMainSource);
  execFileSync(webpack, ['--config', 'webpack.config.mjs', '--no-color'], { cwd: ctx.dir, stdio: ['ignore', 'ignore', 'inherit'], timeout: 90_000 });
  // The page is written after the build (output.clean empties dist/ first).
  writeFileSync(join(ctx.dir, 'dist/index.html'), '<!doctype html><meta charset="utf-8"><title>app</title><pre id="out">running</pre><script src="/main.js"></script>');
  const emitted = readdirSync(join(ctx.dir, 'dist'));
  assert.ok(emitted.some((a) => a.endsWith('.wasm')), `the .wasm is emitted as an asset: ${emitted}`);

  const text = await runBuiltApp(ctx);
  assert.match(text, /^RESULT /, text);
  assert.deepEqual(JSON.parse(text.slice(7)), { deviceId: 'python-device-008', assignedHub: ctx.emu.hubHostname, status: 'assigned', sent: 10 });
  assert.equal((await storedMessages(ctx.emu, 'python-device-008')).length, 10);
});

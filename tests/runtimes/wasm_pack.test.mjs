// `wasm-pack test --headless --chrome`, as the README promises it works for users of wasm-bindgen
// crates: wasm-pack finds Debian's chromedriver on PATH, wasm-bindgen-test-runner reads the
// crate's webdriver.json (the Chromium flags a root, offline machine needs), and the browser
// suite tests/web_auth_browser.rs passes in full. (npm test runs every wasm suite the cargo way;
// this runs one the wasm-pack way, so the promise is kept without doubling that step.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cargoSummary } from '../../scripts/lib/test-counts.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SUITE = 'web_auth_browser';

/** `#[wasm_bindgen_test]` functions in the suite and the files it `include!`s. */
function testsInSuite() {
  const file = join(root, 'tests', `${SUITE}.rs`);
  const text = readFileSync(file, 'utf8');
  const included = [...text.matchAll(/^include!\("([^"]+)"\);/gm)].map((m) => readFileSync(join(root, 'tests', m[1]), 'utf8'));
  return [text, ...included].reduce((n, t) => n + (t.match(/^\s*#\[wasm_bindgen_test\]/gm) ?? []).length, 0);
}

test('wasm-pack test --headless --chrome runs the browser suite with the crate\'s webdriver.json', { timeout: 600_000 }, async () => {
  const env = {
    ...process.env,
    PATH: `${join(root, 'node_modules/.bin')}:${process.env.HOME ?? ''}/.cargo/bin:${process.env.PATH}`,
    CARGO_TERM_COLOR: 'never',
  };
  const out = await new Promise((resolve) => {
    const child = spawn('wasm-pack', ['test', '--headless', '--chrome', '--', '--test', SUITE], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('error', (e) => resolve({ code: -1, text: `${text}\n${e.message}` }));
    child.on('exit', (code) => resolve({ code, text }));
  });
  assert.equal(out.code, 0, out.text);
  assert.match(out.text, /Running headless tests in Chrome/, out.text);
  assert.match(out.text, /Try find `webdriver\.json` for configure browser's capabilities:\nOk\n/, 'webdriver.json found and read');
  const expected = testsInSuite();
  assert.ok(expected > 0);
  assert.deepEqual(cargoSummary(out.text), { passed: expected, failed: 0, ignored: 0, binaries: 1, started: 1 }, out.text);
});

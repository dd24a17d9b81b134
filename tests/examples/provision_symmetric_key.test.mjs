// examples/provision_symmetric_key.mjs, the quickstart CLI, run as a user runs it: with none of
// the four PROVISIONING_* variables set it starts the local emulator, provisions, sends the 10
// messages (each `done` line is printed on its PUBACK) and stops the emulator again; with only
// some of them set it names the missing ones and exits 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../support/child.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const VARS = ['PROVISIONING_HOST', 'PROVISIONING_IDSCOPE', 'PROVISIONING_REGISTRATION_ID', 'PROVISIONING_SYMMETRIC_KEY'];

function runExample(extraEnv = {}) {
  const env = { ...process.env, ...extraEnv };
  for (const v of VARS) if (!(v in extraEnv)) delete env[v];
  return runProcess(process.execPath, ['examples/provision_symmetric_key.mjs'], { cwd: root, env });
}

function portOpen(port, host) {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

test('with no PROVISIONING_* variables the CLI starts the emulator, provisions, sends 10 acknowledged messages and stops it', { timeout: 120_000 }, async () => {
  const out = await runExample();
  assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
  const started = out.stdout.match(/^No PROVISIONING_\* variables set: using the local emulator at http:\/\/(127\.0\.0\.1):(\d+)$/m);
  assert.ok(started, out.stdout);
  const lines = out.stdout.split('\n');
  const result = lines.indexOf('The complete registration result is');
  assert.deepEqual(lines.slice(result + 1, result + 5), ['python-device-008', 'localhost', 'initialAssignment', 'null']);
  for (let i = 1; i <= 10; i++) {
    assert.equal(lines.filter((l) => l === `sending message #${i}`).length, 1, `sending #${i}`);
    assert.equal(lines.filter((l) => l === `done sending message #${i}`).length, 1, `done #${i}`);
  }
  assert.equal(await portOpen(Number(started[2]), started[1]), false, 'the emulator it started is gone');
});

test('with only some PROVISIONING_* variables set the CLI names the missing ones and exits 2', async () => {
  const out = await runExample({ PROVISIONING_HOST: 'http://127.0.0.1:9', PROVISIONING_IDSCOPE: '0ne00000A0A' });
  assert.equal(out.code, 2);
  assert.match(out.stderr, /^Set PROVISIONING_REGISTRATION_ID, PROVISIONING_SYMMETRIC_KEY \(or none of the four, to use the local emulator\)\.$/m);
  assert.doesNotMatch(out.stdout, /using the local emulator/);
});

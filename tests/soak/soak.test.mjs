// `npm run soak` inside the test run: 60 s of the library under random faults in Node and in
// headless Chromium (scripts/soak.mjs), each ending "N sent, 0 lost, 0 unsettled" with N at least
// 10,000 and every kind of fault met; and a run whose emulator forgets messages, to show that
// the soak counts a loss and fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../support/child.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const LAST = /^soak: (\d+) sent, (\d+) lost, (\d+) unsettled, (\d+) duplicates, (\d+) faults$/;
const FAULTS = /^soak: faults: (\d+) drops, (\d+) PUBACK withholds, (\d+) PUBACK delays, (\d+) token-lifetime closes, (\d+) DPS 429, (\d+) DPS 503;/m;

// The soak abandons itself after 3 × its duration + 180 s; this bound is only for a hung child.
const soak = (args) => runProcess('node', ['scripts/soak.mjs', ...args], { cwd: root, timeoutMs: 420_000 });

function lastLine(out) {
  const lines = out.stdout.trim().split('\n');
  const m = LAST.exec(lines[lines.length - 1]);
  assert.ok(m, `the run ends with the soak line:\n${out.stdout}\n${out.stderr}`);
  return { sent: +m[1], lost: +m[2], unsettled: +m[3], duplicates: +m[4], faults: +m[5] };
}

for (const runtime of ['node', 'chromium']) {
  test(`a 60 s soak in ${runtime} sends at least 10,000 messages under every kind of fault and loses or strands none`, { timeout: 450_000 }, async () => {
    const out = await soak(['--duration', '60', '--runtime', runtime]);
    console.log(out.stdout.trim());
    const r = lastLine(out);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(r.sent >= 10_000, `${r.sent} sent`);
    assert.equal(r.lost, 0);
    assert.equal(r.unsettled, 0);
    const [, ...kinds] = FAULTS.exec(out.stdout).map(Number);
    assert.ok(kinds.every((n) => n > 0), 'each kind of fault was met: drops, withholds, delays, token-lifetime closes, DPS 429, DPS 503');
    assert.equal(r.faults, kinds.reduce((a, b) => a + b));
  });
}

test('a soak whose hub keeps only 50 messages a device counts the forgotten ones as lost and exits 1', { timeout: 450_000 }, async () => {
  const out = await soak(['--duration', '5', '--devices', '2', '--min-messages', '400', '--retention', '50']);
  const r = lastLine(out);
  assert.equal(out.code, 1, out.stdout);
  assert.ok(r.sent >= 400 && r.lost >= r.sent - 2 * 50 - 64 * 2, `${r.lost} of ${r.sent} lost`);
});

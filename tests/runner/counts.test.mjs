// How `npm test` counts (scripts/lib/test-counts.mjs): only the summary that ends node's TAP
// output counts, whatever a test prints; skipped and todo tests are reported; cargo's per-binary
// result lines are summed, and a binary that started without one is noticed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cargoSummary, nodeSummary } from '../../scripts/lib/test-counts.mjs';

const fixture = fileURLToPath(new URL('./fixtures/mixed_results.mjs', import.meta.url));

test('a real node --test run is counted from its closing summary, not from lines a test prints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'counts-'));
  try {
    const tap = join(dir, 'out.tap');
    // A top-level run, not a child of this one (NODE_TEST_CONTEXT would make it report to us).
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    // The fixture fails on purpose: node exits 1.
    assert.throws(() => execFileSync(process.execPath, ['--test', '--test-reporter=tap', `--test-reporter-destination=${tap}`, fixture], { stdio: 'ignore', env }));
    const text = readFileSync(tap, 'utf8');
    assert.match(text, /# pass 999/, 'the fake line is in the file');
    assert.deepEqual(nodeSummary(text), { tests: 5, suites: 0, pass: 1, fail: 1, cancelled: 0, skipped: 1, todo: 2 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a TAP text that does not end with a summary has none', () => {
  const summary = '# tests 1\n# suites 0\n# pass 1\n# fail 0\n# cancelled 0\n# skipped 0\n# todo 0\n# duration_ms 5.1\n';
  assert.equal(nodeSummary(''), null);
  assert.equal(nodeSummary(`${summary}ok 2 - printed after the summary\n`), null);
  assert.equal(nodeSummary(summary.replace('# pass 1\n', '')), null);
  assert.deepEqual(nodeSummary(`ok 1 - x\n${summary}`), { tests: 1, suites: 0, pass: 1, fail: 0, cancelled: 0, skipped: 0, todo: 0 });
});

test('cargo and wasm-bindgen-test result lines are summed with their ignored tests, and binaries counted', () => {
  const text = [
    '     Running unittests src/lib.rs (target/debug/deps/a-1)',
    'test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s',
    '     Running tests/b.rs (target/debug/deps/b-2)',
    'some test printed: test result: ok. 999 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s',
    'test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.50s',
    '     Running tests/web.rs (target/wasm32-unknown-unknown/debug/deps/web-3.wasm)',
    'test result: ok. 4 passed; 0 failed; 2 ignored; 0 filtered out; finished in 1.20s',
    '   Doc-tests a',
  ].join('\n');
  assert.deepEqual(cargoSummary(text), { passed: 9, failed: 1, ignored: 3, binaries: 3, started: 4 });
});

test('a wasm binary with no wasm tests in it is a result of zero, and a silent one is still missing', () => {
  const text = [
    '     Running tests/native_only.rs (target/wasm32-unknown-unknown/debug/deps/native_only-4.wasm)',
    'no tests to run!',
    '     Running tests/web.rs (target/wasm32-unknown-unknown/debug/deps/web-5.wasm)',
    'test result: ok. 2 passed; 0 failed; 0 ignored; 0 filtered out; finished in 0.10s',
    '     Running tests/crashed.rs (target/wasm32-unknown-unknown/debug/deps/crashed-6.wasm)',
  ].join('\n');
  assert.deepEqual(cargoSummary(text), { passed: 2, failed: 0, ignored: 0, binaries: 2, started: 3 });
});

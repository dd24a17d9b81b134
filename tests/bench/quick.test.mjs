// The benchmarks in quick mode (`node bench/run.mjs --quick`: tiny counts, every benchmark), so
// the scripts cannot rot: the run exits 0 and produced every row of every table. Nothing about
// speed is asserted. Needs root like the SDK tests (the fleet's official SDK dials port 443).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../support/child.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('node bench/run.mjs --quick exits 0 with every row of every benchmark', { timeout: 540_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-quick-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'results.json');
  const md = join(dir, 'RESULTS.md');
  const r = await runProcess(process.execPath, ['bench/run.mjs', '--quick', '--out', md, '--json', json], { cwd: root, timeoutMs: 520_000 });
  assert.equal(r.code, 0, `bench/run.mjs --quick failed:\n${r.stderr.slice(-4000)}`);
  const { groups, failures } = JSON.parse(readFileSync(json, 'utf8'));
  assert.deepEqual(failures, []);
  const rows = Object.fromEntries(groups.map((g) => [g.id, g.rows.map((x) => x.key)]));
  assert.deepEqual(rows, {
    'browser.mosquitto.256': ['mqttjs', 'paho', 'ours', 'ours500', 'nolib'],
    'browser.mosquitto.16384': ['mqttjs', 'paho', 'ours', 'ours500', 'nolib'],
    'browser.hub.256': ['hubOurs', 'hubOurs500', 'hubMqttjs', 'hubNolib'],
    'browser.hub.16384': ['hubOurs', 'hubOurs500', 'hubMqttjs', 'hubNolib'],
    'cold.hub': ['ours', 'mqttjs', 'nolib'],
    'cold.quickstart': ['rest', 'mqttws'],
    'edge.workerd': ['ours', 'ours500', 'nolib'],
    'fleet.polling': ['ours', 'sdk', 'nolib'],
    'fleet.first-poll': ['ours', 'sdk', 'nolib'],
    'fleet.memory': ['ours', 'sdk', 'nolib'],
    capacity: ['emulator', 'mosquitto'],
  });
  for (const g of groups) {
    for (const row of g.rows) {
      for (const m of g.metrics) {
        if (m.key.startsWith('wasm') && row.key !== 'ours') continue; // only ours has wasm memory
        assert.ok(Number.isFinite(row.values[m.key]), `${g.id} ${row.key}: ${m.key} is ${row.values[m.key]}`);
      }
    }
  }
  const text = readFileSync(md, 'utf8');
  for (const heading of ['## Machine', '## Goals', '## 1. Browser throughput', '## 2. Cold start', '## 3. Fleet', '## 4. Edge', '## 5. Emulator capacity']) {
    assert.ok(text.includes(heading), `RESULTS.md lacks ${heading}`);
  }
});

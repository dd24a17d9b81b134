// Official Python SDK (azure-iot-device 2.x in .venv, see scripts/sdk-requirements.txt), unchanged:
// the quickstart flow (provision, connect to the assigned hub, 10 concurrent sends) over
// MQTT/TLS (port 8883) and over WebSockets (port 443); the 10 messages must be stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startEmulator, sdkArgs } from '../../scripts/lib/emulator.mjs';
import { runProcess } from '../support/child.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const python = path.join(root, '.venv', 'bin', 'python');
const script = fileURLToPath(new URL('./python_quickstart.py', import.meta.url));

for (const websockets of [false, true]) {
  const name = websockets ? 'websockets=True (WSS on 443)' : 'MQTT over TLS (8883)';
  test(`the official Python SDK quickstart stores all 10 concurrent messages over ${name}`, { timeout: 120_000 }, async (t) => {
    assert.ok(existsSync(python), 'missing .venv: python3 -m venv .venv && .venv/bin/pip install -r scripts/sdk-requirements.txt');
    const emu = await startEmulator({ args: sdkArgs() });
    t.after(() => emu.stop());
    const enrollments = await (await emu.service('/enrollments')).json();
    const e = enrollments.find((x) => x.registrationId === 'symm-key-python-device-008');
    const out = await runProcess(python, [script, emu.hubHostname, emu.idScope, e.registrationId, e.primaryKey, emu.caPath, websockets ? '1' : '0']);
    assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}\n--- emulator ---\n${emu.logs()}`);
    const result = JSON.parse(out.stdout.trim().split('\n').pop());
    assert.deepEqual(result, { assignedHub: emu.hubHostname, deviceId: 'python-device-008', sent: 10 });
    const stored = await (await emu.service('/telemetry?deviceId=python-device-008')).json();
    assert.equal(stored.length, 10);
    assert.deepEqual(stored.map((m) => JSON.parse(m.body).n).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const m of stored) {
      assert.equal(m.properties.quickstart, 'python');
      assert.equal(m.systemProperties['content-type'], 'application/json');
    }
  });
}

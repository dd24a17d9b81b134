// Official Python SDK (azure-iot-device 2.x in .venv), unchanged, against the emulator's hub
// beyond telemetry (python_sdk.test.mjs covers the quickstart): twin get and reported patch, a
// desired update, C2D and a direct method (tests/sdk/python_hub.py), over MQTT/TLS on 8883 and
// over WebSockets on 443. The script checks each step through the service API; this checks that
// every step ran and what the cloud side holds afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startEmulator, sdkArgs } from '../../scripts/lib/emulator.mjs';
import { addDevice } from '../support/emulator_peer.mjs';
import { runProcess } from '../support/child.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const python = path.join(root, '.venv', 'bin', 'python');
const script = fileURLToPath(new URL('./python_hub.py', import.meta.url));
const STEPS = ['connect', 'twin-get', 'twin-reported', 'twin-desired', 'c2d', 'direct-method'];
const KEY = Buffer.alloc(32, 4).toString('base64');

for (const websockets of [false, true]) {
  const name = websockets ? 'websockets=True (WSS on 443)' : 'MQTT over TLS (8883)';
  test(`the official Python SDK gets and patches its twin, receives a desired update, a C2D message and a method over ${name}`, { timeout: 120_000 }, async (t) => {
    assert.ok(existsSync(python), 'missing .venv: python3 -m venv .venv && .venv/bin/pip install -r scripts/sdk-requirements.txt');
    const emu = await startEmulator({ args: sdkArgs() });
    t.after(() => emu.stop());
    const deviceId = `python-hub-${websockets ? 'ws' : 'tls'}`;
    await addDevice(emu, deviceId, KEY);
    const out = await runProcess(python, [script, emu.hubHostname, deviceId, KEY, emu.caPath, websockets ? '1' : '0', emu.serviceUrl, emu.serviceKey]);
    const steps = out.stdout.split('\n').filter((l) => l.startsWith('STEP ')).map((l) => l.split(' ')[1]);
    assert.deepEqual(steps, STEPS, `${out.stdout}\n${out.stderr}\n--- emulator ---\n${emu.logs()}`);
    assert.equal(out.code, 0, out.stderr);
    const seen = JSON.parse(out.stdout.trim().split('\n').pop());
    assert.deepEqual(seen, {
      reported: { firmware: 'py-1.0', nested: { a: 1 }, $version: 2 },
      desired: { targetTemperature: 21, $version: 2 },
      c2d: 'hello python',
      method: { status: 200, payload: { echo: { on: true }, name: 'setLed' } },
    });
    const twin = await (await emu.service(`/twins/${deviceId}`)).json();
    assert.deepEqual(twin.properties, { desired: { targetTemperature: 21, $version: 2 }, reported: { firmware: 'py-1.0', nested: { a: 1 }, $version: 2 } });
    const c2d = await (await emu.service(`/devices/${deviceId}/messages`)).json();
    assert.deepEqual(c2d.map((m) => [m.messageId, m.state]), [['py-c2d-1', 'completed']]);
  });
}

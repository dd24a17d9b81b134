// The official Python service SDK (azure-iot-hub 2.x in .venv, see scripts/sdk-requirements.txt),
// unchanged, side by side with a device of this library (tests/sdk/python_service.py): it reads
// and patches the device's twin under its ETag, invokes a method the device answers, and manages
// the registry, with the emulator's printed connection string on 443 of a loopback address of
// its own (sdkArgs), trusting the emulator's CA through REQUESTS_CA_BUNDLE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import WebSocket from 'ws';
import * as lib from 'azure-iot-wasm';
import { startEmulator, sdkArgs } from '../../scripts/lib/emulator.mjs';
import { runProcess } from '../support/child.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const python = path.join(root, '.venv', 'bin', 'python');
const script = fileURLToPath(new URL('./python_service.py', import.meta.url));

test('the official Python service SDK patches the twin of a device of this library, invokes its method and manages the registry', { timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(python), 'missing .venv: bash scripts/setup.sh test');
  const emu = await startEmulator({ args: sdkArgs() });
  t.after(() => emu.stop());
  const group = (await (await emu.service('/enrollmentGroups')).json())[0];
  const reg = await lib.provision({ idScope: emu.idScope, registrationId: `python-service-${process.pid}`, groupKey: group.primaryKey, endpoint: emu.httpUrl, transport: 'https', minPollMs: 1000 });
  const device = await lib.IotHubClient.connect({ provisioning: reg, url: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`, WebSocket });
  t.after(() => device.close());
  const desired = [];
  device.onDesiredPropertiesUpdate((patch) => desired.push(patch));
  device.onMethod('setLed', (req) => ({ status: 202, payload: { on: req.payload.on, by: 'azure-iot-wasm' } }));

  const out = await runProcess(python, [script, emu.serviceConnectionString, reg.deviceId], {
    env: { ...process.env, REQUESTS_CA_BUNDLE: emu.caPath },
  });
  const steps = out.stdout.split('\n').filter((l) => l.startsWith('STEP ')).map((l) => l.split(' ')[1]);
  assert.deepEqual(steps, ['twin', 'method', 'registry'], `${out.stdout}\n${out.stderr}\n--- emulator ---\n${emu.logs()}`);
  assert.equal(out.code, 0, out.stderr);
  const seen = JSON.parse(out.stdout.trim().split('\n').pop());
  assert.deepEqual(seen.method, { status: 202, payload: { on: false, by: 'azure-iot-wasm' } });
  assert.equal(seen.desiredAfter.fromPython, 1);
  assert.ok(desired.some((p) => p.fromPython === 1), `the device got the patch: ${JSON.stringify(desired)}`);
  const twin = await (await emu.service(`/twins/${reg.deviceId}`)).json();
  assert.equal(twin.properties.desired.fromPython, 1, "the emulator's own API sees the Python SDK's patch");
});

// Official Node SDKs, unchanged, against the emulator: provisioning over HTTPS (individual and
// group enrollments), then IoT Hub over MqttWs: telemetry, C2D, twin, direct method. The SDK
// side runs in a child process because NODE_EXTRA_CA_CERTS is read only at start-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmulator, sdkArgs } from '../../scripts/lib/emulator.mjs';

const flow = fileURLToPath(new URL('./node_sdk_flow.mjs', import.meta.url));
const STEPS = ['provision-individual', 'provision-group', 'connect-mqttws', 'telemetry-with-properties', 'c2d', 'twin-get', 'twin-reported', 'twin-desired', 'direct-method', 'close'];

test('the official Node SDK provisions and uses the hub over MqttWs against the emulator', { timeout: 120_000 }, async (t) => {
  const emu = await startEmulator({ args: sdkArgs() });
  t.after(() => emu.stop());
  const out = await new Promise((resolve) => {
    const child = spawn(process.execPath, [flow], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: emu.caPath, EMU_HOST: emu.hubHostname, EMU_SERVICE: emu.serviceUrl, EMU_SERVICE_KEY: emu.serviceKey, EMU_SCOPE: emu.idScope },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
  const done = out.stdout.split('\n').filter((l) => l.startsWith('STEP ')).map((l) => l.split(' ')[1]);
  assert.deepEqual(done, STEPS, `SDK flow stopped early:\n${out.stdout}\n${out.stderr}\n--- emulator log ---\n${emu.logs()}`);
  assert.equal(out.code, 0, out.stderr);
});

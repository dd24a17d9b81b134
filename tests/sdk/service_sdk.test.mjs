// The official Node service SDKs, unchanged, against the emulator with its printed connection
// strings (tests/sdk/service_sdk_flow.mjs): an enrollment group from azure-iot-provisioning-service,
// a device of it provisioned by this library, its twin read and patched and a method invoked with
// azure-iothub, the registry managed; then the emulator's own API checks what the back end did.
// The SDKs have no port option, so the emulator serves HTTPS on 443 of a loopback address of its
// own (sdkArgs) and the child trusts its CA through NODE_EXTRA_CA_CERTS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startEmulator, sdkArgs } from '../../scripts/lib/emulator.mjs';
import { runProcess } from '../support/child.mjs';

const flow = fileURLToPath(new URL('./service_sdk_flow.mjs', import.meta.url));
const STEPS = ['enrollment-group', 'provision-with-library', 'twin-desired', 'direct-method', 'registry'];

test('the official Node service SDKs create an enrollment group, patch a twin, invoke a method and manage the registry on the emulator', { timeout: 150_000 }, async (t) => {
  const emu = await startEmulator({ args: sdkArgs() });
  t.after(() => emu.stop());
  assert.match(emu.serviceConnectionString, new RegExp(`^HostName=${emu.hubHostname.replace(/\./g, '\\.')};SharedAccessKeyName=iothubowner;SharedAccessKey=`));
  const out = await runProcess(process.execPath, [flow], {
    timeoutMs: 120_000,
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: emu.caPath,
      EMU_SERVICE_CS: emu.serviceConnectionString,
      EMU_DPS_CS: emu.dpsServiceConnectionString,
      EMU_SCOPE: emu.idScope,
      EMU_HTTP_URL: emu.httpUrl,
      EMU_WS_URL: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`,
    },
  });
  const steps = out.stdout.split('\n').filter((l) => l.startsWith('STEP ')).map((l) => l.split(' ')[1]);
  assert.deepEqual(steps, STEPS, `SDK flow stopped early:\n${out.stdout}\n${out.stderr}\n--- emulator log ---\n${emu.logs()}`);
  assert.equal(out.code, 0, out.stderr);
  const seen = JSON.parse(out.stdout.trim().split('\n').pop());
  assert.deepEqual(seen.method, { status: 200, payload: { on: true, by: 'azure-iot-wasm' } });
  assert.ok(seen.desired.some((p) => p.targetTemperature === 22), JSON.stringify(seen.desired));

  // Both APIs act on one state: the emulator's own API sees what the SDKs wrote.
  const twin = await (await emu.service(`/twins/${seen.deviceId}`)).json();
  assert.equal(twin.properties.desired.targetTemperature, 22);
  assert.equal(twin.properties.desired.interval, 5);
  const group = await (await emu.service(`/enrollmentGroups/${seen.groupId}`)).json();
  assert.equal(group.enrollmentGroupId, seen.groupId);
  const registry = await (await emu.service('/devices')).json();
  assert.ok(!registry.some((d) => d.deviceId.startsWith('svc-sdk-registry-')), 'the deleted device is gone');
});

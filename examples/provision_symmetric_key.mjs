#!/usr/bin/env node
// The quickstart "provision a device with a symmetric key, then send telemetry", ported from the
// Azure IoT Python sample `provision_symmetric_key.py` to this library. It reads the same
// environment variables:
//   PROVISIONING_HOST             DPS host (global.azure-devices-provisioning.net) or a URL
//   PROVISIONING_IDSCOPE          the DPS ID scope
//   PROVISIONING_REGISTRATION_ID  the registration id
//   PROVISIONING_SYMMETRIC_KEY    the device's symmetric key (individual, or already derived)
// With none of them set, it starts the local emulator and targets it.
import * as lib from 'azure-iot-wasm';
import { localHubUrl, sendTestMessages } from './quickstart.mjs';

const WebSocket = globalThis.WebSocket ?? (await import('ws')).default;
const env = process.env;
const vars = ['PROVISIONING_HOST', 'PROVISIONING_IDSCOPE', 'PROVISIONING_REGISTRATION_ID', 'PROVISIONING_SYMMETRIC_KEY'];
let emulator = null;
let settings;

if (vars.every((v) => !env[v])) {
  const { startEmulator, quickstartEnrollment } = await import('../scripts/lib/emulator.mjs');
  emulator = await startEmulator();
  const e = await quickstartEnrollment(emulator);
  settings = { host: emulator.httpUrl, idScope: emulator.idScope, registrationId: e.registrationId, key: e.primaryKey };
  console.log(`No PROVISIONING_* variables set: using the local emulator at ${emulator.httpUrl}`);
} else {
  const unset = vars.filter((v) => !env[v]);
  if (unset.length) {
    console.error(`Set ${unset.join(', ')} (or none of the four, to use the local emulator).`);
    process.exit(2);
  }
  settings = {
    host: env.PROVISIONING_HOST, idScope: env.PROVISIONING_IDSCOPE,
    registrationId: env.PROVISIONING_REGISTRATION_ID, key: env.PROVISIONING_SYMMETRIC_KEY,
  };
}

const endpoint = /^https?:\/\//.test(settings.host) ? settings.host : `https://${settings.host}`;

try {
  const registration = await lib.provision({
    endpoint, idScope: settings.idScope, registrationId: settings.registrationId, symmetricKey: settings.key, WebSocket,
  });
  console.log('The complete registration result is');
  console.log(registration.deviceId);
  console.log(registration.assignedHub);
  console.log(registration.substatus);
  console.log(JSON.stringify(registration.payload ?? null));

  if (registration.status === 'assigned') {
    console.log('Will send telemetry from the provisioned device');
    const client = await lib.IotHubClient.connect({ provisioning: registration, url: localHubUrl(endpoint), WebSocket });
    try {
      // Send the ten messages concurrently, as the sample does.
      await sendTestMessages(client, 10, (line) => console.log(line));
    } finally {
      await client.close();
    }
  } else {
    console.log(`Can not send telemetry from the provisioned device (status ${registration.status})`);
  }
} catch (e) {
  console.error(`${e.code ?? 'ERROR'}: ${e.message}${e.trackingId ? ` (trackingId ${e.trackingId})` : ''}`);
  process.exitCode = 1;
} finally {
  await emulator?.stop();
}

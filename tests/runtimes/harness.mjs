// Shared by the runtime tests: an emulator, the packed package installed into a blank project
// with the quickstart module (examples/quickstart.mjs) beside it, and the cloud-side check that the messages arrived.
import { readFileSync } from 'node:fs';
import { startEmulator, quickstartEnrollment } from '../../scripts/lib/emulator.mjs';
import { installPacked } from '../support/packed.mjs';

export const quickstartSource = readFileSync(new URL('../../examples/quickstart.mjs', import.meta.url), 'utf8');

export async function setUp({ emulatorArgs = [] } = {}) {
  const emu = await startEmulator({ args: emulatorArgs });
  const individual = await quickstartEnrollment(emu);
  const dir = installPacked({ files: { 'quickstart.mjs': quickstartSource } });
  const params = {
    endpoint: emu.httpUrl,
    idScope: emu.idScope,
    registrationId: individual.registrationId,
    symmetricKey: individual.primaryKey,
    hubUrl: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`,
  };
  return { emu, dir, params };
}

/** Telemetry the emulator stored for `deviceId` whose body starts with `prefix`. */
export async function storedMessages(emu, deviceId, prefix = 'test wind speed ') {
  const res = await fetch(`${emu.serviceUrl}/telemetry?deviceId=${encodeURIComponent(deviceId)}&limit=1000`);
  const all = await res.json();
  return all.filter((m) => (m.body ?? '').startsWith(prefix));
}

// Azure IoT credentials built with node:crypto, independent of the library under test: SAS tokens,
// the hub's MQTT user name and telemetry topic, group-derived device keys. The peers (mqtt.js,
// the no-library references, the load generator) get their credentials from here.
import { createHmac } from 'node:crypto';

export const HUB_API_VERSION = '2021-04-12';

/** `base64(HMAC-SHA256(base64decode(groupKey), registrationId))` */
export function deriveKey(groupKey, registrationId) {
  return createHmac('sha256', Buffer.from(groupKey, 'base64')).update(registrationId).digest('base64');
}

/** `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]` */
export function sasToken(resourceUri, key, { ttlSeconds = 3600, policyName } = {}) {
  const se = Math.floor(Date.now() / 1000) + ttlSeconds;
  const sr = encodeURIComponent(resourceUri);
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}${policyName ? `&skn=${policyName}` : ''}`;
}

/** What an MQTT client needs to send telemetry as `deviceId` on hub `hubHostname`. */
export function hubCredentials(hubHostname, deviceId, key) {
  return {
    clientId: deviceId,
    username: `${hubHostname}/${deviceId}/?api-version=${HUB_API_VERSION}`,
    password: sasToken(`${hubHostname}/devices/${deviceId}`, key),
    topic: `devices/${deviceId}/messages/events/`,
  };
}

/** Registers hub devices through the emulator's service API, `concurrency` requests at a time. */
export async function registerDevices(emu, ids, key, concurrency = 32) {
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const res = await emu.service(`/devices/${encodeURIComponent(id)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId: id, primaryKey: key }),
      });
      if (!res.ok) throw new Error(`registering ${id}: ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
}

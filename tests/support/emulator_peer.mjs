// Test support: a device side for emulator tests that shares no code with the library under
// test: SAS tokens signed with node:crypto (protocol.md §2.1, §2.3), DPS REST calls with plain
// fetch, and an IoT Hub connection made with mqtt.js over the emulator's WebSocket.
//
//   const r = await dpsRegister(emu, regId, key);          // { status, headers, body }
//   const op = await dpsOperation(emu, regId, key, r.body.operationId);
//   const hub = await hubConnect(emu, deviceId, key);      // an mqtt.js client, connected
//   await addDevice(emu, deviceId, key);                   // a hub identity through the service API
import { createHmac } from 'node:crypto';
import mqtt from 'mqtt';

/** `SharedAccessSignature sr={enc(uri)}&sig={enc(b64 hmac)}&se={se}[&skn=…]`. */
export function sasToken(resourceUri, keyB64, { ttlSeconds = 3600, policyName } = {}) {
  const sr = encodeURIComponent(resourceUri);
  const se = Math.floor(Date.now() / 1000) + ttlSeconds;
  const sig = createHmac('sha256', Buffer.from(keyB64, 'base64')).update(`${sr}\n${se}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}${policyName ? `&skn=${policyName}` : ''}`;
}

/** The derived key of a group member (protocol.md §2.4). */
export function derivedKey(groupKeyB64, registrationId) {
  return createHmac('sha256', Buffer.from(groupKeyB64, 'base64')).update(registrationId).digest('base64');
}

async function dps(emu, method, path, regId, key, body) {
  const res = await fetch(`${emu.httpUrl}/${emu.idScope}/registrations/${regId}${path}?api-version=2021-06-01`, {
    method,
    headers: {
      authorization: sasToken(`${emu.idScope}/registrations/${regId}`, key, { policyName: 'registration' }),
      'content-type': 'application/json',
    },
    body,
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

export const dpsRegister = (emu, regId, key) => dps(emu, 'PUT', '/register', regId, key, JSON.stringify({ registrationId: regId }));

export const dpsOperation = (emu, regId, key, operationId) => dps(emu, 'GET', `/operations/${operationId}`, regId, key);

export async function addDevice(emu, deviceId, primaryKey) {
  const res = await emu.service(`/devices/${deviceId}`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deviceId, primaryKey }),
  });
  if (!res.ok) throw new Error(`PUT /devices/${deviceId}: ${res.status} ${await res.text()}`);
}

/** An mqtt.js client connected to the emulator's hub as `deviceId` (protocol.md §5.1). No
 * reconnects: a close stays a close. Rejects on CONNACK refusal or after `timeoutMs`. */
export function hubConnect(emu, deviceId, key, { timeoutMs = 10_000 } = {}) {
  const client = mqtt.connect(`ws://${emu.host}:${emu.httpPort}/$iothub/websocket?iothub-no-client-cert=true`, {
    protocolVersion: 4,
    clientId: deviceId,
    username: `${emu.hubHostname}/${deviceId}/?api-version=2021-04-12`,
    password: sasToken(`${emu.hubHostname}/devices/${deviceId}`, key),
    clean: true,
    keepalive: 60,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (e) => { client.end(true); reject(e); });
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

/** Publishes QoS 1 telemetry; resolves when the PUBACK arrives. */
export function sendTelemetry(client, deviceId, body) {
  return new Promise((resolve, reject) => {
    client.publish(`devices/${deviceId}/messages/events/`, body, { qos: 1 }, (e) => (e ? reject(e) : resolve()));
  });
}

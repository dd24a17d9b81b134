// Fleet child, the physical reference: no IoT library. Per device: the key and SAS tokens with
// node:crypto, DPS register and status polls with bare fetch (honouring Retry-After), then a
// `ws` socket carrying pre-built CONNECT and PUBLISH bytes; DISCONNECT to close.
import WebSocket from 'ws';
import { deriveKey, sasToken, hubCredentials } from '../lib/credentials.mjs';
import { connectPacket, publishPacket, packetReader, DISCONNECT } from '../lib/mqtt-bytes.mjs';
import { config, runFleetChild } from './run-devices.mjs';

const API = 'api-version=2021-06-01';
const base = `https://${config.host}/${config.idScope}/registrations`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function provision(registrationId) {
  const key = deriveKey(config.groupKey, registrationId);
  const headers = {
    authorization: sasToken(`${config.idScope}/registrations/${registrationId}`, key, { policyName: 'registration' }),
    'content-type': 'application/json',
  };
  let res = await fetch(`${base}/${registrationId}/register?${API}`, { method: 'PUT', headers, body: JSON.stringify({ registrationId }) });
  let body = await res.json();
  for (let polls = 0; body.status === 'assigning' && polls < 30; polls++) {
    await sleep(Number(res.headers.get('retry-after') ?? 2) * 1000);
    res = await fetch(`${base}/${registrationId}/operations/${body.operationId}?${API}`, { headers });
    body = await res.json();
  }
  if (body.status !== 'assigned') throw new Error(`DPS: ${res.status} ${JSON.stringify(body)}`);
  return { ...body.registrationState, key };
}

/** Opens the hub connection; resolves on CONNACK with { ws, publish, acked }. */
function connect({ assignedHub, deviceId, key }) {
  const cred = hubCredentials(assignedHub, deviceId, key);
  const c = { publish: publishPacket(cred.topic, 'fleet hello').bytes, onAck: null };
  return new Promise((resolve, reject) => {
    c.ws = new WebSocket(`wss://${assignedHub}/$iothub/websocket?iothub-no-client-cert=true`, ['mqtt']);
    const reader = packetReader((type, bytes, start) => {
      if (type === 2) {
        if (bytes[start + 1] !== 0) reject(new Error(`CONNACK ${bytes[start + 1]}`));
        else resolve(c);
      } else if (type === 4) c.onAck?.(true);
    });
    c.ws.on('open', () => c.ws.send(connectPacket(cred)));
    c.ws.on('message', (d) => reader.push(d));
    c.ws.on('error', reject);
    c.ws.on('close', () => { reject(new Error('closed before CONNACK')); c.onAck?.(false); });
  });
}

await runFleetChild({
  provision,
  connect,
  send: (c) => new Promise((resolve, reject) => {
    c.onAck = (ok) => (ok ? resolve() : reject(new Error('closed before the PUBACK')));
    c.ws.send(c.publish);
  }),
  close: (c) => new Promise((resolve) => {
    c.onAck = null;
    c.ws.on('close', resolve);
    c.ws.send(DISCONNECT);
    c.ws.close();
  }),
});

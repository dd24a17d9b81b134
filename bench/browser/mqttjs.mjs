// Benchmark page client: mqtt.js (its browser ESM bundle), QoS 1 publishes. Against the hub it
// signs the SAS token with WebCrypto when given `key`, as an app using mqtt.js has to.
import { params, payload, runPage, failRun } from './harness.mjs';
import mqtt from '/node_modules/mqtt/dist/mqtt.esm.js';

const marks = { imported: performance.now() };

async function sasToken(resourceUri, key) {
  const se = Math.floor(Date.now() / 1000) + 3600;
  const sr = encodeURIComponent(resourceUri);
  const raw = Uint8Array.from(atob(key), (ch) => ch.charCodeAt(0));
  const k = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(`${sr}\n${se}`)));
  const sig = btoa(String.fromCharCode(...mac));
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}`;
}

let c;
runPage({
  async connect(p) {
    const password = p.key ? await sasToken(`${p.hubHostname}/devices/${p.deviceId}`, p.key) : p.password;
    c = mqtt.connect(p.url, {
      clientId: p.clientId, username: p.username, password, keepalive: 60, protocolVersion: 4, reconnectPeriod: 0,
    });
    await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
    c.on('close', () => failRun(new Error('mqtt.js: connection closed')));
  },
  send(i, ack, fail) { c.publish(params.topic, payload, { qos: 1 }, (e) => (e ? fail(e) : ack())); },
  end: () => c.endAsync(),
}, marks);

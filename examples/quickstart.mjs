// The quickstart, runtime-neutral: provision through DPS, connect to the assigned hub, send the
// sample's 10 telemetry messages concurrently. No Node, Deno or Workers API is used here, so the
// same module serves the CLI (provision_symmetric_key.mjs), the demo page (www/) and the runtime
// tests (Node, Deno, workerd, a Vite app in Chromium). `socket` carries the WebSocket choice
// (`WebSocket` or `createWebSocket`) to both provisioning and the hub client.

/** The hub URL to pass as `url` for a DPS `endpoint`: a plain-HTTP endpoint is the local
 * emulator, whose hub answers WebSocket on the same host and port; otherwise `undefined`, and the
 * client uses `wss://{assignedHub}/$iothub/websocket`. */
export function localHubUrl(endpoint) {
  const u = new URL(endpoint);
  return u.protocol === 'http:' ? `ws://${u.host}/$iothub/websocket` : undefined;
}

/** Sends the sample's messages concurrently, logging `sending message #n` and, as each is
 * acknowledged, `done sending message #n`, as the Python sample does. */
export async function sendTestMessages(client, count = 10, log = () => {}) {
  await Promise.all(Array.from({ length: count }, async (_, k) => {
    const i = k + 1;
    log(`sending message #${i}`);
    await client.sendEvent(`test wind speed ${i}`, {
      messageId: crypto.randomUUID(),
      correlationId: 'correlation-1234',
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      properties: { count: i, 'tornado-warning': 'yes' },
    });
    log(`done sending message #${i}`);
  }));
}

/** Provision, connect, send `count` messages, close; resolves with what was assigned. */
export async function quickstart(lib, opts, log = () => {}) {
  const { endpoint, idScope, registrationId, symmetricKey, groupKey, provisioningTransport = 'https',
    hubUrl, socket = {}, count = 10 } = opts;
  const result = await lib.provision({
    endpoint, idScope, registrationId, symmetricKey, groupKey, transport: provisioningTransport, ...socket,
  });
  log(`provisioned ${result.deviceId} on ${result.assignedHub} (${result.substatus})`);
  const client = await lib.IotHubClient.connect({ provisioning: result, url: hubUrl, ...socket });
  try {
    await sendTestMessages(client, count, log);
  } finally {
    await client.close();
  }
  return { deviceId: result.deviceId, assignedHub: result.assignedHub, status: result.status, sent: count };
}

// The quickstart as one runtime-neutral function: provision through DPS, connect to the assigned
// hub, send `count` messages concurrently, close. No Node, Deno or Workers API is used here, so
// the same file runs in Node, Deno, workerd and Chromium. `transport` options (WebSocket or
// createWebSocket) are passed through to both provisioning and the hub client.
export async function quickstart(lib, opts, log = () => {}) {
  const { endpoint, idScope, registrationId, symmetricKey, groupKey, provisioningTransport = 'https',
    hubUrl, socket = {}, count = 10 } = opts;
  const result = await lib.provision({
    endpoint, idScope, registrationId, symmetricKey, groupKey, transport: provisioningTransport, ...socket,
  });
  log(`provisioned ${result.deviceId} on ${result.assignedHub} (${result.substatus})`);
  const client = await lib.IotHubClient.connect({ provisioning: result, url: hubUrl, ...socket });
  try {
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
  } finally {
    await client.close();
  }
  return { deviceId: result.deviceId, assignedHub: result.assignedHub, status: result.status, sent: count };
}

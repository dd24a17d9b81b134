// The device side of the soak (scripts/soak.mjs), the same code in Node and in a browser page: a
// fleet provisioned through DPS (half over REST, half over MQTT/WebSocket) and connected to the
// hub, sending telemetry at a steady rate with a bounded window per device, every send's Promise
// tracked by messageId. It stops sending once the duration has passed and enough was sent, waits
// for the last Promises to settle and reports what it knows; only the cloud side knows what was
// stored. It imports nothing: the caller passes the library, and in Node the `ws` WebSocket.

const TICK_MS = 50;
// Unsettled sends one device may have at once: enough to keep the hub busy, few enough that a
// withheld-PUBACK fault leaves the offline queue (1,000 by default) far from full.
const WINDOW = 64;

/**
 * @param lib the azure-iot-wasm module
 * @param o {{ runId, devices, idScope, groupKey, dpsEndpoint, hubUrl, WebSocket?, durationMs,
 *   minMessages, rate, maxMs, settleMs, onPhase?(name, info) }}
 */
export async function runFleet(lib, o) {
  const t0 = Date.now();
  const phase = (name, info = {}) => o.onPhase?.(name, { ...info, atMs: Date.now() - t0 });
  // Messages are `{deviceId}:{0…sentPerDevice-1}`; every one not rejected or unsettled resolved.
  const report = {
    provisioned: 0, provisionFailures: [], connectFailures: [], sent: 0, acked: 0,
    rejected: {}, rejectedIds: [], unsettled: [], events: {}, sentPerDevice: {},
  };
  const count = (bag, key) => { bag[key] = (bag[key] ?? 0) + 1; };

  // Provision the whole fleet at once: the orchestrator arms DPS 429/503 faults for it.
  phase('provisioning');
  const regs = await Promise.all(Array.from({ length: o.devices }, async (_, i) => {
    const registrationId = `${o.runId}-${i}`;
    try {
      return await lib.provision({
        idScope: o.idScope, registrationId, groupKey: o.groupKey, endpoint: o.dpsEndpoint,
        transport: i % 2 ? 'mqtt-ws' : 'https', WebSocket: o.WebSocket,
        // A local emulator answers Retry-After 1 s; the library's DPS-sized floors would make a
        // fleet under faults take minutes to assign.
        minPollMs: 200, retry: { baseMs: 200, capMs: 2000, floorMs: 200, throttleFloorMs: 500, maxRetries: 30 },
      });
    } catch (e) {
      report.provisionFailures.push(`${registrationId}: ${e.code ?? ''} ${e.message}`);
      return null;
    }
  }));
  const assigned = regs.filter(Boolean);
  report.provisioned = assigned.length;

  const devices = [];
  for (const reg of assigned) {
    try {
      const client = await lib.IotHubClient.connect({
        provisioning: reg, url: o.hubUrl, WebSocket: o.WebSocket,
        reconnect: { initialDelayMs: 100, maxDelayMs: 2000 },
      });
      for (const name of ['disconnected', 'reconnecting', 'error']) client.on(name, () => count(report.events, name));
      devices.push({ id: reg.deviceId, client, pending: new Set(), seq: 0 });
    } catch (e) {
      report.connectFailures.push(`${reg.deviceId}: ${e.code ?? ''} ${e.message}`);
    }
  }
  phase('sending', { devices: devices.map((d) => d.id) });

  let closing = false;
  const send = (d) => {
    const messageId = `${d.id}:${d.seq++}`;
    report.sent += 1;
    d.pending.add(messageId);
    d.client.sendEvent({ n: d.seq, at: Date.now() }, { messageId }).then(
      () => { report.acked += 1; d.pending.delete(messageId); },
      (e) => {
        // close() rejects what is still pending with CLOSED: those are the unsettled ones.
        if (closing) return;
        count(report.rejected, e?.code ?? String(e));
        report.rejectedIds.push(messageId);
        d.pending.delete(messageId);
      },
    );
  };
  // A steady rate over the fleet, round robin, each device within its window.
  const started = Date.now();
  let credit = 0;
  let next = 0;
  while (devices.length) {
    const elapsed = Date.now() - started;
    if ((elapsed >= o.durationMs && report.sent >= o.minMessages) || elapsed >= o.maxMs) break;
    credit += (o.rate * TICK_MS) / 1000;
    for (let tries = 0; credit >= 1 && tries < devices.length; ) {
      const d = devices[next++ % devices.length];
      if (d.pending.size < WINDOW) {
        send(d);
        credit -= 1;
        tries = 0;
      } else {
        tries += 1;
      }
    }
    credit = Math.min(credit, o.rate); // no burst of more than a second's worth after a stall
    await new Promise((r) => setTimeout(r, TICK_MS));
  }

  // Sending is over: the orchestrator lifts every fault; each Promise must now settle.
  phase('settling', { sent: report.sent });
  const settleEnd = Date.now() + o.settleMs;
  const pending = () => devices.reduce((n, d) => n + d.pending.size, 0);
  while (pending() > 0 && Date.now() < settleEnd) await new Promise((r) => setTimeout(r, 100));
  for (const d of devices) report.unsettled.push(...d.pending);
  for (const d of devices) report.sentPerDevice[d.id] = d.seq;
  closing = true;
  await Promise.all(devices.map((d) => d.client.close().catch(() => {})));
  phase('done');
  return report;
}

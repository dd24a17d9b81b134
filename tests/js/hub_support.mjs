// Shared helpers of the IoT Hub client tests: a fresh device per test on the emulator, the
// service API, and a way to wait for a condition.
import WebSocket from 'ws';
import * as lib from 'azure-iot-wasm';

export { lib, WebSocket };

let n = 0;
export const KEY = Buffer.alloc(32, 7).toString('base64');

export async function api(emu, method, path, body) {
  const res = await emu.service(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Registers a new device with a known key and returns its id. */
export async function newDevice(emu, prefix = 'hub-test') {
  const deviceId = `${prefix}-${process.pid}-${++n}`;
  await api(emu, 'PUT', `/devices/${deviceId}`, { deviceId, primaryKey: KEY });
  return deviceId;
}

export function hubOptions(emu, deviceId, extra = {}) {
  return {
    hostName: emu.hubHostname,
    deviceId,
    symmetricKey: KEY,
    url: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`,
    WebSocket,
    ...extra,
  };
}

export async function waitFor(what, fn, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${last?.message ?? JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function telemetry(emu, deviceId) {
  const all = [];
  let since = 0;
  for (;;) {
    const page = await api(emu, 'GET', `/telemetry?deviceId=${encodeURIComponent(deviceId)}&since=${since}&limit=1000`);
    all.push(...page);
    if (page.length < 1000) return all;
    since = page[page.length - 1].seq;
  }
}

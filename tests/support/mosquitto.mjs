// Test support: Debian's `mosquitto` on 127.0.0.1 from a temporary config, with a plain MQTT
// listener and a WebSocket listener on free ports (mosquitto 2.0.11 will not start with a
// websockets listener alone). Contract: startMosquitto() → { wsPort, mqttPort, wsUrl, stop() }.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const MOSQUITTO = process.env.MOSQUITTO_PATH ?? '/usr/sbin/mosquitto';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

export async function startMosquitto({ timeoutMs = 10_000 } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mosquitto-'));
  const [mqttPort, wsPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    'per_listener_settings false',
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    `listener ${mqttPort} 127.0.0.1`,
    'protocol mqtt',
    `listener ${wsPort} 127.0.0.1`,
    'protocol websockets',
    '',
  ].join('\n'));
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  let exited = null;
  child.once('exit', (code, signal) => { exited = { code, signal }; });
  const stop = async () => {
    if (!exited) {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
      if (!exited) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`mosquitto exited (${JSON.stringify(exited)}): ${log}`);
    }
    if ((await canConnect(mqttPort)) && (await canConnect(wsPort))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`mosquitto did not start in ${timeoutMs} ms: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { mqttPort, wsPort, wsUrl: `ws://127.0.0.1:${wsPort}`, stop, log: () => log };
}

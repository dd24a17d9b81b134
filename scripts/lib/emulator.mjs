// Starts the iot-emulator binary (building it if missing) and waits for its
// `EMULATOR_READY {json}` line; used by the tests, the main job, the CLI and the benchmarks. Contract: startEmulator({ args }) → { httpPort, httpsPort,
// mqttsPort, caPath, hubHostname, httpUrl, serviceUrl, serviceKey, service(path, init), idScope, host, stop(),
// serviceConnectionString, dpsServiceConnectionString, sharedAccessPolicies, dpsSharedAccessPolicies } (the
// connection strings are what the official service SDKs take).
// `service` is fetch on the service API with the emulator's key, which every `/service/*` call needs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// IOT_EMULATOR_PROFILE=release (the full benchmark run) selects the optimised build.
const release = process.env.IOT_EMULATOR_PROFILE === 'release';
const binary = path.join(root, 'target', release ? 'release' : 'debug', process.platform === 'win32' ? 'iot-emulator.exe' : 'iot-emulator');

export function ensureEmulatorBuilt() {
  if (existsSync(binary)) return binary;
  const r = spawnSync('cargo', ['build', '-p', 'iot-emulator', ...(release ? ['--release'] : [])], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('cargo build -p iot-emulator failed');
  return binary;
}

/** A loopback address of its own (all of 127/8 is loopback on Linux), so that tests which
 * must bind the SDKs' fixed ports 443 and 8883 can run side by side. */
export function uniqueLoopbackHost() {
  const b = () => 1 + Math.floor(Math.random() * 250);
  return `127.${b()}.${b()}.${b()}`;
}

/** Extra args for an "SDK-compatible" emulator: HTTPS+WSS on 443 and MQTT/TLS on 8883 of
 * `host`, which DPS also returns as the hub host name (the official SDKs have no port option). */
export function sdkArgs(host = uniqueLoopbackHost()) {
  return ['--host', host, '--https-port', '443', '--mqtts-port', '8883', '--hub-hostname', host];
}

export async function startEmulator({ args = [], timeoutMs = 120_000 } = {}) {
  ensureEmulatorBuilt();
  const defaults = { '--http-port': '0', '--https-port': '0', '--mqtts-port': '0', '--retry-after': '1' };
  for (let i = 0; i < args.length; i++) if (args[i] in defaults) delete defaults[args[i]];
  const argv = [...Object.entries(defaults).flat(), ...args];
  const child = spawn(binary, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  child.stderr.on('data', (d) => {
    stderr.push(d.toString());
    if (process.env.EMULATOR_LOG) process.stderr.write(d);
  });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`emulator not ready in ${timeoutMs} ms\n${stderr.join('')}`)), timeoutMs);
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      if (line.startsWith('EMULATOR_READY ')) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line.slice('EMULATOR_READY '.length)));
        } catch (e) {
          reject(new Error(`bad EMULATOR_READY line: ${line}`));
        }
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited with ${code}\n${stderr.join('')}`));
    });
  }).catch((e) => {
    // Never leave an orphan holding ports (443/8883 for the SDK tests) behind a failed start.
    child.kill('SIGKILL');
    throw e;
  });
  child.removeAllListeners('exit');
  const host = ready.host ?? '127.0.0.1';
  const httpUrl = `http://${host}:${ready.httpPort}`;
  const serviceUrl = `${httpUrl}/service`;
  return {
    ...ready,
    host,
    httpUrl,
    serviceUrl,
    service: serviceFetch(serviceUrl, ready.serviceKey),
    logs: () => stderr.join(''),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => { clearTimeout(kill); resolve(); });
        child.kill('SIGTERM');
      }),
  };
}

/** fetch(`${serviceUrl}${path}`, init) with `Authorization: Bearer <serviceKey>` added; for
 * processes that only have the URL and the key (a child process, the demo's config). */
export function serviceFetch(serviceUrl, serviceKey) {
  return (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${serviceKey}`);
    return fetch(`${serviceUrl}${path}`, { ...init, headers });
  };
}

/** The quickstart's individual enrollment (`symm-key-python-device-008` in the default config),
 * read through the service API: `{ registrationId, primaryKey, ... }`. */
export async function quickstartEnrollment(emu) {
  const enrollments = await (await emu.service('/enrollments')).json();
  return enrollments.find((e) => e.registrationId === 'symm-key-python-device-008') ?? enrollments[0];
}

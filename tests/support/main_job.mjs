// Test support: `scripts/start.mjs`, what `npm start` runs after set-up and build, as a child on
// free ports (PORT=0, EMULATOR_HTTP_PORT=0, AZURITE_BLOB_PORT=0). Contract: startMainJob() → { child, ready, output(),
// stop() }; `ready` resolves { demoUrl, config } once the demo is served: `config` is the page's
// own /demo-config.json (the emulator's service URL and key among it), read the way the page reads it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export function startMainJob({ timeoutMs = 180_000 } = {}) {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root, env: { ...process.env, PORT: '0', EMULATOR_HTTP_PORT: '0', AZURITE_BLOB_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (d) => { out += d; });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`main job not ready:\n${out}`)), timeoutMs);
    const onData = async (d) => {
      out += d;
      const demo = out.match(/Demo: (http:\/\/localhost:\d+\/)/);
      if (!demo) return;
      child.stdout.off('data', onData);
      child.stdout.on('data', (more) => { out += more; });
      clearTimeout(timer);
      try {
        resolve({ demoUrl: demo[1], config: await (await fetch(`${demo[1]}demo-config.json`)).json() });
      } catch (e) {
        reject(e);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`main job exited ${code}:\n${out}`)); });
  });
  ready.catch(() => child.kill('SIGKILL'));
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code) => { clearTimeout(kill); resolve(code); });
    child.kill('SIGINT');
  });
  return { child, ready, output: () => out, stop };
}

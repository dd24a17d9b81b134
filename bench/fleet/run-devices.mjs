// The driver every fleet child shares (bench/fleet/{ours,sdk,nolib}.mjs, each a Node process of
// its own, each giving the same four steps: provision, connect, send, close). Config from the
// FLEET_CONFIG environment variable (JSON): { mode, host, idScope, groupKey, prefix, count,
// concurrency, minPollMs }; the emulator's CA comes through NODE_EXTRA_CA_CERTS.
//   mode 'fleet':  `count` devices, `concurrency` at a time, each provision → connect → send 1 →
//                  close. Prints `FLEET_RESULT {json}`: devices done and failed, wall time from
//                  the first device's start to the last one's end, the process's CPU seconds
//                  (user + system, start-up included, and start-up alone), its peak RSS (VmHWM), what it held at
//                  its highest sampled RSS (JS heap, external memory), and the wasm linear memory
//                  when the child reports it.
//   mode 'memory': where memory goes, in phases, all `count` devices at once: after loading,
//                  after provisioning them (fetch), with all their hub connections open and one
//                  message sent each (WebSocket), after closing them; RSS and wasm memory after
//                  a GC at each phase (run with --expose-gc). Prints `MEMORY_RESULT {json}`.
import { memoryOf, cpuSecondsOf } from '../lib/proc.mjs';

export const config = JSON.parse(process.env.FLEET_CONFIG);

// A child never outlives its bound, whatever the devices do.
setTimeout(() => {
  console.error('fleet child: gave up after 300 s');
  process.exit(3);
}, 300_000).unref();

const MB = 2 ** 20;
const ids = () => Array.from({ length: config.count }, (_, i) => `${config.prefix}-${i}`);

async function fleet({ provision, connect, send, close, wasmBytes }) {
  const startMem = memoryOf();
  const startCpuS = cpuSecondsOf();
  const wasm = wasmBytes ? { startMB: wasmBytes() / MB, peakMB: 0 } : undefined;
  // What the process held when its RSS was highest: JS heap, external (ArrayBuffers among it).
  let atPeak = process.memoryUsage();
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > atPeak.rss) atPeak = m;
    if (wasm) wasm.peakMB = Math.max(wasm.peakMB, wasmBytes() / MB);
  }, 50);
  const all = ids();
  let next = 0;
  let ok = 0;
  const errors = [];
  const t0 = performance.now();
  const worker = async () => {
    while (next < all.length) {
      const id = all[next++];
      try {
        const client = await connect(await provision(id));
        try {
          await send(client);
        } finally {
          await close(client);
        }
        ok += 1;
      } catch (e) {
        errors.push(`${id}: ${e?.code ?? ''} ${e?.message ?? e}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.concurrency, all.length) }, worker));
  const wallMs = performance.now() - t0;
  clearInterval(sample);
  if (wasm) wasm.peakMB = Math.max(wasm.peakMB, wasmBytes() / MB);
  return {
    ok, failed: errors.length, errors: errors.slice(0, 3), wallMs,
    cpuS: cpuSecondsOf(), startCpuS, peakMB: memoryOf().peakMB, startRssMB: startMem.rssMB, wasm,
    atPeak: Object.fromEntries(Object.entries(atPeak).map(([k, v]) => [k, v / MB])),
  };
}

async function memory({ provision, connect, send, close, wasmBytes }) {
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 200));
    globalThis.gc?.();
    return { rssMB: memoryOf().rssMB, wasmMB: wasmBytes ? wasmBytes() / MB : null, heapMB: process.memoryUsage().heapUsed / MB };
  };
  const phases = { loaded: await settle() };
  const states = await Promise.all(ids().map((id) => provision(id)));
  phases.provisioned = await settle();
  const clients = await Promise.all(states.map((s) => connect(s)));
  await Promise.all(clients.map((c) => send(c)));
  phases.connected = await settle();
  await Promise.all(clients.map((c) => close(c)));
  phases.closed = await settle();
  return { count: config.count, phases, peakMB: memoryOf().peakMB };
}

/** Runs the mode the config names with the child's steps, prints the result, exits. */
export async function runFleetChild(steps) {
  if (config.mode === 'memory') console.log(`MEMORY_RESULT ${JSON.stringify(await memory(steps))}`);
  else console.log(`FLEET_RESULT ${JSON.stringify(await fleet(steps))}`);
  // Sockets the libraries keep alive (fetch's pool, the SDK's timers) must not hold the process.
  process.exit(0);
}

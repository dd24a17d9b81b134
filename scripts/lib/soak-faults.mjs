// The cloud side's part in the soak (scripts/soak.mjs): random faults through the emulator's
// fault API while the fleet sends (connection drops; PUBACKs withheld then released; PUBACKs
// delayed then back to normal), DPS 429/503 for the fleet's provisioning, and a count of every
// fault the devices met, read from the emulator's event stream (the refusal log's codes: 404104
// drops, 401003 token-lifetime closes, 429001/503001 DPS failures).

/** A small seeded PRNG (mulberry32), so that a run's faults can be replayed with its seed. */
export function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}

async function fault(emu, body) {
  const res = await emu.service('/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.ok;
}

/** Arms `count` DPS failures with `status` (429 or 503), each answered with Retry-After 1 s. */
export const armDps = (emu, status, count) => fault(emu, { kind: 'dps', status, count, retryAfter: 1 });

/**
 * `count` DPS 429s, then, once the fleet has met them all, `count` 503s: the emulator keeps one
 * armed fault at a time, so arming the second wave early would replace what is left of the first.
 * Resolves when the second wave is armed, or after `waitMs` without the first one used up.
 */
export async function dpsWaves(emu, count, waitMs) {
  await armDps(emu, 429, count);
  for (const end = Date.now() + waitMs; Date.now() < end; ) {
    const res = await emu.service('/faults');
    if ((await res.json()).dps?.remaining === 0) return armDps(emu, 503, count);
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Starts injecting faults on `deviceIds` until `stop()`, which lifts every PUBACK fault and
 * resolves with how many of each kind were injected.
 */
export function injectFaults(emu, deviceIds, rnd) {
  const injected = { drop: 0, withhold: 0, delay: 0 };
  let stopped = false;
  let wake = () => {};
  // A wait that stop() cuts short, so that a held fault is lifted at once.
  const pause = (ms) => new Promise((r) => {
    const t = setTimeout(r, ms);
    wake = () => { clearTimeout(t); r(); };
  });
  const first = ['drop', 'withhold', 'delay'];
  const loop = (async () => {
    while (!stopped) {
      await pause(rnd.int(300, 1500));
      if (stopped) break;
      // Each kind once first, so that even a short run meets them all; then at random.
      const kind = first.shift() ?? rnd.pick(['drop', 'drop', 'withhold', 'delay']);
      if (kind === 'drop') {
        // A device between connections answers 404; that is not a fault it met.
        if (await fault(emu, { kind: 'drop', deviceId: rnd.pick(deviceIds) })) injected.drop += 1;
      } else if (kind === 'withhold') {
        await fault(emu, { kind: 'puback', mode: 'withhold' });
        injected.withhold += 1;
        await pause(rnd.int(300, 2000));
        await fault(emu, { kind: 'puback', mode: 'release' });
      } else {
        await fault(emu, { kind: 'puback', mode: 'delay', delayMs: rnd.int(100, 1500) });
        injected.delay += 1;
        await pause(rnd.int(500, 3000));
        await fault(emu, { kind: 'puback', mode: 'normal' });
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake();
      await loop;
      await fault(emu, { kind: 'puback', mode: 'normal' });
      return injected;
    },
  };
}

/** Counts the refusal log's codes from the event stream until `stop()`, which returns them. */
export function watchLog(emu) {
  const codes = {};
  const abort = new AbortController();
  const done = (async () => {
    const res = await emu.service('/events', { signal: abort.signal });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        if (!event.includes('event: log')) continue;
        const data = event.split('\n').find((l) => l.startsWith('data:'));
        const code = data && JSON.parse(data.slice(5)).data?.code;
        if (code) codes[code] = (codes[code] ?? 0) + 1;
      }
    }
  })().catch((e) => { if (e.name !== 'AbortError') throw e; });
  return {
    async stop() {
      abort.abort();
      await done;
      return codes;
    },
  };
}

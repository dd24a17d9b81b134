// How a benchmark script runs its clients and hands its figures to bench/run.mjs: rounds in which
// every client runs once (order rotated each round), medians over the rounds, and one
// `BENCH_GROUP {json}` line on stdout per table of RESULTS.md.
//
// A group: { id, title, command, metrics: [{ key, label, unit, better: 'higher'|'lower', digits }],
//   bases: [row keys the others are divided by; the last is the physical reference, when there is one],
//   rows: [{ key, name, values: {metric: median}, runs: {metric: [per round]}, note? }], notes: [] }
import { loadAverage } from './proc.mjs';

export const GROUP_PREFIX = 'BENCH_GROUP ';

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `fn(key, round)` for every key in every round, the order rotated by one each round, and
 * collects what it returns ({metric: number}) per key and metric. `warmup` rounds come first and
 * are not kept (JIT, wasm tier-up, the servers' first connections). */
export async function interleave(rounds, keys, fn, { warmup = 0 } = {}) {
  for (let w = 0; w < warmup; w++) for (const key of keys) await fn(key, -1 - w);
  const runs = Object.fromEntries(keys.map((k) => [k, {}]));
  for (let r = 0; r < rounds; r++) {
    const order = keys.map((_, i) => keys[(i + r) % keys.length]);
    for (const key of order) {
      const out = await fn(key, r);
      for (const [m, v] of Object.entries(out)) (runs[key][m] ??= []).push(v);
    }
  }
  return runs;
}

export const roundLabel = (r) => (r < 0 ? 'warm-up' : `round ${r + 1}`);

/** Rows from interleave()'s runs: medians per metric. `names` maps key → display name;
 * `notes` key → a sentence shown under the table. */
export function rowsFrom(runs, names, notes = {}) {
  return Object.entries(runs).map(([key, byMetric]) => ({
    key,
    name: names[key] ?? key,
    values: Object.fromEntries(Object.entries(byMetric).map(([m, xs]) => [m, median(xs)])),
    runs: byMetric,
    ...(notes[key] ? { note: notes[key] } : {}),
  }));
}

export function emitGroup(group) {
  process.stdout.write(`${GROUP_PREFIX}${JSON.stringify({ ...group, loadAfter: loadAverage() })}\n`);
}

/** `--quick` and `--name value` flags of a benchmark script. */
export function parseFlags(argv = process.argv.slice(2)) {
  const flags = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') flags.quick = true;
    else if (a.startsWith('--')) flags[a.slice(2)] = argv[i + 1]?.startsWith('--') || argv[i + 1] === undefined ? true : argv[++i];
  }
  return flags;
}

export const log = (...a) => console.error(...a);

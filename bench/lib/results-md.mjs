// Renders bench/RESULTS.md from the groups the benchmark scripts printed (bench/lib/groups.mjs):
// the machine, the goals (bench/lib/goals.mjs), then one table per group with its figures, its
// ratios against the bases measured in the same run, and the command that reproduces it.
import { evaluateGoals } from './goals.mjs';

export function fmt(x, digits = 0) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : null);
export const fmtRatio = (r) => (r === null ? '–' : `${r.toFixed(2)}×`);

const table = (head, rows) => [
  `| ${head.join(' | ')} |`,
  `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');

function spread(xs, digits) {
  if (!xs || xs.length < 2) return '';
  const s = [...xs].sort((a, b) => a - b);
  return ` (${fmt(s[0], digits)}–${fmt(s[s.length - 1], digits)})`;
}

function profileNote(p) {
  return `profiled run of ${fmt(p.n)} at ${fmt(p.rate)} msg/s: per message ${p.busyUs.toFixed(0)} µs inside the client's calls, `
    + `${p.ownUs.toFixed(0)} µs of it its own JS + wasm (WebSocket.send excluded; publish calls ${p.publishUs.toFixed(0)} µs, `
    + `socket listener ${p.listenerUs.toFixed(0)} µs over ${fmt(p.events)} events, sends included); WebSocket.send ${p.sendUs === null ? '–' : p.sendUs.toFixed(0)} µs a frame`;
}

export function renderGroup(g) {
  const out = [`### ${g.title}`, ''];
  const rows = g.rows;
  const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
  const bases = (g.bases ?? []).filter((b) => byKey[b]);
  const baseName = (b) => (b === g.reference ? 'physical reference' : byKey[b].name.replace(/ \(.*/, ''));
  const dir = (m) => (m.better === 'higher' ? '↑' : '↓');
  if (g.transposed) {
    const pairs = rows.filter((r) => !bases.includes(r.key)).flatMap((r) => bases.map((b) => [r, byKey[b]]));
    out.push(table(
      ['', ...rows.map((r) => r.name), ...pairs.map(([a, b]) => `${a.name.replace(/ \(.*/, '')} ÷ ${b.name.replace(/ \(.*/, '')}`)],
      g.metrics.filter((m) => rows.some((r) => Number.isFinite(r.values[m.key]))).map((m) => [
        `${m.label} ${dir(m)}`,
        ...rows.map((r) => fmt(r.values[m.key], m.digits)),
        ...pairs.map(([a, b]) => fmtRatio(ratio(a.values[m.key], b.values[m.key]))),
      ]),
    ));
  } else if (g.metrics.length === 1) {
    const m = g.metrics[0];
    out.push(table(
      ['client', `${m.label} ${dir(m)} (median, range)`, ...bases.map((b) => `÷ ${baseName(b)}`)],
      rows.map((r) => [
        r.name,
        `${fmt(r.values[m.key], m.digits)}${spread(r.runs?.[m.key], m.digits)}`,
        ...bases.map((b) => (b === r.key ? '1.00×' : fmtRatio(ratio(r.values[m.key], byKey[b].values[m.key])))),
      ]),
    ));
  } else {
    out.push(table(
      ['client', ...g.metrics.map((m) => `${m.label} ${dir(m)}`)],
      rows.map((r) => [r.name, ...g.metrics.map((m) => `${fmt(r.values[m.key], m.digits)}${spread(r.runs?.[m.key], m.digits)}`)]),
    ));
    if (bases.length) {
      out.push('', 'Ratios, same run (each figure divided by the base\'s):', '');
      out.push(table(
        ['', ...g.metrics.map((m) => m.label)],
        rows.flatMap((r) => bases.filter((b) => b !== r.key).map((b) => [
          `${r.name.replace(/ \(.*/, '')} ÷ ${baseName(b)}`,
          ...g.metrics.map((m) => fmtRatio(ratio(r.values[m.key], byKey[b].values[m.key]))),
        ])),
      ));
    }
  }
  const notes = rows.filter((r) => r.note || r.profile || r.failures).map((r) => `- ${r.name}: ${[
    r.failures && `**failed** in ${r.runs?.[g.metrics[0].key]?.filter((v) => !Number.isFinite(v)).length ?? '?'} of its ${g.rounds} counted runs: ${r.failures.join('; ')}`,
    r.note, r.profile && profileNote(r.profile)].filter(Boolean).join('; ')}`);
  if (notes.length) out.push('', ...notes);
  for (const n of g.notes ?? []) out.push('', n);
  out.push('', `Reproduce every row of this table: \`${g.command}\` (${g.rounds ?? 1} round${g.rounds === 1 ? '' : 's'}`
    + `${g.rounds > 1 ? ', median' : ''}; 1-minute load average when it finished: ${g.loadAfter?.[0] ?? '–'}).`, '');
  return out.join('\n');
}

const SECTIONS = [
  ['browser.', '1. Browser throughput (Chromium)'],
  ['cold.', '2. Cold start (Chromium)'],
  ['fleet.', '3. Fleet (Node processes)'],
  ['edge.', '4. Edge (workerd)'],
  ['capacity', '5. Emulator capacity'],
];

export function renderResults({ groups, machine, failures, quick }) {
  const out = ['# Benchmark results', ''];
  out.push(`Written by \`npm run bench\` (\`node bench/run.mjs${quick ? ' --quick' : ''}\`) on ${machine.date}.${quick ? ' **Quick mode: tiny counts, figures mean nothing.**' : ''} `
    + 'Every figure is a median over rounds in which the clients ran interleaved; every ratio divides two figures of the same run. '
    + '↑ marks a figure where higher is better, ↓ where lower is.', '');
  out.push('## Machine', '');
  out.push(table(['', ''], Object.entries(machine.facts).map(([k, v]) => [k, v])), '');
  if (failures.length) out.push('## Failures', '', ...failures.map((f) => `- ${f}`), '');
  out.push('## Goals', '');
  const goals = evaluateGoals(groups);
  out.push(table(['goal', 'status', 'figure'], goals.map((g) => [g.goal, g.status, g.figure])), '');
  const bottlenecks = goals.filter((g) => g.bottleneck);
  if (bottlenecks.length) out.push('Where a goal is missed, what holds it back (from the figures below):', '', ...bottlenecks.map((g) => `- **${g.goal}**: ${g.bottleneck}`), '');
  for (const [prefix, title] of SECTIONS) {
    const gs = groups.filter((g) => g.id.startsWith(prefix));
    if (!gs.length) continue;
    out.push(`## ${title}`, '', ...gs.map(renderGroup));
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}

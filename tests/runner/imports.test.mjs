// The library's modules have no import circles: a module's `use crate::…` and `use super::…`
// lines, read as edges between the files of src/, form no cycle. (A module may use its parent's
// re-exports; that is not counted, since `mod.rs` files are where children are declared.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every module of src/ by its path (`hub::engine`), with its file's text. */
function modules() {
  const out = new Map();
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.rs')) {
        let rel = path.relative(src, p).slice(0, -3).split(path.sep);
        if (rel.at(-1) === 'mod') rel = rel.slice(0, -1);
        if (rel.join() === 'lib') rel = [];
        out.set(rel.join('::'), { text: readFileSync(p, 'utf8'), isMod: e.name === 'mod.rs' || e.name === 'lib.rs' });
      }
    }
  };
  walk(src);
  return out;
}

/** The modules `name` imports: the longest known prefix of each `crate::` or `super::` path. */
function edges(mods, name, { text, isMod }) {
  const out = new Set();
  const add = (parts) => {
    for (let k = parts.length; k > 0; k--) {
      const t = parts.slice(0, k).join('::');
      if (mods.has(t)) {
        if (t !== name && !name.startsWith(`${t}::`)) out.add(t);
        return;
      }
    }
  };
  for (const [, p] of text.matchAll(/\bcrate::([a-z_][a-z0-9_:]*)/g)) add(p.split('::'));
  const parent = isMod ? name : name.split('::').slice(0, -1).join('::');
  for (const [, p] of text.matchAll(/\buse super::([a-z_][a-z0-9_]*)/g)) add([...(parent ? parent.split('::') : []), p]);
  return out;
}

test('the modules of src/ import one another without a circle', () => {
  const mods = modules();
  assert.ok(mods.size > 50, `${mods.size} modules read`);
  const graph = new Map([...mods].map(([n, m]) => [n, edges(mods, n, m)]));
  const cycles = [];
  const state = new Map();
  const stack = [];
  const visit = (v) => {
    state.set(v, 'open');
    stack.push(v);
    for (const w of graph.get(v)) {
      if (state.get(w) === 'open') cycles.push([...stack.slice(stack.indexOf(w)), w].join(' -> '));
      else if (!state.has(w)) visit(w);
    }
    stack.pop();
    state.set(v, 'done');
  };
  for (const v of graph.keys()) if (!state.has(v)) visit(v);
  assert.deepEqual(cycles, []);
  // The check sees edges at all: the hub facade's state imports the engine.
  assert.ok(graph.get('web::hub::state').has('hub'), 'an edge the check must find');
});

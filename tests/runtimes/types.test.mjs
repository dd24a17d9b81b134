// The public TypeScript types: `tsc --noEmit --strict` over a typed example that uses options,
// results, error codes and events the way a TypeScript user writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('the typed example type-checks against the package types with tsc --noEmit', () => {
  const r = spawnSync(`${root}node_modules/.bin/tsc`, ['-p', 'examples/tsconfig.json'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('a misuse of the API is a type error (the check can fail)', () => {
  const r = spawnSync(`${root}node_modules/.bin/tsc`, [
    '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--lib', 'es2022,esnext.disposable,dom', 'tests/runtimes/types-misuse.ts',
  ], { cwd: root, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /types-misuse\.ts/);
  assert.match(r.stdout, /'"amqp"' is not assignable/);
});

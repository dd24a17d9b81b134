// `npm pack` produces a tarball that installs into a blank project and works there, in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { installPacked } from '../support/packed.mjs';

const vectors = JSON.parse(readFileSync(new URL('../vectors/sas.json', import.meta.url), 'utf8'));

test('the packed tarball installs into a blank project and derives the vector key in Node', () => {
  const v = vectors.derived_keys[0];
  const dir = installPacked({
    files: {
      'main.mjs': `import { deriveDeviceKey } from 'azure-iot-wasm';
console.log(deriveDeviceKey(${JSON.stringify(v.group_key_b64)}, ${JSON.stringify(v.registration_id)}));`,
    },
  });
  const out = execFileSync('node', ['main.mjs'], { cwd: dir, encoding: 'utf8' }).trim();
  assert.equal(out, v.device_key_b64);
  const manifest = JSON.parse(readFileSync(`${dir}/node_modules/azure-iot-wasm/package.json`, 'utf8'));
  assert.ok(manifest.exports['.'].types, 'the package declares its types');
});

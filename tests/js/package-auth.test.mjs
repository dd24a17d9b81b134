// The built package's auth exports, as a user imports them: in Node (self-reference through the
// package's `exports`) and in headless Chromium (pkg/index.js), against tests/vectors/sas.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as lib from 'azure-iot-wasm';
import { openBrowser } from '../support/browser.mjs';

const vectors = JSON.parse(readFileSync(new URL('../vectors/sas.json', import.meta.url), 'utf8'));

test('node: every derived-key and SAS vector matches through the package entry', () => {
  for (const v of vectors.derived_keys) {
    assert.equal(lib.deriveDeviceKey(v.group_key_b64, v.registration_id), v.device_key_b64);
  }
  for (const v of vectors.sas_tokens.filter((v) => v.token)) {
    const token = lib.generateSasToken({
      resourceUri: v.resource_uri, key: v.key_b64, expiresAt: v.expiry, policyName: v.policy ?? undefined,
    });
    assert.equal(token, v.token);
  }
});

test('node: bad input throws an Error with a stable code, and the module keeps working', () => {
  const cases = [
    [() => lib.deriveDeviceKey('not base64!!', 'dev'), 'INVALID_KEY'],
    [() => lib.deriveDeviceKey('', 'dev'), 'INVALID_KEY'],
    [() => lib.deriveDeviceKey('cGFzc3dvcmQ=', ''), 'INVALID_REGISTRATION_ID'],
    [() => lib.deriveDeviceKey('cGFzc3dvcmQ=', 'no spaces allowed'), 'INVALID_REGISTRATION_ID'],
    [() => lib.generateSasToken({ resourceUri: 'u', key: 'cGFzc3dvcmQ=', expiresAt: -1 }), 'INVALID_EXPIRY'],
    [() => lib.generateSasToken({ resourceUri: 'u', key: 'cGFzc3dvcmQ=', expiresAt: 1.5 }), 'INVALID_EXPIRY'],
    [() => lib.generateSasToken(undefined), 'INVALID_ARGUMENT'],
  ];
  for (const [fn, code] of cases) {
    assert.throws(fn, (e) => e instanceof Error && e.code === code, code);
  }
  const v = vectors.derived_keys[0];
  assert.equal(lib.deriveDeviceKey(v.group_key_b64, v.registration_id), v.device_key_b64);
});

test('chromium: the browser entry derives the same keys and tokens and throws coded errors', async () => {
  const b = await openBrowser();
  try {
    const out = await b.page.evaluate(async (vectors) => {
      const lib = await import('/pkg/index.js');
      const keys = vectors.derived_keys.map((v) => lib.deriveDeviceKey(v.group_key_b64, v.registration_id));
      const tokens = vectors.sas_tokens.filter((v) => v.token).map((v) => lib.generateSasToken({
        resourceUri: v.resource_uri, key: v.key_b64, expiresAt: v.expiry, policyName: v.policy ?? undefined,
      }));
      let code;
      try { lib.deriveDeviceKey('%%%', 'dev'); } catch (e) { code = e.code; }
      return { keys, tokens, code };
    }, vectors);
    assert.deepEqual(out.keys, vectors.derived_keys.map((v) => v.device_key_b64));
    assert.deepEqual(out.tokens, vectors.sas_tokens.filter((v) => v.token).map((v) => v.token));
    assert.equal(out.code, 'INVALID_KEY');
  } finally {
    await b.close();
  }
});

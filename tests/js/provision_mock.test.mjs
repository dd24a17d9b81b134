// provision() over REST against a scripted in-process DPS (node:http): the request shape, the
// poll loop with Retry-After, retries after 429/503, every failure as a typed error, abort,
// deadline, the token provider, and Promises (getToken, an injected fetch) that never settle.
// The emulator tests (provision_emulator.test.mjs) cover the same against an independent
// server; this one pins what exactly goes on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as lib from 'azure-iot-wasm';

const SCOPE = '0ne00000A0A';
const KEY = Buffer.from('a-device-key-of-32-bytes-length!').toString('base64');
const OP = '4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d';
const ASSIGNED = (regId, extra = {}) => ({
  operationId: OP,
  status: 'assigned',
  registrationState: {
    registrationId: regId, createdDateTimeUtc: '2022-08-31T22:02:50.5163352Z', assignedHub: 'MyExampleHub.azure-devices.net',
    deviceId: regId, status: 'assigned', substatus: 'initialAssignment', lastUpdatedDateTimeUtc: '2022-08-31T22:02:50.7370676Z',
    etag: 'IjY5MDAzNTUyLTAwMDAtMDMwMC0wMDAwLTYzMGZkYThhMDAwMCI=', ...extra,
  },
});

// Starts a server that answers the n-th request with script[n] (the last one repeats):
// { status, headers?, body? } or a function (req, body) => that.
async function mockDps(script) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      let step = script[Math.min(requests.length - 1, script.length - 1)];
      if (typeof step === 'function') step = step(req, body);
      if (step.hang) return;
      const text = step.body === undefined ? '' : typeof step.body === 'string' ? step.body : JSON.stringify(step.body);
      res.writeHead(step.status, { 'content-type': 'application/json; charset=utf-8', ...(step.headers ?? {}) });
      res.end(text);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${server.address().port}`;
  return { endpoint, requests, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

const fast = { retry: { baseMs: 10, capMs: 50, floorMs: 0, throttleFloorMs: 0 } };

test('register then poll after Retry-After returns the full registration state', async () => {
  const dps = await mockDps([
    { status: 202, headers: { 'retry-after': '1' }, body: { operationId: OP, status: 'assigning' } },
    { status: 200, body: ASSIGNED('dev-1') },
  ]);
  const statuses = [];
  try {
    const t0 = Date.now();
    const r = await lib.provision({
      idScope: SCOPE, registrationId: 'dev-1', symmetricKey: KEY, endpoint: dps.endpoint, onStatus: (s) => statuses.push(s),
    });
    assert.ok(Date.now() - t0 >= 1950, 'waited for Retry-After, clamped up to 2 s (protocol §1.7)');
    assert.deepEqual(r, {
      registrationId: 'dev-1', deviceId: 'dev-1', assignedHub: 'MyExampleHub.azure-devices.net', status: 'assigned',
      substatus: 'initialAssignment', createdDateTimeUtc: '2022-08-31T22:02:50.5163352Z',
      lastUpdatedDateTimeUtc: '2022-08-31T22:02:50.7370676Z', etag: 'IjY5MDAzNTUyLTAwMDAtMDMwMC0wMDAwLTYzMGZkYThhMDAwMCI=',
      symmetricKey: KEY,
    });
    const [put, get] = dps.requests;
    assert.equal(put.method, 'PUT');
    assert.equal(put.url, `/${SCOPE}/registrations/dev-1/register?api-version=2021-06-01`);
    assert.equal(put.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(put.headers.accept, 'application/json');
    assert.deepEqual(JSON.parse(put.body), { registrationId: 'dev-1' });
    const token = put.headers.authorization;
    assert.match(token, new RegExp(`^SharedAccessSignature sr=${SCOPE}%2Fregistrations%2Fdev-1&sig=[^&]+&se=\\d+&skn=registration$`));
    assert.equal(token, lib.generateSasToken({
      resourceUri: `${SCOPE}/registrations/dev-1`, key: KEY, policyName: 'registration', expiresAt: Number(/se=(\d+)/.exec(token)[1]),
    }));
    assert.equal(get.method, 'GET');
    assert.equal(get.url, `/${SCOPE}/registrations/dev-1/operations/${OP}?api-version=2021-06-01`);
    assert.equal(get.body, '');
    assert.deepEqual(statuses.map((s) => s.status), ['registering', 'assigning', 'assigned']);
    assert.deepEqual(statuses[1], { status: 'assigning', attempt: 1, operationId: OP, nextPollMs: 2000 });
  } finally {
    await dps.close();
  }
});

test('minPollMs lowers the poll floor for a local emulator', async () => {
  const dps = await mockDps([
    { status: 202, headers: { 'retry-after': '1' }, body: { operationId: OP, status: 'assigning' } },
    { status: 200, body: ASSIGNED('dev-1b') },
  ]);
  const statuses = [];
  try {
    await lib.provision({ idScope: SCOPE, registrationId: 'dev-1b', symmetricKey: KEY, endpoint: dps.endpoint, minPollMs: 1000, onStatus: (s) => statuses.push(s) });
    assert.equal(statuses[1].nextPollMs, 1000);
  } finally {
    await dps.close();
  }
});

test('a custom payload is sent and the returned payload comes back as an object', async () => {
  const dps = await mockDps([(req, body) => ({ status: 200, body: ASSIGNED('dev-2', { payload: { echo: JSON.parse(body).payload } }) })]);
  try {
    const payload = { modelId: 'dtmi:com:example:Thermostat;1', n: 3 };
    const r = await lib.provision({ idScope: SCOPE, registrationId: 'dev-2', symmetricKey: KEY, endpoint: dps.endpoint, payload, apiVersion: '2019-03-31' });
    assert.deepEqual(r.payload, { echo: payload });
    assert.deepEqual(JSON.parse(dps.requests[0].body), { registrationId: 'dev-2', payload });
    assert.match(dps.requests[0].url, /api-version=2019-03-31$/);
  } finally {
    await dps.close();
  }
});

test('429 and 503 are retried with backoff and the registration then succeeds', async () => {
  const dps = await mockDps([
    { status: 429, headers: { 'retry-after': '1' }, body: { errorCode: 429001, trackingId: 't-1', message: 'throttled' } },
    { status: 503, body: '<html>busy</html>' },
    { status: 202, body: { operationId: OP, status: 'assigning' }, headers: { 'retry-after': '1' } },
    { status: 500, body: {} },
    { status: 200, body: ASSIGNED('dev-3') },
  ]);
  const statuses = [];
  try {
    const r = await lib.provision({ idScope: SCOPE, registrationId: 'dev-3', symmetricKey: KEY, endpoint: dps.endpoint, ...fast, onStatus: (s) => statuses.push(s) });
    assert.equal(r.deviceId, 'dev-3');
    assert.deepEqual(dps.requests.map((q) => q.method), ['PUT', 'PUT', 'PUT', 'GET', 'GET']);
    const retries = statuses.filter((s) => s.status === 'retrying');
    assert.deepEqual(retries.map((s) => [s.reason, s.httpStatus, s.attempt]), [['throttled', 429, 1], ['server-error', 503, 2], ['server-error', 500, 1]]);
    assert.ok(retries[0].delayMs >= 2000, 'the 429 honoured Retry-After, clamped up to 2 s');
  } finally {
    await dps.close();
  }
});

test('persistent throttling gives up with DPS_THROTTLED_GAVE_UP and the service details', async () => {
  const dps = await mockDps([{ status: 429, body: { errorCode: 429001, trackingId: 'tr-429', message: 'slow down' } }]);
  try {
    await assert.rejects(
      lib.provision({ idScope: SCOPE, registrationId: 'dev-4', symmetricKey: KEY, endpoint: dps.endpoint, retry: { ...fast.retry, maxRetries: 2 } }),
      (e) => e instanceof Error && e.code === 'DPS_THROTTLED_GAVE_UP' && e.status === 429 && e.errorCode === 429001 && e.trackingId === 'tr-429',
    );
    assert.equal(dps.requests.length, 3);
  } finally {
    await dps.close();
  }
});

test('terminal statuses surface as typed errors with status, errorCode and trackingId', async () => {
  const cases = [
    [401, 'DPS_UNAUTHORIZED'], [403, 'DPS_UNAUTHORIZED'], [404, 'DPS_NOT_FOUND'], [400, 'DPS_BAD_REQUEST'], [409, 'DPS_REQUEST_FAILED'],
  ];
  for (const [status, code] of cases) {
    const dps = await mockDps([{ status, body: { errorCode: status * 1000 + 2, trackingId: `tr-${status}`, message: 'no' } }]);
    try {
      await assert.rejects(
        lib.provision({ idScope: SCOPE, registrationId: 'dev-5', symmetricKey: KEY, endpoint: dps.endpoint }),
        (e) => e.code === code && e.status === status && e.errorCode === status * 1000 + 2 && e.trackingId === `tr-${status}`,
      );
      assert.equal(dps.requests.length, 1, 'not retried');
    } finally {
      await dps.close();
    }
  }
});

test('failed and disabled operations are DPS_ASSIGNMENT_FAILED and DPS_DISABLED', async () => {
  let dps = await mockDps([{ status: 200, body: { operationId: OP, status: 'failed', registrationState: { registrationId: 'd', status: 'failed', errorCode: 400207, errorMessage: 'Custom allocation failed with status code: 400' } } }]);
  try {
    await assert.rejects(lib.provision({ idScope: SCOPE, registrationId: 'd', symmetricKey: KEY, endpoint: dps.endpoint }),
      (e) => e.code === 'DPS_ASSIGNMENT_FAILED' && e.errorCode === 400207 && /Custom allocation failed/.test(e.message));
  } finally {
    await dps.close();
  }
  dps = await mockDps([{ status: 200, body: { operationId: '', status: 'disabled', registrationState: { registrationId: 'd', status: 'disabled' } } }]);
  try {
    await assert.rejects(lib.provision({ idScope: SCOPE, registrationId: 'd', symmetricKey: KEY, endpoint: dps.endpoint }), { code: 'DPS_DISABLED' });
  } finally {
    await dps.close();
  }
});

test('the token provider is asked for the DPS resource and its token is sent', async () => {
  const dps = await mockDps([{ status: 200, body: ASSIGNED('dev-6') }]);
  const calls = [];
  try {
    const r = await lib.provision({
      idScope: SCOPE, registrationId: 'dev-6', endpoint: dps.endpoint,
      getToken: async (uri, expiresAt) => { calls.push([uri, expiresAt]); return 'SharedAccessSignature sr=x&sig=y&se=1&skn=registration'; },
    });
    assert.equal(r.symmetricKey, undefined);
    assert.equal(calls.length, 1);
    assert.equal(calls[0][0], `${SCOPE}/registrations/dev-6`);
    assert.ok(Math.abs(calls[0][1] - (Date.now() / 1000 + 3600)) < 5, 'expiresAt is unix seconds an hour ahead');
    assert.equal(dps.requests[0].headers.authorization, 'SharedAccessSignature sr=x&sig=y&se=1&skn=registration');
  } finally {
    await dps.close();
  }
  await assert.rejects(lib.provision({ idScope: SCOPE, registrationId: 'dev-6', endpoint: 'http://127.0.0.1:9', getToken: () => { throw new Error('vault down'); } }),
    (e) => e.code === 'TOKEN_PROVIDER_FAILED' && /vault down/.test(e.message));
  await assert.rejects(lib.provision({ idScope: SCOPE, registrationId: 'dev-6', endpoint: 'http://127.0.0.1:9', getToken: async () => 42 }), { code: 'TOKEN_PROVIDER_FAILED' });
});

test('a provider token is reused only until its own se, not the expiry asked for', async () => {
  const dps = await mockDps([
    { status: 202, headers: { 'retry-after': '2' }, body: { operationId: OP, status: 'assigning' } },
    { status: 200, body: ASSIGNED('dev-6b') },
  ]);
  const calls = [];
  try {
    await lib.provision({
      idScope: SCOPE, registrationId: 'dev-6b', endpoint: dps.endpoint,
      // Tokens that live 30 s although an hour was asked for: within the renewal margin at once.
      getToken: (uri, expiresAt) => {
        calls.push(expiresAt);
        return `SharedAccessSignature sr=x&sig=${calls.length}&se=${Math.floor(Date.now() / 1000) + 30}&skn=registration`;
      },
    });
    assert.equal(calls.length, 2, 'asked again for the poll');
    assert.deepEqual(dps.requests.map((q) => /sig=(\d+)/.exec(q.headers.authorization)[1]), ['1', '2']);
  } finally {
    await dps.close();
  }
});

test('a getToken that never settles ends in TIMEOUT, and an abort while waiting for it in ABORTED', { timeout: 10_000 }, async () => {
  let asked = 0;
  const never = () => { asked += 1; return new Promise(() => {}); };
  const t0 = Date.now();
  await assert.rejects(lib.provision({
    idScope: SCOPE, registrationId: 'dev-6c', endpoint: 'http://127.0.0.1:9', getToken: never, requestTimeoutMs: 200, timeoutMs: 1000, ...fast,
  }), { code: 'TIMEOUT' });
  assert.ok(Date.now() - t0 < 3000);
  assert.ok(asked >= 2, 'a timed-out provider counts as a request timeout and is retried');

  const ac = new AbortController();
  const p = lib.provision({
    idScope: SCOPE, registrationId: 'dev-6c', endpoint: 'http://127.0.0.1:9', signal: ac.signal,
    getToken: () => { setTimeout(() => ac.abort(), 50); return new Promise(() => {}); },
  });
  await assert.rejects(p, { code: 'ABORTED' });
});

test('an injected fetch or body read that ignores the signal ends in TIMEOUT', { timeout: 10_000 }, async () => {
  const hangs = [
    () => new Promise(() => {}),
    async () => ({ status: 200, headers: { get: () => null }, text: () => new Promise(() => {}) }),
  ];
  for (const fetch of hangs) {
    const t0 = Date.now();
    await assert.rejects(lib.provision({
      idScope: SCOPE, registrationId: 'dev-12b', symmetricKey: KEY, endpoint: 'https://proxy.example/dps', fetch, requestTimeoutMs: 200, timeoutMs: 800, ...fast,
    }), { code: 'TIMEOUT' });
    assert.ok(Date.now() - t0 < 3000);
  }
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(lib.provision({
    idScope: SCOPE, registrationId: 'dev-12b', symmetricKey: KEY, endpoint: 'https://proxy.example/dps', fetch: hangs[0], signal: ac.signal,
  }), { code: 'ABORTED' });
});

test('a group key is derived for the registration id and returned as symmetricKey', async () => {
  const dps = await mockDps([{ status: 200, body: ASSIGNED('sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6') }]);
  try {
    const r = await lib.provision({
      idScope: SCOPE, registrationId: 'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6', endpoint: dps.endpoint,
      groupKey: '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==',
    });
    assert.equal(r.symmetricKey, 'Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=');
  } finally {
    await dps.close();
  }
});

test('an abort while polling rejects with ABORTED promptly', async () => {
  const dps = await mockDps([{ status: 202, headers: { 'retry-after': '30' }, body: { operationId: OP, status: 'assigning' } }]);
  try {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = lib.provision({ idScope: SCOPE, registrationId: 'dev-7', symmetricKey: KEY, endpoint: dps.endpoint, signal: ac.signal, onStatus: (s) => s.status === 'assigning' && ac.abort() });
    await assert.rejects(p, { code: 'ABORTED' });
    assert.ok(Date.now() - t0 < 2000);
    await assert.rejects(lib.provision({ idScope: SCOPE, registrationId: 'dev-7', symmetricKey: KEY, endpoint: dps.endpoint, signal: AbortSignal.abort() }), { code: 'ABORTED' });
  } finally {
    await dps.close();
  }
});

test('an abort during a hung request cancels the fetch', async () => {
  const dps = await mockDps([{ hang: true }]);
  try {
    await assert.rejects(lib.provision({ idScope: SCOPE, registrationId: 'dev-8', symmetricKey: KEY, endpoint: dps.endpoint, signal: AbortSignal.timeout(300) }), { code: 'ABORTED' });
  } finally {
    await dps.close();
  }
});

test('the overall deadline ends a registration that stays assigning with TIMEOUT', async () => {
  const dps = await mockDps([{ status: 202, headers: { 'retry-after': '1' }, body: { operationId: OP, status: 'assigning' } }]);
  try {
    await assert.rejects(lib.provision({ idScope: SCOPE, registrationId: 'dev-9', symmetricKey: KEY, endpoint: dps.endpoint, timeoutMs: 2500 }), { code: 'TIMEOUT' });
  } finally {
    await dps.close();
  }
});

test('a hung server is a request timeout, retried, then TIMEOUT at the deadline', async () => {
  const dps = await mockDps([{ hang: true }]);
  try {
    await assert.rejects(lib.provision({ idScope: SCOPE, registrationId: 'dev-10', symmetricKey: KEY, endpoint: dps.endpoint, requestTimeoutMs: 200, timeoutMs: 1500, ...fast }), { code: 'TIMEOUT' });
    assert.ok(dps.requests.length >= 2, 'retried after the request timeout');
  } finally {
    await dps.close();
  }
});

test('an unreachable endpoint ends with NETWORK after the retries', async () => {
  const dps = await mockDps([{ status: 500 }]);
  await dps.close();
  await assert.rejects(lib.provision({ idScope: SCOPE, registrationId: 'dev-11', symmetricKey: KEY, endpoint: dps.endpoint, retry: { ...fast.retry, maxRetries: 1 } }),
    (e) => e.code === 'NETWORK' && /fetch failed|ECONNREFUSED/.test(e.message));
});

test('an injected fetch is used instead of the global one', async () => {
  const seen = [];
  const fetch = async (url, init) => {
    seen.push([url, init.method]);
    return new Response(JSON.stringify(ASSIGNED('dev-12')), { status: 200 });
  };
  const r = await lib.provision({ idScope: SCOPE, registrationId: 'dev-12', symmetricKey: KEY, endpoint: 'https://proxy.example/dps', fetch });
  assert.equal(r.deviceId, 'dev-12');
  assert.deepEqual(seen, [[`https://proxy.example/dps/${SCOPE}/registrations/dev-12/register?api-version=2021-06-01`, 'PUT']]);
});

test('bad options are rejected before anything is sent', async () => {
  const base = { idScope: SCOPE, registrationId: 'dev', symmetricKey: KEY, fetch: () => assert.fail('nothing must be sent') };
  const cases = [
    [undefined, 'INVALID_ARGUMENT'],
    [{ ...base, idScope: undefined }, 'INVALID_ARGUMENT'],
    [{ ...base, registrationId: 'bad id' }, 'INVALID_REGISTRATION_ID'],
    [{ ...base, symmetricKey: 'not base64!' }, 'INVALID_KEY'],
    [{ ...base, symmetricKey: undefined }, 'INVALID_ARGUMENT'],
    [{ ...base, groupKey: KEY }, 'INVALID_ARGUMENT'],
    [{ ...base, endpoint: 'ftp://x' }, 'INVALID_ARGUMENT'],
    [{ ...base, transport: 'carrier-pigeon' }, 'INVALID_ARGUMENT'],
    [{ ...base, payload: [1, 2] }, 'INVALID_ARGUMENT'],
    [{ ...base, signal: {} }, 'INVALID_ARGUMENT'],
    [{ ...base, timeoutMs: -1 }, 'INVALID_ARGUMENT'],
    [{ ...base, onStatus: 'yes' }, 'INVALID_ARGUMENT'],
  ];
  for (const [opts, code] of cases) {
    await assert.rejects(lib.provision(opts), (e) => e instanceof Error && e.code === code, JSON.stringify(opts));
  }
});

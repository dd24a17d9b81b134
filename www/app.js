// The demo page: the quickstart (provision with a symmetric key, then send telemetry) driven by
// the library from the browser, plus twin, methods, C2D, file upload, an IoT Plug and Play
// writable property, and a cloud-side view fed by the emulator's event stream and service API.
// `demo-config.json` (written by `npm start`) pre-fills the form for the local emulator.
import { provision, deriveDeviceKey, IotHubClient } from '/pkg/index.js';
import { localHubUrl, sendTestMessages } from '/examples/quickstart.mjs';

const $ = (id) => document.getElementById(id);
const form = $('provision-form');
const config = await fetch('demo-config.json').then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
let client = null;
let provisioned = null;
// Bumped by every provision attempt: a callback of an older attempt's client (a late ack, a
// 'disconnected' from closing it) checks it and leaves the new attempt's panels alone.
let attempt = 0;

// The Plug and Play model the device announces (Azure's Thermostat sample model, whose
// targetTemperature is a writable property in °C) and the range its handler accepts.
const MODEL_ID = 'dtmi:com:example:Thermostat;1';
const TARGET_RANGE = { min: 5, max: 35 };

// ---- form ----------------------------------------------------------------------------------
form.endpoint.value = config.dpsEndpoint ?? 'https://global.azure-devices-provisioning.net';
form.idScope.value = config.idScope ?? '';
form.registrationId.value = config.registrationId ?? '';
form.key.value = config.individualKey ?? '';
$('emu-target').textContent = config.dpsEndpoint ? `DPS at ${config.dpsEndpoint}` : 'no emulator configured';

function keyKind() { return form.keyKind.value; }

function showDerived() {
  const group = keyKind() === 'group';
  $('key-label').textContent = group ? 'Enrollment-group key' : 'Symmetric key';
  $('derived').hidden = !group;
  if (!group) return;
  try {
    $('derived-key').textContent = deriveDeviceKey(form.key.value.trim(), form.registrationId.value.trim());
  } catch (e) {
    $('derived-key').textContent = `— ${e.code}: ${e.message}`;
  }
}
for (const radio of form.keyKind) {
  radio.addEventListener('change', () => {
    const group = keyKind() === 'group';
    form.key.value = (group ? config.groupKey : config.individualKey) ?? '';
    form.registrationId.value = (group ? config.groupRegistrationId : config.registrationId) ?? form.registrationId.value;
    showDerived();
  });
}
form.key.addEventListener('input', showDerived);
form.registrationId.addEventListener('input', showDerived);

function setStatus(id, state, text) {
  const el = $(id);
  el.dataset.state = state;
  el.textContent = text;
}

// `CODE: message`, then the service's details on a line of their own, each shown once: the
// library's message may already carry `(status …, errorCode …)`, so that part is taken out of it
// and anything the rest of the message still names is not repeated.
function showError(id, e) {
  const el = $(id);
  if (!e) { el.hidden = true; el.textContent = ''; return; }
  const message = String(e.message ?? '').replace(/ \(status \d+(?:, errorCode \d+)?\)/, '');
  const details = [['status', e.status], ['errorCode', e.errorCode], ['trackingId', e.trackingId]]
    .filter(([, v]) => v != null && v !== '' && !message.includes(String(v)))
    .map(([k, v]) => `${k} ${v}`);
  el.textContent = `${e.code ?? 'ERROR'}: ${message}${details.length ? `\n${details.join(' · ')}` : ''}`;
  el.hidden = false;
}

function logTo(id, text, cls) {
  const li = document.createElement('li');
  li.textContent = text;
  if (cls) li.className = cls;
  $(id).append(li);
  li.scrollIntoView({ block: 'nearest' });
  return li;
}

// ---- provision ------------------------------------------------------------------------------
// A new attempt starts a new device's story: everything the previous one showed goes at once,
// before anything is awaited, so a failure can never stand next to an older success.
function clearPanels() {
  for (const id of ['provision-error', 'send-error', 'twin-error', 'upload-error', 'cloud-error']) showError(id, null);
  for (const id of ['result', 'upload-result']) {
    $(id).hidden = true;
    for (const dd of $(id).querySelectorAll('dd')) dd.textContent = '';
  }
  for (const id of ['send-log', 'desired-log', 'methods-log', 'c2d-log', 'pnp-log', 'ack-log']) $(id).replaceChildren();
  $('twin-view').textContent = '—';
  $('ack-view').textContent = '—';
  $('pnp-current').textContent = '—';
  $('cloud-device').textContent = 'the provisioned device';
  showProgress(0, 1);
  setStatus('upload-status', 'idle', 'nothing uploaded');
  setStatus('ack-status', 'idle', 'no device yet');
  uploading = false;
  setButtons(false);
  setStatus('hub-status', 'idle', 'not connected');
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const mine = ++attempt;
  $('provision-btn').disabled = true;
  clearPanels();
  provisioned = null;
  const old = client;
  client = null;
  if (old) await old.close().catch(() => {});
  const keyField = keyKind() === 'group' ? 'groupKey' : 'symmetricKey';
  const endpoint = form.endpoint.value.trim();
  try {
    setStatus('provision-status', 'busy', 'registering…');
    provisioned = await provision({
      endpoint,
      idScope: form.idScope.value.trim(),
      registrationId: form.registrationId.value.trim(),
      [keyField]: form.key.value.trim(),
      transport: form.transport.value,
      onStatus: (s) => {
        if (mine !== attempt) return;
        if (s.status === 'assigning') {
          const wait = s.nextPollMs != null ? `, polling in ${(s.nextPollMs / 1000).toFixed(1)} s` : '';
          setStatus('provision-status', 'busy', `assigning (attempt ${s.attempt ?? 1}${wait})`);
        } else if (s.status) {
          setStatus('provision-status', 'busy', `${s.status}…`);
        }
      },
    });
    setStatus('provision-status', 'ok', 'assigned');
    for (const k of ['registrationId', 'deviceId', 'assignedHub', 'status', 'substatus']) $(`r-${k}`).textContent = provisioned[k] ?? '';
    $('r-payload').textContent = JSON.stringify(provisioned.payload ?? null);
    $('result').hidden = false;
    await connectHub(endpoint, mine);
  } catch (e) {
    if (mine !== attempt) return;
    setStatus('provision-status', 'bad', 'failed');
    showError('provision-error', e);
  } finally {
    $('provision-btn').disabled = false;
  }
});

// ---- hub ------------------------------------------------------------------------------------
function setButtons(on) {
  for (const id of ['send-btn', 'report-btn', 'get-twin-btn']) $(id).disabled = !on;
  // The cloud side needs the emulator's service API; against real Azure there is none here.
  $('set-target-btn').disabled = !on || !config.serviceUrl;
  setUploadButtons();
}

async function connectHub(endpoint, mine) {
  const current = () => mine === attempt;
  const device = provisioned.deviceId;
  setStatus('hub-status', 'busy', `connecting to ${provisioned.assignedHub}…`);
  let c;
  try {
    // The hub's REST API (file upload) defaults to the WebSocket url's host: the emulator's plain HTTP port here.
    c = await IotHubClient.connect({ provisioning: provisioned, url: config.hubUrl ?? localHubUrl(endpoint), modelId: MODEL_ID });
  } catch (e) {
    if (!current()) return;
    setStatus('hub-status', 'bad', 'connection failed');
    showError('send-error', e);
    return;
  }
  if (!current()) { await c.close().catch(() => {}); return; }
  client = c;
  setStatus('hub-status', 'ok', `connected as ${device}`);
  setButtons(true);
  c.on('disconnected', (info) => current() && setStatus('hub-status', 'warn', `disconnected${info?.code ? `: ${info.code}` : ''}`));
  c.on('reconnecting', (info) => current() && setStatus('hub-status', 'warn', `reconnecting (attempt ${info?.attempt ?? '?'}, in ${info?.delayMs ?? '?'} ms)`));
  c.on('connected', () => current() && setStatus('hub-status', 'ok', `connected as ${device}`));
  c.on('error', (e) => current() && showError('send-error', e));
  c.onDesiredPropertiesUpdate((patch, version) => current() && logTo('desired-log', `v${version ?? '?'} ${JSON.stringify(patch)}`));
  c.onMethod('*', async (req) => {
    if (current()) logTo('methods-log', `${req.methodName}(${JSON.stringify(req.payload)}) → 200`, 'ok');
    return { status: 200, payload: { method: req.methodName, echo: req.payload, answeredAt: new Date().toISOString() } };
  });
  c.onMessage((m) => current() && logTo('c2d-log', `${m.text}  ${JSON.stringify(m.properties)}`));
  // Called with the desired value at start-up (if the twin holds one not yet answered), on every
  // change, and for changes made while offline; what it returns or throws becomes the ack.
  let target = null;
  c.onWritableProperty('targetTemperature', (value, { version }) => {
    const inRange = typeof value === 'number' && Number.isFinite(value) && value >= TARGET_RANGE.min && value <= TARGET_RANGE.max;
    if (!inRange) {
      const message = `targetTemperature must be a number from ${TARGET_RANGE.min} to ${TARGET_RANGE.max} °C`;
      if (current()) logTo('pnp-log', `v${version} ${JSON.stringify(value)} → refused, ac 400: ${message}`, 'bad');
      // `value` is what the device keeps; without one the ack repeats the refused desired value.
      throw { status: 400, message, ...(target !== null && { value: target }) };
    }
    target = value;
    if (current()) {
      logTo('pnp-log', `v${version} ${value} → accepted, ac 200`, 'ok');
      $('pnp-current').textContent = `${value} °C`;
    }
    return value;
  });
  $('cloud-device').textContent = device;
  await Promise.all([refreshTwin(), showCloudAck(device, mine)]);
}

// "Send 10 messages": concurrently, logged as the quickstart logs them.
$('send-btn').addEventListener('click', async () => {
  const mine = attempt;
  showError('send-error', null);
  $('send-btn').disabled = true;
  try {
    await sendTestMessages(client, 10, (line) => mine === attempt && logTo('send-log', line, line.startsWith('done') ? 'ok' : undefined));
  } catch (e) {
    if (mine === attempt) showError('send-error', e);
  } finally {
    if (mine === attempt) $('send-btn').disabled = false;
  }
});

async function refreshTwin() {
  const mine = attempt;
  try {
    const twin = await client.getTwin();
    if (mine === attempt) $('twin-view').textContent = JSON.stringify(twin, null, 2);
  } catch (e) {
    if (mine === attempt) showError('twin-error', e);
  }
}
$('get-twin-btn').addEventListener('click', () => { showError('twin-error', null); refreshTwin(); });
$('report-btn').addEventListener('click', async () => {
  showError('twin-error', null);
  let patch;
  try { patch = JSON.parse($('reported').value); } catch (e) { showError('twin-error', { code: 'INVALID_JSON', message: e.message }); return; }
  const mine = attempt;
  try {
    const version = await client.updateReportedProperties(patch);
    if (mine !== attempt) return;
    logTo('desired-log', `reported accepted, $version ${version}`, 'ok');
    await refreshTwin();
  } catch (e) {
    if (mine === attempt) showError('twin-error', e);
  }
});

// ---- file upload ----------------------------------------------------------------------------
let uploading = false;
$('pnp-model').textContent = MODEL_ID;
$('pnp-range').textContent = `${TARGET_RANGE.min} to ${TARGET_RANGE.max} °C`;
$('storage-target').textContent = config.storage
  ? `Azurite at ${config.storage.blobEndpoint}, container ${config.storage.container}`
  : 'none configured (the hub will refuse)';

function setUploadButtons() {
  const on = client !== null && !uploading;
  $('upload-file-btn').disabled = !on || $('upload-file').files.length === 0;
  $('generate-btn').disabled = !on;
}
$('upload-file').addEventListener('change', setUploadButtons);

const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;

function showProgress(loaded, total) {
  $('upload-progress').max = total || 1;
  $('upload-progress').value = loaded;
  return total ? `${Math.floor((loaded * 100) / total)}% · ${mib(loaded)} of ${mib(total)}` : mib(loaded);
}

// Random bytes, made in the page; getRandomValues fills at most 64 KiB per call.
function generate(bytes) {
  const data = new Uint8Array(bytes);
  for (let at = 0; at < bytes; at += 65536) crypto.getRandomValues(data.subarray(at, at + 65536));
  return data;
}

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

async function upload(blobName, data, sha256) {
  const mine = attempt;
  const mineNow = () => mine === attempt;
  showError('upload-error', null);
  $('upload-result').hidden = true;
  uploading = true;
  setUploadButtons();
  const total = data.size ?? data.byteLength;
  setStatus('upload-status', 'busy', showProgress(0, total));
  try {
    const r = await client.uploadFile(blobName, data, {
      onProgress: ({ loaded, total: t }) => mineNow() && setStatus('upload-status', 'busy', showProgress(loaded, t ?? total)),
    });
    if (!mineNow()) return;
    setStatus('upload-status', 'ok', showProgress(r.size, r.size));
    for (const k of ['blobName', 'url', 'etag']) $(`u-${k}`).textContent = r[k] ?? '';
    $('u-size').textContent = `${r.size} bytes (${mib(r.size)})`;
    // Only generated data is hashed: a picked file is streamed block by block, never read whole.
    $('u-sha256').textContent = sha256 ?? '';
    $('u-sha256').hidden = $('u-sha256').previousElementSibling.hidden = !sha256;
    $('upload-result').hidden = false;
  } catch (e) {
    if (!mineNow()) return;
    setStatus('upload-status', 'bad', `failed: ${e.code ?? 'ERROR'}`);
    showError('upload-error', e);
  } finally {
    if (mineNow()) { uploading = false; setUploadButtons(); }
  }
}

$('upload-file-btn').addEventListener('click', () => {
  const file = $('upload-file').files[0];
  if (file) upload(file.name, file);
});
$('generate-btn').addEventListener('click', async () => {
  const mine = attempt;
  const n = Number($('generate-mib').value);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    showError('upload-error', { code: 'INVALID_SIZE', message: 'generate 1 to 256 MiB' });
    return;
  }
  // The buttons stay off from the click on: hashing takes a moment, and a second click would
  // start a second upload.
  uploading = true;
  setUploadButtons();
  setStatus('upload-status', 'busy', `generating ${n} MiB…`);
  const data = generate(n * 1048576);
  const sha256 = hex(await crypto.subtle.digest('SHA-256', data));
  if (mine === attempt) upload(`generated-${n}MiB-${Date.now()}.bin`, data, sha256);
});

// ---- the service API (cloud side) -----------------------------------------------------------
// The page is a `--cors` origin of the emulator, so it may call /service/* with the key itself.
async function serviceCall(method, path, body) {
  const headers = { authorization: `Bearer ${config.serviceKey ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${config.serviceUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: the status says enough */ }
  if (!res.ok) {
    throw { code: 'SERVICE_API', message: json?.message ?? `${method} ${path} answered ${res.status}`, status: res.status, errorCode: json?.errorCode, trackingId: json?.trackingId };
  }
  return json;
}

// ---- cloud side: the writable property ------------------------------------------------------
// The ack is read from the twin the cloud sees. A `twin` event for the device wakes the wait at
// once; the poll is there for an event stream that is down.
let wakeAckWait = () => {};

function ackText(ack) {
  const ok = ack.ac >= 200 && ack.ac < 300;
  return [ok ? 'ok' : 'bad', `ac ${ack.ac} ${ok ? 'accepted' : 'refused'} (av ${ack.av})`];
}

async function showCloudAck(deviceId, mine) {
  if (!config.serviceUrl) { setStatus('ack-status', 'idle', 'no emulator service API configured'); return; }
  try {
    const twin = await serviceCall('GET', `/twins/${encodeURIComponent(deviceId)}`);
    if (mine !== attempt) return;
    const ack = twin?.properties?.reported?.targetTemperature;
    if (!ack) { setStatus('ack-status', 'idle', 'not set yet'); return; }
    $('ack-view').textContent = JSON.stringify(ack, null, 2);
    setStatus('ack-status', ...ackText(ack));
  } catch (e) {
    if (mine === attempt) showError('cloud-error', e);
  }
}

async function waitForAck(deviceId, version, mine) {
  const deadline = Date.now() + 30_000;
  while (mine === attempt && Date.now() < deadline) {
    const twin = await serviceCall('GET', `/twins/${encodeURIComponent(deviceId)}`);
    const ack = twin?.properties?.reported?.targetTemperature;
    if (ack && ack.av >= version) return ack;
    await new Promise((resolve) => {
      const t = setTimeout(resolve, 1000);
      wakeAckWait = () => { clearTimeout(t); resolve(); };
    });
  }
  if (mine === attempt) throw { code: 'TIMEOUT', message: `no acknowledgement of desired $version ${version} in 30 s` };
  return null;
}

$('set-target-btn').addEventListener('click', async () => {
  const mine = attempt;
  const deviceId = provisioned?.deviceId;
  const raw = $('target-input').value.trim();
  showError('cloud-error', null);
  // null would delete the desired property rather than set it.
  if (raw === '') { showError('cloud-error', { code: 'INVALID_NUMBER', message: 'enter a temperature' }); return; }
  const value = Number(raw);
  $('set-target-btn').disabled = true;
  try {
    const twin = await serviceCall('PATCH', `/twins/${encodeURIComponent(deviceId)}/desired`, { targetTemperature: value });
    const version = twin?.properties?.desired?.$version;
    if (mine !== attempt) return;
    setStatus('ack-status', 'busy', `desired v${version} set; waiting for the device…`);
    const ack = await waitForAck(deviceId, version, mine);
    if (!ack || mine !== attempt) return;
    $('ack-view').textContent = JSON.stringify(ack, null, 2);
    const [state, text] = ackText(ack);
    setStatus('ack-status', state, text);
    logTo('ack-log', `desired v${version} ${JSON.stringify(value)} → ac ${ack.ac}, value ${JSON.stringify(ack.value)}${ack.ad ? `: ${ack.ad}` : ''}`, state);
  } catch (e) {
    if (mine !== attempt) return;
    setStatus('ack-status', 'bad', 'no acknowledgement');
    showError('cloud-error', e);
  } finally {
    if (mine === attempt) $('set-target-btn').disabled = client === null || !config.serviceUrl;
  }
});

// ---- cloud side: file upload notifications --------------------------------------------------
// Those already sent (GET) and then each new one (the `fileUpload` event), once each: the stream
// opens before the GET, so a notification may come both ways.
const notified = new Set();
function notificationRow(n) {
  const key = n.correlationId ?? `${n.deviceId}/${n.blobName}/${n.enqueuedTimeUtc}`;
  if (notified.has(key)) return;
  notified.add(key);
  const tr = document.createElement('tr');
  const when = n.enqueuedTimeUtc ? new Date(n.enqueuedTimeUtc).toLocaleTimeString() : '';
  const outcome = `${n.isSuccess ? 'uploaded' : 'failed'}${n.statusCode != null ? ` (${n.statusCode})` : ''}`;
  for (const [text, nowrap] of [[when, true], [n.deviceId ?? ''], [n.blobName ?? ''], [outcome, true], [n.blobSizeInBytes ?? '—', true]]) {
    const td = document.createElement('td');
    td.textContent = String(text);
    if (nowrap) td.className = 'nowrap';
    tr.append(td);
  }
  tr.className = n.isSuccess ? 'ok' : 'bad';
  const body = $('file-notifications');
  body.prepend(tr);
  while (body.children.length > 200) body.lastChild.remove();
}

// ---- cloud side -----------------------------------------------------------------------------
function cloudRow(kind, device, detail) {
  const tr = document.createElement('tr');
  for (const [i, text] of [new Date().toLocaleTimeString(), kind, device ?? '', detail ?? ''].entries()) {
    const td = document.createElement('td');
    td.textContent = text;
    if (i < 2) td.className = 'nowrap';
    tr.append(td);
  }
  const body = $('cloud-events');
  body.prepend(tr);
  while (body.children.length > 200) body.lastChild.remove();
}

if (config.serviceUrl) {
  // EventSource cannot send an Authorization header; the emulator takes its key as access_token on this route only.
  const events = new EventSource(`${config.serviceUrl}/events?access_token=${encodeURIComponent(config.serviceKey ?? '')}`);
  events.onopen = () => setStatus('cloud-status', 'ok', 'listening to the emulator');
  events.onerror = () => setStatus('cloud-status', 'warn', 'event stream interrupted; retrying…');
  // Named SSE events, each `{type, time, data}`.
  const describe = {
    registration: (d) => [d.deviceId, `registered ${d.registrationId} → ${d.assignedHub}`],
    connection: (d) => [d.moduleId ? `${d.deviceId}/${d.moduleId}` : d.deviceId, `${d.state}${d.transport ? ` (${d.transport})` : ''}`],
    telemetry: (d) => [d.moduleId ? `${d.deviceId}/${d.moduleId}` : d.deviceId, `${d.body ?? ''}  ${JSON.stringify(d.properties ?? {})}`],
    twin: (d) => [d.identity, `${d.section} v${d.version} ${JSON.stringify(d.patch)}`],
    c2d: (d) => [d.deviceId, `queued ${d.messageId}`],
    c2dCompleted: (d) => [d.deviceId, `completed ${d.messageId}`],
    method: (d) => [d.identity, `${d.methodName} → ${d.status}`],
    fileUpload: (d) => [d.deviceId, `${d.blobName} ${d.isSuccess ? 'uploaded' : 'failed'} (${d.statusCode ?? '?'}), ${d.blobSizeInBytes ?? '?'} bytes`],
    log: (d) => [d.identity, `${d.code} ${d.reason}`],
  };
  for (const [type, fn] of Object.entries(describe)) {
    events.addEventListener(type, (m) => {
      let e;
      try { e = JSON.parse(m.data); } catch { return; }
      const [device, detail] = fn(e.data ?? {});
      cloudRow(type, device, detail);
      if (type === 'fileUpload') notificationRow(e.data ?? {});
      if (type === 'twin' && e.data?.section === 'reported' && e.data.identity === provisioned?.deviceId) wakeAckWait();
    });
  }
  serviceCall('GET', '/fileNotifications')
    .then((list) => { for (const n of list ?? []) notificationRow(n); })
    .catch((e) => showError('cloud-error', e));
} else {
  setStatus('cloud-status', 'idle', 'no emulator event stream configured');
}
showDerived();

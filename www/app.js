// The demo page: the quickstart (provision with a symmetric key, then send telemetry) driven by
// the library from the browser, plus twin, methods, C2D, and a cloud-side view fed by the
// emulator's event stream. `demo-config.json` (written by `npm start`) pre-fills the form for the
// local emulator.
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
  for (const id of ['provision-error', 'send-error', 'twin-error']) showError(id, null);
  $('result').hidden = true;
  for (const dd of $('result').querySelectorAll('dd')) dd.textContent = '';
  for (const id of ['send-log', 'desired-log', 'methods-log', 'c2d-log']) $(id).replaceChildren();
  $('twin-view').textContent = '—';
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
}

async function connectHub(endpoint, mine) {
  const current = () => mine === attempt;
  const device = provisioned.deviceId;
  setStatus('hub-status', 'busy', `connecting to ${provisioned.assignedHub}…`);
  let c;
  try {
    c = await IotHubClient.connect({ provisioning: provisioned, url: config.hubUrl ?? localHubUrl(endpoint) });
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
  await refreshTwin();
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

// ---- cloud side -----------------------------------------------------------------------------
function cloudRow(kind, device, detail) {
  const tr = document.createElement('tr');
  for (const text of [new Date().toLocaleTimeString(), kind, device ?? '', detail ?? '']) {
    const td = document.createElement('td');
    td.textContent = text;
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
    log: (d) => [d.identity, `${d.code} ${d.reason}`],
  };
  for (const [type, fn] of Object.entries(describe)) {
    events.addEventListener(type, (m) => {
      let e;
      try { e = JSON.parse(m.data); } catch { return; }
      const [device, detail] = fn(e.data ?? {});
      cloudRow(type, device, detail);
    });
  }
} else {
  setStatus('cloud-status', 'idle', 'no emulator event stream configured');
}
showDerived();

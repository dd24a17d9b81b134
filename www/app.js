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

function showError(id, e) {
  const el = $(id);
  if (!e) { el.hidden = true; el.textContent = ''; return; }
  const extra = [e.status && `status ${e.status}`, e.errorCode && `errorCode ${e.errorCode}`, e.trackingId && `trackingId ${e.trackingId}`]
    .filter(Boolean).join(', ');
  el.textContent = `${e.code ?? 'ERROR'}: ${e.message}${extra ? `\n(${extra})` : ''}`;
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
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  showError('provision-error', null);
  $('result').hidden = true;
  $('provision-btn').disabled = true;
  if (client) { await client.close().catch(() => {}); client = null; }
  setButtons(false);
  // A new registration starts a new device's story.
  for (const id of ['send-log', 'desired-log', 'methods-log', 'c2d-log']) $(id).replaceChildren();
  $('twin-view').textContent = '—';
  setStatus('hub-status', 'idle', 'not connected');
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
    await connectHub(endpoint);
  } catch (e) {
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

async function connectHub(endpoint) {
  setStatus('hub-status', 'busy', `connecting to ${provisioned.assignedHub}…`);
  try {
    client = await IotHubClient.connect({ provisioning: provisioned, url: config.hubUrl ?? localHubUrl(endpoint) });
  } catch (e) {
    setStatus('hub-status', 'bad', 'connection failed');
    showError('send-error', e);
    return;
  }
  setStatus('hub-status', 'ok', `connected as ${provisioned.deviceId}`);
  setButtons(true);
  client.on('disconnected', (info) => setStatus('hub-status', 'warn', `disconnected${info?.code ? `: ${info.code}` : ''}`));
  client.on('reconnecting', (info) => setStatus('hub-status', 'warn', `reconnecting (attempt ${info?.attempt ?? '?'}, in ${info?.delayMs ?? '?'} ms)`));
  client.on('connected', () => setStatus('hub-status', 'ok', `connected as ${provisioned.deviceId}`));
  client.on('error', (e) => showError('send-error', e));
  client.onDesiredPropertiesUpdate((patch, version) => logTo('desired-log', `v${version ?? '?'} ${JSON.stringify(patch)}`));
  client.onMethod('*', async (req) => {
    logTo('methods-log', `${req.methodName}(${JSON.stringify(req.payload)}) → 200`, 'ok');
    return { status: 200, payload: { method: req.methodName, echo: req.payload, answeredAt: new Date().toISOString() } };
  });
  client.onMessage((m) => logTo('c2d-log', `${m.text}  ${JSON.stringify(m.properties)}`));
  await refreshTwin();
}

// "Send 10 messages": concurrently, logged as the quickstart logs them.
$('send-btn').addEventListener('click', async () => {
  showError('send-error', null);
  $('send-btn').disabled = true;
  try {
    await sendTestMessages(client, 10, (line) => logTo('send-log', line, line.startsWith('done') ? 'ok' : undefined));
  } catch (e) {
    showError('send-error', e);
  } finally {
    $('send-btn').disabled = false;
  }
});

async function refreshTwin() {
  try {
    $('twin-view').textContent = JSON.stringify(await client.getTwin(), null, 2);
  } catch (e) {
    showError('twin-error', e);
  }
}
$('get-twin-btn').addEventListener('click', () => { showError('twin-error', null); refreshTwin(); });
$('report-btn').addEventListener('click', async () => {
  showError('twin-error', null);
  let patch;
  try { patch = JSON.parse($('reported').value); } catch (e) { showError('twin-error', { code: 'INVALID_JSON', message: e.message }); return; }
  try {
    const version = await client.updateReportedProperties(patch);
    logTo('desired-log', `reported accepted, $version ${version}`, 'ok');
    await refreshTwin();
  } catch (e) {
    showError('twin-error', e);
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

// A typed walk through the public API, checked by `tsc --noEmit` in `npm test` (examples/tsconfig.json):
// options, results, error codes and events must type-check exactly as a TypeScript user writes them.
import {
  deriveDeviceKey, generateSasToken, provision, IotHubClient,
  type ProvisionOptions, type ProvisioningResult, type ProvisionStatus,
  type IotHubClientOptions, type SendEventOptions, type CloudMessage, type Twin,
  type AzureIotError, type AzureIotErrorCode,
  type MessageStore, type StoredMessage, type UploadFileResult, type WritablePropertyChange, type CommandRequest,
} from 'azure-iot-wasm';
import { indexedDbStore } from 'azure-iot-wasm/indexeddb';

// Keys stay on a server; the page gets tokens from it.
async function tokenFromServer(resourceUri: string, expiresAt: number): Promise<string> {
  const res = await fetch(`/api/token?uri=${encodeURIComponent(resourceUri)}&se=${expiresAt}`);
  return res.text();
}

function isLibraryError(e: unknown): e is AzureIotError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

export async function quickstart(idScope: string, registrationId: string, groupKey: string): Promise<number> {
  const deviceKey: string = deriveDeviceKey(groupKey, registrationId);
  const token: string = generateSasToken({ resourceUri: `${idScope}/registrations/${registrationId}`, key: deviceKey, ttlSeconds: 600, policyName: 'registration' });
  void token;

  const options: ProvisionOptions = {
    idScope,
    registrationId,
    getToken: tokenFromServer,
    transport: 'mqtt-ws',
    payload: { modelId: 'dtmi:com:example:Thermostat;1' },
    onStatus: (s: ProvisionStatus) => {
      if (s.status === 'assigning') console.log(`polling in ${s.nextPollMs} ms`);
    },
  };
  let result: ProvisioningResult;
  try {
    result = await provision(options);
  } catch (e) {
    if (isLibraryError(e)) {
      const code: AzureIotErrorCode = e.code;
      console.error(code, e.status, e.errorCode, e.trackingId);
    }
    throw e;
  }

  const hubOptions: IotHubClientOptions = { provisioning: result, getToken: tokenFromServer, keepAlive: 120 };
  const client: IotHubClient = await IotHubClient.connect(hubOptions);
  client.on('disconnected', (info) => console.log('disconnected', info));
  client.on('reconnecting', (info) => console.log('reconnecting', info));
  client.onMessage((m: CloudMessage) => console.log(m.text, m.properties));
  client.onMethod('reboot', async (req) => ({ status: 200, payload: { rebootingIn: 5, asked: req.payload } }));
  client.onDesiredPropertiesUpdate((patch, version) => console.log(version, patch));

  const sendOptions: SendEventOptions = { contentType: 'application/json', properties: { level: 'info', count: 1 } };
  await client.sendEvent({ temperature: 21.5 }, sendOptions);
  await client.sendEvent('plain text');
  await client.sendEvent(new Uint8Array([1, 2, 3]));
  const twin: Twin = await client.getTwin();
  const version: number = await client.updateReportedProperties({ firmware: '1.0.0' });
  console.log(twin.desired, version);
  await client.close();
  return version;
}

// Plug and Play, file upload and a durable store, as a page would use them.
export async function thermostat(hubOptions: IotHubClientOptions, file: Blob): Promise<UploadFileResult> {
  const store: MessageStore = indexedDbStore('telemetry-thermostat-1');
  const memory = new Map<string, StoredMessage>();
  const workerStore: MessageStore = {
    put: (r: StoredMessage) => { memory.set(r.id, r); },
    delete: (id: string) => { memory.delete(id); },
    list: () => [...memory.values()],
  };
  void workerStore;
  const client = await IotHubClient.connect({ ...hubOptions, modelId: 'dtmi:com:example:Thermostat;1', store, maxStoredMessages: 500 });
  let target = 20;
  client.onWritableProperty('targetTemperature', (value: unknown, change: WritablePropertyChange) => {
    if (typeof value !== 'number' || value > 35) throw { status: 400, message: `refused at version ${change.version}`, value: target };
    return (target = value);
  }, { component: 'thermostat1' });
  client.onCommand('thermostat1', 'getMaxMinReport', (req: CommandRequest) => ({ maxTemp: target, since: req.payload }));
  const reported: number = await client.reportProperties({ manufacturer: 'Contoso' }, { component: 'deviceInformation' });
  void reported;
  const ac = new AbortController();
  const result: UploadFileResult = await client.uploadFile(`logs/${Date.now()}.txt`, file, {
    onProgress: ({ loaded, total }) => console.log(loaded, total ?? 'unknown'),
    signal: ac.signal,
    blockSize: 1024 * 1024,
  });
  console.log(result.url, result.etag, result.size);
  await client.close();
  return result;
}

// A typed walk through the public API, checked by `tsc --noEmit` in `npm test` (examples/tsconfig.json):
// options, results, error codes and events must type-check exactly as a TypeScript user writes them.
import {
  deriveDeviceKey, generateSasToken, provision, IotHubClient,
  type ProvisionOptions, type ProvisioningResult, type ProvisionStatus,
  type IotHubClientOptions, type SendEventOptions, type CloudMessage, type Twin,
  type AzureIotError, type AzureIotErrorCode,
} from 'azure-iot-wasm';

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

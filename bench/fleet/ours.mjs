// Fleet child: this library in Node. Per device: deriveDeviceKey, provision over HTTPS (fetch),
// IotHubClient over WSS (the `ws` package), sendEvent, close.
import * as lib from 'azure-iot-wasm';
import WebSocket from 'ws';
import { initSync } from '../../pkg/azure_iot_wasm.js';
import { config, runFleetChild } from './run-devices.mjs';

const { memory } = initSync(); // the instance the entry already made: its linear memory
const endpoint = `https://${config.host}`;

await runFleetChild({
  provision(registrationId) {
    const symmetricKey = lib.deriveDeviceKey(config.groupKey, registrationId);
    return lib.provision({ endpoint, idScope: config.idScope, registrationId, symmetricKey, minPollMs: config.minPollMs });
  },
  connect: (result) => lib.IotHubClient.connect({ provisioning: result, WebSocket }),
  send: (client) => client.sendEvent('fleet hello'),
  close: (client) => client.close(),
  wasmBytes: () => memory.buffer.byteLength,
});

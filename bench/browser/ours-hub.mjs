// Benchmark page client: this library's IotHubClient (wasm), sending telemetry with sendEvent.
// With `key` it signs its own SAS token (as an app does); with `password` it uses that token.
import { payload, runPage, profiledWebSocket } from './harness.mjs';
import { IotHubClient } from '/pkg/index.js';

const marks = { imported: performance.now() };
let c;
runPage({
  async connect(p) {
    c = await IotHubClient.connect({
      hostName: p.hubHostname, deviceId: p.deviceId, url: p.url,
      ...(p.key ? { symmetricKey: p.key } : { sasToken: p.password }),
      ...(p.maxInflight ? { maxInflight: p.maxInflight } : {}),
      ...(p.profile ? { WebSocket: profiledWebSocket() } : {}),
    });
  },
  send(i, ack, fail) { c.sendEvent(payload).then(ack, fail); },
  end: () => c.close(),
}, marks);

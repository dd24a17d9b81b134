// Benchmark page client: this library's MqttClient (wasm), publishing QoS 1 to a broker.
import { params, payload, runPage, profiledWebSocket } from './harness.mjs';
import { MqttClient } from '/pkg/index.js';

const marks = { imported: performance.now() };
let c;
runPage({
  async connect(p) {
    c = new MqttClient();
    await c.connect(p.url, {
      clientId: p.clientId, username: p.username, password: p.password, keepAlive: 60,
      ...(p.maxInflight ? { maxInflight: p.maxInflight } : {}),
      ...(p.profile ? { WebSocket: profiledWebSocket() } : {}),
    });
  },
  send(i, ack, fail) { c.publish(params.topic, payload, { qos: 1 }).then(ack, fail); },
  end: () => c.end(),
}, marks);

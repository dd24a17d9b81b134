// Benchmark page client: Eclipse Paho JS 1.1.0 (its script, loaded by paho.html, sets the global
// `Paho`), QoS 1 messages with `send`; PUBACKs arrive through `onMessageDelivered`.
import { params, payload, runPage, failRun } from './harness.mjs';

const marks = { imported: performance.now() };
let c;
let onAck = null;

runPage({
  connect(p) {
    // Paho wants a path in the URI.
    const url = /^wss?:\/\/[^/]+$/.test(p.url) ? `${p.url}/` : p.url;
    c = new globalThis.Paho.Client(url, p.clientId);
    c.onMessageDelivered = () => onAck();
    c.onConnectionLost = (e) => { if (e.errorCode !== 0) failRun(new Error(`Paho: connection lost: ${e.errorMessage}`)); };
    return new Promise((resolve, reject) => {
      c.connect({
        ...(p.username === undefined ? {} : { userName: p.username, password: p.password }),
        keepAliveInterval: 60, cleanSession: true, mqttVersion: 4,
        onSuccess: resolve, onFailure: (e) => reject(new Error(`Paho connect: ${e.errorCode} ${e.errorMessage}`)),
      });
    });
  },
  // The harness passes the same `ack` to every publish of a run, so one callback suffices.
  send(i, ack) {
    onAck = ack;
    const m = new globalThis.Paho.Message(payload);
    m.destinationName = params.topic;
    m.qos = 1;
    c.send(m);
  },
  end() { c.disconnect(); },
}, marks);

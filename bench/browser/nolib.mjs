// Benchmark page client, the physical reference: no MQTT library. A bare WebSocket, the CONNECT
// and PUBLISH bytes built before the clock starts (the SAS token comes ready in the parameters),
// one frame per publish, PUBACKs counted as they arrive.
import { params, payload, runPage, profiledWebSocket, failRun } from './harness.mjs';
import { connectPacket, publishPacket, packetId, packetReader, DISCONNECT } from '../lib/mqtt-bytes.mjs';

const marks = { imported: performance.now() };
const publish = publishPacket(params.topic, payload);
let ws;
let onAck = null;

runPage({
  connect(p) {
    const WS = p.profile ? profiledWebSocket() : WebSocket;
    ws = new WS(p.url, ['mqtt']);
    ws.binaryType = 'arraybuffer';
    return new Promise((resolve, reject) => {
      const reader = packetReader((type) => {
        if (type === 4) onAck();
        else if (type === 2) resolve();
      });
      ws.onmessage = (e) => reader.push(new Uint8Array(e.data));
      ws.onerror = () => reject(new Error('WebSocket error'));
      ws.onclose = (e) => failRun(new Error(`WebSocket closed ${e.code}`));
      ws.onopen = () => ws.send(connectPacket(p));
    });
  },
  // The harness passes the same `ack` to every publish of a run, so one callback suffices.
  send(i, ack) {
    publish.setPacketId(packetId(i));
    onAck = ack;
    ws.send(publish.bytes);
  },
  end() {
    ws.onclose = null;
    ws.send(DISCONNECT);
    ws.close();
  },
}, marks);

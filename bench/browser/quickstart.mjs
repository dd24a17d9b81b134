// Benchmark page: the whole quickstart (examples/quickstart.mjs) from navigation: provision through
// DPS (REST or MQTT-WS), connect to the assigned hub, 10 acknowledged messages. Leaves
// `window.benchResult = { marks: { imported, provisioned, done } }`.
import * as lib from '/pkg/index.js';
import { quickstart } from '/examples/quickstart.mjs';

const marks = { imported: performance.now() };
const params = JSON.parse(decodeURIComponent(location.hash.slice(1)));
quickstart(lib, params, (line) => {
  if (line.startsWith('provisioned ')) marks.provisioned = performance.now();
}).then(
  () => { marks.done = performance.now(); window.benchResult = { marks }; },
  (e) => { window.benchError = `${e?.code ?? ''} ${e?.stack ?? e}`; },
);

// A durable store for `IotHubClient.connect({ store })` in browsers and workers with IndexedDB:
// one object store keyed by message id, one transaction per call. A write resolves only when
// its transaction has committed, which is what lets a send count as stored before it is
// published. Use one database name per device: records carry their device's topic, and
// `connect` refuses another device's.
const STORE = 'messages';

function open(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error(`IndexedDB database ${name} is blocked by another connection`));
  });
}

// Runs `f` on the object store in one transaction; resolves with its request's result on commit.
function transact(db, mode, f) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = f(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** A `MessageStore` in the IndexedDB database `name`. `close()` closes the database. */
export function indexedDbStore(name = 'azure-iot-wasm-messages') {
  let db;
  const ready = () => (db ??= open(name).catch((e) => { db = undefined; throw e; }));
  return {
    async put(record) { await transact(await ready(), 'readwrite', (s) => s.put(record)); },
    async delete(id) { await transact(await ready(), 'readwrite', (s) => s.delete(id)); },
    async list() { return transact(await ready(), 'readonly', (s) => s.getAll()); },
    async close() { const d = db; db = undefined; (await d)?.close(); },
  };
}

import type { MessageStore } from './azure_iot_wasm.js';

/** A `MessageStore` in the IndexedDB database `name` (one per device). */
export declare function indexedDbStore(name?: string): MessageStore & { close(): Promise<void> };

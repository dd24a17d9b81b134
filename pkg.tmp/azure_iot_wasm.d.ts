/* tslint:disable */
/* eslint-disable */

/** Options of `IotHubClient.connect`. Give one identity source and one credential. */
export interface IotHubClientOptions {
    /** `HostName=…;DeviceId=…;[ModuleId=…;]SharedAccessKey=…` */
    connectionString?: string;
    /** A result of `provision()`: its `assignedHub`, `deviceId` and `symmetricKey` are used. */
    provisioning?: { assignedHub?: string; deviceId?: string; symmetricKey?: string };
    hostName?: string;
    deviceId?: string;
    moduleId?: string;
    /** The device's symmetric key, base64: tokens are signed here and renewed before expiry. */
    symmetricKey?: string;
    /** Returns a SAS token for `resourceUri` valid until `expiresAt` (unix s), so no key reaches the page. */
    getToken?: (resourceUri: string, expiresAt: number) => string | Promise<string>;
    /** A ready token; the connection ends at its expiry (it cannot be renewed). */
    sasToken?: string;
    /** Sent as `model-id` in the CONNECT username (IoT Plug and Play). */
    modelId?: string;
    /** MQTT keep-alive, seconds (default 60, at most 1177). */
    keepAlive?: number;
    /** Lifetime of the tokens signed from `symmetricKey` (default 3600 s); renewed at 80%. */
    tokenTtlSeconds?: number;
    /** Default `wss://{hostName}/$iothub/websocket?iothub-no-client-cert=true`; e.g. `ws://127.0.0.1:port/$iothub/websocket` for the emulator. */
    url?: string;
    /** A WebSocket constructor, called as `new WebSocket(url, ['mqtt'])` (e.g. the `ws` package on Node 20). */
    WebSocket?: unknown;
    /** Returns a WebSocket-like object or a Promise of one (e.g. the Cloudflare Workers fetch-upgrade route). */
    createWebSocket?: (url: string, protocols: string[]) => unknown;
    /** Telemetry publishes in flight at once (default 32). */
    maxInflight?: number;
    /** Sends held while offline (default 1000); beyond it `sendEvent` rejects with `QUEUE_FULL`. */
    maxOfflineQueue?: number;
    /** How long a twin request may wait (default 60000 ms). */
    twinTimeoutMs?: number;
    /** Reconnect backoff: first delay (default 1000 ms) and cap (default 60000 ms); jitter is added. */
    reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
    /** `DeviceClientType` in the username (default `azure-iot-wasm/{version}`). */
    clientType?: string;
}

/** `sendEvent` options: application `properties` and system properties by name. */
export interface SendEventOptions {
    properties?: Record<string, string | number | boolean>;
    messageId?: string;
    correlationId?: string;
    userId?: string;
    contentType?: string;
    contentEncoding?: string;
    expiryTimeUtc?: string;
    creationTimeUtc?: string;
    componentName?: string;
    outputName?: string;
}

/** A cloud-to-device message (or a module input message). */
export interface CloudMessage {
    body: Uint8Array;
    /** The body as UTF-8 text. */
    text: string;
    properties: Record<string, string | null>;
    messageId?: string;
    correlationId?: string;
    userId?: string;
    contentType?: string;
    contentEncoding?: string;
    expiryTimeUtc?: string;
    to?: string;
    inputName?: string;
}

export interface MethodRequest { methodName: string; requestId: string; payload: unknown }
export interface MethodResponse { status?: number; payload?: unknown }
export interface Twin { desired: Record<string, unknown>; reported: Record<string, unknown> }
export type IotHubClientEvent = 'connected' | 'disconnected' | 'reconnecting' | 'error' | 'closed';



/** Options of `MqttClient.connect`. */
export interface MqttConnectOptions {
    clientId: string;
    username?: string;
    /** For Azure: a SAS token. */
    password?: string;
    /** Seconds, default 60; 0 turns keep-alive off. */
    keepAlive?: number;
    /** Default true. */
    cleanSession?: boolean;
    /** Ms to wait for the socket to open and for CONNACK, default 30000. */
    connectTimeout?: number;
    /** Most unacknowledged QoS 1 publishes on the wire, default 32. */
    maxInflight?: number;
    /** A WebSocket constructor, called as `new WebSocket(url, ['mqtt'])` (e.g. the `ws` package). */
    WebSocket?: unknown;
    /** Or a factory returning a WebSocket-like object, or a Promise of one (Cloudflare Workers). */
    createWebSocket?: (url: string, protocols: string[]) => unknown;
}
/** Options of `MqttClient.publish` and `subscribe`. */
export interface MqttQosOptions { qos?: 0 | 1; retain?: boolean }



/** Options of `generateSasToken`. Give `expiresAt` or `ttlSeconds` (default 3600). */
export interface SasTokenOptions {
    /** The resource the token grants, e.g. `{idScope}/registrations/{registrationId}` or `{host}/devices/{deviceId}`. */
    resourceUri: string;
    /** The symmetric key, base64. */
    key: string;
    /** Expiry, unix seconds (a positive integer). */
    expiresAt?: number;
    /** Lifetime from now, seconds (a positive integer). */
    ttlSeconds?: number;
    /** `skn`: `registration` for DPS; omit for device keys on IoT Hub. */
    policyName?: string;
}



/** Progress reported to `onStatus`. */
export type ProvisionStatus =
| { status: 'registering'; attempt: number }
| { status: 'assigning'; attempt: number; operationId: string; nextPollMs: number }
| { status: 'retrying'; attempt: number; delayMs: number; reason: 'throttled' | 'server-error' | 'network' | 'timeout'; httpStatus?: number }
| { status: 'assigned'; deviceId: string; assignedHub: string };

/** Options of `provision`. Give exactly one of `symmetricKey`, `groupKey` or `getToken`. */
export interface ProvisionOptions {
    /** The DPS ID scope, e.g. `0ne00000A0A`. */
    idScope: string;
    registrationId: string;
    /** The enrollment's (or the device's derived) symmetric key, base64. */
    symmetricKey?: string;
    /** An enrollment group's key, base64: the device key is derived and returned as `symmetricKey`. */
    groupKey?: string;
    /** Returns a SAS token for `resourceUri` valid until `expiresAt` (unix seconds), so no key reaches the page. */
    getToken?: (resourceUri: string, expiresAt: number) => string | Promise<string>;
    /** Default `https://global.azure-devices-provisioning.net`; any `http(s)://host[:port][/prefix]`. */
    endpoint?: string;
    /** `'https'` (default, `fetch`) or `'mqtt-ws'` (`wss://{endpoint host}/$iothub/websocket`). */
    transport?: 'https' | 'mqtt-ws';
    /** Custom allocation data sent as `payload`; must be a JSON object. */
    payload?: Record<string, unknown>;
    /** Default `2021-06-01` for REST, `2019-03-31` for MQTT. */
    apiVersion?: string;
    signal?: AbortSignal;
    onStatus?: (status: ProvisionStatus) => void;
    /** Overall deadline, ms (default 180000). */
    timeoutMs?: number;
    /** Per request, ms (default 30000). */
    requestTimeoutMs?: number;
    /** Backoff of retries after 429, 5xx and network errors (defaults 1000, 60000, 1000, 5000, 10). */
    retry?: { baseMs?: number; capMs?: number; floorMs?: number; throttleFloorMs?: number; maxRetries?: number };
    /** Replaces the global `fetch` (REST). */
    fetch?: typeof fetch;
    /** A WebSocket constructor (e.g. the `ws` package on Node 20), called as `new C(url, ['mqtt'])`. */
    WebSocket?: unknown;
    /** Returns a WebSocket-like object, or a Promise of one (e.g. on Cloudflare Workers). */
    createWebSocket?: (url: string, protocols: string[]) => unknown;
}

/** What DPS assigned (`registrationState`, protocol §1.5). */
export interface ProvisioningResult {
    registrationId: string;
    deviceId: string;
    /** The IoT Hub host name to connect to. */
    assignedHub: string;
    status: string;
    substatus?: string;
    createdDateTimeUtc?: string;
    lastUpdatedDateTimeUtc?: string;
    etag?: string;
    /** What a custom-allocation webhook returned, if anything. */
    payload?: unknown;
    /** The device key for the hub: the derived key when `groupKey` was given, else `symmetricKey`. */
    symmetricKey?: string;
}

/**
 * Registers a device with DPS and resolves with its assignment. Rejects with an `Error` whose
 * `code` is one of `DPS_UNAUTHORIZED`, `DPS_NOT_FOUND`, `DPS_BAD_REQUEST`, `DPS_REQUEST_FAILED`,
 * `DPS_THROTTLED_GAVE_UP`, `DPS_SERVER_ERROR`, `DPS_ASSIGNMENT_FAILED`, `DPS_DISABLED`,
 * `DPS_BAD_RESPONSE`, `NETWORK`, `ABORTED`, `TIMEOUT`, `TOKEN_PROVIDER_FAILED`,
 * `INVALID_ARGUMENT`, `INVALID_KEY`, `INVALID_REGISTRATION_ID`; service failures also carry
 * `status`, `errorCode` and `trackingId`.
 */
export function provision(options: ProvisionOptions): Promise<ProvisioningResult>;



/**
 * An IoT Hub device or module client. Create with `IotHubClient.connect(options)`.
 * Every error is an `Error` with a stable `code`: `MESSAGE_TOO_LARGE`, `QUEUE_FULL`, `CLOSED`,
 * `TIMEOUT`, `THROTTLED`, `TWIN_REQUEST_FAILED` (with `status`), `NOT_AUTHORIZED`, …
 */
export class IotHubClient {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Disconnects and settles everything pending (rejected with `CLOSED`). Idempotent.
     */
    close(): Promise<void>;
    /**
     * Connects; resolves once connected and subscribed, rejects with the reason the first
     * attempt failed (later drops are retried with backoff and reported as events).
     */
    static connect(options: IotHubClientOptions): Promise<IotHubClient>;
    /**
     * `connect` from a device connection string plus other options.
     */
    static fromConnectionString(connection_string: string, options?: IotHubClientOptions | null): Promise<IotHubClient>;
    /**
     * Reads the whole twin `{desired, reported}`.
     */
    getTwin(): Promise<Twin>;
    /**
     * Removes a listener added with `on`.
     */
    off(event: IotHubClientEvent, listener: (info?: any) => void): void;
    /**
     * Receives desired-property patches in `$version` order, including changes made while the
     * device was offline (delivered after the reconnect).
     */
    onDesiredPropertiesUpdate(handler: (patch: Record<string, unknown>, version: number | null) => void): void;
    /**
     * Receives C2D messages (module: input messages). The message is completed (PUBACK) when
     * the handler returns or its Promise settles. Messages that came before are delivered now.
     */
    onMessage(handler: (message: CloudMessage) => void | Promise<void>): void;
    /**
     * Handles direct method `name` (`'*'`: any method without its own handler). The handler
     * returns `{status, payload}` (status defaults to 200); if it throws, the answer is 500
     * with `{message}`. Calls with no handler are answered 501.
     */
    onMethod(name: string, handler: (request: MethodRequest) => MethodResponse | Promise<MethodResponse>): void;
    /**
     * Listens to `connected`, `disconnected` ({code, message, error}), `reconnecting`
     * ({attempt, delayMs}), `error` (an Error) and `closed`.
     */
    on(event: IotHubClientEvent, listener: (info?: any) => void): void;
    /**
     * Sends telemetry; resolves on the hub's PUBACK. Sends made while offline wait (bounded).
     */
    sendEvent(body: string | Uint8Array | ArrayBuffer | unknown, options?: SendEventOptions | null): Promise<void>;
    /**
     * Patches the reported properties (`null` deletes); resolves with the new reported `$version`.
     */
    updateReportedProperties(patch: any): Promise<number>;
    /**
     * Whether the client is connected and subscribed right now.
     */
    readonly connected: boolean;
}

/**
 * A low-level MQTT 3.1.1 client over WebSocket (QoS 0 and 1).
 */
export class MqttClient {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Opens the WebSocket, sends CONNECT, resolves `{ sessionPresent }` on CONNACK 0.
     * Rejects with `code` `NOT_AUTHORIZED` (CONNACK 4/5, `status` = the return code),
     * `CONNECTION_REFUSED`, `CONNECT_TIMEOUT`, `SOCKET_ERROR`, `CONNECTION_LOST`, `CLOSED`
     * or `INVALID_ARGUMENT`.
     */
    connect(url: string, options: MqttConnectOptions): Promise<{ sessionPresent: boolean }>;
    /**
     * Sends DISCONNECT and closes; pending promises reject with `CLOSED`. Always resolves.
     */
    end(): Promise<void>;
    constructor();
    /**
     * `on('message', (topic, payload: Uint8Array, {qos, retain, dup}) => …)` or
     * `on('close', (error) => …)`; a later call replaces the handler.
     */
    on(event: string, handler: Function): void;
    /**
     * Publishes `payload` (string, Uint8Array or ArrayBuffer); resolves when written (QoS 0)
     * or on PUBACK (QoS 1).
     */
    publish(topic: string, payload: string | Uint8Array | ArrayBuffer, options: MqttQosOptions | undefined): Promise<void>;
    /**
     * Subscribes to one filter or an array of them, all at `options.qos`; resolves with the
     * granted QoS per filter (128 = refused).
     */
    subscribe(filters: string | string[], options: MqttQosOptions | undefined): Promise<number[]>;
    unsubscribe(filters: string | string[]): Promise<void>;
    readonly connected: boolean;
}

/**
 * Derives a device's key from its enrollment group's key:
 * `base64(HMAC-SHA256(base64decode(groupKey), registrationId))`.
 * Throws an `Error` with `code` `INVALID_KEY` or `INVALID_REGISTRATION_ID`.
 */
export function deriveDeviceKey(groupKey: string, registrationId: string): string;

/**
 * Makes a SAS token `SharedAccessSignature sr=...&sig=...&se=...[&skn=...]`.
 * Throws an `Error` with `code` `INVALID_KEY`, `INVALID_EXPIRY`, `INVALID_RESOURCE_URI` or
 * `INVALID_ARGUMENT`.
 */
export function generateSasToken(options: SasTokenOptions): string;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_iothubclient_free: (a: number, b: number) => void;
    readonly __wbg_mqttclient_free: (a: number, b: number) => void;
    readonly deriveDeviceKey: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly generateSasToken: (a: any) => [number, number, number, number];
    readonly iothubclient_close: (a: number) => any;
    readonly iothubclient_connect: (a: any) => any;
    readonly iothubclient_connected: (a: number) => number;
    readonly iothubclient_fromConnectionString: (a: number, b: number, c: number) => any;
    readonly iothubclient_getTwin: (a: number) => any;
    readonly iothubclient_off: (a: number, b: any, c: any) => void;
    readonly iothubclient_on: (a: number, b: any, c: any) => void;
    readonly iothubclient_onDesiredPropertiesUpdate: (a: number, b: any) => void;
    readonly iothubclient_onMessage: (a: number, b: any) => void;
    readonly iothubclient_onMethod: (a: number, b: number, c: number, d: any) => void;
    readonly iothubclient_sendEvent: (a: number, b: any, c: number) => any;
    readonly iothubclient_updateReportedProperties: (a: number, b: any) => any;
    readonly mqttclient_connect: (a: number, b: number, c: number, d: any) => any;
    readonly mqttclient_connected: (a: number) => number;
    readonly mqttclient_end: (a: number) => any;
    readonly mqttclient_new: () => number;
    readonly mqttclient_on: (a: number, b: number, c: number, d: any) => [number, number];
    readonly mqttclient_publish: (a: number, b: number, c: number, d: any, e: any) => any;
    readonly mqttclient_subscribe: (a: number, b: any, c: any) => any;
    readonly mqttclient_unsubscribe: (a: number, b: any) => any;
    readonly provision: (a: any) => any;
    readonly wasm_bindgen__convert__closures_____invoke__h697259bcbfacc258: (a: number, b: number, c: any, d: any) => void;
    readonly wasm_bindgen__convert__closures_____invoke__ha11761071df2d9af: (a: number, b: number, c: any) => [number, number];
    readonly wasm_bindgen__convert__closures_____invoke__h1f15645abeda7484: (a: number, b: number, c: any) => void;
    readonly wasm_bindgen__convert__closures_____invoke__h93a058928e204af3: (a: number, b: number) => void;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_destroy_closure: (a: number, b: number) => void;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;

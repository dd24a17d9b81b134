//! `provision(options)`: DPS registration from JS, over REST (`fetch`) or MQTT over WebSocket.
//! The loop here only moves data: the core's `Provisioning` decides what to send and when,
//! `io::fetch` does the fetch, `io::timer` the sleeps, `mqtt` the MQTT exchange, and
//! `options` reads the options. The clock (`Date.now`) and the jitter
//! (`Math.random`) are read here and passed in. Every awaited JS Promise is raced against the
//! request timeout, the deadline and `signal` (`timer::race`), so the returned Promise
//! always settles.


pub mod mqtt;
pub mod options;

use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::web::io::error::to_js;
use crate::web::io::js::{now_ms_u64 as now, object, set};
use crate::web::io::fetch::{fetch_once, FetchFailure, Reply};
use crate::web::io::timer::{race, sleep_or_abort, Raced};
use crate::web::provision::mqtt::MqttChannel;
use crate::web::provision::options::{read, Options, Tokens, Transport};
use crate::dps::rest::{operation_status_request, register_request};
use crate::dps::{
    Event, Operation, Provisioning, RegistrationState, Response, RetryReason, Step, TransportError,
};
use crate::retry::Jitter;

#[wasm_bindgen(typescript_custom_section)]
const TS_PROVISION: &'static str = r#"
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
  /**
   * Least wait between status polls, ms (default 2000: DPS allows 5 polls per 10 s per device).
   * `Retry-After` is clamped to [minPollMs, 300000]; without a readable one (absent, negative,
   * a date) the wait is minPollMs. Lower it only for a local emulator.
   */
  minPollMs?: number;
  /** Per request, ms (default 30000); it, `timeoutMs` and `signal` also bound `getToken` and `fetch`. */
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
"#;

/// Registers a device with DPS; see the TypeScript declaration above.
#[wasm_bindgen(js_name = provision, skip_typescript)]
pub async fn provision(options: JsValue) -> Result<JsValue, JsValue> {
    let opts = read(&options)?;
    run(opts).await
}


fn jitter() -> Jitter {
    Jitter::Fraction(crate::web::io::js::jitter())
}

async fn run(opts: Options) -> Result<JsValue, JsValue> {
    let mut machine = Provisioning::new(opts.policy);
    let mut tokens = Tokens::new(opts.registration.resource_uri());
    let mut mqtt = match opts.transport {
        Transport::MqttWs => Some(MqttChannel::new(&opts)),
        Transport::Https => None,
    };
    let signal = opts.signal.as_ref();
    loop {
        if signal.is_some_and(|s| s.aborted()) {
            machine.abort();
        }
        let t = now();
        let step = machine.poll_step(t);
        report(&mut machine, opts.on_status.as_ref());
        match step {
            Step::Send { operation, timeout_at_ms } => {
                // The token provider is user code: bounded like the request itself (the step's
                // timeout already stops at the overall deadline) and by `signal`.
                let left = || timeout_at_ms.saturating_sub(now()) as f64;
                let token = match race(tokens.get(&opts.credential, t / 1000), left(), signal).await {
                    Raced::Done(Ok(token)) => token,
                    Raced::Done(Err(e)) => {
                        if let Some(m) = mqtt.as_mut() {
                            m.close();
                        }
                        return Err(e);
                    }
                    Raced::Aborted => {
                        machine.abort();
                        continue;
                    }
                    Raced::Timeout => {
                        machine.handle_transport_error(now(), jitter(), TransportError::Timeout);
                        continue;
                    }
                };
                let timeout_ms = left();
                let outcome = match mqtt.as_mut() {
                    Some(channel) => channel.send(&opts, &operation, &token, timeout_ms).await,
                    None => send_rest(&opts, &operation, &token, timeout_ms).await,
                };
                match outcome {
                    Ok(r) => {
                        let response =
                            Response { status: r.status, retry_after: r.retry_after.as_deref(), body: &r.body };
                        machine.handle_response(now(), jitter(), response);
                    }
                    Err(FetchFailure::Aborted) => machine.abort(),
                    Err(FetchFailure::Timeout) => {
                        machine.handle_transport_error(now(), jitter(), TransportError::Timeout);
                    }
                    Err(FetchFailure::Network(m)) => {
                        machine.handle_transport_error(now(), jitter(), TransportError::Network(m));
                    }
                }
            }
            Step::Wait { until_ms } => sleep_or_abort(until_ms.saturating_sub(t) as f64, signal).await,
            // This loop always feeds the outcome before polling again; if it ever did not,
            // counting it as a timeout keeps the loop moving.
            Step::AwaitResponse { .. } => {
                machine.handle_transport_error(t, jitter(), TransportError::Timeout);
            }
            Step::Done(state) => {
                if let Some(m) = mqtt.as_mut() {
                    m.close();
                }
                return Ok(result(&state, &opts));
            }
            Step::Failed(e) => {
                if let Some(m) = mqtt.as_mut() {
                    m.close();
                }
                return Err(to_js(&e));
            }
        }
    }
}

async fn send_rest(opts: &Options, op: &Operation, token: &str, timeout_ms: f64) -> Result<Reply, FetchFailure> {
    let req = match op {
        Operation::Register => register_request(&opts.endpoint, &opts.registration, &opts.api_version, token),
        Operation::OperationStatus { operation_id } => {
            operation_status_request(&opts.endpoint, &opts.registration, operation_id, &opts.api_version, token)
        }
    };
    fetch_once(opts.fetch.as_ref(), &req, timeout_ms, opts.signal.as_ref()).await
}

/// Drains the core's events into `onStatus`; a throwing callback is ignored, not fatal.
fn report(machine: &mut Provisioning, on_status: Option<&Function>) {
    while let Some(ev) = machine.poll_event() {
        let Some(f) = on_status else { continue };
        let o = object();
        let num = |n: f64| JsValue::from_f64(n);
        match ev {
            Event::Registering { attempt } => {
                set(&o, "status", &"registering".into());
                set(&o, "attempt", &num(attempt as f64));
            }
            Event::Assigning { operation_id, poll, next_poll_ms } => {
                set(&o, "status", &"assigning".into());
                set(&o, "attempt", &num(poll as f64));
                set(&o, "operationId", &operation_id.into());
                set(&o, "nextPollMs", &num(next_poll_ms as f64));
            }
            Event::Retrying { retry, delay_ms, status, reason } => {
                set(&o, "status", &"retrying".into());
                set(&o, "attempt", &num(retry as f64));
                set(&o, "delayMs", &num(delay_ms as f64));
                let reason = match reason {
                    RetryReason::Throttled => "throttled",
                    RetryReason::ServerError => "server-error",
                    RetryReason::Network => "network",
                    RetryReason::RequestTimeout => "timeout",
                };
                set(&o, "reason", &reason.into());
                if let Some(s) = status {
                    set(&o, "httpStatus", &num(s as f64));
                }
            }
            Event::Assigned { device_id, assigned_hub } => {
                set(&o, "status", &"assigned".into());
                set(&o, "deviceId", &device_id.into());
                set(&o, "assignedHub", &assigned_hub.into());
            }
        }
        let _ = f.call1(&JsValue::UNDEFINED, &o);
    }
}

fn result(s: &RegistrationState, opts: &Options) -> JsValue {
    let o = object();
    let put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            set(&o, k, &JsValue::from_str(v));
        }
    };
    let reg_id = s.registration_id.clone().or_else(|| Some(opts.registration.registration_id.clone()));
    put("registrationId", &reg_id);
    put("deviceId", &s.device_id);
    put("assignedHub", &s.assigned_hub);
    put("status", &s.status.clone().or_else(|| Some("assigned".into())));
    put("substatus", &s.substatus);
    put("createdDateTimeUtc", &s.created_date_time_utc);
    put("lastUpdatedDateTimeUtc", &s.last_updated_date_time_utc);
    put("etag", &s.etag);
    if let Some(p) = &s.payload {
        if let Ok(v) = js_sys::JSON::parse(&p.to_string()) {
            set(&o, "payload", &v);
        }
    }
    put("symmetricKey", &opts.device_key);
    o
}

//! Reading `provision(options)`: what to register, where, over which transport, with which
//! credential, and the timing policy. Every mistake is an `INVALID_ARGUMENT` (or the auth
//! layer's `INVALID_KEY` / `INVALID_REGISTRATION_ID`) before anything is sent.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::web::io::error::{js_error, to_js};
use crate::web::io::js::{get, get_str, opt_fn, opt_object, opt_str, whole_number};
use crate::web::io::socket::SocketFactory;
use crate::web::io::timer::Signal;
use crate::auth;
use crate::dps::tokens::TokenCache;
use crate::dps::{Endpoint, Policy, Registration, DEFAULT_API_VERSION, DEFAULT_ENDPOINT, DEFAULT_MQTT_API_VERSION};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Https,
    MqttWs,
}

pub enum Credential {
    Key(String),
    /// `getToken(resourceUri, expiresAt)` → SAS string, or a Promise of one.
    Provider(Function),
}

pub struct Options {
    pub registration: Registration,
    pub endpoint: Endpoint,
    pub transport: Transport,
    pub api_version: String,
    pub credential: Credential,
    /// The key to hand back with the result: the derived one for `groupKey`.
    pub device_key: Option<String>,
    pub signal: Option<Signal>,
    pub on_status: Option<Function>,
    pub policy: Policy,
    pub fetch: Option<Function>,
    pub sockets: SocketFactory,
}

fn invalid(msg: &str) -> JsValue {
    js_error("INVALID_ARGUMENT", msg)
}

/// `options[key]` as a whole number of ms in `0..=2^31`, if present (the shared reader, so a
/// fraction or NaN is refused here as in every other options reader).
fn opt_ms(o: &JsValue, key: &str) -> Result<Option<u64>, JsValue> {
    whole_number(o, key, 0, 2_147_483_647)
}

fn policy(o: &JsValue) -> Result<Policy, JsValue> {
    let mut p = Policy::default();
    if let Some(ms) = opt_ms(o, "timeoutMs")? {
        p.timeout_ms = ms.max(1);
    }
    if let Some(ms) = opt_ms(o, "requestTimeoutMs")? {
        p.request_timeout_ms = ms.max(1);
    }
    if let Some(ms) = opt_ms(o, "minPollMs")? {
        // Under 2 s only against a local emulator: DPS allows 5 polls per 10 s (§1.7).
        p = p.with_min_poll_ms(ms);
    }
    let r = opt_object(o, "retry")?;
    if r.is_object() {
        if let Some(ms) = opt_ms(&r, "baseMs")? {
            p.backoff.base_ms = ms;
        }
        if let Some(ms) = opt_ms(&r, "capMs")? {
            p.backoff.cap_ms = ms;
        }
        if let Some(ms) = opt_ms(&r, "floorMs")? {
            p.retry_floor_ms = ms;
        }
        if let Some(ms) = opt_ms(&r, "throttleFloorMs")? {
            p.throttle_floor_ms = ms;
        }
        if let Some(n) = opt_ms(&r, "maxRetries")? {
            p.max_retries = n.min(u32::MAX as u64) as u32;
        }
    }
    Ok(p)
}

pub fn read(o: &JsValue) -> Result<Options, JsValue> {
    if !o.is_object() {
        return Err(invalid("options must be an object"));
    }
    let id_scope = get_str(o, "idScope").ok_or_else(|| invalid("idScope must be a string"))?;
    let registration_id = get_str(o, "registrationId")
        .ok_or_else(|| js_error("INVALID_REGISTRATION_ID", "registrationId must be a string"))?;
    let mut registration =
        Registration::new(&id_scope, &registration_id).map_err(|e| to_js(&e))?;
    let payload = get(o, "payload");
    if !payload.is_undefined() && !payload.is_null() {
        let json = js_sys::JSON::stringify(&payload)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| invalid("payload must be a JSON object"))?;
        registration = registration.with_payload_json(&json).map_err(|e| to_js(&e))?;
    }

    let endpoint = Endpoint::parse(&opt_str(o, "endpoint")?.unwrap_or_else(|| DEFAULT_ENDPOINT.into()))
        .map_err(|e| to_js(&e))?;
    let transport = match opt_str(o, "transport")?.as_deref() {
        None | Some("https") | Some("http") | Some("rest") => Transport::Https,
        Some("mqtt-ws") | Some("mqtt") | Some("wss") => Transport::MqttWs,
        Some(_) => return Err(invalid("transport must be 'https' or 'mqtt-ws'")),
    };
    let api_version = opt_str(o, "apiVersion")?.unwrap_or_else(|| {
        match transport {
            Transport::Https => DEFAULT_API_VERSION,
            Transport::MqttWs => DEFAULT_MQTT_API_VERSION,
        }
        .into()
    });
    if api_version.is_empty() {
        return Err(invalid("apiVersion must not be empty"));
    }

    let symmetric_key = opt_str(o, "symmetricKey")?;
    let group_key = opt_str(o, "groupKey")?;
    let provider = opt_fn(o, "getToken")?;
    let (credential, device_key) = match (symmetric_key, group_key, provider) {
        (Some(k), None, None) => {
            // Fail now, not as a token error on the first request.
            auth::hmac_sha256_b64(&k, "").map_err(JsValue::from)?;
            (Credential::Key(k.clone()), Some(k))
        }
        (None, Some(g), None) => {
            let k = auth::derive_device_key(&g, &registration_id)?;
            (Credential::Key(k.clone()), Some(k))
        }
        (None, None, Some(f)) => (Credential::Provider(f), None),
        (None, None, None) => return Err(invalid("give one of symmetricKey, groupKey or getToken")),
        _ => return Err(invalid("give only one of symmetricKey, groupKey or getToken")),
    };

    let signal = Signal::from_option(get(o, "signal")).map_err(invalid)?;
    let on_status = opt_fn(o, "onStatus")?;
    let fetch = opt_fn(o, "fetch")?;
    let sockets = SocketFactory::from_options(o)?;
    if transport == Transport::MqttWs {
        // Coded as the transport failure it would otherwise become (`NETWORK`), but at once:
        // retrying cannot make a WebSocket appear.
        sockets.check().map_err(|e| js_error("NETWORK", &e.to_string()))?;
    }
    Ok(Options {
        registration,
        endpoint,
        transport,
        api_version,
        credential,
        device_key,
        signal,
        on_status,
        policy: policy(o)?,
        fetch,
        sockets,
    })
}

/// Hands out DPS SAS tokens, made from the key or asked of the provider; when one is reused is
/// the core's decision (`dps::tokens`).
pub struct Tokens {
    resource_uri: String,
    cache: TokenCache,
}

impl Tokens {
    pub fn new(resource_uri: String) -> Tokens {
        Tokens { resource_uri, cache: TokenCache::new() }
    }

    pub async fn get(&mut self, credential: &Credential, now_secs: u64) -> Result<String, JsValue> {
        if let Some(t) = self.cache.get(now_secs) {
            return Ok(t.to_string());
        }
        let expires_at = TokenCache::expiry_for(now_secs);
        let token = match credential {
            // Protocol §2.2: DPS tokens carry `skn=registration`.
            Credential::Key(k) => auth::sas_token(&self.resource_uri, k, expires_at, Some("registration"))?,
            Credential::Provider(f) => {
                let failed = |why: String| js_error("TOKEN_PROVIDER_FAILED", &format!("getToken failed: {why}"));
                let v = f
                    .call2(
                        &JsValue::UNDEFINED,
                        &JsValue::from_str(&self.resource_uri),
                        &JsValue::from_f64(expires_at as f64),
                    )
                    .map_err(|e| failed(crate::web::io::fetch::error_message(&e)))?;
                let v = JsFuture::from(Promise::resolve(&v))
                    .await
                    .map_err(|e| failed(crate::web::io::fetch::error_message(&e)))?;
                match v.as_string() {
                    Some(s) if !s.trim().is_empty() => s,
                    _ => return Err(failed("it must return a SAS token string".into())),
                }
            }
        };
        self.cache.store(&token);
        Ok(token)
    }
}

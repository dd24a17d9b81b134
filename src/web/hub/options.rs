//! Reads the JS options of `IotHubClient.connect` into the engine's settings and the way to get
//! a token. Accepted shapes (exactly one identity source):
//! `{ connectionString }`, `{ provisioning: ProvisioningResult }` (its `assignedHub`,
//! `deviceId` and `symmetricKey`), or `{ hostName, deviceId, moduleId? }`; with
//! `symmetricKey`, `getToken(resourceUri, expiresAt)` or `sasToken` (unless the connection
//! string carries the key).

use js_sys::Function;
use wasm_bindgen::JsValue;

use crate::web::io::error::{js_error, to_js};
use crate::web::io::js::{get_str, opt_fn, opt_object, opt_str, whole_number};
use crate::web::hub::store::StoreJs;
use crate::web::io::socket::SocketFactory;
use crate::hub::{ConnectionString, EngineOptions, HubError, Identity};
use crate::retry::Backoff;

/// Where each connection's SAS token comes from.
#[derive(Clone)]
pub enum Credential {
    /// Signed here with a fresh expiry for every connection.
    Key(String),
    /// `getToken(resourceUri, expiresAt)` → token or Promise of one.
    Provider(Function),
    /// Used as is; the hub drops the connection at its expiry and it cannot be renewed.
    Fixed(String),
}

pub struct HubOptions {
    pub engine: EngineOptions,
    pub credential: Credential,
    pub url: String,
    /// The hub's REST API (file upload): `restUrl`, else the WebSocket URL's host over http(s).
    pub rest_url: String,
    pub factory: SocketFactory,
    pub token_ttl_secs: u64,
    /// How long getting a token plus opening the socket may take, ms (the engine's
    /// `connect_timeout_ms` bounds the same phase and then CONNACK and SUBACK).
    pub open_timeout_ms: u64,
    /// The durable store and its bounds (records, bytes), when given.
    pub(crate) store: Option<(StoreJs, usize, usize)>,
}

fn hub_err(e: HubError) -> JsValue {
    to_js(&e)
}

fn bad(msg: &str) -> JsValue {
    js_error("INVALID_ARGUMENT", msg)
}

/// A whole number option within `lo..=hi`, or the default when absent.
fn number(o: &JsValue, key: &str, default: u64, lo: u64, hi: u64) -> Result<u64, JsValue> {
    Ok(whole_number(o, key, lo, hi)?.unwrap_or(default))
}


pub fn parse(o: &JsValue) -> Result<HubOptions, JsValue> {
    if !o.is_object() {
        return Err(bad("options must be an object"));
    }
    let mut key = opt_str(o, "symmetricKey")?;
    let mut fixed = opt_str(o, "sasToken")?;
    let mut gateway = None;
    let provisioning = opt_object(o, "provisioning")?;
    let (host, device, module) = if let Some(cs) = opt_str(o, "connectionString")? {
        let cs = ConnectionString::parse(&cs).map_err(hub_err)?;
        if cs.gateway_host_name.is_some() {
            gateway = Some(crate::hub::websocket_url(cs.connect_host()));
        }
        key = key.or(cs.shared_access_key);
        fixed = fixed.or(cs.shared_access_signature);
        (cs.host_name, cs.device_id, cs.module_id)
    } else if provisioning.is_object() {
        let p = provisioning;
        key = key.or(opt_str(&p, "symmetricKey")?);
        let host = get_str(&p, "assignedHub")
            .ok_or_else(|| bad("provisioning.assignedHub is missing: was the device assigned?"))?;
        let device = get_str(&p, "deviceId").ok_or_else(|| bad("provisioning.deviceId is missing"))?;
        (host, device, opt_str(o, "moduleId")?)
    } else {
        let host = get_str(o, "hostName").ok_or_else(|| bad("hostName must be a string"))?;
        let device = get_str(o, "deviceId").ok_or_else(|| bad("deviceId must be a string"))?;
        (host, device, opt_str(o, "moduleId")?)
    };
    let identity = Identity::new(&host, &device, module.as_deref()).map_err(hub_err)?;

    let credential = match (opt_fn(o, "getToken")?, key, fixed) {
        (Some(f), _, _) => Credential::Provider(f),
        (None, Some(k), _) => {
            // Fail now on a bad key rather than on every reconnect.
            identity.sas_token(&k, 1).map_err(hub_err)?;
            Credential::Key(k)
        }
        (None, None, Some(t)) => Credential::Fixed(t),
        (None, None, None) => {
            return Err(js_error(
                "INVALID_KEY",
                "give symmetricKey, getToken, sasToken or a connection string with a key",
            ))
        }
    };

    let url = opt_str(o, "url")?
        .or(gateway)
        .unwrap_or_else(|| identity.websocket_url());
    let rest_url = match opt_str(o, "restUrl")? {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => crate::hub::rest_base(&url).unwrap_or_else(|| format!("https://{}", identity.host_name)),
    };
    let renew_tokens = !matches!(credential, Credential::Fixed(_));
    let mut engine = EngineOptions::new(identity);
    engine.model_id = opt_str(o, "modelId")?;
    engine.client_type = opt_str(o, "clientType")?;
    // 1177 s is the most IoT Hub accepts (protocol §5.2).
    engine.keep_alive_secs = number(o, "keepAlive", 60, 5, 1177)? as u16;
    engine.max_inflight = number(o, "maxInflight", 32, 1, 65_000)? as usize;
    engine.offline_queue = number(o, "maxOfflineQueue", 1000, 1, 1_000_000)? as usize;
    engine.twin_timeout_ms = number(o, "twinTimeoutMs", 60_000, 100, 3_600_000)?;
    let r = opt_object(o, "reconnect")?;
    let base = number(&r, "initialDelayMs", engine.reconnect.backoff.base_ms, 1, 3_600_000)?;
    let cap = number(&r, "maxDelayMs", engine.reconnect.backoff.cap_ms, 1, 3_600_000)?;
    engine.reconnect.backoff = Backoff::new(base, cap.max(base));
    // Bounded well below setTimeout's 2^31-1 ms ceiling: an hour is already generous.
    let open_timeout_ms = number(o, "openTimeoutMs", 30_000, 100, 3_600_000)?;
    engine.connect_timeout_ms = open_timeout_ms;
    engine.send_timeout_ms = whole_number(o, "sendTimeoutMs", 100, 86_400_000)?;
    let token_ttl_secs = number(o, "tokenTtlSeconds", 3600, 5, 365 * 24 * 3600)?;
    engine.renew_tokens = renew_tokens;
    // `connect()` answers with the first connection's failure instead of retrying it.
    engine.retry_first_connect = false;
    engine.min_renew_interval_ms = crate::hub::min_renew_interval_ms(token_ttl_secs);
    let store = crate::web::hub::store::parse(o)?;
    if let Some((_, count, _)) = &store {
        // Stored sends wait offline like any other: the store's bound, not the queue's, decides.
        engine.offline_queue = engine.offline_queue.max(*count);
    }
    Ok(HubOptions {
        engine,
        credential,
        url,
        rest_url,
        factory: SocketFactory::from_options(o)?,
        token_ttl_secs,
        open_timeout_ms,
        store,
    })
}

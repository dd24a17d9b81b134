//! What the hub engine is configured with, asks its driver to do, and reports.

use std::collections::VecDeque;

use super::{C2dMessage, DesiredUpdate, WritableChange, HubError, Identity, ReconnectConfig, TwinOutcome, DEFAULT_TWIN_TIMEOUT_MS};

/// Settings of a `HubEngine`. `new` gives defaults in the range the SDKs use (protocol §5.2).
pub struct EngineOptions {
    pub identity: Identity,
    pub model_id: Option<String>,
    /// `DeviceClientType`; `None` names this library.
    pub client_type: Option<String>,
    /// MQTT keep-alive, seconds (Python 60, Node 180, C 240; at most 1177).
    pub keep_alive_secs: u16,
    /// QoS 1 telemetry publishes in flight at once.
    pub max_inflight: usize,
    /// Sends held while not connected; beyond it a send fails with `QUEUE_FULL`.
    pub offline_queue: usize,
    /// Sends waiting behind a full in-flight window while connected.
    pub max_queued: usize,
    pub twin_timeout_ms: u64,
    pub reconnect: ReconnectConfig,
    /// Before a planned reconnect (token renewal), how long to wait for in-flight PUBACKs.
    pub renew_drain_ms: u64,
    /// How long each step of a connection may take, ms: getting the token and opening the
    /// socket, then CONNACK (the session's timer), then SUBACK. Without it a token provider
    /// or socket factory that never answers would stall the client for good.
    pub connect_timeout_ms: u64,
    /// When set, a send not acknowledged this long after `send` fails with `TIMEOUT`
    /// (queued offline or in flight; an in-flight one may still arrive: the outcome is unknown).
    pub send_timeout_ms: Option<u64>,
    /// False for a fixed token: nothing can renew it, so the connection lasts until the hub
    /// ends it at the token's expiry, and an expired token ends the client (`HUB_UNAUTHORIZED`).
    pub renew_tokens: bool,
    /// The least time between a connection's start and its token renewal (see `renew_at_ms`).
    pub min_renew_interval_ms: u64,
    /// Whether a failure of the very first connection is retried like a later drop. False
    /// for a client whose `connect()` must answer with the failure (the JS `IotHubClient`):
    /// the engine then reports `Disconnected` with the reason and closes, no retry loop.
    pub retry_first_connect: bool,
}

impl EngineOptions {
    pub fn new(identity: Identity) -> EngineOptions {
        EngineOptions {
            identity,
            model_id: None,
            client_type: None,
            keep_alive_secs: 60,
            max_inflight: 32,
            offline_queue: 1000,
            max_queued: 10_000,
            twin_timeout_ms: DEFAULT_TWIN_TIMEOUT_MS,
            reconnect: ReconnectConfig::default(),
            renew_drain_ms: 2_000,
            connect_timeout_ms: 30_000,
            send_timeout_ms: None,
            renew_tokens: true,
            min_renew_interval_ms: 60_000,
            retry_first_connect: true,
        }
    }
}

/// What the driver must do; drain with `HubEngine::poll_action` after every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Get a token (from the key or `getToken`), open a new socket, then call `handle_opened`
    /// (or `handle_open_failed`).
    Open,
    /// Write these bytes to the socket.
    Transmit(Vec<u8>),
    /// Close the socket; then call `handle_closed`.
    CloseSocket,
}

/// What happened, in order; drain with `HubEngine::poll_event`.
#[derive(Debug, Clone, PartialEq)]
pub enum HubEvent {
    /// Connected and subscribed.
    Connected,
    /// The connection ended; `reason` is the error code that ended it (`TOKEN_RENEWAL` for a
    /// planned reconnect).
    Disconnected {
        reason: &'static str,
        message: String,
    },
    /// The next attempt, and how long until it.
    Reconnecting {
        attempt: u32,
        delay_ms: u64,
    },
    /// A telemetry send finished.
    SendDone {
        op: u64,
        result: Result<(), HubError>,
    },
    /// A twin request finished.
    TwinDone {
        op: u64,
        outcome: TwinOutcome,
    },
    /// A C2D message; call `ack_message(pkid)` once the application has handled it.
    Message {
        pkid: Option<u16>,
        message: C2dMessage,
        payload: Vec<u8>,
    },
    Desired(DesiredUpdate),
    /// A desired value of a writable property the application handles (`listen_writable`);
    /// answer it with `ack_writable`.
    Writable(WritableChange),
    /// A direct method call; answer with `respond_method(rid, …)`.
    Method {
        name: String,
        rid: String,
        payload: Vec<u8>,
    },
    /// Something the application should hear about that did not fail one operation.
    Error(HubError),
    /// The engine stopped for good (after `close`, or after giving up).
    Closed,
}

/// What the application listens to, as far as the engine must know it (`engine_listening.rs`):
/// method names, and the C2D messages and desired patches held until their handler exists.
#[derive(Debug, Default)]
pub(super) struct Listening {
    pub(super) methods: Vec<String>,
    pub(super) messages: Option<VecDeque<HubEvent>>,
    pub(super) desired: Option<VecDeque<HubEvent>>,
}

impl Listening {
    pub(super) fn new() -> Listening {
        Listening { methods: Vec::new(), messages: Some(VecDeque::new()), desired: Some(VecDeque::new()) }
    }
}

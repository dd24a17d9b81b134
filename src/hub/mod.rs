//! IoT Hub core, sans-I/O: topics, property bags, twin and method correlation, connection policy.
//!
//! Wire contract: `shared/docs/protocol.md` §5. One small file per feature, in the manner of
//! azure-sdk-for-c: every Azure string is built and parsed by a pure function, and "not my topic"
//! is `None`, not an error. Nothing here reads a clock or draws randomness: `now` (ms) and the
//! jitter come in from the caller.

mod c2d;
mod connection_string;
mod desired;
mod engine;
mod engine_calls;
mod engine_inbound;
mod engine_lifecycle;
mod engine_listening;
mod engine_pnp;
mod engine_types;
mod error;
mod files;
mod identity;
mod methods;
mod pnp;
mod policy;
mod properties;
mod store;
mod telemetry;
mod topic_query;
mod twin;
mod twin_requests;

pub use c2d::{c2d_filter, parse_c2d_topic, C2dMessage};
pub use connection_string::{websocket_url, ConnectionString};
pub use desired::{merge_diff, merge_patch, DesiredTracker, DesiredUpdate};
pub use engine::HubEngine;
pub use engine_listening::{method_error_body, MAX_HELD};
pub use engine_types::{Action, EngineOptions, HubEvent};
pub use error::HubError;
pub use files::{
    blob_url, block_id, block_list_xml, block_query, hub_error, notification_request, parse_sas_response, rest_base, sas_request, single_put,
    storage_error, HubRequest, UploadSas, DEFAULT_BLOCK_SIZE, FILE_UPLOAD_API_VERSION, MAX_BLOCKS, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE,
};
pub use identity::{sas_expiry, Identity, API_VERSION, DEVICE_CLIENT_TYPE};
pub use methods::{method_response_topic, method_status, parse_method_topic, MethodRequest, METHODS_FILTER};
pub use pnp::{command_method_name, component_patch, split_command_name, valid_dtdl_name, patch_changes, unanswered, writable_ack, WritableChange, WritableKey};
pub use policy::{min_renew_interval_ms, renew_at_ms, DropReason, OfflineQueue, Reconnect, ReconnectConfig, ReconnectPolicy};
pub use properties::{decode_bag, device_settable, encode_bag, system_key, system_name, Property, SYSTEM_PROPERTIES};
pub use store::{
    is_own_telemetry, restore_order, stored_message_id, StoreLedger, StoredRecord, DEFAULT_MAX_STORED, DEFAULT_MAX_STORED_BYTES,
    STORE_CALL_TIMEOUT_MS,
};
pub use telemetry::{telemetry_topic, Message, MAX_MESSAGE_SIZE};
pub use twin::{
    parse_desired_topic, parse_twin_response_topic, twin_get_topic, twin_patch_topic, TwinResponse,
    TWIN_DESIRED_FILTER, TWIN_RESPONSE_FILTER,
};
pub use twin_requests::{TwinOutcome, TwinPublish, TwinRequestKind, TwinRequests, DEFAULT_TWIN_TIMEOUT_MS};

/// Every filter a hub client subscribes to after connecting: C2D (or module inputs), methods,
/// twin responses and desired notifications. Four, within the hub's limit of five (§6).
pub fn subscriptions(id: &Identity) -> Vec<String> {
    vec![
        c2d_filter(id),
        METHODS_FILTER.to_string(),
        TWIN_RESPONSE_FILTER.to_string(),
        TWIN_DESIRED_FILTER.to_string(),
    ]
}

/// What an inbound publish is, decided from its topic alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    C2d(C2dMessage),
    TwinResponse(TwinResponse),
    /// A desired notification, with the `$version` of its topic when present.
    DesiredPatch(Option<i64>),
    Method(MethodRequest),
}

/// Classifies an inbound topic; `None` for a topic this client does not know.
pub fn classify(topic: &str) -> Option<Inbound> {
    if let Some(r) = parse_twin_response_topic(topic) {
        return Some(Inbound::TwinResponse(r));
    }
    if let Some(v) = parse_desired_topic(topic) {
        return Some(Inbound::DesiredPatch(v));
    }
    if let Some(m) = parse_method_topic(topic) {
        return Some(Inbound::Method(m));
    }
    parse_c2d_topic(topic).map(Inbound::C2d)
}

/// A stable insertion sort for the short, nearly sorted lists the hub core orders (pending ops,
/// buffered desired patches). `slice::sort*` would link two ~5 KB sort implementations into the
/// wasm for lists that are almost always in order already (bench/size.md).
pub(crate) fn sort_small_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && v.get(j - 1).map(&key) > v.get(j).map(&key) {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

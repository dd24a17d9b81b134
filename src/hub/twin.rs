//! Device twin topics (protocol §5.6).
//!
//! * GET: empty publish to `$iothub/twin/GET/?$rid={rid}`; answer
//!   `$iothub/twin/res/200/?$rid={rid}` with `{"desired":{…,"$version":N},"reported":{…}}`.
//! * PATCH reported: JSON to `$iothub/twin/PATCH/properties/reported/?$rid={rid}`; answer
//!   `$iothub/twin/res/204/?$rid={rid}&$version={new reported version}`.
//! * Desired notifications: `$iothub/twin/PATCH/properties/desired/?$version={N}`.
//!
//! Any `res/{status}` with status ≥ 400 is an error answer (azure-sdk-for-c does the same).

use super::topic_query::query_value;

pub const TWIN_RESPONSE_FILTER: &str = "$iothub/twin/res/#";
pub const TWIN_DESIRED_FILTER: &str = "$iothub/twin/PATCH/properties/desired/#";

/// `$iothub/twin/GET/?$rid={rid}`
pub fn twin_get_topic(rid: &str) -> String {
    format!("$iothub/twin/GET/?$rid={rid}")
}

/// `$iothub/twin/PATCH/properties/reported/?$rid={rid}`
pub fn twin_patch_topic(rid: &str) -> String {
    format!("$iothub/twin/PATCH/properties/reported/?$rid={rid}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinResponse {
    pub status: u16,
    pub rid: String,
    /// `$version`: the new reported version on a 204.
    pub version: Option<i64>,
}

/// Parses `$iothub/twin/res/{status}/?$rid=…[&$version=…]`; `None` when it is not one.
pub fn parse_twin_response_topic(topic: &str) -> Option<TwinResponse> {
    let rest = topic.strip_prefix("$iothub/twin/res/")?;
    let (status, query) = crate::text::split_once(rest, "/?")?;
    let status = status.parse::<u16>().ok()?;
    let rid = query_value(query, "$rid")?;
    let version = query_value(query, "$version").and_then(|v| v.parse().ok());
    Some(TwinResponse { status, rid, version })
}

/// Parses a desired-properties notification topic, giving its `$version` when the topic has
/// one (the body's `$version` is the fallback). `None` when it is not a notification.
pub fn parse_desired_topic(topic: &str) -> Option<Option<i64>> {
    let rest = topic.strip_prefix("$iothub/twin/PATCH/properties/desired/")?;
    let query = rest.strip_prefix('?').unwrap_or(rest);
    Some(query_value(query, "$version").and_then(|v| v.parse().ok()))
}

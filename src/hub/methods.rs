//! Direct methods (protocol §5.7). Requests arrive on
//! `$iothub/methods/POST/{method name}/?$rid={request id}`; the answer goes to
//! `$iothub/methods/res/{status}/?$rid={request id}` with a JSON (or empty) body.

use super::topic_query::query_value;

/// Subscribe filter for method requests (QoS 0, "Method requests are QoS 0").
pub const METHODS_FILTER: &str = "$iothub/methods/POST/#";

const REQUEST_PREFIX: &str = "$iothub/methods/POST/";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodRequest {
    pub name: String,
    pub rid: String,
}

/// Parses a method-request topic; `None` when `topic` is not one.
pub fn parse_method_topic(topic: &str) -> Option<MethodRequest> {
    let rest = topic.strip_prefix(REQUEST_PREFIX)?;
    let (name, query) = crate::text::split_once(rest, "/?")?;
    if name.is_empty() || name.contains('/') {
        return None;
    }
    let rid = query_value(query, "$rid")?;
    Some(MethodRequest {
        name: name.to_string(),
        rid,
    })
}

/// `$iothub/methods/res/{status}/?$rid={rid}`
pub fn method_response_topic(status: u16, rid: &str) -> String {
    format!("$iothub/methods/res/{status}/?$rid={rid}")
}

/// The status a method handler gave, if usable: a whole number from 0 to 65535 (the topic's
/// `{status}`). The facade answers an unusable one 500 and tells the application, instead of
/// guessing a status for it.
pub fn method_status(s: f64) -> Option<u16> {
    (s.fract() == 0.0 && (0.0..=65535.0).contains(&s)).then_some(s as u16)
}

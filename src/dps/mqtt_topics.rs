//! DPS over MQTT (protocol §3): CONNECT username, topics, and the response-topic parser.
//!
//! ```text
//! username  {idScope}/registrations/{registrationId}/api-version=2019-03-31&ClientVersion={enc ua}
//! subscribe $dps/registrations/res/#
//! register  $dps/registrations/PUT/iotdps-register/?$rid={rid}                       body DeviceRegistration
//! poll      $dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={id}  body empty
//! response  $dps/registrations/res/{status}/?$rid={rid}[&retry-after={s}]  (properties in any order)
//! ```
//! The ClientId is the registration id; the password is the same SAS token as REST (§2.2).

use crate::auth::{percent_decode, percent_encode};

/// The one topic filter a DPS client subscribes to.
pub const RESPONSE_SUBSCRIPTION: &str = "$dps/registrations/res/#";

const RESPONSE_PREFIX: &str = "$dps/registrations/res/";

/// The CONNECT username. Note `/api-version=` with no `?` (unlike IoT Hub).
pub fn username(id_scope: &str, registration_id: &str, api_version: &str, client_version: Option<&str>) -> String {
    let mut u = format!("{id_scope}/registrations/{registration_id}/api-version={api_version}");
    if let Some(ua) = client_version.filter(|s| !s.is_empty()) {
        u.push_str("&ClientVersion=");
        u.push_str(&percent_encode(ua));
    }
    u
}

pub fn register_topic(rid: &str) -> String {
    format!("$dps/registrations/PUT/iotdps-register/?$rid={}", percent_encode(rid))
}

pub fn operation_status_topic(rid: &str, operation_id: &str) -> String {
    format!(
        "$dps/registrations/GET/iotdps-get-operationstatus/?$rid={}&operationId={}",
        percent_encode(rid),
        percent_encode(operation_id)
    )
}

/// A parsed `$dps/registrations/res/...` topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseTopic {
    pub status: u16,
    pub rid: Option<String>,
    /// The raw `retry-after` value; read it with `parse_retry_after`.
    pub retry_after: Option<String>,
}

/// Parses a response topic; any other topic is `None` ("not mine" is a normal answer).
pub fn parse_response_topic(topic: &str) -> Option<ResponseTopic> {
    let rest = topic.strip_prefix(RESPONSE_PREFIX)?;
    let (status, query) = match rest.split_once('/') {
        Some((status, q)) => (status, q.strip_prefix('?').unwrap_or(q)),
        None => (rest, ""),
    };
    if status.is_empty() || status.len() > 5 || !status.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let status: u16 = status.parse().ok()?;
    // Values are percent-decoded (the topic is built with `percent_encode`); keys may be
    // spelled `%24rid`, which `query_value` matches.
    let value = |key| {
        let raw = crate::query::query_value(query, key)?;
        Some(percent_decode(raw).unwrap_or_else(|| raw.to_string()))
    };
    Some(ResponseTopic { status, rid: value("$rid"), retry_after: value("retry-after") })
}

//! Cloud-to-device messages (protocol §5.5): subscription filters and parsing of delivered
//! topics. A topic that is not a C2D delivery is `None`, a normal answer.
//!
//! Device: `devices/{deviceId}/messages/devicebound/{bag}`.
//! Module input: `devices/{deviceId}/modules/{moduleId}/inputs/{inputName}/{bag}`.

use super::properties::{decode_bag, Property};
use super::Identity;

/// The filter to subscribe for C2D (devices) or input messages (modules).
pub fn c2d_filter(id: &Identity) -> String {
    match &id.module_id {
        Some(_) => format!("{}/inputs/#", id.topic_prefix()),
        None => format!("{}/messages/devicebound/#", id.topic_prefix()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C2dMessage {
    /// Decoded properties in wire order, system (`$.mid`, `$.to`, ...) and application alike.
    pub properties: Vec<Property>,
    /// The module input the message arrived on, for module identities.
    pub input_name: Option<String>,
}

impl C2dMessage {
    /// The value of property `key` (for system properties, the `$.`-prefixed key).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Parses a delivered topic. Any `devices/…` topic carrying `/messages/devicebound/` or
/// `/inputs/{name}/` matches, as in azure-sdk-for-c (the hub only delivers our own).
pub fn parse_c2d_topic(topic: &str) -> Option<C2dMessage> {
    let rest = topic.strip_prefix("devices/")?;
    if let Some((_, tail)) = crate::text::split_once(rest, "/messages/devicebound") {
        // Bag after the next `/`; a topic ending at `devicebound` or `devicebound/` has none.
        let bag = match tail {
            "" => "",
            t => t.strip_prefix('/')?,
        };
        return Some(C2dMessage {
            properties: decode_bag(bag),
            input_name: None,
        });
    }
    let (head, tail) = crate::text::split_once(rest, "/inputs/")?;
    crate::text::find(head, "/modules/")?;
    let (input, bag) = tail.split_once('/').unwrap_or((tail, ""));
    if input.is_empty() {
        return None;
    }
    Some(C2dMessage {
        properties: decode_bag(bag),
        input_name: Some(input.to_string()),
    })
}

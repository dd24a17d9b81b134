//! Device-to-cloud telemetry (protocol §5.4): the publish topic with its property bag, and the
//! size check the hub applies.
//!
//! `devices/{deviceId}/messages/events/{bag}` or
//! `devices/{deviceId}/modules/{moduleId}/messages/events/{bag}`; system properties come first
//! as `%24.mid=…&%24.cid=…`, then application properties in the caller's order.

use super::properties::encode_bag;
use super::{HubError, Identity};

/// "256-kb max message size" (protocol §6), counted as in §5.4.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024;

/// An MQTT topic name is a length-prefixed UTF-8 string: at most 65,535 bytes.
const MAX_TOPIC_LEN: usize = 65_535;

/// A telemetry message before encoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    pub body: Vec<u8>,
    /// System properties as (bag key such as `$.mid`, value).
    pub system: Vec<(String, String)>,
    /// Application properties in the caller's order.
    pub properties: Vec<(String, String)>,
}

impl Message {
    pub fn new(body: impl Into<Vec<u8>>) -> Message {
        Message {
            body: body.into(),
            ..Message::default()
        }
    }

    pub fn with_system(mut self, key: &str, value: &str) -> Message {
        self.system.push((key.to_string(), value.to_string()));
        self
    }

    /// For a body the caller gave as a JSON value: content type and encoding default to
    /// `application/json` and `utf-8` (what IoT Hub message routing needs to read the body as
    /// JSON, protocol §5.4), unless the caller set them.
    pub fn with_json_defaults(mut self) -> Message {
        for (key, value) in [("$.ct", "application/json"), ("$.ce", "utf-8")] {
            if !self.system.iter().any(|(k, _)| k == key) {
                self = self.with_system(key, value);
            }
        }
        self
    }

    pub fn with_property(mut self, name: &str, value: &str) -> Message {
        self.properties.push((name.to_string(), value.to_string()));
        self
    }

    /// The size the hub meters: body + system property values + application property names and
    /// values (`iot-hub-devguide-messages-construct.md`, via protocol §5.4).
    pub fn hub_size(&self) -> usize {
        self.body.len()
            + self.system.iter().map(|(_, v)| v.len()).sum::<usize>()
            + self.properties.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
    }
}

/// Builds the publish topic for `msg`, refusing what the hub would refuse (it closes the
/// connection on an oversize message, protocol §5.3, so we must not send one).
pub fn telemetry_topic(id: &Identity, msg: &Message) -> Result<String, HubError> {
    if msg.properties.iter().any(|(k, _)| k.is_empty() || k.starts_with("$.")) {
        return Err(HubError::InvalidProperty);
    }
    let size = msg.hub_size();
    if size > MAX_MESSAGE_SIZE {
        return Err(HubError::MessageTooLarge {
            size,
            limit: MAX_MESSAGE_SIZE,
        });
    }
    let bag = encode_bag(
        msg.system
            .iter()
            .chain(msg.properties.iter())
            .map(|(k, v)| (k.as_str(), Some(v.as_str()))),
    );
    let topic = format!("{}/messages/events/{bag}", id.topic_prefix());
    if topic.len() > MAX_TOPIC_LEN {
        return Err(HubError::MessageTooLarge {
            size: topic.len(),
            limit: MAX_TOPIC_LEN,
        });
    }
    Ok(topic)
}

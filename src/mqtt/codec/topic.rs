//! Topic name and topic filter rules (MQTT 3.1.1 §4.7).

use crate::mqtt::MqttError;

/// Checks a UTF-8 string field: at most 65,535 bytes and no U+0000 (§1.5.3).
pub(crate) fn check_string(s: &str, what: &'static str) -> Result<(), MqttError> {
    if s.len() > 65_535 {
        return Err(MqttError::InvalidArgument(what));
    }
    if s.as_bytes().contains(&0) {
        return Err(MqttError::InvalidArgument(what));
    }
    Ok(())
}

fn check_topic_string(s: &str) -> Result<(), MqttError> {
    if s.is_empty() {
        return Err(MqttError::InvalidTopic("empty"));
    }
    if s.len() > 65_535 {
        return Err(MqttError::InvalidTopic("longer than 65535 bytes"));
    }
    if s.as_bytes().contains(&0) {
        return Err(MqttError::InvalidTopic("contains U+0000"));
    }
    Ok(())
}

/// A topic name for PUBLISH: non-empty, no wildcards (§4.7.1).
pub fn validate_topic_name(topic: &str) -> Result<(), MqttError> {
    check_topic_string(topic)?;
    if topic.contains(['+', '#']) {
        return Err(MqttError::InvalidTopic("wildcards are not allowed in a topic name"));
    }
    Ok(())
}

/// A topic filter for SUBSCRIBE/UNSUBSCRIBE: `#` only as the whole last level, `+` only as a
/// whole level (§4.7.1.2, §4.7.1.3).
pub fn validate_filter(filter: &str) -> Result<(), MqttError> {
    check_topic_string(filter)?;
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') && (level != "#" || levels.peek().is_some()) {
            return Err(MqttError::InvalidTopic("'#' must be the whole last level"));
        }
        if level.contains('+') && level != "+" {
            return Err(MqttError::InvalidTopic("'+' must be a whole level"));
        }
    }
    Ok(())
}

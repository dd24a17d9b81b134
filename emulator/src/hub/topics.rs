//! IoT Hub MQTT topic grammar, parsed for one connected identity (protocol.md §5.4-5.8).
//! "Not one of the documented topics" and "another device's topic" are distinct answers because
//! the log must say which rule closed the socket.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// `devices/{d}[/modules/{m}]/messages/events/{bag}`
    Telemetry { bag: String },
    /// `$iothub/twin/GET/?$rid={rid}`
    TwinGet { rid: String },
    /// `$iothub/twin/PATCH/properties/reported/?$rid={rid}`
    TwinPatchReported { rid: String },
    /// `$iothub/methods/res/{status}/?$rid={rid}`
    MethodResponse { status: i64, rid: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicRefusal {
    OtherIdentity,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sub {
    C2d,
    TwinResponses,
    DesiredPatches,
    Methods,
}

/// `devices/{d}` or `devices/{d}/modules/{m}` (ids percent-encoded are not used by SDKs).
pub fn identity_prefix(device: &str, module: Option<&str>) -> String {
    match module {
        Some(m) => format!("devices/{device}/modules/{m}"),
        None => format!("devices/{device}"),
    }
}

/// Query-style properties after `?` (`$rid=1&$version=2`), decoded.
pub fn query_props(q: &str) -> Vec<(String, Option<String>)> {
    parse_bag(q)
}

fn rid_of(rest: &str) -> Option<String> {
    let q = rest.strip_prefix('?')?;
    query_props(q).into_iter().find(|(k, _)| k == "$rid").and_then(|(_, v)| v)
}

pub fn parse_publish(topic: &str, device: &str, module: Option<&str>) -> Result<Inbound, TopicRefusal> {
    if let Some(rest) = topic.strip_prefix("$iothub/twin/GET/") {
        return rid_of(rest).map(|rid| Inbound::TwinGet { rid }).ok_or(TopicRefusal::Unknown);
    }
    if let Some(rest) = topic.strip_prefix("$iothub/twin/PATCH/properties/reported/") {
        return rid_of(rest).map(|rid| Inbound::TwinPatchReported { rid }).ok_or(TopicRefusal::Unknown);
    }
    if let Some(rest) = topic.strip_prefix("$iothub/methods/res/") {
        let (status, rest) = rest.split_once('/').ok_or(TopicRefusal::Unknown)?;
        let status = status.parse::<i64>().map_err(|_| TopicRefusal::Unknown)?;
        return rid_of(rest).map(|rid| Inbound::MethodResponse { status, rid }).ok_or(TopicRefusal::Unknown);
    }
    if topic.starts_with("devices/") {
        let own = identity_prefix(device, module);
        if let Some(rest) = topic.strip_prefix(&own) {
            if let Some(bag) = rest.strip_prefix("/messages/events/") {
                return Ok(Inbound::Telemetry { bag: bag.trim_end_matches('/').to_string() });
            }
            if rest == "/messages/events" {
                return Ok(Inbound::Telemetry { bag: String::new() });
            }
            // Same identity prefix but a longer id (`devices/d1x/…` vs `d1`) is another device.
            if rest.starts_with('/') {
                return Err(TopicRefusal::Unknown);
            }
        }
        return Err(TopicRefusal::OtherIdentity);
    }
    Err(TopicRefusal::Unknown)
}

pub fn parse_subscribe(filter: &str, device: &str, module: Option<&str>) -> Result<Sub, TopicRefusal> {
    match filter {
        "$iothub/twin/res/#" => return Ok(Sub::TwinResponses),
        "$iothub/twin/PATCH/properties/desired/#" => return Ok(Sub::DesiredPatches),
        "$iothub/methods/POST/#" => return Ok(Sub::Methods),
        _ => {}
    }
    let own = identity_prefix(device, module);
    if module.is_none() {
        if filter == format!("{own}/messages/devicebound/#") || filter == "devices/+/messages/devicebound/#" {
            return Ok(Sub::C2d);
        }
    } else if filter == format!("{own}/#") || filter == format!("{own}/inputs/#") {
        return Ok(Sub::C2d);
    }
    if filter.starts_with("devices/") && !filter.starts_with(&format!("{own}/")) {
        return Err(TopicRefusal::OtherIdentity);
    }
    Err(TopicRefusal::Unknown)
}

/// `k1=v1&k2&k3=` → `[(k1,Some(v1)),(k2,None),(k3,Some(""))]`, percent-decoded, `+` kept (§5.5).
pub fn parse_bag(bag: &str) -> Vec<(String, Option<String>)> {
    let dec = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    bag.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (dec(k), Some(dec(v))),
            None => (dec(p), None),
        })
        .collect()
}

/// RFC 3986 unreserved stay literal; everything else is percent-encoded (uppercase hex).
const BAG: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn encode_bag(props: &[(String, String)]) -> String {
    props
        .iter()
        .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, BAG), utf8_percent_encode(v, BAG)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telemetry_topics_with_and_without_bag_are_the_devices_own() {
        assert_eq!(
            parse_publish("devices/d1/messages/events/%24.ct=application%2Fjson&a=1", "d1", None),
            Ok(Inbound::Telemetry { bag: "%24.ct=application%2Fjson&a=1".into() })
        );
        assert_eq!(parse_publish("devices/d1/messages/events/", "d1", None), Ok(Inbound::Telemetry { bag: "".into() }));
        assert_eq!(parse_publish("devices/d2/messages/events/", "d1", None), Err(TopicRefusal::OtherIdentity));
        assert_eq!(parse_publish("devices/d1x/messages/events/", "d1", None), Err(TopicRefusal::OtherIdentity));
        assert_eq!(parse_publish("foo/bar", "d1", None), Err(TopicRefusal::Unknown));
    }

    #[test]
    fn twin_and_method_topics_carry_their_request_ids() {
        assert_eq!(parse_publish("$iothub/twin/GET/?$rid=7", "d", None), Ok(Inbound::TwinGet { rid: "7".into() }));
        assert_eq!(
            parse_publish("$iothub/methods/res/200/?$rid=ab", "d", None),
            Ok(Inbound::MethodResponse { status: 200, rid: "ab".into() })
        );
    }

    #[test]
    fn property_bags_decode_keys_and_values_and_keep_plus() {
        assert_eq!(
            parse_bag("%24.mid=1&a+b=c%20d&flag&e="),
            vec![
                ("$.mid".into(), Some("1".into())),
                ("a+b".into(), Some("c d".into())),
                ("flag".into(), None),
                ("e".into(), Some("".into()))
            ]
        );
    }
}

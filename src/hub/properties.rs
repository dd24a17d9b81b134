//! Topic property bags (protocol §5.4, §5.5): `key=value&key2=value2`, each side percent-encoded
//! "the same as query strings". System properties are `$.`-prefixed keys, sent as `%24.mid`.
//!
//! Decoding follows §5.5: split on `&`, then on the first `=`; `key` alone is a null value,
//! `key=` an empty one; `+` is not a space.

use crate::auth::{percent_decode, percent_encode};

/// One decoded `key[=value]` pair; `None` is the null form (`key` with no `=`).
pub type Property = (String, Option<String>);

/// Encodes pairs into a bag. Values that are `None` are written as the bare key.
pub fn encode_bag<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&percent_encode(k));
        if let Some(v) = v {
            out.push('=');
            out.push_str(&percent_encode(v));
        }
    }
    out
}

/// Decodes a bag. A pair whose escapes are not UTF-8 is kept raw rather than dropped, so a
/// message is never lost over one odd property.
pub fn decode_bag(bag: &str) -> Vec<Property> {
    bag.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), Some(decode(v))),
            None => (decode(p), None),
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_decode(s).unwrap_or_else(|| s.to_string())
}

/// The system properties this client maps to named fields, as (bag key, JS-facing name).
/// Sources: protocol §5.4 table.
pub const SYSTEM_PROPERTIES: &[(&str, &str)] = &[
    ("$.mid", "messageId"),
    ("$.cid", "correlationId"),
    ("$.uid", "userId"),
    ("$.ct", "contentType"),
    ("$.ce", "contentEncoding"),
    ("$.exp", "expiryTimeUtc"),
    ("$.ctime", "creationTimeUtc"),
    ("$.sub", "componentName"),
    ("$.on", "outputName"),
    ("$.to", "to"),
];

/// The system properties a device may set on telemetry: all of the above but `to`, which only
/// the hub sets (on cloud-to-device messages).
pub fn device_settable() -> &'static [(&'static str, &'static str)] {
    &SYSTEM_PROPERTIES[..SYSTEM_PROPERTIES.len() - 1]
}

/// The JS-facing name of a system property key (`$.mid` → `messageId`), if known.
pub fn system_name(key: &str) -> Option<&'static str> {
    SYSTEM_PROPERTIES.iter().find(|(k, _)| *k == key).map(|(_, n)| *n)
}

/// The bag key of a JS-facing system property name (`messageId` → `$.mid`), if known.
pub fn system_key(name: &str) -> Option<&'static str> {
    SYSTEM_PROPERTIES.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
}

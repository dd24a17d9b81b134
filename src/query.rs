//! The one parser of `k=v&k2=v2` tails shared by every Azure string that carries one: IoT Hub
//! topic properties (`$rid`, `$version`, protocol §5.6–§5.7), DPS response topics (`$rid`,
//! `retry-after`, §3) and the fields of a SAS token (`se`, §2.1).
//!
//! Property order is not fixed (§3 shows `?retry-after=120&$rid=1`), so keys are looked up, not
//! read by position. Values come back raw: a `$rid` must be echoed exactly as the service sent
//! it; callers that want a decoded value decode it themselves.

/// The raw value of `key` in `query` (the part after `?`), if present. A key starting with `$`
/// also matches its `%24` spelling; a pair without `=` has an empty value; the first match wins.
pub fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    let alt = key.strip_prefix('$');
    query.split('&').filter(|kv| !kv.is_empty()).find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let hit = k == key || alt.is_some_and(|a| k.strip_prefix("%24") == Some(a));
        hit.then_some(v)
    })
}

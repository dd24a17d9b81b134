//! The `?k=v&k2=v2` tail of `$iothub/...` topics (`$rid`, `$version`), shared by twin and methods.
//! Property order is not fixed (protocol §3 shows `?retry-after=120&$rid=1`), so look keys up.
//! Values are returned raw: a `$rid` must be echoed exactly as the service sent it.

/// The raw value of `key` in `query` (the part after `?`), if present; `%24` stands for `$`.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    let alt = key.strip_prefix('$').map(|k| format!("%24{k}"));
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key || alt.as_deref() == Some(*k))
        .map(|(_, v)| v.to_string())
}

//! The `?k=v&k2=v2` tail of `$iothub/...` topics (`$rid`, `$version`), shared by twin and methods.
//! A thin owned-string view of `crate::query`, the one parser for every such tail.

/// The raw value of `key` in `query` (the part after `?`), if present; `%24` stands for `$`.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    crate::query::query_value(query, key).map(str::to_string)
}

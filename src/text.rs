//! Substring search that cannot panic, for the topic and URL parsers.
//!
//! Why not `str::find(&str)`/`split_once(&str)`: their `StrSearcher` and the `&s[a..b]` that
//! usually follows each keep a panic path (`slice_error_fail`), which drags `char` Debug
//! formatting and the Unicode printable tables into the wasm (~5 KB, see bench/size.md). Byte
//! comparison is enough here: a match of a valid UTF-8 needle in a valid UTF-8 haystack starts
//! and ends on char boundaries, and `str::get` re-checks that rather than trusting it.

/// Byte offset of the first `needle` in `hay`.
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    if n.is_empty() {
        return Some(0);
    }
    hay.as_bytes().windows(n.len()).position(|w| w == n)
}

/// `hay` split around the first `sep`, like `str::split_once`.
pub fn split_once<'a>(hay: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let i = find(hay, sep)?;
    Some((hay.get(..i)?, hay.get(i.checked_add(sep.len())?..)?))
}

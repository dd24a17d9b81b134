//! Strict percent-encoding for SAS tokens and topic property bags.
//!
//! Protocol §2.3: everything except `A-Z a-z 0-9 - _ . ~` is encoded, with uppercase hex (the
//! set of azure-sdk-for-c's `_az_span_url_should_encode`, and what `encodeURIComponent` plus
//! `!'()*` gives).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

const STRICT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, STRICT).to_string()
}

/// Decodes `%XX` escapes; `+` stays a plus (protocol §5.5: do not treat `+` as space).
/// Returns `None` when the result is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

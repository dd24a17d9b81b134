//! Wall-clock helpers: Unix seconds for SAS expiry and ISO 8601 UTC timestamps for the JSON
//! documents (`createdDateTimeUtc`, `timestampUtc`, `enqueuedTimeUtc`).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

pub fn now_unix_secs() -> u64 {
    now_unix_ms() / 1000
}

/// `2022-08-31T22:02:50.516Z` (the services print 7 fractional digits; 3 parse the same).
pub fn iso_utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        ms % 1000
    )
}

pub fn now_iso() -> String {
    iso_utc(now_unix_ms())
}

// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_utc_formats_a_known_instant() {
        assert_eq!(super::iso_utc(1_663_119_026_123), "2022-09-14T01:30:26.123Z");
        assert_eq!(super::iso_utc(0), "1970-01-01T00:00:00.000Z");
    }
}

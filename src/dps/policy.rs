//! The timing knobs of a registration, with defaults from protocol §1.7:
//! poll after `Retry-After` clamped to `[2 s, 300 s]`, else 2 s (DPS allows 5 polls per 10 s per
//! device, so never faster than every 2 s; the C SDK caps a wait at 300 s); retry 429, 5xx and
//! network failures with exponential backoff plus jitter, 429 with a longer floor; give up at an
//! overall deadline.

use crate::retry::Backoff;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The overall deadline, from the first `poll_step`, ms.
    pub timeout_ms: u64,
    /// How long one request may take before it counts as a network failure, ms.
    pub request_timeout_ms: u64,
    /// The poll interval when the service gives no `Retry-After`, ms.
    pub default_poll_ms: u64,
    /// `Retry-After` is clamped into `[min_poll_ms, max_poll_ms]`. Only a local emulator
    /// warrants a `min_poll_ms` under 2 s (§1.7: 5 polls per 10 s per device).
    pub min_poll_ms: u64,
    pub max_poll_ms: u64,
    /// Backoff of retries after 429, 5xx and network failures.
    pub backoff: Backoff,
    /// The least delay after a 5xx or a network failure, ms.
    pub retry_floor_ms: u64,
    /// The least delay after a 429, ms.
    pub throttle_floor_ms: u64,
    /// Consecutive retriable failures tolerated before giving up (a success resets the count).
    pub max_retries: u32,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            timeout_ms: 180_000,
            request_timeout_ms: 30_000,
            default_poll_ms: 2_000,
            min_poll_ms: 2_000,
            max_poll_ms: 300_000,
            backoff: Backoff::new(1_000, 60_000),
            retry_floor_ms: 1_000,
            throttle_floor_ms: 5_000,
            max_retries: 10,
        }
    }
}

impl Policy {
    /// Sets the poll floor; it is then also the interval used without a readable
    /// `Retry-After`, so a caller who lowers the floor (a local emulator) is not left waiting
    /// the 2 s default, and one who raises it is never polled faster than it.
    pub fn with_min_poll_ms(mut self, ms: u64) -> Policy {
        self.min_poll_ms = ms;
        self.default_poll_ms = ms;
        self
    }

    /// The wait before the next poll, given the service's `Retry-After` in ms.
    pub fn poll_delay_ms(&self, retry_after_ms: Option<u64>) -> u64 {
        let lo = self.min_poll_ms.min(self.max_poll_ms);
        retry_after_ms.unwrap_or(self.default_poll_ms).clamp(lo, self.max_poll_ms)
    }
}

//! Backoff with jitter, as pure functions: the caller passes the jitter in.
//!
//! `delay(attempt) = max(floor, min(cap, jittered(min(cap, base * 2^(attempt-1)))))`.
//! With a fractional jitter `f` in `[0, 1]` the exponential step `e` becomes `e/2 + f*e/2`
//! ("equal jitter": never below half the step, so the growth stays visible while a fleet of
//! devices restarting together spreads out); with a jitter in milliseconds it is added to `e`.
//! The floor is what throttling (HTTP 429) raises: protocol §1.6 asks for "exponential backoff
//! with a random jitter" after a 429, and a longer floor keeps a throttled fleet from hammering.

/// The random part of a delay, drawn by the caller (the core has no random source).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// A fraction in `[0, 1]`; values outside (or NaN) are clamped.
    Fraction(f64),
    /// Milliseconds added to the exponential step.
    Ms(u64),
}

/// The shape of an exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The step of the first retry, ms.
    pub base_ms: u64,
    /// No delay exceeds this (unless `floor_ms` is larger), ms.
    pub cap_ms: u64,
}

impl Backoff {
    pub const fn new(base_ms: u64, cap_ms: u64) -> Backoff {
        Backoff { base_ms, cap_ms }
    }

    /// The delay before retry number `attempt` (1 is the first retry; 0 is treated as 1),
    /// never below `floor_ms`.
    pub fn delay_ms(&self, attempt: u32, floor_ms: u64, jitter: Jitter) -> u64 {
        backoff_delay_ms(attempt, self.base_ms, self.cap_ms, floor_ms, jitter)
    }
}

/// The exponential step `min(cap, base * 2^(attempt-1))`, saturating instead of overflowing.
pub fn exponential_ms(attempt: u32, base_ms: u64, cap_ms: u64) -> u64 {
    let shift = attempt.max(1) - 1;
    let factor = if shift >= 63 { u64::MAX } else { 1u64 << shift };
    base_ms.saturating_mul(factor).min(cap_ms)
}

/// See the module comment for the formula.
pub fn backoff_delay_ms(attempt: u32, base_ms: u64, cap_ms: u64, floor_ms: u64, jitter: Jitter) -> u64 {
    let step = exponential_ms(attempt, base_ms, cap_ms);
    let jittered = match jitter {
        Jitter::Fraction(f) => {
            let f = if f.is_nan() { 0.0 } else { f.clamp(0.0, 1.0) };
            let half = step / 2;
            // `half as f64 * f` is at most `half`, so the cast back cannot overflow.
            half + (step - half).min(((step - half) as f64 * f) as u64)
        }
        Jitter::Ms(ms) => step.saturating_add(ms),
    };
    jittered.min(cap_ms).max(floor_ms)
}

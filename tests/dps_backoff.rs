//! The pure backoff of `retry.rs`: growth, cap, floor and both jitter forms.
#![cfg(not(target_arch = "wasm32"))]

use azure_iot_wasm::retry::*;

#[test]
fn the_exponential_step_doubles_from_base_until_the_cap() {
    let steps: Vec<u64> = (1..=8).map(|a| exponential_ms(a, 1_000, 60_000)).collect();
    assert_eq!(steps, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
}

#[test]
fn attempt_zero_counts_as_the_first_retry_and_huge_attempts_saturate_at_the_cap() {
    assert_eq!(exponential_ms(0, 1_000, 60_000), 1_000);
    assert_eq!(exponential_ms(u32::MAX, 1_000, 60_000), 60_000);
    assert_eq!(exponential_ms(200, u64::MAX, u64::MAX), u64::MAX);
}

#[test]
fn fractional_jitter_spreads_each_step_over_its_upper_half() {
    let b = Backoff::new(1_000, 60_000);
    assert_eq!(b.delay_ms(3, 0, Jitter::Fraction(0.0)), 2_000);
    assert_eq!(b.delay_ms(3, 0, Jitter::Fraction(0.5)), 3_000);
    assert_eq!(b.delay_ms(3, 0, Jitter::Fraction(1.0)), 4_000);
}

#[test]
fn out_of_range_fractions_are_clamped_not_trusted() {
    let b = Backoff::new(1_000, 60_000);
    assert_eq!(b.delay_ms(1, 0, Jitter::Fraction(-3.0)), 500);
    assert_eq!(b.delay_ms(1, 0, Jitter::Fraction(7.0)), 1_000);
    assert_eq!(b.delay_ms(1, 0, Jitter::Fraction(f64::NAN)), 500);
    assert_eq!(b.delay_ms(1, 0, Jitter::Fraction(f64::INFINITY)), 1_000);
}

#[test]
fn millisecond_jitter_is_added_and_the_sum_stays_under_the_cap() {
    let b = Backoff::new(1_000, 10_000);
    assert_eq!(b.delay_ms(2, 0, Jitter::Ms(250)), 2_250);
    assert_eq!(b.delay_ms(9, 0, Jitter::Ms(5_000)), 10_000);
    assert_eq!(b.delay_ms(9, 0, Jitter::Ms(u64::MAX)), 10_000);
}

#[test]
fn the_floor_lifts_short_delays_such_as_throttling_retries() {
    let b = Backoff::new(1_000, 60_000);
    assert_eq!(b.delay_ms(1, 5_000, Jitter::Fraction(0.0)), 5_000);
    assert_eq!(b.delay_ms(5, 5_000, Jitter::Fraction(1.0)), 16_000);
    // A floor above the cap wins: the caller asked for at least that much.
    assert_eq!(b.delay_ms(9, 90_000, Jitter::Fraction(1.0)), 90_000);
}

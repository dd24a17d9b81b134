//! The connection policy under simulated time: backoff with passed-in jitter, throttling,
//! no tight loops, token renewal at 80% of the lifetime, and the bounded offline queue.
#![cfg(not(target_arch = "wasm32"))]

use azure_iot_wasm::hub::*;
use azure_iot_wasm::retry::Jitter;

fn delay(r: Reconnect) -> u64 {
    match r {
        Reconnect::After { delay_ms, .. } => delay_ms,
        Reconnect::GiveUp(e) => panic!("gave up: {e}"),
    }
}

#[test]
fn reconnect_delays_double_up_to_a_minute_with_full_jitter() {
    let mut p = ReconnectPolicy::new(ReconnectConfig::default());
    let delays: Vec<u64> = (0..8)
        .map(|_| delay(p.on_dropped(0, DropReason::Network, Jitter::Fraction(1.0))))
        .collect();
    assert_eq!(delays, vec![1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
}

#[test]
fn jitter_zero_halves_the_step_so_a_fleet_spreads_out() {
    let mut p = ReconnectPolicy::new(ReconnectConfig::default());
    assert_eq!(delay(p.on_dropped(0, DropReason::Network, Jitter::Fraction(0.0))), 500);
    assert_eq!(
        delay(p.on_dropped(0, DropReason::Network, Jitter::Fraction(0.0))),
        1_000
    );
}

#[test]
fn a_throttled_drop_waits_at_least_ten_seconds() {
    let mut p = ReconnectPolicy::new(ReconnectConfig::default());
    assert_eq!(
        delay(p.on_dropped(0, DropReason::Throttled, Jitter::Fraction(0.0))),
        10_000
    );
}

#[test]
fn a_connection_that_drops_right_after_connecting_keeps_backing_off() {
    // Simulated time: connect succeeds, socket dies 100 ms later, again and again.
    let mut p = ReconnectPolicy::new(ReconnectConfig::default());
    let mut now = 0;
    let mut total_attempts = 0;
    while now < 300_000 {
        p.on_connected(now);
        now += 100;
        now += delay(p.on_dropped(now, DropReason::Network, Jitter::Fraction(0.5)));
        total_attempts += 1;
    }
    // A tight loop would make thousands of attempts in five minutes; backoff makes about ten.
    assert!(total_attempts <= 12, "{total_attempts} attempts in 5 minutes");
}

#[test]
fn a_stable_connection_resets_the_backoff() {
    let mut p = ReconnectPolicy::new(ReconnectConfig::default());
    for _ in 0..5 {
        p.on_dropped(0, DropReason::Network, Jitter::Fraction(1.0));
    }
    p.on_connected(100_000);
    assert_eq!(
        p.on_dropped(130_000, DropReason::Network, Jitter::Fraction(1.0)),
        Reconnect::After {
            delay_ms: 1_000,
            attempt: 1
        }
    );
}

#[test]
fn a_token_renewal_reconnects_at_once_without_counting_as_a_failure() {
    let mut p = ReconnectPolicy::new(ReconnectConfig::default());
    p.on_connected(0);
    assert_eq!(
        delay(p.on_dropped(8_000, DropReason::TokenRenewal, Jitter::Fraction(1.0))),
        0
    );
    p.on_connected(8_000);
    assert_eq!(
        delay(p.on_dropped(9_000, DropReason::Network, Jitter::Fraction(1.0))),
        1_000
    );
}

#[test]
fn credentials_refused_three_times_in_a_row_give_up_with_hub_unauthorized() {
    let mut p = ReconnectPolicy::new(ReconnectConfig::default());
    delay(p.on_dropped(0, DropReason::Unauthorized, Jitter::Fraction(0.0)));
    delay(p.on_dropped(0, DropReason::Unauthorized, Jitter::Fraction(0.0)));
    match p.on_dropped(0, DropReason::Unauthorized, Jitter::Fraction(0.0)) {
        Reconnect::GiveUp(e) => assert_eq!(e.code(), "HUB_UNAUTHORIZED"),
        other => panic!("expected to give up, got {other:?}"),
    }
}

#[test]
fn tokens_are_renewed_at_80_percent_of_their_lifetime() {
    // Issued at t = 1,000,000 s, one hour lifetime: renew 48 minutes in.
    assert_eq!(renew_at_ms(1_000_000_000, 1_000_000 + 3_600, 60_000), 1_000_000_000 + 2_880_000);
    // A 10 s token with an 8 s floor (what the driver picks for a 10 s TTL): renew after 8 s.
    assert_eq!(renew_at_ms(5_000, 15, 8_000), 13_000);
}

#[test]
fn a_nearly_expired_or_expired_token_is_not_renewed_before_the_minimum_interval() {
    // 1 s of life left, or none: without the floor this renewed after 1 s, reconnecting ~1/s.
    assert_eq!(renew_at_ms(100_000, 101, 60_000), 160_000);
    assert_eq!(renew_at_ms(100_000, 50, 60_000), 160_000);
}

#[test]
fn the_offline_queue_refuses_past_its_capacity_with_queue_full_and_keeps_order() {
    let mut q = OfflineQueue::new(2);
    q.push(1).unwrap();
    q.push(2).unwrap();
    let (item, err) = q.push(3).unwrap_err();
    assert_eq!((item, err.code()), (3, "QUEUE_FULL"));
    assert_eq!(q.pop(), Some(1));
    q.push(4).unwrap();
    assert_eq!(q.drain(), vec![2, 4]);
}

#[test]
fn the_renewal_floor_is_a_minute_or_80_percent_of_a_shorter_token() {
    assert_eq!(min_renew_interval_ms(3600), 60_000);
    assert_eq!(min_renew_interval_ms(10), 8_000);
    assert_eq!(min_renew_interval_ms(75), 60_000);
}

//! The connection policy, under time passed in: when to reconnect after a drop (exponential
//! backoff plus caller-drawn jitter, longer when throttled), when to renew the SAS token, and
//! the bounded queue that holds sends made while offline.
//!
//! Design: the attempt counter is reset only after a connection has stayed up for
//! `stable_after_ms`. A hub that accepts the CONNECT and then drops the socket at once (bad
//! topic, token rejected late, one-connection-per-device fights) therefore still backs off
//! exponentially: there is no tight loop, whatever the failure pattern.

use std::collections::VecDeque;

use super::HubError;
use crate::retry::{Backoff, Jitter};

/// Why a connection ended or a connect attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Socket error or close, including the hub severing an expired token.
    Network,
    /// No PINGRESP in time.
    KeepAliveTimeout,
    /// CONNACK 3 (server unavailable) or a 429 answer: back off harder.
    Throttled,
    /// CONNACK 4 or 5: the credentials were refused (protocol §5.1).
    Unauthorized,
    /// The client closed the socket on purpose to present a fresh token.
    TokenRenewal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectConfig {
    pub backoff: Backoff,
    /// The least delay after a throttled answer.
    pub throttled_floor_ms: u64,
    /// A connection that lasted this long resets the backoff.
    pub stable_after_ms: u64,
    /// Consecutive refusals of fresh credentials before giving up.
    pub max_auth_failures: u32,
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        ReconnectConfig {
            backoff: Backoff::new(1_000, 60_000),
            throttled_floor_ms: 10_000,
            stable_after_ms: 30_000,
            max_auth_failures: 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconnect {
    /// Try again after this many ms; `attempt` counts from 1.
    After {
        delay_ms: u64,
        attempt: u32,
    },
    GiveUp(HubError),
}

#[derive(Debug, Clone)]
pub struct ReconnectPolicy {
    cfg: ReconnectConfig,
    attempt: u32,
    auth_failures: u32,
    connected_at: Option<u64>,
}

impl ReconnectPolicy {
    pub fn new(cfg: ReconnectConfig) -> Self {
        ReconnectPolicy {
            cfg,
            attempt: 0,
            auth_failures: 0,
            connected_at: None,
        }
    }

    pub fn on_connected(&mut self, now_ms: u64) {
        self.connected_at = Some(now_ms);
        self.auth_failures = 0;
    }

    /// A connection ended, or an attempt failed; `jitter` is drawn by the caller.
    pub fn on_dropped(&mut self, now_ms: u64, reason: DropReason, jitter: Jitter) -> Reconnect {
        let stable = self
            .connected_at
            .take()
            .is_some_and(|t| now_ms.saturating_sub(t) >= self.cfg.stable_after_ms);
        if stable {
            self.attempt = 0;
        }
        if reason == DropReason::TokenRenewal {
            // A planned reconnect: no delay, and it does not count as a failure.
            return Reconnect::After {
                delay_ms: 0,
                attempt: self.attempt.max(1),
            };
        }
        if reason == DropReason::Unauthorized {
            self.auth_failures += 1;
            if self.auth_failures >= self.cfg.max_auth_failures {
                return Reconnect::GiveUp(HubError::Unauthorized);
            }
        }
        self.attempt = self.attempt.saturating_add(1);
        let floor = if reason == DropReason::Throttled {
            self.cfg.throttled_floor_ms
        } else {
            0
        };
        let delay_ms = self.cfg.backoff.delay_ms(self.attempt, floor, jitter);
        Reconnect::After {
            delay_ms,
            attempt: self.attempt,
        }
    }
}

/// When to renew a token issued at `issued_at_ms` that expires at `expiry_s` (unix seconds):
/// at 80% of its lifetime, as azure-iot-sdk-c does (`SAS_REFRESH_MULTIPLIER .8`, protocol §2.5),
/// and never sooner than `min_interval_ms` after issue.
///
/// Design: a renewal is a reconnect with no backoff, so without the floor a token provider
/// handing out nearly expired tokens would reconnect about once a second forever. With it, a
/// token shorter than the floor simply lapses: the hub ends the connection at its expiry, and
/// that drop backs off like any other.
pub fn renew_at_ms(issued_at_ms: u64, expiry_s: u64, min_interval_ms: u64) -> u64 {
    let expiry_ms = expiry_s.saturating_mul(1000);
    let life = expiry_ms.saturating_sub(issued_at_ms);
    issued_at_ms.saturating_add((life / 5 * 4).max(min_interval_ms).max(1_000))
}

/// The renewal floor (`min_interval_ms` of `renew_at_ms`) for tokens signed with a lifetime of
/// `token_ttl_secs`: once a minute at most, or at 80% of a shorter lifetime (test set-ups with
/// 10 s tokens), so renewal still comes before expiry.
pub fn min_renew_interval_ms(token_ttl_secs: u64) -> u64 {
    token_ttl_secs.saturating_mul(800).min(60_000)
}

/// Sends made while offline, oldest first, bounded.
#[derive(Debug)]
pub struct OfflineQueue<T> {
    capacity: usize,
    items: VecDeque<T>,
}

impl<T> OfflineQueue<T> {
    pub fn new(capacity: usize) -> Self {
        OfflineQueue {
            capacity,
            items: VecDeque::new(),
        }
    }

    /// Queues `item`, or gives it back with `QUEUE_FULL` for the caller to reject.
    pub fn push(&mut self, item: T) -> Result<(), (T, HubError)> {
        if self.items.len() >= self.capacity {
            return Err((
                item,
                HubError::QueueFull {
                    capacity: self.capacity,
                },
            ));
        }
        self.items.push_back(item);
        Ok(())
    }

    pub fn pop(&mut self) -> Option<T> {
        self.items.pop_front()
    }

    /// The oldest item, which has the earliest deadline when all share one timeout.
    pub fn front(&self) -> Option<&T> {
        self.items.front()
    }

    /// Everything queued, oldest first (to send on reconnect, or to reject on close).
    pub fn drain(&mut self) -> Vec<T> {
        self.items.drain(..).collect()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

//! The hub engine's connection lifecycle: what happens when a connection drops (end the client
//! if it never connected and should not retry, else back off or give up), when sends outlive `send_timeout_ms`, and how a token renewal closes the connection
//! once in-flight PUBACKs drain and reopens it at once (protocol §2.5: MQTT 3.1.1 cannot
//! re-authenticate in-band, so a new token means a new connection).

use super::engine::{HubEngine, Phase};
use super::engine_types::HubEvent;
use super::policy::{DropReason, Reconnect};
use super::HubError;
use crate::mqtt::MqttError;
use crate::retry::Jitter;

impl HubEngine {
    pub(super) fn dropped(&mut self, now: u64, reason: DropReason, code: &'static str, message: String) {
        // What the client engine still has of this connection ends too (a no-op when it ended
        // it itself); its late news of it is then about no op the hub waits for.
        self.connect_op = None;
        self.sub_op = None;
        self.client.abort(now, MqttError::ConnectTimeout);
        self.events.push(HubEvent::Disconnected { reason: code, message });
        if !self.ever_connected && !self.opts.retry_first_connect {
            // The first connection failed: the caller's `connect()` hears why (the
            // `Disconnected` above) and the client ends, with no retry loop behind its back.
            self.close(now);
            return;
        }
        let jitter = Jitter::Fraction(self.jitter);
        match self.policy.on_dropped(now, reason, jitter) {
            Reconnect::After { delay_ms, attempt } => {
                self.phase = Phase::Backoff {
                    until: now.saturating_add(delay_ms),
                };
                self.events.push(HubEvent::Reconnecting { attempt, delay_ms });
            }
            Reconnect::GiveUp(e) => self.give_up(now, e, false),
        }
    }

    /// Stops for good with `e`: every pending operation fails with it. `announce` first
    /// reports a `Disconnected` carrying `e` (so a pending `connect()` rejects with it).
    pub(super) fn give_up(&mut self, now: u64, e: HubError, announce: bool) {
        if announce {
            self.events.push(HubEvent::Disconnected {
                reason: e.code(),
                message: e.to_string(),
            });
        }
        self.phase = Phase::Closed;
        self.events.push(HubEvent::Error(e.clone()));
        self.fail_all(e);
        // The session's publishes were failed with `e` above; the client engine's own `Closed`
        // for them is then about ops the hub no longer holds.
        self.client.close(now);
        self.events.push(HubEvent::Closed);
    }

    /// Fails the sends whose `send_timeout_ms` has passed. One still in the session may yet
    /// reach the hub; its PUBACK is then ignored.
    pub(super) fn expire_sends(&mut self, now: u64) {
        let mut expired = Vec::new();
        self.in_session.retain(|&(_, op, deadline)| {
            let keep = deadline > now;
            if !keep {
                expired.push(op);
            }
            keep
        });
        while self.offline.front().is_some_and(|s| s.1 <= now) {
            if let Some((op, ..)) = self.offline.pop() {
                expired.push(op);
            }
        }
        for op in expired {
            self.events.push(HubEvent::SendDone {
                op,
                result: Err(HubError::Timeout),
            });
        }
    }

    pub(super) fn renew_if_drained(&mut self, now: u64) {
        if self.client.unacked() == 0 {
            self.close_for_renewal(now);
        }
    }

    /// DISCONNECT and close; `deadline == u64::MAX` marks "waiting for the socket to close",
    /// after which `handle_closed` reconnects at once.
    pub(super) fn close_for_renewal(&mut self, now: u64) {
        // DISCONNECT and close, keeping the unacknowledged publishes for the next connection.
        self.client.disconnect(now);
        self.phase = Phase::Renewing { deadline: u64::MAX };
    }

    pub(super) fn reopen_after_renewal(&mut self, now: u64) {
        self.events.push(HubEvent::Disconnected {
            reason: "TOKEN_RENEWAL",
            message: "renewing the token".into(),
        });
        let _ = self
            .policy
            .on_dropped(now, DropReason::TokenRenewal, Jitter::Fraction(0.0));
        self.open(now);
    }
}

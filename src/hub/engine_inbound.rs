//! The hub engine's inbound side: routing a received publish by its topic (C2D, method call,
//! twin answer, desired notification) and finishing twin requests, including the resync GET
//! that delivers desired changes missed while offline (protocol §5.5–5.7).

use super::engine::{HubEngine, TwinToken};
use super::engine_types::HubEvent;
use super::{classify, HubError, Inbound, TwinOutcome};

impl HubEngine {
    pub(super) fn route(&mut self, now: u64, topic: String, payload: Vec<u8>, pkid: Option<u16>) {
        match classify(&topic) {
            Some(Inbound::C2d(message)) => self.deliver(now, HubEvent::Message { pkid, message, payload }),
            Some(Inbound::Method(m)) => self.deliver(
                now,
                HubEvent::Method {
                    name: m.name,
                    rid: m.rid,
                    payload,
                },
            ),
            Some(Inbound::TwinResponse(r)) => {
                if let Some((token, outcome)) = self.twin.handle_response(&r, &payload) {
                    self.twin_finished(now, token, outcome);
                }
            }
            Some(Inbound::DesiredPatch(version)) => match crate::json::Value::parse(&payload) {
                Some(patch) => {
                    for u in self.desired.handle_patch(version, patch) {
                        self.desired_update(now, u);
                    }
                }
                None => self.events.push(HubEvent::Error(HubError::InvalidTwinPayload)),
            },
            // An unknown topic: acknowledge so the hub does not redeliver it forever.
            None => {
                if let Some(id) = pkid {
                    self.client.ack(now, id);
                }
            }
        }
    }

    pub(super) fn twin_finished(&mut self, now: u64, token: TwinToken, outcome: TwinOutcome) {
        if token == TwinToken::Resync && core::mem::take(&mut self.announce_after_resync) {
            self.announce_connected();
        }
        match (token, outcome) {
            (TwinToken::User(op), outcome) => self.events.push(HubEvent::TwinDone { op, outcome }),
            (TwinToken::Resync, outcome) => {
                let updates = match outcome {
                    TwinOutcome::Twin(twin) => {
                        let first = !self.desired.has_baseline();
                        let updates = self.desired.handle_twin(&twin);
                        self.writables_on_twin(&twin, first);
                        updates
                    }
                    _ => self.desired.abort_resync(),
                };
                for u in updates {
                    self.desired_update(now, u);
                }
            }
            (TwinToken::Ack, TwinOutcome::Failed(e)) => self.events.push(HubEvent::Error(e)),
            (TwinToken::Ack, _) => {}
        }
    }
}

//! The hub engine's inbound side: routing a received publish by its topic (C2D, method call,
//! twin answer, desired notification) and finishing twin requests, including the resync GET
//! that delivers desired changes missed while offline (protocol §5.5–5.7).

use super::engine::{HubEngine, TwinToken};
use super::engine_types::HubEvent;
use super::{classify, HubError, Inbound, TwinOutcome};

impl HubEngine {
    pub(super) fn route(&mut self, now: u64, topic: String, payload: Vec<u8>, pkid: Option<u16>) {
        match classify(&topic) {
            Some(Inbound::C2d(message)) => self.events.push(HubEvent::Message { pkid, message, payload }),
            Some(Inbound::Method(m)) => self.events.push(HubEvent::Method {
                name: m.name,
                rid: m.rid,
                payload,
            }),
            Some(Inbound::TwinResponse(r)) => {
                if let Some((token, outcome)) = self.twin.handle_response(&r, &payload) {
                    self.twin_finished(token, outcome);
                }
            }
            Some(Inbound::DesiredPatch(version)) => match crate::json::Value::parse(&payload) {
                Some(patch) => {
                    let updates = self.desired.handle_patch(version, patch);
                    self.events.extend(updates.into_iter().map(HubEvent::Desired));
                }
                None => self.events.push(HubEvent::Error(HubError::InvalidTwinPayload)),
            },
            // An unknown topic: acknowledge so the hub does not redeliver it forever.
            None => {
                if let Some(id) = pkid {
                    self.session.ack(now, id);
                }
            }
        }
    }

    pub(super) fn twin_finished(&mut self, token: TwinToken, outcome: TwinOutcome) {
        if token == TwinToken::Resync && core::mem::take(&mut self.announce_after_resync) {
            self.events.push(HubEvent::Connected);
        }
        match (token, outcome) {
            (TwinToken::User(op), outcome) => self.events.push(HubEvent::TwinDone { op, outcome }),
            (TwinToken::Resync, TwinOutcome::Twin(twin)) => {
                let updates = self.desired.handle_twin(&twin);
                self.events.extend(updates.into_iter().map(HubEvent::Desired));
            }
            (TwinToken::Resync, _) => {
                let updates = self.desired.abort_resync();
                self.events.extend(updates.into_iter().map(HubEvent::Desired));
            }
        }
    }
}

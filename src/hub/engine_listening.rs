//! What the application listens to, as far as the engine must know it, and what happens to an
//! inbound event nobody listens to yet:
//! * a direct method with no handler for its name (nor `*`) is answered 501 at once, so the
//!   service's caller hears why instead of waiting for its timeout;
//! * cloud-to-device messages and desired patches that arrive before their handler is set are
//!   held, at most `MAX_HELD` of each, and delivered when it is. A C2D message past the limit is
//!   left unacknowledged, so the hub redelivers it after a reconnect (protocol §5.5); for desired
//!   patches the oldest is dropped (the twin GET after a reconnect resyncs them, §5.7).

use super::engine::HubEngine;
use super::engine_types::HubEvent;

/// Messages and desired patches held until the application registers a handler.
pub const MAX_HELD: usize = 1000;

/// `{"message":"…"}`: the body of a method answer the library writes itself.
pub fn method_error_body(message: &str) -> Vec<u8> {
    let mut m = crate::json::Map::new();
    m.insert("message".into(), message.into());
    crate::json::Value::Object(m).to_string().into_bytes()
}

impl HubEngine {
    /// A handler for direct method `name` (`*`: every method) now exists.
    pub fn listen_method(&mut self, name: &str) {
        if !self.listening.methods.iter().any(|n| n == name) {
            self.listening.methods.push(name.to_string());
        }
    }

    /// A C2D handler now exists: the messages held until now are reported, in order.
    pub fn listen_messages(&mut self) {
        if let Some(held) = self.listening.messages.take() {
            self.events.extend(held);
        }
    }

    /// A desired-properties handler now exists: the patches held until now are reported.
    pub fn listen_desired(&mut self) {
        if let Some(held) = self.listening.desired.take() {
            self.events.extend(held);
        }
    }

    /// The registered handler name that method `name` goes to: its own, else `*`. The one
    /// place the fallback rule lives; the driver looks its function up by this key.
    pub fn method_handler(&self, name: &str) -> Option<&str> {
        let l = &self.listening.methods;
        l.iter().find(|n| *n == name).or_else(|| l.iter().find(|n| *n == "*")).map(String::as_str)
    }

    /// Reports an inbound event, or holds or answers it when nobody listens (see the top).
    pub(super) fn deliver(&mut self, now: u64, ev: HubEvent) {
        match &ev {
            HubEvent::Method { name, rid, .. } => {
                if self.method_handler(name).is_none() {
                    let body = method_error_body(&format!("no handler for method {name}"));
                    let rid = rid.clone();
                    self.respond_method(now, &rid, 501, &body);
                    return;
                }
            }
            HubEvent::Message { .. } => {
                if let Some(held) = &mut self.listening.messages {
                    if held.len() < MAX_HELD {
                        held.push_back(ev);
                    }
                    return;
                }
            }
            HubEvent::Desired(_) => {
                if let Some(held) = &mut self.listening.desired {
                    if held.len() >= MAX_HELD {
                        held.pop_front();
                    }
                    held.push_back(ev);
                    return;
                }
            }
            _ => {}
        }
        self.events.push(ev);
    }
}

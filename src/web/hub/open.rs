//! Opening the hub client's sockets: a token first (signed from the key, or from `getToken`),
//! then a WebSocket through the factory of `io::socket`; and the socket's events, fed to the
//! engine. Every step checks the socket `epoch`, so news from a replaced socket is ignored.
//!
//! Design: the open runs as a task with no state borrowed, since `getToken`, the factory and
//! the socket's `addEventListener` are application JS. Each Promise it awaits is raced against
//! the open deadline (`openTimeoutMs`), so the task always ends; the engine keeps the same
//! deadline for the phase, so the client moves on even if the task were stuck.

use std::rc::Weak;

use js_sys::Promise;
use wasm_bindgen::JsValue;

use crate::web::hub::state::{Hub, Inner};
use crate::web::io::js::{jitter, now_ms_u64 as now};
use crate::web::hub::options::Credential;
use crate::web::io::js::message_of;
use crate::web::io::mailbox::socket_listener;
use crate::web::io::socket::{Socket, SocketEvent};
use crate::web::io::timer::within;
use crate::hub::Identity;
use crate::mqtt::MqttError;

/// Gets a token, opens the socket and attaches it, then posts the result; the engine hears
/// `handle_opened` on the socket's `open` (or at once for an already-open Workers socket).
pub(crate) async fn open_socket(me: Weak<Hub>, epoch: u32) {
    let Some((credential, url, factory, ttl, open_timeout, resource)) = me.upgrade().and_then(|rc| {
        let i = rc.peek()?;
        (i.epoch == epoch).then(|| {
            (
                i.credential.clone(),
                i.url.clone(),
                i.factory.clone(),
                i.token_ttl_secs,
                i.open_timeout_ms,
                i.engine.identity().clone(),
            )
        })
    }) else {
        return;
    };
    let deadline = now().saturating_add(open_timeout);
    let left = move || deadline.saturating_sub(now()) as f64;
    let token = token(&credential, &resource, now() / 1000 + ttl, left()).await;
    let opened = match token {
        Ok(token) => factory.open(&url, left()).await.map_err(OpenFailure::Socket).map(|raw| {
            let socket = Socket::attach(raw, socket_listener(me.clone(), epoch));
            let open = socket.is_open();
            (token, socket, open)
        }),
        Err(e) => Err(e),
    };
    // Gone: the socket (if any) is dropped here, which closes it.
    let Some(rc) = me.upgrade() else { return };
    rc.post(move |i, _| i.opened(epoch, opened));
}

/// Why the open task failed: the socket (an MQTT-layer error), or the application's
/// `getToken`, which has its own code (`TOKEN_PROVIDER_FAILED`, as in provisioning).
pub(crate) enum OpenFailure {
    Socket(MqttError),
    Token(String),
}

fn provider_failed(e: &JsValue) -> OpenFailure {
    OpenFailure::Token(message_of(e, ""))
}

/// A SAS token for `identity` expiring at `expiry` (unix s), from `credential`, within `left_ms`.
/// Shared by the socket opens and the REST calls of file upload.
pub(crate) async fn token(credential: &Credential, identity: &Identity, expiry: u64, left_ms: f64) -> Result<String, OpenFailure> {
    match credential {
        Credential::Key(k) => identity
            .sas_token(k, expiry)
            .map_err(|e| OpenFailure::Socket(MqttError::SocketError(format!("token: {e}")))),
        Credential::Fixed(t) => Ok(t.clone()),
        Credential::Provider(f) => {
            let r = f.call2(&JsValue::UNDEFINED, &JsValue::from_str(&identity.resource_uri()), &JsValue::from_f64(expiry as f64));
            match r {
                Ok(v) => match within(&Promise::resolve(&v), left_ms).await {
                    None => Err(OpenFailure::Socket(MqttError::ConnectTimeout)),
                    Some(Ok(v)) => v
                        .as_string()
                        .filter(|s| !s.trim().is_empty())
                        .ok_or_else(|| OpenFailure::Token("it must return a SAS token string".into())),
                    Some(Err(e)) => Err(provider_failed(&e)),
                },
                Err(e) => Err(provider_failed(&e)),
            }
        }
    }
}

impl Inner {
    /// The open task's result for connection `epoch`.
    fn opened(&mut self, epoch: u32, opened: Result<(String, Socket, bool), OpenFailure>) {
        if self.epoch != epoch {
            if let Ok((_, socket, _)) = opened {
                self.discard(socket);
            }
            return;
        }
        match opened {
            Ok((token, socket, open)) => {
                self.socket = Some(socket);
                if open {
                    self.engine.handle_opened(now(), jitter(), token);
                } else {
                    // The engine's open deadline still runs until the `open` event.
                    self.pending_token = Some(token);
                }
            }
            Err(OpenFailure::Socket(e)) => self.engine.handle_open_failed(now(), jitter(), e),
            Err(OpenFailure::Token(why)) => self.engine.handle_token_failed(now(), jitter(), &why),
        }
    }
}

pub(crate) fn on_socket_event(i: &mut Inner, epoch: u32, ev: SocketEvent) {
    if i.epoch != epoch || i.socket.is_none() {
        return;
    }
    match ev {
        SocketEvent::Open => {
            if let Some(token) = i.pending_token.take() {
                i.engine.handle_opened(now(), jitter(), token);
            }
        }
        SocketEvent::Message(bytes) => i.engine.handle_bytes(now(), jitter(), &bytes),
        SocketEvent::NonBinaryMessage => {
            i.drop_socket();
            i.engine
                .handle_closed(now(), jitter(), MqttError::Protocol("non-binary websocket message"));
        }
        // A close event follows and carries the code.
        SocketEvent::Error => {}
        SocketEvent::Close { code, reason } => {
            let opening = i.pending_token.is_some();
            i.drop_socket();
            if opening {
                i.engine.handle_open_failed(now(), jitter(), crate::mqtt::client::closed_before_open(code));
            } else {
                i.engine.handle_closed(now(), jitter(), MqttError::ConnectionLost { code, reason });
            }
        }
    }
}

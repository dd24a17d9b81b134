//! Opening the hub client's sockets: a token first (signed from the key, or from `getToken`),
//! then a WebSocket through the factory of `mqtt_socket`; and the socket's events, fed to the
//! engine. Every step checks the socket `epoch`, so news from a replaced socket is ignored.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use wasm_bindgen::JsValue;

use super::hub_driver::{now, settle, turn, Inner};
use super::hub_options::Credential;
use super::js::get_str;
use super::mqtt_socket::{Socket, SocketEvent};
use super::timer::Timeout;
use crate::mqtt::MqttError;

/// Gets a token, opens the socket and attaches it; the engine hears `handle_opened` on the
/// socket's `open` (or at once for an already-open Workers socket).
pub(crate) async fn open_socket(weak: Weak<RefCell<Inner>>, epoch: u32) {
    let Some((credential, url, factory, ttl, open_timeout, resource)) = weak.upgrade().and_then(|rc| {
        let i = rc.try_borrow().ok()?;
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
    let expiry = now() / 1000 + ttl;
    let token = match credential {
        Credential::Key(k) => resource
            .sas_token(&k, expiry)
            .map_err(|e| MqttError::SocketError(format!("token: {e}"))),
        Credential::Fixed(t) => Ok(t),
        Credential::Provider(f) => {
            let r = f.call2(
                &JsValue::UNDEFINED,
                &JsValue::from_str(&resource.resource_uri()),
                &JsValue::from_f64(expiry as f64),
            );
            match settle(r).await {
                Ok(v) => v
                    .as_string()
                    .ok_or_else(|| MqttError::SocketError("getToken did not return a string".into())),
                Err(e) => Err(MqttError::SocketError(format!(
                    "getToken failed: {}",
                    get_str(&e, "message").unwrap_or_default()
                ))),
            }
        }
    };
    let raw = match token {
        Ok(_) => Some(factory.open(&url).await),
        Err(_) => None,
    };
    let Some(rc) = weak.upgrade() else { return };
    {
        let Ok(mut i) = rc.try_borrow_mut() else { return };
        if i.epoch != epoch {
            if let Some(Ok(raw)) = raw {
                Socket::discard(raw);
            }
            return;
        }
        match (token, raw) {
            (Ok(token), Some(Ok(raw))) => {
                let w = weak.clone();
                let socket = Socket::attach(raw, Rc::new(move |ev| on_socket_event(&w, epoch, ev)));
                let open = socket.is_open();
                i.socket = Some(socket);
                if open {
                    i.engine.handle_opened(now(), token);
                } else {
                    i.pending_token = Some(token);
                    let w = weak.clone();
                    i.open_timer = Some(Timeout::new(open_timeout as f64, move || on_open_timeout(&w, epoch)));
                }
            }
            (Err(e), _) | (Ok(_), Some(Err(e))) => i.engine.handle_open_failed(now(), e),
            (Ok(_), None) => {}
        }
    }
    turn(&rc, Vec::new());
}

fn on_open_timeout(weak: &Weak<RefCell<Inner>>, epoch: u32) {
    let Some(rc) = weak.upgrade() else { return };
    {
        let Ok(mut i) = rc.try_borrow_mut() else { return };
        if i.epoch != epoch || i.pending_token.is_none() {
            return;
        }
        i.drop_socket();
        i.engine.handle_open_failed(now(), MqttError::ConnectTimeout);
    }
    turn(&rc, Vec::new());
}

fn on_socket_event(weak: &Weak<RefCell<Inner>>, epoch: u32, ev: SocketEvent) {
    let Some(rc) = weak.upgrade() else { return };
    {
        let Ok(mut i) = rc.try_borrow_mut() else { return };
        if i.epoch != epoch || i.socket.is_none() {
            return;
        }
        match ev {
            SocketEvent::Open => {
                if let Some(token) = i.pending_token.take() {
                    i.open_timer = None;
                    i.engine.handle_opened(now(), token);
                }
            }
            SocketEvent::Message(bytes) => i.engine.handle_bytes(now(), &bytes),
            SocketEvent::NonBinaryMessage => {
                i.drop_socket();
                i.engine
                    .handle_closed(now(), MqttError::Protocol("non-binary websocket message"));
            }
            // A close event follows and carries the code.
            SocketEvent::Error => {}
            SocketEvent::Close { code, reason } => {
                let opening = i.pending_token.is_some();
                i.drop_socket();
                if opening {
                    let code = code.map(|c| format!(" (close code {c})")).unwrap_or_default();
                    i.engine.handle_open_failed(
                        now(),
                        MqttError::SocketError(format!("websocket closed before it opened{code}")),
                    );
                } else {
                    i.engine
                        .handle_closed(now(), MqttError::ConnectionLost { code, reason });
                }
            }
        }
    }
    turn(&rc, Vec::new());
}

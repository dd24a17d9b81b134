//! MQTT 3.1.1 front end shared by WebSocket and TLS: waits for CONNECT (the handshake timeout,
//! 30 s by default as in protocol.md §5.1)
//! and routes the connection by its username — `{scope}/registrations/{regId}/api-version=…`
//! is DPS (§3), `{hub}/{deviceId}[/{moduleId}]/?api-version=…` is IoT Hub (§5.1, §10).

pub mod driver;
pub mod dps_session;
pub mod hub_session;
pub mod wire;

use crate::state::State;
use driver::{Driver, Packet};
use mqtt_protocol_core::mqtt::{packet::v3_1_1, result_code::ConnectReturnCode};
use std::sync::Arc;
use tokio::time::timeout;
use wire::Wire;

pub async fn serve<W: Wire>(wire: W, state: Arc<State>, transport: &'static str) {
    let mut d = Driver::new(wire);
    let first = timeout(state.handshake_timeout, async {
        loop {
            let bytes = d.recv().await?;
            let pkts = d.feed(&bytes).await;
            if d.closed {
                return None;
            }
            if let Some(p) = pkts.into_iter().next() {
                return Some(p);
            }
        }
    })
    .await;
    let connect = match first {
        Ok(Some(Packet::V3_1_1Connect(c))) => c,
        Ok(Some(_)) => {
            state.log(400004, "-", &format!("first packet on {transport} was not an MQTT 3.1.1 CONNECT"));
            return d.close().await;
        }
        Ok(None) => {
            d.log_error(&state, "-", transport);
            return d.close().await;
        }
        Err(_) => {
            state.log(408001, "-", &format!("no CONNECT on {transport} within {} s; closed", state.handshake_timeout.as_secs()));
            return d.close().await;
        }
    };
    let user = connect.user_name().unwrap_or("").to_string();
    if user.contains("/registrations/") && !user.contains("/?") {
        dps_session::run(d, state, connect, transport).await
    } else {
        hub_session::run(d, state, connect, transport).await
    }
}

pub async fn connack<W: Wire>(d: &mut Driver<W>, rc: ConnectReturnCode) {
    if let Ok(p) = v3_1_1::Connack::builder().session_present(false).return_code(rc).build() {
        d.send(p.into()).await;
    }
}

pub async fn puback<W: Wire>(d: &mut Driver<W>, pid: u16) {
    if let Ok(p) = v3_1_1::Puback::builder().packet_id(pid).build() {
        d.send(p.into()).await;
    }
}

/// QoS 0 publish (DPS responses, twin responses, method requests are all QoS 0).
pub async fn publish0<W: Wire>(d: &mut Driver<W>, topic: &str, payload: Vec<u8>) {
    match v3_1_1::Publish::builder().topic_name(topic).map(|b| b.payload(payload).build()) {
        Ok(Ok(p)) => d.send(p.into()).await,
        _ => d.last_error = Some((500001, format!("cannot build a publish to {topic}"))),
    }
}

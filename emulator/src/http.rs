//! HTTP front end (plain and TLS share one axum router): DPS REST (protocol.md §1), DPS's service
//! REST API (dps_service.rs),
//! MQTT over WebSocket at `/$iothub/websocket` (subprotocol `mqtt`, §4.2), the hub's device REST
//! routes for file upload (hub_rest.rs), IoT Hub's service REST API (hub_service/), the emulator's own service API
//! under `/service/` behind its key, all behind the Host check and CORS for named origins (guard/).

use crate::dps::{self, DpsParams, DpsReply};
use crate::guard::{hosts, origins, paths, service_key};
use crate::mqtt::{self, wire::WsWire};
use crate::{clock, dps_service, hub_rest, hub_service, service, state::State};
use axum::{
    body::Bytes,
    extract::{ws::WebSocketUpgrade, Path, RawQuery, State as AxState},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware,
    response::{IntoResponse, Response},
    routing::{any, get, post, put},
    Router,
};
use std::sync::Arc;

pub type S = AxState<Arc<State>>;

/// Log and error code of a WebSocket upgrade refused for its `Origin` (`{status}*1000+n`).
pub const WS_ORIGIN_REFUSED: u32 = 403001;

/// The largest WebSocket message (and frame) read: above the codec's `MAX_PACKET`, so that an
/// oversized MQTT packet is refused by the codec, which says why.
const WS_MAX_MESSAGE: usize = 2 * 1024 * 1024;
/// Per-socket WebSocket read buffer (the MQTT/TLS listener reads into 16 KB too, mqtt/wire.rs).
const WS_READ_BUFFER: usize = 16 * 1024;

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/$iothub/websocket", get(websocket))
        .route("/{scope}/registrations/{reg}/register", put(dps_register))
        .route("/{scope}/registrations/{reg}/operations/{op}", get(dps_operation))
        .route("/{scope}/registrations/{reg}", post(dps_status))
        .merge(hub_rest::routes())
        .merge(hub_service::routes())
        .merge(dps_service::routes())
        .merge(service::routes().route_layer(middleware::from_fn_with_state(state.clone(), service_key::require)))
        .fallback(any(not_found))
        // The last layer runs first: a foreign Host is refused before CORS or any route; a path
        // refusal still passes through CORS so that an allowed page can read why.
        .layer(middleware::from_fn_with_state(state.clone(), paths::layer))
        .layer(middleware::from_fn_with_state(state.clone(), origins::layer))
        .layer(middleware::from_fn_with_state(state.clone(), hosts::layer))
        .with_state(state)
}

async fn not_found() -> Response {
    json_response(404, &dps::error_body(404000, "No such resource."), &[])
}

/// "the WS handshake must use path `/$iothub/websocket` and `sec-websocket-protocol: mqtt`…
/// Not doing both … will cause the server to reject the connection with HTTP 400" (§4.2).
/// An `Origin` (browsers always send one) must be allowed or the emulator's own: the handshake
/// is not subject to CORS, so this is the only thing that keeps other pages out (§4.2).
async fn websocket(AxState(state): S, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("(not ASCII)");
        if !state.guard.allows_ws_origin(origin) {
            let shown: String = origin.chars().take(100).collect();
            state.log(WS_ORIGIN_REFUSED, "-", &format!("WebSocket upgrade from origin '{shown}' refused with 403: not a --cors origin"));
            return json_response(403, &dps::error_body(WS_ORIGIN_REFUSED, "Forbidden: this origin may not open a WebSocket here."), &[]);
        }
    }
    let offered = headers.get(header::SEC_WEBSOCKET_PROTOCOL).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(proto) = offered.split(',').map(str::trim).find(|p| p.eq_ignore_ascii_case("mqtt")).map(str::to_string) else {
        state.log(400000, "-", "WebSocket upgrade without subprotocol 'mqtt' refused with 400");
        return (StatusCode::BAD_REQUEST, "subprotocol mqtt required").into_response();
    };
    // One frame is read whole before the message limit applies, so the frame needs the same
    // bound; the default (16 MB) would let every socket make the emulator buffer that much.
    // The read buffer is allocated, and zeroed, per socket up front: tungstenite's 128 KiB
    // default is 128 MB of resident memory for a fleet of 1,000; MQTT packets are small and a
    // larger one only takes more reads.
    ws.protocols([proto])
        .read_buffer_size(WS_READ_BUFFER)
        .max_message_size(WS_MAX_MESSAGE)
        .max_frame_size(WS_MAX_MESSAGE)
        .on_upgrade(move |socket| mqtt::serve(WsWire::new(socket), state, "websocket"))
}

pub fn json_response(status: u16, body: &serde_json::Value, extra: &[(&'static str, String)]) -> Response {
    let mut res = Response::new(axum::body::Body::from(serde_json::to_vec(body).unwrap_or_default()));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(*k, v);
        }
    }
    res
}

enum Call<'a> {
    Register(&'a [u8]),
    Operation(&'a str),
    Status,
}

async fn dps_register(AxState(st): S, Path((scope, reg)): Path<(String, String)>, RawQuery(q): RawQuery, h: HeaderMap, body: Bytes) -> Response {
    dps_call(&st, &scope, &reg, q, &h, Call::Register(&body))
}

async fn dps_operation(AxState(st): S, Path((scope, reg, op)): Path<(String, String, String)>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    dps_call(&st, &scope, &reg, q, &h, Call::Operation(&op))
}

async fn dps_status(AxState(st): S, Path((scope, reg)): Path<(String, String)>, RawQuery(q): RawQuery, h: HeaderMap) -> Response {
    dps_call(&st, &scope, &reg, q, &h, Call::Status)
}

fn dps_call(st: &State, scope: &str, reg: &str, query: Option<String>, h: &HeaderMap, call: Call) -> Response {
    let reply = dps_reply(st, scope, reg, query, h, &call);
    if let Some(a) = &reply.assigned {
        st.on_assigned(a);
    }
    let mut extra = vec![("x-ms-request-id", uuid::Uuid::new_v4().to_string())];
    if let Some(ra) = reply.retry_after {
        extra.push(("retry-after", ra.to_string()));
    }
    if reply.status == 202 {
        extra.push(("location", format!("/{scope}/registrations/{reg}/register")));
    }
    if reply.status >= 400 {
        if let Some(c) = reply.body.get("errorCode") {
            extra.push(("x-ms-error-code", c.to_string()));
        }
    }
    json_response(reply.status, &reply.body, &extra)
}

fn dps_reply(st: &State, scope: &str, reg: &str, query: Option<String>, h: &HeaderMap, call: &Call) -> DpsReply {
    // The swagger marks api-version required (§1.2); any value is accepted.
    if !query.unwrap_or_default().split('&').any(|p| p.starts_with("api-version=")) {
        return dps::error_reply(400, 400003, "api-version query parameter is required.", None);
    }
    if !scope.eq_ignore_ascii_case(&st.id_scope) {
        return dps::error_reply(404, 404001, "ID scope not found.", None);
    }
    if !dps::valid_registration_id(reg) {
        return dps::error_reply(400, 400002, "Invalid registration id.", None);
    }
    if let Some((status, ra)) = st.faults.take_dps_fault() {
        st.log(status as u32 * 1000 + 1, reg, "injected DPS fault (REST)");
        return dps::error_reply(status, status as u32 * 1000 + 1, "Injected fault: try again later.", Some(ra));
    }
    let auth = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    let att = match st.dps.enrollments.authenticate(&st.id_scope, reg, auth, clock::now_unix_secs()) {
        Ok(a) => a,
        Err(e) => {
            st.log(401002, reg, &format!("DPS request refused (401): {e}"));
            return dps::error_reply(401, 401002, "Unauthorized: the SAS token could not be validated.", None);
        }
    };
    let p = DpsParams { hub_hostname: &st.hub_hostname, retry_after: st.retry_after, assign_delay_ms: st.assign_delay_ms, now_ms: clock::now_unix_ms() };
    match call {
        Call::Register(body) => st.dps.register(&p, &att, body),
        Call::Operation(op) => st.dps.operation(&p, reg, op),
        Call::Status => st.dps.status_lookup(reg),
    }
}

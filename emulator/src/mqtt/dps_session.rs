//! DPS over MQTT (protocol.md §3): CONNECT with clientId = registrationId and username
//! `{idScope}/registrations/{registrationId}/api-version=…`, password = SAS; subscribe
//! `$dps/registrations/res/#`; publish register / operation-status requests; answers on
//! `$dps/registrations/res/{status}/?$rid={rid}[&retry-after=N]` with QoS 0.

use super::driver::{sleep_until_opt, Driver, Packet};
use super::wire::Wire;
use super::{connack, publish0, puback};
use crate::dps::{self, DpsParams, DpsReply};
use crate::hub::topics::{encode_bag, query_props};
use crate::{clock, state::State};
use mqtt_protocol_core::mqtt::{
    packet::{v3_1_1, Qos},
    result_code::{ConnectReturnCode, SubackReturnCode},
};
use std::sync::Arc;

pub async fn run<W: Wire>(mut d: Driver<W>, state: Arc<State>, connect: v3_1_1::Connect, transport: &'static str) {
    let user = connect.user_name().unwrap_or("").to_string();
    let client_id = connect.client_id().to_string();
    // `{scope}/registrations/{regId}/api-version=2019-03-31[&ClientVersion=…]` — no `?` (§3).
    let parsed = user.split_once("/registrations/").and_then(|(scope, rest)| {
        let (reg, tail) = rest.split_once('/')?;
        tail.starts_with("api-version=").then(|| (scope.to_string(), reg.to_string()))
    });
    let Some((scope, reg_id)) = parsed else {
        state.log(401002, &client_id, &format!("DPS CONNECT refused: username '{user}' is not {{idScope}}/registrations/{{registrationId}}/api-version=…"));
        connack(&mut d, ConnectReturnCode::NotAuthorized).await;
        return d.close().await;
    };
    let password = connect.password().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default();
    let refuse = |why: String| (401002u32, why);
    let att = if !scope.eq_ignore_ascii_case(&state.id_scope) {
        Err(refuse(format!("unknown ID scope '{scope}'")))
    } else if reg_id != client_id {
        Err(refuse(format!("clientId '{client_id}' is not the registration id '{reg_id}'")))
    } else {
        state.dps.enrollments.authenticate(&state.id_scope, &reg_id, &password, clock::now_unix_secs()).map_err(|e| refuse(e.to_string()))
    };
    let att = match att {
        Ok(a) => a,
        Err((code, why)) => {
            state.log(code, &reg_id, &format!("DPS CONNECT refused (CONNACK 5): {why}"));
            connack(&mut d, ConnectReturnCode::NotAuthorized).await;
            return d.close().await;
        }
    };
    connack(&mut d, ConnectReturnCode::Accepted).await;
    state.info(&reg_id, &format!("DPS connected over {transport}"));

    loop {
        if d.closed {
            break;
        }
        let ka = d.keepalive_deadline;
        let bytes = tokio::select! {
            b = d.recv() => b,
            _ = sleep_until_opt(ka) => {
                state.log(404104, &reg_id, "DPS keep-alive expired (1.5 × keep-alive without traffic)");
                break;
            }
        };
        let Some(bytes) = bytes else { break };
        for p in d.feed(&bytes).await {
            if !handle(&mut d, &state, &att, &reg_id, p).await {
                d.closed = true;
                break;
            }
        }
    }
    d.log_error(&state, &reg_id, transport);
    d.close().await;
}

/// Returns false when the connection must close.
async fn handle<W: Wire>(d: &mut Driver<W>, state: &State, att: &dps::enrollments::Attested, reg_id: &str, p: Packet) -> bool {
    match p {
        Packet::V3_1_1Subscribe(s) => {
            let mut codes = Vec::new();
            for e in s.entries() {
                if e.topic_filter() != "$dps/registrations/res/#" {
                    state.log(400004, reg_id, &format!("DPS subscribe to unsupported filter '{}'", e.topic_filter()));
                    return false;
                }
                // "DPS grants maximum QoS level 1 in the SUBACK" (§3).
                codes.push(if e.sub_opts().qos() == Qos::AtMostOnce { SubackReturnCode::SuccessMaximumQos0 } else { SubackReturnCode::SuccessMaximumQos1 });
            }
            if let Ok(ack) = v3_1_1::Suback::builder().packet_id(s.packet_id()).return_codes(codes).build() {
                d.send(ack.into()).await;
            }
            true
        }
        Packet::V3_1_1Publish(p) => {
            if p.qos() == Qos::ExactlyOnce {
                state.log(400004, reg_id, "QoS 2 publish is not supported; closing");
                return false;
            }
            if let (Qos::AtLeastOnce, Some(pid)) = (p.qos(), p.packet_id()) {
                puback(d, pid).await;
            }
            let topic = p.topic_name().to_string();
            let (kind, rest) = if let Some(r) = topic.strip_prefix("$dps/registrations/PUT/iotdps-register/?") {
                ("register", r)
            } else if let Some(r) = topic.strip_prefix("$dps/registrations/GET/iotdps-get-operationstatus/?") {
                ("poll", r)
            } else {
                state.log(400004, reg_id, &format!("DPS publish to unknown topic '{topic}'"));
                return false;
            };
            let props = query_props(rest);
            let get = |k: &str| props.iter().find(|(pk, _)| pk == k).and_then(|(_, v)| v.clone());
            let Some(rid) = get("$rid") else {
                state.log(400004, reg_id, "DPS request without $rid");
                return false;
            };
            let params = DpsParams {
                hub_hostname: &state.hub_hostname,
                retry_after: state.retry_after,
                assign_delay_ms: state.assign_delay_ms,
                now_ms: clock::now_unix_ms(),
            };
            let reply = if let Some((status, ra)) = state.faults.take_dps_fault() {
                state.log(status as u32 * 1000 + 1, reg_id, "injected DPS fault");
                dps::error_reply(status, status as u32 * 1000 + 1, "Injected fault: try again later.", Some(ra))
            } else if kind == "register" {
                state.dps.register(&params, att, p.payload().as_slice())
            } else {
                match get("operationId") {
                    Some(op) => state.dps.operation(&params, reg_id, &op),
                    None => dps::error_reply(400, 400001, "operationId is required.", None),
                }
            };
            respond(d, state, &rid, reply).await;
            true
        }
        Packet::V3_1_1Unsubscribe(u) => {
            if let Ok(ack) = v3_1_1::Unsuback::builder().packet_id(u.packet_id()).build() {
                d.send(ack.into()).await;
            }
            true
        }
        Packet::V3_1_1Disconnect(_) => false,
        _ => true,
    }
}

async fn respond<W: Wire>(d: &mut Driver<W>, state: &State, rid: &str, reply: DpsReply) {
    if let Some(a) = &reply.assigned {
        state.on_assigned(a);
    }
    let mut q = vec![("$rid".to_string(), rid.to_string())];
    if let Some(ra) = reply.retry_after {
        q.push(("retry-after".into(), ra.to_string()));
    }
    // `$` stays literal in the SDK examples (`?$rid=1&retry-after=3`).
    let topic = format!("$dps/registrations/res/{}/?{}", reply.status, encode_bag(&q).replace("%24", "$"));
    let body = serde_json::to_vec(&reply.body).unwrap_or_default();
    publish0(d, &topic, body).await;
}

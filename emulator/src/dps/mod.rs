//! Device Provisioning Service logic shared by the REST and MQTT front ends (protocol.md §1, §3):
//! register → operation `assigning` (202 + Retry-After) → `assigned`/`failed`; `disabled`
//! answered at once; error documents with errorCode/trackingId/message/timestampUtc (§1.6).

pub mod enrollments;
pub mod records;

use crate::clock;
use dashmap::DashMap;
use enrollments::Attested;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// One DPS answer, transport-neutral: REST turns it into status + headers, MQTT into
/// `$dps/registrations/res/{status}/?$rid=…[&retry-after=N]`.
#[derive(Debug, Clone)]
pub struct DpsReply {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<u32>,
    /// Set when this reply completed an assignment: the hub must know the device now.
    pub assigned: Option<Attested>,
}

pub fn error_reply(status: u16, code: u32, message: &str, retry_after: Option<u32>) -> DpsReply {
    DpsReply { status, body: error_body(code, message), retry_after, assigned: None }
}

/// `ProvisioningServiceErrorDetails` (§1.6).
pub fn error_body(code: u32, message: &str) -> Value {
    json!({
        "errorCode": code,
        "trackingId": uuid::Uuid::new_v4().to_string(),
        "message": message,
        "timestampUtc": clock::now_iso(),
    })
}

struct Operation {
    att: Attested,
    ready_at_ms: u64,
    created: String,
    payload: Option<Value>,
}

pub struct DpsParams<'a> {
    pub hub_hostname: &'a str,
    pub retry_after: u32,
    pub assign_delay_ms: u64,
    pub now_ms: u64,
}

pub struct Dps {
    pub scope: String,
    pub enrollments: enrollments::Enrollments,
    ops: DashMap<String, Operation>,
    /// Final registration states by lower-cased registration id (status lookup, §1.1).
    registrations: DashMap<String, Value>,
    counter: AtomicU64,
}

/// Registration ids: up to 128 of alphanumerics and `: . _ -`, alphanumeric at both ends (§1.4).
pub fn valid_registration_id(id: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-');
    !id.is_empty()
        && id.len() <= 128
        && id.chars().all(ok_char)
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
}

impl Dps {
    pub fn new(scope: String, enrollments: enrollments::Enrollments) -> Self {
        Dps { scope, enrollments, ops: DashMap::new(), registrations: DashMap::new(), counter: AtomicU64::new(1) }
    }

    /// Body `{"registrationId":"…","payload":{…}}`; `registrationId` must equal the path's.
    pub fn register(&self, p: &DpsParams, att: &Attested, body: &[u8]) -> DpsReply {
        let text = std::str::from_utf8(body).unwrap_or("").trim();
        let doc: Value = if text.is_empty() {
            json!({})
        } else {
            match serde_json::from_str(text) {
                Ok(v @ Value::Object(_)) => v,
                _ => return error_reply(400, 400001, "The request body is not a valid DeviceRegistration JSON object.", None),
            }
        };
        if let Some(r) = doc.get("registrationId") {
            if r.as_str().map(|s| s.eq_ignore_ascii_case(&att.registration_id)) != Some(true) {
                return error_reply(400, 400002, "registrationId in the body does not match the request path.", None);
            }
        }
        let payload = doc.get("payload").cloned().filter(|v| !v.is_null());
        if payload.as_ref().is_some_and(|v| !v.is_object()) {
            return error_reply(400, 400001, "payload must be a JSON object.", None);
        }
        if !att.enabled {
            // §1.5: disabled is a completed operation with an empty operationId, status 200.
            let state = json!({"registrationId": att.registration_id, "status": "disabled"});
            self.registrations.insert(att.registration_id.to_ascii_lowercase(), state.clone());
            return DpsReply {
                status: 200,
                body: json!({"operationId": "", "status": "disabled", "registrationState": state}),
                retry_after: None,
                assigned: None,
            };
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let op_id = format!("{}.{:016x}.{}", n % 10, n ^ 0x5eed_0000_0000_0000, uuid::Uuid::new_v4());
        self.ops.insert(
            op_id.clone(),
            Operation { att: att.clone(), ready_at_ms: p.now_ms + p.assign_delay_ms, created: clock::iso_utc(p.now_ms), payload },
        );
        DpsReply {
            status: 202,
            body: json!({"operationId": op_id, "status": "assigning"}),
            retry_after: Some(p.retry_after),
            assigned: None,
        }
    }

    /// Operation status: 202 while assigning, then 200 with the final document (§7 item 2).
    pub fn operation(&self, p: &DpsParams, reg_id: &str, op_id: &str) -> DpsReply {
        let Some(op) = self.ops.get(op_id) else {
            return error_reply(404, 404002, "Operation not found.", None);
        };
        if !op.att.registration_id.eq_ignore_ascii_case(reg_id) {
            return error_reply(404, 404002, "Operation not found for this registration.", None);
        }
        if p.now_ms < op.ready_at_ms {
            return DpsReply {
                status: 202,
                body: json!({"operationId": op_id, "status": "assigning",
                    "registrationState": {"registrationId": op.att.registration_id, "status": "assigning"}}),
                retry_after: Some(p.retry_after),
                assigned: None,
            };
        }
        let now = clock::iso_utc(p.now_ms);
        let etag = format!("\"{}\"", uuid::Uuid::new_v4());
        let mut state = if op.att.fail_allocation {
            json!({"registrationId": op.att.registration_id, "createdDateTimeUtc": op.created,
                "status": "failed", "errorCode": 400207,
                "errorMessage": "Custom allocation failed with status code: 400",
                "lastUpdatedDateTimeUtc": now, "etag": etag})
        } else {
            json!({"registrationId": op.att.registration_id, "createdDateTimeUtc": op.created,
                "assignedHub": p.hub_hostname, "deviceId": op.att.device_id, "status": "assigned",
                "substatus": "initialAssignment", "lastUpdatedDateTimeUtc": now, "etag": etag})
        };
        if let (Some(g), Some(obj)) = (&op.att.group_id, state.as_object_mut()) {
            obj.insert("symmetricKey".into(), json!({"enrollmentGroupId": g}));
        }
        if let (Some(pl), Some(obj)) = (&op.payload, state.as_object_mut()) {
            obj.insert("payload".into(), pl.clone());
        }
        let status = state["status"].clone();
        self.registrations.insert(op.att.registration_id.to_ascii_lowercase(), state.clone());
        let assigned = (!op.att.fail_allocation).then(|| op.att.clone());
        DpsReply {
            status: 200,
            body: json!({"operationId": op_id, "status": status, "registrationState": state}),
            retry_after: None,
            assigned,
        }
    }

    /// `POST /{scope}/registrations/{regId}`: the bare `DeviceRegistrationResult` (§1.1).
    pub fn status_lookup(&self, reg_id: &str) -> DpsReply {
        match self.registrations.get(&reg_id.to_ascii_lowercase()) {
            Some(s) => DpsReply { status: 200, body: s.clone(), retry_after: None, assigned: None },
            None => error_reply(404, 404001, "Registration not found.", None),
        }
    }

    pub fn registrations(&self) -> Vec<Value> {
        self.registrations.iter().map(|e| e.value().clone()).collect()
    }

    /// The final registration state of one registration id (DPS's service API reads it).
    pub fn registration(&self, reg_id: &str) -> Option<Value> {
        self.registrations.get(&reg_id.to_ascii_lowercase()).map(|s| s.clone())
    }

    pub fn remove_registration(&self, reg_id: &str) -> bool {
        self.registrations.remove(&reg_id.to_ascii_lowercase()).is_some()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn registration_ids_follow_the_swagger_character_rules() {
        assert!(super::valid_registration_id("symm-key-python-device-008"));
        assert!(super::valid_registration_id("a:b.c_d-e"));
        assert!(!super::valid_registration_id("-abc"));
        assert!(!super::valid_registration_id("ab c"));
        assert!(!super::valid_registration_id(&"a".repeat(129)));
    }
}

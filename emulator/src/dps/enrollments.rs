//! Enrollment store (individual + groups) and DPS device authentication (protocol.md §2.2-2.4):
//! an individual enrollment is looked up by registration id; otherwise each enabled group's
//! derived key is tried. Enrollments change rarely (service API), so one RwLock is fine here.

use crate::config::{Enrollment, EnrollmentGroup};
use crate::sas::{self, SasError};
use crate::clock;
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

/// What DPS's service API versions per record: an ETag counter and the record's times.
#[derive(Debug, Clone)]
pub struct RecordMeta {
    pub etag: u64,
    pub created: String,
    pub updated: String,
}

impl RecordMeta {
    /// DPS's ETags are quoted opaque strings (`"\"…\""` in JSON).
    pub fn etag_text(&self) -> String {
        format!("\"{:08x}-0000-0000-0000-000000000000\"", self.etag)
    }
}

fn enrollment_key(reg_id: &str) -> String {
    format!("e:{}", reg_id.to_ascii_lowercase())
}

fn group_key(id: &str) -> String {
    format!("g:{id}")
}

/// Who a verified registration belongs to, with the device keys the hub will accept.
#[derive(Debug, Clone)]
pub struct Attested {
    pub registration_id: String,
    pub device_id: String,
    pub group_id: Option<String>,
    pub enabled: bool,
    pub fail_allocation: bool,
    pub primary_key: String,
    pub secondary_key: Option<String>,
    pub initial_twin: Option<serde_json::Value>,
}

#[derive(Debug)]
pub enum AuthError {
    /// No enrollment and no group key signs this token.
    Unknown(String),
    Sas(SasError),
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthError::Unknown(r) => write!(f, "no enrollment or group key matches registration '{r}'"),
            AuthError::Sas(e) => write!(f, "{e}"),
        }
    }
}

#[derive(Default)]
pub struct Enrollments {
    individual: RwLock<Vec<Enrollment>>,
    groups: RwLock<Vec<EnrollmentGroup>>,
    /// By `e:{lower-case registration id}` and `g:{group id}`; every write bumps its record's.
    meta: Mutex<HashMap<String, RecordMeta>>,
}

impl Enrollments {
    pub fn new(individual: Vec<Enrollment>, groups: Vec<EnrollmentGroup>) -> Self {
        let e = Enrollments { individual: RwLock::new(Vec::new()), groups: RwLock::new(Vec::new()), meta: Mutex::default() };
        for x in individual {
            e.put(x);
        }
        for g in groups {
            e.put_group(g);
        }
        e
    }

    fn touch(&self, key: String) {
        let now = clock::now_iso();
        let mut m = self.meta.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        m.entry(key).and_modify(|r| {
            r.etag += 1;
            r.updated = now.clone();
        }).or_insert(RecordMeta { etag: 1, created: now.clone(), updated: now });
    }

    fn forget(&self, key: &str) {
        self.meta.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }

    pub fn meta(&self, reg_id: &str) -> Option<RecordMeta> {
        self.meta.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&enrollment_key(reg_id)).cloned()
    }

    pub fn group_meta(&self, id: &str) -> Option<RecordMeta> {
        self.meta.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&group_key(id)).cloned()
    }

    pub fn list(&self) -> Vec<Enrollment> {
        self.individual.read().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn list_groups(&self) -> Vec<EnrollmentGroup> {
        self.groups.read().map(|v| v.clone()).unwrap_or_default()
    }

    pub fn get(&self, reg_id: &str) -> Option<Enrollment> {
        self.list().into_iter().find(|e| e.registration_id.eq_ignore_ascii_case(reg_id))
    }

    pub fn get_group(&self, id: &str) -> Option<EnrollmentGroup> {
        self.list_groups().into_iter().find(|g| g.enrollment_group_id == id)
    }

    pub fn put(&self, e: Enrollment) {
        self.touch(enrollment_key(&e.registration_id));
        if let Ok(mut v) = self.individual.write() {
            v.retain(|x| !x.registration_id.eq_ignore_ascii_case(&e.registration_id));
            v.push(e);
        }
    }

    pub fn put_group(&self, g: EnrollmentGroup) {
        self.touch(group_key(&g.enrollment_group_id));
        if let Ok(mut v) = self.groups.write() {
            v.retain(|x| x.enrollment_group_id != g.enrollment_group_id);
            v.push(g);
        }
    }

    pub fn delete(&self, reg_id: &str) -> bool {
        self.forget(&enrollment_key(reg_id));
        self.individual.write().map(|mut v| {
            let n = v.len();
            v.retain(|x| !x.registration_id.eq_ignore_ascii_case(reg_id));
            n != v.len()
        }).unwrap_or(false)
    }

    pub fn delete_group(&self, id: &str) -> bool {
        self.forget(&group_key(id));
        self.groups.write().map(|mut v| {
            let n = v.len();
            v.retain(|x| x.enrollment_group_id != id);
            n != v.len()
        }).unwrap_or(false)
    }

    /// Verifies a DPS token for `reg_id` (§2.3 rule) and says which enrollment it belongs to.
    pub fn authenticate(&self, scope: &str, reg_id: &str, token: &str, now: u64) -> Result<Attested, AuthError> {
        let tok = sas::parse(token).map_err(AuthError::Sas)?;
        if let Some(e) = self.get(reg_id) {
            let mut keys = vec![e.primary_key.as_str()];
            if let Some(k) = &e.secondary_key {
                keys.push(k);
            }
            sas::verify_dps(&tok, scope, reg_id, &keys, now).map_err(AuthError::Sas)?;
            return Ok(Attested {
                registration_id: e.registration_id.clone(),
                device_id: e.device_id.clone().unwrap_or_else(|| e.registration_id.clone()),
                group_id: None,
                enabled: e.status.eq_ignore_ascii_case("enabled"),
                fail_allocation: e.allocation.as_deref() == Some("failed"),
                primary_key: e.primary_key.clone(),
                secondary_key: e.secondary_key.clone(),
                initial_twin: e.initial_twin.clone(),
            });
        }
        let mut last_err = AuthError::Unknown(reg_id.to_string());
        for g in self.list_groups() {
            let primary = sas::derive_device_key(&g.primary_key, reg_id);
            let secondary = g.secondary_key.as_deref().and_then(|k| sas::derive_device_key(k, reg_id));
            let keys: Vec<&str> = primary.iter().chain(secondary.iter()).map(String::as_str).collect();
            match sas::verify_dps(&tok, scope, reg_id, &keys, now) {
                Ok(()) => {
                    return Ok(Attested {
                        registration_id: reg_id.to_string(),
                        device_id: reg_id.to_string(),
                        group_id: Some(g.enrollment_group_id.clone()),
                        enabled: g.status.eq_ignore_ascii_case("enabled"),
                        fail_allocation: g.allocation.as_deref() == Some("failed"),
                        primary_key: primary.unwrap_or_default(),
                        secondary_key: secondary,
                        initial_twin: g.initial_twin.clone(),
                    })
                }
                // Resource/expiry errors are the same for every group: report them, not "unknown".
                Err(SasError::BadSignature) => {}
                Err(e) => last_err = AuthError::Sas(e),
            }
        }
        Err(last_err)
    }
}

//! Shared access policies: who may call IoT Hub's and DPS's service REST APIs. Each policy has a
//! name, two keys and a set of rights; a service SAS token names its policy in `skn`, has the
//! service's host name as `sr` and is signed with one of that policy's keys (sas.rs). A new hub
//! has `iothubowner`, `service`, `registryRead` and `registryReadWrite`, DPS has
//! `provisioningserviceowner`; the emulator makes the same ones, with random keys unless the
//! config file gives them. Keys never appear in `Debug` or in a refusal's reason.

use crate::config::PolicyConfig;
use crate::sas;
use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};

/// The rights of IoT Hub and DPS policies, by their Azure names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right {
    RegistryRead,
    RegistryWrite,
    ServiceConnect,
    DeviceConnect,
    ServiceConfig,
    EnrollmentRead,
    EnrollmentWrite,
    RegistrationStatusRead,
    RegistrationStatusWrite,
}

const ALL: [Right; 9] = [
    Right::RegistryRead,
    Right::RegistryWrite,
    Right::ServiceConnect,
    Right::DeviceConnect,
    Right::ServiceConfig,
    Right::EnrollmentRead,
    Right::EnrollmentWrite,
    Right::RegistrationStatusRead,
    Right::RegistrationStatusWrite,
];

impl Right {
    pub fn name(self) -> &'static str {
        match self {
            Right::RegistryRead => "RegistryRead",
            Right::RegistryWrite => "RegistryWrite",
            Right::ServiceConnect => "ServiceConnect",
            Right::DeviceConnect => "DeviceConnect",
            Right::ServiceConfig => "ServiceConfig",
            Right::EnrollmentRead => "EnrollmentRead",
            Right::EnrollmentWrite => "EnrollmentWrite",
            Right::RegistrationStatusRead => "RegistrationStatusRead",
            Right::RegistrationStatusWrite => "RegistrationStatusWrite",
        }
    }

    fn parse(s: &str) -> Option<Right> {
        ALL.into_iter().find(|r| r.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Azure grants read with write: `iothubowner`'s rights are listed as
    /// "RegistryWrite, ServiceConnect, DeviceConnect" and it reads the registry.
    fn granted_by(self, held: Right) -> bool {
        held == self
            || matches!(
                (self, held),
                (Right::RegistryRead, Right::RegistryWrite)
                    | (Right::EnrollmentRead, Right::EnrollmentWrite)
                    | (Right::RegistrationStatusRead, Right::RegistrationStatusWrite)
            )
    }
}

/// The policies a new hub (or DPS instance) has, with their rights.
const HUB_DEFAULTS: [(&str, &str); 4] = [
    ("iothubowner", "RegistryWrite, ServiceConnect, DeviceConnect"),
    ("service", "ServiceConnect"),
    ("registryRead", "RegistryRead"),
    ("registryReadWrite", "RegistryWrite"),
];
const DPS_DEFAULTS: [(&str, &str); 1] =
    [("provisioningserviceowner", "ServiceConfig, DeviceConnect, EnrollmentWrite, RegistrationStatusWrite")];

/// The hub policy whose primary key is the emulator's service key (Bearer on `/service/*`).
pub const OWNER: &str = "iothubowner";
pub const DPS_OWNER: &str = "provisioningserviceowner";

#[derive(Clone)]
pub struct Policy {
    pub name: String,
    primary: String,
    secondary: String,
    rights: Vec<Right>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Policy({}, {:?}, keys …)", self.name, self.rights)
    }
}

impl Policy {
    pub fn primary_key(&self) -> &str {
        &self.primary
    }

    pub fn has(&self, right: Right) -> bool {
        self.rights.iter().any(|&held| right.granted_by(held))
    }

    pub fn rights_text(&self) -> String {
        self.rights.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")
    }
}

/// Why a service call was refused; both are a 401 on Azure. The text never quotes the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    Credential(String),
    Right { policy: String, right: Right },
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denied::Credential(why) => f.write_str(why),
            Denied::Right { policy, right } => write!(f, "policy '{policy}' does not grant {}", right.name()),
        }
    }
}

/// 32 random bytes, base64: the size of the keys Azure makes.
pub fn random_key() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("cannot make a key: {e}"))?;
    Ok(STANDARD.encode(bytes))
}

/// A configured key: base64 of at least 16 bytes, since it signs SAS tokens.
pub fn checked_key(key: &str, what: &str) -> Result<String, String> {
    match STANDARD.decode(key.trim()) {
        Ok(b) if b.len() >= 16 => Ok(key.trim().to_string()),
        _ => Err(format!("{what} must be base64 of at least 16 bytes")),
    }
}

#[derive(Debug, Clone)]
pub struct Policies {
    list: Vec<Policy>,
}

impl Policies {
    /// The hub's policies: the defaults, each replaced or joined by the config's, with
    /// `iothubowner`'s primary key set to `owner_key` (the service key).
    pub fn hub(configured: &[PolicyConfig], owner_key: &str) -> Result<Policies, String> {
        let mut p = Policies::build(&HUB_DEFAULTS, configured)?;
        if let Some(owner) = p.list.iter_mut().find(|x| x.name == OWNER) {
            owner.primary = owner_key.to_string();
        }
        Ok(p)
    }

    pub fn dps(configured: &[PolicyConfig]) -> Result<Policies, String> {
        Policies::build(&DPS_DEFAULTS, configured)
    }

    fn build(defaults: &[(&str, &str)], configured: &[PolicyConfig]) -> Result<Policies, String> {
        let mut list = Vec::new();
        for (name, rights) in defaults {
            list.push(Policy { name: name.to_string(), primary: random_key()?, secondary: random_key()?, rights: parse_rights(rights)? });
        }
        for c in configured {
            let what = format!("policy '{}'", c.key_name);
            if c.key_name.is_empty() || !c.key_name.chars().all(|ch| ch.is_ascii_alphanumeric() || "-._".contains(ch)) {
                return Err(format!("{what}: a keyName is letters, digits, '-', '.' or '_'"));
            }
            let known = list.iter().position(|p| p.name.eq_ignore_ascii_case(&c.key_name));
            let rights = match (&c.rights, known) {
                (Some(r), _) => parse_rights(r).map_err(|e| format!("{what}: {e}"))?,
                (None, Some(i)) => list[i].rights.clone(),
                (None, None) => return Err(format!("{what}: rights are required for a policy of your own")),
            };
            let key = |k: &Option<String>, slot: &str| match k {
                Some(k) => checked_key(k, &format!("{what}'s {slot}")),
                None => random_key(),
            };
            let p = Policy { name: c.key_name.clone(), primary: key(&c.primary_key, "primaryKey")?, secondary: key(&c.secondary_key, "secondaryKey")?, rights };
            match known {
                Some(i) => list[i] = p,
                None => list.push(p),
            }
        }
        Ok(Policies { list })
    }

    pub fn get(&self, name: &str) -> Option<&Policy> {
        self.list.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Checks `Authorization: SharedAccessSignature sr={host}&sig=…&se=…&skn={policy}` and that
    /// the policy grants `right`.
    pub fn authorize(&self, authorization: &str, host: &str, right: Right, now: u64) -> Result<&Policy, Denied> {
        if authorization.is_empty() {
            return Err(Denied::Credential("no Authorization header".into()));
        }
        let token = sas::parse(authorization).map_err(|e| Denied::Credential(e.to_string()))?;
        let skn = token.skn.clone().ok_or_else(|| Denied::Credential("missing skn (a shared access policy name such as iothubowner)".into()))?;
        let policy = self.get(&skn).ok_or_else(|| Denied::Credential(format!("token skn '{skn}' is not a shared access policy here")))?;
        let names = [policy.name.as_str()];
        sas::verify_service(&token, host, &names, &policy.primary, now)
            .or_else(|e| match e {
                sas::SasError::BadSignature => sas::verify_service(&token, host, &names, &policy.secondary, now),
                other => Err(other),
            })
            .map_err(|e| Denied::Credential(e.to_string()))?;
        if !policy.has(right) {
            return Err(Denied::Right { policy: policy.name.clone(), right });
        }
        Ok(policy)
    }

    /// `HostName={host};SharedAccessKeyName={policy};SharedAccessKey={primary}`, what the
    /// portal shows and the service SDKs' `fromConnectionString` takes.
    pub fn connection_string(&self, host: &str, name: &str) -> Option<String> {
        self.get(name).map(|p| format!("HostName={host};SharedAccessKeyName={};SharedAccessKey={}", p.name, p.primary))
    }

    /// `[{keyName, primaryKey, secondaryKey, rights}]`, Azure's `SharedAccessSignatureAuthorizationRule`.
    pub fn describe(&self) -> Vec<Value> {
        self.list.iter().map(|p| json!({"keyName": p.name, "primaryKey": p.primary, "secondaryKey": p.secondary, "rights": p.rights_text()})).collect()
    }
}

fn parse_rights(text: &str) -> Result<Vec<Right>, String> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| Right::parse(s).ok_or_else(|| format!("unknown right '{}'", s.trim())))
        .collect::<Result<Vec<_>, _>>()
        .and_then(|v| if v.is_empty() { Err("no rights".into()) } else { Ok(v) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(host: &str, key: &str, se: u64, skn: &str) -> String {
        use hmac::{Hmac, Mac};
        let sr = percent_encoding::utf8_percent_encode(host, percent_encoding::NON_ALPHANUMERIC).to_string();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&STANDARD.decode(key).unwrap()).unwrap();
        mac.update(format!("{sr}\n{se}").as_bytes());
        let sig = percent_encoding::utf8_percent_encode(&STANDARD.encode(mac.finalize().into_bytes()), percent_encoding::NON_ALPHANUMERIC).to_string();
        format!("SharedAccessSignature sr={sr}&sig={sig}&se={se}&skn={skn}")
    }

    #[test]
    fn a_new_hub_has_the_four_azure_policies_with_their_rights_and_distinct_keys() {
        let p = Policies::hub(&[], &random_key().unwrap()).unwrap();
        let rights: Vec<(String, String)> = p.describe().iter().map(|d| (d["keyName"].as_str().unwrap().into(), d["rights"].as_str().unwrap().into())).collect();
        assert_eq!(rights, [("iothubowner", "RegistryWrite, ServiceConnect, DeviceConnect"), ("service", "ServiceConnect"), ("registryRead", "RegistryRead"), ("registryReadWrite", "RegistryWrite")]
            .map(|(a, b)| (a.to_string(), b.to_string())));
        assert_ne!(p.get("service").unwrap().primary, p.get("registryRead").unwrap().primary);
        assert!(p.get("registryReadWrite").unwrap().has(Right::RegistryRead));
        assert!(!p.get("service").unwrap().has(Right::RegistryRead));
    }

    #[test]
    fn a_token_of_a_policy_without_the_right_is_denied_for_that_right_only() {
        let p = Policies::hub(&[], &random_key().unwrap()).unwrap();
        let key = p.get("registryRead").unwrap().primary.clone();
        let t = sign("hub.local", &key, 2_000_000_000, "registryRead");
        assert!(p.authorize(&t, "hub.local", Right::RegistryRead, 1).is_ok());
        assert_eq!(p.authorize(&t, "hub.local", Right::ServiceConnect, 1).unwrap_err(), Denied::Right { policy: "registryRead".into(), right: Right::ServiceConnect });
        let secondary = p.get("registryRead").unwrap().secondary.clone();
        assert!(p.authorize(&sign("hub.local", &secondary, 2_000_000_000, "registryRead"), "hub.local", Right::RegistryRead, 1).is_ok());
        let wrong = sign("hub.local", &p.get("service").unwrap().primary.clone(), 2_000_000_000, "registryRead");
        assert!(matches!(p.authorize(&wrong, "hub.local", Right::RegistryRead, 1), Err(Denied::Credential(_))));
    }

    #[test]
    fn configured_policies_replace_defaults_and_need_rights_when_new() {
        let k = STANDARD.encode([9u8; 32]);
        let cfg = |name: &str, rights: Option<&str>| PolicyConfig { key_name: name.into(), primary_key: Some(k.clone()), secondary_key: None, rights: rights.map(String::from) };
        let p = Policies::hub(&[cfg("service", None), cfg("backend", Some("ServiceConnect, RegistryRead"))], "AAAAAAAAAAAAAAAAAAAAAA==").unwrap();
        assert_eq!(p.get("service").unwrap().primary, k);
        assert!(p.get("backend").unwrap().has(Right::RegistryRead));
        assert!(Policies::hub(&[cfg("backend", None)], "x").is_err());
        assert!(Policies::hub(&[cfg("backend", Some("Everything"))], "x").is_err());
        assert_eq!(p.connection_string("h", "iothubowner").unwrap(), "HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey=AAAAAAAAAAAAAAAAAAAAAA==");
        assert!(!format!("{p:?}").contains(&k));
    }
}

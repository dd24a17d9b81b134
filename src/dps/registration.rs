//! What is being registered: ID scope, registration id, optional custom payload, and the
//! `DeviceRegistration` body built from them (protocol §1.4):
//! `{"registrationId":"my-device","payload":{"modelId":"dtmi:com:example:Thermostat;1"}}`.

use crate::json::Value;

use super::DpsError;
use crate::auth::{dps_resource_uri, validate_registration_id};

/// REST api-version sent by default (protocol §1.2: used by azure-iot-sdk-c and iot-identity-service).
pub const DEFAULT_API_VERSION: &str = "2021-06-01";

/// MQTT username api-version (protocol §3: the docs and every SDK use `2019-03-31` there).
pub const DEFAULT_MQTT_API_VERSION: &str = "2019-03-31";

#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    pub id_scope: String,
    pub registration_id: String,
    /// Custom allocation data; always a JSON object (protocol §1.4).
    pub payload: Option<Value>,
}

impl Registration {
    pub fn new(id_scope: &str, registration_id: &str) -> Result<Registration, DpsError> {
        if id_scope.is_empty() || !id_scope.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(DpsError::InvalidArgument("idScope must be a non-empty string of letters and digits".into()));
        }
        validate_registration_id(registration_id)?;
        Ok(Registration { id_scope: id_scope.into(), registration_id: registration_id.into(), payload: None })
    }

    /// Sets the custom payload from JSON text, which must hold an object.
    pub fn with_payload_json(mut self, json: &str) -> Result<Registration, DpsError> {
        match Value::parse(json.as_bytes()) {
            Some(v @ Value::Object(_)) => {
                self.payload = Some(v);
                Ok(self)
            }
            _ => Err(DpsError::InvalidArgument("payload must be a JSON object".into())),
        }
    }

    /// The resource the DPS SAS token is scoped to: `{idScope}/registrations/{registrationId}`.
    pub fn resource_uri(&self) -> String {
        dps_resource_uri(&self.id_scope, &self.registration_id)
    }

    /// The `DeviceRegistration` JSON body, for `PUT .../register` and the MQTT register publish.
    pub fn body(&self) -> String {
        // Written by hand so `registrationId` comes first, as in every SDK and the docs.
        let id = Value::String(self.registration_id.clone());
        match &self.payload {
            Some(p) => format!(r#"{{"registrationId":{id},"payload":{p}}}"#),
            None => format!(r#"{{"registrationId":{id}}}"#),
        }
    }
}

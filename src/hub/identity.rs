//! Who connects and how: the MQTT CONNECT fields, the SAS resource and the WebSocket URL for a
//! device or module identity (protocol §5.1, §5.8, §2.2).

use super::HubError;
use crate::auth::{hub_resource_uri, percent_encode, sas_token};

/// The api-version IoT Hub documents for MQTT (protocol §5.1).
pub const API_VERSION: &str = "2021-04-12";

/// What this library reports as `DeviceClientType`.
pub const DEVICE_CLIENT_TYPE: &str = concat!("azure-iot-wasm/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub host_name: String,
    pub device_id: String,
    pub module_id: Option<String>,
}

impl Identity {
    pub fn new(host_name: &str, device_id: &str, module_id: Option<&str>) -> Result<Identity, HubError> {
        let host_name = host_name.trim();
        if host_name.is_empty() {
            return Err(HubError::InvalidArgument("hostName must be a non-empty string"));
        }
        if device_id.is_empty() {
            return Err(HubError::InvalidArgument("deviceId must be a non-empty string"));
        }
        // A `/` or `#`/`+` in an id would change the meaning of every topic built from it.
        let bad = |s: &str| s.contains(['/', '#', '+']) || s.chars().any(char::is_control);
        if bad(device_id) || module_id.is_some_and(bad) {
            return Err(HubError::InvalidArgument(
                "deviceId and moduleId must not contain '/', '#', '+' or controls",
            ));
        }
        Ok(Identity {
            host_name: host_name.to_string(),
            device_id: device_id.to_string(),
            module_id: module_id.filter(|m| !m.is_empty()).map(str::to_string),
        })
    }

    /// `{deviceId}` or `{deviceId}/{moduleId}`
    pub fn client_id(&self) -> String {
        match &self.module_id {
            Some(m) => format!("{}/{}", self.device_id, m),
            None => self.device_id.clone(),
        }
    }

    /// `{host}/{deviceId}[/{moduleId}]/?api-version=2021-04-12&DeviceClientType={enc}[&model-id={enc}]`
    pub fn username(&self, client_type: Option<&str>, model_id: Option<&str>) -> String {
        let mut u = format!("{}/{}/?api-version={API_VERSION}", self.host_name, self.client_id());
        let client_type = client_type.filter(|c| !c.is_empty()).unwrap_or(DEVICE_CLIENT_TYPE);
        u.push_str("&DeviceClientType=");
        u.push_str(&percent_encode(client_type));
        if let Some(m) = model_id.filter(|m| !m.is_empty()) {
            u.push_str("&model-id=");
            u.push_str(&percent_encode(m));
        }
        u
    }

    /// `{host}/devices/{deviceId}[/modules/{moduleId}]`, the resource a SAS token must grant.
    pub fn resource_uri(&self) -> String {
        hub_resource_uri(&self.host_name, &self.device_id, self.module_id.as_deref())
    }

    /// A device-key SAS token (no `skn`, protocol §2.2) expiring at `expiry` unix seconds.
    pub fn sas_token(&self, key_b64: &str, expiry: u64) -> Result<String, HubError> {
        Ok(sas_token(&self.resource_uri(), key_b64, expiry, None)?)
    }

    /// `wss://{host}/$iothub/websocket?iothub-no-client-cert=true`
    pub fn websocket_url(&self) -> String {
        format!("wss://{}/$iothub/websocket?iothub-no-client-cert=true", self.host_name)
    }

    /// `devices/{deviceId}[/modules/{moduleId}]`, the prefix of this identity's topics.
    pub fn topic_prefix(&self) -> String {
        match &self.module_id {
            Some(m) => format!("devices/{}/modules/{}", self.device_id, m),
            None => format!("devices/{}", self.device_id),
        }
    }
}

/// The `se` (unix seconds) of a SAS token; one parser for the hub and DPS, in `auth`.
pub use crate::auth::sas_expiry;

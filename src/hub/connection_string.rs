//! Device and module connection strings:
//! `HostName={host};DeviceId={id};[ModuleId={id};]SharedAccessKey={base64}` (the form the portal
//! and `az iot hub device-identity connection-string show` print). `SharedAccessSignature={token}`
//! may stand in for the key. Values may contain `=` (base64 padding), so each pair splits on its
//! first `=` only.

use super::HubError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionString {
    pub host_name: String,
    pub device_id: String,
    pub module_id: Option<String>,
    pub shared_access_key: Option<String>,
    /// A ready-made SAS token, used as is (no renewal is possible from it).
    pub shared_access_signature: Option<String>,
    /// `GatewayHostName`, when the device connects through an IoT Edge gateway.
    pub gateway_host_name: Option<String>,
}

/// `wss://{host}/$iothub/websocket?iothub-no-client-cert=true`: where a device connects over
/// MQTT-over-WebSocket (protocol §5.1), `host` being the hub or an IoT Edge gateway.
pub fn websocket_url(host: &str) -> String {
    format!("wss://{host}/$iothub/websocket?iothub-no-client-cert=true")
}

impl ConnectionString {
    /// The host to open the socket to: `GatewayHostName` when the device connects through an
    /// IoT Edge gateway, else `HostName`. The SAS resource and the MQTT username always name
    /// `HostName`, the hub the identity belongs to.
    pub fn connect_host(&self) -> &str {
        self.gateway_host_name.as_deref().unwrap_or(&self.host_name)
    }

    pub fn parse(s: &str) -> Result<ConnectionString, HubError> {
        let mut host = None;
        let mut device = None;
        let mut module = None;
        let mut key = None;
        let mut sas = None;
        let mut gateway = None;
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or(HubError::InvalidConnectionString("has a part without '='"))?;
            let v = v.trim();
            let slot = match k.trim().to_ascii_lowercase().as_str() {
                "hostname" => &mut host,
                "deviceid" => &mut device,
                "moduleid" => &mut module,
                "sharedaccesskey" => &mut key,
                "sharedaccesssignature" => &mut sas,
                "gatewayhostname" => &mut gateway,
                // SharedAccessKeyName (service policies), x509, ... are not for this client.
                "sharedaccesskeyname" => {
                    return Err(HubError::InvalidConnectionString(
                        "is a service (policy) connection string, not a device one",
                    ))
                }
                _ => continue,
            };
            if slot.is_some() {
                return Err(HubError::InvalidConnectionString("repeats a key"));
            }
            if v.is_empty() {
                return Err(HubError::InvalidConnectionString("has an empty value"));
            }
            *slot = Some(v.to_string());
        }
        let host_name = host.ok_or(HubError::InvalidConnectionString("lacks HostName"))?;
        let device_id = device.ok_or(HubError::InvalidConnectionString("lacks DeviceId"))?;
        if key.is_none() && sas.is_none() {
            return Err(HubError::InvalidConnectionString(
                "lacks SharedAccessKey (or SharedAccessSignature)",
            ));
        }
        Ok(ConnectionString {
            host_name,
            device_id,
            module_id: module,
            shared_access_key: key,
            shared_access_signature: sas,
            gateway_host_name: gateway,
        })
    }
}

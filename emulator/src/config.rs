//! Emulator configuration: the JSON file of enrollments, enrollment groups and hub devices
//! (with an embedded default holding the quickstart's identities), plus the runtime options
//! that the command line sets. Keys are fixed and printed at start: this is a local tool. The
//! service key is random per start unless the file or the command line sets it.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

/// The embedded default: ID scope `0ne00000A0A`, the quickstart's individual enrollment
/// `symm-key-python-device-008` → `python-device-008`, one enrollment group, one hub device.
pub const DEFAULT_CONFIG_JSON: &str = include_str!("default_config.json");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigFile {
    #[serde(default = "default_scope")]
    pub id_scope: String,
    #[serde(default)]
    pub enrollments: Vec<Enrollment>,
    #[serde(default)]
    pub enrollment_groups: Vec<EnrollmentGroup>,
    /// Devices registered in the hub up front (DPS adds the ones it assigns).
    #[serde(default)]
    pub devices: Vec<DeviceIdentity>,
    /// The key `/service/*` requires (base64); a random one per start when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_key: Option<String>,
    /// Telemetry messages kept per device (default 10,000; the oldest are dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<usize>,
    /// The storage behind the hub's file upload (`--blob-*` flags override each field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_upload: Option<FileUploadConfig>,
    /// The hub's shared access policies (guard/policies.rs): each replaces the default of its
    /// name or adds one; keys left out are random per start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_access_policies: Vec<PolicyConfig>,
    /// DPS's shared access policies, likewise (`provisioningserviceowner` by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dps_shared_access_policies: Vec<PolicyConfig>,
}

/// A shared access policy as Azure lists it (`SharedAccessSignatureAuthorizationRule`):
/// `{"keyName":"service","primaryKey":"…","secondaryKey":"…","rights":"ServiceConnect"}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyConfig {
    pub key_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_key: Option<String>,
    /// Comma-separated rights; optional for the default policies' names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<String>,
}

/// Where file uploads go (docs/file-upload.md): an Azure Storage blob endpoint, Azurite locally.
/// Without `blobEndpoint` file upload is not configured and devices get IoT Hub's 400.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileUploadConfig {
    /// `http(s)://host[:port][/account]`, e.g. Azurite's path-style `http://127.0.0.1:10000/devstoreaccount1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_endpoint: Option<String>,
    /// Default: the endpoint's first path segment (path style), else its host's first label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Base64; default: Azurite's public development key for `devstoreaccount1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_key: Option<String>,
    /// Default `fileuploads`; it must exist (scripts/lib/azurite.mjs creates it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Lifetime of each upload's SAS (default 3600, IoT Hub's default of one hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sas_ttl_seconds: Option<u64>,
}

impl FileUploadConfig {
    /// Each field of `over` that is set replaces this one's.
    pub fn overridden_by(&self, over: &FileUploadConfig) -> FileUploadConfig {
        FileUploadConfig {
            blob_endpoint: over.blob_endpoint.clone().or_else(|| self.blob_endpoint.clone()),
            account_name: over.account_name.clone().or_else(|| self.account_name.clone()),
            account_key: over.account_key.clone().or_else(|| self.account_key.clone()),
            container: over.container.clone().or_else(|| self.container.clone()),
            sas_ttl_seconds: over.sas_ttl_seconds.or(self.sas_ttl_seconds),
        }
    }
}

fn default_scope() -> String {
    "0ne00000A0A".into()
}

fn default_enabled() -> String {
    "enabled".into()
}

/// An individual symmetric-key enrollment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Enrollment {
    pub registration_id: String,
    /// Hub device id to assign; defaults to the registration id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    pub primary_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_key: Option<String>,
    /// `enabled` or `disabled`.
    #[serde(default = "default_enabled")]
    pub status: String,
    /// `assigned` (default) or `failed` (the operation ends `failed` with errorCode 400207).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<String>,
    /// Initial desired properties of the assigned device's twin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_twin: Option<serde_json::Value>,
}

/// A symmetric-key enrollment group: devices authenticate with keys derived from the group key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentGroup {
    pub enrollment_group_id: String,
    pub primary_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_key: Option<String>,
    #[serde(default = "default_enabled")]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_twin: Option<serde_json::Value>,
}

/// A device identity in the hub's registry (symmetric keys), with optional modules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceIdentity {
    pub device_id: String,
    pub primary_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_key: Option<String>,
    #[serde(default = "default_enabled")]
    pub status: String,
    #[serde(default)]
    pub modules: Vec<ModuleIdentity>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleIdentity {
    pub module_id: String,
    pub primary_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_key: Option<String>,
}

/// How telemetry PUBACKs are sent (fault injection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "mode")]
pub enum PubackMode {
    Normal,
    /// Hold every PUBACK until released through the service API.
    Withhold,
    Delay { ms: u64 },
}

/// Everything `Emulator::start` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub host: IpAddr,
    pub http_port: u16,
    pub https_port: u16,
    pub mqtts_port: u16,
    /// What DPS returns as `assignedHub` and what the hub expects in usernames and `sr`.
    pub hub_hostname: String,
    /// Browser origins allowed CORS and WebSocket upgrades (`--cors`); each entry may be a comma list.
    pub cors_origins: Vec<String>,
    /// Overrides the config file's `serviceKey`.
    pub service_key: Option<String>,
    /// Seconds sent in `Retry-After` while an operation is assigning.
    pub retry_after_secs: u32,
    /// How long an operation stays `assigning` after the register call.
    pub assign_delay_ms: u64,
    /// Where to write the CA certificate (PEM); a temp file when unset.
    pub ca_out: Option<PathBuf>,
    /// Cap on how long a hub connection may live past CONNECT, whatever its token's `se` says.
    pub max_token_ttl_secs: Option<u64>,
    /// Answer the next N DPS calls with `dps_fault_status` (429 or 503) and Retry-After.
    pub dps_fault_count: u32,
    pub dps_fault_status: u16,
    pub puback: PubackMode,
    /// Telemetry messages kept per device; overrides the config file's `retention`.
    pub retention: Option<usize>,
    /// How long a connection may take over its TLS handshake, its HTTP request head and its MQTT
    /// CONNECT, each (IoT Hub closes a connection without CONNECT after 30 s, protocol.md §5.1).
    pub handshake_timeout_secs: u64,
    /// File upload settings from the command line; they override the config file's `fileUpload`.
    pub file_upload: FileUploadConfig,
    /// Where to write the server certificate chain and its key (PEM), for a peer that must serve
    /// under the emulator's CA (Azurite over HTTPS for the Node SDK).
    pub server_cert_out: Option<PathBuf>,
    pub server_key_out: Option<PathBuf>,
    pub file: ConfigFile,
    /// Log refusals and connections to stderr.
    pub log: bool,
}

impl Config {
    /// The default configuration on any free ports of 127.0.0.1 (what in-process tests use).
    pub fn ephemeral() -> Config {
        Config {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            http_port: 0,
            https_port: 0,
            mqtts_port: 0,
            hub_hostname: "localhost".into(),
            cors_origins: vec![],
            service_key: None,
            retry_after_secs: 1,
            assign_delay_ms: 0,
            ca_out: None,
            max_token_ttl_secs: None,
            dps_fault_count: 0,
            dps_fault_status: 503,
            puback: PubackMode::Normal,
            retention: None,
            handshake_timeout_secs: 30,
            file_upload: FileUploadConfig::default(),
            server_cert_out: None,
            server_key_out: None,
            file: default_file(),
            log: false,
        }
    }
}

pub fn default_file() -> ConfigFile {
    // The embedded file is checked by a unit test; a broken edit fails the build's tests.
    serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap_or(ConfigFile {
        id_scope: default_scope(),
        enrollments: vec![],
        enrollment_groups: vec![],
        devices: vec![],
        service_key: None,
        retention: None,
        file_upload: None,
        shared_access_policies: vec![],
        dps_shared_access_policies: vec![],
    })
}

pub fn load_file(path: &std::path::Path) -> Result<ConfigFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("invalid config {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_config_parses_with_the_quickstart_identities() {
        let f: ConfigFile = serde_json::from_str(DEFAULT_CONFIG_JSON).unwrap();
        assert_eq!(f.id_scope, "0ne00000A0A");
        assert_eq!(f.enrollments[0].registration_id, "symm-key-python-device-008");
        assert_eq!(f.enrollments[0].device_id.as_deref(), Some("python-device-008"));
        assert_eq!(f.enrollment_groups.len(), 1);
    }
}

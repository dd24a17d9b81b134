//! Local Azure IoT DPS + IoT Hub emulator: `Emulator::start(config)` binds the plain HTTP/WS,
//! HTTPS/WSS and MQTT-over-TLS listeners and returns a handle with the bound ports.
//! It shares no code with the device library: an independent implementation of the other
//! side of the wire is what makes each a check on the other.

pub mod blob_sas;
pub mod clock;
pub mod config;
pub mod dps;
pub mod dps_service;
pub mod guard;
pub mod http;
pub mod hub;
pub mod hub_rest;
pub mod hub_service;
pub mod listen;
pub mod mqtt;
pub mod sas;
pub mod service;
pub mod state;
pub mod tls;

use config::Config;
use guard::{hosts::Hosts, origins::Origins, policies::{self, Policies}, service_key::ServiceKey, Guard};
use state::State;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub struct Emulator {
    pub http_port: u16,
    pub https_port: u16,
    pub mqtts_port: u16,
    pub host: std::net::IpAddr,
    pub ca_pem: String,
    pub ca_path: PathBuf,
    pub hub_hostname: String,
    pub id_scope: String,
    /// What `/service/*` requires (guard/service_key.rs); printed at start for the developer.
    pub service_key: String,
    /// `HostName={hub};SharedAccessKeyName=iothubowner;SharedAccessKey=…` for the service SDKs.
    pub service_connection_string: String,
    /// `HostName={dps host};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=…`.
    pub dps_connection_string: String,
    pub state: Arc<State>,
    tasks: Vec<JoinHandle<()>>,
    /// The CA file is ours to delete when it went to the temp directory.
    remove_ca: bool,
}

async fn bind(host: std::net::IpAddr, port: u16, what: &str) -> Result<TcpListener, String> {
    TcpListener::bind(SocketAddr::new(host, port)).await.map_err(|e| format!("cannot bind {what} on {host}:{port}: {e}"))
}

impl Emulator {
    pub async fn start(cfg: Config) -> Result<Emulator, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut names = vec![cfg.hub_hostname.clone(), cfg.host.to_string()];
        names.dedup();
        let tls = tls::generate(&names)?;
        let ca_path = match &cfg.ca_out {
            Some(p) => p.clone(),
            None => std::env::temp_dir().join(format!("iot-emulator-ca-{}-{}.pem", std::process::id(), uuid::Uuid::new_v4().simple())),
        };
        std::fs::write(&ca_path, &tls.ca_pem).map_err(|e| format!("cannot write CA to {}: {e}", ca_path.display()))?;
        for (path, pem, what) in [(&cfg.server_cert_out, &tls.server_chain_pem, "server certificate"), (&cfg.server_key_out, &tls.server_key_pem, "server key")] {
            if let Some(p) = path {
                std::fs::write(p, pem).map_err(|e| format!("cannot write {what} to {}: {e}", p.display()))?;
            }
        }
        let file_upload = cfg.file.file_upload.clone().unwrap_or_default().overridden_by(&cfg.file_upload);
        let files = hub::files::Files::new(hub::files::Storage::from_config(&file_upload)?, hub::blob_props::client_tls(&tls.ca_der));

        let origins = Origins::parse(&cfg.cors_origins)?;
        // The flag, then the file's serviceKey, then the file's own iothubowner key.
        let owner_in_file = cfg.file.shared_access_policies.iter().find(|p| p.key_name.eq_ignore_ascii_case(policies::OWNER)).and_then(|p| p.primary_key.as_ref());
        let service_key = match cfg.service_key.as_ref().or(cfg.file.service_key.as_ref()).or(owner_in_file) {
            Some(k) => ServiceKey::given(k)?,
            None => ServiceKey::generate()?,
        };
        let hub_policies = Policies::hub(&cfg.file.shared_access_policies, service_key.as_str())?;
        let dps_policies = Policies::dps(&cfg.file.dps_shared_access_policies)?;
        let http_l = bind(cfg.host, cfg.http_port, "HTTP").await?;
        let https_l = bind(cfg.host, cfg.https_port, "HTTPS").await?;
        let mqtts_l = bind(cfg.host, cfg.mqtts_port, "MQTT/TLS").await?;
        let port = |l: &TcpListener| l.local_addr().map(|a| a.port()).unwrap_or(0);
        let (http_port, https_port, mqtts_port) = (port(&http_l), port(&https_l), port(&mqtts_l));
        // The Host check needs the bound ports, so the state is made once they are known.
        let hosts = Hosts::new(cfg.host, &cfg.hub_hostname, &[http_port, https_port]);
        let state = Arc::new(State::new(&cfg, Guard { hosts, origins, service_key, hub_policies, dps_policies }, files));
        let app = http::router(state.clone());

        let acceptor = tokio_rustls::TlsAcceptor::from(tls.server_config.clone());
        let tasks = vec![
            tokio::spawn(listen::plain_http(http_l, app.clone(), state.clone())),
            tokio::spawn(listen::https(https_l, acceptor.clone(), app, state.clone())),
            tokio::spawn(listen::mqtts(mqtts_l, acceptor, state.clone())),
        ];
        Ok(Emulator {
            http_port,
            https_port,
            mqtts_port,
            host: cfg.host,
            ca_pem: tls.ca_pem,
            ca_path,
            hub_hostname: cfg.hub_hostname.clone(),
            id_scope: cfg.file.id_scope.clone(),
            service_key: state.guard.service_key.as_str().to_string(),
            service_connection_string: state.guard.hub_policies.connection_string(&cfg.hub_hostname, policies::OWNER).unwrap_or_default(),
            dps_connection_string: state.guard.dps_policies.connection_string(&cfg.hub_hostname, policies::DPS_OWNER).unwrap_or_default(),
            state,
            tasks,
            remove_ca: cfg.ca_out.is_none(),
        })
    }

    pub fn http_url(&self) -> String {
        format!("http://{}:{}", self.host, self.http_port)
    }

    /// The line test harnesses wait for (it carries the service key: stdout is the developer's).
    pub fn ready_line(&self) -> String {
        let v = serde_json::json!({
            "httpPort": self.http_port, "httpsPort": self.https_port, "mqttsPort": self.mqtts_port,
            "caPath": self.ca_path.to_string_lossy(), "hubHostname": self.hub_hostname,
            "idScope": self.id_scope, "host": self.host.to_string(), "serviceKey": self.service_key,
            "serviceConnectionString": self.service_connection_string, "dpsServiceConnectionString": self.dps_connection_string,
            "sharedAccessPolicies": self.state.guard.hub_policies.describe(),
            "dpsSharedAccessPolicies": self.state.guard.dps_policies.describe(),
            "corsOrigins": self.state.guard.origins.describe(),
            "fileUpload": self.state.files.storage.as_ref().map(|s| s.describe()),
        });
        format!("EMULATOR_READY {v}")
    }

    pub fn stop(self) {}
}

impl Drop for Emulator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if self.remove_ca {
            let _ = std::fs::remove_file(&self.ca_path);
        }
    }
}

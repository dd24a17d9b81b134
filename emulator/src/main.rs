//! Local DPS + IoT Hub emulator: the command-line entry point. Parses flags into a `Config`,
//! starts the listeners, prints endpoints, identities, keys, the service key and the service
//! connection strings, then the `EMULATOR_READY` line.

use clap::Parser;
use iot_emulator::config::{self, Config, FileUploadConfig, PubackMode};
use iot_emulator::Emulator;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "iot-emulator", about = "Local Azure IoT DPS + IoT Hub emulator")]
struct Cli {
    /// JSON config of enrollments, enrollment groups and devices (default: embedded quickstart config).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address every listener binds.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Plain HTTP + WS port (0 = any free port).
    #[arg(long, default_value_t = 8080)]
    http_port: u16,
    /// HTTPS + WSS port (the official SDKs always dial 443).
    #[arg(long, default_value_t = 8443)]
    https_port: u16,
    /// MQTT over TLS port (the Python SDK always dials 8883).
    #[arg(long, default_value_t = 8883)]
    mqtts_port: u16,
    /// Host name DPS returns as assignedHub; must reach this emulator and appear in its certificate.
    #[arg(long, default_value = "localhost")]
    hub_hostname: String,
    /// Browser origin (scheme://host[:port]) allowed CORS and WebSocket upgrades, e.g. the demo's;
    /// repeat or comma-separate. '*' allows any (never with credentials). Real DPS has no CORS.
    #[arg(long = "cors", value_name = "ORIGIN")]
    cors: Vec<String>,
    /// Key (base64) the service API requires; default: the config's serviceKey, else random.
    #[arg(long, value_name = "KEY")]
    service_key: Option<String>,
    /// Seconds in Retry-After while an operation is assigning.
    #[arg(long, default_value_t = 2)]
    retry_after: u32,
    /// Milliseconds an operation stays "assigning".
    #[arg(long, default_value_t = 0)]
    assign_delay_ms: u64,
    /// Write the CA certificate (PEM) here (default: a file in the temp directory).
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Close hub connections after at most this many seconds, whatever the token's se says.
    #[arg(long)]
    max_token_ttl: Option<u64>,
    /// Answer the next N DPS calls with --dps-fault-status and Retry-After.
    #[arg(long, default_value_t = 0)]
    dps_fault_count: u32,
    #[arg(long, default_value_t = 503)]
    dps_fault_status: u16,
    /// Withhold every telemetry PUBACK until released through POST /service/faults.
    #[arg(long)]
    withhold_puback: bool,
    /// Delay every telemetry PUBACK by this many milliseconds.
    #[arg(long)]
    puback_delay_ms: Option<u64>,
    /// Telemetry messages kept per device, oldest dropped first (default: the config's
    /// retention, else 10000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    retention: Option<u64>,
    /// Seconds a connection may take over each of its TLS handshake, HTTP request head and MQTT
    /// CONNECT before it is closed.
    #[arg(long, value_name = "S", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    handshake_timeout: u64,
    /// Blob endpoint file uploads go to, e.g. Azurite's http://127.0.0.1:10000/devstoreaccount1
    /// (default: the config's fileUpload.blobEndpoint, else file upload is not configured).
    #[arg(long, value_name = "URL")]
    blob_endpoint: Option<String>,
    /// Storage account name (default: the endpoint's first path segment, else its host's first label).
    #[arg(long, value_name = "NAME")]
    blob_account: Option<String>,
    /// Storage account key, base64 (default: Azurite's public devstoreaccount1 key).
    #[arg(long, value_name = "KEY")]
    blob_key: Option<String>,
    /// Blob container for uploads (default fileuploads); it must exist.
    #[arg(long, value_name = "NAME")]
    blob_container: Option<String>,
    /// Lifetime of each file upload SAS, seconds (default 3600).
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    file_upload_sas_ttl: Option<u64>,
    /// Write the server certificate chain (PEM) here, for a local peer serving under the same CA.
    #[arg(long, value_name = "FILE")]
    server_cert_out: Option<PathBuf>,
    /// Write the server certificate's private key (PEM) here.
    #[arg(long, value_name = "FILE")]
    server_key_out: Option<PathBuf>,
    /// Do not log refusals and connections to stderr.
    #[arg(long)]
    quiet: bool,
}

fn main() {
    let cli = Cli::parse();
    let file = match &cli.config {
        Some(p) => match config::load_file(p) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("iot-emulator: {e}");
                std::process::exit(2);
            }
        },
        None => config::default_file(),
    };
    let puback = match (cli.withhold_puback, cli.puback_delay_ms) {
        (true, _) => PubackMode::Withhold,
        (false, Some(ms)) => PubackMode::Delay { ms },
        _ => PubackMode::Normal,
    };
    let cfg = Config {
        host: cli.host,
        http_port: cli.http_port,
        https_port: cli.https_port,
        mqtts_port: cli.mqtts_port,
        hub_hostname: cli.hub_hostname,
        cors_origins: cli.cors,
        service_key: cli.service_key,
        retry_after_secs: cli.retry_after,
        assign_delay_ms: cli.assign_delay_ms,
        ca_out: cli.ca_out,
        max_token_ttl_secs: cli.max_token_ttl,
        dps_fault_count: cli.dps_fault_count,
        dps_fault_status: cli.dps_fault_status,
        puback,
        retention: cli.retention.map(|n| n as usize),
        handshake_timeout_secs: cli.handshake_timeout,
        file_upload: FileUploadConfig {
            blob_endpoint: cli.blob_endpoint,
            account_name: cli.blob_account,
            account_key: cli.blob_key,
            container: cli.blob_container,
            sas_ttl_seconds: cli.file_upload_sas_ttl,
        },
        server_cert_out: cli.server_cert_out,
        server_key_out: cli.server_key_out,
        file,
        log: !cli.quiet,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("iot-emulator: cannot start runtime: {e}");
            std::process::exit(1);
        }
    };
    rt.block_on(async move {
        let file = cfg.file.clone();
        let emu = match Emulator::start(cfg).await {
            Ok(e) => e,
            Err(e) => {
                eprintln!("iot-emulator: {e}");
                std::process::exit(1);
            }
        };
        let h = emu.host;
        println!("iot-emulator: local Azure IoT DPS + IoT Hub");
        println!("  DPS REST + WS      http://{h}:{}/  (WebSocket: ws://{h}:{}/$iothub/websocket)", emu.http_port, emu.http_port);
        println!("  DPS REST + WSS     https://{h}:{}/  (WebSocket: wss://{h}:{}/$iothub/websocket)", emu.https_port, emu.https_port);
        println!("  MQTT over TLS      {h}:{}", emu.mqtts_port);
        println!("  Service API        http://{h}:{}/service/  (events: /service/events)", emu.http_port);
        println!("  Service key        {}", emu.service_key);
        println!("                     send it as 'Authorization: Bearer <key>', or as a SharedAccessSignature with");
        println!("                     skn=iothubowner, sr={}; the event stream also takes ?access_token=<key>", emu.hub_hostname);
        println!("  Hub service API    https://{}:{}/devices, /twins, /twins/{{id}}/methods  (what azure-iothub calls)", emu.hub_hostname, emu.https_port);
        println!("  Service connection string (azure-iothub, azure-iot-hub):");
        println!("                     {}", emu.service_connection_string);
        println!("  DPS service connection string (azure-iot-provisioning-service):");
        println!("                     {}", emu.dps_connection_string);
        let names: Vec<String> = emu.state.guard.hub_policies.describe().iter().map(|p| format!("{} ({})", p["keyName"].as_str().unwrap_or(""), p["rights"].as_str().unwrap_or(""))).collect();
        println!("  Hub policies       {}; every key is in the ready line's sharedAccessPolicies", names.join(", "));
        let origins = emu.state.guard.origins.describe();
        println!("  CORS origins       {}", if origins.is_empty() { "none (no page on another origin gets in)".into() } else { origins.join(", ") });
        println!("  CA certificate     {}", emu.ca_path.display());
        match emu.state.files.storage.as_ref() {
            Some(s) => println!("  File upload        {}://{}  container {}  (SAS for {} s)", s.scheme, s.host_name(), s.container, s.ttl_secs),
            None => println!("  File upload        not configured (--blob-endpoint URL)"),
        }
        println!("  ID scope           {}    hub host name: {}", emu.id_scope, emu.hub_hostname);
        for e in &file.enrollments {
            println!("  enrollment         {} ({}) primaryKey={}", e.registration_id, e.status, e.primary_key);
        }
        for g in &file.enrollment_groups {
            println!("  enrollment group   {} ({}) primaryKey={}", g.enrollment_group_id, g.status, g.primary_key);
        }
        for d in &file.devices {
            println!("  hub device         {} primaryKey={}", d.device_id, d.primary_key);
        }
        println!("{}", emu.ready_line());
        // Ctrl-C or SIGTERM (what test harnesses send) both stop it and remove a temp CA file.
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
        drop(emu);
    });
}

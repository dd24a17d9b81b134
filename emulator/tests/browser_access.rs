#![cfg(not(target_arch = "wasm32"))]
//! What a web page on another origin can reach: CORS only for the `--cors` origins, no answer
//! at all for a foreign `Host` (DNS rebinding), and no WebSocket from a disallowed `Origin`.

mod common;
use common::*;
use iot_emulator::config::Config;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Error as WsError};

const DEMO: &str = "http://localhost:8000";
const EVIL: &str = "http://evil.example";

async fn with_demo_origin() -> iot_emulator::Emulator {
    let mut cfg = Config::ephemeral();
    cfg.cors_origins = vec![format!("{DEMO},http://127.0.0.1:8000")];
    start_with(cfg).await
}

fn header<'a>(hs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    hs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn preflight(origin: &str) -> [(&str, &str); 3] {
    [("origin", origin), ("access-control-request-method", "PUT"), ("access-control-request-headers", "authorization, content-type")]
}

const REGISTER: &str = "/0ne00000A0A/registrations/symm-key-python-device-008/register?api-version=2021-06-01";

/// Status of a WebSocket upgrade (101 when it opened) with these extra headers.
async fn upgrade(emu: &iot_emulator::Emulator, extra: &[(&'static str, &str)]) -> u16 {
    let mut req = format!("ws://127.0.0.1:{}/$iothub/websocket", emu.http_port).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "mqtt".parse().unwrap());
    for (k, v) in extra {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((_, res)) => res.status().as_u16(),
        Err(WsError::Http(res)) => res.status().as_u16(),
        Err(e) => panic!("upgrade failed without an HTTP answer: {e}"),
    }
}

#[tokio::test]
async fn a_preflight_from_a_named_origin_is_answered_with_that_origin() {
    let emu = with_demo_origin().await;
    let (st, hs, _) = http(&emu, "OPTIONS", REGISTER, &preflight(DEMO), "").await;
    assert_eq!(st, 204);
    assert_eq!(header(&hs, "access-control-allow-origin"), Some(DEMO));
    assert!(header(&hs, "access-control-allow-headers").unwrap().contains("authorization"));
    assert!(header(&hs, "access-control-expose-headers").unwrap().contains("retry-after"));
    assert_eq!(header(&hs, "access-control-allow-credentials"), None);
    let (_, hs, _) = http(&emu, "OPTIONS", REGISTER, &preflight("http://127.0.0.1:8000"), "").await;
    assert_eq!(header(&hs, "access-control-allow-origin"), Some("http://127.0.0.1:8000"));
}

#[tokio::test]
async fn a_request_from_evil_example_gets_no_cors_allowance() {
    let emu = with_demo_origin().await;
    let (st, hs, _) = http(&emu, "OPTIONS", REGISTER, &preflight(EVIL), "").await;
    assert_ne!(st, 204);
    assert!(!hs.iter().any(|(k, _)| k.starts_with("access-control-")), "{hs:?}");
    let auth = service_auth(&emu);
    let (st, hs, _) = http(&emu, "GET", "/service/enrollments", &[("origin", EVIL), ("authorization", &auth)], "").await;
    assert_eq!(st, 200, "a non-browser client with the key is served");
    assert!(!hs.iter().any(|(k, _)| k.starts_with("access-control-")), "but a page on {EVIL} may not read it: {hs:?}");
}

#[tokio::test]
async fn without_cors_origins_no_origin_gets_an_allowance() {
    let emu = start().await;
    let (st, hs, _) = http(&emu, "OPTIONS", REGISTER, &preflight(DEMO), "").await;
    assert_ne!(st, 204);
    assert_eq!(header(&hs, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_star_origin_is_answered_with_a_literal_star_and_no_credentials() {
    let mut cfg = Config::ephemeral();
    cfg.cors_origins = vec!["*".into()];
    let emu = start_with(cfg).await;
    let (st, hs, _) = http(&emu, "OPTIONS", REGISTER, &preflight(EVIL), "").await;
    assert_eq!(st, 204);
    assert_eq!(header(&hs, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&hs, "access-control-allow-credentials"), None);
}

#[tokio::test]
async fn a_malformed_cors_origin_stops_the_start_with_a_reason() {
    let mut cfg = Config::ephemeral();
    cfg.cors_origins = vec!["localhost:8000/".into()];
    let err = iot_emulator::Emulator::start(cfg).await.err().expect("refused");
    assert!(err.contains("scheme://host[:port]"), "{err}");
}

#[tokio::test]
async fn a_request_for_host_evil_example_is_refused_with_421_and_logged() {
    let emu = with_demo_origin().await;
    let auth = service_auth(&emu);
    for path in [REGISTER, "/service/enrollments"] {
        let (st, hs, v) = http(&emu, "GET", path, &[("host", "evil.example"), ("authorization", &auth)], "").await;
        assert_eq!(st, 421, "{path}");
        assert_eq!(v["errorCode"], 421001);
        assert!(v["trackingId"].is_string() && v["message"].is_string() && v["timestampUtc"].is_string());
        assert!(!hs.iter().any(|(k, _)| k.starts_with("access-control-")));
    }
    assert!(wait_for_log(&emu, 421001).await.contains("evil.example"));
}

#[tokio::test]
async fn a_served_name_on_a_port_the_emulator_did_not_bind_is_refused() {
    let emu = start().await;
    let (st, _, _) = http(&emu, "GET", REGISTER, &[("host", "localhost:1")], "").await;
    assert_eq!(st, 421);
    for host in [format!("127.0.0.1:{}", emu.http_port), format!("localhost:{}", emu.https_port), "localhost".into()] {
        let (st, _, _) = http(&emu, "GET", "/nowhere", &[("host", &host)], "").await;
        assert_eq!(st, 404, "{host} is served");
    }
}

#[tokio::test]
async fn a_websocket_upgrade_from_a_disallowed_origin_is_refused_with_403() {
    let emu = with_demo_origin().await;
    assert_eq!(upgrade(&emu, &[("origin", EVIL)]).await, 403);
    assert!(wait_for_log(&emu, 403001).await.contains("evil.example"));
    assert_eq!(upgrade(&emu, &[("origin", "null")]).await, 403, "sandboxed and file pages send Origin: null");
}

#[tokio::test]
async fn a_websocket_upgrade_opens_from_a_named_origin_the_emulator_itself_or_no_origin() {
    let emu = with_demo_origin().await;
    let own = format!("http://127.0.0.1:{}", emu.http_port);
    for extra in [vec![("origin", DEMO)], vec![("origin", own.as_str())], vec![]] {
        assert_eq!(upgrade(&emu, &extra).await, 101, "{extra:?}");
    }
}

#[tokio::test]
async fn a_websocket_upgrade_for_a_foreign_host_is_refused() {
    let emu = with_demo_origin().await;
    assert_eq!(upgrade(&emu, &[("host", "evil.example"), ("origin", DEMO)]).await, 421);
}

#[tokio::test]
async fn without_cors_origins_a_browser_page_cannot_open_a_websocket() {
    let emu = start().await;
    assert_eq!(upgrade(&emu, &[("origin", DEMO)]).await, 403);
}

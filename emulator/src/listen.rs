//! The accept loops of the three listeners (plain HTTP + WS, HTTPS + WSS, MQTT over TLS). A
//! client that opens a socket and then stalls holds memory and a descriptor, so every stage
//! before a device has authenticated is bounded by the handshake timeout (`--handshake-timeout`,
//! 30 s as IoT Hub allows for CONNECT, protocol.md §5.1): the TLS handshake (408003), the HTTP
//! request head (408002) and, in mqtt::serve, the CONNECT (408001). Each is logged when it closes
//! a socket. A failed accept (out of descriptors) backs off instead of spinning.

use crate::state::State;
use axum::Router;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout, Duration};
use tokio_rustls::TlsAcceptor;

/// Log code of a TLS handshake not finished within the handshake timeout.
pub const TLS_HANDSHAKE_TIMEOUT: u32 = 408003;
/// Log code of a connection that sent no complete HTTP request head within the timeout.
pub const HTTP_HEAD_TIMEOUT: u32 = 408002;

/// How long a failed accept waits before the next: EMFILE would otherwise fail again at once.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

async fn accept(l: &TcpListener) -> TcpStream {
    loop {
        match l.accept().await {
            Ok((tcp, _)) => return tcp,
            Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
        }
    }
}

/// The TLS handshake, bounded; None (logged if it timed out) when it did not complete.
async fn tls(acc: &TlsAcceptor, tcp: TcpStream, state: &State, listener: &str) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match timeout(state.handshake_timeout, acc.accept(tcp)).await {
        Ok(Ok(s)) => Some(s),
        Ok(Err(_)) => None,
        Err(_) => {
            let secs = state.handshake_timeout.as_secs();
            state.log(TLS_HANDSHAKE_TIMEOUT, "-", &format!("TLS handshake on {listener} not complete within {secs} s; closed"));
            None
        }
    }
}

/// Serves HTTP/1.1 (and WebSocket upgrades) on one connection. The head-read timer also runs
/// while a keep-alive connection waits for its next request; closing such an idle connection is
/// ordinary, so only a connection that never completed a request is logged.
async fn http<I: AsyncRead + AsyncWrite + Unpin + Send + 'static>(io: I, app: Router, state: Arc<State>, listener: &'static str) {
    let served = Arc::new(AtomicBool::new(false));
    let seen = served.clone();
    let svc = tower::ServiceExt::map_request(app, move |req: axum::http::Request<hyper::body::Incoming>| {
        seen.store(true, Ordering::Relaxed);
        req.map(axum::body::Body::new)
    });
    let svc = hyper_util::service::TowerToHyperService::new(svc);
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(state.handshake_timeout);
    let r = b.serve_connection(hyper_util::rt::TokioIo::new(io), svc).with_upgrades().await;
    if r.is_err_and(|e| e.is_timeout()) && !served.load(Ordering::Relaxed) {
        let secs = state.handshake_timeout.as_secs();
        state.log(HTTP_HEAD_TIMEOUT, "-", &format!("no complete HTTP request head on {listener} within {secs} s; closed"));
    }
}

pub async fn plain_http(l: TcpListener, app: Router, state: Arc<State>) {
    loop {
        let tcp = accept(&l).await;
        tokio::spawn(http(tcp, app.clone(), state.clone(), "HTTP"));
    }
}

pub async fn https(l: TcpListener, acc: TlsAcceptor, app: Router, state: Arc<State>) {
    loop {
        let tcp = accept(&l).await;
        let (acc, app, state) = (acc.clone(), app.clone(), state.clone());
        tokio::spawn(async move {
            if let Some(s) = tls(&acc, tcp, &state, "HTTPS").await {
                http(s, app, state, "HTTPS").await;
            }
        });
    }
}

pub async fn mqtts(l: TcpListener, acc: TlsAcceptor, state: Arc<State>) {
    loop {
        let tcp = accept(&l).await;
        let _ = tcp.set_nodelay(true);
        let (acc, state) = (acc.clone(), state.clone());
        tokio::spawn(async move {
            if let Some(s) = tls(&acc, tcp, &state, "MQTT/TLS").await {
                crate::mqtt::serve(crate::mqtt::wire::StreamWire::new(s), state, "mqtts").await;
            }
        });
    }
}

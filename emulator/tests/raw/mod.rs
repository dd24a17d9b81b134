//! Raw sockets for the hostile-client tests, where a well-formed client library would refuse to
//! misbehave: a WebSocket handshake written by hand (so it can be cut short or trickled), bare
//! WebSocket frames, MQTT packets as bytes, a TLS client that trusts the emulator's CA, and a
//! wait for the emulator to close a socket.
#![allow(dead_code)]

use iot_emulator::Emulator;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

pub async fn tcp(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port)).await.expect("tcp connects")
}

/// The upgrade request of `/$iothub/websocket` with subprotocol `mqtt`.
pub fn upgrade_request(emu: &Emulator) -> String {
    format!(
        "GET /$iothub/websocket HTTP/1.1\r\nHost: localhost:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
        emu.http_port
    )
}

/// A TCP socket on the plain port, upgraded to WebSocket (the 101 read and checked).
pub async fn upgraded(emu: &Emulator) -> TcpStream {
    let mut s = tcp(emu.http_port).await;
    s.write_all(upgrade_request(emu).as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await.expect("101 in time").unwrap();
        assert_eq!(n, 1, "the upgrade is answered");
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    s
}

/// A client frame header (masked, as clients must) for a binary frame announcing `len` bytes,
/// with the mask key all zero so that the payload goes as is.
pub fn binary_frame_header(len: u64) -> Vec<u8> {
    let mut h = vec![0x82u8];
    match len {
        0..=125 => h.push(0x80 | len as u8),
        126..=0xFFFF => {
            h.push(0x80 | 126);
            h.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            h.push(0x80 | 127);
            h.extend_from_slice(&len.to_be_bytes());
        }
    }
    h.extend_from_slice(&[0, 0, 0, 0]);
    h
}

/// One whole binary frame holding `payload`.
pub fn binary_frame(payload: &[u8]) -> Vec<u8> {
    let mut f = binary_frame_header(payload.len() as u64);
    f.extend_from_slice(payload);
    f
}

/// MQTT Remaining Length (variable byte integer, MQTT 3.1.1 §2.2.3).
pub fn remaining_length(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            return out;
        }
    }
}

/// A packet of type `first_byte` with `body` behind its Remaining Length.
pub fn packet(first_byte: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![first_byte];
    p.extend(remaining_length(body.len()));
    p.extend_from_slice(body);
    p
}

/// An MQTT UTF-8 string field: two length bytes and the raw bytes, valid UTF-8 or not.
pub fn mqtt_str(bytes: &[u8]) -> Vec<u8> {
    let mut v = (bytes.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(bytes);
    v
}

/// Reads until the emulator closes the socket, discarding what it sends; false if it is still
/// open after `t`.
pub async fn closed_within<S: AsyncRead + Unpin>(s: &mut S, t: Duration) -> bool {
    let mut buf = vec![0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + t;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// Writes `piece` `times` times over (one small buffer, so that the test itself does not grow
/// the memory it measures), stopping at the first failed write: the emulator closed.
pub async fn pump<S: AsyncWrite + Unpin>(s: &mut S, piece: &[u8], times: usize) {
    for _ in 0..times {
        if s.write_all(piece).await.is_err() {
            return;
        }
    }
}

/// A TLS client connection to `port` that trusts the emulator's CA.
pub async fn tls(emu: &Emulator, port: u16) -> tokio_rustls::client::TlsStream<TcpStream> {
    use rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(emu.ca_pem.as_bytes()).unwrap()).unwrap();
    let cfg = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    connector.connect(ServerName::try_from("localhost").unwrap(), tcp(port).await).await.expect("TLS handshake")
}

//! The two byte transports MQTT runs over: WebSocket binary frames (axum, `/$iothub/websocket`)
//! and a TLS stream (the 8883-style port). Both are cancel-safe to `recv` inside `select!`.

use axum::extract::ws::{Message, WebSocket};
use std::future::Future;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub trait Wire: Send {
    /// Next chunk of bytes, or None once the peer closed.
    fn recv(&mut self) -> impl Future<Output = Option<Vec<u8>>> + Send;
    fn send(&mut self, data: Vec<u8>) -> impl Future<Output = std::io::Result<()>> + Send;
    fn close(&mut self) -> impl Future<Output = ()> + Send;
    /// Why `recv` returned None, when that was an error and not the peer's close.
    fn take_error(&mut self) -> Option<String> {
        None
    }
}

pub struct WsWire {
    ws: WebSocket,
    error: Option<String>,
}

impl WsWire {
    pub fn new(ws: WebSocket) -> Self {
        WsWire { ws, error: None }
    }
}

impl Wire for WsWire {
    async fn recv(&mut self) -> Option<Vec<u8>> {
        loop {
            match self.ws.recv().await? {
                Ok(Message::Binary(b)) => return Some(b.to_vec()),
                // MQTT over WebSocket is binary only (MQTT 3.1.1 §6); text is a protocol error.
                Ok(Message::Text(_)) => {
                    self.error = Some("WebSocket text frame (MQTT needs binary frames)".into());
                    return None;
                }
                Ok(Message::Close(_)) => return None,
                Err(e) => {
                    self.error = Some(format!("WebSocket error ({e})"));
                    return None;
                }
                Ok(_) => continue,
            }
        }
    }

    async fn send(&mut self, data: Vec<u8>) -> std::io::Result<()> {
        self.ws.send(Message::Binary(data.into())).await.map_err(std::io::Error::other)
    }

    async fn close(&mut self) {
        use futures_util::SinkExt;
        let _ = self.ws.send(Message::Close(None)).await;
        let _ = SinkExt::close(&mut self.ws).await;
    }

    fn take_error(&mut self) -> Option<String> {
        self.error.take()
    }
}

pub struct StreamWire<S> {
    pub stream: S,
    buf: Vec<u8>,
}

impl<S> StreamWire<S> {
    pub fn new(stream: S) -> Self {
        StreamWire { stream, buf: vec![0; 16 * 1024] }
    }
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Wire for StreamWire<S> {
    async fn recv(&mut self) -> Option<Vec<u8>> {
        match self.stream.read(&mut self.buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => self.buf.get(..n).map(<[u8]>::to_vec),
        }
    }

    async fn send(&mut self, data: Vec<u8>) -> std::io::Result<()> {
        self.stream.write_all(&data).await?;
        self.stream.flush().await
    }

    async fn close(&mut self) {
        let _ = self.stream.shutdown().await;
    }
}

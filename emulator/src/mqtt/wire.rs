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
}

pub struct WsWire(pub WebSocket);

impl Wire for WsWire {
    async fn recv(&mut self) -> Option<Vec<u8>> {
        loop {
            match self.0.recv().await? {
                Ok(Message::Binary(b)) => return Some(b.to_vec()),
                // MQTT over WebSocket is binary only (MQTT 3.1.1 §6); text is a protocol error.
                Ok(Message::Text(_)) | Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    async fn send(&mut self, data: Vec<u8>) -> std::io::Result<()> {
        self.0.send(Message::Binary(data.into())).await.map_err(std::io::Error::other)
    }

    async fn close(&mut self) {
        use futures_util::SinkExt;
        let _ = self.0.send(Message::Close(None)).await;
        let _ = SinkExt::close(&mut self.0).await;
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
